/**
 * What the playbook expects of the model's run: the tools it must have called
 * (calls that reached the server), an answer containing a string or matching
 * a regular expression, and an answer at all. Errors fail the test; warnings
 * (a refused call, a tool error, a cut-off answer) are reported only.
 */
import { ModuleFailure } from '../errors';
import type { AgentRun } from './agent_loop';

export interface Expectations {
  expected_tool_calls?: string[] | null;
  validate_result?: boolean | null;
  expected_answer?: string | null;
  expected_answer_regex?: string | null;
  max_iterations: number;
}

export interface Validation {
  valid: boolean;
  matches_expected: boolean | null;
  /** 1.1.x: whether every expected tool was called (null when none were expected). */
  expected_tools_called: boolean | null;
  /** 1.1.x: whether the final answer matched (null when not checked). */
  answer_matches: boolean | null;
  errors: string[];
  warnings: string[];
}

/** expected_answer_regex as a RegExp; a leading (?i), as Python writes it, makes it case-insensitive. */
export function answerRegex(source: string): RegExp {
  const insensitive = source.startsWith('(?i)');
  try {
    return new RegExp(insensitive ? source.slice(4) : source, insensitive ? 'i' : '');
  } catch (e: any) {
    throw new ModuleFailure(`expected_answer_regex is not a valid regular expression: ${e.message}`);
  }
}

/** Whether the final answer is checked: validate_result, or by default whenever an expected answer is given. */
export const checksAnswer = (e: Expectations) => e.validate_result ?? (Boolean(e.expected_answer) || Boolean(e.expected_answer_regex));

const quoted = (text: string, max = 300) => JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);

function missingTools(run: AgentRun, expected: string[], serverTools: ReadonlySet<string>): string | null {
  const called = new Set(run.toolCalls.filter((c) => c.reached_server).map((c) => c.name));
  const missing = expected.filter((name) => !called.has(name));
  if (!missing.length) return null;
  const made = run.toolCalls.map((c) => (c.reached_server ? c.name : `${c.name} (refused)`));
  const named = missing.map((m) => (serverTools.has(m) ? `'${m}'` : `'${m}' (the server has no such tool)`));
  return `expected tool call${missing.length > 1 ? 's' : ''} ${named.join(', ')} not made; ${made.length ? `the model called: ${made.join(', ')}` : 'the model called no tools'}`;
}

export function checkRun(run: AgentRun, e: Expectations, serverTools: ReadonlySet<string>): Validation {
  const errors: string[] = [];
  const warnings: string[] = [];
  const answer = run.finalAnswer;
  if (answer === null) errors.push(`no final answer: the model was still calling tools after max_iterations (${e.max_iterations}) LLM requests`);
  else if (!answer.trim()) warnings.push('the final answer is empty');
  if (answer !== null && (run.stopReason === 'length' || run.stopReason === 'max_tokens')) warnings.push(`the final answer was cut off (${run.stopReason})`);

  for (const c of run.toolCalls) {
    if (!c.reached_server) warnings.push(`the call of '${c.name}' (iteration ${c.iteration}) was refused before reaching the server: ${c.result}`);
    else if (c.is_error) warnings.push(`tool '${c.name}' (iteration ${c.iteration}) answered isError: ${c.result}`);
  }

  let toolsCalled: boolean | null = null;
  if (e.expected_tool_calls?.length) {
    const missing = missingTools(run, e.expected_tool_calls, serverTools);
    toolsCalled = missing === null;
    if (missing) errors.push(missing);
  }

  let answerMatches: boolean | null = null;
  if (checksAnswer(e)) {
    const checks: boolean[] = [];
    if (e.expected_answer) {
      const ok = answer !== null && answer.toLowerCase().includes(e.expected_answer.toLowerCase());
      checks.push(ok);
      if (!ok && answer !== null) errors.push(`the final answer does not contain ${quoted(e.expected_answer)} (case-insensitive): ${quoted(answer)}`);
    }
    if (e.expected_answer_regex) {
      const ok = answer !== null && answerRegex(e.expected_answer_regex).test(answer);
      checks.push(ok);
      if (!ok && answer !== null) errors.push(`the final answer does not match expected_answer_regex ${quoted(e.expected_answer_regex)}: ${quoted(answer)}`);
    }
    answerMatches = checks.every(Boolean);
  } else if (e.expected_answer || e.expected_answer_regex) {
    warnings.push('the expected answer was not checked because validate_result is false');
  }

  const matches = toolsCalled === null && answerMatches === null ? null : toolsCalled !== false && answerMatches !== false;
  return {
    valid: run.toolCalls.every((c) => c.reached_server),
    matches_expected: matches,
    expected_tools_called: toolsCalled,
    answer_matches: answerMatches,
    errors,
    warnings,
  };
}
