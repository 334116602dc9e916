#!/bin/sh
# npm test: type-check, build the runtime, then every unit and end-to-end test
# on each ansible-core lane (the end-to-end tests install the built collection
# and run real playbooks).
#
#   npm test                          both lanes: 2.14 (Debian 12) and 2.19 (Debian 13's package)
#   npm test -- --lane 2.19           one lane
#   npm test -- --lane 2.14 tests/e2e/tool_calls.test.ts    one lane, some files (vitest arguments)
#
# Unit tests do not involve Ansible: they run once, with the first lane.
set -eu
cd "$(dirname "$0")/.."

lanes="${MCP_AUDIT_LANES:-2.14 2.19}"
if [ "${1:-}" = "--lane" ]; then
  lanes="${2:?--lane needs 2.14 or 2.19}"
  shift 2
fi

sh scripts/ensure-deps.sh
npx tsc --noEmit
npm run --silent build

first=yes
for lane in $lanes; do
  bin="$(sh scripts/ansible-lane.sh "$lane")"
  echo "==> tests on ansible-core $lane"
  if [ "$first" = yes ]; then
    selection="$*"
  else
    # Later lanes: the end-to-end tests only (or, when files are given, those files again).
    selection="${*:-tests/e2e}"
  fi
  # shellcheck disable=SC2086
  MCP_AUDIT_ANSIBLE_LANE="$lane" PATH="${bin:+$bin:}$PATH" npx vitest run $selection
  first=no
done
