/**
 * A real local npm registry for the runtime-delivery tests: verdaccio (from
 * devDependencies) on 127.0.0.1 with its own temp storage, no uplinks (it serves
 * only what is published to it) and one htpasswd user whose token sits in a
 * throwaway npmrc, the way a user's npmrc carries a registry token.
 *
 *   const registry = await startRegistry();
 *   await publishRuntimes(registry.url);          // the release script, --no-build: this build's packages
 *   ...                                           // npm_config_registry=registry.url for the code under test
 *   await registry.stop();
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(here, '..', '..');
const run = promisify(execFile);

export interface Registry {
  /** http://127.0.0.1:<port>/ */
  url: string;
  /** An npmrc holding this registry's auth token (pass as npm_config_userconfig). */
  userconfig: string;
  /** verdaccio's log (warnings and errors). */
  log: string;
  stop(): Promise<void>;
}

const userconfigs = new Map<string, string>();

/** `private`: only the token's holder may read packages, so a test proves the token was sent. */
export async function startRegistry({ private: readNeedsToken = false } = {}): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-registry-'));
  const config = join(dir, 'config.yaml');
  const log = join(dir, 'verdaccio.log');
  writeFileSync(
    config,
    [
      `storage: ${join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(dir, 'htpasswd')}`,
      'uplinks: {}',
      'packages:',
      "  '**':",
      `    access: ${readNeedsToken ? '$authenticated' : '$all'}`,
      '    publish: $authenticated',
      '    unpublish: $authenticated',
      // A runtime package is ~40 MB; npm sends it base64 inside the JSON body.
      'max_body_size: 300mb',
      'web:',
      '  enable: false',
      'middlewares:',
      '  audit:',
      '    enabled: false',
      'log:',
      '  type: file',
      `  path: ${log}`,
      '  level: warn',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(process.execPath, [join(here, 'verdaccio_server.cjs'), config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await new Promise<number>((resolvePort, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => resolvePort(JSON.parse(line).port));
      child.once('exit', (code, signal) => reject(new Error(`verdaccio exited (${code ?? signal}) before listening:\n${stderr}`)));
      setTimeout(() => reject(new Error(`verdaccio did not listen within 60 s:\n${stderr}`)), 60_000).unref();
    });
    const url = `http://127.0.0.1:${port}/`;
    // npm adduser's request: creates the htpasswd user and answers a token.
    const user = 'mcp-audit-release';
    const res = await fetch(`${url}-/user/org.couchdb.user:${user}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: user, password: 'release-test-password', type: 'user', roles: [], date: new Date().toISOString() }),
    });
    const body: any = await res.json();
    if (!res.ok || !body.token) throw new Error(`verdaccio refused to create the test user: ${res.status} ${JSON.stringify(body)}`);
    const userconfig = join(dir, 'npmrc');
    writeFileSync(userconfig, `//127.0.0.1:${port}/:_authToken=${body.token}\n`, { mode: 0o600 });
    userconfigs.set(url, userconfig);
    return {
      url,
      userconfig,
      log,
      stop: async () => {
        userconfigs.delete(url);
        await stop();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface ReleaseRun {
  stdout: string;
  stderr: string;
}

/**
 * Publish this build's runtime packages (plugins/runtime/manifest.json and
 * build/runtime-packages) with the release script, as a release would, minus the
 * build. `extraArgs` go to the script (e.g. --manifest, --packages).
 */
export async function publishRuntimes(registryUrl: string, extraArgs: string[] = []): Promise<ReleaseRun> {
  const userconfig = userconfigs.get(registryUrl);
  if (!userconfig) throw new Error(`${registryUrl} was not started by startRegistry()`);
  const { stdout, stderr } = await run(process.execPath, [join(REPO_ROOT, 'scripts', 'release-runtimes.mjs'), '--no-build', '--registry', registryUrl, ...extraArgs], {
    cwd: REPO_ROOT,
    env: { ...process.env, npm_config_userconfig: userconfig },
    maxBuffer: 16 * 1024 * 1024,
  });
  return { stdout, stderr };
}
