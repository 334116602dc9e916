/**
 * Servers that cannot be started, die at once, or never answer: the task must
 * fail with a message a person can act on, within its timeout, and leave no
 * process behind. connection_reuse: false comes from the harness's module_defaults.
 */
import { describe, expect, test } from 'vitest';
import { EVERYTHING_JS, NODE, outputOf, runPlaybook } from './harness';

const TOOL = 'tosin2013.mcp_audit.mcp_test_tool';

describe('starting the server', () => {
  test('a command that does not exist fails saying not found, with the PATH searched', async () => {
    const run = await runPlaybook([
      { name: 'not in PATH', ignore_errors: true, [TOOL]: { server_command: 'mcp-e2e-no-such-server', tool_name: 'echo' } },
      { name: 'no such file', ignore_errors: true, [TOOL]: { server_command: '/nonexistent/mcp-e2e/server', tool_name: 'echo' } },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    const searched = (process.env.PATH ?? '').split(':').filter(Boolean).join(', ');
    const notInPath = run.task('not in PATH');
    expect(notInPath.status).toBe('failed');
    expect(notInPath.result).toMatchObject({ success: false, test_passed: false, status: 'failed' });
    // Not found is not retried: the message has no "(after N attempts)".
    expect(notInPath.result.msg).toBe(`could not start the MCP server: server_command 'mcp-e2e-no-such-server' was not found in PATH (searched: ${searched})`);
    expect(notInPath.result.error).toBe(notInPath.result.msg);
    expect(run.task('no such file').result.msg).toBe("could not start the MCP server: server_command '/nonexistent/mcp-e2e/server' does not exist");
    expect(run.leftovers).toEqual([]);
  });

  test('a command given as one string with spaces and no server_args is split (shell quoting, no shell)', async () => {
    const run = await runPlaybook([
      { name: 'plain', [TOOL]: { server_command: `${NODE} ${EVERYTHING_JS}`, tool_name: 'echo', tool_arguments: { message: 'split' }, expected_result: 'Echo: split' } },
      {
        name: 'quoted',
        [TOOL]: { server_command: `sh -c 'exec "${NODE}" "${EVERYTHING_JS}"'`, tool_name: 'echo', tool_arguments: { message: 'quoted' }, expected_result: 'Echo: quoted' },
      },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    for (const name of ['plain', 'quoted']) {
      expect(run.task(name).status, name).toBe('ok');
      expect(run.task(name).result, name).toMatchObject({ test_passed: true, validation: { matches_expected: true } });
    }
    // The user's options are reported as given.
    expect(run.task('plain').result.invocation.module_args).toMatchObject({ server_command: `${NODE} ${EVERYTHING_JS}`, server_args: [] });
    expect(run.leftovers).toEqual([]);
  });

  test('a server that exits at once: the message has its exit code and stderr', async () => {
    const run = await runPlaybook([{ name: 'boom', ignore_errors: true, [TOOL]: { server_command: 'sh', server_args: ['-c', 'echo boom >&2; exit 3'], tool_name: 'echo' } }]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    const r = run.task('boom').result;
    expect(run.task('boom').status).toBe('failed');
    expect(r).toMatchObject({ success: false, test_passed: false, status: 'failed', server_exit: { code: 3, signal: null } });
    expect(r.msg).toMatch(/exited with code 3/);
    expect(r.msg).toMatch(/during initialize/);
    expect(r.msg).toContain('boom');
    // max_connection_retries defaults to 3: one attempt plus three retries.
    expect(r.msg).toMatch(/\(after 4 attempts\)$/);
    expect(r.server_stderr).toContain('boom');
    expect(run.leftovers).toEqual([]);
  });
});

describe('a server that never answers', () => {
  test('timeout: 2 fails with "timed out after 2 s" well within 60 s, and the server is gone', async () => {
    const run = await runPlaybook([{ name: 'silent', ignore_errors: true, [TOOL]: { server_command: 'sh', server_args: ['-c', 'sleep 60'], tool_name: 'echo', timeout: 2 } }]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    const r = run.task('silent').result;
    expect(run.task('silent').status).toBe('failed');
    expect(r).toMatchObject({ success: false, test_passed: false, status: 'failed' });
    expect(r.msg).toMatch(/^initialize timed out after 2 s/);
    // Generous bound: the task must not wait for `sleep 60`.
    expect(run.durationMs).toBeLessThan(20_000);
    expect(r.execution_time).toBeLessThan(15);
    // `sleep 60` (a child of sh) is killed with its process group.
    expect(run.leftovers).toEqual([]);
  });

  test('a wrapper whose background child would outlive it: the whole group is stopped', async () => {
    // sh starts `sleep 60` in the background and becomes `cat`, which swallows stdin and never answers.
    const run = await runPlaybook([
      { name: 'orphan maker', ignore_errors: true, [TOOL]: { server_command: 'sh', server_args: ['-c', 'sleep 60 & exec cat > /dev/null'], tool_name: 'echo', timeout: 2 } },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('orphan maker').result.msg).toMatch(/^initialize timed out after 2 s/);
    expect(run.durationMs).toBeLessThan(20_000);
    expect(run.leftovers).toEqual([]);
  });
});
