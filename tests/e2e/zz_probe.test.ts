import { test } from 'vitest';
import { runPlaybook, everythingServer } from './harness';

test('probe', async () => {
  const run = await runPlaybook([
    { name: 'info', 'tosin2013.mcp_audit.mcp_server_info': { ...everythingServer } },
    { name: 'ro', 'tosin2013.mcp_audit.mcp_test_tool': { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'c' } } },
    { name: 'rw', 'tosin2013.mcp_audit.mcp_test_tool': { ...everythingServer, tool_name: 'toggle-simulated-logging' } },
    { name: 'env', 'tosin2013.mcp_audit.mcp_test_tool': { ...everythingServer, server_env: { SECRET_TOKEN: 's3cr3t-abcdef' }, tool_name: 'get-env' } },
    { name: 'envfail', ignore_errors: true, 'tosin2013.mcp_audit.mcp_test_tool': { server_command: 'sh', server_args: ['-c', 'echo "token is $SECRET_TOKEN" >&2; exit 3'], max_connection_retries: 0, server_env: { SECRET_TOKEN: 's3cr3t-abcdef' }, tool_name: 'get-env' } },
  ], { check: true, verbosity: 3 });
  console.log(run.exitCode, run.durationMs, run.leftovers);
  const r = run.results[0].result;
  console.log(JSON.stringify({ ...r, tools: r.tools.map((t: any) => t.name), resources: r.resources.slice(0, 2), prompts: r.prompts.map((t: any) => t.name) }, null, 1));
  for (const x of run.results.slice(1)) console.log(JSON.stringify(x, null, 1).slice(0, 2500));
  console.log(run.stdout.split('\n').filter(l => /s3cr3t|SECRET/.test(l)).map(l => l.slice(0, 400)).join('\n'));
});
