/**
 * Module files generated from the module declarations (src/ansible/docs.ts):
 * plugins/modules/<name>.py, read here the way Ansible's tools read them
 * (Python's ast, PyYAML), must mirror the declarations exactly in their
 * DOCUMENTATION, RETURN and argument spec, and the README reference must
 * cover every module.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentation, markdownReference, moduleFile, README_BEGIN, README_END, writeDocs } from '../../src/ansible/docs';
import { defineModule, type ModuleDefinition, type OptionSpecs, type ReturnSpec } from '../../src/ansible/spec';
import { CONNECTION_OPTIONS } from '../../src/connection_options';
import { MODULES } from '../../modules/index';

/**
 * The markup ansible-core 2.14 renders: O(x=y) -> C(x=y), O(x) -> I(x), E(VAR) -> C(VAR);
 * written independently of docs.ts.
 */
function expectedMarkup(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const at = rest.search(/[OE]\(/);
    if (at < 0) return out + rest;
    const close = rest.indexOf(')', at);
    const inner = rest.slice(at + 2, close);
    out += rest.slice(0, at) + (rest[at] === 'E' || inner.includes('=') ? `C(${inner})` : `I(${inner})`);
    rest = rest.slice(close + 1);
  }
}

const asLines = (d: string | string[]) => (Array.isArray(d) ? d : [d]).map(expectedMarkup);

/**
 * What Ansible's tools get from a module file: DOCUMENTATION and RETURN as
 * PyYAML loads them, EXAMPLES, the argument spec main() hands AnsibleModule,
 * and every value PyYAML did not load as a JSON type (a date, say).
 */
interface ModuleFileContents {
  DOCUMENTATION: Record<string, any>;
  EXAMPLES: string;
  RETURN: Record<string, any>;
  ARGUMENT_SPEC: Record<string, any>;
  nonJsonValues: string[];
}

const READ_MODULE_FILE = `
import ast, json, sys, yaml
found = {}
for node in ast.parse(sys.stdin.read()).body:
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        found[node.targets[0].id] = node.value
odd = []
def check(value, path):
    if isinstance(value, dict):
        for k, v in value.items(): check(v, path + '.' + str(k))
    elif isinstance(value, list):
        for v in value: check(v, path + '[]')
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        odd.append(path + ': ' + type(value).__name__)
out = {
    'DOCUMENTATION': yaml.safe_load(found['DOCUMENTATION'].value),
    'EXAMPLES': found['EXAMPLES'].value,
    'RETURN': yaml.safe_load(found['RETURN'].value),
    'ARGUMENT_SPEC': eval(compile(ast.Expression(found['ARGUMENT_SPEC']), 'spec', 'eval'), {'__builtins__': {}, 'dict': dict}),
}
check(out, '')
out['nonJsonValues'] = odd
print(json.dumps(out))
`;

function readModuleFile(text: string): ModuleFileContents {
  const run = spawnSync('python3', ['-c', READ_MODULE_FILE], { input: text, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python3 could not read the module file:\n${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** An option's description lines plus the sentence stating its declared range. */
function optionLines(spec: OptionSpecs[string]): string[] {
  const { min, max } = spec;
  const range = min !== undefined && max !== undefined ? `between ${min} and ${max}` : min !== undefined ? `at least ${min}` : max !== undefined ? `at most ${max}` : '';
  return [...asLines(spec.description), ...(range ? [`Must be ${range}.`] : [])];
}

const isEmptyContainer = (v: unknown) => (Array.isArray(v) && v.length === 0) || (!!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);

/** Assert that the documented options mirror the declared ones, recursively. */
function expectOptionsMirror(documented: Record<string, any>, declared: OptionSpecs, where: string) {
  expect(Object.keys(documented), `${where}: option names and order`).toEqual(Object.keys(declared));
  for (const [name, spec] of Object.entries(declared)) {
    const doc = documented[name];
    const at = `${where}.${name}`;
    expect(doc.description, `${at}.description`).toEqual(optionLines(spec));
    expect(doc.type, `${at}.type`).toBe(spec.type ?? 'str');
    expect(doc, `${at}: min/max are not doc keys`).not.toHaveProperty('min');
    expect(doc.elements, `${at}.elements`).toBe(spec.elements);
    expect(doc.required, `${at}.required`).toBe(spec.required ? true : undefined);
    if (spec.default === undefined || isEmptyContainer(spec.default)) expect(doc.default, `${at}.default`).toBeUndefined();
    else expect(doc.default, `${at}.default`).toEqual(spec.default);
    expect(doc.choices, `${at}.choices`).toEqual(spec.choices ? [...spec.choices] : undefined);
    expect(doc.aliases, `${at}.aliases`).toEqual(spec.aliases?.length ? [...spec.aliases] : undefined);
    expect(doc, `${at}: env is for plugins, not module docs`).not.toHaveProperty('env');
    expect(doc, `${at}: no_log is not a doc key`).not.toHaveProperty('no_log');
    if (spec.options) expectOptionsMirror(doc.suboptions, spec.options, at);
    else expect(doc.suboptions, `${at}.suboptions`).toBeUndefined();
  }
}

function expectReturnsMirror(documented: Record<string, any>, declared: Record<string, ReturnSpec>, where: string) {
  expect(Object.keys(documented), `${where}: return names`).toEqual(Object.keys(declared));
  for (const [name, spec] of Object.entries(declared)) {
    const doc = documented[name];
    const at = `${where}.${name}`;
    expect(doc.description, `${at}.description`).toEqual(asLines(spec.description));
    expect(doc.returned, `${at}.returned`).toBe(spec.returned);
    expect(doc.type, `${at}.type`).toBe(spec.type);
    expect(doc.elements, `${at}.elements`).toBe(spec.elements);
    if (spec.sample !== undefined) expect(doc.sample, `${at}.sample`).toEqual(spec.sample);
    if (spec.contains) expectReturnsMirror(doc.contains, spec.contains, at);
    else expect(doc.contains).toBeUndefined();
  }
}

/** Assert that the argument spec states what the declarations state (and so what the docs state). */
function expectSpecMirror(argspec: Record<string, any>, declared: OptionSpecs, where: string) {
  expect(Object.keys(argspec), `${where}: argument spec names and order`).toEqual(Object.keys(declared));
  for (const [name, spec] of Object.entries(declared)) {
    const arg = argspec[name];
    const at = `${where}.${name}`;
    expect(arg.type, `${at}.type`).toBe(spec.type ?? 'str');
    expect(arg.elements, `${at}.elements`).toBe(spec.elements);
    expect(arg.required, `${at}.required`).toBe(spec.required ? true : undefined);
    if (spec.default === undefined || isEmptyContainer(spec.default)) expect(arg, `${at}.default`).not.toHaveProperty('default');
    else expect(arg.default, `${at}.default`).toEqual(spec.default);
    expect(arg.choices, `${at}.choices`).toEqual(spec.choices ? [...spec.choices] : undefined);
    expect(arg.aliases, `${at}.aliases`).toEqual(spec.aliases?.length ? [...spec.aliases] : undefined);
    expect(arg.no_log, `${at}.no_log`).toBe(spec.no_log ? true : undefined);
    if (spec.options) expectSpecMirror(arg.options, spec.options, at);
    else expect(arg.options, `${at}.options`).toBeUndefined();
  }
}

function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => allStrings(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => allStrings(v, out));
  return out;
}

const modules = Object.values(MODULES);

describe('module files of the real modules', () => {
  it('covers at least the core modules', () => {
    expect(Object.keys(MODULES)).toEqual(expect.arrayContaining(['mcp_server_info', 'mcp_test_tool']));
    for (const [key, m] of Object.entries(MODULES)) expect(m.name).toBe(key);
  });

  describe.each(modules.map((m) => [m.name, m] as const))('%s', (name, m) => {
    const text = moduleFile(m);
    const file = readModuleFile(text);

    it('has the header ansible-test asks for: interpreter, GPL-3.0 licence, do-not-edit note, boilerplate', () => {
      const head = text.split('\n');
      expect(head[0]).toBe('#!/usr/bin/python');
      expect(head.slice(0, 20).join('\n')).toMatch(/GNU General Public License v3\.0\+/);
      expect(text).toMatch(new RegExp(`^# Generated by \`npm run build\` from modules/${name}\\.ts .*Do not edit\\.$`, 'm'));
      expect(text).toContain('from __future__ import absolute_import, division, print_function\n\n__metaclass__ = type\n');
    });

    it('documents the module itself', () => {
      const d = file.DOCUMENTATION;
      expect(d.module).toBe(name);
      expect(d.short_description).toBe(m.short_description);
      expect(d.description).toEqual(asLines(m.description));
      expect(d.version_added).toBe('2.0.0');
      expect(d.author).toEqual(['Tosin Akinosho (@tosin2013)']);
      expect(d.attributes.check_mode.support).toBe(m.check_mode_support ?? (m.supports_check_mode ? 'full' : 'none'));
      expect(d.attributes.diff_mode.support).toBe(m.diff_mode_support ?? 'none');
      expect(d.notes[0]).toContain('action plugin runs this module');
      expect(d.notes.slice(1)).toEqual((m.notes ?? []).map(expectedMarkup));
    });

    it('mirrors every declared option: types, elements, defaults, choices, aliases, required, suboptions', () => {
      expectOptionsMirror(file.DOCUMENTATION.options, m.options, name);
    });

    it('declares the same options to AnsibleModule in main() (what ansible-lint and validate-modules check)', () => {
      expectSpecMirror(file.ARGUMENT_SPEC, m.options, name);
      expect(text).toContain(`module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=${m.supports_check_mode ? 'True' : 'False'})`);
    });

    it('mirrors every declared return value', () => {
      expectReturnsMirror(file.RETURN, m.returns, `${name} RETURN`);
    });

    it('loads in PyYAML as plain JSON values: no string became a date or the like', () => {
      expect(file.nonJsonValues).toEqual([]);
    });

    it('has no O() or E() markup left (ansible-core 2.14 does not render them)', () => {
      const left = allStrings([file.DOCUMENTATION, file.RETURN]).filter((s) => /\b[OE]\(/.test(s));
      expect(left).toEqual([]);
    });

    it('keeps EXAMPLES as a YAML string of tasks that use the module by its FQCN', () => {
      // The Python string starts with the newline after its opening quotes, as in ansible-core's modules.
      expect(file.EXAMPLES).toBe(`\n${m.examples.replace(/^\n/, '')}`);
      const tasks = parse(file.EXAMPLES);
      expect(Array.isArray(tasks)).toBe(true);
      expect(tasks.some((t: Record<string, unknown>) => `tosin2013.mcp_audit.${name}` in t)).toBe(true);
    });

    it('documentation() is what the file holds', () => {
      expect(file.DOCUMENTATION).toEqual(JSON.parse(JSON.stringify(documentation(m))));
    });

    it('keeps its lines within the 160 columns of ansible-test pep8', () => {
      expect(text.split('\n').filter((line) => line.length > 160)).toEqual([]);
    });
  });

  it('states the declared ranges of the timeouts and retries', () => {
    const options = readModuleFile(moduleFile(MODULES.mcp_test_llm_integration)).DOCUMENTATION.options;
    expect(options.timeout.description.at(-1)).toBe('Must be between 1 and 2147483.');
    expect(options.connection_timeout.description.at(-1)).toBe('Must be between 0 and 2147483.');
    expect(options.max_connection_retries.description.at(-1)).toBe('Must be at least 0.');
    expect(options.llm_timeout.description.at(-1)).toBe('Must be between 1 and 2147483.');
    expect(markdownReference(MODULES, CONNECTION_OPTIONS)).toMatch(/\| `timeout` \| int \| `30` \| .*Must be between 1 and 2147483\.\s*\|/);
  });

  it('converts the O() markup found in the real declarations', () => {
    const connection = readModuleFile(moduleFile(MODULES.mcp_test_tool)).DOCUMENTATION.options;
    expect(CONNECTION_OPTIONS.server_command.description[0]).toContain('O(transport=stdio)');
    expect(connection.server_command.description[0]).toContain('C(transport=stdio)');
    expect(CONNECTION_OPTIONS.server_args.description).toContain('O(server_command)');
    expect(connection.server_args.description[0]).toContain('I(server_command)');
  });
});

describe('module file of a synthetic module', () => {
  const m: ModuleDefinition = defineModule({
    name: 'mcp_fake',
    short_description: 'A module for the docs tests',
    description: ['Use O(foo) or O(foo=bar), with C(literal) and O(a) O(b=c).', 'Second line.'],
    supports_check_mode: false,
    notes: ['See O(mode=fast).'],
    seealso: [{ module: 'tosin2013.mcp_audit.mcp_test_tool' }],
    options: {
      foo: { description: 'Foo, see O(bar).', type: 'list', elements: 'int', default: [], aliases: ['f', 'ff'] },
      bar: { description: 'Bar.', required: true },
      mode: { description: 'Mode.', default: 'fast', choices: ['fast', 'slow'] },
      flag: { description: 'A flag.', type: 'bool', default: false },
      count: { description: 'A count.', type: 'int', default: 0 },
      env: { description: 'Secrets.', type: 'dict', default: {}, no_log: true },
      token: { description: 'Read from E(FAKE_TOKEN) or E(OTHER_TOKEN).', no_log: true, env_fallback: ['FAKE_TOKEN', 'OTHER_TOKEN'] },
      conn: {
        description: 'Nested.',
        type: 'dict',
        options: {
          host: { description: 'Host, with O(conn.port=80).', required: true },
          port: { description: 'Port.', type: 'int', default: 80 },
        },
      },
    },
    examples: '\n- name: Try it\n  tosin2013.mcp_audit.mcp_fake:\n    bar: x\n',
    returns: {
      out: {
        description: 'Out, from O(bar).',
        returned: 'always',
        type: 'dict',
        contains: { inner: { description: 'Inner.', returned: 'always', type: 'list', elements: 'str', sample: ['a'] } },
      },
    },
    async run() {
      return {};
    },
  });
  const file = readModuleFile(moduleFile(m));
  const doc = file;
  const opts = doc.DOCUMENTATION.options;

  it('converts O(x) to I(x) and O(x=y) to C(x=y), leaving C() alone', () => {
    expect(doc.DOCUMENTATION.description).toEqual(['Use I(foo) or C(foo=bar), with C(literal) and I(a) C(b=c).', 'Second line.']);
    expect(opts.foo.description).toEqual(['Foo, see I(bar).']);
    expect(opts.conn.suboptions.host.description).toEqual(['Host, with C(conn.port=80).']);
    expect(doc.RETURN.out.description).toEqual(['Out, from I(bar).']);
    expect(doc.DOCUMENTATION.notes[1]).toBe('See C(mode=fast).');
    expect(opts.token.description).toEqual(['Read from C(FAKE_TOKEN) or C(OTHER_TOKEN).']);
  });

  it('writes types, defaults, choices, aliases and required as ansible-doc expects', () => {
    expect(opts.foo).toEqual({ description: ['Foo, see I(bar).'], type: 'list', elements: 'int', aliases: ['f', 'ff'] });
    expect(opts.bar).toEqual({ description: ['Bar.'], type: 'str', required: true });
    expect(opts.mode).toEqual({ description: ['Mode.'], type: 'str', default: 'fast', choices: ['fast', 'slow'] });
    expect(opts.flag).toEqual({ description: ['A flag.'], type: 'bool', default: false });
    expect(opts.count).toEqual({ description: ['A count.'], type: 'int', default: 0 });
    expect(opts.env).toEqual({ description: ['Secrets.'], type: 'dict' });
    // No env key (validate-modules refuses it in module docs): the description names the variable.
    expect(opts.token).toEqual({ description: ['Read from C(FAKE_TOKEN) or C(OTHER_TOKEN).'], type: 'str' });
    expect(opts.conn.suboptions).toEqual({
      host: { description: ['Host, with C(conn.port=80).'], type: 'str', required: true },
      port: { description: ['Port.'], type: 'int', default: 80 },
    });
  });

  it('writes return values with contains and samples', () => {
    expect(doc.RETURN.out.contains.inner).toEqual({ description: ['Inner.'], returned: 'always', type: 'list', elements: 'str', sample: ['a'] });
  });

  it('says check mode is not supported, and keeps seealso', () => {
    expect(doc.DOCUMENTATION.attributes.check_mode.support).toBe('none');
    expect(doc.DOCUMENTATION.seealso).toEqual([{ module: 'tosin2013.mcp_audit.mcp_test_tool' }]);
  });

  it('keeps EXAMPLES as declared, one leading newline (after the opening quotes) at most', () => {
    expect(doc.EXAMPLES).toBe('\n- name: Try it\n  tosin2013.mcp_audit.mcp_fake:\n    bar: x\n');
  });

  it('states in the argument spec exactly what the docs state: no empty defaults, no_log kept', () => {
    expect(file.ARGUMENT_SPEC).toEqual({
      foo: { type: 'list', elements: 'int', aliases: ['f', 'ff'] },
      bar: { type: 'str', required: true },
      mode: { type: 'str', default: 'fast', choices: ['fast', 'slow'] },
      flag: { type: 'bool', default: false },
      count: { type: 'int', default: 0 },
      env: { type: 'dict', no_log: true },
      token: { type: 'str', no_log: true },
      conn: { type: 'dict', options: { host: { type: 'str', required: true }, port: { type: 'int', default: 80 } } },
    });
    expect(moduleFile(m)).toContain('supports_check_mode=False');
  });

  it('refuses an option that reads the environment without saying so', () => {
    const silent = { ...m, options: { token: { description: 'A token.', env_fallback: ['FAKE_TOKEN'] } } };
    expect(() => moduleFile(silent)).toThrow('an option reads FAKE_TOKEN from the environment: its description must say so with E(FAKE_TOKEN)');
  });

  it('writes strings YAML 1.1 would read as dates or booleans quoted', () => {
    const dated = readModuleFile(moduleFile({ ...m, returns: { day: { description: 'A day.', returned: 'always', type: 'str', sample: '2025-11-25' }, yes: { description: 'yes', returned: 'always', type: 'str', sample: 'yes' } } }));
    expect(dated.RETURN.day.sample).toBe('2025-11-25');
    expect(dated.RETURN.yes.sample).toBe('yes');
    expect(dated.nonJsonValues).toEqual([]);
  });
});

describe('markdownReference', () => {
  const md = markdownReference(MODULES, CONNECTION_OPTIONS);
  const sections = md.split(/^### /m);

  it('is wrapped in the README markers', () => {
    expect(md.startsWith(README_BEGIN)).toBe(true);
    expect(md.endsWith(README_END)).toBe(true);
  });

  it('lists the connection options once, in their own section, with secrets flagged', () => {
    const conn = sections.find((s) => s.startsWith('Connection options'))!;
    expect(conn).toBeDefined();
    for (const name of Object.keys(CONNECTION_OPTIONS)) expect(conn).toContain(`| \`${name}\` |`);
    expect(conn).toMatch(/\| `server_env` \| dict \|.*Secret \(no_log\)\. \|/);
    expect(conn).toMatch(/\| `timeout` \| int \| `30` \|/);
    expect(conn).toMatch(/\| `transport` \| str \| `"stdio"` \|.*Choices: `stdio`, `sse`, `http`, `streamable_http`\./);
  });

  it.each(modules.map((m) => [m.name, m] as const))('includes %s with its own options, returns and examples', (name, m) => {
    const section = sections.find((s) => s.startsWith(`${name}\n`));
    expect(section, `section for ${name}`).toBeDefined();
    expect(section).toContain(m.short_description);
    for (const option of Object.keys(m.options)) {
      if (option in CONNECTION_OPTIONS) expect(section).not.toContain(`| \`${option}\` |`);
      else expect(section).toContain(`| \`${option}\` |`);
    }
    if (Object.keys(m.options).some((k) => k in CONNECTION_OPTIONS)) expect(section).toContain('Plus the connection options.');
    expect(section).toContain(`Returns: ${Object.keys(m.returns).map((k) => `\`${k}\``).join(', ')}.`);
    expect(section).toContain('```yaml\n' + m.examples.trim() + '\n```');
  });

  it('renders markup as code and escapes pipes in descriptions', () => {
    expect(md).not.toMatch(/[OIC]\([a-z_]+(=[^)]*)?\)/);
    const withPipe = markdownReference({}, { p: { description: 'a | b, see O(q).' } });
    expect(withPipe).toContain('| `p` | str |  | a \\| b, see `q`.  |');
  });

  it('lists suboptions with a dotted prefix and marks required ones', () => {
    const out = markdownReference({}, { conn: { description: 'c', type: 'dict', options: { host: { description: 'h', required: true } } } });
    expect(out).toContain('| `conn.host` | str **required** |');
  });
});

describe('writeDocs', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-audit-docs-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one module file per module and refreshes only the README reference section', () => {
    const readme = join(dir, 'README.md');
    writeFileSync(readme, `# Title\n\nintro\n\n${README_BEGIN}\nstale content\n${README_END}\n\n## After\n`);
    writeDocs(MODULES, dir, readme, CONNECTION_OPTIONS);
    for (const m of modules) {
      const path = join(dir, `${m.name}.py`);
      expect(existsSync(path)).toBe(true);
      expect(readFileSync(path, 'utf8')).toBe(moduleFile(m));
    }
    const text = readFileSync(readme, 'utf8');
    expect(text).toBe(`# Title\n\nintro\n\n${markdownReference(MODULES, CONNECTION_OPTIONS)}\n\n## After\n`);
    expect(text).not.toContain('stale content');
  });

  it('refuses a README without the markers', () => {
    const readme = join(dir, 'NO_MARKERS.md');
    writeFileSync(readme, '# nothing here\n');
    expect(() => writeDocs(MODULES, dir, readme, CONNECTION_OPTIONS)).toThrow('has no module reference markers');
  });
});
