/**
 * The options that say which LLM to talk to, shared by the modules that ask
 * one (mcp_test_llm_integration drives tools with it, mcp_security_scan asks
 * it to judge descriptions). llmSettings() in providers.ts reads them.
 */
import type { OptionSpecs } from '../ansible/spec';
import { MAX_TIMER_SECONDS } from '../connection_options';
import { DEFAULT_AWS_REGION, DEFAULT_AZURE_API_VERSION, DEFAULT_VERTEX_LOCATION, LLM_PROVIDERS } from './providers';

export const LLM_OPTIONS: OptionSpecs = {
  llm_provider: {
    description: [
      'The LLM API to use. C(openai), C(vllm), C(openrouter) and C(azure) share the OpenAI chat-completions client; C(anthropic) uses the Messages API; C(ollama) uses Ollama\'s native C(/api/chat).',
      'C(bedrock) uses the Amazon Bedrock Converse API (C(POST /model/<model>/converse)) for any model Bedrock serves that supports tool use. With O(llm_api_key) (or E(AWS_BEARER_TOKEN_BEDROCK)) set, that value is a Bedrock API key sent as a bearer token; otherwise requests are signed with AWS Signature Version 4 using E(AWS_ACCESS_KEY_ID), E(AWS_SECRET_ACCESS_KEY) and E(AWS_SESSION_TOKEN), or the keys of the E(AWS_PROFILE) (else C(default)) profile in C(~/.aws/credentials). Profiles using SSO, C(role_arn) or C(credential_process), and instance roles, are not followed: export their credentials into the task\'s environment.',
      'C(vertex_ai) uses Gemini C(generateContent) on Google Vertex AI. Auth is an OAuth access token: O(llm_api_key), else E(GOOGLE_OAUTH_ACCESS_TOKEN), else one obtained from Application Default Credentials (the service account key or C(gcloud auth application-default login) file named by E(GOOGLE_APPLICATION_CREDENTIALS), else gcloud\'s C(application_default_credentials.json)).',
      'C(cohere) uses Cohere\'s Chat API v2 (C(POST /v2/chat)).',
    ],
    type: 'str',
    default: 'ollama',
    choices: [...LLM_PROVIDERS],
  },
  llm_model: {
    description: [
      'The model, as the provider names it (for example C(gpt-4o-mini), C(claude-sonnet-4-5), C(qwen2.5)). For C(azure), the deployment name.',
      'For C(bedrock), the model or inference profile id or ARN (for example C(anthropic.claude-3-5-haiku-20241022-v1:0), C(us.amazon.nova-pro-v1:0)); for C(vertex_ai), a Gemini model (for example C(gemini-2.5-flash)); for C(cohere), for example C(command-a-03-2025).',
    ],
    type: 'str',
  },
  llm_api_key: {
    description: [
      'API key for the provider. Keep it in Ansible Vault.',
      'When not given, read from the environment of the module, by provider: E(OPENAI_API_KEY), E(ANTHROPIC_API_KEY), E(OLLAMA_API_KEY), E(VLLM_API_KEY), E(OPENROUTER_API_KEY), E(AZURE_OPENAI_API_KEY), E(AWS_BEARER_TOKEN_BEDROCK) (bedrock), E(GOOGLE_OAUTH_ACCESS_TOKEN) (vertex_ai), E(COHERE_API_KEY) or E(CO_API_KEY) (cohere).',
      'For C(bedrock), a Bedrock API key (sent as C(Authorization: Bearer)); leave it unset to sign with AWS credentials instead. For C(vertex_ai), an OAuth access token (for example from C(gcloud auth print-access-token)); leave it unset to use Application Default Credentials.',
      'Required (here or in the environment) for C(openai), C(anthropic), C(openrouter), C(azure) and C(cohere).',
    ],
    type: 'str',
    no_log: true,
  },
  llm_base_url: {
    description: [
      'Base URL of the API. Defaults: C(https://api.openai.com/v1), C(https://api.anthropic.com), C(http://localhost:11434) (ollama), C(http://localhost:8000/v1) (vllm), C(https://openrouter.ai/api/v1), C(https://bedrock-runtime.<region>.amazonaws.com) (bedrock), C(https://<location>-aiplatform.googleapis.com) (vertex_ai), C(https://api.cohere.com) (cohere).',
      'For C(bedrock) the request goes to C(<llm_base_url>/model/<model>/converse) (a VPC endpoint, a proxy); for C(vertex_ai) to C(<llm_base_url>/v1/projects/<project>/locations/<location>/publishers/google/models/<model>:generateContent) (a base URL that already ends in C(/models/<model>) only gets C(:generateContent)); for C(cohere) to C(<llm_base_url>/v2/chat).',
      'Required for C(azure): the resource endpoint, for example C(https://my-resource.openai.azure.com) (or C(.../openai/v1) for Azure\'s v1 API).',
    ],
    type: 'str',
  },
  llm_region: {
    description: [
      'For C(bedrock), the AWS region. When not set: the region of a model ARN or of a C(bedrock-runtime) O(llm_base_url), else E(AWS_REGION_NAME), E(AWS_REGION), E(AWS_DEFAULT_REGION), the profile\'s C(region) in C(~/.aws/config), else C(' + DEFAULT_AWS_REGION + ') (as in 1.1.x).',
      'For C(vertex_ai), the Google Cloud location (a region, or C(global)). When not set: E(VERTEXAI_LOCATION), E(GOOGLE_CLOUD_LOCATION), else C(' + DEFAULT_VERTEX_LOCATION + ').',
    ],
    type: 'str',
  },
  llm_project: {
    description: 'For C(vertex_ai), the Google Cloud project. When not set: E(VERTEXAI_PROJECT), E(GOOGLE_CLOUD_PROJECT), E(GCLOUD_PROJECT), else the project of the Application Default Credentials.',
    type: 'str',
  },
  llm_api_version: { description: 'Azure OpenAI C(api-version) query parameter. Only for O(llm_provider=azure).', type: 'str', default: DEFAULT_AZURE_API_VERSION },
  llm_timeout: { description: 'Seconds to wait for each LLM API request.', type: 'int', default: 120, min: 1, max: MAX_TIMER_SECONDS },
};
