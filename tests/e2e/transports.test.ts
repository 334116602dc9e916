/**
 * Transports end to end: every MCP module over every transport that
 * @modelcontextprotocol/server-everything serves (stdio, legacy SSE,
 * streamable HTTP), pooled through the broker (the default) and with
 * connection_reuse: false, against real server processes on loopback ports.
 * The results must be the same whichever way the server is reached.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { everythingServer, outputOf, runPlaybook, type PlaybookRun, type Task } from './harness';
import { Scenario, output } from './broker-helpers';
import { processAlive } from './broker-helpers';
import { freePort, portAccepts, startEverything, type HttpEverything } from './transport-helpers';

const FQ = 'tosin2013.mcp_audit';
const INFO = `${FQ}.mcp_server_info`;
const TOOL = `${FQ}.mcp_test_tool`;
const RESOURCE = `${FQ}.mcp_test_resource`;
const PROMPT = `${FQ}.mcp_test_prompt`;
const SUITE = `${FQ}.mcp_test_suite`;
const BROKER = `${FQ}.mcp_broker`;

type TransportName = 'stdio' | 'sse' | 'http' | 'streamable_http';

let sse: HttpEverything;
let http: HttpEverything;

beforeAll(async () => {
  [sse, http] = await Promise.all([startEverything('sse'), startEverything('streamableHttp')]);
});

afterAll(async () => {
  const servers = [sse, http].filter(Boolean);
  await Promise.all(servers.map((s) => s.stop()));
  for (const s of servers) {
    expect(processAlive(s.pid), `server-everything ${s.mode} (pid ${s.pid}) still runs`).toBe(false);
    expect(await portAccepts(s.port), `port ${s.port} of server-everything ${s.mode} still accepts connections`).toBe(false);
  }
});

let scenario: Scenario | undefined;
afterEach(() => {
  scenario?.cleanup();
  scenario = undefined;
});

/** The connection options that reach server-everything over `transport`. */
function connection(transport: TransportName): Record<string, unknown> {
  if (transport === 'stdio') return { ...everythingServer };
  return { transport, server_url: transport === 'sse' ? sse.url : http.url };
}

const ECHO_TEXT = 'the same over every transport ✓';
const DOC_URI = 'demo://resource/static/document/architecture.md';

/** One task per module (and then some), all on the same server. */
function moduleTasks(conn: Record<string, unknown>): Task[] {
  return [
    { name: 'info', [INFO]: { ...conn } },
    { name: 'echo', [TOOL]: { ...conn, tool_name: 'echo', tool_arguments: { message: ECHO_TEXT }, expected_result: `Echo: ${ECHO_TEXT}` } },
    { name: 'structured', [TOOL]: { ...conn, tool_name: 'get-structured-content', tool_arguments: { location: 'Chicago' } } },
    { name: 'resource', [RESOURCE]: { ...conn, resource_uri: DOC_URI, expected_content_type: 'text/markdown' } },
    { name: 'template resource', [RESOURCE]: { ...conn, resource_uri: 'demo://resource/dynamic/text/7', expected_content_regex: '^Resource 7: This is a plaintext resource' } },
    { name: 'prompt', [PROMPT]: { ...conn, prompt_name: 'args-prompt', prompt_arguments: { city: 'Lagos', state: 'Lagos State' }, expected_content_regex: "What's weather in Lagos, Lagos State\\?" } },
    {
      name: 'suite',
      [SUITE]: {
        ...conn,
        tests: [
          { type: 'tool', name: 'echo', arguments: { message: 'suite' }, expected_result: 'Echo: suite' },
          { type: 'tool', name: 'get-sum', arguments: { a: 20, b: 22 }, expected_result: 'The sum of 20 and 22 is 42.' },
          { type: 'tool', name: 'get-structured-content', arguments: { location: 'New York' } },
          { type: 'resource', uri: DOC_URI, expected_content_type: 'text/markdown' },
          { type: 'prompt', name: 'simple-prompt', expected_content_regex: 'simple prompt without arguments' },
        ],
      },
    },
  ];
}

const TASKS = ['info', 'echo', 'structured', 'resource', 'template resource', 'prompt', 'suite'];

/** What must be equal whichever transport carried it. */
function comparable(run: PlaybookRun) {
  const info = run.task('info').result;
  const echo = run.task('echo').result;
  const structured = run.task('structured').result;
  const resource = run.task('resource').result;
  const prompt = run.task('prompt').result;
  const suite = run.task('suite').result;
  return {
    server_info: info.server_info,
    protocol_version: info.protocol_version,
    capabilities: Object.keys(info.capabilities).sort(),
    tools: info.tools.map((t: any) => t.name).sort(),
    tool_schemas: Object.fromEntries(info.tools.map((t: any) => [t.name, t.inputSchema])),
    resources: info.resources.map((r: any) => r.uri).sort(),
    resource_templates: info.resource_templates.map((t: any) => t.uriTemplate).sort(),
    prompts: info.prompts.map((p: any) => p.name).sort(),
    counts: info.counts,
    echo: echo.tool_result,
    structured: structured.tool_result,
    resource: { content_type: resource.content_type, contents: resource.contents },
    prompt: prompt.messages,
    suite: { summary: suite.summary, statuses: suite.results.map((r: any) => [r.name, r.status]) },
  };
}

/** The per-transport checks every variant must pass; returns what is compared across variants. */
function checkModules(run: PlaybookRun, transport: TransportName, pooled: boolean) {
  const why = pooled ? output(run) : outputOf(run);
  expect(run.exitCode, why).toBe(0);
  for (const name of TASKS) {
    const t = run.task(name);
    expect(t.status, `${name}\n${why}`).toBe('ok');
    expect(t.result.success, name).toBe(true);
    expect(t.result.invocation.module_args.transport, name).toBe(transport);
    expect(t.result.connection, name).toMatchObject({ pooled });
    if (transport === 'stdio') expect(Number.isInteger(t.result.connection.server_pid), name).toBe(true);
    else expect(t.result.connection.server_pid ?? null, name).toBeNull();
  }

  const info = run.task('info').result;
  expect(info).toMatchObject({ status: 'connected', server_info: { name: 'mcp-servers/everything' } });
  expect(info.tools.map((t: any) => t.name)).toEqual(expect.arrayContaining(['echo', 'get-sum', 'get-structured-content']));
  expect(info.prompts.map((p: any) => p.name)).toEqual(expect.arrayContaining(['simple-prompt', 'args-prompt']));
  expect(info.resources.map((r: any) => r.uri)).toContain(DOC_URI);

  expect(run.task('echo').result).toMatchObject({
    status: 'passed',
    test_passed: true,
    tool_result: { content: [{ type: 'text', text: `Echo: ${ECHO_TEXT}` }], is_error: false },
    validation: { valid: true, matches_expected: true },
  });
  expect(run.task('structured').result).toMatchObject({
    status: 'passed',
    test_passed: true,
    tool_result: { structured_content: { temperature: 36, conditions: 'Light rain / drizzle', humidity: 82 }, is_error: false },
    validation: { valid: true, errors: [] },
  });
  const resource = run.task('resource').result;
  expect(resource).toMatchObject({ status: 'passed', test_passed: true, resource_uri: DOC_URI, content_type: 'text/markdown' });
  expect(resource.contents[0].text.length).toBeGreaterThan(100);
  expect(run.task('template resource').result).toMatchObject({ status: 'passed', test_passed: true, content_type: 'text/plain' });
  expect(run.task('prompt').result).toMatchObject({
    status: 'passed',
    test_passed: true,
    message_count: 1,
    messages: [{ role: 'user', content: { type: 'text', text: "What's weather in Lagos, Lagos State?" } }],
  });
  const suite = run.task('suite').result;
  expect(suite, why).toMatchObject({ status: 'passed', test_passed: true, summary: { total_tests: 5, passed: 5, failed: 0, errors: 0 } });

  if (pooled) {
    // One session served every task of the play: the first opened it, the rest reused it.
    const keys = new Set(TASKS.map((n) => run.task(n).result.connection.key));
    expect(keys.size, why).toBe(1);
    expect(run.task('info').result.connection).toMatchObject({ reused: false, attempts: 1 });
    for (const name of TASKS.slice(1)) expect(run.task(name).result.connection, name).toMatchObject({ reused: true, reconnected: false });
  } else {
    for (const name of TASKS) expect(run.task(name).result.connection, name).toMatchObject({ reused: false, attempts: 1 });
  }
  return comparable(run);
}

const seen = new Map<string, ReturnType<typeof comparable>>();

describe('every module over every transport of server-everything', () => {
  for (const transport of ['stdio', 'sse', 'http'] as const) {
    test(`${transport}, connection_reuse: false`, async () => {
      const run = await runPlaybook(moduleTasks(connection(transport)));
      seen.set(`${transport} direct`, checkModules(run, transport, false));
      expect(run.leftovers).toEqual([]);
    });

    test(`${transport}, pooled in the broker (the default)`, async () => {
      const s = (scenario = new Scenario());
      // Scenario sets connection_reuse: true in module_defaults; the tasks leave it unset (the default).
      const run = await s.play([
        ...moduleTasks(connection(transport)),
        { name: 'pool', [BROKER]: { state: 'status' } },
        { name: 'stop', [BROKER]: { state: 'stopped' } },
      ]);
      seen.set(`${transport} pooled`, checkModules(run, transport, true));
      const pool = run.task('pool').result;
      expect(pool.connections, output(run)).toHaveLength(1);
      const entry = pool.connections[0];
      expect(entry).toMatchObject({ transport: transport === 'stdio' ? 'stdio' : transport, state: 'ready', sessions_opened: 1, key: run.task('info').result.connection.key });
      if (transport !== 'stdio') expect(entry.url).toBe(connection(transport).server_url);
      expect(run.task('stop').result).toMatchObject({ changed: true, closed: 1, running: false });
      await s.expectNothingLeft();
    });
  }

  test('transport: streamable_http is the same as http', async () => {
    const s = (scenario = new Scenario());
    const run = await s.play([...moduleTasks(connection('streamable_http')), { name: 'stop', [BROKER]: { state: 'stopped' } }]);
    seen.set('streamable_http pooled', checkModules(run, 'streamable_http', true));
    await s.expectNothingLeft();
  });

  test('the results are the same over every transport', () => {
    const variants = [...seen.keys()];
    expect(variants.sort()).toEqual(['http direct', 'http pooled', 'sse direct', 'sse pooled', 'stdio direct', 'stdio pooled', 'streamable_http pooled'].sort());
    const reference = seen.get('stdio direct')!;
    expect(reference.tools.length).toBeGreaterThan(5);
    for (const [variant, got] of seen) {
      expect(got, `${variant} differs from stdio`).toEqual(reference);
    }
  });
});

describe('a server that is down', () => {
  test('nothing listening: "could not connect to <url>" with ECONNREFUSED, within the timeout, pooled or not', async () => {
    const port = await freePort();
    const urls = { sse: `http://127.0.0.1:${port}/sse`, http: `http://127.0.0.1:${port}/mcp` };
    const task = (name: string, transport: 'sse' | 'http', reuse: boolean): Task => ({
      name,
      ignore_errors: true,
      [INFO]: { transport, server_url: urls[transport], connection_reuse: reuse, timeout: 10, max_connection_retries: 2 },
    });
    const s = (scenario = new Scenario());
    const run = await s.play([
      task('sse direct', 'sse', false),
      task('http direct', 'http', false),
      task('sse pooled', 'sse', true),
      task('http pooled', 'http', true),
      { name: 'pool', [BROKER]: { state: 'status' } },
      { name: 'stop', [BROKER]: { state: 'stopped' } },
    ]);
    expect(run.exitCode, output(run)).toBe(0);
    expect(await portAccepts(port)).toBe(false); // still nothing there: the failure was real
    for (const name of ['sse direct', 'http direct', 'sse pooled', 'http pooled']) {
      const t = run.task(name);
      const url = name.startsWith('sse') ? urls.sse : urls.http;
      expect(t.status, `${name}\n${output(run)}`).toBe('failed');
      expect(t.result).toMatchObject({ success: false, status: 'failed' });
      // The same message over both transports (SSE's event stream must not flatten it into "SSE error: ...").
      expect(t.result.msg, name).toMatch(new RegExp(`^could not connect to ${url.replace(/[.?]/g, '\\$&')}: ECONNREFUSED `));
      expect(t.result.msg, name).toMatch(/ECONNREFUSED/);
      expect(t.result.msg, name).toMatch(/after 3 attempts/); // max_connection_retries: 2
      expect(t.result.error).toBe(t.result.msg);
      // Within the per-request timeout: a refused connection fails fast, it does not wait for `timeout`.
      expect(t.result.execution_time, name).toBeLessThan(10);
    }
    // A failed connect leaves no pooled entry behind.
    expect(run.task('pool').result.connections).toEqual([]);
    await s.expectNothingLeft();
  });
});
