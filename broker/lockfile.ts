/**
 * The broker's pid file doubles as its lock: created with O_EXCL, so when
 * several modules start brokers at once exactly one wins; the others see a
 * live owner and exit. A lock left by a dead broker (kill -9) is taken over
 * under a short-lived mkdir mutex, so two starters cannot both replace it.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';

const TAKEOVER_STALE_MS = 10_000;

export function isBrokerProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e: any) {
    return e.code === 'EPERM';
  }
  try {
    // A recycled pid must not keep a dead broker's lock alive.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--broker');
  } catch {
    return true; // no /proc: trust the signal check
  }
}

export function readLockOwner(path: string): number | undefined {
  try {
    const pid = parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function lockAgeMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}

function createExclusive(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e: any) {
    if (e.code === 'EEXIST') return false;
    throw new Error(`cannot create the broker's lock file ${path}: ${e.message}`);
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } catch (e: any) {
    // A full disk: an empty lock would make the next starter wait for a writer that is gone.
    unlinkSync(path);
    throw new Error(`cannot write the broker's lock file ${path}: ${e.message}`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Run `fn` holding `<path>.takeover`; false when another process holds it. */
function withTakeoverMutex(path: string, fn: () => void): boolean {
  const mutex = `${path}.takeover`;
  try {
    mkdirSync(mutex, { mode: 0o700 });
  } catch (e: any) {
    if (e.code !== 'EEXIST') throw e;
    try {
      if (Date.now() - statSync(mutex).mtimeMs > TAKEOVER_STALE_MS) rmdirSync(mutex);
    } catch {
      /* gone already */
    }
    return false;
  }
  try {
    fn();
  } finally {
    rmdirSync(mutex);
  }
  return true;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Take the lock for this process; returns the live owner's pid when another broker holds it. */
export function acquireLock(path: string): { acquired: true } | { acquired: false; owner?: number } {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (createExclusive(path)) return { acquired: true };
    const owner = readLockOwner(path);
    if (owner && isBrokerProcess(owner)) return { acquired: false, owner };
    let won = false;
    withTakeoverMutex(path, () => {
      // Re-check under the mutex: another starter may have replaced the stale lock already.
      const current = readLockOwner(path);
      if (current && isBrokerProcess(current)) return;
      if (!current && lockAgeMs(path) < 2000) return; // being written by its creator right now
      try {
        unlinkSync(path);
      } catch {
        /* already removed */
      }
      won = createExclusive(path);
    });
    if (won) return { acquired: true };
    sleep(20);
  }
  return { acquired: false, owner: readLockOwner(path) };
}

export function releaseLock(path: string): void {
  if (readLockOwner(path) === process.pid) {
    try {
      unlinkSync(path);
    } catch {
      /* already gone */
    }
  }
}
