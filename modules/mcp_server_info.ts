import { defineModule } from '../src/ansible/spec';
import { CONNECTION_OPTIONS, CONNECTION_REQUIRED_IF, CONNECTION_RETURNS } from '../src/connection_options';
import { runOnServer } from '../src/connection';
import { mcpFailure, seconds } from '../src/results';

const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);

export default defineModule({
  name: 'mcp_server_info',
  short_description: 'Gather what an MCP server is and offers',
  description: [
    'Initializes a session and reports the server name and version, the negotiated protocol version, capabilities and instructions.',
    'Lists every tool, resource, resource template and prompt, following pagination to the last page.',
  ],
  supports_check_mode: true,
  check_mode_support: 'full',
  options: {
    include_lists: {
      description: 'List tools, resources, resource templates and prompts. Set false to only initialize.',
      type: 'bool',
      default: true,
    },
    ...CONNECTION_OPTIONS,
  },
  required_if: CONNECTION_REQUIRED_IF,
  examples: `
- name: What does server-everything offer?
  tosin2013.mcp_audit.mcp_server_info:
    server_command: npx -y @modelcontextprotocol/server-everything
  register: info

- name: It must offer an echo tool
  ansible.builtin.assert:
    that: "'echo' in info.tools | map(attribute='name')"
`,
  returns: {
    ...CONNECTION_RETURNS,
    status: { description: 'C(connected) or C(failed).', returned: 'always', type: 'str', sample: 'connected' },
    server_info: { description: 'The server\'s C(serverInfo) (name, version, title).', returned: 'success', type: 'dict', sample: { name: 'mcp-servers/everything', version: '2.0.0' } },
    protocol_version: { description: 'The negotiated MCP protocol version.', returned: 'success', type: 'str', sample: '2025-11-25' },
    capabilities: { description: 'The server\'s declared capabilities.', returned: 'success', type: 'dict' },
    instructions: { description: 'The server\'s instructions, or null.', returned: 'success', type: 'str' },
    tools: { description: 'Every tool (name, description, inputSchema, outputSchema, annotations).', returned: 'when include_lists', type: 'list', elements: 'dict' },
    resources: { description: 'Every resource.', returned: 'when include_lists', type: 'list', elements: 'dict' },
    resource_templates: { description: 'Every resource template.', returned: 'when include_lists', type: 'list', elements: 'dict' },
    prompts: { description: 'Every prompt.', returned: 'when include_lists', type: 'list', elements: 'dict' },
    counts: {
      description: 'How many of each the server offers.',
      returned: 'when include_lists',
      type: 'dict',
      sample: { tools: 13, resources: 100, resource_templates: 1, prompts: 4 },
    },
  },

  async run(p) {
    const started = performance.now();
    try {
      const { data, connection } = await runOnServer(p, 'server_info', { lists: p.include_lists });
      const counts = p.include_lists
        ? { tools: count(data.tools), resources: count(data.resources), resource_templates: count(data.resource_templates), prompts: count(data.prompts) }
        : undefined;
      return { ...data, ...(counts ? { counts } : {}), success: true, status: 'connected', connection, execution_time: seconds(started) };
    } catch (e) {
      return mcpFailure(e, { status: 'failed' }, started);
    }
  },
});
