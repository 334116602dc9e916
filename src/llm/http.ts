/**
 * One JSON POST to an LLM API with Node's fetch, and the errors a person can
 * act on: the HTTP status with the API's own error message, "could not
 * connect to <url>: <cause>", or a timeout. The API key is sent in a header
 * only, and is cut out of every message: some APIs echo the key they got.
 */
import { ModuleFailure } from '../errors';
import { excerpt, maskText } from '../secrets';

export class LlmApiError extends ModuleFailure {
  constructor(
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message, httpStatus === undefined ? {} : { http_status: httpStatus });
    this.name = 'LlmApiError';
  }
}

export interface PostJson {
  /** Who answers, for messages ("openai", "anthropic", ...). */
  api: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  /** Never shown: removed from any message built from the API's answer. */
  secret?: string;
}

export function redact(text: string, secret: string | undefined): string {
  return maskText(text, secret ? [secret] : []);
}

/** At most `max` characters of an answer; the key masked before the cut, and any piece of it the cut left. */
const preview = (text: string, secret: string | undefined, max = 500) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${excerpt(flat, secret ? [secret] : [], { keep: 'head', chars: max })}…` : flat || '(empty body)';
};

/** The error message inside an API's error body, in the shapes the providers use. */
export function apiErrorMessage(body: string, secret?: string): string {
  let parsed: any;
  try {
    parsed = JSON.parse(body);
  } catch {
    return preview(body, secret);
  }
  // OpenAI, OpenRouter, Azure, Anthropic: {error: {message}}; Ollama: {error: "..."}; vLLM: {message}; FastAPI: {detail}.
  const e = parsed?.error;
  const message = [e?.message, e, parsed?.message, parsed?.detail].find((m) => typeof m === 'string' && m.trim());
  return preview(message ?? body, secret);
}

/** fetch's "fetch failed" hides the reason in `cause` (an AggregateError when every address of a host refused). */
function connectCause(e: any): string {
  const cause = e?.cause ?? e;
  if (cause?.errors?.length && !cause.message) return cause.errors.map((x: any) => x?.message ?? String(x)).join('; ');
  return cause?.message || cause?.code || String(cause);
}

function isTimeout(e: any): boolean {
  return e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError';
}

export async function postJson(o: PostJson): Promise<any> {
  const seconds = o.timeoutMs / 1000;
  const failed = (e: unknown, phase: string): never => {
    if (isTimeout(e)) throw new LlmApiError(redact(`the ${o.api} API at ${o.url} did not answer within ${seconds} s (llm_timeout)`, o.secret));
    throw new LlmApiError(redact(`${phase} ${o.url}: ${connectCause(e)}`, o.secret));
  };
  let response: Response;
  try {
    response = await fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...o.headers },
      body: JSON.stringify(o.body),
      signal: AbortSignal.timeout(o.timeoutMs),
    });
  } catch (e) {
    return failed(e, 'could not connect to');
  }
  let text: string;
  try {
    text = await response.text();
  } catch (e) {
    return failed(e, 'lost the connection while reading the answer of');
  }
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  if (!response.ok) {
    throw new LlmApiError(redact(`the ${o.api} API answered ${status} (POST ${o.url}): ${apiErrorMessage(text, o.secret)}`, o.secret), response.status);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new LlmApiError(redact(`the ${o.api} API answered ${status} with a body that is not JSON (POST ${o.url}): ${preview(text, o.secret, 200)}`, o.secret), response.status);
  }
}

/** base + path without doubled slashes (base URLs are often given with a trailing slash). */
export const joinUrl = (base: string, path: string) => base.replace(/\/+$/, '') + path;
