/**
 * Test helpers for the security rules: start a stdio MCP server with the SDK
 * client and list everything it offers (every page) into a ServerSurface,
 * the way mcp_security_scan sees a server.
 *
 *   const server = await startStdio([POISONED_SERVER, 'override']);
 *   const surface = await listSurface(server.client);
 *   await server.close();
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ServerSurface } from '../../src/security/types';

const here = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(here, '..', '..');
const MCP = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol');

export const POISONED_SERVER = join(here, 'poisoned_server.mjs');
/** The reference servers the rules must stay quiet on (entry points, run with node). */
export const CLEAN_SERVERS = {
  everything: join(MCP, 'server-everything', 'dist', 'index.js'),
  memory: join(MCP, 'server-memory', 'dist', 'index.js'),
  filesystem: join(MCP, 'server-filesystem', 'dist', 'index.js'),
  'sequential-thinking': join(MCP, 'server-sequential-thinking', 'dist', 'index.js'),
};

export interface StdioServer {
  client: Client;
  /** Ends the session and the server process. */
  close(): Promise<void>;
}

/** `node <args...>` as a stdio MCP server, connected and initialized. */
export async function startStdio(args: string[], env: Record<string, string> = {}): Promise<StdioServer> {
  const client = new Client({ name: 'mcp-audit-security-tests', version: '1.0.0' });
  const transport = new StdioClientTransport({ command: process.execPath, args, env: { ...getDefaultEnvironment(), ...env }, stderr: 'pipe' });
  await client.connect(transport);
  return { client, close: () => client.close() };
}

/** Every page of one list: `fetch(cursor)` returns the items and the next cursor. */
async function allPages<T>(fetch: (cursor?: string) => Promise<{ items: T[]; nextCursor?: string }>): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await fetch(cursor);
    items.push(...page.items);
    cursor = page.nextCursor;
    // A server that hands out the same cursor twice would keep us here forever.
    if (cursor !== undefined && seen.has(cursor)) throw new Error(`the server repeated cursor ${JSON.stringify(cursor)}`);
    if (cursor !== undefined) seen.add(cursor);
  } while (cursor !== undefined);
  return items;
}

const pageOf = <K extends string, T>(result: { [k in K]: T[] } & { nextCursor?: string }, key: K) => ({ items: result[key], nextCursor: result.nextCursor });

/** Everything the server offers the model, every list read to its last page. */
export async function listSurface(client: Client): Promise<ServerSurface> {
  const caps = client.getServerCapabilities() ?? {};
  const info = client.getServerVersion();
  return {
    server_info: { name: info?.name, version: info?.version, title: info?.title },
    instructions: client.getInstructions() ?? null,
    tools: caps.tools ? await allPages(async (cursor) => pageOf(await client.listTools({ cursor }), 'tools')) : [],
    prompts: caps.prompts ? await allPages(async (cursor) => pageOf(await client.listPrompts({ cursor }), 'prompts')) : [],
    resources: caps.resources ? await allPages(async (cursor) => pageOf(await client.listResources({ cursor }), 'resources')) : [],
    resource_templates: caps.resources ? await allPages(async (cursor) => pageOf(await client.listResourceTemplates({ cursor }), 'resourceTemplates')) : [],
  };
}
