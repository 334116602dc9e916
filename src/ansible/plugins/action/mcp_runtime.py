# -*- coding: utf-8 -*-
# Copyright: tosin2013.mcp_audit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for every module of this collection (meta/runtime.yml routes
the modules to it; the files in plugins/modules only document them).

The modules are one compiled runtime of about 110 MB, built per platform and
delivered outside the Galaxy collection (plugins/plugin_utils/runtime_store.py
says from where). This plugin places it on a target once per host, user and
version (plugins/plugin_utils/runtime_target.py), then runs every task as one
command whose stdin carries the task's arguments: no temp directory, no copy.
On connection local without become, async or mcp_audit_node, the
controller's copy runs in place.

  * Connections that cannot send stdin get the arguments in a file.
  * async tasks start in the background with a job file async_status reads.
  * Targets without a runtime for their platform (musl, other CPUs) can run
    the compiled program with their own Node >= 20: mcp_audit_node.

Ansible keeps no stable API for action plugins beyond ActionBase itself, so
this file uses only ActionBase methods that kept their shape from
ansible-core 2.14 to 2.22 (`run`, `_update_module_args`,
`_compute_environment_string`, `_low_level_execute_command`,
`_make_tmp_path`, `_transfer_file`, `_transfer_data`, `_fixup_perms2`,
`_remove_tmp_path`, `get_shell_option`, `_remote_expand_user`; and the
connection's `_shell.join_path` and `_shell.tmpdir`) and handles the one known change
explicitly: the JSON codecs for module arguments and results (2.19).

Settings (host or play variables; the environment variable in brackets):
  mcp_audit_registry         npm registry for runtime packages [MCP_AUDIT_REGISTRY, npm_config_registry, ~/.npmrc]
  mcp_audit_runtime_source   air-gapped: the package .tgz or a directory holding it [MCP_AUDIT_RUNTIME_SOURCE]
  mcp_audit_node             run the program with this Node on the target (`auto`: the first `node` on PATH)
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import uuid

from ansible.module_utils.six.moves import shlex_quote
from ansible.plugins.action import ActionBase

from ansible_collections.tosin2013.mcp_audit.plugins.plugin_utils import runtime_target as target
from ansible_collections.tosin2013.mcp_audit.plugins.plugin_utils.runtime_manifest import (
    RUNTIME_NAME, ManifestError, describe_platform, load_manifest, platform_of,
)
from ansible_collections.tosin2013.mcp_audit.plugins.plugin_utils.runtime_store import RuntimeStore, RuntimeUnavailable

try:  # ansible-core >= 2.19: profile-based codecs; results come back untrusted by construction
    from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder

    def _encode_args(args):
        return json.dumps(args, cls=get_module_encoder('legacy', Direction.CONTROLLER_TO_MODULE))

    def _decode_result(text):
        return json.loads(text, cls=get_module_decoder('legacy', Direction.MODULE_TO_CONTROLLER))

except ImportError:  # ansible-core 2.14 - 2.18
    from ansible.module_utils.common.json import AnsibleJSONEncoder
    from ansible.utils.unsafe_proxy import wrap_var

    def _encode_args(args):
        return json.dumps(args, cls=AnsibleJSONEncoder, vault_to_text=True)

    def _decode_result(text):
        # As ActionBase._execute_module does: module output is never a template.
        return wrap_var(json.loads(text))


LOCAL_CONNECTIONS = ('local', 'ansible.builtin.local')
RUNTIME_MODULE = 'mcp_runtime'


class Failure(Exception):
    pass


class ActionModule(ActionBase):

    def run(self, tmp=None, task_vars=None):
        # ActionBase.__init__ sets these on the instance (async off by default), so set them here as ansible.builtin.normal does.
        self._supports_check_mode = True
        self._supports_async = True
        result = super(ActionModule, self).run(tmp, task_vars)  # check-mode/async validation, the common keys
        task_vars = task_vars or {}
        try:
            self._manifest = load_manifest()
            self._store = RuntimeStore(self._manifest, source=self._setting(task_vars, 'mcp_audit_runtime_source', 'MCP_AUDIT_RUNTIME_SOURCE'),
                                       registry=self._setting(task_vars, 'mcp_audit_registry'))
            self._node = self._setting(task_vars, 'mcp_audit_node', 'MCP_AUDIT_NODE')
            if self._task.action.split('.')[-1] == RUNTIME_MODULE:
                result.update(self._runtime_module(task_vars))
            else:
                result.update(self._run_module(task_vars))
        except (Failure, ManifestError, RuntimeUnavailable) as e:
            result.update(failed=True, msg=str(e))
        return result

    # --- settings --------------------------------------------------------------

    def _setting(self, task_vars, var, env=None):
        # Host and group vars reach an action plugin untemplated ("{{ node_path }}"), as for ansible_python_interpreter.
        value = self._templar.template(task_vars.get(var))
        if value is None and env:
            value = os.environ.get(env)
        if value is not None and not isinstance(value, str):
            raise Failure('%s must be a string, not %s' % (var, type(value).__name__))
        return value or None

    def _runs_in_place(self):
        # The controller is the target and nobody else's files are involved: run the controller's copy.
        return getattr(self._connection, 'transport', None) in LOCAL_CONNECTIONS and not self._connection.become and not self._node

    # --- running a module --------------------------------------------------------

    def _run_module(self, task_vars):
        module_args = self._task.args.copy()
        self._update_module_args(self._task.action, module_args, task_vars)
        payload = _encode_args(module_args).encode('utf-8')
        env_string = self._compute_environment_string()

        if self._runs_in_place() and not self._task.async_val:
            path, _origin = self._store.runtime(self._local_platform())
            res = self._low_level_execute_command(' '.join(p for p in (env_string, shlex_quote(path), '-') if p), in_data=payload)
            return self._module_result(res)

        build_id = self._manifest['build_id']
        for attempt in (1, 2):
            res = self._start(build_id, env_string, payload)
            missing = target.parse_missing(res.get('stdout', ''))
            if missing is None:
                return self._module_result(res)
            if attempt == 2:
                raise Failure('the mcp_audit runtime was placed on the target but is still missing there: %s' % res.get('stderr', '').strip())
            self._place(build_id, missing)

    def _start(self, build_id, env_string, payload):
        node, program = self._node_launch()
        if not self._task.async_val and self._connection.has_pipelining:
            return self._low_level_execute_command(target.run_command(build_id, env_string, node=node, program=program), in_data=payload)
        # No stdin on this connection, or async: the arguments travel as a file in a temp dir.
        tmpdir = self._make_tmp_path()
        args_path = self._connection._shell.join_path(tmpdir, 'args')
        self._transfer_data(args_path, payload)
        self._fixup_perms2([tmpdir, args_path], execute=False)
        if not self._task.async_val:
            res = self._low_level_execute_command(target.run_command(build_id, env_string, args_path, node=node, program=program))
            self._remove_tmp_path(tmpdir)
            return res
        jid = '%s.%s' % (uuid.uuid4().int % 10 ** 12, os.getpid())
        # Expanded exactly as the async_status action will expand it (~user from the passwd database, not $HOME).
        async_dir = shlex_quote(self._remote_expand_user(self.get_shell_option('async_dir', default='~/.ansible_async')))
        res = self._low_level_execute_command(target.async_command(
            build_id, env_string, args_path, jid, async_dir, int(self._task.async_val), tmpdir, node=node, program=program))
        if target.parse_missing(res.get('stdout', '')):
            self._remove_tmp_path(tmpdir)  # nothing started: the arguments (secrets too) must not stay behind
        else:
            # The background job owns the temp dir now (it removes it); async_status must make its own.
            self._connection._shell.tmpdir = None
        return res

    def _node_launch(self):
        if not self._node:
            return None, None
        return (self._node if self._node != 'auto' else 'node'), self._manifest['program']

    def _local_platform(self):
        un = os.uname()
        libc = 'musl' if any(n.startswith('ld-musl-') for n in _listdir('/lib')) else 'gnu'
        platform = platform_of(un[0], un[4], libc)
        if platform is None:
            raise Failure(self._no_runtime_message(describe_platform(un[0], un[4], libc), None))
        return platform

    # --- placing the runtime -----------------------------------------------------

    def _place(self, build_id, missing, src=None):
        """Put the runtime (or, with mcp_audit_node, the program) in the target's versioned directory."""
        system, machine, libc, node = missing
        if self._node:
            if self._node == 'auto' and not node:
                raise Failure(self._no_runtime_message(describe_platform(system, machine, libc), 'no `node` on the PATH of the target'))
            local_path, name = self._store.program, self._manifest['program']
        else:
            platform = platform_of(system, machine, libc)
            if platform is None:
                raise Failure(self._no_runtime_message(describe_platform(system, machine, libc), node))
            name = RUNTIME_NAME
            # `src` (mcp_runtime state=present) is a source like mcp_audit_runtime_source: verified, then cached.
            store = RuntimeStore(self._manifest, source=src, registry=self._store.registry) if src else self._store
            local_path = store.runtime(platform)[0]
        tmpdir = self._make_tmp_path()
        staged = self._connection._shell.join_path(tmpdir, name)
        self._transfer_file(local_path, staged)
        if self._connection.become:
            # The become user copies it from the login user's temp dir. The runtime is public (the manifest holds its
            # hash), so plain modes do instead of the ACLs Ansible would need for an unprivileged become user.
            self._low_level_execute_command('chmod 711 %s && chmod 755 %s' % (shlex_quote(tmpdir), shlex_quote(staged)), sudoable=False)
        res = self._low_level_execute_command(target.place_command(build_id, staged, name, move=not self._connection.become))
        self._remove_tmp_path(tmpdir)
        if res.get('rc') != 0:
            raise Failure('could not place the mcp_audit runtime in ~/.ansible/mcp_audit/%s on the target: %s'
                          % (build_id, (res.get('stderr') or res.get('stdout') or 'exit code %s' % res.get('rc')).strip()))

    def _no_runtime_message(self, what, node):
        hint = ('set mcp_audit_node: auto (or the path of Node >= 20 on the target) to run the compiled program with it'
                if not node or node.startswith('no ') else
                'this target has Node at %s: set mcp_audit_node: auto to run the compiled program with it (Node >= 20)' % node)
        return 'no mcp_audit runtime is built for %s (runtimes: %s); %s' % (what, ', '.join(sorted(self._manifest['platforms'])), hint)

    # --- results -------------------------------------------------------------------

    def _module_result(self, res):
        stdout = res.get('stdout', '')
        try:
            # The runtime prints exactly one JSON object; anything else is a crash worth showing.
            data = _decode_result(stdout[stdout.index('{'):] if '{' in stdout else stdout)
            if not isinstance(data, dict):
                raise ValueError('not a JSON object')
        except ValueError:
            return dict(
                failed=True,
                msg='The mcp_audit runtime exited with code %s without a result. See module_stdout/module_stderr.' % res.get('rc'),
                module_stdout=stdout,
                module_stderr=res.get('stderr', ''),
                rc=res.get('rc'),
            )
        data['_ansible_parsed'] = True
        return data

    # --- the mcp_runtime module ----------------------------------------------------

    def _runtime_module(self, task_vars):
        # The options as declared in modules/mcp_runtime.ts (the generated module file); imported here only,
        # because it loads AnsibleModule and no other module's task should pay for that.
        from ansible_collections.tosin2013.mcp_audit.plugins.modules.mcp_runtime import ARGUMENT_SPEC

        args = dict(self._task.args)
        unknown = sorted(set(args) - set(ARGUMENT_SPEC))
        if unknown:
            raise Failure('Unsupported parameters for (mcp_runtime) module: %s. Supported parameters include: %s.'
                          % (', '.join(unknown), ', '.join(sorted(ARGUMENT_SPEC))))
        state = args.get('state', ARGUMENT_SPEC['state']['default'])
        src = args.get('src')
        if state not in ARGUMENT_SPEC['state']['choices']:
            raise Failure('value of state must be one of: %s, got: %s' % (', '.join(ARGUMENT_SPEC['state']['choices']), state))
        if src and state != 'present':
            raise Failure('src is only used with state=present')
        build_id = self._manifest['build_id']
        node, program = self._node_launch()
        placed = self._placed_versions()
        result = dict(changed=False, version=build_id, placed=build_id in placed, versions=placed,
                      path='~/.ansible/mcp_audit/%s/%s' % (build_id, program or RUNTIME_NAME))
        if state in ('status', 'present'):
            missing = target.parse_missing(self._low_level_execute_command(target.probe_command(build_id, node, program)).get('stdout', ''))
        if state == 'status':
            if missing:
                result['platform'] = platform_of(*missing[:3]) or describe_platform(*missing[:3])
                result['target_node'] = missing[3]
            result['controller'] = self._store.status(result.get('platform') or self._local_platform_or_none())
            return result
        if state == 'present':
            if missing:
                result['changed'] = True
                if not self._play_context.check_mode:
                    self._place(build_id, missing, src=src)
                    result['placed'] = True
                    result['versions'] = self._placed_versions()
            return result
        old = [v for v in placed if v != build_id]
        result['removed'] = old
        if old:
            result['changed'] = True
            if not self._play_context.check_mode:
                self._low_level_execute_command(target.remove_command(old))
                result['versions'] = self._placed_versions()
        return result

    def _placed_versions(self):
        out = self._low_level_execute_command(target.status_command()).get('stdout', '')
        return dict((line.split(' ')[0], int(line.split(' ')[1]) * 1024) for line in out.splitlines() if len(line.split(' ')) == 2)

    def _local_platform_or_none(self):
        try:
            return self._local_platform()
        except Failure:
            return 'unknown'


def _listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []
