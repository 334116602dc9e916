/**
 * What a run must have done (src/llm/expectations.ts): expected tool calls
 * (only calls that reached the server count), the final answer (contains,
 * case-insensitive; or a regex), and an answer at all.
 */
import { describe, expect, it } from 'vitest';
import type { AgentRun, ToolCallRecord } from '../../src/llm/agent_loop';
import { answerRegex, checkRun, type Expectations } from '../../src/llm/expectations';

const SERVER_TOOLS = new Set(['echo', 'get-sum']);
const call = (name: string, extra: Partial<ToolCallRecord> = {}): ToolCallRecord => ({ name, arguments: {}, is_error: false, reached_server: true, result: 'ok', iteration: 1, ...extra });
const run = (finalAnswer: string | null, toolCalls: ToolCallRecord[] = [], stopReason: string | null = 'stop'): AgentRun => ({ finalAnswer, toolCalls, iterations: 2, stopReason });
const expect_ = (e: Partial<Expectations>): Expectations => ({ max_iterations: 5, ...e });

describe('checkRun', () => {
  it('passes with nothing expected, matches_expected null', () => {
    expect(checkRun(run('hi', [call('echo')]), expect_({}), SERVER_TOOLS)).toEqual({
      valid: true,
      matches_expected: null,
      expected_tools_called: null,
      answer_matches: null,
      errors: [],
      warnings: [],
    });
  });

  it('expected tool calls met', () => {
    const v = checkRun(run('5', [call('echo'), call('get-sum')]), expect_({ expected_tool_calls: ['get-sum'] }), SERVER_TOOLS);
    expect(v).toMatchObject({ matches_expected: true, expected_tools_called: true, errors: [] });
  });

  it('a missing tool call is an error naming what the model did call', () => {
    const v = checkRun(run('hi', [call('echo')]), expect_({ expected_tool_calls: ['echo', 'get-sum'] }), SERVER_TOOLS);
    expect(v.errors).toEqual(["expected tool call 'get-sum' not made; the model called: echo"]);
    expect(v.matches_expected).toBe(false);
    expect(v.expected_tools_called).toBe(false);
  });

  it('says when the model called no tools, and when the expected tool is not on the server', () => {
    const v = checkRun(run('hi'), expect_({ expected_tool_calls: ['echo', 'ech0'] }), SERVER_TOOLS);
    expect(v.errors).toEqual(["expected tool calls 'echo', 'ech0' (the server has no such tool) not made; the model called no tools"]);
  });

  it('a refused call does not count as called, and is a warning that makes valid false', () => {
    const v = checkRun(run('hi', [call('get-sum', { reached_server: false, is_error: true, result: 'bad args' })]), expect_({ expected_tool_calls: ['get-sum'] }), SERVER_TOOLS);
    expect(v.valid).toBe(false);
    expect(v.errors).toEqual(["expected tool call 'get-sum' not made; the model called: get-sum (refused)"]);
    expect(v.warnings).toEqual(["the call of 'get-sum' (iteration 1) was refused before reaching the server: bad args"]);
  });

  it('a tool that answered isError still counts as called; it is a warning', () => {
    const v = checkRun(run('hi', [call('echo', { is_error: true, result: 'boom' })]), expect_({ expected_tool_calls: ['echo'] }), SERVER_TOOLS);
    expect(v.errors).toEqual([]);
    expect(v.warnings).toEqual(["tool 'echo' (iteration 1) answered isError: boom"]);
  });

  it('expected_answer: contained, case-insensitive; checked by default when given', () => {
    expect(checkRun(run('The sum is FIVE'), expect_({ expected_answer: 'five' }), SERVER_TOOLS)).toMatchObject({ answer_matches: true, matches_expected: true, errors: [] });
    const v = checkRun(run('The sum is 6'), expect_({ expected_answer: '5' }), SERVER_TOOLS);
    expect(v.answer_matches).toBe(false);
    expect(v.errors).toEqual(['the final answer does not contain "5" (case-insensitive): "The sum is 6"']);
  });

  it('validate_result: false leaves the answer unchecked, with a warning', () => {
    const v = checkRun(run('The sum is 6'), expect_({ expected_answer: '5', validate_result: false }), SERVER_TOOLS);
    expect(v.errors).toEqual([]);
    expect(v.answer_matches).toBeNull();
    expect(v.warnings).toEqual(['the expected answer was not checked because validate_result is false']);
  });

  it('expected_answer_regex, with (?i) for case-insensitive', () => {
    expect(checkRun(run('sum: 5'), expect_({ expected_answer_regex: '\\b5\\b' }), SERVER_TOOLS).errors).toEqual([]);
    expect(checkRun(run('SUM: 5'), expect_({ expected_answer_regex: '(?i)^sum: \\d+$' }), SERVER_TOOLS).errors).toEqual([]);
    expect(checkRun(run('SUM: 5'), expect_({ expected_answer_regex: '^sum' }), SERVER_TOOLS).errors).toEqual(['the final answer does not match expected_answer_regex "^sum": "SUM: 5"']);
    expect(() => answerRegex('(')).toThrow(/expected_answer_regex is not a valid regular expression/);
  });

  it('no final answer (max_iterations reached) is an error, and fails the answer check', () => {
    const v = checkRun(run(null, [call('echo')]), expect_({ expected_answer: 'x', max_iterations: 3 }), SERVER_TOOLS);
    expect(v.errors).toEqual(['no final answer: the model was still calling tools after max_iterations (3) LLM requests']);
    expect(v.answer_matches).toBe(false);
  });

  it('warns about an empty or cut-off answer', () => {
    expect(checkRun(run('  '), expect_({}), SERVER_TOOLS).warnings).toEqual(['the final answer is empty']);
    expect(checkRun(run('half an ans', [], 'max_tokens'), expect_({}), SERVER_TOOLS).warnings).toEqual(['the final answer was cut off (max_tokens)']);
  });
});
