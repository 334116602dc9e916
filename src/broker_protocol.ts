/**
 * What modules and the broker say to each other over the unix socket: one
 * JSON object per line, each request answered by one reply with its id.
 * Every request carries the protocol and runtime versions; a broker from
 * another build refuses it instead of guessing.
 */
import type { ConnectionSettings, ServerDefinition } from './server_definition';
import type { OperationName } from './operations';

export const PROTOCOL_VERSION = 1;
/** Requests larger than this are refused (tool arguments are rarely more than a few KB). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

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
}

export interface BrokerError {
  kind: string;
  message: string;
  details?: Record<string, unknown>;
  reachedServer?: boolean;
}

export type BrokerReply = { id: number; ok: true; result: unknown } | { id: number | null; ok: false; error: BrokerError };
