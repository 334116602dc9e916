/**
 * The LLM providers a playbook can name, the wire format each speaks, where
 * it lives by default and where its API key comes from. The wire-format
 * clients are imported only when a task really talks to a model.
 */
import { ModuleFailure } from '../errors';
import type { ChatClient, ChatSettings, McpTool } from './chat';

export const LLM_PROVIDERS = ['openai', 'anthropic', 'ollama', 'vllm', 'openrouter', 'azure'] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

type WireFormat = 'openai' | 'azure' | 'anthropic' | 'ollama';

interface Provider {
  wire: WireFormat;
  /** Absent: the playbook must give llm_base_url. */
  baseUrl?: string;
  /** Where the key comes from when llm_api_key is not given. */
  keyEnv: string;
  /** Hosted APIs refuse every request without a key: fail before sending one. */
  keyRequired: boolean;
}

export const PROVIDERS: Record<LlmProvider, Provider> = {
  openai: { wire: 'openai', baseUrl: 'https://api.openai.com/v1', keyEnv: 'OPENAI_API_KEY', keyRequired: true },
  anthropic: { wire: 'anthropic', baseUrl: 'https://api.anthropic.com', keyEnv: 'ANTHROPIC_API_KEY', keyRequired: true },
  ollama: { wire: 'ollama', baseUrl: 'http://localhost:11434', keyEnv: 'OLLAMA_API_KEY', keyRequired: false },
  vllm: { wire: 'openai', baseUrl: 'http://localhost:8000/v1', keyEnv: 'VLLM_API_KEY', keyRequired: false },
  openrouter: { wire: 'openai', baseUrl: 'https://openrouter.ai/api/v1', keyEnv: 'OPENROUTER_API_KEY', keyRequired: true },
  azure: { wire: 'azure', keyEnv: 'AZURE_OPENAI_API_KEY', keyRequired: true },
};

/** A GA Azure OpenAI API version with tool calling. */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

export type LlmSettings = Omit<ChatSettings, 'prompt' | 'tools' | 'systemPrompt'> & { provider: LlmProvider };

/** Provider, model, URL, key and timeout from the task's options; a ModuleFailure says what is missing. */
export function llmSettings(p: Record<string, any>, env: NodeJS.ProcessEnv = process.env): LlmSettings {
  const provider = p.llm_provider as LlmProvider;
  const spec = PROVIDERS[provider];
  if (!spec) throw new ModuleFailure(`llm_provider must be one of ${LLM_PROVIDERS.join(', ')}, got: ${provider}`);
  const baseUrl: string | undefined = p.llm_base_url || spec.baseUrl;
  if (!baseUrl) throw new ModuleFailure(`llm_provider=${provider} needs llm_base_url (your resource endpoint, for example https://my-resource.openai.azure.com)`);
  let parsed: URL | undefined;
  try {
    parsed = new URL(baseUrl);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) throw new ModuleFailure(`llm_base_url must be an http:// or https:// URL, got: ${baseUrl}`);
  const apiKey: string | undefined = p.llm_api_key || env[spec.keyEnv] || undefined;
  if (!apiKey && spec.keyRequired) {
    throw new ModuleFailure(`llm_provider=${provider} needs an API key: set llm_api_key (from Ansible Vault) or the ${spec.keyEnv} environment variable`);
  }
  return {
    provider,
    model: p.llm_model,
    baseUrl,
    apiKey,
    timeoutMs: Math.max(1, Number(p.llm_timeout ?? 120)) * 1000,
    apiVersion: p.llm_api_version || DEFAULT_AZURE_API_VERSION,
  };
}

/** Where the API key came from, for the result (never the key itself). */
export function apiKeySource(p: Record<string, any>, env: NodeJS.ProcessEnv = process.env): string | null {
  if (p.llm_api_key) return 'llm_api_key';
  const name = PROVIDERS[p.llm_provider as LlmProvider]?.keyEnv;
  return name && env[name] ? name : null;
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
  }
}
