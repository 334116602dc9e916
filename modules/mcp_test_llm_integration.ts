import { defineModule } from '../src/ansible/spec';
import { CONNECTION_OPTIONS, CONNECTION_REQUIRED_IF, CONNECTION_RETURNS } from '../src/connection_options';
import { ModuleFailure } from '../src/errors';
import { FAIL_ON_ERROR_OPTION, mcpFailure, seconds, testOutcome, VALIDATION_RETURN, withCommonKeys } from '../src/results';
import type { AgentRun } from '../src/llm/agent_loop';
import type { Expectations } from '../src/llm/expectations';
import { chatClient, llmSettings } from '../src/llm/providers';
import { LLM_OPTIONS } from '../src/llm/options';

/** The run as 1.1.x reported it: one entry per LLM request, with the tool calls it asked for or the final answer. */
function llmInteractions(run: AgentRun, prompt: string) {
  return Array.from({ length: run.iterations }, (_, i) => {
    const iteration = i + 1;
    const calls = run.toolCalls.filter((c) => c.iteration === iteration);
    const entry: Record<string, unknown> = { iteration, user_message: iteration === 1 ? prompt : null };
    if (calls.length) entry.tool_calls = calls.map((c) => ({ tool_name: c.name, arguments: c.arguments, result: c.result }));
    else if (iteration === run.iterations && run.finalAnswer !== null) Object.assign(entry, { llm_response: run.finalAnswer, final: true });
    return entry;
  });
}

/** 1.1.x's copy of what was expected and what happened, beside each check it made. */
function expectedAndActual(p: Record<string, any>, run: AgentRun, answerChecked: boolean) {
  return {
    ...(p.expected_tool_calls?.length ? { expected_tools: p.expected_tool_calls, actual_tools_called: run.toolCalls.map((c) => c.name) } : {}),
    ...(answerChecked && p.expected_answer ? { expected_answer: p.expected_answer, actual_answer: run.finalAnswer } : {}),
  };
}

export default defineModule({
  name: 'mcp_test_llm_integration',
  short_description: 'Let an LLM drive an MCP server\'s tools and check what it did',
  description: [
    'Sends O(test_prompt) to an LLM together with the MCP server\'s tools, runs every tool call the model asks for on the server, feeds the results back, and repeats until the model answers without tool calls or O(max_iterations) LLM requests were made.',
    'Speaks each provider\'s wire format directly (no Python or LiteLLM needed): OpenAI chat completions (C(openai), C(vllm), C(openrouter), and C(azure) with its C(api-key) header and C(api-version) parameter), Anthropic Messages (C(anthropic)), Ollama\'s native C(/api/chat) (C(ollama)), the Amazon Bedrock Converse API (C(bedrock), signed with AWS Signature Version 4), Gemini C(generateContent) on Google Vertex AI (C(vertex_ai)) and Cohere\'s Chat API v2 (C(cohere)).',
    'Tool calls run on the same MCP session as the rest of the task (pooled by the broker when O(connection_reuse=true)). A call the server refuses (unknown tool, arguments that do not match the tool\'s C(inputSchema)) is answered to the model as an error, as an MCP host would.',
    'The task fails when the test does not pass: a tool in O(expected_tool_calls) was not called, the final answer does not match, or the model gave no final answer within O(max_iterations) (O(fail_on_error=false) keeps it ok, as 1.1.x did). It also fails when the LLM API answers an HTTP error or cannot be reached.',
    'C(changed) is true when the model called a tool that is not annotated C(readOnlyHint: true).',
  ],
  supports_check_mode: true,
  check_mode_support: 'partial',
  check_mode_details: 'Only lists the server\'s tools and checks the LLM settings; the model is not asked and no tool is called.',
  notes: [
    'The API key is sent in a request header only, never in a URL, and never appears in results or error messages, also when it comes from an environment variable. The same holds for AWS secret access keys and session tokens, Google access tokens and the secrets of Google credentials files.',
    'Model names may carry the provider prefix LiteLLM used in 1.1.x (C(bedrock/), C(bedrock/converse/), C(vertex_ai/), C(cohere/), C(cohere_chat/), C(openai/), C(anthropic/), C(azure/)); it is removed.',
  ],
  options: {
    test_prompt: { description: 'The prompt sent to the model as the user message. The model may use the server\'s tools to answer it.', type: 'str', required: true },
    ...LLM_OPTIONS,
    llm_model: { ...LLM_OPTIONS.llm_model, required: true },
    system_prompt: { description: 'System prompt for the model.', type: 'str' },
    expected_tool_calls: {
      description: ['Names of tools the model must have called. A call counts when it reached the server (a refused call does not).'],
      type: 'list',
      elements: 'str',
    },
    validate_result: {
      description: [
        'Check the final answer against O(expected_answer) and/or O(expected_answer_regex); one of them is required when true.',
        'When not set, the answer is checked whenever one of them is given.',
      ],
      type: 'bool',
    },
    expected_answer: { description: 'Text the final answer must contain (case-insensitive).', type: 'str' },
    expected_answer_regex: {
      description: 'Regular expression (JavaScript syntax) the final answer must match somewhere. Start it with (?i) to match case-insensitively.',
      type: 'str',
    },
    max_iterations: { description: 'Most LLM requests to make. The test fails when the model is still calling tools after this many.', type: 'int', default: 5 },
    fail_on_error: FAIL_ON_ERROR_OPTION,
    ...CONNECTION_OPTIONS,
  },
  required_if: [...CONNECTION_REQUIRED_IF, ['validate_result', true, ['expected_answer', 'expected_answer_regex'], true]],
  examples: `
- name: Can a model add with server-everything's get-sum? (local Ollama, no key)
  tosin2013.mcp_audit.mcp_test_llm_integration:
    server_command: npx -y @modelcontextprotocol/server-everything
    test_prompt: What is 15 plus 27? Use the get-sum tool.
    llm_provider: ollama
    llm_model: qwen2.5
    expected_tool_calls: [get-sum]
    expected_answer: "42"

- name: The same with OpenAI (key from Ansible Vault)
  tosin2013.mcp_audit.mcp_test_llm_integration:
    server_command: npx -y @modelcontextprotocol/server-everything
    test_prompt: Echo the word 'ansible' back to me with the echo tool.
    llm_provider: openai
    llm_model: gpt-4o-mini
    llm_api_key: "{{ vault_openai_api_key }}"
    expected_tool_calls: [echo]
    validate_result: true
    expected_answer_regex: "(?i)echo: ansible"
  register: llm

- name: Anthropic, key from ANTHROPIC_API_KEY in the environment
  tosin2013.mcp_audit.mcp_test_llm_integration:
    server_url: http://localhost:3001/mcp
    transport: http
    test_prompt: List the files in /data and tell me how many there are.
    llm_provider: anthropic
    llm_model: claude-sonnet-4-5
    system_prompt: Answer in one sentence.
    max_iterations: 8
  environment:
    ANTHROPIC_API_KEY: "{{ vault_anthropic_api_key }}"

- name: Azure OpenAI deployment
  tosin2013.mcp_audit.mcp_test_llm_integration:
    server_command: node
    server_args: [/opt/servers/my-server.js]
    test_prompt: What is the status of order 1234?
    llm_provider: azure
    llm_base_url: https://my-resource.openai.azure.com
    llm_model: my-gpt-4o-deployment
    llm_api_key: "{{ vault_azure_openai_key }}"
    expected_tool_calls: [get_order_status]

- name: Amazon Bedrock, signed with the AWS credentials of the environment
  tosin2013.mcp_audit.mcp_test_llm_integration:
    server_command: npx -y @modelcontextprotocol/server-everything
    test_prompt: What is 15 plus 27? Use the get-sum tool.
    llm_provider: bedrock
    llm_model: us.anthropic.claude-3-5-haiku-20241022-v1:0
    llm_region: us-east-1
    expected_tool_calls: [get-sum]
  environment:
    AWS_ACCESS_KEY_ID: "{{ vault_aws_access_key_id }}"
    AWS_SECRET_ACCESS_KEY: "{{ vault_aws_secret_access_key }}"

- name: Gemini on Vertex AI with a service account key
  tosin2013.mcp_audit.mcp_test_llm_integration:
    server_command: npx -y @modelcontextprotocol/server-everything
    test_prompt: Echo the word 'ansible' back to me with the echo tool.
    llm_provider: vertex_ai
    llm_model: gemini-2.5-flash
    llm_project: my-project
    llm_region: europe-west4
    expected_tool_calls: [echo]
  environment:
    GOOGLE_APPLICATION_CREDENTIALS: /etc/ansible/vertex-sa.json

- name: Cohere (key from COHERE_API_KEY or CO_API_KEY)
  tosin2013.mcp_audit.mcp_test_llm_integration:
    server_command: npx -y @modelcontextprotocol/server-everything
    test_prompt: What is 15 plus 27? Use the get-sum tool.
    llm_provider: cohere
    llm_model: command-a-03-2025
    expected_tool_calls: [get-sum]
`,
  returns: {
    ...CONNECTION_RETURNS,
    success: { description: 'Whether the run completed: the LLM API and the MCP server answered every request (1.1.x compatible).', returned: 'always', type: 'bool', sample: true },
    status: { description: 'C(passed), C(failed) or C(skipped) (check mode).', returned: 'always', type: 'str', sample: 'passed' },
    test_passed: { description: 'Whether the run met every expectation.', returned: 'always', type: 'bool', sample: true },
    llm_provider: { description: 'The provider used.', returned: 'always', type: 'str', sample: 'openai' },
    llm_model: { description: 'The model used.', returned: 'always', type: 'str', sample: 'gpt-4o-mini' },
    llm_api_key_source: {
      description: [
        'Where the API key came from: C(llm_api_key), the environment variable\'s name, or null when none was used. Never the key.',
        'For C(bedrock) signing with AWS credentials: C(AWS_ACCESS_KEY_ID) (the environment) or C(AWS profile <name>). For C(vertex_ai) with Application Default Credentials: C(GOOGLE_APPLICATION_CREDENTIALS) or the path of gcloud\'s file.',
      ],
      returned: 'when the settings were valid',
      type: 'str',
      sample: 'OPENAI_API_KEY',
    },
    tools_available: { description: 'Names of the tools the server offered the model.', returned: 'when the server was contacted', type: 'list', elements: 'str', sample: ['echo', 'get-sum'] },
    tools_called: {
      description: 'Every tool call the model asked for, in order.',
      returned: 'when the model was asked',
      type: 'list',
      elements: 'dict',
      contains: {
        name: { description: 'The tool.', returned: 'always', type: 'str', sample: 'echo' },
        arguments: { description: 'The arguments the model gave.', returned: 'always', type: 'dict', sample: { message: 'hi' } },
        is_error: { description: 'The call failed: the tool answered C(isError), or the call was refused.', returned: 'always', type: 'bool', sample: false },
        reached_server: { description: 'False when the call was refused before reaching the server (unknown tool, arguments not matching the C(inputSchema)).', returned: 'always', type: 'bool', sample: true },
        result: { description: 'What the model was told (the tool\'s text content), shortened to 2000 characters.', returned: 'always', type: 'str', sample: 'Echo: hi' },
        iteration: { description: 'The LLM request that asked for the call.', returned: 'always', type: 'int', sample: 1 },
      },
    },
    tool_calls_made: { description: 'Names of the tools called, in order (1.1.x compatible).', returned: 'when the model was asked', type: 'list', elements: 'str', sample: ['echo'] },
    final_answer: { description: 'The model\'s answer without tool calls; null when it gave none.', returned: 'when the model was asked', type: 'str', sample: 'The tool said: Echo: hi' },
    iterations: { description: 'LLM requests made.', returned: 'when the model was asked', type: 'int', sample: 2 },
    total_iterations: { description: 'Same as C(iterations) (1.1.x compatible).', returned: 'when the model was asked', type: 'int', sample: 2 },
    llm_interactions: {
      description: 'One entry per LLM request: C(iteration), C(user_message) (the prompt, on the first), C(tool_calls) (C(tool_name), C(arguments), C(result)) or the final C(llm_response) with C(final=true) (kept for 1.1.x compatibility).',
      returned: 'when the model was asked',
      type: 'list',
      elements: 'dict',
      sample: [
        { iteration: 1, user_message: 'Calculate 15 + 27', tool_calls: [{ tool_name: 'add', arguments: { a: 15, b: 27 }, result: '42' }] },
        { iteration: 2, user_message: null, llm_response: 'The sum is 42', final: true },
      ],
    },
    validation: {
      ...VALIDATION_RETURN,
      returned: 'when the run completed (the LLM API and the server answered every request)',
      contains: {
        valid: { description: 'Every tool call reached the server (none was refused).', returned: 'always', type: 'bool' },
        matches_expected: { description: 'O(expected_tool_calls) and the expected answer were met; null when neither was given.', returned: 'always', type: 'bool' },
        expected_tools_called: { description: 'Every tool in O(expected_tool_calls) was called; null when none were expected.', returned: 'always', type: 'bool' },
        answer_matches: { description: 'The final answer matched; null when it was not checked.', returned: 'always', type: 'bool' },
        expected_tools: { description: 'O(expected_tool_calls) (kept for 1.1.x compatibility).', returned: 'when expected_tool_calls is given', type: 'list', elements: 'str' },
        actual_tools_called: { description: 'Same as C(tool_calls_made) (kept for 1.1.x compatibility).', returned: 'when expected_tool_calls is given', type: 'list', elements: 'str' },
        expected_answer: { description: 'O(expected_answer) (kept for 1.1.x compatibility).', returned: 'when expected_answer was checked', type: 'str' },
        actual_answer: { description: 'Same as C(final_answer) (kept for 1.1.x compatibility).', returned: 'when expected_answer was checked', type: 'str' },
        errors: { description: 'Why the test failed.', returned: 'always', type: 'list', elements: 'str' },
        warnings: { description: 'Findings that do not fail the test (refused calls, tool errors, a cut-off answer).', returned: 'always', type: 'list', elements: 'str' },
      },
    },
  },

  run: withCommonKeys(async (p, task) => {
    const started = performance.now();
    const base = { llm_provider: p.llm_provider, llm_model: p.llm_model, test_passed: false, status: 'failed' };
    const { answerRegex, checkRun, checksAnswer } = await import('../src/llm/expectations');
    let settings;
    try {
      // Settings first: a missing key or a bad URL fails before a server is started.
      if (p.max_iterations < 1) throw new ModuleFailure(`max_iterations must be at least 1, got ${p.max_iterations}`);
      if (p.expected_answer_regex) answerRegex(p.expected_answer_regex);
      settings = llmSettings(p);
    } catch (e) {
      return mcpFailure(e, base, started);
    }
    // Keys and credentials read from the environment are no options, so the protocol layer must be told to mask them.
    for (const secret of settings.secrets) task.hideSecret(secret);
    const reported = { ...base, llm_api_key_source: settings.keySource };

    const { McpToolbox } = await import('../src/llm/mcp_tools');
    const toolbox = new McpToolbox(p);
    let tools;
    try {
      tools = await toolbox.list();
    } catch (e) {
      return mcpFailure(e, reported, started);
    }
    const tools_available = tools.map((t) => t.name);
    if (task.checkMode) {
      return {
        ...reported,
        skipped: true,
        success: true,
        status: 'skipped',
        msg: `check mode: would have asked ${p.llm_provider} model '${p.llm_model}' with the server's ${tools.length} tools; the model was not asked and no tool was called`,
        tools_available,
        connection: toolbox.connection,
        execution_time: seconds(started),
      };
    }

    const { runAgentLoop } = await import('../src/llm/agent_loop');
    const client = await chatClient(settings, { prompt: p.test_prompt, systemPrompt: p.system_prompt ?? undefined, tools });
    const run = await runAgentLoop(client, (call) => toolbox.call(call), p.max_iterations);
    const readOnly = new Set(tools.filter((t) => t.annotations?.readOnlyHint === true).map((t) => t.name));
    const outcome = {
      ...reported,
      changed: run.toolCalls.some((c) => c.reached_server && !readOnly.has(c.name)),
      tools_available,
      tools_called: run.toolCalls,
      tool_calls_made: run.toolCalls.map((c) => c.name),
      final_answer: run.finalAnswer,
      iterations: run.iterations,
      total_iterations: run.iterations,
      llm_interactions: llmInteractions(run, p.test_prompt),
      connection: toolbox.connection,
    };
    if (run.failure) return mcpFailure(run.failure, outcome, started);

    const validation = checkRun(run, p as Expectations, new Set(tools_available));
    const passed = validation.errors.length === 0;
    return {
      ...outcome,
      ...testOutcome({ passed, msg: passed ? undefined : `LLM integration test failed: ${validation.errors.join('; ')}` }, p.fail_on_error),
      validation: { ...validation, ...expectedAndActual(p, run, checksAnswer(p as Expectations)) },
      execution_time: seconds(started),
    };
  }),
});
