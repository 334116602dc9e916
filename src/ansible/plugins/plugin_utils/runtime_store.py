# -*- coding: utf-8 -*-
# Copyright: tosin2013.mcp_audit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the controller gets the runtime for a platform, in this order:

1. inside the installed collection (plugins/runtime/<platform>/), as a local
   or offline build leaves it;
2. the controller's cache ($XDG_CACHE_HOME/tosin2013.mcp_audit/runtimes/<build id>/<platform>/);
3. a file or directory the user named (`mcp_audit_runtime_source`), for
   air-gapped controllers: the package .tgz or the runtime itself;
4. the npm registry the user configured.

Whatever comes from 3 or 4 is checked against the manifest (the package's
sha512 integrity, the binary's sha256) before it enters the cache; many forks
may ask at once, so filling the cache is serialised by a lock file and every
write is a rename.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import hashlib
import io
import os
import tarfile
import tempfile

from ansible_collections.tosin2013.mcp_audit.plugins.plugin_utils.npm_registry import RegistryError, fetch_package, integrity_of, registry_url
from ansible_collections.tosin2013.mcp_audit.plugins.plugin_utils.runtime_manifest import RUNTIME_DIR, RUNTIME_NAME


class RuntimeUnavailable(Exception):
    pass


def cache_root():
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'tosin2013.mcp_audit', 'runtimes')


class RuntimeStore:

    def __init__(self, manifest, source=None, registry=None, runtime_dir=RUNTIME_DIR):
        self.manifest = manifest
        self.source = os.path.expanduser(source) if source else None
        self.registry, self.registry_origin = registry_url(registry)
        self.runtime_dir = runtime_dir

    @property
    def program(self):
        """The compiled program, for targets that run it with their own Node."""
        path = os.path.join(self.runtime_dir, self.manifest['program'])
        if not os.path.isfile(path):
            raise RuntimeUnavailable('the compiled program %s is missing from the collection: reinstall it' % path)
        return path

    def cached_path(self, platform):
        return os.path.join(cache_root(), self.manifest['build_id'], platform, RUNTIME_NAME)

    def find(self, platform):
        """The runtime already on this controller, as (path, origin), or (None, None)."""
        bundled = os.path.join(self.runtime_dir, platform, RUNTIME_NAME)
        if os.access(bundled, os.X_OK):
            return bundled, 'collection'
        cached = self.cached_path(platform)
        if os.access(cached, os.X_OK):
            return cached, 'cache'
        return None, None

    def runtime(self, platform):
        """(path, origin) of the runtime for `platform` on this controller, fetching it once if needed."""
        path, origin = self.find(platform)
        if path:
            return path, origin
        entry = self.manifest['platforms'].get(platform)
        if not entry:
            raise RuntimeUnavailable('this collection build has no runtime for %s (it has: %s)'
                                     % (platform, ', '.join(sorted(self.manifest['platforms'])) or 'none'))
        cached = self.cached_path(platform)
        directory = os.path.dirname(cached)
        _makedirs(directory)
        with open(os.path.join(directory, '.lock'), 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another fork may be fetching the same runtime: wait for it
            if os.access(cached, os.X_OK):
                return cached, 'cache'
            binary, origin = self._obtain(entry)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix='.' + RUNTIME_NAME + '.')
            try:
                with os.fdopen(fd, 'wb') as f:
                    f.write(binary)
                os.chmod(tmp, 0o755)
                os.rename(tmp, cached)
            except BaseException:
                _unlink(tmp)
                raise
            with open(cached + '.origin', 'w') as f:
                f.write(origin + '\n')
        return cached, origin

    def _obtain(self, entry):
        if self.source:
            data = self._from_source(entry)
            origin = 'source ' + self.source
        else:
            try:
                data = fetch_package(self.registry, entry['package'], entry['version'], entry['integrity'])
            except RegistryError as e:
                raise RuntimeUnavailable('%s. Air-gapped? Set mcp_audit_runtime_source to the package .tgz or a directory '
                                         'holding it (see the collection README, "Runtime delivery").' % e)
            origin = 'registry %s' % self.registry
        binary = data if not _is_gzip(data) else _extract(data, entry['path_in_tarball'])
        actual = hashlib.sha256(binary).hexdigest()
        if actual != entry['sha256']:
            raise RuntimeUnavailable('the runtime from %s has sha256 %s, but this collection expects %s (%s@%s): refusing it'
                                     % (origin, actual, entry['sha256'], entry['package'], entry['version']))
        return binary, origin

    def _from_source(self, entry):
        path = self.source
        if os.path.isdir(path):
            candidates = [os.path.join(path, entry['tarball']), os.path.join(path, RUNTIME_NAME)]
            path = next((p for p in candidates if os.path.isfile(p)), None)
            if not path:
                raise RuntimeUnavailable('mcp_audit_runtime_source %s holds neither %s nor %s' % (self.source, entry['tarball'], RUNTIME_NAME))
        try:
            with open(path, 'rb') as f:
                data = f.read()
        except (IOError, OSError) as e:
            raise RuntimeUnavailable('cannot read mcp_audit_runtime_source %s: %s' % (path, e))
        if _is_gzip(data) and integrity_of(data) != entry['integrity']:
            raise RuntimeUnavailable('%s has integrity %s, but this collection expects %s (%s@%s): refusing it'
                                     % (path, integrity_of(data), entry['integrity'], entry['package'], entry['version']))
        return data

    def status(self, platform):
        path, origin = self.find(platform)
        if origin == 'cache':
            try:
                with open(path + '.origin') as f:
                    origin = 'cache (from %s)' % f.read().strip()
            except (IOError, OSError):
                pass
        return {'path': path, 'origin': origin, 'cache_dir': os.path.join(cache_root(), self.manifest['build_id']),
                'registry': self.registry, 'registry_from': self.registry_origin, 'source': self.source}


def _is_gzip(data):
    return data[:2] == b'\x1f\x8b'


def _extract(tgz, member):
    try:
        with tarfile.open(fileobj=io.BytesIO(tgz), mode='r:gz') as t:
            f = t.extractfile(member)
            if f is None:
                raise KeyError(member)
            return f.read()
    except (tarfile.TarError, KeyError) as e:
        raise RuntimeUnavailable('the runtime package has no %s (%s)' % (member, e))


def _makedirs(path):
    try:
        os.makedirs(path, 0o700)
    except OSError as e:
        if e.errno != errno.EEXIST:
            raise


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass
