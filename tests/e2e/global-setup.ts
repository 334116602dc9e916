/**
 * vitest globalSetup for the end-to-end tests: install the collection the way a
 * user does, once per test run.
 *
 *   ansible-galaxy collection build --output-path <tmp>       (at the repo root)
 *   ansible-galaxy collection install -p .tmp/collections <tarball> --force
 *
 * It does NOT build the runtime (`npm test` runs `npm run build` before vitest);
 * it fails clearly when plugins/runtime/mcp_audit_runtime is missing. It checks
 * that the tarball holds exactly one runtime (a regular file) and that every
 * module entry is a link to it, and the same of the installed copy.
 *
 * When vitest is started only for non-e2e paths (`vitest run tests/unit`), the
 * install is skipped so unit tests stay fast and do not need a build.
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
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

const isModuleEntry = (name: string) => /^plugins\/modules\/[^/]+$/.test(name) && !/\.(ya?ml|json|md)$/.test(name);

function checkTarball(members: TarMember[], tarball: string): string[] {
  const problems: string[] = [];
  const runtime = members.filter((m) => m.name === RUNTIME_REL);
  if (runtime.length !== 1 || runtime[0].type !== 'file') {
    problems.push(`${RUNTIME_REL} must be in the tarball exactly once as a regular file; found ${JSON.stringify(runtime.map((m) => m.type))}`);
  }
  // "Exactly one runtime": no second copy of the ~100 MB executable anywhere.
  const big = members.filter((m) => m.type === 'file' && m.size > 5 * 1024 * 1024).map((m) => m.name);
  if (big.length !== 1 || big[0] !== RUNTIME_REL) problems.push(`the tarball must hold one large file (the runtime); it holds: ${big.join(', ') || 'none'}`);
  const runtimeDirFiles = members.filter((m) => m.name.startsWith('plugins/runtime/') && m.type !== 'dir' && !/\/(manifest\.json|mcp_audit\.cjs)$/.test(m.name)).map((m) => m.name);
  if (runtimeDirFiles.length !== 1) problems.push(`plugins/runtime/ must hold only the runtime, its manifest and the program; it holds: ${runtimeDirFiles.join(', ')}`);
  const modules = members.filter((m) => isModuleEntry(m.name));
  if (!modules.length) problems.push('the tarball has no module entries in plugins/modules/');
  for (const m of modules) {
    if (m.type !== 'symlink' || m.linkname !== '../runtime/mcp_audit_runtime') {
      problems.push(`${m.name} must be a symlink to ../runtime/mcp_audit_runtime; it is a ${m.type}${m.linkname ? ` -> ${m.linkname}` : ''}`);
    }
    if (!members.some((d) => d.name === `${m.name}.yml` && d.type === 'file')) problems.push(`${m.name} has no sidecar docs ${m.name}.yml in the tarball`);
  }
  for (const forbidden of ['src/', 'modules/', 'broker/', 'node_modules/', 'tests/', '.tmp/']) {
    const hit = members.find((m) => m.name.startsWith(forbidden));
    if (hit) problems.push(`build_ignore failed: the tarball holds ${hit.name}`);
  }
  return problems.map((p) => `${tarball}: ${p}`);
}

function checkInstalled(expectedModules: string[]): string[] {
  const problems: string[] = [];
  const runtime = join(INSTALLED, RUNTIME_REL);
  if (!existsSync(runtime) || !lstatSync(runtime).isFile()) problems.push(`${runtime} is not a regular file after install`);
  else if ((statSync(runtime).mode & 0o111) === 0) problems.push(`${runtime} is not executable after install`);
  const modulesDir = join(INSTALLED, 'plugins', 'modules');
  const installed = existsSync(modulesDir) ? readdirSync(modulesDir).filter((f) => !/\.(ya?ml|json|md)$/.test(f)).sort() : [];
  if (JSON.stringify(installed) !== JSON.stringify(expectedModules)) {
    problems.push(`installed modules ${JSON.stringify(installed)} differ from the tarball's ${JSON.stringify(expectedModules)}`);
  }
  for (const name of installed) {
    const p = join(modulesDir, name);
    if (!lstatSync(p).isSymbolicLink()) problems.push(`${p} is not a symlink after install (a copy of the runtime per module)`);
    else if (readlinkSync(p) !== '../runtime/mcp_audit_runtime') problems.push(`${p} points at ${readlinkSync(p)}`);
  }
  return problems;
}

export default async function setup(project: TestProject): Promise<void> {
  if (onlyNonE2eSelected()) {
    console.log('[e2e global-setup] no e2e tests selected: the collection is not installed');
    return;
  }
  const runtime = join(REPO_ROOT, RUNTIME_REL);
  if (!existsSync(runtime)) {
    throw new Error(`${runtime} is missing: build the runtime first (npm run build; npm test does it before vitest)`);
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
    const tarProblems = checkTarball(members, tarball);
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
    console.log(`[e2e global-setup] installed ${tarballs[0]} (${expected.join(', ')}) into ${INSTALL_ROOT} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  project.provide('mcpAuditCollection', INSTALLED);
}
