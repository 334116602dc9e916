/**
 * Finding and stopping a server's processes (src/mcp/process_tree.ts), with
 * real processes: zombies count as exited, processes that left the server's
 * process group and session are found by the MCP_AUDIT_SESSION mark in their
 * environment, SIGTERM is followed by SIGKILL, and nothing unmarked is touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newSessionMark, processRunning, SESSION_MARK_VAR, stopProcessTree, treeRunning } from '../../src/mcp/process_tree';
import { StdioServerTransport } from '../../src/mcp/stdio_transport';
import { until } from '../helpers/wait';

let tmp: string;
const pids: number[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mcp-audit-tree-'));
});

afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL'); // nothing may outlive a test
    } catch {
      /* gone */
    }
  }
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});


/** /proc/<pid>/stat fields after "(comm)": state, ppid, pgrp, session, ... */
const stat = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
};

/** Run `script` in sh (its own process group, like a server) and return the pid it writes to `name` in tmp. */
async function shWritingPid(script: string, env: NodeJS.ProcessEnv = process.env, name = 'pid'): Promise<{ leader: ChildProcess; pid: number }> {
  const leader = spawn('sh', ['-c', script], { env: { ...env, PIDFILE: join(tmp, name) }, stdio: 'ignore', detached: true });
  children.push(leader);
  await until(() => existsSync(join(tmp, name)) && readFileSync(join(tmp, name), 'utf8').endsWith('\n'), 5000, `the pid in ${name}`);
  const pid = Number(readFileSync(join(tmp, name), 'utf8'));
  pids.push(pid, leader.pid!);
  return { leader, pid };
}

/** Resolves once `pid` leads a session of its own (setsid(1) has run, not just been forked). */
const ownSession = (pid: number) => until(() => stat(pid)[3] === String(pid), 5000, `process ${pid} to call setsid()`);

/** A process in a new session (setsid) carrying `env`; with ignoreTerm it survives SIGTERM. */
let daemons = 0;
async function daemon(env: NodeJS.ProcessEnv, ignoreTerm = false): Promise<{ leader: ChildProcess; pid: number }> {
  const d = await shWritingPid(`${ignoreTerm ? "trap '' TERM; " : ''}setsid sleep 300 & echo $! > "$PIDFILE"; exec sleep 300`, env, `daemon-${++daemons}`);
  await ownSession(d.pid);
  return d;
}

describe('processRunning', () => {
  it('is true for a running process and false once it is gone', async () => {
    const child = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(child);
    await until(() => !!child.pid && existsSync(`/proc/${child.pid}`));
    expect(processRunning(child.pid!)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(processRunning(child.pid!)).toBe(false);
  });

  it('counts a zombie as exited, though it still answers signal 0', async () => {
    // The background sleep's parent becomes `sleep 300` (exec), which never waits: once it exits it stays a zombie.
    const { pid } = await shWritingPid('sleep 0.1 & echo $! > "$PIDFILE"; exec sleep 300');
    await until(() => stat(pid)[0] === 'Z', 5000, 'the zombie');
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(processRunning(pid)).toBe(false);
  });
});

describe('stopProcessTree', () => {
  it('stops a marked process that left the group and session, and leaves an unmarked one alone', async () => {
    const mark = newSessionMark();
    const marked = await daemon({ ...process.env, [SESSION_MARK_VAR]: mark });
    const other = await daemon({ ...process.env, [SESSION_MARK_VAR]: newSessionMark() });
    const tree = { pgid: marked.leader.pid!, mark };
    expect(treeRunning(tree)).toBe(true);

    await stopProcessTree(tree, 2000, 1000);
    expect(processRunning(marked.pid)).toBe(false);
    expect(processRunning(marked.leader.pid!)).toBe(false); // the group too
    expect(treeRunning(tree)).toBe(false);
    expect(processRunning(other.pid)).toBe(true);
    expect(processRunning(other.leader.pid!)).toBe(true);
  });

  it('sends SIGKILL after the grace period to a process that ignores SIGTERM', async () => {
    const mark = newSessionMark();
    const stubborn = await daemon({ ...process.env, [SESSION_MARK_VAR]: mark }, true);
    const started = Date.now();
    await stopProcessTree({ pgid: stubborn.leader.pid!, mark }, 500, 1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500); // it waited for SIGTERM first
    expect(processRunning(stubborn.pid)).toBe(false);
  });

  it('without a mark, stops the group only', async () => {
    const mark = newSessionMark();
    const d = await daemon({ ...process.env, [SESSION_MARK_VAR]: mark });
    await stopProcessTree({ pgid: d.leader.pid! }, 2000, 1000);
    expect(processRunning(d.leader.pid!)).toBe(false);
    expect(processRunning(d.pid)).toBe(true);
  });

  it('returns at once when nothing runs', async () => {
    const started = Date.now();
    await stopProcessTree({ pgid: 2 ** 22 + 1, mark: newSessionMark() }, 2000, 1000);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('StdioServerTransport', () => {
  it('marks the server with a fresh MCP_AUDIT_SESSION that is not part of its options', async () => {
    const marks: string[] = [];
    for (let i = 0; i < 2; i++) {
      const t = new StdioServerTransport({ command: 'sh', args: ['-c', `printf '{"jsonrpc":"2.0","method":"%s"}\\n' "$${SESSION_MARK_VAR}"; exec sleep 300`] });
      const got = new Promise<string>((r) => (t.onmessage = (m) => r((m as { method: string }).method)));
      await t.start();
      marks.push(await got);
      expect(t.env[SESSION_MARK_VAR]).toBeUndefined();
      await t.close();
    }
    expect(marks[0]).toMatch(/^[0-9a-f]{24}$/);
    expect(marks[1]).toMatch(/^[0-9a-f]{24}$/);
    expect(marks[0]).not.toBe(marks[1]);
  });

  it('close() stops a process the server started in a new session', async () => {
    const t = new StdioServerTransport({ command: 'sh', args: ['-c', `setsid sleep 300 & echo $! > ${join(tmp, 'pid')}; exec sleep 300`] });
    await t.start();
    await until(() => existsSync(join(tmp, 'pid')) && readFileSync(join(tmp, 'pid'), 'utf8').endsWith('\n'), 5000, 'the daemon pid');
    const pid = Number(readFileSync(join(tmp, 'pid'), 'utf8'));
    pids.push(pid, t.pid!);
    await ownSession(pid);
    await t.close();
    expect(processRunning(pid)).toBe(false);
  });

  it('close() stops what a server that exited by itself left in a new session', async () => {
    const t = new StdioServerTransport({ command: 'sh', args: ['-c', `setsid sleep 300 & echo $! > ${join(tmp, 'pid')}; exit 3`] });
    await t.start();
    expect(await t.waitExit(5000)).toEqual({ code: 3, signal: null });
    const pid = Number(readFileSync(join(tmp, 'pid'), 'utf8'));
    pids.push(pid);
    await ownSession(pid);
    await t.close();
    expect(processRunning(pid)).toBe(false);
  });
});
