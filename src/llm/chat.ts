/**
 * What the agent loop needs from an LLM API, whatever its wire format: send
 * the conversation, get the assistant's turn (text and tool calls), answer
 * the tool calls. Each wire format (openai.ts, anthropic.ts, ollama.ts) keeps
 * its own message history, because the formats differ in how a tool call and
 * its result are threaded (ids, roles, content blocks).
 */

/** An MCP tool as tools/list describes it: what the model is offered. */
export interface McpTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

/** A tool call the model asked for. */
export interface ToolCall {
  /** The provider's id for the call (OpenAI tool_call_id, Anthropic tool_use id); made up for Ollama. */
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  /** Set when the model's arguments could not be read (not JSON, not an object): the call is answered with this error. */
  argumentsError?: string;
}

export interface AssistantTurn {
  text: string;
  toolCalls: ToolCall[];
  /** finish_reason / stop_reason / done_reason as the API reported it. */
  stopReason: string | null;
}

/** The answer to one tool call, fed back to the model. */
export interface ToolAnswer {
  call: ToolCall;
  text: string;
  isError: boolean;
}

export interface ChatClient {
  /** Send the conversation so far; the assistant's turn is appended to the history. */
  next(): Promise<AssistantTurn>;
  /** Answer every tool call of the last turn (in order). */
  answerToolCalls(answers: ToolAnswer[]): void;
}

/** Everything a wire format needs to talk to one model. */
export interface ChatSettings {
  /** The llm_provider, used in messages. */
  provider: string;
  model: string;
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  /** Azure's api-version query parameter. */
  apiVersion?: string;
  systemPrompt?: string;
  prompt: string;
  tools: McpTool[];
}

/**
 * The JSON Schema a provider gets as a tool's parameters. MCP's inputSchema
 * is one already; `$schema` is dropped (some OpenAI-compatible servers reject
 * it) and `properties` made explicit (OpenAI refuses an object schema without it).
 */
export function toolParameters(tool: McpTool): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = (tool.inputSchema ?? {}) as Record<string, unknown>;
  return { ...schema, type: 'object', properties: schema.properties ?? {} };
}

/** A tool's description for the model; the name alone tells it little. */
export const toolDescription = (tool: McpTool) => tool.description || tool.title || `MCP tool ${tool.name}`;

/** Parse a JSON-object argument string (OpenAI sends arguments as a string). */
export function parseArguments(raw: unknown): Pick<ToolCall, 'arguments' | 'argumentsError'> {
  if (raw === undefined || raw === null || raw === '') return { arguments: {} };
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (e: any) {
      return { arguments: {}, argumentsError: `the tool call arguments are not valid JSON (${e.message}): ${raw.slice(0, 200)}` };
    }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { arguments: {}, argumentsError: `the tool call arguments must be a JSON object, got: ${JSON.stringify(value).slice(0, 200)}` };
  }
  return { arguments: value as Record<string, unknown> };
}
