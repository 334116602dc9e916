/**
 * AWS credentials and region found the way the AWS SDKs (and so boto3, and
 * LiteLLM under 1.1.x) find them, as far as a module needs: the environment
 * variables, then the profile (AWS_PROFILE, else `default`) of the shared
 * credentials and config files when it holds keys. A profile that gets its
 * credentials another way (SSO, role_arn, credential_process) is not followed,
 * and neither are instance roles: the error says how to hand keys over instead.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ModuleFailure } from '../errors';
import type { AwsCredentials } from './sigv4';

export interface FoundCredentials {
  credentials: AwsCredentials;
  /** For llm_api_key_source. */
  source: string;
}

/** One [section] of an INI file (the shared files' format); undefined when the file or section is missing. */
function iniSection(path: string, section: string): Record<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let current: string | undefined;
  let found: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (header) {
      current = header[1];
      if (current === section) found ??= {};
      continue;
    }
    const pair = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
    if (pair && current === section && found) found[pair[1].toLowerCase()] = pair[2];
  }
  return found;
}

const home = (env: NodeJS.ProcessEnv) => env.HOME || homedir();
const profileName = (env: NodeJS.ProcessEnv) => env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default';

/** The profile's settings: the credentials file's section over the config file's `[profile name]` (`[default]`). */
function profile(env: NodeJS.ProcessEnv): { name: string; files: string; settings: Record<string, string> | undefined } {
  const name = profileName(env);
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE || join(home(env), '.aws', 'credentials');
  const configFile = env.AWS_CONFIG_FILE || join(home(env), '.aws', 'config');
  const fromConfig = iniSection(configFile, name === 'default' ? 'default' : `profile ${name}`);
  const fromCredentials = iniSection(credentialsFile, name);
  const settings = fromConfig || fromCredentials ? { ...fromConfig, ...fromCredentials } : undefined;
  return { name, files: `${credentialsFile}, ${configFile}`, settings };
}

export function awsCredentials(env: NodeJS.ProcessEnv): FoundCredentials | undefined {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return {
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined },
      source: 'AWS_ACCESS_KEY_ID',
    };
  }
  const { name, files, settings } = profile(env);
  if (!settings) {
    if (env.AWS_PROFILE) throw new ModuleFailure(`the AWS profile '${name}' (AWS_PROFILE) is in neither ${files}`);
    return undefined;
  }
  if (settings.aws_access_key_id && settings.aws_secret_access_key) {
    return {
      credentials: { accessKeyId: settings.aws_access_key_id, secretAccessKey: settings.aws_secret_access_key, sessionToken: settings.aws_session_token || undefined },
      source: `AWS profile ${name}`,
    };
  }
  const other = ['sso_session', 'sso_start_url', 'role_arn', 'credential_process', 'web_identity_token_file'].find((k) => settings[k]);
  if (other) {
    throw new ModuleFailure(
      `the AWS profile '${name}' gets its credentials through ${other}, which this module does not follow: ` +
        `export them into the task's environment (aws configure export-credentials --profile ${name} --format env) or use a Bedrock API key (llm_api_key)`,
    );
  }
  return undefined;
}

/** The region of the profile in the config file, if any. */
export const awsProfileRegion = (env: NodeJS.ProcessEnv): string | undefined => profile(env).settings?.region || undefined;
