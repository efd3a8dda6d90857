#!/usr/bin/env bash
# The official conformance suite needs Node 22: install node@22 and the pinned suites (npm registry
# packages only), once: 0.1.x (2025 revisions) in .cache/conformance, 0.2.x (adds 2026-07-28) in
# .cache/conformance-next; and the MCP Inspector CLI in .cache/inspector.
set -euo pipefail
cd "$(dirname "$0")/.."

install_suite() {
  local dir=$1 version=$2
  if [ -x "$dir/node_modules/.bin/conformance" ] && [ -x "$dir/node_modules/node/bin/node" ]; then return 0; fi
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"name":"conformance-runner","private":true,"allowScripts":{"node":true}}' > "$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --no-save "node@22" "@modelcontextprotocol/conformance@$version" >/dev/null
  "$dir/node_modules/node/bin/node" --version
}

install_suite .cache/conformance 0.1.16
install_suite .cache/conformance-next 0.2.0-alpha.12

# The MCP Inspector CLI (runs on Node 20), for the test that drives both transports with it.
INSPECTOR_VERSION=2.12.0
if [ ! -x .cache/inspector/node_modules/.bin/mcp-inspector ]; then
  mkdir -p .cache/inspector
  [ -f .cache/inspector/package.json ] || echo '{"name":"inspector-runner","private":true}' > .cache/inspector/package.json
  npm install --prefix .cache/inspector --no-audit --no-fund --no-save "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" >/dev/null
fi
