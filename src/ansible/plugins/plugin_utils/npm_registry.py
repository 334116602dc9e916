# -*- coding: utf-8 -*-
# Copyright: tosin2013.mcp_audit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fetch a runtime package from the npm registry the user configured.

The registry is the one npm itself would use: an explicit setting
(`mcp_audit_registry` / MCP_AUDIT_REGISTRY) wins, then npm_config_registry,
then `@tosin2013:registry` or `registry` from ~/.npmrc, then
registry.npmjs.org. A token for that registry in ~/.npmrc (`//host/:_authToken=`)
is sent, as npm would.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import re

from ansible.module_utils.six.moves.urllib.parse import quote
from ansible.module_utils.urls import open_url

DEFAULT_REGISTRY = 'https://registry.npmjs.org/'


class RegistryError(Exception):
    pass


def _npmrc():
    path = os.environ.get('NPM_CONFIG_USERCONFIG') or os.environ.get('npm_config_userconfig') or os.path.expanduser('~/.npmrc')
    entries = {}
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith(('#', ';')) and '=' in line:
                    key, value = line.split('=', 1)
                    entries[key.strip()] = os.path.expandvars(value.strip())
    except (IOError, OSError):
        pass
    return entries


def registry_url(explicit=None, scope='@tosin2013'):
    """The registry to fetch from, and where that choice came from (for status and errors)."""
    npmrc = _npmrc()
    for value, origin in (
        (explicit, 'mcp_audit_registry'),
        (os.environ.get('MCP_AUDIT_REGISTRY'), 'MCP_AUDIT_REGISTRY'),
        (os.environ.get('npm_config_registry') or os.environ.get('NPM_CONFIG_REGISTRY'), 'npm_config_registry'),
        (npmrc.get(scope + ':registry'), '~/.npmrc ' + scope + ':registry'),
        (npmrc.get('registry'), '~/.npmrc registry'),
    ):
        if value:
            return value.rstrip('/') + '/', origin
    return DEFAULT_REGISTRY, 'default'


def _auth_headers(url):
    npmrc = _npmrc()
    # npm keys tokens by "//host[:port]/path/"; the longest prefix of the URL wins.
    bare = re.sub(r'^https?:', '', url)
    best = None
    for key, value in npmrc.items():
        if key.endswith(':_authToken') and bare.startswith(key[:-len(':_authToken')]):
            if best is None or len(key) > len(best[0]):
                best = (key, value)
    return {'Authorization': 'Bearer ' + best[1]} if best else {}


def _get(url, timeout, accept):
    headers = dict(_auth_headers(url), Accept=accept)
    try:
        return open_url(url, headers=headers, timeout=timeout, follow_redirects='safe').read()
    except Exception as e:  # open_url raises HTTPError, URLError, SSLValidationError, socket errors...
        code = getattr(e, 'code', None)
        raise RegistryError('GET %s failed: %s' % (url, 'HTTP %s' % code if code else e))


def integrity_of(data):
    return 'sha512-' + base64.b64encode(hashlib.sha512(data).digest()).decode('ascii')


def fetch_package(registry, package, version, expected_integrity, timeout=60):
    """The .tgz bytes of package@version, checked against the integrity the collection recorded."""
    meta_url = registry + quote(package, safe='@')
    raw = _get(meta_url, timeout, 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8')
    try:
        dist = json.loads(raw)['versions'][version]['dist']
    except (ValueError, KeyError, TypeError):
        raise RegistryError('%s has no version %s of %s; publish it (npm run release:runtimes) or point mcp_audit_registry '
                            'at a registry that has it' % (registry, version, package))
    if dist.get('integrity') and dist['integrity'] != expected_integrity:
        raise RegistryError('%s@%s on %s has integrity %s, but this collection expects %s: refusing it'
                            % (package, version, registry, dist['integrity'], expected_integrity))
    data = _get(dist['tarball'], timeout, 'application/octet-stream')
    actual = integrity_of(data)
    if actual != expected_integrity:
        raise RegistryError('the tarball of %s@%s from %s has integrity %s, but this collection expects %s: refusing it'
                            % (package, version, dist['tarball'], actual, expected_integrity))
    return data
