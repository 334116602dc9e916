/**
 * Ansible's own tools against the installed collection: `ansible-doc -l`, the
 * metadata dump and `ansible-doc <module>` see every module (each is a
 * plugins/modules/<name>.py that only documents it), with exactly the options
 * and return values declared in modules/*.ts. Machine-readable output (--json)
 * wherever the lanes' text formats differ.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MODULES } from '../../modules/index';
import { FQCN, INSTALLED_COLLECTION, moduleNames, runAnsibleCli } from './harness';

const modules = moduleNames();
const declared = Object.keys(MODULES).sort();
const fqcns = (names: string[]) => names.map((name) => `${FQCN}.${name}`);

function parseJson(out: { exitCode: number | null; stdout: string; stderr: string }): any {
  expect(out.exitCode, out.stderr).toBe(0);
  expect(out.stderr).not.toMatch(/Traceback|ERROR|\[WARNING\]/);
  return JSON.parse(out.stdout);
}

describe('ansible-doc', () => {
  test('the installed collection documents every declared module', () => {
    expect(declared).toEqual(expect.arrayContaining(['mcp_server_info', 'mcp_test_tool']));
    expect(modules).toEqual(declared);
  });

  test('ansible-doc -l lists every module with its short description', async () => {
    const listed = parseJson(await runAnsibleCli('ansible-doc', ['-l', FQCN, '--json']));
    expect(Object.keys(listed).sort()).toEqual(fqcns(declared));
    for (const name of declared) expect(listed[`${FQCN}.${name}`]).toBe(MODULES[name].short_description);
  });

  test('ansible-doc --metadata-dump carries every module with its docs', async () => {
    const dump = parseJson(await runAnsibleCli('ansible-doc', ['--metadata-dump', FQCN], 120_000));
    const dumped = dump.all.module;
    expect(Object.keys(dumped).sort()).toEqual(fqcns(declared));
    for (const name of declared) {
      const entry = dumped[`${FQCN}.${name}`];
      expect(entry.doc.module, name).toBe(name);
      expect(entry.doc.collection, name).toBe(FQCN);
      expect(Object.keys(entry.doc.options).sort(), name).toEqual(Object.keys(MODULES[name].options).sort());
      expect(Object.keys(entry.return).sort(), name).toEqual(Object.keys(MODULES[name].returns).sort());
    }
  });

  test.each(declared)('ansible-doc %s renders with its options, examples and return values', async (name) => {
    const m = MODULES[name];
    const options = Object.keys(m.options).sort();
    const { exitCode, stdout, stderr } = await runAnsibleCli('ansible-doc', [`${FQCN}.${name}`]);
    const out = `${stdout}\n${stderr}`;
    expect(exitCode, out).toBe(0);
    expect(out).not.toMatch(/Traceback|ERROR!|\[WARNING\]/);
    // The header: "> TOSIN2013.MCP_AUDIT.X (path)" up to 2.18, "> MODULE tosin2013.mcp_audit.x (path)" from 2.19.
    expect(stdout.split('\n')[0].toLowerCase()).toContain(`${FQCN}.${name}`);
    expect(stdout).toContain(join(INSTALLED_COLLECTION, 'plugins', 'modules', `${name}.py`));
    // One line per option: "- name" alone (2.14) or followed by its description (2.19).
    for (const option of options) expect(stdout, option).toMatch(new RegExp(`^[-=] ${option}(\\s|$)`, 'm'));
    expect(stdout).toMatch(/^EXAMPLES:/m);
    expect(stdout).toMatch(/^RETURN VALUES:/m);

    const doc = parseJson(await runAnsibleCli('ansible-doc', ['--json', `${FQCN}.${name}`]))[`${FQCN}.${name}`];
    expect(doc.doc.module).toBe(name);
    expect(doc.doc.short_description).toBe(m.short_description);
    expect(Object.keys(doc.doc.options).sort()).toEqual(options);
    for (const option of options) expect(doc.doc.options[option].type ?? 'str', option).toBe(m.options[option].type ?? 'str');
    expect(Object.keys(doc.return).sort()).toEqual(Object.keys(m.returns).sort());
    expect(doc.examples).toContain(`${FQCN}.${name}:`);
  });
});

/** The Python and ansible-core of this lane, as `ansible --version` reports them. */
async function lanePython(): Promise<{ python: string; pythonPath: string }> {
  const { stdout } = await runAnsibleCli('ansible', ['--version']);
  const location = /ansible python module location = (\S+)/.exec(stdout)?.[1];
  const python = /python version = .*\((\S+)\)\s*$/m.exec(stdout)?.[1];
  if (!location || !python) throw new Error(`cannot read the lane's Python from ansible --version:\n${stdout}`);
  return { python, pythonPath: dirname(location) };
}

/** Run a module file the way Ansible runs a module (arguments as JSON on stdin), or on a terminal (`script` makes one). */
function runModuleFile(python: string, pythonPath: string, file: string, options: { stdin?: string; tty?: boolean }) {
  const env = { ...process.env, PYTHONPATH: pythonPath };
  const run = options.tty
    ? spawnSync('script', ['-q', '-e', '-c', `${python} ${file}`, '/dev/null'], { env, encoding: 'utf8', timeout: 60_000 })
    : spawnSync(python, [file], { env, input: options.stdin ?? '', encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The smallest arguments the module accepts: a value for each required option. */
function requiredArguments(name: string): Record<string, unknown> {
  const sample: Record<string, unknown> = { str: 'x', path: '/tmp', int: 1, float: 1.5, bool: true, list: [], dict: {}, raw: 'x', json: '{}' };
  return Object.fromEntries(Object.entries(MODULES[name].options).filter(([, spec]) => spec.required).map(([option, spec]) => [option, spec.choices?.[0] ?? sample[spec.type ?? 'str']]));
}

describe('a module file run as a program', () => {
  const RUNS_THROUGH = (name: string) => `${FQCN}.${name} runs through the action plugin ${FQCN}.mcp_runtime`;

  test.each(declared)('%s.py, given valid arguments, checks them and fails saying what runs the module', async (name) => {
    const { python, pythonPath } = await lanePython();
    const file = join(INSTALLED_COLLECTION, 'plugins', 'modules', `${name}.py`);
    const run = runModuleFile(python, pythonPath, file, { stdin: JSON.stringify({ ANSIBLE_MODULE_ARGS: requiredArguments(name) }) });
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).not.toMatch(/Traceback/);
    // The shape of a failed task result: Ansible shows its msg if it ever runs the file as a module.
    const result = JSON.parse(run.stdout);
    expect(result.failed).toBe(true);
    expect(result.msg).toContain(RUNS_THROUGH(name));
  });

  test('a misspelled option is refused by the argument spec before anything else', async () => {
    const { python, pythonPath } = await lanePython();
    const file = join(INSTALLED_COLLECTION, 'plugins', 'modules', 'mcp_test_tool.py');
    const run = runModuleFile(python, pythonPath, file, { stdin: JSON.stringify({ ANSIBLE_MODULE_ARGS: { tool_name: 'echo', tool_argumnts: {} } }) });
    expect(run.status).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result.failed).toBe(true);
    expect(result.msg).toMatch(/Unsupported parameters for .*tool_argumnts/);
  });

  test('run by hand on a terminal, it says what it is instead of waiting for arguments', async () => {
    const { python, pythonPath } = await lanePython();
    const file = join(INSTALLED_COLLECTION, 'plugins', 'modules', 'mcp_test_tool.py');
    const run = runModuleFile(python, pythonPath, file, { tty: true });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(RUNS_THROUGH('mcp_test_tool'));
    expect(run.stdout).not.toMatch(/Traceback/);
  });
});
