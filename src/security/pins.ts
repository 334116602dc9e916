/**
 * Pinned definitions (rug pulls): what a server shows the model, hashed per
 * item, so a later run can say what was added, removed or changed since a
 * person reviewed it. The pin file is committed next to the playbook and
 * reviewed in pull requests, so it stores each definition as well as its hash:
 * the review sees the text, and verify can say which field changed.
 *
 * File format (YAML, or JSON when the name ends in .json):
 *
 *   version: 1
 *   server: { name: mcp-servers/everything, version: 2.0.0 }
 *   pinned_by: tosin2013.mcp_audit 2.0.0
 *   items:
 *     instructions: { hash: "sha256:…", definition: "<the instructions>" }
 *     tools:
 *       echo:
 *         hash: sha256:…
 *         definition: { name: echo, description: …, inputSchema: {…}, … }
 *     prompts: { <name>: { hash, definition } }
 *     resource_templates: { <name>: { hash, definition } }
 *
 * Nothing volatile goes in (no timestamps): re-pinning an unchanged server
 * writes the same bytes, so `changed` stays false and the diff stays empty.
 * `server` and `pinned_by` are for the reader; verify compares items only.
 * The hash is sha256 of the definition as canonical JSON (keys sorted at every
 * level), so it does not depend on the order a server emits keys in.
 *
 * Only what enters the model's context is pinned. `_meta`, `icons` and
 * `execution` are read by clients, not shown to the model; pinning them would
 * report changes no model sees. Static resources are not pinned: servers list
 * them from data (files, records) that changes without any rug pull; their
 * text is the rules engine's business.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import { diffWordsWithSpace } from 'diff';
import YAML from 'yaml';
import type { Prompt, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import { ModuleFailure } from '../errors';
import { writeReportFile } from '../report_file';
import { VERSION } from '../version';
import { visible } from './text_rules';
import type { ServerSurface, TargetKind } from './types';

export interface Pin {
  /** "sha256:" and the hex digest of the definition's canonical JSON. */
  hash: string;
  definition: unknown;
}

export interface PinFile {
  version: 1;
  server: { name?: string; version?: string };
  pinned_by: string;
  items: {
    instructions?: Pin;
    tools: Record<string, Pin>;
    prompts: Record<string, Pin>;
    resource_templates: Record<string, Pin>;
  };
}

/** In the findings' vocabulary: the instructions are the server's ({ kind: 'server', name: 'instructions' }). */
export type PinKind = Extract<TargetKind, 'server' | 'tool' | 'prompt' | 'resource_template'>;
export interface ItemRef {
  kind: PinKind;
  name: string;
}

export interface FieldChange {
  /** Where in the definition: "description", "inputSchema.properties.path.description", "arguments[0].description", "instructions". */
  path: string;
  /** Absent when the field was added (before) or removed (after). */
  before?: unknown;
  after?: unknown;
  /** Short and human: a word diff for text ([-old-]{+new+}), `before → after` JSON otherwise; invisible characters as <U+XXXX>. */
  diff: string;
}

export interface PinComparison {
  added: ItemRef[];
  removed: ItemRef[];
  changed: (ItemRef & { fields: FieldChange[] })[];
  unchanged: ItemRef[];
}

const pick = (o: object, keys: string[]) => Object.fromEntries(keys.filter((k) => (o as any)[k] !== undefined).map((k) => [k, (o as any)[k]]));

/** Each pinned kind: its key under `items`, and the fields of a definition the model sees. */
const KINDS = [
  { key: 'instructions', kind: 'server' },
  { key: 'tools', kind: 'tool', view: (t: Tool) => pick(t, ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations']) },
  { key: 'prompts', kind: 'prompt', view: (p: Prompt) => pick(p, ['name', 'title', 'description', 'arguments']) },
  { key: 'resource_templates', kind: 'resource_template', view: (r: ResourceTemplate) => pick(r, ['uriTemplate', 'name', 'title', 'description', 'mimeType']) },
] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, key: string) => (Object.hasOwn(o, key) ? o[key] : undefined);
/** Code-unit order: the same on every machine and locale. */
const sorted = (names: Iterable<string>) => [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** A copy with object keys sorted at every level and undefined values dropped. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isObject(value)) return value;
  return Object.fromEntries(sorted(Object.keys(value)).filter((k) => value[k] !== undefined).map((k) => [k, canonical(value[k])]));
}

const canonicalJson = (value: unknown) => JSON.stringify(canonical(value));
const hashOf = (definition: unknown) => `sha256:${createHash('sha256').update(canonicalJson(definition)).digest('hex')}`;

function pinOf(definition: unknown): Pin {
  const stored = canonical(definition);
  return { hash: hashOf(stored), definition: stored };
}

export function pinsOf(surface: ServerSurface): PinFile {
  // A name listed twice keeps its first definition, the one a client would find first.
  const pinAll = <T extends { name: string }>(list: T[], view: (item: T) => object) =>
    Object.fromEntries(sorted(list.map((i) => i.name)).map((name) => [name, pinOf(view(list.find((i) => i.name === name)!))]));
  return {
    version: 1,
    server: pick(surface.server_info, ['name', 'version']),
    pinned_by: `tosin2013.mcp_audit ${VERSION}`,
    items: {
      ...(surface.instructions ? { instructions: pinOf(surface.instructions) } : {}),
      tools: pinAll(surface.tools, KINDS[1].view),
      prompts: pinAll(surface.prompts, KINDS[2].view),
      resource_templates: pinAll(surface.resource_templates, KINDS[3].view),
    },
  };
}

/** The pins of one kind by name; the instructions are a kind with one item. */
function pinMap(file: PinFile, key: (typeof KINDS)[number]['key']): Map<string, Pin> {
  if (key === 'instructions') return new Map(file.items.instructions ? [['instructions', file.items.instructions]] : []);
  return new Map(Object.entries(file.items[key]));
}

export function comparePins(pinned: PinFile, current: PinFile): PinComparison {
  const result: PinComparison = { added: [], removed: [], changed: [], unchanged: [] };
  for (const { key, kind } of KINDS) {
    const before = pinMap(pinned, key);
    const after = pinMap(current, key);
    for (const name of sorted([...before.keys(), ...after.keys()])) {
      const [b, a] = [before.get(name), after.get(name)];
      const ref = { kind, name };
      if (!b) result.added.push(ref);
      else if (!a) result.removed.push(ref);
      else if (b.hash === a.hash) result.unchanged.push(ref);
      else result.changed.push({ ...ref, fields: fieldChanges(b.definition, a.definition, kind === 'server' ? 'instructions' : '') });
    }
  }
  return result;
}

/** A definition that changed within one session (list_changed): the same comparison as against a pin file. */
export const surfaceChanges = (before: ServerSurface, after: ServerSurface) => comparePins(pinsOf(before), pinsOf(after));

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;
const joinKey = (path: string, key: string) => (!IDENTIFIER.test(key) ? `${path}[${shown(JSON.stringify(key))}]` : path ? `${path}.${key}` : key);

/** The smallest differing fields: objects by key, lists of the same length by index, anything else whole. */
function fieldChanges(before: unknown, after: unknown, path: string, out: FieldChange[] = []): FieldChange[] {
  if (isObject(before) && isObject(after)) {
    for (const key of sorted([...Object.keys(before), ...Object.keys(after)])) fieldChanges(own(before, key), own(after, key), joinKey(path, key), out);
  } else if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((item, i) => fieldChanges(item, after[i], `${path}[${i}]`, out));
  } else if (canonicalJson(before) !== canonicalJson(after)) {
    out.push({ path, ...(before !== undefined && { before }), ...(after !== undefined && { after }), diff: describeChange(before, after) });
  }
  return out;
}

/**
 * Characters a reviewer cannot see or that change what they see: controls,
 * format characters (zero-width, bidi, tag block), private use, unassigned,
 * lone surrogates, separators other than space, fillers and variation selectors.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u034f\u115f\u1160\u3164\uffa0\ufe00-\ufe0f\u{e0100}-\u{e01ef}]/gu;
const codePoint = (c: string, digits: number) => c.codePointAt(0)!.toString(16).toUpperCase().padStart(digits, '0');

/** Hidden characters spelled out, line breaks as \\n: a diff must show every change. */
const shown = (text: string) => visible(text, { escapeLineBreaks: true });

const MAX_DIFF = 300;
const MAX_PART = 120;
const CONTEXT = 40;
const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

function describeChange(before: unknown, after: unknown): string {
  if (typeof before === 'string' && typeof after === 'string') return textDiff(shown(before), shown(after));
  const excerpt = (v: unknown) => (v === undefined ? '(absent)' : clip(shown(canonicalJson(v)), MAX_PART));
  return `${excerpt(before)} → ${excerpt(after)}`;
}

/**
 * A word diff, wdiff style: unchanged text shortened to some context around
 * each change. The common prefix and suffix (to a word boundary) are cut off
 * first, and jsdiff gets a bound on its work, so a huge rewritten description
 * costs little: past the bound the middle is shown as one replacement.
 */
function textDiff(before: string, after: string): string {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  while (start > 0 && !/\s/.test(before[start - 1])) start--;
  let end = 0;
  const room = Math.min(before.length, after.length) - start;
  while (end < room && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  while (end > 0 && !/\s/.test(before[before.length - end])) end--;
  const [oldMiddle, newMiddle] = [before.slice(start, before.length - end), after.slice(start, after.length - end)];
  const parts = diffWordsWithSpace(oldMiddle, newMiddle, { maxEditLength: 200 }) ?? [
    { value: oldMiddle, removed: true, added: false },
    { value: newMiddle, added: true, removed: false },
  ];
  // A rewrite shares only the spaces between words; shown word by word it is
  // unreadable, so changes separated by nothing but whitespace are one replacement.
  let [middle, removed, added] = ['', '', ''];
  const flush = () => {
    if (removed) middle += `[-${clip(removed, MAX_PART)}-]`;
    if (added) middle += `{+${clip(added, MAX_PART)}+}`;
    removed = added = '';
  };
  parts.forEach((p, i) => {
    if (p.removed) removed += p.value;
    else if (p.added) added += p.value;
    else if ((removed || added) && i < parts.length - 1 && !p.value.trim()) [removed, added] = [removed + p.value, added + p.value];
    else {
      flush();
      middle += p.value.length > 2 * CONTEXT ? `${p.value.slice(0, CONTEXT)}…${p.value.slice(-CONTEXT)}` : p.value;
    }
  });
  flush();
  const head = start > CONTEXT ? `…${before.slice(start - CONTEXT, start)}` : before.slice(0, start);
  const tail = end > CONTEXT ? `${before.slice(before.length - end, before.length - end + CONTEXT)}…` : before.slice(before.length - end);
  return clip(head + middle + tail, MAX_DIFF);
}

// ---- the file ----

const isJsonPath = (path: string) => extname(path).toLowerCase() === '.json';

/** Hidden characters in the file as escapes, so a pull request shows them; only inside strings, which are quoted (see yamlText). */
function escapeHidden(text: string, escape: (c: string) => string): string {
  return text.replace(HIDDEN, (c) => (c === '\n' || c === '\t' ? c : escape(c)));
}
const hasHidden = (s: string) => [...s.matchAll(HIDDEN)].some(([c]) => c !== '\n' && c !== '\t');
const jsonEscape = (c: string) => c.split('').map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
const yamlEscape = (c: string) => (c.codePointAt(0)! > 0xffff ? `\\U${codePoint(c, 8)}` : `\\u${codePoint(c, 4)}`);

/**
 * Styled for review: multi-line text (instructions, often Markdown) as a
 * literal block (`|`), as written; long one-line text as a folded block (`>-`)
 * rather than a plain scalar folded mid-value. Strings with hidden characters
 * are double-quoted, where the escapes are legal. The yaml library writes a few
 * strings wrongly (a literal block whose first line is only spaces; spaces
 * between a backslash and a line break in double quotes), so the text is read
 * back; should it differ, every string is written in JSON's syntax, which YAML
 * reads and which is always faithful.
 */
function yamlText(pins: PinFile): string {
  const doc = new YAML.Document(pins, { aliasDuplicateObjects: false });
  YAML.visit(doc, {
    Scalar(key, node) {
      if (typeof node.value !== 'string') return;
      if (hasHidden(node.value)) node.type = 'QUOTE_DOUBLE';
      else if (key !== 'value') return;
      else if (node.value.includes('\n')) node.type = 'BLOCK_LITERAL';
      else if (node.value.length > 70 && /^\S.* \S/.test(node.value)) node.type = 'BLOCK_FOLDED';
    },
  });
  const text = escapeHidden(doc.toString(), yamlEscape);
  if (JSON.stringify(YAML.parse(text)) === JSON.stringify(pins)) return text;
  const asJson = { aliasDuplicateObjects: false, lineWidth: 0, doubleQuotedAsJSON: true, defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'QUOTE_DOUBLE' } as const;
  return escapeHidden(YAML.stringify(pins, asJson), yamlEscape);
}

export function pinFileText(path: string, pins: PinFile): string {
  return isJsonPath(path) ? escapeHidden(`${JSON.stringify(pins, null, 2)}\n`, jsonEscape) : yamlText(pins);
}

/** Writes the pins atomically unless the file already holds exactly this; true when it did not (in check mode: would not). */
export function writePinFile(path: string, pins: PinFile, { checkMode = false } = {}): boolean {
  const text = pinFileText(path, pins);
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return false;
  if (!checkMode) writeReportFile(path, text, 'pin file');
  return true;
}

/** The pin file at `path`, undefined when there is none; a ModuleFailure saying what is wrong with a file that is not one. */
export function readPinFile(path: string): PinFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e: any) {
    if (e.code === 'ENOENT') return undefined;
    throw new ModuleFailure(`cannot read pin file ${path}: ${e.message}`);
  }
  let data: unknown;
  try {
    data = isJsonPath(path) ? JSON.parse(text) : YAML.parse(text);
  } catch (e: any) {
    throw new ModuleFailure(`pin file ${path} is not valid ${isJsonPath(path) ? 'JSON' : 'YAML'}: ${String(e.message).split('\n')[0]}`);
  }
  const fail = (what: string) => new ModuleFailure(`pin file ${path}: ${what}`);
  if (!isObject(data) || !('version' in data) || !isObject(data.items)) {
    throw fail('not a pin file (expected a mapping with version: 1 and items, as pin_mode: update writes it)');
  }
  if (data.version !== 1) throw fail(`version ${JSON.stringify(data.version)} is not supported; this collection reads version 1. Re-pin with pin_mode: update`);
  const items = data.items;
  const checkPin = (where: string, pin: unknown): Pin => {
    if (!isObject(pin) || typeof pin.hash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(pin.hash) || pin.definition === undefined) {
      throw fail(`${where} is not a pin (expected hash: "sha256:<64 hex digits>" and definition)`);
    }
    if (hashOf(pin.definition) !== pin.hash) {
      throw fail(`${where}: the hash does not match the pinned definition (edited by hand?). Review the server and re-pin with pin_mode: update`);
    }
    return { hash: pin.hash, definition: pin.definition };
  };
  const kind = (key: 'tools' | 'prompts' | 'resource_templates') => {
    const pins = items[key] ?? {};
    if (!isObject(pins)) throw fail(`items.${key} must be a mapping of names to pins`);
    return Object.fromEntries(Object.entries(pins).map(([name, pin]) => [name, checkPin(joinKey(`items.${key}`, name), pin)]));
  };
  return {
    version: 1,
    server: isObject(data.server) ? pick(data.server, ['name', 'version']) : {},
    pinned_by: typeof data.pinned_by === 'string' ? data.pinned_by : '',
    items: {
      ...(items.instructions !== undefined && { instructions: checkPin('items.instructions', items.instructions) }),
      tools: kind('tools'),
      prompts: kind('prompts'),
      resource_templates: kind('resource_templates'),
    },
  };
}
