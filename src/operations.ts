/**
 * The MCP work a task asks for, as named operations on a session. The same
 * functions run in the module process (connection_reuse: false) and in the
 * broker (pooled), so both paths behave identically. Inputs and outputs are
 * plain JSON: they cross the broker socket.
 */
import { CallToolResultSchema, EmptyResultSchema, GetPromptResultSchema, ReadResourceResultSchema, type Prompt, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { McpAuditError } from './errors';
import type { McpSession } from './mcp/session';
import { schemaErrors } from './checks/json_schema';
import { listSurface, type SurfaceListing } from './security/listing';

export interface ServerInfoArgs {
  lists?: boolean;
}

export interface CallToolArgs {
  name: string;
  arguments: Record<string, unknown>;
  check_mode: boolean;
  validate_input: boolean;
  validate_output: boolean;
}

export interface CallToolOutcome {
  tool: Tool;
  skipped: boolean;
  input_errors: string[];
  output_errors: string[];
  result?: Record<string, any>;
  elapsed_ms: number;
}

export interface ReadResourceOutcome {
  result: Record<string, any>;
  resource_templates: unknown[];
  elapsed_ms: number;
}

export interface GetPromptArgs {
  name: string;
  arguments: Record<string, string>;
}

export interface GetPromptOutcome {
  prompt: Prompt;
  result: Record<string, any>;
  elapsed_ms: number;
}

/** One step of a batch: an operation and its arguments. */
export type BatchItem = { [K in Exclude<OperationName, 'batch'>]: { op: K; args: OperationMap[K]['args'] } }[Exclude<OperationName, 'batch'>];
/** Each step's outcome: a failing step never stops the others. */
export type BatchResult = ({ ok: true; data: unknown } | { ok: false; error: { kind: string; message: string; details?: Record<string, unknown> } })[];

export interface OperationMap {
  server_info: { args: ServerInfoArgs; result: Record<string, unknown> };
  call_tool: { args: CallToolArgs; result: CallToolOutcome };
  list_tools: { args: Record<string, never>; result: { tools: Tool[] } };
  read_resource: { args: { uri: string }; result: ReadResourceOutcome };
  get_prompt: { args: GetPromptArgs; result: GetPromptOutcome };
  list_surface: { args: Record<string, never>; result: SurfaceListing };
  batch: { args: { items: BatchItem[] }; result: BatchResult };
}
export type OperationName = keyof OperationMap;

async function serverInfo(session: McpSession, args: ServerInfoArgs, timeoutMs: number) {
  const info = {
    server_info: session.serverVersion ?? {},
    protocol_version: session.negotiatedVersion ?? null,
    capabilities: session.serverCapabilities ?? {},
    instructions: session.instructions ?? null,
  };
  if (args.lists === false) {
    // A pooled session may be warm but dead: make sure the server still answers.
    await session.request('ping', undefined, EmptyResultSchema, timeoutMs);
    return info;
  }
  session.invalidateTools(); // "what does the server offer now", not what it offered when the session opened
  const [tools, resources, resource_templates, prompts] = await Promise.all([
    session.tools(timeoutMs),
    session.listAll('resources', timeoutMs),
    session.listAll('resource_templates', timeoutMs),
    session.listAll('prompts', timeoutMs),
  ]);
  return { ...info, tools, resources, resource_templates, prompts };
}

/** Find the tool, validate, honour check mode, call, validate the structured result. */
async function callTool(session: McpSession, args: CallToolArgs, timeoutMs: number): Promise<CallToolOutcome> {
  const started = Date.now();
  const tools = await session.tools(timeoutMs);
  const tool = tools.find((t) => t.name === args.name);
  if (!tool) {
    const names = tools.map((t) => t.name).sort();
    throw new McpAuditError('usage', `tool '${args.name}' not found on the server; it has ${names.length ? `these tools: ${names.join(', ')}` : 'no tools'}`, { available_tools: names });
  }
  const outcome: CallToolOutcome = { tool, skipped: false, input_errors: [], output_errors: [], elapsed_ms: 0 };
  if (args.validate_input) outcome.input_errors = schemaErrors(tool.inputSchema as any, args.arguments, 'tool_arguments');
  if (outcome.input_errors.length) return { ...outcome, elapsed_ms: Date.now() - started };
  // Check mode only calls tools that declare themselves read-only: tools have side effects.
  if (args.check_mode && tool.annotations?.readOnlyHint !== true) return { ...outcome, skipped: true, elapsed_ms: Date.now() - started };
  // tools/call is sent directly: the SDK's callTool throws on outputSchema mismatches, which we report as validation errors instead.
  const result = await session.request('tools/call', { name: args.name, arguments: args.arguments }, CallToolResultSchema, timeoutMs);
  outcome.result = result;
  if (args.validate_output && tool.outputSchema && !result.isError) {
    outcome.output_errors =
      result.structuredContent === undefined
        ? ['the tool declares an outputSchema but returned no structuredContent']
        : schemaErrors(tool.outputSchema as any, result.structuredContent, 'structured_content');
  }
  return { ...outcome, elapsed_ms: Date.now() - started };
}

async function readResource(session: McpSession, args: { uri: string }, timeoutMs: number): Promise<ReadResourceOutcome> {
  const started = Date.now();
  const result = await session.request('resources/read', { uri: args.uri }, ReadResourceResultSchema, timeoutMs);
  const elapsed_ms = Date.now() - started;
  // The templates only inform the play: a server that fails to list them has still served the read.
  const resource_templates = await session.listAll('resource_templates', timeoutMs).catch((e) => {
    if (e instanceof McpAuditError && e.kind === 'server') return [];
    throw e;
  });
  return { result, resource_templates, elapsed_ms };
}

/** Check the prompt exists and its required arguments are given before asking for it. */
async function getPrompt(session: McpSession, args: GetPromptArgs, timeoutMs: number): Promise<GetPromptOutcome> {
  const started = Date.now();
  const prompts = (await session.listAll('prompts', timeoutMs)) as Prompt[];
  const prompt = prompts.find((p) => p.name === args.name);
  if (!prompt) {
    const names = prompts.map((p) => p.name).sort();
    throw new McpAuditError('usage', `prompt '${args.name}' not found on the server; it has ${names.length ? `these prompts: ${names.join(', ')}` : 'no prompts'}`, { available_prompts: names });
  }
  const declared = prompt.arguments ?? [];
  const missing = declared.filter((a) => a.required && (args.arguments[a.name] === undefined || args.arguments[a.name] === null)).map((a) => a.name);
  if (missing.length) {
    throw new McpAuditError('usage', `prompt '${args.name}' requires argument(s) ${missing.join(', ')} in prompt_arguments; it declares: ${declared.map((a) => `${a.name}${a.required ? ' (required)' : ''}`).join(', ')}`);
  }
  const unknown = Object.keys(args.arguments).filter((k) => !declared.some((a) => a.name === k));
  if (unknown.length) {
    throw new McpAuditError('usage', `prompt '${args.name}' has no argument(s) ${unknown.join(', ')}; it declares: ${declared.map((a) => a.name).join(', ') || 'none'}`);
  }
  const result = await session.request('prompts/get', { name: args.name, arguments: args.arguments }, GetPromptResultSchema, timeoutMs);
  return { prompt, result, elapsed_ms: Date.now() - started };
}

/** Several operations on one session, in order; used by mcp_test_suite. */
async function batch(session: McpSession, args: { items: BatchItem[] }, timeoutMs: number): Promise<BatchResult> {
  const out: BatchResult = [];
  for (const item of args.items) {
    try {
      if (item.op === ('batch' as string) || !isOperation(item.op)) throw new McpAuditError('usage', `unknown operation '${item.op}'`);
      out.push({ ok: true, data: await executeOperation(session, item.op, item.args as never, timeoutMs) });
    } catch (e) {
      if (!(e instanceof McpAuditError)) throw e;
      // A session found dead before anything ran: let the pool replace it and run the whole batch again.
      if (e.kind === 'exited' && !e.reachedServer && out.length === 0) throw e;
      // A dead server ends the batch: later steps would only repeat the same error.
      out.push({ ok: false, error: { kind: e.kind, message: e.message, details: e.details } });
      if (e.kind === 'exited') break;
    }
  }
  return out;
}

const OPERATIONS: { [K in OperationName]: (s: McpSession, a: OperationMap[K]['args'], timeoutMs: number) => Promise<OperationMap[K]['result']> } = {
  server_info: serverInfo,
  call_tool: callTool,
  list_tools: async (s, _a, t) => ({ tools: await s.tools(t) }),
  read_resource: readResource,
  get_prompt: getPrompt,
  list_surface: (s, _a, t) => listSurface(s, t),
  batch,
};

export function isOperation(name: unknown): name is OperationName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(OPERATIONS, name);
}

export function executeOperation<K extends OperationName>(session: McpSession, op: K, args: OperationMap[K]['args'], timeoutMs: number): Promise<OperationMap[K]['result']> {
  return OPERATIONS[op](session, args as any, timeoutMs) as Promise<OperationMap[K]['result']>;
}
