/**
 * The runtime half of `npm run build` and of `npm run release:runtimes`:
 *
 *   program   src/runtime.ts --esbuild--> one CommonJS bundle, plugins/runtime/mcp_audit.cjs
 *             (shipped in the collection; a target's own Node >= 20 runs it)
 *   runtime   bundle + the pinned Node of a platform --SEA--> mcp_audit_runtime
 *   package   runtime --npm pack--> build/runtime-packages/<name>-<version>.tgz
 *   manifest  plugins/runtime/manifest.json: per platform the package, its integrity
 *             (as the registry reports it) and the runtime's sha256; the action plugin
 *             resolves and verifies runtimes against exactly this
 *
 * Nothing is downloaded but npm packages: the local platform's Node is in
 * node_modules; another platform's Node (npm ci skips it: wrong cpu) is fetched
 * with `npm pack` and checked against package-lock.json's integrity.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RUNTIME = 'mcp_audit_runtime';
export const PROGRAM = 'mcp_audit.cjs';
export const RUNTIME_DIR = join(ROOT, 'plugins', 'runtime');
export const MANIFEST = join(RUNTIME_DIR, 'manifest.json');
export const PACKAGES_DIR = join(ROOT, 'build', 'runtime-packages');
const BUILD_DIR = join(ROOT, 'build');
const require = createRequire(import.meta.url);
// The SEA fuse every Node binary carries (see nodejs.org/api/single-executable-applications.html).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const PACKAGE_SCOPE = '@tosin2013';

/** Platforms we ship a runtime for: Node's os-arch name -> npm cpu, GNU triple (for strip), qemu-user name. */
export const PLATFORMS = {
  'linux-x64': { cpu: 'x64', triple: 'x86_64-linux-gnu', qemu: 'qemu-x86_64' },
  'linux-arm64': { cpu: 'arm64', triple: 'aarch64-linux-gnu', qemu: 'qemu-aarch64' },
};

export const localPlatform = () => `${process.platform}-${process.arch}`;
export const packageName = (platform) => `${PACKAGE_SCOPE}/mcp-audit-runtime-${platform}`;

const say = (what) => process.stderr.write(`build: ${what}\n`);
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const sha256File = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');
/** What the npm registry reports as dist.integrity for a tarball. */
export const npmIntegrity = (path) => `sha512-${createHash('sha512').update(readFileSync(path)).digest('base64')}`;
const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/**
 * Which platforms to build: `--platforms=all`, `--platforms=linux-x64,linux-arm64`, or
 * MCP_AUDIT_PLATFORMS (the flag wins); by default only the machine's own.
 */
export function requestedPlatforms(argv, env = process.env) {
  const flag = argv.find((a) => a.startsWith('--platforms='));
  const wanted = flag ? flag.slice('--platforms='.length) : env.MCP_AUDIT_PLATFORMS || localPlatform();
  const list = wanted === 'all' ? Object.keys(PLATFORMS) : wanted.split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of list) {
    if (!PLATFORMS[p]) throw new Error(`unknown platform '${p}'; runtimes are built for: ${Object.keys(PLATFORMS).join(', ')} (or all)`);
  }
  return list;
}

/** The collection version (galaxy.yml), which package.json must repeat. */
export function collectionVersion() {
  const galaxy = YAML.parse(readFileSync(join(ROOT, 'galaxy.yml'), 'utf8')).version;
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  if (galaxy !== pkg) throw new Error(`galaxy.yml says version ${galaxy} but package.json says ${pkg}: make them agree`);
  return galaxy;
}

/** The pinned Node version: the exact version of the node-linux-* packages, the same for every platform. */
function pinnedNodeVersion() {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const deps = { ...pkg.devDependencies, ...pkg.optionalDependencies };
  const versions = new Set(Object.keys(PLATFORMS).map((p) => deps[`node-${p}`]));
  if (versions.size !== 1 || versions.has(undefined)) {
    throw new Error(`package.json must pin node-${Object.keys(PLATFORMS).join(', node-')} to one exact version; found ${[...versions].join(', ')}`);
  }
  return [...versions][0];
}

/**
 * 1. The program: one bundle. Its build id (version + hash of the code and the Node it
 * runs on) names the broker socket and is what `--version` prints.
 */
export async function bundleProgram(version) {
  const nodeVersion = pinnedNodeVersion();
  const PLACEHOLDER = '__MCP_AUDIT_BUILD_PLACEHOLDER__';
  const bundled = await build({
    entryPoints: [join(ROOT, 'src', 'runtime.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    // A target's own Node >= 20 runs this same file (the fallback where no runtime fits).
    target: 'node20',
    minify: true,
    write: false,
    legalComments: 'none',
    define: { __MCP_AUDIT_VERSION__: JSON.stringify(PLACEHOLDER) },
    logLevel: 'warning',
  });
  let code = bundled.outputFiles[0].text;
  const hash = createHash('sha256').update(code).update(`node ${nodeVersion}`).digest('hex').slice(0, 10);
  const buildId = `${version}+${hash}`;
  code = code.split(PLACEHOLDER).join(buildId);
  mkdirSync(BUILD_DIR, { recursive: true });
  const path = join(BUILD_DIR, PROGRAM);
  writeFileSync(path, code);
  say(`bundle ${(code.length / 1024).toFixed(0)} KiB, version ${buildId}`);
  return { path, buildId, hash, nodeVersion, size: code.length };
}

/** How to run a platform's binaries here: directly, under qemu-user, or not at all (null). */
function runnerFor(platform) {
  if (platform === localPlatform()) return [];
  const { qemu } = PLATFORMS[platform];
  // -L /: the foreign C/C++ runtime libraries come from Debian multiarch (libc6:arm64, libstdc++6:arm64).
  return onPath(qemu) && existsSync(`/lib/${PLATFORMS[platform].triple}`) ? [qemu, '-L', '/'] : null;
}

function run(runner, bin, args, opts = {}) {
  const [cmd, ...pre] = runner.length ? runner : [bin];
  return spawnSync(cmd, runner.length ? [...pre, bin, ...args] : args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
}

/** The pinned Node binary for a platform: node_modules, else npm pack of the locked version. */
function nodeBinary(platform, nodeVersion) {
  const pkg = `node-${platform}`;
  try {
    return require.resolve(`${pkg}/bin/node`);
  } catch {
    /* not installed: npm ci installs only the machine's own platform (the packages declare os/cpu) */
  }
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const locked = lock.packages?.[`node_modules/${pkg}`];
  if (!locked?.integrity || locked.version !== nodeVersion) {
    throw new Error(`package-lock.json has no ${pkg}@${nodeVersion}: run npm install after changing the pinned Node`);
  }
  const dir = join(BUILD_DIR, 'nodes', `${pkg}-${nodeVersion}`);
  const bin = join(dir, 'node');
  const stamp = join(dir, 'integrity');
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8') === locked.integrity) return bin;
  say(`fetching ${pkg}@${nodeVersion} with npm pack (npm ci skips it on this cpu)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const packed = JSON.parse(execFileSync('npm', ['pack', `${pkg}@${nodeVersion}`, '--json', '--prefer-offline', '--pack-destination', dir], { encoding: 'utf8' }));
  const tgz = join(dir, packed[0].filename);
  if (npmIntegrity(tgz) !== locked.integrity) throw new Error(`${tgz} does not match the integrity in package-lock.json; refusing to use it`);
  execFileSync('tar', ['-xzf', tgz, '-C', dir, '--strip-components=2', 'package/bin/node']);
  rmSync(tgz);
  writeFileSync(stamp, locked.integrity);
  return bin;
}

/**
 * 2. The runtime for one platform: a SEA blob made by that platform's pinned Node (under
 * qemu-user for a foreign cpu, so the V8 code cache matches the cpu; without qemu the
 * blob is made by the local Node of the same version, without code cache), injected
 * into a stripped copy of that Node.
 */
export function makeRuntime(platform, program) {
  const started = Date.now();
  const node = nodeBinary(platform, program.nodeVersion);
  const runner = runnerFor(platform);
  const dir = join(BUILD_DIR, 'runtimes', platform);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const blob = join(dir, 'sea.blob');
  const seaConfig = join(dir, 'sea-config.json');
  const codeCache = runner !== null;
  writeFileSync(seaConfig, JSON.stringify({ main: program.path, output: blob, disableExperimentalSEAWarning: true, useCodeCache: codeCache }));
  const how =
    runner === null
      ? `without code cache: no ${PLATFORMS[platform].qemu} or no ${PLATFORMS[platform].triple} libraries here; sh scripts/ensure-deps.sh --platforms=all installs them`
      : `code cache made ${runner.length ? `under ${runner[0]}` : 'natively'}`;
  say(`${platform}: single executable from node-${platform}@${program.nodeVersion} (${how})`);
  const blobMaker = runner === null ? [[], nodeBinary(localPlatform(), program.nodeVersion)] : [runner, node];
  const made = run(blobMaker[0], blobMaker[1], ['--experimental-sea-config', seaConfig]);
  if (made.status !== 0) throw new Error(`${platform}: making the SEA blob failed: ${made.stderr || made.error}`);

  const exe = join(dir, RUNTIME);
  copyFileSync(node, exe);
  chmodSync(exe, 0o755);
  // Symbols are ~17 MB of the binary; the runtime crosses the wire to every target.
  const strip = [PLATFORMS[platform].triple + '-strip', ...(platform === localPlatform() ? ['strip'] : [])].find(onPath);
  if (strip) execFileSync(strip, ['--strip-all', exe]);
  else say(`${platform}: no strip for ${PLATFORMS[platform].triple} (binutils-${PLATFORMS[platform].triple}); the runtime stays unstripped`);
  execFileSync(process.execPath, [require.resolve('postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: 'ignore' });

  if (runner === null) {
    say(`${platform}: cannot run it here to check its version (no qemu-user)`);
  } else {
    const check = run(runner, exe, ['--version']);
    const version = check.stdout?.trim();
    if (version !== program.buildId) throw new Error(`${platform}: the runtime reports '${version}', expected ${program.buildId}: ${check.stderr || check.error}`);
    if (/code cache/i.test(check.stderr)) throw new Error(`${platform}: the runtime warns on start: ${check.stderr.trim()}`);
  }
  const seconds = (Date.now() - started) / 1000;
  const size = statSync(exe).size;
  say(`${platform}: ${RUNTIME} ${mb(size)}${strip ? '' : ' (unstripped)'} in ${seconds.toFixed(1)} s`);
  return { platform, path: exe, size, sha256: sha256File(exe), codeCache, stripped: !!strip, checked: runner !== null, seconds };
}

/**
 * The npm version of the runtime packages: the collection version for a release. A dev
 * build gets a prerelease carrying the build hash and a hash of the runtimes' bytes (the
 * V8 code cache differs from one build to the next), so distinct runtimes never share a
 * version. Hyphens keep it one alphanumeric semver identifier whatever the hex digits are.
 */
export function npmVersion(version, program, runtimes, release) {
  if (release) return version;
  const content = createHash('sha256');
  for (const r of runtimes) content.update(`${r.platform} ${r.sha256}\n`);
  return `${version}-dev-${program.hash}-${content.digest('hex').slice(0, 8)}`;
}

/** 3. One npm package per platform, packed (npm pack fixes mtimes and modes) into build/runtime-packages. */
export function packRuntime(runtime, version, nodeVersion) {
  const { platform } = runtime;
  const stage = join(PACKAGES_DIR, platform);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const manifest = {
    name: packageName(platform),
    version,
    description: `Runtime of the tosin2013.mcp_audit Ansible collection for ${platform}: a Node ${nodeVersion} single executable`,
    license: 'GPL-3.0-or-later',
    repository: { type: 'git', url: 'git+https://github.com/tosin2013/mcp_audit.git' },
    os: [platform.split('-')[0]],
    cpu: [PLATFORMS[platform].cpu],
    files: [RUNTIME],
  };
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  linkSync(runtime.path, join(stage, RUNTIME));
  const [packed] = JSON.parse(execFileSync('npm', ['pack', stage, '--json', '--pack-destination', PACKAGES_DIR], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }));
  rmSync(stage, { recursive: true, force: true });
  const tarball = join(PACKAGES_DIR, packed.filename);
  const integrity = npmIntegrity(tarball);
  if (integrity !== packed.integrity) throw new Error(`${tarball}: npm pack reports ${packed.integrity}, the file hashes to ${integrity}`);
  say(`${platform}: ${packed.filename} ${mb(statSync(tarball).size)}`);
  return {
    package: manifest.name,
    version,
    tarball: packed.filename,
    integrity,
    path_in_tarball: `package/${RUNTIME}`,
    sha256: runtime.sha256,
    size: runtime.size,
  };
}

/** Build, pack and describe the runtimes of the given platforms; returns the manifest. */
export async function buildRuntimes(platforms, { release = false } = {}) {
  const version = collectionVersion();
  const program = await bundleProgram(version);
  rmSync(PACKAGES_DIR, { recursive: true, force: true });
  mkdirSync(PACKAGES_DIR, { recursive: true });
  const built = platforms.map((p) => makeRuntime(p, program));
  const packageVersion = npmVersion(version, program, built, release);
  const manifest = {
    collection_version: version,
    build_id: program.buildId,
    program: PROGRAM,
    node_version: program.nodeVersion,
    platforms: {},
  };
  for (const r of built) {
    const started = Date.now();
    manifest.platforms[r.platform] = packRuntime(r, packageVersion, program.nodeVersion);
    r.packSeconds = (Date.now() - started) / 1000;
  }
  return { manifest, program, runtimes: built };
}

/**
 * 4. Into the collection: the program, the manifest, each built runtime under
 * plugins/runtime/<platform>/ (for local and offline use; build_ignore keeps them out of
 * the Galaxy tarball) and the local one at plugins/runtime/mcp_audit_runtime.
 */
export function installRuntimes({ manifest, program, runtimes }) {
  mkdirSync(RUNTIME_DIR, { recursive: true });
  copyFileSync(program.path, join(RUNTIME_DIR, PROGRAM));
  for (const entry of readdirSync(RUNTIME_DIR)) {
    // A platform not built this time must not leave an older runtime that the manifest does not describe.
    if (PLATFORMS[entry] && !manifest.platforms[entry]) rmSync(join(RUNTIME_DIR, entry), { recursive: true, force: true });
  }
  const place = (from, to) => {
    mkdirSync(dirname(to), { recursive: true });
    const tmp = `${to}.tmp-${process.pid}`;
    copyFileSync(from, tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, to);
  };
  for (const r of runtimes) place(r.path, join(RUNTIME_DIR, r.platform, RUNTIME));
  const local = runtimes.find((r) => r.platform === localPlatform());
  if (local) place(local.path, join(RUNTIME_DIR, RUNTIME));
  else rmSync(join(RUNTIME_DIR, RUNTIME), { force: true });
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  return local ? join(RUNTIME_DIR, RUNTIME) : undefined;
}

/** Sizes and timings, one line per platform, for the build log. */
export function summary({ manifest, program, runtimes }) {
  const lines = [`program ${PROGRAM} ${(program.size / 1024).toFixed(0)} KiB, build ${manifest.build_id}`];
  for (const r of runtimes) {
    const m = manifest.platforms[r.platform];
    const tgz = statSync(join(PACKAGES_DIR, m.tarball)).size;
    lines.push(
      `${r.platform}: runtime ${mb(r.size)} (${r.codeCache ? 'with' : 'without'} code cache, ${r.seconds.toFixed(1)} s), package ${m.tarball} ${mb(tgz)} (${r.packSeconds.toFixed(1)} s)`,
    );
  }
  return lines;
}
