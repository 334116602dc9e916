/**
 * ansible-doc against the installed collection: every module in
 * plugins/modules renders (its generated sidecar docs parse) and shows its
 * options, examples and return values. (`ansible-doc -l` skips them: Ansible
 * treats symlinked module files as aliases; the README says so.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { FQCN, INSTALLED_COLLECTION, moduleNames, runAnsibleCli } from './harness';

const modules = moduleNames();

function sidecarOptions(name: string): string[] {
  const sidecar = parse(readFileSync(join(INSTALLED_COLLECTION, 'plugins', 'modules', `${name}.yml`), 'utf8'));
  return Object.keys(sidecar.DOCUMENTATION.options ?? {}).sort();
}

describe('ansible-doc', () => {
  test('the collection has modules', () => {
    expect(modules).toEqual(expect.arrayContaining(['mcp_server_info', 'mcp_test_tool']));
  });

  test.each(modules)('ansible-doc %s renders with its options, examples and return values', async (name) => {
    const { exitCode, stdout, stderr } = await runAnsibleCli('ansible-doc', [`${FQCN}.${name}`]);
    const out = `${stdout}\n${stderr}`;
    expect(exitCode, out).toBe(0);
    expect(out).not.toMatch(/Traceback|ERROR!|\[WARNING\]/);
    // The header: "> TOSIN2013.MCP_AUDIT.X (path)" up to 2.18, "> MODULE tosin2013.mcp_audit.x (path)" from 2.19.
    expect(stdout.split('\n')[0].toLowerCase()).toContain(`${FQCN}.${name}`);
    const options = sidecarOptions(name);
    expect(options.length).toBeGreaterThan(0);
    // One line per option: "- name" alone (2.14) or followed by its description (2.19).
    for (const option of options) expect(stdout, option).toMatch(new RegExp(`^[-=] ${option}(\\s|$)`, 'm'));
    expect(stdout).toMatch(/^EXAMPLES:/m);
    expect(stdout).toMatch(/^RETURN VALUES:/m);

    // The machine-readable form agrees with the sidecar file.
    const json = await runAnsibleCli('ansible-doc', ['--json', `${FQCN}.${name}`]);
    expect(json.exitCode, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout)[`${FQCN}.${name}`];
    expect(Object.keys(doc.doc.options).sort()).toEqual(options);
    expect(doc.doc.module).toBe(name);
    expect(doc.return).toBeTruthy();
  });
});
