/**
 * Helpers for the transport tests (tests/e2e/transports*.test.ts): real
 * server-everything processes serving SSE and streamable HTTP on free loopback
 * ports, port probes, and a throwaway CA + server certificate made with openssl.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVERYTHING_JS, NODE } from './harness';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port nothing listens on right now (the kernel's pick on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portAccepts(port: number, ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}


export type EverythingMode = 'sse' | 'streamableHttp';

export interface HttpEverything {
  mode: EverythingMode;
  port: number;
  pid: number;
  /** The URL a module gets as server_url (/sse or /mcp). */
  url: string;
  /** What the server printed (both streams), for failure messages. */
  output(): string;
  /** SIGTERM, wait for the exit (SIGKILL after 5 s); resolves once the process is gone. */
  stop(): Promise<void>;
}

/** The test runner's environment minus what must not reach a server's node. */
function serverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k.startsWith('VITEST') || k.startsWith('MCP_AUDIT_')) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * `PORT=<p> node server-everything/dist/index.js <mode>` on a free port,
 * resolved once the port accepts connections. A port taken between the probe
 * and the server's listen makes the server exit; then another port is tried.
 */
export async function startEverything(mode: EverythingMode): Promise<HttpEverything> {
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn(NODE, [EVERYTHING_JS, mode], { env: serverEnv({ PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-20_000)));
    child.stderr!.on('data', (c: Buffer) => (out = (out + c.toString('utf8')).slice(-20_000)));
    let exited = false;
    const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
    const deadline = Date.now() + 20_000;
    while (!exited && Date.now() < deadline && !(await portAccepts(port, 500))) await sleep(50);
    if (!exited && (await portAccepts(port))) {
      const pid = child.pid!;
      return {
        mode,
        port,
        pid,
        url: `http://127.0.0.1:${port}${mode === 'sse' ? '/sse' : '/mcp'}`,
        output: () => out,
        async stop() {
          if (!exited) child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exit;
          clearTimeout(killer);
        },
      };
    }
    lastError = exited ? `exited early: ${out}` : `port ${port} did not accept connections within 20 s: ${out}`;
    child.kill('SIGKILL');
    await exit;
  }
  throw new Error(`server-everything ${mode} did not start: ${lastError}`);
}

export interface TestPki {
  dir: string;
  /** The CA that signs cert (ca.pem). */
  caPath: string;
  /** Server certificate for IP:127.0.0.1 / DNS:localhost signed by the CA, and its key. */
  certPath: string;
  keyPath: string;
  key: string;
  cert: string;
  /** A self-signed server certificate (no CA) for the same names, and its key. */
  selfSignedPath: string;
  selfSignedKey: string;
  selfSigned: string;
}

/**
 * A CA and a server certificate it signs for 127.0.0.1 / localhost, plus a
 * self-signed server certificate for the same names: made with openssl in a
 * temp dir (the caller removes `dir`).
 */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-pki-'));
  const p = (f: string) => join(dir, f);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=mcp_audit e2e test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(
    p('server.ext'),
    ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1,DNS:localhost', ''].join('\n'),
  );
  openssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('server.ext'));
  openssl(
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('self.key'), '-out', p('self.pem'), '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  );
  return {
    dir,
    selfSignedPath: p('self.pem'),
    selfSignedKey: readFileSync(p('self.key'), 'utf8'),
    selfSigned: readFileSync(p('self.pem'), 'utf8'),
    caPath: p('ca.pem'),
    certPath: p('server.pem'),
    keyPath: p('server.key'),
    key: readFileSync(p('server.key'), 'utf8'),
    cert: readFileSync(p('server.pem'), 'utf8'),
  };
}
