/**
 * The collection's action plugin (plugins/action/mcp_runtime.py, routed to
 * every module by meta/runtime.yml). On connection local without become or
 * async it runs the installed runtime as one command with the task's
 * arguments on stdin: nothing is copied, no temp directory is made. With
 * become or async, Ansible's usual path (a copy in a temp dir) is taken.
 * Either way the module behaves the same. Runs on every ansible-core lane.
 */
import { describe, expect, test } from 'vitest';
import { everythingServer, outputOf, runPlaybook } from './harness';

const TOOL = 'tosin2013.mcp_audit.mcp_test_tool';
const echo = (extra: Record<string, unknown> = {}, message = 'direct') => ({
  name: 'echo',
  ...extra,
  [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message }, expected_result: `Echo: ${message}` },
});
/** `-vvv` prints "PUT <src> TO <dest>" for every file Ansible copies to the target. */
const puts = (stdout: string) => stdout.split('\n').filter((l) => /\bPUT \S+ TO /.test(l));
const runtimeCopies = (stdout: string) => puts(stdout).filter((l) => /PUT \S*plugins\/runtime\/mcp_audit_runtime TO /.test(l));

describe('the runtime action plugin', () => {
  test('connection local: one command runs the installed runtime with the arguments on stdin; nothing is copied', async () => {
    const run = await runPlaybook([echo()], { verbosity: 3 });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('echo').result.test_passed).toBe(true);
    expect(puts(run.stdout)).toEqual([]);
    expect(run.stdout).toMatch(/EXEC .*plugins\/runtime\/mcp_audit_runtime -/);
    expect(run.stdout).not.toMatch(/AnsiballZ_/);
    expect(run.leftovers).toEqual([]);
  });

  test('the task keyword environment reaches the module and its server', async () => {
    // server-everything's get-env tool returns its whole environment.
    const run = await runPlaybook([
      {
        name: 'env',
        environment: { MCP_AUDIT_PLUGIN_PROBE: 'from-the-play' },
        [TOOL]: { ...everythingServer, tool_name: 'get-env' },
      },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(JSON.stringify(run.task('env').result.tool_result)).toContain('from-the-play');
  });

  test('check mode travels with the arguments (_ansible_check_mode)', async () => {
    // echo is annotated readOnlyHint: it runs in check mode; toggle-simulated-logging is not: it is skipped.
    const run = await runPlaybook(
      [echo({}, 'checked'), { name: 'toggle', [TOOL]: { ...everythingServer, tool_name: 'toggle-simulated-logging' } }],
      { check: true },
    );
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('echo').result.test_passed).toBe(true);
    expect(run.task('toggle').result.status).toBe('skipped');
  });

  test('with become the usual copy is made (permissions may be changed for the become user)', async () => {
    const run = await runPlaybook([echo({ become: true, become_method: 'su', become_user: 'root' })], { verbosity: 3 });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('echo').result.test_passed).toBe(true);
    expect(runtimeCopies(run.stdout)).toHaveLength(1);
    expect(run.leftovers).toEqual([]);
  });

  test('an async task takes Ansible usual path and still passes', async () => {
    const run = await runPlaybook([echo({ async: 60, poll: 1 }, 'async')], { verbosity: 3 });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('echo').result.test_passed).toBe(true);
    expect(runtimeCopies(run.stdout)).toHaveLength(1);
  });
});
