# -*- coding: utf-8 -*-
# Test-only callback for the e2e harness (tests/e2e/harness.ts): appends one
# JSON line per task result to the file named by $MCP_AUDIT_E2E_RESULTS, so the
# tests read machine-readable per-task results while stdout keeps Ansible's
# ordinary (default callback) output. ansible-core alone has no json callback.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
    name: e2e_results
    type: aggregate
    short_description: write per-task results as JSON lines (tosin2013.mcp_audit e2e tests)
    description:
      - Appends one JSON object per task result to the file named by the MCP_AUDIT_E2E_RESULTS environment variable.
      - Each carries when the task started on its host and when its result came (epoch milliseconds), so a test can
        attribute what happened meanwhile (bytes on the wire, see tests/helpers/tcp_relay.ts) to one task.
    requirements:
      - enabled in ANSIBLE_CALLBACKS_ENABLED
'''

import json
import os
import time

from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'e2e_results'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._path = os.environ.get('MCP_AUDIT_E2E_RESULTS')
        self._started = {}

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = time.time() * 1000

    def _record(self, status, result, ignore_errors=False):
        if not self._path:
            return
        task = result._task
        entry = {
            'task': task.get_name(),
            'action': task.action,
            'host': result._host.get_name(),
            'status': status,
            'ignore_errors': bool(ignore_errors),
            'result': result._result,
            'started': self._started.pop((result._host.get_name(), task._uuid), None),
            'finished': time.time() * 1000,
        }
        with open(self._path, 'a') as f:
            f.write(json.dumps(entry, cls=AnsibleJSONEncoder, sort_keys=True) + '\n')

    def v2_runner_on_ok(self, result):
        self._record('ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record('failed', result, ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record('skipped', result)

    def v2_runner_on_unreachable(self, result):
        self._record('unreachable', result)
