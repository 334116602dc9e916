# -*- coding: utf-8 -*-
# Copyright: tosin2013.mcp_audit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shell commands run on a target (POSIX sh): run the placed runtime, report
the platform when it is not placed yet, place it atomically.

The runtime lives in $HOME/.ansible/mcp_audit/<build id>/ of the user the
task runs as (the become user with become): one copy per host, user and
version. A task is one command: when the runtime is there it runs at once
with the task's arguments; when it is not, the same command prints one
MISSING line describing the platform, and the action plugin places the
runtime and runs the command again.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.six.moves import shlex_quote

from ansible_collections.tosin2013.mcp_audit.plugins.plugin_utils.runtime_manifest import RUNTIME_NAME

MISSING = 'MCP_AUDIT_RUNTIME_MISSING'


# $HOME, not ~: it is expanded by the shell of the user the command runs as.
TARGET_ROOT = '"$HOME"/.ansible/mcp_audit/'


def target_dir(build_id):
    return TARGET_ROOT + shlex_quote(build_id)


def launcher(build_id, node=None, program=None):
    """Shell words that start the runtime placed for `build_id` (or the program under the target's Node)."""
    d = target_dir(build_id)
    if node:
        return '%s %s/%s' % (shlex_quote(node), d, shlex_quote(program))
    return d + '/' + RUNTIME_NAME


def _present_test(build_id, node=None, program=None):
    d = target_dir(build_id)
    if node:
        return '[ -f %s/%s ]' % (d, shlex_quote(program))
    return '[ -x %s/mcp_audit_runtime ]' % d


_PROBE = ('printf "%s %%s %%s %%s %%s\\n" "$(uname -s)" "$(uname -m)" '
          '"$(if ls /lib/ld-musl-* >/dev/null 2>&1; then echo musl; else echo gnu; fi)" '
          '"$(command -v node || echo -)"' % MISSING)


def run_command(build_id, env_string, args_path='-', node=None, program=None):
    """Run the module with arguments from stdin (`-`) or a file; when not placed, describe the platform instead."""
    run = ' '.join(p for p in (env_string, launcher(build_id, node, program), shlex_quote(args_path) if args_path != '-' else '-') if p)
    return 'if %s; then %s; exit $?; fi; %s' % (_present_test(build_id, node, program), run, _PROBE)


def probe_command(build_id, node=None, program=None):
    """Exit 0 quietly when placed; otherwise the MISSING line."""
    return 'if %s; then exit 0; fi; %s' % (_present_test(build_id, node, program), _PROBE)


def parse_missing(stdout):
    """(system, machine, libc, node path or None) from a MISSING line, or None when the runtime ran."""
    for line in stdout.splitlines():
        if line.startswith(MISSING + ' '):
            parts = line.split(' ')[1:] + ['-'] * 4
            system, machine, libc, node = parts[:4]
            return system, machine, libc, (None if node == '-' else node)
    return None


def place_command(build_id, staged, name, move):
    """Install `staged` as <target dir>/<name> atomically: a rename inside the directory, so concurrent forks are safe."""
    d = target_dir(build_id)
    tmp = '%s/.%s.$$' % (d, name)
    put = 'mv -f' if move else 'cp'  # with become the staged file belongs to the login user: copy it
    return ('umask 022 && mkdir -p %s && %s %s %s && chmod 755 %s && mv -f %s %s/%s'
            % (d, put, shlex_quote(staged), tmp, tmp, tmp, d, shlex_quote(name)))


def async_command(build_id, env_string, args_path, jid, async_dir, time_limit, cleanup_dir, node=None, program=None):
    """Start the module in the background the way async_wrapper does, so ansible's async_status can follow it:
    the job file holds {"started": 1, "finished": 0} until the result replaces it (a rename). The job ignores
    SIGHUP: over ssh the session ends right after this command. The shell ignores it before forking: a trap set
    inside the subshell raced the hangup (the job was sometimes killed before it ran a line)."""
    job = '%s/%s' % (async_dir, shlex_quote(jid))
    started = '{"started": 1, "finished": 0, "ansible_job_id": "%s", "results_file": "%s"}' % (jid, '%s')
    limit = 'if command -v timeout >/dev/null 2>&1; then T="timeout %d"; else T=; fi; ' % time_limit if time_limit else 'T=; '
    run = ' '.join(p for p in (env_string, '$T', launcher(build_id, node, program), shlex_quote(args_path)) if p)
    return ('if %s; then %smkdir -p %s || exit 1; J=%s; S=$(printf %s "$J"); printf "%%s\\n" "$S" > "$J" || exit 1; '
            'trap "" HUP; ( %s > "$J.tmp" 2>/dev/null; mv -f "$J.tmp" "$J"; rm -rf %s ) </dev/null >/dev/null 2>&1 & '
            'printf "%%s\\n" "$S"; exit 0; fi; %s'
            % (_present_test(build_id, node, program), limit, async_dir, job, shlex_quote(started), run, shlex_quote(cleanup_dir), _PROBE))


def status_command():
    """The versions placed for this user: one "<build id> <bytes>" line each."""
    return ('for d in ' + TARGET_ROOT + '*/; do [ -d "$d" ] || continue; '
            'printf "%s %s\\n" "$(basename "$d")" "$(du -sk "$d" | cut -f1)"; done')


def remove_command(build_ids):
    return 'rm -rf ' + ' '.join(target_dir(b) for b in build_ids)
