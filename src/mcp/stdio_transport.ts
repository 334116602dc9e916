/**
 * An MCP client transport that runs a stdio server as a supervised child.
 *
 * Why not the SDK's StdioClientTransport: it neither puts the server in its
 * own process group (so `npx`/`sh -c` wrappers leave orphans on close) nor
 * keeps stderr and the exit status, which are what a user needs when a server
 * dies. The framing (newline-delimited JSON-RPC) is the SDK's own ReadBuffer.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { existsSync } from 'node:fs';
import { McpAuditError } from '../errors';
import { groupRunning, newSessionMark, SESSION_MARK_VAR, stopProcessTree } from './process_tree';
import { findExecutable, searchPath, type CommandLine } from './server_command';

const STDERR_TAIL_BYTES = 4096;
const STDOUT_LINE_LIMIT = 64 * 1024 * 1024;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StdioServerOptions extends CommandLine {
  env?: Record<string, string>; // merged over parentEnv
  parentEnv?: Record<string, string>; // defaults to this process's environment
  cwd?: string;
}

/** Milliseconds to wait at each step of close(): stdin closed, then SIGTERM, then SIGKILL. */
export const CLOSE_GRACE_MS = { stdin: 500, term: 2000, kill: 1000 };

export class StdioServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private child?: ChildProcessWithoutNullStreams;
  private stderrTail = '';
  private stdoutBuffer = '';
  private exitStatus?: ExitStatus;
  private readonly exited: Promise<ExitStatus>;
  private markExited!: (s: ExitStatus) => void;
  /** Lines on stdout that were not JSON-RPC (servers must not print there, some do). */
  garbageLines = 0;
  lastGarbage?: string;
  readonly env: NodeJS.ProcessEnv;
  /** MCP_AUDIT_SESSION in the server's environment: close() finds its descendants by it. */
  private readonly mark = newSessionMark();

  constructor(readonly options: StdioServerOptions) {
    this.env = { ...(options.parentEnv ?? process.env), ...(options.env ?? {}) };
    this.exited = new Promise((resolve) => (this.markExited = resolve));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get status(): ExitStatus | undefined {
    return this.exitStatus;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  start(): Promise<void> {
    const { command, args, cwd } = this.options;
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        cwd,
        env: { ...this.env, [SESSION_MARK_VAR]: this.mark },
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true, // own session and process group: close() kills the whole group
      });
      this.child = child;
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (!this.exitStatus) this.markExited((this.exitStatus = { code: null, signal: null }));
        reject(this.spawnError(err));
      });
      child.once('spawn', () => resolve());
      child.stdout.on('data', (chunk: Buffer) => this.readStdout(chunk));
      // Always drain stderr: a full pipe would block the server.
      child.stderr.on('data', (chunk: Buffer) => {
        this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      });
      child.stdin.on('error', () => {
        /* EPIPE after the server died is reported through 'exit' */
      });
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        this.markExited(this.exitStatus);
      });
      child.once('close', () => this.onclose?.());
    });
  }

  private spawnError(err: NodeJS.ErrnoException): McpAuditError {
    const { command, cwd } = this.options;
    if (err.code === 'ENOENT') {
      if (cwd && !existsSync(cwd)) return new McpAuditError('not_found', `could not start the MCP server: server_cwd '${cwd}' does not exist`);
      // execve says ENOENT too when a script exists but its #! interpreter does not.
      const found = findExecutable(command, this.env, cwd);
      if (found) return new McpAuditError('not_found', `could not start the MCP server: server_command '${found}' exists, but the interpreter on its #! line was not found`);
      const where = command.includes('/') ? `'${command}' does not exist` : `'${command}' was not found in PATH (searched: ${searchPath(this.env).join(', ') || 'PATH is empty'})`;
      return new McpAuditError('not_found', `could not start the MCP server: server_command ${where}`);
    }
    if (err.code === 'EACCES') {
      return new McpAuditError('not_found', `could not start the MCP server: server_command '${command}' is not executable (EACCES)`);
    }
    return new McpAuditError('spawn', `could not start the MCP server '${command}': ${err.message}`);
  }

  private readStdout(chunk: Buffer): void {
    this.stdoutBuffer += chunk.toString('utf8');
    if (this.stdoutBuffer.length > STDOUT_LINE_LIMIT) {
      this.stdoutBuffer = '';
      this.onerror?.(new Error('server wrote more than 64 MiB on stdout without a newline'));
      return;
    }
    let nl: number;
    while ((nl = this.stdoutBuffer.indexOf('\n')) >= 0) {
      const line = this.stdoutBuffer.slice(0, nl).replace(/\r$/, '');
      this.stdoutBuffer = this.stdoutBuffer.slice(nl + 1);
      if (!line.trim()) continue;
      let message: JSONRPCMessage;
      try {
        message = JSONRPCMessageSchema.parse(JSON.parse(line));
      } catch {
        // Tolerated: the protocol may still work. Kept for the error if it does not.
        this.garbageLines++;
        this.lastGarbage = line.slice(0, 200);
        continue;
      }
      this.onmessage?.(message);
    }
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.child?.stdin;
      if (!stdin || stdin.destroyed || this.exitStatus) return reject(new McpAuditError('exited', 'the MCP server is not running'));
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  /** Wait for the exit status, at most `ms` milliseconds. */
  async waitExit(ms: number): Promise<ExitStatus | undefined> {
    if (this.exitStatus) return this.exitStatus;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private signalGroup(signal: NodeJS.Signals): boolean {
    const pid = this.child?.pid;
    if (!pid) return false;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false; // ESRCH: the group is gone
    }
  }

  /**
   * True while any process of the server's group is running (wrappers' children included).
   * Zombies do not count: orphans are reaped by pid 1, which in containers may be slow or never.
   */
  groupAlive(): boolean {
    const pgid = this.child?.pid;
    return !!pgid && groupRunning(pgid);
  }

  /**
   * Bounded shutdown: close stdin (the stdio spec's polite way), then SIGTERM,
   * then SIGKILL to the whole process group. Leftovers (children of a wrapper
   * that already exited, descendants that left the group or session) get the
   * same treatment.
   */
  async close(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    if (!this.exitStatus) {
      child.stdin.end();
      if (!(await this.waitExit(CLOSE_GRACE_MS.stdin))) {
        this.signalGroup('SIGTERM');
        if (!(await this.waitExit(CLOSE_GRACE_MS.term))) {
          this.signalGroup('SIGKILL');
          await this.waitExit(CLOSE_GRACE_MS.kill);
        }
      }
    }
    await stopProcessTree({ pgid: child.pid, mark: this.mark }, CLOSE_GRACE_MS.term, CLOSE_GRACE_MS.kill);
    child.stdout.destroy();
    child.stderr.destroy();
  }

  /** "exited with code 1" / "was killed by SIGKILL", for error messages. */
  describeExit(): string {
    const s = this.exitStatus;
    if (!s) return 'closed its stdout';
    return s.signal ? `was killed by ${s.signal}` : `exited with code ${s.code}`;
  }
}
