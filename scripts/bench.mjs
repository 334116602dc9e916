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
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
        self.name = task.get_name()
    def _done(self, result, ok):
        self.rows.append({'task': self.name, 'seconds': time.perf_counter() - self.start, 'ok': ok})
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

/** Run a play of `tasks`; returns wall seconds and per-task seconds. */
function play(tasks, name) {
  const file = join(work, `${name}.yml`);
  writeFileSync(file, JSON.stringify([{ hosts: 'localhost', connection: 'local', gather_facts: false, tasks }]));
  const out = join(work, `${name}.json`);
  const t0 = performance.now();
  const r = spawnSync('ansible-playbook', [file], { env: { ...env, TASK_TIMER_OUT: out }, encoding: 'utf8' });
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
    pooled.push(sum(play([...Array.from({ length: N }, (_, i) => echo(server, true, i)), stopBroker], `a-${label}-pooled-${r}`).rows));
    direct.push(sum(play(Array.from({ length: N }, (_, i) => echo(server, false, i)), `a-${label}-direct-${r}`).rows));
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
for (let r = 0; r < ROUNDS; r++) rowsB.push(...play(tasksB, `b-${r}`).rows);
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
writeFileSync(join(work, 'stop.json'), JSON.stringify({ _ansible_module_name: 'mcp_broker', state: 'stopped' }));
spawnSync(runtime, [join(work, 'stop.json')], { env: { ...process.env, MCP_AUDIT_BROKER_DIR: brokerDir } });

console.log('\nsummary (targets from issue #3):');
console.log(`  (a) node ${results.node.toFixed(1)}x (target >= 4x), npx ${results.npx.toFixed(1)}x (target >= 6x)`);
console.log(`  (b) ${(mcpTask / pingTask).toFixed(2)}x ping (target <= 1.3x)`);
console.log(`  (c) ${(m / e).toFixed(2)}x empty start (target <= 1.5x)`);
rmSync(work, { recursive: true, force: true });
rmSync(brokerDir, { recursive: true, force: true });
