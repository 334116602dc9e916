/**
 * The runtime on remote targets (real sshd on loopback, unprivileged users; see
 * tests/helpers/sshd.ts): placed once per host, user and version, atomically
 * even when forks race, in the become user's home with become; a collection of
 * another version places its own beside it. Needs root: skipped otherwise.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { startSshd, sshdUnavailable, type Sshd } from '../helpers/sshd';
import { COLLECTIONS_PATH, EVERYTHING_JS, FQCN, INSTALLED_COLLECTION, outputOf, REPO_ROOT, runPlaybook, scratchDir, type Task } from './harness';

const unavailable = sshdUnavailable();
const PIPELINING = { ANSIBLE_PIPELINING: '1' };
const buildId = () => JSON.parse(readFileSync(join(INSTALLED_COLLECTION, 'plugins', 'runtime', 'manifest.json'), 'utf8')).build_id;
const home = (user: string) => execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).split(':')[5];
const placed = (user: string) => {
  const dir = join(home(user), '.ansible', 'mcp_audit');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
};

describe.skipIf(!!unavailable)(`the runtime on a remote target${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let sshd: Sshd | undefined;
  afterEach(async () => {
    await sshd?.stop();
    sshd = undefined;
  });

  const echo = (s: Sshd, name: string, extra: Record<string, unknown> = {}): Task => ({
    name,
    ...extra,
    [`${FQCN}.mcp_test_tool`]: {
      server_command: '/usr/bin/node',
      server_args: [s.readableByTarget(EVERYTHING_JS, join(REPO_ROOT, 'node_modules'))],
      tool_name: 'echo',
      tool_arguments: { message: name },
      expected_result: `Echo: ${name}`,
    },
  });

  test('with become the runtime is placed for the become user, not the login user', async () => {
    const s = (sshd = await startSshd());
    const become = { become: true, become_user: s.becomeUser };
    const run = await runPlaybook([echo(s, 'as become user', become), echo(s, 'again', become)], { inventory: s.inventory(), env: PIPELINING });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(placed(s.becomeUser)).toEqual([buildId()]);
    expect(readdirSync(join(home(s.becomeUser), '.ansible', 'mcp_audit', buildId()))).toEqual(['mcp_audit_runtime']);
    expect(placed(s.user)).toEqual([]);
    expect(run.leftovers).toEqual([]);
  });

  test('an async task on a host without the runtime places it, runs, and leaves no temp file with its arguments', async () => {
    const s = (sshd = await startSshd());
    const run = await runPlaybook([echo(s, 'async first', { async: 60, poll: 1 })], { inventory: s.inventory(), env: PIPELINING });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('async first').result.test_passed).toBe(true);
    expect(placed(s.user)).toEqual([buildId()]);
    // The first try found no runtime: the temp dir that carried the arguments (secrets included) is gone too.
    const tmp = join(home(s.user), '.ansible', 'tmp');
    expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
  });

  test('four forks racing to place the runtime on one host leave one complete copy and no temp file', async () => {
    const s = (sshd = await startSshd());
    const hosts = ['a', 'b', 'c', 'd'];
    const run = await runPlaybook([echo(s, 'race')], { inventory: s.inventory({}, hosts), env: { ...PIPELINING, ANSIBLE_FORKS: '4' } });
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.results.filter((r) => r.task === 'race').map((r) => [r.host, r.result.test_passed]).sort()).toEqual(hosts.map((h) => [h, true]));
    const dir = join(home(s.user), '.ansible', 'mcp_audit', buildId());
    expect(readdirSync(dir)).toEqual(['mcp_audit_runtime']);
    expect(execFileSync(join(dir, 'mcp_audit_runtime'), ['--version'], { encoding: 'utf8' }).trim()).toBe(buildId());
  });

  test('a collection of another version places its own runtime beside the first; mcp_runtime absent removes the old one', async () => {
    const s = (sshd = await startSshd());
    const first = await runPlaybook([echo(s, 'first version')], { inventory: s.inventory(), env: PIPELINING });
    expect(first.exitCode, outputOf(first)).toBe(0);

    // The "next version": the same collection whose manifest names another build (what an upgrade changes).
    const next = scratchDir('mcp-audit-next-');
    cpSync(COLLECTIONS_PATH, next, { recursive: true });
    const manifestPath = join(next, 'ansible_collections', 'tosin2013', 'mcp_audit', 'plugins', 'runtime', 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const nextId = `${manifest.build_id}-next`;
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, build_id: nextId }));
    const env = { ...PIPELINING, ANSIBLE_COLLECTIONS_PATH: next };
    const second = await runPlaybook(
      [echo(s, 'next version'), { name: 'clean', [`${FQCN}.mcp_runtime`]: { state: 'absent' } }, { name: 'stop', [`${FQCN}.mcp_broker`]: { state: 'stopped' } }],
      { inventory: s.inventory(), env },
    );
    expect(second.exitCode, outputOf(second)).toBe(0);
    expect(second.task('clean').result).toMatchObject({ changed: true, removed: [buildId()] });
    expect(placed(s.user)).toEqual([nextId]);
  });
});
