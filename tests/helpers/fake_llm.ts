/**
 * A fake LLM API for tests: a real HTTP server on 127.0.0.1 (random port)
 * that speaks three wire formats and answers from a script.
 *
 *   POST .../chat/completions                      OpenAI (vLLM, OpenRouter); Authorization: Bearer
 *   POST /openai/deployments/<d>/chat/completions  Azure OpenAI; api-key header, api-version query
 *   POST .../v1/messages                           Anthropic; x-api-key + anthropic-version
 *   POST .../api/chat                              Ollama native
 *
 * Scripts are per model (the deployment for Azure), so several tasks can share
 * one fake: each request takes the next step of its model's script, and the
 * last step repeats once the script is used up. A model without a script is
 * answered 404 "model not found", like the real APIs.
 *
 * Like the real APIs it refuses malformed conversations with HTTP 400 (a tool
 * result that answers no tool call, a tool call left unanswered, a missing
 * anthropic-version or max_tokens), and with `apiKey` set it refuses a wrong
 * key with 401, echoing the key it got in the message, so tests can check
 * that a client never shows a key an API echoes.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Wire = 'openai' | 'azure' | 'anthropic' | 'ollama';

export interface ScriptedCall {
  name: string;
  arguments: Record<string, unknown>;
}

/** A tool result as the fake found it at the end of a request's conversation. */
export interface SeenToolResult {
  /** tool_call_id (OpenAI), tool_use_id (Anthropic), tool_name (Ollama). */
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
  close(): Promise<void>;
}

export interface FakeLlmOptions {
  /** When set, requests must carry this key in the wire format's auth header. */
  apiKey?: string;
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
  return undefined;
}

function toolNames(wire: Wire, body: any): string[] {
  const tools: any[] = Array.isArray(body?.tools) ? body.tools : [];
  return tools.map((t) => (wire === 'anthropic' ? t?.name : t?.function?.name));
}

function anthropicText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((b: any) => (b?.type === 'text' ? b.text : '')).join('');
  return '';
}

function trailingToolResults(wire: Wire, messages: any[]): SeenToolResult[] {
  if (wire === 'anthropic') {
    const last = messages[messages.length - 1];
    if (last?.role !== 'user' || !Array.isArray(last.content)) return [];
    return last.content
      .filter((b: any) => b?.type === 'tool_result')
      .map((b: any) => ({ id: b.tool_use_id, text: anthropicText(b.content), isError: b.is_error === true }));
  }
  const out: SeenToolResult[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === 'tool'; i--) {
    const m = messages[i];
    out.unshift({ id: wire === 'ollama' ? m.tool_name : m.tool_call_id, text: String(m.content ?? ''), isError: false });
  }
  return out;
}

/** The checks the real APIs make on a conversation, as 400s. */
function checkConversation(wire: Wire, body: any): void {
  const messages: any[] = body?.messages;
  if (!Array.isArray(messages) || !messages.length) throw new ApiError(400, 'messages: field required');
  if (!body.model) throw new ApiError(400, 'model: field required');
  if (wire === 'anthropic') {
    if (typeof body.max_tokens !== 'number') throw new ApiError(400, 'max_tokens: Field required');
    messages.forEach((m, i) => {
      const expected = i % 2 === 0 ? 'user' : 'assistant';
      if (m.role !== expected) throw new ApiError(400, `messages.${i}.role: roles must alternate between "user" and "assistant", starting with "user"`);
      if (m.role !== 'assistant' || !Array.isArray(m.content)) return;
      const ids = m.content.filter((b: any) => b?.type === 'tool_use').map((b: any) => b.id);
      if (!ids.length) return;
      const next = messages[i + 1];
      const answered = new Set(Array.isArray(next?.content) ? next.content.filter((b: any) => b?.type === 'tool_result').map((b: any) => b.tool_use_id) : []);
      const missing = ids.filter((id: string) => !answered.has(id));
      if (next && missing.length) throw new ApiError(400, `messages.${i + 1}: tool_use ids were found without tool_result blocks immediately after: ${missing.join(', ')}`);
    });
    return;
  }
  // OpenAI / Ollama: every tool message answers a call of the assistant message before it; every call is answered.
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

function checkAuth(wire: Wire, headers: IncomingHttpHeaders, apiKey: string | undefined): void {
  if (wire === 'anthropic' && !headers['anthropic-version']) throw new ApiError(400, 'anthropic-version: header is required');
  if (!apiKey) return;
  switch (wire) {
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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const scripts = new Map<string, { steps: Step[]; next: number }>();
  const requests: LlmRequest[] = [];

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
      const wire = wireOf(path);
      if (req.method !== 'POST' || !wire) return sendJson(res, 404, { error: { message: `no route for ${req.method} ${path}` } });
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return sendJson(res, 400, errorBody(wire, 400, 'the request body is not JSON'));
      }
      const model = wire === 'azure' ? decodeURIComponent(path.split('/')[3]) : String(body?.model ?? '');
      const request: LlmRequest = {
        wire,
        method: req.method,
        url,
        headers: req.headers,
        body,
        model,
        toolNames: toolNames(wire, body),
        toolResults: Array.isArray(body?.messages) ? trailingToolResults(wire, body.messages) : [],
      };
      requests.push(request);
      try {
        if (wire === 'azure' && !new URL(url, 'http://x').searchParams.get('api-version')) throw new ApiError(404, 'Resource not found (api-version query parameter missing)');
        checkAuth(wire, req.headers, options.apiKey);
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
