#!/bin/sh
# npm run demo: build the collection, install it the way a user would (from
# the tarball, into a temporary collections path) and run examples/demo.yml
# against the bundled @modelcontextprotocol/server-everything.
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-deps.sh
npm run --silent build

work=$(mktemp -d "${TMPDIR:-/tmp}/mcp_audit_demo.XXXXXX")
broker_dir=$(mktemp -d /tmp/mcpd.XXXXXX)
cleanup() {
  # Stop the demo's broker and every server it started; leave nothing behind.
  MCP_AUDIT_RUNTIME_SOURCE="$PWD/build/runtime-packages" MCP_AUDIT_BROKER_DIR=$broker_dir ANSIBLE_COLLECTIONS_PATH=$work/collections \
    ansible localhost -m tosin2013.mcp_audit.mcp_broker -a state=stopped >/dev/null 2>&1 || true
  rm -rf "$work" "$broker_dir"
}
trap cleanup EXIT

echo "==> building and installing the collection into $work/collections"
ansible-galaxy collection build --force --output-path "$work" . >/dev/null
ansible-galaxy collection install -p "$work/collections" "$work"/tosin2013-mcp_audit-*.tar.gz >/dev/null

echo "==> running examples/demo.yml"
# The Galaxy collection carries no runtime: like an air-gapped user, point the controller at the
# runtime package the build made (checked against the collection's manifest, then cached once).
MCP_AUDIT_RUNTIME_SOURCE="$PWD/build/runtime-packages" \
MCP_EVERYTHING_JS="$PWD/node_modules/@modelcontextprotocol/server-everything/dist/index.js" \
MCP_AUDIT_BROKER_DIR=$broker_dir \
ANSIBLE_COLLECTIONS_PATH="$work/collections" \
ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
  ansible-playbook examples/demo.yml "$@"
