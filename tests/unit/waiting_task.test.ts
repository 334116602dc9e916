/**
 * Whether a task still waits (src/waiting_task.ts) and how the broker's
 * socket server keeps it (broker/server.ts): heartbeats to a client that
 * declared its patience, a task given up when its client goes away or its
 * patience ran out. Real unix sockets in a temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serveSocket } from '../../broker/server';
import { monotonicMs, PROTOCOL_VERSION } from '../../src/broker_protocol';
import { VERSION } from '../../src/version';
import { TaskGaveUp, WaitingTask } from '../../src/waiting_task';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WaitingTask', () => {
  it('waits until its deadline, then throws TaskGaveUp', () => {
    const task = new WaitingTask(monotonicMs() + 60_000);
    expect(() => task.ensureWaiting()).not.toThrow();
    const late = new WaitingTask(monotonicMs() - 1);
    expect(() => late.ensureWaiting()).toThrow(TaskGaveUp);
    expect(late.stillWaiting()).toBe(false);
  });

  it('a heartbeat heard extends the deadline, but never revives a task past it', () => {
    const task = new WaitingTask(monotonicMs() + 50);
    task.heard(60_000);
    expect(task.stillWaiting()).toBe(true);
    const late = new WaitingTask(monotonicMs() - 1);
    late.heard(60_000);
    expect(late.stillWaiting()).toBe(false);
  });

  it('giving up aborts the signals of its requests with the reason', () => {
    const task = new WaitingTask();
    const signal = task.requestSignal();
    task.giveUp('the module went away');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(TaskGaveUp);
    expect(() => task.ensureWaiting()).toThrow('the module went away');
    expect(task.requestSignal().aborted).toBe(true);
  });

  it('is current inside run() across awaits, and not inside shared()', async () => {
    const task = new WaitingTask();
    expect(WaitingTask.current()).toBeUndefined();
    await task.run(async () => {
      await sleep(1);
      expect(WaitingTask.current()).toBe(task);
      await WaitingTask.shared(async () => {
        await sleep(1);
        expect(WaitingTask.current()).toBeUndefined();
      });
    });
  });
});

describe('the socket server keeps each request\'s task', () => {
  let dir: string;
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Serve `handler` on a fresh socket; returns its path. */
  async function serve(handler: (task: WaitingTask) => Promise<unknown>): Promise<string> {
    dir = mkdtempSync(join(tmpdir(), 'mcp-audit-hb-'));
    const path = join(dir, 's.sock');
    server = serveSocket((_m, _p, task) => handler(task), () => undefined);
    await new Promise<void>((r) => server!.listen(path, r));
    return path;
  }

  /** Send one request; collect the lines until the reply (or `closeAfterMs`, when the client goes away). */
  function ask(path: string, extra: Record<string, unknown>, closeAfterMs?: number): Promise<Record<string, unknown>[]> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const lines: Record<string, unknown>[] = [];
      let buffer = '';
      socket.setEncoding('utf8');
      socket.on('error', reject);
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = JSON.parse(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 1);
          lines.push(line);
          if ('ok' in line) {
            socket.destroy();
            resolve(lines);
          }
        }
      });
      if (closeAfterMs !== undefined) {
        setTimeout(() => {
          socket.destroy();
          resolve(lines);
        }, closeAfterMs);
      }
      socket.write(JSON.stringify({ id: 7, protocol: PROTOCOL_VERSION, runtime: VERSION, method: 'ping', ...extra }) + '\n');
    });
  }

  it('sends heartbeats every second to a client that declared its patience, then the reply', async () => {
    const path = await serve(async () => {
      await sleep(2500);
      return 'done';
    });
    const lines = await ask(path, { patienceMs: 5000, sentAt: monotonicMs() });
    expect(lines.slice(0, -1)).toEqual([
      { id: 7, heartbeat: true },
      { id: 7, heartbeat: true },
    ]);
    expect(lines.at(-1)).toEqual({ id: 7, ok: true, result: 'done' });
  });

  it('sends none to a client that did not (raw clients get exactly one line)', async () => {
    const path = await serve(async () => {
      await sleep(1500);
      return 'done';
    });
    expect(await ask(path, {})).toEqual([{ id: 7, ok: true, result: 'done' }]);
  });

  it('gives the task up when the client goes away', async () => {
    let seen: WaitingTask | undefined;
    const path = await serve(async (task) => {
      seen = task;
      await sleep(1000);
      return task.stillWaiting();
    });
    await ask(path, { patienceMs: 60_000, sentAt: monotonicMs() }, 200);
    await sleep(100);
    expect(seen!.stillWaiting()).toBe(false);
    expect(() => seen!.ensureWaiting()).toThrow('the module closed its connection to the broker');
  });

  it('gives up a request that arrives after its patience ran out (a broker that was frozen)', async () => {
    let waiting: boolean | undefined;
    const path = await serve(async (task) => (waiting = task.stillWaiting()));
    await ask(path, { patienceMs: 1000, sentAt: monotonicMs() - 5000 });
    expect(waiting).toBe(false);
  });
});
