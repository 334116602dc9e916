/**
 * Limits on the data a task sends and a server returns: the size of one
 * result (max_result_size) and how deeply JSON may nest. Both keep one huge
 * or hostile answer from stalling or crashing the broker, and both fail with
 * a message that says which limit was hit.
 */
import { McpAuditError } from './errors';

export const MB = 1024 * 1024;
/** max_result_size when a task does not set it (MB). */
export const DEFAULT_MAX_RESULT_MB = 64;
/** The largest max_result_size: a JavaScript string cannot hold much more. */
export const MAX_RESULT_MB = 512;
/**
 * Objects and lists nested deeper than this are refused, in options and in
 * results: code that walks JSON (masking, serializing, Ansible's own Python,
 * whose json module stops near 1,000 levels) would otherwise overflow its stack.
 */
export const MAX_NESTING = 100;

/** True when objects/lists in `value` nest more than `limit` levels (a bare object is 1 level). */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  // The recursion stops at `limit`, so this check itself cannot overflow.
  const deeper = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v !== 'object') return false;
    if (depth >= limit) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (deeper(x, depth + 1)) return true;
    return false;
  };
  return deeper(value, 0);
}

const mb = (bytes: number) => `${Math.round((bytes / MB) * 10) / 10} MB`;

/** "tools/call failed: the server's result of 100 MB exceeds max_result_size (64 MB)"; `bytes` undefined when only "more than the limit" is known. */
export function resultTooLarge(limitBytes: number, bytes: number | undefined, method?: string): McpAuditError {
  const size = bytes === undefined ? `more than ${mb(limitBytes)}` : mb(bytes);
  return new McpAuditError(
    'protocol',
    `${method ? `${method} failed: ` : ''}the server's result of ${size} exceeds max_result_size (${mb(limitBytes)}); raise max_result_size if the server really answers that much`,
    { result_bytes: bytes ?? null, max_result_size_bytes: limitBytes },
    true,
  );
}
