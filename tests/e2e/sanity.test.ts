/**
 * ansible-test sanity on the built collection (scripts/sanity.sh: the Galaxy
 * tarball installed into a scratch path, the 2.19 lane's ansible-test, plus
 * 2.14's validate-modules). On the 2.19 lane only: the script picks its
 * ansible-test versions itself, so one run covers both.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from './harness';

const lane = process.env.MCP_AUDIT_ANSIBLE_LANE;

describe.runIf(lane === '2.19')('ansible-test sanity', () => {
  test('passes on the collection as Galaxy gets it', () => {
    const run = spawnSync('sh', [join(REPO_ROOT, 'scripts', 'sanity.sh')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
    const out = `${run.stdout}\n${run.stderr}`;
    expect(run.status, out).toBe(0);
    // The tests that matter most for module docs and metadata did run (not skipped for lack of a venv).
    for (const name of ['ansible-doc', 'import', 'pep8', 'pylint', 'runtime-metadata', 'yamllint', 'validate-modules', 'action-plugin-docs']) {
      expect(out, name).toMatch(new RegExp(`Running sanity test "${name}"`));
    }
    expect(out).not.toMatch(/Skipping sanity test|ERROR:|FATAL:/);
  }, 320_000);
});
