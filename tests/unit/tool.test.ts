/**
 * Tool-call verdicts (src/checks/tool.ts), shared by mcp_test_tool and
 * mcp_test_suite. Outcomes are built by hand in the shape operations.callTool
 * produces; every result goes through the SDK's CallToolResultSchema so it is
 * a real MCP tools/call result.
 */
import { CallToolResultSchema, ToolSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { CallToolOutcome } from '../../src/operations';
import { judgeToolCall } from '../../src/checks/tool';

const tool = (extra: Partial<Tool> = {}): Tool =>
  ToolSchema.parse({ name: 'add', description: 'adds numbers', inputSchema: { type: 'object', properties: { a: { type: 'number' } } }, ...extra });

const result = (r: Record<string, unknown>) => CallToolResultSchema.parse(r) as Record<string, any>;
const textResult = (text: string, extra: Record<string, unknown> = {}) => result({ content: [{ type: 'text', text }], ...extra });

function outcome(r: Record<string, any> | undefined, extra: Partial<CallToolOutcome> = {}): CallToolOutcome {
  return { tool: tool(), skipped: false, input_errors: [], output_errors: [], result: r, elapsed_ms: 12, ...extra };
}

describe('judgeToolCall', () => {
  describe('a plain successful call', () => {
    const v = judgeToolCall('add', outcome(textResult('42')), {});

    it('passes with no msg key at all', () => {
      expect(v.passed).toBe(true);
      expect('msg' in v).toBe(false);
    });

    it('reports the tool result', () => {
      expect(v.tool_result).toEqual({
        content: [{ type: 'text', text: '42' }],
        structured_content: null,
        is_error: false,
        // 1.1.x returned the CallToolResult with MCP's own field names.
        structuredContent: null,
        isError: false,
        meta: null,
      });
    });

    it('is valid with no expectation to match', () => {
      expect(v.validation).toEqual({ valid: true, matches_expected: null, errors: [], warnings: [] });
    });
  });

  it('reports structuredContent when the tool returns it', () => {
    const v = judgeToolCall('add', outcome(textResult('{"sum":3}', { structuredContent: { sum: 3 } })), {});
    expect(v.tool_result.structured_content).toEqual({ sum: 3 });
    expect(v.tool_result.structuredContent).toEqual({ sum: 3 });
  });

  describe('isError', () => {
    it('fails when the tool answers isError and no error was expected, quoting the text', () => {
      const v = judgeToolCall('add', outcome(textResult('division by zero', { isError: true })), {});
      expect(v.passed).toBe(false);
      expect(v.tool_result.is_error).toBe(true);
      expect(v.tool_result.isError).toBe(true);
      expect(v.validation.errors).toEqual(['the tool answered isError: true: division by zero']);
      expect(v.msg).toBe("tool 'add' test failed: the tool answered isError: true: division by zero");
      // The output schema was not broken: valid is about output_errors only.
      expect(v.validation.valid).toBe(true);
    });

    it('joins all text blocks of an error and ignores non-text content', () => {
      const r = result({
        content: [
          { type: 'text', text: 'first' },
          { type: 'image', data: 'aGVsbG8=', mimeType: 'image/png' },
          { type: 'text', text: 'second' },
        ],
        isError: true,
      });
      const v = judgeToolCall('add', outcome(r), { expect_error: false });
      expect(v.validation.errors).toEqual(['the tool answered isError: true: first second']);
    });

    it('says "(no text content)" when an error has no text', () => {
      const v = judgeToolCall('add', outcome(result({ content: [], isError: true })), {});
      expect(v.validation.errors).toEqual(['the tool answered isError: true: (no text content)']);
    });

    it('truncates a long error text to 300 characters', () => {
      const long = 'x'.repeat(1000);
      const v = judgeToolCall('add', outcome(textResult(long, { isError: true })), {});
      expect(v.validation.errors[0]).toBe(`the tool answered isError: true: ${'x'.repeat(300)}…`);
    });

    it('passes when isError is expected (expect_error: true)', () => {
      const v = judgeToolCall('add', outcome(textResult('bad input', { isError: true })), { expect_error: true });
      expect(v.passed).toBe(true);
      expect(v.msg).toBeUndefined();
      expect(v.tool_result.is_error).toBe(true);
      expect(v.validation.errors).toEqual([]);
    });

    it('fails when expect_error is true but the tool succeeded', () => {
      const v = judgeToolCall('add', outcome(textResult('3')), { expect_error: true });
      expect(v.passed).toBe(false);
      expect(v.validation.errors).toEqual(['expect_error is true but the tool did not answer isError']);
      expect(v.msg).toBe("tool 'add' test failed: expect_error is true but the tool did not answer isError");
    });

    it('treats isError: false like no isError', () => {
      const v = judgeToolCall('add', outcome(textResult('3', { isError: false })), {});
      expect(v.passed).toBe(true);
      expect(v.tool_result.is_error).toBe(false);
    });
  });

  describe('expected_result', () => {
    it('matches a scalar against the text content', () => {
      const v = judgeToolCall('add', outcome(textResult('42')), { expected_result: 42 });
      expect(v.passed).toBe(true);
      expect(v.validation.matches_expected).toBe(true);
    });

    it('matches a dict against structuredContent', () => {
      const v = judgeToolCall('add', outcome(textResult('done', { structuredContent: { sum: 3, extra: true } })), { expected_result: { sum: 3 } });
      expect(v.passed).toBe(true);
      expect(v.validation.matches_expected).toBe(true);
    });

    it('fails on a mismatch and says why', () => {
      const v = judgeToolCall('add', outcome(textResult('43')), { expected_result: 42 });
      expect(v.passed).toBe(false);
      expect(v.validation.matches_expected).toBe(false);
      expect(v.validation.errors).toEqual(['expected_result does not match: expected 42, got text "43"']);
      expect(v.msg).toBe('tool \'add\' test failed: expected_result does not match: expected 42, got text "43"');
    });

    it('leaves matches_expected null when expected_result is null or absent', () => {
      expect(judgeToolCall('add', outcome(textResult('1')), { expected_result: null }).validation.matches_expected).toBeNull();
      expect(judgeToolCall('add', outcome(textResult('1')), { expected_result: undefined }).validation.matches_expected).toBeNull();
    });

    it('treats falsy expectations (0, "", false) as real expectations', () => {
      expect(judgeToolCall('add', outcome(textResult('0')), { expected_result: 0 }).validation.matches_expected).toBe(true);
      expect(judgeToolCall('add', outcome(textResult('1')), { expected_result: 0 }).validation.matches_expected).toBe(false);
      expect(judgeToolCall('add', outcome(textResult('')), { expected_result: '' }).validation.matches_expected).toBe(true);
      expect(judgeToolCall('add', outcome(textResult('true')), { expected_result: false }).validation.matches_expected).toBe(false);
    });

    it('reports both an unexpected isError and a mismatch, joined with "; "', () => {
      const v = judgeToolCall('add', outcome(textResult('oops', { isError: true })), { expected_result: 'fine' });
      expect(v.validation.errors).toHaveLength(2);
      expect(v.msg).toBe(`tool 'add' test failed: ${v.validation.errors.join('; ')}`);
      expect(v.validation.errors[0]).toMatch(/^the tool answered isError: true: oops$/);
      expect(v.validation.errors[1]).toMatch(/^expected_result does not match: /);
    });
  });

  describe('output schema errors', () => {
    const schemaTool = tool({ outputSchema: { type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'] } });

    it('make valid false and the verdict fail, listing the errors first', () => {
      const errs = ["structured_content: must have required property 'sum'"];
      const v = judgeToolCall('add', outcome(textResult('3', { structuredContent: { total: 3 } }), { tool: schemaTool, output_errors: errs }), {});
      expect(v.passed).toBe(false);
      expect(v.validation.valid).toBe(false);
      expect(v.validation.errors).toEqual(errs);
      expect(v.msg).toBe(`tool 'add' test failed: ${errs[0]}`);
    });

    it('keep valid false even when expected_result matches', () => {
      const v = judgeToolCall(
        'add',
        outcome(textResult('3', { structuredContent: { total: 3 } }), { tool: schemaTool, output_errors: ['the tool declares an outputSchema but returned no structuredContent'] }),
        { expected_result: 3 },
      );
      expect(v.validation.matches_expected).toBe(true);
      expect(v.validation.valid).toBe(false);
      expect(v.passed).toBe(false);
    });

    it('do not mutate the outcome', () => {
      const o = outcome(textResult('x', { isError: true }), { output_errors: ['e1'] });
      judgeToolCall('add', o, { expected_result: 'y' });
      expect(o.output_errors).toEqual(['e1']);
    });
  });

  describe('changed', () => {
    it('is false for a tool annotated readOnlyHint: true', () => {
      const v = judgeToolCall('add', outcome(textResult('1'), { tool: tool({ annotations: { readOnlyHint: true } }) }), {});
      expect(v.changed).toBe(false);
    });

    it('is true for readOnlyHint: false', () => {
      const v = judgeToolCall('add', outcome(textResult('1'), { tool: tool({ annotations: { readOnlyHint: false } }) }), {});
      expect(v.changed).toBe(true);
    });

    it('is true without annotations or without readOnlyHint', () => {
      expect(judgeToolCall('add', outcome(textResult('1')), {}).changed).toBe(true);
      expect(judgeToolCall('add', outcome(textResult('1'), { tool: tool({ annotations: { destructiveHint: false } }) }), {}).changed).toBe(true);
    });

    it('does not depend on whether the test passed', () => {
      const ro = tool({ annotations: { readOnlyHint: true } });
      const v = judgeToolCall('add', outcome(textResult('boom', { isError: true }), { tool: ro }), {});
      expect(v.passed).toBe(false);
      expect(v.changed).toBe(false);
    });
  });

  it('does not throw on an outcome without a result (callers report skipped calls themselves)', () => {
    const v = judgeToolCall('add', outcome(undefined, { skipped: true }), {});
    expect(v.tool_result).toEqual({ content: [], structured_content: null, is_error: false, structuredContent: null, isError: false, meta: null });
  });
});
