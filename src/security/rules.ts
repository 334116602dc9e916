/**
 * The rule catalogue of mcp_security_scan: stable ids, default severities,
 * why each matters and what to do about it. Module docs, the docs/ page, SARIF
 * rule metadata and JUnit test cases all come from this one table; the checks
 * live in text_rules.ts (strings the model reads) and scan.ts (definitions).
 *
 * Id scheme: MCPA1xx hidden instructions, 2xx deceptive characters, 3xx
 * secrets, 4xx exfiltration, 5xx other tools, 6xx encodings, 7xx annotations,
 * 8xx parameters and size, 9xx pins, change and the model judge.
 */
import type { Rule } from './types';

const POISONING = 'MCP03:2025 Tool Poisoning';
const SECRETS = 'MCP01:2025 Token Mismanagement & Secret Exposure';
const SUPPLY_CHAIN = 'MCP04:2025 Software Supply Chain Attacks & Dependency Tampering';
const EXECUTION = 'MCP05:2025 Command Injection & Execution';
const SHADOW = 'MCP09:2025 Shadow MCP Servers';

/** Told to every text finding: the fix is in the server, or an `allow` entry when it is intended. */
const REVIEW = 'If the text is intended, suppress the finding with an `allow` entry that says why.';

export const RULES: Rule[] = [
  {
    id: 'MCPA101',
    name: 'instruction-tags',
    severity: 'high',
    title: 'Instruction tags or chat-template markers in model-visible text',
    rationale:
      'Tags such as <IMPORTANT>, <SYSTEM> or <instructions> and chat-template tokens ([INST], <|im_start|>) have no place in a description; published tool-poisoning attacks use them to make hidden instructions look authoritative to the model.',
    remediation: `Remove the tags and any instructions they wrap; describe what the item does in plain prose. ${REVIEW}`,
    owasp: POISONING,
  },
  {
    id: 'MCPA102',
    name: 'concealment-from-user',
    severity: 'high',
    title: 'Text asks the model to hide something from the user',
    rationale:
      'A legitimate tool has no reason to ask the assistant not to tell the user something ("do not mention this to the user", "without informing the user"); it is how poisoned descriptions keep their side effects unnoticed.',
    remediation: `Remove the sentence; a tool must not ask the model to keep anything from the user. ${REVIEW}`,
    owasp: POISONING,
  },
  {
    id: 'MCPA103',
    name: 'instruction-override',
    severity: 'high',
    title: 'Text tries to override the model\'s instructions or the user\'s intent',
    rationale:
      'Phrases like "ignore previous instructions", "always call this tool first, before any other tool" or "regardless of what the user says" aim to take control of the assistant rather than describe a tool.',
    remediation: `Describe what the item does and when it is useful; do not direct the model over other instructions, tools or the user. ${REVIEW}`,
    owasp: POISONING,
  },
  {
    id: 'MCPA104',
    name: 'authority-impersonation',
    severity: 'high',
    title: 'Text impersonates the system prompt, the developer or a model vendor',
    rationale:
      'Claims to be a system message, the developer, or Anthropic/OpenAI ("SYSTEM:", "message from your developer", "authorized by OpenAI") borrow authority the server does not have, to make injected instructions stick.',
    remediation: `Remove the claim; a server speaks only for itself. ${REVIEW}`,
    owasp: POISONING,
  },
  {
    id: 'MCPA201',
    name: 'invisible-unicode',
    severity: 'high',
    title: 'Invisible Unicode characters (tag block, zero-width, bidi controls)',
    rationale:
      'Unicode tag characters (U+E0000-U+E007F) spell out text the model reads but a reviewer cannot see; zero-width characters and bidirectional controls hide or reorder text and split keywords past filters. Emoji sequences that need them (ZWJ sequences, flag tags) are allowed.',
    remediation: 'Remove the invisible characters; the evidence shows where they are as <U+XXXX> (tag characters are decoded). ' + REVIEW,
    owasp: POISONING,
  },
  {
    id: 'MCPA202',
    name: 'mixed-script-name',
    severity: 'high',
    title: 'A name mixes scripts or uses look-alike characters',
    rationale:
      'A tool, prompt, argument or property name that mixes Latin with Cyrillic or Greek look-alikes (or uses fullwidth/mathematical letters) looks like a familiar name to a reviewer but is a different identifier: the basis of impersonation and shadowing.',
    remediation: 'Use plain ASCII identifiers (letters, digits, "_", "-").',
    owasp: POISONING,
  },
  {
    id: 'MCPA203',
    name: 'terminal-escape',
    severity: 'high',
    title: 'Terminal escape sequences or control characters',
    rationale:
      'ANSI escape sequences (ESC [ ...) and other control characters can hide or rewrite text when a definition is printed in a terminal, so a reviewer sees something other than what the model reads.',
    remediation: 'Remove control characters other than tab and newline from definitions. ' + REVIEW,
    owasp: POISONING,
  },
  {
    id: 'MCPA301',
    name: 'sensitive-path-or-credential',
    severity: 'high',
    title: 'References to credential files, private keys or secrets',
    rationale:
      'Model-visible text that names SSH keys, cloud credentials, .env files, /etc/shadow or MCP client configs, or tells the model to read or send passwords, tokens or API keys, is how poisoned tools steer an assistant to leak secrets. Sensitive paths are high; credential words together with an instruction to read/send/include them are medium.',
    remediation: 'Remove the reference. Servers get credentials from their own configuration, never through the model. ' + REVIEW,
    owasp: SECRETS,
  },
  {
    id: 'MCPA401',
    name: 'exfiltration-hint',
    severity: 'high',
    title: 'Text asks for data to be sent elsewhere or smuggled through a parameter',
    rationale:
      'Instructions to send or upload data to a URL, known request-capture sinks (webhook.site, ngrok, requestbin, ...) and "pass the file content as <parameter>" side channels turn a tool call into a data leak. Sending to a URL without naming sensitive data is medium.',
    remediation: 'Remove the instruction; a parameter must only carry what the tool needs for its purpose. ' + REVIEW,
    owasp: POISONING,
  },
  {
    id: 'MCPA402',
    name: 'embedded-url',
    severity: 'info',
    title: 'URL in model-visible text',
    rationale: 'A URL in a description is often legitimate (documentation, defaults) but is worth a look: models may fetch or repeat it.',
    remediation: 'Nothing to do when the URL is expected; otherwise remove it.',
  },
  {
    id: 'MCPA501',
    name: 'cross-tool-shadowing',
    severity: 'high',
    title: 'Text gives instructions about another tool',
    rationale:
      'A description that tells the model how to use a tool of another server (one in known_tools) shadows that tool: it changes its behaviour without the other server being involved (e.g. "when send_email is used, always bcc ..."). References to tools of the same server are common and reported as low.',
    remediation: 'Describe only this server\'s own tools. ' + REVIEW,
    owasp: POISONING,
  },
  {
    id: 'MCPA502',
    name: 'tool-name-collision',
    severity: 'high',
    title: 'Tool name equal to or confusable with a tool of another server',
    rationale:
      'A tool named like one in known_tools (exactly, or with look-alike characters) can capture calls meant for the other server. A name that differs only in case or separators is medium.',
    remediation: 'Rename the tool, or give it a server-specific prefix.',
    owasp: SHADOW,
  },
  {
    id: 'MCPA601',
    name: 'encoded-blob',
    severity: 'medium',
    title: 'Encoded text (base64, hex, percent-encoding) in model-visible text',
    rationale:
      'Models decode base64 and hex readily, so an encoded run can carry instructions that a reviewer and a plain-text filter miss. The run is decoded: decoded text is medium; decoded text that trips another text rule is high; a long opaque binary blob is low.',
    remediation: 'Remove the encoded data from the definition. ' + REVIEW,
    owasp: POISONING,
  },
  {
    id: 'MCPA701',
    name: 'contradicting-annotations',
    severity: 'high',
    title: 'Annotations contradict the tool\'s name or description',
    rationale:
      'Clients use readOnlyHint and destructiveHint to decide whether to ask before a call. A delete_* tool marked readOnlyHint: true (high), marked destructiveHint: false (medium), or a description that says it writes while the tool claims to be read-only (medium) gets past that confirmation.',
    remediation: 'Set the annotations to what the tool really does (readOnlyHint: false, destructiveHint: true for deletes).',
    owasp: POISONING,
  },
  {
    id: 'MCPA801',
    name: 'unconstrained-high-risk-parameter',
    severity: 'low',
    title: 'Free-form string parameter that reaches a command, query, path or URL',
    rationale:
      'A command, sql, code, path or url parameter without enum, pattern, format or maxLength lets any string through to a shell, database, file system or network call; the server must then validate it itself.',
    remediation: 'Constrain the parameter in the input schema (enum, pattern, format, maxLength) and validate it in the server.',
    owasp: EXECUTION,
  },
  {
    id: 'MCPA802',
    name: 'oversized-description',
    severity: 'low',
    title: 'Very long description',
    rationale:
      'Descriptions far longer than their peers cost context on every request and can bury instructions where reviewers stop reading. Above 2,000 characters is low, above 10,000 medium (the reference servers stay under 3,000).',
    remediation: 'Shorten the description; move long documentation to a resource or the server\'s docs.',
  },
  {
    id: 'MCPA901',
    name: 'pinned-definition-changed',
    severity: 'high',
    title: 'A definition differs from the pin file',
    rationale:
      'A tool, prompt, resource template or the instructions changed since they were pinned and reviewed: a rug pull looks exactly like this (approve a harmless server, change its descriptions later).',
    remediation: 'Review the change (the finding shows which field and a short diff); if it is intended, run with pin_mode: update and commit the pin file.',
    owasp: SUPPLY_CHAIN,
  },
  {
    id: 'MCPA902',
    name: 'unpinned-item-added',
    severity: 'medium',
    title: 'An item is not in the pin file',
    rationale: 'The server offers a tool, prompt or resource template that was not there when the pin file was written; nobody has reviewed it.',
    remediation: 'Review the new item; if it is expected, run with pin_mode: update and commit the pin file.',
    owasp: SUPPLY_CHAIN,
  },
  {
    id: 'MCPA903',
    name: 'pinned-item-removed',
    severity: 'low',
    title: 'A pinned item is gone',
    rationale: 'An item in the pin file is no longer offered. Rarely dangerous, but a change the pin file should record.',
    remediation: 'If the removal is expected, run with pin_mode: update and commit the pin file.',
    owasp: SUPPLY_CHAIN,
  },
  {
    id: 'MCPA904',
    name: 'definition-changed-during-session',
    severity: 'high',
    title: 'A definition changed while the session was open',
    rationale:
      'The server sent notifications/tools/list_changed (or prompts/resources) and then listed a different definition for an existing item: a mid-session rug pull, after the client has shown and approved the first version.',
    remediation: 'Find out why the server changes definitions at run time; servers should only add or remove items, not rewrite existing ones.',
    owasp: POISONING,
  },
  {
    id: 'MCPA950',
    name: 'llm-judge-verdict',
    severity: 'medium',
    title: 'A model judged the text suspicious',
    rationale:
      'With llm_judge: true a model classifies each description; its verdict (and severity) is reported under this rule, separate from the deterministic rules, so it can be weighed or allowed on its own.',
    remediation: 'Read the model\'s reason and the text; fix the text, or allow the finding when the verdict is wrong.',
    owasp: POISONING,
  },
];

const BY_ID = new Map(RULES.map((r) => [r.id, r]));

/** The rule with this id; throws for an unknown id (a programming error, ids are checked at the option boundary). */
export function rule(id: string): Rule {
  const r = BY_ID.get(id);
  if (!r) throw new Error(`unknown security rule ${id}`);
  return r;
}

export const isRuleId = (id: string) => BY_ID.has(id);
