/**
 * Where the broker lives (src/broker_paths.ts): the directory (explicit,
 * MCP_AUDIT_BROKER_DIR, XDG_RUNTIME_DIR or the temp dir), file names that
 * carry the runtime version, the unix socket path limit, and the trust
 * checks: a real directory of ours that nobody else may enter, holding a
 * socket of ours, or a clear refusal. Real directories in a temp dir.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { brokerDir, brokerPaths, TrustedDir } from '../../src/broker_paths';
import { ModuleFailure } from '../../src/errors';
import { VERSION } from '../../src/version';

const ENV_KEYS = ['MCP_AUDIT_BROKER_DIR', 'XDG_RUNTIME_DIR'] as const;
let savedEnv: Record<string, string | undefined>;
let tmp: string;
const uid = process.getuid!();
const isRoot = uid === 0;

beforeEach(() => {
  savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  for (const k of ENV_KEYS) delete process.env[k];
  tmp = mkdtempSync(join(tmpdir(), 'mcp-audit-paths-'));
});

afterEach(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
  rmSync(tmp, { recursive: true, force: true });
});

const mode = (p: string) => statSync(p).mode & 0o777;

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('brokerDir', () => {
  it('honours MCP_AUDIT_BROKER_DIR', () => {
    process.env.MCP_AUDIT_BROKER_DIR = join(tmp, 'custom');
    expect(brokerDir()).toBe(join(tmp, 'custom'));
  });

  it('prefers MCP_AUDIT_BROKER_DIR over XDG_RUNTIME_DIR', () => {
    process.env.MCP_AUDIT_BROKER_DIR = join(tmp, 'custom');
    process.env.XDG_RUNTIME_DIR = tmp;
    expect(brokerDir()).toBe(join(tmp, 'custom'));
  });

  it('uses <XDG_RUNTIME_DIR>/mcp_audit when that directory is ours', () => {
    process.env.XDG_RUNTIME_DIR = tmp;
    expect(brokerDir()).toBe(join(tmp, 'mcp_audit'));
  });

  it('falls back to <tmpdir>/mcp_audit-<uid> without either variable', () => {
    expect(brokerDir()).toBe(join(tmpdir(), `mcp_audit-${uid}`));
  });

  it('refuses a relative MCP_AUDIT_BROKER_DIR (module and broker run in different directories)', () => {
    for (const rel of ['broker', './broker', '~/broker']) {
      process.env.MCP_AUDIT_BROKER_DIR = rel;
      const e = thrown(() => brokerDir());
      expect(e).toBeInstanceOf(ModuleFailure);
      expect(e.message).toContain(`MCP_AUDIT_BROKER_DIR must be an absolute path, got '${rel}'`);
    }
  });

  it('ignores an empty MCP_AUDIT_BROKER_DIR', () => {
    process.env.MCP_AUDIT_BROKER_DIR = '';
    expect(brokerDir()).toBe(join(tmpdir(), `mcp_audit-${uid}`));
  });

  it('falls back when XDG_RUNTIME_DIR does not exist', () => {
    process.env.XDG_RUNTIME_DIR = join(tmp, 'missing');
    expect(brokerDir()).toBe(join(tmpdir(), `mcp_audit-${uid}`));
  });

  it('falls back when XDG_RUNTIME_DIR is a file', () => {
    writeFileSync(join(tmp, 'file'), '');
    process.env.XDG_RUNTIME_DIR = join(tmp, 'file');
    expect(brokerDir()).toBe(join(tmpdir(), `mcp_audit-${uid}`));
  });

  it('falls back when XDG_RUNTIME_DIR is a symlink to a directory', () => {
    symlinkSync(tmp, join(tmp, 'link'));
    process.env.XDG_RUNTIME_DIR = join(tmp, 'link');
    expect(brokerDir()).toBe(join(tmpdir(), `mcp_audit-${uid}`));
  });

  it.skipIf(!isRoot)('falls back when XDG_RUNTIME_DIR belongs to another user', () => {
    const other = join(tmp, 'other');
    mkdirSync(other);
    chownSync(other, 12345, 12345);
    process.env.XDG_RUNTIME_DIR = other;
    expect(brokerDir()).toBe(join(tmpdir(), `mcp_audit-${uid}`));
  });
});

describe('brokerPaths', () => {
  it('puts socket, lock, log and server list in the directory; names carry the version', () => {
    const dir = join(tmp, 'b');
    expect(brokerPaths(dir)).toEqual({
      dir,
      socket: join(dir, `broker-${VERSION}.sock`),
      lock: join(dir, `broker-${VERSION}.pid`),
      log: join(dir, 'broker.log'),
      servers: join(dir, `servers-${VERSION}.json`),
    });
  });

  it('uses MCP_AUDIT_BROKER_DIR by default', () => {
    process.env.MCP_AUDIT_BROKER_DIR = join(tmp, 'envdir');
    const p = brokerPaths();
    expect(p.dir).toBe(join(tmp, 'envdir'));
    expect(p.socket.startsWith(join(tmp, 'envdir') + '/')).toBe(true);
  });

  it('creates nothing on disk', () => {
    brokerPaths(join(tmp, 'nothing'));
    expect(existsSync(join(tmp, 'nothing'))).toBe(false);
  });

  describe('with a build version holding characters unsafe in file names', () => {
    afterEach(() => {
      delete (globalThis as any).__MCP_AUDIT_VERSION__;
      vi.resetModules();
    });

    it('sanitizes + (and other characters) in the socket, lock and server-list names', async () => {
      (globalThis as any).__MCP_AUDIT_VERSION__ = '2.1.0+build.7/x y';
      vi.resetModules();
      const fresh = await import('../../src/broker_paths');
      const { VERSION: v } = await import('../../src/version');
      expect(v).toBe('2.1.0+build.7/x y');
      const p = fresh.brokerPaths(join(tmp, 'b'));
      expect(p.socket).toBe(join(tmp, 'b', 'broker-2.1.0-build.7-x-y.sock'));
      expect(p.lock).toBe(join(tmp, 'b', 'broker-2.1.0-build.7-x-y.pid'));
      expect(p.servers).toBe(join(tmp, 'b', 'servers-2.1.0-build.7-x-y.json'));
      expect(p.log).toBe(join(tmp, 'b', 'broker.log'));
    });

    it('gives two versions two different sockets', async () => {
      (globalThis as any).__MCP_AUDIT_VERSION__ = '2.0.0';
      vi.resetModules();
      const a = (await import('../../src/broker_paths')).brokerPaths(tmp).socket;
      (globalThis as any).__MCP_AUDIT_VERSION__ = '2.0.1';
      vi.resetModules();
      const b = (await import('../../src/broker_paths')).brokerPaths(tmp).socket;
      expect(a).not.toBe(b);
    });
  });

  describe('the unix socket path limit (103 bytes)', () => {
    const suffix = `/broker-${VERSION}.sock`;
    const dirOfLength = (n: number) => '/' + 'd'.repeat(n - 1);

    it('accepts a socket path of exactly 103 bytes', () => {
      const dir = dirOfLength(103 - suffix.length);
      expect(Buffer.byteLength(brokerPaths(dir).socket)).toBe(103);
    });

    it('refuses 104 bytes with a ModuleFailure telling to set MCP_AUDIT_BROKER_DIR', () => {
      const dir = dirOfLength(104 - suffix.length);
      const e = thrown(() => brokerPaths(dir));
      expect(e).toBeInstanceOf(ModuleFailure);
      expect(e.message).toContain(`${dir}${suffix}`);
      expect(e.message).toContain('longer than 103 bytes');
      expect(e.message).toContain('set MCP_AUDIT_BROKER_DIR to a shorter directory');
    });

    it('counts bytes, not characters', () => {
      // 60 characters of "é" are 120 bytes.
      const dir = '/' + 'é'.repeat(60);
      expect(dir.length + suffix.length).toBeLessThan(103);
      expect(() => brokerPaths(dir)).toThrow(ModuleFailure);
    });

    it('also applies to a too-long MCP_AUDIT_BROKER_DIR', () => {
      process.env.MCP_AUDIT_BROKER_DIR = join(tmp, 'x'.repeat(120));
      expect(() => brokerPaths()).toThrow(/MCP_AUDIT_BROKER_DIR/);
    });
  });
});

describe('TrustedDir: the broker directory is ours and private, or refused (never repaired)', () => {
  const opened: TrustedDir[] = [];
  const open = (dir: string, create = true) => {
    const d = TrustedDir.open(dir, { create });
    if (d) opened.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of opened.splice(0)) d.close();
  });

  it('creates a missing directory (and its parents) with mode 0700', () => {
    const dir = join(tmp, 'a', 'b', 'broker');
    expect(open(dir)).toBeDefined();
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(mode(dir)).toBe(0o700);
    expect(statSync(dir).uid).toBe(uid);
  });

  it('without create, a missing directory means no broker (undefined) and nothing is made', () => {
    const dir = join(tmp, 'missing');
    expect(open(dir, false)).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
  });

  it('leaves an existing 0700 directory and its contents alone', () => {
    const dir = join(tmp, 'ok');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'keep'), 'x');
    expect(open(dir)!.path).toBe(dir);
    expect(mode(dir)).toBe(0o700);
    expect(existsSync(join(dir, 'keep'))).toBe(true);
  });

  it('refuses a directory of ours that others may enter, names its mode and how to fix it, and leaves it as it was', () => {
    for (const m of [0o755, 0o777, 0o701, 0o710, 0o750]) {
      const dir = join(tmp, `m${m.toString(8)}`);
      mkdirSync(dir);
      chmodSync(dir, m);
      const e = thrown(() => open(dir));
      expect(e).toBeInstanceOf(ModuleFailure);
      expect(e.message).toContain(`refusing to use the broker directory ${dir}: its mode 0${m.toString(8)} lets other users in`);
      expect(e.message).toContain(`chmod 700 ${dir}`);
      expect(e.message).toContain('nothing was sent to it');
      expect(mode(dir), m.toString(8)).toBe(m);
    }
  });

  it('refuses a path that is a file', () => {
    const file = join(tmp, 'file');
    writeFileSync(file, 'data');
    const e = thrown(() => open(file));
    expect(e).toBeInstanceOf(ModuleFailure);
    expect(e.message).toMatch(new RegExp(`^refusing to use the broker directory ${file}: it is not a directory \\(owner uid ${uid}\\b.*mode 0644\\)`));
    expect(statSync(file).isFile()).toBe(true);
  });

  it('refuses a symlink, even to a private directory of ours, and names its target', () => {
    const target = join(tmp, 'target');
    mkdirSync(target, { mode: 0o700 });
    const link = join(tmp, 'link');
    symlinkSync(target, link);
    const e = thrown(() => open(link));
    expect(e).toBeInstanceOf(ModuleFailure);
    expect(e.message).toContain(`refusing to use the broker directory ${link}: it is a symbolic link to ${target} (owner uid ${uid}`);
    expect(e.message).toContain('mode 0700');
    expect(mode(target)).toBe(0o700);
  });

  it('refuses a dangling symlink instead of creating its target', () => {
    const link = join(tmp, 'dangling');
    symlinkSync(join(tmp, 'nowhere'), link);
    expect(() => open(link)).toThrow(/is a symbolic link that leads nowhere/);
    expect(existsSync(join(tmp, 'nowhere'))).toBe(false);
  });

  it.skipIf(!isRoot)('(root) refuses a directory that belongs to another user, naming owner and mode, without changing it', () => {
    const dir = join(tmp, 'theirs');
    mkdirSync(dir);
    chmodSync(dir, 0o700);
    chownSync(dir, 12345, 12345);
    const e = thrown(() => open(dir));
    expect(e).toBeInstanceOf(ModuleFailure);
    expect(e.message).toContain(`refusing to use the broker directory ${dir}: it belongs to uid 12345 (mode 0700), not to you (uid 0 (root)), so someone else may be listening in it`);
    expect(e.message).toContain('set MCP_AUDIT_BROKER_DIR to a directory of your own');
    expect(mode(dir)).toBe(0o700);
    expect(statSync(dir).uid).toBe(12345);
  });

  it('names files through the directory it checked: swapping the directory afterwards changes nothing', () => {
    const dir = join(tmp, 'swap');
    mkdirSync(dir, { mode: 0o700 });
    const trusted = open(dir)!;
    renameSync(dir, join(tmp, 'checked'));
    mkdirSync(dir, { mode: 0o777 }); // an impostor at the old path
    writeFileSync(trusted.at('probe'), 'x');
    expect(existsSync(join(tmp, 'checked', 'probe'))).toBe(true);
    expect(existsSync(join(dir, 'probe'))).toBe(false);
  });

  describe('the socket in it', () => {
    const listen = (path: string) =>
      new Promise<Server>((resolve) => {
        const server = createServer().listen(path, () => resolve(server));
      });

    it('is absent (false), or a socket of ours (true)', async () => {
      const dir = join(tmp, 's');
      const trusted = open(dir)!;
      const sock = join(dir, 'b.sock');
      expect(trusted.hasSocket(sock)).toBe(false);
      const server = await listen(sock);
      try {
        expect(trusted.hasSocket(sock)).toBe(true);
      } finally {
        server.close();
      }
    });

    it('is refused when it is not a socket', () => {
      const dir = join(tmp, 's');
      const trusted = open(dir)!;
      const sock = join(dir, 'b.sock');
      writeFileSync(sock, '');
      expect(() => trusted.hasSocket(sock)).toThrow(new RegExp(`^refusing to use the broker socket ${sock}: it is not a socket`));
    });

    it.skipIf(!isRoot)('(root) is refused when another user owns it', async () => {
      const dir = join(tmp, 's');
      const trusted = open(dir)!;
      const sock = join(dir, 'b.sock');
      const server = await listen(sock);
      try {
        chownSync(sock, 12345, 12345);
        expect(() => trusted.hasSocket(sock)).toThrow(`refusing to use the broker socket ${sock}: it belongs to uid 12345`);
      } finally {
        server.close();
      }
    });
  });
});
