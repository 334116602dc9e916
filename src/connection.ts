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

/** Run one operation on a fresh session and close it (the connection_reuse: false path). */
async function runDirect<K extends OperationName>(def: ServerDefinition, settings: ConnectionSettings, op: K, args: OperationMap[K]['args']) {
  const { executeOperation } = await import('./operations');
  const { openWithRetries } = await import('./mcp/connect');
  const { session, attempts } = await openWithRetries(def, settings);
  const connection = { reused: false, pooled: false, attempts, server_pid: session.pid ?? null };
  try {
    return { data: await executeOperation(session, op, args, settings.timeoutMs), connection };
  } catch (e) {
    if (e instanceof McpAuditError && e.kind !== 'exited') e.details.connection = connection;
    throw e;
  } finally {
    await session.close();
  }
}

export async function runOnServer<K extends OperationName>(params: Record<string, any>, op: K, args: OperationMap[K]['args']): Promise<OperationReply<OperationMap[K]['result']>> {
  const def = serverFromParams(params);
  const settings = settingsFromParams(params);
  if (settings.reuse) {
    const { runPooled } = await import('./broker_client');
    return runPooled(def, settings, op, args);
  }
  return runDirect(def, settings, op, args);
}
