/**
 * One initialized MCP session over any transport, built on the SDK's Client.
 *
 * It knows MCP (initialize, requests with timeouts, pagination, list_changed)
 * and turns every failure into an McpAuditError a person can act on
 * (failures.ts). It does
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
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ZodType } from 'zod/v4';
import { McpAuditError } from '../errors';
import { MAX_NESTING, nestedDeeperThan } from '../data_limits';
import type { ServerDefinition } from '../server_definition';
import { explainFailure } from './failures';
import { openTransport } from './transports';
import { StdioServerTransport } from './stdio_transport';
import { VERSION } from '../version';
import { WaitingTask } from '../waiting_task';

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

export class McpSession {
  private toolCache?: Promise<Tool[]>;
  negotiatedVersion?: string;
  closed = false;
  /** Initialize succeeded. */
  private ready = false;
  onclose?: () => void;
  /** Each list as this session first saw it in full: a later listing that differs is a definition changed mid-session. */
  readonly firstListed: Partial<Record<ListName, any[]>> = {};
  /** list_changed notifications received so far (tools, prompts, resources). */
  listChanges = 0;

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
      session.listChanges++;
    });
    for (const schema of [PromptListChangedNotificationSchema, ResourceListChangedNotificationSchema]) {
      client.setNotificationHandler(schema, async () => {
        session.listChanges++;
      });
    }
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
    // In the broker: never send for a task that gave up, and cancel what is in flight when it does.
    const task = WaitingTask.current();
    task?.ensureWaiting();
    let result: T;
    try {
      result = (await this.client.request({ method, params } as any, schema as any, { timeout: timeoutMs, signal: task?.requestSignal() })) as T;
    } catch (e) {
      task?.ensureWaiting();
      throw await this.explain(e, method, timeoutMs, !REPLAYABLE.has(method));
    }
    // Checked here, for every transport: deeper JSON would overflow the stack of whatever walks it next.
    if (nestedDeeperThan(result, MAX_NESTING)) {
      throw new McpAuditError('protocol', `${method} failed: the server's result nests objects and lists more than ${MAX_NESTING} levels deep, the most this collection accepts`, {}, true);
    }
    return result;
  }

  /** Every page of a list (tools, resources, resource templates, prompts); [] when the server does not offer it. */
  async listAll(name: ListName, timeoutMs: number): Promise<any[]> {
    const { method, field, schema } = LISTS[name];
    const caps = this.serverCapabilities ?? {};
    const capability = name === 'resource_templates' ? 'resources' : name;
    if (!(caps as any)[capability]) return [];
    const items: any[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < MAX_PAGES; i++) {
      let result: any;
      try {
        result = await this.request(method, cursor ? { cursor } : undefined, schema as ZodType<any>, timeoutMs);
      } catch (e) {
        // A capability does not promise every list: `resources` without templates answers
        // resources/templates/list with "method not found". Nothing offered is an empty list.
        if (e instanceof McpAuditError && e.kind === 'server' && e.details.error_code === ErrorCode.MethodNotFound) return items;
        throw e;
      }
      items.push(...result[field]);
      cursor = result.nextCursor;
      if (!cursor) {
        this.firstListed[name] ??= items;
        return items;
      }
    }
    throw new McpAuditError('protocol', `${method} returned more than ${MAX_PAGES} pages; the server's cursors do not end`);
  }

  /** The tool list, cached for the life of the session until the server says it changed. */
  tools(timeoutMs: number): Promise<Tool[]> {
    if (!this.toolCache) {
      WaitingTask.current()?.ensureWaiting();
      // Shared by every task that asks meanwhile: one task giving up must not fail the others.
      this.toolCache = WaitingTask.shared(() => this.listAll('tools', timeoutMs)) as Promise<Tool[]>;
      this.toolCache.catch(() => (this.toolCache = undefined));
    }
    return this.toolCache;
  }

  invalidateTools(): void {
    this.toolCache = undefined;
  }

  /** Turn an SDK/transport failure into an error that says what happened and what the server said. */
  async explain(e: unknown, what: string, timeoutMs: number, reachedServer: boolean): Promise<McpAuditError> {
    const { error, sessionLost } = await explainFailure(
      { transport: this.transport, transportName: this.definition.transport, initialized: this.ready, closed: this.closed },
      e,
      what,
      timeoutMs,
      reachedServer,
    );
    // A session the server forgot is dead for good: marked so a pool replaces it instead of retrying on it.
    if (sessionLost) this.closed = true;
    return error;
  }

  private closing?: Promise<void>;

  /** Idempotent: the pool and a dying transport may both ask. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
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
