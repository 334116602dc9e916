/**
 * vitest globalSetup for the end-to-end tests: install the collection the way a
 * user does, once per test run.
 *
 *   ansible-galaxy collection build --output-path <tmp>       (at the repo root)
 *   ansible-galaxy collection install -p .tmp/collections <tarball> --force
 *
 * It does NOT build (`npm test` runs `npm run build` before vitest); it fails
 * clearly when the build output is missing. It checks that the tarball is the
 * slim collection Galaxy takes: at most 5 MB, no Node runtime executable, every
 * module a plugins/modules/<name>.py, LICENSE and the changelog in, sources and
 * tests (but tests/sanity) out; and that the installed copy has the same modules.
 *
 * When vitest is started only for non-e2e paths (`vitest run tests/unit`), the
 * install is skipped so unit tests stay fast and do not need a build.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Root of the installed tosin2013.mcp_audit (set by tests/e2e/global-setup.ts). */
    mcpAuditCollection: string;
  }
}

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(here, '..', '..');
const RUNTIME_REL = 'plugins/runtime/mcp_audit_runtime';
/** Galaxy's upload limit is 20 MB; the slim collection stays far below it (issue 9). */
const MAX_TARBALL_BYTES = 5 * 1024 * 1024;
/** Node runtime executables: never in the tarball (galaxy.yml build_ignore). */
const isRuntimeExecutable = (name: string) => name === RUNTIME_REL || /^plugins\/runtime\/linux-/.test(name);
const INSTALL_ROOT = join(REPO_ROOT, '.tmp', 'collections');
const INSTALLED = join(INSTALL_ROOT, 'ansible_collections', 'tosin2013', 'mcp_audit');

interface TarMember {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  size: number;
  linkname: string;
}

/**
 * True when vitest was given path filters and none of them can select an e2e
 * test: each is an existing path that neither lies in tests/e2e nor contains it.
 * Anything else (no filters, a name fragment, an option value) installs.
 */
function onlyNonE2eSelected(): boolean {
  const e2e = join(REPO_ROOT, 'tests', 'e2e');
  const inside = (child: string, parent: string) => {
    const rel = relative(parent, child);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  };
  const positional = process.argv.slice(2).filter((a) => !a.startsWith('-') && !['run', 'watch', 'related', 'dev'].includes(a));
  if (!positional.length) return false;
  return positional.every((p) => {
    const abs = resolve(process.cwd(), p);
    return existsSync(abs) && !inside(abs, e2e) && !inside(e2e, abs);
  });
}

async function tarMembers(tarball: string): Promise<TarMember[]> {
  // Python's tarfile (python3 is there: Ansible runs on it) reports member types exactly.
  const script = [
    'import json, sys, tarfile',
    'kinds = {tarfile.REGTYPE: "file", tarfile.AREGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "symlink", tarfile.LNKTYPE: "hardlink"}',
    'with tarfile.open(sys.argv[1]) as t:',
    '    print(json.dumps([{"name": m.name, "type": kinds.get(m.type, "other"), "size": m.size, "linkname": m.linkname} for m in t.getmembers()]))',
  ].join('\n');
  const { stdout } = await run('python3', ['-c', script, tarball], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout);
}

const isModuleEntry = (name: string) => /^plugins\/modules\/[^/]+$/.test(name);

function checkTarball(members: TarMember[], tarball: string, tarballBytes: number): string[] {
  const problems: string[] = [];
  if (tarballBytes > MAX_TARBALL_BYTES) problems.push(`the tarball is ${(tarballBytes / 1e6).toFixed(1)} MB; at most ${MAX_TARBALL_BYTES / 1024 / 1024} MiB`);
  const runtimes = members.filter((m) => isRuntimeExecutable(m.name)).map((m) => m.name);
  if (runtimes.length) problems.push(`the tarball holds a Node runtime executable: ${runtimes.join(', ')} (galaxy.yml build_ignore)`);
  // Whatever else the build put in plugins/runtime (the compiled program, the runtime manifest) ships.
  const runtimeDir = join(REPO_ROOT, 'plugins', 'runtime');
  const builtRuntimeFiles = existsSync(runtimeDir)
    ? readdirSync(runtimeDir).map((f) => `plugins/runtime/${f}`).filter((f) => !isRuntimeExecutable(f) && statSync(join(REPO_ROOT, f)).isFile())
    : [];
  for (const f of builtRuntimeFiles) if (!members.some((m) => m.name === f && m.type === 'file')) problems.push(`${f} is built but not in the tarball`);
  const modules = members.filter((m) => isModuleEntry(m.name));
  if (!modules.length) problems.push('the tarball has no module entries in plugins/modules/');
  for (const m of modules) {
    if (m.type !== 'file' || !m.name.endsWith('.py')) problems.push(`${m.name} must be a regular .py file (the module's docs); it is a ${m.type}${m.linkname ? ` -> ${m.linkname}` : ''}`);
  }
  for (const required of ['LICENSE', 'CHANGELOG.rst', 'changelogs/changelog.yaml', 'meta/runtime.yml', 'meta/execution-environment.yml', 'plugins/action/mcp_runtime.py']) {
    if (!members.some((m) => m.name === required && m.type === 'file')) problems.push(`${required} is missing`);
  }
  for (const forbidden of ['src/', 'modules/', 'broker/', 'node_modules/', 'scripts/', 'tests/e2e/', 'tests/unit/', 'tests/helpers/', '.tmp/', 'build/']) {
    const hit = members.find((m) => m.name.startsWith(forbidden));
    if (hit) problems.push(`build_ignore failed: the tarball holds ${hit.name}`);
  }
  const strayTests = members.find((m) => m.name.startsWith('tests/') && m.type !== 'dir' && !m.name.startsWith('tests/sanity/'));
  if (strayTests) problems.push(`only tests/sanity ships; the tarball holds ${strayTests.name}`);
  return problems.map((p) => `${tarball}: ${p}`);
}

function checkInstalled(expectedModules: string[]): string[] {
  const problems: string[] = [];
  const modulesDir = join(INSTALLED, 'plugins', 'modules');
  const installed = existsSync(modulesDir) ? readdirSync(modulesDir).sort() : [];
  if (JSON.stringify(installed) !== JSON.stringify(expectedModules)) {
    problems.push(`installed modules ${JSON.stringify(installed)} differ from the tarball's ${JSON.stringify(expectedModules)}`);
  }
  for (const name of installed) {
    if (!lstatSync(join(modulesDir, name)).isFile()) problems.push(`${join(modulesDir, name)} is not a regular file after install`);
  }
  if (existsSync(join(INSTALLED, RUNTIME_REL))) problems.push(`${RUNTIME_REL} came with the install`);
  return problems;
}

export default async function setup(project: TestProject): Promise<void> {
  if (onlyNonE2eSelected()) {
    console.log('[e2e global-setup] no e2e tests selected: the collection is not installed');
    return;
  }
  // The installed collection carries no runtime: the tests take the runtime packages the build made
  // (harness.ts, RUNTIME_PACKAGES), as an air-gapped user would.
  const manifest = join(REPO_ROOT, 'plugins', 'runtime', 'manifest.json');
  if (!existsSync(manifest) || !existsSync(join(REPO_ROOT, 'build', 'runtime-packages'))) {
    throw new Error(`${manifest} or build/runtime-packages is missing: build first (npm run build; npm test does it before vitest)`);
  }
  const started = Date.now();
  const out = mkdtempSync(join(tmpdir(), 'mcp-audit-galaxy-'));
  try {
    try {
      await run('ansible-galaxy', ['collection', 'build', '--output-path', out], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
    } catch (e: any) {
      throw new Error(`ansible-galaxy collection build failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
    }
    const tarballs = readdirSync(out).filter((f) => f.endsWith('.tar.gz'));
    if (tarballs.length !== 1) throw new Error(`ansible-galaxy collection build produced ${tarballs.length} tarballs in ${out}: ${tarballs.join(', ')}`);
    const tarball = join(out, tarballs[0]);
    const members = await tarMembers(tarball);
    const tarProblems = checkTarball(members, tarball, statSync(tarball).size);
    if (tarProblems.length) throw new Error(`the collection tarball is wrong:\n- ${tarProblems.join('\n- ')}`);

    try {
      await run('ansible-galaxy', ['collection', 'install', '-p', INSTALL_ROOT, tarball, '--force'], {
        cwd: REPO_ROOT,
        // ANSIBLE_COLLECTIONS_PATH=<install root> silences "not in the configured collection path" noise.
        env: { ...process.env, ANSIBLE_COLLECTIONS_PATH: INSTALL_ROOT },
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (e: any) {
      throw new Error(`ansible-galaxy collection install failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
    }
    const expected = members
      .filter((m) => isModuleEntry(m.name))
      .map((m) => m.name.split('/').pop()!)
      .sort();
    const installProblems = checkInstalled(expected);
    if (installProblems.length) throw new Error(`the installed collection is wrong:\n- ${installProblems.join('\n- ')}`);
    console.log(`[e2e global-setup] installed ${tarballs[0]} (${(statSync(tarball).size / 1e6).toFixed(2)} MB; ${expected.join(', ')}) into ${INSTALL_ROOT} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  project.provide('mcpAuditCollection', INSTALLED);
}
