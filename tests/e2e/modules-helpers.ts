/**
 * Helpers for the module end-to-end tests (tests/e2e/modules_*.test.ts), on
 * top of ./harness.ts. These tests run the modules as users do by default:
 * pooled (connection_reuse: true), so the MCP work happens in a broker. Each
 * run gets its own MCP_AUDIT_BROKER_DIR (the harness makes a fresh one per
 * run), and its tasks are wrapped in a block whose `always` stops the broker
 * with mcp_broker state=stopped, so nothing may be left when the run ends:
 * expectCleanEnd() asserts that through the harness's leftover scan.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { EVERYTHING_JS, FQCN, NODE, REPO_ROOT, runPlaybook, type PlaybookOptions, type PlaybookRun, type ServerOptions, type Task } from './harness';

export const INFO = `${FQCN}.mcp_server_info`;
export const TOOL = `${FQCN}.mcp_test_tool`;
export const RESOURCE = `${FQCN}.mcp_test_resource`;
export const PROMPT = `${FQCN}.mcp_test_prompt`;
export const SUITE = `${FQCN}.mcp_test_suite`;
export const BROKER = `${FQCN}.mcp_broker`;

export const HELPERS_DIR = join(REPO_ROOT, 'tests', 'helpers');
export const PAGED_SERVER_JS = join(HELPERS_DIR, 'paged_server.mjs');
export const LIST_CHANGED_SERVER_JS = join(HELPERS_DIR, 'list_changed_server.mjs');
export const GITHUB_JS = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-github', 'dist', 'index.js');
/** server-everything's static document behind demo://resource/static/document/architecture.md. */
export const ARCHITECTURE_MD = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'docs', 'architecture.md');
export const ARCHITECTURE_URI = 'demo://resource/static/document/architecture.md';

export const STOP_TASK = 'stop the broker';

/**
 * Run `tasks` pooled, inside a block whose `always` stops the broker (also in
 * --check runs: the stop task has check_mode: false), in a fresh broker dir.
 */
export function pooledRun(tasks: Task[], options: PlaybookOptions = {}): Promise<PlaybookRun> {
  const wrapped: Task[] = [
    {
      name: 'module tests',
      block: tasks,
      always: [{ name: STOP_TASK, check_mode: false, [BROKER]: { state: 'stopped' } }],
    },
  ];
  return runPlaybook(wrapped, { timeoutMs: 180_000, ...options, moduleDefaults: { connection_reuse: true, ...(options.moduleDefaults ?? {}) } });
}

/** The playbook output, for assertion messages. */
export const out = (run: PlaybookRun) => `--- exit ${run.exitCode}\n--- stdout\n${run.stdout.slice(-30_000)}\n--- stderr\n${run.stderr.slice(-10_000)}`;

/** The broker was stopped by the play's last task and no process of the run is left (harness scan). */
export function expectCleanEnd(run: PlaybookRun, pooledServers?: number): void {
  const stop = run.task(STOP_TASK);
  expect(stop.status, out(run)).toBe('ok');
  expect(stop.result.running, out(run)).toBe(false);
  if (pooledServers !== undefined) expect(stop.result.closed, out(run)).toBe(pooledServers);
  expect(run.leftovers, `processes left behind:\n${run.leftovers.map((p) => `${p.pid} ${p.cmdline}`).join('\n')}`).toEqual([]);
}

/**
 * server-everything behind `tee <log>`: the log holds every JSON-RPC message
 * the broker sent to the server, so a test can prove what was (not) sent.
 * Each log makes a different command line, so a different pooled server.
 */
export function loggedEverything(dir: string, name: string) {
  const log = join(dir, `${name}.jsonl`);
  const server: ServerOptions = { server_command: 'sh', server_args: ['-c', `tee "$0" | exec "${NODE}" "${EVERYTHING_JS}"`, log] };
  return {
    log,
    server,
    /** Methods sent, tools/call and prompts/get with their target: `tools/call:echo`. */
    methods(): string[] {
      let text = '';
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l))
        .map((m) => (m.method === 'tools/call' || m.method === 'prompts/get' ? `${m.method}:${m.params?.name}` : (m.method ?? 'response')));
    },
  };
}

export interface JUnitNode {
  tag: string;
  attrs: Record<string, string>;
  text: string;
  children: JUnitNode[];
}

/** Parse an XML file with Python's xml.etree (a real, strict XML parser) into a plain tree. */
export function parseXml(path: string): JUnitNode {
  const script = [
    'import json, sys',
    'import xml.etree.ElementTree as ET',
    'def node(e):',
    '    return {"tag": e.tag, "attrs": dict(e.attrib), "text": (e.text or "").strip(), "children": [node(c) for c in e]}',
    'print(json.dumps(node(ET.parse(sys.argv[1]).getroot())))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, path], { encoding: 'utf8' }));
}

const CASE_CHILDREN = new Set(['failure', 'error', 'skipped', 'system-out', 'system-err']);

/**
 * The JUnit structure Jenkins (junit plugin) and GitLab (artifacts:reports:junit)
 * read: <testsuites> holding <testsuite> elements holding <testcase> elements
 * (name, classname, time in seconds), each with at most one of <failure>,
 * <error>, <skipped>; the suite's counters agree with its cases. Returns the
 * problems found (empty when the report is well-formed) and the cases.
 */
export function junitCheck(root: JUnitNode): { problems: string[]; cases: { suite: string; name: string; classname: string; time: number; outcome: string; message: string; text: string }[] } {
  const problems: string[] = [];
  const cases: ReturnType<typeof junitCheck>['cases'] = [];
  if (root.tag !== 'testsuites') problems.push(`root element is <${root.tag}>, not <testsuites>`);
  const suites = root.children.filter((c) => c.tag === 'testsuite');
  if (!suites.length) problems.push('no <testsuite> in <testsuites>');
  const num = (v: string | undefined, what: string) => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(n) || n < 0) problems.push(`${what} is not a non-negative number: ${JSON.stringify(v)}`);
    return n;
  };
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const s of suites) {
    if (!s.attrs.name) problems.push('a <testsuite> has no name');
    const counted = { tests: 0, failures: 0, errors: 0, skipped: 0 };
    for (const c of s.children) {
      if (c.tag !== 'testcase') {
        if (!['properties', 'system-out', 'system-err'].includes(c.tag)) problems.push(`unexpected <${c.tag}> in <testsuite>`);
        continue;
      }
      counted.tests++;
      if (!c.attrs.name) problems.push('a <testcase> has no name');
      if (!c.attrs.classname) problems.push(`testcase ${c.attrs.name} has no classname`);
      const time = num(c.attrs.time, `time of testcase ${c.attrs.name}`);
      const outcomes = c.children.filter((x) => x.tag === 'failure' || x.tag === 'error' || x.tag === 'skipped');
      for (const x of c.children) if (!CASE_CHILDREN.has(x.tag)) problems.push(`unexpected <${x.tag}> in testcase ${c.attrs.name}`);
      if (outcomes.length > 1) problems.push(`testcase ${c.attrs.name} has ${outcomes.length} outcome elements`);
      const outcome = outcomes[0]?.tag ?? 'passed';
      if (outcome === 'failure') counted.failures++;
      if (outcome === 'error') counted.errors++;
      if (outcome === 'skipped') counted.skipped++;
      cases.push({ suite: s.attrs.name, name: c.attrs.name, classname: c.attrs.classname, time, outcome, message: outcomes[0]?.attrs.message ?? '', text: outcomes[0]?.text ?? '' });
    }
    for (const k of ['tests', 'failures', 'errors', 'skipped'] as const) {
      const declared = num(s.attrs[k], `testsuite ${s.attrs.name} ${k}`);
      if (declared !== counted[k]) problems.push(`testsuite ${s.attrs.name} says ${k}="${s.attrs[k]}" but holds ${counted[k]}`);
      totals[k] += counted[k];
    }
    num(s.attrs.time, `testsuite ${s.attrs.name} time`);
  }
  for (const k of ['tests', 'failures', 'errors'] as const) {
    if (root.attrs[k] !== undefined && Number(root.attrs[k]) !== totals[k]) problems.push(`<testsuites> says ${k}="${root.attrs[k]}" but its suites hold ${totals[k]}`);
  }
  return { problems, cases };
}
