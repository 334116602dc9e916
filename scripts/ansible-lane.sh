#!/bin/sh
# Usage: sh scripts/ansible-lane.sh <2.14|2.19>
#
# Makes an ansible-core test lane ready and prints the directory to put first
# on PATH for it (empty for 2.14: Debian 12's apt package, which
# ensure-deps.sh installs). Idempotent; the second run does no network I/O.
#
# 2.19 is Debian 13's package. apt cannot install it on Debian 12, but its
# pure-Python code runs with Debian 12's python3 and the libraries apt's
# ansible-core already pulled in. So: unpack it (scripts/debian-packages.sh)
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

echo "==> fetching ansible-core from Debian $suite for the $lane test lane" >&2
sh "$(dirname "$0")/debian-packages.sh" "$suite" "$cache" ansible-core
deb="$(cat "$cache/root/.debs")"
case "$deb" in
  ansible-core_"$lane".*) ;;
  *) echo "Debian $suite carries $deb, not ansible-core $lane" >&2; exit 1 ;;
esac
mkdir -p "$bin"

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
