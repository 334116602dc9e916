/**
 * Broker acceptance: 500 sequential pooled calls in one playbook run on one
 * server (its own file so that it runs beside the other broker tests).
 */
import { afterEach, describe, expect, test } from 'vitest';
import { everythingServer } from './harness';
import { countEvents, loopItems, output, Scenario, TOOL } from './broker-helpers';

let scenario: Scenario | undefined;
afterEach(() => {
  scenario?.cleanup();
  scenario = undefined;
});

describe('broker pooling, long run', () => {
  test('500 sequential pooled calls: no failure, one server', async () => {
    const s = (scenario = new Scenario());
    const run = await s.play(
      [
        {
          name: 'echo 500 times',
          loop: '{{ range(500) | list }}',
          [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'call {{ item }}' }, expected_result: 'Echo: call {{ item }}' },
        },
      ],
      { timeoutMs: 600_000 },
    );
    expect(run.exitCode, output(run)).toBe(0);
    const items = loopItems(run, 'echo 500 times');
    expect(items).toHaveLength(500);
    const failed = items.filter((i) => i.failed || !i.test_passed);
    expect(failed.map((i) => i.msg), output(run)).toEqual([]);
    const pids = new Set(items.map((i) => i.connection.server_pid));
    expect([...pids]).toHaveLength(1);
    expect(items[0].connection.reused).toBe(false);
    expect(items.slice(1).every((i) => i.connection.reused && !i.connection.reconnected)).toBe(true);
    expect(countEvents(s.dir, 'server started'), output(run)).toBe(1);
    expect(countEvents(s.dir, 'broker started')).toBe(1);
    expect(items[499].connection.session_requests).toBe(500);

    await s.stopWithModule();
    await s.expectNothingLeft();
  }, 900_000);
});
