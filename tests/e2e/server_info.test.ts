/**
 * mcp_server_info end to end against real servers (connection_reuse: false
 * from the harness's module_defaults).
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { everythingServer, filesystemServer, outputOf, runPlaybook, scratchDir } from './harness';

const INFO = 'tosin2013.mcp_audit.mcp_server_info';
const scratch = scratchDir();
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('mcp_server_info', () => {
  test('server-everything: identity, protocol version, capabilities, complete lists and their counts', async () => {
    const run = await runPlaybook([
      { name: 'info', [INFO]: { ...everythingServer } },
      { name: 'initialize only', [INFO]: { ...everythingServer, include_lists: false } },
    ]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    const r = run.task('info').result;
    expect(r).toMatchObject({ changed: false, success: true, status: 'connected', server_info: { name: 'mcp-servers/everything' } });
    expect(r.server_info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(SUPPORTED_PROTOCOL_VERSIONS).toContain(r.protocol_version);
    expect(Object.keys(r.capabilities)).toEqual(expect.arrayContaining(['tools', 'resources', 'prompts']));
    expect(typeof r.instructions).toBe('string');

    const toolNames = r.tools.map((t: any) => t.name);
    expect(toolNames).toEqual(expect.arrayContaining(['echo', 'get-sum', 'get-structured-content', 'toggle-simulated-logging']));
    const echo = r.tools.find((t: any) => t.name === 'echo');
    expect(echo.inputSchema).toMatchObject({ type: 'object', properties: { message: { type: 'string' } }, required: ['message'] });
    expect(echo.annotations).toMatchObject({ readOnlyHint: true });
    expect(r.tools.find((t: any) => t.name === 'get-structured-content').outputSchema).toMatchObject({ type: 'object' });
    expect(r.resources.length).toBeGreaterThan(0);
    for (const res of r.resources) expect(typeof res.uri).toBe('string');
    expect(r.resource_templates.map((t: any) => t.uriTemplate)).toContain('demo://resource/dynamic/text/{resourceId}');
    expect(r.prompts.map((p: any) => p.name)).toEqual(expect.arrayContaining(['simple-prompt', 'args-prompt']));
    expect(r.counts).toEqual({ tools: r.tools.length, resources: r.resources.length, resource_templates: r.resource_templates.length, prompts: r.prompts.length });
    expect(new Set(toolNames).size).toBe(toolNames.length); // pages were not repeated
    expect(r.connection).toMatchObject({ reused: false, pooled: false, attempts: 1 });
    expect(r.invocation.module_args).toMatchObject({ include_lists: true, connection_reuse: false });

    const bare = run.task('initialize only').result;
    expect(bare).toMatchObject({ status: 'connected', server_info: { name: 'mcp-servers/everything' }, protocol_version: r.protocol_version });
    for (const key of ['tools', 'resources', 'resource_templates', 'prompts', 'counts']) expect(bare[key], key).toBeUndefined();
    expect(run.leftovers).toEqual([]);
  });

  test('server-filesystem: lists the server lacks the capability for are empty', async () => {
    const run = await runPlaybook([{ name: 'fs info', [INFO]: { ...filesystemServer(scratch) } }]);
    expect(run.exitCode, outputOf(run)).toBe(0);
    const r = run.task('fs info').result;
    expect(r).toMatchObject({ status: 'connected', server_info: { name: 'secure-filesystem-server' } });
    expect(r.tools.map((t: any) => t.name)).toEqual(expect.arrayContaining(['read_text_file', 'write_file', 'list_allowed_directories']));
    expect(r.capabilities.prompts).toBeUndefined();
    expect(r.prompts).toEqual([]);
    expect(r.counts).toEqual({ tools: r.tools.length, resources: r.resources.length, resource_templates: r.resource_templates.length, prompts: 0 });
    expect(run.leftovers).toEqual([]);
  });
});
