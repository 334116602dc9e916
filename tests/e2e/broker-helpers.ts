/**
 * Helpers for the broker acceptance tests (tests/e2e/broker*.test.ts), on top
 * of ./harness.ts: the broker's files in a run's MCP_AUDIT_BROKER_DIR, its log,
 * raw requests over its unix socket, the installed module run directly on an
 * args file (as Ansible runs a binary module), and process checks in /proc.
 *
 * Everything here talks to real processes; nothing is mocked.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import {
  EVERYTHING_JS,
  FQCN,
  REPO_ROOT,
  killProcesses,
  leftoverProcesses,
  newBrokerDir,
  runPlaybook,
  type LeftoverProcess,
  type PlaybookOptions,
  type PlaybookRun,
  type Task,
  waitForNoLeftovers,
} from './harness';

/** The runtime this build made (the installed collection carries none); the same build as the tasks run. */
export const RUNTIME = join(REPO_ROOT, 'plugins', 'runtime', 'mcp_audit_runtime');
export const TOOL = `${FQCN}.mcp_test_tool`;
export const BROKER = `${FQCN}.mcp_broker`;
/** module_defaults for the pooling tests (the harness defaults to connection_reuse: false). */
export const POOLED = { connection_reuse: true };
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cachedVersion: string | undefined;
/** `<runtime> --version` of the installed collection. */
export function runtimeVersion(): string {
  cachedVersion ??= execFileSync(RUNTIME, ['--version'], { encoding: 'utf8' }).trim();
  return cachedVersion;
}

export interface BrokerFiles {
  dir: string;
  socket: string;
  pid: string;
  log: string;
}

/** The broker's files in `dir`; names follow the runtime version ('+' is not kept in file names). */
export function brokerFiles(dir: string): BrokerFiles {
  const tag = runtimeVersion().replace(/\+/g, '-');
  return { dir, socket: join(dir, `broker-${tag}.sock`), pid: join(dir, `broker-${tag}.pid`), log: join(dir, 'broker.log') };
}

export function readPidFile(dir: string): number | undefined {
  try {
    const pid = parseInt(readFileSync(brokerFiles(dir).pid, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function brokerLog(dir: string): string {
  const { log } = brokerFiles(dir);
  const rotated = `${log}.1`;
  return (existsSync(rotated) ? readFileSync(rotated, 'utf8') : '') + (existsSync(log) ? readFileSync(log, 'utf8') : '');
}

export interface LogEvent {
  pid: number;
  event: string;
  line: string;
}

/** Log lines are `<iso time> pid=<broker pid> <event words> key=value ...`. */
export function logEvents(dir: string): LogEvent[] {
  return brokerLog(dir)
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^\S+ pid=(\d+) (.+?)(?= [a-z_]+=|$)/.exec(line);
      return { pid: m ? Number(m[1]) : -1, event: m ? m[2] : '', line };
    });
}

export const countEvents = (dir: string, event: string) => logEvents(dir).filter((e) => e.event === event).length;

/** Alive and not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Poll `check` every 100 ms until it is true or `ms` passed; returns its last value. */
export async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

export const brokerProcesses = (runId: string) => leftoverProcesses(runId).filter((p) => / --broker$/.test(p.cmdline));
export const everythingProcesses = (runId: string) => leftoverProcesses(runId).filter((p) => p.cmdline.includes(EVERYTHING_JS));

/**
 * One scenario: a fresh broker dir and run id shared by its playbooks, and
 * a cleanup that kills whatever is left (after the test has asserted it).
 */
export class Scenario {
  readonly dir = newBrokerDir();
  readonly runId = randomUUID();
  readonly files = brokerFiles(this.dir);
  readonly runs: PlaybookRun[] = [];

  /** A playbook in this scenario: pooled module_defaults, this broker dir, nothing reaped. */
  async play(playbook: string | Task[], options: PlaybookOptions = {}): Promise<PlaybookRun> {
    const run = await runPlaybook(playbook, {
      timeoutMs: 240_000,
      ...options,
      moduleDefaults: { ...POOLED, ...(options.moduleDefaults ?? {}) },
      runId: this.runId,
      brokerDir: this.dir,
      reapLeftovers: false,
    });
    this.runs.push(run);
    return run;
  }

  /** `mcp_broker state=stopped` in its own playbook; returns that task's result. */
  async stopWithModule(): Promise<Record<string, any>> {
    const run = await this.play([{ name: 'stop the broker', [BROKER]: { state: 'stopped' } }]);
    expect(run.exitCode, output(run)).toBe(0);
    return run.task('stop the broker').result;
  }

  /** SIGTERM the broker named by the pid file (it closes its servers) and wait for it to go. */
  async stopWithSignal(): Promise<void> {
    const pid = readPidFile(this.dir);
    if (pid && processAlive(pid) && / --broker$/.test(cmdline(pid))) {
      process.kill(pid, 'SIGTERM');
      await waitUntil(() => !processAlive(pid), 15_000);
    }
  }

  /** Processes of this scenario still alive after `ms` (broker, servers, wrappers). */
  leftovers(ms = 10_000): Promise<LeftoverProcess[]> {
    return waitForNoLeftovers(this.runId, ms);
  }

  /** Assert that nothing of this scenario is left running. */
  async expectNothingLeft(ms = 10_000): Promise<void> {
    const left = await this.leftovers(ms);
    expect(left, `processes left behind:\n${left.map((p) => `${p.pid} ${p.cmdline}`).join('\n')}\n--- broker.log\n${brokerLog(this.dir)}`).toEqual([]);
  }

  /** For afterEach: kill anything left (by pid), remove the broker dir. */
  cleanup(): void {
    killProcesses(leftoverProcesses(this.runId));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** For a test file: a function that makes a Scenario, each cleaned up after its test. */
export function scenarioPerTest(): () => Scenario {
  const made: Scenario[] = [];
  afterEach(() => {
    for (const s of made.splice(0)) s.cleanup();
  });
  return () => {
    const s = new Scenario();
    made.push(s);
    return s;
  };
}

/** The playbook output and the broker log, for assertion messages. */
export function output(run: PlaybookRun): string {
  let log = '';
  try {
    log = brokerLog(run.brokerDir);
  } catch {
    /* no log */
  }
  return `--- exit ${run.exitCode}\n--- stdout\n${run.stdout.slice(-20_000)}\n--- stderr\n${run.stderr.slice(-10_000)}\n--- broker.log\n${log.slice(-10_000)}`;
}

export interface RawReply {
  id: number | null;
  ok: boolean;
  result?: any;
  error?: { kind: string; message: string };
}

/**
 * Write `data` to the broker socket and collect reply lines until `expect`
 * replies came, the broker closed the connection, or `ms` passed.
 */
export function rawExchange(socketPath: string, data: string | Buffer, expectReplies = 1, ms = 15_000): Promise<{ replies: RawReply[]; closedByBroker: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const replies: RawReply[] = [];
    let buffer = '';
    let settled = false;
    const finish = (closedByBroker: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ replies, closedByBroker });
    };
    const timer = setTimeout(() => finish(false), ms);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(data));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        replies.push(JSON.parse(buffer.slice(0, nl)));
        buffer = buffer.slice(nl + 1);
      }
      if (replies.length >= expectReplies) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      // EPIPE/ECONNRESET while we were still writing a huge line the broker refused.
      if (e.code === 'EPIPE' || e.code === 'ECONNRESET') return finish(true);
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(e);
      }
    });
  });
}

let rawId = 1000;
/** A well-formed request from this runtime version (override fields to break it). */
export function request(method: string, params: unknown = {}, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ id: rawId++, protocol: 1, runtime: runtimeVersion(), method, params, ...overrides }) + '\n';
}

/** One request, one reply. */
export async function brokerCall(socketPath: string, method: string, params: unknown = {}, overrides: Record<string, unknown> = {}): Promise<RawReply> {
  const { replies } = await rawExchange(socketPath, request(method, params, overrides));
  if (replies.length !== 1) throw new Error(`expected one reply to ${method}, got ${JSON.stringify(replies)}`);
  return replies[0];
}

export interface DirectRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  result: Record<string, any>;
}

/**
 * Run an installed module the way Ansible runs a binary module: `<module>
 * <args-file>`, the args file holding the options and `_ansible_*` keys.
 * `killAfterMs` SIGKILLs it then (a task killed while it waits).
 */
export function runModuleDirect(module: string, options: Record<string, unknown>, env: Record<string, string>, cwd: string, killAfterMs = 120_000): Promise<DirectRun> {
  const work = mkdtempSync(join(tmpdir(), 'mcp-audit-direct-'));
  const argsFile = join(work, 'args');
  writeFileSync(
    argsFile,
    JSON.stringify({
      ...options,
      _ansible_module_name: module,
      _ansible_check_mode: false,
      _ansible_no_log: false,
      _ansible_diff: false,
      _ansible_verbosity: 0,
      _ansible_tmpdir: work,
      _ansible_remote_tmp: work,
    }),
  );
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k.startsWith('VITEST') || k.startsWith('MCP_AUDIT_')) continue;
    childEnv[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(RUNTIME, [argsFile], { cwd, env: { ...childEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      rmSync(work, { recursive: true, force: true });
      let result: Record<string, any> = {};
      try {
        result = JSON.parse(stdout);
      } catch {
        result = { unparsable_stdout: stdout };
      }
      resolve({ exitCode, stdout, stderr, result });
    });
  });
}

/** The items of a looped task (`results`), failing with the run's output when there are none. */
export function loopItems(run: PlaybookRun, task: string, host?: string): Record<string, any>[] {
  const found = run.results.filter((r) => r.task === task && (!host || r.host === host));
  if (found.length !== 1) throw new Error(`expected one result for '${task}'${host ? ` on ${host}` : ''}, found ${found.length}\n${output(run)}`);
  const items = found[0].result.results;
  if (!Array.isArray(items)) throw new Error(`task '${task}' has no loop results\n${output(run)}`);
  return items;
}
