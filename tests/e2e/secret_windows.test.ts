/**
 * No piece of a secret at any cut point, end to end: the hostile test server
 * (tests/helpers/hostile_server.mjs) writes its server_env secret at every
 * offset around the edge of the 4 KB stderr tail and of the 200-character
 * excerpt of a garbage stdout line, then dies, so the failed task's message
 * and details show those windows. Run at -vvv; the whole output is searched
 * for any 4-character piece of the secret.
 */
import { randomInt } from 'node:crypto';
import { expect, test } from 'vitest';
import { MIN_FRAGMENT } from '../../src/secrets';
import { hostileServer, outputOf, runPlaybook } from './harness';
const TOOL = 'tosin2013.mcp_audit.mcp_test_tool';

/** Letters no filler, key, path or Ansible message is made of, so any piece of it found is a leak. */
const ALPHABET = 'QZJKVWqzjkvw';
const secret = 'QZJ' + Array.from({ length: 24 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

function pieces(text: string): string[] {
  const found = new Set<string>();
  for (let i = 0; i + MIN_FRAGMENT <= secret.length; i++) if (text.includes(secret.slice(i, i + MIN_FRAGMENT))) found.add(secret.slice(i, i + MIN_FRAGMENT));
  return [...found];
}

/** Offsets that put the secret across an edge: wholly inside, straddling it at each character, wholly outside. */
const around = (edge: number) => Array.from({ length: secret.length + 5 }, (_, i) => edge - secret.length - 2 + i);

test.each([
  // The stderr tail keeps the last 4096 characters: `after` characters follow the secret.
  ['secret-stderr', around(4096).map((after) => ({ before: 6000, after }))],
  // The garbage excerpt keeps the first 200 characters: `before` characters precede the secret.
  ['secret-garbage', around(200).map((before) => ({ before, after: 300 }))],
])('%s: a secret at each offset around the cut shows no piece of itself', async (mode, offsets) => {
  const run = await runPlaybook(
    [
      {
        name: 'planted',
        ignore_errors: true,
        loop: offsets,
        [TOOL]: {
          ...hostileServer(mode),
          server_env: { HOSTILE_SECRET: secret },
          tool_name: 'quirk',
          tool_arguments: '{{ item }}',
        },
      },
    ],
    { verbosity: 3, timeoutMs: 300_000 },
  );
  expect(run.exitCode, outputOf(run)).toBe(0);
  const items = run.task('planted').result.results as Record<string, any>[];
  expect(items).toHaveLength(offsets.length);
  for (const item of items) {
    expect(item.failed).toBe(true);
    expect(item.msg).toMatch(/^the MCP server exited with code 3 during tools\/call/);
    if (mode === 'secret-garbage') expect(item.msg).toMatch(/non-JSON line\(s\) on stdout \(last: "x{0,200}/);
    else expect(item.server_stderr.length).toBeGreaterThan(4000);
  }
  for (const [where, text] of [
    ['stdout', run.stdout],
    ['stderr', run.stderr],
    ['results', JSON.stringify(run.results)],
  ]) {
    expect(pieces(text), `${where} shows pieces of the secret`).toEqual([]);
  }
  expect(run.leftovers).toEqual([]);
}, 300_000);
