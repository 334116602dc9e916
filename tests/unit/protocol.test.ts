/**
 * Ansible's binary-module protocol (src/ansible/protocol.ts): reading the args
 * file, masking no_log values, turning errors into failed results, and the
 * whole round trip through the compiled program (`node plugins/runtime/mcp_audit.cjs <args>`).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureResult, maskSecrets, NO_LOG_PLACEHOLDER, readArgsFile } from '../../src/ansible/protocol';
import { McpAuditError, ModuleFailure } from '../../src/errors';

const ROOT = resolve(__dirname, '../..');
const RUNTIME = join(ROOT, 'plugins', 'runtime', 'mcp_audit.cjs');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-audit-protocol-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeArgs(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('readArgsFile', () => {
  it('fails clearly without a path', () => {
    expect(() => readArgsFile(undefined)).toThrow(ModuleFailure);
    expect(() => readArgsFile(undefined)).toThrow('no args file given');
  });

  it('fails clearly on a missing file', () => {
    const path = join(dir, 'does-not-exist.json');
    expect(() => readArgsFile(path)).toThrow(`cannot read args file ${path}: no such file`);
  });

  it('fails clearly on a path that cannot be read (a directory)', () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub, { recursive: true });
    expect(() => readArgsFile(sub)).toThrow(ModuleFailure);
    expect(() => readArgsFile(sub)).toThrow(`cannot read args file ${sub}: `);
  });

  it.runIf(process.getuid?.() !== 0)('fails clearly on an unreadable file', () => {
    const path = writeArgs('unreadable.json', '{}');
    chmodSync(path, 0o000);
    expect(() => readArgsFile(path)).toThrow(`cannot read args file ${path}: `);
  });

  it('rejects text that is not JSON', () => {
    const path = writeArgs('not-json.json', 'tool_name=echo');
    expect(() => readArgsFile(path)).toThrow(ModuleFailure);
    expect(() => readArgsFile(path)).toThrow(`args file ${path} is not valid JSON`);
  });

  it.each([
    ['a JSON array', '[1, 2]'],
    ['JSON null', 'null'],
    ['a JSON string', '"text"'],
    ['a JSON number', '42'],
  ])('rejects %s', (_, content) => {
    const path = writeArgs('not-object.json', content);
    expect(() => readArgsFile(path)).toThrow(`args file ${path} must hold a JSON object of options`);
  });

  it('splits the _ansible_* keys from the options', () => {
    const path = writeArgs(
      'good.json',
      JSON.stringify({ tool_name: 'echo', ansible_like: 1, _ansible_check_mode: true, _ansible_module_name: 'mcp_test_tool', _ansible_verbosity: 3 }),
    );
    expect(readArgsFile(path)).toEqual({
      options: { tool_name: 'echo', ansible_like: 1 },
      internal: { _ansible_check_mode: true, _ansible_module_name: 'mcp_test_tool', _ansible_verbosity: 3 },
    });
  });
});

describe('maskSecrets', () => {
  const secrets = new Set(['s3cr3t', 'tok']);

  it('replaces a value equal to a secret with the no_log placeholder', () => {
    expect(NO_LOG_PLACEHOLDER).toBe('VALUE_SPECIFIED_IN_NO_LOG_PARAMETER');
    expect(maskSecrets('s3cr3t', secrets)).toBe(NO_LOG_PLACEHOLDER);
  });

  it('replaces a secret inside a longer string with ********', () => {
    expect(maskSecrets('error: bad key s3cr3t (s3cr3t)', secrets)).toBe('error: bad key ******** (********)');
  });

  it('walks nested arrays and dicts', () => {
    const result = { a: ['x', 's3cr3t', { deep: 'use tok here' }], b: { c: { d: 's3cr3t' } }, n: 5, nil: null, yes: true };
    expect(maskSecrets(result, secrets)).toEqual({
      a: ['x', NO_LOG_PLACEHOLDER, { deep: 'use ******** here' }],
      b: { c: { d: NO_LOG_PLACEHOLDER } },
      n: 5,
      nil: null,
      yes: true,
    });
  });

  it('masks secrets in dict keys', () => {
    expect(maskSecrets({ s3cr3t: 1, 'key-tok': 2 }, secrets)).toEqual({ [NO_LOG_PLACEHOLDER]: 1, 'key-********': 2 });
  });

  it('masks the longest secret first, so a secret containing another is masked whole', () => {
    const s = new Set(['abc', 'abcdef123']);
    expect(maskSecrets('value=abcdef123;', s)).toBe('value=********;');
    expect(maskSecrets('value=abcdef123;', s)).not.toContain('def123');
    expect(maskSecrets('short abc', s)).toBe('short ********');
  });

  it('masks a number equal to a secret', () => {
    expect(maskSecrets({ port: 8443, other: 80 }, new Set(['8443']))).toEqual({ port: NO_LOG_PLACEHOLDER, other: 80 });
  });

  it('does not copy when there are no secrets', () => {
    const v = { a: 1 };
    expect(maskSecrets(v, new Set())).toBe(v);
  });

  it('does not change the input', () => {
    const v = { a: 's3cr3t' };
    maskSecrets(v, secrets);
    expect(v).toEqual({ a: 's3cr3t' });
  });
});

describe('failureResult', () => {
  it('turns a ModuleFailure into its msg plus its details', () => {
    const e = new ModuleFailure('server exited with code 1', { stderr_tail: 'boom', exit_code: 1 });
    expect(failureResult(e)).toEqual({ failed: true, msg: 'server exited with code 1', stderr_tail: 'boom', exit_code: 1 });
  });

  it('treats McpAuditError as a ModuleFailure', () => {
    const e = new McpAuditError('timeout', 'timed out after 5 s', { timeout: 5 });
    expect(failureResult(e, 5)).toEqual({ failed: true, msg: 'timed out after 5 s', timeout: 5 });
  });

  it('never adds an exception to a ModuleFailure, even at high verbosity', () => {
    expect(failureResult(new ModuleFailure('x'), 4)).not.toHaveProperty('exception');
  });

  it('reports any other error as an internal error', () => {
    const r = failureResult(new TypeError('cannot read properties of undefined'));
    expect(r).toEqual({ failed: true, msg: 'internal error in the module: cannot read properties of undefined' });
  });

  it('reports a thrown non-Error value', () => {
    expect(failureResult('plain string').msg).toBe('internal error in the module: plain string');
  });

  it('carries the stack as `exception` only at verbosity >= 3', () => {
    const e = new RangeError('bad range');
    expect(failureResult(e, 0)).not.toHaveProperty('exception');
    expect(failureResult(e, 2)).not.toHaveProperty('exception');
    const r = failureResult(e, 3);
    expect(r.exception).toBe(e.stack);
    expect(String(r.exception)).toContain('RangeError: bad range');
  });
});

/**
 * End to end through the bundled runtime. Everything here stays away from the
 * broker (connection_reuse: false) and from real servers (a command that does
 * not exist).
 */
describe('the runtime, end to end', () => {
  beforeAll(() => {
    if (!existsSync(RUNTIME)) {
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
      if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stderr}`);
    }
  }, 600_000);

  interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
    result: Record<string, any>;
  }

  function run(argsPath: string): Run {
    const p = spawnSync(process.execPath, [RUNTIME, argsPath], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env } });
    const lines = p.stdout.trim().split('\n');
    expect(lines, `stdout must be one JSON line, got: ${p.stdout}\nstderr: ${p.stderr}`).toHaveLength(1);
    return { code: p.status, stdout: p.stdout, stderr: p.stderr, result: JSON.parse(lines[0]) };
  }

  const runWith = (name: string, args: Record<string, unknown>) => run(writeArgs(name, JSON.stringify(args)));

  const NOT_FOUND = { server_command: '/nonexistent/cmd', connection_reuse: false, max_connection_retries: 0 };

  it('fails clearly on a missing args file', () => {
    const missing = join(dir, 'no-such-args.json');
    const { code, result } = run(missing);
    expect(code).not.toBe(0);
    expect(result.failed).toBe(true);
    expect(result.msg).toBe(`cannot read args file ${missing}: no such file`);
  });

  it('fails clearly on an args file that is not JSON', () => {
    const path = writeArgs('e2e-not-json', 'tool_name=echo server_command=x');
    const { code, result } = run(path);
    expect(code).not.toBe(0);
    expect(result.failed).toBe(true);
    expect(result.msg).toContain(`args file ${path} is not valid JSON`);
    expect(result.msg).toContain('JSON object');
  });

  it('rejects an unknown option and lists the supported parameters, without touching a server', () => {
    const { code, result } = runWith('e2e-unknown.json', { _ansible_module_name: 'mcp_test_tool', tool_name: 'echo', no_such_option: 1, ...NOT_FOUND });
    expect(code).not.toBe(0);
    expect(result.failed).toBe(true);
    expect(result.msg).toContain('Unsupported parameters for (mcp_test_tool) module: no_such_option.');
    expect(result.msg).toMatch(/Supported parameters include: .*server_command.*tool_arguments \(arguments\).*tool_name \(name\)/);
    expect(result.msg).not.toContain('not found');
    expect(result.msg).not.toContain('does not exist');
    expect(result.invocation.module_args.tool_name).toBe('echo');
  });

  it('fails on a server command that does not exist, saying so, with invocation', () => {
    const { code, result } = runWith('e2e-not-found.json', { _ansible_module_name: 'tosin2013.mcp_audit.mcp_server_info', ...NOT_FOUND });
    expect(code).not.toBe(0);
    expect(result.failed).toBe(true);
    expect(result.changed).toBe(false);
    expect(result.msg).toMatch(/\/nonexistent\/cmd.*(not found|does not exist)/);
    expect(result.invocation.module_args).toMatchObject({ server_command: '/nonexistent/cmd', connection_reuse: false, transport: 'stdio', timeout: 30 });
  });

  it('honours check mode: a module that supports it runs (not skipped) and _ansible_check_mode is not an option', () => {
    const { code, result } = runWith('e2e-check.json', { _ansible_module_name: 'mcp_test_tool', _ansible_check_mode: true, tool_name: 'echo', ...NOT_FOUND });
    expect(code).not.toBe(0);
    expect(result.skipped).toBeUndefined();
    expect(result.failed).toBe(true);
    expect(result.msg).not.toContain('Unsupported parameters');
    expect(result.msg).not.toContain('does not support check mode');
    expect(result.msg).toMatch(/\/nonexistent\/cmd.*(not found|does not exist)/);
    expect(result.invocation.module_args).not.toHaveProperty('_ansible_check_mode');
  });

  it('never prints a no_log value; invocation shows the placeholder', () => {
    const secret = 's3cr3t-value';
    const { stdout, result } = runWith('e2e-nolog.json', {
      _ansible_module_name: 'mcp_test_tool',
      tool_name: `tool-${secret}`, // a secret that leaks into another value is masked there too
      server_env: { TOKEN: secret },
      ...NOT_FOUND,
    });
    expect(stdout).not.toContain(secret);
    expect(result.failed).toBe(true);
    expect(result.invocation.module_args.server_env).toBe('VALUE_SPECIFIED_IN_NO_LOG_PARAMETER');
    expect(result.invocation.module_args.tool_name).toBe('tool-********');
    expect(result.msg).toMatch(/\/nonexistent\/cmd.*(not found|does not exist)/);
  });

  it('keeps booleans of the result intact when a no_log dict holds a boolean', () => {
    const { result } = runWith('e2e-nolog-bool.json', {
      _ansible_module_name: 'mcp_test_tool',
      tool_name: 'echo',
      server_env: { DEBUG: true, TOKEN: 's3cr3t-value' },
      ...NOT_FOUND,
    });
    expect(result.failed).toBe(true);
    expect(result.invocation.module_args.validate_schema).toBe(true);
    expect(result.invocation.module_args.server_env).toBe('VALUE_SPECIFIED_IN_NO_LOG_PARAMETER');
  });

  it('masks a no_log value even when validation fails', () => {
    const secret = 'another-s3cr3t';
    const { stdout, result } = runWith('e2e-nolog-invalid.json', {
      _ansible_module_name: 'mcp_test_tool',
      server_headers: { 'X-Key': secret },
      bogus: secret,
      ...NOT_FOUND,
    });
    expect(stdout).not.toContain(secret);
    expect(result.failed).toBe(true);
    expect(result.msg).toContain('missing required arguments: tool_name');
  });

  it('fails clearly when _ansible_module_name names an unknown module', () => {
    const { code, result } = runWith('e2e-unknown-module.json', { _ansible_module_name: 'tosin2013.mcp_audit.mcp_no_such_module', ...NOT_FOUND });
    expect(code).not.toBe(0);
    expect(result.failed).toBe(true);
    expect(result.msg).toMatch(/^this runtime has no module named 'mcp_no_such_module'; it serves: .*mcp_test_tool/);
    expect(result.msg).toContain('mcp_server_info');
  });
});
