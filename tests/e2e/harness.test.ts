/**
 * The harness checks itself: leftoverProcesses must see a process a playbook
 * leaves behind (else every "nothing left" assertion in the suite is vacuous),
 * and the results callback must report statuses as Ansible does.
 */
import { expect, test } from 'vitest';
import { leftoverProcesses, outputOf, runPlaybook } from './harness';

test('a process a playbook leaves behind is found (and reaped), statuses are recorded', async () => {
  const run = await runPlaybook([
    // setsid + closed fds: the shell task returns at once and `sleep 61` outlives ansible-playbook.
    { name: 'leave a process', 'ansible.builtin.shell': 'setsid sleep 61 > /dev/null 2>&1 < /dev/null &' },
    { name: 'fail but ignored', ignore_errors: true, 'ansible.builtin.fail': { msg: 'deliberate' } },
    { name: 'skipped', when: false, 'ansible.builtin.debug': { msg: 'never' } },
  ]);
  expect(run.exitCode, outputOf(run)).toBe(0);
  expect(run.leftovers.map((p) => p.cmdline)).toEqual(['sleep 61']);
  expect(leftoverProcesses(run.runId)).toEqual([]); // runPlaybook killed it
  expect(run.results.map((r) => [r.task, r.status, r.ignore_errors])).toEqual([
    ['leave a process', 'ok', false],
    ['fail but ignored', 'failed', true],
    ['skipped', 'skipped', false],
  ]);
  expect(run.task('fail but ignored').result.msg).toBe('deliberate');
  expect(run.stdout).toContain('PLAY RECAP');
});

test('a failing task makes ansible-playbook exit 2', async () => {
  const run = await runPlaybook([{ name: 'fail', 'ansible.builtin.fail': { msg: 'deliberate' } }]);
  expect(run.exitCode).toBe(2);
  expect(run.task('fail').status).toBe('failed');
  expect(run.leftovers).toEqual([]);
});
