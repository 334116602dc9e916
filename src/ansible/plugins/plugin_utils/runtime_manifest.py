# -*- coding: utf-8 -*-
# Copyright: tosin2013.mcp_audit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runtime manifest (plugins/runtime/manifest.json, written by `npm run build`):
which runtime this collection version runs, per platform the npm package that
carries it and the hashes that prove a copy genuine."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNTIME_DIR = os.path.join(COLLECTION_ROOT, 'plugins', 'runtime')
RUNTIME_NAME = 'mcp_audit_runtime'

# `uname -m` of a target -> the platform key of the manifest (glibc targets only: the runtime is a glibc build).
_MACHINES = {
    'x86_64': 'x64', 'amd64': 'x64',
    'aarch64': 'arm64', 'arm64': 'arm64',
}


class ManifestError(Exception):
    pass


def load_manifest(runtime_dir=RUNTIME_DIR):
    path = os.path.join(runtime_dir, 'manifest.json')
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (IOError, OSError, ValueError) as e:
        raise ManifestError('cannot read the runtime manifest %s (%s); the collection is incomplete: reinstall it' % (path, e))
    for key in ('build_id', 'platforms', 'program'):
        if key not in manifest:
            raise ManifestError('the runtime manifest %s has no %r; the collection is incomplete: reinstall it' % (path, key))
    return manifest


def platform_of(system, machine, libc):
    """The manifest platform for a target's `uname -s`, `uname -m` and libc, or None (no runtime is built for it)."""
    arch = _MACHINES.get(machine)
    if system != 'Linux' or arch is None or libc != 'gnu':
        return None
    return 'linux-' + arch


def describe_platform(system, machine, libc):
    return '%s %s (%s)' % (system, machine, 'musl libc' if libc == 'musl' else 'glibc' if libc == 'gnu' else libc)
