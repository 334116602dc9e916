/**
 * How a stdio server's command line is formed (src/mcp/server_command.ts):
 * splitting with shell quoting rules but never running a shell, and resolving
 * the command like execvp does.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable, searchPath, splitServerCommand } from '../../src/mcp/server_command';
import { McpAuditError } from '../../src/errors';

function usageError(fn: () => unknown): McpAuditError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(McpAuditError);
    expect((e as McpAuditError).kind).toBe('usage');
    return e as McpAuditError;
  }
  throw new Error('expected a usage error');
}

describe('splitServerCommand', () => {
  describe('splitting', () => {
    it('splits a command with spaces when no args are given', () => {
      expect(splitServerCommand('npx -y @modelcontextprotocol/server-everything')).toEqual({
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-everything'],
      });
    });

    it('keeps a command without spaces whole, trimmed', () => {
      expect(splitServerCommand('  node  ')).toEqual({ command: 'node', args: [] });
    });

    it('honours double quotes, single quotes and backslash escapes', () => {
      expect(splitServerCommand(`node "my dir/server.js" --name 'a b' c\\ d`)).toEqual({
        command: 'node',
        args: ['my dir/server.js', '--name', 'a b', 'c d'],
      });
    });

    it('collapses repeated whitespace and tabs', () => {
      expect(splitServerCommand('python3 \t -m   server')).toEqual({ command: 'python3', args: ['-m', 'server'] });
    });

    it('keeps glob characters literal (no shell expands them)', () => {
      expect(splitServerCommand('server --files *.json')).toEqual({ command: 'server', args: ['--files', '*.json'] });
    });

    it('drops a trailing comment', () => {
      expect(splitServerCommand('node server.js --verbose # started by CI')).toEqual({ command: 'node', args: ['server.js', '--verbose'] });
    });
  });

  describe('when server_args are given', () => {
    it('does not split the command: a path with spaces stays whole', () => {
      expect(splitServerCommand('/opt/My Servers/run', ['--port', '1'])).toEqual({ command: '/opt/My Servers/run', args: ['--port', '1'] });
    });

    it('passes the args through untouched, operators included', () => {
      expect(splitServerCommand('sh', ['-c', 'a | b && c'])).toEqual({ command: 'sh', args: ['-c', 'a | b && c'] });
    });

    it('returns a copy of the args', () => {
      const args = ['x'];
      const out = splitServerCommand('cmd', args);
      out.args.push('y');
      expect(args).toEqual(['x']);
    });
  });

  describe('a command that as a whole names an existing file (1.1.x never split)', () => {
    let dir: string;
    let script: string;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'mcp audit tools '));
      mkdirSync(join(dir, 'my tools'));
      script = join(dir, 'my tools', 'server.sh');
      writeFileSync(script, '#!/bin/sh\n');
      chmodSync(script, 0o755);
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('runs an absolute path with spaces as that file', () => {
      expect(splitServerCommand(script)).toEqual({ command: script, args: [] });
      expect(splitServerCommand(`  ${script} `)).toEqual({ command: script, args: [] });
    });

    it('checks a relative path against the server\'s working directory', () => {
      expect(splitServerCommand('my tools/server.sh', [], dir)).toEqual({ command: 'my tools/server.sh', args: [] });
      expect(splitServerCommand('./my tools/server.sh', [], dir)).toEqual({ command: './my tools/server.sh', args: [] });
      // Elsewhere the same words are a command and its argument.
      expect(splitServerCommand('my tools/server.sh', [], tmpdir())).toEqual({ command: 'my', args: ['tools/server.sh'] });
    });

    it('still splits when the whole string is not an existing file', () => {
      const words = (text: string) => text.split(' ');
      const [command, ...args] = words(`${script} --verbose`);
      expect(splitServerCommand(`${script} --verbose`)).toEqual({ command, args });
      expect(args.slice(-2)).toEqual(['tools/server.sh', '--verbose']);
      // A directory is not a file to run.
      const [dirCommand, ...dirArgs] = words(join(dir, 'my tools'));
      expect(splitServerCommand(join(dir, 'my tools'))).toEqual({ command: dirCommand, args: dirArgs });
    });

    it('does not look a name without a slash up as a file (execvp searches PATH for those)', () => {
      writeFileSync(join(dir, 'two words'), '#!/bin/sh\n');
      expect(splitServerCommand('two words', [], dir)).toEqual({ command: 'two', args: ['words'] });
    });
  });

  describe('$VARS', () => {
    it('keeps $VAR literal, unquoted, double-quoted and single-quoted', () => {
      expect(splitServerCommand(`node $HOME/x "$TOKEN" '$LITERAL'`)).toEqual({ command: 'node', args: ['$HOME/x', '$TOKEN', '$LITERAL'] });
    });

    it('does not substitute from the environment even when the variable is set', () => {
      const home = process.env.HOME;
      expect(home).toBeTruthy();
      const { args } = splitServerCommand('server --home $HOME');
      expect(args).toEqual(['--home', '$HOME']);
      expect(args.join(' ')).not.toContain(home!);
    });
  });

  describe('shell operators are rejected, never run', () => {
    it.each([
      ['npx server | tee log', '|'],
      ['npm run build && node server.js', '&&'],
      ['a || b', '||'],
      ['node a.js ; node b.js', ';'],
      ['node server.js > out.log', '>'],
      ['node server.js < in.txt', '<'],
      ['node server.js 2>&1', '>&'],
      ['node server.js &', '&'],
      ['node $(which server)', '('],
    ])('%j', (command, op) => {
      const e = usageError(() => splitServerCommand(command));
      expect(e.message).toContain(`server_command contains the shell operator '${op}', but no shell is run.`);
      expect(e.message).toContain("Use server_command: sh with server_args: ['-c', '...']");
    });
  });

  describe('empty commands', () => {
    it.each(['', '   ', '\t\n', '# only a comment'])('%j is rejected as empty', (command) => {
      expect(usageError(() => splitServerCommand(command)).message).toBe('server_command is empty');
    });

    it('an empty command is rejected even with args', () => {
      expect(usageError(() => splitServerCommand(' ', ['x'])).message).toBe('server_command is empty');
    });
  });
});

describe('searchPath', () => {
  it('splits PATH and drops empty entries', () => {
    expect(searchPath({ PATH: '/usr/local/bin::/usr/bin:' })).toEqual(['/usr/local/bin', '/usr/bin']);
  });

  it('is empty without PATH', () => {
    expect(searchPath({})).toEqual([]);
    expect(searchPath({ PATH: '' })).toEqual([]);
  });
});

describe('findExecutable', () => {
  let root: string;
  let binA: string;
  let binB: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'mcp-audit-exe-'));
    binA = join(root, 'a');
    binB = join(root, 'b');
    mkdirSync(binA);
    mkdirSync(binB);
    writeFileSync(join(binA, 'tool'), '#!/bin/sh\n');
    chmodSync(join(binA, 'tool'), 0o755);
    writeFileSync(join(binB, 'tool'), '#!/bin/sh\n');
    chmodSync(join(binB, 'tool'), 0o755);
    writeFileSync(join(binA, 'plain'), 'not executable');
    chmodSync(join(binA, 'plain'), 0o644);
    writeFileSync(join(binB, 'plain'), '#!/bin/sh\n');
    chmodSync(join(binB, 'plain'), 0o755);
    mkdirSync(join(binA, 'dironly'));
    mkdirSync(join(root, 'rel'));
    writeFileSync(join(root, 'rel', 'run'), '#!/bin/sh\n');
    chmodSync(join(root, 'rel', 'run'), 0o755);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('finds a command in PATH, first entry first', () => {
    expect(findExecutable('tool', { PATH: `${binA}:${binB}` })).toBe(join(binA, 'tool'));
    expect(findExecutable('tool', { PATH: `${binB}:${binA}` })).toBe(join(binB, 'tool'));
  });

  it('skips files that are not executable and directories, like execvp', () => {
    expect(findExecutable('plain', { PATH: `${binA}:${binB}` })).toBe(join(binB, 'plain'));
    expect(findExecutable('plain', { PATH: binA })).toBeUndefined();
    expect(findExecutable('dironly', { PATH: binA })).toBeUndefined();
  });

  it('returns undefined for a command that is not in PATH, or with no PATH', () => {
    expect(findExecutable('no-such-tool-xyz', { PATH: `${binA}:${binB}` })).toBeUndefined();
    expect(findExecutable('tool', {})).toBeUndefined();
  });

  it('uses an absolute path as is, without searching PATH', () => {
    expect(findExecutable(join(binA, 'tool'), {})).toBe(join(binA, 'tool'));
    expect(findExecutable('/nonexistent/cmd', { PATH: binA })).toBeUndefined();
    expect(findExecutable(join(binA, 'plain'), { PATH: binB })).toBeUndefined();
  });

  it('resolves a relative path with a slash against cwd, not PATH', () => {
    expect(findExecutable('rel/run', { PATH: binA }, root)).toBe(join(root, 'rel', 'run'));
    expect(findExecutable('./tool', { PATH: binA }, binB)).toBe(join(binB, 'tool'));
    expect(findExecutable('rel/run', { PATH: root }, binA)).toBeUndefined();
  });

  it('finds a real system command', () => {
    expect(findExecutable('sh', process.env)).toMatch(/\/sh$/);
  });
});
