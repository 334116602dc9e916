#!/bin/sh
# Usage: sh scripts/debian-packages.sh <suite> <dir> <package>...
#
# Unpacks Debian packages of another suite (trixie, say) into <dir>/root
# without installing them: for pure-Python tools (ansible-core, yamllint,
# ansible-lint, ...) that Debian 12's python3 runs from there with PYTHONPATH.
# apt cannot install another suite's packages, so: download them with a
# private apt state (our own sources list naming that suite of the mirror this
# machine uses; the system's apt state is never touched) and unpack them with
# dpkg -x. Dependencies are not resolved: name every package needed.
# Idempotent: when <dir>/root already holds exactly these packages, nothing is
# fetched.
set -eu

suite="${1:?usage: scripts/debian-packages.sh <suite> <dir> <package>...}"
dir="${2:?usage: scripts/debian-packages.sh <suite> <dir> <package>...}"
shift 2
wanted="$suite: $*"
if [ -f "$dir/root/.packages" ] && [ "$(cat "$dir/root/.packages")" = "$wanted" ]; then
  exit 0
fi

# The mirror this machine already uses (deb822 or one-line sources), else Debian's CDN.
mirror="$(sed -n 's/^URIs: *\(\S*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -e security -e nodesource -e google | head -n1 || true)"
if [ -z "$mirror" ]; then
  mirror="$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\(\S*\) bookworm .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1 || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

state="$dir/apt"
rm -rf "$state" "$dir/root"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/empty.d" "$dir/root"
cat >"$state/sources.list" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main
EOF
apt_private() {
  apt-get -qq \
    -o Dir::Etc::SourceList="$state/sources.list" \
    -o Dir::Etc::SourceParts="$state/empty.d" \
    -o Dir::State::Lists="$state/lists" \
    -o Dir::Cache="$state/cache" \
    -o Dir::State::status=/dev/null \
    -o APT::Sandbox::User=root \
    "$@"
}
echo "==> fetching from Debian $suite ($mirror): $*" >&2
apt_private update
(cd "$state" && apt_private download "$@")
for deb in "$state"/*.deb; do
  dpkg -x "$deb" "$dir/root"
done
ls "$state"/*.deb | sed 's|.*/||' >"$dir/root/.debs"
rm -rf "$state"
echo "$wanted" >"$dir/root/.packages"
