/**
 * Limits on data (src/data_limits.ts, src/lines.ts): line framing that keeps
 * lines whole and drops an oversized one with its size and edges, the id of a
 * dropped answer, the nesting limit for options and results, and a broker
 * socket that answers every request even when its answer cannot be serialized.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveSocket } from '../../broker/server';
import { validateArguments } from '../../src/ansible/validate';
import { PROTOCOL_VERSION } from '../../src/broker_protocol';
import { MAX_NESTING, MB, nestedDeeperThan, resultTooLarge } from '../../src/data_limits';
import { LineReader, type OversizedLine } from '../../src/lines';
import { serverFromParams } from '../../src/server_definition';
import { responseId } from '../../src/mcp/stdio_transport';
import { VERSION } from '../../src/version';

/** {"a":{"a":...}} with `depth` levels of objects, built without recursion. */
const nested = (depth: number): unknown => JSON.parse('{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1));

function reader(maxBytes: number) {
  const lines: string[] = [];
  const oversized: OversizedLine[] = [];
  const r = new LineReader(maxBytes, (l) => lines.push(l), (o) => oversized.push(o));
  return { r, lines, oversized };
}

describe('LineReader', () => {
  it('joins lines split over chunks and splits chunks holding several lines', () => {
    const { r, lines } = reader(1000);
    r.push(Buffer.from('{"a":'));
    r.push(Buffer.from('1}\n{"b":2}\n{"c"'));
    r.push(Buffer.from(':3}\n'));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('keeps a multi-byte character split between two chunks intact', () => {
    const { r, lines } = reader(1000);
    const bytes = Buffer.from('"héllo ✓"\n');
    r.push(bytes.subarray(0, 3)); // inside "é"
    r.push(bytes.subarray(3, 10)); // inside "✓"
    r.push(bytes.subarray(10));
    expect(lines).toEqual(['"héllo ✓"']);
  });

  it('drops a line over the limit, reporting its size, head and tail, and reads the next line normally', () => {
    const { r, lines, oversized } = reader(1024);
    r.push(Buffer.from('{"result":"' + 'y'.repeat(600)));
    for (let i = 0; i < 10; i++) r.push(Buffer.from('y'.repeat(500)));
    r.push(Buffer.from('"},"jsonrpc":"2.0","id":7}\n{"jsonrpc":"2.0","id":8,"result":{}}\n'));
    expect(oversized).toHaveLength(1);
    expect(oversized[0].bytes).toBe('{"result":"'.length + 600 + 5000 + '"},"jsonrpc":"2.0","id":7}'.length);
    expect(oversized[0].head.startsWith('{"result":"yyy')).toBe(true);
    expect(oversized[0].tail.endsWith('"jsonrpc":"2.0","id":7}')).toBe(true);
    expect(lines).toEqual(['{"jsonrpc":"2.0","id":8,"result":{}}']);
  });

  it('a line of exactly the limit is kept', () => {
    const { r, lines, oversized } = reader(10);
    r.push(Buffer.from('0123456789\n'));
    expect(lines).toEqual(['0123456789']);
    expect(oversized).toEqual([]);
  });
});

describe('responseId', () => {
  it('finds the id first (Python, Go, Rust SDKs) or last (TypeScript SDK)', () => {
    expect(responseId({ head: '{"jsonrpc":"2.0","id":12,"result":{"content":[', tail: 'yyy"}]}}' })).toBe(12);
    expect(responseId({ head: '{"id":"req-1","jsonrpc":"2.0","result":', tail: 'x' })).toBe('req-1');
    expect(responseId({ head: '{"result":{"content":[{"type":"text","text":"yy', tail: 'yy"}]},"jsonrpc":"2.0","id":5}' })).toBe(5);
  });

  it('does not take an "id" nested inside the result for the answer\'s', () => {
    expect(responseId({ head: '{"result":{"id":3,"rows":[', tail: '{"id":4}]}}' })).toBeUndefined();
  });
});

describe('nesting limit', () => {
  it(`accepts ${MAX_NESTING} levels and refuses one more, without overflowing on 100,000`, () => {
    expect(nestedDeeperThan(nested(MAX_NESTING), MAX_NESTING)).toBe(false);
    expect(nestedDeeperThan(nested(MAX_NESTING + 1), MAX_NESTING)).toBe(true);
    expect(nestedDeeperThan([[['x']]], 3)).toBe(false);
    expect(nestedDeeperThan([[[[]]]], 3)).toBe(true);
    expect(nestedDeeperThan('text', 0)).toBe(false);
    expect(nestedDeeperThan(nested(100_000), MAX_NESTING)).toBe(true);
  });

  it('an option nested 100,000 deep is a validation error and is left out of the params (never echoed)', () => {
    const rules = { options: { tool_arguments: { description: 'args', type: 'dict' as const, default: {} }, name: { description: 'a name', type: 'str' as const } } };
    const checked = validateArguments(rules, { tool_arguments: nested(100_000) as Record<string, unknown>, name: 'x' }, 'mcp_test_tool');
    expect(checked.errors).toEqual([`argument 'tool_arguments' nests dicts and lists more than ${MAX_NESTING} levels deep, the most this collection accepts`]);
    expect(checked.params.tool_arguments).toEqual({});
    expect(checked.params.name).toBe('x');
  });

  it('a dict option given as a JSON string is checked once converted (ansible-core >= 2.19 leaves templated strings as strings)', () => {
    const rules = { options: { tool_arguments: { description: 'args', type: 'dict' as const, default: {} } } };
    const checked = validateArguments(rules, { tool_arguments: JSON.stringify(nested(MAX_NESTING + 50)) }, 'mcp_test_tool');
    expect(checked.errors).toEqual([`argument 'tool_arguments' nests dicts and lists more than ${MAX_NESTING} levels deep, the most this collection accepts`]);
    expect(checked.params.tool_arguments).toEqual({});
  });

  it('an unknown option nested too deep is refused the same way', () => {
    const checked = validateArguments({ options: {} }, { bogus: [nested(MAX_NESTING)] }, 'm');
    expect(checked.errors[0]).toMatch(/^argument 'bogus' nests dicts and lists more than/);
    expect(checked.params).toEqual({});
  });
});

describe('max_result_size', () => {
  it('is part of the server definition, in bytes, 64 MB unless set', () => {
    expect(serverFromParams({ transport: 'stdio', server_command: 'srv' }).maxResultBytes).toBe(64 * MB);
    expect(serverFromParams({ transport: 'http', server_url: 'http://127.0.0.1:1/mcp', max_result_size: 2 }).maxResultBytes).toBe(2 * MB);
  });

  it.each([0, -1, 513])('refuses %s with the range', (mb) => {
    expect(() => serverFromParams({ transport: 'stdio', server_command: 'srv', max_result_size: mb })).toThrow(`max_result_size must be between 1 and 512 (MB), got ${mb}`);
  });
});

describe('resultTooLarge', () => {
  it('says how large the result was and the limit', () => {
    expect(resultTooLarge(64 * MB, 100 * MB, 'tools/call').message).toBe(
      "tools/call failed: the server's result of 100 MB exceeds max_result_size (64 MB); raise max_result_size if the server really answers that much",
    );
    expect(resultTooLarge(MB, undefined).message).toMatch(/^the server's result of more than 1 MB exceeds max_result_size \(1 MB\)/);
  });
});

describe('broker socket', () => {
  it('answers a request whose result cannot be serialized with an error instead of silence', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-reply-'));
    const path = join(dir, 's.sock');
    const server = serveSocket(async (method) => (method === 'status' ? nested(20_000) : { fine: true }), () => undefined);
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const ask = (method: string) =>
        new Promise<any>((resolve, reject) => {
          const socket = connect(path);
          let buffer = '';
          socket.setEncoding('utf8');
          socket.on('data', (c: string) => {
            buffer += c;
            if (buffer.includes('\n')) {
              socket.destroy();
              resolve(JSON.parse(buffer));
            }
          });
          socket.on('error', reject);
          setTimeout(() => reject(new Error(`no reply to ${method} within 5 s`)), 5000);
          socket.write(JSON.stringify({ id: 1, protocol: PROTOCOL_VERSION, runtime: VERSION, method, params: {} }) + '\n');
        });
      const deep = await ask('status');
      expect(deep).toMatchObject({ id: 1, ok: false, error: { kind: 'internal' } });
      expect(deep.error.message).toMatch(/^internal broker error: the answer could not be sent: /);
      expect(await ask('ping')).toEqual({ id: 1, ok: true, result: { fine: true } });
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
