#!/usr/bin/env node
/**
 * A test MCP server (stdio) whose every list is paginated: tools/list,
 * resources/list, resources/templates/list and prompts/list answer a few
 * items per page with an opaque nextCursor, like servers with large
 * catalogues do. Used by tests/e2e/modules_protocol.test.ts.
 *
 *   7 tools      (3 per page: 3 pages)    page_tool_1 .. page_tool_7
 *   8 resources  (3 per page: 3 pages)    paged://resource/1 .. 8
 *   5 templates  (2 per page: 3 pages)    paged://template/{id}/1 .. 5
 *   4 prompts    (3 per page: 2 pages)    page_prompt_1 .. 4
 *
 * Sizes can be changed with PAGED_TOOLS / PAGED_PAGE_SIZE. A cursor the
 * server did not hand out is answered with -32602 (Invalid params), so a
 * client that makes up cursors fails. Every request is appended as one JSON
 * line to $PAGED_SERVER_LOG when it is set, so a test can see the pages asked.
 *
 * Slow on demand, for deadline tests: PAGED_DELAY_MS delays every list page
 * and tool call; PAGED_START_DELAY_MS delays reading stdin (initialize).
 */
import { appendFileSync } from 'node:fs';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

const TOOLS = Number(process.env.PAGED_TOOLS ?? 7);
const PAGE = Number(process.env.PAGED_PAGE_SIZE ?? 3);
const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

const tools = range(TOOLS).map((i) => ({
  name: `page_tool_${i}`,
  description: `Tool ${i} of ${TOOLS} (page ${Math.ceil(i / PAGE)})`,
  inputSchema: { type: 'object', properties: { word: { type: 'string' } }, required: ['word'] },
  annotations: { readOnlyHint: true },
}));
const resources = range(8).map((i) => ({ uri: `paged://resource/${i}`, name: `resource ${i}`, mimeType: 'text/plain' }));
const templates = range(5).map((i) => ({ uriTemplate: `paged://template/{id}/${i}`, name: `template ${i}`, mimeType: 'text/plain' }));
const prompts = range(4).map((i) => ({ name: `page_prompt_${i}`, description: `Prompt ${i}` }));

const log = (entry) => {
  if (process.env.PAGED_SERVER_LOG) appendFileSync(process.env.PAGED_SERVER_LOG, JSON.stringify(entry) + '\n');
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const DELAY = Number(process.env.PAGED_DELAY_MS ?? 0);

/** One page of `items` after `cursor` (an opaque token: base64 of "<list>:<offset>"). */
function page(list, items, cursor, size) {
  let offset = 0;
  if (cursor !== undefined) {
    const decoded = Buffer.from(String(cursor), 'base64url').toString('utf8');
    const m = new RegExp(`^${list}:(\\d+)$`).exec(decoded);
    if (!m || Number(m[1]) <= 0 || Number(m[1]) >= items.length) throw new McpError(ErrorCode.InvalidParams, `invalid cursor ${JSON.stringify(cursor)} for ${list}`);
    offset = Number(m[1]);
  }
  const next = offset + size;
  log({ list, offset });
  return { items: items.slice(offset, next), ...(next < items.length ? { nextCursor: Buffer.from(`${list}:${next}`).toString('base64url') } : {}) };
}

const server = new Server({ name: 'paged-test-server', version: '1.0.0' }, { capabilities: { tools: {}, resources: {}, prompts: {} } });

server.setRequestHandler(ListToolsRequestSchema, async (req) => {
  await sleep(DELAY);
  const { items, nextCursor } = page('tools', tools, req.params?.cursor, PAGE);
  return { tools: items, ...(nextCursor ? { nextCursor } : {}) };
});
server.setRequestHandler(ListResourcesRequestSchema, async (req) => {
  await sleep(DELAY);
  const { items, nextCursor } = page('resources', resources, req.params?.cursor, PAGE);
  return { resources: items, ...(nextCursor ? { nextCursor } : {}) };
});
server.setRequestHandler(ListResourceTemplatesRequestSchema, async (req) => {
  await sleep(DELAY);
  const { items, nextCursor } = page('templates', templates, req.params?.cursor, 2);
  return { resourceTemplates: items, ...(nextCursor ? { nextCursor } : {}) };
});
server.setRequestHandler(ListPromptsRequestSchema, async (req) => {
  await sleep(DELAY);
  const { items, nextCursor } = page('prompts', prompts, req.params?.cursor, PAGE);
  return { prompts: items, ...(nextCursor ? { nextCursor } : {}) };
});
server.setRequestHandler(CallToolRequestSchema, async (req) => {
  if (!tools.some((t) => t.name === req.params.name)) throw new McpError(ErrorCode.InvalidParams, `Tool ${req.params.name} not found`);
  log({ call: req.params.name });
  await sleep(DELAY);
  return { content: [{ type: 'text', text: `${req.params.name} got ${req.params.arguments?.word}` }] };
});
server.setRequestHandler(ReadResourceRequestSchema, async (req) => {
  const r = resources.find((x) => x.uri === req.params.uri);
  if (!r) throw new McpError(ErrorCode.InvalidParams, `Resource ${req.params.uri} not found`);
  return { contents: [{ uri: r.uri, mimeType: 'text/plain', text: `content of ${r.name}` }] };
});
server.setRequestHandler(GetPromptRequestSchema, async (req) => {
  if (!prompts.some((p) => p.name === req.params.name)) throw new McpError(ErrorCode.InvalidParams, `Prompt ${req.params.name} not found`);
  return { messages: [{ role: 'user', content: { type: 'text', text: `prompt ${req.params.name}` } }] };
});

await sleep(Number(process.env.PAGED_START_DELAY_MS ?? 0));
await server.connect(new StdioServerTransport());
