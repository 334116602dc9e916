/**
 * Errors a person can act on, from whatever the SDK or a transport threw:
 * which request, what the server said or how it died (exit code or signal,
 * stderr tail, garbage on stdout), timeouts, HTTP statuses, TLS problems.
 * Each error also says whether the request may be replayed on a new session.
 */
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpAuditError } from '../errors';
import type { TransportName } from '../server_definition';
import type { WithConnectError } from './http_transport';
import { StdioServerTransport } from './stdio_transport';

export interface FailureContext {
  transport: Transport;
  transportName: TransportName;
  /** initialize had succeeded. */
  initialized: boolean;
  closed: boolean;
}

export interface Explained {
  error: McpAuditError;
  /** The server no longer knows the session: it must be replaced, not retried. */
  sessionLost?: boolean;
}

/** The HTTP status behind an SDK transport error (SseError, StreamableHTTPError), if any. */
export function httpStatus(e: unknown): number | undefined {
  const code = (e as { code?: unknown })?.code;
  const message = e instanceof Error ? e.message : '';
  // Matched by message: class names do not survive minification.
  if (typeof code === 'number' && code >= 100 && code < 600 && /^(SSE|Streamable HTTP) error/.test(message)) return code;
  const m = e instanceof Error ? /\(HTTP (\d{3})\)/.exec(e.message) : null;
  return m ? Number(m[1]) : undefined;
}

export async function explainFailure(ctx: FailureContext, e: unknown, what: string, timeoutMs: number, reachedServer: boolean): Promise<Explained> {
  if (e instanceof McpAuditError) return { error: e };
  // The transport answered for the server (a result over max_result_size): its error says it all.
  if (e instanceof McpError && e.data instanceof McpAuditError) return { error: e.data };
  const stdio = ctx.transport instanceof StdioServerTransport ? ctx.transport : undefined;
  const garbage = stdio?.garbageLines
    ? ` The server wrote ${stdio.garbageLines} non-JSON line(s) on stdout (last: ${JSON.stringify(stdio.lastGarbage)}); an MCP stdio server must write only JSON-RPC there.`
    : '';
  const stderrTail = () => {
    const tail = stdio?.stderrTail(15).trim();
    return tail ? ` Server stderr (last lines): ${tail}` : '';
  };
  const details = (extra: Record<string, unknown> = {}) => ({
    ...(stdio ? { server_stderr: stdio.stderrTail(30), server_exit: stdio.status ?? null } : {}),
    ...extra,
  });
  const http = httpStatus(e);
  // Streamable HTTP names the session in a header; legacy SSE in the POST endpoint the server gave.
  if (http === 404 && (ctx.transport.sessionId || (ctx.transportName === 'sse' && ctx.initialized))) {
    // The server forgot our session (restart, expiry): nothing ran, so a new session may replay the request.
    return { error: new McpAuditError('exited', `the server no longer knows this MCP session (HTTP 404 during ${what})`, details(), false), sessionLost: true };
  }
  if (http === 401 || http === 403) {
    // Reached the server and refused: the same credentials will not do better on a retry (and retries hammer an auth endpoint).
    return { error: new McpAuditError('connect', `the server refused ${what} with HTTP ${http}: check server_headers / bearer_token`, details(), true) };
  }
  if (http) {
    const text = e instanceof Error ? e.message : String(e);
    return { error: new McpAuditError('connect', `${what} failed with HTTP ${http}: ${text}`, details(), reachedServer && http < 400) };
  }
  // Legacy SSE: the event stream's EventSource turned our "could not connect" error into a string; use the original.
  const network = (ctx.transport as WithConnectError).lastConnectError;
  if (network && ctx.transportName === 'sse' && e instanceof Error && e.message.startsWith('SSE error: could not connect')) return { error: network };
  // An event stream cut for its size: the request it carried then times out or finds the connection closed; say why.
  const oversized = (ctx.transport as WithConnectError).takeOversized?.();
  if (oversized) return { error: oversized };
  if (e instanceof McpError && e.code === ErrorCode.RequestTimeout) {
    return { error: new McpAuditError('timeout', `${what} timed out after ${timeoutMs / 1000} s (timeout: ${timeoutMs / 1000}); the request was cancelled.${garbage}`, details(), reachedServer) };
  }
  const closed = (e instanceof McpError && e.code === ErrorCode.ConnectionClosed) || ctx.closed;
  if (closed && stdio) {
    await stdio.waitExit(2000);
    return { error: new McpAuditError('exited', `the MCP server ${stdio.describeExit()} during ${what}.${stderrTail()}${garbage}`, details(), reachedServer) };
  }
  if (closed) return { error: new McpAuditError('exited', `the connection to the MCP server closed during ${what}`, details(), reachedServer) };
  if (e instanceof McpError) {
    return { error: new McpAuditError('server', `the MCP server answered ${what} with error ${e.code}: ${e.message.replace(/^(MCP error -?\d+: )+/, '')}`, details({ error_code: e.code, error_data: e.data }), true) };
  }
  const message = e instanceof Error ? e.message : String(e);
  if (/protocol version/i.test(message)) return { error: new McpAuditError('protocol', `initialize failed: ${message}`, details()) };
  return { error: new McpAuditError(reachedServer ? 'exited' : 'connect', `${what} failed: ${message}.${stderrTail()}${garbage}`, details(), reachedServer) };
}
