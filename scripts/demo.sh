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
  MCP_AUDIT_BROKER_DIR=$broker_dir ANSIBLE_COLLECTIONS_PATH=$work/collections \
    ansible localhost -m tosin2013.mcp_audit.mcp_broker -a state=stopped >/dev/null 2>&1 || true
  rm -rf "$work" "$broker_dir"
}
trap cleanup EXIT

echo "==> building and installing the collection into $work/collections"
ansible-galaxy collection build --force --output-path "$work" . >/dev/null
ansible-galaxy collection install -p "$work/collections" "$work"/tosin2013-mcp_audit-*.tar.gz >/dev/null
# TEMPORARY, until the runtime resolution lands: the slim tarball carries no
# Node runtime; put the one just built where the action plugin looks for it.
installed_runtime="$work/collections/ansible_collections/tosin2013/mcp_audit/plugins/runtime"
mkdir -p "$installed_runtime"
cp plugins/runtime/mcp_audit_runtime "$installed_runtime/"

echo "==> running examples/demo.yml"
MCP_EVERYTHING_JS="$PWD/node_modules/@modelcontextprotocol/server-everything/dist/index.js" \
MCP_AUDIT_BROKER_DIR=$broker_dir \
ANSIBLE_COLLECTIONS_PATH="$work/collections" \
ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
  ansible-playbook examples/demo.yml "$@"
