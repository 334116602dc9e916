/**
 * JUnit XML (src/junit.ts), as Jenkins, GitLab and GitHub reporters read it:
 * <testsuites><testsuite><testcase>. Every document is parsed by a real XML
 * parser (Python's ElementTree) to prove it is well-formed.
 */
import { describe, expect, it } from 'vitest';
import { junitXml, type JUnitCase } from '../../src/junit';
import { parseXml } from '../helpers/xml';

const TS = new Date('2026-03-04T05:06:07.890Z');

const c = (name: string, outcome: JUnitCase['outcome'], extra: Partial<JUnitCase> = {}): JUnitCase => ({
  name,
  classname: 'mcp.tools',
  time: 0.25,
  outcome,
  ...extra,
});

describe('the XML parser used by these tests', () => {
  it('rejects malformed XML, so a passing parse means something', () => {
    expect(() => parseXml('<a><b></a>')).toThrow();
    expect(() => parseXml('<a x="1 & 2"/>')).toThrow();
    expect(() => parseXml('<a>\u0001</a>')).toThrow();
  });
});

describe('junitXml', () => {
  const cases: JUnitCase[] = [
    c('ok one', 'passed', { time: 0.1 }),
    c('ok two', 'passed', { time: 0.2 }),
    c('bad', 'failed', { time: 1.5, message: 'expected 42, got 43' }),
    c('boom', 'error', { time: 0.0004, message: 'server exited with code 1' }),
    c('later', 'skipped', { time: 0, message: 'check mode' }),
  ];
  const xml = junitXml('my suite', cases, TS);
  const root = parseXml(xml);

  it('starts with an XML declaration and ends with a newline', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(xml.endsWith('</testsuites>\n')).toBe(true);
  });

  it('has the structure testsuites > testsuite > testcase', () => {
    expect(root.tag).toBe('testsuites');
    expect(root.children).toHaveLength(1);
    const suite = root.children[0];
    expect(suite.tag).toBe('testsuite');
    expect(suite.children.map((n) => n.tag)).toEqual(['testcase', 'testcase', 'testcase', 'testcase', 'testcase']);
    expect(suite.children.map((n) => n.attrib.name)).toEqual(['ok one', 'ok two', 'bad', 'boom', 'later']);
    expect(suite.children.every((n) => n.attrib.classname === 'mcp.tools')).toBe(true);
  });

  it('counts tests, failures, errors and skipped on both testsuites and testsuite', () => {
    for (const node of [root, root.children[0]]) {
      expect(node.attrib.name).toBe('my suite');
      expect(node.attrib.tests).toBe('5');
      expect(node.attrib.failures).toBe('1');
      expect(node.attrib.errors).toBe('1');
      expect(node.attrib.skipped).toBe('1');
    }
  });

  it('sums the case times (seconds, 3 decimals) on both levels', () => {
    // 0.1 + 0.2 + 1.5 + 0.0004 + 0 = 1.8004
    expect(root.attrib.time).toBe('1.800');
    expect(root.children[0].attrib.time).toBe('1.800');
  });

  it('gives each testcase its own time with 3 decimals', () => {
    expect(root.children[0].children.map((n) => n.attrib.time)).toEqual(['0.100', '0.200', '1.500', '0.000', '0.000']);
  });

  it('puts an ISO timestamp without milliseconds or zone on the testsuite only', () => {
    expect(root.children[0].attrib.timestamp).toBe('2026-03-04T05:06:07');
    expect(root.attrib.timestamp).toBeUndefined();
  });

  it('writes a passed testcase as a self-closing element with no children', () => {
    expect(xml).toContain('<testcase classname="mcp.tools" name="ok one" time="0.100"/>');
    expect(root.children[0].children[0].children).toEqual([]);
  });

  it('writes a failure element with the message as attribute and text', () => {
    const bad = root.children[0].children[2];
    expect(bad.children).toHaveLength(1);
    expect(bad.children[0]).toMatchObject({
      tag: 'failure',
      attrib: { message: 'expected 42, got 43', type: 'AssertionError' },
      text: 'expected 42, got 43',
    });
  });

  it('writes an error element for an error outcome', () => {
    const boom = root.children[0].children[3];
    expect(boom.children).toHaveLength(1);
    expect(boom.children[0]).toMatchObject({
      tag: 'error',
      attrib: { message: 'server exited with code 1', type: 'McpError' },
      text: 'server exited with code 1',
    });
  });

  it('writes a skipped element with its message', () => {
    const later = root.children[0].children[4];
    expect(later.children).toHaveLength(1);
    expect(later.children[0]).toMatchObject({ tag: 'skipped', attrib: { message: 'check mode' } });
  });

  it('uses an empty message when a failure has none', () => {
    const r = parseXml(junitXml('s', [c('f', 'failed'), c('s', 'skipped')], TS));
    const [f, s] = r.children[0].children;
    expect(f.children[0].tag).toBe('failure');
    expect(f.children[0].attrib.message).toBe('');
    expect(s.children[0]).toMatchObject({ tag: 'skipped', attrib: { message: '' } });
  });

  it('adds system-out when a case has output, also for a passed case', () => {
    const r = parseXml(
      junitXml('s', [c('p', 'passed', { output: 'line 1\nline 2' }), c('f', 'failed', { message: 'm', output: 'log <x>' })], TS),
    );
    const [p, f] = r.children[0].children;
    expect(p.children).toHaveLength(1);
    expect(p.children[0]).toMatchObject({ tag: 'system-out', text: 'line 1\nline 2' });
    expect(f.children.map((n) => n.tag)).toEqual(['failure', 'system-out']);
    expect(f.children[1].text).toBe('log <x>');
  });

  it('escapes & < > " \' in names, classnames, messages and output', () => {
    const nasty = `a & b < c > d "e" 'f' ]]> &amp;`;
    const doc = junitXml(nasty, [c(nasty, 'failed', { classname: nasty, message: nasty, output: nasty })], TS);
    expect(doc).not.toContain(nasty);
    expect(doc).toContain('a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos; ]]&gt; &amp;amp;');
    const r = parseXml(doc);
    expect(r.attrib.name).toBe(nasty);
    const tc = r.children[0].children[0];
    expect(tc.attrib.name).toBe(nasty);
    expect(tc.attrib.classname).toBe(nasty);
    expect(tc.children[0].attrib.message).toBe(nasty);
    expect(tc.children[0].text).toBe(nasty);
    expect(tc.children[1].text).toBe(nasty);
  });

  it('removes XML-illegal control characters but keeps tab, newline and carriage return', () => {
    const dirty = 'a\u0000b\u0001c\u0008d\u000Be\u000Cf\u000Eg\u001Fh\uFFFEi\uFFFFj\tk\nl';
    const doc = junitXml('s', [c('n\u0007ame', 'error', { message: dirty, output: dirty + '\r' })], TS);
    expect(doc).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/);
    const tc = parseXml(doc).children[0].children[0];
    expect(tc.attrib.name).toBe('name');
    // Element text keeps \t and \n; the parser normalizes \r to \n.
    expect(tc.children[0].text).toBe('abcdefghij\tk\nl');
    expect(tc.children[1].text).toBe('abcdefghij\tk\nl\n');
  });

  it('keeps non-ASCII text intact', () => {
    const doc = junitXml('ünïcödé ✓', [c('日本語 🚀', 'failed', { message: 'Ω ≠ ∞' })], TS);
    const r = parseXml(doc);
    expect(r.attrib.name).toBe('ünïcödé ✓');
    expect(r.children[0].children[0].attrib.name).toBe('日本語 🚀');
    expect(r.children[0].children[0].children[0].attrib.message).toBe('Ω ≠ ∞');
  });

  it('writes a well-formed empty suite with zero counts', () => {
    const r = parseXml(junitXml('empty', [], TS));
    expect(r.tag).toBe('testsuites');
    expect(r.attrib).toMatchObject({ tests: '0', failures: '0', errors: '0', skipped: '0', time: '0.000' });
    expect(r.children).toHaveLength(1);
    expect(r.children[0].tag).toBe('testsuite');
    expect(r.children[0].children).toEqual([]);
  });

  it('uses the current time when no timestamp is given', () => {
    const before = Date.now();
    const r = parseXml(junitXml('now', []));
    const stamp = Date.parse(r.children[0].attrib.timestamp + 'Z');
    expect(stamp).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(stamp).toBeLessThanOrEqual(Date.now());
  });
});
