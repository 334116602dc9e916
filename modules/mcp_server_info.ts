import { defineModule } from '../src/ansible/spec';
import { CONNECTION_OPTIONS, CONNECTION_REQUIRED_IF, CONNECTION_RETURNS } from '../src/connection_options';
import { runOnServer } from '../src/connection';
import { mcpFailure, seconds, withCommonKeys } from '../src/results';

const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);

/**
 * 1.1.x's server_info keys: name, version and capabilities under its names, and
 * how many tools/resources/prompts the server offers (null when it does not
 * declare the capability, or the lists were not asked for).
 */
function legacyServerInfo(data: Record<string, any>, listed: boolean) {
  const offered = (list: 'tools' | 'resources' | 'prompts') => (listed && data.capabilities?.[list] ? count(data[list]) : null);
  return {
    server_name: data.server_info?.name ?? null,
    server_version: data.server_info?.version ?? null,
    protocol_version: data.protocol_version,
    capabilities: data.capabilities,
    available_tools: offered('tools'),
    available_resources: offered('resources'),
    available_prompts: offered('prompts'),
  };
}

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

- name: The 1.1.x keys are there too
  ansible.builtin.debug:
    msg: "{{ info.server_info.server_name }}: {{ info.server_info.available_tools }} tools, capabilities {{ info.server_info.capabilities.keys() | list }}"
`,
  returns: {
    ...CONNECTION_RETURNS,
    status: { description: 'C(connected) or C(failed).', returned: 'always', type: 'str', sample: 'connected' },
    server_info: {
      description: 'The server\'s C(serverInfo) (name, version, title), and the 1.1.x keys.',
      returned: 'success',
      type: 'dict',
      sample: { name: 'mcp-servers/everything', version: '2.0.0', server_name: 'mcp-servers/everything', server_version: '2.0.0', protocol_version: '2025-11-25', capabilities: { tools: {}, prompts: {} }, available_tools: 13, available_resources: null, available_prompts: 4 },
      contains: {
        name: { description: 'The server\'s name.', returned: 'always', type: 'str' },
        version: { description: 'The server\'s version.', returned: 'always', type: 'str' },
        server_name: { description: 'Same as C(name) (kept for 1.1.x compatibility).', returned: 'always', type: 'str' },
        server_version: { description: 'Same as C(version) (kept for 1.1.x compatibility).', returned: 'always', type: 'str' },
        protocol_version: { description: 'Same as the top-level C(protocol_version) (kept for 1.1.x compatibility).', returned: 'always', type: 'str' },
        capabilities: { description: 'Same as the top-level C(capabilities) (kept for 1.1.x compatibility).', returned: 'always', type: 'dict' },
        available_tools: { description: 'How many tools the server offers; null when it does not declare C(tools) or O(include_lists=false) (kept for 1.1.x compatibility).', returned: 'always', type: 'int' },
        available_resources: { description: 'How many resources the server offers; null when it does not declare C(resources) or O(include_lists=false) (kept for 1.1.x compatibility).', returned: 'always', type: 'int' },
        available_prompts: { description: 'How many prompts the server offers; null when it does not declare C(prompts) or O(include_lists=false) (kept for 1.1.x compatibility).', returned: 'always', type: 'int' },
      },
    },
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

  run: withCommonKeys(async (p) => {
    const started = performance.now();
    try {
      const { data, connection } = await runOnServer(p, 'server_info', { lists: p.include_lists });
      const counts = p.include_lists
        ? { tools: count(data.tools), resources: count(data.resources), resource_templates: count(data.resource_templates), prompts: count(data.prompts) }
        : undefined;
      const server_info = { ...(data.server_info as object), ...legacyServerInfo(data, p.include_lists) };
      return { ...data, server_info, ...(counts ? { counts } : {}), success: true, status: 'connected', connection, execution_time: seconds(started) };
    } catch (e) {
      return mcpFailure(e, { status: 'failed' }, started);
    }
  }),
});
