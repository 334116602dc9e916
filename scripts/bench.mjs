#!/usr/bin/env node
/**
 * npm run bench: speed ratios measured in ONE run on this machine (no
 * absolute targets: shared machines are noisy, ratios of interleaved runs
 * are not). Prints the method with every figure.
 *
 *  (a) 20 sequential mcp_test_tool tasks, pooled vs connection_reuse: false,
 *      with server-everything started by `node` and by `npx`
 *  (b) per-task time of a pooled mcp_test_tool task vs ansible.builtin.ping
 *  (c) the compiled module on an args file, served by a warm broker, vs the
 *      runtime's own empty start (`--version`)
 *  (d) over ssh (a real sshd on loopback, an unprivileged target user; root
 *      only, else skipped saying why): per-task time of a warm pooled
 *      mcp_test_tool task vs ansible.builtin.ping with pipelining, and bytes on
 *      the wire per task, counted by a relay in front of sshd
 *  (e) mcp_security_scan of server-everything (every list, every rule):
 *      per-task time pooled (warm) and with connection_reuse: false, next to
 *      a pooled mcp_server_info (the same lists, no rules) as the yardstick
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const runtime = join(root, 'plugins', 'runtime', 'mcp_audit_runtime');
const everything = join(root, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
const work = mkdtempSync(join(tmpdir(), 'mcp_bench.'));
const brokerDir = mkdtempSync('/tmp/mcpb.');
const N = Number(process.env.BENCH_TASKS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (s) => `${(s * 1000).toFixed(0)} ms`;

// --- the collection, installed the way a user installs it -----------------
console.log('bench: building and installing the collection ...');
execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
execFileSync('ansible-galaxy', ['collection', 'build', '--force', '--output-path', work, root], { stdio: 'ignore' });
const collections = join(work, 'collections');
execFileSync('sh', ['-c', `ansible-galaxy collection install -p ${collections} ${work}/tosin2013-mcp_audit-*.tar.gz`], { stdio: 'ignore' });

// A callback that records, per task, the time from task start to its result.
const callbacks = join(work, 'callback_plugins');
mkdirSync(callbacks);
writeFileSync(
  join(callbacks, 'task_timer.py'),
  `from ansible.plugins.callback import CallbackBase
import json, os, time
class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'task_timer'
    CALLBACK_NEEDS_ENABLED = True
    def __init__(self):
        super().__init__()
        self.rows = []
        self.start = None
    def v2_playbook_on_task_start(self, task, is_conditional):
        self.start = time.perf_counter()
        self.started = time.time() * 1000
        self.name = task.get_name()
    def _done(self, result, ok):
        self.rows.append({'task': self.name, 'seconds': time.perf_counter() - self.start, 'ok': ok,
                          'started': self.started, 'finished': time.time() * 1000})
    def v2_runner_on_ok(self, result): self._done(result, True)
    def v2_runner_on_failed(self, result, ignore_errors=False): self._done(result, False)
    def v2_playbook_on_stats(self, stats):
        with open(os.environ['TASK_TIMER_OUT'], 'w') as f: json.dump(self.rows, f)
`,
);

const env = {
  ...process.env,
  ANSIBLE_COLLECTIONS_PATH: collections,
  ANSIBLE_CALLBACK_PLUGINS: callbacks,
  ANSIBLE_CALLBACKS_ENABLED: 'task_timer',
  ANSIBLE_LOCALHOST_WARNING: 'false',
  ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false',
  MCP_AUDIT_BROKER_DIR: brokerDir,
  // The Galaxy collection carries no runtime: take the package the build made, as an air-gapped user would.
  MCP_AUDIT_RUNTIME_SOURCE: join(root, 'build', 'runtime-packages'),
};

/**
 * Run a play of `tasks` on localhost (or on the hosts of `remote.inventory` over ssh, with
 * `remote.env`); returns wall seconds and per-task seconds. Asynchronous: in (d) the byte
 * counting relay runs in this process.
 */
async function play(tasks, name, remote) {
  const file = join(work, `${name}.yml`);
  const hosts = remote ? { hosts: 'all' } : { hosts: 'localhost', connection: 'local' };
  writeFileSync(file, JSON.stringify([{ ...hosts, gather_facts: false, tasks }]));
  const out = join(work, `${name}.json`);
  const argv = remote ? ['-i', remote.inventory, file] : [file];
  const t0 = performance.now();
  const r = await new Promise((resolve) =>
    execFile('ansible-playbook', argv, { env: { ...env, ...remote?.env, TASK_TIMER_OUT: out }, encoding: 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolve({ status: error ? error.code ?? error.signal : 0, stdout, stderr }),
    ),
  );
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${name} failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
  const rows = JSON.parse(readFileSync(out, 'utf8'));
  if (rows.some((x) => !x.ok)) throw new Error(`${name}: a task failed`);
  return { wall, rows };
}

const stopBroker = { name: 'stop broker', 'tosin2013.mcp_audit.mcp_broker': { state: 'stopped' } };
const echo = (server, reuse, i) => ({
  name: `echo ${i}`,
  'tosin2013.mcp_audit.mcp_test_tool': { ...server, server_cwd: root, tool_name: 'echo', tool_arguments: { message: `m${i}` }, expected_result: `Echo: m${i}`, connection_reuse: reuse },
});
const servers = {
  node: { server_command: 'node', server_args: [everything] },
  npx: { server_command: 'npx -y @modelcontextprotocol/server-everything' },
};

// (a) total time of N sequential calls; the pooled run pays its broker + server start inside the N.
console.log(`\n(a) ${N} sequential mcp_test_tool echo tasks, pooled (first task starts broker and server) vs connection_reuse: false;`);
console.log(`    measured as the sum of per-task times (task start -> result), median of ${ROUNDS} interleaved rounds`);
const results = {};
for (const [label, server] of Object.entries(servers)) {
  const pooled = [];
  const direct = [];
  for (let r = 0; r < ROUNDS; r++) {
    const sum = (rows) => rows.filter((x) => x.task.startsWith('echo')).reduce((t, x) => t + x.seconds, 0);
    pooled.push(sum((await play([...Array.from({ length: N }, (_, i) => echo(server, true, i)), stopBroker], `a-${label}-pooled-${r}`)).rows));
    direct.push(sum((await play(Array.from({ length: N }, (_, i) => echo(server, false, i)), `a-${label}-direct-${r}`)).rows));
  }
  const p = median(pooled);
  const d = median(direct);
  results[label] = d / p;
  console.log(`    ${label.padEnd(4)}: pooled ${fmt(p)} total (${fmt(p / N)}/task), reuse false ${fmt(d)} total (${fmt(d / N)}/task) -> pooled is ${(d / p).toFixed(1)}x faster`);
}

// (b) warm pooled task vs ping, per task, in the same kind of play.
console.log(`\n(b) per-task time of a warm pooled mcp_test_tool task vs ansible.builtin.ping; one warm-up call first,`);
console.log(`    then ${N} of each in one play, interleaved; median task time`);
const tasksB = [echo(servers.node, true, 'warmup')];
for (let i = 0; i < N; i++) tasksB.push(echo(servers.node, true, i), { name: `ping ${i}`, 'ansible.builtin.ping': {} });
tasksB.push(stopBroker);
const rowsB = [];
for (let r = 0; r < ROUNDS; r++) rowsB.push(...(await play(tasksB, `b-${r}`)).rows);
const mcpTask = median(rowsB.filter((x) => /^echo \d/.test(x.task)).map((x) => x.seconds));
const pingTask = median(rowsB.filter((x) => x.task.startsWith('ping')).map((x) => x.seconds));
console.log(`    mcp_test_tool ${fmt(mcpTask)}, ping ${fmt(pingTask)} -> ${(mcpTask / pingTask).toFixed(2)}x ping`);

// (c) the module process itself: args file in, JSON out, warm broker.
console.log(`\n(c) the compiled module as a bare process on an args file (warm broker) vs \`mcp_audit_runtime --version\`;`);
console.log(`    ${N * 2} interleaved runs of each, median wall time`);
const args = join(work, 'args.json');
writeFileSync(
  args,
  JSON.stringify({ _ansible_module_name: 'mcp_test_tool', server_command: 'node', server_args: [everything], server_cwd: root, tool_name: 'echo', tool_arguments: { message: 'x' } }),
);
const timeRun = (argv) => {
  const t0 = performance.now();
  const r = spawnSync(runtime, argv, { env: { ...process.env, MCP_AUDIT_BROKER_DIR: brokerDir }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return (performance.now() - t0) / 1000;
};
timeRun([args]); // warm the broker and the server
const moduleTimes = [];
const emptyTimes = [];
for (let i = 0; i < N * 2; i++) {
  moduleTimes.push(timeRun([args]));
  emptyTimes.push(timeRun(['--version']));
}
const m = median(moduleTimes);
const e = median(emptyTimes);
console.log(`    module ${fmt(m)}, empty start ${fmt(e)} -> ${(m / e).toFixed(2)}x`);

// The broker's memory after many calls (a leak would show here): RSS from /proc after 1,000 pooled calls.
const CALLS = Number(process.env.BENCH_RSS_CALLS ?? 1000);
writeFileSync(join(work, 'status.json'), JSON.stringify({ _ansible_module_name: 'mcp_broker', state: 'status' }));
const brokerRss = () => {
  const status = JSON.parse(spawnSync(runtime, [join(work, 'status.json')], { env: { ...process.env, MCP_AUDIT_BROKER_DIR: brokerDir }, encoding: 'utf8' }).stdout);
  const pid = status.broker?.pid;
  const kb = pid ? Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) : NaN;
  return { pid, mb: kb / 1024 };
};
const rssBefore = brokerRss();
for (let i = 0; i < CALLS; i++) timeRun([args]);
const rssAfter = brokerRss();
console.log(`\nbroker RSS: ${rssBefore.mb.toFixed(1)} MB after warm-up, ${rssAfter.mb.toFixed(1)} MB after ${CALLS} more pooled calls (pid ${rssAfter.pid})`);
writeFileSync(join(work, 'stop.json'), JSON.stringify({ _ansible_module_name: 'mcp_broker', state: 'stopped' }));
spawnSync(runtime, [join(work, 'stop.json')], { env: { ...process.env, MCP_AUDIT_BROKER_DIR: brokerDir } });

// (d) the same comparison as (b) on a remote target: sshd on loopback, reached through a relay that
// counts bytes; the tests' helpers (TypeScript) are bundled by esbuild to load them here.
console.log(`\n(d) over ssh: loopback sshd, unprivileged target user, Ansible's default ssh settings`);
console.log(`    (ControlMaster, compression) with pipelining; one warm-up call of each, then ${N} of each in`);
console.log(`    one play, interleaved; median task time, and median bytes on the wire per task (both`);
console.log(`    directions, counted by a TCP relay in front of sshd)`);
async function importTs(file) {
  const { build } = await import('esbuild');
  const outfile = join(work, file.replace(/\W/g, '_') + '.cjs');
  await build({ entryPoints: [join(root, file)], outfile, bundle: true, platform: 'node', format: 'cjs', logLevel: 'error' });
  return import(pathToFileURL(outfile).href);
}
const { startSshd, sshdUnavailable, closeSshControlMasters } = await importTs('tests/helpers/sshd.ts');
const kb = (n) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`);
let remote;
const unavailable = sshdUnavailable();
if (unavailable) {
  console.log(`    skipped: ${unavailable}`);
} else {
  const sshd = await startSshd();
  const controlPaths = join(work, 'cp');
  try {
    const server = { server_command: '/usr/bin/node', server_args: [sshd.readableByTarget(everything, join(root, 'node_modules'))] };
    // server_cwd: the target user's home (the controller's checkout may be closed to it).
    const remoteEcho = (i) => {
      const task = echo(server, true, i);
      delete task['tosin2013.mcp_audit.mcp_test_tool'].server_cwd;
      return task;
    };
    const tasksD = [remoteEcho('warmup'), { name: 'ping warmup', 'ansible.builtin.ping': {} }];
    for (let i = 0; i < N; i++) tasksD.push(remoteEcho(i), { name: `ping ${i}`, 'ansible.builtin.ping': {} });
    tasksD.push(stopBroker);
    const { rows } = await play(tasksD, 'd', {
      inventory: sshd.inventory({ ansible_python_interpreter: '/usr/bin/python3' }),
      env: { ANSIBLE_PIPELINING: '1', ANSIBLE_SSH_CONTROL_PATH_DIR: controlPaths },
    });
    const kind = (re) => rows.filter((x) => re.test(x.task));
    const bytes = (x) => sshd.relay.bytesBetween(x.started, x.finished);
    const summarize = (xs) => ({
      seconds: median(xs.map((x) => x.seconds)),
      bytes: median(xs.map((x) => bytes(x).toTarget + bytes(x).fromTarget)),
      toTarget: median(xs.map((x) => bytes(x).toTarget)),
      fromTarget: median(xs.map((x) => bytes(x).fromTarget)),
    });
    const first = bytes(kind(/^echo warmup$/)[0]);
    remote = { mcp: summarize(kind(/^echo \d/)), ping: summarize(kind(/^ping \d/)) };
    console.log(`    first mcp_test_tool task (connection, placement, broker, server): ${kb(first.toTarget + first.fromTarget)}`);
    for (const [label, r] of [['mcp_test_tool', remote.mcp], ['ping', remote.ping]]) {
      console.log(`    ${label.padEnd(13)} ${fmt(r.seconds)}/task, ${kb(r.bytes)}/task (${kb(r.toTarget)} to target, ${kb(r.fromTarget)} back)`);
    }
    console.log(`    -> mcp_test_tool is ${(remote.mcp.seconds / remote.ping.seconds).toFixed(2)}x ping`);
  } finally {
    await closeSshControlMasters(controlPaths);
    await sshd.stop();
  }
}

// (e) the security scan: what listing everything and running every rule costs a task.
console.log(`\n(e) mcp_security_scan of server-everything; one warm-up scan first, then ${N} pooled scans,`);
console.log(`    ${N} pooled mcp_server_info tasks and ${N} scans with connection_reuse: false, interleaved; median task time`);
const scan = (reuse, i) => ({ name: `scan ${reuse ? 'pooled' : 'direct'} ${i}`, 'tosin2013.mcp_audit.mcp_security_scan': { ...servers.node, server_cwd: root, connection_reuse: reuse } });
const info = (i) => ({ name: `info ${i}`, 'tosin2013.mcp_audit.mcp_server_info': { ...servers.node, server_cwd: root, connection_reuse: true } });
const tasksE = [scan(true, 'warmup')];
for (let i = 0; i < N; i++) tasksE.push(scan(true, i), info(i), scan(false, i));
tasksE.push(stopBroker);
const rowsE = (await play(tasksE, 'e')).rows;
const medianOf = (prefix) => median(rowsE.filter((x) => x.task.startsWith(prefix) && !x.task.endsWith('warmup')).map((x) => x.seconds));
const scanPooled = medianOf('scan pooled');
const scanDirect = medianOf('scan direct');
const infoPooled = medianOf('info');
console.log(`    scan pooled ${fmt(scanPooled)}, scan connection_reuse: false ${fmt(scanDirect)}, mcp_server_info pooled ${fmt(infoPooled)}`);
console.log(`    -> a pooled scan is ${(scanPooled / infoPooled).toFixed(2)}x mcp_server_info; connection_reuse: false is ${(scanDirect / scanPooled).toFixed(1)}x a pooled scan`);

console.log('\nsummary (targets from issue #3; (d) from issue #9):');
console.log(`  (a) node ${results.node.toFixed(1)}x (target >= 4x), npx ${results.npx.toFixed(1)}x (target >= 6x)`);
console.log(`  (b) ${(mcpTask / pingTask).toFixed(2)}x ping (target <= 1.3x)`);
console.log(`  (c) ${(m / e).toFixed(2)}x empty start (target <= 1.5x)`);
if (remote) {
  console.log(`  (d) ${(remote.mcp.seconds / remote.ping.seconds).toFixed(2)}x ping over ssh (target <= 1.0x), ${kb(remote.mcp.bytes)} per task (target <= 16 KB)`);
} else {
  console.log(`  (d) skipped: ${unavailable}`);
}
console.log(`  (e) security scan of server-everything: ${fmt(scanPooled)} pooled, ${fmt(scanDirect)} direct (${(scanPooled / infoPooled).toFixed(2)}x mcp_server_info)`);
rmSync(work, { recursive: true, force: true });
rmSync(brokerDir, { recursive: true, force: true });
