/**
 * The OpenAI chat-completions wire format, spoken by OpenAI, vLLM, OpenRouter
 * and Azure OpenAI. Tools go in as {type: function, function: {name,
 * description, parameters}}; the model's tool_calls carry JSON-string
 * arguments; each result goes back as a {role: tool, tool_call_id} message.
 */
import { parseArguments, toolDescription, toolParameters, type AssistantTurn, type ChatClient, type ChatSettings, type ToolAnswer, type ToolCall } from './chat';
import { joinUrl, LlmApiError, postJson } from './http';

interface Endpoint {
  url: string;
  headers: Record<string, string>;
}

const bearer = (s: ChatSettings): Record<string, string> => (s.apiKey ? { authorization: `Bearer ${s.apiKey}` } : {});

/** OpenAI, vLLM, OpenRouter: <base>/chat/completions with a bearer token. */
export const openAiEndpoint = (s: ChatSettings): Endpoint => ({ url: joinUrl(s.baseUrl, '/chat/completions'), headers: bearer(s) });

/**
 * Azure OpenAI: the model is a deployment name in the path, the version a query
 * parameter, the key an `api-key` header. A base URL ending in /openai/v1 is
 * Azure's version-less v1 API, which takes the model in the body like OpenAI.
 */
export function azureEndpoint(s: ChatSettings): Endpoint {
  const headers: Record<string, string> = s.apiKey ? { 'api-key': s.apiKey } : {};
  const base = s.baseUrl.replace(/\/+$/, '');
  if (/\/openai\/v1$/.test(base)) return { url: `${base}/chat/completions`, headers };
  const version = encodeURIComponent(s.apiVersion ?? '');
  return { url: `${base}/openai/deployments/${encodeURIComponent(s.model)}/chat/completions?api-version=${version}`, headers };
}

/** MCP tools as OpenAI function tools. */
export const openAiTools = (s: ChatSettings) =>
  s.tools.map((t) => ({ type: 'function', function: { name: t.name, description: toolDescription(t), parameters: toolParameters(t) } }));

/** message.content is a string, null (tool calls only) or, from some compatible servers, a list of text parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c: any) => (typeof c === 'string' ? c : (c?.text ?? ''))).join('');
  return '';
}

export function openAiChat(s: ChatSettings, endpoint: Endpoint): ChatClient {
  const messages: Record<string, unknown>[] = [];
  if (s.systemPrompt) messages.push({ role: 'system', content: s.systemPrompt });
  messages.push({ role: 'user', content: s.prompt });
  const tools = openAiTools(s);
  let calls = 0;

  return {
    async next(): Promise<AssistantTurn> {
      const body = await postJson({
        api: s.provider,
        url: endpoint.url,
        headers: endpoint.headers,
        // An empty tools list is rejected ("[] is too short"): leave it out.
        body: { model: s.model, messages, ...(tools.length ? { tools } : {}) },
        timeoutMs: s.timeoutMs,
        secrets: [s.apiKey],
      });
      const choice = body?.choices?.[0];
      if (!choice?.message) throw new LlmApiError(`the ${s.provider} API answered without choices[0].message (POST ${endpoint.url})`);
      const toolCalls: ToolCall[] = (choice.message.tool_calls ?? []).map((c: any) => ({
        // Some compatible servers leave out the id; the tool message must still name the call.
        id: typeof c.id === 'string' && c.id ? c.id : `call_${++calls}`,
        name: String(c.function?.name ?? ''),
        ...parseArguments(c.function?.arguments),
      }));
      messages.push({
        role: 'assistant',
        content: choice.message.content ?? null,
        ...(toolCalls.length
          ? { tool_calls: toolCalls.map((c, i) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: stringArguments(choice.message.tool_calls[i]) } })) }
          : {}),
      });
      return { text: contentText(choice.message.content), toolCalls, stopReason: choice.finish_reason ?? null };
    },

    answerToolCalls(answers: ToolAnswer[]) {
      // This format has no error flag for a tool result: say so in the text.
      for (const a of answers) messages.push({ role: 'tool', tool_call_id: a.call.id, content: a.isError ? `Error: ${a.text}` : a.text });
    },
  };
}

/** The arguments exactly as the model wrote them (a JSON string), so the history replays its own call. */
function stringArguments(call: any): string {
  const raw = call?.function?.arguments;
  if (typeof raw === 'string') return raw;
  return JSON.stringify(raw ?? {});
}
