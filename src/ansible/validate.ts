/**
 * Argument validation with AnsibleModule's rules (ansible.module_utils.common.
 * parameters / validation): aliases, unknown options, required, defaults, type
 * coercion, elements, choices, suboptions, mutually_exclusive, required_if,
 * required_together and required_one_of; plus declared min/max of numbers,
 * which AnsibleModule lacks. Messages follow Ansible's wording so
 * that people who know Ansible recognise them.
 */
import { homedir } from 'node:os';
import type { ArgumentRules, OptionSpec, OptionSpecs, OptionType } from './spec';
import { MAX_NESTING, nestedDeeperThan } from '../data_limits';

export class ArgumentError extends Error {}

export interface ValidationResult {
  params: Record<string, any>;
  errors: string[];
  warnings: string[];
  /** Values of no_log options, to be masked anywhere in the output. */
  noLogValues: Set<string>;
}

const BOOLEANS_TRUE = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const BOOLEANS_FALSE = new Set(['n', 'no', 'off', '0', 'false', 'f']);

const typeName = (v: unknown): string =>
  v === null ? 'NoneType' : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'dict' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : typeof v === 'boolean' ? 'bool' : 'str';

/** Ansible's str(): Python spellings for booleans and None. */
export function pythonStr(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function toBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const key = typeof value === 'string' ? value.trim().toLowerCase() : typeof value === 'number' ? String(value) : undefined;
  if (key !== undefined && BOOLEANS_TRUE.has(key)) return true;
  if (key !== undefined && BOOLEANS_FALSE.has(key)) return false;
  throw new ArgumentError(
    `The value '${pythonStr(value)}' is not a valid boolean. Valid booleans include: ${[...BOOLEANS_TRUE, ...BOOLEANS_FALSE].map((b) => `'${b}'`).join(', ')}`,
  );
}

/** check_type_dict's key=value form: fields split on commas/spaces, quotes and backslashes honoured. */
function parseKeyValue(text: string): Record<string, string> {
  const fields: string[] = [];
  let buffer = '';
  let quote: string | false = false;
  let escape = false;
  for (const c of text.trim()) {
    if (escape) {
      buffer += c;
      escape = false;
    } else if (c === '\\') escape = true;
    else if (!quote && (c === "'" || c === '"')) quote = c;
    else if (quote && quote === c) quote = false;
    else if (!quote && (c === ',' || c === ' ')) {
      if (buffer) fields.push(buffer);
      buffer = '';
    } else buffer += c;
  }
  if (buffer) fields.push(buffer);
  const out: Record<string, string> = {};
  for (const field of fields) {
    const at = field.indexOf('=');
    if (at < 0) throw new ArgumentError(`dictionary requested, could not parse JSON or key=value`);
    out[field.slice(0, at)] = field.slice(at + 1);
  }
  return out;
}

function expandPath(p: string): string {
  let out = p.replace(/^~(?=$|\/)/, homedir());
  out = out.replace(/\$(\w+)|\$\{(\w+)\}/g, (whole, a, b) => process.env[a ?? b] ?? whole);
  return out;
}

/** Coerce one value to an Ansible type; throws ArgumentError with Ansible's reason. */
export function coerce(value: unknown, type: OptionType, warnings?: string[], label = 'value'): unknown {
  switch (type) {
    case 'raw':
      return value;
    case 'str':
    case 'path': {
      let s: string;
      if (typeof value === 'string') s = value;
      else if (value !== null && typeof value === 'object') throw new ArgumentError(`${typeName(value)} cannot be converted to a str`);
      else {
        s = pythonStr(value);
        warnings?.push(
          `The value "${s}" (type ${typeName(value)}) was converted to "'${s}'" (type string) for ${label}. If this does not look like what you expect, quote the entire value to ensure it does not change.`,
        );
      }
      return type === 'path' ? expandPath(s) : s;
    }
    case 'int': {
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) return parseInt(value, 10);
      throw new ArgumentError(`${typeName(value)} '${pythonStr(value)}' cannot be converted to an int`);
    }
    case 'float': {
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      throw new ArgumentError(`${typeName(value)} '${pythonStr(value)}' cannot be converted to a float`);
    }
    case 'bool':
      return toBool(value);
    case 'list': {
      if (Array.isArray(value)) return value;
      if (typeof value === 'string') return value === '' ? [] : value.split(',');
      if (typeof value === 'number' || typeof value === 'boolean') return [pythonStr(value)];
      throw new ArgumentError(`${typeName(value)} cannot be converted to a list`);
    }
    case 'dict': {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
      if (typeof value === 'string') {
        if (value.startsWith('{')) {
          try {
            return JSON.parse(value);
          } catch {
            throw new ArgumentError('unable to evaluate string as dictionary');
          }
        }
        if (value.includes('=')) return parseKeyValue(value);
      }
      throw new ArgumentError('dictionary requested, could not parse JSON or key=value');
    }
    case 'json': {
      if (value !== null && typeof value === 'object') return JSON.stringify(value);
      if (typeof value === 'string') return value;
      throw new ArgumentError(`${typeName(value)} cannot be converted to json`);
    }
  }
}

/** Every leaf value of a no_log option, as strings (Ansible masks them everywhere). */
function collectNoLogValues(value: unknown, into: Set<string>): void {
  // Like Ansible's _return_datastructure_name: booleans are never secrets (else every `true` in the result would be masked).
  if (value === null || value === undefined || typeof value === 'boolean') return;
  if (Array.isArray(value)) value.forEach((v) => collectNoLogValues(v, into));
  else if (typeof value === 'object') Object.values(value).forEach((v) => collectNoLogValues(v, into));
  else if (typeof value === 'string' ? value.length > 0 : true) into.add(String(value));
}

const isSet = (v: unknown) => v !== undefined && v !== null;

/** The declared range, in words ("between 1 and 10", "at least 0"); undefined when there is none. */
export function rangeText(spec: Pick<OptionSpec, 'min' | 'max'>): string | undefined {
  if (spec.min !== undefined && spec.max !== undefined) return `between ${spec.min} and ${spec.max}`;
  if (spec.min !== undefined) return `at least ${spec.min}`;
  if (spec.max !== undefined) return `at most ${spec.max}`;
  return undefined;
}

/** The range a number falls outside of, in words; undefined when it is within (or not a number). */
function outOfRange(spec: OptionSpec, value: unknown): string | undefined {
  if (typeof value !== 'number') return undefined;
  if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) return rangeText(spec);
  return undefined;
}

function describeOptions(options: OptionSpecs): string {
  return Object.entries(options)
    .map(([name, spec]) => (spec.aliases?.length ? `${name} (${spec.aliases.join(', ')})` : name))
    .sort()
    .join(', ');
}

/**
 * Validate one level of options. `where` names the parent for suboptions
 * (Ansible appends " found in tests" to messages about suboptions).
 */
function validateLevel(
  rules: ArgumentRules,
  input: Record<string, unknown>,
  moduleName: string,
  result: ValidationResult,
  where = '',
): Record<string, any> {
  const { options } = rules;
  const suffix = where ? ` found in ${where}` : '';
  const params: Record<string, any> = { ...input };

  // Aliases first: an alias and its option given together is an error, as in Ansible.
  for (const [name, spec] of Object.entries(options)) {
    for (const alias of spec.aliases ?? []) {
      if (alias in params) {
        if (name in params && params[name] !== params[alias]) {
          result.warnings.push(`Both option ${name} and its alias ${alias} are set.`);
        }
        params[name] = params[alias];
        delete params[alias];
      }
    }
  }

  const unknown = Object.keys(params).filter((k) => !(k in options));
  if (unknown.length) {
    const what = where ? `Unsupported parameters for (${moduleName}) module: ${unknown.sort().join(', ')}${suffix}` : `Unsupported parameters for (${moduleName}) module: ${unknown.sort().join(', ')}`;
    result.errors.push(`${what}. Supported parameters include: ${describeOptions(options)}.`);
  }

  // Ansible's env_fallback: an option not given is read from the environment.
  for (const [name, spec] of Object.entries(options)) {
    if (isSet(params[name]) || !spec.env_fallback) continue;
    const found = spec.env_fallback.find((v) => process.env[v] !== undefined);
    if (found) params[name] = process.env[found];
  }

  // no_log values are collected before type checks, so even a rejected secret is masked.
  for (const [name, spec] of Object.entries(options)) {
    if (spec.no_log && isSet(params[name])) collectNoLogValues(params[name], result.noLogValues);
  }

  for (const group of rules.mutually_exclusive ?? []) {
    const present = group.filter((k) => isSet(params[k]));
    if (present.length > 1) result.errors.push(`parameters are mutually exclusive: ${group.join('|')}${suffix}`);
  }

  const missing = Object.entries(options)
    .filter(([name, spec]) => spec.required && !isSet(params[name]))
    .map(([name]) => name);
  if (missing.length) result.errors.push(`missing required arguments: ${missing.sort().join(', ')}${suffix}`);

  for (const [name, spec] of Object.entries(options)) {
    if (!isSet(params[name])) {
      params[name] = spec.default !== undefined ? structuredClone(spec.default) : null;
      if (params[name] === null) continue;
    }
    const type = spec.type ?? 'str';
    try {
      params[name] = coerce(params[name], type, result.warnings, `option ${name}`);
    } catch (e) {
      if (!(e instanceof ArgumentError)) throw e;
      result.errors.push(`argument '${name}' is of type ${typeName(params[name])}${suffix} and we were unable to convert to ${type}: ${e.message}`);
      continue;
    }
    if (type === 'list' && spec.elements) {
      const elements = spec.elements;
      params[name] = (params[name] as unknown[]).map((item, i) => {
        try {
          return coerce(item, elements, result.warnings, `option ${name}[${i}]`);
        } catch (e) {
          if (!(e instanceof ArgumentError)) throw e;
          result.errors.push(`Elements value for option '${name}'${suffix} is of type ${typeName(item)} and we were unable to convert to ${elements}: ${e.message}`);
          return item;
        }
      });
    }
    if (spec.choices) {
      const values = type === 'list' ? (params[name] as unknown[]) : [params[name]];
      const bad = values.filter((v) => !spec.choices!.some((c) => c === v || pythonStr(c) === pythonStr(v)));
      if (bad.length) {
        const choices = spec.choices.map(pythonStr).join(', ');
        result.errors.push(
          type === 'list'
            ? `value of ${name} must be one or more of: ${choices}. Got no match for: ${bad.map(pythonStr).join(', ')}${suffix}`
            : `value of ${name} must be one of: ${choices}, got: ${pythonStr(params[name])}${suffix}`,
        );
      }
    }
    const outside = outOfRange(spec, params[name]);
    if (outside) result.errors.push(`value of ${name} must be ${outside}, got: ${pythonStr(params[name])}${suffix}`);
    if (spec.options) {
      const sub = { options: spec.options };
      const label = where ? `${where}.${name}` : name;
      if (type === 'dict' && params[name] && typeof params[name] === 'object') {
        params[name] = validateLevel(sub, params[name], moduleName, result, label);
      } else if (type === 'list' && spec.elements === 'dict') {
        params[name] = (params[name] as any[]).map((item, i) =>
          item && typeof item === 'object' ? validateLevel(sub, item, moduleName, result, `${label}[${i}]`) : item,
        );
      }
    }
  }

  for (const [key, value, requirements, anyOf] of rules.required_if ?? []) {
    if (params[key] !== value) continue;
    const absent = requirements.filter((r) => !isSet(params[r]));
    if (anyOf ? absent.length === requirements.length : absent.length > 0) {
      result.errors.push(`${key} is ${pythonStr(value)} but ${anyOf ? 'any' : 'all'} of the following are missing: ${absent.join(', ')}${suffix}`);
    }
  }
  for (const group of rules.required_together ?? []) {
    const present = group.filter((k) => isSet(params[k]));
    if (present.length && present.length < group.length) result.errors.push(`parameters are required together: ${group.join(', ')}${suffix}`);
  }
  for (const group of rules.required_one_of ?? []) {
    if (!group.some((k) => isSet(params[k]))) result.errors.push(`one of the following is required: ${group.join(', ')}${suffix}`);
  }
  return params;
}

/** Validate a task's options (without `_ansible_*` keys) against a module's rules. */
export function validateArguments(rules: ArgumentRules, input: Record<string, unknown>, moduleName: string): ValidationResult {
  const result: ValidationResult = { params: {}, errors: [], warnings: [], noLogValues: new Set() };
  // Too deep to walk safely (masking, the invocation echo, JSON): refused and left out, never echoed.
  const tooDeep = (name: string) => result.errors.push(`argument '${name}' nests dicts and lists more than ${MAX_NESTING} levels deep, the most this collection accepts`);
  const walkable: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input)) {
    if (!nestedDeeperThan(value, MAX_NESTING)) walkable[name] = value;
    else tooDeep(name);
  }
  result.params = validateLevel(rules, walkable, moduleName, result);
  // Again after coercion: a dict given as a JSON string (ansible-core >= 2.19 leaves templated strings as strings) nests only now.
  for (const [name, value] of Object.entries(result.params)) {
    if (nestedDeeperThan(value, MAX_NESTING)) {
      tooDeep(name);
      // As if it had been refused before coercion: the default, never the value.
      if (rules.options[name]?.default !== undefined) result.params[name] = structuredClone(rules.options[name].default);
      else delete result.params[name];
    }
  }
  return result;
}

/** Specs of the options that are no_log, for masking the invocation. */
export function noLogOptionNames(options: OptionSpecs): string[] {
  return Object.entries(options)
    .filter(([, spec]: [string, OptionSpec]) => spec.no_log)
    .map(([name]) => name);
}
