/**
 * Broker acceptance: faults made real. kill -9 the server between tasks and
 * during a call, kill -9 the broker, stale socket and pid files, modules
 * racing to start the broker.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { EVERYTHING_JS, everythingServer, NODE, scratchDir, type PlaybookRun } from './harness';
import {
  BROKER,
  brokerCall,
  brokerLog,
  brokerProcesses,
  cmdline,
  countEvents,
  everythingProcesses,
  logEvents,
  output,
  processAlive,
  readPidFile,
  runModuleDirect,
  scenarioPerTest,
  sleep,
  TOOL,
  waitUntil,
} from './broker-helpers';

const newScenario = scenarioPerTest();

const echo = (name: string, message: string, extra: Record<string, unknown> = {}) => ({
  name,
  [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message }, expected_result: `Echo: ${message}` },
  ...extra,
});

/** Live (non-zombie) processes whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(pgrp) === pgid && state !== 'Z';
      } catch {
        return false;
      }
    });
}

/** echo, a 5 s tool call (the victim of a kill), echo. */
const LONG_CALL_BETWEEN_ECHOES = [
  echo('before', 'one', { register: 'before' }),
  {
    name: 'long call',
    [TOOL]: { ...everythingServer, tool_name: 'trigger-long-running-operation', tool_arguments: { duration: 5, steps: 5 } },
    ignore_errors: true,
  },
  echo('after', 'two'),
];

describe('broker faults', () => {
  test('server killed -9 between tasks: the next task gets a new server and says reconnected', async () => {
    const s = newScenario();
    const run = await s.play([
      echo('before', 'one', { register: 'before' }),
      { name: 'kill -9 the pooled server', 'ansible.builtin.command': 'kill -9 {{ before.connection.server_pid }}' },
      echo('after', 'two'),
      echo('again', 'three'),
    ]);
    expect(run.exitCode, output(run)).toBe(0);
    const before = run.task('before').result.connection;
    const after = run.task('after').result;
    const again = run.task('again').result.connection;
    expect(after.test_passed, output(run)).toBe(true);
    expect(after.connection.reconnected, output(run)).toBe(true);
    expect(after.connection.reused).toBe(false);
    expect(after.connection.server_pid).not.toBe(before.server_pid);
    expect(after.connection.key).toBe(before.key);
    // The replacement is pooled in turn.
    expect(again.reused).toBe(true);
    expect(again.server_pid).toBe(after.connection.server_pid);
    expect(processAlive(before.server_pid)).toBe(false);
    expect(countEvents(s.dir, 'server started'), output(run)).toBe(2);
    expect(countEvents(s.dir, 'broker started')).toBe(1);

    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  test('server killed -9 during a call: that task fails clearly and is not replayed; the next succeeds', async () => {
    const s = newScenario();
    const playbook = s.play(LONG_CALL_BETWEEN_ECHOES);

    // Watch the pool through the broker's own status: the long call is in flight once
    // the entry has served one request (the echo) and has one running.
    let victim: number | undefined;
    const deadline = Date.now() + 120_000;
    let done = false;
    void playbook.finally(() => (done = true));
    while (!victim && !done && Date.now() < deadline) {
      try {
        const reply = await brokerCall(s.files.socket, 'status');
        const entry = reply.ok ? reply.result.connections[0] : undefined;
        if (entry && entry.requests === 1 && entry.in_flight === 1 && entry.server_pid) victim = entry.server_pid;
      } catch {
        /* no broker yet */
      }
      if (!victim) await sleep(100);
    }
    expect(victim, 'the long call was never seen in flight').toBeTruthy();
    await sleep(1000); // well inside the 5 s the tool takes
    process.kill(victim!, 'SIGKILL');

    const run: PlaybookRun = await playbook;
    const long = run.task('long call');
    expect(long.status, output(run)).toBe('failed');
    expect(long.result.msg, output(run)).toMatch(/SIGKILL/);
    expect(long.result.msg).toMatch(/trigger-long-running-operation|tools\/call/);
    expect(long.result.server_exit).toMatchObject({ signal: 'SIGKILL' });
    const before = run.task('before').result.connection;
    expect(before.server_pid).toBe(victim);
    const after = run.task('after').result;
    expect(after.test_passed, output(run)).toBe(true);
    expect(after.connection.reconnected).toBe(true);
    expect(after.connection.reused).toBe(false);
    expect(after.connection.server_pid).not.toBe(victim);
    // Not replayed: the only new server is the one the next task started.
    expect(countEvents(s.dir, 'server started'), output(run)).toBe(2);

    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  test('broker killed -9: the next task starts a new broker over the stale socket and pid file', async () => {
    const s = newScenario();
    const run = await s.play([
      echo('before', 'one', { register: 'before' }),
      { name: 'status before', [BROKER]: { state: 'status' }, register: 'st' },
      { name: 'kill -9 the broker', 'ansible.builtin.command': 'kill -9 {{ st.broker.pid }}' },
      { name: 'stale files', 'ansible.builtin.command': `ls -a ${s.dir}` },
      echo('after', 'two'),
      { name: 'status after', [BROKER]: { state: 'status' } },
    ]);
    expect(run.exitCode, output(run)).toBe(0);
    const socketName = s.files.socket.split('/').pop()!;
    const pidName = s.files.pid.split('/').pop()!;
    const stale = run.task('stale files').result.stdout_lines as string[];
    expect(stale, output(run)).toContain(socketName);
    expect(stale).toContain(pidName);

    const first = run.task('status before').result.broker.pid;
    const second = run.task('status after').result.broker.pid;
    expect(second).not.toBe(first);
    expect(processAlive(first)).toBe(false);
    expect(readPidFile(s.dir)).toBe(second);
    const after = run.task('after').result;
    expect(after.test_passed, output(run)).toBe(true);
    expect(after.connection.reused).toBe(false);
    expect(after.connection.server_pid).not.toBe(run.task('before').result.connection.server_pid);
    expect(logEvents(s.dir).filter((e) => e.event === 'broker started').map((e) => e.pid)).toEqual([first, second]);
    // The dead broker's server does not outlive it.
    const orphan = run.task('before').result.connection.server_pid;
    expect(await waitUntil(() => !processAlive(orphan), 10_000), brokerLog(s.dir)).toBe(true);

    // Again from outside the playbook, and this time the pid file names a live process
    // that is not a broker (a recycled pid).
    process.kill(second, 'SIGKILL');
    expect(await waitUntil(() => !processAlive(second), 10_000)).toBe(true);
    expect(statSync(s.files.socket).isSocket()).toBe(true);
    writeFileSync(s.files.pid, `${process.pid}\n`);
    const next = await s.play([echo('after recycled pid', 'three'), { name: 'status', [BROKER]: { state: 'status' } }]);
    expect(next.exitCode, output(next)).toBe(0);
    const third = next.task('status').result.broker.pid;
    expect([first, second, process.pid]).not.toContain(third);
    expect(readPidFile(s.dir)).toBe(third);
    expect(countEvents(s.dir, 'broker started')).toBe(3);
    expect(brokerProcesses(s.runId).map((p) => p.pid)).toEqual([third]);

    await s.stopWithModule();
    await s.expectNothingLeft();
    expect(existsSync(s.files.socket)).toBe(false);
    expect(existsSync(s.files.pid)).toBe(false);
  });

  test('broker killed -9: the next broker stops the server group the dead one left (a child that ignores stdin EOF)', async () => {
    const s = newScenario();
    // The background sleep shares the server's process group and outlives stdin EOF: only a group kill ends it.
    const server = { server_command: 'sh', server_args: ['-c', `sleep 300 & exec "${NODE}" "${EVERYTHING_JS}"`] };
    const first = await s.play([
      { name: 'call', [TOOL]: { ...server, tool_name: 'echo', tool_arguments: { message: 'x' } } },
      { name: 'status', [BROKER]: { state: 'status' } },
    ]);
    expect(first.exitCode, output(first)).toBe(0);
    const group = first.task('call').result.connection.server_pid as number;
    const sleeper = groupMembers(group).find((pid) => pid !== group && cmdline(pid).startsWith('sleep 300'));
    expect(sleeper, `members of group ${group}: ${groupMembers(group).map(cmdline).join(' | ')}`).toBeDefined();

    process.kill(first.task('status').result.broker.pid, 'SIGKILL');
    // The node server sees stdin EOF and exits; the sleeper does not.
    expect(await waitUntil(() => !processAlive(group), 10_000)).toBe(true);
    await sleep(500);
    expect(processAlive(sleeper!)).toBe(true);

    const next = await s.play([echo('after', 'two')]);
    expect(next.exitCode, output(next)).toBe(0);
    expect(await waitUntil(() => !processAlive(sleeper!), 10_000), brokerLog(s.dir)).toBe(true);
    expect(logEvents(s.dir).some((e) => e.event === 'reaped orphan server group'), brokerLog(s.dir)).toBe(true);
    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  test('broker killed -9 during a call: that task fails clearly, the next starts a new broker; the old server goes', async () => {
    const s = newScenario();
    const playbook = s.play(LONG_CALL_BETWEEN_ECHOES);
    let broker: number | undefined;
    let server: number | undefined;
    let done = false;
    void playbook.finally(() => (done = true));
    const deadline = Date.now() + 120_000;
    while (!broker && !done && Date.now() < deadline) {
      try {
        const reply = await brokerCall(s.files.socket, 'status');
        const entry = reply.ok ? reply.result.connections[0] : undefined;
        if (entry && entry.requests === 1 && entry.in_flight === 1) [broker, server] = [reply.result.pid, entry.server_pid];
      } catch {
        /* no broker yet */
      }
      if (!broker) await sleep(100);
    }
    expect(broker, 'the long call was never seen in flight').toBeTruthy();
    await sleep(1000);
    process.kill(broker!, 'SIGKILL');

    const run: PlaybookRun = await playbook;
    const long = run.task('long call');
    expect(long.status, output(run)).toBe('failed');
    expect(long.result.msg, output(run)).toMatch(/broker exited before answering/);
    const after = run.task('after').result;
    expect(after.test_passed, output(run)).toBe(true);
    expect(after.connection.server_pid).not.toBe(server);
    expect(logEvents(s.dir).filter((e) => e.event === 'broker started')).toHaveLength(2);
    expect(readPidFile(s.dir)).not.toBe(broker);
    // The dead broker's server does not stay behind.
    expect(await waitUntil(() => !processAlive(server!), 10_000), brokerLog(s.dir)).toBe(true);

    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  test('max_connection_retries: a server that fails its first start is retried; one that always fails leaves no pool entry', async () => {
    const s = newScenario();
    const work = scratchDir('mcp-audit-e2e-retry-');
    const flag = `${work}/started-once`;
    const flaky = {
      server_command: 'sh',
      server_args: ['-c', `if [ -e ${flag} ]; then exec ${NODE} ${EVERYTHING_JS}; else touch ${flag}; echo first start fails >&2; exit 1; fi`],
    };
    const broken = { server_command: 'sh', server_args: ['-c', 'echo always broken >&2; exit 3'] };
    const run = await s.play([
      { name: 'flaky', [TOOL]: { ...flaky, tool_name: 'echo', tool_arguments: { message: 'x' }, expected_result: 'Echo: x' } },
      { name: 'flaky again', [TOOL]: { ...flaky, tool_name: 'echo', tool_arguments: { message: 'y' }, expected_result: 'Echo: y' } },
      { name: 'broken', [TOOL]: { ...broken, tool_name: 'echo', max_connection_retries: 2 }, ignore_errors: true },
      { name: 'status', [BROKER]: { state: 'status' } },
    ]);
    rmSync(work, { recursive: true, force: true });
    expect(run.exitCode, output(run)).toBe(0);
    expect(run.task('flaky').result.connection).toMatchObject({ pooled: true, reused: false, attempts: 2 });
    expect(run.task('flaky again').result.connection).toMatchObject({ reused: true, attempts: 0 });
    const broken_ = run.task('broken');
    expect(broken_.status).toBe('failed');
    expect(broken_.result.msg, output(run)).toMatch(/after 3 attempts/);
    expect(broken_.result.msg).toMatch(/always broken/);
    // Only the flaky (now healthy) server is pooled; the broken one left nothing behind.
    const connections = run.task('status').result.connections;
    expect(connections, JSON.stringify(connections)).toHaveLength(1);
    expect(connections[0].server_pid).toBe(run.task('flaky').result.connection.server_pid);
    expect(countEvents(s.dir, 'connect retry')).toBe(3); // one for flaky, two for broken

    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  test('modules starting the broker at the same time end with one broker', async () => {
    const cwd = scratchDir('mcp-audit-e2e-race-');
    for (let round = 0; round < 3; round++) {
      const s = newScenario();
      const env = { MCP_AUDIT_BROKER_DIR: s.dir, MCP_AUDIT_TEST_RUN: s.runId };
      const runs = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          runModuleDirect('mcp_test_tool', { ...everythingServer, tool_name: 'echo', tool_arguments: { message: `racer ${i}` }, expected_result: `Echo: racer ${i}` }, env, cwd),
        ),
      );
      const why = () => `${JSON.stringify(runs.map((r) => ({ exit: r.exitCode, msg: r.result.msg, stderr: r.stderr })), null, 1)}\n--- broker.log\n${brokerLog(s.dir)}`;
      expect(runs.map((r) => r.result.test_passed), why()).toEqual(Array(6).fill(true));
      expect(countEvents(s.dir, 'broker started'), why()).toBe(1);
      const brokers = brokerProcesses(s.runId);
      expect(brokers.map((p) => p.pid), why()).toEqual([readPidFile(s.dir)]);
      expect(new Set(runs.map((r) => r.result.connection.server_pid)).size, why()).toBe(1);
      expect(countEvents(s.dir, 'server started')).toBe(1);
      expect(everythingProcesses(s.runId)).toHaveLength(1);

      await s.stopWithModule();
      await s.expectNothingLeft();
    }
    rmSync(cwd, { recursive: true, force: true });
  });
});
