/**
 * Regular expressions from playbooks (src/checks/regex.ts): a leading
 * Python-style inline flag group becomes JavaScript flags, multiline is on by
 * default, and an invalid pattern is a SyntaxError naming the option.
 */
import { describe, expect, it } from 'vitest';
import { compileRegex } from '../../src/checks/regex';

describe('compileRegex', () => {
  it('compiles a plain pattern with only the multiline flag', () => {
    const re = compileRegex('b+c', 'opt');
    expect(re).toBeInstanceOf(RegExp);
    expect(re.source).toBe('b+c');
    expect(re.flags).toBe('m');
    expect(re.test('abbbc')).toBe(true);
    expect(re.test('ac')).toBe(false);
  });

  it('is multiline by default: ^ and $ match at line boundaries', () => {
    const re = compileRegex('^second$', 'opt');
    expect(re.test('first\nsecond\nthird')).toBe(true);
    expect(compileRegex('^first$', 'opt').test('first\nsecond')).toBe(true);
  });

  it('is case-sensitive and . does not cross newlines without flags', () => {
    expect(compileRegex('hello', 'opt').test('HELLO')).toBe(false);
    expect(compileRegex('a.b', 'opt').test('a\nb')).toBe(false);
  });

  it('turns a leading (?i) into the i flag and strips it from the source', () => {
    const re = compileRegex('(?i)hello world', 'opt');
    expect(re.source).toBe('hello world');
    expect(re.flags.split('').sort().join('')).toBe('im');
    expect(re.test('HeLLo WORLD')).toBe(true);
  });

  it('turns a leading (?s) into the s (dotAll) flag', () => {
    const re = compileRegex('(?s)start.*end', 'opt');
    expect(re.source).toBe('start.*end');
    expect(re.dotAll).toBe(true);
    expect(re.test('start\nmiddle\nend')).toBe(true);
  });

  it('accepts combined flags like (?im) without duplicating m', () => {
    const re = compileRegex('(?im)^ERROR', 'opt');
    expect(re.source).toBe('^ERROR');
    expect(re.flags.split('').sort().join('')).toBe('im');
    expect(re.test('ok\nerror: boom')).toBe(true);
  });

  it('accepts (?is) and (?si) alike', () => {
    for (const p of ['(?is)a.B', '(?si)a.B']) {
      const re = compileRegex(p, 'opt');
      expect(re.ignoreCase).toBe(true);
      expect(re.dotAll).toBe(true);
      expect(re.multiline).toBe(true);
      expect(re.test('A\nb')).toBe(true);
    }
  });

  it('only converts the flag group at the very start of the pattern', () => {
    // "x(?i)" is not a leading group: JavaScript rejects it, and so do we.
    expect(() => compileRegex('x(?i)y', 'opt')).toThrow(SyntaxError);
    // A non-capturing group is not a flag group and is left alone.
    const re = compileRegex('(?:ab)+', 'opt');
    expect(re.source).toBe('(?:ab)+');
    expect(re.flags).toBe('m');
    expect(re.test('abab')).toBe(true);
  });

  it('is not global: repeated test() calls give the same answer', () => {
    const re = compileRegex('(?i)x', 'opt');
    expect(re.global).toBe(false);
    expect(re.test('X')).toBe(true);
    expect(re.test('X')).toBe(true);
  });

  it('throws a SyntaxError naming the option for an invalid pattern', () => {
    let err: unknown;
    try {
      compileRegex('([unclosed', 'expected_content_regex');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SyntaxError);
    expect((err as Error).message).toMatch(/^expected_content_regex is not a valid regular expression: /);
  });

  it('throws for an unsupported Python inline flag such as (?x)', () => {
    expect(() => compileRegex('(?x) a b ', 'my_regex')).toThrow(/^my_regex is not a valid regular expression/);
  });

  it('throws for an invalid pattern after a valid flag group', () => {
    expect(() => compileRegex('(?i)a{2,1}', 'opt')).toThrow(SyntaxError);
  });
});
