/**
 * The agent loop (src/llm/agent_loop.ts) with its MCP side (src/llm/mcp_tools.ts):
 * the fake LLM asks for tools, a real server-everything (stdio, its own
 * connection per call: connection_reuse false) runs them, and the results
 * go back to the fake in its wire format.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgentLoop } from '../../src/llm/agent_loop';
import { McpToolbox, toolResultText } from '../../src/llm/mcp_tools';
import { chatClient, llmSettings } from '../../src/llm/providers';
import { answerWithToolResults, startFakeLlm, type FakeLlm, type Step } from '../helpers/fake_llm';

const EVERYTHING_JS = join(__dirname, '..', '..', 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
const SERVER = { transport: 'stdio', server_command: process.execPath, server_args: [EVERYTHING_JS], connection_reuse: false, timeout: 30, max_connection_retries: 0 };
const KEY = 'sk-loop-test-key';

let fake: FakeLlm;
beforeAll(async () => {
  fake = await startFakeLlm({ apiKey: KEY });
});
afterAll(() => fake.close());

let n = 0;

/** Run the loop for `provider` with a script; returns the run, the toolbox and the model's requests. */
async function drive(provider: 'openai' | 'anthropic' | 'ollama', steps: Step[], maxIterations = 5) {
  const model = `loop-${provider}-${++n}`;
  fake.script(model, steps);
  const toolbox = new McpToolbox(SERVER);
  const tools = await toolbox.list();
  const base = provider === 'openai' ? `${fake.url}/v1` : fake.url;
  const settings = llmSettings({ llm_provider: provider, llm_model: model, llm_api_key: KEY, llm_base_url: base, llm_timeout: 10 }, {});
  const client = await chatClient(settings, { prompt: 'Use the tools', tools });
  const run = await runAgentLoop(client, (call) => toolbox.call(call), maxIterations);
  return { run, toolbox, tools, requests: fake.requestsFor(model) };
}

describe('agent loop against server-everything', () => {
  it('openai: echo is called on the server and its result reaches the model', async () => {
    const { run, toolbox, tools, requests } = await drive('openai', [{ toolCalls: [{ name: 'echo', arguments: { message: 'hi' } }] }, answerWithToolResults()]);
    expect(run.failure).toBeUndefined();
    expect(run.finalAnswer).toBe('The tool said: Echo: hi');
    expect(run.iterations).toBe(2);
    expect(run.toolCalls).toEqual([{ name: 'echo', arguments: { message: 'hi' }, is_error: false, reached_server: true, result: 'Echo: hi', iteration: 1 }]);
    // The whole tool list of the server was offered, with its inputSchema as parameters.
    expect(requests[0].toolNames).toEqual(tools.map((t) => t.name));
    const sum = requests[0].body.tools.find((t: any) => t.function.name === 'get-sum');
    expect(sum.function.parameters.properties).toEqual(tools.find((t) => t.name === 'get-sum')!.inputSchema.properties);
    expect(requests[1].toolResults.map((r) => r.text)).toEqual(['Echo: hi']);
    expect(toolbox.connection).toMatchObject({ pooled: false, reused: false });
  }, 60_000);

  it('anthropic: get-sum {a: 2, b: 3} answers 5', async () => {
    const { run, requests } = await drive('anthropic', [{ toolCalls: [{ name: 'get-sum', arguments: { a: 2, b: 3 } }] }, answerWithToolResults('Result:')]);
    expect(run.finalAnswer).toBe('Result: The sum of 2 and 3 is 5.');
    expect(requests[1].toolResults).toEqual([{ id: expect.stringMatching(/^toolu_/), text: 'The sum of 2 and 3 is 5.', isError: false }]);
  }, 60_000);

  it('ollama: two calls in one turn run in order', async () => {
    const { run } = await drive('ollama', [
      {
        toolCalls: [
          { name: 'echo', arguments: { message: 'one' } },
          { name: 'get-sum', arguments: { a: 1, b: 1 } },
        ],
      },
      answerWithToolResults(),
    ]);
    expect(run.toolCalls.map((c) => c.result)).toEqual(['Echo: one', 'The sum of 1 and 1 is 2.']);
    expect(run.finalAnswer).toBe('The tool said: Echo: one | The sum of 1 and 1 is 2.');
  }, 60_000);

  it('a tool the server does not have is refused and the model is told (as an error)', async () => {
    const { run, requests } = await drive('anthropic', [{ toolCalls: [{ name: 'no-such-tool', arguments: {} }] }, answerWithToolResults()]);
    expect(run.toolCalls).toEqual([expect.objectContaining({ name: 'no-such-tool', is_error: true, reached_server: false })]);
    expect(run.toolCalls[0].result).toMatch(/tool 'no-such-tool' not found on the server; it has these tools: .*echo/);
    expect(requests[1].toolResults[0]).toMatchObject({ isError: true, text: expect.stringContaining("'no-such-tool' not found") });
    expect(run.finalAnswer).not.toBeNull();
  }, 60_000);

  it('arguments that do not match the inputSchema are refused before reaching the server', async () => {
    const { run, requests } = await drive('openai', [{ toolCalls: [{ name: 'get-sum', arguments: { a: 'two' } }] }, answerWithToolResults()]);
    expect(run.toolCalls[0]).toMatchObject({ name: 'get-sum', is_error: true, reached_server: false });
    expect(run.toolCalls[0].result).toMatch(/do not match the inputSchema of tool 'get-sum'/);
    expect(requests[1].toolResults[0].text).toMatch(/^Error: the arguments do not match/);
  }, 60_000);

  it('a model that keeps calling tools stops at max_iterations without a final answer', async () => {
    const { run, requests } = await drive('openai', [{ toolCalls: [{ name: 'echo', arguments: { message: 'again' } }] }], 3);
    expect(run.finalAnswer).toBeNull();
    expect(run.iterations).toBe(3);
    expect(run.toolCalls).toHaveLength(3);
    expect(requests).toHaveLength(3);
  }, 60_000);

  it('an LLM error after a tool call keeps the calls made so far', async () => {
    const { run } = await drive('anthropic', [{ toolCalls: [{ name: 'echo', arguments: { message: 'hi' } }] }, { status: 529, error: 'Overloaded' }]);
    expect(run.failure?.message).toMatch(/the anthropic API answered HTTP 529 .*: Overloaded/);
    expect(run.iterations).toBe(2);
    expect(run.toolCalls.map((c) => c.name)).toEqual(['echo']);
    expect(run.finalAnswer).toBeNull();
  }, 60_000);
});

describe('toolResultText', () => {
  it('text blocks as is, other blocks described, structuredContent when there is no content', () => {
    expect(toolResultText({ content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] })).toBe('a\nb');
    expect(toolResultText({ content: [{ type: 'image', mimeType: 'image/png', data: 'AAAA' }] })).toBe('[image image/png, 3 bytes]');
    expect(toolResultText({ content: [{ type: 'resource_link', uri: 'demo://r/1', name: 'r1' }] })).toBe('[resource link demo://r/1 (r1)]');
    expect(toolResultText({ content: [{ type: 'resource', resource: { uri: 'demo://r/2', text: 'inside' } }] })).toBe('inside');
    expect(toolResultText({ content: [], structuredContent: { sum: 5 } })).toBe('{"sum":5}');
  });
});
