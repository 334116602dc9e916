/**
 * 1.1.x playbooks against 2.0.0: the scenarios of the Python collection's own
 * tests/integration (test-runner.yml, the module targets, test_all_modules_phase2.yml,
 * test-llm-integration.yml) and its README and module EXAMPLES, played by real
 * ansible-playbook against servers of ours that behave like 1.1.x's sample
 * servers (tests/helpers/sample_servers: a calculator, a prompts server, and a
 * resources server that answers resources/templates/list with -32601).
 *
 * The playbooks are 1.1.x's, with these changes only: the collection name
 * (`mcp.audit.` became `tosin2013.mcp_audit.`), the server paths (ours are
 * .mjs files run by node), and where a 1.1.x target asserted keys that 1.1.x's
 * modules never returned (`calculator_info.tool_count`, `add_result.result`,
 * `validation.passed`), the keys they did return. The phase-2 playbook also
 * drops its display-only and timing tasks (intro, comparison and summary
 * debug output, the execution-time sums) and its third connection-less task.
 * Tasks run pooled, as in 1.1.x
 * (connection_reuse defaults to true), inside a block that stops the broker.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { startFakeLlm, type FakeLlm } from '../helpers/fake_llm';
import { everythingServer, NODE, type Task } from './harness';
import { expectCleanEnd, HELPERS_DIR, out, pooledRun } from './modules-helpers';
import { startEverything, type HttpEverything } from './transport-helpers';

const SERVERS = join(HELPERS_DIR, 'sample_servers');
const CALCULATOR = join(SERVERS, 'calculator.mjs');
/** What 1.1.x's playbooks pass as vars (`python_for_mcp_server` ran the .py servers). */
const VARS = { test_servers_path: SERVERS, python_for_mcp_server: NODE };

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const tasks = (yaml: string) => parse(yaml) as Task[];

/** The keys every 1.1.x module result carried. */
function expectCommonKeys(result: Record<string, any>, failed = false) {
  expect(result.metadata?.timestamp, JSON.stringify(result)).toMatch(ISO_UTC);
  expect(typeof result.execution_time).toBe('number');
  expect(typeof result.changed).toBe('boolean');
  if (failed) {
    expect(result.success).toBe(false);
    expect(typeof result.error).toBe('string');
  } else {
    expect(result.success).toBe(true);
    expect(result).toHaveProperty('error', null);
  }
}

describe("1.1.x's integration playbooks", () => {
  test('tests/integration/test-runner.yml passes: server_info.*, tool_result.content, resource_content.contents, prompt_result.messages, suite summary', async () => {
    const run = await pooledRun(
      tasks(`
- name: Test mcp_server_info with calculator server
  tosin2013.mcp_audit.mcp_server_info:
    server_command: "{{ python_for_mcp_server }}"
    server_args:
      - "{{ test_servers_path }}/calculator.mjs"
    transport: "stdio"
  register: server_info_result

- name: Verify server info result
  ansible.builtin.assert:
    that:
      - server_info_result is defined
      - server_info_result.server_info is defined
      - server_info_result.server_info.server_name is defined
      - server_info_result.server_info.available_tools == 4
    success_msg: "✓ mcp_server_info test passed"
    fail_msg: "✗ mcp_server_info test failed"

- name: Test mcp_test_tool with add function
  tosin2013.mcp_audit.mcp_test_tool:
    server_command: "{{ python_for_mcp_server }}"
    server_args:
      - "{{ test_servers_path }}/calculator.mjs"
    transport: "stdio"
    tool_name: "add"
    tool_arguments:
      a: 5
      b: 3
    expected_result: "8"
  register: tool_result

- name: Verify tool result
  ansible.builtin.assert:
    that:
      - tool_result.success
      - tool_result.tool_result.content[0].text == "8"
    success_msg: "✓ mcp_test_tool test passed"
    fail_msg: "✗ mcp_test_tool test failed"

- name: Test mcp_test_resource with Node.js server (cross-language compatibility)
  tosin2013.mcp_audit.mcp_test_resource:
    server_command: "node"
    server_args:
      - "{{ test_servers_path }}/resources.mjs"
    transport: "stdio"
    resource_uri: "file://test_data/config.json"
  register: resource_result

- name: Verify resource result
  ansible.builtin.assert:
    that:
      - resource_result.success
      - resource_result.resource_content is defined
      - resource_result.resource_content.contents is defined
      - resource_result.resource_content.contents | length > 0
      - '"environment" in resource_result.resource_content.contents[0].text'
    success_msg: "✓ mcp_test_resource test passed (TypeScript ↔ Python)"
    fail_msg: "✗ mcp_test_resource test failed"

- name: Test mcp_test_prompt with simple prompt
  tosin2013.mcp_audit.mcp_test_prompt:
    server_command: "{{ python_for_mcp_server }}"
    server_args:
      - "{{ test_servers_path }}/prompts.mjs"
    transport: "stdio"
    prompt_name: "simple-prompt"
  register: prompt_result

- name: Verify prompt result
  ansible.builtin.assert:
    that:
      - prompt_result.success
      - prompt_result.prompt_result is defined
      - prompt_result.prompt_result.messages is defined
      - prompt_result.prompt_result.messages | length > 0
    success_msg: "✓ mcp_test_prompt test passed"
    fail_msg: "✗ mcp_test_prompt test failed"

- name: Test mcp_test_suite with multiple tests
  tosin2013.mcp_audit.mcp_test_suite:
    server_command: "{{ python_for_mcp_server }}"
    server_args:
      - "{{ test_servers_path }}/calculator.mjs"
    transport: "stdio"
    tests:
      - type: "tool"
        name: "add"
        arguments:
          a: 10
          b: 20
        expected_result: "30"
      - type: "tool"
        name: "calculate_product"
        arguments:
          a: 5
          b: 6
        expected_result: "30"
  register: suite_result

- name: Verify suite result
  ansible.builtin.assert:
    that:
      - suite_result.success
      - suite_result.summary.total_tests == 2
      - suite_result.summary.passed == 2
    success_msg: "✓ mcp_test_suite test passed"
    fail_msg: "✗ mcp_test_suite test failed"

- name: Display summary
  ansible.builtin.debug:
    msg:
      - "  - mcp_server_info: Discovered {{ server_info_result.server_info.available_tools }} tools"
      - "  - mcp_test_tool: 5 + 3 = {{ tool_result.tool_result.content[0].text }}"
      - >-
        - mcp_test_suite: {{ suite_result.summary.passed }}/{{ suite_result.summary.total_tests }}
          tests passed
`),
      { vars: VARS },
    );
    expect(run.exitCode, out(run)).toBe(0);
    for (const name of ['Verify server info result', 'Verify tool result', 'Verify resource result', 'Verify prompt result', 'Verify suite result']) {
      expect(run.task(name).status, `${name}\n${out(run)}`).toBe('ok');
    }

    const info = run.task('Test mcp_server_info with calculator server').result;
    expectCommonKeys(info);
    expect(info.changed).toBe(false);
    expect(info.server_info).toMatchObject({
      // 2.0.0's keys stay beside 1.1.x's.
      name: 'example-server',
      version: '1.0.0',
      server_name: 'example-server',
      server_version: '1.0.0',
      protocol_version: info.protocol_version,
      capabilities: { tools: {} },
      available_tools: 4,
      // Not declared by the server: null, as 1.1.x reported a list it could not get.
      available_resources: null,
      available_prompts: null,
    });
    expect(info.server_info.protocol_version).toMatch(/^\d{4}-\d\d-\d\d$/);

    const tool = run.task('Test mcp_test_tool with add function').result;
    expectCommonKeys(tool);
    expect(tool).toMatchObject({ test_passed: true, validation: { valid: true, matches_expected: true, errors: [], warnings: [] } });
    expect(tool.tool_result).toMatchObject({ content: [{ type: 'text', text: '8' }], isError: false, structuredContent: null, meta: null, is_error: false });

    const resource = run.task('Test mcp_test_resource with Node.js server (cross-language compatibility)').result;
    expectCommonKeys(resource);
    expect(resource).toMatchObject({ test_passed: true, validation: { valid: true, content_type: 'application/json', errors: [] } });
    expect(resource.resource_content).toEqual({
      contents: [{ uri: 'file://test_data/config.json', mimeType: 'application/json', text: '{"environment": "test", "enabled": true, "version": "1.0.0"}' }],
      meta: null,
    });
    // The server declares resources but has no templates/list (-32601): no templates, no failure.
    expect(resource.resource_templates).toEqual([]);

    const prompt = run.task('Test mcp_test_prompt with simple prompt').result;
    expectCommonKeys(prompt);
    expect(prompt).toMatchObject({ test_passed: true, validation: { valid: true, has_messages: true } });
    expect(prompt.prompt_result).toEqual({
      description: 'Simple prompt without arguments',
      messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt' } }],
      meta: null,
    });

    const suite = run.task('Test mcp_test_suite with multiple tests').result;
    expectCommonKeys(suite);
    expect(suite.summary).toMatchObject({ total_tests: 2, passed: 2, failed: 0, success_rate: 100 });
    expect(suite.test_results).toEqual([
      { test_type: 'tool', test_name: 'add', passed: true, error: null },
      { test_type: 'tool', test_name: 'calculate_product', passed: true, error: null },
    ]);

    const summary = run.task('Display summary').result.msg.map((line: string) => line.replace(/\s+/g, ' '));
    expect(summary).toEqual([' - mcp_server_info: Discovered 4 tools', ' - mcp_test_tool: 5 + 3 = 8', '- mcp_test_suite: 2/2 tests passed']);
    // One pooled server per command line: calculator, resources, prompts.
    expectCleanEnd(run, 3);
  });

  test('the module targets (tests/integration/targets/*), on the keys 1.1.x returned', async () => {
    const server = (name: string) => `
    server_command: "{{ python_for_mcp_server }}"
    server_args:
      - "{{ test_servers_path }}/${name}.mjs"
    transport: "stdio"`;
    const run = await pooledRun(
      tasks(`
# targets/mcp_server_info
- name: Test mcp_server_info with calculator server (stdio)
  tosin2013.mcp_audit.mcp_server_info:${server('calculator')}
  register: calculator_info

- name: Test mcp_server_info with prompt server (stdio)
  tosin2013.mcp_audit.mcp_server_info:${server('prompts')}
  register: prompt_info

- name: Test mcp_server_info with resource server (stdio)
  tosin2013.mcp_audit.mcp_server_info:${server('resources')}
  register: resource_info

- name: Verify server info
  ansible.builtin.assert:
    that:
      - calculator_info.server_info.server_name == "example-server"
      - calculator_info.server_info.server_version is defined
      - calculator_info.server_info.capabilities is defined
      - calculator_info.server_info.available_tools == 4
      - prompt_info.server_info.server_name == "prompt-test"
      - prompt_info.server_info.available_prompts == 2
      - resource_info.server_info.server_name == "resource-test"
      - resource_info.server_info.available_resources == 3

# targets/mcp_test_tool
- name: Test add tool
  tosin2013.mcp_audit.mcp_test_tool:${server('calculator')}
    tool_name: "add"
    tool_arguments:
      a: 5
      b: 3
  register: add_result

- name: Test calculate_product tool
  tosin2013.mcp_audit.mcp_test_tool:${server('calculator')}
    tool_name: "calculate_product"
    tool_arguments:
      a: 4
      b: 7
  register: product_result

- name: Test get_server_info tool
  tosin2013.mcp_audit.mcp_test_tool:${server('calculator')}
    tool_name: "get_server_info"
    tool_arguments: {}
  register: server_info_result

- name: Test tool with expected result validation
  tosin2013.mcp_audit.mcp_test_tool:${server('calculator')}
    tool_name: "calculate_sum"
    tool_arguments:
      a: 10
      b: 20
    expected_result: "30"
  register: expected_result_test

- name: Test invalid tool (should fail gracefully)
  tosin2013.mcp_audit.mcp_test_tool:${server('calculator')}
    tool_name: "nonexistent_tool"
    tool_arguments: {}
  register: invalid_tool_result
  ignore_errors: true

- name: Verify tool results
  ansible.builtin.assert:
    that:
      - add_result.success
      - add_result.tool_result.content[0].text | string == "8"
      - product_result.success
      - product_result.tool_result.content[0].text | string == "28"
      - server_info_result.success
      - server_info_result.tool_result is defined
      - expected_result_test.success
      - expected_result_test.validation.matches_expected
      - invalid_tool_result.failed

# targets/mcp_test_resource
- name: Test JSON resource
  tosin2013.mcp_audit.mcp_test_resource:${server('resources')}
    resource_uri: "file://test_data/config.json"
  register: json_resource

- name: Test text resource
  tosin2013.mcp_audit.mcp_test_resource:${server('resources')}
    resource_uri: "file://test_data/document.txt"
  register: text_resource

- name: Test YAML resource
  tosin2013.mcp_audit.mcp_test_resource:${server('resources')}
    resource_uri: "file://test_data/data.yaml"
  register: yaml_resource

- name: Test resource with expected content
  tosin2013.mcp_audit.mcp_test_resource:${server('resources')}
    resource_uri: "file://test_data/document.txt"
    expected_content: "This is a test document for MCP resource testing."
  register: expected_content_test

- name: Test invalid resource (should fail gracefully)
  tosin2013.mcp_audit.mcp_test_resource:${server('resources')}
    resource_uri: "file://test_data/nonexistent.txt"
  register: invalid_resource_result
  ignore_errors: true

- name: Verify resource results
  ansible.builtin.assert:
    that:
      - json_resource.success
      - '"environment" in json_resource.resource_content.contents[0].text'
      - text_resource.success
      - '"test document" in text_resource.resource_content.contents[0].text'
      - yaml_resource.success
      - yaml_resource.validation.content_type == "application/x-yaml"
      - expected_content_test.success
      - expected_content_test.test_passed
      - invalid_resource_result.failed

# targets/mcp_test_prompt
- name: Test simple prompt (no arguments)
  tosin2013.mcp_audit.mcp_test_prompt:${server('prompts')}
    prompt_name: "simple-prompt"
  register: simple_prompt

- name: Test prompt with required argument
  tosin2013.mcp_audit.mcp_test_prompt:${server('prompts')}
    prompt_name: "test-prompt"
    prompt_arguments:
      topic: "testing Ansible modules"
  register: topic_prompt

- name: Test prompt with optional and required arguments
  tosin2013.mcp_audit.mcp_test_prompt:${server('prompts')}
    prompt_name: "test-prompt"
    prompt_arguments:
      context: "Working on integration tests"
      topic: "MCP server testing"
  register: full_prompt

- name: Test invalid prompt (should fail gracefully)
  tosin2013.mcp_audit.mcp_test_prompt:${server('prompts')}
    prompt_name: "nonexistent-prompt"
  register: invalid_prompt_result
  ignore_errors: true

- name: Verify prompt results
  ansible.builtin.assert:
    that:
      - simple_prompt.success
      - simple_prompt.prompt_result.messages | length > 0
      - topic_prompt.success
      - topic_prompt.prompt_result.messages | length > 0
      - full_prompt.success
      - full_prompt.prompt_result.messages | length > 1
      - full_prompt.validation.has_messages
      - invalid_prompt_result.failed

# targets/mcp_test_suite
- name: Test suite with multiple tool tests
  tosin2013.mcp_audit.mcp_test_suite:${server('calculator')}
    tests:
      - type: "tool"
        name: "add"
        arguments:
          a: 5
          b: 3
        expected_result: "8"
      - type: "tool"
        name: "calculate_product"
        arguments:
          a: 4
          b: 7
        expected_result: "28"
      - type: "tool"
        name: "get_server_info"
        arguments: {}
  register: tool_suite

- name: Test suite with resource tests
  tosin2013.mcp_audit.mcp_test_suite:${server('resources')}
    tests:
      - type: "resource"
        uri: "file://test_data/config.json"
      - type: "resource"
        uri: "file://test_data/document.txt"
        expected_content: "This is a test document for MCP resource testing."
  register: resource_suite

- name: Test suite with prompt tests
  tosin2013.mcp_audit.mcp_test_suite:${server('prompts')}
    tests:
      - type: "prompt"
        name: "simple-prompt"
      - type: "prompt"
        name: "test-prompt"
        arguments:
          topic: "integration testing"
  register: prompt_suite

- name: Verify suite results
  ansible.builtin.assert:
    that:
      - tool_suite.success
      - tool_suite.summary.total_tests == 3
      - tool_suite.summary.passed >= 2
      - resource_suite.success
      - resource_suite.summary.total_tests == 2
      - resource_suite.summary.passed == 2
      - prompt_suite.success
      - prompt_suite.summary.total_tests == 2
      - prompt_suite.summary.passed == 2
`),
      { vars: VARS },
    );
    expect(run.exitCode, out(run)).toBe(0);
    for (const name of ['Verify server info', 'Verify tool results', 'Verify resource results', 'Verify prompt results', 'Verify suite results']) {
      expect(run.task(name).status, `${name}\n${out(run)}`).toBe('ok');
    }

    // The resources server answers resources/templates/list with -32601: both modules pass.
    const resourceInfo = run.task('Test mcp_server_info with resource server (stdio)').result;
    expectCommonKeys(resourceInfo);
    expect(resourceInfo.server_info).toMatchObject({ available_tools: null, available_resources: 3, available_prompts: null });
    expect(resourceInfo.resource_templates).toEqual([]);
    expect(resourceInfo.counts).toEqual({ tools: 0, resources: 3, resource_templates: 0, prompts: 0 });
    expect(run.task('Test mcp_server_info with prompt server (stdio)').result.server_info).toMatchObject({ server_version: '0.1.0', available_prompts: 2, available_tools: null });

    const getInfo = run.task('Test get_server_info tool').result;
    expect(getInfo.tool_result.content[0].text).toBe("{'server_name': 'example-stdio-server', 'version': '1.0.0', 'transport': 'stdio', 'capabilities': ['tools']}");

    // What a task that could not do its work says, in 1.1.x's keys.
    const badTool = run.task('Test invalid tool (should fail gracefully)');
    expect(badTool.status).toBe('failed');
    expectCommonKeys(badTool.result, true);
    expect(badTool.result.error).toContain("tool 'nonexistent_tool' not found on the server");
    expect(badTool.result.test_passed).toBe(false);
    const badResource = run.task('Test invalid resource (should fail gracefully)');
    expect(badResource.status).toBe('failed');
    expectCommonKeys(badResource.result, true);
    expect(badResource.result.error).toContain('Resource not found: file://test_data/nonexistent.txt');

    const full = run.task('Test prompt with optional and required arguments').result;
    expect(full.prompt_result.messages.map((m: any) => m.content.text)).toEqual(['Context: Working on integration tests', 'Please help with: MCP server testing']);
    expect(full.prompt_result.description).toBe('Test prompt with context and topic');

    expect(run.task('Test suite with resource tests').result.test_results).toEqual([
      { test_type: 'resource', test_name: 'file://test_data/config.json', passed: true, error: null },
      { test_type: 'resource', test_name: 'file://test_data/document.txt', passed: true, error: null },
    ]);
    expect(run.task('Test suite with prompt tests').result.test_results.map((t: any) => [t.test_type, t.test_name, t.passed])).toEqual([
      ['prompt', 'simple-prompt', true],
      ['prompt', 'test-prompt', true],
    ]);
    expectCleanEnd(run, 3);
  });

  test('tests/integration/test_all_modules_phase2.yml: every module pooled and with connection_reuse: false', async () => {
    const run = await pooledRun(
      tasks(`
- name: "Test 1: Get server info (creates pooled connection)"
  tosin2013.mcp_audit.mcp_server_info:
    transport: stdio
    server_command: "{{ mcp_server_command }}"
    server_args: "{{ mcp_server_args }}"
    connection_reuse: true
    connection_timeout: 300
  register: server_info_result

- name: "Test 2: Test tool #1 (reuses connection)"
  tosin2013.mcp_audit.mcp_test_tool:
    tool_name: add
    tool_arguments:
      a: 10
      b: 5
    expected_result: 15
    transport: stdio
    server_command: "{{ mcp_server_command }}"
    server_args: "{{ mcp_server_args }}"
    connection_reuse: true
    connection_timeout: 300
  register: tool_result_1

- name: "Test 3: Test tool #2 (still reusing connection)"
  tosin2013.mcp_audit.mcp_test_tool:
    tool_name: calculate_product
    tool_arguments:
      a: 6
      b: 7
    expected_result: 42
    transport: stdio
    server_command: "{{ mcp_server_command }}"
    server_args: "{{ mcp_server_args }}"
    connection_reuse: true
    connection_timeout: 300
  register: tool_result_2

- name: "Test 4: Test resource (reuses connection)"
  tosin2013.mcp_audit.mcp_test_resource:
    resource_uri: "calc://results"
    transport: stdio
    server_command: "{{ mcp_server_command }}"
    server_args: "{{ mcp_server_args }}"
    connection_reuse: true
    connection_timeout: 300
  register: resource_result
  ignore_errors: true  # May not be supported by all servers

- name: "Test 5: Test prompt (reuses connection)"
  tosin2013.mcp_audit.mcp_test_prompt:
    prompt_name: help
    prompt_arguments: {}
    transport: stdio
    server_command: "{{ mcp_server_command }}"
    server_args: "{{ mcp_server_args }}"
    connection_reuse: true
    connection_timeout: 300
  register: prompt_result
  ignore_errors: true  # May not be supported by all servers

- name: "Test 6: Run test suite (reuses connection for all tests)"
  tosin2013.mcp_audit.mcp_test_suite:
    tests:
      - type: tool
        name: add
        arguments:
          a: 100
          b: 200
        expected_result: 300
      - type: tool
        name: calculate_sum
        arguments:
          a: 50
          b: 25
        expected_result: 75
      - type: tool
        name: calculate_product
        arguments:
          a: 12
          b: 12
        expected_result: 144
    transport: stdio
    server_command: "{{ mcp_server_command }}"
    server_args: "{{ mcp_server_args }}"
    connection_reuse: true
    connection_timeout: 300
  register: suite_result

- name: "Test 7: Get server info again (final connection reuse test)"
  tosin2013.mcp_audit.mcp_server_info:
    transport: stdio
    server_command: "{{ mcp_server_command }}"
    server_args: "{{ mcp_server_args }}"
    connection_reuse: true
    connection_timeout: 300
  register: server_info_final

- name: Display results summary
  ansible.builtin.debug:
    msg:
      - "Server Info: {{ server_info_result.success }}"
      - "Tool Test 1 (add): {{ tool_result_1.test_passed }}"
      - "Tool Test 2 (calculate_product): {{ tool_result_2.test_passed }}"
      - "Resource Test: {{ 'skipped' if resource_result.skipped | default(false) else resource_result.success | default('failed') }}"
      - "Prompt Test: {{ 'skipped' if prompt_result.skipped | default(false) else prompt_result.success | default('failed') }}"
      - "Test Suite: {{ suite_result.summary.passed }}/{{ suite_result.summary.total_tests }} tests passed"

- name: "NoPool 1: Server info (new connection)"
  tosin2013.mcp_audit.mcp_server_info:
    transport: stdio
    server_command: "{{ mcp_server_command }}"
    server_args: "{{ mcp_server_args }}"
    connection_reuse: false
  register: no_pool_server_info

- name: "NoPool 2: Tool test (new connection)"
  tosin2013.mcp_audit.mcp_test_tool:
    tool_name: add
    tool_arguments:
      a: 10
      b: 5
    expected_result: 15
    transport: stdio
    server_command: "{{ mcp_server_command }}"
    server_args: "{{ mcp_server_args }}"
    connection_reuse: false
  register: no_pool_tool_1

- name: "NoPool 4: Test suite (new connection)"
  tosin2013.mcp_audit.mcp_test_suite:
    tests:
      - type: tool
        name: add
        arguments:
          a: 100
          b: 200
        expected_result: 300
      - type: tool
        name: calculate_sum
        arguments:
          a: 50
          b: 25
        expected_result: 75
    transport: stdio
    server_command: "{{ mcp_server_command }}"
    server_args: "{{ mcp_server_args }}"
    connection_reuse: false
  register: no_pool_suite

- name: Verify all critical tests passed
  ansible.builtin.assert:
    that:
      - server_info_result.success
      - tool_result_1.success
      - tool_result_1.test_passed
      - tool_result_2.success
      - tool_result_2.test_passed
      - suite_result.summary.passed == suite_result.summary.total_tests
      - server_info_final.success
      # No-pool tests
      - no_pool_server_info.success
      - no_pool_tool_1.success
      - no_pool_suite.summary.passed == no_pool_suite.summary.total_tests
    fail_msg: "One or more tests failed"
`),
      { vars: { mcp_server_command: NODE, mcp_server_args: [CALCULATOR] } },
    );
    expect(run.exitCode, out(run)).toBe(0);
    expect(run.task('Verify all critical tests passed').status, out(run)).toBe('ok');
    expect(run.task('Display results summary').result.msg).toEqual([
      'Server Info: True',
      'Tool Test 1 (add): True',
      'Tool Test 2 (calculate_product): True',
      // The calculator has no resources or prompts: those tasks failed (and were ignored), as in 1.1.x.
      'Resource Test: False',
      'Prompt Test: False',
      'Test Suite: 3/3 tests passed',
    ]);
    expect(run.task('Test 4: Test resource (reuses connection)').status).toBe('failed');
    expect(run.task('Test 7: Get server info again (final connection reuse test)').result.connection).toMatchObject({ pooled: true, reused: true });
    expect(run.task('NoPool 1: Server info (new connection)').result.connection).toMatchObject({ pooled: false });
    expect(run.task('NoPool 4: Test suite (new connection)').result.test_results.map((t: any) => t.passed)).toEqual([true, true]);
    expectCleanEnd(run, 1);
  });
});

describe('a server that declares resources but answers resources/templates/list with -32601', () => {
  test('passes mcp_server_info and mcp_test_resource, pooled and with connection_reuse: false', async () => {
    const resources = { server_command: NODE, server_args: [join(SERVERS, 'resources.mjs')] };
    const run = await pooledRun(
      [false, true].flatMap((reuse) => [
        { name: `info reuse=${reuse}`, 'tosin2013.mcp_audit.mcp_server_info': { ...resources, connection_reuse: reuse } },
        { name: `read reuse=${reuse}`, 'tosin2013.mcp_audit.mcp_test_resource': { ...resources, connection_reuse: reuse, resource_uri: 'file://test_data/data.yaml', expected_content_type: 'application/x-yaml' } },
      ]),
    );
    expect(run.exitCode, out(run)).toBe(0);
    for (const reuse of [false, true]) {
      const info = run.task(`info reuse=${reuse}`);
      expect(info.status, out(run)).toBe('ok');
      expect(info.result).toMatchObject({ success: true, resources: expect.any(Array), resource_templates: [], connection: { pooled: reuse } });
      expect(info.result.resources.map((r: any) => r.uri)).toEqual(['file://test_data/config.json', 'file://test_data/document.txt', 'file://test_data/data.yaml']);
      const read = run.task(`read reuse=${reuse}`);
      expect(read.status, out(run)).toBe('ok');
      expect(read.result).toMatchObject({ test_passed: true, resource_templates: [], validation: { content_type: 'application/x-yaml' } });
    }
    expectCleanEnd(run, 1);
  });
});

describe("1.1.x's README and module EXAMPLES", () => {
  let sse: HttpEverything;
  beforeAll(async () => {
    sse = await startEverything('sse');
  });
  afterAll(() => sse?.stop());

  test('run as written, against our servers', async () => {
    const run = await pooledRun(
      tasks(`
# README: Quick start
- name: Get server information
  tosin2013.mcp_audit.mcp_server_info:
    transport: stdio
    server_command: "{{ python_for_mcp_server }} {{ test_servers_path }}/calculator.mjs"
  register: server_info

- name: Display capabilities
  ansible.builtin.debug:
    var: server_info.capabilities

# README: Run a Tool Test (a server whose add returns structured content)
- name: Test calculator add tool
  tosin2013.mcp_audit.mcp_test_tool:
    transport: stdio
    server_command: "{{ python_for_mcp_server }} {{ test_servers_path }}/calculator.mjs --structured"
    tool_name: add
    tool_arguments:
      a: 5
      b: 3
    expected_result:
      result: 8
  register: tool_test

- name: Check test passed
  ansible.builtin.assert:
    that:
      - tool_test.success
      - tool_test.test_passed

# mcp_server_info EXAMPLES
- name: Get information from SSE MCP server with authentication
  tosin2013.mcp_audit.mcp_server_info:
    transport: sse
    server_url: "{{ sse_url }}"
    server_headers:
      Authorization: "Bearer {{ api_token }}"
    timeout: 60
  register: sse_info

- name: Check if server has tool capabilities
  tosin2013.mcp_audit.mcp_server_info:
    transport: stdio
    server_command: "{{ python_for_mcp_server }}"
    server_args: ["{{ test_servers_path }}/calculator.mjs"]
  register: result

- name: Display server capabilities
  ansible.builtin.debug:
    msg: "Server {{ result.server_info.server_name }} supports: {{ result.server_info.capabilities.keys() | list }}"
  when: result.success

# mcp_test_tool EXAMPLES
- name: Fail if tool result doesn't match expected
  tosin2013.mcp_audit.mcp_test_tool:
    tool_name: calculate_product
    tool_arguments:
      a: 6
      b: 7
    expected_result: 42
    transport: stdio
    server_command: "{{ python_for_mcp_server }}"
    server_args: ["{{ test_servers_path }}/calculator.mjs"]
  register: result
  failed_when: not result.test_passed

# mcp_test_resource EXAMPLES
- name: Test resource and verify it exists
  tosin2013.mcp_audit.mcp_test_resource:
    resource_uri: "file://test_data/config.json"
    expected_content_type: "application/json"
    transport: stdio
    server_command: node
    server_args: ["{{ test_servers_path }}/resources.mjs"]
  register: config_result
  failed_when: not config_result.test_passed

# mcp_test_prompt EXAMPLES
- name: Test code generation prompt
  tosin2013.mcp_audit.mcp_test_prompt:
    prompt_name: test-prompt
    prompt_arguments:
      topic: "factorial function"
    transport: stdio
    server_command: node
    server_args: ["{{ test_servers_path }}/prompts.mjs"]
  register: code_prompt
  failed_when: not code_prompt.test_passed

# mcp_test_suite EXAMPLES
- name: Run comprehensive test suite
  tosin2013.mcp_audit.mcp_test_suite:
    transport: stdio
    server_command: "{{ python_for_mcp_server }}"
    server_args: ["{{ test_servers_path }}/calculator.mjs"]
    tests:
      - type: tool
        name: add
        arguments: {a: 5, b: 3}
        expected_result: 8
      - type: tool
        name: calculate_product
        arguments: {a: 6, b: 7}
        expected_result: 42
      - type: resource
        uri: "file:///config.yaml"
        expected_content_type: "text/yaml"
      - type: prompt
        name: greeting
        arguments: {name: "User"}
    fail_on_error: false
  register: test_results

- name: Run basic server validation
  tosin2013.mcp_audit.mcp_test_suite:
    transport: sse
    server_url: "{{ sse_url }}"
    tests:
      - type: tool
        name: echo
        arguments: {message: "test"}
    fail_on_error: true
  register: validation
`),
      { vars: { ...VARS, sse_url: sse.url, api_token: 'e2e-token-not-checked' } },
    );
    expect(run.exitCode, out(run)).toBe(0);
    expect(run.task('Display capabilities').result['server_info.capabilities']).toEqual({ tools: {} });
    expect(run.task('Check test passed').status, out(run)).toBe('ok');
    expect(run.task('Test calculator add tool').result.tool_result).toMatchObject({ structuredContent: { result: 8 }, content: [{ type: 'text', text: '8' }] });

    const sseInfo = run.task('Get information from SSE MCP server with authentication').result;
    expectCommonKeys(sseInfo);
    expect(sseInfo.server_info.server_name).toBe(sseInfo.server_info.name);
    expect(sseInfo.server_info.available_tools).toBeGreaterThan(0);
    expect(JSON.stringify(sseInfo)).not.toContain('e2e-token-not-checked');

    expect(run.task('Display server capabilities').result.msg).toBe("Server example-server supports: ['tools']");
    for (const name of ['Fail if tool result doesn\'t match expected', 'Test resource and verify it exists', 'Test code generation prompt', 'Run basic server validation']) {
      expect(run.task(name).status, `${name}\n${out(run)}`).toBe('ok');
    }

    // fail_on_error: false, as 1.1.x's example sets it: two tests fail, the task does not.
    const suite = run.task('Run comprehensive test suite');
    expect(suite.status, out(run)).toBe('ok');
    expectCommonKeys(suite.result);
    expect(suite.result.summary).toMatchObject({ total_tests: 4, passed: 2, failed: 2, success_rate: 50 });
    expect(suite.result.test_results.map((t: any) => [t.test_type, t.test_name, t.passed])).toEqual([
      ['tool', 'add', true],
      ['tool', 'calculate_product', true],
      ['resource', 'file:///config.yaml', false],
      ['prompt', 'greeting', false],
    ]);
    expect(suite.result.test_results[0].error).toBeNull();
    expect(suite.result.test_results[2].error).toMatch(/resources\/read/);
    expect(suite.result.test_results[3].error).toContain("prompt 'greeting' not found on the server");
    // calculator (split command and args alike), --structured, SSE with and without the header, resources, prompts.
    expectCleanEnd(run, 6);
  });
});

describe('the 1.1.x behaviour, where a play asks for it', () => {
  test('fail_on_error: false keeps a failed test from failing its task; suite validate_schema: false sends arguments unchecked', async () => {
    const calculator = { server_command: NODE, server_args: [CALCULATOR] };
    const resources = { server_command: NODE, server_args: [join(SERVERS, 'resources.mjs')] };
    const prompts = { server_command: NODE, server_args: [join(SERVERS, 'prompts.mjs')] };
    const badAdd = { type: 'tool', name: 'add', arguments: { a: 'five', b: 3 }, expect_error: true };
    const run = await pooledRun([
      { name: 'tool, default', ignore_errors: true, 'tosin2013.mcp_audit.mcp_test_tool': { ...calculator, tool_name: 'add', tool_arguments: { a: 1, b: 1 }, expected_result: 3 } },
      { name: 'tool, fail_on_error false', 'tosin2013.mcp_audit.mcp_test_tool': { ...calculator, tool_name: 'add', tool_arguments: { a: 1, b: 1 }, expected_result: 3, fail_on_error: false } },
      { name: 'tool arguments, fail_on_error false', 'tosin2013.mcp_audit.mcp_test_tool': { ...calculator, tool_name: 'add', tool_arguments: { a: 'five', b: 3 }, fail_on_error: false } },
      { name: 'resource, fail_on_error false', 'tosin2013.mcp_audit.mcp_test_resource': { ...resources, resource_uri: 'file://test_data/config.json', expected_content_type: 'text/plain', fail_on_error: false } },
      { name: 'prompt, fail_on_error false', 'tosin2013.mcp_audit.mcp_test_prompt': { ...prompts, prompt_name: 'simple-prompt', expected_messages_min: 2, fail_on_error: false } },
      { name: 'unknown tool, fail_on_error false', ignore_errors: true, 'tosin2013.mcp_audit.mcp_test_tool': { ...calculator, tool_name: 'nope', fail_on_error: false } },
      { name: 'suite, validate_schema default', 'tosin2013.mcp_audit.mcp_test_suite': { ...calculator, tests: [badAdd], fail_on_error: false } },
      { name: 'suite, validate_schema false', 'tosin2013.mcp_audit.mcp_test_suite': { ...calculator, tests: [badAdd], validate_schema: false } },
    ]);
    expect(run.exitCode, out(run)).toBe(0);

    const strict = run.task('tool, default');
    expect(strict.status).toBe('failed');
    expect(strict.result).toMatchObject({ test_passed: false, status: 'failed', success: true, error: null });

    const lenient = run.task('tool, fail_on_error false');
    expect(lenient.status, out(run)).toBe('ok');
    expectCommonKeys(lenient.result);
    expect(lenient.result).toMatchObject({ test_passed: false, status: 'failed', validation: { matches_expected: false } });
    expect(lenient.result.msg).toContain('expected_result does not match');

    const args = run.task('tool arguments, fail_on_error false');
    expect(args.status, out(run)).toBe('ok');
    expect(args.result).toMatchObject({ test_passed: false, validation: { valid: false } });
    expect(args.result.msg).toContain('do not match the inputSchema');

    expect(run.task('resource, fail_on_error false')).toMatchObject({ status: 'ok', result: { test_passed: false, validation: { content_type: 'application/json' } } });
    expect(run.task('prompt, fail_on_error false')).toMatchObject({ status: 'ok', result: { test_passed: false, validation: { has_messages: true } } });
    // A task that cannot do its work fails either way.
    expect(run.task('unknown tool, fail_on_error false').status).toBe('failed');

    // Checked before sending: nothing reaches the server and the test fails.
    const checked = run.task('suite, validate_schema default').result;
    expect(checked.test_results).toEqual([{ test_type: 'tool', test_name: 'add', passed: false, error: expect.stringContaining('do not match the inputSchema') }]);
    // Unchecked, as 1.1.x sent it: the server itself refuses, which is what expect_error wants.
    const unchecked = run.task('suite, validate_schema false');
    expect(unchecked.status, out(run)).toBe('ok');
    expect(unchecked.result.test_results).toEqual([{ test_type: 'tool', test_name: 'add', passed: true, error: null }]);
    expect(unchecked.result.results[0].tool_result.content[0].text).toBe('Input validation error: "five" is not of type \'number\'');
    expectCleanEnd(run, 3);
  });
});

describe('binary resource contents', () => {
  test('are reported by size in resource_content, and base64 with return_blobs: true as 1.1.x did', async () => {
    const blob = { ...everythingServer, resource_uri: 'demo://resource/dynamic/blob/5' };
    const run = await pooledRun([
      { name: 'by size', 'tosin2013.mcp_audit.mcp_test_resource': blob },
      { name: 'with the blob', 'tosin2013.mcp_audit.mcp_test_resource': { ...blob, return_blobs: true } },
    ]);
    expect(run.exitCode, out(run)).toBe(0);
    const [sized] = run.task('by size').result.resource_content.contents;
    expect(sized).toEqual({ uri: 'demo://resource/dynamic/blob/5', mimeType: 'text/plain', blob_size: expect.any(Number) });
    const [full] = run.task('with the blob').result.resource_content.contents;
    expect(Object.keys(full).sort()).toEqual(['blob', 'mimeType', 'uri']);
    const decoded = Buffer.from(full.blob, 'base64').toString('utf8');
    expect(decoded).toMatch(/^Resource 5: This is a base64 blob created at /);
    expect(Buffer.byteLength(decoded)).toBe(sized.blob_size);
    expectCleanEnd(run, 1);
  });
});

describe("1.1.x's tests/integration/test-llm-integration.yml (against the fake LLM, Ollama's wire format)", () => {
  let fake: FakeLlm;
  beforeAll(async () => {
    fake = await startFakeLlm();
  });
  afterAll(() => fake?.close());

  test('tool_calls_made, final_answer, validation.*, total_iterations and llm_interactions', async () => {
    const calls = (name: string, a: number, b: number) => ({ toolCalls: [{ name, arguments: { a, b } }] });
    // One model for the three tests, as in 1.1.x: each request takes the next step.
    fake.script('phi3.5', [
      calls('calculate_sum', 15, 27),
      { answer: (r) => `The sum of 15 and 27 is ${r.toolResults[0].text}.` },
      calls('calculate_product', 6, 7),
      { answer: (r) => `6 multiplied by 7 is ${r.toolResults[0].text}.` },
      { answer: '100 divided by 4 is 25.' },
    ]);
    fake.script('phi3.5-wrong', [calls('calculate_sum', 1, 1), { answer: 'It is 3.' }]);
    const llm = `
    llm_provider: "ollama"
    llm_base_url: "{{ llm_base_url }}"
    server_command: "{{ python_for_mcp_server }}"
    server_args:
      - "{{ test_servers_path }}/calculator.mjs"
    transport: "stdio"`;
    const run = await pooledRun(
      tasks(`
- name: Test 1 - Basic calculation with Ollama
  tosin2013.mcp_audit.mcp_test_llm_integration:
    test_prompt: "Calculate the sum of 15 and 27"
    llm_model: "phi3.5"${llm}
    expected_tool_calls: ["calculate_sum"]
    validate_result: true
    expected_answer: "42"
    max_iterations: 5
  register: test1_result

- name: Verify Test 1
  ansible.builtin.assert:
    that:
      - test1_result.success
      - test1_result.tool_calls_made | length > 0
      - '"calculate_sum" in test1_result.tool_calls_made'
      - test1_result.final_answer is defined
      - test1_result.validation.expected_tools_called
      - test1_result.validation.answer_matches

- name: Test 2 - Multiplication test
  tosin2013.mcp_audit.mcp_test_llm_integration:
    test_prompt: "What is 6 multiplied by 7? Use the calculator tool to compute this."
    llm_model: "phi3.5"${llm}
    expected_tool_calls: ["calculate_product"]
    max_iterations: 5
  register: test2_result

- name: Test 3 - No validation (just execute)
  tosin2013.mcp_audit.mcp_test_llm_integration:
    test_prompt: "Divide 100 by 4 using the available calculator tools"
    llm_model: "phi3.5"${llm}
    max_iterations: 5
  register: test3_result

- name: Verify Test 2 and 3
  ansible.builtin.assert:
    that:
      - test2_result.success
      - '"calculate_product" in test2_result.tool_calls_made'
      - test3_result.success
      - test3_result.final_answer is defined

- name: A wrong answer, the 1.1.x way
  tosin2013.mcp_audit.mcp_test_llm_integration:
    test_prompt: "What is 1 + 1?"
    llm_model: "phi3.5-wrong"${llm}
    validate_result: true
    expected_answer: "2"
    fail_on_error: false
  register: wrong
`),
      { vars: { ...VARS, llm_base_url: fake.url } },
    );
    expect(run.exitCode, out(run)).toBe(0);
    expect(run.task('Verify Test 1').status, out(run)).toBe('ok');
    expect(run.task('Verify Test 2 and 3').status, out(run)).toBe('ok');

    const t1 = run.task('Test 1 - Basic calculation with Ollama').result;
    expectCommonKeys(t1);
    expect(t1).toMatchObject({
      test_passed: true,
      tool_calls_made: ['calculate_sum'],
      final_answer: 'The sum of 15 and 27 is 42.',
      total_iterations: 2,
      validation: {
        expected_tools_called: true,
        answer_matches: true,
        expected_tools: ['calculate_sum'],
        actual_tools_called: ['calculate_sum'],
        expected_answer: '42',
        actual_answer: 'The sum of 15 and 27 is 42.',
      },
    });
    expect(t1.llm_interactions).toEqual([
      { iteration: 1, user_message: 'Calculate the sum of 15 and 27', tool_calls: [{ tool_name: 'calculate_sum', arguments: { a: 15, b: 27 }, result: '42' }] },
      { iteration: 2, user_message: null, llm_response: 'The sum of 15 and 27 is 42.', final: true },
    ]);

    const t3 = run.task('Test 3 - No validation (just execute)').result;
    expect(t3).toMatchObject({ test_passed: true, tool_calls_made: [], total_iterations: 1, final_answer: '100 divided by 4 is 25.' });
    expect(t3.llm_interactions).toEqual([{ iteration: 1, user_message: 'Divide 100 by 4 using the available calculator tools', llm_response: '100 divided by 4 is 25.', final: true }]);
    // Nothing was expected: 1.1.x's copies of the expectations are absent.
    expect(t3.validation).not.toHaveProperty('expected_tools');
    expect(t3.validation).not.toHaveProperty('expected_answer');

    const wrong = run.task('A wrong answer, the 1.1.x way');
    expect(wrong.status, out(run)).toBe('ok');
    expect(wrong.result).toMatchObject({ success: true, test_passed: false, error: null, validation: { answer_matches: false, expected_answer: '2', actual_answer: 'It is 3.' } });
    expectCleanEnd(run, 1);
  });
});

describe('server_command naming an existing file whose path has spaces', () => {
  let dir: string;
  let script: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcp audit e2e '));
    script = join(dir, 'server.sh');
    writeFileSync(script, `#!/bin/sh\nexec "${NODE}" "${CALCULATOR}" "$@"\n`);
    chmodSync(script, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('runs that file, as 1.1.x did (no server_args)', async () => {
    expect(script).toContain(' ');
    const run = await pooledRun([
      { name: 'info', 'tosin2013.mcp_audit.mcp_server_info': { server_command: script, connection_reuse: false } },
      { name: 'tool', 'tosin2013.mcp_audit.mcp_test_tool': { server_command: script, tool_name: 'add', tool_arguments: { a: 2, b: 2 }, expected_result: 4 } },
    ]);
    expect(run.exitCode, out(run)).toBe(0);
    expect(run.task('info').result.server_info).toMatchObject({ server_name: 'example-server', available_tools: 4 });
    expect(run.task('tool').result).toMatchObject({ test_passed: true, connection: { pooled: true } });
    expectCleanEnd(run, 1);
  });
});
