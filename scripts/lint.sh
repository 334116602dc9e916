#!/bin/sh
# Usage: sh scripts/lint.sh [ansible-lint arguments, e.g. a playbook path]
#
# ansible-lint at the collection root (settings in .ansible-lint), twice:
#   --profile production    the profile Galaxy-bound content is held to
#   no profile              every default rule, `args` included: each task's
#                           options checked against the module's argument spec
#                           (plugins/modules/*.py), so `tool_nam:` fails
# Run `npm run build` first: the module files are build output.
#
# ansible-lint is not installable from PyPI here; Debian 13 packages it (pure
# Python), so scripts/debian-packages.sh unpacks it with its dependencies and
# Debian 12's python3 runs it with the 2.19 lane's ansible-core. One exception:
# Debian 13's jsonschema needs rpds-py, a compiled extension built for
# Python 3.13 only, so jsonschema comes from Debian 12 (4.10, pure Python, the
# oldest ansible-lint accepts).
set -eu
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
. scripts/tools-env.sh
cache="$tools_cache"
sh scripts/debian-packages.sh trixie "$cache/ansible-lint-trixie" \
  ansible-lint python3-ansible-compat python3-subprocess-tee python3-filelock python3-ruamel.yaml \
  python3-wcmatch python3-bracex yamllint python3-pathspec \
  black python3-click python3-mypy-extensions python3-platformdirs
sh scripts/debian-packages.sh bookworm "$cache/ansible-lint-bookworm" python3-jsonschema python3-attr python3-pyrsistent

# Offline, ansible-lint does not install the collection it runs in: link this
# checkout where it looks first (its cache directory, .ansible/).
mkdir -p .ansible/collections/ansible_collections/tosin2013
ln -sfn ../../../.. .ansible/collections/ansible_collections/tosin2013/mcp_audit

PYTHONPATH="$cache/ansible-lint-trixie/root/usr/lib/python3/dist-packages:$cache/ansible-lint-bookworm/root/usr/lib/python3/dist-packages:$lane_site"
PATH="$lane_bin:$PATH"
export PYTHONPATH PATH
ansible_lint() {
  /usr/bin/python3 "$cache/ansible-lint-trixie/root/usr/bin/ansible-lint" --nocolor "$@"
}
echo "==> ansible-lint --profile production"
ansible_lint --profile production "$@"
echo "==> ansible-lint (every default rule, args included)"
ansible_lint "$@"
