/**
 * Remote targets: a real sshd on loopback with an unprivileged user as the
 * target (tests/helpers/sshd.ts), reached through a byte-counting relay
 * (tests/helpers/tcp_relay.ts), with Ansible's default ssh settings
 * (ControlMaster/ControlPersist). These tests prove that set-up with
 * ansible.builtin modules; the collection's own tests over ssh build on it.
 *
 * Needs root (throwaway users, sshd): skipped otherwise, saying why.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { startSshd, sshdUnavailable, type Sshd } from '../helpers/sshd';
import { EVERYTHING_JS, FQCN, outputOf, REPO_ROOT, runPlaybook, type PlaybookRun } from './harness';

const unavailable = sshdUnavailable();
const PIPELINING = { ANSIBLE_PIPELINING: '1' };

describe.skipIf(!!unavailable)(`remote target over ssh${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  /** Bytes the relay forwarded while a task ran (the first task of a run also pays the ssh handshake). */
  const taskBytes = (run: PlaybookRun, name: string) => {
    const { started, finished } = run.task(name);
    expect(started, `no start time for '${name}'`).toEqual(expect.any(Number));
    return sshd.relay.bytesBetween(started!, finished);
  };

  test('ping with pipelining and a command run as the unprivileged user, through the relay', async () => {
    sshd.relay.reset();
    const run = await runPlaybook(
      [
        { name: 'ping', 'ansible.builtin.ping': {} },
        { name: 'whoami', 'ansible.builtin.command': 'id -un' },
        { name: 'ping again', 'ansible.builtin.ping': {} },
      ],
      { inventory: sshd.inventory(), env: PIPELINING },
    );
    expect(run.exitCode, `${outputOf(run)}\n--- sshd\n${sshd.log()}`).toBe(0);
    expect(run.task('ping').result.ping).toBe('pong');
    expect(run.task('whoami').result.stdout).toBe(sshd.user);
    expect(run.leftovers).toEqual([]);
    // ssh's ControlMaster (ControlPersist: 60 s) would keep the connection; the harness ended it. (ssh rewrites
    // its environment block for its process title, so the leftover scan cannot see that process.)
    await vi.waitFor(() => expect(sshd.relay.bytes().connections.map((c) => c.open)).toEqual([false]), { timeout: 10_000 });

    // Everything went through the relay, over one connection: ssh's ControlMaster carries every task.
    const total = sshd.relay.bytes();
    expect(total.connections).toHaveLength(1);
    expect(total.toTarget).toBeGreaterThan(0);
    expect(total.fromTarget).toBeGreaterThan(0);
    // Each task's traffic falls inside its own start..result window, and the windows do not overlap.
    const perTask = ['ping', 'whoami', 'ping again'].map((name) => taskBytes(run, name));
    for (const b of perTask) {
      expect(b.toTarget).toBeGreaterThan(0);
      expect(b.fromTarget).toBeGreaterThan(0);
    }
    const sum = perTask.reduce((t, b) => t + b.toTarget + b.fromTarget, 0);
    expect(sum).toBeLessThanOrEqual(total.toTarget + total.fromTarget);
    // The first task also opened the connection (key exchange, authentication, the master's session).
    expect(perTask[0].toTarget + perTask[0].fromTarget).toBeGreaterThan(perTask[2].toTarget + perTask[2].fromTarget);
    console.log(`[remote_target] bytes per ping task after the first: ${perTask[2].toTarget} to target, ${perTask[2].fromTarget} back`);

    sshd.relay.reset();
    const afterReset = sshd.relay.bytes();
    expect([afterReset.toTarget, afterReset.fromTarget, ...afterReset.connections.flatMap((c) => [c.toTarget, c.fromTarget])].every((n) => n === 0)).toBe(true);
  });

  test('become: the target user runs a task as a third user through sudo', async () => {
    const run = await runPlaybook(
      [
        { name: 'as the become user', become: true, become_user: sshd.becomeUser, 'ansible.builtin.command': 'id -un' },
        { name: 'as the login user', 'ansible.builtin.command': 'id -un' },
      ],
      { inventory: sshd.inventory(), env: PIPELINING },
    );
    expect(run.exitCode, outputOf(run)).toBe(0);
    expect(run.task('as the become user').result.stdout).toBe(sshd.becomeUser);
    expect(run.task('as the login user').result.stdout).toBe(sshd.user);
    expect(run.leftovers).toEqual([]);
  });

  test('a login without the test key is refused: sshd checks keys as a real host does', async () => {
    const run = await runPlaybook([{ name: 'ping', 'ansible.builtin.ping': {} }], {
      inventory: sshd.inventory({ ansible_ssh_private_key_file: '/dev/null', ansible_ssh_extra_args: '-o IdentitiesOnly=yes -o PasswordAuthentication=no' }),
      env: PIPELINING,
    });
    expect(run.task('ping').status, outputOf(run)).toBe('unreachable');
    expect(run.task('ping').result.msg).toMatch(/Permission denied/);
  });

  // The first task places the runtime in the target user's ~/.ansible/mcp_audit/<build id> (one ~110 MB copy);
  // later tasks are one command each: their arguments in, their result out.
  test(
    'mcp_test_tool over ssh, twice, pooled on the target: the first task places the runtime, the second moves only its arguments and result',
    async () => {
      const server = {
        server_command: '/usr/bin/node',
        server_args: [sshd.readableByTarget(EVERYTHING_JS, join(REPO_ROOT, 'node_modules'))],
      };
      const echo = (i: number) => ({
        name: `echo ${i}`,
        [`${FQCN}.mcp_test_tool`]: { ...server, tool_name: 'echo', tool_arguments: { message: `m${i}` }, expected_result: `Echo: m${i}` },
      });
      sshd.relay.reset();
      const run = await runPlaybook(
        [echo(1), echo(2), { name: 'stop the broker', [`${FQCN}.mcp_broker`]: { state: 'stopped' } }],
        { inventory: sshd.inventory(), env: PIPELINING, moduleDefaults: { connection_reuse: true }, timeoutMs: 300_000 },
      );
      expect(run.exitCode, outputOf(run)).toBe(0);
      for (const i of [1, 2]) expect(run.task(`echo ${i}`).result.test_passed, outputOf(run)).toBe(true);
      const [first, second] = ['echo 1', 'echo 2'].map((name) => taskBytes(run, name));
      console.log(
        `[remote_target] mcp_test_tool over ssh: first task ${first.toTarget} B to target / ${first.fromTarget} B back, ` +
          `second ${second.toTarget} B / ${second.fromTarget} B`,
      );
      // Issue 9: a task after the first moves at most 16 KB (its arguments and its result).
      expect(second.toTarget + second.fromTarget).toBeLessThanOrEqual(16 * 1024);
    },
    600_000,
  );
});
