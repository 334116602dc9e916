/**
 * The supervised stdio transport (src/mcp/stdio_transport.ts), with real
 * child processes (plain shell commands, no MCP server): spawn errors a user
 * can act on, stderr tail, stdout framing and garbage, exit descriptions, and
 * a close() that stops the whole process group, grandchildren included.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { McpAuditError } from '../../src/errors';
import { CLOSE_GRACE_MS, StdioServerTransport, type StdioServerOptions } from '../../src/mcp/stdio_transport';
import { until } from '../helpers/wait';

let tmp: string;
const transports: StdioServerTransport[] = [];

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mcp-audit-stdio-'));
});

afterEach(async () => {
  for (const t of transports.splice(0)) {
    await t.close();
    const pid = t.pid;
    if (pid) {
      try {
        process.kill(-pid, 'SIGKILL'); // belt and braces: nothing may outlive a test
      } catch {
        /* gone */
      }
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

function transport(options: Partial<StdioServerOptions> & { command: string }): StdioServerTransport {
  const t = new StdioServerTransport({ args: [], ...options });
  transports.push(t);
  return t;
}

const sh = (script: string, extra: Partial<StdioServerOptions> = {}) => transport({ command: 'sh', args: ['-c', script], ...extra });

async function startError(t: StdioServerTransport): Promise<McpAuditError> {
  try {
    await t.start();
  } catch (e) {
    expect(e).toBeInstanceOf(McpAuditError);
    return e as McpAuditError;
  }
  throw new Error('start() resolved, expected a rejection');
}


/** Processes in a process group with their state letter (R, S, Z, ...), from /proc. */
function groupMembers(pgid: number): { pid: number; state: string }[] {
  const out: { pid: number; state: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) out.push({ pid: Number(d), state: f[0] });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}
const living = (pgid: number) => groupMembers(pgid).filter((m) => m.state !== 'Z' && m.state !== 'X');

describe('start()', () => {
  it('resolves once the process runs and exposes its pid', async () => {
    const t = sh('exec sleep 5');
    await t.start();
    expect(t.pid).toBeGreaterThan(0);
    expect(() => process.kill(t.pid!, 0)).not.toThrow();
    expect(t.status).toBeUndefined();
  });

  it('rejects with not_found naming the PATH searched when the command is missing', async () => {
    const t = transport({ command: 'no-such-mcp-server-xyz', parentEnv: { PATH: `${tmp}/bin1:${tmp}/bin2` } });
    const e = await startError(t);
    expect(e.kind).toBe('not_found');
    expect(e.message).toBe(
      `could not start the MCP server: server_command 'no-such-mcp-server-xyz' was not found in PATH (searched: ${tmp}/bin1, ${tmp}/bin2)`,
    );
    expect(e.retryable).toBe(false);
    expect(t.status).toEqual({ code: null, signal: null });
  });

  it('says so when PATH is empty', async () => {
    const e = await startError(transport({ command: 'no-such-mcp-server-xyz', parentEnv: {} }));
    expect(e.kind).toBe('not_found');
    expect(e.message).toContain('was not found in PATH (searched: PATH is empty)');
  });

  it('names the missing file for a command given as a path', async () => {
    const e = await startError(transport({ command: join(tmp, 'bin', 'server') }));
    expect(e.kind).toBe('not_found');
    expect(e.message).toBe(`could not start the MCP server: server_command '${join(tmp, 'bin', 'server')}' does not exist`);
  });

  it('says the #! interpreter is missing when the script itself exists', async () => {
    const file = join(tmp, 'server.js');
    writeFileSync(file, '#!/no/such/interpreter\n');
    chmodSync(file, 0o755);
    const e = await startError(transport({ command: file }));
    expect(e.kind).toBe('not_found');
    expect(e.message).toBe(`could not start the MCP server: server_command '${file}' exists, but the interpreter on its #! line was not found`);
  });

  it('names server_cwd when the working directory does not exist', async () => {
    const cwd = join(tmp, 'no', 'such', 'dir');
    const e = await startError(transport({ command: 'sh', args: ['-c', 'exit 0'], cwd }));
    expect(e.kind).toBe('not_found');
    expect(e.message).toBe(`could not start the MCP server: server_cwd '${cwd}' does not exist`);
  });

  it('says a file that is not executable is not executable', async () => {
    const file = join(tmp, 'server.sh');
    writeFileSync(file, '#!/bin/sh\nexit 0\n');
    chmodSync(file, 0o644);
    const e = await startError(transport({ command: file }));
    expect(e.kind).toBe('not_found');
    expect(e.message).toBe(`could not start the MCP server: server_command '${file}' is not executable (EACCES)`);
  });

  it('runs in the given cwd with env merged over parentEnv', async () => {
    const t = sh('printf "{\\"jsonrpc\\":\\"2.0\\",\\"method\\":\\"%s|%s|%s\\"}\\n" "$FOO" "$KEEP" "$(pwd)"; exec sleep 5', {
      cwd: tmp,
      parentEnv: { PATH: process.env.PATH!, FOO: 'parent', KEEP: 'kept' },
      env: { FOO: 'override' },
    });
    expect(t.env).toEqual({ PATH: process.env.PATH, FOO: 'override', KEEP: 'kept' });
    const got: JSONRPCMessage[] = [];
    t.onmessage = (m) => got.push(m);
    await t.start();
    await until(() => got.length === 1, 5000, 'the message');
    expect(got[0]).toEqual({ jsonrpc: '2.0', method: `override|kept|${tmp}` });
  });

  it('puts the server in its own process group', async () => {
    const t = sh('exec sleep 5');
    await t.start();
    const stat = readFileSync(`/proc/${t.pid}/stat`, 'utf8');
    const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    expect(pgid).toBe(t.pid);
    expect(t.groupAlive()).toBe(true);
  });
});

describe('stderr', () => {
  it('keeps only the last 4 KB', async () => {
    const t = sh(`head -c 8000 /dev/zero | tr '\\0' A >&2; head -c 4000 /dev/zero | tr '\\0' B >&2; printf END >&2`);
    const closed = new Promise<void>((r) => (t.onclose = r));
    await t.start();
    await closed;
    expect(t.stderr).toHaveLength(4096);
    expect(t.stderr).toBe('A'.repeat(93) + 'B'.repeat(4000) + 'END');
  });

  it('keeps a short stderr whole', async () => {
    const t = sh('echo "line 1" >&2; echo "line 2" >&2');
    const closed = new Promise<void>((r) => (t.onclose = r));
    await t.start();
    await closed;
    expect(t.stderr).toBe('line 1\nline 2\n');
  });

  it('is drained, so a server writing lots of stderr is not blocked', async () => {
    // 1 MB is far more than a pipe buffer holds; the server only exits if we read it all.
    const t = sh('head -c 1000000 /dev/zero | tr "\\0" x >&2; exit 7');
    await t.start();
    expect(await t.waitExit(10_000)).toEqual({ code: 7, signal: null });
    expect(t.stderr).toBe('x'.repeat(4096));
  });
});

describe('stdout', () => {
  it('counts a non-JSON line as garbage and delivers the JSON-RPC line to onmessage', async () => {
    const t = sh('echo garbage; echo "{\\"jsonrpc\\":\\"2.0\\",\\"method\\":\\"x\\"}"; sleep 5');
    const got: JSONRPCMessage[] = [];
    t.onmessage = (m) => got.push(m);
    await t.start();
    await until(() => got.length === 1, 5000, 'the message');
    expect(got).toEqual([{ jsonrpc: '2.0', method: 'x' }]);
    expect(t.garbageLines).toBe(1);
    expect(t.lastGarbage).toBe('garbage');
  });

  it('treats JSON that is not JSON-RPC as garbage too, and keeps the last one', async () => {
    const t = sh('echo \'{"hello":1}\'; echo second; echo \'{"jsonrpc":"2.0","id":1,"result":{}}\'; exec sleep 5');
    const got: JSONRPCMessage[] = [];
    t.onmessage = (m) => got.push(m);
    await t.start();
    await until(() => got.length === 1, 5000, 'the message');
    expect(got).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
    expect(t.garbageLines).toBe(2);
    expect(t.lastGarbage).toBe('second');
  });

  it('ignores blank lines and CRLF line ends', async () => {
    const t = sh('printf \'\\n  \\n{"jsonrpc":"2.0","method":"a"}\\r\\n\\r\\n{"jsonrpc":"2.0","method":"b"}\\n\'; exec sleep 5');
    const got: JSONRPCMessage[] = [];
    t.onmessage = (m) => got.push(m);
    await t.start();
    await until(() => got.length === 2, 5000, 'two messages');
    expect(got.map((m: any) => m.method)).toEqual(['a', 'b']);
    expect(t.garbageLines).toBe(0);
    expect(t.lastGarbage).toBeUndefined();
  });

  it('joins a message split across writes', async () => {
    const t = sh('printf \'{"jsonrpc":"2.0",\'; sleep 0.3; printf \'"method":"split"}\\n\'; exec sleep 5');
    const got: JSONRPCMessage[] = [];
    t.onmessage = (m) => got.push(m);
    await t.start();
    await until(() => got.length === 1, 5000, 'the message');
    expect(got).toEqual([{ jsonrpc: '2.0', method: 'split' }]);
    expect(t.garbageLines).toBe(0);
  });

  it('keeps only the first 200 characters of a garbage line', async () => {
    const t = sh('head -c 1000 /dev/zero | tr "\\0" g; echo');
    const closed = new Promise<void>((r) => (t.onclose = r));
    await t.start();
    await closed;
    expect(t.garbageLines).toBe(1);
    expect(t.lastGarbage).toBe('g'.repeat(200));
  });
});

describe('send()', () => {
  it('writes newline-delimited JSON-RPC to the server stdin', async () => {
    const t = transport({ command: 'cat' }); // echoes what it reads
    const got: JSONRPCMessage[] = [];
    t.onmessage = (m) => got.push(m);
    await t.start();
    await t.send({ jsonrpc: '2.0', id: 7, method: 'ping' });
    await t.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await until(() => got.length === 2, 5000, 'the echoes');
    expect(got).toEqual([
      { jsonrpc: '2.0', id: 7, method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
    ]);
  });

  it('rejects with kind exited after the server exited', async () => {
    const t = sh('exit 0');
    await t.start();
    await t.waitExit(5000);
    const e = await t.send({ jsonrpc: '2.0', id: 1, method: 'ping' }).then(
      () => undefined,
      (err) => err,
    );
    expect(e).toBeInstanceOf(McpAuditError);
    expect(e.kind).toBe('exited');
    expect(e.message).toBe('the MCP server is not running');
  });

  it('rejects with kind exited before start()', async () => {
    const t = sh('exit 0');
    await expect(t.send({ jsonrpc: '2.0', id: 1, method: 'ping' })).rejects.toMatchObject({ kind: 'exited' });
  });

  it('rejects with kind exited after close()', async () => {
    const t = transport({ command: 'cat' });
    await t.start();
    await t.close();
    await expect(t.send({ jsonrpc: '2.0', id: 1, method: 'ping' })).rejects.toMatchObject({ kind: 'exited' });
  });
});

describe('exit status', () => {
  it('describes a server that has not exited as having closed its stdout', async () => {
    const t = sh('exec sleep 5');
    await t.start();
    expect(t.describeExit()).toBe('closed its stdout');
  });

  it('describes an exit code', async () => {
    const t = sh('exit 3');
    await t.start();
    expect(await t.waitExit(5000)).toEqual({ code: 3, signal: null });
    expect(t.status).toEqual({ code: 3, signal: null });
    expect(t.describeExit()).toBe('exited with code 3');
  });

  it('describes exit code 0', async () => {
    const t = sh('exit 0');
    await t.start();
    await t.waitExit(5000);
    expect(t.describeExit()).toBe('exited with code 0');
  });

  it('describes a signal', async () => {
    const t = sh('kill -KILL $$');
    await t.start();
    expect(await t.waitExit(5000)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(t.describeExit()).toBe('was killed by SIGKILL');
  });

  it('waitExit gives up after the given time while the server runs', async () => {
    const t = sh('exec sleep 5');
    await t.start();
    const started = Date.now();
    expect(await t.waitExit(100)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('calls onclose once the server is gone and its pipes are closed', async () => {
    const t = sh('exit 0');
    let closes = 0;
    t.onclose = () => closes++;
    await t.start();
    await until(() => closes === 1, 5000, 'onclose');
  });
});

describe('close()', () => {
  it('lets a server that exits when stdin closes go politely', async () => {
    const t = transport({ command: 'cat' });
    await t.start();
    // A generous grace period, so a loaded machine cannot turn this into a SIGTERM.
    const saved = CLOSE_GRACE_MS.stdin;
    CLOSE_GRACE_MS.stdin = 10_000;
    const started = Date.now();
    try {
      await t.close();
    } finally {
      CLOSE_GRACE_MS.stdin = saved;
    }
    expect(Date.now() - started).toBeLessThan(5000);
    // cat exits by itself on EOF: no signal needed.
    expect(t.status).toEqual({ code: 0, signal: null });
    expect(t.describeExit()).toBe('exited with code 0');
  });

  it('kills the whole process group, including a grandchild that ignores stdin, within a few seconds', async () => {
    const t = sh('sleep 300 & sleep 300');
    await t.start();
    const pgid = t.pid!;
    await until(() => living(pgid).length === 3, 5000, 'sh and both sleeps');
    const started = Date.now();
    await t.close();
    // Worst case by design: 0.5 s (stdin) + 2 s (SIGTERM) + 1 s (SIGKILL) + 2 s for leftovers.
    expect(Date.now() - started).toBeLessThan(7000);
    // No member of the group runs any more (killed orphans may linger a moment as zombies until init reaps them).
    expect(living(pgid)).toEqual([]);
    expect(t.status?.signal).toBe('SIGTERM');
    await until(() => !t.groupAlive(), 5000, 'the group to be gone');
    expect(t.groupAlive()).toBe(false);
  });

  it('kills leftovers of a wrapper that already exited', async () => {
    const t = sh('sleep 300 & exit 0');
    await t.start();
    const pgid = t.pid!;
    expect(await t.waitExit(5000)).toEqual({ code: 0, signal: null });
    await until(() => living(pgid).length === 1, 5000, 'the orphaned sleep');
    expect(t.groupAlive()).toBe(true);
    await t.close();
    expect(living(pgid)).toEqual([]);
    await until(() => !t.groupAlive(), 5000, 'the group to be gone');
  });

  it('escalates to SIGKILL for a server that ignores SIGTERM', async () => {
    const t = sh("trap '' TERM; while :; do sleep 0.05; done");
    await t.start();
    const pgid = t.pid!;
    const started = Date.now();
    await t.close();
    const took = Date.now() - started;
    expect(t.status).toEqual({ code: null, signal: 'SIGKILL' });
    expect(took).toBeGreaterThanOrEqual(2000); // it waited for SIGTERM first
    expect(took).toBeLessThan(8000);
    expect(living(pgid)).toEqual([]);
  });

  it('is a no-op before start() and safe to call twice', async () => {
    const t = sh('exec sleep 5');
    await t.close();
    await t.start();
    await t.close();
    await t.close();
    expect(t.groupAlive()).toBe(false);
  });
});
