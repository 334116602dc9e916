/**
 * Big and deep data, with the hostile test server (tests/helpers/hostile_server.mjs)
 * on a pooled session: a 60 MB result is read in time, a result over
 * max_result_size fails at once saying how large it was, a result nested
 * 5,000 deep fails clearly (the task gets an answer), and the session goes on
 * serving afterwards. Options nested too deep are a validation error, never
 * a stack overflow.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MAX_NESTING } from '../../src/data_limits';
import { hostileServer, NODE, scratchDir } from './harness';
import { output, RUNTIME, scenarioPerTest, TOOL } from './broker-helpers';

const newScenario = scenarioPerTest();

describe('result size', () => {
  test('60 MB is read within the timeout; 100 MB fails at once over max_result_size; the session goes on', async () => {
    const s = newScenario();
    const big = { ...hostileServer('big'), timeout: 30 };
    const run = await s.play([
      { name: '60 MB', [TOOL]: { ...big, tool_name: 'quirk', tool_arguments: { mb: 60 } }, register: 'sixty' },
      { name: 'its length', 'ansible.builtin.set_fact': { sixty_length: '{{ sixty.tool_result.content[0].text | length }}' } },
      { name: '100 MB', ignore_errors: true, [TOOL]: { ...big, tool_name: 'quirk', tool_arguments: { mb: 100 } } },
      { name: 'after', [TOOL]: { ...big, tool_name: 'echo', tool_arguments: { message: 'still' }, expected_result: 'Echo: still' } },
      { name: 'lower limit', ignore_errors: true, [TOOL]: { ...big, max_result_size: 1, tool_name: 'quirk', tool_arguments: { mb: 2, id_first: true } } },
    ]);
    expect(run.exitCode, output(run)).toBe(0);
    expect(run.task('60 MB').status, output(run)).toBe('ok');
    // A string up to ansible-core 2.18, a number from 2.19 (native types).
    expect(String(run.task('its length').result.ansible_facts.sixty_length)).toBe(String(60 * 1024 * 1024));

    const hundred = run.task('100 MB');
    expect(hundred.status).toBe('failed');
    expect(hundred.result.msg).toBe("tools/call failed: the server's result of 100 MB exceeds max_result_size (64 MB); raise max_result_size if the server really answers that much");
    // Before: "timed out after 30 s". Now it fails as soon as the line is read.
    expect(hundred.result.execution_time, output(run)).toBeLessThan(20);

    const after = run.task('after').result;
    expect(after.connection).toMatchObject({ reused: true, server_pid: run.task('60 MB').result.connection.server_pid });
    expect(run.task('lower limit').result.msg).toMatch(/^tools\/call failed: the server's result of 2 MB exceeds max_result_size \(1 MB\)/);

    await s.stopWithModule();
    await s.expectNothingLeft();
  });
});

describe('nesting', () => {
  test('structuredContent nested 5,000 deep: the task is answered with a clear error and the session goes on', async () => {
    const s = newScenario();
    const deep = { ...hostileServer('deep'), timeout: 20 };
    const run = await s.play([
      { name: 'deep', ignore_errors: true, [TOOL]: { ...deep, tool_name: 'quirk', tool_arguments: { depth: 5000 } } },
      { name: 'shallow', [TOOL]: { ...deep, tool_name: 'quirk', tool_arguments: { depth: 20 } } },
    ]);
    expect(run.exitCode, output(run)).toBe(0);
    const r = run.task('deep');
    expect(r.status).toBe('failed');
    expect(r.result.msg).toBe(`tools/call failed: the server's result nests objects and lists more than ${MAX_NESTING} levels deep, the most this collection accepts`);
    expect(run.task('shallow').result.connection.reused, output(run)).toBe(true);

    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  test('tool_arguments nested too deep is a validation error: from a playbook, and 100,000 deep in the module args file', async () => {
    const s = newScenario();
    const depth = MAX_NESTING + 50;
    const run = await s.play([
      {
        name: 'too deep',
        ignore_errors: true,
        vars: { deep: `{{ '{"a":' * ${depth - 1} ~ '{}' ~ '}' * ${depth - 1} }}` },
        [TOOL]: { ...hostileServer('deep'), tool_name: 'echo', tool_arguments: '{{ deep }}' },
      },
    ]);
    expect(run.exitCode, output(run)).toBe(0);
    const expected = `argument 'tool_arguments' nests dicts and lists more than ${MAX_NESTING} levels deep, the most this collection accepts`;
    expect(run.task('too deep').result.msg, output(run)).toBe(expected);
    expect(run.task('too deep').result.invocation.module_args.tool_arguments).toEqual({});

    // Written as text: JSON.stringify itself cannot serialize 100,000 levels.
    const dir = scratchDir();
    const argsFile = join(dir, 'args.json');
    const deepText = '{"a":'.repeat(99_999) + '{}' + '}'.repeat(99_999);
    writeFileSync(argsFile, `{"_ansible_module_name":"mcp_test_tool","tool_name":"echo","connection_reuse":false,"server_command":${JSON.stringify(NODE)},"tool_arguments":${deepText}}`);
    const module = spawnSync(RUNTIME, [argsFile], { encoding: 'utf8', timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
    expect(module.status, module.stdout.slice(0, 500)).toBe(1);
    const direct = { result: JSON.parse(module.stdout) };
    expect(direct.result).toMatchObject({ failed: true, msg: expected });
  });
});
