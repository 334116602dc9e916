/**
 * The providers 1.1.x reached through LiteLLM and 2.0.0 speaks directly:
 * bedrock (Converse API, AWS SigV4 or a Bedrock API key), vertex_ai (Gemini
 * generateContent, an access token or Application Default Credentials) and
 * cohere (Chat API v2). Over real HTTP against the fake LLM
 * (tests/helpers/fake_llm.ts), which verifies each SigV4 signature with the
 * test's credentials and checks JWTs and refresh tokens at its /token
 * endpoint; and the settings: where region, project, location and
 * credentials come from, and what a person is told when they are missing.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToolNames, type ChatClient, type McpTool } from '../../src/llm/chat';
import { LlmApiError } from '../../src/llm/http';
import { chatClient, llmSettings, type LlmSettings } from '../../src/llm/providers';
import { answerWithToolResults, startFakeLlm, type FakeLlm } from '../helpers/fake_llm';

const AWS = { accessKeyId: 'AKIAFAKE0000EXAMPLE1', secretAccessKey: 'fake/Secret+Access+Key/0123456789abcdefABCD', sessionToken: 'FakeSessionToken//0123456789+abcdef==', region: 'us-east-1' };
const AWS_ENV = { AWS_ACCESS_KEY_ID: AWS.accessKeyId, AWS_SECRET_ACCESS_KEY: AWS.secretAccessKey, AWS_SESSION_TOKEN: AWS.sessionToken, AWS_REGION: AWS.region };
const KEY = 'fake-key-or-token-0123456789-SECRET';
const REFRESH = 'fake-refresh-token-1//0123456789';
const CLIENT_SECRET = 'fake-client-secret-0123456789';

/** Tools as server-everything lists them. */
const TOOLS: McpTool[] = [
  { name: 'echo', description: 'Echoes back the input string', inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } },
  { name: 'get-sum', description: 'Returns the sum of two numbers', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } },
];

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

let fake: FakeLlm;
let dir: string;
beforeAll(async () => {
  fake = await startFakeLlm({ apiKey: KEY, aws: AWS, google: { publicKey, refreshToken: REFRESH, clientSecret: CLIENT_SECRET } });
  dir = mkdtempSync(join(tmpdir(), 'mcp-audit-llm-cloud-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

let models = 0;
const model = (prefix: string) => `${prefix}-model-${++models}`;

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function converse(settings: LlmSettings, systemPrompt = 'Be brief.'): Promise<ChatClient> {
  return chatClient(settings, { prompt: 'Add 2 and 3', systemPrompt, tools: TOOLS });
}

/** A tool call, answered, then the final answer. */
async function roundTrip(c: ChatClient, resultText = 'The sum of 2 and 3 is 5.', isError = false) {
  const first = await c.next();
  c.answerToolCalls(first.toolCalls.map((call) => ({ call, text: resultText, isError })));
  const second = await c.next();
  return { first, second };
}

async function failure(c: ChatClient): Promise<LlmApiError> {
  const err = await c.next().then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(LlmApiError);
  return err;
}

const bedrock = (m: string, extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = AWS_ENV) =>
  llmSettings({ llm_provider: 'bedrock', llm_model: m, llm_base_url: fake.url, llm_timeout: 5, ...extra }, env);

describe('bedrock: the Converse API signed with AWS Signature V4', () => {
  it('signs with the environment credentials (session token included); the fake verifies the signature; toolUse answered by toolResult', async () => {
    const m = `anthropic.claude-${++models}-v1:0`;
    fake.script(m, [{ text: 'Adding.', toolCalls: [{ name: 'get-sum', arguments: { a: 2, b: 3 } }] }, answerWithToolResults()]);
    const settings = bedrock(`bedrock/${m}`);
    expect(settings).toMatchObject({ model: m, keySource: 'AWS_ACCESS_KEY_ID', aws: { region: 'us-east-1' } });
    expect(settings.secrets).toEqual([AWS.secretAccessKey, AWS.sessionToken]);
    const { first, second } = await roundTrip(await converse(settings));

    expect(first).toEqual({ text: 'Adding.', toolCalls: [{ id: expect.stringMatching(/^tooluse_/), name: 'get-sum', arguments: { a: 2, b: 3 } }], stopReason: 'tool_use' });
    expect(second).toEqual({ text: 'The tool said: The sum of 2 and 3 is 5.', toolCalls: [], stopReason: 'end_turn' });

    const [r1, r2] = fake.requestsFor(m);
    // The model id is one path segment, its ':' percent-encoded (and signed encoded twice: the fake checked it).
    expect(r1.url).toBe(`/model/${m.replace(':', '%3A')}/converse`);
    expect(r1.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAFAKE0000EXAMPLE1\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
    expect(r1.headers['x-amz-security-token']).toBe(AWS.sessionToken);
    expect(r1.body).toEqual({
      messages: [{ role: 'user', content: [{ text: 'Add 2 and 3' }] }],
      system: [{ text: 'Be brief.' }],
      toolConfig: {
        tools: [
          { toolSpec: { name: 'echo', description: 'Echoes back the input string', inputSchema: { json: TOOLS[0].inputSchema } } },
          { toolSpec: { name: 'get-sum', description: 'Returns the sum of two numbers', inputSchema: { json: TOOLS[1].inputSchema } } },
        ],
      },
    });
    const id = first.toolCalls[0].id;
    expect(r2.body.messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ text: 'Adding.' }, { toolUse: { toolUseId: id, name: 'get-sum', input: { a: 2, b: 3 } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: id, content: [{ text: 'The sum of 2 and 3 is 5.' }] } }] },
    ]);
    expect(r2.headers.authorization).not.toBe(r1.headers.authorization); // each request is signed over its own body
  });

  it('permanent credentials (no session token) sign without x-amz-security-token', async () => {
    const longTerm = await startFakeLlm({ aws: { ...AWS, sessionToken: undefined } });
    try {
      const m = model('amazon.nova');
      longTerm.script(m, [{ answer: 'hello' }]);
      const env = { AWS_ACCESS_KEY_ID: AWS.accessKeyId, AWS_SECRET_ACCESS_KEY: AWS.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1' };
      const settings = llmSettings({ llm_provider: 'bedrock', llm_model: m, llm_base_url: longTerm.url, llm_timeout: 5 }, env);
      expect((await (await converse(settings)).next()).text).toBe('hello');
      expect(longTerm.requests[0].headers['x-amz-security-token']).toBeUndefined();
      expect(longTerm.requests[0].headers.authorization).toContain('SignedHeaders=accept;content-type;host;x-amz-date, ');
    } finally {
      await longTerm.close();
    }
  });

  it('a wrong secret access key: AWS\'s 403, and neither the secret nor the session token in the message', async () => {
    const m = model('bedrock-wrong-secret');
    fake.script(m, [{ answer: 'never' }]);
    const wrongSecret = `${AWS.secretAccessKey}-WRONG`;
    const err = await failure(await converse(bedrock(m, {}, { ...AWS_ENV, AWS_SECRET_ACCESS_KEY: wrongSecret })));
    expect(err.message).toBe(
      `the bedrock API answered HTTP 403 Forbidden (POST ${fake.url}/model/${m}/converse): The request signature we calculated does not match the signature you provided. ` +
        'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
    expect(err.details).toEqual({ http_status: 403 });
    expect(err.message).not.toContain(wrongSecret);
    expect(err.message).not.toContain(AWS.sessionToken);
  });

  it('signed for another region or without the session token: refused', async () => {
    const m = model('bedrock-region');
    fake.script(m, [{ answer: 'never' }]);
    expect((await failure(await converse(bedrock(m, { llm_region: 'eu-west-1' })))).message).toMatch(/HTTP 403 .*Credential should be scoped to a valid region, not 'eu-west-1'/);
    const { AWS_SESSION_TOKEN: _dropped, ...withoutToken } = AWS_ENV;
    expect((await failure(await converse(bedrock(m, {}, withoutToken)))).message).toMatch(/HTTP 403 .*The security token included in the request is invalid/);
  });

  it('a Bedrock API key (llm_api_key) goes as a bearer token, unsigned; a wrong one is masked in the 403', async () => {
    const m = model('bedrock-key');
    fake.script(m, [{ answer: 'keyed' }]);
    const settings = bedrock(m, { llm_api_key: KEY }, {});
    expect(settings).toMatchObject({ keySource: 'llm_api_key', secrets: [KEY] });
    expect(settings.aws).toBeUndefined();
    expect((await (await converse(settings)).next()).text).toBe('keyed');
    const [r] = fake.requestsFor(m);
    expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(r.headers['x-amz-date']).toBeUndefined();

    const wrong = `${KEY}-wrong`;
    const err = await failure(await converse(bedrock(m, { llm_api_key: wrong }, {})));
    expect(err.message).toMatch(/^the bedrock API answered HTTP 403 Forbidden .*Authentication failed: Please make sure your API Key is valid: \*+$/);
    expect(err.message).not.toContain(wrong);
    expect(fake.requestsFor(m)[1].headers.authorization).toBe(`Bearer ${wrong}`); // the fake echoed it: masking was needed
  });

  it('AWS_BEARER_TOKEN_BEDROCK (the AWS SDKs\' variable) is a Bedrock API key, and wins over AWS credentials', () => {
    const settings = bedrock('m', {}, { ...AWS_ENV, AWS_BEARER_TOKEN_BEDROCK: KEY });
    expect(settings).toMatchObject({ apiKey: KEY, keySource: 'AWS_BEARER_TOKEN_BEDROCK', secrets: [KEY] });
    expect(settings.aws).toBeUndefined();
  });

  it('a failed tool result says Error in the text (toolResult.status is refused by most models); an empty one is not blank', async () => {
    const m = model('bedrock-errors');
    fake.script(m, [{ toolCalls: [{ name: 'echo', arguments: {} }, { name: 'echo', arguments: { message: '' } }] }, answerWithToolResults()]);
    const c = await converse(bedrock(m));
    const first = await c.next();
    c.answerToolCalls([
      { call: first.toolCalls[0], text: 'missing message', isError: true },
      { call: first.toolCalls[1], text: '', isError: false },
    ]);
    expect((await c.next()).text).toBe('The tool said: Error: missing message | (no output)');
    const content = fake.requestsFor(m)[1].body.messages[2].content;
    expect(content.map((b: any) => Object.keys(b.toolResult).sort())).toEqual([
      ['content', 'toolUseId'],
      ['content', 'toolUseId'],
    ]);
  });

  it('a tool name Converse refuses (a dot) is offered under an alias and the call mapped back', async () => {
    const m = model('bedrock-alias');
    fake.script(m, [{ toolCalls: [{ name: 'files_read', arguments: { path: '/x' } }] }, { answer: 'done' }]);
    const tools: McpTool[] = [{ name: 'files.read', inputSchema: { type: 'object' } }];
    const c = await chatClient(bedrock(m), { prompt: 'read /x', tools });
    expect((await c.next()).toolCalls).toEqual([{ id: expect.any(String), name: 'files.read', arguments: { path: '/x' } }]);
    expect(fake.requestsFor(m)[0].toolNames).toEqual(['files_read']);
  });

  it('tool input that is not an object is an argumentsError, answered to the model instead of guessed', async () => {
    const m = model('bedrock-bad-input');
    const content = [{ toolUse: { toolUseId: 'tu1', name: 'echo', input: ['hi'] } }];
    fake.script(m, [{ raw: JSON.stringify({ output: { message: { role: 'assistant', content } }, stopReason: 'tool_use' }), contentType: 'application/json' }]);
    const [call] = (await (await converse(bedrock(m))).next()).toolCalls;
    expect(call).toEqual({ id: 'tu1', name: 'echo', arguments: {}, argumentsError: 'the tool call arguments must be a JSON object, got: ["hi"]' });
  });

  it('an answer without output.message is an error, not a crash', async () => {
    const m = model('bedrock-raw');
    fake.script(m, [{ raw: JSON.stringify({ stopReason: 'end_turn' }), contentType: 'application/json' }]);
    expect((await failure(await converse(bedrock(m)))).message).toBe(`the bedrock API answered without output.message.content (POST ${fake.url}/model/${m}/converse)`);
  });
});

describe('bedrock settings', () => {
  const region = (extra: Record<string, unknown>, env: NodeJS.ProcessEnv) => llmSettings({ llm_provider: 'bedrock', llm_model: 'm', llm_api_key: 'k', ...extra }, { HOME: dir, ...env });

  it('the region: llm_region, a model ARN, a bedrock-runtime endpoint, AWS_REGION_NAME, AWS_REGION, AWS_DEFAULT_REGION, else us-west-2 (LiteLLM\'s default)', () => {
    const all = { AWS_REGION_NAME: 'eu-west-3', AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'ap-south-1' };
    expect(region({ llm_region: 'ca-central-1' }, all).baseUrl).toBe('https://bedrock-runtime.ca-central-1.amazonaws.com');
    expect(region({}, all).baseUrl).toBe('https://bedrock-runtime.eu-west-3.amazonaws.com');
    expect(region({}, { AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'ap-south-1' }).baseUrl).toBe('https://bedrock-runtime.eu-central-1.amazonaws.com');
    expect(region({}, { AWS_DEFAULT_REGION: 'ap-south-1' }).baseUrl).toBe('https://bedrock-runtime.ap-south-1.amazonaws.com');
    expect(region({}, {}).baseUrl).toBe('https://bedrock-runtime.us-west-2.amazonaws.com');

    const arn = 'arn:aws:bedrock:eu-north-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0';
    const signed = llmSettings({ llm_provider: 'bedrock', llm_model: `bedrock/${arn}` }, { ...AWS_ENV, HOME: dir });
    expect(signed).toMatchObject({ model: arn, baseUrl: 'https://bedrock-runtime.eu-north-1.amazonaws.com', aws: { region: 'eu-north-1' } });
    const viaEndpoint = llmSettings({ llm_provider: 'bedrock', llm_model: 'm', llm_base_url: 'https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com' }, { ...AWS_ENV, HOME: dir });
    expect(viaEndpoint.aws?.region).toBe('us-gov-west-1');
  });

  it('LiteLLM\'s bedrock/ and bedrock/converse/ prefixes are removed from the model', () => {
    expect(region({ llm_model: 'bedrock/converse/meta.llama3-1-70b-instruct-v1:0' }, {}).model).toBe('meta.llama3-1-70b-instruct-v1:0');
    expect(region({ llm_model: 'us.amazon.nova-pro-v1:0' }, {}).model).toBe('us.amazon.nova-pro-v1:0');
  });

  it('keys and region from a profile of the shared files (AWS_PROFILE), as boto3 found them under 1.1.x', () => {
    const credentials = file('credentials', `[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = default-secret\n\n[work]\naws_access_key_id=AKIAWORK\naws_secret_access_key=work-secret\naws_session_token = work-token\n`);
    const config = file('config', `[default]\nregion = us-east-2\n[profile work]\nregion = eu-west-2\n`);
    const env = { AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config };
    const work = llmSettings({ llm_provider: 'bedrock', llm_model: 'm' }, { ...env, AWS_PROFILE: 'work' });
    expect(work).toMatchObject({
      keySource: 'AWS profile work',
      aws: { region: 'eu-west-2', credentials: { accessKeyId: 'AKIAWORK', secretAccessKey: 'work-secret', sessionToken: 'work-token' } },
      secrets: ['work-secret', 'work-token'],
    });
    expect(llmSettings({ llm_provider: 'bedrock', llm_model: 'm' }, env)).toMatchObject({ keySource: 'AWS profile default', aws: { region: 'us-east-2' } });
    // The environment's keys win over any profile.
    expect(llmSettings({ llm_provider: 'bedrock', llm_model: 'm' }, { ...env, ...AWS_ENV }).keySource).toBe('AWS_ACCESS_KEY_ID');
  });

  it('a profile that gets its credentials through SSO, or a missing AWS_PROFILE, says so', () => {
    const config = file('config-sso', `[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nregion = us-east-1\n`);
    const env = { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'), AWS_CONFIG_FILE: config };
    expect(() => llmSettings({ llm_provider: 'bedrock', llm_model: 'm' }, { ...env, AWS_PROFILE: 'sso' })).toThrow(
      "the AWS profile 'sso' gets its credentials through sso_session, which this module does not follow: export them into the task's environment (aws configure export-credentials --profile sso --format env) or use a Bedrock API key (llm_api_key)",
    );
    expect(() => llmSettings({ llm_provider: 'bedrock', llm_model: 'm' }, { ...env, AWS_PROFILE: 'nope' })).toThrow(/the AWS profile 'nope' \(AWS_PROFILE\) is in neither .*none, .*config-sso/);
  });

  it('no credentials at all: every way to give them, before any request', () => {
    expect(() => llmSettings({ llm_provider: 'bedrock', llm_model: 'm' }, { HOME: dir })).toThrow(
      "llm_provider=bedrock needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials) in the task's environment, " +
        'or a profile with keys in ~/.aws/credentials (AWS_PROFILE), or a Bedrock API key in llm_api_key or AWS_BEARER_TOKEN_BEDROCK',
    );
  });
});

const vertex = (m: string, extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
  llmSettings({ llm_provider: 'vertex_ai', llm_model: m, llm_base_url: fake.url, llm_project: 'my-project', llm_region: 'europe-west4', llm_timeout: 5, ...extra }, { HOME: dir, ...env });

describe('vertex_ai: Gemini generateContent', () => {
  it('an access token (llm_api_key) as bearer; parametersJsonSchema; functionCall answered by functionResponse', async () => {
    const m = model('gemini');
    fake.script(m, [{ toolCalls: [{ name: 'get-sum', arguments: { a: 2, b: 3 } }] }, answerWithToolResults()]);
    const settings = vertex(`vertex_ai/${m}`, { llm_api_key: KEY });
    expect(settings).toMatchObject({ model: m, keySource: 'llm_api_key', secrets: [KEY], vertex: { project: 'my-project', location: 'europe-west4' } });
    const { first, second } = await roundTrip(await converse(settings));
    expect(first).toEqual({ text: '', toolCalls: [{ id: expect.any(String), name: 'get-sum', arguments: { a: 2, b: 3 } }], stopReason: 'stop' });
    expect(second).toEqual({ text: 'The tool said: The sum of 2 and 3 is 5.', toolCalls: [], stopReason: 'stop' });

    const [r1, r2] = fake.requestsFor(m);
    expect(r1.url).toBe(`/v1/projects/my-project/locations/europe-west4/publishers/google/models/${m}:generateContent`);
    expect(r1.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(r1.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Add 2 and 3' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      tools: [
        {
          functionDeclarations: [
            { name: 'echo', description: 'Echoes back the input string', parametersJsonSchema: TOOLS[0].inputSchema },
            { name: 'get-sum', description: 'Returns the sum of two numbers', parametersJsonSchema: TOOLS[1].inputSchema },
          ],
        },
      ],
    });
    // The model turn is replayed, then one user turn answers the call by name (Vertex AI gave no id, so none is sent back).
    expect(r2.body.contents.slice(1)).toEqual([
      { role: 'model', parts: [{ functionCall: { name: 'get-sum', args: { a: 2, b: 3 } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get-sum', response: { output: 'The sum of 2 and 3 is 5.' } } }] },
    ]);
  });

  it('a base URL that names the model (LiteLLM\'s api_base for gateways) only gets :generateContent', async () => {
    const m = model('gemini-gateway');
    fake.script(m, [{ answer: 'through a gateway' }]);
    const base = `${fake.url}/v1/projects/gw/locations/us-east5/publishers/google/models/${m}`;
    expect((await (await converse(vertex(m, { llm_api_key: KEY, llm_base_url: base }))).next()).text).toBe('through a gateway');
    expect(fake.requestsFor(m)[0].url).toBe(`/v1/projects/gw/locations/us-east5/publishers/google/models/${m}:generateContent`);
  });

  it('a failed tool result goes back under Google\'s `error` key', async () => {
    const m = model('gemini-error');
    fake.script(m, [{ toolCalls: [{ name: 'echo', arguments: {} }] }, answerWithToolResults()]);
    await roundTrip(await converse(vertex(m, { llm_api_key: KEY })), 'missing message', true);
    expect(fake.requestsFor(m)[1].toolResults).toEqual([{ id: 'echo', text: 'missing message', isError: true }]);
  });

  it('a service account key file (GOOGLE_APPLICATION_CREDENTIALS): a signed JWT buys the access token, once per conversation', async () => {
    const m = model('gemini-sa');
    fake.script(m, [{ toolCalls: [{ name: 'echo', arguments: { message: 'hi' } }] }, answerWithToolResults()]);
    const key = file('sa.json', { type: 'service_account', project_id: 'sa-project', private_key_id: 'kid1', private_key: privateKey, client_email: 'tester@sa-project.iam.gserviceaccount.com', token_uri: `${fake.url}/token` });
    const settings = llmSettings({ llm_provider: 'vertex_ai', llm_model: m, llm_base_url: fake.url, llm_timeout: 5 }, { GOOGLE_APPLICATION_CREDENTIALS: key, HOME: dir });
    expect(settings).toMatchObject({ keySource: 'GOOGLE_APPLICATION_CREDENTIALS', secrets: [], vertex: { project: 'sa-project', location: 'us-central1', credentialsFile: key } });
    const before = fake.tokenRequests.length;
    const { second } = await roundTrip(await converse(settings), 'Echo: hi');
    expect(second.text).toBe('The tool said: Echo: hi');
    expect(fake.tokenRequests.slice(before)).toEqual([{ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/) }]);
    expect(fake.requestsFor(m).map((r) => r.headers.authorization)).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
    expect(fake.requestsFor(m)[0].url).toContain('/projects/sa-project/locations/us-central1/');
  });

  it('gcloud\'s application-default login (authorized_user): a refresh token; a revoked one is masked in the error', async () => {
    const m = model('gemini-user');
    fake.script(m, [{ answer: 'from a user' }]);
    const gcloud = join(dir, 'gcloud');
    const adc = { type: 'authorized_user', client_id: 'client.apps.googleusercontent.com', client_secret: CLIENT_SECRET, refresh_token: REFRESH, quota_project_id: 'quota-project', token_uri: `${fake.url}/token` };
    mkdirSync(gcloud, { recursive: true });
    writeFileSync(join(gcloud, 'application_default_credentials.json'), JSON.stringify(adc));
    const settings = llmSettings({ llm_provider: 'vertex_ai', llm_model: m, llm_base_url: fake.url, llm_timeout: 5 }, { CLOUDSDK_CONFIG: gcloud, HOME: dir });
    expect(settings).toMatchObject({ keySource: join(gcloud, 'application_default_credentials.json'), vertex: { project: 'quota-project' } });
    expect((await (await converse(settings)).next()).text).toBe('from a user');
    expect(fake.tokenRequests.at(-1)).toEqual({ grant_type: 'refresh_token', client_id: adc.client_id, client_secret: CLIENT_SECRET, refresh_token: REFRESH });

    const revoked = `${REFRESH}-revoked`;
    writeFileSync(join(gcloud, 'application_default_credentials.json'), JSON.stringify({ ...adc, refresh_token: revoked }));
    const err = await failure(await converse(settings));
    expect(err.message).toBe(`the Google OAuth token API answered HTTP 400 Bad Request (POST ${fake.url}/token): invalid_grant: Token has been expired or revoked: ********`);
  });

  it('a JWT signed with another key is refused by the token endpoint', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const key = file('sa-other.json', { type: 'service_account', project_id: 'p', private_key: other.privateKey, client_email: 'x@p.iam.gserviceaccount.com', token_uri: `${fake.url}/token` });
    const settings = llmSettings({ llm_provider: 'vertex_ai', llm_model: 'm', llm_base_url: fake.url, llm_timeout: 5 }, { GOOGLE_APPLICATION_CREDENTIALS: key });
    expect((await failure(await converse(settings))).message).toMatch(/HTTP 400 Bad Request \(POST .*\/token\): invalid_grant: Invalid JWT Signature\.$/);
  });

  it('a wrong access token: HTTP 401 with the token masked', async () => {
    const m = model('gemini-401');
    fake.script(m, [{ answer: 'never' }]);
    const wrong = `${KEY}-expired`;
    const err = await failure(await converse(vertex(m, {}, { GOOGLE_OAUTH_ACCESS_TOKEN: wrong })));
    expect(err.message).toMatch(/^the vertex_ai API answered HTTP 401 Unauthorized \(POST .*:generateContent\): Request had invalid authentication credentials\. Expected OAuth 2 access token: \*+$/);
    expect(err.message).not.toContain(wrong);
  });

  it('thought parts are not part of the answer', async () => {
    const m = model('gemini-thinking');
    const parts = [{ text: 'Let me think about sums.', thought: true }, { text: 'It is 5.', thoughtSignature: 'c2ln' }];
    fake.script(m, [{ raw: JSON.stringify({ candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP' }] }), contentType: 'application/json' }]);
    expect((await (await converse(vertex(m, { llm_api_key: KEY }))).next()).text).toBe('It is 5.');
  });

  it('a blocked prompt and a cut-off answer are reported as such', async () => {
    const blocked = model('gemini-blocked');
    fake.script(blocked, [{ raw: JSON.stringify({ promptFeedback: { blockReason: 'SAFETY' } }), contentType: 'application/json' }]);
    expect((await failure(await converse(vertex(blocked, { llm_api_key: KEY })))).message).toMatch(/^the vertex_ai API answered without candidates \(the prompt was blocked: SAFETY\)/);
    const cut = model('gemini-cut');
    fake.script(cut, [{ answer: 'The sum is', stopReason: 'MAX_TOKENS' }]);
    expect(await (await converse(vertex(cut, { llm_api_key: KEY }))).next()).toEqual({ text: 'The sum is', toolCalls: [], stopReason: 'max_tokens' });
  });
});

describe('vertex_ai settings', () => {
  const settings = (extra: Record<string, unknown>, env: NodeJS.ProcessEnv) => llmSettings({ llm_provider: 'vertex_ai', llm_model: 'gemini-2.5-flash', llm_api_key: 't', ...extra }, { HOME: dir, ...env });

  it('project and location from the options, LiteLLM\'s VERTEXAI_*, Google\'s GOOGLE_CLOUD_*, else us-central1; global has no region in its host', () => {
    expect(settings({ llm_project: 'opt', llm_region: 'asia-east1' }, { VERTEXAI_PROJECT: 'v', VERTEXAI_LOCATION: 'us-east5' })).toMatchObject({
      vertex: { project: 'opt', location: 'asia-east1' },
      baseUrl: 'https://asia-east1-aiplatform.googleapis.com',
    });
    expect(settings({}, { VERTEXAI_PROJECT: 'v', GOOGLE_CLOUD_PROJECT: 'g', VERTEXAI_LOCATION: 'us-east5', GOOGLE_CLOUD_LOCATION: 'x' }).vertex).toEqual({ project: 'v', location: 'us-east5' });
    expect(settings({}, { GOOGLE_CLOUD_PROJECT: 'g', GOOGLE_CLOUD_LOCATION: 'global' })).toMatchObject({ vertex: { project: 'g', location: 'global' }, baseUrl: 'https://aiplatform.googleapis.com' });
    expect(settings({}, { GCLOUD_PROJECT: 'old' })).toMatchObject({ vertex: { project: 'old', location: 'us-central1' }, baseUrl: 'https://us-central1-aiplatform.googleapis.com' });
  });

  it('no project, no credentials, an unreadable or unsupported credentials file: clear messages before any request', () => {
    expect(() => settings({}, {})).toThrow('llm_provider=vertex_ai needs a Google Cloud project: set llm_project, or VERTEXAI_PROJECT or GOOGLE_CLOUD_PROJECT in the environment');
    expect(() => settings({ llm_api_key: null, llm_project: 'p' }, {})).toThrow(
      "llm_provider=vertex_ai needs Google credentials: an OAuth access token in llm_api_key or GOOGLE_OAUTH_ACCESS_TOKEN (for example from 'gcloud auth print-access-token'), " +
        "or Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, or 'gcloud auth application-default login')",
    );
    expect(() => settings({ llm_api_key: null, llm_project: 'p' }, { GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'missing.json') })).toThrow(/^cannot read the Google credentials file .*missing\.json: ENOENT$/);
    const garbage = file('garbage.json', 'private_key=-----BEGIN not json');
    expect(() => settings({ llm_api_key: null, llm_project: 'p' }, { GOOGLE_APPLICATION_CREDENTIALS: garbage })).toThrow(`the Google credentials file ${garbage} is not a JSON object`);
  });

  it('credentials of a kind not followed (workload identity federation) say how to give a token', async () => {
    const external = file('external.json', { type: 'external_account', audience: 'x' });
    const s = llmSettings({ llm_provider: 'vertex_ai', llm_model: 'm', llm_project: 'p' }, { GOOGLE_APPLICATION_CREDENTIALS: external });
    await expect((await converse(s)).next()).rejects.toThrow(/^Google credentials of type 'external_account' \(.*external\.json\) are not supported: give an access token in llm_api_key or GOOGLE_OAUTH_ACCESS_TOKEN/);
  });
});

describe('cohere: Chat API v2', () => {
  const cohere = (m: string, extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
    llmSettings({ llm_provider: 'cohere', llm_model: m, llm_api_key: KEY, llm_base_url: fake.url, llm_timeout: 5, ...extra }, env);

  it('bearer key; function tools under names Cohere accepts (get-sum as get_sum); tool_calls answered by tool messages', async () => {
    const m = model('command');
    fake.script(m, [{ text: 'I will add.', toolCalls: [{ name: 'get_sum', arguments: { a: 2, b: 3 } }] }, answerWithToolResults()]);
    const settings = cohere(`cohere_chat/${m}`);
    expect(settings.model).toBe(m);
    const { first, second } = await roundTrip(await converse(settings));
    expect(first).toEqual({ text: '', toolCalls: [{ id: expect.stringMatching(/^cohere_/), name: 'get-sum', arguments: { a: 2, b: 3 } }], stopReason: 'tool_call' });
    expect(second).toEqual({ text: 'The tool said: The sum of 2 and 3 is 5.', toolCalls: [], stopReason: 'complete' });

    const [r1, r2] = fake.requestsFor(m);
    expect(r1.url).toBe('/v2/chat');
    expect(r1.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(r1.body).toEqual({
      model: m,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Add 2 and 3' },
      ],
      tools: [
        { type: 'function', function: { name: 'echo', description: 'Echoes back the input string', parameters: TOOLS[0].inputSchema } },
        { type: 'function', function: { name: 'get_sum', description: 'Returns the sum of two numbers', parameters: TOOLS[1].inputSchema } },
      ],
    });
    const id = first.toolCalls[0].id;
    expect(r2.body.messages.slice(2)).toEqual([
      { role: 'assistant', tool_plan: 'I will add.', tool_calls: [{ id, type: 'function', function: { name: 'get_sum', arguments: '{"a":2,"b":3}' } }] },
      { role: 'tool', tool_call_id: id, content: 'The sum of 2 and 3 is 5.' },
    ]);
  });

  it('a base URL may end in /v2 or be the whole /v2/chat URL', async () => {
    const m = model('command-base');
    fake.script(m, [{ answer: 'ok' }]);
    for (const base of [`${fake.url}/v2`, `${fake.url}/v2/chat`, `${fake.url}/v2/chat/`]) {
      expect((await (await converse(cohere(m, { llm_base_url: base }))).next()).text).toBe('ok');
    }
    expect(fake.requestsFor(m).map((r) => r.url)).toEqual(['/v2/chat', '/v2/chat', '/v2/chat']);
  });

  it('the key from COHERE_API_KEY (LiteLLM\'s, 1.1.x) or CO_API_KEY (Cohere\'s SDK); none fails naming both', () => {
    const s = (env: NodeJS.ProcessEnv) => llmSettings({ llm_provider: 'cohere', llm_model: 'command-r' }, env);
    expect(s({ COHERE_API_KEY: 'a', CO_API_KEY: 'b' })).toMatchObject({ apiKey: 'a', keySource: 'COHERE_API_KEY', baseUrl: 'https://api.cohere.com' });
    expect(s({ CO_API_KEY: 'b' })).toMatchObject({ apiKey: 'b', keySource: 'CO_API_KEY' });
    expect(() => s({})).toThrow('llm_provider=cohere needs an API key: set llm_api_key (from Ansible Vault) or the COHERE_API_KEY or CO_API_KEY environment variable');
  });

  it('HTTP 401 with the echoed key masked', async () => {
    const m = model('command-401');
    fake.script(m, [{ answer: 'never' }]);
    const wrong = `${KEY}-wrong`;
    const err = await failure(await converse(cohere(m, { llm_api_key: null }, { CO_API_KEY: wrong })));
    expect(err.message).toBe(`the cohere API answered HTTP 401 Unauthorized (POST ${fake.url}/v2/chat): invalid api token: ********`);
  });
});

describe('tool names a provider refuses', () => {
  it('get aliases of allowed characters, unique, mapped both ways; allowed names stay', () => {
    const names = new ToolNames(
      [
        { name: 'get-sum', inputSchema: {} },
        { name: 'get_sum', inputSchema: {} },
        { name: '3d-render', inputSchema: {} },
        { name: 'echo', inputSchema: {} },
      ],
      /^[A-Za-z_][A-Za-z0-9_]*$/,
    );
    expect(['get-sum', 'get_sum', '3d-render', 'echo'].map(names.wire)).toEqual(['get_sum_2', 'get_sum', '_3d_render', 'echo']);
    expect(['get_sum_2', 'get_sum', '_3d_render', 'echo', 'unknown'].map(names.mcp)).toEqual(['get-sum', 'get_sum', '3d-render', 'echo', 'unknown']);
  });
});

describe('LiteLLM prefixes 1.1.x model names could carry', () => {
  it('are removed for openai, anthropic and azure too; openrouter\'s vendor/model names are kept', () => {
    const s = (provider: string, m: string) => llmSettings({ llm_provider: provider, llm_model: m, llm_api_key: 'k', llm_base_url: 'https://example.invalid' }, {}).model;
    expect(s('openai', 'openai/gpt-4o-mini')).toBe('gpt-4o-mini');
    expect(s('anthropic', 'anthropic/claude-3-5-haiku-latest')).toBe('claude-3-5-haiku-latest');
    expect(s('azure', 'azure/my-deployment')).toBe('my-deployment');
    expect(s('openrouter', 'anthropic/claude-3-opus')).toBe('anthropic/claude-3-opus');
    expect(() => s('cohere', 'cohere/')).toThrow('llm_model names no model after the provider prefix: cohere/');
  });
});
