/**
 * The declaration of an Ansible module: its options, return values and docs.
 *
 * Every module declares these once; the argument validator, the result
 * builder and the module files (plugins/modules/<name>.py: docs and argument
 * spec) all read the same object, so `ansible-doc` cannot drift from the code.
 */

/** Ansible's option types (the subset AnsibleModule supports that we need). */
export type OptionType = 'str' | 'int' | 'float' | 'bool' | 'list' | 'dict' | 'path' | 'raw' | 'json';

export interface OptionSpec {
  description: string | string[];
  type?: OptionType; // Ansible's default is str
  elements?: OptionType; // element type for type=list
  required?: boolean;
  default?: unknown;
  choices?: readonly unknown[];
  /** Bounds of an int or float option, checked after coercion and shown in the docs. */
  min?: number;
  max?: number;
  aliases?: readonly string[];
  no_log?: boolean;
  /** Environment variables read when the option is not given (Ansible's env_fallback). */
  env_fallback?: readonly string[];
  /** Suboptions for type=dict, or type=list with elements=dict. */
  options?: Record<string, OptionSpec>;
  version_added?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** [option, value, requirements, anyOf?] exactly like AnsibleModule's required_if. */
export type RequiredIf = readonly [string, unknown, readonly string[], boolean?];

export interface ArgumentRules {
  options: OptionSpecs;
  required_if?: readonly RequiredIf[];
  mutually_exclusive?: readonly (readonly string[])[];
  required_together?: readonly (readonly string[])[];
  required_one_of?: readonly (readonly string[])[];
}

export interface ReturnSpec {
  description: string | string[];
  returned: string;
  type: 'str' | 'int' | 'float' | 'bool' | 'list' | 'dict' | 'complex' | 'raw';
  elements?: string;
  sample?: unknown;
  contains?: Record<string, ReturnSpec>;
}

/** What Ansible tells a module besides its options (the `_ansible_*` keys). */
export interface TaskContext {
  moduleName: string;
  checkMode: boolean;
  diff: boolean;
  verbosity: number;
  noLog: boolean;
  tmpdir?: string;
  warn(message: string): void;
  /**
   * Mask a secret that did not come in as a no_log option (a key read from
   * the environment, say) everywhere in the result, like AnsibleModule.no_log_values.
   */
  hideSecret(value: string): void;
  /**
   * The task's secrets masked in a copy of `value`, for what a module writes
   * outside its result (report files): the result itself is masked anyway.
   */
  mask<T>(value: T): T;
}

/** A module's result before the protocol adds invocation, warnings and masking. */
export type ModuleResult = Record<string, unknown> & { changed?: boolean; failed?: boolean; msg?: string };

export interface ModuleDefinition<P = Record<string, any>> extends ArgumentRules {
  name: string;
  short_description: string;
  description: string[];
  supports_check_mode: boolean;
  /** Check-mode support detail for the docs attributes section. */
  check_mode_support?: 'full' | 'partial' | 'none';
  check_mode_details?: string;
  /** Diff-mode support for the docs attributes section (default none). */
  diff_mode_support?: 'full' | 'partial' | 'none';
  diff_mode_details?: string;
  notes?: string[];
  seealso?: { module?: string; link?: string; name?: string; description?: string }[];
  /** Docs fragments shared by several modules, merged into options in the docs. */
  examples: string;
  returns: Record<string, ReturnSpec>;
  run(params: P, task: TaskContext): Promise<ModuleResult>;
}

export function defineModule<P = Record<string, any>>(definition: ModuleDefinition<P>): ModuleDefinition<P> {
  return definition;
}
