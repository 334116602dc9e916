/**
 * Amazon Bedrock's Converse API: POST <endpoint>/model/<modelId>/converse,
 * one wire format for every model Bedrock serves. Tools go in as
 * toolConfig.tools[].toolSpec {name, description, inputSchema: {json}}; the
 * model answers with content blocks, tool calls being `toolUse` blocks;
 * results go back in one user message of `toolResult` blocks. The request is
 * signed with AWS Signature V4, or carries a Bedrock API key as a bearer token.
 */
import { parseArguments, toolDescription, toolParameters, ToolNames, type AssistantTurn, type ChatClient, type ChatSettings, type ToolAnswer, type ToolCall } from './chat';
import { joinUrl, LlmApiError, postJson } from './http';
import { signRequest, uriEncode } from './sigv4';

/** Converse's ToolSpecification name pattern. */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** <endpoint>/model/<modelId>/converse; the model id (or ARN) is one encoded path segment. */
export const bedrockUrl = (s: ChatSettings) => joinUrl(s.baseUrl, `/model/${uriEncode(s.model)}/converse`);

export function bedrockChat(s: ChatSettings): ChatClient {
  const url = bedrockUrl(s);
  const names = new ToolNames(s.tools, TOOL_NAME);
  const tools = s.tools.map((t) => ({ toolSpec: { name: names.wire(t.name), description: toolDescription(t), inputSchema: { json: toolParameters(t) } } }));
  const messages: Record<string, unknown>[] = [{ role: 'user', content: [{ text: s.prompt }] }];
  const aws = s.aws;
  // A Bedrock API key is a bearer token; without one, every request is signed (at send time: the date is part of the signature).
  const headers: Record<string, string> = s.apiKey ? { authorization: `Bearer ${s.apiKey}` } : {};
  const sign = !s.apiKey && aws ? (r: { url: URL; headers: Record<string, string>; body: string }) => signRequest({ method: 'POST', service: 'bedrock', region: aws.region, ...r }, aws.credentials) : undefined;
  const secrets = [s.apiKey, aws?.credentials.secretAccessKey, aws?.credentials.sessionToken];

  return {
    async next(): Promise<AssistantTurn> {
      const body = await postJson({
        api: s.provider,
        url,
        headers,
        sign,
        // toolConfig may not be empty, and must be sent while the history holds toolUse blocks.
        body: { messages, ...(s.systemPrompt ? { system: [{ text: s.systemPrompt }] } : {}), ...(tools.length ? { toolConfig: { tools } } : {}) },
        timeoutMs: s.timeoutMs,
        secrets,
      });
      const message = body?.output?.message;
      if (!Array.isArray(message?.content)) throw new LlmApiError(`the ${s.provider} API answered without output.message.content (POST ${url})`);
      // The assistant turn goes back unchanged: reasoning blocks must be replayed as they came.
      messages.push({ role: 'assistant', content: message.content });
      const toolCalls: ToolCall[] = message.content
        .filter((b: any) => b?.toolUse)
        .map(({ toolUse: u }: any) => ({ id: String(u.toolUseId), name: names.mcp(String(u.name ?? '')), ...parseArguments(u.input) }));
      const text = message.content.map((b: any) => (typeof b?.text === 'string' ? b.text : '')).join('');
      return { text, toolCalls, stopReason: body.stopReason ?? null };
    },

    answerToolCalls(answers: ToolAnswer[]) {
      // toolResult.status is refused by most non-Claude models, so an error is said in the text.
      // Converse refuses a blank text block: an empty result is said in words.
      const content = answers.map((a) => ({ toolResult: { toolUseId: a.call.id, content: [{ text: `${a.isError ? 'Error: ' : ''}${a.text}` || '(no output)' }] } }));
      messages.push({ role: 'user', content });
    },
  };
}
