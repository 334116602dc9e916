/**
 * Where the broker lives: a per-user directory (0700) holding the socket
 * (0600), the pid/lock file and the log. The socket name carries the runtime
 * version, so a module never talks to a broker from another build.
 *
 * Secrets travel over that socket, so it is trusted only in a directory that
 * is a real directory owned by us that nobody else may enter, and only when it
 * is a socket we own. Modules check before they send a byte and the broker
 * before it binds; a directory that fails is refused, never repaired.
 */
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, statSync, constants, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
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

const euid = () => process.geteuid?.() ?? 0;

export function brokerDir(): string {
  const configured = process.env.MCP_AUDIT_BROKER_DIR;
  if (configured) {
    // Modules run in the task's working directory and the broker in /: a relative path would name two different places.
    if (!isAbsolute(configured)) {
      throw new ModuleFailure(`MCP_AUDIT_BROKER_DIR must be an absolute path, got '${configured}'; set it to an absolute directory (for example /run/user/${euid()}/mcp_audit) or unset it to use the default`);
    }
    return configured;
  }
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  if (runtimeDir) {
    try {
      const st = lstatSync(runtimeDir);
      if (st.isDirectory() && st.uid === euid()) return join(runtimeDir, 'mcp_audit');
    } catch {
      /* fall back to the temp dir */
    }
  }
  return join(tmpdir(), `mcp_audit-${process.getuid?.() ?? 0}`);
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

/** "uid 65534 (nobody)": names help a person see whose directory it is. */
function owner(uid: number): string {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(uid));
    if (line) return `uid ${uid} (${line.split(':')[0]})`;
  } catch {
    /* no passwd file: the number alone */
  }
  return `uid ${uid}`;
}

const octal = (st: Stats) => `0${(st.mode & 0o777).toString(8).padStart(3, '0')}`;
const FIX = 'set MCP_AUDIT_BROKER_DIR to a directory of your own with mode 0700 (or unset it to use the default)';

function untrusted(what: string, path: string, problem: string, fix: string): ModuleFailure {
  return new ModuleFailure(`refusing to use the broker ${what} ${path}: ${problem}; nothing was sent to it. ${fix}`);
}

/** The reason a directory (lstat'ed, so a symlink shows as one) cannot hold our socket, as a ModuleFailure. */
function distrustDir(dir: string, st: Stats): ModuleFailure | undefined {
  const me = euid();
  if (st.isSymbolicLink()) {
    let target = '';
    try {
      const to = statSync(dir);
      target = ` to ${readlinkSync(dir)} (owner ${owner(to.uid)}, mode ${octal(to)})`;
    } catch {
      target = ' that leads nowhere';
    }
    return untrusted('directory', dir, `it is a symbolic link${target}, not a real directory, so whoever controls the link decides where the socket is`, `Remove the link, or ${FIX}.`);
  }
  if (!st.isDirectory()) return untrusted('directory', dir, `it is not a directory (owner ${owner(st.uid)}, mode ${octal(st)})`, `Remove it, or ${FIX}.`);
  if (st.uid !== me) {
    return untrusted('directory', dir, `it belongs to ${owner(st.uid)} (mode ${octal(st)}), not to you (${owner(me)}), so someone else may be listening in it`, `Remove it if you know what it is, or ${FIX}.`);
  }
  if (st.mode & 0o077) {
    return untrusted('directory', dir, `its mode ${octal(st)} lets other users in (owner ${owner(st.uid)}); it must be 0700`, `If nothing else uses it, run \`chmod 700 ${dir}\`; or ${FIX}.`);
  }
  return undefined;
}

/**
 * The broker directory, checked and held open. `at(name)` names a file in the
 * very directory that was checked (through /proc/self/fd), so it cannot be
 * swapped for another between the check and the connect or bind.
 */
export class TrustedDir {
  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  /**
   * Open the broker directory and check it; `create` makes a missing one
   * (0700). Without `create`, a missing directory gives undefined (no broker).
   */
  static open(dir: string, opts: { create: true }): TrustedDir;
  static open(dir: string, opts: { create: boolean }): TrustedDir | undefined;
  static open(dir: string, opts: { create: boolean }): TrustedDir | undefined {
    let fd: number;
    try {
      fd = openDirNoFollow(dir);
    } catch (e: any) {
      if (e.code !== 'ENOENT') throw openFailure(dir, e);
      if (!opts.create) return undefined;
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
      } catch (m: any) {
        if (m.code !== 'EEXIST') throw new ModuleFailure(`cannot create the broker directory ${dir}: ${m.message}; ${FIX}`);
      }
      try {
        fd = openDirNoFollow(dir);
      } catch (again: any) {
        throw openFailure(dir, again);
      }
    }
    const problem = distrustDir(dir, fstatSync(fd));
    if (problem) {
      closeSync(fd);
      throw problem;
    }
    return new TrustedDir(dir, fd);
  }

  /** A path to `name` inside the checked directory. */
  at(name: string): string {
    return PROC_FD ? `/proc/self/fd/${this.fd}/${name}` : join(this.path, name);
  }

  /**
   * Whether our socket is there: false when absent; throws when something
   * there is not a socket or is not ours.
   */
  hasSocket(socketPath: string): boolean {
    let st: Stats;
    try {
      st = lstatSync(this.at(basename(socketPath)));
    } catch (e: any) {
      if (e.code === 'ENOENT') return false;
      throw new ModuleFailure(`cannot check the broker socket ${socketPath}: ${e.message}`);
    }
    if (!st.isSocket()) return this.refuse(socketPath, `it is not a socket (owner ${owner(st.uid)}, mode ${octal(st)})`, `Remove it (the next task starts a broker), or ${FIX}.`);
    if (st.uid !== euid()) {
      return this.refuse(socketPath, `it belongs to ${owner(st.uid)} (mode ${octal(st)}), not to you (${owner(euid())})`, `Remove it (the next task starts a broker), or ${FIX}.`);
    }
    return true;
  }

  private refuse(path: string, problem: string, fix: string): never {
    throw untrusted('socket', path, problem, fix);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Linux: paths through an open directory's fd. Elsewhere, plain paths (checked just before use). */
const PROC_FD = existsSync('/proc/self/fd');

function openDirNoFollow(dir: string): number {
  return openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
}

/** Why the directory could not be opened, with what is there when it is something we refuse. */
function openFailure(dir: string, e: NodeJS.ErrnoException): ModuleFailure {
  if (e.code === 'ELOOP' || e.code === 'ENOTDIR') {
    try {
      const problem = distrustDir(dir, lstatSync(dir));
      if (problem) return problem;
    } catch {
      /* vanished: report the open error */
    }
  }
  let about = '';
  try {
    const st = lstatSync(dir);
    about = ` (owner ${owner(st.uid)}, mode ${octal(st)})`;
  } catch {
    /* nothing to describe */
  }
  return new ModuleFailure(`cannot open the broker directory ${dir}${about}: ${e.message}; ${FIX}`);
}
