#!/bin/sh
# npm test: type-check, build the runtime, then every unit and end-to-end test
# (the end-to-end tests install the built collection and run real playbooks).
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-deps.sh
npx tsc --noEmit
npm run --silent build
npx vitest run "$@"
