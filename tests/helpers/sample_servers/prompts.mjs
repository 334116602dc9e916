#!/usr/bin/env node
/**
 * A stdio MCP server that behaves like 1.1.x's prompts sample server
 * (tests/integration/sample_servers/prompts in the Python collection):
 * server `prompt-test` 0.1.0, only the `prompts` capability, two prompts:
 *
 *   test-prompt    topic (required), context (optional): one message, two with a context
 *   simple-prompt  no arguments: one message
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ErrorCode, GetPromptRequestSchema, ListPromptsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';

const prompts = [
  {
    name: 'test-prompt',
    description: 'A test prompt template with arguments',
    arguments: [
      { name: 'context', description: 'Context for the prompt', required: false },
      { name: 'topic', description: 'Specific topic to focus on', required: true },
    ],
  },
  { name: 'simple-prompt', description: 'A simple prompt without arguments', arguments: [] },
];

const user = (text) => ({ role: 'user', content: { type: 'text', text } });

const server = new Server({ name: 'prompt-test', version: '0.1.0' }, { capabilities: { prompts: {} } });
server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts }));
server.setRequestHandler(GetPromptRequestSchema, async ({ params }) => {
  const args = params.arguments ?? {};
  if (params.name === 'test-prompt') {
    const messages = [...(args.context ? [user(`Context: ${args.context}`)] : []), user(`Please help with: ${args.topic ?? 'general'}`)];
    return { description: 'Test prompt with context and topic', messages };
  }
  if (params.name === 'simple-prompt') return { description: 'Simple prompt without arguments', messages: [user('This is a simple prompt')] };
  throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${params.name}`);
});

await server.connect(new StdioServerTransport());
