import { defineModule } from '../src/ansible/spec';
import { CONNECTION_OPTIONS, CONNECTION_REQUIRED_IF, CONNECTION_RETURNS } from '../src/connection_options';
import { runOnServer } from '../src/connection';
import { judgeToolCall, type ToolExpectations } from '../src/checks/tool';
import { judgeResource } from '../src/checks/resource';
import { judgePrompt, promptArguments } from '../src/checks/prompt';
import { junitXml, type JUnitCase } from '../src/junit';
import { ModuleFailure } from '../src/errors';
import { writeReportFile } from '../src/report_file';
import type { BatchItem, BatchResult, CallToolOutcome, GetPromptOutcome, ReadResourceOutcome } from '../src/operations';
import { mcpFailure, SCAN_RESULT_OPTION, seconds, withCommonKeys } from '../src/results';

interface SuiteTest {
  type: 'tool' | 'resource' | 'prompt';
  name: string | null;
  description: string | null;
  arguments: Record<string, unknown>;
  expected_result: unknown;
  expect_error: boolean;
  scan_result: boolean | null;
  uri: string | null;
  expected_content_type: string | null;
  expected_content: string | null;
  expected_content_regex: string | null;
  expected_messages_min: number | null;
}

interface TestReport {
  name: string;
  type: string;
  status: 'passed' | 'failed' | 'error' | 'skipped';
  passed: boolean;
  duration: number;
  error?: string;
  [k: string]: unknown;
}

const label = (t: SuiteTest, i: number) => t.description ?? `${t.type} ${t.name ?? t.uri ?? `#${i + 1}`}`;

/** A test as 1.1.x reported it in test_results. */
const legacyResult = (t: SuiteTest, r: TestReport) => ({ test_type: t.type, test_name: t.name ?? t.uri ?? 'unknown', passed: r.passed, error: r.passed ? null : (r.error ?? null) });

function itemFor(t: SuiteTest, i: number, checkMode: boolean, validateSchema: boolean): BatchItem {
  const needs = (field: 'name' | 'uri') => {
    if (!t[field]) throw new ModuleFailure(`tests[${i}] (type ${t.type}) needs '${field}'`);
    return t[field]!;
  };
  switch (t.type) {
    case 'tool':
      return { op: 'call_tool', args: { name: needs('name'), arguments: t.arguments ?? {}, check_mode: checkMode, validate_input: validateSchema, validate_output: validateSchema } };
    case 'resource':
      return { op: 'read_resource', args: { uri: needs('uri') } };
    case 'prompt':
      return { op: 'get_prompt', args: { name: needs('name'), arguments: promptArguments(t.arguments) } };
  }
}

function judge(t: SuiteTest, i: number, outcome: BatchResult[number] | undefined, scan: ToolExpectations['scan']): TestReport {
  const base = { name: label(t, i), type: t.type };
  if (!outcome) return { ...base, status: 'error', passed: false, duration: 0, error: 'not run: the server exited during an earlier test' };
  if (!outcome.ok) {
    // An expected error (expect_error) that the server raised as a protocol error still passes.
    if (t.expect_error && outcome.error.kind === 'server') return { ...base, status: 'passed', passed: true, duration: 0, error: outcome.error.message };
    const usage = outcome.error.kind === 'usage';
    return { ...base, status: usage ? 'failed' : 'error', passed: false, duration: 0, error: outcome.error.message };
  }
  if (t.type === 'tool') {
    const data = outcome.data as CallToolOutcome;
    const duration = data.elapsed_ms / 1000;
    if (data.input_errors.length) return { ...base, status: 'failed', passed: false, duration, error: `tool_arguments do not match the inputSchema: ${data.input_errors.join('; ')}` };
    if (data.skipped) return { ...base, status: 'skipped', passed: false, duration, error: 'check mode: not called (not annotated readOnlyHint: true)' };
    const v = judgeToolCall(t.name!, data, { ...t, scan });
    const scanned = v.scan_findings ? { scan_findings: v.scan_findings } : {};
    return { ...base, status: v.passed ? 'passed' : 'failed', passed: v.passed, duration, ...(v.msg ? { error: v.msg } : {}), changed: v.changed, tool_result: v.tool_result, validation: v.validation, ...scanned };
  }
  if (t.type === 'resource') {
    const data = outcome.data as ReadResourceOutcome;
    const v = judgeResource(t.uri!, data.result, t);
    return { ...base, status: v.passed ? 'passed' : 'failed', passed: v.passed, duration: data.elapsed_ms / 1000, ...(v.msg ? { error: v.msg } : {}), contents: v.contents, validation: v.validation };
  }
  const data = outcome.data as GetPromptOutcome;
  const v = judgePrompt(t.name!, data.result, { expected_messages_min: t.expected_messages_min, expected_content_regex: t.expected_content_regex });
  return { ...base, status: v.passed ? 'passed' : 'failed', passed: v.passed, duration: data.elapsed_ms / 1000, ...(v.msg ? { error: v.msg } : {}), messages: v.messages, validation: v.validation };
}

function summarize(reports: TestReport[]) {
  const n = (s: TestReport['status']) => reports.filter((r) => r.status === s).length;
  const passed = n('passed');
  return {
    total_tests: reports.length,
    passed,
    failed: n('failed') + n('error'),
    errors: n('error'),
    skipped: n('skipped'),
    success_rate: reports.length ? Math.round((passed / reports.length) * 10000) / 100 : 0,
  };
}

function writeReport(path: string, suite: string, reports: TestReport[]): void {
  const cases: JUnitCase[] = reports.map((r) => ({
    name: r.name,
    classname: `${suite}.${r.type}`,
    time: r.duration,
    outcome: r.status,
    message: r.error,
  }));
  writeReportFile(path, junitXml(suite, cases), 'report_path');
}

export default defineModule({
  name: 'mcp_test_suite',
  short_description: 'Run many tool, resource and prompt tests on one MCP session',
  description: [
    'Runs a list of tests (tool calls, resource reads, prompts) in order on one session and reports each with its timing, plus a summary.',
    'A failing test never stops the others. With O(report_path), writes a JUnit XML report that CI systems (Jenkins, GitLab, GitHub) display.',
  ],
  supports_check_mode: true,
  check_mode_support: 'partial',
  check_mode_details: 'Tool tests run only for tools annotated C(readOnlyHint: true); the others are reported as skipped. The report file is not written.',
  options: {
    tests: {
      description: 'The tests to run, in order.',
      type: 'list',
      elements: 'dict',
      required: true,
      options: {
        type: { description: 'What is tested.', type: 'str', required: true, choices: ['tool', 'resource', 'prompt'] },
        name: { description: 'Tool or prompt name (for C(type=tool) and C(type=prompt)).', type: 'str' },
        description: { description: 'Test name shown in results and the report; defaults to "<type> <name>".', type: 'str' },
        arguments: { description: 'Tool arguments or prompt arguments.', type: 'dict', default: {} },
        expected_result: { description: 'For tools: what the result must match (as in mcp_test_tool).', type: 'raw' },
        expect_error: { description: 'For tools: the test passes only when the tool answers C(isError).', type: 'bool', default: false },
        scan_result: { description: 'For tools: overrides the suite\'s O(scan_result) for this test.', type: 'bool' },
        uri: { description: 'Resource URI (for C(type=resource)).', type: 'str' },
        expected_content_type: { description: 'For resources: the MIME type the content must have.', type: 'str' },
        expected_content: { description: 'For resources: text the content must equal.', type: 'str' },
        expected_content_regex: { description: 'For resources and prompts: a regular expression the text must match.', type: 'str' },
        expected_messages_min: { description: 'For prompts: at least this many messages.', type: 'int' },
      },
    },
    fail_on_error: {
      description: ['Fail the task when any test fails. When false, the task succeeds and the results tell.', 'The default was false in 1.1.x: set false explicitly for the 1.1.x behaviour.'],
      type: 'bool',
      default: true,
    },
    validate_schema: {
      description: 'For tool tests: validate C(arguments) against the tool\'s C(inputSchema) before sending, and C(structuredContent) against its C(outputSchema), as mcp_test_tool does. Set false to send arguments unchecked, as 1.1.x did.',
      type: 'bool',
      default: true,
    },
    scan_result: SCAN_RESULT_OPTION,
    report_path: { description: 'Write a JUnit XML report to this path.', type: 'path' },
    suite_name: { description: 'Suite name used in the report.', type: 'str', default: 'mcp_audit' },
    ...CONNECTION_OPTIONS,
  },
  required_if: CONNECTION_REQUIRED_IF,
  examples: `
- name: Audit server-everything in one session
  tosin2013.mcp_audit.mcp_test_suite:
    server_command: npx -y @modelcontextprotocol/server-everything
    report_path: "{{ playbook_dir }}/reports/mcp-junit.xml"
    tests:
      - type: tool
        name: echo
        arguments: {message: hi}
        expected_result: "Echo: hi"
      - type: tool
        name: get-sum
        arguments: {a: 2, b: 3}
      - type: resource
        uri: demo://resource/static/document/architecture.md
        expected_content_type: text/markdown
      - type: prompt
        name: simple-prompt
  register: suite

- ansible.builtin.debug:
    msg: "{{ suite.summary.passed }}/{{ suite.summary.total_tests }} passed"
`,
  returns: {
    ...CONNECTION_RETURNS,
    status: { description: 'C(passed) when every test passed, else C(failed).', returned: 'always', type: 'str', sample: 'passed' },
    test_passed: { description: 'Whether every test passed.', returned: 'always', type: 'bool' },
    results: {
      description: 'One entry per test: C(name), C(type), C(status) (passed, failed, error, skipped), C(passed), C(duration) (seconds), C(error), and what the server returned; C(scan_findings) for tool tests scanned with O(scan_result) (as in M(tosin2013.mcp_audit.mcp_test_tool)).',
      returned: 'always',
      type: 'list',
      elements: 'dict',
    },
    test_results: {
      description: 'One entry per test, as 1.1.x reported it (kept for 1.1.x compatibility).',
      returned: 'always',
      type: 'list',
      elements: 'dict',
      contains: {
        test_type: { description: 'C(tool), C(resource) or C(prompt).', returned: 'always', type: 'str', sample: 'tool' },
        test_name: { description: 'The tool or prompt name, or the resource URI.', returned: 'always', type: 'str', sample: 'add' },
        passed: { description: 'Whether the test passed.', returned: 'always', type: 'bool', sample: true },
        error: { description: 'Why the test did not pass; null when it passed.', returned: 'always', type: 'str', sample: null },
      },
    },
    summary: {
      description: 'Counts and C(success_rate) (percent of tests that passed).',
      returned: 'always',
      type: 'dict',
      sample: { total_tests: 4, passed: 3, failed: 1, errors: 0, skipped: 0, success_rate: 75 },
    },
    report_path: { description: 'Where the JUnit report was written.', returned: 'when report_path was given, except in check mode', type: 'str' },
  },

  run: withCommonKeys(async (p, task) => {
    const started = performance.now();
    const tests = p.tests as SuiteTest[];
    const items = tests.map((t, i) => itemFor(t, i, task.checkMode, p.validate_schema));
    let outcomes: BatchResult;
    let connection;
    try {
      ({ data: outcomes, connection } = await runOnServer(p, 'batch', { items }));
    } catch (e) {
      if (!(e instanceof ModuleFailure)) throw e;
      // The session never came up: every test is an error, in the results and summary as in the report CI gets.
      const errored: TestReport[] = tests.map((t, i) => ({ name: label(t, i), type: t.type, status: 'error', passed: false, duration: 0, error: e.message }));
      const written = !!p.report_path && !task.checkMode;
      if (written) writeReport(p.report_path, p.suite_name, errored);
      const test_results = tests.map((t, i) => legacyResult(t, errored[i]));
      return mcpFailure(e, { test_passed: false, status: 'failed', results: errored, test_results, summary: summarize(errored), ...(written ? { report_path: p.report_path } : {}) }, started);
    }
    const scanned = (t: SuiteTest) => t.scan_result ?? p.scan_result;
    const scan = tests.some(scanned) ? (await import('../src/security/tool_result')).scanToolResult : undefined;
    const results = tests.map((t, i) => judge(t, i, outcomes[i], scanned(t) ? scan : undefined));
    const summary = summarize(results);
    if (p.report_path && !task.checkMode) writeReport(p.report_path, p.suite_name, results);
    const allPassed = results.every((r) => r.passed || r.status === 'skipped');
    const failedNames = results.filter((r) => !r.passed && r.status !== 'skipped').map((r) => r.name);
    return {
      changed: results.some((r) => r.changed === true),
      failed: !allPassed && p.fail_on_error,
      success: true,
      test_passed: allPassed,
      status: allPassed ? 'passed' : 'failed',
      msg: allPassed ? `${summary.passed}/${summary.total_tests} tests passed` : `${failedNames.length} of ${summary.total_tests} tests failed: ${failedNames.join(', ')}`,
      results,
      test_results: tests.map((t, i) => legacyResult(t, results[i])),
      summary,
      ...(p.report_path && !task.checkMode ? { report_path: p.report_path } : {}),
      connection,
      execution_time: seconds(started),
    };
  }),
});
