/**
 * SSE and streamable HTTP transports: the SDK's own, given a fetch that
 * applies validate_certs / ca_path (an undici Agent) and turns network
 * failures into "could not connect to <url>: <cause>".
 */
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch, Response as UndiciResponse } from 'undici';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpAuditError } from '../errors';
import { DEFAULT_MAX_RESULT_MB, MB, resultTooLarge } from '../data_limits';
import type { ServerDefinition } from '../server_definition';

const TLS_HINTS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server uses a self-signed certificate; give its CA in ca_path, or set validate_certs: false',
  SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends in a self-signed CA; give it in ca_path, or set validate_certs: false',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate issuer is unknown; give its CA in ca_path',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the certificate issuer is unknown; give its CA in ca_path',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate does not name this host',
  CERT_HAS_EXPIRED: 'the certificate has expired',
};

function rootCause(e: any): { code?: string; message: string } {
  let c = e;
  while (c?.cause) c = c.cause;
  return { code: c?.code, message: c?.message ?? String(e) };
}

/** A redacted URL for messages: no userinfo, no query (tokens sometimes ride there). */
export function safeUrl(url: string | URL): string {
  try {
    const u = new URL(url.toString());
    u.username = u.password = '';
    if (u.search) u.search = '?…';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

/**
 * A response over max_result_size fails: at once when its Content-Length says so, else
 * once its body (one event, on an event stream) grows past the limit.
 */
function limitResponse(response: UndiciResponse, limit: number, onOversized: (e: McpAuditError, eventStream: boolean) => void): UndiciResponse {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > limit) {
    void response.body?.cancel().catch(() => undefined);
    const error = resultTooLarge(limit, declared);
    onOversized(error, false);
    throw error;
  }
  if (!response.body) return response;
  const eventStream = /^text\/event-stream/i.test(response.headers.get('content-type') ?? '');
  let size = 0;
  let lastByte = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      // An event ends at a blank line; only the event being read counts.
      const blank = eventStream ? Math.max(bytes.lastIndexOf('\n\n'), bytes.lastIndexOf('\n\r\n')) : -1;
      if (blank >= 0) size = bytes.length - blank;
      else if (eventStream && lastByte === 0x0a && (bytes[0] === 0x0a || bytes[0] === 0x0d)) size = bytes.length;
      else size += bytes.length;
      lastByte = bytes[bytes.length - 1] ?? lastByte;
      if (size <= limit) return controller.enqueue(chunk);
      const error = resultTooLarge(limit, undefined);
      onOversized(error, eventStream);
      controller.error(error);
    },
  });
  return new UndiciResponse(response.body.pipeThrough(counter) as any, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * `onResult` hears each request's network failure (or undefined on success): the SSE
 * transport's EventSource flattens a thrown error into a string, so the session asks
 * the transport for the last one instead (see lastConnectError).
 */
export function httpFetch(
  def: ServerDefinition,
  onResult?: (failure: McpAuditError | undefined) => void,
  onOversized: (e: McpAuditError, eventStream: boolean) => void = () => undefined,
): typeof fetch {
  let ca: string | undefined;
  if (def.caPath) {
    try {
      ca = readFileSync(def.caPath, 'utf8');
    } catch (e: any) {
      throw new McpAuditError('usage', `cannot read ca_path ${def.caPath}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    }
  }
  const dispatcher = new Agent({ connect: { rejectUnauthorized: def.validateCerts !== false, ...(ca ? { ca } : {}) } });
  const wrapped = async (input: any, init?: any) => {
    let response;
    try {
      response = await undiciFetch(input, { ...init, dispatcher });
    } catch (e: any) {
      if (e?.name === 'AbortError' || e instanceof McpAuditError) throw e;
      const cause = rootCause(e);
      const tls = !!(cause.code && TLS_HINTS[cause.code]);
      const hint = tls ? ` (${TLS_HINTS[cause.code!]})` : '';
      // A certificate problem is not transient: marked as an answer from the server, so it is not retried.
      const failure = new McpAuditError(
        'connect',
        `could not connect to ${safeUrl(input instanceof URL || typeof input === 'string' ? input : input.url)}: ${cause.code ? `${cause.code} ` : ''}${cause.message}${hint}`,
        {},
        tls,
      );
      onResult?.(failure);
      throw failure;
    }
    onResult?.(undefined);
    return limitResponse(response, def.maxResultBytes ?? DEFAULT_MAX_RESULT_MB * MB, onOversized);
  };
  return wrapped as unknown as typeof fetch;
}

export function httpTransport(def: ServerDefinition): Transport {
  let url: URL;
  try {
    url = new URL(def.url!);
  } catch {
    throw new McpAuditError('usage', `server_url '${safeUrl(def.url ?? '')}' is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new McpAuditError('usage', `server_url must be http:// or https://, got ${url.protocol}`);
  let lastConnectError: McpAuditError | undefined;
  let oversized: McpAuditError | undefined;
  const fetch = httpFetch(
    def,
    (failure) => (lastConnectError = failure),
    (e, eventStream) => {
      oversized = e;
      // The request an event stream carried would wait out its timeout: end the session, so it fails now (with this error).
      if (eventStream) void transport.close().catch(() => undefined);
    },
  );
  const options = { fetch, requestInit: { headers: def.headers ?? {} } };
  const transport: Transport = def.transport === 'sse' ? new SSEClientTransport(url, options) : new StreamableHTTPClientTransport(url, options);
  Object.defineProperty(transport, 'takeOversized', {
    value: () => {
      const e = oversized;
      oversized = undefined;
      return e;
    },
  });
  return Object.defineProperty(transport, 'lastConnectError', { get: () => lastConnectError }) as Transport & WithConnectError;
}

/** The last network failure of the transport's requests (cleared by a request that got a response). */
export interface WithConnectError {
  readonly lastConnectError?: McpAuditError;
  /** A response over max_result_size that broke a stream (the request then fails as closed or timed out); read once. */
  takeOversized?(): McpAuditError | undefined;
}
