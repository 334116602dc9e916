/**
 * mcp_test_resource end to end: real ansible-playbook, the installed
 * collection, real @modelcontextprotocol/server-everything, pooled in a broker
 * that the play stops at its end (see ./modules-helpers.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { everythingServer } from './harness';
import { ARCHITECTURE_MD, ARCHITECTURE_URI, expectCleanEnd, out, pooledRun, RESOURCE } from './modules-helpers';

const read = (name: string, options: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name,
  [RESOURCE]: { ...everythingServer, ...options },
  ...extra,
});
const failing = (name: string, options: Record<string, unknown>) => read(name, options, { ignore_errors: true });

describe('mcp_test_resource (server-everything)', () => {
  test('passing checks: content type, a (?i) regex, exact content; a text template; resource_templates', async () => {
    const document = readFileSync(ARCHITECTURE_MD, 'utf8');
    const run = await pooledRun([
      read('markdown', { resource_uri: ARCHITECTURE_URI, expected_content_type: 'text/markdown', expected_content_regex: '(?i)^# EVERYTHING SERVER' }),
      read('exact', { uri: ARCHITECTURE_URI, expected_content: document }),
      read('template', { resource_uri: 'demo://resource/dynamic/text/3', expected_content_type: 'text/plain', expected_content_regex: '^Resource 3: This is a plaintext resource' }),
    ]);
    expect(run.exitCode, out(run)).toBe(0);

    const md = run.task('markdown');
    expect(md.status).toBe('ok');
    expect(md.result).toMatchObject({
      changed: false,
      success: true,
      test_passed: true,
      status: 'passed',
      resource_uri: ARCHITECTURE_URI,
      content_type: 'text/markdown',
      validation: { valid: true, matches_expected: true, errors: [], warnings: [] },
      connection: { pooled: true, reused: false },
    });
    expect(md.result.msg).toBeUndefined();
    expect(md.result.contents).toHaveLength(1);
    expect(md.result.contents[0]).toMatchObject({ uri: ARCHITECTURE_URI, mime_type: 'text/markdown' });
    expect(md.result.contents[0].text).toBe(document);
    expect(typeof md.result.execution_time).toBe('number');
    // The server's templates come with every read, so a play can see what URIs it accepts.
    const templates = md.result.resource_templates.map((t: any) => t.uriTemplate).sort();
    expect(templates).toEqual(['demo://resource/dynamic/blob/{resourceId}', 'demo://resource/dynamic/text/{resourceId}']);
    expect(md.result.resource_templates.find((t: any) => t.uriTemplate.includes('/text/'))).toMatchObject({ name: 'Dynamic Text Resource', mimeType: 'text/plain' });

    const exact = run.task('exact');
    expect(exact.status, out(run)).toBe('ok');
    expect(exact.result).toMatchObject({ test_passed: true, status: 'passed', validation: { matches_expected: true, errors: [] } });
    // The alias `uri` is reported under the option's name.
    expect(exact.result.invocation.module_args.resource_uri).toBe(ARCHITECTURE_URI);

    const tpl = run.task('template');
    expect(tpl.status, out(run)).toBe('ok');
    expect(tpl.result).toMatchObject({ test_passed: true, content_type: 'text/plain', contents: [{ uri: 'demo://resource/dynamic/text/3', mime_type: 'text/plain' }] });
    expect(tpl.result.contents[0].text).toMatch(/^Resource 3: This is a plaintext resource created at /);

    // One pooled server served every read.
    expect(exact.result.connection).toMatchObject({ pooled: true, reused: true, server_pid: md.result.connection.server_pid });
    expect(tpl.result.connection.server_pid).toBe(md.result.connection.server_pid);
    expectCleanEnd(run, 1);
  });

  test('failing checks fail the task and the msg says why', async () => {
    const run = await pooledRun([
      failing('wrong type', { resource_uri: ARCHITECTURE_URI, expected_content_type: 'text/plain' }),
      failing('regex mismatch', { resource_uri: ARCHITECTURE_URI, expected_content_regex: 'no such words in the document' }),
      // Without (?i) the same pattern is case-sensitive and does not match.
      failing('case matters', { resource_uri: ARCHITECTURE_URI, expected_content_regex: '^# EVERYTHING SERVER' }),
      failing('content mismatch', { resource_uri: ARCHITECTURE_URI, expected_content: 'not the document' }),
      failing('bad regex', { resource_uri: ARCHITECTURE_URI, expected_content_regex: '([' }),
      failing('two problems', { resource_uri: ARCHITECTURE_URI, expected_content_type: 'application/json', expected_content_regex: '^\\{' }),
    ]);
    expect(run.exitCode, out(run)).toBe(0); // every failure was ignored

    const expectFailed = (name: string) => {
      const t = run.task(name);
      expect(t.status, `${name}\n${out(run)}`).toBe('failed');
      expect(t.ignore_errors).toBe(true);
      // The read worked (success), the test did not pass.
      expect(t.result, name).toMatchObject({ success: true, test_passed: false, status: 'failed', resource_uri: ARCHITECTURE_URI, content_type: 'text/markdown' });
      expect(t.result.validation.valid, name).toBe(false);
      return t.result;
    };

    const type = expectFailed('wrong type');
    expect(type.msg).toBe(`resource '${ARCHITECTURE_URI}' test failed: expected content type text/plain, got text/markdown`);
    expect(type.validation.errors).toEqual(['expected content type text/plain, got text/markdown']);
    expect(type.validation.matches_expected).toBeNull();

    const regex = expectFailed('regex mismatch');
    expect(regex.msg).toBe(`resource '${ARCHITECTURE_URI}' test failed: content does not match expected_content_regex "no such words in the document"`);
    expect(regex.validation.matches_expected).toBe(false);

    expect(expectFailed('case matters').msg).toBe(`resource '${ARCHITECTURE_URI}' test failed: content does not match expected_content_regex "^# EVERYTHING SERVER"`);

    const content = expectFailed('content mismatch');
    expect(content.msg).toMatch(new RegExp(`^resource '${ARCHITECTURE_URI}' test failed: content does not equal expected_content \\(got "# Everything Server`));
    expect(content.validation.matches_expected).toBe(false);
    // The preview in the message is bounded, not the whole document.
    expect(content.msg.length).toBeLessThan(400);

    expect(expectFailed('bad regex').msg).toMatch(/^resource '[^']+' test failed: expected_content_regex is not a valid regular expression: /);

    const two = expectFailed('two problems');
    expect(two.validation.errors).toEqual(['expected content type application/json, got text/markdown', 'content does not match expected_content_regex "^\\\\{"']);
    expect(two.msg).toBe(`resource '${ARCHITECTURE_URI}' test failed: ${two.validation.errors.join('; ')}`);
    expectCleanEnd(run, 1);
  });

  test('a blob resource is reported by size and MIME type, never dumped', async () => {
    const run = await pooledRun(
      [
        read('blob', { resource_uri: 'demo://resource/dynamic/blob/5' }),
        failing('blob with text expectation', { resource_uri: 'demo://resource/dynamic/blob/5', expected_content_regex: 'Resource 5' }),
      ],
      { verbosity: 1 }, // -v prints task results on stdout: they must not hold the blob either
    );
    expect(run.exitCode, out(run)).toBe(0);
    const blob = run.task('blob');
    expect(blob.status).toBe('ok');
    expect(blob.result).toMatchObject({ test_passed: true, status: 'passed', resource_uri: 'demo://resource/dynamic/blob/5' });
    expect(blob.result.contents).toHaveLength(1);
    const item = blob.result.contents[0];
    expect(Object.keys(item).sort()).toEqual(['blob_size', 'mime_type', 'uri']);
    expect(item.uri).toBe('demo://resource/dynamic/blob/5');
    // server-everything labels its blob text/plain (its template says application/octet-stream); the module reports what the content says.
    expect(item.mime_type).toBe('text/plain');
    expect(blob.result.content_type).toBe('text/plain');
    // 1.1.x's resource_content keeps MCP's field names, with the blob's size instead of the blob.
    expect(blob.result.resource_content.contents).toEqual([{ uri: 'demo://resource/dynamic/blob/5', mimeType: 'text/plain', blob_size: item.blob_size }]);
    // The blob decodes to "Resource 5: This is a base64 blob created at <time>": its size in bytes, not base64 characters.
    expect(Number.isInteger(item.blob_size)).toBe(true);
    expect(item.blob_size).toBeGreaterThanOrEqual('Resource 5: This is a base64 blob created at 1:00:00 AM'.length - 3);
    expect(item.blob_size).toBeLessThan(100);
    // No base64 anywhere: "UmVzb3VyY2Ug" is base64 of "Resource ".
    const b64 = Buffer.from('Resource ').toString('base64');
    expect(b64).toBe('UmVzb3VyY2Ug');
    expect(JSON.stringify(run.results)).not.toContain(b64);
    expect(run.stdout).not.toContain(b64);
    expect(run.stdout).toContain('blob_size'); // the -v output did print the result

    const text = run.task('blob with text expectation');
    expect(text.status).toBe('failed');
    expect(text.result.validation.warnings).toEqual(['the resource is binary (blob); text expectations cannot match it']);
    expect(text.result.msg).toBe(`resource 'demo://resource/dynamic/blob/5' test failed: content does not match expected_content_regex "Resource 5"`);
    expectCleanEnd(run, 1);
  });

  test('an unknown URI fails clearly, and the pooled server keeps serving', async () => {
    const unknown = 'demo://resource/static/document/no-such-document.md';
    const run = await pooledRun([
      failing('unknown', { resource_uri: unknown }),
      read('after', { resource_uri: ARCHITECTURE_URI, expected_content_type: 'text/markdown' }),
    ]);
    expect(run.exitCode, out(run)).toBe(0);
    const u = run.task('unknown');
    expect(u.status).toBe('failed');
    expect(u.result).toMatchObject({ success: false, test_passed: false, status: 'failed', resource_uri: unknown });
    expect(u.result.msg).toMatch(/^the MCP server answered resources\/read with error -32602: /);
    expect(u.result.msg).toContain(`Resource ${unknown} not found`);
    expect(u.result.error).toBe(u.result.msg);
    expect(u.result.contents).toBeUndefined();
    const after = run.task('after');
    expect(after.status, out(run)).toBe('ok');
    expect(after.result.connection).toMatchObject({ pooled: true, reused: true, reconnected: false });
    expectCleanEnd(run, 1);
  });
});
