/**
 * A tiny streamable-HTTP MCP server of the tests' own, run in the test process
 * on 127.0.0.1 (a real socket; the modules and the broker reach it like any
 * remote server).
 *
 * - With `bearerToken` / `apiKey` set it REQUIRES `Authorization: Bearer <token>`
 *   and `X-Api-Key: <key>` on every request and answers 401 otherwise.
 * - It records every HTTP request it saw (method, path, status, session id,
 *   JSON-RPC methods, header names, and whether the credentials matched, as
 *   booleans and sha256 hashes: never the secrets themselves).
 * - It offers the tools `whoami` (what this request carried, as hashes and
 *   booleans) and `echo`, a resource `e2e://hello` and a prompt `greet`.
 * - Unknown session ids get 404 (as the MCP spec says), so a restart() makes
 *   every session a client holds unknown, like a real server restart.
 * - It speaks streamable HTTP on /mcp and the legacy SSE transport on /sse
 *   (GET, the event stream) + /messages (POST), with the same rules.
 * - With `tls` it serves HTTPS (node:https) instead of HTTP.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface AuthServerOptions {
  /** Required bearer token (Authorization: Bearer <token>); none required when unset. */
  bearerToken?: string;
  /** Required X-Api-Key value; none required when unset. */
  apiKey?: string;
  /** Serve HTTPS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Listen on this port (0: any free port). */
  port?: number;
}

export interface SeenRequest {
  /** Which incarnation of the server (1, 2, ... after restart()) saw it. */
  generation: number;
  method: string;
  path: string;
  status: number;
  /** The session the client named (mcp-session-id header, or ?sessionId= for SSE), if any. */
  session: string | null;
  /** JSON-RPC methods in a POST body ("response" for a client's reply). */
  rpc: string[];
  header_names: string[];
  bearer_ok: boolean;
  api_key_ok: boolean;
  authorization_sha256: string | null;
  api_key_sha256: string | null;
}

export interface AuthServer {
  /** Streamable HTTP URL (/mcp). */
  readonly url: string;
  readonly port: number;
  /** Every request seen, oldest first, across restarts. */
  readonly requests: SeenRequest[];
  /** Legacy SSE URL (/sse). */
  readonly sseUrl: string;
  /** Session ids the current incarnation knows (streamable HTTP and SSE). */
  sessions(): string[];
  /** Requests of one JSON-RPC method (for example 'initialize'). */
  rpcCount(method: string): number;
  /** DELETE /mcp requests seen. */
  deletes(): SeenRequest[];
  /** Stop (dropping every connection and session) and listen again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** One MCP server (per session, as the SDK wants): tools whoami and echo, a resource, a prompt. */
function mcpServer(state: { generation: number }): McpServer {
  const server = new McpServer({ name: 'e2e-auth-server', version: '1.0.0' });
  server.registerTool(
    'whoami',
    {
      description: 'What the HTTP request carrying this call held: hashes and booleans, never the secrets.',
      inputSchema: {},
      annotations: { readOnlyHint: true },
    },
    async (_args, extra) => {
      const headers = (extra.requestInfo?.headers ?? {}) as Record<string, string | string[] | undefined>;
      const one = (n: string) => {
        const v = headers[n];
        return Array.isArray(v) ? v.join(', ') : v;
      };
      const authorization = one('authorization');
      const apiKey = one('x-api-key');
      const seen = {
        authorization_sha256: authorization ? sha256(authorization) : null,
        api_key_sha256: apiKey ? sha256(apiKey) : null,
        header_names: Object.keys(headers).sort(),
        session_id: extra.sessionId ?? null,
        generation: state.generation,
      };
      return { content: [{ type: 'text', text: JSON.stringify(seen) }] };
    },
  );
  server.registerTool(
    'echo',
    { description: 'Echoes back the input', inputSchema: { message: z.string() }, annotations: { readOnlyHint: true } },
    async ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }),
  );
  server.registerResource('hello', 'e2e://hello', { mimeType: 'text/plain', description: 'A static text' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'hello from the e2e auth server' }],
  }));
  server.registerPrompt('greet', { description: 'A greeting', argsSchema: { name: z.string() } }, ({ name }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Greet ${name}` } }],
  }));
  return server;
}

export async function startAuthServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  const requests: SeenRequest[] = [];
  const state = { generation: 0 };
  let transports = new Map<string, StreamableHTTPServerTransport>();
  let sseTransports = new Map<string, SSEServerTransport>();
  let server: Server | undefined;
  let port = options.port ?? 0;

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const reqUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = reqUrl.pathname;
    const authorization = headerValue(req, 'authorization');
    const apiKey = headerValue(req, 'x-api-key');
    const bearerOk = options.bearerToken === undefined || authorization === `Bearer ${options.bearerToken}`;
    const apiKeyOk = options.apiKey === undefined || apiKey === options.apiKey;
    const session = headerValue(req, 'mcp-session-id') ?? reqUrl.searchParams.get('sessionId') ?? null;
    const body = req.method === 'POST' ? await readBody(req) : '';
    let parsed: any;
    try {
      parsed = body ? JSON.parse(body) : undefined;
    } catch {
      parsed = undefined;
    }
    const messages: any[] = parsed === undefined ? [] : Array.isArray(parsed) ? parsed : [parsed];
    const record: SeenRequest = {
      generation: state.generation,
      method: req.method ?? '?',
      path,
      status: 0,
      session,
      rpc: messages.map((m) => (typeof m?.method === 'string' ? m.method : 'response')),
      header_names: Object.keys(req.headers).sort(),
      bearer_ok: bearerOk,
      api_key_ok: apiKeyOk,
      authorization_sha256: authorization ? sha256(authorization) : null,
      api_key_sha256: apiKey ? sha256(apiKey) : null,
    };
    requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    // the status of a streamed (SSE) response is known once its head is written
    const writeHead = res.writeHead.bind(res);
    res.writeHead = ((status: number, ...rest: any[]) => {
      record.status = status;
      return writeHead(status, ...rest);
    }) as typeof res.writeHead;

    if (path !== '/mcp' && path !== '/sse' && path !== '/messages') return json(res, 404, { error: 'not found' });
    if (!bearerOk || !apiKeyOk) {
      return json(res, 401, { jsonrpc: '2.0', error: { code: -32001, message: 'Unauthorized' }, id: null }, { 'www-authenticate': 'Bearer realm="e2e"' });
    }
    try {
      if (path === '/sse' && req.method === 'GET') {
        const transport = new SSEServerTransport('/messages', res);
        const owner = sseTransports;
        owner.set(transport.sessionId, transport);
        transport.onclose = () => owner.delete(transport.sessionId);
        await mcpServer(state).connect(transport);
        return;
      }
      if (path === '/messages' && req.method === 'POST') {
        const transport = session ? sseTransports.get(session) : undefined;
        if (!transport) return json(res, 404, { error: 'Session not found' });
        return await transport.handlePostMessage(req, res, parsed);
      }
      if (path !== '/mcp') return json(res, 405, { error: 'method not allowed' });
      if (session) {
        const transport = transports.get(session);
        if (!transport) return json(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
        return await transport.handleRequest(req, res, parsed);
      }
      if (req.method === 'POST' && messages.some((m) => m?.method === 'initialize')) {
        const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            transports.set(id, transport);
          },
        });
        const owner = transports;
        transport.onclose = () => {
          if (transport.sessionId) owner.delete(transport.sessionId);
        };
        await mcpServer(state).connect(transport);
        return await transport.handleRequest(req, res, parsed);
      }
      return json(res, 400, { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null });
    } catch (e: any) {
      if (!res.headersSent) json(res, 500, { jsonrpc: '2.0', error: { code: -32603, message: String(e?.message ?? e) }, id: null });
    }
  };

  const listen = async () => {
    state.generation++;
    transports = new Map();
    sseTransports = new Map();
    const s = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };

  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    s.closeAllConnections();
    await closed;
    // Forget every session without telling anyone (a crash, as far as clients can tell).
    transports = new Map();
    sseTransports = new Map();
  };

  await listen();
  const scheme = options.tls ? 'https' : 'http';
  return {
    get url() {
      return `${scheme}://127.0.0.1:${port}/mcp`;
    },
    get sseUrl() {
      return `${scheme}://127.0.0.1:${port}/sse`;
    },
    get port() {
      return port;
    },
    requests,
    sessions: () => [...transports.keys(), ...sseTransports.keys()],
    rpcCount: (method) => requests.filter((r) => r.rpc.includes(method)).length,
    deletes: () => requests.filter((r) => r.method === 'DELETE' && r.path === '/mcp'),
    async restart() {
      await stop();
      await listen();
    },
    close: stop,
  };
}
