/**
 * One initialized MCP session over any transport, built on the SDK's Client.
 *
 * It knows MCP (initialize, requests with timeouts, pagination, list_changed)
 * and turns every failure into an McpAuditError a person can act on. It does
 * not know how a server is started: that is the transport's business
 * (transports.ts), so the broker's pool can hold sessions of any kind.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  ErrorCode,
  ListPromptsResultSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesResultSchema,
  ListToolsResultSchema,
  McpError,
  ToolListChangedNotificationSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ZodType } from 'zod/v4';
import { McpAuditError } from '../errors';
import type { ServerDefinition } from '../server_definition';
import { openTransport } from './transports';
import { StdioServerTransport } from './stdio_transport';
import { VERSION } from '../version';

export const CLIENT_INFO = { name: 'tosin2013.mcp_audit', version: VERSION };

/** The list requests whose results are paginated, with the result field holding the items. */
export const LISTS = {
  tools: { method: 'tools/list', field: 'tools', schema: ListToolsResultSchema },
  resources: { method: 'resources/list', field: 'resources', schema: ListResourcesResultSchema },
  resource_templates: { method: 'resources/templates/list', field: 'resourceTemplates', schema: ListResourceTemplatesResultSchema },
  prompts: { method: 'prompts/list', field: 'prompts', schema: ListPromptsResultSchema },
} as const;
export type ListName = keyof typeof LISTS;

/** Requests without side effects: replaying them on a new session after a crash is safe. */
const REPLAYABLE = new Set(['tools/list', 'resources/list', 'resources/templates/list', 'prompts/list', 'resources/read', 'prompts/get', 'ping']);

const MAX_PAGES = 1000; // a server that loops its cursors must not hang the task

/** The HTTP status behind an SDK transport error (SseError, StreamableHTTPError), if any. */
function httpStatus(e: unknown): number | undefined {
  const code = (e as { code?: unknown })?.code;
  const message = e instanceof Error ? e.message : '';
  // Matched by message: class names do not survive minification.
  if (typeof code === 'number' && code >= 100 && code < 600 && /^(SSE|Streamable HTTP) error/.test(message)) return code;
  const m = e instanceof Error ? /\(HTTP (\d{3})\)/.exec(e.message) : null;
  return m ? Number(m[1]) : undefined;
}

export class McpSession {
  private toolCache?: Promise<Tool[]>;
  readonly openedAt = Date.now();
  negotiatedVersion?: string;
  closed = false;
  /** Initialize succeeded. */
  private ready = false;
  onclose?: () => void;

  private constructor(
    readonly definition: ServerDefinition,
    readonly client: Client,
    readonly transport: Transport,
  ) {}

  /** Start the transport and initialize; fails with an McpAuditError within timeoutMs. */
  static async open(definition: ServerDefinition, timeoutMs: number): Promise<McpSession> {
    const transport = await openTransport(definition);
    const client = new Client(CLIENT_INFO, { capabilities: (definition.capabilities ?? {}) as any });
    const session = new McpSession(definition, client, transport);
    // The SDK tells the transport the negotiated version; keep a copy to report it.
    const setVersion = transport.setProtocolVersion?.bind(transport);
    transport.setProtocolVersion = (version: string) => {
      session.negotiatedVersion = version;
      setVersion?.(version);
    };
    client.onclose = () => {
      session.closed = true;
      session.onclose?.();
    };
    client.onerror = (e) => {
      // Legacy SSE: a session lives as long as the server's event stream. Once the stream drops,
      // the server has forgotten the session, and the SDK's EventSource would reconnect into a new,
      // uninitialized one: close it instead, so a pool replaces it. Other transport-level noise
      // (garbage lines) surfaces through requests.
      if (definition.transport === 'sse' && session.ready && !session.closed && /^SSE error/.test(e?.message ?? '')) void session.close();
    };
    // The SDK's timeout covers initialize only; starting the transport (an SSE GET, a spawn) is bounded here.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new McpError(ErrorCode.RequestTimeout, 'connect timed out')), timeoutMs);
    });
    try {
      await Promise.race([client.connect(transport, { timeout: timeoutMs }), deadline]);
      session.ready = true;
    } catch (e) {
      const err = await session.explain(e, 'initialize', timeoutMs, false);
      await session.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    // list_changed: drop the cached tool list, the next call fetches it again.
    client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      session.toolCache = undefined;
    });
    return session;
  }

  get pid(): number | undefined {
    return this.transport instanceof StdioServerTransport ? this.transport.pid : undefined;
  }

  get serverVersion() {
    return this.client.getServerVersion();
  }
  get serverCapabilities() {
    return this.client.getServerCapabilities();
  }
  get instructions() {
    return this.client.getInstructions();
  }

  /** Send one request; any failure becomes an McpAuditError naming the method. */
  async request<T>(method: string, params: Record<string, unknown> | undefined, schema: ZodType<T>, timeoutMs: number): Promise<T> {
    if (this.closed) throw new McpAuditError('exited', `the MCP server connection is closed; cannot send ${method}`);
    try {
      return (await this.client.request({ method, params } as any, schema as any, { timeout: timeoutMs })) as T;
    } catch (e) {
      throw await this.explain(e, method, timeoutMs, !REPLAYABLE.has(method));
    }
  }

  /** Every page of a list (tools, resources, resource templates, prompts). */
  async listAll(name: ListName, timeoutMs: number): Promise<any[]> {
    const { method, field, schema } = LISTS[name];
    const caps = this.serverCapabilities ?? {};
    const capability = name === 'resource_templates' ? 'resources' : name;
    if (!(caps as any)[capability]) return [];
    const items: any[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < MAX_PAGES; i++) {
      const result: any = await this.request(method, cursor ? { cursor } : undefined, schema as ZodType<any>, timeoutMs);
      items.push(...result[field]);
      cursor = result.nextCursor;
      if (!cursor) return items;
    }
    throw new McpAuditError('protocol', `${method} returned more than ${MAX_PAGES} pages; the server's cursors do not end`);
  }

  /** The tool list, cached for the life of the session until the server says it changed. */
  tools(timeoutMs: number): Promise<Tool[]> {
    if (!this.toolCache) {
      this.toolCache = this.listAll('tools', timeoutMs) as Promise<Tool[]>;
      this.toolCache.catch(() => (this.toolCache = undefined));
    }
    return this.toolCache;
  }

  invalidateTools(): void {
    this.toolCache = undefined;
  }

  /** Turn an SDK/transport failure into an error that says what happened and what the server said. */
  async explain(e: unknown, what: string, timeoutMs: number, reachedServer: boolean): Promise<McpAuditError> {
    if (e instanceof McpAuditError) return e;
    const stdio = this.transport instanceof StdioServerTransport ? this.transport : undefined;
    const garbage = stdio?.garbageLines
      ? ` The server wrote ${stdio.garbageLines} non-JSON line(s) on stdout (last: ${JSON.stringify(stdio.lastGarbage)}); an MCP stdio server must write only JSON-RPC there.`
      : '';
    const stderrTail = () => (stdio?.stderr.trim() ? ` Server stderr (last lines): ${stdio.stderr.trim().split('\n').slice(-15).join('\n')}` : '');
    const details = (extra: Record<string, unknown> = {}) => ({
      ...(stdio ? { server_stderr: stdio.stderr.split('\n').slice(-30).join('\n'), server_exit: stdio.status ?? null } : {}),
      ...extra,
    });
    const http = httpStatus(e);
    // Streamable HTTP names the session in a header; legacy SSE in the POST endpoint the server gave.
    if (http === 404 && (this.transport.sessionId || (this.definition.transport === 'sse' && this.ready))) {
      // The server forgot our session (restart, expiry): nothing ran, so a new session may replay the request.
      // The session is dead for good: mark it so a pool replaces it instead of retrying on it.
      this.closed = true;
      return new McpAuditError('exited', `the server no longer knows this MCP session (HTTP 404 during ${what})`, details(), false);
    }
    if (http === 401 || http === 403) {
      // Reached the server and refused: the same credentials will not do better on a retry (and retries hammer an auth endpoint).
      return new McpAuditError('connect', `the server refused ${what} with HTTP ${http}: check server_headers / bearer_token`, details(), true);
    }
    if (http) {
      const text = e instanceof Error ? e.message : String(e);
      return new McpAuditError('connect', `${what} failed with HTTP ${http}: ${text}`, details(), reachedServer && http < 400);
    }
    // Legacy SSE: the event stream's EventSource turned our "could not connect" error into a string; use the original.
    const network = (this.transport as { lastConnectError?: McpAuditError }).lastConnectError;
    if (network && this.definition.transport === 'sse' && e instanceof Error && e.message.startsWith('SSE error: could not connect')) return network;
    if (e instanceof McpError && e.code === ErrorCode.RequestTimeout) {
      return new McpAuditError('timeout', `${what} timed out after ${timeoutMs / 1000} s (timeout: ${timeoutMs / 1000}); the request was cancelled.${garbage}`, details(), reachedServer);
    }
    const closed = (e instanceof McpError && e.code === ErrorCode.ConnectionClosed) || this.closed;
    if (closed && stdio) {
      await stdio.waitExit(2000);
      return new McpAuditError('exited', `the MCP server ${stdio.describeExit()} during ${what}.${stderrTail()}${garbage}`, details(), reachedServer);
    }
    if (closed) return new McpAuditError('exited', `the connection to the MCP server closed during ${what}`, details(), reachedServer);
    if (e instanceof McpError) {
      return new McpAuditError('server', `the MCP server answered ${what} with error ${e.code}: ${e.message.replace(/^(MCP error -?\d+: )+/, '')}`, details({ error_code: e.code, error_data: e.data }), true);
    }
    const message = e instanceof Error ? e.message : String(e);
    if (/protocol version/i.test(message)) return new McpAuditError('protocol', `initialize failed: ${message}`, details());
    return new McpAuditError(reachedServer ? 'exited' : 'connect', `${what} failed: ${message}.${stderrTail()}${garbage}`, details(), reachedServer);
  }

  async close(): Promise<void> {
    const terminate = (this.transport as { terminateSession?: () => Promise<void> }).terminateSession;
    if (!this.closed && terminate && this.transport.sessionId) {
      // Streamable HTTP: tell the server the session is over (DELETE), bounded so a dead server cannot stall a close.
      await Promise.race([terminate.call(this.transport).catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    }
    this.closed = true;
    try {
      await this.client.close();
    } catch {
      /* closing a dead session is fine */
    }
    await this.transport.close().catch(() => undefined);
  }
}
