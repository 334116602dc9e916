/**
 * What defines one MCP server session (src/server_definition.ts): built from
 * task options, hashed into the pool key, described without secrets.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeServer, poolKey, serverFromParams, settingsFromParams, type ServerDefinition } from '../../src/server_definition';
import { McpAuditError } from '../../src/errors';

const SECRET = 'sk-live-Zq9x7SECRET';

describe('serverFromParams', () => {
  describe('stdio', () => {
    it('splits a server_command with spaces when server_args is empty', () => {
      const def = serverFromParams({ transport: 'stdio', server_command: 'npx -y @modelcontextprotocol/server-everything', server_args: [] });
      expect(def).toMatchObject({ transport: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-everything'] });
      expect(def.url).toBeUndefined();
      expect(def.headers).toBeUndefined();
    });

    it('runs an existing file whose path has spaces as that file, relative paths from server_cwd', () => {
      const dir = mkdtempSync(join(tmpdir(), 'mcp audit def '));
      try {
        writeFileSync(join(dir, 'server.sh'), '#!/bin/sh\n');
        expect(serverFromParams({ transport: 'stdio', server_command: join(dir, 'server.sh'), server_args: [] })).toMatchObject({ command: join(dir, 'server.sh'), args: [] });
        mkdirSync(join(dir, 'sub dir'));
        writeFileSync(join(dir, 'sub dir', 'run'), '#!/bin/sh\n');
        expect(serverFromParams({ transport: 'stdio', server_command: 'sub dir/run', server_cwd: dir })).toMatchObject({ command: 'sub dir/run', args: [], cwd: dir });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('keeps the command whole when server_args are given', () => {
      const def = serverFromParams({ transport: 'stdio', server_command: '/opt/my server/run', server_args: ['--port', '1'] });
      expect(def).toMatchObject({ command: '/opt/my server/run', args: ['--port', '1'] });
    });

    it('converts env values to strings (numbers, booleans, null)', () => {
      const def = serverFromParams({ transport: 'stdio', server_command: 'node', server_env: { PORT: 8080, DEBUG: true, QUIET: false, EMPTY: null, NAME: 'x' } });
      expect(def.env).toEqual({ PORT: '8080', DEBUG: 'true', QUIET: 'false', EMPTY: '', NAME: 'x' });
    });

    it('rejects a dict or list env value with a usage error naming it', () => {
      expect(() => serverFromParams({ transport: 'stdio', server_command: 'node', server_env: { OPTS: { a: 1 } } })).toThrow(
        new McpAuditError('usage', 'server_env.OPTS must be a string, not a dict'),
      );
      try {
        serverFromParams({ transport: 'stdio', server_command: 'node', server_env: { LIST: [1] } });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(McpAuditError);
        expect((e as McpAuditError).kind).toBe('usage');
        expect((e as McpAuditError).message).toBe('server_env.LIST must be a string, not a list');
      }
    });

    it('leaves env undefined and uses the task\'s working directory when not given', () => {
      const def = serverFromParams({ transport: 'stdio', server_command: 'node', server_env: null, server_cwd: null });
      expect(def.env).toBeUndefined();
      expect(def.cwd).toBe(process.cwd());
    });

    it('keeps server_cwd', () => {
      expect(serverFromParams({ transport: 'stdio', server_command: 'node', server_cwd: '/srv' }).cwd).toBe('/srv');
    });

    it('rejects shell operators in server_command', () => {
      expect(() => serverFromParams({ transport: 'stdio', server_command: 'a | b' })).toThrow(McpAuditError);
    });
  });

  describe('http and sse', () => {
    it('maps streamable_http to http', () => {
      const def = serverFromParams({ transport: 'streamable_http', server_url: 'https://h.example/mcp' });
      expect(def.transport).toBe('http');
      expect(def.url).toBe('https://h.example/mcp');
      expect(def.command).toBeUndefined();
    });

    it('keeps sse', () => {
      expect(serverFromParams({ transport: 'sse', server_url: 'http://h/sse' }).transport).toBe('sse');
    });

    it('converts header values to strings', () => {
      const def = serverFromParams({ transport: 'http', server_url: 'http://h/mcp', server_headers: { 'X-Retries': 3, 'X-Flag': true } });
      expect(def.headers).toEqual({ 'X-Retries': '3', 'X-Flag': 'true' });
    });

    it('turns a bearer token into an Authorization header', () => {
      const def = serverFromParams({ transport: 'http', server_url: 'http://h/mcp', bearer_token: SECRET, server_headers: { 'X-Other': 'o' } });
      expect(def.headers).toEqual({ 'X-Other': 'o', Authorization: `Bearer ${SECRET}` });
    });

    it('keeps an Authorization header that is given, in any case', () => {
      const def = serverFromParams({ transport: 'http', server_url: 'http://h/mcp', bearer_token: 'ignored', server_headers: { authorization: 'Basic abc' } });
      expect(def.headers).toEqual({ authorization: 'Basic abc' });
    });

    it('defaults validateCerts to true and passes ca_path', () => {
      expect(serverFromParams({ transport: 'http', server_url: 'http://h/mcp' })).toMatchObject({ validateCerts: true, headers: {} });
      expect(serverFromParams({ transport: 'http', server_url: 'http://h/mcp', validate_certs: false, ca_path: '/ca.pem' })).toMatchObject({
        validateCerts: false,
        caPath: '/ca.pem',
      });
    });

    it('rejects a dict header value', () => {
      expect(() => serverFromParams({ transport: 'sse', server_url: 'http://h/sse', server_headers: { X: { y: 1 } } })).toThrow('server_headers.X must be a string, not a dict');
    });
  });
});

describe('settingsFromParams', () => {
  it('uses the documented defaults', () => {
    expect(settingsFromParams({})).toEqual({ timeoutMs: 30_000, reuse: true, idleTimeoutMs: 300_000, maxRetries: 3 });
  });

  it('converts seconds to milliseconds', () => {
    expect(settingsFromParams({ timeout: 5, connection_timeout: 60, max_connection_retries: 1, connection_reuse: false })).toEqual({
      timeoutMs: 5000,
      reuse: false,
      idleTimeoutMs: 60_000,
      maxRetries: 1,
    });
  });

  it('treats null as the default and only false as no reuse', () => {
    expect(settingsFromParams({ timeout: null, connection_reuse: null, connection_timeout: null, max_connection_retries: null })).toEqual(settingsFromParams({}));
  });

  it('keeps connection_timeout 0 (close once no task uses the connection)', () => {
    expect(settingsFromParams({ connection_timeout: 0 })).toMatchObject({ idleTimeoutMs: 0 });
  });

  it('clamps what validation would have refused: timeouts at least 1 s, idle time and retries at least 0', () => {
    expect(settingsFromParams({ timeout: 0, connection_timeout: -5, max_connection_retries: -1 })).toMatchObject({ timeoutMs: 1000, idleTimeoutMs: 0, maxRetries: 0 });
  });
});

describe('poolKey', () => {
  const base: ServerDefinition = { transport: 'stdio', command: 'node', args: ['server.js'], env: { TOKEN: 'a', MODE: 'x' }, cwd: '/srv' };

  it('is a sha256 hex digest', () => {
    expect(poolKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable regardless of key order, at every level', () => {
    const reordered: ServerDefinition = { cwd: '/srv', env: { MODE: 'x', TOKEN: 'a' }, args: ['server.js'], command: 'node', transport: 'stdio' };
    expect(poolKey(reordered)).toBe(poolKey(base));
  });

  it('ignores undefined fields', () => {
    expect(poolKey({ ...base, url: undefined, headers: undefined })).toBe(poolKey(base));
  });

  it('is the same for the same task options', () => {
    const p = { transport: 'stdio', server_command: 'npx -y server', server_env: { TOKEN: SECRET } };
    expect(poolKey(serverFromParams(p))).toBe(poolKey(serverFromParams({ ...p, server_env: { TOKEN: SECRET } })));
  });

  it('differs when only an env secret differs', () => {
    expect(poolKey({ ...base, env: { TOKEN: 'b', MODE: 'x' } })).not.toBe(poolKey(base));
    const p = { transport: 'stdio', server_command: 'npx -y server' };
    expect(poolKey(serverFromParams({ ...p, server_env: { TOKEN: 'one' } }))).not.toBe(poolKey(serverFromParams({ ...p, server_env: { TOKEN: 'two' } })));
  });

  it('differs when only a header value differs', () => {
    const p = { transport: 'http', server_url: 'https://h/mcp' };
    const a = serverFromParams({ ...p, server_headers: { 'X-Api-Key': 'key-1' } });
    const b = serverFromParams({ ...p, server_headers: { 'X-Api-Key': 'key-2' } });
    expect(poolKey(a)).not.toBe(poolKey(b));
    expect(poolKey(serverFromParams({ ...p, bearer_token: 't1' }))).not.toBe(poolKey(serverFromParams({ ...p, bearer_token: 't2' })));
  });

  it('differs for args order, cwd, transport and capabilities', () => {
    expect(poolKey({ ...base, args: ['b', 'a'] })).not.toBe(poolKey({ ...base, args: ['a', 'b'] }));
    expect(poolKey({ ...base, cwd: '/other' })).not.toBe(poolKey(base));
    expect(poolKey({ ...base, capabilities: { roots: {} } })).not.toBe(poolKey(base));
    expect(poolKey({ transport: 'sse', url: 'http://h/x' })).not.toBe(poolKey({ transport: 'http', url: 'http://h/x' }));
  });

  it('does not confuse a value with a key/value boundary', () => {
    expect(poolKey({ ...base, env: { A: 'b,"C":"d' } })).not.toBe(poolKey({ ...base, env: { A: 'b', C: 'd' } }));
  });
});

describe('describeServer', () => {
  it('describes a stdio server with env names only', () => {
    const def = serverFromParams({ transport: 'stdio', server_command: 'npx -y server', server_env: { TOKEN: SECRET, B_KEY: `x${SECRET}x` }, server_cwd: '/srv' });
    const d = describeServer(def);
    expect(d).toEqual({ transport: 'stdio', command: 'npx -y server', env_keys: ['B_KEY', 'TOKEN'], cwd: '/srv' });
    expect(JSON.stringify(d)).not.toContain(SECRET);
  });

  it('never shows the values of the task environment a stdio server inherits', () => {
    process.env.MCP_AUDIT_UNIT_SECRET = SECRET;
    try {
      const d = describeServer(serverFromParams({ transport: 'stdio', server_command: 'node server.js' }));
      expect(JSON.stringify(d)).not.toContain(SECRET);
    } finally {
      delete process.env.MCP_AUDIT_UNIT_SECRET;
    }
  });

  it('omits cwd when not set', () => {
    expect(describeServer({ transport: 'stdio', command: 'node', args: [] })).toEqual({ transport: 'stdio', command: 'node', env_keys: [] });
  });

  it('describes an http server with header names only, no credentials or query in the URL', () => {
    const def = serverFromParams({
      transport: 'http',
      server_url: `https://user:${SECRET}@mcp.example.com:8443/mcp?api_key=${SECRET}#${SECRET}`,
      server_headers: { 'X-Api-Key': SECRET },
      bearer_token: SECRET,
    });
    const d = describeServer(def);
    expect(JSON.stringify(d)).not.toContain(SECRET);
    expect(d).toEqual({ transport: 'http', url: 'https://mcp.example.com:8443/mcp?…', header_names: ['Authorization', 'X-Api-Key'] });
  });

  it('leaves a URL without a query as it is', () => {
    expect(describeServer({ transport: 'sse', url: 'http://localhost:3001/sse', headers: {} })).toEqual({ transport: 'sse', url: 'http://localhost:3001/sse', header_names: [] });
  });
});
