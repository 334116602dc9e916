/**
 * HTTP transports end to end against the tests' own MCP server
 * (tests/helpers/auth_http_server.ts, a real node:http server on 127.0.0.1):
 * server_headers and bearer_token reach it (from the option or from
 * MCP_BEARER_TOKEN), a refused request fails the task with an explanation,
 * secrets never show in -vvv output nor in the broker's log, closing a pooled
 * streamable HTTP session (state=absent, idle expiry, connection_reuse: false)
 * sends DELETE, and a pooled session the server forgot is re-initialized.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { outputOf, runPlaybook, type Task } from './harness';
import { Scenario, brokerLog, output, waitUntil } from './broker-helpers';
import { portAccepts } from './transport-helpers';
import { sha256, startAuthServer, type AuthServer, type SeenRequest } from '../helpers/auth_http_server';

const FQ = 'tosin2013.mcp_audit';
const INFO = `${FQ}.mcp_server_info`;
const TOOL = `${FQ}.mcp_test_tool`;
const BROKER = `${FQ}.mcp_broker`;

// uuid-based secrets: any appearance in output is a leak, never a coincidence.
const TOKEN = `tok-${randomUUID()}`;
const API_KEY = `key-${randomUUID()}`;
const WRONG_TOKEN = `wrong-${randomUUID()}`;
const SECRETS = [TOKEN, API_KEY, WRONG_TOKEN];

let server: AuthServer;
beforeAll(async () => {
  server = await startAuthServer({ bearerToken: TOKEN, apiKey: API_KEY });
});
afterAll(async () => {
  const port = server?.port;
  await server?.close();
  if (port) expect(await portAccepts(port), `the auth server still accepts connections on ${port}`).toBe(false);
});

let scenario: Scenario | undefined;
afterEach(() => {
  scenario?.cleanup();
  scenario = undefined;
});

type Http = 'http' | 'sse';
const urlFor = (transport: Http) => (transport === 'sse' ? server.sseUrl : server.url);

/** Connection options with the right credentials (bearer_token + server_headers). */
const authed = (transport: Http, extra: Record<string, unknown> = {}) => ({
  transport,
  server_url: urlFor(transport),
  bearer_token: TOKEN,
  server_headers: { 'X-Api-Key': API_KEY, 'X-E2E-Trace': 'trace-1' },
  ...extra,
});

/** What whoami reported (the JSON text of its content). */
function whoami(result: Record<string, any>): Record<string, any> {
  const text = result.tool_result?.content?.[0]?.text;
  expect(typeof text, JSON.stringify(result)).toBe('string');
  return JSON.parse(text);
}

/** Requests the server saw while `fn` ran. */
async function seenDuring<T>(fn: () => Promise<T>): Promise<{ value: T; seen: SeenRequest[] }> {
  const from = server.requests.length;
  const value = await fn();
  return { value, seen: server.requests.slice(from) };
}

function expectNoSecrets(where: string, text: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `a secret appears in ${where}`).toBe(false);
}

const whoamiTask = (name: string, conn: Record<string, unknown>): Task => ({ name, [TOOL]: { ...conn, tool_name: 'whoami' } });

/**
 * The same tasks with every secret replaced by a variable from a vars file, as real playbooks
 * get them: ansible-core >= 2.19 prints the playbook lines around a failing task, so a secret
 * written literally in a playbook is shown by Ansible itself.
 */
const SECRET_VARS = Object.fromEntries(SECRETS.map((secret, i) => [`secret_${i}`, secret]));
function secretsAsVars(tasks: Task[]): Task[] {
  let text = JSON.stringify(tasks);
  for (const [name, secret] of Object.entries(SECRET_VARS)) text = text.split(secret).join(`{{ ${name} }}`);
  return JSON.parse(text);
}

describe('server_headers and bearer_token reach the server', () => {
  for (const transport of ['http', 'sse'] as const) {
    test(`${transport}: the right bearer_token and server_headers pass, pooled and not`, async () => {
      const s = (scenario = new Scenario());
      const { value: run, seen } = await seenDuring(() =>
        s.play([
          { name: 'info', [INFO]: authed(transport) },
          whoamiTask('whoami pooled', authed(transport)),
          whoamiTask('whoami direct', authed(transport, { connection_reuse: false })),
          { name: 'stop', [BROKER]: { state: 'stopped' } },
        ]),
      );
      expect(run.exitCode, output(run)).toBe(0);
      expect(run.task('info').result).toMatchObject({ status: 'connected', server_info: { name: 'e2e-auth-server' } });
      expect(run.task('info').result).toMatchObject({ counts: { tools: 2, resources: 1, prompts: 1 } });
    expect(run.task('info').result.tools.map((t: any) => t.name).sort()).toEqual(['echo', 'whoami']);
      for (const name of ['whoami pooled', 'whoami direct']) {
        const r = run.task(name).result;
        expect(r, name).toMatchObject({ status: 'passed', test_passed: true, connection: { pooled: name === 'whoami pooled' } });
        const me = whoami(r);
        expect(me.authorization_sha256, name).toBe(sha256(`Bearer ${TOKEN}`));
        expect(me.api_key_sha256, name).toBe(sha256(API_KEY));
        expect(me.header_names, name).toEqual(expect.arrayContaining(['authorization', 'x-api-key', 'x-e2e-trace']));
        // no_log options are masked in the task's invocation.
        expect(r.invocation.module_args.bearer_token).toBe('VALUE_SPECIFIED_IN_NO_LOG_PARAMETER');
        expect(JSON.stringify(r)).not.toContain(API_KEY);
      }
      expect(run.task('whoami pooled').result.connection.reused).toBe(true);
      // Every request (event stream, posts, DELETE) carried both credentials: nothing was refused.
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((r) => !r.bearer_ok || !r.api_key_ok || r.status === 401)).toEqual([]);
      expect(seen.every((r) => r.header_names.includes('x-e2e-trace'))).toBe(true);
      await s.expectNothingLeft();
    });
  }

  test('the token from MCP_BEARER_TOKEN (no bearer_token option) works, pooled and not', async () => {
    const s = (scenario = new Scenario());
    const conn = { transport: 'http', server_url: server.url, server_headers: { 'X-Api-Key': API_KEY } };
    const { value: run, seen } = await seenDuring(() =>
      s.play([whoamiTask('env pooled', conn), whoamiTask('env direct', { ...conn, connection_reuse: false }), { name: 'stop', [BROKER]: { state: 'stopped' } }], {
        env: { MCP_BEARER_TOKEN: TOKEN },
      }),
    );
    expect(run.exitCode, output(run)).toBe(0);
    for (const name of ['env pooled', 'env direct']) {
      const r = run.task(name).result;
      expect(r, name).toMatchObject({ status: 'passed', test_passed: true });
      expect(whoami(r).authorization_sha256, name).toBe(sha256(`Bearer ${TOKEN}`));
      expect(r.invocation.module_args.bearer_token, name).toBe('VALUE_SPECIFIED_IN_NO_LOG_PARAMETER');
    }
    expect(seen.filter((r) => !r.bearer_ok)).toEqual([]);
    await s.expectNothingLeft();
  });

  test('an explicit Authorization header in server_headers wins over MCP_BEARER_TOKEN', async () => {
    const run = await runPlaybook(
      [whoamiTask('header wins', { transport: 'http', server_url: server.url, server_headers: { Authorization: `Bearer ${TOKEN}`, 'X-Api-Key': API_KEY } })],
      { env: { MCP_BEARER_TOKEN: WRONG_TOKEN } },
    );
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(whoami(run.task('header wins').result).authorization_sha256).toBe(sha256(`Bearer ${TOKEN}`));
    expect(run.leftovers).toEqual([]);
  });
});

describe('refused credentials', () => {
  test('a wrong token or a missing header fails the task with HTTP 401 and what to check', async () => {
    const s = (scenario = new Scenario());
    const cases: [string, Record<string, unknown>][] = [
      ['wrong token http pooled', authed('http', { bearer_token: WRONG_TOKEN })],
      ['wrong token http direct', authed('http', { bearer_token: WRONG_TOKEN, connection_reuse: false })],
      ['wrong token sse pooled', authed('sse', { bearer_token: WRONG_TOKEN })],
      ['wrong token sse direct', authed('sse', { bearer_token: WRONG_TOKEN, connection_reuse: false })],
      ['no api key http', { transport: 'http', server_url: server.url, bearer_token: TOKEN }],
      ['no token http', { transport: 'http', server_url: server.url, server_headers: { 'X-Api-Key': API_KEY } }],
    ];
    const { value: run, seen } = await seenDuring(() =>
      s.play([
        ...cases.map(([name, conn]) => ({ ...whoamiTask(name, { ...conn, timeout: 10 }), ignore_errors: true })),
        { name: 'pool', [BROKER]: { state: 'status' } },
        { name: 'stop', [BROKER]: { state: 'stopped' } },
      ]),
    );
    expect(run.exitCode, output(run)).toBe(0);
    for (const [name] of cases) {
      const t = run.task(name);
      expect(t.status, `${name}\n${output(run)}`).toBe('failed');
      expect(t.result, name).toMatchObject({ success: false, status: 'failed' });
      expect(t.result.msg, name).toMatch(/HTTP 401/);
      expect(t.result.msg, name).toMatch(/server_headers/);
      expect(t.result.msg, name).toMatch(/bearer_token/);
      // A refusal is an answer: not retried (max_connection_retries is for transient failures), not waited on.
      expect(t.result.msg, name).not.toMatch(/attempts/);
      expect(t.result.execution_time, name).toBeLessThan(10);
    }
    // The requests did reach the server, which refused each task's first request once: no retries.
    expect(seen.filter((r) => r.status === 401 && r.path === '/mcp')).toHaveLength(4);
    expect(seen.filter((r) => r.status === 401 && r.path === '/sse')).toHaveLength(2);
    expect(seen.filter((r) => r.status !== 401)).toEqual([]);
    expect(run.task('pool').result.connections).toEqual([]);
    expectNoSecrets('the playbook output', run.stdout + run.stderr);
    expectNoSecrets('the task results', JSON.stringify(run.results));
    expectNoSecrets('broker.log', brokerLog(s.dir));
    await s.expectNothingLeft();
  });
});

describe('secrets', () => {
  test('tokens and header values never appear in ansible-playbook -vvv output nor in broker.log', async () => {
    const s = (scenario = new Scenario());
    const run = await s.play(
      secretsAsVars([
        { name: 'info http', [INFO]: authed('http') },
        { name: 'info sse', [INFO]: authed('sse') },
        whoamiTask('whoami env token', { transport: 'http', server_url: server.url, server_headers: { 'X-Api-Key': API_KEY } }),
        { ...whoamiTask('refused', authed('http', { bearer_token: WRONG_TOKEN })), ignore_errors: true },
        { ...whoamiTask('refused direct', authed('http', { bearer_token: WRONG_TOKEN, connection_reuse: false })), ignore_errors: true },
        { name: 'pool', [BROKER]: { state: 'status' } },
        { name: 'close one', [BROKER]: { ...authed('sse'), state: 'absent' } },
        { name: 'stop', [BROKER]: { state: 'stopped' } },
      ]),
      { verbosity: 3, env: { MCP_BEARER_TOKEN: TOKEN }, secretVars: SECRET_VARS },
    );
    expect(run.exitCode, output(run)).toBe(0);
    expect(run.task('whoami env token').result.test_passed).toBe(true);
    expect(run.task('refused').status).toBe('failed');
    expect(run.task('refused direct').status).toBe('failed');
    const pool = run.task('pool').result;
    // authed http, authed sse, and the env-token http task (other headers: another key); refused ones are not pooled.
    expect(pool.connections.map((c: any) => [c.transport, c.header_names]).sort(), output(run)).toEqual(
      [
        ['http', ['Authorization', 'X-Api-Key']],
        ['http', ['Authorization', 'X-Api-Key', 'X-E2E-Trace']],
        ['sse', ['Authorization', 'X-Api-Key', 'X-E2E-Trace']],
      ].sort(),
    );
    expect(run.task('close one').result).toMatchObject({ changed: true, closed: 1 });
    // -vvv really was verbose (module args and results are printed), so the check below means something.
    expect(run.stdout).toMatch(/<127\.0\.0\.1>|<localhost>/);
    expect(run.stdout).toContain('VALUE_SPECIFIED_IN_NO_LOG_PARAMETER');
    const log = brokerLog(s.dir);
    expect(log).toMatch(/server started/);
    expectNoSecrets('ansible-playbook -vvv stdout/stderr', run.stdout + run.stderr);
    expectNoSecrets('the task results', JSON.stringify(run.results));
    expectNoSecrets('broker.log', log);
    await s.expectNothingLeft();
  });
});

describe('closing a streamable HTTP session sends DELETE', () => {
  test('mcp_broker state=absent closes the pooled session with DELETE /mcp', async () => {
    const s = (scenario = new Scenario());
    const { value: run, seen } = await seenDuring(() =>
      s.play([
        whoamiTask('whoami', authed('http')),
        { name: 'close', [BROKER]: { ...authed('http'), state: 'absent' } },
        { name: 'pool', [BROKER]: { state: 'status' } },
      ]),
    );
    expect(run.exitCode, output(run)).toBe(0);
    const sessionId = whoami(run.task('whoami').result).session_id;
    expect(typeof sessionId).toBe('string');
    expect(run.task('close').result).toMatchObject({ changed: true, closed: 1 });
    expect(run.task('pool').result.connections).toEqual([]);
    const deletes = seen.filter((r) => r.method === 'DELETE' && r.path === '/mcp');
    expect(deletes, output(run)).toHaveLength(1);
    expect(deletes[0]).toMatchObject({ session: sessionId, status: 200, bearer_ok: true, api_key_ok: true });
    expect(server.sessions()).not.toContain(sessionId);
    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  test('idle expiry (connection_timeout: 2) closes the pooled session with DELETE within ~10 s', async () => {
    const s = (scenario = new Scenario());
    const run = await s.play([whoamiTask('whoami', authed('http', { connection_timeout: 2 }))]);
    expect(run.exitCode, output(run)).toBe(0);
    const sessionId = whoami(run.task('whoami').result).session_id;
    const deleted = () => server.deletes().some((r) => r.session === sessionId);
    expect(await waitUntil(deleted, 10_000), `no DELETE for ${sessionId}\n${output(run)}`).toBe(true);
    expect(server.deletes().find((r) => r.session === sessionId)).toMatchObject({ status: 200, bearer_ok: true, api_key_ok: true });
    expect(brokerLog(s.dir)).toMatch(/idle timeout/);
    expect(server.sessions()).not.toContain(sessionId);
    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  test('connection_reuse: false ends its session with DELETE before the task returns', async () => {
    const { value: run, seen } = await seenDuring(() => runPlaybook([whoamiTask('whoami', authed('http', { connection_reuse: false }))]));
    expect(run.exitCode, outputOf(run)).toBe(0);
    const sessionId = whoami(run.task('whoami').result).session_id;
    expect(seen.filter((r) => r.method === 'DELETE')).toMatchObject([{ session: sessionId, status: 200 }]);
    expect(server.sessions()).not.toContain(sessionId);
    expect(run.leftovers).toEqual([]);
  });
});

describe('HTTP session expiry', () => {
  test('a server restart between two pooled tasks: the second task re-initializes once and passes', async () => {
    const s = (scenario = new Scenario());
    const conn = authed('http');
    const first = await s.play([whoamiTask('before', conn)]);
    expect(first.exitCode, output(first)).toBe(0);
    const before = whoami(first.task('before').result);
    const initsBefore = server.rpcCount('initialize');

    // Same URL, new server incarnation: it knows no session.
    await server.restart();
    expect(server.sessions()).toEqual([]);

    const { value: second, seen } = await seenDuring(() => s.play([whoamiTask('after', conn), { name: 'after again', [TOOL]: { ...conn, tool_name: 'echo', tool_arguments: { message: 'still here' }, expected_result: 'Echo: still here' } }]));
    expect(second.exitCode, output(second)).toBe(0);
    const after = second.task('after').result;
    expect(after, output(second)).toMatchObject({ status: 'passed', test_passed: true, connection: { pooled: true, reused: false, reconnected: true } });
    const me = whoami(after);
    expect(me.session_id).not.toBe(before.session_id);
    expect(me.generation).toBe(before.generation + 1);
    // Exactly one new initialize, on the restarted server; the next task reuses the new session.
    expect(server.rpcCount('initialize')).toBe(initsBefore + 1);
    expect(seen.filter((r) => r.rpc.includes('initialize'))).toHaveLength(1);
    expect(second.task('after again').result.connection).toMatchObject({ reused: true, reconnected: false });
    expect(first.task('before').result.connection.key).toBe(after.connection.key);
    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  // The first request after a restart differs per module: resources/list (info), tools/call
  // in a batch (suite), the SSE event stream (sse). Each must find the forgotten session and recover.
  const afterRestart: [string, Http, () => Record<string, unknown>, (r: Record<string, any>) => void][] = [
    ['mcp_server_info over http', 'http', () => ({ [INFO]: authed('http') }), (r) => expect(r.tools.map((t: any) => t.name).sort()).toEqual(['echo', 'whoami'])],
    [
      'mcp_test_suite over http',
      'http',
      () => ({ [`${FQ}.mcp_test_suite`]: { ...authed('http'), tests: [{ type: 'tool', name: 'echo', arguments: { message: 'x' }, expected_result: 'Echo: x' }, { type: 'tool', name: 'whoami' }] } }),
      (r) => expect(r.summary).toMatchObject({ total_tests: 2, passed: 2 }),
    ],
    ['mcp_test_tool over sse', 'sse', () => ({ [TOOL]: { ...authed('sse'), tool_name: 'echo', tool_arguments: { message: 'x' }, expected_result: 'Echo: x' } }), (r) => expect(r.test_passed).toBe(true)],
  ];
  for (const [label, transport, task, check] of afterRestart) {
    test(`a server restart between two pooled tasks: ${label} recovers`, async () => {
      const s = (scenario = new Scenario());
      const first = await s.play([whoamiTask('before', authed(transport))]);
      expect(first.exitCode, output(first)).toBe(0);
      const initsBefore = server.rpcCount('initialize');
      await server.restart();
      const second = await s.play([{ name: 'after', ...task() }]);
      expect(second.exitCode, output(second)).toBe(0);
      const r = second.task('after').result;
      expect(r.connection, output(second)).toMatchObject({ pooled: true, reused: false, reconnected: true });
      expect(r.connection.key).toBe(first.task('before').result.connection.key);
      check(r);
      expect(server.rpcCount('initialize'), output(second)).toBe(initsBefore + 1);
      await s.stopWithModule();
      await s.expectNothingLeft();
    });
  }
});
