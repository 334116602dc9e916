/**
 * The broker side of mcp_security_scan: list everything a server shows the
 * model, and notice when it shows something else than before in the same
 * session (a rug pull announced with notifications/.../list_changed).
 */
import { EmptyResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { ListName, McpSession } from '../mcp/session';
import type { ServerSurface } from './types';

export interface SurfaceListing {
  surface: ServerSurface;
  /** The lists as this session first showed them, when the server has changed them since (mid-session). */
  earlier?: ServerSurface;
  elapsed_ms: number;
}

/** Definitions a client approves once; resources are data and change legitimately. */
const PINNED_LISTS: ListName[] = ['tools', 'prompts', 'resource_templates'];

async function listEverything(session: McpSession, timeoutMs: number): Promise<ServerSurface> {
  session.invalidateTools();
  const [tools, prompts, resources, resource_templates] = await Promise.all([
    session.listAll('tools', timeoutMs),
    session.listAll('prompts', timeoutMs),
    session.listAll('resources', timeoutMs),
    session.listAll('resource_templates', timeoutMs),
  ]);
  const { name, version, title } = (session.serverVersion ?? {}) as ServerSurface['server_info'];
  return { server_info: { name, version, title }, instructions: session.instructions ?? null, tools, prompts, resources, resource_templates };
}

export async function listSurface(session: McpSession, timeoutMs: number): Promise<SurfaceListing> {
  const started = Date.now();
  const notified = session.listChanges;
  // Taken before listing: on a fresh session, this listing becomes the first one.
  const first = { ...session.firstListed };
  let surface = await listEverything(session, timeoutMs);
  // A list_changed sent while we listed arrives before the answer to a later request (one ordered
  // stream): a ping flushes it, and a second listing shows what the model would see next.
  await session.request('ping', undefined, EmptyResultSchema, timeoutMs);
  if (session.listChanges !== notified) surface = await listEverything(session, timeoutMs);

  const earlierLists = Object.fromEntries(PINNED_LISTS.map((name) => [name, first[name] ?? session.firstListed[name] ?? []]));
  const differs = PINNED_LISTS.some((name) => JSON.stringify(earlierLists[name]) !== JSON.stringify(surface[name]));
  return { surface, ...(differs ? { earlier: { ...surface, ...earlierLists } } : {}), elapsed_ms: Date.now() - started };
}
