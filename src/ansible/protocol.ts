/**
 * Ansible's binary-module protocol: `<module> <args-file>` in, one JSON object
 * out on stdout. This file is the compiled equivalent of AnsibleModule's
 * __init__ + exit_json/fail_json: read the args file, split off `_ansible_*`
 * keys, validate, honour check mode, run, mask no_log values, add invocation.
 */
import { readFileSync } from 'node:fs';
import type { ModuleDefinition, ModuleResult, TaskContext } from './spec';
import { noLogOptionNames, validateArguments } from './validate';
import { ModuleFailure } from '../errors';
import { maskText } from '../secrets';

export const NO_LOG_PLACEHOLDER = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER';

export interface ArgsFile {
  options: Record<string, unknown>;
  internal: Record<string, unknown>; // the _ansible_* keys
}

/** `-` reads the arguments from stdin: the collection's action plugin runs a local task as one command. */
export function readArgsFile(path: string | undefined): ArgsFile {
  if (!path) throw new ModuleFailure('no args file given: Ansible runs a binary module as `<module> <args-file>`');
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e: any) {
    throw new ModuleFailure(`cannot read args file ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e: any) {
    throw new ModuleFailure(`args file ${path} is not valid JSON (${e.message}); binary modules receive their options as a JSON object`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ModuleFailure(`args file ${path} must hold a JSON object of options`);
  }
  const options: Record<string, unknown> = {};
  const internal: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed)) (k.startsWith('_ansible_') ? internal : options)[k] = v;
  return { options, internal };
}

/** Replace no_log values anywhere in a result, like ansible.module_utils.common.parameters.remove_values. */
export function maskSecrets<T>(value: T, secrets: ReadonlySet<string>): T {
  if (!secrets.size) return value;
  const walk = (v: any): any => {
    if (typeof v === 'string') return secrets.has(v) ? NO_LOG_PLACEHOLDER : maskText(v, secrets);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [walk(k), walk(x)]));
    if ((typeof v === 'number' || typeof v === 'boolean') && secrets.has(String(v))) return NO_LOG_PLACEHOLDER;
    return v;
  };
  return walk(value);
}

function emit(result: ModuleResult, code: number): never {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(code));
  // Keep the process alive until stdout has flushed; process.exit runs from the callback.
  return undefined as never;
}

/** Run one module for one task. Never throws: every failure becomes a failed result. */
export async function runModule(definition: ModuleDefinition<any>, args: ArgsFile): Promise<void> {
  const { internal } = args;
  const checked = validateArguments(definition, args.options, definition.name);
  const secrets = checked.noLogValues;
  const warnings: string[] = [...checked.warnings];
  const task: TaskContext = {
    moduleName: definition.name,
    checkMode: internal._ansible_check_mode === true,
    diff: internal._ansible_diff === true,
    verbosity: Number(internal._ansible_verbosity ?? 0),
    noLog: internal._ansible_no_log === true,
    tmpdir: typeof internal._ansible_tmpdir === 'string' ? internal._ansible_tmpdir : undefined,
    warn: (m) => warnings.push(m),
    hideSecret: (value) => {
      if (value) secrets.add(value);
    },
    mask: (value) => maskSecrets(value, secrets),
  };

  const invocationArgs = { ...checked.params };
  for (const name of noLogOptionNames(definition.options)) {
    if (invocationArgs[name] !== null && invocationArgs[name] !== undefined) invocationArgs[name] = NO_LOG_PLACEHOLDER;
  }
  const finish = (result: ModuleResult, code: number): never => {
    const full: ModuleResult = { changed: false, ...result, invocation: { module_args: invocationArgs } };
    if (warnings.length) full.warnings = warnings;
    return emit(maskSecrets(full, secrets), code);
  };

  if (checked.errors.length) return finish({ failed: true, msg: checked.errors.join('; ') }, 1);
  if (task.checkMode && !definition.supports_check_mode) {
    return finish({ skipped: true, msg: `remote module (${definition.name}) does not support check mode` }, 0);
  }
  try {
    const result = await definition.run(checked.params, task);
    return finish(result, result.failed ? 1 : 0);
  } catch (e) {
    return finish(failureResult(e, task.verbosity), 1);
  }
}

/** A thrown error as a failed result: a clear msg; a stack only for unexpected errors at -vvv (Ansible's `exception`). */
export function failureResult(e: unknown, verbosity = 0): ModuleResult {
  if (e instanceof ModuleFailure) return { failed: true, msg: e.message, ...e.details };
  const err = e instanceof Error ? e : new Error(String(e));
  const result: ModuleResult = { failed: true, msg: `internal error in the module: ${err.message}` };
  if (verbosity >= 3 && err.stack) result.exception = err.stack;
  return result;
}

/** For errors before a module is known (bad args file, unknown module name). */
export function failEarly(message: string): never {
  return emit({ failed: true, changed: false, msg: message }, 1);
}
