/**
 * A TCP relay on 127.0.0.1 that counts the bytes it forwards, so a test (or the
 * bench) can say how much a task moves on the wire. It sits in front of sshd
 * (see ./sshd.ts): Ansible connects to the relay's port, the relay to sshd's.
 *
 * Bytes are counted per direction and per connection. Every forwarded chunk is
 * also kept with its arrival time (epoch ms), so bytesBetween() can attribute
 * traffic to a task from its start and end times: with ssh's ControlMaster one
 * connection carries every task of a playbook, and tasks run one after another.
 *
 * Plain Node (no test-framework imports): scripts/bench.mjs loads it too.
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

export interface ByteCount {
  /** Controller -> target (what Ansible sends). */
  toTarget: number;
  /** Target -> controller (what comes back). */
  fromTarget: number;
}

export interface RelayBytes extends ByteCount {
  /** One entry per connection, in the order they were accepted; `open` until either side closes it. */
  connections: (ByteCount & { open: boolean })[];
}

export interface TcpRelay {
  /** The port to connect to (127.0.0.1). */
  port: number;
  /** What was forwarded since start (or the last reset()). */
  bytes(): RelayBytes;
  /** Bytes of chunks forwarded at times in [fromMs, toMs] (epoch milliseconds, as Date.now()). */
  bytesBetween(fromMs: number, toMs: number): ByteCount;
  /** Forget the counts (connections stay open). */
  reset(): void;
  /** Stop listening and close every relayed connection. */
  stop(): Promise<void>;
}

interface Chunk {
  at: number;
  toTarget: boolean;
  size: number;
}

/** Wall-clock time with sub-millisecond resolution (Date.now() is whole ms; tasks over ssh take a few ms). */
const nowMs = () => performance.timeOrigin + performance.now();

/** Relay 127.0.0.1:<free port> to 127.0.0.1:targetPort, counting bytes. */
export async function startTcpRelay(targetPort: number): Promise<TcpRelay> {
  let connections: { count: ByteCount; open: boolean }[] = [];
  let chunks: Chunk[] = [];
  const sockets = new Set<Socket>();

  const server = createServer({ noDelay: true }, (client) => {
    const entry = { count: { toTarget: 0, fromTarget: 0 }, open: true };
    const count = entry.count;
    connections.push(entry);
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort, noDelay: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => {
        sockets.delete(s);
        entry.open = false;
      });
      // Either side going away ends the pair; errors (ECONNRESET at teardown) are not the relay's to report.
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    const forward = (from: Socket, to: Socket, toTarget: boolean) => {
      from.on('data', (data: Buffer) => {
        if (toTarget) count.toTarget += data.length;
        else count.fromTarget += data.length;
        chunks.push({ at: nowMs(), toTarget, size: data.length });
        // Back-pressure: a bulk copy (a runtime placed on the target) must not pile up in memory.
        if (!to.write(data)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.once('end', () => to.end());
    };
    forward(client, upstream, true);
    forward(upstream, client, false);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  const sum = (counts: ByteCount[]): ByteCount =>
    counts.reduce((t, c) => ({ toTarget: t.toTarget + c.toTarget, fromTarget: t.fromTarget + c.fromTarget }), { toTarget: 0, fromTarget: 0 });

  return {
    port: (server.address() as AddressInfo).port,
    bytes() {
      const counts = connections.map((c) => ({ ...c.count, open: c.open }));
      return { ...sum(counts), connections: counts };
    },
    bytesBetween(fromMs, toMs) {
      const inWindow = chunks.filter((c) => c.at >= fromMs && c.at <= toMs);
      return sum(inWindow.map((c) => (c.toTarget ? { toTarget: c.size, fromTarget: 0 } : { toTarget: 0, fromTarget: c.size })));
    },
    reset() {
      // Closed connections are forgotten; open ones count on from zero.
      connections = connections.filter((c) => c.open);
      for (const c of connections) c.count.toTarget = c.count.fromTarget = 0;
      chunks = [];
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
