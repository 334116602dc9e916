/**
 * One JSON POST to an LLM API with Node's fetch, and the errors a person can
 * act on: the HTTP status with the API's own error message, "could not
 * connect to <url>: <cause>", or a timeout. Keys and tokens are sent in
 * headers only, and are cut out of every message: some APIs echo the key they got.
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
  /** Sent as JSON; URLSearchParams are sent as a form (OAuth token endpoints). */
  body: unknown;
  timeoutMs: number;
  /** Never shown: removed from any message built from the API's answer. */
  secrets: readonly (string | undefined)[];
  /** Headers computed from the final request (AWS SigV4 signs the URL, headers and body as sent). */
  sign?: (request: { url: URL; headers: Record<string, string>; body: string }) => Record<string, string>;
}

type Secrets = readonly (string | undefined)[];
const known = (secrets: Secrets) => secrets.filter((s): s is string => !!s);

export function redact(text: string, secrets: Secrets): string {
  return maskText(text, known(secrets));
}

/** At most `max` characters of an answer; the key masked before the cut, and any piece of it the cut left. */
const preview = (text: string, secrets: Secrets, max = 500) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${excerpt(flat, known(secrets), { keep: 'head', chars: max })}…` : flat || '(empty body)';
};

/** The error message inside an API's error body, in the shapes the providers use. */
export function apiErrorMessage(body: string, secrets: Secrets = []): string {
  let parsed: any;
  try {
    parsed = JSON.parse(body);
  } catch {
    return preview(body, secrets);
  }
  // Google answers some errors as a one-element list.
  if (Array.isArray(parsed) && parsed.length === 1) parsed = parsed[0];
  // OpenAI, OpenRouter, Azure, Anthropic, Vertex AI: {error: {message}}; Ollama: {error: "..."}; vLLM, Cohere, Bedrock: {message};
  // other AWS services: {Message}; OAuth token endpoints: {error, error_description}; FastAPI: {detail}.
  const e = parsed?.error;
  const oauth = typeof e === 'string' && typeof parsed?.error_description === 'string' ? `${e}: ${parsed.error_description}` : undefined;
  const message = [e?.message, oauth, e, parsed?.message, parsed?.Message, parsed?.detail].find((m) => typeof m === 'string' && m.trim());
  return preview(message ?? body, secrets);
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
    if (isTimeout(e)) throw new LlmApiError(redact(`the ${o.api} API at ${o.url} did not answer within ${seconds} s (llm_timeout)`, o.secrets));
    throw new LlmApiError(redact(`${phase} ${o.url}: ${connectCause(e)}`, o.secrets));
  };
  const form = o.body instanceof URLSearchParams;
  const body = form ? String(o.body) : JSON.stringify(o.body);
  let headers: Record<string, string> = { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', accept: 'application/json', ...o.headers };
  if (o.sign) headers = { ...headers, ...o.sign({ url: new URL(o.url), headers, body }) };
  let response: Response;
  try {
    response = await fetch(o.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(o.timeoutMs) });
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
    throw new LlmApiError(redact(`the ${o.api} API answered ${status} (POST ${o.url}): ${apiErrorMessage(text, o.secrets)}`, o.secrets), response.status);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new LlmApiError(redact(`the ${o.api} API answered ${status} with a body that is not JSON (POST ${o.url}): ${preview(text, o.secrets, 200)}`, o.secrets), response.status);
  }
}

/** base + path without doubled slashes (base URLs are often given with a trailing slash). */
export const joinUrl = (base: string, path: string) => base.replace(/\/+$/, '') + path;
