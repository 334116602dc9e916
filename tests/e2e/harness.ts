/**
 * End-to-end harness: runs real `ansible-playbook` against the collection as a
 * user installs it (built with `ansible-galaxy collection build`, installed with
 * `ansible-galaxy collection install` by ./global-setup.ts) and real MCP servers.
 *
 * Every run gets a unique MCP_AUDIT_TEST_RUN=<uuid> in the environment of
 * ansible-playbook; the modules, the servers they start (and a broker, once it
 * exists) inherit it, so leftoverProcesses(runId) finds whatever a run left
 * behind by scanning /proc/<pid>/environ. Every run also gets a fresh, short
 * MCP_AUDIT_BROKER_DIR so runs never share a broker.
 *
 * Per-task results are machine-readable through a test-only callback plugin
 * (./callback_plugins/e2e_results.py, one JSON line per task result): ansible-core
 * alone ships no json stdout callback, and keeping the default stdout callback
 * means stdout/stderr are exactly what a user sees (the secret test greps them).
 *
 * Pooling: the suite sets `connection_reuse: false` (through module_defaults of
 * the action group, see DEFAULT_MODULE_DEFAULTS) so each task starts and stops
 * its own server and nothing may outlive the playbook. A test about pooling
 * must opt out explicitly (moduleDefaults: {connection_reuse: true}, or write its
 * own playbook) and pass reapLeftovers: false to look at the broker itself.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import { closeSshControlMasters } from '../helpers/sshd';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..', '..');
export const COLLECTIONS_PATH = join(REPO_ROOT, '.tmp', 'collections');
export const INSTALLED_COLLECTION = join(COLLECTIONS_PATH, 'ansible_collections', 'tosin2013', 'mcp_audit');
export const CALLBACK_DIR = join(here, 'callback_plugins');
export const FQCN = 'tosin2013.mcp_audit';
export const ACTION_GROUP = `group/${FQCN}.mcp`;

export const EVERYTHING_JS = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
export const FILESYSTEM_JS = (() => {
  const dir = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-filesystem');
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin['mcp-server-filesystem'];
  return join(dir, bin);
})();
/**
 * Where the e2e tests get the runtime: the packages `npm run build` made, as an air-gapped user
 * would (mcp_audit_runtime_source), checked against the manifest and cached once per test session.
 */
export const RUNTIME_PACKAGES = join(REPO_ROOT, 'build', 'runtime-packages');
export const RUNTIME_CACHE = join(REPO_ROOT, '.tmp', 'cache');
/** The node that runs the test servers (absolute, so PATH does not matter). */
export const NODE = process.execPath;

export interface ServerOptions {
  server_command: string;
  server_args: string[];
}

/** @modelcontextprotocol/server-everything over stdio. */
export const everythingServer: ServerOptions = { server_command: NODE, server_args: [EVERYTHING_JS] };

/** The fault-injection server (tests/helpers/hostile_server.mjs) in one of its modes. */
export function hostileServer(mode: string): ServerOptions {
  return { server_command: NODE, server_args: [join(REPO_ROOT, 'tests', 'helpers', 'hostile_server.mjs'), mode] };
}

/** @modelcontextprotocol/server-filesystem over stdio, allowed to touch `dir` only. */
export function filesystemServer(dir: string): ServerOptions {
  return { server_command: NODE, server_args: [FILESYSTEM_JS, dir] };
}

/** Connection options every task of the suite gets through module_defaults (see the header comment). */
export const DEFAULT_MODULE_DEFAULTS: Record<string, unknown> = { connection_reuse: false };

export type Task = Record<string, unknown>;

export interface PlaybookOptions {
  /** More ansible-playbook arguments. */
  extraArgs?: string[];
  /** More environment for ansible-playbook (and so for modules and servers). */
  env?: Record<string, string>;
  /** Run with --check. */
  check?: boolean;
  /**
   * Variables passed as `-e @<file>`, the way real playbooks get secrets (vault, vars files).
   * Tasks refer to them as "{{ name }}". A secret written literally in a playbook is printed by
   * Ansible itself: ansible-core >= 2.19 shows the playbook lines around a failing task.
   */
  secretVars?: Record<string, string>;
  /** Number of -v. */
  verbosity?: number;
  /** Kill ansible-playbook (its process group) after this long. Default 100 s. */
  timeoutMs?: number;
  /** Only when tasks are given: merged over DEFAULT_MODULE_DEFAULTS for the action group. */
  moduleDefaults?: Record<string, unknown>;
  /** Only when tasks are given: play vars. */
  vars?: Record<string, unknown>;
  /** Reuse a run id / broker dir (pooling tests that span playbooks). */
  runId?: string;
  brokerDir?: string;
  /**
   * After the run, wait (up to LEFTOVER_GRACE_MS) for processes of the run to
   * go, record the survivors in `leftovers` and SIGKILL them (by pid) so later
   * tests are not disturbed. Default true; pooling tests pass false.
   */
  reapLeftovers?: boolean;
  /** Run ansible-playbook under this command line (argv before ansible-playbook's), e.g. in a pid namespace. */
  wrapper?: string[];
  /**
   * An inventory file (e.g. Sshd.inventory() of ../helpers/sshd.ts) instead of `-i localhost,`;
   * a play made from tasks then runs on `hosts: all` over the inventory's connection.
   */
  inventory?: string;
}

export interface TaskResult {
  task: string;
  action: string;
  host: string;
  /** ok | failed | skipped | unreachable */
  status: string;
  ignore_errors: boolean;
  result: Record<string, any>;
  /** When the task started on the host (null if Ansible never said) and when its result came: epoch ms, as Date.now(). */
  started: number | null;
  finished: number;
}

export interface LeftoverProcess {
  pid: number;
  cmdline: string;
}

export interface PlaybookRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Per-task results in the order Ansible reported them. */
  results: TaskResult[];
  runId: string;
  brokerDir: string;
  playbookPath: string;
  durationMs: number;
  /** Processes carrying this run's MCP_AUDIT_TEST_RUN after the run (see reapLeftovers). */
  leftovers: LeftoverProcess[];
  /** The result of the task with this name; throws (with the output) when there is not exactly one. */
  task(name: string): TaskResult;
}

/** How long processes of a finished run get to disappear (reaping is asynchronous). */
export const LEFTOVER_GRACE_MS = 2000;

function installedCollection(): string {
  // Provided by global-setup.ts (the ProvidedContext key is declared there).
  const provided: string | undefined = inject('mcpAuditCollection');
  if (!provided || !existsSync(join(INSTALLED_COLLECTION, 'plugins', 'runtime', 'manifest.json'))) {
    throw new Error(
      `the collection is not installed at ${INSTALLED_COLLECTION}: tests/e2e/global-setup.ts did not run ` +
        `(vitest.config.mts needs globalSetup: ['tests/e2e/global-setup.ts'])`,
    );
  }
  return provided;
}

/** A play around `tasks`: localhost, connection local (or all hosts of an inventory), no facts, the suite's module_defaults. */
export function playbookFor(tasks: Task[], options: Pick<PlaybookOptions, 'moduleDefaults' | 'vars' | 'inventory'> = {}): string {
  const play: Record<string, unknown> = {
    name: 'mcp_audit e2e',
    ...(options.inventory ? { hosts: 'all' } : { hosts: 'localhost', connection: 'local' }),
    gather_facts: false,
    module_defaults: { [ACTION_GROUP]: { ...DEFAULT_MODULE_DEFAULTS, ...(options.moduleDefaults ?? {}) } },
    ...(options.vars ? { vars: options.vars } : {}),
    tasks,
  };
  return stringify([play], { lineWidth: 0 });
}

/** The environment of ansible-playbook: ours minus test-runner noise, plus the run's settings. */
function playbookEnv(dir: string, runId: string, brokerDir: string, extra: Record<string, string>, remote = false): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // vitest's NODE_OPTIONS / loader settings must not reach the servers' node; a
    // developer's own ANSIBLE_* / MCP_AUDIT_* settings must not change what is tested.
    if (k === 'NODE_OPTIONS' || k.startsWith('VITEST') || k.startsWith('ANSIBLE_') || k.startsWith('MCP_AUDIT_')) continue;
    env[k] = v;
  }
  return {
    ...env,
    ANSIBLE_COLLECTIONS_PATH: COLLECTIONS_PATH,
    ANSIBLE_COLLECTIONS_SCAN_SYS_PATH: 'false',
    ANSIBLE_CALLBACK_PLUGINS: CALLBACK_DIR,
    ANSIBLE_CALLBACKS_ENABLED: 'e2e_results',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_RETRY_FILES_ENABLED: 'false',
    ANSIBLE_LOCALHOST_WARNING: 'false',
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    ANSIBLE_LOCAL_TEMP: join(dir, 'ansible-local'),
    // A remote user cannot enter our temp dir: remote targets keep Ansible's default (~/.ansible/tmp).
    ...(remote ? {} : { ANSIBLE_REMOTE_TEMP: join(dir, 'ansible-remote') }),
    ANSIBLE_HOME: join(dir, 'ansible-home'),
    // ssh's ControlMaster sockets (default ~/.ansible/cp, shared by every run): per run, closed after it.
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(dir, 'cp'),
    MCP_AUDIT_E2E_RESULTS: join(dir, 'results.jsonl'),
    MCP_AUDIT_TEST_RUN: runId,
    MCP_AUDIT_BROKER_DIR: brokerDir,
    MCP_AUDIT_RUNTIME_SOURCE: RUNTIME_PACKAGES,
    XDG_CACHE_HOME: RUNTIME_CACHE,
    ...extra,
  };
}

/** A fresh short directory for a broker socket (unix socket paths are limited to ~104 bytes). */
export function newBrokerDir(): string {
  return mkdtempSync('/tmp/mab-');
}

/**
 * Run a playbook: YAML text as is, or a list of tasks wrapped by playbookFor().
 * Never throws for a failing playbook: look at exitCode and results.
 */
export async function runPlaybook(playbook: string | Task[], options: PlaybookOptions = {}): Promise<PlaybookRun> {
  installedCollection();
  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-e2e-'));
  const runId = options.runId ?? randomUUID();
  const ownBrokerDir = !options.brokerDir;
  const brokerDir = options.brokerDir ?? newBrokerDir();
  const playbookPath = join(dir, 'playbook.yml');
  writeFileSync(playbookPath, typeof playbook === 'string' ? playbook : playbookFor(playbook, options));
  const secretVarsPath = join(dir, 'secret-vars.json');
  if (options.secretVars) writeFileSync(secretVarsPath, JSON.stringify(options.secretVars), { mode: 0o600 });
  const args = [
    '-i',
    options.inventory ?? 'localhost,',
    ...(options.check ? ['--check'] : []),
    ...(options.verbosity ? [`-${'v'.repeat(options.verbosity)}`] : []),
    ...(options.secretVars ? ['-e', `@${secretVarsPath}`] : []),
    ...(options.extraArgs ?? []),
    playbookPath,
  ];
  const env = playbookEnv(dir, runId, brokerDir, options.env ?? {}, !!options.inventory);
  const started = Date.now();
  const { exitCode, signal, stdout, stderr } = await new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolvePromise, reject) => {
      // Its own process group, so a timeout kills ansible-playbook and its forks together.
      const [command, ...argv] = [...(options.wrapper ?? []), 'ansible-playbook', ...args];
      const child = spawn(command, argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      const timer = setTimeout(() => {
        err += `\n[e2e harness] ansible-playbook killed after ${options.timeoutMs ?? 100_000} ms\n`;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, options.timeoutMs ?? 100_000);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('close', (code, sig) => {
        clearTimeout(timer);
        resolvePromise({ exitCode: code, signal: sig, stdout: out, stderr: err });
      });
    },
  );
  const durationMs = Date.now() - started;
  // ControlPersist keeps the ssh master 60 s after the playbook, as users have it; a test run ends it now.
  await closeSshControlMasters(join(dir, 'cp'));
  const resultsFile = join(dir, 'results.jsonl');
  const results: TaskResult[] = existsSync(resultsFile)
    ? readFileSync(resultsFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l))
    : [];

  let leftovers: LeftoverProcess[] = [];
  if (options.reapLeftovers !== false) {
    leftovers = await waitForNoLeftovers(runId, LEFTOVER_GRACE_MS);
    killProcesses(leftovers);
    if (ownBrokerDir) rmSync(brokerDir, { recursive: true, force: true });
  }
  if (!process.env.MCP_AUDIT_E2E_KEEP) rmSync(dir, { recursive: true, force: true });

  const run: PlaybookRun = {
    exitCode,
    signal,
    stdout,
    stderr,
    results,
    runId,
    brokerDir,
    playbookPath,
    durationMs,
    leftovers,
    task(name: string) {
      const found = results.filter((r) => r.task === name);
      if (found.length !== 1) {
        throw new Error(`expected one result for task '${name}', found ${found.length}.\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
      }
      return found[0];
    },
  };
  return run;
}

/** Everything the run printed, for messages and secret checks. */
export const outputOf = (run: PlaybookRun) => `--- exit ${run.exitCode}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

function readProc(pid: string, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch {
    return undefined; // gone, or not ours to read
  }
}

/** Live (non-zombie) processes whose environment carries MCP_AUDIT_TEST_RUN=<runId>, this process excluded. */
export function leftoverProcesses(runId: string): LeftoverProcess[] {
  const marker = `MCP_AUDIT_TEST_RUN=${runId}`;
  const found: LeftoverProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const environ = readProc(entry, 'environ');
    if (!environ || !environ.split('\0').includes(marker)) continue;
    const stat = readProc(entry, 'stat');
    if (!stat) continue;
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces and parentheses.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') continue;
    const cmdline = (readProc(entry, 'cmdline') ?? '').split('\0').filter(Boolean).join(' ');
    found.push({ pid, cmdline });
  }
  return found;
}

/** Poll leftoverProcesses until it is empty or `ms` passed; returns what is still there. */
export async function waitForNoLeftovers(runId: string, ms: number): Promise<LeftoverProcess[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = leftoverProcesses(runId);
    if (!left.length || Date.now() >= deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGKILL processes by pid (only ones found by leftoverProcesses, i.e. started by a test run). */
export function killProcesses(processes: readonly LeftoverProcess[]): void {
  for (const p of processes) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** A scratch directory for a test (servers' files, logs); removed by the caller or left in /tmp. */
export function scratchDir(prefix = 'mcp-audit-e2e-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Run ansible-doc (or another ansible CLI) with the installed collection. */
export async function runAnsibleCli(command: string, args: string[], timeoutMs = 60_000): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  installedCollection();
  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-e2e-cli-'));
  try {
    const env = playbookEnv(dir, randomUUID(), '/nonexistent', {});
    return await new Promise((resolvePromise, reject) => {
      const child = spawn(command, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('close', (exitCode) => {
        clearTimeout(timer);
        resolvePromise({ exitCode, stdout, stderr });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Names of the modules the build produced (plugins/modules/<name>.py, the files that document them). */
export function moduleNames(collectionRoot = INSTALLED_COLLECTION): string[] {
  return readdirSync(join(collectionRoot, 'plugins', 'modules'))
    .filter((f) => f.endsWith('.py') && !f.startsWith('_'))
    .map((f) => f.slice(0, -3))
    .sort();
}
