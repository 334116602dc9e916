#!/usr/bin/env node
/**
 * npm run release:runtimes: build the runtime of every platform (package versions =
 * the collection version) and publish each runtime package to the npm registry, so
 * the collection built from the same tree (its plugins/runtime/manifest.json) finds
 * and verifies them.
 *
 *   npm run release:runtimes -- [--registry URL] [--no-build] [--manifest FILE] [--packages DIR]
 *
 *   --registry URL   where to publish; else npm_config_registry; else npm's own config.
 *                    Auth comes from the user's npmrc, as for any npm publish.
 *   --no-build       publish what the last build made (a dev build's prerelease packages
 *                    go out under the dist-tag "dev")
 *   --manifest FILE  default plugins/runtime/manifest.json
 *   --packages DIR   default build/runtime-packages
 *
 * Nothing is published unless every tarball hashes to the integrity the manifest
 * records (that is what the collection will check against the registry).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST, PACKAGES_DIR, PLATFORMS, ROOT, npmIntegrity } from './runtimes.mjs';

function option(name) {
  const args = process.argv.slice(2);
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const value = args[i].includes('=') ? args[i].slice(name.length + 1) : args[i + 1];
  if (!value) fail(`${name} needs a value`);
  return value;
}

function fail(message) {
  process.stderr.write(`release-runtimes: ${message}\n`);
  process.exit(1);
}

const say = (what) => process.stdout.write(`release-runtimes: ${what}\n`);

/** npm with the registry flag only when one was given: npm itself then applies npm_config_registry and the npmrc. */
function npm(args, registry) {
  return spawnSync('npm', [...args, ...(registry ? ['--registry', registry] : [])], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** The integrity the registry reports for name@version, or undefined when it has no such version. */
function publishedIntegrity(name, version, registry) {
  const r = npm(['view', `${name}@${version}`, 'dist.integrity', '--json'], registry);
  if (r.status !== 0) {
    if (/E404|404 Not Found/.test(r.stdout + r.stderr)) return undefined;
    fail(`cannot ask the registry about ${name}@${version}:\n${r.stderr || r.stdout}`);
  }
  return r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
}

/** Every tarball exists, is the package the manifest names, and hashes to the recorded integrity. */
function checkPackages(manifest, packagesDir) {
  const entries = Object.entries(manifest.platforms ?? {});
  if (!entries.length) fail('the manifest lists no platform: build first (npm run build)');
  for (const [platform, entry] of entries) {
    const tarball = join(packagesDir, entry.tarball);
    if (!existsSync(tarball)) fail(`${platform}: ${tarball} is missing: build again (npm run build) so the manifest and the packages agree`);
    const integrity = npmIntegrity(tarball);
    if (integrity !== entry.integrity) {
      fail(`refusing to publish ${entry.tarball}: it hashes to ${integrity} but the manifest records ${entry.integrity}; the collection would reject it. Build again so the manifest and the packages agree`);
    }
    const inside = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
    if (inside.name !== entry.package || inside.version !== entry.version) {
      fail(`refusing to publish ${entry.tarball}: it holds ${inside.name}@${inside.version}, the manifest says ${entry.package}@${entry.version}`);
    }
  }
  return entries;
}

const registry = option('--registry') ?? process.env.npm_config_registry;
const manifestPath = option('--manifest') ?? MANIFEST;
const packagesDir = option('--packages') ?? PACKAGES_DIR;

if (!process.argv.includes('--no-build')) {
  // The other cpu's runtime wants qemu-user and friends (installed here when root, else explained).
  execFileSync('sh', [join(ROOT, 'scripts', 'ensure-deps.sh'), '--platforms=all'], { stdio: 'inherit' });
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--platforms=all', '--release'], { stdio: 'inherit' });
}
if (!existsSync(manifestPath)) fail(`${manifestPath} is missing: build first (npm run build)`);
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
if (!process.argv.includes('--no-build')) {
  const missing = Object.keys(PLATFORMS).filter((p) => !manifest.platforms?.[p]);
  if (missing.length) fail(`a release carries every platform; the build made none for ${missing.join(', ')}`);
}
const entries = checkPackages(manifest, packagesDir);
const target = npm(['config', 'get', 'registry'], registry).stdout.trim();
say(`publishing ${entries.length} runtime package(s) of ${manifest.build_id} to ${target}`);

for (const [platform, entry] of entries) {
  const spec = `${entry.package}@${entry.version}`;
  const already = publishedIntegrity(entry.package, entry.version, registry);
  if (already === entry.integrity) {
    say(`${platform}: ${spec} is already published with this integrity; skipped`);
    continue;
  }
  if (already) fail(`${spec} is already published with integrity ${already}, not ${entry.integrity}: a version is published once; build a new one`);
  // npm refuses a prerelease without an explicit dist-tag; a dev build must never become "latest".
  const tag = entry.version.includes('-') ? 'dev' : 'latest';
  const published = npm(['publish', join(packagesDir, entry.tarball), '--access', 'public', '--tag', tag], registry);
  if (published.status !== 0) fail(`${platform}: npm publish ${entry.tarball} failed:\n${published.stderr || published.stdout}`);
  const reported = publishedIntegrity(entry.package, entry.version, registry);
  if (reported !== entry.integrity) fail(`${platform}: the registry reports ${reported} for ${spec}, the manifest records ${entry.integrity}`);
  say(`${platform}: published ${spec} (dist-tag ${tag}, ${entry.integrity})`);
}
