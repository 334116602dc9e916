/** Did a tool call pass? Shared by mcp_test_tool and mcp_test_suite. */
import type { CallToolOutcome } from '../operations';
import { matchExpected } from './expected';
import type { Finding } from '../security/types';

export interface ToolExpectations {
  expected_result?: unknown;
  expect_error?: boolean;
  /**
   * scan_result: the security scan's text rules for the result (scanToolResult, which the caller
   * loads only when asked: its rule tables stay off every other task's start-up); a high finding fails the test.
   */
  scan?: (toolName: string, result: Record<string, any>) => Finding[];
}

export interface ToolVerdict {
  passed: boolean;
  /** A tool not annotated read-only may have changed something. */
  changed: boolean;
  msg?: string;
  /** The 2.0.0 keys, and the result as 1.1.x returned it (MCP's own field names, `meta` for `_meta`). */
  tool_result: { content: unknown[]; structured_content: unknown; is_error: boolean; structuredContent: unknown; isError: boolean; meta: unknown };
  validation: { valid: boolean; matches_expected: boolean | null; errors: string[]; warnings: string[] };
  /** With scan_result: what the text rules found in the result. */
  scan_findings?: Finding[];
}

function textPreview(result: Record<string, any>): string {
  const text = (result.content ?? []).filter((c: any) => c.type === 'text').map((c: any) => c.text).join(' ');
  return text.length > 300 ? text.slice(0, 300) + '…' : text || '(no text content)';
}

export function judgeToolCall(name: string, outcome: CallToolOutcome, expect: ToolExpectations): ToolVerdict {
  const result = outcome.result ?? {};
  const isError = result.isError === true;
  const errors = [...outcome.output_errors];
  if (isError && !expect.expect_error) errors.push(`the tool answered isError: true: ${textPreview(result)}`);
  if (!isError && expect.expect_error) errors.push('expect_error is true but the tool did not answer isError');
  let matches: boolean | null = null;
  if (expect.expected_result !== null && expect.expected_result !== undefined) {
    const check = matchExpected(expect.expected_result, result as any);
    matches = check.matches;
    if (!check.matches) errors.push(`expected_result does not match: ${check.reason}`);
  }
  const scan_findings = expect.scan?.(name, result);
  const injected = (scan_findings ?? []).filter((f) => f.severity === 'high');
  if (injected.length) {
    errors.push(`the result carries text aimed at the model (scan_result): ${injected.map((f) => `${f.rule_id} ${f.rule_name} in ${f.field}`).join('; ')}`);
  }
  const passed = errors.length === 0;
  return {
    passed,
    changed: outcome.tool.annotations?.readOnlyHint !== true,
    ...(passed ? {} : { msg: `tool '${name}' test failed: ${errors.join('; ')}` }),
    tool_result: {
      content: result.content ?? [],
      structured_content: result.structuredContent ?? null,
      is_error: isError,
      structuredContent: result.structuredContent ?? null,
      isError,
      meta: result._meta ?? null,
    },
    validation: { valid: outcome.output_errors.length === 0, matches_expected: matches, errors, warnings: [] },
    ...(scan_findings ? { scan_findings } : {}),
  };
}
