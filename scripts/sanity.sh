#!/bin/sh
# Usage: sh scripts/sanity.sh [ansible-test sanity options, e.g. --test pep8]
#
# ansible-test sanity on the collection as Galaxy gets it: the tarball that
# `ansible-galaxy collection build` makes from the current build (run
# `npm run build` first), installed into a scratch collections path, tested
# with the 2.19 lane's ansible-test (scripts/ansible-lane.sh), --local.
#
# Offline: ansible-test installs each test's Python requirements from PyPI
# into a venv; there is no PyPI here, so scripts/sanity_venvs.py makes those
# venvs from Debian 13's builds of the same tools (unpacked by
# scripts/debian-packages.sh). Two tests cannot run that way:
#   validate-modules  needs antsibull-docs-parser, which Debian does not package.
#                     Instead 2.14's validate-modules (apt's ansible-test; it
#                     needs only voluptuous) checks the module docs.
#   changelog         needs antsibull-changelog, which Debian does not package;
#                     `npm run changelog` renders CHANGELOG.rst, and
#                     tests/unit/changelog.test.ts checks the fragments.
set -eu
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
. scripts/tools-env.sh
python=/usr/bin/python3
python_version="$($python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

# The linters ansible-test 2.19 runs, as Debian 13 builds them (pure Python; Debian 12's python3 runs them).
tools="$tools_cache/sanity-tools-trixie"
sh scripts/debian-packages.sh trixie "$tools" \
  python3-voluptuous yamllint python3-pathspec python3-pycodestyle \
  pylint python3-astroid python3-isort python3-mccabe python3-platformdirs python3-tomlkit python3-dill
tools_site="$tools/root/usr/lib/python3/dist-packages"

work="$(mktemp -d "${TMPDIR:-/tmp}/mcp-audit-sanity.XXXXXX")"
trap 'rm -rf "$work"' EXIT INT TERM
"$lane_bin/ansible-galaxy" collection build --output-path "$work" "$repo" >/dev/null
"$lane_bin/ansible-galaxy" collection install -p "$work/collections" "$work"/*.tar.gz >/dev/null 2>&1
cd "$work/collections/ansible_collections/tosin2013/mcp_audit"

PYTHONPATH="$lane_site" $python "$repo/scripts/sanity_venvs.py" "$tools_site" \
  ansible-doc import import.plugin pep8 pylint runtime-metadata yamllint
echo "==> ansible-test sanity (ansible-core 2.19)"
"$lane_bin/ansible-test" sanity --local --python "$python_version" --python-interpreter "$python" --color no \
  --skip-test validate-modules --skip-test changelog "$@"

# Apt's ansible-test 2.14 checks the module docs too (it needs no ignore file: there is none).
$python "$repo/scripts/sanity_venvs.py" "$tools_site" validate-modules
echo "==> ansible-test sanity --test validate-modules (ansible-core 2.14)"
/usr/bin/ansible-test sanity --local --python "$python_version" --color no --test validate-modules
