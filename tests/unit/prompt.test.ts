/**
 * Prompt verdicts (src/checks/prompt.ts), shared by mcp_test_prompt and
 * mcp_test_suite, and the conversion of prompt_arguments to strings. Results
 * go through the SDK's GetPromptResultSchema so they are real prompts/get answers.
 */
import { GetPromptResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { judgePrompt, promptArguments } from '../../src/checks/prompt';

type Msg = Record<string, unknown>;
const got = (...messages: Msg[]) => GetPromptResultSchema.parse({ description: 'a prompt', messages }) as Record<string, any>;
const user = (text: string): Msg => ({ role: 'user', content: { type: 'text', text } });
const assistant = (text: string): Msg => ({ role: 'assistant', content: { type: 'text', text } });
const image: Msg = { role: 'user', content: { type: 'image', data: 'aGVsbG8=', mimeType: 'image/png' } };
const resource: Msg = { role: 'user', content: { type: 'resource', resource: { uri: 'file:///secret.txt', text: 'SECRET in a resource' } } };

describe('promptArguments', () => {
  it('keeps strings and JSON-encodes numbers, booleans, null, lists and dicts', () => {
    expect(promptArguments({ s: 'text', n: 3, f: 1.5, b: true, z: null, l: [1, 'a'], d: { k: 'v' } })).toEqual({
      s: 'text',
      n: '3',
      f: '1.5',
      b: 'true',
      z: 'null',
      l: '[1,"a"]',
      d: '{"k":"v"}',
    });
  });

  it('is empty for null or undefined', () => {
    expect(promptArguments(null)).toEqual({});
    expect(promptArguments(undefined)).toEqual({});
  });

  it('does not quote strings again', () => {
    expect(promptArguments({ s: '"quoted"', e: '' })).toEqual({ s: '"quoted"', e: '' });
  });
});

describe('judgePrompt', () => {
  describe('expected_messages_min', () => {
    it('defaults to 1: one message passes', () => {
      const v = judgePrompt('greet', got(user('hi')), {});
      expect(v.passed).toBe(true);
      expect('msg' in v).toBe(false);
      expect(v.validation).toEqual({ valid: true, matches_expected: null, has_messages: true, errors: [], warnings: [] });
    });

    it('defaults to 1: no message fails', () => {
      const v = judgePrompt('greet', got(), {});
      expect(v.passed).toBe(false);
      expect(v.validation.valid).toBe(false);
      expect(v.validation.has_messages).toBe(false);
      expect(v.validation.errors).toEqual(['expected at least 1 message(s), got 0']);
      expect(v.msg).toBe("prompt 'greet' test failed: expected at least 1 message(s), got 0");
    });

    it('null means the default of 1', () => {
      expect(judgePrompt('greet', got(), { expected_messages_min: null }).passed).toBe(false);
    });

    it('honours a larger minimum', () => {
      const r = got(user('a'), assistant('b'));
      expect(judgePrompt('greet', r, { expected_messages_min: 2 }).passed).toBe(true);
      const v = judgePrompt('greet', r, { expected_messages_min: 3 });
      expect(v.passed).toBe(false);
      expect(v.validation.errors).toEqual(['expected at least 3 message(s), got 2']);
    });

    it('0 accepts an empty prompt', () => {
      expect(judgePrompt('greet', got(), { expected_messages_min: 0 }).passed).toBe(true);
    });

    it('treats a result without messages as zero messages', () => {
      const v = judgePrompt('greet', {}, {});
      expect(v.messages).toEqual([]);
      expect(v.validation.errors).toEqual(['expected at least 1 message(s), got 0']);
    });
  });

  it('returns the messages as the server sent them', () => {
    const r = got(user('hi'), image);
    expect(judgePrompt('greet', r, {}).messages).toEqual(r.messages);
  });

  describe('expected_content_regex', () => {
    it('matches against the text of the messages', () => {
      const v = judgePrompt('greet', got(user('Please review this code'), assistant('Sure')), { expected_content_regex: 'review .* code' });
      expect(v.passed).toBe(true);
      expect(v.validation.matches_expected).toBe(true);
    });

    it('joins message texts with newlines and is multiline', () => {
      const r = got(user('first'), assistant('second'));
      expect(judgePrompt('p', r, { expected_content_regex: '^second$' }).passed).toBe(true);
      expect(judgePrompt('p', r, { expected_content_regex: 'first\\nsecond' }).passed).toBe(true);
    });

    it('accepts a Python (?i) flag', () => {
      expect(judgePrompt('p', got(user('HELLO there')), { expected_content_regex: '(?i)^hello' }).passed).toBe(true);
      expect(judgePrompt('p', got(user('HELLO there')), { expected_content_regex: '^hello' }).passed).toBe(false);
    });

    it('fails when no text matches, quoting the pattern', () => {
      const v = judgePrompt('greet', got(user('hello')), { expected_content_regex: 'goodbye' });
      expect(v.passed).toBe(false);
      expect(v.validation.matches_expected).toBe(false);
      expect(v.validation.errors).toEqual(['no message text matches "goodbye"']);
      expect(v.msg).toBe('prompt \'greet\' test failed: no message text matches "goodbye"');
    });

    it('ignores non-text content (images, embedded resources)', () => {
      const r = got(image, resource, user('visible'));
      expect(judgePrompt('p', r, { expected_content_regex: 'SECRET' }).passed).toBe(false);
      expect(judgePrompt('p', r, { expected_content_regex: 'image/png|aGVsbG8' }).passed).toBe(false);
      expect(judgePrompt('p', r, { expected_content_regex: '^visible$' }).passed).toBe(true);
    });

    it('reports an invalid regex as a failure, not a throw', () => {
      let v: ReturnType<typeof judgePrompt> | undefined;
      expect(() => (v = judgePrompt('greet', got(user('x')), { expected_content_regex: '(unclosed' }))).not.toThrow();
      expect(v!.passed).toBe(false);
      expect(v!.validation.matches_expected).toBe(false);
      expect(v!.validation.errors).toHaveLength(1);
      expect(v!.validation.errors[0]).toMatch(/^expected_content_regex is not a valid regular expression: /);
      expect(v!.msg).toMatch(/^prompt 'greet' test failed: expected_content_regex is not a valid regular expression/);
    });

    it('null or empty means no regex check', () => {
      expect(judgePrompt('p', got(user('x')), { expected_content_regex: null }).validation.matches_expected).toBeNull();
      expect(judgePrompt('p', got(user('x')), { expected_content_regex: '' }).validation.matches_expected).toBeNull();
    });

    it('reports both too few messages and a regex mismatch', () => {
      const v = judgePrompt('greet', got(user('x')), { expected_messages_min: 2, expected_content_regex: 'y' });
      expect(v.validation.errors).toEqual(['expected at least 2 message(s), got 1', 'no message text matches "y"']);
      expect(v.msg).toBe(`prompt 'greet' test failed: ${v.validation.errors.join('; ')}`);
    });
  });
});
