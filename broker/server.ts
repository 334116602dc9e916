/**
 * The socket server: newline-delimited JSON requests in, one reply per
 * request out. A malformed, oversized or wrong-version request gets an error
 * reply; nothing a client sends can crash the broker.
 *
 * Each request runs for a WaitingTask: given up when the client closes its
 * connection or, for a client that declared its patience, once it has not
 * heard from us for that long. Such a client gets heartbeats meanwhile.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { McpAuditError } from '../src/errors';
import { HEARTBEAT_MS, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, type BrokerError, type BrokerHeartbeat, type BrokerReply, type BrokerRequest } from '../src/broker_protocol';
import { VERSION } from '../src/version';
import { WaitingTask } from '../src/waiting_task';

export type Handler = (method: BrokerRequest['method'], params: any, task: WaitingTask) => Promise<unknown>;

/** A well-framed request whose params are not what its method needs. */
export class RequestError extends Error {}

/** The broker is exiting (idle); the client should start a new one and resend. */
export class BrokerStopping extends Error {}

function toBrokerError(e: unknown): BrokerError {
  if (e instanceof RequestError) return { kind: 'request', message: `malformed request: ${e.message}` };
  if (e instanceof BrokerStopping) return { kind: 'stopping', message: 'the broker is shutting down' };
  if (e instanceof McpAuditError) return e.toJSON();
  if (e instanceof Error && e.name === 'ModuleFailure') return { kind: 'usage', message: e.message, details: (e as any).details };
  return { kind: 'internal', message: `internal broker error: ${e instanceof Error ? e.message : String(e)}` };
}

function parseRequest(line: string): BrokerRequest | BrokerError {
  let req: any;
  try {
    req = JSON.parse(line);
  } catch {
    return { kind: 'request', message: 'malformed request: not JSON' };
  }
  if (!req || typeof req !== 'object' || typeof req.id !== 'number' || typeof req.method !== 'string') {
    return { kind: 'request', message: 'malformed request: expected {id, protocol, runtime, method, params}' };
  }
  if (req.protocol !== PROTOCOL_VERSION || req.runtime !== VERSION) {
    return { kind: 'version', message: `broker ${VERSION} (protocol ${PROTOCOL_VERSION}) refuses a request from runtime ${req.runtime} (protocol ${req.protocol})` };
  }
  return req as BrokerRequest;
}

const validPatience = (req: BrokerRequest) => typeof req.patienceMs === 'number' && req.patienceMs > 0 && typeof req.sentAt === 'number';

export function serveSocket(handler: Handler, onActivity: () => void): Server {
  return createServer((socket: Socket) => {
    let buffer = '';
    const waiting = new Set<WaitingTask>();
    const reply = (r: BrokerReply | BrokerHeartbeat) => {
      if (socket.destroyed) return;
      let line: string;
      try {
        line = JSON.stringify(r);
      } catch (e) {
        // Every request is answered, even when its answer cannot be serialized (too deep, too long for a string).
        line = JSON.stringify({ id: r.id, ok: false, error: toBrokerError(new Error(`the answer could not be sent: ${e instanceof Error ? e.message : String(e)}`)) });
      }
      socket.write(line + '\n');
    };
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      for (const task of waiting) task.giveUp('the module closed its connection to the broker');
    });
    socket.on('data', (chunk: string) => {
      onActivity();
      buffer += chunk;
      if (buffer.length > MAX_MESSAGE_BYTES) {
        reply({ id: null, ok: false, error: { kind: 'request', message: `request larger than ${MAX_MESSAGE_BYTES} bytes refused` } });
        socket.end();
        buffer = '';
        return;
      }
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.trim()) continue;
        const req = parseRequest(line);
        if (!('method' in req)) {
          let id: number | null = null;
          try {
            id = JSON.parse(line).id ?? null;
          } catch {
            /* no id to echo */
          }
          reply({ id, ok: false, error: req });
          continue;
        }
        const patient = validPatience(req);
        const task = new WaitingTask(patient ? req.sentAt! + req.patienceMs! : Infinity);
        waiting.add(task);
        const heartbeat = patient
          ? setInterval(() => {
              if (!task.stillWaiting()) return;
              reply({ id: req.id, heartbeat: true });
              task.heard(req.patienceMs!);
            }, HEARTBEAT_MS)
          : undefined;
        handler(req.method, req.params, task)
          .then(
            (result) => reply({ id: req.id, ok: true, result }),
            (e) => reply({ id: req.id, ok: false, error: toBrokerError(e) }),
          )
          .finally(() => {
            clearInterval(heartbeat);
            waiting.delete(task);
          });
      }
    });
  });
}
