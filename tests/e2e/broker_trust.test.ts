/**
 * Trust: a module sends nothing (not the server_env secrets, not its
 * environment) to a broker socket unless the directory holding it is a real
 * directory of ours that nobody else may enter and the socket is ours; the
 * broker binds only in such a directory. A directory that fails is refused
 * with a message naming it, its owner and mode, and what to do; it is never
 * "repaired" by chmod. Covers MCP_AUDIT_BROKER_DIR and both defaults
 * ($XDG_RUNTIME_DIR/mcp_audit and $TMPDIR/mcp_audit-<uid>).
 *
 * The attacker is real: an impostor broker (tests/helpers/impostor_broker.mjs)
 * run as uid 65534 with setpriv, listening where the module would connect,
 * recording every byte and forging a "passed" result. These tests need root
 * (to be two users) and skip otherwise.
 *
 * Also here: where the broker starts. A relative MCP_AUDIT_BROKER_DIR is
 * refused at once, and a broker that cannot start (a full disk, on a tmpfs
 * mounted for the test; needs root too) is reported with its own error.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { everythingServer, NODE, REPO_ROOT, runPlaybook, type PlaybookRun } from './harness';
import { BROKER, brokerFiles, output, processAlive, readPidFile, RUNTIME, TOOL } from './broker-helpers';

const NOBODY = 65534;
const IS_ROOT = process.getuid?.() === 0;
const CAN_SWITCH_USER = IS_ROOT && existsSync('/usr/bin/setpriv');
const IMPOSTOR_JS = join(REPO_ROOT, 'tests', 'helpers', 'impostor_broker.mjs');

/** Everything a test made: impostor processes, directories, mounts. Undone after each test. */
const impostors: ChildProcess[] = [];
const paths: string[] = [];
const mounts: string[] = [];
afterEach(() => {
  for (const p of impostors.splice(0)) if (p.pid && processAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
  for (const p of paths.splice(0)) rmSync(p, { recursive: true, force: true });
});

/** A scratch directory under /tmp that uid 65534 can traverse. */
function scratch(): string {
  const dir = mkdtempSync('/tmp/mab-trust-');
  chmodSync(dir, 0o755);
  paths.push(dir);
  return dir;
}

/** A directory made and owned by uid 65534 (as if that user had created it first). */
function nobodysDir(path: string, mode = 0o755): string {
  mkdirSync(path);
  chownSync(path, NOBODY, NOBODY);
  chmodSync(path, mode);
  return path;
}

interface Impostor {
  /** What the impostor received: "[connection]" lines and the raw bytes. */
  received(): string;
}

/** Start the impostor as uid 65534 on `socket`; resolves once it listens. */
async function impostorAt(socket: string): Promise<Impostor> {
  const recordDir = mkdtempSync('/tmp/mab-record-');
  paths.push(recordDir);
  chmodSync(recordDir, 0o777);
  const record = join(recordDir, 'record');
  const child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', NODE, IMPOSTOR_JS, socket, record], { stdio: ['ignore', 'pipe', 'pipe'] });
  impostors.push(child);
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (c) => (err += c));
    child.stdout!.on('data', (c) => String(c).includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`the impostor exited (${code}): ${err}`)));
  });
  expect(statSync(socket).uid).toBe(NOBODY);
  return { received: () => readFileSync(record, 'utf8') };
}

const secret = () => `sk-${randomUUID()}`;

/** An echo task that carries a secret in server_env; ignore_errors so the play goes on. */
const echoWithSecret = (name: string, token: string, extra: Record<string, unknown> = {}) => ({
  name,
  ignore_errors: true,
  [TOOL]: { ...everythingServer, connection_reuse: true, tool_name: 'echo', tool_arguments: { message: 'hi' }, server_env: { API_TOKEN: token }, ...extra },
});

/** The refusal a module must give: the path, who owns it, its mode, and what to do. */
function expectRefused(run: PlaybookRun, task: string, path: string, problem: RegExp) {
  const t = run.task(task);
  expect(t.status, output(run)).toBe('failed');
  const msg: string = t.result.msg;
  expect(msg, output(run)).toContain(`refusing to use the broker`);
  expect(msg).toContain(path);
  expect(msg).toMatch(problem);
  expect(msg).toContain('nothing was sent to it');
  expect(msg).toMatch(/set MCP_AUDIT_BROKER_DIR to a directory of your own with mode 0700/);
  // Refused before any work: no stack trace, no "internal error", and fast.
  expect(msg).not.toMatch(/internal error|\n\s+at /);
  expect(t.result.test_passed).not.toBe(true);
  return t;
}

/** Nothing reached the impostor: no connection, so no secret and no environment. */
function expectUntouched(impostor: Impostor, ...secrets: string[]) {
  const got = impostor.received();
  expect(got, 'the impostor was contacted').toBe('');
  for (const s of secrets) expect(got.includes(s)).toBe(false);
}

const trustTests = CAN_SWITCH_USER ? describe : describe.skip;

trustTests('trust (needs root: a second user via setpriv)', () => {
  test('MCP_AUDIT_BROKER_DIR made by another user, with an impostor listening in it: refused, nothing sent', async () => {
    const root = scratch();
    const dir = nobodysDir(join(root, 'theirs'));
    const impostor = await impostorAt(brokerFiles(dir).socket);
    const token = secret();
    const run = await runPlaybook([echoWithSecret('echo', token)], { env: { MCP_AUDIT_BROKER_DIR: dir } });
    expectRefused(run, 'echo', dir, /it belongs to uid 65534 \(nobody\) \(mode 0755\), not to you \(uid 0 \(root\)\), so someone else may be listening in it/);
    expectUntouched(impostor, token);
    expect(statSync(dir).mode & 0o777).toBe(0o755);
    expect(run.stdout + run.stderr + JSON.stringify(run.results)).not.toContain('FORGED');
  });

  test('the default $TMPDIR/mcp_audit-<uid>, made first by another user or a symlink to their directory: refused', async () => {
    const tmp = scratch();
    const token = secret();
    // Made first by another user, impostor inside.
    const taken = nobodysDir(join(tmp, `mcp_audit-${process.getuid!()}`));
    const inTaken = await impostorAt(brokerFiles(taken).socket);
    const first = await runPlaybook([echoWithSecret('echo', token)], { env: { MCP_AUDIT_BROKER_DIR: '', XDG_RUNTIME_DIR: '', TMPDIR: tmp } });
    expectRefused(first, 'echo', taken, /belongs to uid 65534 \(nobody\)/);
    expectUntouched(inTaken, token);

    // A symlink where our directory would be, to a directory of theirs with an impostor.
    const tmp2 = scratch();
    const target = nobodysDir(join(tmp2, 'elsewhere'));
    const viaLink = await impostorAt(brokerFiles(target).socket);
    const link = join(tmp2, `mcp_audit-${process.getuid!()}`);
    symlinkSync(target, link);
    const second = await runPlaybook([echoWithSecret('echo', token)], { env: { MCP_AUDIT_BROKER_DIR: '', XDG_RUNTIME_DIR: '', TMPDIR: tmp2 } });
    expectRefused(second, 'echo', link, new RegExp(`it is a symbolic link to ${target} \\(owner uid 65534 \\(nobody\\), mode 0755\\), not a real directory`));
    expectUntouched(viaLink, token);
  });

  test('the default $XDG_RUNTIME_DIR/mcp_audit made by another user: refused', async () => {
    const xdg = scratch();
    chmodSync(xdg, 0o711); // ours, so it is used; others may pass through it
    const dir = nobodysDir(join(xdg, 'mcp_audit'), 0o700);
    const impostor = await impostorAt(brokerFiles(dir).socket);
    const token = secret();
    const run = await runPlaybook([echoWithSecret('echo', token)], { env: { MCP_AUDIT_BROKER_DIR: '', XDG_RUNTIME_DIR: xdg } });
    expectRefused(run, 'echo', dir, /belongs to uid 65534 \(nobody\) \(mode 0700\)/);
    expectUntouched(impostor, token);
  });

  test('a socket of another user in our own private directory: refused', async () => {
    const root = scratch();
    // The impostor binds where it may, then the socket is moved into our directory (a bound socket keeps working).
    const theirs = nobodysDir(join(root, 'theirs'));
    const impostor = await impostorAt(join(theirs, 'planted.sock'));
    const ours = join(root, 'ours');
    mkdirSync(ours, { mode: 0o700 });
    const socket = brokerFiles(ours).socket;
    renameSync(join(theirs, 'planted.sock'), socket);
    const token = secret();
    const run = await runPlaybook([echoWithSecret('echo', token)], { env: { MCP_AUDIT_BROKER_DIR: ours } });
    expectRefused(run, 'echo', socket, /refusing to use the broker socket .*: it belongs to uid 65534 \(nobody\) \(mode 0777\), not to you/);
    expectUntouched(impostor, token);
  });

  test('mcp_broker state=status does not talk to an impostor either', async () => {
    const root = scratch();
    const dir = nobodysDir(join(root, 'theirs'));
    const impostor = await impostorAt(brokerFiles(dir).socket);
    const run = await runPlaybook([{ name: 'status', ignore_errors: true, [BROKER]: { state: 'status' } }], { env: { MCP_AUDIT_BROKER_DIR: dir } });
    expectRefused(run, 'status', dir, /belongs to uid 65534 \(nobody\)/);
    expectUntouched(impostor);
  });

  test('a directory of ours that others may enter is refused as it is, not chmod-ed; no broker starts', async () => {
    const root = scratch();
    const open = join(root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o755);
    const group = join(root, 'group');
    mkdirSync(group);
    chmodSync(group, 0o770);
    const token = secret();
    const run = await runPlaybook([
      { ...echoWithSecret('world-readable', token), environment: { MCP_AUDIT_BROKER_DIR: open } },
      { ...echoWithSecret('group-writable', token), environment: { MCP_AUDIT_BROKER_DIR: group } },
    ]);
    expectRefused(run, 'world-readable', open, /its mode 0755 lets other users in \(owner uid 0 \(root\)\); it must be 0700/);
    expectRefused(run, 'group-writable', group, /its mode 0770 lets other users in/);
    expect(run.task('world-readable').result.msg).toContain(`chmod 700 ${open}`);
    for (const [dir, mode] of [[open, 0o755], [group, 0o770]] as const) {
      expect((statSync(dir).mode & 0o777).toString(8)).toBe(mode.toString(8));
      expect(readdirSync(dir), 'no broker files').toEqual([]);
    }
  });

  test('the broker itself refuses to bind in a directory it cannot trust', async () => {
    const root = scratch();
    const theirs = nobodysDir(join(root, 'theirs'), 0o777);
    const open = join(root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o755);
    for (const [dir, problem] of [
      [theirs, /refusing to use the broker directory .*theirs: it belongs to uid 65534 \(nobody\) \(mode 0777\)/],
      [open, /refusing to use the broker directory .*open: its mode 0755 lets other users in/],
    ] as const) {
      let exit: { status: number | null; stdout: string; stderr: string };
      try {
        const stdout = execFileSync(RUNTIME, ['--broker'], { env: { PATH: process.env.PATH, MCP_AUDIT_BROKER_DIR: dir, MCP_AUDIT_BROKER_IDLE_EXIT: '1' }, encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
        exit = { status: 0, stdout, stderr: '' };
      } catch (e: any) {
        exit = { status: e.status, stdout: e.stdout, stderr: e.stderr };
      }
      expect(exit.status, JSON.stringify(exit)).toBe(1);
      expect(exit.stderr).toMatch(problem);
      expect(readdirSync(dir), 'nothing bound or written').toEqual([]);
    }
    expect(statSync(open).mode & 0o777).toBe(0o755);
  });
});

describe('where the broker starts', () => {
  test('a relative MCP_AUDIT_BROKER_DIR is refused at once, naming it', async () => {
    const run = await runPlaybook([{ ...echoWithSecret('relative', secret()), environment: { MCP_AUDIT_BROKER_DIR: 'relative/broker' } }]);
    const t = run.task('relative');
    expect(t.status, output(run)).toBe('failed');
    expect(t.result.msg).toBe("MCP_AUDIT_BROKER_DIR must be an absolute path, got 'relative/broker'; set it to an absolute directory (for example /run/user/0/mcp_audit) or unset it to use the default");
  });

  test.skipIf(!IS_ROOT)('(needs root: mounts a tmpfs) a full disk: the broker says "no space left on device", at once', async (ctx) => {
    const dir = scratch();
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir], { stdio: 'pipe' });
    } catch (e: any) {
      ctx.skip(`cannot mount a tmpfs here: ${String(e.stderr ?? e.message).trim()}`);
    }
    mounts.push(dir);
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'fill')}`, 'bs=4k'], { stdio: 'pipe' });
    } catch {
      /* dd stops at ENOSPC: the disk is full */
    }
    const run = await runPlaybook([echoWithSecret('full disk', secret())], { env: { MCP_AUDIT_BROKER_DIR: dir } });
    const t = run.task('full disk');
    expect(t.status, output(run)).toBe('failed');
    expect(t.result.msg).toMatch(new RegExp(`^the broker could not start: cannot write the broker's lock file ${dir}/broker-[^ ]+\\.pid: ENOSPC: no space left on device`));
    expect(readdirSync(dir), 'no empty lock file left behind').toEqual(['fill']);
    expect(readPidFile(dir)).toBeUndefined();
  });
});
