/**
 * Option validation through Ansible (the module's AnsibleModule equivalent):
 * bad options fail before any server is started. connection_reuse: false
 * comes from the harness's module_defaults.
 */
import { expect, test } from 'vitest';
import { everythingServer, outputOf, runPlaybook } from './harness';

const TOOL = 'tosin2013.mcp_audit.mcp_test_tool';

test('unknown options, bad types, missing and conditional requirements, choices', async () => {
  const run = await runPlaybook([
    { name: 'unknown option', ignore_errors: true, [TOOL]: { ...everythingServer, tool_name: 'echo', bogus_option: 1 } },
    { name: 'bad type', ignore_errors: true, [TOOL]: { ...everythingServer, tool_name: 'echo', timeout: 'abc' } },
    { name: 'missing required', ignore_errors: true, [TOOL]: { ...everythingServer } },
    { name: 'required_if', ignore_errors: true, [TOOL]: { tool_name: 'echo' } },
    { name: 'choices', ignore_errors: true, [TOOL]: { ...everythingServer, tool_name: 'echo', transport: 'carrier-pigeon' } },
    { name: 'alias', [TOOL]: { ...everythingServer, name: 'echo', arguments: { message: 'via aliases' }, timeout: '10' } },
  ]);
  expect(run.exitCode, outputOf(run)).toBe(0);

  const unknown = run.task('unknown option');
  expect(unknown.status).toBe('failed');
  expect(unknown.result.msg).toMatch(/^Unsupported parameters for \(mcp_test_tool\) module: bogus_option\. Supported parameters include: /);
  for (const name of ['connection_reuse', 'expected_result', 'server_args', 'server_command', 'server_env', 'timeout', 'tool_arguments (arguments)', 'tool_name (name)', 'transport']) {
    expect(unknown.result.msg).toContain(name);
  }
  expect(unknown.result.connection).toBeUndefined(); // no server was started

  const badType = run.task('bad type');
  expect(badType.status).toBe('failed');
  expect(badType.result.msg).toMatch(/^argument 'timeout' is of type str and we were unable to convert to int: .*'abc'/);
  expect(badType.result.connection).toBeUndefined();

  expect(run.task('missing required').result.msg).toBe('missing required arguments: tool_name');
  expect(run.task('required_if').result.msg).toBe('transport is stdio but all of the following are missing: server_command');
  expect(run.task('choices').result.msg).toBe('value of transport must be one of: stdio, sse, http, streamable_http, got: carrier-pigeon');

  const alias = run.task('alias');
  expect(alias.status).toBe('ok');
  expect(alias.result).toMatchObject({ test_passed: true, tool_name: 'echo', tool_result: { content: [{ type: 'text', text: 'Echo: via aliases' }] } });
  expect(alias.result.invocation.module_args).toMatchObject({ tool_name: 'echo', tool_arguments: { message: 'via aliases' }, timeout: 10 });
  expect(run.leftovers).toEqual([]);
});
