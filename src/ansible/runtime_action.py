# -*- coding: utf-8 -*-
# Copyright: tosin2013.mcp_audit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for every module of this collection (copied to
plugins/action/mcp_runtime.py by `npm run build`; meta/runtime.yml routes the
modules to it).

The modules are one ~110 MB compiled runtime. Ansible's generic action reads
a binary module into memory and copies it into the task's temp directory on
every task: about 90 ms per task here, more than the module itself takes.
This plugin behaves exactly like ansible.builtin.normal, except that
  * it does not read the binary into memory (binary modules are passed their
    options in an args file, so nothing in the file is rewritten), and
  * when the target is this machine (connection local, no become), the temp
    directory gets a symlink to the installed runtime instead of a copy.
Any other target gets the usual copy.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action.normal import ActionModule as NormalAction

RUNTIME_NAME = 'mcp_audit_runtime'
LOCAL_CONNECTIONS = ('local', 'ansible.builtin.local')


def _is_runtime(path):
    return bool(path) and os.path.basename(os.path.realpath(path)) == RUNTIME_NAME


class ActionModule(NormalAction):

    def _configure_module(self, module_name, module_args, task_vars):
        found = self._shared_loader_obj.module_loader.find_plugin_with_context(
            module_name, '', collection_list=self._task.collections)
        if found.resolved and _is_runtime(found.plugin_resolved_path):
            return ('binary', None, b'', found.plugin_resolved_path)
        return super(ActionModule, self)._configure_module(module_name, module_args, task_vars)

    def _target_is_this_machine(self):
        # With become, Ansible may chown/chmod the temp files for another user: a symlink would pass that on to the runtime.
        return getattr(self._connection, 'transport', None) in LOCAL_CONNECTIONS and not self._connection.become

    def _transfer_file(self, local_path, remote_path):
        if _is_runtime(local_path) and self._target_is_this_machine():
            os.symlink(os.path.realpath(local_path), remote_path)
            return remote_path
        return super(ActionModule, self)._transfer_file(local_path, remote_path)
