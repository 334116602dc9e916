import { defineModule } from '../src/ansible/spec';
import { CONNECTION_OPTIONS } from '../src/connection_options';
import { brokerStatus, closePooled, stopBroker } from '../src/broker_control';

export default defineModule({
  name: 'mcp_broker',
  short_description: 'Show, close or stop the pooled MCP connections of the broker',
  description: [
    'The broker is the background process that keeps MCP server sessions open between tasks (O(connection_reuse=true)). It starts on first use and exits by itself once idle.',
    'C(state=status) shows the pool without starting a broker. C(state=absent) closes the pooled connection for the server described by the connection options. C(state=stopped) closes every connection, stops every server it started and stops the broker.',
  ],
  supports_check_mode: true,
  check_mode_support: 'full',
  notes: ['Put an C(mcp_broker) task with C(state=stopped) at the end of a play to leave no process behind.'],
  options: {
    state: {
      description: 'C(status) reports, C(absent) closes one pooled connection, C(stopped) stops the broker.',
      type: 'str',
      default: 'status',
      choices: ['status', 'absent', 'stopped'],
    },
    ...CONNECTION_OPTIONS,
  },
  required_if: [['state', 'absent', ['server_command', 'server_url'], true]],
  examples: `
- name: What is pooled right now?
  tosin2013.mcp_audit.mcp_broker:
    state: status
  register: pool

- name: Restart one server on the next task
  tosin2013.mcp_audit.mcp_broker:
    state: absent
    server_command: npx -y @modelcontextprotocol/server-everything

- name: Clean up at the end of the play
  tosin2013.mcp_audit.mcp_broker:
    state: stopped
`,
  returns: {
    running: { description: 'Whether a broker is running after the task.', returned: 'always', type: 'bool', sample: true },
    broker: {
      description: 'The broker process (before the task, for C(state=stopped)).',
      returned: 'when a broker was running',
      type: 'dict',
      sample: { pid: 4242, version: '2.0.0+ab12cd34ef', uptime_s: 31, socket: '/run/user/1000/mcp_audit/broker-2.0.0-ab12cd34ef.sock', log: '/run/user/1000/mcp_audit/broker.log' },
    },
    connections: {
      description: 'The pooled connections; server commands are shown without environment or header values.',
      returned: 'always',
      type: 'list',
      elements: 'dict',
      sample: [{ key: '3f2a9c0d1b7e', transport: 'stdio', command: 'node server.js', env_keys: ['API_TOKEN'], server_pid: 4250, state: 'ready', age_s: 30.2, idle_s: 1.5, requests: 12 }],
    },
    closed: { description: 'How many pooled connections the task closed.', returned: 'always', type: 'int', sample: 1 },
  },

  async run(p, task) {
    const status = await brokerStatus();
    const connections = status?.connections ?? [];
    if (p.state === 'status') return { changed: false, running: !!status, ...(status ? { broker: status.broker } : {}), connections };

    if (p.state === 'absent') {
      const { closed, matched } = await closePooled(p, status, task.checkMode);
      const left = connections.filter((c) => c.key !== matched);
      return { changed: closed > 0, closed, running: !!status, ...(status ? { broker: status.broker } : {}), connections: task.checkMode ? connections : left };
    }

    if (!status) return { changed: false, closed: 0, running: false, connections: [] };
    if (task.checkMode) return { changed: true, closed: connections.length, running: true, broker: status.broker, connections };
    const closed = await stopBroker(status.broker.pid);
    return { changed: true, closed, running: false, broker: status.broker, connections: [] };
  },
});
