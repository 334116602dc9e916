/** Opening a session with max_connection_retries: exponential backoff for failures that may be transient. */
import { McpAuditError } from '../errors';
import type { ConnectionSettings, ServerDefinition } from '../server_definition';
import { McpSession } from './session';

/** 0.25 s, 0.5 s, 1 s, ... capped at 4 s. */
export const backoffMs = (attempt: number) => Math.min(4000, 250 * 2 ** attempt);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Retried: the server exited during initialize, or a URL refused the
 * connection. Not retried: command not found, a timeout (a server silent for
 * `timeout` seconds will not answer the next attempt either), protocol errors.
 */
export async function openWithRetries(def: ServerDefinition, settings: ConnectionSettings, onRetry?: (attempt: number, e: McpAuditError) => void) {
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
