/**
 * server_env values are secrets (no_log): they must never be printed, even at
 * -vvv, even when the server echoes them back (get-env) or prints them on
 * stderr before dying (the stderr tail goes into the error message).
 * connection_reuse: false comes from the harness's module_defaults.
 */
import { randomUUID } from 'node:crypto';
import { expect, test } from 'vitest';
import { everythingServer, outputOf, runPlaybook } from './harness';

const TOOL = 'tosin2013.mcp_audit.mcp_test_tool';
const INFO = 'tosin2013.mcp_audit.mcp_server_info';

test('a secret in server_env never appears in the output at -vvv', async () => {
  const marker = randomUUID();
  const secret = `s3cr3t-${marker}`;
  const run = await runPlaybook(
    [
      { name: 'info with secret', [INFO]: { ...everythingServer, server_env: { SECRET_TOKEN: '{{ secret_token }}' }, include_lists: false } },
      { name: 'server prints its env', [TOOL]: { ...everythingServer, server_env: { SECRET_TOKEN: '{{ secret_token }}' }, tool_name: 'get-env' } },
      {
        name: 'server prints the secret on stderr and dies',
        ignore_errors: true,
        [TOOL]: {
          server_command: 'sh',
          server_args: ['-c', 'echo "token is $SECRET_TOKEN" >&2; exit 3'],
          server_env: { SECRET_TOKEN: '{{ secret_token }}' },
          max_connection_retries: 0,
          tool_name: 'echo',
        },
      },
    ],
    // As a user would: from a vars file (ansible-core 2.19 prints the playbook lines around a failing task).
    { verbosity: 3, secretVars: { secret_token: secret } },
  );
  expect(run.exitCode, outputOf(run)).toBe(0);
  expect(run.task('info with secret').status).toBe('ok');

  const env = run.task('server prints its env');
  expect(env.status).toBe('ok');
  expect(env.result.test_passed).toBe(true);
  const text: string = env.result.tool_result.content[0].text;
  // The server did get the secret (the key is there), and its value was masked.
  expect(text).toContain('"SECRET_TOKEN": "********"');
  expect(env.result.invocation.module_args.server_env).toBe('VALUE_SPECIFIED_IN_NO_LOG_PARAMETER');

  const died = run.task('server prints the secret on stderr and dies');
  expect(died.status).toBe('failed');
  expect(died.result.msg).toMatch(/exited with code 3/);
  expect(died.result.msg).toContain('token is ********');

  // -vvv really is verbose: the results (with invocation) are printed.
  expect(run.stdout).toContain('VALUE_SPECIFIED_IN_NO_LOG_PARAMETER');
  expect(run.stdout).toContain('SECRET_TOKEN');
  // The secret: nowhere on stdout or stderr, nor in the recorded results.
  expect(run.stdout).not.toContain(marker);
  expect(run.stderr).not.toContain(marker);
  expect(JSON.stringify(run.results)).not.toContain(marker);
  expect(run.leftovers).toEqual([]);
});
