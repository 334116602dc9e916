# -*- coding: utf-8 -*-
# Copyright: tosin2013.mcp_audit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for every module of this collection (copied to
plugins/action/mcp_runtime.py by `npm run build`; meta/runtime.yml routes the
modules to it).

The modules are one ~110 MB compiled runtime. Ansible's generic action reads
a binary module into memory and copies it into a temp directory on every
task: about 90 ms per task, more than the module itself takes. So when the
target is this machine (connection local, no become, no async) this plugin
runs the installed runtime directly, as one command whose stdin carries the
task's arguments: no temp directory, no copy. Anything else takes Ansible's
usual path (ansible.builtin.normal) unchanged.

Ansible keeps no stable API for action plugins beyond ActionBase itself, so
this file touches only what has kept its shape from ansible-core 2.14 to
2.22 (`run`, `_update_module_args`, `_compute_environment_string`,
`_low_level_execute_command`) and handles the one known change explicitly:
the JSON encoder/decoder for module arguments and results (2.19 moved to
profile-based codecs). The end-to-end tests run on 2.14 and 2.19.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.module_utils.six.moves import shlex_quote
from ansible.plugins.action import ActionBase
from ansible.plugins.action.normal import ActionModule as NormalAction

try:  # ansible-core >= 2.19: profile-based codecs, results come back untrusted by construction
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


RUNTIME = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'runtime', 'mcp_audit_runtime')
LOCAL_CONNECTIONS = ('local', 'ansible.builtin.local')


class ActionModule(NormalAction):

    _supports_check_mode = True
    _supports_async = True

    def _runs_directly(self):
        # become may switch user (a different broker, different files): keep Ansible's own handling.
        return (getattr(self._connection, 'transport', None) in LOCAL_CONNECTIONS
                and not self._connection.become
                and not self._task.async_val
                and os.access(RUNTIME, os.X_OK))

    def run(self, tmp=None, task_vars=None):
        if not self._runs_directly():
            return super(ActionModule, self).run(tmp, task_vars)

        result = ActionBase.run(self, tmp, task_vars)  # check-mode/async validation, the common result keys
        module_name = self._task.action
        module_args = self._task.args.copy()
        self._update_module_args(module_name, module_args, task_vars or {})

        # `environment:` on the task or play applies as for any module.
        env_string = self._compute_environment_string()
        cmd = ' '.join(part for part in (env_string, shlex_quote(RUNTIME), '-') if part)
        res = self._low_level_execute_command(cmd, in_data=_encode_args(module_args).encode('utf-8'))

        result.update(self._module_result(res))
        return result

    @staticmethod
    def _module_result(res):
        stdout = res.get('stdout', '')
        try:
            # The runtime prints exactly one JSON object; anything else is a crash worth showing.
            data = _decode_result(stdout[stdout.index('{'):] if '{' in stdout else stdout)
            if not isinstance(data, dict):
                raise ValueError('not a JSON object')
        except ValueError:
            return dict(
                failed=True,
                msg='The mcp_audit runtime (%s) exited with code %s without a result. See module_stdout/module_stderr.' % (RUNTIME, res.get('rc')),
                module_stdout=stdout,
                module_stderr=res.get('stderr', ''),
                rc=res.get('rc'),
            )
        data['_ansible_parsed'] = True
        return data
