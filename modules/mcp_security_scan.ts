import { defineModule } from '../src/ansible/spec';
import { CONNECTION_OPTIONS, CONNECTION_REQUIRED_IF, CONNECTION_RETURNS } from '../src/connection_options';
import { LLM_OPTIONS } from '../src/llm/options';
import { mcpFailure, withCommonKeys } from '../src/results';
import { rulesDocumentation } from '../src/security/rules_docs';

const FINDING = {
  rule_id: { description: 'The rule\'s stable id (see the rules table).', returned: 'always', type: 'str', sample: 'MCPA101' },
  rule_name: { description: 'The rule\'s short name.', returned: 'always', type: 'str', sample: 'instruction-tags' },
  severity: { description: 'C(high), C(medium), C(low) or C(info).', returned: 'always', type: 'str', sample: 'high' },
  target_kind: { description: 'C(server) (its instructions), C(tool), C(prompt), C(resource) or C(resource_template).', returned: 'always', type: 'str', sample: 'tool' },
  target_name: { description: 'The tool, prompt, resource or template (the server\'s name for C(server)).', returned: 'always', type: 'str', sample: 'add' },
  field: { description: 'Where in the definition, as a path.', returned: 'always', type: 'str', sample: 'inputSchema.properties.sidenote.description' },
  message: { description: 'What the rule found.', returned: 'always', type: 'str' },
  evidence: { description: 'An excerpt of the text, with invisible and control characters shown as C(<U+200B>), C(<ESC>) and so on.', returned: 'always', type: 'str' },
  remediation: { description: 'What the server\'s author should change.', returned: 'always', type: 'str' },
  allowed: { description: 'The O(allow) entry\'s C(reason) when one accepted the finding (it then does not count).', returned: 'when allowed', type: 'dict' },
} as const;

const PIN_ITEMS = { description: 'Items as C(kind:name), for example C(tool:add).', returned: 'always', type: 'list', elements: 'str' } as const;

export default defineModule({
  name: 'mcp_security_scan',
  short_description: 'Audit what an MCP server tells the model: poisoning rules, pinned definitions, SARIF',
  description: [
    'Lists everything the server offers (every page of tools, prompts, resources and resource templates) and checks every string a model would see: the server\'s C(instructions); names, titles and descriptions; every C(description), C(title), C(enum), C(const), C(default) and C(examples) value and property name inside input and output schemas; annotations.',
    'Rules with stable ids find hidden or model-directed instructions, invisible or deceptive Unicode, terminal escape sequences, references to credentials and sensitive paths, exfiltration hints, shadowing of other servers\' tools (O(known_tools)), encoded blobs, annotations that contradict a tool, unconstrained high-risk parameters and oversized descriptions. Each finding has a severity, the field it was found in, an excerpt and a remediation. The rules table is in the notes and in C(docs/security_rules.md).',
    'Pinning catches rug pulls: O(pin_file) holds a hash and the definition of each tool, prompt, resource template and the instructions, meant to be committed next to the playbook. Verifying reports what was added, removed or changed (which field, with a short diff). A definition that changes while the task runs (the server announces C(list_changed) and lists something else), or since the pooled session first listed it, is a finding of its own.',
    'O(sarif_path) writes SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps); O(report_path) writes JUnit XML with one test case per rule and target checked.',
    'The task fails when a finding at or above O(fail_on) is not accepted by an O(allow) entry.',
  ],
  supports_check_mode: true,
  check_mode_support: 'full',
  check_mode_details: 'The server is listed and checked as usual; the pin file, SARIF and JUnit reports are not written. C(changed) says whether O(pin_mode=update) would rewrite the pin file.',
  diff_mode_support: 'full',
  diff_mode_details: 'With O(pin_mode=update), shows the pin file before and after, as a pull request will.',
  notes: rulesDocumentation(),
  options: {
    fail_on: {
      description: 'Fail the task when a finding of this severity or higher is not allowed. C(none) never fails on findings (the task still fails when the server cannot be listed).',
      type: 'str',
      default: 'high',
      choices: ['high', 'medium', 'low', 'info', 'none'],
    },
    rules: { description: 'Run only these rules (ids such as C(MCPA101)). Default: every rule.', type: 'list', elements: 'str' },
    skip_rules: { description: 'Rules not to run (ids).', type: 'list', elements: 'str' },
    allow: {
      description: [
        'Accept findings the play has reviewed. A finding an entry matches stays in C(findings), SARIF (as a suppressed result) and JUnit with the entry\'s reason, and does not count towards O(fail_on).',
      ],
      type: 'list',
      elements: 'dict',
      options: {
        rule: { description: 'The rule id.', type: 'str', required: true },
        target: { description: 'The target\'s name, or C(kind:name) (C(tool:run_query)); C(*) matches any characters. Default: every target.', type: 'str' },
        field: { description: 'Only findings in this field or below it (C(inputSchema.properties.path)).', type: 'str' },
        reason: { description: 'Why the finding is accepted. Required: it is kept in every report.', type: 'str', required: true },
      },
    },
    known_tools: {
      description: [
        'Tools of the other servers the same model sees. A description that gives instructions about one of them is shadowing; a tool here with the same (or a confusable) name is a collision.',
        'Tool names, tool dicts, or registered results of M(tosin2013.mcp_audit.mcp_server_info) or M(tosin2013.mcp_audit.mcp_security_scan) (their C(tools)).',
        'Name other servers\' tools only: a tool of the scanned server listed here collides with itself.',
      ],
      type: 'list',
      elements: 'raw',
      default: [],
    },
    pin_file: { description: 'The pin file (YAML, or JSON when the name ends in C(.json)), meant to be committed next to the playbook.', type: 'path' },
    pin_mode: {
      description: [
        'C(verify) compares the server with O(pin_file): a changed item is a high finding (MCPA901), an added one medium (MCPA902), a removed one low (MCPA903).',
        'C(update) writes O(pin_file) from what the server shows now (C(changed) when its content changes); differences are reported in C(pins) but are not findings.',
        'Default: C(verify) when O(pin_file) exists, C(update) when it does not (the first run pins).',
      ],
      type: 'str',
      choices: ['verify', 'update'],
    },
    sarif_path: { description: 'Write the findings as SARIF 2.1.0 to this path (atomically).', type: 'path' },
    report_path: { description: 'Write JUnit XML to this path (atomically): one test case per rule and target checked.', type: 'path' },
    llm_judge: {
      description: [
        'Also ask a model to classify each tool, prompt and resource template definition and the instructions (benign, suspicious, malicious). Its verdicts are findings of rule MCPA950 (malicious is high, suspicious medium), reported beside the static rules\' findings, never merged into them.',
        'Uses the O(llm_provider) options as M(tosin2013.mcp_audit.mcp_test_llm_integration) does; O(llm_model) is required.',
      ],
      type: 'bool',
      default: false,
    },
    ...LLM_OPTIONS,
    ...CONNECTION_OPTIONS,
  },
  required_if: [...CONNECTION_REQUIRED_IF, ['llm_judge', true, ['llm_model']]],
  examples: `
- name: Scan a server, pin its definitions next to the playbook, write SARIF for code scanning
  tosin2013.mcp_audit.mcp_security_scan:
    server_command: npx -y @modelcontextprotocol/server-everything
    pin_file: "{{ playbook_dir }}/pins/everything.yml"
    sarif_path: "{{ playbook_dir }}/reports/everything.sarif"
    report_path: "{{ playbook_dir }}/reports/everything-security.xml"
  register: scan

- name: Show what was found
  ansible.builtin.debug:
    msg: "{{ scan.summary }} {{ scan.findings | map(attribute='rule_id') | list }}"

- name: A server used beside another one - check that it does not shadow the other's tools
  tosin2013.mcp_audit.mcp_server_info:
    server_command: npx -y @modelcontextprotocol/server-github
  register: github

- name: Scan the second server against the first one's tools, accepting a reviewed finding
  tosin2013.mcp_audit.mcp_security_scan:
    server_command: node
    server_args: [/opt/servers/my-server.js]
    known_tools: "{{ github.tools }}"
    fail_on: medium
    allow:
      - rule: MCPA801
        target: run_query
        reason: the query runs on a read-only replica with a 5 s statement timeout

- name: Ask a model too (local Ollama)
  tosin2013.mcp_audit.mcp_security_scan:
    server_command: node
    server_args: [/opt/servers/my-server.js]
    llm_judge: true
    llm_provider: ollama
    llm_model: qwen2.5
`,
  returns: {
    ...CONNECTION_RETURNS,
    status: { description: 'C(passed) or C(failed).', returned: 'always', type: 'str', sample: 'passed' },
    test_passed: { description: 'No finding at or above O(fail_on) that is not allowed.', returned: 'always', type: 'bool', sample: true },
    findings: { description: 'Every finding, most serious first (allowed ones included, marked).', returned: 'when the server was listed', type: 'list', elements: 'dict', contains: FINDING },
    summary: {
      description: 'Counts of findings that are not allowed, per severity (C(high), C(medium), C(low), C(info)), their C(total), and C(allowed).',
      returned: 'when the server was listed',
      type: 'dict',
      sample: { high: 0, medium: 0, low: 2, info: 1, total: 3, allowed: 0 },
    },
    checked: {
      description: 'What was checked: counts of C(tools), C(prompts), C(resources), C(resource_templates), whether there were C(instructions), and the C(rules) run.',
      returned: 'when the server was listed',
      type: 'dict',
    },
    tools: { description: 'The server\'s tool names (for another scan\'s O(known_tools)).', returned: 'when the server was listed', type: 'list', elements: 'str', sample: ['echo', 'add'] },
    pins: {
      description: 'The pin comparison.',
      returned: 'when pin_file was given',
      type: 'dict',
      contains: {
        pin_file: { description: 'The pin file.', returned: 'always', type: 'str' },
        mode: { description: 'C(verify) or C(update).', returned: 'always', type: 'str' },
        added: PIN_ITEMS,
        removed: PIN_ITEMS,
        changed: {
          description: 'Changed items: C(kind), C(name) and C(fields) (C(path) and a short C(diff) each).',
          returned: 'always',
          type: 'list',
          elements: 'dict',
        },
        unchanged: PIN_ITEMS,
        written: { description: 'Whether the pin file was (in check mode: would be) rewritten.', returned: 'always', type: 'bool' },
      },
    },
    judge: {
      description: 'The model judge\'s C(provider), C(model) and C(verdicts) (C(target_kind), C(target_name), C(verdict), C(reason); C(verdict) is C(unreadable) when the model gave none).',
      returned: 'when llm_judge is true',
      type: 'dict',
    },
    sarif_path: { description: 'Where the SARIF log was written.', returned: 'when sarif_path was given, except in check mode', type: 'str' },
    report_path: { description: 'Where the JUnit report was written.', returned: 'when report_path was given, except in check mode', type: 'str' },
  },

  run: withCommonKeys(async (p, task) => {
    const started = performance.now();
    try {
      // Rules, pins (yaml, jsdiff) and reports load only for this module, not on every task's start-up.
      const { runSecurityScan } = await import('../src/security/run');
      return await runSecurityScan(p, task, started);
    } catch (e) {
      return mcpFailure(e, { test_passed: false, status: 'failed' }, started);
    }
  }),
});
