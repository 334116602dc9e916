/**
 * The agent loop: send the conversation, run every tool call the model asks
 * for, feed the results back, until the model answers without tool calls or
 * max_iterations requests have been made. One iteration = one LLM request.
 */
import { ModuleFailure } from '../errors';
import type { ChatClient, ToolCall } from './chat';
import type { ToolExecution } from './mcp_tools';

/** One tool call as the task reports it. */
export interface ToolCallRecord {
  name: string;
  arguments: Record<string, unknown>;
  is_error: boolean;
  /** False when the call never reached the server (unknown tool, arguments not matching the inputSchema, unreadable arguments). */
  reached_server: boolean;
  /** What the model was told (shortened). */
  result: string;
  /** The LLM request that asked for the call. */
  iteration: number;
}

export interface AgentRun {
  /** The model's answer without tool calls; null when it was still calling tools at max_iterations. */
  finalAnswer: string | null;
  iterations: number;
  toolCalls: ToolCallRecord[];
  /** The stop/finish reason of the last turn. */
  stopReason: string | null;
  /** Why the run stopped early (the LLM API or the MCP server failed); the calls made until then are kept. */
  failure?: ModuleFailure;
}

const RESULT_PREVIEW = 2000;
const shorten = (text: string) => (text.length > RESULT_PREVIEW ? `${text.slice(0, RESULT_PREVIEW)}…` : text);

export async function runAgentLoop(client: ChatClient, runTool: (call: ToolCall) => Promise<ToolExecution>, maxIterations: number): Promise<AgentRun> {
  const toolCalls: ToolCallRecord[] = [];
  let stopReason: string | null = null;
  let iteration = 0;
  try {
    while (iteration < maxIterations) {
      iteration++;
      const turn = await client.next();
      stopReason = turn.stopReason;
      if (!turn.toolCalls.length) return { finalAnswer: turn.text, iterations: iteration, toolCalls, stopReason };
      const answers = [];
      // One at a time, in the model's order: tools have side effects and may depend on each other.
      for (const call of turn.toolCalls) {
        const done = await runTool(call);
        toolCalls.push({ name: call.name, arguments: call.arguments, is_error: done.isError, reached_server: done.sent, result: shorten(done.text), iteration });
        answers.push({ call, text: done.text, isError: done.isError });
      }
      client.answerToolCalls(answers);
    }
  } catch (e) {
    if (!(e instanceof ModuleFailure)) throw e;
    return { finalAnswer: null, iterations: iteration, toolCalls, stopReason, failure: e };
  }
  return { finalAnswer: null, iterations: iteration, toolCalls, stopReason };
}
