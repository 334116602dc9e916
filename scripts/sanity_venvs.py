"""Give ansible-test the sanity-test virtual environments it cannot make offline.

Usage (by scripts/sanity.sh, with the ansible-test under test importable):
    python3 scripts/sanity_venvs.py <site-dir> <sanity-test>...

(a sanity test name, or import.plugin: the import test's venv for plugins)

ansible-test runs each sanity test that has Python requirements in its own
virtual environment, ~/.ansible/test/venv/sanity.<test>/<python>/<hash>, which
it fills from PyPI with pip. There is no PyPI here. A directory there that
holds marker.txt counts as made, so this makes them the way ansible-test
would, except that the packages come from Debian: the venv sees the system's
packages (PyYAML, Jinja2, packaging: ansible-core's own dependencies) plus
<site-dir>, where scripts/sanity.sh unpacked Debian's builds of the linters.
The hash is ansible-test's own, computed by ansible-test's code, so a venv is
found exactly when ansible-test would look for it.
"""
from __future__ import annotations

import inspect
import json
import os
import sys
import venv

from ansible_test._internal.commands.sanity import hash_pip_commands
from ansible_test._internal.host_configs import NativePythonConfig
from ansible_test._internal.python_requirements import collect_requirements


def has_libyaml() -> bool:
    try:
        from yaml import CSafeLoader  # noqa: F401 pylint: disable=unused-import
    except ImportError:
        return False
    return True


def main(site: str, tests: list[str]) -> None:
    python = NativePythonConfig(version='%d.%d' % sys.version_info[:2], path=sys.executable)
    for test in tests:
        # The import test's own venvs (import.module, import.plugin) are minimized, as ansible-test makes them.
        # Called as create_sanity_virtualenv() calls it; flags that only some ansible-test versions have are all False.
        flags = {name: False for name in inspect.signature(collect_requirements).parameters}
        flags.update(python=python, controller=True, minimize=test.startswith('import.'), command=None, sanity=test)
        commands = collect_requirements(**flags)
        if not commands:
            continue  # a test without requirements: ansible-test makes its venv itself, without PyPI
        label = f'sanity.{test}'
        path = os.path.join(os.path.expanduser('~/.ansible/test/venv'), label, python.version, hash_pip_commands(commands))
        pth = os.path.join(path, 'lib', f'python{python.version}', 'site-packages', 'debian-packages.pth')
        if os.path.exists(os.path.join(path, 'marker.txt')) and os.path.exists(pth):
            with open(pth, encoding='utf-8') as f:
                if f.read().strip() == site:
                    continue
        venv.EnvBuilder(system_site_packages=True, clear=True, with_pip=False, symlinks=True).create(path)
        with open(pth, 'w', encoding='utf-8') as f:
            f.write(site + '\n')
        with open(os.path.join(path, 'meta.install.json'), 'w', encoding='utf-8') as f:
            json.dump([command.serialize() for command in commands], f, indent=4)
        with open(os.path.join(path, 'meta.yaml.json'), 'w', encoding='utf-8') as f:
            json.dump(has_libyaml(), f)
        with open(os.path.join(path, 'marker.txt'), 'w', encoding='utf-8'):
            pass
        print(f'sanity venv for {test}: {path}', file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2:])
