/**
 * A ServerDefinition is everything that defines one MCP server session: the
 * pool key is a hash of it, so two tasks that differ in any of these (a
 * secret in env or headers included) never share a server.
 */
import { createHash } from 'node:crypto';
import { McpAuditError } from './errors';
import { splitServerCommand } from './mcp/server_command';
import { DEFAULT_MAX_RESULT_MB, MAX_RESULT_MB, MB } from './data_limits';

export type TransportName = 'stdio' | 'sse' | 'http';

export interface ServerDefinition {
  transport: TransportName;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  /**
   * The environment of the task (Ansible's `environment:` included) that
   * server_env is merged over. Part of the key: a pooled server must see the
   * environment its task would have given it.
   */
  parentEnv?: Record<string, string>;
  cwd?: string;
  url?: string;
  headers?: Record<string, string>;
  validateCerts?: boolean;
  caPath?: string;
  /** Client capabilities declared in initialize. */
  capabilities?: Record<string, unknown>;
  /** max_result_size in bytes: how the session reads the server's answers. */
  maxResultBytes?: number;
}

/** Per-task settings that do not define the session. */
export interface ConnectionSettings {
  timeoutMs: number;
  reuse: boolean;
  idleTimeoutMs: number;
  maxRetries: number;
}

function stringMap(value: unknown, option: string): Record<string, string> | undefined {
  if (value === null || value === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== null && typeof v === 'object') throw new McpAuditError('usage', `${option}.${k} must be a string, not a ${Array.isArray(v) ? 'list' : 'dict'}`);
    out[k] = v === true ? 'true' : v === false ? 'false' : v === null ? '' : String(v);
  }
  return out;
}

/** Shell bookkeeping that differs between otherwise identical tasks; never part of a server's identity. */
const VOLATILE_ENV = new Set(['PWD', 'OLDPWD', 'SHLVL', '_']);

export function taskEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !VOLATILE_ENV.has(k) && !k.startsWith('MCP_AUDIT_BROKER')) out[k] = v;
  return out;
}

function maxResultBytes(p: Record<string, any>): number {
  const mb = p.max_result_size ?? DEFAULT_MAX_RESULT_MB;
  if (!(mb > 0 && mb <= MAX_RESULT_MB)) throw new McpAuditError('usage', `max_result_size must be between 1 and ${MAX_RESULT_MB} (MB), got ${mb}`);
  return Math.round(mb * MB);
}

/** Build the definition from the shared connection options of a task. */
export function serverFromParams(p: Record<string, any>): ServerDefinition {
  const transport = (p.transport === 'streamable_http' ? 'http' : p.transport) as TransportName;
  const maxResult = maxResultBytes(p);
  if (transport === 'stdio') {
    const cwd = p.server_cwd ?? process.cwd();
    const { command, args } = splitServerCommand(p.server_command, p.server_args ?? [], cwd);
    return { transport, command, args, env: stringMap(p.server_env, 'server_env'), parentEnv: taskEnvironment(), cwd, maxResultBytes: maxResult };
  }
  const headers = { ...(stringMap(p.server_headers, 'server_headers') ?? {}) };
  const token = p.bearer_token ?? undefined;
  if (token && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) headers.Authorization = `Bearer ${token}`;
  return {
    transport,
    url: p.server_url,
    headers,
    validateCerts: p.validate_certs ?? true,
    caPath: p.ca_path ?? undefined,
    maxResultBytes: maxResult,
  };
}

export function settingsFromParams(p: Record<string, any>): ConnectionSettings {
  return {
    timeoutMs: Math.max(1, Number(p.timeout ?? 30)) * 1000,
    reuse: p.connection_reuse !== false,
    idleTimeoutMs: Math.max(0, Number(p.connection_timeout ?? 300)) * 1000,
    maxRetries: Math.max(0, Number(p.max_connection_retries ?? 3)),
  };
}

/** Stable JSON (sorted keys) so equal definitions hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as any)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as any)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The pool key: sha256 of the whole definition (secrets included, never shown). */
export function poolKey(def: ServerDefinition): string {
  return createHash('sha256').update(canonical(def)).digest('hex');
}

/** A description safe to show and log: no env values, no header values. */
export function describeServer(def: ServerDefinition): Record<string, unknown> {
  if (def.transport === 'stdio') {
    return {
      transport: 'stdio',
      command: [def.command, ...(def.args ?? [])].join(' '),
      env_keys: Object.keys(def.env ?? {}).sort(),
      ...(def.cwd ? { cwd: def.cwd } : {}),
    };
  }
  const url = new URL(def.url!);
  url.username = url.password = '';
  // The query may carry a key: show that there was one, unencoded (URL.search would percent-encode the ellipsis).
  const query = url.search ? '?…' : '';
  url.search = url.hash = '';
  return { transport: def.transport, url: url.toString() + query, header_names: Object.keys(def.headers ?? {}).sort() };
}
