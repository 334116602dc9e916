#!/bin/sh
# Usage: sh scripts/ansible-lane.sh <2.14|2.19>
#
# Makes an ansible-core test lane ready and prints the directory to put first
# on PATH for it (empty for 2.14: Debian 12's apt package, which
# ensure-deps.sh installs). Idempotent; the second run does no network I/O.
#
# 2.19 is Debian 13's package. apt cannot install it on Debian 12, but its
# pure-Python code runs with Debian 12's python3 and the libraries apt's
# ansible-core already pulled in. So: download it with a private apt state
# (our own sources list naming the trixie suite of the mirror this machine
# uses; the system's apt state is never touched), unpack it with dpkg -x,
# and write wrappers (ansible-playbook, ansible-galaxy, ...) that run it with
# PYTHONPATH pointing at the unpacked dist-packages.
set -eu

lane="${1:?usage: scripts/ansible-lane.sh <2.14|2.19>}"
python=/usr/bin/python3

case "$lane" in
  2.14)
    version="$(ansible-playbook --version 2>/dev/null | sed -n '1s/.*core \([0-9.]*\).*/\1/p')"
    case "$version" in
      2.14.*) exit 0 ;;
      *) echo "lane 2.14: ansible-playbook on PATH is '${version:-missing}', not 2.14 (apt-get install ansible-core on Debian 12)" >&2; exit 1 ;;
    esac
    ;;
  2.19) suite=trixie ;;
  *) echo "unknown lane '$lane' (known: 2.14, 2.19)" >&2; exit 1 ;;
esac

cache="${XDG_CACHE_HOME:-$HOME/.cache}/tosin2013.mcp_audit/ansible-core-$lane"
bin="$cache/bin"
if [ -x "$bin/ansible-playbook" ] && "$bin/ansible-playbook" --version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi

# The mirror this machine already uses (deb822 or one-line sources), else Debian's CDN.
mirror="$(sed -n 's/^URIs: *\(\S*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v -e security -e nodesource -e google | head -n1 || true)"
if [ -z "$mirror" ]; then
  mirror="$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\(\S*\) bookworm .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1 || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

state="$cache/apt"
rm -rf "$state" "$cache/root"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/empty.d" "$cache/root" "$bin"
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
echo "==> fetching ansible-core from Debian $suite ($mirror) for the $lane test lane" >&2
apt_private update
(cd "$state" && apt_private download ansible-core)
deb="$(ls "$state"/ansible-core_*.deb)"
case "$(basename "$deb")" in
  ansible-core_"$lane".*) ;;
  *) echo "Debian $suite carries $(basename "$deb"), not ansible-core $lane" >&2; exit 1 ;;
esac
dpkg -x "$deb" "$cache/root"
rm -rf "$state"

site="$cache/root/usr/lib/python3/dist-packages"
for tool in "$cache"/root/usr/bin/ansible*; do
  name="$(basename "$tool")"
  cat >"$bin/$name" <<EOF
#!/bin/sh
# ansible-core $lane from Debian $suite, run by Debian 12's python3 (written by scripts/ansible-lane.sh).
PYTHONPATH="$site\${PYTHONPATH:+:\$PYTHONPATH}" exec $python "$tool" "\$@"
EOF
  chmod 755 "$bin/$name"
done
"$bin/ansible-playbook" --version >&2
echo "$bin"
