/**
 * A stdio server that dies or wedges in ways its pipes hide, or answers with
 * too much data, against the supervised transport and an McpSession on it:
 * real processes, including the hostile test server (tests/helpers/hostile_server.mjs).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { MB } from '../../src/data_limits';
import { McpAuditError } from '../../src/errors';
import { McpSession } from '../../src/mcp/session';
import { StdioServerTransport } from '../../src/mcp/stdio_transport';
import type { ServerDefinition } from '../../src/server_definition';

const HOSTILE = resolve(__dirname, '..', 'helpers', 'hostile_server.mjs');

const transports: StdioServerTransport[] = [];
const sessions: McpSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
  for (const t of transports.splice(0)) await t.close();
});

/** Live processes of a process group (the server and whatever it forked). */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(join('/proc', d, 'stat'), 'utf8');
        const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(pgrp) === pgid && state !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

function sh(script: string): StdioServerTransport {
  const t = new StdioServerTransport({ command: 'sh', args: ['-c', script] });
  transports.push(t);
  return t;
}

/** Resolves with the ms it took for onclose to fire, or rejects after `ms`. */
function closedWithin(t: StdioServerTransport, ms: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`onclose did not fire within ${ms} ms`)), ms);
    t.onclose = () => {
      clearTimeout(timer);
      resolvePromise(Date.now() - started);
    };
  });
}

describe('a dead or wedged server is noticed at once', () => {
  it('the server exits while a child it forked keeps stdout open', async () => {
    const t = sh('sleep 60 & echo bye >&2; exit 5');
    const closed = closedWithin(t, 5000);
    await t.start();
    await closed;
    expect(t.status).toEqual({ code: 5, signal: null });
    expect(t.describeExit()).toBe('exited with code 5');
    expect(t.stderr).toBe('bye\n');
    // The child is still there until close() stops the group.
    expect(groupMembers(t.pid!).length).toBeGreaterThan(0);
    await t.close();
    expect(groupMembers(t.pid!)).toEqual([]);
  });

  it('the server closes its stdout and keeps running', async () => {
    const t = sh('exec 1>&-; exec sleep 60');
    const closed = closedWithin(t, 5000);
    await t.start();
    await closed;
    expect(t.status).toBeUndefined();
    expect(t.describeExit()).toBe('closed its stdout while still running');
    await expect(t.send({ jsonrpc: '2.0', id: 1, method: 'ping' })).rejects.toMatchObject({ kind: 'exited' });
  });

  it('an answer written just before exiting is still delivered', async () => {
    const t = sh('echo \'{"jsonrpc":"2.0","id":1,"result":{}}\'; exit 0');
    const got: unknown[] = [];
    t.onmessage = (m) => got.push(m);
    const closed = closedWithin(t, 5000);
    await t.start();
    await closed;
    expect(got).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
  });
});

describe('McpSession on the hostile server', () => {
  async function open(mode: string, extra: Partial<ServerDefinition> = {}): Promise<McpSession> {
    const s = await McpSession.open({ transport: 'stdio', command: process.execPath, args: [HOSTILE, mode], ...extra }, 10_000);
    sessions.push(s);
    return s;
  }
  const call = (s: McpSession, name: string, args: Record<string, unknown> = {}, timeoutMs = 20_000) =>
    s.request('tools/call', { name, arguments: args }, CallToolResultSchema, timeoutMs);

  it('exit while a forked child holds stdout: the call in flight fails with the exit code and stderr, not a timeout', async () => {
    const s = await open('exit-with-child');
    const started = Date.now();
    const error = await call(s, 'quirk').catch((e) => e);
    expect(error).toBeInstanceOf(McpAuditError);
    expect(error.kind).toBe('exited');
    expect(error.message).toBe('the MCP server exited with code 7 during tools/call. Server stderr (last lines): hostile: exiting with code 7');
    expect(Date.now() - started).toBeLessThan(15_000); // far below the 20 s timeout the call had
    expect(s.closed).toBe(true);
  });

  it('a result over max_result_size fails that request with its size; the session goes on', async () => {
    const s = await open('big', { maxResultBytes: MB });
    for (const id_first of [false, true]) {
      const error = await call(s, 'quirk', { mb: 2, id_first }).catch((e) => e);
      expect(error).toBeInstanceOf(McpAuditError);
      expect(error.message).toBe("tools/call failed: the server's result of 2 MB exceeds max_result_size (1 MB); raise max_result_size if the server really answers that much");
    }
    const small = await call(s, 'quirk', { mb: 0.5 });
    expect((small.content[0] as { text: string }).text).toHaveLength(MB / 2);
    expect(await call(s, 'echo', { message: 'still here' })).toMatchObject({ content: [{ type: 'text', text: 'Echo: still here' }] });
  });

  it('a result nested 5,000 deep fails that request clearly; the session goes on', async () => {
    const s = await open('deep');
    const error = await call(s, 'quirk', { depth: 5000 }).catch((e) => e);
    expect(error).toBeInstanceOf(McpAuditError);
    expect(error.message).toBe("tools/call failed: the server's result nests objects and lists more than 100 levels deep, the most this collection accepts");
    expect(await call(s, 'quirk', { depth: 50 })).toMatchObject({ content: [{ type: 'text', text: 'deep' }] });
  });
});
