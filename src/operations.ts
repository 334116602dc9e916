/**
 * The MCP work a task asks for, as named operations on a session. The same
 * functions run in the module process (connection_reuse: false) and in the
 * broker (pooled), so both paths behave identically. Inputs and outputs are
 * plain JSON: they cross the broker socket.
 */
import { CallToolResultSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { McpAuditError } from './errors';
import type { McpSession } from './mcp/session';
import { schemaErrors } from './checks/json_schema';

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

export interface OperationMap {
  server_info: { args: ServerInfoArgs; result: Record<string, unknown> };
  call_tool: { args: CallToolArgs; result: CallToolOutcome };
  list_tools: { args: Record<string, never>; result: { tools: Tool[] } };
}
export type OperationName = keyof OperationMap;

async function serverInfo(session: McpSession, args: ServerInfoArgs, timeoutMs: number) {
  const info = {
    server_info: session.serverVersion ?? {},
    protocol_version: session.negotiatedVersion ?? null,
    capabilities: session.serverCapabilities ?? {},
    instructions: session.instructions ?? null,
  };
  if (args.lists === false) return info;
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

const OPERATIONS: { [K in OperationName]: (s: McpSession, a: OperationMap[K]['args'], timeoutMs: number) => Promise<OperationMap[K]['result']> } = {
  server_info: serverInfo,
  call_tool: callTool,
  list_tools: async (s, _a, t) => ({ tools: await s.tools(t) }),
};

export function isOperation(name: unknown): name is OperationName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(OPERATIONS, name);
}

export function executeOperation<K extends OperationName>(session: McpSession, op: K, args: OperationMap[K]['args'], timeoutMs: number): Promise<OperationMap[K]['result']> {
  return OPERATIONS[op](session, args as any, timeoutMs) as Promise<OperationMap[K]['result']>;
}
