/**
 * The module side of mcp_security_scan: from the listed surface to the
 * task's findings. Rules (scan.ts), pins (pins.ts) and the optional model
 * judge (judge.ts) each produce findings; here they are filtered by the
 * play's `rules`/`skip_rules`, matched against `allow`, and counted.
 */
import { ModuleFailure } from '../errors';
import { RULES } from './rules';
import { failsScan, SEVERITIES, severityRank, type FailOn, type Finding, type Rule, type TargetKind } from './types';

export interface AllowEntry {
  rule: string;
  /** A target name, or kind:name; `*` matches any run of characters. Absent: every target. */
  target?: string;
  /** A field path prefix ("inputSchema.properties.path"). Absent: every field. */
  field?: string;
  reason: string;
}

const RULE_IDS = new Set(RULES.map((r) => r.id));

/** The rules this task runs, after `rules` and `skip_rules`; an unknown id is a usage error, not a silent no-op. */
export function selectRules(only: string[] | null | undefined, skip: string[] | null | undefined): Rule[] {
  for (const [option, ids] of [['rules', only], ['skip_rules', skip]] as const) {
    const unknown = (ids ?? []).filter((id) => !RULE_IDS.has(id));
    if (unknown.length) throw new ModuleFailure(`${option} names unknown rule id(s) ${unknown.join(', ')}; the rules are: ${[...RULE_IDS].join(', ')}`);
  }
  const skipped = new Set(skip ?? []);
  return RULES.filter((r) => (!only?.length || only.includes(r.id)) && !skipped.has(r.id));
}

export function checkAllowEntries(allow: AllowEntry[]): void {
  allow.forEach((a, i) => {
    if (!RULE_IDS.has(a.rule)) throw new ModuleFailure(`allow[${i}].rule is not a rule id: ${a.rule}; the rules are: ${[...RULE_IDS].join(', ')}`);
    if (!a.reason?.trim()) throw new ModuleFailure(`allow[${i}] needs a reason: say why ${a.rule}${a.target ? ` on ${a.target}` : ''} is accepted (it is kept in the reports)`);
  });
}

const glob = (pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

function allowMatches(a: AllowEntry, f: Finding): boolean {
  if (a.rule !== f.rule_id) return false;
  if (a.target !== undefined && a.target !== null) {
    const re = glob(a.target);
    if (!re.test(f.target_name) && !re.test(`${f.target_kind}:${f.target_name}`)) return false;
  }
  return !a.field || f.field === a.field || f.field.startsWith(`${a.field}.`) || f.field.startsWith(`${a.field}[`);
}

/** Mark findings an `allow` entry accepts; they stay in every report, with the reason. */
export function applyAllow(findings: Finding[], allow: AllowEntry[]): Finding[] {
  return findings.map((f) => {
    const entry = allow.find((a) => allowMatches(a, f));
    return entry ? { ...f, allowed: { reason: entry.reason } } : f;
  });
}

export function summarize(findings: Finding[]) {
  const counted = findings.filter((f) => !f.allowed);
  const summary: Record<string, number> = Object.fromEntries([...SEVERITIES].reverse().map((s) => [s, counted.filter((f) => f.severity === s).length]));
  return { ...summary, total: counted.length, allowed: findings.length - counted.length };
}

export const failing = (findings: Finding[], failOn: FailOn) => findings.filter((f) => failsScan(f, failOn));

/** Most serious first, then by target and rule: the order people read a report in. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.target_kind.localeCompare(b.target_kind) ||
      a.target_name.localeCompare(b.target_name) ||
      a.rule_id.localeCompare(b.rule_id) ||
      a.field.localeCompare(b.field),
  );
}

/**
 * `known_tools` as a play writes it: names, tool dicts (a registered
 * mcp_server_info's `tools`), or whole registered results holding `tools`.
 */
export function knownToolNames(known: unknown[] | null | undefined): string[] {
  const names = new Set<string>();
  const add = (v: unknown, where: string): void => {
    if (typeof v === 'string') names.add(v);
    else if (Array.isArray(v)) v.forEach((x, i) => add(x, `${where}[${i}]`));
    else if (v && typeof v === 'object' && typeof (v as any).name === 'string') names.add((v as any).name);
    else if (v && typeof v === 'object' && Array.isArray((v as any).tools)) add((v as any).tools, `${where}.tools`);
    else throw new ModuleFailure(`${where} is not a tool name, a tool (a dict with name) or a registered result with tools: ${JSON.stringify(v)?.slice(0, 80)}`);
  };
  (known ?? []).forEach((v, i) => add(v, `known_tools[${i}]`));
  return [...names].sort();
}

export interface CheckedTarget {
  kind: TargetKind;
  name: string;
}
