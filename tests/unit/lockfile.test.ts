/**
 * The broker's pid file and lock (broker/lockfile.ts), with real files and
 * real processes: a live process whose command line holds `--broker` owns
 * the lock; a dead pid, a recycled pid (no `--broker`) or old garbage is
 * stale and taken over; several processes racing end with exactly one owner.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, isBrokerProcess, readLockOwner, releaseLock } from '../../broker/lockfile';

let dir: string;
let lock: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-audit-lock-'));
  lock = join(dir, 'broker-test.pid');
});

afterEach(async () => {
  await Promise.all(children.splice(0).map(stop));
  rmSync(dir, { recursive: true, force: true });
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exited(child);
}

async function started(child: ChildProcess): Promise<number> {
  children.push(child);
  await new Promise<void>((res, rej) => {
    child.once('spawn', () => res());
    child.once('error', rej);
  });
  return child.pid!;
}

/** A live process that looks like a broker: `--broker` is one of its arguments. */
const brokerLike = () => started(spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', '--broker'], { stdio: 'ignore' }));
/** A live process that is not a broker (a recycled pid). */
const notBroker = () => started(spawn('sleep', ['30'], { stdio: 'ignore' }));

/** The pid of a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn('sleep', ['0'], { stdio: 'ignore' });
  const pid = await started(child);
  await exited(child);
  expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  return pid;
}

const setAge = (path: string, seconds: number) => {
  const t = new Date(Date.now() - seconds * 1000);
  utimesSync(path, t, t);
};
const content = () => readFileSync(lock, 'utf8');

describe('isBrokerProcess', () => {
  it('is true for a live process with --broker in its command line', async () => {
    expect(isBrokerProcess(await brokerLike())).toBe(true);
  });

  it('is false for a live process without --broker (pid reuse)', async () => {
    expect(isBrokerProcess(await notBroker())).toBe(false);
  });

  it('is false for this test process', () => {
    expect(isBrokerProcess(process.pid)).toBe(false);
  });

  it('is false for a dead pid', async () => {
    expect(isBrokerProcess(await deadPid())).toBe(false);
  });

  it('needs --broker as a whole argument, not as part of one', async () => {
    const pid = await started(spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', '--broker-like', 'x--broker'], { stdio: 'ignore' }));
    expect(isBrokerProcess(pid)).toBe(false);
  });

  it('becomes false once the broker exits', async () => {
    const pid = await brokerLike();
    expect(isBrokerProcess(pid)).toBe(true);
    await stop(children[children.length - 1]);
    expect(isBrokerProcess(pid)).toBe(false);
  });
});

describe('readLockOwner', () => {
  it('reads the pid', () => {
    writeFileSync(lock, '12345\n');
    expect(readLockOwner(lock)).toBe(12345);
  });

  it('is undefined for a missing file', () => {
    expect(readLockOwner(join(dir, 'missing.pid'))).toBeUndefined();
  });

  it('is undefined for garbage, an empty file, zero or a negative number', () => {
    for (const bad of ['garbage', '', '\n', '0', '-42', 'NaN']) {
      writeFileSync(lock, bad);
      expect(readLockOwner(lock), JSON.stringify(bad)).toBeUndefined();
    }
  });
});

describe('acquireLock', () => {
  it('creates the lock with this pid, mode 0600, when there is none', () => {
    expect(acquireLock(lock)).toEqual({ acquired: true });
    expect(content()).toBe(`${process.pid}\n`);
    expect(statSync(lock).mode & 0o777).toBe(0o600);
    expect(existsSync(`${lock}.takeover`)).toBe(false);
  });

  it('does not take a lock held by a live broker, and names the owner', async () => {
    const owner = await brokerLike();
    writeFileSync(lock, `${owner}\n`);
    setAge(lock, 3600);
    expect(acquireLock(lock)).toEqual({ acquired: false, owner });
    expect(content()).toBe(`${owner}\n`);
  });

  it('takes over a lock whose pid is dead', async () => {
    const dead = await deadPid();
    writeFileSync(lock, `${dead}\n`);
    expect(acquireLock(lock)).toEqual({ acquired: true });
    expect(content()).toBe(`${process.pid}\n`);
    expect(existsSync(`${lock}.takeover`)).toBe(false);
  });

  it('takes over a fresh lock of a dead pid too (the age only matters for unreadable locks)', async () => {
    const dead = await deadPid();
    writeFileSync(lock, `${dead}\n`);
    setAge(lock, 0);
    expect(acquireLock(lock).acquired).toBe(true);
  });

  it('takes over a lock held by a live process that is not a broker (pid reuse)', async () => {
    const other = await notBroker();
    writeFileSync(lock, `${other}\n`);
    expect(acquireLock(lock)).toEqual({ acquired: true });
    expect(content()).toBe(`${process.pid}\n`);
    // Taking the lock does nothing to that process.
    expect(() => process.kill(other, 0)).not.toThrow();
  });

  it('takes over an old lock with garbage content', () => {
    writeFileSync(lock, 'this is not a pid');
    setAge(lock, 60);
    expect(acquireLock(lock)).toEqual({ acquired: true });
    expect(content()).toBe(`${process.pid}\n`);
  });

  it('takes over an old empty lock (its creator died before writing the pid)', () => {
    writeFileSync(lock, '');
    setAge(lock, 60);
    expect(acquireLock(lock)).toEqual({ acquired: true });
    expect(content()).toBe(`${process.pid}\n`);
  });

  it('leaves a fresh empty or garbage lock alone: its creator may be writing it right now', () => {
    writeFileSync(lock, '');
    // "Fresh" is under 2 s old; a future mtime keeps it fresh however slow this machine is.
    setAge(lock, -60);
    const started = Date.now();
    expect(acquireLock(lock)).toEqual({ acquired: false, owner: undefined });
    expect(content()).toBe('');
    // It retried for a while before giving up, and did not spin forever.
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('clears a takeover mutex left behind long ago, then takes over', async () => {
    const dead = await deadPid();
    writeFileSync(lock, `${dead}\n`);
    mkdirSync(`${lock}.takeover`);
    setAge(`${lock}.takeover`, 60);
    expect(acquireLock(lock)).toEqual({ acquired: true });
    expect(content()).toBe(`${process.pid}\n`);
    expect(existsSync(`${lock}.takeover`)).toBe(false);
  });

  it('does not take over while another starter holds a fresh takeover mutex', async () => {
    const dead = await deadPid();
    writeFileSync(lock, `${dead}\n`);
    mkdirSync(`${lock}.takeover`);
    setAge(`${lock}.takeover`, -60);
    const r = acquireLock(lock);
    expect(r.acquired).toBe(false);
    expect(content()).toBe(`${dead}\n`);
    expect(existsSync(`${lock}.takeover`)).toBe(true);
  });

  it('throws when the directory does not exist (not a lock problem to paper over)', () => {
    expect(() => acquireLock(join(dir, 'missing', 'broker.pid'))).toThrow(/ENOENT/);
  });
});

describe('releaseLock', () => {
  it('removes the lock this process owns', () => {
    expect(acquireLock(lock).acquired).toBe(true);
    releaseLock(lock);
    expect(existsSync(lock)).toBe(false);
  });

  it('leaves a lock owned by another process', async () => {
    const owner = await brokerLike();
    writeFileSync(lock, `${owner}\n`);
    releaseLock(lock);
    expect(content()).toBe(`${owner}\n`);
  });

  it('leaves a lock with garbage content', () => {
    writeFileSync(lock, 'garbage');
    releaseLock(lock);
    expect(content()).toBe('garbage');
  });

  it('does nothing when there is no lock', () => {
    expect(() => releaseLock(lock)).not.toThrow();
    expect(existsSync(lock)).toBe(false);
  });

  it('lets the next starter acquire after release', () => {
    expect(acquireLock(lock).acquired).toBe(true);
    releaseLock(lock);
    expect(acquireLock(lock)).toEqual({ acquired: true });
  });
});

describe('several processes racing for the lock', () => {
  let bundleDir: string;
  let lib: string;
  let driver: string;

  // Each child loads the real lockfile code (bundled by esbuild), waits for
  // the "go" file so they all try at once, reports, and stays alive (so the
  // winner is a live broker for the losers) until the "done" file appears.
  const DRIVER = `
const fs = require('node:fs');
const [lib, lock, go, done] = process.argv.slice(2);
const { acquireLock } = require(lib);
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const deadline = Date.now() + 30000;
process.stdout.write('ready\\n');
while (!fs.existsSync(go)) { if (Date.now() > deadline) process.exit(2); sleep(1); }
const r = acquireLock(lock);
process.stdout.write(JSON.stringify({ pid: process.pid, ...r }) + '\\n');
while (!fs.existsSync(done)) { if (Date.now() > deadline) process.exit(3); sleep(10); }
`;

  beforeAll(async () => {
    bundleDir = mkdtempSync(join(tmpdir(), 'mcp-audit-lockbundle-'));
    lib = join(bundleDir, 'lockfile.cjs');
    driver = join(bundleDir, 'driver.cjs');
    await build({ entryPoints: [resolve(__dirname, '../../broker/lockfile.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: lib, logLevel: 'silent' });
    writeFileSync(driver, DRIVER);
  });

  afterAll(() => {
    rmSync(bundleDir, { recursive: true, force: true });
  });

  async function race(n: number): Promise<{ pid: number; acquired: boolean; owner?: number }[]> {
    const go = join(dir, 'go');
    const done = join(dir, 'done');
    const outputs: string[] = [];
    const procs = Array.from({ length: n }, (_, i) => {
      const child = spawn(process.execPath, [driver, lib, lock, go, done, '--broker'], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(child);
      outputs[i] = '';
      child.stdout!.on('data', (d) => (outputs[i] += d));
      return child;
    });
    const waitFor = async (pred: () => boolean, what: string) => {
      const deadline = Date.now() + 30_000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(outputs)}`);
        if (procs.some((p) => p.exitCode !== null)) throw new Error(`a child exited early: ${JSON.stringify(outputs)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await waitFor(() => outputs.every((o) => o.startsWith('ready\n')), 'all children ready');
    writeFileSync(go, '');
    await waitFor(() => outputs.every((o) => o.split('\n').length >= 3), 'all children to try');
    // Every child is still alive here: all have tried while the winner lived.
    const results = outputs.map((o) => JSON.parse(o.split('\n')[1]));
    writeFileSync(done, '');
    await Promise.all(procs.map(exited));
    expect(procs.map((p) => p.exitCode)).toEqual(Array(n).fill(0));
    return results;
  }

  function expectOneWinner(results: { pid: number; acquired: boolean; owner?: number }[]) {
    const winners = results.filter((r) => r.acquired);
    expect(winners).toHaveLength(1);
    const winner = winners[0].pid;
    expect(content()).toBe(`${winner}\n`);
    for (const loser of results.filter((r) => !r.acquired)) expect(loser.owner).toBe(winner);
  }

  it.each([1, 2, 3])('with no lock yet, exactly one of 6 wins (round %i)', async () => {
    expectOneWinner(await race(6));
  });

  it.each([1, 2, 3])('with a stale lock of a dead broker, exactly one of 6 takes it over (round %i)', async () => {
    writeFileSync(lock, `${await deadPid()}\n`);
    const results = await race(6);
    expectOneWinner(results);
    expect(existsSync(`${lock}.takeover`)).toBe(false);
  });

  it('with a stale lock of a recycled pid, exactly one of 6 takes it over', async () => {
    writeFileSync(lock, `${await notBroker()}\n`);
    expectOneWinner(await race(6));
  });
});
