/**
 * The connection options every MCP module shares (the 1.1.x names), their
 * rules, and the return values every MCP module shares. Declared once here;
 * modules spread them into their own declarations.
 */
import type { OptionSpecs, RequiredIf, ReturnSpec } from './ansible/spec';
import { DEFAULT_MAX_RESULT_MB, MAX_NESTING, MAX_RESULT_MB } from './data_limits';

/** The longest a Node timer can wait (about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
export const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

export const CONNECTION_OPTIONS: OptionSpecs = {
  transport: {
    description: [
      'How to reach the MCP server.',
      '`stdio` starts O(server_command) and talks over its stdin/stdout.',
      '`sse` (legacy HTTP+SSE) and `http` (streamable HTTP; `streamable_http` is accepted too) connect to O(server_url).',
    ],
    type: 'str',
    default: 'stdio',
    choices: ['stdio', 'sse', 'http', 'streamable_http'],
  },
  server_command: {
    description: [
      'Command that starts a stdio server. Required when O(transport=stdio).',
      'When O(server_args) is empty and the command contains spaces, it is split with shell quoting rules (for example `npx -y @modelcontextprotocol/server-everything`). No shell is run.',
      'A command that as a whole is the path of an existing file (for example `/opt/my tools/server.sh`) is run as that file, spaces and all; a relative path is taken from O(server_cwd).',
    ],
    type: 'str',
  },
  server_args: {
    description: 'Arguments for O(server_command).',
    type: 'list',
    elements: 'str',
    default: [],
  },
  server_env: {
    description: [
      'Environment variables for a stdio server, merged over the environment the module runs in.',
      'Values are treated as secrets: they never appear in results, logs or errors.',
    ],
    type: 'dict',
    no_log: true,
  },
  server_cwd: {
    description: 'Working directory of a stdio server.',
    type: 'path',
  },
  server_url: {
    description: 'URL of an SSE or streamable HTTP server. Required when O(transport) is `sse` or `http`.',
    type: 'str',
  },
  server_headers: {
    description: 'HTTP headers sent to an SSE or streamable HTTP server (for example an API key). Values never appear in output.',
    type: 'dict',
    no_log: true,
  },
  bearer_token: {
    description: [
      'Bearer token for an SSE or streamable HTTP server, sent as C(Authorization: Bearer <token>) unless O(server_headers) already has an Authorization header.',
      'Read from the environment variable E(MCP_BEARER_TOKEN) when not given.',
    ],
    type: 'str',
    no_log: true,
    env_fallback: ['MCP_BEARER_TOKEN'],
  },
  validate_certs: {
    description: 'Verify the TLS certificate of an https:// O(server_url). Set false only for test servers.',
    type: 'bool',
    default: true,
  },
  ca_path: {
    description: 'PEM file with the CA certificate(s) that sign the server\'s certificate (for private CAs and self-signed test servers).',
    type: 'path',
  },
  timeout: {
    description: [
      'Seconds to wait for each MCP request (initialize included).',
      'A request that takes longer is cancelled (notifications/cancelled) and the task fails with "timed out after N s".',
      'A task of many requests (a suite, pages of a list) takes as long as its requests do. With O(connection_reuse=true) the task also gives up on a broker it has not heard from (it sends a heartbeat every second while it works) for O(timeout) + 5 seconds; the broker then sends nothing more for that task.',
    ],
    type: 'int',
    default: 30,
    min: 1,
    max: MAX_TIMER_SECONDS,
  },
  connection_reuse: {
    description: [
      'Keep the server session open in the broker so later tasks with the same server definition reuse it.',
      'When false, the task opens its own connection and closes it (stopping a stdio server) before it returns.',
    ],
    type: 'bool',
    default: true,
  },
  connection_timeout: {
    description: [
      'Seconds a pooled connection may stay idle before the broker closes it. Only with O(connection_reuse=true).',
      '0 closes it as soon as no task uses it (tasks running at the same time, as with forks, still share it).',
    ],
    type: 'int',
    default: 300,
    min: 0,
    max: MAX_TIMER_SECONDS,
  },
  max_result_size: {
    description: [
      `Largest result, in MB (1 MB = 1,048,576 bytes; at most ${MAX_RESULT_MB}), accepted from the server for one request; a larger one fails the task with "result of N MB exceeds max_result_size" instead of stalling the broker.`,
      `A result that nests objects and lists more than ${MAX_NESTING} levels deep fails too, and so does an option nested that deep (Ansible itself fails on data a few hundred levels deep).`,
      'Part of the server definition: tasks with different values do not share a pooled session.',
    ],
    type: 'int',
    default: DEFAULT_MAX_RESULT_MB,
  },
  max_connection_retries: {
    description: [
      'How many times a failed connect/initialize is retried, with exponential backoff.',
      'A pooled connection found dead is replaced transparently. A tool call that already reached the server is never replayed.',
    ],
    type: 'int',
    default: 3,
    min: 0,
  },
};

export const CONNECTION_REQUIRED_IF: readonly RequiredIf[] = [
  ['transport', 'stdio', ['server_command']],
  ['transport', 'sse', ['server_url']],
  ['transport', 'http', ['server_url']],
  ['transport', 'streamable_http', ['server_url']],
];

export const CONNECTION_RETURNS: Record<string, ReturnSpec> = {
  success: { description: 'Whether the MCP work of the task completed (1.1.x compatible).', returned: 'always', type: 'bool', sample: true },
  execution_time: { description: 'Seconds the task spent on MCP work.', returned: 'always', type: 'float', sample: 0.012 },
  connection: {
    description: 'How the task reached the server.',
    returned: 'when the server was contacted',
    type: 'dict',
    contains: {
      reused: { description: 'True when a warm pooled session served the task (no server start, no initialize).', returned: 'always', type: 'bool' },
      pooled: { description: 'True when the broker served the task (O(connection_reuse=true)).', returned: 'always', type: 'bool' },
      reconnected: { description: 'True when the pooled session had died and was replaced for this task.', returned: 'when pooled', type: 'bool' },
      attempts: { description: 'Connect attempts made for this task (0 when a warm session was reused).', returned: 'always', type: 'int' },
      server_pid: { description: 'PID of the stdio server process.', returned: 'for stdio', type: 'int' },
    },
  },
  error: {
    description: [
      'What went wrong when the task could not do its work (server unreachable, unknown tool, request error); null otherwise (kept for 1.1.x compatibility).',
      'A test that ran and did not pass has a null C(error); C(msg) and C(validation) say why.',
    ],
    returned: 'always',
    type: 'str',
    sample: null,
  },
  metadata: {
    description: 'Kept for 1.1.x compatibility.',
    returned: 'always',
    type: 'dict',
    contains: {
      timestamp: { description: 'When the task finished, UTC, ISO 8601.', returned: 'always', type: 'str', sample: '2026-01-15T09:30:12.345Z' },
    },
  },
};
