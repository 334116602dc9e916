/**
 * Broker acceptance: the socket is private, secrets never leak and never
 * share a server, a request from another runtime version is refused, and
 * nothing a client sends over the socket takes the broker down.
 */
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { everythingServer, NODE } from './harness';
import {
  brokerCall,
  brokerLog,
  countEvents,
  output,
  rawExchange,
  readPidFile,
  request,
  runtimeVersion,
  RUNTIME,
  Scenario,
  TOOL,
  processAlive,
} from './broker-helpers';

const run = promisify(execFile);

let scenario: Scenario | undefined;
afterEach(() => {
  scenario?.cleanup();
  scenario = undefined;
});

const echo = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: name }, expected_result: `Echo: ${name}`, ...extra },
});

/** Connect to a unix socket from a node process; prints the error code or CONNECTED. */
const PROBE = "require('net').connect(process.argv[1]).on('error', e => {console.log(e.code); process.exit(0)}).on('connect', () => {console.log('CONNECTED'); process.exit(0)})";

describe('broker security', () => {
  test('socket dir 0700, socket 0600; another uid cannot connect', async () => {
    const s = (scenario = new Scenario());
    const r = await s.play([echo('warm')]);
    expect(r.exitCode, output(r)).toBe(0);

    const dir = statSync(s.dir);
    expect((dir.mode & 0o777).toString(8)).toBe('700');
    const sock = statSync(s.files.socket);
    expect(sock.isSocket()).toBe(true);
    expect((sock.mode & 0o777).toString(8)).toBe('600');
    expect((statSync(s.files.log).mode & 0o777).toString(8)).toBe('600');
    expect((statSync(s.files.pid).mode & 0o777).toString(8)).toBe('600');

    // The probe works (we, the owner, get in) ...
    const own = await run(NODE, ['-e', PROBE, s.files.socket]);
    expect(own.stdout.trim()).toBe('CONNECTED');
    // ... and nobody (uid 65534) does not.
    const other = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', NODE, '-e', PROBE, s.files.socket]);
    expect(other.stdout.trim()).toBe('EACCES');
    // Not even with the directory opened up: the socket itself is 0600.
    chmodSync(s.dir, 0o711);
    try {
      const through = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', NODE, '-e', PROBE, s.files.socket]);
      expect(through.stdout.trim()).toBe('EACCES');
    } finally {
      chmodSync(s.dir, 0o700);
    }

    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  test('tasks differing only in a server_env secret get two servers; the secret is shown nowhere', async () => {
    const s = (scenario = new Scenario());
    const secretA = randomUUID();
    const secretB = randomUUID();
    const r = await s.play([echo('with secret A', { server_env: { API_TOKEN: secretA } }), echo('with secret B', { server_env: { API_TOKEN: secretB } }), echo('A again', { server_env: { API_TOKEN: secretA } })], {
      verbosity: 3,
    });
    expect(r.exitCode, output(r)).toBe(0);
    const a = r.task('with secret A').result.connection;
    const b = r.task('with secret B').result.connection;
    const again = r.task('A again').result.connection;
    expect(a.server_pid).not.toBe(b.server_pid);
    expect(a.key).not.toBe(b.key);
    expect(again).toMatchObject({ reused: true, server_pid: a.server_pid });
    expect(countEvents(s.dir, 'server started')).toBe(2);

    // The secrets did reach the servers (so their absence below means something).
    expect(readFileSync(`/proc/${a.server_pid}/environ`, 'latin1').split('\0')).toContain(`API_TOKEN=${secretA}`);
    expect(readFileSync(`/proc/${b.server_pid}/environ`, 'latin1').split('\0')).toContain(`API_TOKEN=${secretB}`);

    const log = brokerLog(s.dir);
    expect(log).toMatch(/env_keys=\["API_TOKEN"\]/);
    for (const secret of [secretA, secretB]) {
      expect(JSON.stringify(r.results).includes(secret), 'secret in a task result').toBe(false);
      expect(r.stdout.includes(secret), 'secret on ansible-playbook stdout').toBe(false);
      expect(r.stderr.includes(secret), 'secret on ansible-playbook stderr').toBe(false);
      expect(log.includes(secret), 'secret in broker.log').toBe(false);
    }
    // -vvv really printed the invocation (the masked value is there instead).
    expect(r.stdout).toMatch(/VALUE_SPECIFIED_IN_NO_LOG_PARAMETER|\*\*\*\*\*\*\*\*/);

    const status = await s.play([{ name: 'status', 'tosin2013.mcp_audit.mcp_broker': { state: 'status' } }], { verbosity: 3 });
    for (const secret of [secretA, secretB]) expect((status.stdout + JSON.stringify(status.results)).includes(secret)).toBe(false);

    await s.stopWithModule();
    for (const secret of [secretA, secretB]) expect(brokerLog(s.dir).includes(secret)).toBe(false);
    await s.expectNothingLeft();
  });

  test('a request from another runtime version is refused; the socket name carries the version', async () => {
    const s = (scenario = new Scenario());
    const r = await s.play([echo('warm')]);
    expect(r.exitCode, output(r)).toBe(0);

    const { stdout } = await run(RUNTIME, ['--version']);
    const version = stdout.trim();
    expect(version).toBe(runtimeVersion());
    expect(s.files.socket.endsWith(`broker-${version.replace(/\+/g, '-')}.sock`)).toBe(true);
    expect(statSync(s.files.socket).isSocket()).toBe(true);

    const ok = await brokerCall(s.files.socket, 'ping');
    expect(ok).toMatchObject({ ok: true, result: { pid: readPidFile(s.dir), version } });
    const old = await brokerCall(s.files.socket, 'ping', {}, { runtime: '1.1.0' });
    expect(old.ok).toBe(false);
    expect(old.error!.kind).toBe('version');
    expect(old.error!.message).toContain('1.1.0');
    const otherProtocol = await brokerCall(s.files.socket, 'status', {}, { protocol: 2 });
    expect(otherProtocol).toMatchObject({ ok: false, error: { kind: 'version' } });
    // A 'run' from another version is refused before anything is started.
    const oldRun = await brokerCall(s.files.socket, 'run', { op: 'call_tool' }, { runtime: `${version}-other` });
    expect(oldRun).toMatchObject({ ok: false, error: { kind: 'version' } });
    expect(countEvents(s.dir, 'server started')).toBe(1);

    await s.stopWithModule();
    await s.expectNothingLeft();
  });

  test('malformed requests get error replies and the broker keeps serving', async () => {
    const s = (scenario = new Scenario());
    const r = await s.play([echo('warm')]);
    expect(r.exitCode, output(r)).toBe(0);
    const broker = readPidFile(s.dir)!;
    const sock = s.files.socket;

    const notJson = await rawExchange(sock, 'this is not json\n');
    expect(notJson.replies).toEqual([{ id: null, ok: false, error: { kind: 'request', message: expect.stringMatching(/not JSON/) } }]);

    const missing = await rawExchange(sock, '{"id": 7}\n{}\n[1,2]\nnull\n"str"\n{"method": "ping"}\n', 6);
    expect(missing.replies).toHaveLength(6);
    for (const reply of missing.replies) expect(reply).toMatchObject({ ok: false, error: { kind: 'request' } });
    expect(missing.replies[0].id).toBe(7);

    // Well framed but wrong inside: an unknown method, runs without their params, close without a server.
    const settings = { timeoutMs: 5000, idleTimeoutMs: 5000, maxRetries: 0, reuse: true };
    const wrong = await rawExchange(
      sock,
      request('explode') +
        request('run', {}) +
        request('run', { op: 'call_tool' }) +
        request('run', { op: 'call_tool', server: { transport: 'stdio', command: 'x' } }) +
        request('run', { op: 'call_tool', server: 'stdio', settings }) +
        request('close', {}) +
        request('close', { server: null }),
      7,
    );
    expect(wrong.replies).toHaveLength(7);
    expect(wrong.replies[0]).toMatchObject({ ok: false, error: { message: expect.stringMatching(/unknown method 'explode'/) } });
    for (const reply of wrong.replies.slice(1)) expect(reply, JSON.stringify(reply)).toMatchObject({ ok: false, error: { kind: 'request' } });
    // Well formed, for a server that cannot start: an error for that request only.
    const missingServer = await brokerCall(sock, 'run', {
      op: 'call_tool',
      server: { transport: 'stdio', command: '/nonexistent/mcp-server', args: [], cwd: '/' },
      settings,
      args: { name: 'echo', arguments: {} },
    });
    expect(missingServer).toMatchObject({ ok: false, error: { kind: 'not_found' } });
    // None of that left anything in the pool: status still works and shows the warm server only.
    const status = await brokerCall(sock, 'status');
    expect(status.ok, JSON.stringify(status)).toBe(true);
    expect(status.result.connections.map((c: any) => c.server_pid)).toEqual([r.task('warm').result.connection.server_pid]);

    // Several requests on one connection each get their reply, malformed ones included.
    // (Replies are matched by id, not by order: an error for a malformed line is sent at once.)
    const pings = [request('ping'), request('ping')];
    const ids = pings.map((p) => JSON.parse(p).id);
    const mixed = await rawExchange(sock, pings[0] + 'garbage\n' + pings[1], 3);
    expect(mixed.replies).toHaveLength(3);
    expect(mixed.replies.filter((x) => x.ok).map((x) => x.id).sort()).toEqual(ids);
    expect(mixed.replies.filter((x) => !x.ok)).toMatchObject([{ id: null, error: { kind: 'request' } }]);

    // A 17 MiB line is refused with an error and the connection is closed.
    const huge = Buffer.alloc(17 * 1024 * 1024, 'a');
    const big = await rawExchange(sock, Buffer.concat([Buffer.from('{"id":1,"x":"'), huge, Buffer.from('"}\n')]), 1, 60_000);
    expect(big.replies).toHaveLength(1);
    expect(big.replies[0]).toMatchObject({ ok: false, error: { kind: 'request', message: expect.stringMatching(/larger than/) } });

    // A client that connects and goes away mid-line does no harm either.
    await rawExchange(sock, '{"id": 1, "meth', 1, 500);

    // Still the same broker, still serving: a ping and a real pooled task on the warm server.
    expect(processAlive(broker)).toBe(true);
    expect(await brokerCall(sock, 'ping')).toMatchObject({ ok: true, result: { pid: broker } });
    const after = await s.play([echo('warm')]);
    expect(after.exitCode, output(after)).toBe(0);
    expect(readPidFile(s.dir)).toBe(broker);
    expect(countEvents(s.dir, 'broker started')).toBe(1);

    await s.stopWithModule();
    await s.expectNothingLeft();
  });
});
