/**
 * Errors a person can act on. A ModuleFailure's message is what the failed
 * task shows as `msg`; anything else thrown is a bug and is reported as such.
 */
export class ModuleFailure extends Error {
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ModuleFailure';
  }
}

/** Why talking to an MCP server failed; decides retries and is kept across the broker socket. */
export type McpErrorKind =
  | 'not_found' // server_command not found / not executable
  | 'spawn' // could not start the server for another reason
  | 'exited' // server process exited or the connection closed
  | 'timeout' // a request got no answer within `timeout`
  | 'connect' // could not reach a URL
  | 'protocol' // the server broke the protocol (garbage, bad initialize)
  | 'server' // the server answered with a JSON-RPC error
  | 'usage'; // the request itself is wrong (unknown tool, invalid arguments)

export class McpAuditError extends ModuleFailure {
  constructor(
    readonly kind: McpErrorKind,
    message: string,
    details: Record<string, unknown> = {},
    /** True once a request that may have side effects (tools/call) reached the server: it is never replayed. */
    readonly reachedServer = false,
  ) {
    super(message, details);
    this.name = 'McpAuditError';
  }

  /** Connect/initialize failures worth another attempt (max_connection_retries). */
  get retryable(): boolean {
    return !this.reachedServer && (this.kind === 'exited' || this.kind === 'connect' || this.kind === 'spawn');
  }

  toJSON() {
    return { kind: this.kind, message: this.message, details: this.details, reachedServer: this.reachedServer };
  }

  static fromJSON(j: { kind: McpErrorKind; message: string; details?: Record<string, unknown>; reachedServer?: boolean }): McpAuditError {
    return new McpAuditError(j.kind, j.message, j.details ?? {}, j.reachedServer ?? false);
  }
}
