/**
 * A fake LLM API for tests: a real HTTP server on 127.0.0.1 (random port)
 * that speaks the providers' wire formats and answers from a script.
 *
 *   POST .../chat/completions                      OpenAI (vLLM, OpenRouter); Authorization: Bearer
 *   POST /openai/deployments/<d>/chat/completions  Azure OpenAI; api-key header, api-version query
 *   POST .../v1/messages                           Anthropic; x-api-key + anthropic-version
 *   POST .../api/chat                              Ollama native
 *   POST .../model/<id>/converse                   Amazon Bedrock Converse; AWS SigV4, or a Bedrock API key as Bearer
 *   POST .../v1/projects/<p>/locations/<l>/publishers/google/models/<m>:generateContent
 *                                                  Gemini on Vertex AI; Bearer access token
 *   POST .../v2/chat                               Cohere v2; Authorization: Bearer
 *   POST /token                                    Google OAuth token endpoint (service account JWT, refresh token)
 *
 * Scripts are per model (the deployment for Azure), so several tasks can share
 * one fake: each request takes the next step of its model's script, and the
 * last step repeats once the script is used up. A model without a script is
 * answered 404 "model not found", like the real APIs.
 *
 * Like the real APIs it refuses malformed conversations with HTTP 400 (a tool
 * result that answers no tool call, a tool call left unanswered, turns out of
 * order, a missing anthropic-version or max_tokens, a tool name the API does
 * not allow), and with `apiKey` set it refuses a wrong key with 401 (403 for
 * Bedrock), echoing the key it got in the message, so tests can check that a
 * client never shows a key an API echoes. With `aws` set it verifies
 * Bedrock's AWS Signature V4 (see checkSigV4): a request signed with other
 * credentials, region or service, or altered after signing, gets AWS's 403.
 */
import { verify } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signRequest, type AwsCredentials } from '../../src/llm/sigv4';

export type Wire = 'openai' | 'azure' | 'anthropic' | 'ollama' | 'bedrock' | 'vertex_ai' | 'cohere';

export interface ScriptedCall {
  name: string;
  arguments: Record<string, unknown>;
}

/** A tool result as the fake found it at the end of a request's conversation. */
export interface SeenToolResult {
  /** tool_call_id (OpenAI, Cohere), tool_use_id (Anthropic), toolUseId (Bedrock), tool_name (Ollama), functionResponse id or name (Vertex AI). */
  id: string;
  text: string;
  isError: boolean;
}

export interface LlmRequest {
  wire: Wire;
  method: string;
  /** Path with query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: any;
  model: string;
  /** Names of the tools the request offered, read from the wire format's tool shape. */
  toolNames: string[];
  /** Tool results at the end of the conversation (the answers to the previous turn's calls). */
  toolResults: SeenToolResult[];
}

export type Step =
  /** The model calls tools (optionally saying something first). */
  | { toolCalls: ScriptedCall[]; text?: string }
  /** The model answers without tool calls. */
  | { answer: string | ((request: LlmRequest) => string); stopReason?: string }
  /** The API answers an error in the wire format's error shape. */
  | { status: number; error: string }
  /** The API answers this body as is. */
  | { raw: string; status?: number; contentType?: string }
  /** Wait, then take `then` (for timeouts). */
  | { delayMs: number; then: Step };

/** The usual final step: an answer that quotes every tool result it was given. */
export const answerWithToolResults = (prefix = 'The tool said:'): Step => ({
  answer: (r) => `${prefix} ${r.toolResults.map((t) => t.text).join(' | ')}`,
});

export interface FakeLlm {
  /** http://127.0.0.1:<port> */
  url: string;
  requests: LlmRequest[];
  script(model: string, steps: Step[]): void;
  requestsFor(model: string): LlmRequest[];
  /** What POST /token was sent, form fields as received. */
  tokenRequests: Record<string, string>[];
  close(): Promise<void>;
}

export interface FakeLlmOptions {
  /** When set, requests must carry this key in the wire format's auth header (for Bedrock: as a Bedrock API key; for Vertex AI: the access token). */
  apiKey?: string;
  /** When set, Bedrock requests signed with AWS SigV4 are verified against these credentials (region and service `bedrock` included). */
  aws?: AwsCredentials & { region: string };
  /** What POST /token accepts before answering `apiKey` as the access token. */
  google?: {
    /** The public key of the service account whose JWTs are accepted (PEM). */
    publicKey?: string;
    /** The authorized_user refresh token and client secret that are accepted. */
    refreshToken?: string;
    clientSecret?: string;
  };
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function wireOf(path: string): Wire | undefined {
  if (/\/openai\/deployments\/[^/]+\/chat\/completions$/.test(path)) return 'azure';
  if (path.endsWith('/chat/completions')) return 'openai';
  if (path.endsWith('/v1/messages')) return 'anthropic';
  if (path.endsWith('/api/chat')) return 'ollama';
  if (/\/model\/[^/]+\/converse$/.test(path)) return 'bedrock';
  if (/\/v1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/models\/[^/]+:generateContent$/.test(path)) return 'vertex_ai';
  if (path.endsWith('/v2/chat')) return 'cohere';
  return undefined;
}

/** The model a request is for: in the path for Azure (the deployment), Bedrock and Vertex AI, else in the body. */
function modelOf(wire: Wire, path: string, body: any): string {
  if (wire === 'azure') return decodeURIComponent(path.split('/').at(-3)!);
  if (wire === 'bedrock') return decodeURIComponent(path.split('/').at(-2)!);
  if (wire === 'vertex_ai') return decodeURIComponent(/\/models\/([^/]+):generateContent$/.exec(path)![1]);
  return String(body?.model ?? '');
}

function toolNames(wire: Wire, body: any): string[] {
  if (wire === 'bedrock') return (body?.toolConfig?.tools ?? []).map((t: any) => t?.toolSpec?.name);
  if (wire === 'vertex_ai') return (body?.tools ?? []).flatMap((t: any) => t?.functionDeclarations ?? []).map((d: any) => d?.name);
  const tools: any[] = Array.isArray(body?.tools) ? body.tools : [];
  return tools.map((t) => (wire === 'anthropic' ? t?.name : t?.function?.name));
}

/** The conversation of a request, in whichever field the wire format keeps it. */
const conversationOf = (wire: Wire, body: any): any[] | undefined => (wire === 'vertex_ai' ? body?.contents : body?.messages);

function anthropicText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((b: any) => (b?.type === 'text' ? b.text : '')).join('');
  return '';
}

/** Cohere's and OpenAI's tool content: a string or a list of text (or document) parts. */
function partsText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c: any) => c?.text ?? (typeof c?.document?.data === 'string' ? c.document.data : '')).join('');
  return '';
}

function trailingToolResults(wire: Wire, messages: any[]): SeenToolResult[] {
  const last = messages[messages.length - 1];
  if (wire === 'bedrock') {
    if (last?.role !== 'user' || !Array.isArray(last.content)) return [];
    return last.content
      .filter((b: any) => b?.toolResult)
      .map(({ toolResult: r }: any) => ({ id: r.toolUseId, text: (r.content ?? []).map((c: any) => c?.text ?? JSON.stringify(c?.json)).join(''), isError: r.status === 'error' }));
  }
  if (wire === 'vertex_ai') {
    if (last?.role !== 'user' || !Array.isArray(last.parts)) return [];
    return last.parts
      .filter((p: any) => p?.functionResponse)
      .map(({ functionResponse: f }: any) => ({ id: f.id ?? f.name, text: String(f.response?.output ?? f.response?.error ?? ''), isError: f.response?.error !== undefined }));
  }
  if (wire === 'anthropic') {
    if (last?.role !== 'user' || !Array.isArray(last.content)) return [];
    return last.content
      .filter((b: any) => b?.type === 'tool_result')
      .map((b: any) => ({ id: b.tool_use_id, text: anthropicText(b.content), isError: b.is_error === true }));
  }
  const out: SeenToolResult[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === 'tool'; i--) {
    const m = messages[i];
    out.unshift({ id: wire === 'ollama' ? m.tool_name : m.tool_call_id, text: partsText(m.content), isError: false });
  }
  return out;
}

const list = (value: unknown): any[] => (Array.isArray(value) ? value : []);

/** The formats whose conversation alternates user and assistant turns, each call answered in the next user turn. */
const TURNS: Partial<Record<Wire, { assistant: string; items: (m: any) => any[]; calls: (m: any) => string[]; results: (m: any) => string[]; unanswered: (i: number, ids: string[]) => string; alternate: string }>> = {
  anthropic: {
    assistant: 'assistant',
    items: (m) => list(m.content),
    calls: (m) => list(m.content).filter((b) => b?.type === 'tool_use').map((b) => b.id),
    results: (m) => list(m.content).filter((b) => b?.type === 'tool_result').map((b) => b.tool_use_id),
    unanswered: (i, ids) => `messages.${i}: tool_use ids were found without tool_result blocks immediately after: ${ids.join(', ')}`,
    alternate: 'roles must alternate between "user" and "assistant", starting with "user"',
  },
  bedrock: {
    assistant: 'assistant',
    items: (m) => list(m.content),
    calls: (m) => list(m.content).filter((b) => b?.toolUse).map((b) => b.toolUse.toolUseId),
    results: (m) => list(m.content).filter((b) => b?.toolResult).map((b) => b.toolResult.toolUseId),
    unanswered: (i, ids) => `Expected toolResult blocks at messages.${i}.content for the following Ids: ${ids.join(', ')}`,
    alternate: 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
  },
  vertex_ai: {
    assistant: 'model',
    items: (m) => list(m.parts),
    calls: (m) => list(m.parts).filter((p) => p?.functionCall).map((p) => p.functionCall.id ?? p.functionCall.name),
    results: (m) => list(m.parts).filter((p) => p?.functionResponse).map((p) => p.functionResponse.id ?? p.functionResponse.name),
    unanswered: () => 'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
    alternate: 'Please ensure that multiturn requests alternate between user and model.',
  },
};

/** The tool names each API accepts (Cohere: no dashes; Bedrock: no dots). */
const TOOL_NAME: Partial<Record<Wire, RegExp>> = { bedrock: /^[a-zA-Z0-9_-]{1,64}$/, vertex_ai: /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/, cohere: /^[A-Za-z_][A-Za-z0-9_]*$/ };

/** The checks the real APIs make on a conversation, as 400s. */
function checkConversation(wire: Wire, body: any): void {
  const messages = conversationOf(wire, body);
  if (!Array.isArray(messages) || !messages.length) throw new ApiError(400, `${wire === 'vertex_ai' ? 'contents' : 'messages'}: field required`);
  if (!body.model && wire !== 'bedrock' && wire !== 'vertex_ai') throw new ApiError(400, 'model: field required');
  const valid = TOOL_NAME[wire];
  for (const name of toolNames(wire, body)) if (valid && !valid.test(name)) throw new ApiError(400, `invalid tool name ${JSON.stringify(name)}: must match ${valid.source}`);
  if (wire === 'vertex_ai') {
    for (const d of list(body.tools).flatMap((t) => list(t?.functionDeclarations))) {
      if (d.parameters && d.parametersJsonSchema) throw new ApiError(400, `function_declarations[${d.name}]: parameters and parametersJsonSchema are mutually exclusive`);
    }
  }
  const turns = TURNS[wire];
  if (turns) {
    if (wire === 'anthropic' && typeof body.max_tokens !== 'number') throw new ApiError(400, 'max_tokens: Field required');
    messages.forEach((m, i) => {
      if (m.role !== (i % 2 === 0 ? 'user' : turns.assistant)) throw new ApiError(400, `messages.${i}.role: ${turns.alternate}`);
      turns.items(m).forEach((item, j) => {
        if (wire === 'bedrock' && (item?.toolUse || item?.toolResult) && !body.toolConfig) {
          throw new ApiError(400, 'The toolConfig field must be defined when using toolUse and toolResult content blocks.');
        }
        const blank = (t: any) => typeof t?.text === 'string' && !t.text.trim();
        if (wire === 'bedrock' && (blank(item) || list(item?.toolResult?.content).some(blank))) {
          throw new ApiError(400, `The text field in the ContentBlock object at messages.${i}.content.${j} is blank. Add text to the text field, and try again.`);
        }
        if (wire === 'vertex_ai' && item?.functionResponse && (typeof item.functionResponse.response !== 'object' || !item.functionResponse.response)) {
          throw new ApiError(400, `contents[${i}].parts[${j}].function_response.response: must be an object`);
        }
      });
      const ids = turns.calls(m);
      const next = messages[i + 1];
      if (!ids.length || !next) return;
      const answered = turns.results(next);
      const missing = ids.filter((id) => !answered.includes(id));
      if (missing.length || answered.length !== ids.length) throw new ApiError(400, turns.unanswered(i + 1, missing));
    });
    return;
  }
  // OpenAI / Ollama / Cohere: every tool message answers a call of the assistant message before it; every call is answered.
  let open: Set<string> | null = null;
  messages.forEach((m, i) => {
    if (m.role === 'tool') {
      const id = wire === 'ollama' ? m.tool_name : m.tool_call_id;
      if (!open || !open.has(id)) {
        throw new ApiError(400, `Invalid parameter: messages[${i}] with role 'tool' must be a response to a preceding message with 'tool_calls' (no call ${JSON.stringify(id)})`);
      }
      if (wire !== 'ollama') open.delete(id);
      return;
    }
    if (open && open.size && wire !== 'ollama') throw new ApiError(400, `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. Missing: ${[...open].join(', ')}`);
    open = null;
    if (m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length) {
      open = new Set(m.tool_calls.map((c: any) => (wire === 'ollama' ? c.function?.name : c.id)));
      if (wire !== 'ollama') {
        for (const c of m.tool_calls) {
          if (typeof c.function?.arguments !== 'string') throw new ApiError(400, `messages[${i}].tool_calls: function.arguments must be a string`);
        }
      }
    }
  });
}

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/**
 * Verify an AWS SigV4 Authorization header as AWS would: the scope (key id,
 * region, service bedrock, date), the session token, then the signature,
 * recomputed over the request exactly as it arrived (path, query, signed
 * headers, body bytes) with the signer of src/llm/sigv4.ts, which is itself
 * checked against AWS's published test suite.
 */
function checkSigV4(r: Received, aws: AwsCredentials & { region: string }): void {
  const given = String(r.headers.authorization ?? '');
  const parts = /^AWS4-HMAC-SHA256 Credential=([^/,]+)\/(\d{8})\/([^/,]+)\/([^/,]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$/.exec(given);
  if (!parts) throw new ApiError(403, `Authorization header requires Credential, SignedHeaders and Signature parameters: ${given}`);
  const [, keyId, day, region, service, signed] = parts;
  if (keyId !== aws.accessKeyId) throw new ApiError(403, 'The security token included in the request is invalid.');
  if (region !== aws.region) throw new ApiError(403, `Credential should be scoped to a valid region, not '${region}'.`);
  if (service !== 'bedrock') throw new ApiError(403, `Credential should be scoped to correct service: 'bedrock'.`);
  const date = String(r.headers['x-amz-date'] ?? '');
  const when = new Date(date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (Number.isNaN(when.getTime()) || !date.startsWith(day)) throw new ApiError(403, `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${day}' != '${date}'`);
  if (Math.abs(Date.now() - when.getTime()) > 5 * 60_000) throw new ApiError(403, `Signature expired: ${date} is now earlier or later than 5 minutes from now.`);
  const names = signed.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) throw new ApiError(403, `'Host' and 'X-Amz-Date' must be signed, got SignedHeaders=${signed}`);
  const token = r.headers['x-amz-security-token'];
  if ((aws.sessionToken ?? undefined) !== token || (token !== undefined && !names.includes('x-amz-security-token'))) throw new ApiError(403, 'The security token included in the request is invalid.');
  const headers = Object.fromEntries(names.filter((n) => !['host', 'x-amz-date', 'x-amz-security-token'].includes(n)).map((n) => [n, String(r.headers[n] ?? '')]));
  const url = new URL(r.url, `http://${r.headers.host}`);
  const expected = signRequest({ method: r.method, url, headers, body: r.body.toString('utf8'), region, service }, aws, when).authorization;
  if (expected !== given) throw new ApiError(403, SIGNATURE_MISMATCH);
}

function checkAuth(wire: Wire, r: Received, options: FakeLlmOptions): void {
  const { headers } = r;
  const { apiKey } = options;
  if (wire === 'anthropic' && !headers['anthropic-version']) throw new ApiError(400, 'anthropic-version: header is required');
  if (wire === 'bedrock') {
    const given = String(headers.authorization ?? '');
    if (given.startsWith('AWS4-HMAC-SHA256 ')) {
      if (options.aws) checkSigV4(r, options.aws);
      return;
    }
    if (given.startsWith('Bearer ')) {
      if (apiKey && given !== `Bearer ${apiKey}`) throw new ApiError(403, `Authentication failed: Please make sure your API Key is valid: ${given.slice(7)}`);
      return;
    }
    if (apiKey || options.aws) throw new ApiError(403, 'Missing Authentication Token');
    return;
  }
  if (!apiKey) return;
  switch (wire) {
    case 'vertex_ai': {
      const given = String(headers.authorization ?? '');
      if (given !== `Bearer ${apiKey}`) throw new ApiError(401, `Request had invalid authentication credentials. Expected OAuth 2 access token: ${given.replace(/^Bearer /, '') || '(none)'}`);
      return;
    }
    case 'cohere': {
      const given = String(headers.authorization ?? '');
      if (given !== `Bearer ${apiKey}`) throw new ApiError(401, `invalid api token: ${given.replace(/^Bearer /, '') || '(none)'}`);
      return;
    }
    case 'openai':
    case 'ollama': {
      const given = String(headers.authorization ?? '');
      if (given !== `Bearer ${apiKey}`) throw new ApiError(401, `Incorrect API key provided: ${given.replace(/^Bearer /, '') || '(none)'}. You can find your API key at https://example.invalid/api-keys.`);
      return;
    }
    case 'azure': {
      const given = String(headers['api-key'] ?? '');
      if (given !== apiKey) throw new ApiError(401, `Access denied due to invalid subscription key ${given || '(none)'}. Make sure to provide a valid key for an active subscription.`);
      return;
    }
    case 'anthropic': {
      const given = String(headers['x-api-key'] ?? '');
      if (given !== apiKey) throw new ApiError(401, `invalid x-api-key: ${given || '(none)'}`);
      return;
    }
  }
}

function errorBody(wire: Wire, status: number, message: string): unknown {
  switch (wire) {
    case 'anthropic':
      return { type: 'error', error: { type: status === 401 ? 'authentication_error' : status === 404 ? 'not_found_error' : 'invalid_request_error', message } };
    case 'ollama':
      return { error: message };
    case 'bedrock':
      return { message };
    case 'vertex_ai':
      return { error: { code: status, message, status: { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND' }[status] ?? 'INTERNAL' } };
    case 'cohere':
      return { id: `error-${status}`, message };
    default:
      return { error: { message, type: 'invalid_request_error', code: status === 401 ? 'invalid_api_key' : null } };
  }
}

let counter = 0;

function render(wire: Wire, model: string, step: Exclude<Step, { status: number } | { raw: string } | { delayMs: number }>, request: LlmRequest): unknown {
  const n = ++counter;
  if ('toolCalls' in step) {
    switch (wire) {
      case 'anthropic':
        return {
          id: `msg_${n}`,
          type: 'message',
          role: 'assistant',
          model,
          content: [
            ...(step.text ? [{ type: 'text', text: step.text }] : []),
            ...step.toolCalls.map((c, i) => ({ type: 'tool_use', id: `toolu_${n}_${i}`, name: c.name, input: c.arguments })),
          ],
          stop_reason: 'tool_use',
          stop_sequence: null,
          usage: { input_tokens: 10, output_tokens: 10 },
        };
      case 'ollama':
        return {
          model,
          created_at: new Date().toISOString(),
          message: { role: 'assistant', content: step.text ?? '', tool_calls: step.toolCalls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) },
          done: true,
          done_reason: 'stop',
        };
      case 'bedrock':
        return {
          output: {
            message: {
              role: 'assistant',
              content: [...(step.text ? [{ text: step.text }] : []), ...step.toolCalls.map((c, i) => ({ toolUse: { toolUseId: `tooluse_${n}_${i}`, name: c.name, input: c.arguments } }))],
            },
          },
          stopReason: 'tool_use',
          usage: { inputTokens: 10, outputTokens: 10, totalTokens: 20 },
          metrics: { latencyMs: 1 },
        };
      case 'vertex_ai':
        // Vertex AI gives function calls no id: the response names the function.
        return {
          candidates: [{ content: { role: 'model', parts: [...(step.text ? [{ text: step.text }] : []), ...step.toolCalls.map((c) => ({ functionCall: { name: c.name, args: c.arguments } }))] }, finishReason: 'STOP' }],
          usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 10, totalTokenCount: 20 },
          modelVersion: model,
        };
      case 'cohere':
        return {
          id: `cohere-${n}`,
          finish_reason: 'TOOL_CALL',
          message: {
            role: 'assistant',
            tool_plan: step.text ?? 'I will use the tools.',
            tool_calls: step.toolCalls.map((c, i) => ({ id: `cohere_${n}_${i}`, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } })),
          },
          usage: { billed_units: { input_tokens: 10, output_tokens: 10 }, tokens: { input_tokens: 10, output_tokens: 10 } },
        };
      default:
        return {
          id: `chatcmpl-${n}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model,
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: step.text ?? null,
                tool_calls: step.toolCalls.map((c, i) => ({ id: `call_${n}_${i}`, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.arguments) } })),
              },
              finish_reason: 'tool_calls',
            },
          ],
          usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
        };
    }
  }
  const text = typeof step.answer === 'function' ? step.answer(request) : step.answer;
  switch (wire) {
    case 'anthropic':
      return {
        id: `msg_${n}`,
        type: 'message',
        role: 'assistant',
        model,
        content: [{ type: 'text', text }],
        stop_reason: step.stopReason ?? 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 10 },
      };
    case 'ollama':
      return { model, created_at: new Date().toISOString(), message: { role: 'assistant', content: text }, done: true, done_reason: step.stopReason ?? 'stop' };
    case 'bedrock':
      return { output: { message: { role: 'assistant', content: [{ text }] } }, stopReason: step.stopReason ?? 'end_turn', usage: { inputTokens: 10, outputTokens: 10, totalTokens: 20 }, metrics: { latencyMs: 1 } };
    case 'vertex_ai':
      return { candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: step.stopReason ?? 'STOP' }], usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 10, totalTokenCount: 20 }, modelVersion: model };
    case 'cohere':
      return { id: `cohere-${n}`, finish_reason: step.stopReason ?? 'COMPLETE', message: { role: 'assistant', content: [{ type: 'text', text }] }, usage: { tokens: { input_tokens: 10, output_tokens: 10 } } };
    default:
      return {
        id: `chatcmpl-${n}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: step.stopReason ?? 'stop' }],
        usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
      };
  }
}

/**
 * Google's token endpoint: a service account's signed JWT (RFC 7523) or an
 * authorized_user refresh token buys `apiKey` as the access token. Errors
 * are OAuth's {error, error_description} (echoing the refresh token, so tests
 * can check that a client never shows it).
 */
function grantToken(form: URLSearchParams, tokenUri: string, options: FakeLlmOptions): { status: number; body: unknown } {
  const google = options.google ?? {};
  const refuse = (error: string, description: string) => ({ status: 400, body: { error, error_description: description } });
  const grant = form.get('grant_type');
  if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    const [header, claims, signature] = (form.get('assertion') ?? '').split('.');
    let h: any;
    let c: any;
    try {
      h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
      c = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8'));
    } catch {
      return refuse('invalid_grant', 'Invalid JWT: not three base64url JSON parts');
    }
    const signed = h.alg === 'RS256' && google.publicKey && signature && verify('RSA-SHA256', Buffer.from(`${header}.${claims}`), google.publicKey, Buffer.from(signature, 'base64url'));
    if (!signed) return refuse('invalid_grant', 'Invalid JWT Signature.');
    const now = Date.now() / 1000;
    if (c.aud !== tokenUri) return refuse('invalid_grant', `Invalid JWT: audience ${c.aud} is not ${tokenUri}`);
    if (!(c.iat <= now + 60 && c.exp > now && c.exp - c.iat <= 3600)) return refuse('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.');
    if (!String(c.scope ?? '').split(' ').includes('https://www.googleapis.com/auth/cloud-platform')) return refuse('invalid_scope', `scope ${c.scope} does not cover Vertex AI`);
  } else if (grant === 'refresh_token') {
    if (!google.refreshToken || form.get('refresh_token') !== google.refreshToken || form.get('client_secret') !== google.clientSecret) {
      return refuse('invalid_grant', `Token has been expired or revoked: ${form.get('refresh_token')}`);
    }
  } else {
    return refuse('unsupported_grant_type', `Invalid grant_type: ${grant}`);
  }
  return { status: 200, body: { access_token: options.apiKey, expires_in: 3599, token_type: 'Bearer' } };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const scripts = new Map<string, { steps: Step[]; next: number }>();
  const requests: LlmRequest[] = [];
  const tokenRequests: Record<string, string>[] = [];

  const respond = async (res: ServerResponse, wire: Wire, model: string, step: Step, request: LlmRequest): Promise<void> => {
    if ('delayMs' in step) {
      await new Promise((r) => setTimeout(r, step.delayMs));
      return respond(res, wire, model, step.then, request);
    }
    if ('raw' in step) {
      if (res.destroyed) return;
      res.writeHead(step.status ?? 200, { 'content-type': step.contentType ?? 'text/plain' });
      res.end(step.raw);
      return;
    }
    if ('status' in step) return sendJson(res, step.status, errorBody(wire, step.status, step.error));
    sendJson(res, 200, render(wire, model, step, request));
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const path = url.split('?')[0];
      const raw = Buffer.concat(chunks);
      if (req.method === 'POST' && path === '/token') {
        const form = new URLSearchParams(raw.toString('utf8'));
        tokenRequests.push(Object.fromEntries(form));
        const granted = grantToken(form, `http://${req.headers.host}/token`, options);
        return sendJson(res, granted.status, granted.body);
      }
      const wire = wireOf(path);
      if (req.method !== 'POST' || !wire) return sendJson(res, 404, { error: { message: `no route for ${req.method} ${path}` } });
      let body: any;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return sendJson(res, 400, errorBody(wire, 400, 'the request body is not JSON'));
      }
      const model = modelOf(wire, path, body);
      const conversation = conversationOf(wire, body);
      const request: LlmRequest = {
        wire,
        method: req.method,
        url,
        headers: req.headers,
        body,
        model,
        toolNames: toolNames(wire, body),
        toolResults: Array.isArray(conversation) ? trailingToolResults(wire, conversation) : [],
      };
      requests.push(request);
      try {
        if (wire === 'azure' && !new URL(url, 'http://x').searchParams.get('api-version')) throw new ApiError(404, 'Resource not found (api-version query parameter missing)');
        checkAuth(wire, { method: req.method, url, headers: req.headers, body: raw }, options);
        checkConversation(wire, body);
        const script = scripts.get(model);
        if (!script) throw new ApiError(404, `model '${model}' not found`);
        const step = script.steps[Math.min(script.next, script.steps.length - 1)];
        script.next++;
        respond(res, wire, model, step, request).catch(() => res.destroy());
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        sendJson(res, e.status, errorBody(wire, e.status, e.message));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(model, steps) {
      if (!steps.length) throw new Error('a script needs at least one step');
      scripts.set(model, { steps, next: 0 });
    },
    requestsFor: (model) => requests.filter((r) => r.model === model),
    tokenRequests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
