/**
 * Which transport carries a session: the only place that knows how a server
 * is reached. Sessions and the broker's pool see only the SDK's Transport.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpAuditError } from '../errors';
import type { ServerDefinition } from '../server_definition';
import { StdioServerTransport } from './stdio_transport';

export function openTransport(def: ServerDefinition, _timeoutMs: number): Transport {
  switch (def.transport) {
    case 'stdio':
      return new StdioServerTransport({ command: def.command!, args: def.args ?? [], env: def.env, parentEnv: def.parentEnv, cwd: def.cwd });
    default:
      throw new McpAuditError('usage', `transport '${def.transport}' is not supported yet; use transport: stdio`);
  }
}
