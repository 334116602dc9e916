/**
 * max_result_size over streamable HTTP: a real MCP server (the SDK's, in this
 * process, on 127.0.0.1) answering with a JSON body or with an event stream;
 * a result over the limit fails the request at once, saying so.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MB } from '../../src/data_limits';
import { McpAuditError } from '../../src/errors';
import { McpSession } from '../../src/mcp/session';

let server: Server;
let base: string;

/** Stateless streamable HTTP: each POST gets its own server and transport; /json answers JSON bodies, /sse event streams. */
beforeAll(async () => {
  server = createServer(async (req, res) => {
    const mcp = new McpServer({ name: 'big-http', version: '1.0.0' });
    mcp.registerTool('big', { inputSchema: { mb: z.number() } }, async ({ mb }) => ({ content: [{ type: 'text', text: 'y'.repeat(Math.round(mb * MB)) }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: req.url === '/json' });
    res.on('close', () => void transport.close());
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const sessions: McpSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
});

describe.each(['json', 'sse'])('streamable HTTP answering with %s', (path) => {
  it('a result under the limit arrives; one over it fails at once with its size', async () => {
    const s = await McpSession.open({ transport: 'http', url: `${base}/${path}`, headers: {}, maxResultBytes: MB }, 10_000);
    sessions.push(s);
    const call = (mb: number) => s.request('tools/call', { name: 'big', arguments: { mb } }, CallToolResultSchema, 20_000);
    expect(((await call(0.5)).content[0] as { text: string }).text).toHaveLength(MB / 2);
    const started = Date.now();
    const error = await call(2).catch((e) => e);
    expect(error).toBeInstanceOf(McpAuditError);
    expect(error.message).toMatch(/^(tools\/call failed: )?the server's result of (2 MB|more than 1 MB) exceeds max_result_size \(1 MB\)/);
    expect(Date.now() - started).toBeLessThan(15_000); // not the 20 s timeout
  });
});
