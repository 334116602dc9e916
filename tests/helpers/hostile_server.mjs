#!/usr/bin/env node
/**
 * A hostile stdio MCP server for fault injection: one script, one quirk per
 * mode (argv[2], or $HOSTILE_MODE). It speaks just enough MCP by hand
 * (initialize, tools/list, tools/call, ping) to get a session going, so each
 * quirk is exactly what the test asks for and nothing the SDK would smooth over.
 *
 * Every mode serves two tools:
 *   echo   {message}  answers "Echo: <message>" (the session is healthy)
 *   quirk  {...}      does the mode's misbehaviour:
 *
 *   exit-with-child   forks a child that inherits stdout/stderr and lives on, writes
 *                     "hostile: exiting with code 7" on stderr and exits 7 (no answer)
 *   close-stdout      closes its stdout and keeps running (stdin still read, nothing answered)
 *   big               answers with a text of {mb} MB (default 60); {id_first: true}
 *                     puts "id" before "result" in the line
 *   deep              answers with structuredContent nested {depth} levels deep
 *                     (default 5000); the tool declares an outputSchema
 *   secret-stderr     writes {before} filler characters, $HOSTILE_SECRET and {after}
 *                     filler characters on stderr, then exits 3 (no answer)
 *   secret-garbage    writes a non-JSON stdout line of {before} filler characters,
 *                     $HOSTILE_SECRET and {after} filler characters, then exits 3
 *
 * Each line written on stdout is one JSON-RPC message, as the stdio transport wants.
 */
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { createInterface } from 'node:readline';

const mode = process.argv[2] ?? process.env.HOSTILE_MODE ?? '';
const MODES = ['exit-with-child', 'close-stdout', 'big', 'deep', 'secret-stderr', 'secret-garbage'];
if (!MODES.includes(mode)) {
  process.stderr.write(`hostile_server: unknown mode '${mode}'; modes: ${MODES.join(', ')}\n`);
  process.exit(2);
}

let stdoutClosed = false;
// Once stdout is closed the server stays silent: a wedged server, not a crashing one.
const write = (line) => stdoutClosed || process.stdout.write(line + '\n');
const send = (message) => write(JSON.stringify(message));
const reply = (id, result) => send({ jsonrpc: '2.0', id, result });

/** {"a":{"a":...{"leaf":true}...}} `depth` levels deep, built as text (no recursion here either). */
const nested = (depth) => '{"a":'.repeat(depth - 1) + '{"leaf":true}' + '}'.repeat(depth - 1);

const TOOLS = [
  { name: 'echo', description: 'Echoes the message', inputSchema: { type: 'object', properties: { message: { type: 'string' } } } },
  {
    name: 'quirk',
    description: `Misbehaves: ${mode}`,
    inputSchema: { type: 'object' },
    ...(mode === 'deep' ? { outputSchema: { type: 'object', properties: { a: { type: 'object' } } } } : {}),
  },
];

function quirk(id, args) {
  const filler = (n) => 'x'.repeat(Math.max(0, Number(n ?? 0)));
  switch (mode) {
    case 'exit-with-child': {
      // The child keeps our stdout and stderr open long after we are gone.
      spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: ['ignore', 'inherit', 'inherit'] });
      process.stderr.write('hostile: exiting with code 7\n', () => process.exit(7));
      return;
    }
    case 'close-stdout':
      process.stderr.write('hostile: closing stdout, staying alive\n');
      stdoutClosed = true;
      closeSync(1);
      setInterval(() => {}, 1000);
      return;
    case 'big': {
      const text = 'y'.repeat(Math.round(Number(args.mb ?? 60) * 1024 * 1024));
      const result = JSON.stringify({ content: [{ type: 'text', text }] });
      write(args.id_first ? `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${result}}` : `{"result":${result},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`);
      return;
    }
    case 'deep': {
      const depth = Number(args.depth ?? 5000);
      write(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":{"content":[{"type":"text","text":"deep"}],"structuredContent":${nested(depth)}}}`);
      return;
    }
    case 'secret-stderr':
      process.stderr.write(filler(args.before) + (process.env.HOSTILE_SECRET ?? '') + filler(args.after), () => process.exit(3));
      return;
    case 'secret-garbage':
      write(filler(args.before) + (process.env.HOSTILE_SECRET ?? '') + filler(args.after));
      process.stderr.write('hostile: wrote garbage\n', () => process.exit(3));
      return;
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    return;
  }
  const { id, method, params } = message;
  if (id === undefined) return; // notifications
  switch (method) {
    case 'initialize':
      return reply(id, {
        protocolVersion: params?.protocolVersion ?? '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: `hostile-${mode}`, version: '1.0.0' },
      });
    case 'ping':
      return reply(id, {});
    case 'tools/list':
      return reply(id, { tools: TOOLS });
    case 'tools/call':
      if (params?.name === 'echo') return reply(id, { content: [{ type: 'text', text: `Echo: ${params.arguments?.message ?? ''}` }] });
      if (params?.name === 'quirk') return quirk(id, params.arguments ?? {});
      return send({ jsonrpc: '2.0', id, error: { code: -32602, message: `Tool ${params?.name} not found` } });
    default:
      return send({ jsonrpc: '2.0', id, error: { code: -32601, message: `Method not found: ${method}` } });
  }
});
