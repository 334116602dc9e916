/**
 * Resource-read verdicts (src/checks/resource.ts), shared by
 * mcp_test_resource and mcp_test_suite. Results go through the SDK's
 * ReadResourceResultSchema so they are real resources/read answers.
 */
import { ReadResourceResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { judgeResource, reportContents, serverContents } from '../../src/checks/resource';

const URI = 'file:///data/readme.md';
const read = (...contents: Record<string, unknown>[]) => ReadResourceResultSchema.parse({ contents }) as Record<string, any>;
const text = (t: string, mimeType: string | null = 'text/plain', uri = URI) => ({ uri, text: t, ...(mimeType ? { mimeType } : {}) });
const blob = (bytes: Buffer, mimeType: string | null = 'image/png', uri = 'file:///data/logo.png') => ({
  uri,
  blob: bytes.toString('base64'),
  ...(mimeType ? { mimeType } : {}),
});

/** 1000 distinct-ish bytes, so the base64 is long and recognizable. */
const PNG = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) % 256));

describe('serverContents (1.1.x resource_content.contents)', () => {
  it('keeps MCP\'s field names for text contents', () => {
    expect(serverContents(read(text('hello', 'text/markdown')), false)).toEqual([{ uri: URI, mimeType: 'text/markdown', text: 'hello' }]);
  });

  it('replaces a blob by its decoded size unless blobs are asked for', () => {
    const result = read(blob(PNG), text('x'));
    expect(serverContents(result, false)).toEqual([{ uri: 'file:///data/logo.png', mimeType: 'image/png', blob_size: 1000 }, { uri: URI, mimeType: 'text/plain', text: 'x' }]);
    expect(serverContents(result, true)[0]).toEqual({ uri: 'file:///data/logo.png', mimeType: 'image/png', blob: PNG.toString('base64') });
  });

  it('is empty for a result without contents', () => {
    expect(serverContents({}, true)).toEqual([]);
  });
});

describe('reportContents', () => {
  it('reports text contents with uri, mime type and text', () => {
    expect(reportContents(read(text('hello')))).toEqual([{ uri: URI, mime_type: 'text/plain', text: 'hello' }]);
  });

  it('reports a missing mimeType as null', () => {
    expect(reportContents(read(text('x', null)))).toEqual([{ uri: URI, mime_type: null, text: 'x' }]);
  });

  it('reports a blob by its decoded size in bytes and its type, never the base64', () => {
    const r = read(blob(PNG));
    const report = reportContents(r);
    expect(report).toEqual([{ uri: 'file:///data/logo.png', mime_type: 'image/png', blob_size: 1000 }]);
    expect(report[0]).not.toHaveProperty('text');
    expect(JSON.stringify(report)).not.toContain(r.contents[0].blob);
  });

  it('counts bytes correctly whatever the base64 padding', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 255, 256, 257]) {
      expect(reportContents(read(blob(Buffer.alloc(n, 0xff))))[0].blob_size).toBe(n);
    }
  });

  it('keeps the order of mixed text and blob contents', () => {
    const report = reportContents(read(text('a'), blob(Buffer.from('xyz')), text('b', 'text/markdown', 'file:///b')));
    expect(report).toEqual([
      { uri: URI, mime_type: 'text/plain', text: 'a' },
      { uri: 'file:///data/logo.png', mime_type: 'image/png', blob_size: 3 },
      { uri: 'file:///b', mime_type: 'text/markdown', text: 'b' },
    ]);
  });

  it('is empty for a result without contents', () => {
    expect(reportContents({})).toEqual([]);
    expect(reportContents(read())).toEqual([]);
  });
});

describe('judgeResource', () => {
  describe('no expectations', () => {
    it('passes for any non-empty contents, with no msg', () => {
      const v = judgeResource(URI, read(text('anything')), {});
      expect(v.passed).toBe(true);
      expect('msg' in v).toBe(false);
      expect(v.content_type).toBe('text/plain');
      expect(v.contents).toEqual([{ uri: URI, mime_type: 'text/plain', text: 'anything' }]);
      expect(v.validation).toEqual({ valid: true, matches_expected: null, content_type: 'text/plain', errors: [], warnings: [] });
    });

    it('fails when the server returned no contents', () => {
      const v = judgeResource(URI, read(), {});
      expect(v.passed).toBe(false);
      expect(v.content_type).toBeNull();
      expect(v.validation.valid).toBe(false);
      expect(v.validation.errors).toEqual(['the server returned no contents']);
      expect(v.msg).toBe(`resource '${URI}' test failed: the server returned no contents`);
    });

    it('passes for a blob and never carries the base64 in the verdict', () => {
      const r = read(blob(PNG));
      const v = judgeResource('file:///data/logo.png', r, {});
      expect(v.passed).toBe(true);
      expect(v.content_type).toBe('image/png');
      expect(v.contents[0].blob_size).toBe(1000);
      expect(JSON.stringify(v)).not.toContain(r.contents[0].blob);
      expect(v.validation.warnings).toEqual([]);
    });

    it('takes content_type from the first content', () => {
      const v = judgeResource(URI, read(text('a', 'text/markdown'), text('b', 'text/plain')), {});
      expect(v.content_type).toBe('text/markdown');
      // 1.1.x reported it as validation.content_type.
      expect(v.validation.content_type).toBe('text/markdown');
      expect(judgeResource(URI, read(text('a', null)), {}).content_type).toBeNull();
      expect(judgeResource(URI, read(text('a', null)), {}).validation.content_type).toBeNull();
    });
  });

  describe('expected_content_type', () => {
    it('passes when a content has that type', () => {
      const v = judgeResource(URI, read(text('{}', 'application/json')), { expected_content_type: 'application/json' });
      expect(v.passed).toBe(true);
    });

    it('passes when any content (not only the first) has that type', () => {
      const v = judgeResource(URI, read(text('a', 'text/plain'), blob(PNG)), { expected_content_type: 'image/png' });
      expect(v.passed).toBe(true);
    });

    it('fails listing the types it got, "none" for a missing type', () => {
      const v = judgeResource(URI, read(text('a', 'text/plain'), text('b', null)), { expected_content_type: 'application/json' });
      expect(v.passed).toBe(false);
      expect(v.validation.errors).toEqual(['expected content type application/json, got text/plain, none']);
      expect(v.msg).toBe(`resource '${URI}' test failed: expected content type application/json, got text/plain, none`);
    });

    it('says "nothing" when there are no contents', () => {
      const v = judgeResource(URI, read(), { expected_content_type: 'text/plain' });
      expect(v.validation.errors).toEqual(['the server returned no contents', 'expected content type text/plain, got nothing']);
    });

    it('is ignored when null or empty', () => {
      expect(judgeResource(URI, read(text('a')), { expected_content_type: null }).passed).toBe(true);
      expect(judgeResource(URI, read(text('a')), { expected_content_type: '' }).passed).toBe(true);
    });

    it('does not set matches_expected', () => {
      expect(judgeResource(URI, read(text('a')), { expected_content_type: 'text/plain' }).validation.matches_expected).toBeNull();
    });
  });

  describe('expected_content', () => {
    it('matches the exact text', () => {
      const v = judgeResource(URI, read(text('Hello, world')), { expected_content: 'Hello, world' });
      expect(v.passed).toBe(true);
      expect(v.validation.matches_expected).toBe(true);
    });

    it('matches after trimming both sides', () => {
      expect(judgeResource(URI, read(text('  Hello\n\n')), { expected_content: 'Hello' }).validation.matches_expected).toBe(true);
      expect(judgeResource(URI, read(text('Hello')), { expected_content: '\tHello \n' }).validation.matches_expected).toBe(true);
    });

    it('does not match a text that differs inside', () => {
      const v = judgeResource(URI, read(text('Hello  world')), { expected_content: 'Hello world' });
      expect(v.passed).toBe(false);
      expect(v.validation.matches_expected).toBe(false);
      expect(v.validation.errors).toEqual(['content does not equal expected_content (got "Hello  world")']);
    });

    it('is case-sensitive', () => {
      expect(judgeResource(URI, read(text('hello')), { expected_content: 'Hello' }).passed).toBe(false);
    });

    it('compares against all text contents joined with newlines', () => {
      const r = read(text('line 1'), text('line 2'));
      expect(judgeResource(URI, r, { expected_content: 'line 1\nline 2' }).passed).toBe(true);
      expect(judgeResource(URI, r, { expected_content: 'line 1' }).passed).toBe(false);
    });

    it('quotes at most 200 characters of the text in the error', () => {
      const v = judgeResource(URI, read(text('y'.repeat(500))), { expected_content: 'x' });
      expect(v.validation.errors).toEqual([`content does not equal expected_content (got ${JSON.stringify('y'.repeat(200) + '…')})`]);
    });

    it('an empty expected_content is a real expectation', () => {
      expect(judgeResource(URI, read(text('')), { expected_content: '' }).validation.matches_expected).toBe(true);
      expect(judgeResource(URI, read(text('x')), { expected_content: '' }).validation.matches_expected).toBe(false);
    });

    it('is ignored when null', () => {
      expect(judgeResource(URI, read(text('x')), { expected_content: null }).validation.matches_expected).toBeNull();
    });
  });

  describe('expected_content_regex', () => {
    it('passes when the text matches', () => {
      const v = judgeResource(URI, read(text('version: 1.2.3')), { expected_content_regex: 'version: \\d+\\.\\d+' });
      expect(v.passed).toBe(true);
      expect(v.validation.matches_expected).toBe(true);
    });

    it('is multiline and accepts Python inline flags', () => {
      const r = read(text('# Title\nSTATUS: ok\n'));
      expect(judgeResource(URI, r, { expected_content_regex: '^STATUS: ok$' }).passed).toBe(true);
      expect(judgeResource(URI, r, { expected_content_regex: '(?i)^status: OK$' }).passed).toBe(true);
      expect(judgeResource(URI, r, { expected_content_regex: '^status' }).passed).toBe(false);
    });

    it('fails when the text does not match, quoting the pattern', () => {
      const v = judgeResource(URI, read(text('abc')), { expected_content_regex: '^\\d+$' });
      expect(v.passed).toBe(false);
      expect(v.validation.matches_expected).toBe(false);
      expect(v.validation.errors).toEqual(['content does not match expected_content_regex "^\\\\d+$"']);
    });

    it('reports an invalid regex as a failure, not a throw', () => {
      let v: ReturnType<typeof judgeResource> | undefined;
      expect(() => (v = judgeResource(URI, read(text('abc')), { expected_content_regex: '([' }))).not.toThrow();
      expect(v!.passed).toBe(false);
      expect(v!.validation.matches_expected).toBe(false);
      expect(v!.validation.errors).toHaveLength(1);
      expect(v!.validation.errors[0]).toMatch(/^expected_content_regex is not a valid regular expression: /);
      expect(v!.msg).toContain('expected_content_regex is not a valid regular expression');
    });

    it('combines with expected_content: both must match', () => {
      const r = read(text('hello world'));
      expect(judgeResource(URI, r, { expected_content: 'hello world', expected_content_regex: 'world' }).validation.matches_expected).toBe(true);
      const a = judgeResource(URI, r, { expected_content: 'hello world', expected_content_regex: 'planet' });
      expect(a.validation.matches_expected).toBe(false);
      expect(a.validation.errors).toHaveLength(1);
      const b = judgeResource(URI, r, { expected_content: 'goodbye', expected_content_regex: 'world' });
      expect(b.validation.matches_expected).toBe(false);
      expect(b.validation.errors).toHaveLength(1);
    });
  });

  describe('text expectations against a blob', () => {
    it('fail and warn that the resource is binary', () => {
      const v = judgeResource('file:///data/logo.png', read(blob(PNG)), { expected_content: 'PNG' });
      expect(v.passed).toBe(false);
      expect(v.validation.warnings).toEqual(['the resource is binary (blob); text expectations cannot match it']);
    });

    it('warn for a regex too', () => {
      const v = judgeResource('file:///data/logo.png', read(blob(PNG)), { expected_content_regex: '.*' });
      expect(v.validation.warnings).toEqual(['the resource is binary (blob); text expectations cannot match it']);
    });

    it('do not warn when there is text beside the blob', () => {
      const v = judgeResource(URI, read(text('caption'), blob(PNG)), { expected_content: 'caption' });
      expect(v.passed).toBe(true);
      expect(v.validation.warnings).toEqual([]);
    });

    it('a content-type expectation alone does not warn', () => {
      const v = judgeResource('file:///data/logo.png', read(blob(PNG)), { expected_content_type: 'image/png' });
      expect(v.passed).toBe(true);
      expect(v.validation.warnings).toEqual([]);
    });
  });

  it('collects every error in msg, joined with "; "', () => {
    const v = judgeResource(URI, read(text('abc', 'text/plain')), { expected_content_type: 'application/json', expected_content: 'xyz', expected_content_regex: '\\d' });
    expect(v.validation.errors).toHaveLength(3);
    expect(v.msg).toBe(`resource '${URI}' test failed: ${v.validation.errors.join('; ')}`);
    expect(v.validation.valid).toBe(false);
  });
});
