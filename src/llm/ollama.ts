/**
 * Ollama's native /api/chat wire format (not its OpenAI-compatible /v1).
 * Tools go in like OpenAI's function tools; the model's tool_calls carry
 * arguments as a JSON object and no id; results go back as {role: tool,
 * tool_name} messages, in the order of the calls.
 */
import { parseArguments, toolDescription, toolParameters, type AssistantTurn, type ChatClient, type ChatSettings, type ToolAnswer, type ToolCall } from './chat';
import { joinUrl, LlmApiError, postJson } from './http';

/** <base>/api/chat; a base URL that already ends in /api is accepted too. */
export const ollamaUrl = (baseUrl: string) => joinUrl(baseUrl, /\/api\/?$/.test(baseUrl) ? '/chat' : '/api/chat');

export const ollamaTools = (s: ChatSettings) =>
  s.tools.map((t) => ({ type: 'function', function: { name: t.name, description: toolDescription(t), parameters: toolParameters(t) } }));

export function ollamaChat(s: ChatSettings): ChatClient {
  const url = ollamaUrl(s.baseUrl);
  const messages: Record<string, unknown>[] = [];
  if (s.systemPrompt) messages.push({ role: 'system', content: s.systemPrompt });
  messages.push({ role: 'user', content: s.prompt });
  const tools = ollamaTools(s);
  // A local Ollama needs no key; ollama.com and proxies in front of Ollama take a bearer token.
  const headers: Record<string, string> = s.apiKey ? { authorization: `Bearer ${s.apiKey}` } : {};
  let calls = 0;

  return {
    async next(): Promise<AssistantTurn> {
      // stream: false, or Ollama answers with a stream of JSON lines.
      const body = await postJson({ api: s.provider, url, headers, body: { model: s.model, messages, stream: false, ...(tools.length ? { tools } : {}) }, timeoutMs: s.timeoutMs, secrets: [s.apiKey] });
      const message = body?.message;
      if (!message || typeof message !== 'object') throw new LlmApiError(`the ${s.provider} API answered without a message (POST ${url})`);
      const toolCalls: ToolCall[] = (message.tool_calls ?? []).map((c: any) => ({
        id: typeof c.id === 'string' && c.id ? c.id : `ollama_call_${++calls}`,
        name: String(c.function?.name ?? ''),
        ...parseArguments(c.function?.arguments),
      }));
      messages.push({ role: 'assistant', content: message.content ?? '', ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}) });
      return { text: typeof message.content === 'string' ? message.content : '', toolCalls, stopReason: body.done_reason ?? null };
    },

    answerToolCalls(answers: ToolAnswer[]) {
      for (const a of answers) messages.push({ role: 'tool', tool_name: a.call.name, content: a.isError ? `Error: ${a.text}` : a.text });
    },
  };
}
