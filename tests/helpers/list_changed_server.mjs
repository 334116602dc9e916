#!/usr/bin/env node
/**
 * A test MCP server (stdio) whose tool list changes at run time: the tool
 * `add_tool` registers a new tool named by its `name` argument (calling it
 * answers "hello from <name>") and then sends notifications/tools/list_changed,
 * before answering the call. Used by tests/e2e/modules_protocol.test.ts.
 *
 * With LIST_CHANGED_SILENT=1 the server adds the tool without telling the
 * client, the way a buggy server would: a client that caches the tool list
 * does not see the new tool then (the test's control case).
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';

const silent = process.env.LIST_CHANGED_SILENT === '1';
const tools = [
  {
    name: 'add_tool',
    description: 'Register a new tool with the given name and announce it with notifications/tools/list_changed',
    inputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
    annotations: { readOnlyHint: false },
  },
];

const server = new Server({ name: 'list-changed-test-server', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });

server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
server.setRequestHandler(CallToolRequestSchema, async (req) => {
  const { name, arguments: args } = req.params;
  if (name === 'add_tool') {
    const added = String(args?.name ?? '');
    if (!/^[a-z_][a-z0-9_]*$/.test(added)) return { isError: true, content: [{ type: 'text', text: `bad tool name ${JSON.stringify(added)}` }] };
    if (!tools.some((t) => t.name === added)) {
      tools.push({ name: added, description: `added at run time by add_tool`, inputSchema: { type: 'object', properties: {} }, annotations: { readOnlyHint: true } });
    }
    if (!silent) await server.sendToolListChanged();
    return { content: [{ type: 'text', text: `added ${added}${silent ? ' (silently)' : ''}` }] };
  }
  if (!tools.some((t) => t.name === name)) throw new McpError(ErrorCode.InvalidParams, `Tool ${name} not found`);
  return { content: [{ type: 'text', text: `hello from ${name}` }] };
});

await server.connect(new StdioServerTransport());
