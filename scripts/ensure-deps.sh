#!/bin/sh
# Make a fresh clone ready: npm packages (from package-lock.json), ansible-core
# and openssl. Run by demo.sh and test.sh; safe to run repeatedly.
#
#   sh scripts/ensure-deps.sh --platforms=all   also what building (and smoke-testing)
#                                               the other cpu's runtime needs: qemu-user,
#                                               its C/C++ runtime libraries (multiarch), strip
set -eu
cd "$(dirname "$0")/.."

# Opt-in: only for builds of another cpu's runtime (npm run release:runtimes, --platforms=all).
# qemu-user runs that cpu's Node to make its SEA blob (the V8 code cache is cpu-specific).
ensure_cross_platforms() {
  case "$(uname -m)" in
    x86_64) arch=arm64 triple=aarch64-linux-gnu qemu=qemu-aarch64 ;;
    aarch64) arch=amd64 triple=x86_64-linux-gnu qemu=qemu-x86_64 ;;
    *) echo "no runtime is built on $(uname -m)" >&2; return 1 ;;
  esac
  if command -v "$qemu" >/dev/null 2>&1 && [ -d "/lib/$triple" ] && command -v "$triple-strip" >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing from apt: qemu-user, libc6:$arch libstdc++6:$arch, binutils-$triple"
    dpkg --add-architecture "$arch"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      qemu-user "libc6:$arch" "libstdc++6:$arch" "binutils-$triple" >/dev/null
  else
    echo "Building the $arch runtime wants qemu-user, the $arch C/C++ libraries and binutils-$triple:" >&2
    echo "  sudo dpkg --add-architecture $arch && sudo apt-get update" >&2
    echo "  sudo apt-get install qemu-user libc6:$arch libstdc++6:$arch binutils-$triple" >&2
    echo "(without them the build still makes that runtime: no code cache, unstripped, unchecked)" >&2
  fi
}

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

# The other cpu's runtime is wanted: --platforms=all or naming it, here or in MCP_AUDIT_PLATFORMS.
case "$(uname -m)" in aarch64) other=linux-x64 ;; *) other=linux-arm64 ;; esac
case " $* --platforms=${MCP_AUDIT_PLATFORMS:-} " in
  *--platforms=all\ * | *--platforms=*"$other"*) ensure_cross_platforms ;;
esac

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
