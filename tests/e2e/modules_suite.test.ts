/**
 * mcp_test_suite end to end: real ansible-playbook, the installed collection,
 * real @modelcontextprotocol/server-everything pooled in a broker the play
 * stops; JUnit reports parsed with Python's xml.etree and checked against the
 * structure Jenkins and GitLab read.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { everythingServer, scratchDir } from './harness';
import { ARCHITECTURE_URI, expectCleanEnd, junitCheck, loggedEverything, out, parseXml, pooledRun, SUITE } from './modules-helpers';

const scratch = scratchDir();
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Five tests, the second fails on purpose (2 + 2 is not 5). */
const MIXED = [
  { type: 'tool', name: 'echo', arguments: { message: 'suite' }, expected_result: 'Echo: suite' },
  { type: 'tool', name: 'get-sum', description: 'sum is wrong on purpose', arguments: { a: 2, b: 2 }, expected_result: 5 },
  { type: 'resource', uri: ARCHITECTURE_URI, expected_content_type: 'text/markdown', expected_content_regex: '(?i)architecture' },
  { type: 'prompt', name: 'args-prompt', description: 'weather prompt', arguments: { city: 'Accra' }, expected_content_regex: 'Accra' },
  { type: 'prompt', name: 'simple-prompt' },
];
const MIXED_NAMES = ['tool echo', 'sum is wrong on purpose', `resource ${ARCHITECTURE_URI}`, 'weather prompt', 'prompt simple-prompt'];

describe('mcp_test_suite (server-everything)', () => {
  test('one failing test among passing ones: the others run, summary, timings, fail_on_error, JUnit report', async () => {
    const strictReport = join(scratch, 'strict', 'junit.xml'); // the directory does not exist yet
    const lenientReport = join(scratch, 'lenient.xml');
    const run = await pooledRun([
      { name: 'strict', ignore_errors: true, [SUITE]: { ...everythingServer, tests: MIXED, report_path: strictReport } },
      { name: 'lenient', [SUITE]: { ...everythingServer, tests: MIXED, fail_on_error: false, report_path: lenientReport, suite_name: 'server-everything audit' } },
    ]);
    expect(run.exitCode, out(run)).toBe(0);

    const strict = run.task('strict');
    expect(strict.status, out(run)).toBe('failed'); // fail_on_error defaults to true
    const lenient = run.task('lenient');
    expect(lenient.status, out(run)).toBe('ok');
    expect(lenient.result.failed).toBeFalsy();

    for (const t of [strict, lenient]) {
      const r = t.result;
      expect(r, t.task).toMatchObject({
        success: true,
        test_passed: false,
        status: 'failed',
        changed: false, // every tool called is annotated readOnlyHint: true
        summary: { total_tests: 5, passed: 4, failed: 1, errors: 0, skipped: 0, success_rate: 80 },
        connection: { pooled: true },
      });
      expect(r.msg, t.task).toBe('1 of 5 tests failed: sum is wrong on purpose');
      // Every test ran, in order, the ones after the failure included.
      expect(r.results.map((x: any) => x.name)).toEqual(MIXED_NAMES);
      expect(r.results.map((x: any) => x.status)).toEqual(['passed', 'failed', 'passed', 'passed', 'passed']);
      expect(r.results.map((x: any) => x.type)).toEqual(['tool', 'tool', 'resource', 'prompt', 'prompt']);
      for (const x of r.results) {
        expect(typeof x.duration, x.name).toBe('number');
        expect(x.duration, x.name).toBeGreaterThanOrEqual(0);
        expect(x.passed, x.name).toBe(x.status === 'passed');
      }
      const sum = r.results[1];
      expect(sum.error).toBe(`tool 'get-sum' test failed: expected_result does not match: expected 5, got text "The sum of 2 and 2 is 4."`);
      expect(sum.tool_result.content).toEqual([{ type: 'text', text: 'The sum of 2 and 2 is 4.' }]);
      expect(r.results[0].tool_result.content).toEqual([{ type: 'text', text: 'Echo: suite' }]);
      expect(r.results[2].contents[0]).toMatchObject({ uri: ARCHITECTURE_URI, mime_type: 'text/markdown' });
      expect(r.results[3].messages[0].content.text).toContain('Accra');
      expect(typeof r.execution_time).toBe('number');
    }
    expect(strict.result.report_path).toBe(strictReport);
    expect(lenient.result.report_path).toBe(lenientReport);
    // Both suites ran on the one pooled server.
    expect(lenient.result.connection).toMatchObject({ reused: true, server_pid: strict.result.connection.server_pid });

    for (const [path, suiteName] of [
      [strictReport, 'mcp_audit'],
      [lenientReport, 'server-everything audit'],
    ]) {
      const root = parseXml(path);
      const { problems, cases } = junitCheck(root);
      expect(problems, path).toEqual([]);
      expect(root.attrs).toMatchObject({ tests: '5', failures: '1', errors: '0', skipped: '0' });
      const suites = root.children.filter((c) => c.tag === 'testsuite');
      expect(suites).toHaveLength(1);
      expect(suites[0].attrs).toMatchObject({ name: suiteName, tests: '5', failures: '1', errors: '0', skipped: '0' });
      expect(suites[0].attrs.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      expect(cases.map((c) => c.name)).toEqual(MIXED_NAMES);
      expect(cases.map((c) => c.classname)).toEqual(['tool', 'tool', 'resource', 'prompt', 'prompt'].map((t) => `${suiteName}.${t}`));
      expect(cases.map((c) => c.outcome)).toEqual(['passed', 'failure', 'passed', 'passed', 'passed']);
      const failure = cases[1];
      expect(failure.message).toBe(`tool 'get-sum' test failed: expected_result does not match: expected 5, got text "The sum of 2 and 2 is 4."`);
      expect(failure.text).toBe(failure.message);
    }
    expectCleanEnd(run, 1);
  });

  test('check mode: read-only tools run, others are skipped and not sent; no report is written', async () => {
    const logged = loggedEverything(scratch, 'check');
    const report = join(scratch, 'check.xml');
    const run = await pooledRun(
      [
        {
          name: 'checked suite',
          [SUITE]: {
            ...logged.server,
            report_path: report,
            tests: [
              { type: 'tool', name: 'echo', arguments: { message: 'dry' }, expected_result: 'Echo: dry' },
              { type: 'tool', name: 'toggle-simulated-logging' },
              { type: 'resource', uri: ARCHITECTURE_URI, expected_content_type: 'text/markdown' },
              { type: 'prompt', name: 'simple-prompt' },
            ],
          },
        },
      ],
      { check: true },
    );
    expect(run.exitCode, out(run)).toBe(0);
    const r = run.task('checked suite').result;
    expect(run.task('checked suite').status, out(run)).toBe('ok');
    expect(r.results.map((x: any) => [x.name, x.status])).toEqual([
      ['tool echo', 'passed'],
      ['tool toggle-simulated-logging', 'skipped'],
      [`resource ${ARCHITECTURE_URI}`, 'passed'],
      ['prompt simple-prompt', 'passed'],
    ]);
    expect(r.results[1].error).toBe('check mode: not called (not annotated readOnlyHint: true)');
    expect(r.results[1].tool_result).toBeUndefined();
    expect(r.summary).toEqual({ total_tests: 4, passed: 3, failed: 0, errors: 0, skipped: 1, success_rate: 75 });
    expect(r.test_passed).toBe(true);
    expect(existsSync(report), 'check mode must not write the report').toBe(false);
    expect(r.report_path).toBeUndefined();
    const calls = logged.methods().filter((m) => m.startsWith('tools/call'));
    expect(calls).toEqual(['tools/call:echo']);
    expectCleanEnd(run, 1);
  });

  test('a server that cannot start: the task fails and every test is an error in the JUnit report', async () => {
    const report = join(scratch, 'nostart.xml');
    const server = { server_command: '/nonexistent/mcp-e2e/server' };
    const run = await pooledRun([
      {
        name: 'no server',
        ignore_errors: true,
        [SUITE]: {
          ...server,
          report_path: report,
          tests: [
            { type: 'tool', name: 'echo', arguments: { message: 'x' } },
            { type: 'resource', uri: ARCHITECTURE_URI },
            { type: 'prompt', name: 'simple-prompt', description: 'the prompt' },
          ],
        },
      },
      // fail_on_error does not hide that the suite could not run at all.
      { name: 'no server, lenient', ignore_errors: true, [SUITE]: { ...server, fail_on_error: false, tests: [{ type: 'tool', name: 'echo' }] } },
    ]);
    expect(run.exitCode, out(run)).toBe(0);
    const expectedMsg = "could not start the MCP server: server_command '/nonexistent/mcp-e2e/server' does not exist";
    const t = run.task('no server');
    expect(t.status).toBe('failed');
    expect(t.result).toMatchObject({ success: false, test_passed: false, status: 'failed', msg: expectedMsg, report_path: report });
    // The results and summary say what the report says: three tests, three errors.
    expect(t.result.summary).toEqual({ total_tests: 3, passed: 0, failed: 3, errors: 3, skipped: 0, success_rate: 0 });
    expect(t.result.results.map((x: any) => [x.name, x.status, x.passed, x.error])).toEqual([
      ['tool echo', 'error', false, expectedMsg],
      [`resource ${ARCHITECTURE_URI}`, 'error', false, expectedMsg],
      ['the prompt', 'error', false, expectedMsg],
    ]);
    expect(run.task('no server, lenient').status).toBe('failed');

    const root = parseXml(report);
    const { problems, cases } = junitCheck(root);
    expect(problems).toEqual([]);
    expect(root.attrs).toMatchObject({ tests: '3', failures: '0', errors: '3', skipped: '0' });
    expect(cases.map((c) => [c.name, c.outcome])).toEqual([
      ['tool echo', 'error'],
      [`resource ${ARCHITECTURE_URI}`, 'error'],
      ['the prompt', 'error'],
    ]);
    for (const c of cases) expect(c.message).toBe(expectedMsg);
    expectCleanEnd(run, 0);
  });
});
