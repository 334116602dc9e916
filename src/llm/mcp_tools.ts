/**
 * The MCP side of the agent loop: the server's tools, and each tool call the
 * model asks for run on the server through runOnServer, so every call of a
 * task uses the same pooled session. A call the server refuses (unknown tool,
 * arguments that do not match the inputSchema) is answered to the model as an
 * error, as an MCP host would; a broken connection fails the task.
 */
import { runOnServer, type ConnectionReport } from '../connection';
import { McpAuditError } from '../errors';
import type { McpTool, ToolCall } from './chat';

/** What happened to one tool call. */
export interface ToolExecution {
  /** What the model is told. */
  text: string;
  isError: boolean;
  /** False when the call never reached the server (unknown tool, invalid arguments). */
  sent: boolean;
}

/** MCP content blocks as text for the model: text as is, other blocks described. */
export function toolResultText(result: Record<string, any>): string {
  const parts = (result.content ?? []).map((c: any) => {
    switch (c?.type) {
      case 'text':
        return String(c.text ?? '');
      case 'image':
      case 'audio':
        return `[${c.type} ${c.mimeType ?? ''}, ${Math.floor((String(c.data ?? '').length * 3) / 4)} bytes]`;
      case 'resource_link':
        return `[resource link ${c.uri}${c.name ? ` (${c.name})` : ''}]`;
      case 'resource':
        return typeof c.resource?.text === 'string' ? c.resource.text : `[resource ${c.resource?.uri ?? ''} ${c.resource?.mimeType ?? ''}]`;
      default:
        return JSON.stringify(c);
    }
  });
  // A tool with an outputSchema may put its answer only in structuredContent.
  if (!parts.length && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  return parts.join('\n');
}

/** The server's tools, and a runner for the model's calls that remembers the last connection report. */
export class McpToolbox {
  connection: ConnectionReport | undefined;

  constructor(private readonly params: Record<string, any>) {}

  async list(): Promise<McpTool[]> {
    const reply = await runOnServer(this.params, 'list_tools', {});
    this.connection = reply.connection;
    return reply.data.tools as McpTool[];
  }

  async call(call: ToolCall): Promise<ToolExecution> {
    if (call.argumentsError) return { text: call.argumentsError, isError: true, sent: false };
    try {
      const reply = await runOnServer(this.params, 'call_tool', {
        name: call.name,
        arguments: call.arguments,
        check_mode: false,
        validate_input: true,
        validate_output: false,
      });
      this.connection = reply.connection;
      const { input_errors, result } = reply.data;
      if (input_errors.length) {
        return { text: `the arguments do not match the inputSchema of tool '${call.name}': ${input_errors.join('; ')}`, isError: true, sent: false };
      }
      return { text: toolResultText(result ?? {}), isError: result?.isError === true, sent: true };
    } catch (e) {
      // The model asked for something the server refuses: tell the model, as a host would. Anything else (the server died) is the task's failure.
      if (e instanceof McpAuditError && e.kind === 'usage') return { text: e.message, isError: true, sent: false };
      if (e instanceof McpAuditError && e.kind === 'server') return { text: e.message, isError: true, sent: true };
      throw e;
    }
  }
}
