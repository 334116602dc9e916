/**
 * SARIF 2.1.0 for mcp_security_scan: the format CI systems (GitHub code
 * scanning, GitLab, Azure DevOps) turn into alerts. The fields chosen follow
 * GitHub's "SARIF support for code scanning" reference
 * (docs.github.com/en/code-security/reference/code-scanning/sarif-files/sarif-support):
 * rules need shortDescription, fullDescription and help; results need a
 * location with artifactLocation.uri and region, and partialFingerprints
 * (GitHub only reads primaryLocationLineHash); security-severity makes a rule
 * a security rule; automationDetails.id carries the upload category.
 */
import { createHash } from 'node:crypto';
import { VERSION } from '../version';
import type { Finding, Rule, Severity } from './types';

export interface SarifInput {
  findings: Finding[];
  /** Every rule that ran, with or without results: GitHub closes alerts whose rule ran and found nothing. */
  rules: Rule[];
  /** `id` identifies the scanned server stably (its command line or URL, without secrets). */
  server: { name: string; version?: string; id: string };
  /** Where the results point, relative to the repository root (e.g. the pin_file); see `location()`. */
  artifactUri?: string;
  toolVersion?: string;
  startTime?: Date;
  endTime?: Date;
}

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
const INFORMATION_URI = 'https://github.com/tosin2013/mcp_audit';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { high: 'error', medium: 'warning', low: 'note', info: 'note' };

/**
 * GitHub maps security-severity to its own labels: 7.0-8.9 high, 4.0-6.9
 * medium, 0.1-3.9 low. It has no "info" tier, so info shows as a low alert;
 * nothing we report is "critical" (9.0+).
 */
const SECURITY_SEVERITY: Record<Severity, string> = { high: '8.0', medium: '5.5', low: '3.0', info: '1.0' };

/** A path segment made of [a-z0-9-]; long ones keep a hash so two long ids cannot collide. */
export function slug(text: string): string {
  const s = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'server';
  return s.length <= 64 ? s : `${s.slice(0, 55)}-${sha256(text).slice(0, 8)}`;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** `MCP03:2025 Tool Poisoning` -> `external/owasp-mcp/mcp03-2025`, in the style of CodeQL's CWE tags. */
const owaspTag = (owasp: string) => `external/owasp-mcp/${owasp.split(/\s/)[0].toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;

// Rule texts quote tags such as <IMPORTANT>; GitHub's Markdown would swallow them as HTML.
const markdownText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function descriptor(rule: Rule) {
  const owasp = rule.owasp ? [rule.owasp] : [];
  return {
    id: rule.id,
    name: rule.name,
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.rationale },
    help: {
      text: [rule.rationale, `Remediation: ${rule.remediation}`, ...owasp.map((o) => `OWASP MCP Top 10: ${o}`)].join('\n\n'),
      markdown: [rule.rationale, `**Remediation:** ${rule.remediation}`, ...owasp.map((o) => `**OWASP MCP Top 10:** ${o}`)]
        .map(markdownText)
        .join('\n\n'),
    },
    defaultConfiguration: { level: LEVEL[rule.severity] },
    properties: {
      tags: ['security', 'mcp', ...(rule.owasp ? [owaspTag(rule.owasp)] : [])],
      'security-severity': SECURITY_SEVERITY[rule.severity],
    },
  };
}

/** A finding whose rule is not in the catalogue still gets a descriptor: GitHub wants short and full descriptions and help for every rule a result names. */
const ruleOf = (f: Finding): Rule => ({
  id: f.rule_id,
  name: f.rule_name,
  severity: f.severity,
  title: f.rule_name,
  rationale: f.rule_name,
  remediation: f.remediation,
});

/**
 * What a server offers is not a file in the repository, but GitHub shows no
 * alert without a physical location and matches alerts across runs by path.
 * With no artifactUri we use a pseudo-path `mcp/<server>/<kind>/<name>`: the
 * same for the same definition on every run and readable in the alert list.
 * Line 1 stands for the whole definition (GitHub's reference asks for a full
 * region). The definition and field are also given as a logical location,
 * which SARIF has for results that are not about lines of a file.
 */
function location(f: Finding, serverSlug: string, artifactUri?: string) {
  const uri = artifactUri ?? ['mcp', serverSlug, f.target_kind, encodeURIComponent(f.target_name)].join('/');
  return {
    physicalLocation: {
      artifactLocation: { uri, uriBaseId: '%SRCROOT%' },
      region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 2 },
    },
    logicalLocations: [{ name: f.target_name, fullyQualifiedName: `${f.target_kind}/${f.target_name}/${f.field}`, kind: f.target_kind }],
  };
}

export function sarifLog(input: SarifInput) {
  const serverSlug = slug(input.server.id);
  const rules = [...input.rules];
  for (const f of input.findings) if (!rules.some((r) => r.id === f.rule_id)) rules.push(ruleOf(f));
  const index = new Map(rules.map((r, i) => [r.id, i]));

  // Line numbers mean nothing here, so the fingerprint is the finding's identity:
  // rule, target and field. A second finding with the same identity gets ":2",
  // as GitHub's own fingerprinting numbers repeated hashes.
  const seen = new Map<string, number>();
  const results = input.findings.map((f) => {
    const hash = sha256(JSON.stringify([f.rule_id, f.target_kind, f.target_name, f.field])).slice(0, 16);
    const n = (seen.get(hash) ?? 0) + 1;
    seen.set(hash, n);
    return {
      ruleId: f.rule_id,
      ruleIndex: index.get(f.rule_id)!,
      level: LEVEL[f.severity],
      message: { text: f.evidence ? `${f.message}\nEvidence: ${f.evidence}` : f.message },
      locations: [location(f, serverSlug, input.artifactUri)],
      partialFingerprints: { primaryLocationLineHash: `${hash}:${n}` },
      // SARIF wants suppressions on every result or on none once a tool evaluates them. SARIF
      // viewers hide suppressed results; GitHub's supported subset does not list `suppressions`,
      // so there they arrive as open alerts unless a step such as advanced-security/dismiss-alerts
      // dismisses them.
      suppressions: f.allowed ? [{ kind: 'external', status: 'accepted', justification: f.allowed.reason }] : [],
      properties: { severity: f.severity, target_kind: f.target_kind, target_name: f.target_name, field: f.field, remediation: f.remediation },
    };
  });

  const invocation: Record<string, unknown> = { executionSuccessful: true };
  if (input.startTime) invocation.startTimeUtc = input.startTime.toISOString();
  if (input.endTime) invocation.endTimeUtc = input.endTime.toISOString();

  return {
    $schema: SCHEMA,
    version: '2.1.0' as const,
    runs: [
      {
        tool: {
          driver: {
            name: 'mcp_security_scan',
            fullName: 'tosin2013.mcp_audit.mcp_security_scan',
            semanticVersion: input.toolVersion ?? VERSION,
            informationUri: INFORMATION_URI,
            rules: rules.map(descriptor),
          },
        },
        // "category/" (trailing slash, no run id): one category per server, so several servers'
        // scans uploaded for one commit stay separate instead of closing each other's alerts.
        automationDetails: { id: `mcp_security_scan/${serverSlug}/` },
        invocations: [invocation],
        results,
        properties: { server: input.server },
      },
    ],
  };
}

export const sarifJson = (log: ReturnType<typeof sarifLog>) => `${JSON.stringify(log, null, 2)}\n`;
