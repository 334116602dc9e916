/**
 * The LLM providers a playbook can name, the wire format each speaks, where
 * it lives by default and where its credentials come from. The wire-format
 * clients are imported only when a task really talks to a model.
 */
import { ModuleFailure } from '../errors';
import { awsCredentials, awsProfileRegion } from './aws_config';
import type { ChatClient, ChatSettings, McpTool, VertexTarget } from './chat';
import { adcProject, findAdc, readAdc } from './google_auth';

export const LLM_PROVIDERS = ['openai', 'anthropic', 'ollama', 'vllm', 'openrouter', 'azure', 'bedrock', 'vertex_ai', 'cohere'] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

type WireFormat = 'openai' | 'azure' | 'anthropic' | 'ollama' | 'bedrock' | 'vertex_ai' | 'cohere';

interface Provider {
  wire: WireFormat;
  /** Absent: the playbook must give llm_base_url, or it depends on the region (bedrock, vertex_ai). */
  baseUrl?: string;
  /** Where the key comes from when llm_api_key is not given: the first of these variables that is set. */
  keyEnv: string[];
  /** Hosted APIs refuse every request without a key: fail before sending one. */
  keyRequired: boolean;
  /** The provider prefix LiteLLM (and so 1.1.x) took in model names: removed. */
  modelPrefix?: RegExp;
}

export const PROVIDERS: Record<LlmProvider, Provider> = {
  openai: { wire: 'openai', baseUrl: 'https://api.openai.com/v1', keyEnv: ['OPENAI_API_KEY'], keyRequired: true, modelPrefix: /^openai\// },
  anthropic: { wire: 'anthropic', baseUrl: 'https://api.anthropic.com', keyEnv: ['ANTHROPIC_API_KEY'], keyRequired: true, modelPrefix: /^anthropic\// },
  ollama: { wire: 'ollama', baseUrl: 'http://localhost:11434', keyEnv: ['OLLAMA_API_KEY'], keyRequired: false },
  vllm: { wire: 'openai', baseUrl: 'http://localhost:8000/v1', keyEnv: ['VLLM_API_KEY'], keyRequired: false },
  openrouter: { wire: 'openai', baseUrl: 'https://openrouter.ai/api/v1', keyEnv: ['OPENROUTER_API_KEY'], keyRequired: true },
  azure: { wire: 'azure', keyEnv: ['AZURE_OPENAI_API_KEY'], keyRequired: true, modelPrefix: /^azure\// },
  // Without a Bedrock API key, AWS credentials sign the requests (checked in awsTarget).
  bedrock: { wire: 'bedrock', keyEnv: ['AWS_BEARER_TOKEN_BEDROCK'], keyRequired: false, modelPrefix: /^bedrock\/(converse\/)?/ },
  // Without an access token, Application Default Credentials give one (checked in vertexTarget).
  vertex_ai: { wire: 'vertex_ai', keyEnv: ['GOOGLE_OAUTH_ACCESS_TOKEN'], keyRequired: false, modelPrefix: /^vertex_ai\// },
  // COHERE_API_KEY is LiteLLM's (1.1.x), CO_API_KEY the Cohere SDK's.
  cohere: { wire: 'cohere', baseUrl: 'https://api.cohere.com', keyEnv: ['COHERE_API_KEY', 'CO_API_KEY'], keyRequired: true, modelPrefix: /^cohere(_chat)?\// },
};

/** A GA Azure OpenAI API version with tool calling. */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';
/** Where LiteLLM (1.1.x) sent Bedrock requests when no region was configured. */
export const DEFAULT_AWS_REGION = 'us-west-2';
/** LiteLLM's (1.1.x) Vertex AI location when none was configured. */
export const DEFAULT_VERTEX_LOCATION = 'us-central1';

export type LlmSettings = Omit<ChatSettings, 'prompt' | 'tools' | 'systemPrompt'> & {
  provider: LlmProvider;
  /** Where the key or credentials came from, for the result (never the key itself); null when none is used. */
  keySource: string | null;
  /** Every secret value the settings hold, for the module to mask wherever it might appear. */
  secrets: string[];
};

type Env = NodeJS.ProcessEnv;
const firstSet = (env: Env, names: readonly string[]) => names.find((n) => env[n]);

/**
 * The AWS region: llm_region, the region of a model ARN, of a bedrock-runtime
 * endpoint given as llm_base_url, the environment (AWS_REGION_NAME as LiteLLM
 * read it, AWS_REGION, AWS_DEFAULT_REGION), the profile's, else LiteLLM's default.
 */
export function awsRegion(p: Record<string, any>, model: string, env: Env): string {
  const fromArn = /^arn:aws[a-z-]*:bedrock:([a-z0-9-]+):/.exec(model)?.[1];
  const fromEndpoint = /(?:^|\.)bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com$/.exec(p.llm_base_url ? safeHost(p.llm_base_url) : '')?.[1];
  return p.llm_region || fromArn || fromEndpoint || env.AWS_REGION_NAME || env.AWS_REGION || env.AWS_DEFAULT_REGION || awsProfileRegion(env) || DEFAULT_AWS_REGION;
}

function safeHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/** Bedrock without an API key: AWS credentials, or a message saying every way to give them. */
function awsTarget(region: string, env: Env): Pick<LlmSettings, 'aws' | 'keySource' | 'secrets'> {
  const found = awsCredentials(env);
  if (!found) {
    throw new ModuleFailure(
      'llm_provider=bedrock needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials) ' +
        "in the task's environment, or a profile with keys in ~/.aws/credentials (AWS_PROFILE), or a Bedrock API key in llm_api_key or AWS_BEARER_TOKEN_BEDROCK",
    );
  }
  const { secretAccessKey, sessionToken } = found.credentials;
  return { aws: { credentials: found.credentials, region }, keySource: found.source, secrets: [secretAccessKey, ...(sessionToken ? [sessionToken] : [])] };
}

/** The regional Vertex AI endpoint; `global` has no region in its host. */
export const vertexBaseUrl = (location: string) => `https://${location === 'global' ? '' : `${location}-`}aiplatform.googleapis.com`;

/**
 * Vertex AI's project (llm_project, VERTEXAI_PROJECT as LiteLLM read it,
 * GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT, else the credentials' project) and
 * location (llm_region, VERTEXAI_LOCATION, GOOGLE_CLOUD_LOCATION, else
 * LiteLLM's us-central1); without a token, the Application Default
 * Credentials to get one from.
 */
function vertexTarget(p: Record<string, any>, hasToken: boolean, env: Env): { vertex: VertexTarget; keySource?: string } {
  const adc = findAdc(env);
  if (!hasToken && !adc) {
    throw new ModuleFailure(
      'llm_provider=vertex_ai needs Google credentials: an OAuth access token in llm_api_key or GOOGLE_OAUTH_ACCESS_TOKEN ' +
        "(for example from 'gcloud auth print-access-token'), or Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, or 'gcloud auth application-default login')",
    );
  }
  const given: string | undefined = p.llm_project || env.VERTEXAI_PROJECT || env.GOOGLE_CLOUD_PROJECT || env.GCLOUD_PROJECT;
  // The credentials file is read when it gives the token or the project: an unreadable one fails now, before a server is started.
  const credentials = adc && (!hasToken || !given) ? readAdc(adc.path) : undefined;
  const project = given || (credentials && adcProject(credentials));
  if (!project) throw new ModuleFailure('llm_provider=vertex_ai needs a Google Cloud project: set llm_project, or VERTEXAI_PROJECT or GOOGLE_CLOUD_PROJECT in the environment');
  const location: string = p.llm_region || env.VERTEXAI_LOCATION || env.GOOGLE_CLOUD_LOCATION || DEFAULT_VERTEX_LOCATION;
  if (hasToken) return { vertex: { project, location } };
  return { vertex: { project, location, credentialsFile: adc!.path }, keySource: adc!.source };
}

/** Provider, model, URL, credentials and timeout from the task's options; a ModuleFailure says what is missing. */
export function llmSettings(p: Record<string, any>, env: Env = process.env): LlmSettings {
  const provider = p.llm_provider as LlmProvider;
  const spec = PROVIDERS[provider];
  if (!spec) throw new ModuleFailure(`llm_provider must be one of ${LLM_PROVIDERS.join(', ')}, got: ${provider}`);
  const model: string = spec.modelPrefix ? String(p.llm_model).replace(spec.modelPrefix, '') : p.llm_model;
  if (!model) throw new ModuleFailure(`llm_model names no model after the provider prefix: ${p.llm_model}`);

  const keyEnv = firstSet(env, spec.keyEnv);
  const apiKey: string | undefined = p.llm_api_key || (keyEnv && env[keyEnv]) || undefined;
  let keySource: string | null = p.llm_api_key ? 'llm_api_key' : (keyEnv ?? null);
  if (!apiKey && spec.keyRequired) {
    throw new ModuleFailure(`llm_provider=${provider} needs an API key: set llm_api_key (from Ansible Vault) or the ${spec.keyEnv.join(' or ')} environment variable`);
  }
  const secrets = apiKey ? [apiKey] : [];
  const extra: Partial<LlmSettings> = {};
  let defaultBaseUrl = spec.baseUrl;
  if (spec.wire === 'bedrock') {
    const region = awsRegion(p, model, env);
    defaultBaseUrl = `https://bedrock-runtime.${region}.amazonaws.com`;
    if (!apiKey) {
      const target = awsTarget(region, env);
      extra.aws = target.aws;
      keySource = target.keySource;
      secrets.push(...target.secrets);
    }
  } else if (spec.wire === 'vertex_ai') {
    const target = vertexTarget(p, Boolean(apiKey), env);
    extra.vertex = target.vertex;
    keySource = target.keySource ?? keySource;
    defaultBaseUrl = vertexBaseUrl(target.vertex.location);
  }

  const baseUrl: string | undefined = p.llm_base_url || defaultBaseUrl;
  if (!baseUrl) throw new ModuleFailure(`llm_provider=${provider} needs llm_base_url (your resource endpoint, for example https://my-resource.openai.azure.com)`);
  let parsed: URL | undefined;
  try {
    parsed = new URL(baseUrl);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) throw new ModuleFailure(`llm_base_url must be an http:// or https:// URL, got: ${baseUrl}`);
  return {
    provider,
    model,
    baseUrl,
    apiKey,
    timeoutMs: Math.max(1, Number(p.llm_timeout ?? 120)) * 1000,
    apiVersion: p.llm_api_version || DEFAULT_AZURE_API_VERSION,
    ...extra,
    keySource,
    secrets,
  };
}

/** A client in the provider's wire format for one conversation. */
export async function chatClient(s: LlmSettings, conversation: { prompt: string; systemPrompt?: string; tools: McpTool[] }): Promise<ChatClient> {
  const settings: ChatSettings = { ...s, ...conversation };
  switch (PROVIDERS[s.provider].wire) {
    case 'openai': {
      const { openAiChat, openAiEndpoint } = await import('./openai');
      return openAiChat(settings, openAiEndpoint(settings));
    }
    case 'azure': {
      const { openAiChat, azureEndpoint } = await import('./openai');
      return openAiChat(settings, azureEndpoint(settings));
    }
    case 'anthropic': {
      const { anthropicChat } = await import('./anthropic');
      return anthropicChat(settings);
    }
    case 'ollama': {
      const { ollamaChat } = await import('./ollama');
      return ollamaChat(settings);
    }
    case 'bedrock': {
      const { bedrockChat } = await import('./bedrock');
      return bedrockChat(settings);
    }
    case 'vertex_ai': {
      const { vertexChat } = await import('./vertex');
      return vertexChat(settings);
    }
    case 'cohere': {
      const { cohereChat } = await import('./cohere');
      return cohereChat(settings);
    }
  }
}
