import { defineModule } from '../src/ansible/spec';
import { CONNECTION_OPTIONS, CONNECTION_REQUIRED_IF, CONNECTION_RETURNS } from '../src/connection_options';
import { runOnServer } from '../src/connection';
import { judgeToolCall } from '../src/checks/tool';
import { FAIL_ON_ERROR_OPTION, mcpFailure, SCAN_FINDINGS_RETURN, SCAN_RESULT_OPTION, seconds, testOutcome, VALIDATION_RETURN, withCommonKeys } from '../src/results';

export default defineModule({
  name: 'mcp_test_tool',
  short_description: 'Call a tool on an MCP server and check its result',
  description: [
    'Calls one tool on an MCP server and reports whether the call passed.',
    'Before sending, O(tool_arguments) are validated against the tool\'s C(inputSchema); a structured result is validated against its C(outputSchema).',
    'The task fails when the test does not pass: the tool answered C(isError) (unless O(expect_error=true)) or O(expected_result) did not match. O(fail_on_error=false) keeps the task ok, as 1.1.x did.',
    'C(changed) follows the tool\'s annotations: false for tools annotated C(readOnlyHint: true), true otherwise.',
  ],
  supports_check_mode: true,
  check_mode_support: 'partial',
  check_mode_details: 'Only tools annotated C(readOnlyHint: true) are called in check mode; other calls are skipped and reported.',
  options: {
    tool_name: { description: 'Name of the tool to call.', type: 'str', required: true, aliases: ['name'] },
    tool_arguments: { description: 'Arguments for the tool.', type: 'dict', default: {}, aliases: ['arguments'] },
    expected_result: {
      description: [
        'What the tool should return. A string or number must equal the text content (numbers compare as numbers, so "42" matches 42).',
        'A dict or list must be contained in C(structuredContent), or in the text content parsed as JSON.',
      ],
      type: 'raw',
    },
    expect_error: { description: 'The test passes only when the tool answers with C(isError: true).', type: 'bool', default: false },
    validate_schema: {
      description: 'Validate O(tool_arguments) against the tool\'s C(inputSchema) before sending, and C(structuredContent) against its C(outputSchema).',
      type: 'bool',
      default: true,
    },
    scan_result: SCAN_RESULT_OPTION,
    fail_on_error: FAIL_ON_ERROR_OPTION,
    ...CONNECTION_OPTIONS,
  },
  required_if: CONNECTION_REQUIRED_IF,
  examples: `
- name: Echo through server-everything
  tosin2013.mcp_audit.mcp_test_tool:
    server_command: npx -y @modelcontextprotocol/server-everything
    tool_name: echo
    tool_arguments:
      message: hello
    expected_result: "Echo: hello"

- name: A tool that must refuse bad input
  tosin2013.mcp_audit.mcp_test_tool:
    server_command: node
    server_args: [/opt/servers/my-server.js]
    tool_name: divide
    tool_arguments: {a: 1, b: 0}
    expect_error: true

- name: Call without failing the play, then inspect (the 1.1.x way)
  tosin2013.mcp_audit.mcp_test_tool:
    server_command: npx -y @modelcontextprotocol/server-everything
    tool_name: get-sum
    tool_arguments: {a: 2, b: 3}
    expected_result: 5
    fail_on_error: false
  register: sum

- name: Report it
  ansible.builtin.debug:
    msg: "get-sum {{ 'passed' if sum.test_passed else 'failed: ' ~ sum.msg }}"
`,
  returns: {
    ...CONNECTION_RETURNS,
    status: { description: 'C(passed), C(failed) or C(skipped) (check mode).', returned: 'always', type: 'str', sample: 'passed' },
    test_passed: { description: 'Whether the call met every expectation.', returned: 'always', type: 'bool', sample: true },
    tool_name: { description: 'The tool that was called.', returned: 'always', type: 'str', sample: 'echo' },
    tool_result: {
      description: 'What the tool returned.',
      returned: 'when the tool was called',
      type: 'dict',
      contains: {
        content: { description: 'The content blocks (text, image, resource, ...).', returned: 'always', type: 'list', elements: 'dict', sample: [{ type: 'text', text: 'Echo: hello' }] },
        structured_content: { description: 'C(structuredContent), when the tool returns it.', returned: 'when returned', type: 'raw' },
        is_error: { description: 'The tool\'s C(isError) flag.', returned: 'always', type: 'bool', sample: false },
        isError: { description: 'Same as C(is_error) (kept for 1.1.x compatibility).', returned: 'always', type: 'bool', sample: false },
        structuredContent: { description: 'Same as C(structured_content), null when the tool returned none (kept for 1.1.x compatibility).', returned: 'always', type: 'raw' },
        meta: { description: 'The result\'s C(_meta), or null (kept for 1.1.x compatibility).', returned: 'always', type: 'dict' },
      },
    },
    tool_annotations: { description: 'The tool\'s annotations (readOnlyHint, destructiveHint, ...).', returned: 'when the tool was found', type: 'dict' },
    validation: VALIDATION_RETURN,
    scan_findings: SCAN_FINDINGS_RETURN,
  },

  run: withCommonKeys(async (p, task) => {
    const started = performance.now();
    let reply;
    try {
      reply = await runOnServer(p, 'call_tool', {
        name: p.tool_name,
        arguments: p.tool_arguments ?? {},
        check_mode: task.checkMode,
        validate_input: p.validate_schema,
        validate_output: p.validate_schema,
      });
    } catch (e) {
      return mcpFailure(e, { tool_name: p.tool_name, test_passed: false, status: 'failed' }, started);
    }
    const { tool, skipped, input_errors } = reply.data;
    const base = { tool_name: p.tool_name, tool_annotations: tool.annotations ?? {}, connection: reply.connection, execution_time: seconds(started) };

    if (input_errors.length) {
      return {
        ...base,
        failed: p.fail_on_error,
        success: false,
        test_passed: false,
        status: 'failed',
        msg: `tool_arguments do not match the inputSchema of tool '${p.tool_name}' (nothing was sent): ${input_errors.join('; ')}`,
        validation: { valid: false, matches_expected: null, errors: input_errors, warnings: [] },
      };
    }
    if (skipped) {
      return {
        ...base,
        changed: true,
        skipped: true,
        success: true,
        test_passed: false,
        status: 'skipped',
        msg: `check mode: would have called tool '${p.tool_name}' (not called because it is not annotated readOnlyHint: true)`,
      };
    }

    const scan = p.scan_result ? (await import('../src/security/tool_result')).scanToolResult : undefined;
    const verdict = judgeToolCall(p.tool_name, reply.data, { ...p, scan });
    return {
      ...base,
      changed: verdict.changed,
      ...testOutcome(verdict, p.fail_on_error),
      tool_result: verdict.tool_result,
      validation: verdict.validation,
      ...(verdict.scan_findings ? { scan_findings: verdict.scan_findings } : {}),
    };
  }),
});
