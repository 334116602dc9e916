#!/usr/bin/env node
/**
 * A stdio MCP server that behaves like 1.1.x's calculator sample server
 * (tests/integration/sample_servers/calculator in the Python collection):
 * server name `example-server`, only the `tools` capability, and four tools:
 *
 *   add, calculate_sum     a + b, as text ("8")
 *   calculate_product      a * b, as text
 *   get_server_info        a Python dict repr, as text
 *
 * Like the Python SDK's server it checks the arguments against the
 * inputSchema itself and answers isError "Input validation error: ..." when
 * they do not match. With --structured the arithmetic tools also declare an
 * outputSchema and return structuredContent {result}, for 1.1.x's README
 * example (expected_result: {result: 8}).
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const structured = process.argv.includes('--structured');
const numbers = {
  type: 'object',
  properties: { a: { type: 'number', description: 'First number' }, b: { type: 'number', description: 'Second number' } },
  required: ['a', 'b'],
};
const output = structured ? { outputSchema: { type: 'object', properties: { result: { type: 'number' } }, required: ['result'] } } : {};
const arithmetic = {
  add: { description: 'Add two numbers', op: (a, b) => a + b },
  calculate_sum: { description: 'Calculate the sum of two numbers', op: (a, b) => a + b },
  calculate_product: { description: 'Calculate the product of two numbers', op: (a, b) => a * b },
};
const tools = [
  ...Object.entries(arithmetic).map(([name, { description }]) => ({ name, description, inputSchema: numbers, ...output })),
  { name: 'get_server_info', description: 'Get information about this MCP server', inputSchema: { type: 'object', properties: {}, required: [] } },
];

const text = (t, isError = false) => ({ content: [{ type: 'text', text: t }], ...(isError ? { isError } : {}) });

const server = new Server({ name: 'example-server', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
server.setRequestHandler(CallToolRequestSchema, async ({ params }) => {
  const args = params.arguments ?? {};
  const tool = arithmetic[params.name];
  if (tool) {
    for (const key of ['a', 'b']) {
      if (!(key in args)) return text(`Input validation error: '${key}' is a required property`, true);
      if (typeof args[key] !== 'number') return text(`Input validation error: ${JSON.stringify(args[key])} is not of type 'number'`, true);
    }
    const result = tool.op(args.a, args.b);
    return { ...text(String(result)), ...(structured ? { structuredContent: { result } } : {}) };
  }
  if (params.name === 'get_server_info') {
    return text("{'server_name': 'example-stdio-server', 'version': '1.0.0', 'transport': 'stdio', 'capabilities': ['tools']}");
  }
  return text(`Unknown tool: ${params.name}`, true);
});

await server.connect(new StdioServerTransport());
