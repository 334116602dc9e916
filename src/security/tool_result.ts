/**
 * scan_result: the text rules on what a tool returned. A result goes into the
 * model's context like a description does, so prompt injection can arrive
 * there too (OWASP MCP06, prompt injection via contextual payloads).
 */
import { MAX_NESTING } from '../data_limits';
import { scanText } from './scan';
import type { Finding } from './types';

/** Every string of a tools/call result the model would read, with its path. */
function* resultStrings(result: Record<string, any>): Generator<[string, string]> {
  for (const [i, block] of (result.content ?? []).entries()) {
    if (block?.type === 'text' && typeof block.text === 'string') yield [`content[${i}].text`, block.text];
    if (block?.type === 'resource' && typeof block.resource?.text === 'string') yield [`content[${i}].resource.text`, block.resource.text];
  }
  const walk = function* (value: unknown, path: string, depth: number): Generator<[string, string]> {
    if (typeof value === 'string') yield [path, value];
    else if (depth < MAX_NESTING && Array.isArray(value)) for (const [i, v] of value.entries()) yield* walk(v, `${path}[${i}]`, depth + 1);
    else if (depth < MAX_NESTING && value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* walk(v, `${path}.${k}`, depth + 1);
  };
  if (result.structuredContent !== undefined) yield* walk(result.structuredContent, 'structuredContent', 0);
}

export function scanToolResult(toolName: string, result: Record<string, any>): Finding[] {
  return [...resultStrings(result)].flatMap(([field, text]) => scanText(text, { kind: 'tool_result', name: toolName, field }, {}));
}
