/**
 * Runtime delivery on this machine (the remote side is in remote_runtime.test.ts):
 * the controller takes the runtime from an air-gapped source or its cache,
 * checks it against the manifest, and places it in ~/.ansible/mcp_audit/<build id>
 * of the user a task runs as; mcp_runtime shows and manages that; async tasks
 * and the target's own Node work. Every test has its own HOME and cache.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { publishRuntimes, startRegistry, type Registry } from '../helpers/registry';
import { everythingServer, INSTALLED_COLLECTION, outputOf, RUNTIME_PACKAGES, runPlaybook, scratchDir, type Task } from './harness';

const FQ = 'tosin2013.mcp_audit';
const manifest = () => JSON.parse(readFileSync(join(INSTALLED_COLLECTION, 'plugins', 'runtime', 'manifest.json'), 'utf8'));
const x64 = () => manifest().platforms['linux-x64'];

const echo = (name: string, message: string, extra: Record<string, unknown> = {}): Task => ({
  name,
  ...extra,
  [`${FQ}.mcp_test_tool`]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message }, expected_result: `Echo: ${message}` },
});
const runtime = (name: string, args: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Task => ({ name, ...extra, [`${FQ}.mcp_runtime`]: args });

/** A fresh HOME (where tasks place the runtime) and controller cache. */
function freshUser() {
  const dir = scratchDir('mcp-audit-delivery-');
  const home = join(dir, 'home');
  const cache = join(dir, 'cache');
  mkdirSync(home);
  return { dir, home, cache, env: { HOME: home, XDG_CACHE_HOME: cache } };
}
const placedDir = (home: string) => join(home, '.ansible', 'mcp_audit', manifest().build_id);

describe('the controller side', () => {
  test('the first task takes the runtime from mcp_audit_runtime_source, verifies and caches it; later tasks use the cache', async () => {
    const u = freshUser();
    const run = await runPlaybook([echo('first', 'one'), echo('second', 'two')], { env: u.env });
    expect(run.exitCode, outputOf(run)).toBe(0);
    const cached = join(u.cache, 'tosin2013.mcp_audit', 'runtimes', manifest().build_id, 'linux-x64');
    expect(readdirSync(cached)).toEqual(expect.arrayContaining(['mcp_audit_runtime', 'mcp_audit_runtime.origin']));
    expect(readFileSync(join(cached, 'mcp_audit_runtime.origin'), 'utf8')).toContain(`source ${RUNTIME_PACKAGES}`);
    // connection local without become: the controller's copy runs in place, nothing is placed in HOME.
    expect(existsSync(placedDir(u.home))).toBe(false);
  });

  test('a package whose integrity does not match the manifest is refused and never cached', async () => {
    const u = freshUser();
    const source = join(u.dir, 'mirror');
    mkdirSync(source);
    const tgz = readFileSync(join(RUNTIME_PACKAGES, x64().tarball));
    tgz[tgz.length - 100] ^= 0xff; // one flipped bit, as a corrupt mirror or a tampered package would have
    writeFileSync(join(source, x64().tarball), tgz);
    const run = await runPlaybook([echo('tampered', 'no')], { env: { ...u.env, MCP_AUDIT_RUNTIME_SOURCE: source } });
    const task = run.task('tampered');
    expect(task.status, outputOf(run)).toBe('failed');
    expect(task.result.msg).toMatch(new RegExp(`has integrity sha512-\\S+, but this collection expects ${x64().integrity.replace(/[+/]/g, '.')}.*refusing it`));
    expect(existsSync(join(u.cache, 'tosin2013.mcp_audit', 'runtimes', manifest().build_id, 'linux-x64', 'mcp_audit_runtime'))).toBe(false);
  });

  test('four forks with an empty cache: one lock, one verified copy, no temp file left', async () => {
    const u = freshUser();
    const inventory = join(u.dir, 'inventory.ini');
    writeFileSync(inventory, ['[all]', ...['a', 'b', 'c', 'd'].map((h) => `${h} ansible_connection=local ansible_python_interpreter=/usr/bin/python3`), ''].join('\n'));
    const run = await runPlaybook([echo('race', 'forks')], { env: { ...u.env, ANSIBLE_FORKS: '4' }, inventory });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.results.filter((r) => r.task === 'race').map((r) => r.result.test_passed)).toEqual([true, true, true, true]);
    const cached = join(u.cache, 'tosin2013.mcp_audit', 'runtimes', manifest().build_id, 'linux-x64');
    expect(readdirSync(cached).sort()).toEqual(['.lock', 'mcp_audit_runtime', 'mcp_audit_runtime.origin']);
  });

  test('a source that does not hold the package says what it looked for', async () => {
    const u = freshUser();
    const run = await runPlaybook([echo('empty', 'no')], { env: { ...u.env, MCP_AUDIT_RUNTIME_SOURCE: u.dir } });
    expect(run.task('empty').status).toBe('failed');
    expect(run.task('empty').result.msg).toContain(`mcp_audit_runtime_source ${u.dir} holds neither ${x64().tarball} nor mcp_audit_runtime`);
  });
});

describe('from the npm registry (a real verdaccio on loopback)', () => {
  let registry: Registry;
  beforeAll(async () => {
    // Private: a fetch that forgets npmrc's token gets 401, not the package.
    registry = await startRegistry({ private: true });
    await publishRuntimes(registry.url);
  }, 240_000);
  afterAll(async () => {
    await registry?.stop();
  });
  const cachedOrigin = (cache: string) =>
    readFileSync(join(cache, 'tosin2013.mcp_audit', 'runtimes', manifest().build_id, 'linux-x64', 'mcp_audit_runtime.origin'), 'utf8');

  test('no runtime on the controller: the first task fetches it from npm_config_registry (with its token), verifies and caches it', async () => {
    const u = freshUser();
    const env = { ...u.env, MCP_AUDIT_RUNTIME_SOURCE: '', npm_config_registry: registry.url, npm_config_userconfig: registry.userconfig };
    const run = await runPlaybook([echo('fetched', 'npm'), echo('cached', 'again')], { env });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(cachedOrigin(u.cache)).toBe(`registry ${registry.url}\n`);
  });

  test('without npm_config_registry, the registry and its token come from ~/.npmrc', async () => {
    const u = freshUser();
    // npm run exports npm_config_* into the environment: blank them, as outside npm.
    const token = readFileSync(registry.userconfig, 'utf8');
    writeFileSync(join(u.home, '.npmrc'), `registry=${registry.url}\n${token}`);
    const env = { ...u.env, MCP_AUDIT_RUNTIME_SOURCE: '', npm_config_registry: '', npm_config_userconfig: '' };
    const run = await runPlaybook([echo('npmrc', 'home')], { env });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(cachedOrigin(u.cache)).toBe(`registry ${registry.url}\n`);
  });

  test('mcp_audit_registry wins over npm_config_registry', async () => {
    const u = freshUser();
    const env = { ...u.env, MCP_AUDIT_RUNTIME_SOURCE: '', npm_config_registry: 'http://127.0.0.1:9/', npm_config_userconfig: registry.userconfig };
    const run = await runPlaybook([echo('explicit', 'wins')], { env, vars: { mcp_audit_registry: registry.url } });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(cachedOrigin(u.cache)).toBe(`registry ${registry.url}\n`);
  });

  test('a registry that serves another package under the same version is refused', async () => {
    // Publish a different tarball as the same name@version to a second registry (npm publish, not our release script).
    const other = await startRegistry();
    try {
      const dir = scratchDir('mcp-audit-forged-');
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: x64().package, version: x64().version, files: ['mcp_audit_runtime'] }));
      writeFileSync(join(dir, 'mcp_audit_runtime'), '#!/bin/sh\necho forged\n', { mode: 0o755 });
      execFileSync('npm', ['publish', '--registry', other.url, '--tag', 'forged', dir], { env: { ...process.env, npm_config_userconfig: other.userconfig }, stdio: 'ignore' });
      const u = freshUser();
      const env = { ...u.env, MCP_AUDIT_RUNTIME_SOURCE: '', npm_config_registry: other.url, npm_config_userconfig: other.userconfig };
      const run = await runPlaybook([echo('forged', 'no')], { env });
      expect(run.task('forged').status, outputOf(run)).toBe('failed');
      expect(run.task('forged').result.msg).toContain(`${x64().package}@${x64().version} on ${other.url} has integrity sha512-`);
      expect(run.task('forged').result.msg).toContain(`but this collection expects ${x64().integrity}: refusing it`);
      expect(existsSync(join(u.cache, 'tosin2013.mcp_audit', 'runtimes', manifest().build_id, 'linux-x64', 'mcp_audit_runtime'))).toBe(false);
    } finally {
      await other.stop();
    }
  });

  test('a registry without the package says how to publish or where else to look', async () => {
    const empty = await startRegistry();
    try {
      const u = freshUser();
      const run = await runPlaybook([echo('absent', 'no')], { env: { ...u.env, MCP_AUDIT_RUNTIME_SOURCE: '', npm_config_registry: empty.url } });
      expect(run.task('absent').status).toBe('failed');
      expect(run.task('absent').result.msg).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/@tosin2013%2fmcp-audit-runtime-linux-x64 failed: HTTP 404.*mcp_audit_runtime_source/i);
    } finally {
      await empty.stop();
    }
  });
});

describe('mcp_runtime', () => {
  test('status, present (idempotent, check mode), absent', async () => {
    const u = freshUser();
    const old = join(u.home, '.ansible', 'mcp_audit', '1.9.0+0000000000');
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'mcp_audit_runtime'), 'an older runtime');
    const run = await runPlaybook(
      [
        runtime('before', { state: 'status' }),
        runtime('check', { state: 'present' }, { check_mode: true }),
        runtime('place', { state: 'present' }),
        runtime('again', { state: 'present' }),
        echo('uses it', 'placed'),
        runtime('clean', { state: 'absent' }),
        runtime('after', { state: 'status' }),
        runtime('typo', { stat: 'present' }, { ignore_errors: true }),
      ],
      { env: u.env },
    );
    expect(run.exitCode, outputOf(run)).toBe(0);
    const id = manifest().build_id;
    expect(run.task('before').result).toMatchObject({ changed: false, placed: false, version: id, platform: 'linux-x64' });
    expect(Object.keys(run.task('before').result.versions)).toEqual(['1.9.0+0000000000']);
    expect(run.task('before').result.controller).toMatchObject({ source: RUNTIME_PACKAGES });
    expect(run.task('check').result).toMatchObject({ changed: true, placed: false });
    expect(run.task('place').result).toMatchObject({ changed: true, placed: true });
    expect(run.task('again').result).toMatchObject({ changed: false, placed: true });
    expect(run.task('clean').result).toMatchObject({ changed: true, removed: ['1.9.0+0000000000'] });
    expect(Object.keys(run.task('after').result.versions)).toEqual([id]);
    expect(existsSync(old)).toBe(false);
    expect(run.task('typo').status).toBe('failed');
    expect(run.task('typo').result.msg).toContain('Unsupported parameters for (mcp_runtime) module: stat. Supported parameters include: src, state.');
  });

  test('present with src places a package file the controller was given', async () => {
    const u = freshUser();
    const src = join(u.dir, x64().tarball);
    copyFileSync(join(RUNTIME_PACKAGES, x64().tarball), src);
    const run = await runPlaybook([runtime('place', { state: 'present', src })], { env: { ...u.env, MCP_AUDIT_RUNTIME_SOURCE: join(u.dir, 'nowhere') } });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('place').result).toMatchObject({ changed: true, placed: true });
    expect(existsSync(join(placedDir(u.home), 'mcp_audit_runtime'))).toBe(true);
  });
});

describe('running tasks', () => {
  test('an async task runs in the background and async_status follows it (poll and poll: 0)', async () => {
    const u = freshUser();
    const run = await runPlaybook(
      [
        echo('polled', 'async', { async: 60, poll: 1 }),
        { ...echo('fire', 'later', { async: 60, poll: 0 }), register: 'job' },
        { name: 'wait', 'ansible.builtin.async_status': { jid: '{{ job.ansible_job_id }}' }, register: 'done', until: 'done.finished', retries: 30, delay: 1 },
      ],
      { env: u.env },
    );
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('polled').result.test_passed).toBe(true);
    expect(run.task('wait').result).toMatchObject({ test_passed: true, tool_result: { content: [{ text: 'Echo: later' }] } });
  });

  test("mcp_audit_node runs the compiled program with the target's own Node instead of the runtime", async () => {
    const u = freshUser();
    const run = await runPlaybook([echo('own node', 'node')], { env: u.env, vars: { mcp_audit_node: 'auto' } });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('own node').result.test_passed).toBe(true);
    expect(readdirSync(placedDir(u.home))).toEqual([manifest().program]);
  });
});
