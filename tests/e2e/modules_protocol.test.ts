/**
 * Protocol breadth end to end, pooled in a broker the play stops:
 * pagination and tools/list_changed with servers of the tests' own
 * (tests/helpers/*.mjs, the MCP SDK's low-level Server over stdio), an older
 * protocol version (@modelcontextprotocol/server-github 2025.4.8 speaks
 * 2024-11-05), and tool annotations (server-everything).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { everythingServer, NODE, scratchDir } from './harness';
import { expectCleanEnd, GITHUB_JS, INFO, LIST_CHANGED_SERVER_JS, out, PAGED_SERVER_JS, pooledRun, PROMPT, RESOURCE, TOOL } from './modules-helpers';

const scratch = scratchDir();
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('pagination', () => {
  test('every page of tools, resources, templates and prompts is listed; a tool on the last page can be called', async () => {
    const log = join(scratch, 'paged.jsonl');
    const paged = { server_command: NODE, server_args: [PAGED_SERVER_JS], server_env: { PAGED_SERVER_LOG: log } };
    const run = await pooledRun([
      { name: 'info', [INFO]: { ...paged } },
      { name: 'last tool', [TOOL]: { ...paged, tool_name: 'page_tool_7', tool_arguments: { word: 'last' }, expected_result: 'page_tool_7 got last' } },
      { name: 'last resource', [RESOURCE]: { ...paged, resource_uri: 'paged://resource/8', expected_content: 'content of resource 8' } },
      { name: 'last prompt', [PROMPT]: { ...paged, prompt_name: 'page_prompt_4', expected_content_regex: '^prompt page_prompt_4$' } },
    ]);
    expect(run.exitCode, out(run)).toBe(0);

    const info = run.task('info').result;
    expect(info).toMatchObject({ status: 'connected', server_info: { name: 'paged-test-server', version: '1.0.0' } });
    expect(info.tools.map((t: any) => t.name)).toEqual(range(7).map((i) => `page_tool_${i}`));
    expect(info.resources.map((r: any) => r.uri)).toEqual(range(8).map((i) => `paged://resource/${i}`));
    expect(info.resource_templates.map((t: any) => t.uriTemplate)).toEqual(range(5).map((i) => `paged://template/{id}/${i}`));
    expect(info.prompts.map((p: any) => p.name)).toEqual(range(4).map((i) => `page_prompt_${i}`));
    expect(info.counts).toEqual({ tools: 7, resources: 8, resource_templates: 5, prompts: 4 });

    const last = run.task('last tool');
    expect(last.status, out(run)).toBe('ok');
    expect(last.result).toMatchObject({ test_passed: true, tool_result: { content: [{ type: 'text', text: 'page_tool_7 got last' }] }, tool_annotations: { readOnlyHint: true } });
    expect(run.task('last resource').result).toMatchObject({ test_passed: true, contents: [{ uri: 'paged://resource/8', text: 'content of resource 8' }] });
    expect(run.task('last prompt').result).toMatchObject({ test_passed: true, message_count: 1 });
    for (const name of ['last tool', 'last resource', 'last prompt']) {
      expect(run.task(name).result.connection, name).toMatchObject({ reused: true, server_pid: info.connection.server_pid });
    }

    // The server saw each list walked page by page with the cursors it handed out.
    const entries = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const offsets = (list: string) => entries.filter((e) => e.list === list).map((e) => e.offset);
    expect(offsets('tools').slice(0, 3)).toEqual([0, 3, 6]);
    expect(offsets('resources').slice(0, 3)).toEqual([0, 3, 6]);
    expect(offsets('templates').slice(0, 3)).toEqual([0, 2, 4]);
    expect(offsets('prompts').slice(0, 2)).toEqual([0, 3]);
    expect(entries.filter((e) => e.call)).toEqual([{ call: 'page_tool_7' }]);
    expectCleanEnd(run, 1);
  });
});

describe('notifications/tools/list_changed', () => {
  test("a tool added at run time can be called next task: the broker's cached tool list was refreshed", async () => {
    const announcing = { server_command: NODE, server_args: [LIST_CHANGED_SERVER_JS] };
    // Control: the same server adding its tool silently. The pooled session still
    // has the old list cached, so the call fails: what would happen without the refresh.
    const silent = { ...announcing, server_env: { LIST_CHANGED_SILENT: '1' } };
    const run = await pooledRun([
      { name: 'add', [TOOL]: { ...announcing, tool_name: 'add_tool', tool_arguments: { name: 'fresh_tool' }, expected_result: 'added fresh_tool' } },
      { name: 'call the new tool', [TOOL]: { ...announcing, tool_name: 'fresh_tool', expected_result: 'hello from fresh_tool' } },
      { name: 'info after', [INFO]: { ...announcing } },
      { name: 'silent add', [TOOL]: { ...silent, tool_name: 'add_tool', tool_arguments: { name: 'quiet_tool' }, expected_result: 'added quiet_tool (silently)' } },
      { name: 'silent call', ignore_errors: true, [TOOL]: { ...silent, tool_name: 'quiet_tool' } },
    ]);
    expect(run.exitCode, out(run)).toBe(0);

    const add = run.task('add');
    expect(add.status, out(run)).toBe('ok');
    expect(add.result).toMatchObject({ changed: true, test_passed: true, connection: { pooled: true, reused: false } });

    const fresh = run.task('call the new tool');
    expect(fresh.status, out(run)).toBe('ok');
    expect(fresh.result).toMatchObject({
      test_passed: true,
      status: 'passed',
      tool_result: { content: [{ type: 'text', text: 'hello from fresh_tool' }], is_error: false },
      tool_annotations: { readOnlyHint: true },
      // The same pooled session, not a new one that would have listed the tools afresh anyway.
      connection: { pooled: true, reused: true, reconnected: false, server_pid: add.result.connection.server_pid },
    });
    expect(run.task('info after').result.tools.map((t: any) => t.name)).toEqual(['add_tool', 'fresh_tool']);
    expect(run.task('info after').result.connection.server_pid).toBe(add.result.connection.server_pid);

    expect(run.task('silent add').status).toBe('ok');
    const quiet = run.task('silent call');
    expect(quiet.status).toBe('failed');
    expect(quiet.result.msg).toBe("tool 'quiet_tool' not found on the server; it has these tools: add_tool");
    expectCleanEnd(run, 2);
  });
});

describe('an older protocol version', () => {
  test('server-github 2025.4.8 negotiates 2024-11-05 and lists its tools', async () => {
    const github = { server_command: NODE, server_args: [GITHUB_JS], server_env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'dummy' } };
    // Only the tool listing: calling a tool would reach api.github.com.
    const run = await pooledRun([{ name: 'github info', [INFO]: { ...github } }]);
    expect(run.exitCode, out(run)).toBe(0);
    const r = run.task('github info').result;
    expect(r).toMatchObject({ status: 'connected', success: true, protocol_version: '2024-11-05', connection: { pooled: true } });
    expect(r.server_info.name).toMatch(/github/i);
    expect(r.capabilities.tools).toBeDefined();
    expect(r.capabilities.resources).toBeUndefined();
    expect(r.capabilities.prompts).toBeUndefined();
    const names = r.tools.map((t: any) => t.name);
    expect(names).toEqual(expect.arrayContaining(['create_issue', 'search_repositories', 'get_file_contents', 'create_pull_request', 'list_commits']));
    expect(new Set(names).size).toBe(names.length);
    for (const t of r.tools) {
      expect(t.inputSchema, t.name).toMatchObject({ type: 'object' });
      expect(typeof t.description, t.name).toBe('string');
    }
    expect(r.counts).toEqual({ tools: names.length, resources: 0, resource_templates: 0, prompts: 0 });
    expect(r.resources).toEqual([]);
    expect(r.prompts).toEqual([]);
    // The token in server_env is not echoed back.
    expect(JSON.stringify(r)).not.toMatch(/"GITHUB_PERSONAL_ACCESS_TOKEN":\s*"dummy"/);
    expectCleanEnd(run, 1);
  });
});

describe('tool annotations (server-everything)', () => {
  test('reported by mcp_server_info and mcp_test_tool; a tool not annotated read-only reports changed', async () => {
    const run = await pooledRun([
      { name: 'info', [INFO]: { ...everythingServer } },
      { name: 'echo', [TOOL]: { ...everythingServer, tool_name: 'echo', tool_arguments: { message: 'ro' } } },
      { name: 'toggle on', [TOOL]: { ...everythingServer, tool_name: 'toggle-simulated-logging' } },
      { name: 'toggle off', [TOOL]: { ...everythingServer, tool_name: 'toggle-simulated-logging' } },
    ]);
    expect(run.exitCode, out(run)).toBe(0);
    const tools = run.task('info').result.tools;
    const annotations = (name: string) => tools.find((t: any) => t.name === name)?.annotations;
    expect(annotations('echo')).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
    expect(annotations('toggle-simulated-logging')).toEqual({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false });

    const echo = run.task('echo');
    expect(echo.status).toBe('ok');
    expect(echo.result).toMatchObject({ changed: false, test_passed: true, tool_annotations: annotations('echo') });

    for (const name of ['toggle on', 'toggle off']) {
      const t = run.task(name);
      expect(t.status, name).toBe('ok');
      expect(t.result, name).toMatchObject({ changed: true, test_passed: true, tool_annotations: annotations('toggle-simulated-logging') });
    }
    expect(run.task('toggle on').result.tool_result.content[0].text).toMatch(/^Started simulated/);
    expect(run.task('toggle off').result.tool_result.content[0].text).toMatch(/^Stopped simulated/);
    // Ansible shows it as changed.
    expect(run.stdout).toMatch(/TASK \[toggle on\][\s\S]*?changed: \[localhost\]/);
    expectCleanEnd(run, 1);
  });
});
