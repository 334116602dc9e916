/**
 * The collection's action plugin (plugins/action/mcp_runtime.py, routed to
 * every module by meta/runtime.yml): on connection local without become the
 * task's temp dir gets a link to the installed runtime instead of a 110 MB
 * copy; with become (or any remote connection) Ansible's usual copy is kept.
 * Either way the module behaves the same.
 */
import { describe, expect, test } from 'vitest';
import { everythingServer, outputOf, runPlaybook } from './harness';

const TOOL = 'tosin2013.mcp_audit.mcp_test_tool';
const echo = (extra: Record<string, unknown> = {}) => ({
  name: 'echo',
  ...extra,
  [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'linked' }, expected_result: 'Echo: linked' },
});
/** `-vvv` prints "PUT <src> TO <dest>" for every file Ansible copies to the target. */
const runtimeCopies = (stdout: string) => stdout.split('\n').filter((l) => /PUT \S*plugins\/runtime\/mcp_audit_runtime TO /.test(l));

describe('the runtime action plugin', () => {
  test('connection local: the runtime is linked, not copied, and the task passes', async () => {
    const run = await runPlaybook([echo()], { verbosity: 3 });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('echo').result.test_passed).toBe(true);
    // The args file is still copied; the runtime is not.
    expect(run.stdout).toMatch(/PUT \S+ TO \S+\/args/);
    expect(runtimeCopies(run.stdout)).toEqual([]);
    expect(run.stdout).toMatch(/EXEC .*AnsiballZ_mcp_test_tool .*\/args/);
    expect(run.leftovers).toEqual([]);
  });

  test('with become the usual copy is made (permissions may be changed for the become user)', async () => {
    const run = await runPlaybook([echo({ become: true, become_method: 'su', become_user: 'root' })], { verbosity: 3 });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('echo').result.test_passed).toBe(true);
    expect(runtimeCopies(run.stdout)).toHaveLength(1);
    expect(run.leftovers).toEqual([]);
  });
});
