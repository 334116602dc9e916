/**
 * A Google OAuth access token from Application Default Credentials, the file
 * google-auth (and so LiteLLM under 1.1.x) reads: GOOGLE_APPLICATION_CREDENTIALS,
 * else gcloud's application_default_credentials.json. Two kinds are
 * understood: `service_account` keys (a JWT signed with the key, exchanged as
 * RFC 7523 describes) and `authorized_user` (`gcloud auth application-default
 * login`: a refresh token). Other kinds (workload identity federation,
 * impersonation, the metadata server) need the token given in llm_api_key.
 */
import { createSign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ModuleFailure } from '../errors';
import { LlmApiError, postJson } from './http';

const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** Vertex AI's scope. */
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export interface AdcFile {
  path: string;
  /** For llm_api_key_source: the variable that named the file, or the file. */
  source: string;
}

/** Where Application Default Credentials are, if anywhere. */
export function findAdc(env: NodeJS.ProcessEnv): AdcFile | undefined {
  if (env.GOOGLE_APPLICATION_CREDENTIALS) return { path: env.GOOGLE_APPLICATION_CREDENTIALS, source: 'GOOGLE_APPLICATION_CREDENTIALS' };
  const path = join(env.CLOUDSDK_CONFIG || join(env.HOME || homedir(), '.config', 'gcloud'), 'application_default_credentials.json');
  return existsSync(path) ? { path, source: path } : undefined;
}

export function readAdc(path: string): Record<string, any> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e: any) {
    throw new ModuleFailure(`cannot read the Google credentials file ${path}: ${e.code ?? e.message}`);
  }
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object') return parsed;
  } catch {
    // said below, without the content (it holds keys)
  }
  throw new ModuleFailure(`the Google credentials file ${path} is not a JSON object`);
}

/** The project a service account belongs to, or the one user credentials bill to. */
export const adcProject = (credentials: Record<string, any>): string | undefined => credentials.project_id || credentials.quota_project_id || undefined;

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT asserting the service account, signed with its key (RS256). */
function serviceAccountAssertion(c: Record<string, any>, tokenUri: string, path: string): string {
  if (typeof c.client_email !== 'string' || typeof c.private_key !== 'string') throw new ModuleFailure(`the service account key ${path} has no client_email or private_key`);
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${base64url({ alg: 'RS256', typ: 'JWT', ...(c.private_key_id ? { kid: c.private_key_id } : {}) })}.${base64url({ iss: c.client_email, scope: SCOPE, aud: tokenUri, iat: now, exp: now + 3600 })}`;
  try {
    return `${unsigned}.${createSign('RSA-SHA256').update(unsigned).sign(c.private_key, 'base64url')}`;
  } catch (e: any) {
    throw new ModuleFailure(`cannot sign with the private_key of ${path}: ${e.code ?? 'not a PEM RSA key'}`);
  }
}

export async function googleAccessToken(path: string, timeoutMs: number): Promise<string> {
  const c = readAdc(path);
  const tokenUri: string = typeof c.token_uri === 'string' && c.token_uri ? c.token_uri : DEFAULT_TOKEN_URI;
  let form: URLSearchParams;
  if (c.type === 'service_account') {
    form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: serviceAccountAssertion(c, tokenUri, path) });
  } else if (c.type === 'authorized_user') {
    form = new URLSearchParams({ grant_type: 'refresh_token', client_id: String(c.client_id ?? ''), client_secret: String(c.client_secret ?? ''), refresh_token: String(c.refresh_token ?? '') });
  } else {
    throw new ModuleFailure(
      `Google credentials of type '${c.type}' (${path}) are not supported: give an access token in llm_api_key or GOOGLE_OAUTH_ACCESS_TOKEN (for example from 'gcloud auth print-access-token')`,
    );
  }
  const body = await postJson({ api: 'Google OAuth token', url: tokenUri, headers: {}, body: form, timeoutMs, secrets: [form.get('assertion'), form.get('client_secret'), form.get('refresh_token')].map((v) => v ?? undefined) });
  if (typeof body?.access_token !== 'string' || !body.access_token) throw new LlmApiError(`the Google OAuth token endpoint answered without an access_token (POST ${tokenUri})`);
  return body.access_token;
}
