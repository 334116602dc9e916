/**
 * Runs the rules over a server's surface (scanSurface) or one piece of text
 * such as a tool result (scanText). Text rules (text_rules.ts) read every
 * string the model sees; the definition rules here read structure: names,
 * annotations, parameter schemas, sizes. One finding per rule, target and
 * field, however many times the rule matched there, in a stable order.
 */
import type { Finding, ServerSurface, Severity, TargetKind } from './types';
import { severityRank } from './types';
import { rule } from './rules';
import { surfaceTexts, type SurfaceText } from './surface';
import { clip, normalizeText, skeleton, TEXT_CHECKS, visible, type TextContext, type TextMatch } from './text_rules';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

export interface ScanOptions {
  /** Tool names of other servers: references to them and names like them are shadowing. */
  known_tools?: string[];
  /** Only these rule ids (default: all). */
  rules?: string[];
  skip_rules?: string[];
}

export interface Target {
  kind: TargetKind;
  name: string;
  field: string;
}

const EXCERPT = 160;
/** Evidence never grows past this, however many invisible characters the excerpt shows as <U+XXXX>. */
const EVIDENCE_MAX = 200;

/** About EXCERPT characters of `text` around the match, invisible characters shown. */
export function excerpt(text: string, index: number, length: number): string {
  const matched = Math.min(length, EXCERPT - 40);
  const before = Math.max(0, index - Math.floor((EXCERPT - matched) / 2));
  const end = Math.min(text.length, before + EXCERPT);
  const start = Math.max(0, Math.min(before, end - EXCERPT));
  const shown = visible(text.slice(start, end)).trim();
  const clipped = clip(shown, EVIDENCE_MAX);
  return `${start > 0 ? '…' : ''}${clipped}${end < text.length && clipped === shown ? '…' : ''}`;
}

const enabled = (id: string, opts: ScanOptions) => (!opts.rules?.length || opts.rules.includes(id)) && !opts.skip_rules?.includes(id);

function finding(ruleId: string, target: Target, matches: Array<TextMatch & { source: string }>): Finding {
  const r = rule(ruleId);
  const severity = matches.reduce<Severity>((worst, m) => {
    const s = m.severity ?? r.severity;
    return severityRank(s) > severityRank(worst) ? s : worst;
  }, 'info');
  // Lead with the most serious match: its words and its excerpt.
  const lead = matches.find((m) => (m.severity ?? r.severity) === severity)!;
  const more = matches.length > 1 ? ` (${matches.length} matches)` : '';
  return {
    rule_id: r.id,
    rule_name: r.name,
    severity,
    target_kind: target.kind,
    target_name: target.name,
    field: target.field,
    message: `${r.title}: ${lead.what}${more}`,
    evidence: lead.evidence ?? excerpt(lead.source, lead.index, lead.length),
    remediation: r.remediation,
  };
}

/** Text rules on one string; `role` picks the rules that apply (names are not prose). */
function scanOne(item: Pick<SurfaceText, 'text' | 'role'>, target: Target, ctx: TextContext, opts: ScanOptions): Finding[] {
  const normalized = normalizeText(item.text);
  const out: Finding[] = [];
  for (const check of TEXT_CHECKS) {
    if (!check.roles.includes(item.role) || !enabled(check.rule, opts)) continue;
    const raw = check.on === 'raw';
    const matches = check.find(raw ? item.text : normalized.text, ctx);
    if (matches.length) out.push(finding(check.rule, target, matches.map((m) => (raw ? { ...m, source: item.text } : inRaw(m, item.text, normalized)))));
  }
  return out;
}

/**
 * A match in the normalised text, moved back to the original text for its excerpt, so the evidence
 * shows the invisible characters that were there. Text spelled in tag characters would show as a
 * run of <U+E00xx>: its evidence is the decoded text instead.
 */
function inRaw(m: TextMatch, text: string, normalized: { text: string; raw: number[] }): TextMatch & { source: string } {
  const start = normalized.raw[m.index];
  const end = normalized.raw[m.index + m.length];
  if (/[\u{E0000}-\u{E007F}]/u.test(text.slice(start, end))) {
    return { ...m, source: normalized.text, evidence: m.evidence ?? clip(`(decoded from tag characters) ${excerpt(normalized.text, m.index, m.length)}`, EVIDENCE_MAX) };
  }
  return { ...m, index: start, length: end - start, source: text };
}

/** The text rules on one string outside a definition, e.g. the content a tool returned (scan_result). */
export function scanText(text: string, target: Target, opts: ScanOptions = {}): Finding[] {
  const ctx: TextContext = { knownTools: opts.known_tools ?? [], ownTools: [], paramNames: [] };
  return sort(scanOne({ text, role: 'text' }, target, ctx, opts), [target]);
}

// ---------------------------------------------------------------------------------------------
// Definition rules

/** What a definition rule found: the rule, where, and what (with its evidence). */
interface DefinitionHit {
  rule: string;
  target: Target;
  severity?: Severity;
  what: string;
  evidence: string;
}

/** Words of an identifier: delete_file, deleteFile, delete-file -> [delete, file]. */
const words = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

/** Verbs of tools that destroy data or stop things: readOnlyHint: true on them is a lie. */
const DESTRUCTIVE_VERBS = new Set(['delete', 'del', 'remove', 'rm', 'drop', 'kill', 'destroy', 'purge', 'erase', 'wipe', 'truncate', 'terminate', 'unlink', 'uninstall', 'revoke', 'shutdown', 'format', 'overwrite', 'rmdir']);
/** Verbs of tools that change something (not necessarily destroying it). */
const WRITE_VERBS = new Set(['write', 'create', 'update', 'set', 'put', 'insert', 'modify', 'edit', 'move', 'rename', 'send', 'post', 'upload', 'append', 'patch', 'save', 'deploy', 'execute', 'exec', 'run', 'publish', 'push', 'commit', 'transfer', 'pay']);
/** A description that opens with one of these says the tool writes. */
const WRITES_DESCRIPTION = /^\s*(?:this\s+tool\s+)?(?:deletes?|removes?|drops?|erases?|destroys?|wipes?|overwrites?|writes?|modif(?:y|ies)|updates?|creates?|sends?|uploads?|moves?|renames?|inserts?|executes?|runs?)\b/iu;

function annotationFindings(tool: Tool): DefinitionHit[] {
  const out: DefinitionHit[] = [];
  const a = tool.annotations ?? {};
  const verbs = words(tool.name);
  const destructive = verbs.find((w) => DESTRUCTIVE_VERBS.has(w));
  const writes = verbs.find((w) => WRITE_VERBS.has(w));
  const add = (field: string, severity: Severity, what: string) =>
    out.push({ rule: 'MCPA701', target: { kind: 'tool', name: tool.name, field }, severity, what, evidence: `${tool.name}: ${JSON.stringify(a)}` });
  if (a.readOnlyHint === true) {
    if (destructive) add('annotations.readOnlyHint', 'high', `"${tool.name}" (${destructive}) is marked readOnlyHint: true`);
    else if (writes) add('annotations.readOnlyHint', 'medium', `"${tool.name}" (${writes}) is marked readOnlyHint: true`);
    else if (WRITES_DESCRIPTION.test(tool.description ?? '')) {
      const verb = WRITES_DESCRIPTION.exec(tool.description ?? '')![0].trim();
      add('annotations.readOnlyHint', 'medium', `the description says the tool ${JSON.stringify(verb)} but it is marked readOnlyHint: true`);
    }
  }
  if (destructive && a.destructiveHint === false && a.readOnlyHint !== true) {
    add('annotations.destructiveHint', 'medium', `"${tool.name}" (${destructive}) is marked destructiveHint: false`);
  }
  return out;
}

/** Parameter names that reach a shell, an interpreter, a database, the file system or the network. */
const HIGH_RISK_PARAM =
  /^(?:command|cmd|commands|shell|script|sql|query|code|expression|expr|eval|exec|program|path|paths|file|files|filename|filepath|url|uri|urls|endpoint|dir|directory|source|destination)$/i;
/** The same as a suffix: file_path, target-url, sqlQuery, sourceFile. */
const HIGH_RISK_SUFFIX = /[_-](?:command|cmd|sql|query|script|path|url|uri|file|dir)s?$/i;
const HIGH_RISK_CAMEL = /[a-z](?:Command|Cmd|Sql|Query|Script|Path|Url|Uri|File|Dir)s?$/;
const highRisk = (name: string) => HIGH_RISK_PARAM.test(name) || HIGH_RISK_SUFFIX.test(name) || HIGH_RISK_CAMEL.test(name);
const CONSTRAINTS = ['enum', 'const', 'pattern', 'format', 'maxLength'];

type Schema = Record<string, unknown>;
const isSchema = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A string schema (or an array of strings) that accepts anything. */
function unconstrainedString(schema: Schema): boolean {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes('array') && isSchema(schema.items)) return unconstrainedString(schema.items);
  if (!types.includes('string') && schema.type !== undefined) return false;
  if (schema.type === undefined && !('description' in schema)) return false;
  return !CONSTRAINTS.some((c) => c in schema);
}

function parameterFindings(tool: Tool): DefinitionHit[] {
  const out: DefinitionHit[] = [];
  const walk = (schema: unknown, field: string, depth: number) => {
    if (!isSchema(schema) || depth > 8) return;
    const props = schema.properties;
    if (isSchema(props)) {
      for (const [name, sub] of Object.entries(props)) {
        const at = `${field}.properties.${name}`;
        if (isSchema(sub) && highRisk(name) && unconstrainedString(sub)) {
          const evidence = `${name}: ${JSON.stringify(sub).slice(0, 150)}`;
          out.push({ rule: 'MCPA801', target: { kind: 'tool', name: tool.name, field: at }, what: `parameter "${name}" is a free-form string`, evidence });
        }
        walk(sub, at, depth + 1);
      }
    }
    if (isSchema(schema.items)) walk(schema.items, `${field}.items`, depth + 1);
  };
  walk(tool.inputSchema, 'inputSchema', 0);
  return out;
}

/** Thresholds from the reference servers: their longest description (sequential-thinking) is ~2,800 characters. */
export const DESCRIPTION_LOW = 2_000;
export const DESCRIPTION_MEDIUM = 10_000;

function sizeFinding(item: SurfaceText): DefinitionHit | undefined {
  const long = item.field === 'description' || item.field === 'instructions';
  if (!long || item.text.length <= DESCRIPTION_LOW) return undefined;
  const severity: Severity = item.text.length > DESCRIPTION_MEDIUM ? 'medium' : 'low';
  return {
    rule: 'MCPA802',
    target: { kind: item.kind, name: item.name, field: item.field },
    severity,
    what: `${item.text.length} characters (low above ${DESCRIPTION_LOW}, medium above ${DESCRIPTION_MEDIUM})`,
    evidence: excerpt(item.text, 0, 0),
  };
}

/** Case and separators folded: send_email, Send-Email and sendEmail are the same name to a reader. */
const folded = (name: string) => skeleton(name).toLowerCase().replace(/[\s_.-]+/g, '');

function collisionFinding(tool: Tool, knownTools: string[]): DefinitionHit | undefined {
  const hit = (other: string, severity: Severity, how: string): DefinitionHit => ({
    rule: 'MCPA502',
    target: { kind: 'tool', name: tool.name, field: 'name' },
    severity,
    what: `"${tool.name}" ${how} "${other}" (known_tools)`,
    evidence: `${visible(tool.name)} vs ${visible(other)}`,
  });
  const exact = knownTools.find((k) => k === tool.name);
  if (exact) return hit(exact, 'high', 'is also the name of');
  const lookAlike = knownTools.find((k) => skeleton(k) === skeleton(tool.name));
  if (lookAlike) return hit(lookAlike, 'high', 'looks like');
  const variant = knownTools.find((k) => folded(k) === folded(tool.name));
  if (variant) return hit(variant, 'medium', 'differs only in case or separators from');
  return undefined;
}

/** Scripts whose letters pass for Latin ones. */
const LOOKALIKE_SCRIPTS: Array<[string, RegExp]> = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
  ['Coptic', /\p{Script=Coptic}/u],
];

function mixedScript(item: SurfaceText): DefinitionHit | undefined {
  const scripts = new Set<string>();
  let compatibility = false;
  for (const ch of item.text) {
    if (!/\p{L}/u.test(ch)) continue;
    const script = LOOKALIKE_SCRIPTS.find(([, re]) => re.test(ch));
    if (script) scripts.add(script[0]);
    // Fullwidth and mathematical letters are Latin to the eye but not to a comparison.
    if (ch.normalize('NFKC') !== ch) compatibility = true;
  }
  if (scripts.size < 2 && !compatibility) return undefined;
  const what = scripts.size >= 2 ? `"${item.text}" mixes ${[...scripts].join(' and ')} letters (reads as "${skeleton(item.text)}")` : `"${item.text}" uses compatibility letters (reads as "${skeleton(item.text)}")`;
  const codes = [...item.text].filter((c) => c.charCodeAt(0) > 0x7f).map((c) => `${c}=U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
  return { rule: 'MCPA202', target: { kind: item.kind, name: item.name, field: item.field }, what, evidence: `${visible(item.text)} (${codes.join(', ')})` };
}

// ---------------------------------------------------------------------------------------------

const KIND_ORDER: TargetKind[] = ['server', 'tool', 'prompt', 'resource', 'resource_template', 'tool_result'];

/** Stable order: targets as listed, then rule id, then field. */
function sort(findings: Finding[], order: Array<{ kind: TargetKind; name: string }>): Finding[] {
  const position = new Map<string, number>();
  order.forEach((t, i) => {
    const key = `${t.kind}\0${t.name}`;
    if (!position.has(key)) position.set(key, i);
  });
  const pos = (f: Finding) => position.get(`${f.target_kind}\0${f.target_name}`) ?? Number.MAX_SAFE_INTEGER;
  return findings.sort(
    (a, b) =>
      KIND_ORDER.indexOf(a.target_kind) - KIND_ORDER.indexOf(b.target_kind) ||
      pos(a) - pos(b) ||
      (a.rule_id < b.rule_id ? -1 : a.rule_id > b.rule_id ? 1 : 0) ||
      (a.field < b.field ? -1 : a.field > b.field ? 1 : 0),
  );
}

/** Every rule on everything the server offers. */
export function scanSurface(surface: ServerSurface, opts: ScanOptions = {}): Finding[] {
  const knownTools = opts.known_tools ?? [];
  const ownTools = surface.tools.map((t) => t.name);
  const texts = surfaceTexts(surface);
  const toolsByName = new Map(surface.tools.map((t) => [t.name, t]));
  const findings: Finding[] = [];

  for (const item of texts) {
    const tool = item.kind === 'tool' ? toolsByName.get(item.name) : undefined;
    const params = tool && isSchema(tool.inputSchema?.properties) ? Object.keys(tool.inputSchema.properties) : [];
    const ctx: TextContext = { knownTools, ownTools, selfTool: tool?.name, paramNames: params };
    findings.push(...scanOne(item, { kind: item.kind, name: item.name, field: item.field }, ctx, opts));
  }

  const definitionHits: Array<DefinitionHit | undefined> = [];
  for (const item of texts) {
    if (item.role === 'name') definitionHits.push(mixedScript(item));
    definitionHits.push(sizeFinding(item));
  }
  for (const tool of surface.tools) {
    definitionHits.push(...annotationFindings(tool), ...parameterFindings(tool), collisionFinding(tool, knownTools));
  }
  for (const hit of definitionHits) {
    if (hit && enabled(hit.rule, opts)) findings.push(finding(hit.rule, hit.target, [{ index: 0, length: 0, source: '', ...hit }]));
  }
  return sort(findings, texts);
}
