/**
 * The pool: one MCP session per server definition, shared by every task
 * (and every Ansible fork) that asks for it. It knows sessions, not
 * processes: how a server is started is the transport's business.
 *
 * Per entry, opening and closing are serialized (one connect at a time;
 * requests wait for it); requests on a ready session run concurrently and
 * are multiplexed by JSON-RPC id inside the SDK client.
 */
import { McpAuditError } from '../src/errors';
import { openWithRetries } from '../src/mcp/connect';
import type { McpSession } from '../src/mcp/session';
import { executeOperation, isOperation } from '../src/operations';
import type { ConnectionReport } from '../src/connection';
import { describeServer, poolKey, type ConnectionSettings, type ServerDefinition } from '../src/server_definition';
import type { BrokerLog } from './log';

type EntryState = 'connecting' | 'ready' | 'closing';

interface PoolEntry {
  key: string;
  /** The key's first 12 hex digits: what status, results and the log show. */
  id: string;
  definition: ServerDefinition;
  state: EntryState;
  session?: McpSession;
  opening?: Promise<{ session: McpSession; attempts: number }>;
  createdAt: number;
  lastUsed: number;
  requests: number;
  inFlight: number;
  idleTimeoutMs: number;
  idleTimer?: NodeJS.Timeout;
  /** Sessions this entry has opened; >1 means it was replaced after a death. */
  generation: number;
}

export interface PoolEvents {
  /** The pool became empty (the broker may start its exit grace period). */
  onEmpty(): void;
  onBusy(): void;
  /** Server process groups owned by the pool changed (for orphan cleanup after a crash). */
  onServersChanged(pids: number[]): void;
}

export class Pool {
  private readonly entries = new Map<string, PoolEntry>();

  constructor(
    private readonly log: BrokerLog,
    private readonly events: PoolEvents,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Run one operation for a task, on a warm session when there is one. */
  async run(definition: ServerDefinition, settings: ConnectionSettings, op: string, args: unknown): Promise<{ data: unknown; connection: ConnectionReport }> {
    if (!isOperation(op)) throw new McpAuditError('usage', `unknown operation '${op}'`);
    const entry = this.entryFor(definition);
    entry.idleTimeoutMs = settings.idleTimeoutMs;
    entry.inFlight++;
    this.clearIdle(entry);
    try {
      let { session, reused, reconnected, attempts } = await this.sessionFor(entry, settings);
      try {
        const data = await executeOperation(session, op, args as never, settings.timeoutMs);
        return { data, connection: this.report(entry, session, reused, reconnected, attempts) };
      } catch (e) {
        if (!(e instanceof McpAuditError)) throw e;
        // The server was reached: say how, even when the request failed (unknown tool, bad arguments).
        if (e.kind !== 'exited') {
          e.details.connection = this.report(entry, session, reused, reconnected, attempts);
          throw e;
        }
        this.log.write('server lost', { key: entry.id, during: op, ...exitFields(session) });
        // Nothing with side effects was sent (a list request found the server dead): replace it and run once more.
        if (e.reachedServer || settings.maxRetries === 0) throw e;
        ({ session, attempts } = await this.sessionFor(entry, settings));
        const data = await executeOperation(session, op, args as never, settings.timeoutMs);
        return { data, connection: this.report(entry, session, false, true, attempts) };
      }
    } finally {
      entry.inFlight--;
      entry.lastUsed = Date.now();
      entry.requests++;
      this.scheduleIdle(entry);
    }
  }

  private report(entry: PoolEntry, session: McpSession, reused: boolean, reconnected: boolean, attempts: number): ConnectionReport {
    return { reused, pooled: true, reconnected, attempts, server_pid: session.pid ?? null, key: entry.id, session_requests: entry.requests + 1 };
  }

  private entryFor(definition: ServerDefinition): PoolEntry {
    const key = poolKey(definition);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { key, id: key.slice(0, 12), definition, state: 'connecting', createdAt: Date.now(), lastUsed: Date.now(), requests: 0, inFlight: 0, idleTimeoutMs: 300_000, generation: 0 };
      this.entries.set(key, entry);
      this.events.onBusy();
    }
    return entry;
  }

  /** A live session for the entry: the warm one, the one being opened, or a new one. */
  private async sessionFor(entry: PoolEntry, settings: ConnectionSettings) {
    if (entry.session && !entry.session.closed && entry.state === 'ready') {
      return { session: entry.session, reused: true, reconnected: false, attempts: 0 };
    }
    const reconnected = entry.generation > 0;
    if (!entry.opening) {
      entry.state = 'connecting';
      if (entry.session) {
        this.log.write('replacing dead session', { key: entry.id, ...exitFields(entry.session) });
        const dead = entry.session;
        entry.session = undefined;
        void dead.close();
      }
      entry.opening = this.open(entry, settings).finally(() => (entry.opening = undefined));
    }
    const { session, attempts } = await entry.opening.catch((e) => {
      if (this.entries.get(entry.key) === entry && !entry.session) this.remove(entry);
      throw e;
    });
    return { session, reused: false, reconnected, attempts };
  }

  private async open(entry: PoolEntry, settings: ConnectionSettings): Promise<{ session: McpSession; attempts: number }> {
    const started = Date.now();
    const { session, attempts } = await openWithRetries(entry.definition, settings, (attempt, e) =>
      this.log.write('connect retry', { key: entry.id, attempt, error: e.kind }),
    );
    entry.generation++;
    entry.session = session;
    entry.state = 'ready';
    session.onclose = () => {
      this.log.write('server closed', { key: entry.id, ...exitFields(session) });
      // It died on its own (the pool closes a session only after taking it out of its entry): stop what
      // it left running (a forked child holding its stdout) now; the next task replaces it.
      if (entry.session === session) void session.close();
      this.publishServers();
    };
    this.log.write('server started', { key: entry.id, ...describeServer(entry.definition), pid: session.pid, ms: Date.now() - started, attempts });
    this.publishServers();
    return { session, attempts };
  }

  private clearIdle(entry: PoolEntry): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
  }

  /** connection_timeout: an idle entry is closed after that many seconds without requests. */
  private scheduleIdle(entry: PoolEntry): void {
    this.clearIdle(entry);
    if (entry.inFlight > 0 || this.entries.get(entry.key) !== entry) return;
    entry.idleTimer = setTimeout(() => {
      if (entry.inFlight === 0) {
        this.log.write('idle timeout', { key: entry.id, idle_s: entry.idleTimeoutMs / 1000 });
        void this.closeEntry(entry);
      }
    }, entry.idleTimeoutMs);
  }

  private remove(entry: PoolEntry): void {
    this.clearIdle(entry);
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    this.publishServers();
    if (!this.entries.size) this.events.onEmpty();
  }

  private async closeEntry(entry: PoolEntry): Promise<void> {
    entry.state = 'closing';
    this.remove(entry);
    const session = entry.session ?? (await entry.opening?.catch(() => undefined))?.session;
    entry.session = undefined;
    if (session) {
      await session.close();
      this.log.write('server stopped', { key: entry.id, ...exitFields(session) });
    }
  }

  /** Close the entry for a definition (mcp_broker state=absent); false when there was none. */
  async close(definition: ServerDefinition): Promise<boolean> {
    const entry = this.entries.get(poolKey(definition));
    if (!entry) return false;
    await this.closeEntry(entry);
    return true;
  }

  async closeAll(): Promise<number> {
    const all = [...this.entries.values()];
    await Promise.all(all.map((e) => this.closeEntry(e)));
    return all.length;
  }

  status(): Record<string, unknown>[] {
    const now = Date.now();
    return [...this.entries.values()].map((e) => ({
      key: e.id,
      ...describeServer(e.definition),
      state: e.session?.closed ? 'dead' : e.state,
      server_pid: e.session?.pid ?? null,
      server_info: e.session?.serverVersion ?? null,
      protocol_version: e.session?.negotiatedVersion ?? null,
      age_s: Math.round((now - e.createdAt) / 100) / 10,
      idle_s: e.inFlight ? 0 : Math.round((now - e.lastUsed) / 100) / 10,
      idle_timeout_s: e.idleTimeoutMs / 1000,
      requests: e.requests,
      in_flight: e.inFlight,
      sessions_opened: e.generation,
    }));
  }

  private publishServers(): void {
    const pids = [...this.entries.values()].map((e) => e.session?.pid).filter((p): p is number => !!p);
    this.events.onServersChanged(pids);
  }
}

function exitFields(session: McpSession): Record<string, unknown> {
  const t = session.transport as { status?: { code: number | null; signal: string | null }; pid?: number };
  return { pid: t.pid, exit_code: t.status?.code ?? null, signal: t.status?.signal ?? null };
}
