/**
 * The action group end to end: a play sets the server once in module_defaults
 * for group/tosin2013.mcp_audit.mcp and every module of the collection uses it
 * without repeating it. The play is written out as a user writes it (it does
 * not use the harness's module_defaults), so connection_reuse keeps its real
 * default (true): every task shares ONE pooled server, and the play stops the
 * broker at its end.
 */
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { ACTION_GROUP, EVERYTHING_JS, runPlaybook } from './harness';
import { ARCHITECTURE_URI, BROKER, expectCleanEnd, INFO, out, PROMPT, RESOURCE, STOP_TASK, SUITE, TOOL } from './modules-helpers';

describe('module_defaults with the action group', () => {
  test('the server is set once; info, tool, resource, prompt, suite and broker all use one pooled server', async () => {
    expect(ACTION_GROUP).toBe('group/tosin2013.mcp_audit.mcp');
    const playbook = stringify(
      [
        {
          name: 'audit server-everything, server set once',
          hosts: 'localhost',
          connection: 'local',
          gather_facts: false,
          module_defaults: { [ACTION_GROUP]: { server_command: 'node', server_args: [EVERYTHING_JS] } },
          tasks: [
            {
              name: 'audit',
              block: [
                { name: 'info', [INFO]: {} },
                { name: 'tool', [TOOL]: { tool_name: 'echo', tool_arguments: { message: 'defaults' }, expected_result: 'Echo: defaults' } },
                { name: 'resource', [RESOURCE]: { resource_uri: ARCHITECTURE_URI, expected_content_type: 'text/markdown' } },
                { name: 'prompt', [PROMPT]: { prompt_name: 'args-prompt', prompt_arguments: { city: 'Kano' }, expected_content_regex: 'Kano' } },
                {
                  name: 'suite',
                  [SUITE]: {
                    tests: [
                      { type: 'tool', name: 'get-sum', arguments: { a: 20, b: 22 }, expected_result: 'The sum of 20 and 22 is 42.' },
                      { type: 'resource', uri: ARCHITECTURE_URI },
                      { type: 'prompt', name: 'simple-prompt' },
                    ],
                  },
                },
                { name: 'status', [BROKER]: { state: 'status' } },
              ],
              always: [{ name: STOP_TASK, [BROKER]: { state: 'stopped' } }],
            },
          ],
        },
      ],
      { lineWidth: 0 },
    );
    const run = await runPlaybook(playbook, { timeoutMs: 180_000 });
    expect(run.exitCode, out(run)).toBe(0);

    const mcpTasks = ['info', 'tool', 'resource', 'prompt', 'suite'];
    for (const name of mcpTasks) {
      const t = run.task(name);
      expect(t.status, `${name}\n${out(run)}`).toBe('ok');
      // The options came from module_defaults, and the default connection_reuse is true.
      expect(t.result.invocation.module_args, name).toMatchObject({ server_command: 'node', server_args: [EVERYTHING_JS], connection_reuse: true, transport: 'stdio' });
      expect(t.result.connection, name).toMatchObject({ pooled: true });
    }
    expect(run.task('info').result).toMatchObject({ status: 'connected', server_info: { name: 'mcp-servers/everything' } });
    expect(run.task('tool').result).toMatchObject({ test_passed: true, tool_result: { content: [{ type: 'text', text: 'Echo: defaults' }] } });
    expect(run.task('resource').result).toMatchObject({ test_passed: true, content_type: 'text/markdown' });
    expect(run.task('prompt').result.messages[0].content.text).toContain('Kano');
    expect(run.task('suite').result.summary).toEqual({ total_tests: 3, passed: 3, failed: 0, errors: 0, skipped: 0, success_rate: 100 });

    // ONE pooled server: the first task started it, the others reused it.
    const pid = run.task('info').result.connection.server_pid;
    expect(Number.isInteger(pid)).toBe(true);
    expect(run.task('info').result.connection.reused).toBe(false);
    for (const name of mcpTasks.slice(1)) {
      expect(run.task(name).result.connection, name).toMatchObject({ server_pid: pid, reused: true, reconnected: false });
    }
    const key = run.task('info').result.connection.key;
    for (const name of mcpTasks) expect(run.task(name).result.connection.key, name).toBe(key);

    // mcp_broker is in the group too: it takes the defaults and shows that one connection.
    const status = run.task('status');
    expect(status.status).toBe('ok');
    expect(status.result.invocation.module_args).toMatchObject({ server_command: 'node', server_args: [EVERYTHING_JS], state: 'status' });
    expect(status.result.running).toBe(true);
    expect(status.result.connections).toHaveLength(1);
    expect(status.result.connections[0]).toMatchObject({ key, server_pid: pid, transport: 'stdio' });
    expect(status.result.connections[0].command).toContain(EVERYTHING_JS);

    const stop = run.task(STOP_TASK);
    expect(stop.result).toMatchObject({ changed: true, closed: 1, running: false });
    expect(stop.result.broker.pid).toBe(status.result.broker.pid);
    expectCleanEnd(run, 1);
  });
});
