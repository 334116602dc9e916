/**
 * An MCP client transport that runs a stdio server as a supervised child.
 *
 * Why not the SDK's StdioClientTransport: it neither puts the server in its
 * own process group (so `npx`/`sh -c` wrappers leave orphans on close) nor
 * keeps stderr and the exit status, which are what a user needs when a server
 * dies; nor does it notice a server that exited while a process it forked
 * still holds stdout open. Framing (newline-delimited JSON-RPC) is linear in
 * the size of a message and bounded by max_result_size (../lines.ts).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import { existsSync } from 'node:fs';
import { McpAuditError } from '../errors';
import { groupRunning, newSessionMark, SESSION_MARK_VAR, stopProcessTree } from './process_tree';
import { DEFAULT_MAX_RESULT_MB, MB, resultTooLarge } from '../data_limits';
import { LineReader, type OversizedLine } from '../lines';
import { excerpt } from '../secrets';
import { findExecutable, searchPath, type CommandLine } from './server_command';

const STDERR_TAIL_CHARS = 4096;
const GARBAGE_EXCERPT_CHARS = 200;
/** After the server's process exits, answers it wrote may still be in the pipe: read them this long before declaring it gone. */
const EXIT_DRAIN_MS = 100;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StdioServerOptions extends CommandLine {
  env?: Record<string, string>; // merged over parentEnv
  parentEnv?: Record<string, string>; // defaults to this process's environment
  cwd?: string;
  /** A longer line on stdout fails the request it answers (default 64 MB). */
  maxResultBytes?: number;
  /** Values masked in the stderr tail and stdout excerpts (server_env values). */
  secrets?: string[];
}

/** Milliseconds to wait at each step of close(): stdin closed, then SIGTERM, then SIGKILL. */
export const CLOSE_GRACE_MS = { stdin: 500, term: 2000, kill: 1000 };

export class StdioServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private child?: ChildProcessWithoutNullStreams;
  private stderrWindow = '';
  /** The window lost the beginning of stderr / stderr has ended. */
  private stderrCut = false;
  private stderrEnded = false;
  readonly maxResultBytes: number;
  private readonly stdoutLines: LineReader;
  /** Requests sent and not answered yet (id -> method), to fail the one whose answer was too large. */
  private readonly pending = new Map<string | number, string>();
  /** The server can no longer answer: exited, or closed its stdout. */
  private gone = false;
  /** It closed its stdout and was still running a while later. */
  private stdoutClosedAlive = false;
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
    this.maxResultBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_MB * MB;
    this.stdoutLines = new LineReader(this.maxResultBytes, (line) => this.readLine(line), (line) => this.readOversized(line));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get status(): ExitStatus | undefined {
    return this.exitStatus;
  }

  /** The last 4 KB of stderr (or its last `lines` non-blank lines), secrets and fragments of secrets at the cut masked. */
  stderrTail(lines?: number): string {
    const window = lines === undefined ? this.stderrWindow : this.stderrWindow.trimEnd();
    return excerpt(window, this.options.secrets ?? [], { keep: 'tail', lines, cutStart: this.stderrCut, cutEnd: !this.stderrEnded });
  }

  get stderr(): string {
    return this.stderrTail();
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
      child.stdout.on('data', (chunk: Buffer) => this.stdoutLines.push(chunk));
      // EOF on stdout: no answer can come any more. A dying server's exit follows within moments; one that stays is wedged.
      child.stdout.once('end', () =>
        setTimeout(() => {
          this.stdoutClosedAlive = !this.exitStatus;
          this.lost();
        }, EXIT_DRAIN_MS),
      );
      // Always drain stderr: a full pipe would block the server.
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        const window = this.stderrWindow + chunk;
        this.stderrCut ||= window.length > STDERR_TAIL_CHARS;
        this.stderrWindow = window.slice(-STDERR_TAIL_CHARS);
      });
      child.stderr.once('end', () => (this.stderrEnded = true));
      child.stdin.on('error', () => {
        /* EPIPE after the server died is reported through 'exit' */
      });
      child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        this.markExited(this.exitStatus);
        // A process the server forked may hold stdout open for ever: the exit is what counts.
        setTimeout(() => this.lost(), EXIT_DRAIN_MS);
      });
      child.once('close', () => this.lost());
    });
  }

  /** The session is over: requests in flight fail now (with the exit status), not at their timeout. */
  private lost(): void {
    if (this.gone) return;
    this.gone = true;
    this.onclose?.();
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

  private readLine(line: string): void {
    if (!line.trim()) return;
    let message: JSONRPCMessage;
    try {
      message = JSONRPCMessageSchema.parse(JSON.parse(line));
    } catch {
      // Tolerated: the protocol may still work. Kept for the error if it does not.
      this.garbageLines++;
      this.lastGarbage = excerpt(line.replace(/\r$/, ''), this.options.secrets ?? [], { keep: 'head', chars: GARBAGE_EXCERPT_CHARS });
      return;
    }
    if ('id' in message && message.id !== undefined && !('method' in message)) this.pending.delete(message.id);
    this.onmessage?.(message);
  }

  /** A line over max_result_size was dropped: fail the request it answered, found by its id (or the only one waiting). */
  private readOversized(line: OversizedLine): void {
    const id = responseId(line) ?? (this.pending.size === 1 ? [...this.pending.keys()][0] : undefined);
    const method = id === undefined ? undefined : this.pending.get(id);
    const error = resultTooLarge(this.maxResultBytes, line.bytes, method);
    if (id === undefined || method === undefined) return this.onerror?.(error);
    this.pending.delete(id);
    // An error answer carrying our own error: the SDK fails just that request, and failures.ts shows it as is.
    this.onmessage?.({ jsonrpc: '2.0', id, error: { code: ErrorCode.InternalError, message: error.message, data: error } });
  }

  send(message: JSONRPCMessage): Promise<void> {
    if ('method' in message) {
      if ('id' in message) this.pending.set(message.id, message.method);
      else if (message.method === 'notifications/cancelled') this.pending.delete((message.params as { requestId?: string | number })?.requestId ?? '');
    }
    return new Promise((resolve, reject) => {
      const stdin = this.child?.stdin;
      if (!stdin || stdin.destroyed || this.exitStatus || this.gone) return reject(new McpAuditError('exited', 'the MCP server is not running'));
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
    if (this.stdoutClosedAlive) return 'closed its stdout while still running';
    if (!s) return 'closed its stdout';
    return s.signal ? `was killed by ${s.signal}` : `exited with code ${s.code}`;
  }
}

/** The id of a JSON-RPC answer from its first or last bytes: servers put "id" first (Python, Go, Rust SDKs) or last (TypeScript SDK). */
export function responseId({ head, tail }: Pick<OversizedLine, 'head' | 'tail'>): string | number | undefined {
  const ID = String.raw`"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")`;
  const m = new RegExp(String.raw`^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?${ID}`).exec(head) ?? new RegExp(String.raw`${ID}\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0"\s*)?\}\s*$`).exec(tail);
  return m ? JSON.parse(m[1]) : undefined;
}
