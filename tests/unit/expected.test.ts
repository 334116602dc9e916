/**
 * expected_result matching (src/checks/expected.ts), 1.1.x compatible:
 * scalars against the text content, dicts and lists against
 * structuredContent or the text parsed as JSON.
 */
import { describe, expect, it } from 'vitest';
import { matchExpected, textOf, type ToolOutput } from '../../src/checks/expected';

const text = (...texts: string[]): ToolOutput => ({ content: texts.map((t) => ({ type: 'text', text: t })) });
const structured = (value: unknown, t = ''): ToolOutput => ({ content: t ? [{ type: 'text', text: t }] : [], structuredContent: value });

describe('textOf', () => {
  it('joins the text blocks with newlines and ignores other content', () => {
    const out: ToolOutput = { content: [{ type: 'text', text: 'a' }, { type: 'image' }, { type: 'text', text: 'b' }, { type: 'text' }] };
    expect(textOf(out)).toBe('a\nb');
  });

  it('is empty without content', () => {
    expect(textOf({})).toBe('');
  });
});

describe('matchExpected', () => {
  describe('no expectation', () => {
    it('matches anything when expected is null or undefined', () => {
      expect(matchExpected(null, text('x'))).toEqual({ matches: true });
      expect(matchExpected(undefined, {})).toEqual({ matches: true });
    });
  });

  describe('numbers and numeric strings', () => {
    it('"42" matches text 42 and 42 matches text "42"', () => {
      expect(matchExpected('42', text('42')).matches).toBe(true);
      expect(matchExpected(42, text('42')).matches).toBe(true);
    });

    it('compares as numbers: 5 matches "5.0", "1e2" matches 100', () => {
      expect(matchExpected(5, text('5.0')).matches).toBe(true);
      expect(matchExpected('1e2', text('100')).matches).toBe(true);
      expect(matchExpected(0.5, text(' 0.50 \n')).matches).toBe(true);
    });

    it('a different number does not match', () => {
      const r = matchExpected(42, text('43'));
      expect(r.matches).toBe(false);
      expect(r.reason).toBe('expected 42, got text "43"');
    });

    it('a number does not match words, nor an empty text', () => {
      expect(matchExpected(5, text('The sum is 5')).matches).toBe(false);
      expect(matchExpected(0, text('')).matches).toBe(false);
      expect(matchExpected(0, {}).matches).toBe(false);
    });

    it('a number matches a numeric structuredContent', () => {
      expect(matchExpected(5, structured(5, 'sum computed')).matches).toBe(true);
      expect(matchExpected('5', structured(5, 'sum computed')).matches).toBe(true);
    });
  });

  describe('strings', () => {
    it('equal text matches, compared trimmed', () => {
      expect(matchExpected('Echo: hello', text('Echo: hello')).matches).toBe(true);
      expect(matchExpected('  Echo: hello\n', text('Echo: hello  ')).matches).toBe(true);
    });

    it('is case sensitive and not a substring match', () => {
      expect(matchExpected('echo: hello', text('Echo: hello')).matches).toBe(false);
      expect(matchExpected('hello', text('Echo: hello')).matches).toBe(false);
    });

    it('matches all text blocks joined by newlines', () => {
      expect(matchExpected('a\nb', text('a', 'b')).matches).toBe(true);
    });

    it('gives the text it got as the reason', () => {
      expect(matchExpected('yes', text('no'))).toEqual({ matches: false, reason: 'expected "yes", got text "no"' });
    });

    it('cuts a long text in the reason to 500 characters', () => {
      const r = matchExpected('short', text('x'.repeat(2000)));
      expect(r.matches).toBe(false);
      expect(r.reason!.length).toBeLessThan(600);
      expect(r.reason).toContain('…');
    });
  });

  describe('booleans', () => {
    it('true matches the text "true" in any case', () => {
      expect(matchExpected(true, text('true')).matches).toBe(true);
      expect(matchExpected(true, text('True')).matches).toBe(true);
      expect(matchExpected(false, text('FALSE')).matches).toBe(true);
    });

    it('true does not match "false" or "yes"', () => {
      expect(matchExpected(true, text('false')).matches).toBe(false);
      expect(matchExpected(true, text('yes')).matches).toBe(false);
    });

    it('matches a boolean structuredContent', () => {
      expect(matchExpected(true, structured(true, 'done')).matches).toBe(true);
    });
  });

  describe('dicts', () => {
    it('match a subset of structuredContent (extra keys are fine)', () => {
      const out = structured({ sum: 5, inputs: { a: 2, b: 3 }, note: 'x' });
      expect(matchExpected({ sum: 5 }, out).matches).toBe(true);
      expect(matchExpected({ inputs: { a: 2 } }, out).matches).toBe(true);
    });

    it('compare numbers and numeric strings inside a dict', () => {
      expect(matchExpected({ sum: '5' }, structured({ sum: 5 })).matches).toBe(true);
      expect(matchExpected({ sum: 5 }, structured({ sum: '5' })).matches).toBe(true);
    });

    it('do not match a different or missing value, and give the actual value as the reason', () => {
      const r = matchExpected({ sum: 6 }, structured({ sum: 5 }));
      expect(r).toEqual({ matches: false, reason: 'expected {"sum":6}, got {"sum":5}' });
      expect(matchExpected({ missing: 1 }, structured({ sum: 5 })).matches).toBe(false);
    });

    it('do not match a list or a scalar', () => {
      expect(matchExpected({ a: 1 }, structured([{ a: 1 }])).matches).toBe(false);
      expect(matchExpected({ a: 1 }, structured('a')).matches).toBe(false);
    });

    it('match the text content parsed as JSON when there is no structuredContent', () => {
      expect(matchExpected({ status: 'ok' }, text('{"status": "ok", "count": 3}')).matches).toBe(true);
      const r = matchExpected({ status: 'ok' }, text('{"status": "bad"}'));
      expect(r.matches).toBe(false);
      expect(r.reason).toBe('expected {"status":"ok"}, got {"status":"bad"}');
    });

    it('fall back to the text when structuredContent does not match', () => {
      expect(matchExpected({ a: 1 }, structured({ a: 2 }, '{"a": 1}')).matches).toBe(true);
    });

    it('do not match text that is not JSON, and give the text as the reason', () => {
      const r = matchExpected({ a: 1 }, text('not json'));
      expect(r).toEqual({ matches: false, reason: 'expected {"a":1}, got "not json"' });
    });
  });

  describe('lists', () => {
    it('match an equal list', () => {
      expect(matchExpected([1, 2, 3], structured([1, 2, 3])).matches).toBe(true);
      expect(matchExpected(['a', 'b'], text('["a","b"]')).matches).toBe(true);
    });

    it('need the same length and order', () => {
      expect(matchExpected([1, 2], structured([1, 2, 3])).matches).toBe(false);
      expect(matchExpected([2, 1], structured([1, 2])).matches).toBe(false);
    });

    it('match dict elements as subsets', () => {
      expect(matchExpected([{ name: 'echo' }], structured([{ name: 'echo', description: 'x' }])).matches).toBe(true);
    });

    it('match a list inside structuredContent', () => {
      expect(matchExpected({ items: [1, 2] }, structured({ items: [1, 2], total: 2 })).matches).toBe(true);
      expect(matchExpected({ items: [1] }, structured({ items: [1, 2] })).matches).toBe(false);
    });
  });
});
