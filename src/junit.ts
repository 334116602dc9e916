/**
 * JUnit XML, the report format Jenkins, GitLab and GitHub test reporters all
 * read: <testsuites><testsuite><testcase> with <failure>, <error>, <skipped>.
 */
export interface JUnitCase {
  name: string;
  classname: string;
  time: number; // seconds
  outcome: 'passed' | 'failed' | 'error' | 'skipped';
  message?: string;
  output?: string;
}

const escapeXml = (s: string) =>
  s
    // XML 1.0 forbids most control characters even when escaped.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');

export function junitXml(suite: string, cases: JUnitCase[], timestamp = new Date()): string {
  const count = (o: JUnitCase['outcome']) => cases.filter((c) => c.outcome === o).length;
  const total = cases.reduce((t, c) => t + c.time, 0).toFixed(3);
  const attrs = `name="${escapeXml(suite)}" tests="${cases.length}" failures="${count('failed')}" errors="${count('error')}" skipped="${count('skipped')}" time="${total}"`;
  const body = cases.map((c) => {
    const open = `    <testcase classname="${escapeXml(c.classname)}" name="${escapeXml(c.name)}" time="${c.time.toFixed(3)}"`;
    const message = escapeXml(c.message ?? '');
    const inner =
      c.outcome === 'failed'
        ? `      <failure message="${message}" type="AssertionError">${message}</failure>\n`
        : c.outcome === 'error'
          ? `      <error message="${message}" type="McpError">${message}</error>\n`
          : c.outcome === 'skipped'
            ? `      <skipped message="${message}"/>\n`
            : '';
    const out = c.output ? `      <system-out>${escapeXml(c.output)}</system-out>\n` : '';
    return inner || out ? `${open}>\n${inner}${out}    </testcase>` : `${open}/>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${attrs}>`,
    `  <testsuite ${attrs} timestamp="${timestamp.toISOString().replace(/\.\d+Z$/, '')}">`,
    ...body,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
