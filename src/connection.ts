/**
 * How a module gets MCP work done: on a pooled session in the broker
 * (connection_reuse: true) or on a session of its own that is closed before
 * the module exits (connection_reuse: false). Heavy code (the MCP SDK, ajv)
 * is imported only on the path that needs it.
 */
import { McpAuditError } from './errors';
import type { OperationMap, OperationName } from './operations';
import { serverFromParams, settingsFromParams, type ConnectionSettings, type ServerDefinition } from './server_definition';

/** Returned by every MCP module as `connection`, so a playbook can see whether it got a warm session. */
export interface ConnectionReport {
  reused: boolean;
  pooled: boolean;
  reconnected?: boolean;
  attempts: number;
  server_pid?: number | null;
  key?: string;
  [k: string]: unknown;
}

export interface OperationReply<R> {
  data: R;
  connection: ConnectionReport;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Exponential backoff between connect attempts: 0.25 s, 0.5 s, 1 s, ... capped at 4 s. */
export const backoffMs = (attempt: number) => Math.min(4000, 250 * 2 ** attempt);

/** Open a session, retrying connect/initialize failures that may be transient. */
export async function openWithRetries(def: ServerDefinition, settings: ConnectionSettings, onRetry?: (attempt: number, e: McpAuditError) => void) {
  const { McpSession } = await import('./mcp/session');
  for (let attempt = 0; ; attempt++) {
    try {
      return { session: await McpSession.open(def, settings.timeoutMs), attempts: attempt + 1 };
    } catch (e) {
      if (!(e instanceof McpAuditError) || !e.retryable || attempt >= settings.maxRetries) {
        if (e instanceof McpAuditError && attempt > 0) e.message += ` (after ${attempt + 1} attempts)`;
        throw e;
      }
      onRetry?.(attempt + 1, e);
      await sleep(backoffMs(attempt));
    }
  }
}

/** Run one operation on a fresh session and close it (the connection_reuse: false path). */
async function runDirect<K extends OperationName>(def: ServerDefinition, settings: ConnectionSettings, op: K, args: OperationMap[K]['args']) {
  const { executeOperation } = await import('./operations');
  const { session, attempts } = await openWithRetries(def, settings);
  try {
    const data = await executeOperation(session, op, args, settings.timeoutMs);
    return { data, connection: { reused: false, pooled: false, attempts, server_pid: session.pid ?? null } };
  } finally {
    await session.close();
  }
}

export async function runOnServer<K extends OperationName>(params: Record<string, any>, op: K, args: OperationMap[K]['args']): Promise<OperationReply<OperationMap[K]['result']>> {
  const def = serverFromParams(params);
  const settings = settingsFromParams(params);
  return runDirect(def, settings, op, args);
}
