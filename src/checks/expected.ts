/**
 * expected_result matching, compatible with 1.1.x: a string or number matches
 * the tool's text content with coercion ("42" ~ 42); a dict or list matches
 * structuredContent, or the text content parsed as JSON.
 */
import { isDeepStrictEqual } from 'node:util';

export interface ToolOutput {
  content?: { type: string; text?: string }[];
  structuredContent?: unknown;
}

export function textOf(result: ToolOutput): string {
  return (result.content ?? [])
    .filter((c) => c.type === 'text' && typeof c.text === 'string')
    .map((c) => c.text)
    .join('\n');
}

/** Numbers and numeric strings compare as numbers; everything else as trimmed text. */
function scalarEqual(expected: string | number | boolean, actual: string): boolean {
  const a = actual.trim();
  const e = String(expected).trim();
  if (a === e) return true;
  if (e !== '' && a !== '' && !Number.isNaN(Number(e)) && !Number.isNaN(Number(a))) return Number(e) === Number(a);
  if (typeof expected === 'boolean') return a.toLowerCase() === e;
  return false;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Subset match: every key the playbook expects must be equal; extra keys in the result are fine. */
function contains(expected: unknown, actual: unknown): boolean {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([k, v]) => contains(v, (actual as any)[k]));
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length && expected.every((v, i) => contains(v, actual[i]));
  }
  if (typeof expected === 'number' && typeof actual === 'string') return scalarEqual(expected, actual);
  if (typeof expected === 'string' && typeof actual === 'number') return scalarEqual(actual, expected);
  return isDeepStrictEqual(expected, actual);
}

export interface ExpectationCheck {
  matches: boolean;
  reason?: string;
}

export function matchExpected(expected: unknown, result: ToolOutput): ExpectationCheck {
  const text = textOf(result);
  if (expected === null || expected === undefined) return { matches: true };
  if (typeof expected === 'string' || typeof expected === 'number' || typeof expected === 'boolean') {
    if (scalarEqual(expected, text)) return { matches: true };
    if (result.structuredContent !== undefined && contains(expected, result.structuredContent)) return { matches: true };
    return { matches: false, reason: `expected ${JSON.stringify(expected)}, got text ${JSON.stringify(text.length > 500 ? text.slice(0, 500) + '…' : text)}` };
  }
  if (result.structuredContent !== undefined && contains(expected, result.structuredContent)) return { matches: true };
  const parsed = parseJson(text);
  if (parsed !== undefined && contains(expected, parsed)) return { matches: true };
  const actual = result.structuredContent !== undefined ? result.structuredContent : parsed !== undefined ? parsed : text;
  return { matches: false, reason: `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)?.slice(0, 500)}` };
}
