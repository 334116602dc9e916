/**
 * mcp_test_llm_integration end to end: real ansible-playbook, the installed
 * collection, server-everything over stdio, and the fake LLM
 * (tests/helpers/fake_llm.ts, a real HTTP server) scripted to call a tool and
 * then answer with the tool's result. connection_reuse: false comes from the
 * harness's module_defaults unless a test says otherwise.
 */
import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { answerWithToolResults, startFakeLlm, type FakeLlm } from '../helpers/fake_llm';
import { everythingServer, outputOf, runPlaybook, scratchDir } from './harness';

const LLM = 'tosin2013.mcp_audit.mcp_test_llm_integration';
const BROKER = 'tosin2013.mcp_audit.mcp_broker';
const KEY = 'sk-e2e-4f1c9a7d2b8e-correct';
/** The AWS credentials the fake verifies Bedrock's SigV4 signatures with. */
const AWS = { accessKeyId: 'AKIAE2EFAKE000000001', secretAccessKey: 'e2e/Fake+Secret+Access+Key/4f1c9a7d2b8e', sessionToken: 'E2eFakeSessionToken//4f1c9a7d2b8e==', region: 'eu-central-1' };
const AWS_ENV = { AWS_ACCESS_KEY_ID: AWS.accessKeyId, AWS_SECRET_ACCESS_KEY: AWS.secretAccessKey, AWS_SESSION_TOKEN: AWS.sessionToken, AWS_REGION: AWS.region };
/** A service account whose JWTs the fake's /token endpoint accepts. */
const SERVICE_ACCOUNT = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

let fake: FakeLlm;
let closedUrl: string;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeLlm({ apiKey: KEY, aws: AWS, google: { publicKey: SERVICE_ACCOUNT.publicKey } });
  const gone = await startFakeLlm();
  closedUrl = gone.url;
  await gone.close();
  dataDir = scratchDir();
});
afterAll(async () => {
  await fake.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The options that point a task at the fake for a wire format. */
const llm = (provider: 'openai' | 'anthropic' | 'ollama' | 'azure', model: string, extra: Record<string, unknown> = {}) => ({
  ...everythingServer,
  llm_provider: provider,
  llm_model: model,
  llm_base_url: provider === 'openai' ? `${fake.url}/v1` : fake.url,
  llm_api_key: KEY,
  llm_timeout: 20,
  ...extra,
});

describe('a model that uses the tools', () => {
  test('openai, anthropic and ollama formats: the expected tool is called on the server and its result is in the answer', async () => {
    fake.script('e2e-openai-pass', [{ toolCalls: [{ name: 'echo', arguments: { message: 'hi' } }] }, answerWithToolResults()]);
    fake.script('e2e-anthropic-pass', [{ toolCalls: [{ name: 'get-sum', arguments: { a: 2, b: 3 } }] }, answerWithToolResults('Done.')]);
    fake.script('e2e-ollama-pass', [{ toolCalls: [{ name: 'echo', arguments: { message: 'from ollama' } }] }, answerWithToolResults()]);
    const run = await runPlaybook([
      {
        name: 'openai',
        [LLM]: { ...llm('openai', 'e2e-openai-pass'), test_prompt: 'Echo hi', system_prompt: 'Use tools.', expected_tool_calls: ['echo'], expected_answer: 'ECHO: HI' },
      },
      {
        name: 'anthropic',
        [LLM]: { ...llm('anthropic', 'e2e-anthropic-pass'), test_prompt: 'What is 2 + 3?', expected_tool_calls: ['get-sum'], validate_result: true, expected_answer_regex: 'sum of 2 and 3 is 5' },
      },
      {
        name: 'ollama',
        [LLM]: { ...llm('ollama', 'e2e-ollama-pass'), test_prompt: 'Echo something', expected_tool_calls: ['echo'], expected_answer: 'from ollama' },
      },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);

    const openai = run.task('openai');
    expect(openai.status, outputOf(run)).toBe('ok');
    expect(openai.result).toMatchObject({
      changed: false, // echo is annotated readOnlyHint: true
      success: true,
      status: 'passed',
      test_passed: true,
      llm_provider: 'openai',
      llm_model: 'e2e-openai-pass',
      llm_api_key_source: 'llm_api_key',
      tools_called: [{ name: 'echo', arguments: { message: 'hi' }, is_error: false, reached_server: true, result: 'Echo: hi', iteration: 1 }],
      tool_calls_made: ['echo'],
      final_answer: 'The tool said: Echo: hi',
      iterations: 2,
      total_iterations: 2,
      validation: { valid: true, matches_expected: true, expected_tools_called: true, answer_matches: true, errors: [], warnings: [] },
      connection: { pooled: false, reused: false },
    });
    expect(openai.result.msg).toBeUndefined();
    expect(openai.result.tools_available).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    expect(openai.result.execution_time).toBeGreaterThan(0);
    expect(openai.result.invocation.module_args.llm_api_key).toBe('VALUE_SPECIFIED_IN_NO_LOG_PARAMETER');

    expect(run.task('anthropic').result).toMatchObject({
      status: 'passed',
      test_passed: true,
      tools_called: [{ name: 'get-sum', arguments: { a: 2, b: 3 }, is_error: false, result: 'The sum of 2 and 3 is 5.' }],
      final_answer: 'Done. The sum of 2 and 3 is 5.',
    });
    expect(run.task('ollama').result).toMatchObject({
      status: 'passed',
      final_answer: 'The tool said: Echo: from ollama',
    });

    // What the fake LLM got: the server's tools in each format, the auth headers, the tool result fed back.
    const [o1, o2] = fake.requestsFor('e2e-openai-pass');
    expect(o1.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(o1.toolNames).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    expect(o1.body.tools.find((t: any) => t.function.name === 'echo').function.parameters).toMatchObject({ type: 'object', properties: { message: { type: 'string' } }, required: ['message'] });
    expect(o1.body.messages[0]).toEqual({ role: 'system', content: 'Use tools.' });
    expect(o2.toolResults.map((r) => r.text)).toEqual(['Echo: hi']);

    const [a1, a2] = fake.requestsFor('e2e-anthropic-pass');
    expect(a1.headers['x-api-key']).toBe(KEY);
    expect(a1.headers['anthropic-version']).toBe('2023-06-01');
    expect(a1.body.tools.find((t: any) => t.name === 'get-sum').input_schema).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } });
    expect(a2.toolResults).toEqual([{ id: expect.any(String), text: 'The sum of 2 and 3 is 5.', isError: false }]);

    const [l1, l2] = fake.requestsFor('e2e-ollama-pass');
    expect(l1.url).toBe('/api/chat');
    expect(l1.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(l2.toolResults.map((r) => r.text)).toEqual(['Echo: from ollama']);
    expect(run.leftovers).toEqual([]);
  });

  test('with connection_reuse the tool calls run on the pooled session the tool list came from', async () => {
    fake.script('e2e-pooled', [{ toolCalls: [{ name: 'echo', arguments: { message: 'pooled' } }] }, answerWithToolResults()]);
    const run = await runPlaybook(
      [
        { name: 'pooled', [LLM]: { ...llm('openai', 'e2e-pooled'), test_prompt: 'Echo pooled', expected_tool_calls: ['echo'] } },
        { name: 'stop the broker', [BROKER]: { state: 'stopped' } },
      ],
      { moduleDefaults: { connection_reuse: true } },
    );
    expect(run.exitCode, outputOf(run)).toBe(0);
    const r = run.task('pooled').result;
    expect(r.final_answer).toBe('The tool said: Echo: pooled');
    // tools/list started the server; the call found the session warm.
    expect(r.connection).toMatchObject({ pooled: true, reused: true, attempts: 0 });
  });
});

describe('a test that does not pass fails the task with a clear msg', () => {
  test('expected tool not called, wrong answer, no final answer', async () => {
    fake.script('e2e-no-tools', [{ answer: 'I would rather not use tools.' }]);
    fake.script('e2e-wrong-tool', [{ toolCalls: [{ name: 'echo', arguments: { message: '7' } }] }, answerWithToolResults()]);
    fake.script('e2e-loops', [{ toolCalls: [{ name: 'echo', arguments: { message: 'again' } }] }]);
    const run = await runPlaybook([
      { name: 'no tools', ignore_errors: true, [LLM]: { ...llm('openai', 'e2e-no-tools'), test_prompt: 'Add 2 and 3', expected_tool_calls: ['get-sum'] } },
      {
        name: 'wrong tool',
        ignore_errors: true,
        [LLM]: { ...llm('anthropic', 'e2e-wrong-tool'), test_prompt: 'Add 2 and 3', expected_tool_calls: ['get-sum'], expected_answer: '5' },
      },
      { name: 'loops', ignore_errors: true, [LLM]: { ...llm('ollama', 'e2e-loops'), test_prompt: 'Echo forever', max_iterations: 3 } },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);

    const none = run.task('no tools');
    expect(none.status).toBe('failed');
    // (Ansible keeps `failed` out of the recorded result; the status says it.)
    expect(none.result).toMatchObject({
      success: true,
      status: 'failed',
      test_passed: false,
      msg: "LLM integration test failed: expected tool call 'get-sum' not made; the model called no tools",
      tools_called: [],
      final_answer: 'I would rather not use tools.',
      validation: { matches_expected: false, expected_tools_called: false },
    });

    const wrong = run.task('wrong tool');
    expect(wrong.status).toBe('failed');
    expect(wrong.result.msg).toBe(
      "LLM integration test failed: expected tool call 'get-sum' not made; the model called: echo; " +
        'the final answer does not contain "5" (case-insensitive): "The tool said: Echo: 7"',
    );
    expect(wrong.result.tool_calls_made).toEqual(['echo']);

    const loops = run.task('loops');
    expect(loops.status).toBe('failed');
    expect(loops.result.msg).toBe('LLM integration test failed: no final answer: the model was still calling tools after max_iterations (3) LLM requests');
    expect(loops.result).toMatchObject({ iterations: 3, final_answer: null });
    expect(loops.result.tools_called).toHaveLength(3);
    expect(fake.requestsFor('e2e-loops')).toHaveLength(3);
    expect(run.leftovers).toEqual([]);
  });
});

describe('LLM API failures', () => {
  test('HTTP 401: the status and the API message, and the key nowhere in the -vvv output', async () => {
    const optionKey = `sk-wrong-option-${Date.now()}`;
    const envKey = `sk-wrong-env-${Date.now()}`;
    const azureKey = `azure-wrong-env-${Date.now()}`;
    for (const m of ['e2e-401-openai', 'e2e-401-anthropic', 'e2e-401-azure']) fake.script(m, [{ answer: 'unreachable' }]);
    const run = await runPlaybook(
      [
        { name: 'openai wrong key', ignore_errors: true, [LLM]: { ...llm('openai', 'e2e-401-openai'), llm_api_key: optionKey, test_prompt: 'hi' } },
        // Keys from the environment are no option: the module must mask them itself.
        { name: 'anthropic wrong env key', ignore_errors: true, [LLM]: { ...llm('anthropic', 'e2e-401-anthropic'), llm_api_key: null, test_prompt: 'hi' } },
        { name: 'azure wrong env key', ignore_errors: true, [LLM]: { ...llm('azure', 'e2e-401-azure'), llm_api_key: null, test_prompt: 'hi' } },
      ],
      { verbosity: 3, env: { ANTHROPIC_API_KEY: envKey, AZURE_OPENAI_API_KEY: azureKey } },
    );
    expect(run.exitCode, outputOf(run)).toBe(0);

    const openai = run.task('openai wrong key');
    expect(openai.status).toBe('failed');
    expect(openai.result).toMatchObject({ success: false, status: 'failed', test_passed: false, http_status: 401, llm_api_key_source: 'llm_api_key' });
    expect(openai.result.msg).toMatch(/^the openai API answered HTTP 401 Unauthorized \(POST http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions\): Incorrect API key provided: \*+\./);

    const anthropic = run.task('anthropic wrong env key');
    expect(anthropic.status).toBe('failed');
    expect(anthropic.result.llm_api_key_source).toBe('ANTHROPIC_API_KEY');
    expect(anthropic.result.msg).toMatch(/^the anthropic API answered HTTP 401 Unauthorized \(POST http:\/\/127\.0\.0\.1:\d+\/v1\/messages\): invalid x-api-key: \*+$/);

    const azure = run.task('azure wrong env key');
    expect(azure.status).toBe('failed');
    expect(azure.result.msg).toMatch(/^the azure API answered HTTP 401 Unauthorized \(POST http:\/\/127\.0\.0\.1:\d+\/openai\/deployments\/e2e-401-azure\/chat\/completions\?api-version=2024-10-21\): Access denied due to invalid subscription key \*+\./);

    // The fake really got each key and echoed it back in its error...
    expect(fake.requestsFor('e2e-401-openai')[0].headers.authorization).toBe(`Bearer ${optionKey}`);
    expect(fake.requestsFor('e2e-401-anthropic')[0].headers['x-api-key']).toBe(envKey);
    expect(fake.requestsFor('e2e-401-azure')[0].headers['api-key']).toBe(azureKey);
    // ...and none of them reached the output, which is really verbose (-vvv prints the results).
    expect(run.stdout).toContain('Incorrect API key provided');
    for (const key of [optionKey, envKey, azureKey]) {
      expect(run.stdout).not.toContain(key);
      expect(run.stderr).not.toContain(key);
      expect(JSON.stringify(run.results)).not.toContain(key);
    }
    expect(run.leftovers).toEqual([]);
  });

  test('unreachable API, missing key: clear messages; nothing is sent without a key', async () => {
    const before = fake.requests.length;
    const run = await runPlaybook(
      [
        { name: 'unreachable', ignore_errors: true, [LLM]: { ...llm('openai', 'e2e-unreachable'), llm_base_url: `${closedUrl}/v1`, test_prompt: 'hi' } },
        { name: 'no key', ignore_errors: true, [LLM]: { ...llm('openai', 'e2e-no-key'), llm_api_key: null, test_prompt: 'hi' } },
      ],
      { env: { OPENAI_API_KEY: '' } },
    );
    expect(run.exitCode, outputOf(run)).toBe(0);
    const port = closedUrl.split(':').pop();
    expect(run.task('unreachable').status).toBe('failed');
    expect(run.task('unreachable').result).toMatchObject({
      success: false,
      msg: `could not connect to ${closedUrl}/v1/chat/completions: connect ECONNREFUSED 127.0.0.1:${port}`,
      tools_called: [],
      iterations: 1,
    });
    expect(run.task('no key').status).toBe('failed');
    expect(run.task('no key').result.msg).toBe('llm_provider=openai needs an API key: set llm_api_key (from Ansible Vault) or the OPENAI_API_KEY environment variable');
    expect(fake.requests.length).toBe(before);
    expect(run.leftovers).toEqual([]);
  });
});

describe('bedrock, vertex_ai and cohere (the providers 1.1.x reached through LiteLLM)', () => {
  /** Each provider pointed at the fake, credentials from the environment unless a test gives llm_api_key. */
  const cloud = (provider: 'bedrock' | 'vertex_ai' | 'cohere', model: string, extra: Record<string, unknown> = {}) => ({
    ...everythingServer,
    llm_provider: provider,
    llm_model: model,
    llm_base_url: fake.url,
    llm_timeout: 20,
    ...extra,
  });

  test('each drives server-everything through a whole tool-calling loop: SigV4 from the AWS variables, a service account key, a Cohere key', async () => {
    const keyFile = join(dataDir, 'vertex-sa.json');
    writeFileSync(
      keyFile,
      JSON.stringify({ type: 'service_account', project_id: 'e2e-project', private_key_id: 'e2e', private_key: SERVICE_ACCOUNT.privateKey, client_email: 'e2e@e2e-project.iam.gserviceaccount.com', token_uri: `${fake.url}/token` }),
    );
    fake.script('anthropic.claude-e2e-v1:0', [{ toolCalls: [{ name: 'get-sum', arguments: { a: 20, b: 22 } }] }, answerWithToolResults('Bedrock says:')]);
    fake.script('gemini-e2e', [{ toolCalls: [{ name: 'echo', arguments: { message: 'from vertex' } }] }, answerWithToolResults('Gemini says:')]);
    // Cohere refuses '-' in tool names: the model sees get-sum as get_sum.
    fake.script('command-e2e', [{ toolCalls: [{ name: 'get_sum', arguments: { a: 1, b: 2 } }] }, answerWithToolResults('Cohere says:')]);
    const tokensBefore = fake.tokenRequests.length;
    const run = await runPlaybook(
      [
        {
          name: 'bedrock',
          [LLM]: { ...cloud('bedrock', 'bedrock/anthropic.claude-e2e-v1:0'), test_prompt: 'What is 20 + 22?', system_prompt: 'Use tools.', expected_tool_calls: ['get-sum'], expected_answer: '42' },
        },
        { name: 'vertex_ai', [LLM]: { ...cloud('vertex_ai', 'vertex_ai/gemini-e2e', { llm_region: 'europe-west4' }), test_prompt: 'Echo it', expected_tool_calls: ['echo'], expected_answer: 'from vertex' } },
        { name: 'cohere', [LLM]: { ...cloud('cohere', 'command-e2e', { llm_api_key: KEY }), test_prompt: 'What is 1 + 2?', expected_tool_calls: ['get-sum'], expected_answer_regex: 'sum of 1 and 2 is 3' } },
      ],
      { verbosity: 3, env: { ...AWS_ENV, GOOGLE_APPLICATION_CREDENTIALS: keyFile } },
    );
    expect(run.exitCode, outputOf(run)).toBe(0);

    expect(run.task('bedrock').result).toMatchObject({
      status: 'passed',
      test_passed: true,
      llm_provider: 'bedrock',
      llm_model: 'bedrock/anthropic.claude-e2e-v1:0',
      llm_api_key_source: 'AWS_ACCESS_KEY_ID',
      tools_called: [{ name: 'get-sum', arguments: { a: 20, b: 22 }, is_error: false, reached_server: true, result: 'The sum of 20 and 22 is 42.', iteration: 1 }],
      final_answer: 'Bedrock says: The sum of 20 and 22 is 42.',
      iterations: 2,
      validation: { valid: true, matches_expected: true, errors: [], warnings: [] },
    });
    expect(run.task('vertex_ai').result).toMatchObject({
      status: 'passed',
      llm_api_key_source: 'GOOGLE_APPLICATION_CREDENTIALS',
      tools_called: [{ name: 'echo', arguments: { message: 'from vertex' }, reached_server: true, result: 'Echo: from vertex' }],
      final_answer: 'Gemini says: Echo: from vertex',
    });
    expect(run.task('cohere').result).toMatchObject({
      status: 'passed',
      llm_api_key_source: 'llm_api_key',
      tools_called: [{ name: 'get-sum', arguments: { a: 1, b: 2 }, reached_server: true, result: 'The sum of 1 and 2 is 3.' }],
      tool_calls_made: ['get-sum'],
      final_answer: 'Cohere says: The sum of 1 and 2 is 3.',
    });

    // What went over the wire: two SigV4-signed Converse requests for the region of AWS_REGION (the fake verified each signature).
    const bedrock = fake.requestsFor('anthropic.claude-e2e-v1:0');
    expect(bedrock.map((r) => r.url)).toEqual(['/model/anthropic.claude-e2e-v1%3A0/converse', '/model/anthropic.claude-e2e-v1%3A0/converse']);
    for (const r of bedrock) expect(r.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${AWS.accessKeyId}/\\d{8}/eu-central-1/bedrock/aws4_request, `));
    expect(bedrock[0].toolNames).toEqual(expect.arrayContaining(['echo', 'get-sum']));
    expect(bedrock[0].body.system).toEqual([{ text: 'Use tools.' }]);
    expect(bedrock[1].toolResults.map((r) => r.text)).toEqual(['The sum of 20 and 22 is 42.']);
    // One token for the whole Vertex AI conversation, from the service account's JWT.
    expect(fake.tokenRequests.slice(tokensBefore).map((t) => t.grant_type)).toEqual(['urn:ietf:params:oauth:grant-type:jwt-bearer']);
    const vertex = fake.requestsFor('gemini-e2e');
    expect(vertex.map((r) => r.url)).toEqual(Array(2).fill('/v1/projects/e2e-project/locations/europe-west4/publishers/google/models/gemini-e2e:generateContent'));
    expect(vertex[1].toolResults).toEqual([{ id: 'echo', text: 'Echo: from vertex', isError: false }]);
    const cohere = fake.requestsFor('command-e2e');
    expect(cohere[0].toolNames).toEqual(expect.arrayContaining(['echo', 'get_sum']));
    expect(cohere[0].toolNames).not.toContain('get-sum');

    // The secrets came from the environment: none reached the -vvv output.
    for (const secret of [AWS.secretAccessKey, AWS.sessionToken, KEY, SERVICE_ACCOUNT.privateKey.split('\n')[1]]) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
      expect(JSON.stringify(run.results)).not.toContain(secret);
    }
    expect(run.leftovers).toEqual([]);
  });

  test("refused credentials fail the task with the API's own message; no secret in the -vvv output", async () => {
    const wrongSecret = `${AWS.secretAccessKey}-rotated-${Date.now()}`;
    const wrongToken = `ya29.e2e-expired-${Date.now()}`;
    const wrongKey = `co-e2e-wrong-${Date.now()}`;
    for (const m of ['anthropic.claude-e2e-refused', 'gemini-e2e-refused', 'command-e2e-refused']) fake.script(m, [{ answer: 'unreachable' }]);
    const run = await runPlaybook(
      [
        { name: 'bedrock wrong secret', ignore_errors: true, [LLM]: { ...cloud('bedrock', 'anthropic.claude-e2e-refused'), test_prompt: 'hi' } },
        { name: 'vertex_ai wrong token', ignore_errors: true, [LLM]: { ...cloud('vertex_ai', 'gemini-e2e-refused', { llm_project: 'p' }), test_prompt: 'hi' } },
        { name: 'cohere wrong key', ignore_errors: true, [LLM]: { ...cloud('cohere', 'command-e2e-refused'), test_prompt: 'hi' } },
      ],
      { verbosity: 3, env: { ...AWS_ENV, AWS_SECRET_ACCESS_KEY: wrongSecret, GOOGLE_OAUTH_ACCESS_TOKEN: wrongToken, COHERE_API_KEY: wrongKey } },
    );
    expect(run.exitCode, outputOf(run)).toBe(0);

    const bedrock = run.task('bedrock wrong secret');
    expect(bedrock.status).toBe('failed');
    expect(bedrock.result).toMatchObject({ success: false, status: 'failed', http_status: 403, llm_api_key_source: 'AWS_ACCESS_KEY_ID', tools_called: [] });
    expect(bedrock.result.msg).toBe(
      `the bedrock API answered HTTP 403 Forbidden (POST ${fake.url}/model/anthropic.claude-e2e-refused/converse): ` +
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
    const vertex = run.task('vertex_ai wrong token');
    expect(vertex.status).toBe('failed');
    expect(vertex.result).toMatchObject({ http_status: 401, llm_api_key_source: 'GOOGLE_OAUTH_ACCESS_TOKEN' });
    expect(vertex.result.msg).toMatch(/^the vertex_ai API answered HTTP 401 Unauthorized \(POST .*\/v1\/projects\/p\/locations\/us-central1\/.*:generateContent\): Request had invalid authentication credentials\. Expected OAuth 2 access token: \*+$/);
    const cohere = run.task('cohere wrong key');
    expect(cohere.status).toBe('failed');
    expect(cohere.result).toMatchObject({ http_status: 401, llm_api_key_source: 'COHERE_API_KEY', msg: `the cohere API answered HTTP 401 Unauthorized (POST ${fake.url}/v2/chat): invalid api token: ********` });

    // The fake got (and echoed) the token and key; the signature was made with the wrong secret.
    expect(fake.requestsFor('gemini-e2e-refused')[0].headers.authorization).toBe(`Bearer ${wrongToken}`);
    expect(fake.requestsFor('command-e2e-refused')[0].headers.authorization).toBe(`Bearer ${wrongKey}`);
    for (const secret of [wrongSecret, AWS.sessionToken, wrongToken, wrongKey]) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
      expect(JSON.stringify(run.results)).not.toContain(secret);
    }
    expect(run.leftovers).toEqual([]);
  });
});

test('check mode lists the tools but neither asks the model nor calls a tool', async () => {
  fake.script('e2e-check', [{ toolCalls: [{ name: 'echo', arguments: { message: 'no' } }] }, answerWithToolResults()]);
  const run = await runPlaybook([{ name: 'check', [LLM]: { ...llm('openai', 'e2e-check'), test_prompt: 'Echo', expected_tool_calls: ['echo'] } }], { check: true });
  expect(run.exitCode, outputOf(run)).toBe(0);
  const r = run.task('check');
  expect(r.status).toBe('skipped');
  expect(r.result).toMatchObject({ status: 'skipped', test_passed: false, success: true });
  expect(r.result.msg).toMatch(/^check mode: would have asked openai model 'e2e-check' with the server's \d+ tools; the model was not asked and no tool was called$/);
  expect(r.result.tools_available).toContain('echo');
  expect(fake.requestsFor('e2e-check')).toEqual([]);
});
