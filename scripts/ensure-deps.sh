#!/bin/sh
# Make a fresh clone ready: npm packages (from package-lock.json) and
# ansible-core. Sourced by demo.sh and test.sh; safe to run repeatedly.
set -eu
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

if ! command -v ansible-playbook >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing ansible-core from apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ansible-core >/dev/null
  else
    echo "ansible-core is not installed. Install it (ansible-core >= 2.14), for example:" >&2
    echo "  sudo apt-get install ansible-core     # Debian/Ubuntu" >&2
    echo "  pipx install ansible-core             # anywhere with Python" >&2
    exit 1
  fi
fi
