/**
 * mcp_test_tool end to end: real ansible-playbook, the installed collection,
 * real @modelcontextprotocol servers. Every task runs with connection_reuse:
 * false (the harness's module_defaults), so each playbook must leave no process.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { EVERYTHING_JS, NODE, everythingServer, filesystemServer, outputOf, runPlaybook, scratchDir } from './harness';

const TOOL = 'tosin2013.mcp_audit.mcp_test_tool';
const INFO = 'tosin2013.mcp_audit.mcp_server_info';

const scratch = scratchDir();
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * server-everything behind `tee <log>`: the log holds every JSON-RPC message
 * the module sent to the server, so a test can prove what was (not) sent.
 */
function loggedEverything(name: string) {
  const log = join(scratch, `${name}.jsonl`);
  return {
    log,
    server: { server_command: 'sh', server_args: ['-c', `tee "$0" | exec "${NODE}" "${EVERYTHING_JS}"`, log] },
    methods: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l))
        .map((m) => (m.method === 'tools/call' ? `tools/call:${m.params?.name}` : m.method ?? 'response')),
  };
}

describe('a passing call', () => {
  test('echo passes and returns the 1.1.x keys', async () => {
    const run = await runPlaybook([{ name: 'echo', [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'hello e2e' } } }]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    const echo = run.task('echo');
    expect(echo.status).toBe('ok');
    const r = echo.result;
    expect(r).toMatchObject({
      changed: false, // echo is annotated readOnlyHint: true
      success: true,
      status: 'passed',
      test_passed: true,
      tool_name: 'echo',
      validation: { valid: true, matches_expected: null, errors: [], warnings: [] },
      tool_result: { content: [{ type: 'text', text: 'Echo: hello e2e' }], structured_content: null, is_error: false },
      tool_annotations: { readOnlyHint: true },
      connection: { reused: false, pooled: false, attempts: 1 },
    });
    expect(r.msg).toBeUndefined();
    expect(typeof r.execution_time).toBe('number');
    expect(r.execution_time).toBeGreaterThan(0);
    expect(r.execution_time).toBeLessThan(30);
    expect(Number.isInteger(r.connection.server_pid)).toBe(true);
    // invocation: the task's options with defaults, connection_reuse from the suite's module_defaults.
    expect(r.invocation.module_args).toMatchObject({
      tool_name: 'echo',
      tool_arguments: { message: 'hello e2e' },
      server_command: everythingServer.server_command,
      server_args: everythingServer.server_args,
      transport: 'stdio',
      timeout: 30,
      expect_error: false,
      validate_schema: true,
      connection_reuse: false,
      connection_timeout: 300,
      max_connection_retries: 3,
    });
    expect(run.leftovers).toEqual([]);
  });

  test('a server that prints garbage on stdout before speaking MCP still works', async () => {
    const run = await runPlaybook([
      {
        name: 'garbage first',
        [TOOL]: {
          server_command: 'sh',
          server_args: ['-c', `echo garbage; echo '{"not": "json-rpc"}'; exec "${NODE}" "${EVERYTHING_JS}"`],
          tool_name: 'echo',
          tool_arguments: { message: 'through the noise' },
          expected_result: 'Echo: through the noise',
        },
      },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('garbage first').result).toMatchObject({
      status: 'passed',
      test_passed: true,
      tool_result: { content: [{ type: 'text', text: 'Echo: through the noise' }], is_error: false },
      validation: { matches_expected: true },
    });
    expect(run.leftovers).toEqual([]);
  });
});

describe('isError and expect_error (server-filesystem)', () => {
  test('a tool answering isError fails the task; expect_error: true passes; expect_error on success fails', async () => {
    const allowed = join(scratch, 'allowed');
    mkdirSync(allowed, { recursive: true });
    writeFileSync(join(allowed, 'inside.txt'), 'inside');
    const fs = filesystemServer(allowed);
    const run = await runPlaybook([
      { name: 'outside', ignore_errors: true, [TOOL]: { ...fs, tool_name: 'read_text_file', tool_arguments: { path: '/etc/hostname' } } },
      { name: 'outside expected', [TOOL]: { ...fs, tool_name: 'read_text_file', tool_arguments: { path: '/etc/hostname' }, expect_error: true } },
      { name: 'inside expected error', ignore_errors: true, [TOOL]: { ...fs, tool_name: 'read_text_file', tool_arguments: { path: join(allowed, 'inside.txt') }, expect_error: true } },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0); // the failures were ignored

    const outside = run.task('outside');
    expect(outside.status).toBe('failed');
    expect(outside.result).toMatchObject({ success: true, test_passed: false, status: 'failed', tool_result: { is_error: true } });
    expect(outside.result.msg).toMatch(/^tool 'read_text_file' test failed: the tool answered isError: true: Access denied - path outside allowed directories: \/etc\/hostname/);
    expect(outside.result.validation.errors).toHaveLength(1);
    expect(outside.result.validation.errors[0]).toMatch(/^the tool answered isError: true: Access denied/);
    expect(outside.result.tool_result.content[0].text).toContain('Access denied');

    const expected = run.task('outside expected');
    expect(expected.status).toBe('ok');
    expect(expected.result).toMatchObject({ success: true, test_passed: true, status: 'passed', tool_result: { is_error: true }, validation: { errors: [] } });

    const inside = run.task('inside expected error');
    expect(inside.status).toBe('failed');
    expect(inside.result).toMatchObject({ test_passed: false, status: 'failed', tool_result: { is_error: false, structured_content: { content: 'inside' } } });
    expect(inside.result.msg).toBe("tool 'read_text_file' test failed: expect_error is true but the tool did not answer isError");
    expect(run.leftovers).toEqual([]);
  });
});

describe('expected_result', () => {
  test('matches text (string), numbers as numbers, and structured content', async () => {
    const dir = join(scratch, 'numbers');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'answer.txt'), '42');
    const run = await runPlaybook([
      { name: 'string', [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'exact' }, expected_result: 'Echo: exact' } },
      { name: 'sum text', [TOOL]: { ...everythingServer, tool_name: 'get-sum', tool_arguments: { a: 19, b: 23 }, expected_result: 'The sum of 19 and 23 is 42.' } },
      { name: 'number', [TOOL]: { ...filesystemServer(dir), tool_name: 'read_text_file', tool_arguments: { path: join(dir, 'answer.txt') }, expected_result: 42 } },
      { name: 'numeric string', [TOOL]: { ...filesystemServer(dir), tool_name: 'read_text_file', tool_arguments: { path: join(dir, 'answer.txt') }, expected_result: '42.0' } },
      {
        name: 'structured',
        [TOOL]: { ...everythingServer, tool_name: 'get-structured-content', tool_arguments: { location: 'New York' }, expected_result: { temperature: 33, conditions: 'Cloudy' } },
      },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    for (const name of ['string', 'sum text', 'number', 'numeric string', 'structured']) {
      expect(run.task(name).status, name).toBe('ok');
      expect(run.task(name).result, name).toMatchObject({ test_passed: true, status: 'passed', validation: { valid: true, matches_expected: true, errors: [] } });
    }
    expect(run.task('sum text').result.tool_result.content).toEqual([{ type: 'text', text: 'The sum of 19 and 23 is 42.' }]);
    // get-structured-content declares an outputSchema; its structuredContent is returned and was validated.
    expect(run.task('structured').result.tool_result.structured_content).toEqual({ temperature: 33, conditions: 'Cloudy', humidity: 82 });
    expect(run.leftovers).toEqual([]);
  });

  test('a mismatch fails and says what was expected and what came back', async () => {
    const run = await runPlaybook([
      { name: 'text mismatch', ignore_errors: true, [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'hello' }, expected_result: 'Echo: goodbye' } },
      { name: 'sum mismatch', ignore_errors: true, [TOOL]: { ...everythingServer, tool_name: 'get-sum', tool_arguments: { a: 2, b: 2 }, expected_result: 'The sum of 2 and 2 is 5.' } },
      {
        name: 'structured mismatch',
        ignore_errors: true,
        [TOOL]: { ...everythingServer, tool_name: 'get-structured-content', tool_arguments: { location: 'Chicago' }, expected_result: { temperature: 99 } },
      },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);

    const text = run.task('text mismatch');
    expect(text.status).toBe('failed');
    expect(text.result).toMatchObject({ success: true, test_passed: false, status: 'failed', validation: { valid: true, matches_expected: false } });
    expect(text.result.msg).toBe(`tool 'echo' test failed: expected_result does not match: expected "Echo: goodbye", got text "Echo: hello"`);
    expect(text.result.validation.errors).toEqual([`expected_result does not match: expected "Echo: goodbye", got text "Echo: hello"`]);

    const sum = run.task('sum mismatch');
    expect(sum.status).toBe('failed');
    expect(sum.result.msg).toContain('expected "The sum of 2 and 2 is 5.", got text "The sum of 2 and 2 is 4."');

    const structured = run.task('structured mismatch');
    expect(structured.status).toBe('failed');
    expect(structured.result.validation.matches_expected).toBe(false);
    expect(structured.result.msg).toMatch(/^tool 'get-structured-content' test failed: expected_result does not match: expected \{"temperature":99\}, got /);
    expect(structured.result.msg).toContain('"temperature":36');
    expect(run.leftovers).toEqual([]);
  });
});

describe('tool_arguments against the inputSchema', () => {
  test('violations fail naming the path and the rule, and no tools/call is sent', async () => {
    const wrongType = loggedEverything('wrong-type');
    const missing = loggedEverything('missing');
    const control = loggedEverything('control');
    const run = await runPlaybook([
      { name: 'wrong type', ignore_errors: true, [TOOL]: { ...wrongType.server, tool_name: 'echo', tool_arguments: { message: 5 } } },
      { name: 'missing', ignore_errors: true, [TOOL]: { ...missing.server, tool_name: 'echo', tool_arguments: {} } },
      { name: 'control', [TOOL]: { ...control.server, tool_name: 'echo', tool_arguments: { message: 'sent' } } },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);

    const t = run.task('wrong type');
    expect(t.status).toBe('failed');
    expect(t.result).toMatchObject({ success: false, test_passed: false, status: 'failed', validation: { valid: false, matches_expected: null } });
    expect(t.result.msg).toMatch(/^tool_arguments do not match the inputSchema of tool 'echo' \(nothing was sent\): /);
    expect(t.result.msg).toMatch(/tool_arguments\.message must be string \(rule: type at [^)]*message[^)]*\)/);
    expect(t.result.tool_result).toBeUndefined();

    const m = run.task('missing');
    expect(m.status).toBe('failed');
    expect(m.result.msg).toMatch(/^tool_arguments do not match the inputSchema of tool 'echo' \(nothing was sent\): /);
    expect(m.result.msg).toMatch(/tool_arguments must have required property 'message' \(rule: required/);
    expect(m.result.validation.errors).toHaveLength(1);

    // What reached the servers: the invalid calls stopped after tools/list.
    for (const logged of [wrongType, missing]) {
      const methods = logged.methods();
      expect(methods).toContain('initialize');
      expect(methods).toContain('tools/list');
      expect(methods.filter((x) => x.startsWith('tools/call'))).toEqual([]);
    }
    // The control proves the log would have shown the call.
    expect(control.methods()).toContain('tools/call:echo');
    expect(run.task('control').result.test_passed).toBe(true);
    expect(run.leftovers).toEqual([]);
  });
});

describe('unknown tool', () => {
  test("fails listing the server's tools", async () => {
    const run = await runPlaybook([
      { name: 'info', register: 'info', [INFO]: { ...everythingServer } },
      { name: 'unknown', ignore_errors: true, [TOOL]: { ...everythingServer, tool_name: 'no-such-tool' } },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    const names = (run.task('info').result.tools as { name: string }[]).map((t) => t.name).sort();
    expect(names).toContain('echo');
    const u = run.task('unknown');
    expect(u.status).toBe('failed');
    expect(u.result).toMatchObject({ success: false, test_passed: false, status: 'failed', tool_name: 'no-such-tool' });
    expect(u.result.msg).toBe(`tool 'no-such-tool' not found on the server; it has these tools: ${names.join(', ')}`);
    expect(u.result.available_tools).toEqual(names);
    expect(run.leftovers).toEqual([]);
  });
});

describe('timeout on a call', () => {
  test('a call slower than timeout fails with "timed out after N s" and the server is told to cancel it', async () => {
    const slow = loggedEverything('slow-call');
    const run = await runPlaybook([
      {
        name: 'slow',
        ignore_errors: true,
        [TOOL]: { ...slow.server, tool_name: 'trigger-long-running-operation', tool_arguments: { duration: 30, steps: 3 }, timeout: 2 },
      },
    ]);
    const slowTask = run.task('slow');
    expect(slowTask.status, outputOf(run)).toBe('failed');
    expect(slowTask.result.msg).toMatch(/^tools\/call timed out after 2 s/);
    expect(run.durationMs).toBeLessThan(25_000);
    expect(slow.methods()).toEqual(expect.arrayContaining(['tools/call:trigger-long-running-operation', 'notifications/cancelled']));
    expect(run.leftovers).toEqual([]);
  });
});

describe('check mode', () => {
  test('read-only tools are called, other tools are skipped and not sent', async () => {
    const toggle = loggedEverything('check-toggle');
    const run = await runPlaybook(
      [
        { name: 'read-only', [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'checked' }, expected_result: 'Echo: checked' } },
        { name: 'not read-only', [TOOL]: { ...toggle.server, tool_name: 'toggle-simulated-logging' } },
      ],
      { check: true },
    );
    expect(run.exitCode, outputOf(run)).toBe(0);

    const ro = run.task('read-only');
    expect(ro.status).toBe('ok');
    expect(ro.result).toMatchObject({ changed: false, test_passed: true, status: 'passed', tool_result: { content: [{ type: 'text', text: 'Echo: checked' }] } });

    const rw = run.task('not read-only');
    expect(rw.status).toBe('skipped');
    expect(rw.result.msg).toBe("check mode: would have called tool 'toggle-simulated-logging' (not called because it is not annotated readOnlyHint: true)");
    expect(rw.result).toMatchObject({ status: 'skipped', tool_annotations: { readOnlyHint: false } });
    expect(rw.result.tool_result).toBeUndefined();
    const methods = toggle.methods();
    expect(methods).toContain('tools/list');
    expect(methods.filter((x) => x.startsWith('tools/call'))).toEqual([]);
    expect(run.stdout).toMatch(/skipping: \[localhost\]/);
    expect(run.leftovers).toEqual([]);
  });
});
