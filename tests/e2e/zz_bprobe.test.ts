import { test } from 'vitest';
import { readFileSync } from 'node:fs';
import { runPlaybook, everythingServer } from './harness';

test('bprobe', async () => {
  const run = await runPlaybook([
    { name: 'echo', 'tosin2013.mcp_audit.mcp_test_tool': { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'hi' } } },
    { name: 'loop', loop: '{{ range(20) | list }}', 'tosin2013.mcp_audit.mcp_test_tool': { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'hi {{ item }}' } } },
    { name: 'sum', 'tosin2013.mcp_audit.mcp_test_tool': { ...everythingServer, tool_name: 'get-sum', tool_arguments: { a: 1, b: 2 }, expected_result: 3 } },
    { name: 'status', 'tosin2013.mcp_audit.mcp_broker': { state: 'status' } },
    { name: 'stop', 'tosin2013.mcp_audit.mcp_broker': { state: 'stopped' } },
  ], { moduleDefaults: { connection_reuse: true }, reapLeftovers: false });
  console.log(run.exitCode, run.durationMs, run.stderr);
  for (const r of run.results) console.log(JSON.stringify({ ...r, result: { ...r.result, results: r.result.results?.length, invocation: undefined } }, null, 1).slice(0, 2500));
  console.log(readFileSync(run.brokerDir + '/broker.log', 'utf8'));
}, 200000);
