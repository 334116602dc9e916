/**
 * The Anthropic Messages wire format. Tools go in as {name, description,
 * input_schema}; the model answers with content blocks, tool calls being
 * `tool_use` blocks; results go back in one user message of `tool_result`
 * blocks (with is_error), answering every tool_use of the turn.
 */
import { toolDescription, toolParameters, type AssistantTurn, type ChatClient, type ChatSettings, type ToolAnswer, type ToolCall } from './chat';
import { joinUrl, LlmApiError, postJson } from './http';

/** The API version this client speaks (the anthropic-version header is required). */
export const ANTHROPIC_VERSION = '2023-06-01';

/** max_tokens is required by the Messages API; 4096 is the output limit of the smallest current models. */
const MAX_TOKENS = 4096;

/** <base>/v1/messages; a base URL that already ends in /v1 is accepted too. */
export const anthropicUrl = (baseUrl: string) => joinUrl(baseUrl, /\/v1\/?$/.test(baseUrl) ? '/messages' : '/v1/messages');

export const anthropicTools = (s: ChatSettings) => s.tools.map((t) => ({ name: t.name, description: toolDescription(t), input_schema: toolParameters(t) }));

export function anthropicChat(s: ChatSettings): ChatClient {
  const url = anthropicUrl(s.baseUrl);
  const messages: Record<string, unknown>[] = [{ role: 'user', content: s.prompt }];
  const tools = anthropicTools(s);
  const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION, ...(s.apiKey ? { 'x-api-key': s.apiKey } : {}) };

  return {
    async next(): Promise<AssistantTurn> {
      const body = await postJson({
        api: s.provider,
        url,
        headers,
        body: { model: s.model, max_tokens: MAX_TOKENS, ...(s.systemPrompt ? { system: s.systemPrompt } : {}), messages, ...(tools.length ? { tools } : {}) },
        timeoutMs: s.timeoutMs,
        secrets: [s.apiKey],
      });
      if (!Array.isArray(body?.content)) throw new LlmApiError(`the ${s.provider} API answered without a content list (POST ${url})`);
      // The assistant turn goes back unchanged: the API wants its own blocks (thinking included) replayed.
      messages.push({ role: 'assistant', content: body.content });
      const toolCalls: ToolCall[] = body.content
        .filter((b: any) => b?.type === 'tool_use')
        .map((b: any) => {
          const input = b.input ?? {};
          const valid = input && typeof input === 'object' && !Array.isArray(input);
          return {
            id: String(b.id),
            name: String(b.name ?? ''),
            arguments: valid ? input : {},
            ...(valid ? {} : { argumentsError: `the tool call input must be a JSON object, got: ${JSON.stringify(input).slice(0, 200)}` }),
          };
        });
      const text = body.content
        .filter((b: any) => b?.type === 'text')
        .map((b: any) => b.text ?? '')
        .join('');
      return { text, toolCalls, stopReason: body.stop_reason ?? null };
    },

    answerToolCalls(answers: ToolAnswer[]) {
      messages.push({
        role: 'user',
        content: answers.map((a) => ({ type: 'tool_result', tool_use_id: a.call.id, content: a.text, ...(a.isError ? { is_error: true } : {}) })),
      });
    },
  };
}
