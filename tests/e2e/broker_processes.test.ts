/**
 * Broker acceptance: processes. Every process started for a server is
 * stopped when its session closes, even a daemon that left the server's
 * process group and session (setsid); and `mcp_broker state=stopped` works
 * where pid 1 never reaps, so the exited broker stays a zombie.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { everythingServer, NODE, REPO_ROOT, runPlaybook } from './harness';
import { BROKER, output, processAlive, scenarioPerTest, TOOL } from './broker-helpers';

const SETSID_SERVER = { server_command: NODE, server_args: [join(REPO_ROOT, 'tests', 'helpers', 'setsid_server.mjs')] };
const NON_REAPING_INIT = join(REPO_ROOT, 'tests', 'helpers', 'non_reaping_init.py');

const newScenario = scenarioPerTest();

const startDaemon = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  [TOOL]: { ...SETSID_SERVER, tool_name: 'start_daemon', tool_arguments: { ignore_sigterm: false }, ...extra },
});

/** The daemon a start_daemon task left, checked to be outside the server's process group and session. */
function daemonOf(result: Record<string, any>): number {
  const m = /^daemon (\d+) session (\d+)$/.exec(result.tool_result?.content?.[0]?.text ?? '');
  expect(m, JSON.stringify(result)).toBeTruthy();
  const [pid, session] = [Number(m![1]), Number(m![2])];
  expect(session, 'the daemon called setsid()').toBe(pid);
  expect(session).not.toBe(result.connection.server_pid);
  return pid;
}

/** Root (or a user namespace) is needed for a pid namespace: the zombie test skips without it. */
const canUnsharePid = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

describe('broker processes', () => {
  test('mcp_broker state=stopped stops a daemon the server started in a new session', async () => {
    const s = newScenario();
    const run = await s.play([startDaemon('daemon'), startDaemon('stubborn daemon', { tool_arguments: { ignore_sigterm: true } })]);
    expect(run.exitCode, output(run)).toBe(0);
    const daemons = [daemonOf(run.task('daemon').result), daemonOf(run.task('stubborn daemon').result)];
    for (const pid of daemons) expect(processAlive(pid), `daemon ${pid} runs before the stop`).toBe(true);

    const stop = await s.stopWithModule();
    expect(stop).toMatchObject({ changed: true, closed: 1 });
    // mcp_broker returns once the broker has exited, and the broker once its servers' processes are gone.
    for (const pid of daemons) expect(processAlive(pid), `daemon ${pid} survived state=stopped`).toBe(false);
    await s.expectNothingLeft();
  });

  test('mcp_broker state=absent stops the daemon of the connection it closes and leaves others running', async () => {
    const s = newScenario();
    const other = { ...SETSID_SERVER, server_env: { WHICH: 'other' } };
    const run = await s.play([
      startDaemon('daemon'),
      { name: 'other daemon', [TOOL]: { ...other, tool_name: 'start_daemon', tool_arguments: {} } },
      { name: 'close the first', [BROKER]: { state: 'absent', ...SETSID_SERVER } },
    ]);
    expect(run.exitCode, output(run)).toBe(0);
    const [closed, kept] = [daemonOf(run.task('daemon').result), daemonOf(run.task('other daemon').result)];
    expect(run.task('close the first').result).toMatchObject({ changed: true, closed: 1 });
    expect(processAlive(closed), `daemon ${closed} survived state=absent`).toBe(false);
    expect(processAlive(kept), 'the other connection and its daemon are untouched').toBe(true);

    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  test('connection_reuse: false stops the daemon before the task ends', async () => {
    const run = await runPlaybook([startDaemon('daemon'), { name: 'echo', [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'x' } } }]);
    expect(run.exitCode, output(run)).toBe(0);
    const daemon = daemonOf(run.task('daemon').result);
    expect(run.task('daemon').result.connection.pooled).toBe(false);
    expect(processAlive(daemon), `daemon ${daemon} survived its task`).toBe(false);
    expect(run.leftovers, `left behind: ${JSON.stringify(run.leftovers)}`).toEqual([]);
  });

  test.skipIf(!canUnsharePid)('mcp_broker state=stopped where pid 1 never reaps: the exited broker is a zombie, and that counts as stopped (needs root for unshare --pid)', async () => {
    const s = newScenario();
    const python = execFileSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).trim();
    const run = await s.play(
      [
        { name: 'start the broker', [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'x' } } },
        { name: 'status', [BROKER]: { state: 'status' }, register: 'status' },
        { name: 'stop', [BROKER]: { state: 'stopped' } },
        { name: 'broker state', 'ansible.builtin.command': 'cat /proc/{{ status.broker.pid }}/stat' },
      ],
      { wrapper: ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', python, NON_REAPING_INIT] },
    );
    // The broker of this run lives inside the namespace, whose pid 1 is the non-reaping init.
    expect(run.task('status').result.broker.pid, output(run)).toBeGreaterThan(1);
    const stop = run.task('stop');
    expect(stop.status, output(run)).toBe('ok');
    expect(stop.result).toMatchObject({ changed: true, running: false, closed: 1 });
    // Proof that the case was real: the stopped broker is still there as a zombie, never reaped.
    const stat = run.task('broker state').result.stdout as string;
    expect(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3), `broker stat: ${stat}`).toBe('Z');
    expect(run.exitCode, output(run)).toBe(0);
    await s.expectNothingLeft();
  });
});
