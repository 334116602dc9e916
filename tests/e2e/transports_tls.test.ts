/**
 * validate_certs and ca_path end to end: the tests' own MCP server
 * (tests/helpers/auth_http_server.ts) served over node:https on 127.0.0.1
 * with certificates made by openssl at test time, once signed by a private CA
 * and once self-signed. Streamable HTTP and legacy SSE, pooled and not.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Task } from './harness';
import { Scenario, output } from './broker-helpers';
import { makeTestPki, portAccepts, type TestPki } from './transport-helpers';
import { startAuthServer, type AuthServer } from '../helpers/auth_http_server';

const INFO = 'tosin2013.mcp_audit.mcp_server_info';
const TOOL = 'tosin2013.mcp_audit.mcp_test_tool';
const BROKER = 'tosin2013.mcp_audit.mcp_broker';

let pki: TestPki;
let caSigned: AuthServer;
let selfSigned: AuthServer;

beforeAll(async () => {
  pki = makeTestPki();
  caSigned = await startAuthServer({ tls: { key: pki.key, cert: pki.cert } });
  selfSigned = await startAuthServer({ tls: { key: pki.selfSignedKey, cert: pki.selfSigned } });
});

afterAll(async () => {
  for (const s of [caSigned, selfSigned].filter(Boolean)) {
    await s.close();
    expect(await portAccepts(s.port)).toBe(false);
  }
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

let scenario: Scenario | undefined;
afterEach(() => {
  scenario?.cleanup();
  scenario = undefined;
});

type Http = 'http' | 'sse';
const conn = (server: AuthServer, transport: Http, extra: Record<string, unknown> = {}) => ({
  transport,
  server_url: transport === 'sse' ? server.sseUrl : server.url,
  timeout: 10,
  ...extra,
});
const echo = (name: string, c: Record<string, unknown>, ignore = false): Task => ({
  name,
  ...(ignore ? { ignore_errors: true } : {}),
  [TOOL]: { ...c, tool_name: 'echo', tool_arguments: { message: 'over tls' }, expected_result: 'Echo: over tls' },
});

describe('validate_certs and ca_path against a local HTTPS MCP server', () => {
  for (const transport of ['http', 'sse'] as const) {
    test(`${transport}: a private CA fails by default, passes with ca_path or validate_certs: false`, async () => {
      const s = (scenario = new Scenario());
      const tasks: Task[] = [];
      for (const reuse of [true, false]) {
        const mode = reuse ? 'pooled' : 'direct';
        tasks.push(
          echo(`default ${mode}`, conn(caSigned, transport, { connection_reuse: reuse }), true),
          echo(`ca_path ${mode}`, conn(caSigned, transport, { connection_reuse: reuse, ca_path: pki.caPath })),
          echo(`no validation ${mode}`, conn(caSigned, transport, { connection_reuse: reuse, validate_certs: false })),
          // A pooled insecure session must not serve a task that validates: still refused.
          echo(`default again ${mode}`, conn(caSigned, transport, { connection_reuse: reuse }), true),
        );
      }
      const run = await s.play([...tasks, { name: 'pool', [BROKER]: { state: 'status' } }, { name: 'stop', [BROKER]: { state: 'stopped' } }]);
      expect(run.exitCode, output(run)).toBe(0);
      for (const mode of ['pooled', 'direct']) {
        for (const name of [`default ${mode}`, `default again ${mode}`]) {
          const t = run.task(name);
          expect(t.status, `${name}\n${output(run)}`).toBe('failed');
          expect(t.result).toMatchObject({ success: false, status: 'failed' });
          expect(t.result.msg, name).toContain(`could not connect to ${conn(caSigned, transport).server_url}`);
          expect(t.result.msg, name).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
          expect(t.result.msg, name).toMatch(/ca_path/);
          // A certificate problem is not transient: no retries, no waiting for `timeout`.
          expect(t.result.msg, name).not.toMatch(/attempts/);
          expect(t.result.execution_time, name).toBeLessThan(10);
        }
        for (const name of [`ca_path ${mode}`, `no validation ${mode}`]) {
          const t = run.task(name);
          expect(t.status, `${name}\n${output(run)}`).toBe('ok');
          expect(t.result, name).toMatchObject({ test_passed: true, tool_result: { content: [{ type: 'text', text: 'Echo: over tls' }] }, connection: { pooled: mode === 'pooled' } });
        }
      }
      // ca_path and validate_certs are part of the pool key: two entries, never shared with a validating task.
      expect(run.task('ca_path pooled').result.connection.key).not.toBe(run.task('no validation pooled').result.connection.key);
      expect(run.task('pool').result.connections, output(run)).toHaveLength(2);
      await s.expectNothingLeft();
    });
  }

  test('a self-signed certificate: the message says so and names ca_path / validate_certs; the certificate itself as ca_path works', async () => {
    const s = (scenario = new Scenario());
    const run = await s.play([
      echo('self-signed http', conn(selfSigned, 'http'), true),
      echo('self-signed sse direct', conn(selfSigned, 'sse', { connection_reuse: false }), true),
      echo('trusted', conn(selfSigned, 'http', { ca_path: pki.selfSignedPath })),
      echo('unvalidated', conn(selfSigned, 'sse', { validate_certs: false })),
      { name: 'info', [INFO]: conn(selfSigned, 'http', { ca_path: pki.selfSignedPath, connection_reuse: false }) },
      echo('wrong ca', conn(selfSigned, 'http', { ca_path: pki.caPath }), true),
      echo('missing ca file', conn(selfSigned, 'http', { ca_path: join(pki.dir, 'nope.pem') }), true),
      { name: 'stop', [BROKER]: { state: 'stopped' } },
    ]);
    expect(run.exitCode, output(run)).toBe(0);
    for (const name of ['self-signed http', 'self-signed sse direct']) {
      const t = run.task(name);
      expect(t.status, `${name}\n${output(run)}`).toBe('failed');
      expect(t.result.msg, name).toMatch(/DEPTH_ZERO_SELF_SIGNED_CERT/);
      expect(t.result.msg, name).toMatch(/self-signed certificate/);
      expect(t.result.msg, name).toMatch(/ca_path/);
      expect(t.result.msg, name).toMatch(/validate_certs: false/);
    }
    expect(run.task('trusted').result).toMatchObject({ test_passed: true });
    expect(run.task('unvalidated').result).toMatchObject({ test_passed: true });
    expect(run.task('info').result).toMatchObject({ status: 'connected', server_info: { name: 'e2e-auth-server' } });
    // A CA that did not sign the certificate does not help.
    expect(run.task('wrong ca').status, output(run)).toBe('failed');
    expect(run.task('wrong ca').result.msg).toMatch(/could not connect to https:\/\/127\.0\.0\.1:\d+\/mcp: DEPTH_ZERO_SELF_SIGNED_CERT/);
    expect(run.task('missing ca file').status).toBe('failed');
    expect(run.task('missing ca file').result.msg).toMatch(/cannot read ca_path .*nope\.pem: no such file/);
    await s.expectNothingLeft();
  });
});
