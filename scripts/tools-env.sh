# Sourced (with `.`) at the repo root by scripts/sanity.sh and scripts/lint.sh,
# which check the build output with Ansible's own tools: stops when there is
# no build, and sets lane_bin / lane_site, the 2.19 lane's wrapper directory
# and its ansible-core (scripts/ansible-lane.sh), and tools_cache, where the
# Debian packages of those tools are unpacked.
if ! ls plugins/modules/*.py >/dev/null 2>&1; then
  echo "$(basename "$0"): no plugins/modules/*.py: run npm run build first" >&2
  exit 1
fi
lane_bin="$(sh scripts/ansible-lane.sh 2.19)"
lane_site="$(dirname "$lane_bin")/root/usr/lib/python3/dist-packages"
tools_cache="${XDG_CACHE_HOME:-$HOME/.cache}/tosin2013.mcp_audit"
