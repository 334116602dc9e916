/** Result pieces shared by the MCP modules. */
import type { ModuleResult, ReturnSpec } from './ansible/spec';
import { ModuleFailure } from './errors';

/** The 1.1.x test keys from a verdict: a test that did not pass fails its task. */
export function testOutcome(verdict: { passed: boolean; msg?: string }): ModuleResult {
  return {
    failed: !verdict.passed,
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
  if (!(e instanceof ModuleFailure)) throw e;
  return { ...extra, ...e.details, failed: true, success: false, msg: e.message, error: e.message, execution_time: seconds(started) };
}

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
