/**
 * Broker acceptance: pooling. Real ansible-playbook against the installed
 * collection, real server-everything, a real broker on a unix socket.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { ACTION_GROUP, everythingServer, scratchDir } from './harness';
import { BROKER, countEvents, logEvents, loopItems, output, readPidFile, Scenario, TOOL } from './broker-helpers';

let scenario: Scenario | undefined;
afterEach(() => {
  scenario?.cleanup();
  scenario = undefined;
});

describe('broker pooling', () => {
  test('the seed scenario: echo then get-sum, pooled, pass on one server', async () => {
    const s = (scenario = new Scenario());
    const run = await s.play([
      { name: 'echo', [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'hello' }, expected_result: 'Echo: hello' }, register: 'first' },
      { name: 'get-sum', [TOOL]: { ...everythingServer, tool_name: 'get-sum', tool_arguments: { a: 2, b: 3 }, expected_result: 'The sum of 2 and 3 is 5.' } },
    ]);
    expect(run.exitCode, output(run)).toBe(0);
    const echo = run.task('echo').result;
    const sum = run.task('get-sum').result;
    for (const r of [echo, sum]) {
      expect(r.test_passed, output(run)).toBe(true);
      expect(r.status).toBe('passed');
      expect(r.connection.pooled).toBe(true);
    }
    expect(echo.connection.reused).toBe(false);
    expect(sum.connection.reused).toBe(true);
    expect(sum.connection.reconnected).toBe(false);
    expect(sum.connection.server_pid).toBe(echo.connection.server_pid);
    expect(sum.connection.key).toBe(echo.connection.key);
    expect(countEvents(s.dir, 'server started'), output(run)).toBe(1);
    expect(countEvents(s.dir, 'broker started')).toBe(1);

    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  test('10 hosts, forks=10, 20 calls each: one broker, one server', async () => {
    const s = (scenario = new Scenario());
    const work = scratchDir('mcp-audit-e2e-inv-');
    const inventory = join(work, 'hosts.ini');
    writeFileSync(inventory, ['[mcp_hosts]', ...Array.from({ length: 10 }, (_, i) => `host${i + 1} ansible_connection=local ansible_python_interpreter=/usr/bin/python3`), ''].join('\n'));
    const playbook = stringify(
      [
        {
          name: 'ten hosts share one pooled server',
          hosts: 'mcp_hosts',
          gather_facts: false,
          module_defaults: { [ACTION_GROUP]: { connection_reuse: true } },
          tasks: [
            {
              name: 'echo 20 times',
              loop: '{{ range(20) | list }}',
              [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: '{{ inventory_hostname }} {{ item }}' }, expected_result: 'Echo: {{ inventory_hostname }} {{ item }}' },
            },
            { name: 'pool status', run_once: true, [BROKER]: { state: 'status' } },
          ],
        },
      ],
      { lineWidth: 0 },
    );
    const run = await s.play(playbook, { extraArgs: ['-i', inventory, '-f', '10'], timeoutMs: 600_000 });
    rmSync(work, { recursive: true, force: true });
    expect(run.exitCode, output(run)).toBe(0);

    const all: Record<string, any>[] = [];
    for (let h = 1; h <= 10; h++) {
      const items = loopItems(run, 'echo 20 times', `host${h}`);
      expect(items).toHaveLength(20);
      all.push(...items);
    }
    expect(all.filter((i) => i.failed || !i.test_passed).map((i) => i.msg), output(run)).toEqual([]);
    expect(new Set(all.map((i) => i.connection.server_pid)).size, output(run)).toBe(1);
    expect(new Set(all.map((i) => i.connection.key)).size).toBe(1);
    expect(countEvents(s.dir, 'server started'), output(run)).toBe(1);

    // One broker: one start in the log, and the pid file names the broker that served the status task.
    const started = logEvents(s.dir).filter((e) => e.event === 'broker started');
    expect(started, output(run)).toHaveLength(1);
    const status = run.task('pool status').result;
    expect(status.broker.pid).toBe(started[0].pid);
    expect(readPidFile(s.dir)).toBe(started[0].pid);
    expect(new Set(logEvents(s.dir).map((e) => e.pid))).toEqual(new Set([started[0].pid]));
    expect(status.connections).toHaveLength(1);
    expect(status.connections[0].requests).toBe(200);

    await s.stopWithModule();
    await s.expectNothingLeft();
  }, 900_000);
});
