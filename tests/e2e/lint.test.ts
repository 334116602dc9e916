/**
 * ansible-lint (scripts/lint.sh: Debian 13's ansible-lint on the 2.19 lane's
 * ansible-core) at the collection root passes the production profile, and
 * checks task options against the modules: a misspelled or wrong option in a
 * playbook fails the lint, naming it. On the 2.19 lane only (the script brings
 * its own ansible-core).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { REPO_ROOT } from './harness';

const lane = process.env.MCP_AUDIT_ANSIBLE_LANE;

function lint(...args: string[]) {
  const run = spawnSync('sh', [join(REPO_ROOT, 'scripts', 'lint.sh'), ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  return { status: run.status, out: `${run.stdout}\n${run.stderr}` };
}

describe.runIf(lane === '2.19')('ansible-lint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-lint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function playbook(name: string, task: Record<string, unknown>): string {
    const path = join(dir, `${name}.yml`);
    writeFileSync(path, `---\n${stringify([{ name: 'Lint check', hosts: 'localhost', gather_facts: false, tasks: [{ name: 'Call a tool', ...task }] }])}`);
    return path;
  }

  test('the collection passes the production profile and every default rule', () => {
    const { status, out } = lint();
    expect(status, out).toBe(0);
    expect(out).toContain("Profile 'production' was required, and it passed.");
    expect(out).not.toMatch(/Traceback/);
  }, 320_000);

  test('a misspelled or invalid option fails the lint', () => {
    const server = { server_command: 'npx -y @modelcontextprotocol/server-everything' };
    const good = playbook('good', { 'tosin2013.mcp_audit.mcp_test_tool': { ...server, tool_name: 'echo', tool_arguments: { message: 'hi' } } });
    const typo = playbook('typo', { 'tosin2013.mcp_audit.mcp_test_tool': { ...server, tool_name: 'echo', tool_argumnts: { message: 'hi' } } });
    const missing = playbook('missing', { 'tosin2013.mcp_audit.mcp_test_tool': { ...server, tool_nam: 'echo' } });
    const choice = playbook('choice', { 'tosin2013.mcp_audit.mcp_server_info': { ...server, transport: 'carrier_pigeon' } });

    const ok = lint(good);
    expect(ok.status, ok.out).toBe(0);
    const bad = lint(typo, missing, choice);
    expect(bad.status, bad.out).not.toBe(0);
    expect(bad.out).toMatch(/args\[module\]: Unsupported parameters for .*tool_argumnts/);
    expect(bad.out).toMatch(/args\[module\]: missing required arguments: tool_name/);
    expect(bad.out).toMatch(/args\[module\]: value of transport must be one of: stdio, sse, http, streamable_http, got: carrier_pigeon/);
  }, 320_000);
});
