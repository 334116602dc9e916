/**
 * The module side of the broker: connect to its socket (starting the broker
 * on first use), send one request, wait for its reply. Loads no MCP code: a
 * pooled task costs one socket round trip in the module process.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { McpAuditError, ModuleFailure } from './errors';
import { brokerPaths, ensurePrivateDir, type BrokerPaths } from './broker_paths';
import { PROTOCOL_VERSION, type BrokerMethod, type BrokerReply } from './broker_protocol';
import type { OperationReply } from './connection';
import type { OperationMap, OperationName } from './operations';
import type { ConnectionSettings, ServerDefinition } from './server_definition';
import { VERSION } from './version';

const START_WAIT_MS = 15_000;

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** `<runtime> --broker`, detached in its own session with stdio closed, outliving this task. */
function launchBroker(): void {
  const isSea = (() => {
    try {
      return require('node:sea').isSea() as boolean;
    } catch {
      return false;
    }
  })();
  const args = isSea ? ['--broker'] : [process.argv[1], '--broker'];
  const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore', cwd: '/' });
  child.unref();
}

/** Connect, starting the broker when none answers. Racing starters end with one broker (its lock). */
async function connectOrStart(paths: BrokerPaths, start: boolean): Promise<Socket | undefined> {
  try {
    return await openSocket(paths.socket);
  } catch (e: any) {
    if (e.code !== 'ENOENT' && e.code !== 'ECONNREFUSED') {
      throw new ModuleFailure(`cannot connect to the broker socket ${paths.socket}: ${e.message}`);
    }
    if (!start) return undefined;
  }
  ensurePrivateDir(paths.dir);
  launchBroker();
  const deadline = Date.now() + START_WAIT_MS;
  let relaunchAt = Date.now() + 1000;
  let delay = 5;
  for (;;) {
    await new Promise((r) => setTimeout(r, delay));
    try {
      return await openSocket(paths.socket);
    } catch (e: any) {
      if (Date.now() > deadline) {
        throw new ModuleFailure(`the broker did not start within ${START_WAIT_MS / 1000} s (socket ${paths.socket}: ${e.code ?? e.message}); see ${paths.log}`);
      }
      // Our broker may have lost the lock to one that was exiting; once that one is gone, try again (the lock keeps it to one).
      if (Date.now() > relaunchAt) {
        launchBroker();
        relaunchAt = Date.now() + 1000;
      }
      delay = Math.min(100, delay * 2);
    }
  }
}

let nextId = 1;

/** One request, one reply. `start: false` returns undefined when no broker runs (status/stop). */
export async function brokerRequest(method: BrokerMethod, params: unknown, opts: { start: boolean; replyTimeoutMs: number }): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await requestOnce(method, params, opts);
    } catch (e) {
      // An idle broker was exiting as we arrived: nothing ran, so resend to a new one.
      if (!(e instanceof BrokerStoppingError) || attempt >= 3) throw e;
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
  }
}

class BrokerStoppingError extends ModuleFailure {}

async function requestOnce(method: BrokerMethod, params: unknown, opts: { start: boolean; replyTimeoutMs: number }): Promise<unknown> {
  const paths = brokerPaths();
  const socket = await connectOrStart(paths, opts.start);
  if (!socket) return undefined;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ModuleFailure(`the broker did not answer within ${opts.replyTimeoutMs / 1000} s; see ${paths.log}`));
    }, opts.replyTimeoutMs);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      // Only the new chunk is searched: searching the whole buffer again made a reply of many MB quadratic.
      const inChunk = chunk.indexOf('\n');
      buffer += chunk;
      if (inChunk < 0) return;
      const nl = buffer.length - chunk.length + inChunk;
      let reply: BrokerReply;
      try {
        reply = JSON.parse(buffer.slice(0, nl));
      } catch {
        return done(() => reject(new ModuleFailure('the broker sent a malformed reply')));
      }
      if (reply.ok) return done(() => resolve(reply.result));
      const { error } = reply;
      if (error.kind === 'stopping') return done(() => reject(new BrokerStoppingError(error.message)));
      return done(() =>
        reject(error.kind === 'internal' || error.kind === 'request' || error.kind === 'version' ? new ModuleFailure(error.message) : McpAuditError.fromJSON(error as any)),
      );
    });
    socket.on('error', (e) => done(() => reject(new ModuleFailure(`lost the broker connection: ${e.message}; see ${paths.log}`))));
    socket.on('close', () =>
      done(() => reject(new McpAuditError('exited', `the broker exited before answering (the request may have reached the server, so it was not retried); see ${paths.log}`, {}, true))),
    );
    socket.write(JSON.stringify({ id, protocol: PROTOCOL_VERSION, runtime: VERSION, method, params }) + '\n');
  });
}

/** Run an operation on the pooled session for this server definition. */
export async function runPooled<K extends OperationName>(
  server: ServerDefinition,
  settings: ConnectionSettings,
  op: K,
  args: OperationMap[K]['args'],
): Promise<OperationReply<OperationMap[K]['result']>> {
  // Worst case: every connect attempt times out, plus backoff, plus the request itself.
  const replyTimeoutMs = settings.timeoutMs * (settings.maxRetries + 3) + 30_000;
  return (await brokerRequest('run', { server, settings, op, args }, { start: true, replyTimeoutMs })) as OperationReply<OperationMap[K]['result']>;
}
