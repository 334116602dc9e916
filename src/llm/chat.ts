/**
 * What the agent loop needs from an LLM API, whatever its wire format: send
 * the conversation, get the assistant's turn (text and tool calls), answer
 * the tool calls. Each wire format (openai.ts, anthropic.ts, ollama.ts,
 * bedrock.ts, vertex.ts, cohere.ts) keeps its own message history, because
 * the formats differ in how a tool call and its result are threaded (ids,
 * roles, content blocks).
 */
import type { AwsCredentials } from './sigv4';

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

/** Google Cloud settings for Vertex AI. */
export interface VertexTarget {
  project: string;
  location: string;
  /** Application Default Credentials to get an access token from, when no token was given. */
  credentialsFile?: string;
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
  /** Bedrock without an API key: credentials and region for AWS Signature V4. */
  aws?: { credentials: AwsCredentials; region: string };
  vertex?: VertexTarget;
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

/**
 * MCP tool names as a provider accepts them. MCP allows names some APIs refuse
 * (Cohere takes no '-', Bedrock no '.'): such a tool is offered under an alias
 * made of the allowed characters, and the model's calls are mapped back, so
 * results and expected_tool_calls always use the server's names.
 */
export class ToolNames {
  private readonly wireOf = new Map<string, string>();
  private readonly mcpOf = new Map<string, string>();

  constructor(tools: readonly McpTool[], valid: RegExp) {
    const taken = new Set(tools.map((t) => t.name).filter((n) => valid.test(n)));
    for (const { name } of tools) {
      if (valid.test(name)) continue;
      const base = name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_').slice(0, 60);
      let alias = base;
      for (let n = 2; taken.has(alias); n++) alias = `${base}_${n}`;
      taken.add(alias);
      this.wireOf.set(name, alias);
      this.mcpOf.set(alias, name);
    }
  }

  /** The name the model sees. */
  wire = (mcpName: string) => this.wireOf.get(mcpName) ?? mcpName;
  /** The server's name for what the model called (unknown names stay as they are: the server refuses them). */
  mcp = (wireName: string) => this.mcpOf.get(wireName) ?? wireName;
}
