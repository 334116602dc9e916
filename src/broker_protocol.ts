/**
 * What modules and the broker say to each other over the unix socket: one
 * JSON object per line, each request answered by one reply with its id.
 * Every request carries the protocol and runtime versions; a broker from
 * another build refuses it instead of guessing.
 *
 * A module that says how long it waits in silence (patienceMs) gets a
 * heartbeat line every HEARTBEAT_MS while its request is worked on: an
 * operation of many MCP requests may last as long as they take, and a frozen
 * or dead broker is still noticed within that patience.
 */
import type { ConnectionSettings, ServerDefinition } from './server_definition';
import type { OperationName } from './operations';

export const PROTOCOL_VERSION = 1;
/** Requests larger than this are refused (tool arguments are rarely more than a few KB). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** How often the broker tells a waiting module that it is still at work. */
export const HEARTBEAT_MS = 1000;

/**
 * Milliseconds on the system-wide monotonic clock, which the module and the
 * broker (same host, it's a unix socket) share; wall-clock jumps do not move it.
 */
export const monotonicMs = () => Number(process.hrtime.bigint() / 1_000_000n);

export interface RunParams {
  server: ServerDefinition;
  settings: ConnectionSettings;
  op: OperationName;
  args: unknown;
}

export type BrokerMethod = 'run' | 'status' | 'close' | 'stop' | 'ping';

export interface BrokerRequest {
  id: number;
  protocol: number;
  runtime: string;
  method: BrokerMethod;
  params?: unknown;
  /**
   * How long the module waits without hearing from the broker before it gives
   * up (ms). With it, the broker sends heartbeats, and sends nothing to a
   * server for the request once the module may have given up.
   */
  patienceMs?: number;
  /** When the module sent the request, on the monotonicMs() clock. */
  sentAt?: number;
}

/** "Still working on request `id`." */
export interface BrokerHeartbeat {
  id: number;
  heartbeat: true;
}

export interface BrokerError {
  kind: string;
  message: string;
  details?: Record<string, unknown>;
  reachedServer?: boolean;
}

export type BrokerReply = { id: number; ok: true; result: unknown } | { id: number | null; ok: false; error: BrokerError };
