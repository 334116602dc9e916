/**
 * A remote target for Ansible on this machine: a real OpenSSH server on
 * 127.0.0.1 (Debian's openssh-server, run in the foreground as our child, with
 * its own host key and config in a temp directory), throwaway users, and a
 * byte-counting relay (./tcp_relay.ts) in front of it that the inventory
 * points Ansible at.
 *
 *   target user  unprivileged, logs in with a temp client key; the task's "remote user"
 *   become user  a third user the target user may become with sudo, no password
 *
 * Both users are created per startSshd() (a fresh "host": empty home, no
 * runtime placed yet) and removed by stop(), with every process they still run
 * (brokers and MCP servers a task left on the target). A user's GECOS field
 * names the test process that made it, so a later start removes users whose
 * maker died without stop().
 *
 * Needs root (useradd, sshd logging users in): callers skip when
 * sshdUnavailable() gives a reason. Plain Node, no test-framework imports:
 * scripts/bench.mjs loads this file too.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { basename, join, relative } from 'node:path';
import { stringify } from 'yaml';
import { startTcpRelay, type TcpRelay } from './tcp_relay';

const SSHD = '/usr/sbin/sshd';
const SUDOERS_DIR = '/etc/sudoers.d';
const USER_PREFIX = 'mcpaudit-';
const OWNER_MARK = 'mcp_audit test, owner pid ';

export interface Sshd {
  /** The port Ansible connects to: the relay's (127.0.0.1). */
  port: number;
  /** sshd's own port, behind the relay. */
  sshdPort: number;
  /** Counts the bytes between Ansible and sshd. */
  relay: TcpRelay;
  /** The unprivileged remote user. */
  user: string;
  /** A user that `user` may become (sudo, no password). */
  becomeUser: string;
  /** The client's private key (root's, mode 0600). */
  keyPath: string;
  /**
   * An inventory file (YAML) of hosts (default one, `target`) that reach this sshd
   * through the relay as `user`; extraVars are added to every host.
   */
  inventory(extraVars?: Record<string, unknown>, hosts?: string[]): string;
  /**
   * `file` when the target user can read it where it is, else the same file in a
   * world-readable copy of `copyRoot` (a directory holding `file`, such as node_modules).
   */
  readableByTarget(file: string, copyRoot: string): string;
  /** sshd's log (stderr) so far, for failure messages. */
  log(): string;
  /** Stop relay and sshd, end the users' processes, remove users, sudoers entry and files. */
  stop(): Promise<void>;
}

/** Why startSshd() cannot run here, or undefined when it can. */
export function sshdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (it creates throwaway users and runs sshd)';
  const needed: [string, string][] = [
    [SSHD, 'openssh-server'],
    ['/usr/bin/ssh-keygen', 'openssh-client'],
    ['/usr/bin/sudo', 'sudo'],
    ['/usr/sbin/useradd', 'passwd'],
  ];
  for (const [path, pkg] of needed) {
    if (!existsSync(path)) return `${path} is missing (apt-get install ${pkg}, as scripts/ensure-deps.sh does when run as root)`;
  }
  return undefined;
}

/** Run a command; throw with its output when it fails. */
function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** useradd/userdel lock /etc/passwd; a concurrent test file may hold the lock for a moment. */
async function withPasswdLock(command: string, args: string[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const r = spawnSync(command, args, { encoding: 'utf8' });
    if (r.status === 0) return;
    if (attempt < 20 && /lock/i.test(r.stderr)) {
      await sleep(100);
      continue;
    }
    throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  }
}

interface PasswdEntry {
  name: string;
  uid: number;
  gecos: string;
}

function passwdEntries(): PasswdEntry[] {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, , uid, , gecos] = line.split(':');
      return { name, uid: Number(uid), gecos: gecos ?? '' };
    });
}

/** Pids of live processes whose real uid is `uid`. */
function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const realUid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
      const state = /^State:\s+(\S)/m.exec(status)?.[1];
      if (Number(realUid) === uid && state !== 'Z' && state !== 'X') pids.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

/** SIGKILL, by pid, every process of a throwaway user until none is left (they may fork meanwhile). */
async function endProcessesOf(uid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pids = processesOf(uid);
    if (!pids.length) return;
    if (Date.now() > deadline) throw new Error(`processes of uid ${uid} survive SIGKILL: ${pids.join(' ')}`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await sleep(50);
  }
}

const sudoersFile = (id: string) => join(SUDOERS_DIR, `${USER_PREFIX}${id}`);
const userNames = (id: string) => ({ user: `${USER_PREFIX}t${id}`, becomeUser: `${USER_PREFIX}b${id}` });

async function removeInstanceUsers(id: string): Promise<void> {
  rmSync(sudoersFile(id), { force: true });
  const names = Object.values(userNames(id));
  for (const entry of passwdEntries().filter((e) => names.includes(e.name))) {
    await endProcessesOf(entry.uid);
    await withPasswdLock('userdel', ['--remove', entry.name]);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Remove users (and their sudoers entries) left by test processes that died without stop(). */
async function removeStaleUsers(): Promise<void> {
  for (const entry of passwdEntries()) {
    const id = new RegExp(`^${USER_PREFIX}t(\\w+)$`).exec(entry.name)?.[1];
    if (!id || !entry.gecos.startsWith(OWNER_MARK) || alive(Number(entry.gecos.slice(OWNER_MARK.length)))) continue;
    // Another test process may be sweeping the same users right now.
    await removeInstanceUsers(id).catch(() => undefined);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Start sshd in the foreground; resolves once it listens. Another process may take the port first: then retry. */
async function launchSshd(dir: string, configFor: (port: number) => string): Promise<{ child: ChildProcess; port: number; log: () => string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    writeFileSync(config, configFor(port));
    // sshd re-executes itself: it must be started by absolute path.
    const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (c: Buffer) => (log = (log + c.toString('utf8')).slice(-64 * 1024)));
    const listening = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 15_000);
      child.stderr!.on('data', () => {
        if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (listening) return { child, port, log: () => log };
    child.kill('SIGKILL');
    if (attempt >= 3 || !/Address already in use/.test(log)) throw new Error(`sshd did not start:\n${log}`);
  }
}

/**
 * Ask every ssh ControlMaster with a socket in `dir` to exit (Ansible's ControlPersist keeps one 60 s
 * after a playbook). Asynchronous: the relay that master talks through may live in this very process.
 */
export async function closeSshControlMasters(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const exit = (socket: string) =>
    new Promise((resolve) => {
      // The destination is required by the syntax; with an explicit ControlPath it is not used.
      execFile('ssh', ['-o', `ControlPath=${socket}`, '-O', 'exit', 'control-master'], { timeout: 10_000 }, resolve);
    });
  await Promise.all(readdirSync(dir).map((name) => exit(join(dir, name))));
}

/** Start sshd, users and relay (see the header). Call sshdUnavailable() first. */
export async function startSshd(): Promise<Sshd> {
  const why = sshdUnavailable();
  if (why) throw new Error(`cannot start sshd: ${why}`);
  await removeStaleUsers();

  const id = randomBytes(4).toString('hex');
  const { user, becomeUser } = userNames(id);
  // In /tmp (not $TMPDIR) and readable by the target user: sshd reads authorized_keys as that user.
  const dir = mkdtempSync('/tmp/mcpaudit-sshd-');
  chmodSync(dir, 0o755);
  let sshd: Awaited<ReturnType<typeof launchSshd>> | undefined;
  let relay: TcpRelay | undefined;
  const killOnExit = () => sshd?.child.kill('SIGKILL');

  const cleanup = async () => {
    process.off('exit', killOnExit);
    await relay?.stop();
    if (sshd && sshd.child.exitCode === null && sshd.child.signalCode === null) {
      const exited = new Promise((resolve) => sshd!.child.once('exit', resolve));
      sshd.child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => sshd!.child.kill('SIGKILL'))]);
    }
    await removeInstanceUsers(id);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const name of [user, becomeUser]) {
      // Password '*': none can match, yet the account is not locked ('!', useradd's default, which sshd refuses).
      await withPasswdLock('useradd', ['--create-home', '--shell', '/bin/sh', '--password', '*', '--comment', `${OWNER_MARK}${process.pid}`, name]);
    }
    // Checked by visudo before sudo ever reads it: a broken file in sudoers.d breaks sudo for everyone.
    const sudoers = join(dir, 'sudoers');
    writeFileSync(sudoers, `# tosin2013.mcp_audit tests (tests/helpers/sshd.ts); removed when that test's sshd stops\n${user} ALL=(${becomeUser}) NOPASSWD: ALL\n`, { mode: 0o440 });
    run('visudo', ['-c', '-q', '-f', sudoers]);
    copyFileSync(sudoers, sudoersFile(id));
    chmodSync(sudoersFile(id), 0o440);

    const hostKey = join(dir, 'host_ed25519');
    const keyPath = join(dir, 'client_ed25519');
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mcp_audit test host', '-f', hostKey]);
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mcp_audit test client', '-f', keyPath]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${keyPath}.pub`), { mode: 0o644 });
    // sshd's privilege separation directory (the package makes it at boot via tmpfiles; a container has no boot).
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

    process.on('exit', killOnExit);
    sshd = await launchSshd(
      dir,
      (port) =>
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${hostKey}`,
          'PidFile none',
          'UsePAM no',
          // The key file lives in a temp dir under world-writable /tmp, which strict modes refuse.
          'StrictModes no',
          `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          `AllowUsers ${user}`,
          'PermitRootLogin no',
          // Ansible's ControlMaster multiplexes every fork's session over one connection.
          'MaxSessions 64',
          'Subsystem sftp /usr/lib/openssh/sftp-server',
          'LogLevel VERBOSE',
          '',
        ].join('\n'),
    );
    relay = await startTcpRelay(sshd.port);
  } catch (e) {
    await cleanup();
    throw e;
  }

  let inventories = 0;
  let stopped: Promise<void> | undefined;
  const instance: Sshd = {
    port: relay.port,
    sshdPort: sshd.port,
    relay,
    user,
    becomeUser,
    keyPath: join(dir, 'client_ed25519'),
    inventory(extraVars = {}, hosts = ['target']) {
      const vars = {
        ansible_host: '127.0.0.1',
        ansible_port: relay!.port,
        ansible_user: user,
        ansible_ssh_private_key_file: instance.keyPath,
        // A throwaway host key: nothing to check it against, nothing to remember.
        ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR',
        ...extraVars,
      };
      const path = join(dir, `inventory-${++inventories}.yml`);
      writeFileSync(path, stringify({ all: { hosts: Object.fromEntries(hosts.map((h) => [h, vars])) } }));
      return path;
    },
    readableByTarget(file, copyRoot) {
      if (spawnSync('runuser', ['-u', user, '--', 'test', '-r', file]).status === 0) return file;
      const copy = join(dir, 'shared', basename(copyRoot));
      if (!existsSync(copy)) {
        cpSync(copyRoot, copy, { recursive: true });
        run('chmod', ['-R', 'a+rX', join(dir, 'shared')]);
      }
      return join(copy, relative(copyRoot, file));
    },
    log: () => sshd!.log(),
    stop: () => (stopped ??= cleanup()),
  };
  return instance;
}
