/**
 * The collection's action plugin (plugins/action/mcp_runtime.py, routed to
 * every module by meta/runtime.yml) runs every task as one command with the
 * task's arguments on stdin: on connection local without become, the
 * controller's copy of the runtime in place; otherwise the copy it placed in
 * ~/.ansible/mcp_audit/<build id> of the user the task runs as, once.
 * Nothing else is copied, no temp directory is made. Runs on every
 * ansible-core lane. (Delivery itself: runtime_delivery.test.ts.)
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { everythingServer, INSTALLED_COLLECTION, outputOf, runPlaybook } from './harness';

const TOOL = 'tosin2013.mcp_audit.mcp_test_tool';
const echo = (extra: Record<string, unknown> = {}, message = 'direct') => ({
  name: 'echo',
  ...extra,
  [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message }, expected_result: `Echo: ${message}` },
});
/** `-vvv` prints "PUT <src> TO <dest>" for every file Ansible copies to the target. */
const puts = (stdout: string) => stdout.split('\n').filter((l) => /\bPUT \S+ TO /.test(l));
const runtimeCopies = (stdout: string) => puts(stdout).filter((l) => /PUT \S*\/mcp_audit_runtime TO /.test(l));
const buildId = () => JSON.parse(readFileSync(join(INSTALLED_COLLECTION, 'plugins', 'runtime', 'manifest.json'), 'utf8')).build_id;

describe('the runtime action plugin', () => {
  test("connection local: one command runs the controller's runtime with the arguments on stdin; nothing is copied", async () => {
    const run = await runPlaybook([echo()], { verbosity: 3 });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('echo').result.test_passed).toBe(true);
    expect(puts(run.stdout)).toEqual([]);
    expect(run.stdout).toMatch(/EXEC .*\/mcp_audit_runtime -/);
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

  test('with become the first task places the runtime in the become user home, later tasks only run it', async () => {
    // su to root: the runtime goes to /root/.ansible/mcp_audit/<build id>. Start from "not placed".
    rmSync(join('/root', '.ansible', 'mcp_audit', buildId()), { recursive: true, force: true });
    const become = { become: true, become_method: 'su', become_user: 'root' };
    const run = await runPlaybook([{ ...echo(become, 'one'), name: 'first' }, { ...echo(become, 'two'), name: 'second' }], { verbosity: 3 });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('first').result.test_passed).toBe(true);
    expect(run.task('second').result.test_passed).toBe(true);
    const [first, second] = run.stdout.split(/TASK \[second\]/);
    expect(runtimeCopies(first)).toHaveLength(1);
    expect(puts(second)).toEqual([]);
    expect(second).toMatch(/EXEC .*\.ansible\/mcp_audit\/\S+\/mcp_audit_runtime -/);
    expect(run.leftovers).toEqual([]);
  });

  test('an async task starts in the background and is followed by async_status', async () => {
    const run = await runPlaybook([echo({ async: 60, poll: 1 }, 'async')], { verbosity: 3 });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('echo').result.test_passed).toBe(true);
    expect(run.stdout).toMatch(/async_status/);
  });
});
