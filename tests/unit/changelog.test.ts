/**
 * The changelog (changelogs/, rendered by scripts/changelog.mjs into
 * CHANGELOG.rst in antsibull-changelog's format): well-formed, rendered
 * output committed, and a 2.0.0 porting guide that covers every deliberate
 * break with the change a 1.1.x playbook needs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script, without type declarations
import { lint, readProject, release, renderRst } from '../../scripts/changelog.mjs';

const project = readProject();

describe('the changelog files', () => {
  it('are well-formed antsibull-changelog files', () => {
    expect(lint(project)).toEqual([]);
    expect(project.changelog.ancestor).toBe('1.1.1');
    expect(Object.keys(project.changelog.releases)).toContain(String(project.galaxy.version));
  });

  it('CHANGELOG.rst is what `npm run changelog` renders from changelog.yaml', () => {
    expect(readFileSync(join(project.root, 'CHANGELOG.rst'), 'utf8')).toBe(renderRst(project));
  });
});

describe('the 2.0.0 porting guide', () => {
  const breaking: string[] = project.changelog.releases['2.0.0'].changes.breaking_changes;

  it('gives every breaking change the one-line change a 1.1.x playbook needs', () => {
    for (const entry of breaking) expect(entry, entry).toMatch(/\. To port: \S/);
  });

  it.each([
    ['a failed test fails its task', /a test that does not pass fails its task[\s\S]*``fail_on_error: false``/],
    ['timeout enforced', /^timeout - ``timeout`` is enforced[\s\S]*``timeout: 300``/],
    ['validate_schema', /inputSchema[\s\S]*``validate_schema: false``/],
    ['suite fail_on_error default', /^mcp_test_suite - ``fail_on_error`` defaults to ``true``/],
    ['check mode skips tools not annotated read-only', /^check mode - [\s\S]*``check_mode: false``/],
    ['changed from annotations', /^changed - [\s\S]*``changed_when: false``/],
    ['status values', /^status - [\s\S]*``result.test_passed``/],
  ])('covers: %s', (_what, pattern) => {
    expect(breaking.some((e) => pattern.test(e)), breaking.join('\n')).toBe(true);
  });
});

describe('scripts/changelog.mjs', () => {
  const config = project.config;
  const base = {
    ancestor: '1.1.1',
    releases: { '2.0.0': { changes: { bugfixes: ['b second'], release_summary: 'First.' }, fragments: ['old.yml'], release_date: '2026-01-01' } },
  };

  it('release merges fragments into an existing release, sorted, and records them', () => {
    const merged = release(
      base,
      [
        { file: 'z.yml', changes: { bugfixes: ['a first'], breaking_changes: ['x - changed. To port: ``y``.'], release_summary: 'Second.' } },
        { file: 'a.yml', changes: { trivial: ['not shown'], minor_changes: ['m'] } },
      ],
      config,
      '2.0.0',
      '2026-02-02',
    );
    expect(merged.releases['2.0.0']).toEqual({
      release_date: '2026-01-01',
      changes: { bugfixes: ['a first', 'b second'], release_summary: 'First.\n\nSecond.', breaking_changes: ['x - changed. To port: ``y``.'], minor_changes: ['m'] },
      fragments: ['a.yml', 'old.yml', 'z.yml'],
    });
    expect(base.releases['2.0.0'].changes.bugfixes).toEqual(['b second']);
  });

  it('release creates a new version with the date given', () => {
    const merged = release(base, [{ file: 'f.yml', changes: { bugfixes: ['fix'] } }], config, '2.0.1', '2026-03-03');
    expect(merged.releases['2.0.1']).toEqual({ release_date: '2026-03-03', changes: { bugfixes: ['fix'] }, fragments: ['f.yml'] });
  });

  it('renders newest first, sections in config order, new modules after removed features, continuation lines indented', () => {
    const rst = renderRst({
      config,
      galaxy: { namespace: 'ns', name: 'coll' },
      changelog: {
        ancestor: '1.0.0',
        releases: {
          '1.10.0': { changes: { bugfixes: ['fix one'], breaking_changes: ['two\nlines'] }, modules: [{ name: 'm', description: 'Does m', namespace: '' }] },
          '1.9.0': { changes: { release_summary: 'Older.' } },
        },
      },
    });
    const title = `${config.title} Release Notes`;
    expect(rst).toBe(
      [
        '='.repeat(title.length),
        title,
        '='.repeat(title.length),
        '',
        '.. contents:: Topics',
        '',
        'This changelog describes changes after version 1.0.0.',
        '',
        'v1.10.0',
        '=======',
        '',
        'Breaking Changes / Porting Guide',
        '--------------------------------',
        '',
        '- two',
        '  lines',
        '',
        'New Modules',
        '-----------',
        '',
        '- ns.coll.m - Does m.',
        '',
        'Bugfixes',
        '--------',
        '',
        '- fix one',
        '',
        'v1.9.0',
        '======',
        '',
        'Release Summary',
        '---------------',
        '',
        'Older.',
        '',
      ].join('\n'),
    );
  });

  it('lint names unknown sections and malformed entries', () => {
    const problems = lint({ config, changelog: { releases: {} }, fragments: [{ file: 'bad.yml', changes: { bugfix: ['x'], minor_changes: 'not a list' } }] });
    expect(problems).toEqual([
      expect.stringMatching(/^fragment bad\.yml: unknown section 'bugfix' \(known: /),
      'fragment bad.yml: minor_changes must be a list of non-empty strings',
    ]);
  });
});
