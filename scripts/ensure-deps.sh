#!/bin/sh
# Make a fresh clone ready: npm packages (from package-lock.json), ansible-core
# and openssl. Run by demo.sh and test.sh; safe to run repeatedly.
set -eu
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

# The tests also use openssl (a throwaway CA for the TLS tests) and python3 (JUnit parsing).
missing=""
command -v ansible-playbook >/dev/null 2>&1 || missing="$missing ansible-core"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing from apt:$missing"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "Missing:$missing. Install them (ansible-core >= 2.14), for example:" >&2
    echo "  sudo apt-get install$missing     # Debian/Ubuntu" >&2
    echo "  pipx install ansible-core        # ansible-core anywhere with Python" >&2
    exit 1
  fi
fi

# The remote-target tests and bench (d) run a real sshd on loopback with throwaway
# users; they need root, so they skip (and this installs nothing) when not root.
optional=""
[ -x /usr/sbin/sshd ] || optional="$optional openssh-server"
command -v sudo >/dev/null 2>&1 || optional="$optional sudo"
if [ -n "$optional" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing from apt (remote-target tests):$optional"
  # A stale package list (fresh containers have none) makes the install fail; refresh once.
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $optional >/dev/null 2>&1 || {
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $optional >/dev/null
  }
fi
