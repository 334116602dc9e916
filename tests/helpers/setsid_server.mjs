#!/usr/bin/env node
/**
 * A test MCP server (stdio) that leaves a daemon behind: the tool
 * `start_daemon` starts a process that calls setsid() (node's detached
 * spawn), so it is in neither the server's process group nor its session,
 * with its stdio on /dev/null, and keeps running until it is killed. With
 * `ignore_sigterm: true` the daemon ignores SIGTERM too. The call answers
 * the daemon's pid and session (text "daemon <pid> session <sid>"). Used by
 * tests/e2e/broker_processes.test.ts.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';

const tools = [
  {
    name: 'start_daemon',
    description: 'Start a process in a new session (setsid) that outlives this server; answers "daemon <pid> session <sid>"',
    inputSchema: { type: 'object', properties: { ignore_sigterm: { type: 'boolean' } } },
  },
];

const server = new Server({ name: 'setsid-test-server', version: '1.0.0' }, { capabilities: { tools: {} } });

server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
server.setRequestHandler(CallToolRequestSchema, async (req) => {
  if (req.params.name !== 'start_daemon') throw new McpError(ErrorCode.InvalidParams, `Tool ${req.params.name} not found`);
  const ignore = req.params.arguments?.ignore_sigterm === true;
  const code = `${ignore ? "process.on('SIGTERM', () => {});" : ''} setInterval(() => {}, 60000);`;
  const daemon = spawn(process.execPath, ['-e', code], { detached: true, stdio: 'ignore' });
  daemon.unref();
  // spawn() returns after exec, so the child has called setsid() by now; /proc/<pid>/stat field 6 is its session.
  const stat = readFileSync(`/proc/${daemon.pid}/stat`, 'latin1');
  const session = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3];
  return { content: [{ type: 'text', text: `daemon ${daemon.pid} session ${session}` }] };
});

await server.connect(new StdioServerTransport());
