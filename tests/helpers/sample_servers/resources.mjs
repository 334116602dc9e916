#!/usr/bin/env node
/**
 * A stdio MCP server that behaves like 1.1.x's resource sample servers
 * (tests/integration/sample_servers/resources and nodejs-resources in the
 * Python collection): server `resource-test` 0.1.0, only the `resources`
 * capability, three text resources (JSON, plain text, YAML). Like both of
 * those it declares `resources` but has no templates: resources/templates/list
 * is answered with -32601 (method not found).
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ErrorCode, ListResourcesRequestSchema, McpError, ReadResourceRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const data = {
  'file://test_data/config.json': { name: 'Test Config', mimeType: 'application/json', description: 'Test configuration file', text: '{"environment": "test", "enabled": true, "version": "1.0.0"}' },
  'file://test_data/document.txt': { name: 'Test Document', mimeType: 'text/plain', description: 'Test text document', text: 'This is a test document for MCP resource testing.' },
  'file://test_data/data.yaml': { name: 'Test YAML Data', mimeType: 'application/x-yaml', description: 'Test YAML data file', text: 'test:\n  key: value\n  items:\n    - item1\n    - item2\n' },
};

const server = new Server({ name: 'resource-test', version: '0.1.0' }, { capabilities: { resources: {} } });
server.setRequestHandler(ListResourcesRequestSchema, async () => ({
  resources: Object.entries(data).map(([uri, { name, mimeType, description }]) => ({ uri, name, mimeType, description })),
}));
server.setRequestHandler(ReadResourceRequestSchema, async ({ params }) => {
  const found = data[params.uri];
  if (!found) throw new McpError(ErrorCode.InvalidParams, `Resource not found: ${params.uri}`);
  return { contents: [{ uri: params.uri, mimeType: found.mimeType, text: found.text }] };
});

await server.connect(new StdioServerTransport());
