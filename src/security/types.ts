/**
 * The vocabulary of mcp_security_scan: what a server shows the model (its
 * surface), the rules that read it, and the findings they report. Plain JSON
 * throughout: the surface crosses the broker socket, findings go to Ansible,
 * SARIF and JUnit.
 */
import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';

/** Ordered from least to most serious; `fail_on` compares by this order. */
export const SEVERITIES = ['info', 'low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

/** `fail_on`: the least severe finding that fails; `none` never fails. */
export type FailOn = Severity | 'none';

/** True when `finding` fails the scan: not allowed, and at or above `fail_on`. */
export const failsScan = (finding: Finding, failOn: FailOn): boolean =>
  !finding.allowed && failOn !== 'none' && severityRank(finding.severity) >= severityRank(failOn);

/** What a finding is about. `tool_result` is the content a tool returned (scan_result). */
export type TargetKind = 'server' | 'tool' | 'prompt' | 'resource' | 'resource_template' | 'tool_result';

/** Everything a server offers the model, listed in full (every page). */
export interface ServerSurface {
  server_info: { name?: string; version?: string; title?: string };
  instructions: string | null;
  tools: Tool[];
  prompts: Prompt[];
  resources: Resource[];
  resource_templates: ResourceTemplate[];
}

export interface Rule {
  /** Stable: users put it in `rules`, `skip_rules` and `allow`, CI systems key alerts on it. */
  id: string;
  /** Short kebab-case name, for SARIF's rule name and humans. */
  name: string;
  severity: Severity;
  title: string;
  rationale: string;
  remediation: string;
  /** The OWASP MCP Top 10 (2025) category, e.g. "MCP03:2025 Tool Poisoning", when one fits. */
  owasp?: string;
}

export interface Finding {
  rule_id: string;
  rule_name: string;
  severity: Severity;
  target_kind: TargetKind;
  target_name: string;
  /** Where in the definition, as a path: "description", "inputSchema.properties.path.description", "annotations.readOnlyHint". */
  field: string;
  message: string;
  /** An excerpt of the offending text, invisible and control characters shown as <U+200B>, <ESC> etc.; never longer than ~200 characters. */
  evidence: string;
  remediation: string;
  /** Set when an `allow` entry matched: the finding is kept in reports but does not count. */
  allowed?: { reason: string };
}
