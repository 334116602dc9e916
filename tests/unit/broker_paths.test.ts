/**
 * Where the broker lives (src/broker_paths.ts): the directory (explicit,
 * MCP_AUDIT_BROKER_DIR, XDG_RUNTIME_DIR or the temp dir), file names that
 * carry the runtime version, the unix socket path limit, and a private
 * (0700, owned by us) directory. Real directories in a temp dir.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { brokerDir, brokerPaths, ensurePrivateDir } from '../../src/broker_paths';
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

describe('ensurePrivateDir', () => {
  it('creates a missing directory (and its parents) with mode 0700', () => {
    const dir = join(tmp, 'a', 'b', 'broker');
    ensurePrivateDir(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(mode(dir)).toBe(0o700);
    expect(statSync(dir).uid).toBe(uid);
  });

  it('leaves an existing 0700 directory and its contents alone', () => {
    const dir = join(tmp, 'ok');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'keep'), 'x');
    ensurePrivateDir(dir);
    expect(mode(dir)).toBe(0o700);
    expect(existsSync(join(dir, 'keep'))).toBe(true);
  });

  it('tightens a 0755 directory it owns to 0700', () => {
    const dir = join(tmp, 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    ensurePrivateDir(dir);
    expect(mode(dir)).toBe(0o700);
  });

  it('tightens 0777 and 0701 (others may enter) too', () => {
    for (const m of [0o777, 0o701, 0o710]) {
      const dir = join(tmp, `m${m.toString(8)}`);
      mkdirSync(dir);
      chmodSync(dir, m);
      ensurePrivateDir(dir);
      expect(mode(dir), m.toString(8)).toBe(0o700);
    }
  });

  it('refuses a path that is a file, with a ModuleFailure', () => {
    const file = join(tmp, 'file');
    writeFileSync(file, 'data');
    const e = thrown(() => ensurePrivateDir(file));
    expect(e).toBeInstanceOf(ModuleFailure);
    expect(e.message).toBe(`broker directory ${file} is not a directory`);
    expect(statSync(file).isFile()).toBe(true);
  });

  it('refuses a symlink to a directory and does not touch the target', () => {
    const target = join(tmp, 'target');
    mkdirSync(target);
    chmodSync(target, 0o755);
    const link = join(tmp, 'link');
    symlinkSync(target, link);
    const e = thrown(() => ensurePrivateDir(link));
    expect(e).toBeInstanceOf(ModuleFailure);
    expect(e.message).toContain('is not a directory');
    expect(mode(target)).toBe(0o755);
  });

  it.skipIf(!isRoot)('refuses a directory that belongs to another user, without changing it', () => {
    const dir = join(tmp, 'theirs');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    chownSync(dir, 12345, 12345);
    const e = thrown(() => ensurePrivateDir(dir));
    expect(e).toBeInstanceOf(ModuleFailure);
    expect(e.message).toBe(`broker directory ${dir} belongs to uid 12345, not to you (uid ${uid}); refusing to use it`);
    expect(mode(dir)).toBe(0o755);
  });
});
