/**
 * The shape of `run` and `close` params, checked before the pool sees them:
 * a malformed request must not leave a half-made entry behind (it would keep
 * the pool from ever being empty and break every later status request).
 */
import type { RunParams } from '../src/broker_protocol';
import type { ServerDefinition } from '../src/server_definition';
import { MAX_TIMER_MS } from '../src/connection_options';
import { RequestError } from './server';

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function serverParam(params: unknown): ServerDefinition {
  const server = isObject(params) ? params.server : undefined;
  if (!isObject(server) || !['stdio', 'sse', 'http'].includes(server.transport as string)) {
    throw new RequestError('params.server must be a server definition with transport stdio, sse or http');
  }
  return server as unknown as ServerDefinition;
}

export function runParams(params: unknown): RunParams {
  const server = serverParam(params);
  const { settings, op, args } = params as Record<string, unknown>;
  if (!isObject(settings) || !['timeoutMs', 'idleTimeoutMs', 'maxRetries'].every((k) => Number.isFinite(settings[k]))) {
    throw new RequestError('params.settings must hold numeric timeoutMs, idleTimeoutMs and maxRetries');
  }
  // Modules check the options; a raw client must not overflow a timer either (it would fire at once).
  const { timeoutMs, idleTimeoutMs, maxRetries } = settings as Record<string, number>;
  if (!(timeoutMs >= 1 && timeoutMs <= MAX_TIMER_MS && idleTimeoutMs >= 0 && idleTimeoutMs <= MAX_TIMER_MS && maxRetries >= 0)) {
    throw new RequestError(`params.settings out of range: timeoutMs 1..${MAX_TIMER_MS}, idleTimeoutMs 0..${MAX_TIMER_MS}, maxRetries >= 0`);
  }
  if (typeof op !== 'string') throw new RequestError('params.op must be an operation name');
  return { server, settings: settings as unknown as RunParams['settings'], op: op as RunParams['op'], args };
}

export function closeParams(params: unknown): { server: ServerDefinition } {
  return { server: serverParam(params) };
}
