/**
 * Every process started for one stdio server: found and stopped on close.
 *
 * A server runs in a process group (and session) of its own, but its
 * descendants may leave both: a helper that daemonizes calls setsid(), and
 * then neither a group kill nor the server's exit reaches it. What they keep
 * is the environment, so each server is started with MCP_AUDIT_SESSION=<a
 * random id> and on close every process whose /proc/<pid>/environ carries
 * that entry is stopped along with the group. /proc/<pid>/environ is the
 * environment a process was exec'd with, so only a descendant started with a
 * scrubbed environment escapes. Only our own uid's environ files are
 * readable, which are the processes we may signal anyway. Where /proc is
 * missing (not Linux), the process group is all we can reach.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** The environment variable that marks a server's processes; its value is not a secret and not part of the pool key. */
export const SESSION_MARK_VAR = 'MCP_AUDIT_SESSION';

export const newSessionMark = (): string => randomBytes(12).toString('hex');

export interface ProcessTree {
  /** The server's process group (its pid: it was started as a group leader). */
  pgid: number;
  /** The value of MCP_AUDIT_SESSION in its processes' environment; without it, only the group counts. */
  mark?: string;
}

interface Found {
  /** A running member of the process group is left. */
  group: boolean;
  /** Running processes carrying the mark outside the group (they left it). */
  outside: number[];
  /** Processes of ours whose environment read empty: they are in the middle of an exec (see settledFind). */
  execing: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let procMounted: boolean | undefined;
const haveProc = () => (procMounted ??= existsSync('/proc/self/stat'));

/** The fields of /proc/<pid>/stat after "pid (comm)": state, ppid, pgrp, ... (field n of proc(5) is [n - 3]); undefined when the process is gone. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // comm may hold spaces and parentheses: the fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** A zombie (Z) or dying (X) process has exited; only its parent's wait() is missing, and pid 1 of a container may never call it. */
const exited = (state: string) => state === 'Z' || state === 'X';

function signalProbe(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True while `pid` runs; a zombie counts as exited. */
export function processRunning(pid: number): boolean {
  if (!haveProc()) return signalProbe(pid);
  const fields = statFields(pid);
  return !!fields && !exited(fields[0]);
}

/** 'exec' when the environ reads empty: during execve the kernel shows none until the new image has its stack. */
function carriesMark(pid: string, entry: string): boolean | 'exec' {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    return environ === '' ? 'exec' : environ.split('\0').includes(entry);
  } catch {
    return false; // another user's process, or gone
  }
}

const PF_KTHREAD = 0x00200000;
const kernelThread = (fields: string[]) => (Number(fields[6]) & PF_KTHREAD) !== 0; // their environ is always empty

const startTime = (fields: string[]) => Number(fields[19]); // clock ticks after boot
let ownStart: number | undefined;

function find(tree: ProcessTree): Found {
  if (!haveProc()) return { group: signalProbe(-tree.pgid), outside: [], execing: 0 };
  const entry = tree.mark ? `${SESSION_MARK_VAR}=${tree.mark}` : undefined;
  // A server's descendants started after this process: older ones need no environ read.
  ownStart ??= startTime(statFields('self') ?? []) || 0;
  const found: Found = { group: false, outside: [], execing: 0 };
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const fields = statFields(name);
    if (!fields || exited(fields[0])) continue;
    if (Number(fields[2]) === tree.pgid) found.group = true;
    else if (entry && startTime(fields) >= ownStart && !kernelThread(fields)) {
      const marked = carriesMark(name, entry);
      if (marked === 'exec') found.execing++;
      else if (marked) found.outside.push(Number(name));
    }
  }
  return found;
}

/** find(), read again for a moment while a process is mid-exec: a daemon exec'ing right now must not slip through. */
async function settledFind(tree: ProcessTree): Promise<Found> {
  let found = find(tree);
  for (let i = 0; found.execing && i < 20; i++) {
    await sleep(10);
    found = find(tree);
  }
  return found;
}

/** True while a running process is left in the server's process group (marked processes outside it do not count). */
export function groupRunning(pgid: number): boolean {
  return signalProbe(-pgid) && find({ pgid }).group; // the probe spares a /proc scan once the group is gone
}

/** True while any process of the tree runs: a group member or a marked process outside the group. */
export function treeRunning(tree: ProcessTree): boolean {
  const { group, outside } = find(tree);
  return group || outside.length > 0;
}

function signal(tree: ProcessTree, found: Found, sig: NodeJS.Signals): void {
  for (const pid of found.group ? [-tree.pgid, ...found.outside] : found.outside) {
    try {
      process.kill(pid, sig);
    } catch {
      /* ESRCH: gone meanwhile */
    }
  }
}

/**
 * Stop every running process of the tree: SIGTERM, then SIGKILL to what is
 * left after `termGraceMs`, then wait up to `killGraceMs` for them to go.
 */
export async function stopProcessTree(tree: ProcessTree, termGraceMs: number, killGraceMs: number): Promise<void> {
  let found = await settledFind(tree);
  for (const [sig, graceMs] of [['SIGTERM', termGraceMs], ['SIGKILL', killGraceMs]] as const) {
    if (!found.group && !found.outside.length) break;
    signal(tree, found, sig);
    const deadline = Date.now() + graceMs;
    do {
      await sleep(50);
      found = await settledFind(tree);
    } while ((found.group || found.outside.length) && Date.now() < deadline);
  }
}
