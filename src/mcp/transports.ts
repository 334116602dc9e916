/**
 * Which transport carries a session: the only place that knows how a server
 * is reached. Sessions and the broker's pool see only the SDK's Transport.
 * HTTP code (undici, the SDK's HTTP clients) loads only when it is used.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ServerDefinition } from '../server_definition';
import { StdioServerTransport } from './stdio_transport';

export async function openTransport(def: ServerDefinition): Promise<Transport> {
  if (def.transport === 'stdio') {
    return new StdioServerTransport({
      command: def.command!,
      args: def.args ?? [],
      env: def.env,
      parentEnv: def.parentEnv,
      cwd: def.cwd,
      maxResultBytes: def.maxResultBytes,
      secrets: Object.values(def.env ?? {}),
    });
  }
  const { httpTransport } = await import('./http_transport');
  return httpTransport(def);
}
