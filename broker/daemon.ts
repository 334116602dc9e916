/**
 * The broker daemon (`<runtime> --broker`): takes the lock, listens on the
 * socket, serves the pool, and exits by itself once its pool has been empty
 * for a while (MCP_AUDIT_BROKER_IDLE_EXIT seconds, default 60).
 */
import { chmodSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { basename } from 'node:path';
import { brokerPaths, TrustedDir } from '../src/broker_paths';
import { ModuleFailure } from '../src/errors';
import { VERSION } from '../src/version';
import { TaskGaveUp, type WaitingTask } from '../src/waiting_task';
import { acquireLock, isBrokerProcess, releaseLock } from './lockfile';
import { BrokerLog } from './log';
import { Pool } from './pool';
import { closeParams, runParams } from './requests';
import { BrokerStopping, serveSocket } from './server';

const idleExitMs = () => Math.max(1, Number(process.env.MCP_AUDIT_BROKER_IDLE_EXIT ?? 60)) * 1000;

/** Server process groups a killed broker left behind are stopped by the next broker. */
function reapOrphans(file: string, log: BrokerLog): void {
  let recorded: { broker: number; pids: number[] };
  try {
    recorded = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return;
  }
  if (recorded.broker === process.pid || isBrokerProcess(recorded.broker)) return;
  for (const pid of recorded.pids ?? []) {
    try {
      process.kill(-pid, 'SIGKILL');
      log.write('reaped orphan server group', { pgid: pid, dead_broker: recorded.broker });
    } catch {
      /* already gone */
    }
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* not there */
  }
}

/**
 * Start the broker. A failure to start (an untrusted directory, a full disk)
 * goes to stderr, which the module that started us reads to say why, and
 * exits 1; the log may be unwritable for the same reason.
 */
export async function runBroker(): Promise<void> {
  try {
    await startBroker();
  } catch (e) {
    const why = e instanceof ModuleFailure ? e.message : `${e instanceof Error ? e.message : String(e)}`;
    process.stderr.write(`${why}\n`);
    process.exit(1);
  }
  // Started: the module that launched us stops reading our stderr.
  process.stderr.on('error', () => undefined);
}

async function startBroker(): Promise<void> {
  const paths = brokerPaths();
  const dir = TrustedDir.open(paths.dir, { create: true });
  const log = new BrokerLog(paths.log);
  const lock = acquireLock(paths.lock);
  if (!lock.acquired) {
    // Lost the start race (or a broker is already up): the winner serves everyone.
    process.exit(0);
  }
  reapOrphans(paths.servers, log);
  const startedAt = Date.now();
  let server: Server | undefined;
  let exitTimer: NodeJS.Timeout | undefined;
  let shuttingDown = false;

  const pool: Pool = new Pool(log, {
    onEmpty: () => armExit(),
    onBusy: () => exitTimer && clearTimeout(exitTimer),
    onServersChanged: (pids) => {
      try {
        writeFileSync(paths.servers, JSON.stringify({ broker: process.pid, pids }), { mode: 0o600 });
      } catch {
        /* best effort */
      }
    },
  });

  const shutdown = async (reason: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.write('broker stopping', { reason, entries: pool.size });
    server?.close();
    unlinkQuietly(paths.socket);
    await pool.closeAll();
    unlinkQuietly(paths.servers);
    releaseLock(paths.lock);
    log.write('broker stopped', { reason });
    process.exit(0);
  };

  function armExit() {
    if (exitTimer) clearTimeout(exitTimer);
    exitTimer = setTimeout(() => {
      if (pool.size === 0) void shutdown('pool empty');
    }, idleExitMs());
  }

  const handler = async (method: string, params: any, task: WaitingTask): Promise<unknown> => {
    // A request that slipped in while an idle broker shuts down: nothing ran, the client starts a new broker and resends.
    if (shuttingDown && method !== 'stop' && method !== 'status') throw new BrokerStopping();
    switch (method) {
      case 'ping':
        return { pid: process.pid, version: VERSION };
      case 'run': {
        const p = runParams(params);
        try {
          // A request that reaches a broker after its module gave up (the broker was frozen) starts nothing.
          task.ensureWaiting();
          return await task.run(() => pool.run(p.server, p.settings, p.op, p.args));
        } catch (e) {
          if (e instanceof TaskGaveUp) log.write('task gave up', { op: p.op, reason: e.message });
          throw e;
        }
      }
      case 'status':
        return {
          pid: process.pid,
          version: VERSION,
          uptime_s: Math.round((Date.now() - startedAt) / 1000),
          socket: paths.socket,
          log: paths.log,
          connections: pool.status(),
        };
      case 'close':
        return { closed: await pool.close(closeParams(params).server) };
      case 'stop': {
        const closed = await pool.closeAll();
        setImmediate(() => void shutdown('stop requested'));
        return { stopped: true, closed, pid: process.pid };
      }
      default:
        throw new Error(`unknown method '${method}'`);
    }
  };

  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => undefined);
  process.on('uncaughtException', (e) => log.write('uncaught exception', { error: e.message }));
  process.on('unhandledRejection', (e) => log.write('unhandled rejection', { error: e instanceof Error ? e.message : String(e) }));

  // We hold the lock, so a socket file here is stale. Bound through the checked directory (see TrustedDir).
  const socketPath = dir.at(basename(paths.socket));
  unlinkQuietly(socketPath);
  server = serveSocket(handler, () => {
    if (pool.size === 0) armExit();
  });
  const oldUmask = process.umask(0o177); // the socket is created 0600, never briefly wider
  try {
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(socketPath, () => resolve());
    });
    chmodSync(socketPath, 0o600);
  } catch (e: any) {
    releaseLock(paths.lock);
    throw new Error(`cannot listen on ${paths.socket}: ${String(e.message).replace(socketPath, paths.socket)}`);
  } finally {
    process.umask(oldUmask);
    dir.close();
  }
  log.write('broker started', { version: VERSION, socket: paths.socket, node: process.version });
  armExit();
}
