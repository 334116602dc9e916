/**
 * How a stdio server is started: `server_command` + `server_args`, the
 * environment and working directory. When `server_args` is empty and the
 * command holds spaces, it is split with shell quoting rules (1.1.x playbooks
 * write `server_command: npx -y some-server`); no shell is ever run. A command
 * that as a whole names an existing file (`/opt/my tools/server.sh`) is that
 * file, as it was in 1.1.x, which never split.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'shell-quote';
import { McpAuditError } from '../errors';

export interface CommandLine {
  command: string;
  args: string[];
}

/** A path (it has a slash, as execvp requires for anything not searched in PATH) to an existing file. */
function namesFile(command: string, cwd: string): boolean {
  if (!command.includes('/')) return false;
  try {
    return statSync(resolve(cwd, command)).isFile();
  } catch {
    return false;
  }
}

/** `cwd` is the server's working directory, against which a relative path is checked. */
export function splitServerCommand(serverCommand: string, serverArgs: readonly string[] = [], cwd = process.cwd()): CommandLine {
  const whole = serverCommand.trim();
  if (!whole) throw new McpAuditError('usage', 'server_command is empty');
  if (serverArgs.length || !/\s/.test(whole) || namesFile(whole, cwd)) return { command: whole, args: [...serverArgs] };
  // Keep $VARS literal: expansion is a shell's job and no shell runs here.
  const words = parse(serverCommand, (name) => `$${name}`);
  const out: string[] = [];
  for (const w of words) {
    if (typeof w === 'string') out.push(w);
    else if ('pattern' in w) out.push(w.pattern);
    else if ('comment' in w) break;
    else {
      throw new McpAuditError(
        'usage',
        `server_command contains the shell operator '${(w as { op: string }).op}', but no shell is run. ` +
          `Use server_command: sh with server_args: ['-c', '...'] if you need one.`,
      );
    }
  }
  if (!out.length) throw new McpAuditError('usage', 'server_command is empty');
  return { command: out[0], args: out.slice(1) };
}

/** The PATH entries a command would be searched in, for "not found" errors. */
export function searchPath(env: NodeJS.ProcessEnv): string[] {
  return (env.PATH ?? '').split(delimiter).filter(Boolean);
}

/** Resolve a command like execvp does; undefined when it cannot be found or run. */
export function findExecutable(command: string, env: NodeJS.ProcessEnv, cwd?: string): string | undefined {
  const candidates = command.includes('/') ? [isAbsolute(command) ? command : resolve(cwd ?? process.cwd(), command)] : searchPath(env).map((d) => join(d, command));
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) {
        accessSync(c, constants.X_OK);
        return c;
      }
    } catch {
      /* try the next one */
    }
  }
  return undefined;
}
