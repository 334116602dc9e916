/**
 * Cohere's Chat API v2: POST <base>/v2/chat with a bearer key. Tools go in as
 * {type: function, function: {name, description, parameters}}; the model's
 * tool_calls carry JSON-string arguments (and a tool_plan, its reasoning);
 * each result goes back as a {role: tool, tool_call_id} message.
 */
import { parseArguments, toolDescription, toolParameters, ToolNames, type AssistantTurn, type ChatClient, type ChatSettings, type ToolAnswer, type ToolCall } from './chat';
import { joinUrl, LlmApiError, postJson } from './http';

/** Cohere's tool names: letters, digits and underscores, not starting with a digit. */
const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** <base>/v2/chat; a base URL that already ends in /v2 or /v2/chat is accepted too. */
export function cohereUrl(baseUrl: string): string {
  if (/\/v2\/chat\/?$/.test(baseUrl)) return baseUrl.replace(/\/+$/, '');
  return joinUrl(baseUrl, /\/v2\/?$/.test(baseUrl) ? '/chat' : '/v2/chat');
}

export function cohereChat(s: ChatSettings): ChatClient {
  const url = cohereUrl(s.baseUrl);
  const names = new ToolNames(s.tools, TOOL_NAME);
  const tools = s.tools.map((t) => ({ type: 'function', function: { name: names.wire(t.name), description: toolDescription(t), parameters: toolParameters(t) } }));
  const messages: Record<string, unknown>[] = [];
  if (s.systemPrompt) messages.push({ role: 'system', content: s.systemPrompt });
  messages.push({ role: 'user', content: s.prompt });
  const headers: Record<string, string> = s.apiKey ? { authorization: `Bearer ${s.apiKey}` } : {};

  return {
    async next(): Promise<AssistantTurn> {
      const body = await postJson({ api: s.provider, url, headers, body: { model: s.model, messages, ...(tools.length ? { tools } : {}) }, timeoutMs: s.timeoutMs, secrets: [s.apiKey] });
      const message = body?.message;
      if (!message || typeof message !== 'object') throw new LlmApiError(`the ${s.provider} API answered without a message (POST ${url})`);
      const calls: any[] = Array.isArray(message.tool_calls) ? message.tool_calls : [];
      const toolCalls: ToolCall[] = calls.map((c, i) => ({
        id: typeof c.id === 'string' && c.id ? c.id : `cohere_call_${messages.length}_${i}`,
        name: names.mcp(String(c.function?.name ?? '')),
        ...parseArguments(c.function?.arguments),
      }));
      // The assistant turn is replayed with its plan and calls (the ids it answers by must be the ones sent back).
      messages.push({
        role: 'assistant',
        ...(typeof message.tool_plan === 'string' ? { tool_plan: message.tool_plan } : {}),
        ...(calls.length ? { tool_calls: calls.map((c, i) => ({ ...c, id: toolCalls[i].id })) } : {}),
        ...(Array.isArray(message.content) && message.content.length ? { content: message.content } : {}),
      });
      const text = Array.isArray(message.content) ? message.content.map((c: any) => (c?.type === 'text' && typeof c.text === 'string' ? c.text : '')).join('') : '';
      // COMPLETE, TOOL_CALL, MAX_TOKENS...: lower-cased, max_tokens reads as a cut-off answer.
      return { text, toolCalls, stopReason: typeof body.finish_reason === 'string' ? body.finish_reason.toLowerCase() : null };
    },

    answerToolCalls(answers: ToolAnswer[]) {
      // This format has no error flag for a tool result: say so in the text.
      for (const a of answers) messages.push({ role: 'tool', tool_call_id: a.call.id, content: a.isError ? `Error: ${a.text}` : a.text });
    },
  };
}
