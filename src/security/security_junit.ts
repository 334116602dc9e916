/**
 * mcp_security_scan's report_path: JUnit (src/junit.ts) with one test case per
 * rule and target checked, so a CI test view lists what was checked, not only
 * what was found, and a finding shows up as the failure of one named check.
 */
import type { JUnitCase } from '../junit';
import { failsScan, type FailOn, type Finding, type Rule, type TargetKind } from './types';

export interface SecurityJUnitInput {
  server: string;
  /** The rules that ran. */
  rules: Pick<Rule, 'id' | 'name'>[];
  /** Every definition the rules read (server instructions, tools, prompts, ...). */
  targets: { kind: TargetKind; name: string }[];
  findings: Finding[];
  failOn: FailOn;
}

const describeFinding = (f: Finding) =>
  `[${f.severity}] ${f.field}: ${f.message}` + (f.evidence ? `\n  evidence: ${f.evidence}` : '') + (f.allowed ? `\n  allowed: ${f.allowed.reason}` : '');

export function securityJUnitCases(input: SecurityJUnitInput): JUnitCase[] {
  const rules = [...input.rules];
  const targets = [...input.targets];
  // A finding must never be lost from the report because its rule or target was not passed in.
  for (const f of input.findings) {
    if (!rules.some((r) => r.id === f.rule_id)) rules.push({ id: f.rule_id, name: f.rule_name });
    if (!targets.some((t) => t.kind === f.target_kind && t.name === f.target_name)) targets.push({ kind: f.target_kind, name: f.target_name });
  }
  // JUnit readers split classname at dots into packages; a dotted server name would add levels.
  const server = input.server.replace(/\./g, '_');

  return targets.flatMap((target) =>
    rules.map((rule): JUnitCase => {
      const found = input.findings.filter((f) => f.rule_id === rule.id && f.target_kind === target.kind && f.target_name === target.name);
      const failing = found.filter((f) => failsScan(f, input.failOn));
      return {
        classname: `mcp_security_scan.${server}.${target.kind}`,
        name: `${rule.id} ${rule.name} on ${target.name}`,
        time: 0, // one scan reads every definition; there is no per-check time to report
        outcome: failing.length ? 'failed' : 'passed',
        ...(failing.length ? { message: failing.map((f) => `[${f.severity}] ${f.field}: ${f.message}`).join('; ') } : {}),
        ...(found.length ? { output: found.map(describeFinding).join('\n') } : {}),
      };
    }),
  );
}
