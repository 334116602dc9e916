/**
 * mcp_test_prompt end to end: real ansible-playbook, the installed
 * collection, real @modelcontextprotocol/server-everything (behind `tee` where
 * a test must prove what was sent), pooled in a broker the play stops.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { everythingServer, scratchDir } from './harness';
import { expectCleanEnd, INFO, loggedEverything, out, pooledRun, PROMPT } from './modules-helpers';

const scratch = scratchDir();
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const EVERYTHING_PROMPTS = ['args-prompt', 'completable-prompt', 'resource-prompt', 'simple-prompt'];

describe('mcp_test_prompt (server-everything)', () => {
  test('args-prompt with a city passes and its message names the city', async () => {
    const logged = loggedEverything(scratch, 'args');
    const run = await pooledRun([
      { name: 'city', [PROMPT]: { ...logged.server, prompt_name: 'args-prompt', prompt_arguments: { city: 'Ouagadougou' }, expected_content_regex: '\\bOuagadougou\\b' } },
      { name: 'city and state', [PROMPT]: { ...logged.server, name: 'args-prompt', arguments: { city: 'Kumasi', state: 'Ashanti' }, expected_messages_min: 1 } },
      // MCP prompt arguments are strings: other values are converted.
      { name: 'number', [PROMPT]: { ...logged.server, prompt_name: 'args-prompt', prompt_arguments: { city: 42 } } },
    ]);
    expect(run.exitCode, out(run)).toBe(0);

    const city = run.task('city');
    expect(city.status).toBe('ok');
    expect(city.result).toMatchObject({
      changed: false,
      success: true,
      test_passed: true,
      status: 'passed',
      prompt_name: 'args-prompt',
      message_count: 1,
      validation: { valid: true, matches_expected: true, errors: [], warnings: [] },
      connection: { pooled: true },
    });
    expect(city.result.msg).toBeUndefined();
    expect(city.result.messages).toHaveLength(1);
    expect(city.result.messages[0].role).toBe('user');
    expect(city.result.messages[0].content).toMatchObject({ type: 'text' });
    expect(city.result.messages[0].content.text).toContain('Ouagadougou');
    expect(city.result.prompt_definition).toMatchObject({ name: 'args-prompt' });
    expect(city.result.prompt_definition.arguments).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'city', required: true }), expect.objectContaining({ name: 'state', required: false })]),
    );

    const both = run.task('city and state');
    expect(both.status, out(run)).toBe('ok');
    expect(both.result.messages[0].content.text).toContain('Kumasi');
    expect(both.result.messages[0].content.text).toContain('Ashanti');

    const number = run.task('number');
    expect(number.status, out(run)).toBe('ok');
    expect(number.result.messages[0].content.text).toContain('42');

    const gets = logged.methods().filter((m) => m.startsWith('prompts/get'));
    expect(gets).toEqual(['prompts/get:args-prompt', 'prompts/get:args-prompt', 'prompts/get:args-prompt']);
    expectCleanEnd(run, 1);
  });

  test('a missing required argument fails naming it, and nothing is sent', async () => {
    const missing = loggedEverything(scratch, 'missing');
    const unknownArg = loggedEverything(scratch, 'unknown-arg');
    const run = await pooledRun([
      { name: 'no city', ignore_errors: true, [PROMPT]: { ...missing.server, prompt_name: 'args-prompt', prompt_arguments: { state: 'Kadiogo' } } },
      { name: 'no arguments', ignore_errors: true, [PROMPT]: { ...missing.server, prompt_name: 'args-prompt' } },
      { name: 'unknown argument', ignore_errors: true, [PROMPT]: { ...unknownArg.server, prompt_name: 'args-prompt', prompt_arguments: { city: 'Tamale', country: 'Ghana' } } },
    ]);
    expect(run.exitCode, out(run)).toBe(0);

    for (const name of ['no city', 'no arguments']) {
      const t = run.task(name);
      expect(t.status, name).toBe('failed');
      expect(t.result, name).toMatchObject({ success: false, test_passed: false, status: 'failed', prompt_name: 'args-prompt' });
      expect(t.result.msg, name).toBe("prompt 'args-prompt' requires argument(s) city in prompt_arguments; it declares: city (required), state");
      expect(t.result.messages, name).toBeUndefined();
    }
    const u = run.task('unknown argument');
    expect(u.status).toBe('failed');
    expect(u.result.msg).toBe("prompt 'args-prompt' has no argument(s) country; it declares: city, state");

    // What reached the servers: the prompt list, never prompts/get.
    for (const logged of [missing, unknownArg]) {
      const methods = logged.methods();
      expect(methods).toContain('initialize');
      expect(methods).toContain('prompts/list');
      expect(methods.filter((m) => m.startsWith('prompts/get'))).toEqual([]);
    }
    expectCleanEnd(run, 2);
  });

  test("an unknown prompt fails listing the server's prompts", async () => {
    const run = await pooledRun([
      { name: 'info', [INFO]: { ...everythingServer } },
      { name: 'unknown', ignore_errors: true, [PROMPT]: { ...everythingServer, prompt_name: 'no-such-prompt' } },
    ]);
    expect(run.exitCode, out(run)).toBe(0);
    const listed = run.task('info').result.prompts.map((p: any) => p.name).sort();
    expect(listed).toEqual(EVERYTHING_PROMPTS);
    const u = run.task('unknown');
    expect(u.status).toBe('failed');
    expect(u.result).toMatchObject({ success: false, test_passed: false, status: 'failed', prompt_name: 'no-such-prompt' });
    expect(u.result.msg).toBe(`prompt 'no-such-prompt' not found on the server; it has these prompts: ${listed.join(', ')}`);
    expect(u.result.available_prompts).toEqual(listed);
    expectCleanEnd(run, 1);
  });

  test('expected_messages_min higher than what the prompt returns fails', async () => {
    const run = await pooledRun([
      { name: 'too few', ignore_errors: true, [PROMPT]: { ...everythingServer, prompt_name: 'simple-prompt', expected_messages_min: 3 } },
      { name: 'regex mismatch', ignore_errors: true, [PROMPT]: { ...everythingServer, prompt_name: 'args-prompt', prompt_arguments: { city: 'Lagos' }, expected_content_regex: 'Abuja' } },
      { name: 'enough', [PROMPT]: { ...everythingServer, prompt_name: 'simple-prompt', expected_messages_min: 1 } },
    ]);
    expect(run.exitCode, out(run)).toBe(0);
    const few = run.task('too few');
    expect(few.status).toBe('failed');
    // The prompt was returned (success), but the check failed.
    expect(few.result).toMatchObject({ success: true, test_passed: false, status: 'failed', message_count: 1, validation: { valid: false } });
    expect(few.result.msg).toBe("prompt 'simple-prompt' test failed: expected at least 3 message(s), got 1");
    expect(few.result.messages).toHaveLength(1);

    const regex = run.task('regex mismatch');
    expect(regex.status).toBe('failed');
    expect(regex.result.msg).toBe(`prompt 'args-prompt' test failed: no message text matches "Abuja"`);
    expect(regex.result.validation.matches_expected).toBe(false);

    expect(run.task('enough').status, out(run)).toBe('ok');
    expect(run.task('enough').result).toMatchObject({ test_passed: true, message_count: 1 });
    expectCleanEnd(run, 1);
  });
});
