/**
 * The module side of mcp_security_scan that is pure logic: rule selection,
 * allow entries, known_tools as plays write them, counting, and reading a
 * model judge's verdict.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { applyAllow, checkAllowEntries, failing, knownToolNames, selectRules, sortFindings, summarize } from '../../src/security/audit';
import { readVerdict } from '../../src/security/judge';
import { RULES } from '../../src/security/rules';
import { rulesMarkdown, rulesTable } from '../../src/security/rules_docs';
import type { Finding } from '../../src/security/types';

const finding = (over: Partial<Finding>): Finding => ({
  rule_id: 'MCPA801',
  rule_name: 'unconstrained-high-risk-parameter',
  severity: 'low',
  target_kind: 'tool',
  target_name: 'run_query',
  field: 'inputSchema.properties.sql',
  message: 'm',
  evidence: '',
  remediation: 'r',
  ...over,
});

describe('selectRules', () => {
  test('every rule by default; rules narrows, skip_rules removes', () => {
    expect(selectRules(undefined, undefined)).toEqual(RULES);
    expect(selectRules(['MCPA101', 'MCPA203'], []).map((r) => r.id)).toEqual(['MCPA101', 'MCPA203']);
    expect(selectRules(null, ['MCPA801']).map((r) => r.id)).not.toContain('MCPA801');
    expect(selectRules(['MCPA101', 'MCPA801'], ['MCPA801']).map((r) => r.id)).toEqual(['MCPA101']);
  });
  test('an unknown id is an error naming it and the known ones, not a silent no-op', () => {
    expect(() => selectRules(['MCPA101', 'MCPA1O1'], [])).toThrow(/rules names unknown rule id\(s\) MCPA1O1; the rules are: MCPA101, MCPA102/);
    expect(() => selectRules([], ['nope'])).toThrow(/skip_rules names unknown rule id\(s\) nope/);
  });
});

describe('allow', () => {
  test('matches by rule, target name or kind:name with *, and field prefix; the reason rides along', () => {
    const f = finding({});
    const other = finding({ target_name: 'read_file', field: 'inputSchema.properties.path' });
    const high = finding({ rule_id: 'MCPA101', severity: 'high' });
    const allowed = applyAllow([f, other, high], [{ rule: 'MCPA801', target: 'tool:run_*', field: 'inputSchema.properties', reason: 'sandboxed' }]);
    expect(allowed.map((x) => x.allowed)).toEqual([{ reason: 'sandboxed' }, undefined, undefined]);
    expect(applyAllow([f], [{ rule: 'MCPA801', target: 'run_query', reason: 'ok' }])[0].allowed).toEqual({ reason: 'ok' });
    expect(applyAllow([f], [{ rule: 'MCPA801', target: 'prompt:run_query', reason: 'ok' }])[0].allowed).toBeUndefined();
    // A field prefix matches whole path segments only.
    expect(applyAllow([f], [{ rule: 'MCPA801', field: 'inputSchema.properties.sq', reason: 'ok' }])[0].allowed).toBeUndefined();
    // Regex characters in a target are literal.
    expect(applyAllow([finding({ target_name: 'a.b' })], [{ rule: 'MCPA801', target: 'a?b', reason: 'x' }])[0].allowed).toBeUndefined();
  });
  test('allowed findings are reported but do not count or fail', () => {
    const findings = applyAllow([finding({ severity: 'high', rule_id: 'MCPA101' }), finding({})], [{ rule: 'MCPA101', reason: 'reviewed' }]);
    expect(summarize(findings)).toEqual({ high: 0, medium: 0, low: 1, info: 0, total: 1, allowed: 1 });
    expect(failing(findings, 'high')).toEqual([]);
    expect(failing(findings, 'low').map((x) => x.rule_id)).toEqual(['MCPA801']);
    expect(failing(findings, 'none')).toEqual([]);
  });
  test('an entry needs a known rule and a reason', () => {
    expect(() => checkAllowEntries([{ rule: 'MCPA101', reason: '  ' }])).toThrow(/allow\[0\] needs a reason/);
    expect(() => checkAllowEntries([{ rule: 'X1', reason: 'r' }])).toThrow(/allow\[0\]\.rule is not a rule id: X1/);
  });
});

test('findings read most serious first, then by target', () => {
  const sorted = sortFindings([finding({ target_name: 'b' }), finding({ severity: 'high', rule_id: 'MCPA101' }), finding({ target_name: 'a' })]);
  expect(sorted.map((f) => `${f.severity} ${f.target_name}`)).toEqual(['high run_query', 'low a', 'low b']);
});

describe('known_tools', () => {
  test('names, tool dicts and registered results holding tools, flattened and deduplicated', () => {
    const info = { changed: false, tools: [{ name: 'send_email', description: 'x' }, { name: 'list_inbox' }] };
    const scan = { tools: ['search'] };
    expect(knownToolNames(['read_file', info, scan, [{ name: 'read_file' }]])).toEqual(['list_inbox', 'read_file', 'search', 'send_email']);
    expect(knownToolNames(undefined)).toEqual([]);
  });
  test('anything else says where it is', () => {
    expect(() => knownToolNames(['ok', { tools: [42] }])).toThrow(/known_tools\[1\]\.tools\[0\] is not a tool name/);
  });
});

describe('a model judge\'s answer', () => {
  test('the first JSON object with a verdict, wherever it is in the text', () => {
    expect(readVerdict('Sure. {"verdict": "malicious", "reason": "reads ~/.ssh"}')).toEqual({ verdict: 'malicious', reason: 'reads ~/.ssh' });
    expect(readVerdict('{"note": 1} then {"verdict":"benign"}')).toEqual({ verdict: 'benign', reason: '' });
  });
  test('no verdict, or one outside the three, is no verdict', () => {
    expect(readVerdict('I think it is fine')).toBeNull();
    expect(readVerdict('{"verdict": "safe"}')).toBeNull();
    expect(readVerdict('{"verdict": "benign"')).toBeNull();
  });
});

describe('the rules documentation', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  test('docs/security_rules.md and the README table are what the build generates from the catalogue', () => {
    expect(readFileSync(join(root, 'docs', 'security_rules.md'), 'utf8')).toBe(rulesMarkdown());
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(rulesTable());
  });
  test('every rule has an id in the scheme, a rationale and a remediation, and ids are unique', () => {
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    for (const r of RULES) {
      expect(r.id).toMatch(/^MCPA\d{3}$/);
      expect(r.rationale.length).toBeGreaterThan(40);
      expect(r.remediation.length).toBeGreaterThan(20);
    }
    // Markdown would swallow a quoted <IMPORTANT> as an HTML tag.
    expect(rulesMarkdown()).toContain('&lt;IMPORTANT&gt;');
  });
});
