/**
 * Where the broker lives: a per-user directory (0700) holding the socket
 * (0600), the pid/lock file and the log. The socket name carries the runtime
 * version, so a module never talks to a broker from another build.
 */
import { lstatSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModuleFailure } from './errors';
import { VERSION } from './version';

/** sun_path is 108 bytes on Linux, 104 on BSD/macOS; stay under the smaller. */
const SOCKET_PATH_LIMIT = 103;

export interface BrokerPaths {
  dir: string;
  socket: string;
  lock: string;
  log: string;
  servers: string;
}

export function brokerDir(): string {
  if (process.env.MCP_AUDIT_BROKER_DIR) return process.env.MCP_AUDIT_BROKER_DIR;
  const uid = process.getuid?.() ?? 0;
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  if (runtimeDir) {
    try {
      const st = lstatSync(runtimeDir);
      if (st.isDirectory() && st.uid === uid) return join(runtimeDir, 'mcp_audit');
    } catch {
      /* fall back to the temp dir */
    }
  }
  return join(tmpdir(), `mcp_audit-${uid}`);
}

export function brokerPaths(dir = brokerDir()): BrokerPaths {
  const tag = VERSION.replace(/[^\w.-]/g, '-');
  const paths = {
    dir,
    socket: join(dir, `broker-${tag}.sock`),
    lock: join(dir, `broker-${tag}.pid`),
    log: join(dir, 'broker.log'),
    servers: join(dir, `servers-${tag}.json`),
  };
  if (Buffer.byteLength(paths.socket) > SOCKET_PATH_LIMIT) {
    throw new ModuleFailure(
      `the broker socket path ${paths.socket} is longer than ${SOCKET_PATH_LIMIT} bytes (the unix socket limit); set MCP_AUDIT_BROKER_DIR to a shorter directory`,
    );
  }
  return paths;
}

/** Create the directory 0700 and refuse one that another user owns or others can enter. */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e: any) {
    if (e.code !== 'EEXIST') throw e; // EEXIST: a file is in the way, reported below
  }
  const st = lstatSync(dir);
  const uid = process.getuid?.() ?? st.uid;
  if (!st.isDirectory()) throw new ModuleFailure(`broker directory ${dir} is not a directory`);
  if (st.uid !== uid) throw new ModuleFailure(`broker directory ${dir} belongs to uid ${st.uid}, not to you (uid ${uid}); refusing to use it`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}
