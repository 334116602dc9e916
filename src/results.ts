/** Result pieces shared by the MCP modules. */
import type { ModuleResult, OptionSpec, ReturnSpec, TaskContext } from './ansible/spec';
import { ModuleFailure } from './errors';

/**
 * The 1.1.x test keys from a verdict. A test that did not pass fails its
 * task, unless the play asked for 1.1.x's way (O(fail_on_error=false)).
 */
export function testOutcome(verdict: { passed: boolean; msg?: string }, failOnError = true): ModuleResult {
  return {
    failed: !verdict.passed && failOnError,
    success: true,
    test_passed: verdict.passed,
    status: verdict.passed ? 'passed' : 'failed',
    ...(verdict.msg ? { msg: verdict.msg } : {}),
  };
}

/** Seconds since `started` (a performance.now() value), rounded to the millisecond. */
export const seconds = (started: number) => Math.round(performance.now() - started) / 1000;

/**
 * A failed task from an MCP failure: `msg` and `error` carry the explanation,
 * `details` (server stderr tail, exit status) ride along. Unexpected errors
 * are rethrown so the protocol layer reports them as internal errors.
 */
export function mcpFailure(e: unknown, extra: Record<string, unknown>, started: number): ModuleResult {
  return { ...extra, ...failedResult(e), execution_time: seconds(started) };
}

/** The failed result of a ModuleFailure; anything else is rethrown. */
function failedResult(e: unknown): ModuleResult {
  if (!(e instanceof ModuleFailure)) throw e;
  return { ...e.details, failed: true, success: false, msg: e.message, error: e.message };
}

/**
 * Wrap a module's run so every result carries what 1.1.x put in each result:
 * `error` (null unless the task failed to do its work) and `metadata.timestamp`.
 * A ModuleFailure thrown by the run becomes the same failed result mcpFailure builds.
 */
type Run = (params: Record<string, any>, task: TaskContext) => Promise<ModuleResult>;

export function withCommonKeys(run: Run): Run {
  return async (params, task) => {
    let result: ModuleResult;
    try {
      result = await run(params, task);
    } catch (e) {
      result = failedResult(e);
    }
    return { error: null, ...result, metadata: { timestamp: new Date().toISOString() } };
  };
}

/** The per-task way back to 1.1.x, where a test that did not pass left the task ok. */
export const FAIL_ON_ERROR_OPTION: OptionSpec = {
  description: [
    'Fail the task when the test does not pass.',
    'Set false for the 1.1.x behaviour: the task succeeds and C(test_passed), C(status) and C(validation) tell the outcome. A task that cannot do its work (server unreachable, unknown name, request error) fails either way.',
  ],
  type: 'bool',
  default: true,
};

export const VALIDATION_RETURN: ReturnSpec = {
  description: 'Checks made on the result (1.1.x compatible).',
  returned: 'when the server answered',
  type: 'dict',
  contains: {
    valid: { description: 'Schema checks passed.', returned: 'always', type: 'bool' },
    matches_expected: { description: 'Result matched the expectation; null when none was given.', returned: 'always', type: 'bool' },
    errors: { description: 'Why the test failed.', returned: 'always', type: 'list', elements: 'str' },
    warnings: { description: 'Findings that do not fail the test.', returned: 'always', type: 'list', elements: 'str' },
  },
};

/** mcp_test_tool and mcp_test_suite: prompt injection in what a tool returns. */
export const SCAN_RESULT_OPTION: OptionSpec = {
  description: [
    'Run the text rules of M(tosin2013.mcp_audit.mcp_security_scan) on what the tool returned (its text content and the strings of C(structuredContent)): a result reaches the model\'s context as a description does, so prompt injection can arrive there.',
    'The findings are returned in C(scan_findings); a high one fails the test.',
  ],
  type: 'bool',
  default: false,
};

export const SCAN_FINDINGS_RETURN: ReturnSpec = {
  description: 'What the text rules found in the result, as C(findings) of M(tosin2013.mcp_audit.mcp_security_scan) (target kind C(tool_result), field such as C(content[0].text)).',
  returned: 'when scan_result is true and the tool was called',
  type: 'list',
  elements: 'dict',
};
