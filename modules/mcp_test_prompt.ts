import { defineModule } from '../src/ansible/spec';
import { CONNECTION_OPTIONS, CONNECTION_REQUIRED_IF, CONNECTION_RETURNS } from '../src/connection_options';
import { runOnServer } from '../src/connection';
import { judgePrompt, promptArguments } from '../src/checks/prompt';
import { FAIL_ON_ERROR_OPTION, mcpFailure, seconds, testOutcome, VALIDATION_RETURN, withCommonKeys } from '../src/results';

export default defineModule({
  name: 'mcp_test_prompt',
  short_description: 'Get a prompt from an MCP server and check its messages',
  description: [
    'Gets one prompt (C(prompts/get)) with arguments and checks the messages it returns.',
    'O(prompt_arguments) are checked against the prompt\'s declared arguments first: missing required ones and unknown ones are named, and nothing is sent.',
    'The task fails when a check does not pass; O(fail_on_error=false) keeps it ok, as 1.1.x did.',
  ],
  supports_check_mode: true,
  check_mode_support: 'full',
  check_mode_details: 'Getting a prompt changes nothing, so it runs in check mode too.',
  options: {
    prompt_name: { description: 'Name of the prompt.', type: 'str', required: true, aliases: ['name'] },
    prompt_arguments: { description: 'Arguments for the prompt (MCP prompt arguments are strings; other values are converted).', type: 'dict', default: {}, aliases: ['arguments'] },
    expected_messages_min: { description: 'The prompt must return at least this many messages.', type: 'int', default: 1 },
    expected_content_regex: { description: 'Regular expression (JavaScript syntax) that the text of the messages must match.', type: 'str' },
    fail_on_error: FAIL_ON_ERROR_OPTION,
    ...CONNECTION_OPTIONS,
  },
  required_if: CONNECTION_REQUIRED_IF,
  examples: `
- name: A prompt with arguments
  tosin2013.mcp_audit.mcp_test_prompt:
    server_command: npx -y @modelcontextprotocol/server-everything
    prompt_name: args-prompt
    prompt_arguments:
      city: Lagos
      state: Lagos State
    expected_messages_min: 1
    expected_content_regex: Lagos
`,
  returns: {
    ...CONNECTION_RETURNS,
    status: { description: 'C(passed) or C(failed).', returned: 'always', type: 'str', sample: 'passed' },
    test_passed: { description: 'Whether every check passed.', returned: 'always', type: 'bool', sample: true },
    prompt_name: { description: 'The prompt that was requested.', returned: 'always', type: 'str' },
    description: { description: 'The description the server returned with the prompt.', returned: 'when given', type: 'str' },
    messages: { description: 'The messages (role and content).', returned: 'when the prompt was returned', type: 'list', elements: 'dict', sample: [{ role: 'user', content: { type: 'text', text: "What's weather in Lagos, Lagos State?" } }] },
    message_count: { description: 'How many messages were returned.', returned: 'when the prompt was returned', type: 'int', sample: 1 },
    prompt_definition: { description: 'The prompt as listed by the server (name, description, arguments).', returned: 'when the prompt exists', type: 'dict' },
    prompt_result: {
      description: 'The C(prompts/get) result as the server sent it (kept for 1.1.x compatibility).',
      returned: 'when the prompt was returned',
      type: 'dict',
      contains: {
        description: { description: 'The description the server returned, or null.', returned: 'always', type: 'str', sample: 'Simple prompt without arguments' },
        messages: { description: 'The messages (role and content).', returned: 'always', type: 'list', elements: 'dict', sample: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt' } }] },
        meta: { description: 'The result\'s C(_meta), or null.', returned: 'always', type: 'dict' },
      },
    },
    validation: {
      ...VALIDATION_RETURN,
      contains: {
        ...VALIDATION_RETURN.contains,
        has_messages: { description: 'The prompt returned at least one message (kept for 1.1.x compatibility).', returned: 'always', type: 'bool', sample: true },
      },
    },
  },

  run: withCommonKeys(async (p) => {
    const started = performance.now();
    const args = promptArguments(p.prompt_arguments);
    try {
      const { data, connection } = await runOnServer(p, 'get_prompt', { name: p.prompt_name, arguments: args });
      const verdict = judgePrompt(p.prompt_name, data.result, p);
      return {
        ...testOutcome(verdict, p.fail_on_error),
        prompt_name: p.prompt_name,
        ...(data.result.description ? { description: data.result.description } : {}),
        messages: verdict.messages,
        message_count: verdict.messages.length,
        prompt_definition: data.prompt,
        prompt_result: { description: data.result.description ?? null, messages: verdict.messages, meta: data.result._meta ?? null },
        validation: verdict.validation,
        connection,
        execution_time: seconds(started),
      };
    } catch (e) {
      return mcpFailure(e, { prompt_name: p.prompt_name, test_passed: false, status: 'failed' }, started);
    }
  }),
});
