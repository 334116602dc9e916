/**
 * Secrets at every cut point (src/secrets.ts and its users): mask first, then
 * cut, then mask the fragment a cut left at a window's edge. Each cut point
 * gets a secret planted at every offset around its boundary, with real
 * processes (the stdio transport's 4 KB stderr tail and 200-character
 * garbage excerpt) and a real HTTP server (the 500-character excerpt of an
 * LLM API's error body).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postJson } from '../../src/llm/http';
import { StdioServerTransport } from '../../src/mcp/stdio_transport';
import { excerpt, MASK, maskEdges, maskText, MIN_FRAGMENT } from '../../src/secrets';

const SECRET = 'S3cr3t-T0k3n-9f2a7c41';

/** Pieces of the secret (MIN_FRAGMENT characters or more) that show in `text`. */
function leaked(text: string, secret = SECRET): string[] {
  const found = new Set<string>();
  for (let i = 0; i + MIN_FRAGMENT <= secret.length; i++) {
    const piece = secret.slice(i, i + MIN_FRAGMENT);
    if (text.includes(piece)) found.add(piece);
  }
  return [...found];
}

/** Offsets that put the secret across a boundary at `edge`: wholly before it, straddling it at each character, wholly after it. */
const around = (edge: number, secret = SECRET) => Array.from({ length: secret.length + 5 }, (_, i) => edge - secret.length - 2 + i);

describe('maskText and maskEdges', () => {
  it('masks every occurrence, the longest secret first', () => {
    expect(maskText('a=abcdef b=abc', ['abc', 'abcdef'])).toBe(`a=${MASK} b=${MASK}`);
    expect(maskText('nothing here', ['abcdef', ''])).toBe('nothing here');
  });

  it('masks a suffix at a cut start and a prefix at a cut end, only where there was a cut', () => {
    expect(maskEdges('3n-9f2a7c41 and more', [SECRET], { start: true })).toBe(`${MASK} and more`);
    expect(maskEdges('text then S3cr3t-T0', [SECRET], { end: true })).toBe(`text then ${MASK}`);
    expect(maskEdges('3n-9f2a7c41 and more', [SECRET], { end: true })).toBe('3n-9f2a7c41 and more');
  });

  it('leaves fragments shorter than MIN_FRAGMENT and text that is no fragment alone', () => {
    expect(maskEdges('c41 rest', [SECRET], { start: true, end: true })).toBe('c41 rest');
    expect(maskEdges('plain words', [SECRET], { start: true, end: true })).toBe('plain words');
  });
});

describe('excerpt', () => {
  it.each(around(200))('head of 200 characters, secret at offset %i: no fragment survives', (offset) => {
    const text = 'x'.repeat(offset) + SECRET + 'y'.repeat(300);
    const out = excerpt(text, [SECRET], { keep: 'head', chars: 200 });
    expect(leaked(out), out).toEqual([]);
    expect(out.length).toBeLessThanOrEqual(200 + MASK.length);
  });

  it.each(around(4096))('tail of 4096 characters, secret ending %i characters from the end: no fragment survives', (fromEnd) => {
    const text = 'x'.repeat(5000) + SECRET + 'y'.repeat(Math.max(0, fromEnd));
    const out = excerpt(text, [SECRET], { keep: 'tail', chars: 4096 });
    expect(leaked(out), out.slice(0, 80)).toEqual([]);
  });

  it('a window that was already cut (a rolling tail) is masked at that edge too', () => {
    const rolled = SECRET.slice(7) + ' then the rest';
    expect(excerpt(rolled, [SECRET], { keep: 'tail', cutStart: true })).toBe(`${MASK} then the rest`);
    expect(excerpt(rolled, [SECRET], { keep: 'tail' })).toBe(rolled);
  });

  it('last lines: a multi-line secret cut between its lines is masked', () => {
    const pem = 'KEY-LINE-ONE-abcdef\nKEY-LINE-TWO-ghijkl';
    const text = ['a', 'b', 'c', pem, 'd'].join('\n');
    const out = excerpt(text.replace(pem, pem), [pem], { keep: 'tail', lines: 2 });
    expect(out).toBe(`${MASK}\nd`);
  });
});

describe('stdio transport', () => {
  const transports: StdioServerTransport[] = [];
  afterEach(async () => {
    for (const t of transports.splice(0)) await t.close();
  });

  /** A real process printing `script` (JS) with the secret in its environment; resolves once it is gone. */
  async function run(script: string): Promise<StdioServerTransport> {
    const t = new StdioServerTransport({ command: process.execPath, args: ['-e', script], env: { PLANTED: SECRET }, secrets: [SECRET] });
    transports.push(t);
    const gone = new Promise<void>((r) => (t.onclose = r));
    await t.start();
    await gone;
    return t;
  }

  it('stderr tail (4 KB): a secret at each offset around the start of the window never shows', async () => {
    for (const after of around(4096)) {
      const t = await run(`process.stderr.write('x'.repeat(6000) + process.env.PLANTED + 'y'.repeat(${Math.max(0, after)}))`);
      expect(t.stderr.length, `offset ${after}`).toBeGreaterThan(4000);
      for (const window of [t.stderr, t.stderrTail(15), t.stderrTail(30)]) expect(leaked(window), `offset ${after}: ${window.slice(0, 60)}`).toEqual([]);
    }
  });

  it('stderr tail: a secret split over two writes is masked whole', async () => {
    const t = await run(`process.stderr.write('token=' + process.env.PLANTED.slice(0, 9)); setTimeout(() => process.stderr.write(process.env.PLANTED.slice(9) + ' end'), 50)`);
    expect(t.stderr).toBe(`token=${MASK} end`);
  });

  it('garbage excerpt (200 characters): a secret at each offset around the cut never shows', async () => {
    for (const offset of around(200)) {
      const t = await run(`process.stdout.write('g'.repeat(${Math.max(0, offset)}) + process.env.PLANTED + 'h'.repeat(300) + '\\n')`);
      expect(t.garbageLines).toBe(1);
      expect(leaked(t.lastGarbage!), `offset ${offset}: ${t.lastGarbage}`).toEqual([]);
    }
  });
});

describe('LLM API error excerpt (500 characters)', () => {
  let server: Server;
  let url: string;
  let body = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(401, { 'content-type': 'application/json' }).end(body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('an API that echoes the key at each offset around the cut never shows a piece of it', async () => {
    for (const offset of around(500)) {
      body = JSON.stringify({ error: { message: 'k'.repeat(Math.max(0, offset)) + SECRET + ' was refused'.repeat(60) } });
      const error = await postJson({ api: 'openai', url, headers: {}, body: {}, timeoutMs: 5000, secrets: [SECRET] }).catch((e) => e);
      expect(error.message).toMatch(/^the openai API answered HTTP 401/);
      expect(leaked(error.message), `offset ${offset}: ${error.message.slice(-80)}`).toEqual([]);
    }
  });
});
