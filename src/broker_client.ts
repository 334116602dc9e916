/**
 * The module side of the broker: check that its directory and socket are
 * ours, connect (starting the broker on first use), send one request, wait
 * for its reply, hearing its heartbeats meanwhile. Loads no MCP code: a
 * pooled task costs one socket round trip in the module process.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { basename } from 'node:path';
import { readLockOwner } from '../broker/lockfile';
import { McpAuditError, ModuleFailure } from './errors';
import { brokerPaths, TrustedDir, type BrokerPaths } from './broker_paths';
import { MAX_TIMER_MS } from './connection_options';
import { HEARTBEAT_MS, monotonicMs, PROTOCOL_VERSION, type BrokerMethod, type BrokerReply } from './broker_protocol';
import type { OperationReply } from './connection';
import type { OperationMap, OperationName } from './operations';
import type { ConnectionSettings, ServerDefinition } from './server_definition';
import { VERSION } from './version';

const START_WAIT_MS = 15_000;
/** A task waits this much longer than its `timeout` for a broker that has gone silent. */
const SILENCE_GRACE_MS = 5_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `path` is where we connect (through the checked directory); `shown` is what a person reads. */
function openSocket(path: string, shown: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      e.message = e.message.replace(path, shown);
      reject(e);
    });
  });
}

/** A broker we launched: while it starts, its stderr can say why it could not. */
interface LaunchedBroker {
  /** Why it exited, once it has exited with a failure. */
  failure(): string | undefined;
  /** Stop listening to it (it outlives this task). */
  release(): void;
}

/** `<runtime> --broker`, detached in its own session, outliving this task. */
function launchBroker(): LaunchedBroker {
  const isSea = (() => {
    try {
      return require('node:sea').isSea() as boolean;
    } catch {
      return false;
    }
  })();
  const args = isSea ? ['--broker'] : [process.argv[1], '--broker'];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'], cwd: '/' });
  let stderr = '';
  let failure: string | undefined;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  child.on('error', (e) => (failure = e.message));
  // Exit 0: it lost the start race to another broker, which serves us.
  child.on('close', (code, signal) => {
    if (code !== 0) failure = stderr.trim() || `it exited with ${signal ?? `code ${code}`}`;
  });
  child.unref();
  return { failure: () => failure, release: () => child.stderr!.destroy() };
}

/**
 * Connect to the broker, starting it when none answers (racing starters end
 * with one broker: its lock). Nothing is sent before the directory and the
 * socket in it have proven to be ours.
 */
async function connectOrStart(paths: BrokerPaths, start: boolean): Promise<Socket | undefined> {
  const dir = TrustedDir.open(paths.dir, { create: start });
  if (!dir) return undefined;
  const socketPath = dir.at(basename(paths.socket));
  /** A connected socket, or why no broker answers yet (ENOENT, ECONNREFUSED). */
  const tryConnect = async (): Promise<Socket | string> => {
    if (!dir.hasSocket(paths.socket)) return 'ENOENT';
    try {
      return await openSocket(socketPath, paths.socket);
    } catch (e: any) {
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') return e.code;
      throw new ModuleFailure(`cannot connect to the broker socket ${paths.socket}: ${e.message}`);
    }
  };
  try {
    const first = await tryConnect();
    if (typeof first !== 'string') return first;
    if (!start) return undefined;
    let broker = launchBroker();
    try {
      const deadline = Date.now() + START_WAIT_MS;
      let relaunchAt = Date.now() + 1000;
      let delay = 5;
      for (;;) {
        await sleep(delay);
        const failure = broker.failure();
        if (failure) throw new ModuleFailure(`the broker could not start: ${failure}`);
        const attempt = await tryConnect();
        if (typeof attempt !== 'string') return attempt;
        if (Date.now() > deadline) throw new ModuleFailure(`the broker did not start within ${START_WAIT_MS / 1000} s (socket ${paths.socket}: ${attempt}); see ${paths.log}`);
        // Our broker may have lost the lock to one that was exiting; once that one is gone, try again (the lock keeps it to one).
        if (Date.now() > relaunchAt) {
          broker.release();
          broker = launchBroker();
          relaunchAt = Date.now() + 1000;
        }
        delay = Math.min(100, delay * 2);
      }
    } finally {
      broker.release();
    }
  } finally {
    dir.close();
  }
}

let nextId = 1;

/**
 * How long a request may wait without hearing from the broker: the broker
 * sends a heartbeat every second while it works, so this much silence means
 * it is frozen (SIGSTOP), hung or gone.
 */
export interface RequestPatience {
  start: boolean;
  patienceMs: number;
}

/** One request, one reply. `start: false` returns undefined when no broker runs (status/stop). */
export async function brokerRequest(method: BrokerMethod, params: unknown, opts: RequestPatience): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await requestOnce(method, params, opts);
    } catch (e) {
      // An idle broker was exiting as we arrived: nothing ran, so resend to a new one.
      if (!(e instanceof BrokerStoppingError) || attempt >= 3) throw e;
      await sleep(50 * (attempt + 1));
    }
  }
}

class BrokerStoppingError extends ModuleFailure {}

function silentBroker(paths: BrokerPaths, patienceMs: number): ModuleFailure {
  const pid = readLockOwner(paths.lock);
  return new ModuleFailure(
    `the broker${pid ? ` (pid ${pid})` : ''} went silent: no answer and no heartbeat (it sends one every ${HEARTBEAT_MS / 1000} s while it works) for ${patienceMs / 1000} s. ` +
      `It may be stopped (SIGSTOP), hung or overloaded. The task gave up, and the broker will not send its request to the server afterwards. ` +
      `See ${paths.log}; if it stays silent, stop it${pid ? ` (kill ${pid})` : ''} and the next task starts a new one.`,
  );
}

function replyError(reply: Extract<BrokerReply, { ok: false }>): ModuleFailure {
  const { error } = reply;
  if (error.kind === 'stopping') return new BrokerStoppingError(error.message);
  return error.kind === 'internal' || error.kind === 'request' || error.kind === 'version' ? new ModuleFailure(error.message) : McpAuditError.fromJSON(error as any);
}

async function requestOnce(method: BrokerMethod, params: unknown, opts: RequestPatience): Promise<unknown> {
  const paths = brokerPaths();
  const socket = await connectOrStart(paths, opts.start);
  if (!socket) return undefined;
  const id = nextId++;
  const patienceMs = Math.min(opts.patienceMs, MAX_TIMER_MS);
  return new Promise((resolve, reject) => {
    // Lines can be megabytes: collect chunks and join once per line.
    let partial: string[] = [];
    const silence = setTimeout(() => done(() => reject(silentBroker(paths, patienceMs))), patienceMs);
    let finished = false;
    const done = (fn: () => void) => {
      if (finished) return;
      finished = true;
      clearTimeout(silence);
      socket.destroy();
      fn();
    };
    const onLine = (line: string) => {
      let message: BrokerReply | { heartbeat: true };
      try {
        message = JSON.parse(line);
      } catch {
        return done(() => reject(new ModuleFailure('the broker sent a malformed reply')));
      }
      if ('heartbeat' in message) return;
      if (message.ok) return done(() => resolve(message.result));
      return done(() => reject(replyError(message)));
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      silence.refresh();
      let from = 0;
      let nl: number;
      while (!finished && (nl = chunk.indexOf('\n', from)) >= 0) {
        partial.push(chunk.slice(from, nl));
        const line = partial.join('');
        partial = [];
        from = nl + 1;
        onLine(line);
      }
      if (from < chunk.length) partial.push(chunk.slice(from));
    });
    socket.on('error', (e) => done(() => reject(new ModuleFailure(`lost the broker connection: ${e.message}; see ${paths.log}`))));
    socket.on('close', () =>
      done(() => reject(new McpAuditError('exited', `the broker exited before answering (the request may have reached the server, so it was not retried); see ${paths.log}`, {}, true))),
    );
    socket.write(JSON.stringify({ id, protocol: PROTOCOL_VERSION, runtime: VERSION, method, params, patienceMs, sentAt: monotonicMs() }) + '\n');
  });
}

/** Run an operation on the pooled session for this server definition. */
export async function runPooled<K extends OperationName>(
  server: ServerDefinition,
  settings: ConnectionSettings,
  op: K,
  args: OperationMap[K]['args'],
): Promise<OperationReply<OperationMap[K]['result']>> {
  // No overall cap: an operation of many requests (a suite, pages of a list) takes as long as they do, each within `timeout`.
  const patienceMs = settings.timeoutMs + SILENCE_GRACE_MS;
  return (await brokerRequest('run', { server, settings, op, args }, { start: true, patienceMs })) as OperationReply<OperationMap[K]['result']>;
}
