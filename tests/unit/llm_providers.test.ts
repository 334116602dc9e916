/**
 * The LLM wire formats (src/llm/openai.ts, anthropic.ts, ollama.ts) and the
 * provider settings (src/llm/providers.ts), over real HTTP against the fake
 * LLM (tests/helpers/fake_llm.ts): the tool list in each provider's shape,
 * the auth headers, a tool call read back, its result fed back in the shape
 * the API checks, and the errors a person sees (never with the key in them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient, McpTool } from '../../src/llm/chat';
import { LlmApiError } from '../../src/llm/http';
import { chatClient, llmSettings, type LlmSettings } from '../../src/llm/providers';
import { ModuleFailure } from '../../src/errors';
import { answerWithToolResults, startFakeLlm, type FakeLlm } from '../helpers/fake_llm';

const KEY = 'sk-test-0123456789abcdef-SECRET';

/** Tools as server-everything lists them (inputSchema with $schema, as zod-to-json-schema writes it). */
const TOOLS: McpTool[] = [
  {
    name: 'echo',
    description: 'Echoes back the input string',
    inputSchema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { message: { type: 'string', description: 'Message to echo' } },
      required: ['message'],
    },
  },
  { name: 'no-args', title: 'Takes nothing', inputSchema: { type: 'object' } },
];

let fake: FakeLlm;
let refusedUrl: string;

beforeAll(async () => {
  fake = await startFakeLlm({ apiKey: KEY });
  // A port that was just free: nothing listens there any more.
  const gone = await startFakeLlm();
  refusedUrl = gone.url;
  await gone.close();
});
afterAll(() => fake.close());

let models = 0;
/** A fresh model name per test, so scripts and recorded requests do not mix. */
const model = (wire: string) => `${wire}-model-${++models}`;

async function client(provider: string, m: string, extra: Record<string, unknown> = {}): Promise<ChatClient> {
  const base = provider === 'anthropic' || provider === 'ollama' || provider === 'azure' ? fake.url : `${fake.url}/v1`;
  const settings = llmSettings({ llm_provider: provider, llm_model: m, llm_api_key: KEY, llm_base_url: base, llm_timeout: 5, ...extra }, {});
  return chatClient(settings, { prompt: 'Say hi through echo', systemPrompt: 'Be brief.', tools: TOOLS });
}

/** One round trip: a tool call, answered, then the final answer. */
async function roundTrip(c: ChatClient, resultText = 'Echo: hi', isError = false) {
  const first = await c.next();
  c.answerToolCalls(first.toolCalls.map((call) => ({ call, text: resultText, isError })));
  const second = await c.next();
  return { first, second };
}

describe('OpenAI chat completions (openai, vllm, openrouter)', () => {
  for (const provider of ['openai', 'vllm', 'openrouter']) {
    it(`${provider}: offers the tools as functions, reads the call, feeds the result back by tool_call_id`, async () => {
      const m = model(provider);
      fake.script(m, [{ toolCalls: [{ name: 'echo', arguments: { message: 'hi' } }] }, answerWithToolResults()]);
      const { first, second } = await roundTrip(await client(provider, m));

      expect(first.toolCalls).toEqual([{ id: expect.stringMatching(/^call_/), name: 'echo', arguments: { message: 'hi' } }]);
      expect(first.stopReason).toBe('tool_calls');
      expect(second).toEqual({ text: 'The tool said: Echo: hi', toolCalls: [], stopReason: 'stop' });

      const [r1, r2] = fake.requestsFor(m);
      expect(r1.url).toBe('/v1/chat/completions');
      expect(r1.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(r1.body.tools).toEqual([
        {
          type: 'function',
          function: {
            name: 'echo',
            description: 'Echoes back the input string',
            parameters: { type: 'object', properties: { message: { type: 'string', description: 'Message to echo' } }, required: ['message'] },
          },
        },
        { type: 'function', function: { name: 'no-args', description: 'Takes nothing', parameters: { type: 'object', properties: {} } } },
      ]);
      expect(r1.body.messages).toEqual([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hi through echo' },
      ]);
      // The second request replays the assistant's call (arguments as a JSON string) and answers it.
      const callId = first.toolCalls[0].id;
      expect(r2.body.messages.slice(2)).toEqual([
        { role: 'assistant', content: null, tool_calls: [{ id: callId, type: 'function', function: { name: 'echo', arguments: '{"message":"hi"}' } }] },
        { role: 'tool', tool_call_id: callId, content: 'Echo: hi' },
      ]);
      expect(r2.toolResults).toEqual([{ id: callId, text: 'Echo: hi', isError: false }]);
    });
  }

  it('marks a failed tool result in the text (the format has no error flag)', async () => {
    const m = model('openai');
    fake.script(m, [{ toolCalls: [{ name: 'echo', arguments: {} }] }, answerWithToolResults()]);
    await roundTrip(await client('openai', m), 'missing message', true);
    expect(fake.requestsFor(m)[1].toolResults[0].text).toBe('Error: missing message');
  });

  it('answers several calls of one turn, each by its own id', async () => {
    const m = model('openai');
    fake.script(m, [{ toolCalls: [{ name: 'echo', arguments: { message: 'a' } }, { name: 'echo', arguments: { message: 'b' } }] }, answerWithToolResults()]);
    const c = await client('openai', m);
    const first = await c.next();
    c.answerToolCalls(first.toolCalls.map((call) => ({ call, text: `Echo: ${call.arguments.message}`, isError: false })));
    const second = await c.next();
    expect(second.text).toBe('The tool said: Echo: a | Echo: b');
    expect(new Set(first.toolCalls.map((t) => t.id)).size).toBe(2);
  });

  it('reports arguments that are not JSON as an argumentsError instead of guessing', async () => {
    const m = model('openai');
    const body = {
      choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'echo', arguments: '{"message": hi' } }] } }],
    };
    fake.script(m, [{ raw: JSON.stringify(body), contentType: 'application/json' }]);
    const turn = await (await client('openai', m)).next();
    expect(turn.toolCalls[0].name).toBe('echo');
    expect(turn.toolCalls[0].arguments).toEqual({});
    expect(turn.toolCalls[0].argumentsError).toMatch(/not valid JSON.*\{"message": hi/);
  });

  it('leaves out an empty tools list (the API rejects [])', async () => {
    const m = model('openai');
    fake.script(m, [{ answer: 'no tools here' }]);
    const settings = llmSettings({ llm_provider: 'openai', llm_model: m, llm_api_key: KEY, llm_base_url: `${fake.url}/v1/`, llm_timeout: 5 }, {});
    const turn = await (await chatClient(settings, { prompt: 'hi', tools: [] })).next();
    expect(turn.text).toBe('no tools here');
    const [r] = fake.requestsFor(m);
    expect(r.url).toBe('/v1/chat/completions'); // the trailing slash of the base URL is not doubled
    expect('tools' in r.body).toBe(false);
    expect(r.body.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });
});

describe('Azure OpenAI', () => {
  it('puts the deployment in the path, api-version in the query and the key in api-key (never Authorization)', async () => {
    const m = model('azure');
    fake.script(m, [{ toolCalls: [{ name: 'echo', arguments: { message: 'hi' } }] }, answerWithToolResults()]);
    const { second } = await roundTrip(await client('azure', m, { llm_api_version: '2024-10-21' }));
    expect(second.text).toBe('The tool said: Echo: hi');
    const [r1] = fake.requestsFor(m);
    expect(r1.url).toBe(`/openai/deployments/${m}/chat/completions?api-version=2024-10-21`);
    expect(r1.headers['api-key']).toBe(KEY);
    expect(r1.headers.authorization).toBeUndefined();
    expect(r1.url).not.toContain(KEY);
    expect(r1.body.tools[0].function.name).toBe('echo');
  });

  it('needs llm_base_url', () => {
    expect(() => llmSettings({ llm_provider: 'azure', llm_model: 'd', llm_api_key: KEY }, {})).toThrow(/llm_provider=azure needs llm_base_url/);
  });
});

describe('Anthropic messages', () => {
  it('offers input_schema tools, sends x-api-key and anthropic-version, answers tool_use with tool_result blocks', async () => {
    const m = model('anthropic');
    fake.script(m, [{ text: 'Let me echo.', toolCalls: [{ name: 'echo', arguments: { message: 'hi' } }] }, answerWithToolResults()]);
    const { first, second } = await roundTrip(await client('anthropic', m), 'Echo: hi');

    expect(first).toEqual({ text: 'Let me echo.', toolCalls: [{ id: expect.stringMatching(/^toolu_/), name: 'echo', arguments: { message: 'hi' } }], stopReason: 'tool_use' });
    expect(second).toEqual({ text: 'The tool said: Echo: hi', toolCalls: [], stopReason: 'end_turn' });

    const [r1, r2] = fake.requestsFor(m);
    expect(r1.url).toBe('/v1/messages');
    expect(r1.headers['x-api-key']).toBe(KEY);
    expect(r1.headers['anthropic-version']).toBe('2023-06-01');
    expect(r1.headers.authorization).toBeUndefined();
    expect(r1.body.system).toBe('Be brief.');
    expect(r1.body.max_tokens).toBeGreaterThan(0);
    expect(r1.body.messages).toEqual([{ role: 'user', content: 'Say hi through echo' }]);
    expect(r1.body.tools).toEqual([
      {
        name: 'echo',
        description: 'Echoes back the input string',
        input_schema: { type: 'object', properties: { message: { type: 'string', description: 'Message to echo' } }, required: ['message'] },
      },
      { name: 'no-args', description: 'Takes nothing', input_schema: { type: 'object', properties: {} } },
    ]);
    // The assistant's blocks are replayed unchanged, then one user message answers the tool_use.
    const id = first.toolCalls[0].id;
    expect(r2.body.messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'text', text: 'Let me echo.' }, { type: 'tool_use', id, name: 'echo', input: { message: 'hi' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'Echo: hi' }] },
    ]);
  });

  it('flags a failed tool result with is_error', async () => {
    const m = model('anthropic');
    fake.script(m, [{ toolCalls: [{ name: 'echo', arguments: {} }] }, answerWithToolResults()]);
    await roundTrip(await client('anthropic', m), 'missing message', true);
    expect(fake.requestsFor(m)[1].toolResults).toEqual([{ id: expect.any(String), text: 'missing message', isError: true }]);
  });

  it('accepts a base URL that already ends in /v1', async () => {
    const m = model('anthropic');
    fake.script(m, [{ answer: 'ok' }]);
    const settings = llmSettings({ llm_provider: 'anthropic', llm_model: m, llm_api_key: KEY, llm_base_url: `${fake.url}/v1`, llm_timeout: 5 }, {});
    expect((await (await chatClient(settings, { prompt: 'x', tools: TOOLS })).next()).text).toBe('ok');
    expect(fake.requestsFor(m)[0].url).toBe('/v1/messages');
  });
});

describe('Ollama /api/chat', () => {
  it('offers function tools, reads object arguments, answers with tool_name messages, stream false', async () => {
    const m = model('ollama');
    fake.script(m, [{ toolCalls: [{ name: 'echo', arguments: { message: 'hi' } }] }, answerWithToolResults()]);
    const settings = llmSettings({ llm_provider: 'ollama', llm_model: m, llm_base_url: fake.url, llm_timeout: 5, llm_api_key: KEY }, {});
    const { first, second } = await roundTrip(await chatClient(settings, { prompt: 'Say hi', tools: TOOLS }));

    expect(first.toolCalls).toEqual([{ id: expect.any(String), name: 'echo', arguments: { message: 'hi' } }]);
    expect(second.text).toBe('The tool said: Echo: hi');
    const [r1, r2] = fake.requestsFor(m);
    expect(r1.url).toBe('/api/chat');
    expect(r1.body.stream).toBe(false);
    expect(r1.body.tools[0]).toEqual({
      type: 'function',
      function: { name: 'echo', description: 'Echoes back the input string', parameters: { type: 'object', properties: { message: { type: 'string', description: 'Message to echo' } }, required: ['message'] } },
    });
    expect(r2.body.messages.slice(1)).toEqual([
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'echo', arguments: { message: 'hi' } } }] },
      { role: 'tool', tool_name: 'echo', content: 'Echo: hi' },
    ]);
  });

  it('needs no key: a local Ollama gets no Authorization header', async () => {
    const open = await startFakeLlm();
    try {
      const m = model('ollama');
      open.script(m, [{ answer: 'hello' }]);
      const settings = llmSettings({ llm_provider: 'ollama', llm_model: m, llm_base_url: open.url, llm_timeout: 5 }, {});
      expect(settings.apiKey).toBeUndefined();
      expect((await (await chatClient(settings, { prompt: 'x', tools: TOOLS })).next()).text).toBe('hello');
      expect(open.requests[0].headers.authorization).toBeUndefined();
    } finally {
      await open.close();
    }
  });

  it('defaults to http://localhost:11434', () => {
    expect(llmSettings({ llm_provider: 'ollama', llm_model: 'x' }, {}).baseUrl).toBe('http://localhost:11434');
  });
});

describe('settings', () => {
  it('default base URLs per provider', () => {
    const base = (provider: string) => llmSettings({ llm_provider: provider, llm_model: 'm', llm_api_key: 'k' }, {}).baseUrl;
    expect(base('openai')).toBe('https://api.openai.com/v1');
    expect(base('anthropic')).toBe('https://api.anthropic.com');
    expect(base('vllm')).toBe('http://localhost:8000/v1');
    expect(base('openrouter')).toBe('https://openrouter.ai/api/v1');
  });

  it('takes the key from the provider\'s environment variable when llm_api_key is not given', () => {
    const env = { OPENAI_API_KEY: 'from-openai-env', ANTHROPIC_API_KEY: 'from-anthropic-env', OPENROUTER_API_KEY: 'or', AZURE_OPENAI_API_KEY: 'az' };
    expect(llmSettings({ llm_provider: 'openai', llm_model: 'm' }, env).apiKey).toBe('from-openai-env');
    expect(llmSettings({ llm_provider: 'anthropic', llm_model: 'm' }, env).apiKey).toBe('from-anthropic-env');
    expect(llmSettings({ llm_provider: 'openrouter', llm_model: 'm' }, env).apiKey).toBe('or');
    expect(llmSettings({ llm_provider: 'azure', llm_model: 'm', llm_base_url: 'https://r.openai.azure.com' }, env).apiKey).toBe('az');
    // The option wins over the environment.
    expect(llmSettings({ llm_provider: 'openai', llm_model: 'm', llm_api_key: 'opt' }, env).apiKey).toBe('opt');
  });

  it('fails before any request when a hosted provider has no key, naming the variable', () => {
    expect(() => llmSettings({ llm_provider: 'openai', llm_model: 'm' }, {})).toThrow(/needs an API key: set llm_api_key .* OPENAI_API_KEY/);
    expect(() => llmSettings({ llm_provider: 'anthropic', llm_model: 'm' }, {})).toThrow(/ANTHROPIC_API_KEY/);
    expect(llmSettings({ llm_provider: 'vllm', llm_model: 'm' }, {}).apiKey).toBeUndefined();
  });

  it('refuses a base URL that is not http(s)', () => {
    expect(() => llmSettings({ llm_provider: 'ollama', llm_model: 'm', llm_base_url: 'localhost:11434' }, {})).toThrow(ModuleFailure);
    expect(() => llmSettings({ llm_provider: 'ollama', llm_model: 'm', llm_base_url: 'ftp://x' }, {})).toThrow(/must be an http:\/\/ or https:\/\/ URL/);
  });

  it('llm_timeout is seconds', () => {
    expect((llmSettings({ llm_provider: 'vllm', llm_model: 'm', llm_timeout: 7 }, {}) as LlmSettings).timeoutMs).toBe(7000);
  });
});

describe('errors a person can act on, without the key', () => {
  const cases: [string, string][] = [
    ['openai', 'Incorrect API key provided'],
    ['azure', 'Access denied due to invalid subscription key'],
    ['anthropic', 'invalid x-api-key'],
    ['ollama', 'Incorrect API key provided'],
  ];
  for (const [provider, apiMessage] of cases) {
    it(`${provider}: HTTP 401 says the status and the API's message, with the echoed key masked`, async () => {
      const m = model(provider);
      fake.script(m, [{ answer: 'never' }]);
      const wrongKey = `${KEY}-wrong`;
      const c = await client(provider, m, { llm_api_key: wrongKey });
      const err = await c.next().then(
        () => undefined,
        (e) => e,
      );
      expect(err).toBeInstanceOf(LlmApiError);
      expect(err.message).toMatch(/HTTP 401 Unauthorized/);
      expect(err.message).toContain(apiMessage);
      expect(err.message).toContain(`${fake.url}/`);
      expect(err.message).toContain('********');
      // The fake echoed the wrong key in its message; the client must not pass it on.
      expect(err.message).not.toContain(wrongKey);
      expect(err.message).not.toContain(KEY);
      expect(err.details).toEqual({ http_status: 401 });
      // The fake really got the wrong key (so the masking above was needed).
      const r = fake.requestsFor(m)[0];
      expect(JSON.stringify(r.headers)).toContain(wrongKey);
    });
  }

  it('HTTP 500 with a non-JSON body shows the body', async () => {
    const m = model('openai');
    fake.script(m, [{ raw: 'upstream exploded', status: 502 }]);
    await expect((await client('openai', m)).next()).rejects.toThrow(/answered HTTP 502 Bad Gateway .*: upstream exploded/);
  });

  it('a 200 that is not JSON is an error, not a crash', async () => {
    const m = model('anthropic');
    fake.script(m, [{ raw: '<html>proxy login</html>' }]);
    await expect((await client('anthropic', m)).next()).rejects.toThrow(/answered HTTP 200 OK with a body that is not JSON .*<html>proxy login/);
  });

  it('an unknown model: the API says so', async () => {
    await expect((await client('openai', 'no-such-model')).next()).rejects.toThrow(/HTTP 404 Not Found .*model 'no-such-model' not found/);
    await expect((await client('ollama', 'no-such-model')).next()).rejects.toThrow(/HTTP 404 Not Found .*model 'no-such-model' not found/);
  });

  it('nothing listening: "could not connect to <url>: <cause>"', async () => {
    const settings = llmSettings({ llm_provider: 'openai', llm_model: 'm', llm_api_key: KEY, llm_base_url: `${refusedUrl}/v1`, llm_timeout: 5 }, {});
    const err = await (await chatClient(settings, { prompt: 'x', tools: TOOLS })).next().then(
      () => undefined,
      (e) => e,
    );
    expect(err).toBeInstanceOf(LlmApiError);
    expect(err.message).toBe(`could not connect to ${refusedUrl}/v1/chat/completions: connect ECONNREFUSED ${refusedUrl.replace('http://', '')}`);
  });

  it('an API slower than llm_timeout: the request is abandoned with a clear message', async () => {
    const m = model('ollama');
    fake.script(m, [{ delayMs: 3000, then: { answer: 'too late' } }]);
    const settings = llmSettings({ llm_provider: 'ollama', llm_model: m, llm_base_url: fake.url, llm_timeout: 1, llm_api_key: KEY }, {});
    const started = Date.now();
    await expect((await chatClient(settings, { prompt: 'x', tools: TOOLS })).next()).rejects.toThrow(`the ollama API at ${fake.url}/api/chat did not answer within 1 s (llm_timeout)`);
    expect(Date.now() - started).toBeLessThan(2500);
  });
});
