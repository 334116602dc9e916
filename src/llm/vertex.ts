/**
 * Gemini on Google Vertex AI: POST <endpoint>/v1/projects/<project>/locations/
 * <location>/publishers/google/models/<model>:generateContent. Tools go in as
 * functionDeclarations with the MCP inputSchema as parametersJsonSchema (full
 * JSON Schema, unlike `parameters`' OpenAPI subset); the model answers with
 * parts, tool calls being `functionCall` parts; results go back in one user
 * turn of `functionResponse` parts, one per call. Auth: an OAuth access token.
 */
import { parseArguments, toolDescription, toolParameters, ToolNames, type AssistantTurn, type ChatClient, type ChatSettings, type ToolAnswer, type ToolCall } from './chat';
import { joinUrl, LlmApiError, postJson } from './http';

/** FunctionDeclaration name rule: a letter or underscore, then letters, digits, _ . : - (64 at most). */
const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

/**
 * <base>/v1/projects/<project>/locations/<location>/publishers/google/models/<model>:generateContent.
 * A base URL that already names a model (.../models/<model>, as LiteLLM's
 * api_base for Vertex AI did, for gateways) only gets :generateContent.
 */
export function vertexUrl(s: ChatSettings): string {
  const base = s.baseUrl.replace(/\/+$/, '');
  if (/\/models\/[^/:]+$/.test(base)) return `${base}:generateContent`;
  const { project, location } = s.vertex!;
  const e = encodeURIComponent;
  return joinUrl(base, `/v1/projects/${e(project)}/locations/${e(location)}/publishers/google/models/${e(s.model)}:generateContent`);
}

export function vertexChat(s: ChatSettings): ChatClient {
  const url = vertexUrl(s);
  const names = new ToolNames(s.tools, TOOL_NAME);
  const declarations = s.tools.map((t) => ({ name: names.wire(t.name), description: toolDescription(t), parametersJsonSchema: toolParameters(t) }));
  const contents: Record<string, any>[] = [{ role: 'user', parts: [{ text: s.prompt }] }];
  let token = s.apiKey;
  /** Ids made up here (the model gave none): not sent back. */
  const madeUp = new Set<string>();

  const madeUpId = () => {
    const id = `vertex_call_${madeUp.size + 1}`;
    madeUp.add(id);
    return id;
  };

  return {
    async next(): Promise<AssistantTurn> {
      // Without a token, Application Default Credentials give one (once per conversation: tokens last an hour).
      if (!token) {
        const { googleAccessToken } = await import('./google_auth');
        token = await googleAccessToken(s.vertex!.credentialsFile!, s.timeoutMs);
      }
      const body = await postJson({
        api: s.provider,
        url,
        headers: { authorization: `Bearer ${token}` },
        body: {
          contents,
          ...(s.systemPrompt ? { systemInstruction: { parts: [{ text: s.systemPrompt }] } } : {}),
          ...(declarations.length ? { tools: [{ functionDeclarations: declarations }] } : {}),
        },
        timeoutMs: s.timeoutMs,
        secrets: [token],
      });
      const candidate = body?.candidates?.[0];
      if (!candidate) {
        const blocked = body?.promptFeedback?.blockReason;
        throw new LlmApiError(`the ${s.provider} API answered without candidates${blocked ? ` (the prompt was blocked: ${blocked})` : ''} (POST ${url})`);
      }
      const parts: any[] = Array.isArray(candidate.content?.parts) ? candidate.content.parts : [];
      // The model turn goes back unchanged: thought signatures must be replayed as they came.
      contents.push({ role: 'model', parts });
      const toolCalls: ToolCall[] = parts
        .filter((p) => p?.functionCall)
        .map(({ functionCall: f }) => ({ id: typeof f.id === 'string' && f.id ? f.id : madeUpId(), name: names.mcp(String(f.name ?? '')), ...parseArguments(f.args) }));
      const text = parts.map((p) => (typeof p?.text === 'string' && !p.thought ? p.text : '')).join('');
      // STOP, MAX_TOKENS, SAFETY...: lower-cased, max_tokens reads as a cut-off answer.
      return { text, toolCalls, stopReason: typeof candidate.finishReason === 'string' ? candidate.finishReason.toLowerCase() : null };
    },

    answerToolCalls(answers: ToolAnswer[]) {
      // A functionResponse names its call (and carries its id when the model gave one); `output` and `error` are Google's keys for a result.
      const parts = answers.map((a) => {
        const id = madeUp.has(a.call.id) ? {} : { id: a.call.id };
        return { functionResponse: { name: names.wire(a.call.name), ...id, response: a.isError ? { error: a.text } : { output: a.text } } };
      });
      contents.push({ role: 'user', parts });
    },
  };
}
