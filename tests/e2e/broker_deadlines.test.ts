/**
 * Deadlines that follow the work: each MCP request has the task's `timeout`;
 * an operation of many requests (a suite, pages of a list) lasts as long as
 * they take, with no overall cap; a frozen broker (SIGSTOP) fails the task
 * within about `timeout` + 5 s (the broker sends heartbeats while it works);
 * a request whose task has given up is never sent to a server afterwards;
 * option limits are checked up front.
 *
 * Slow and recording servers are tests/helpers/paged_server.mjs with
 * PAGED_DELAY_MS / PAGED_START_DELAY_MS / PAGED_SERVER_LOG; the rest is
 * server-everything. Timing bounds are generous (a shared, noisy machine):
 * they tell "about timeout + 5 s" from "half a minute".
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { everythingServer, FQCN, NODE, scratchDir } from './harness';
import { BROKER, countEvents, logEvents, output, readPidFile, runModuleDirect, Scenario, sleep, TOOL, waitUntil } from './broker-helpers';
import { INFO, PAGED_SERVER_JS, SUITE } from './modules-helpers';

const LLM = `${FQCN}.mcp_test_llm_integration`;
const scratch = scratchDir();
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * The paged test server, slowed down and/or recording what it is asked. Its
 * settings go through `env` on the command line: server_env values are
 * secrets, and a secret "150" would be masked wherever 150 appears in a result.
 */
function pagedServer(env: Record<string, string | number>) {
  const log = join(scratch, `paged-${Math.random().toString(36).slice(2)}.jsonl`);
  const settings = Object.entries({ PAGED_SERVER_LOG: log, ...env }).map(([k, v]) => `${k}=${v}`);
  const server = { server_command: 'env', server_args: [...settings, NODE, PAGED_SERVER_JS], server_cwd: scratch };
  return {
    server,
    /** What the server was asked: `{list, offset}` per page, `{call}` per tool call. */
    entries(): Record<string, unknown>[] {
      if (!existsSync(log)) return [];
      return readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
  };
}

const calls = (entries: Record<string, unknown>[]) => entries.filter((e) => e.call).map((e) => e.call);

/**
 * 50 requests of 0.8 s with timeout 2 and no retries: 40 s of work. The old
 * fixed cap was timeout × (retries + 3) + 30 s = 36 s.
 */
const SLOW = { PAGED_DELAY_MS: 800 };
const MANY = 50;
const slowSettings = { timeout: 2, max_connection_retries: 0 };

describe('an operation lasts as long as its requests take', () => {
  test.concurrent(`a suite of ${MANY} tests of 0.8 s each (timeout 2) passes`, { timeout: 240_000 }, async () => {
    const s = new Scenario();
    try {
      const paged = pagedServer(SLOW);
      const tests = Array.from({ length: MANY }, (_, i) => ({ type: 'tool', name: 'page_tool_1', arguments: { word: `w${i}` }, expected_result: `page_tool_1 got w${i}` }));
      const run = await s.play([{ name: 'suite', [SUITE]: { ...paged.server, ...slowSettings, tests } }]);
      const t = run.task('suite');
      expect(t.status, output(run)).toBe('ok');
      expect(t.result.summary).toMatchObject({ total_tests: MANY, passed: MANY, failed: 0, errors: 0 });
      expect(t.result.execution_time).toBeGreaterThan(36); // longer than the old cap, and it still passed
      expect(calls(paged.entries())).toHaveLength(MANY);
      await s.stopWithModule();
      await s.expectNothingLeft();
    } finally {
      s.cleanup();
    }
  });

  test.concurrent(`paging through ${MANY} slow pages of tools (timeout 2) lists them all`, { timeout: 240_000 }, async () => {
    const s = new Scenario();
    try {
      const paged = pagedServer({ ...SLOW, PAGED_TOOLS: MANY * 3, PAGED_PAGE_SIZE: 3 });
      const run = await s.play([{ name: 'info', [INFO]: { ...paged.server, ...slowSettings } }]);
      const t = run.task('info');
      expect(t.status, output(run)).toBe('ok');
      expect(t.result.counts.tools).toBe(MANY * 3);
      expect(t.result.tools.at(-1).name).toBe(`page_tool_${MANY * 3}`);
      expect(t.result.execution_time).toBeGreaterThan(36);
      expect(paged.entries().filter((e) => e.list === 'tools')).toHaveLength(MANY);
      await s.stopWithModule();
      await s.expectNothingLeft();
    } finally {
      s.cleanup();
    }
  });
});

describe('a task that gives up is never served afterwards', () => {
  test('a frozen broker (SIGSTOP) fails a timeout-1 task within about 6 s; after SIGCONT the call is not made', async () => {
    const s = new Scenario();
    try {
      const paged = pagedServer({});
      const call = (name: string, tool: string, extra: Record<string, unknown> = {}) => ({
        name,
        [TOOL]: { ...paged.server, timeout: 1, tool_name: tool, tool_arguments: { word: name }, expected_result: `${tool} got ${name}` },
        ...extra,
      });
      const warm = await s.play([call('warm', 'page_tool_1')]);
      expect(warm.task('warm').status, output(warm)).toBe('ok');
      const broker = readPidFile(s.dir)!;

      process.kill(broker, 'SIGSTOP');
      let frozen;
      try {
        frozen = await s.play([call('while frozen', 'page_tool_2', { ignore_errors: true })]);
      } finally {
        process.kill(broker, 'SIGCONT');
      }
      const t = frozen.task('while frozen');
      expect(t.status, output(frozen)).toBe('failed');
      expect(t.result.msg).toMatch(new RegExp(`^the broker \\(pid ${broker}\\) went silent: no answer and no heartbeat \\(it sends one every 1 s while it works\\) for 6 s\\.`));
      expect(t.result.msg).toContain('the broker will not send its request to the server afterwards');
      expect(t.result.execution_time).toBeGreaterThanOrEqual(5.5);
      expect(t.result.execution_time).toBeLessThan(20);

      // The broker, running again, drops the request it finds from a task that gave up.
      expect(await waitUntil(() => countEvents(s.dir, 'task gave up') === 1, 10_000), logEvents(s.dir).map((e) => e.line).join('\n')).toBe(true);
      await sleep(1000);
      expect(calls(paged.entries())).toEqual(['page_tool_1']);

      // And it goes on serving.
      const after = await s.play([call('after', 'page_tool_3')]);
      expect(after.task('after').status, output(after)).toBe('ok');
      expect(readPidFile(s.dir)).toBe(broker);
      expect(calls(paged.entries())).toEqual(['page_tool_1', 'page_tool_3']);
      await s.stopWithModule();
      await s.expectNothingLeft();
    } finally {
      s.cleanup();
    }
  });

  test('a module killed while its request waits for a slow server start: the server is never asked', async () => {
    const s = new Scenario();
    try {
      const paged = pagedServer({ PAGED_START_DELAY_MS: 4000 });
      const env = { MCP_AUDIT_BROKER_DIR: s.dir, MCP_AUDIT_TEST_RUN: s.runId };
      const options = { ...paged.server, connection_reuse: true, timeout: 30, tool_name: 'page_tool_1', tool_arguments: { word: 'x' } };
      const killed = await runModuleDirect('mcp_test_tool', options, env, scratch, 1500);
      expect(killed.exitCode).toBeNull(); // SIGKILLed while waiting

      // The server comes up (its initialize was not the task's), but nothing is asked for the task that went away.
      expect(await waitUntil(() => countEvents(s.dir, 'server started') === 1, 20_000), logEvents(s.dir).map((e) => e.line).join('\n')).toBe(true);
      expect(await waitUntil(() => countEvents(s.dir, 'task gave up') === 1, 10_000)).toBe(true);
      expect(logEvents(s.dir).find((e) => e.event === 'task gave up')!.line).toContain('the module closed its connection to the broker');
      await sleep(1000);
      expect(paged.entries()).toEqual([]);
      await s.stopWithModule();
      await s.expectNothingLeft();
    } finally {
      s.cleanup();
    }
  });
});

describe('option limits', () => {
  test('timeouts and retries outside their range fail at once, saying the range', async () => {
    const s = new Scenario();
    try {
      const echo = (name: string, extra: Record<string, unknown>) => ({
        name,
        ignore_errors: true,
        [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'hi' }, ...extra },
      });
      const cases: [string, Record<string, unknown>, string][] = [
        ['timeout 3000000', { timeout: 3000000 }, 'value of timeout must be between 1 and 2147483, got: 3000000'],
        ['timeout 0', { timeout: 0 }, 'value of timeout must be between 1 and 2147483, got: 0'],
        ['timeout -5', { timeout: -5 }, 'value of timeout must be between 1 and 2147483, got: -5'],
        ['connection_timeout 3000000', { connection_timeout: 3000000 }, 'value of connection_timeout must be between 0 and 2147483, got: 3000000'],
        ['connection_timeout -1', { connection_timeout: -1 }, 'value of connection_timeout must be between 0 and 2147483, got: -1'],
        ['max_connection_retries -1', { max_connection_retries: -1 }, 'value of max_connection_retries must be at least 0, got: -1'],
      ];
      const run = await s.play([
        ...cases.map(([name, extra]) => echo(name, extra)),
        {
          name: 'llm_timeout 0',
          ignore_errors: true,
          check_mode: true,
          [LLM]: { ...everythingServer, test_prompt: 'hi', llm_provider: 'ollama', llm_model: 'm', llm_timeout: 0 },
        },
      ]);
      for (const [name, , msg] of [...cases, ['llm_timeout 0', {}, 'value of llm_timeout must be between 1 and 2147483, got: 0'] as const]) {
        const t = run.task(name);
        expect(t.status, `${name}\n${output(run)}`).toBe('failed');
        expect(t.result.msg, name).toBe(msg);
      }
      // Refused before any work: no broker, no server.
      expect(readPidFile(s.dir)).toBeUndefined();
      await s.expectNothingLeft();
    } finally {
      s.cleanup();
    }
  });

  test('connection_timeout 0 closes the server once its task is done; large timeouts (400000, the largest) work', async () => {
    const s = new Scenario();
    try {
      const echo = (name: string, extra: Record<string, unknown>) => ({
        name,
        [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: name }, expected_result: `Echo: ${name}`, ...extra },
      });
      const run = await s.play([
        echo('zero a', { connection_timeout: 0 }),
        echo('zero b', { connection_timeout: 0 }),
        { name: 'status after zero', [BROKER]: { state: 'status' } },
        echo('timeout 400000', { timeout: 400000 }),
        echo('max a', { timeout: 2147483, connection_timeout: 2147483 }),
        echo('max b', { timeout: 2147483, connection_timeout: 2147483 }),
        { name: 'status after max', [BROKER]: { state: 'status' } },
      ]);
      expect(run.exitCode, output(run)).toBe(0);
      const [a, b] = ['zero a', 'zero b'].map((n) => run.task(n).result.connection);
      expect(a.reused).toBe(false);
      expect(b.reused).toBe(false);
      expect(b.server_pid).not.toBe(a.server_pid);
      expect(run.task('status after zero').result.connections).toEqual([]);
      expect(run.task('timeout 400000').result.test_passed).toBe(true);
      expect(run.task('max b').result.connection).toMatchObject({ reused: true, server_pid: run.task('max a').result.connection.server_pid });
      expect(run.task('status after max').result.connections).toMatchObject([{ state: 'ready', idle_timeout_s: 2147483 }]);
      expect(countEvents(s.dir, 'idle timeout')).toBe(2);
      await s.stopWithModule();
      await s.expectNothingLeft();
    } finally {
      s.cleanup();
    }
  });
});
