/**
 * Every dead or wedged pooled session is noticed and replaced, with the
 * hostile test server (tests/helpers/hostile_server.mjs): a server that exits
 * while a child it forked keeps its stdout open, and one that closes its
 * stdout but keeps running. The call in flight fails with what happened
 * (exit code and stderr, or the closed stdout), not a timeout; `mcp_broker
 * status` says the session is dead; the next task gets a new server.
 */
import { describe, expect, test } from 'vitest';
import { hostileServer, leftoverProcesses } from './harness';
import { BROKER, output, processAlive, scenarioPerTest, TOOL, waitUntil } from './broker-helpers';

const newScenario = scenarioPerTest();

/** warm call, the quirk (30 s timeout: a timeout would show), status, a later task on the same definition. */
function playbook(mode: string) {
  const server = { ...hostileServer(mode), timeout: 30 };
  return [
    { name: 'warm', [TOOL]: { ...server, tool_name: 'echo', tool_arguments: { message: 'one' }, expected_result: 'Echo: one' }, register: 'warm' },
    { name: 'quirk', ignore_errors: true, [TOOL]: { ...server, tool_name: 'quirk' } },
    { name: 'status', [BROKER]: { state: 'status' } },
    { name: 'next', [TOOL]: { ...server, tool_name: 'echo', tool_arguments: { message: 'two' }, expected_result: 'Echo: two' } },
    { name: 'status again', [BROKER]: { state: 'status' } },
  ];
}

describe('dead pooled sessions', () => {
  test.each([
    ['exit-with-child', /^the MCP server exited with code 7 during tools\/call\. Server stderr \(last lines\): hostile: exiting with code 7$/],
    ['close-stdout', /^the MCP server closed its stdout while still running during tools\/call\. Server stderr \(last lines\): hostile: closing stdout, staying alive$/],
  ])('%s: the call fails with what happened, status says dead, the next task gets a new server', async (mode, message) => {
    const s = newScenario();
    const run = await s.play(playbook(mode));
    expect(run.exitCode, output(run)).toBe(0);

    const quirk = run.task('quirk');
    expect(quirk.status, output(run)).toBe('failed');
    expect(quirk.result.msg, output(run)).toMatch(message);
    // Told at once, not after the 30 s timeout.
    expect(quirk.result.execution_time, output(run)).toBeLessThan(20);

    const [entry] = run.task('status').result.connections;
    expect(entry.state, output(run)).toBe('dead');
    const first = run.task('warm').result.connection;
    expect(entry.server_pid).toBe(first.server_pid);

    const next = run.task('next').result;
    expect(next.test_passed, output(run)).toBe(true);
    expect(next.connection).toMatchObject({ reused: false, reconnected: true, key: first.key });
    expect(next.connection.server_pid).not.toBe(first.server_pid);
    expect(run.task('status again').result.connections).toMatchObject([{ state: 'ready', server_pid: next.connection.server_pid }]);
    // The dead server and the child it forked are stopped when the death is noticed, not at the broker's exit.
    expect(processAlive(first.server_pid)).toBe(false);
    const forked = () => leftoverProcesses(s.runId).filter((p) => p.cmdline.includes('setInterval'));
    expect(await waitUntil(() => forked().length === 0, 5000), JSON.stringify(forked())).toBe(true);

    await s.stopWithModule();
    await s.expectNothingLeft();
  });
});
