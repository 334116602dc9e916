/**
 * Broker acceptance: lifecycle. connection_timeout closes idle servers, the
 * broker exits by itself once its pool is empty, and mcp_broker status /
 * absent / stopped behave (idempotence, no process left, wrappers included).
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { EVERYTHING_JS, everythingServer, NODE } from './harness';
import {
  BROKER,
  brokerLog,
  brokerProcesses,
  cmdline,
  countEvents,
  everythingProcesses,
  output,
  processAlive,
  readPidFile,
  Scenario,
  TOOL,
  waitUntil,
} from './broker-helpers';

let scenario: Scenario | undefined;
afterEach(() => {
  scenario?.cleanup();
  scenario = undefined;
});

const echoOn = (name: string, server: object, extra: Record<string, unknown> = {}) => ({
  name,
  [TOOL]: { ...server, tool_name: 'echo', tool_arguments: { message: name }, expected_result: `Echo: ${name}`, ...extra },
  register: name.replace(/\W/g, '_'),
});

describe('broker lifecycle', () => {
  test('connection_timeout closes an idle server; a longer one stays', async () => {
    const s = (scenario = new Scenario());
    const run = await s.play([
      echoOn('short', { ...everythingServer, server_env: { WHICH: 'short' } }, { connection_timeout: 2 }),
      echoOn('long', { ...everythingServer, server_env: { WHICH: 'long' } }, { connection_timeout: 300 }),
    ]);
    expect(run.exitCode, output(run)).toBe(0);
    const short = run.task('short').result.connection.server_pid;
    const long = run.task('long').result.connection.server_pid;
    expect(short).not.toBe(long);

    expect(await waitUntil(() => !processAlive(short), 15_000), brokerLog(s.dir)).toBe(true);
    expect(processAlive(long)).toBe(true);
    expect(countEvents(s.dir, 'idle timeout')).toBe(1);
    const broker = readPidFile(s.dir)!;
    expect(processAlive(broker)).toBe(true);

    const stop = await s.stopWithModule();
    expect(stop.changed).toBe(true);
    expect(stop.closed).toBe(1);
    await s.expectNothingLeft();
  });

  test('the broker exits by itself once its pool has been empty for MCP_AUDIT_BROKER_IDLE_EXIT seconds', async () => {
    const s = (scenario = new Scenario());
    const run = await s.play([echoOn('only', everythingServer, { connection_timeout: 2 })], { env: { MCP_AUDIT_BROKER_IDLE_EXIT: '2' } });
    expect(run.exitCode, output(run)).toBe(0);
    const server = run.task('only').result.connection.server_pid;
    const broker = readPidFile(s.dir)!;
    expect(broker).toBeGreaterThan(0);

    expect(await waitUntil(() => !processAlive(server), 15_000), brokerLog(s.dir)).toBe(true);
    expect(await waitUntil(() => !processAlive(broker), 20_000), brokerLog(s.dir)).toBe(true);
    expect(brokerLog(s.dir)).toMatch(/broker stopped reason="pool empty"/);
    expect(existsSync(s.files.socket)).toBe(false);
    expect(existsSync(s.files.pid)).toBe(false);
    await s.expectNothingLeft(5_000);
  });

  test('mcp_broker: status shape, absent, stopped (idempotent) leave no broker, server or wrapper', async () => {
    const s = (scenario = new Scenario());
    const execWrapper = { server_command: 'sh', server_args: ['-c', `exec ${NODE} ${EVERYTHING_JS}`] };
    const shWrapper = { server_command: 'sh', server_args: ['-c', `${NODE} ${EVERYTHING_JS}`] };
    const unused = { ...everythingServer, server_env: { NEVER_POOLED: '1' } };
    const run = await s.play([
      echoOn('plain', everythingServer),
      echoOn('exec wrapper', execWrapper),
      echoOn('sh wrapper', shWrapper),
      { name: 'status', [BROKER]: { state: 'status' } },
      { name: 'absent unpooled', [BROKER]: { state: 'absent', ...unused } },
      { name: 'absent pooled', [BROKER]: { state: 'absent', ...everythingServer } },
      { name: 'absent pooled again', [BROKER]: { state: 'absent', ...everythingServer } },
      { name: 'status after absent', [BROKER]: { state: 'status' } },
    ]);
    expect(run.exitCode, output(run)).toBe(0);

    const status = run.task('status').result;
    expect(status.changed).toBe(false);
    expect(status.running).toBe(true);
    expect(status.broker).toMatchObject({ pid: readPidFile(s.dir), socket: s.files.socket, log: s.files.log });
    expect(typeof status.broker.version).toBe('string');
    expect(typeof status.broker.uptime_s).toBe('number');
    expect(status.connections).toHaveLength(3);
    const pids = ['plain', 'exec wrapper', 'sh wrapper'].map((t) => run.task(t).result.connection);
    for (const c of status.connections) {
      expect(c).toMatchObject({ transport: 'stdio', state: 'ready', env_keys: [] });
      expect(c.key).toMatch(/^[0-9a-f]{12}$/);
      expect(typeof c.command).toBe('string');
      expect(c.requests).toBe(1);
    }
    expect(new Set(status.connections.map((c: any) => c.server_pid))).toEqual(new Set(pids.map((c) => c.server_pid)));
    expect(new Set(status.connections.map((c: any) => c.key))).toEqual(new Set(pids.map((c) => c.key)));

    // absent: a server that is not pooled changes nothing; a pooled one is closed and its process gone.
    const unpooled = run.task('absent unpooled').result;
    expect(unpooled.changed).toBe(false);
    expect(unpooled.closed).toBe(0);
    const absent = run.task('absent pooled').result;
    expect(absent.changed, output(run)).toBe(true);
    expect(absent.closed).toBe(1);
    expect(absent.connections).toHaveLength(2);
    expect(await waitUntil(() => !processAlive(pids[0].server_pid), 10_000)).toBe(true);
    expect(run.task('absent pooled again').result.changed).toBe(false);
    expect(run.task('status after absent').result.connections).toHaveLength(2);

    // Both wrappers are still there; without exec, sh is the server's parent.
    const shPid = pids[2].server_pid;
    expect(cmdline(shPid)).toMatch(/^sh -c /);
    const live = everythingProcesses(s.runId);
    expect(live.some((p) => p.pid === pids[1].server_pid), JSON.stringify(live)).toBe(true);
    const shChild = live.find((p) => p.pid !== pids[1].server_pid && p.pid !== shPid && p.cmdline.startsWith(NODE));
    expect(shChild, JSON.stringify(live)).toBeTruthy();
    expect(brokerProcesses(s.runId)).toHaveLength(1);

    // stopped, twice, and a status afterwards (which must not start a broker).
    const stop = await s.play([
      { name: 'stop', [BROKER]: { state: 'stopped' } },
      { name: 'stop again', [BROKER]: { state: 'stopped' } },
      { name: 'status when stopped', [BROKER]: { state: 'status' } },
    ]);
    expect(stop.exitCode, output(stop)).toBe(0);
    const first = stop.task('stop').result;
    expect(first).toMatchObject({ changed: true, running: false, closed: 2, connections: [] });
    expect(first.broker.pid).toBe(status.broker.pid);
    expect(stop.task('stop again').result).toMatchObject({ changed: false, running: false, closed: 0 });
    expect(stop.task('status when stopped').result).toMatchObject({ changed: false, running: false, connections: [] });

    // mcp_broker waits for the broker to exit; the servers and wrappers are gone with it.
    expect(processAlive(status.broker.pid)).toBe(false);
    await s.expectNothingLeft();
    for (const pid of [pids[1].server_pid, shPid, shChild!.pid]) expect(processAlive(pid), `${pid} survived`).toBe(false);
    expect(existsSync(s.files.socket)).toBe(false);
    expect(existsSync(s.files.pid)).toBe(false);
  });

  test('mcp_broker state=stopped in check mode changes nothing', async () => {
    const s = (scenario = new Scenario());
    const run = await s.play([echoOn('warm', everythingServer), { name: 'stop (check)', [BROKER]: { state: 'stopped' }, check_mode: true }]);
    expect(run.exitCode, output(run)).toBe(0);
    const r = run.task('stop (check)').result;
    expect(r).toMatchObject({ changed: true, running: true, closed: 1 });
    expect(processAlive(r.broker.pid)).toBe(true);
    expect(processAlive(run.task('warm').result.connection.server_pid)).toBe(true);

    await s.stopWithModule();
    await s.expectNothingLeft();
  });
});
