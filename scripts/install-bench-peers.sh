#!/usr/bin/env bash
# Peers the benchmark compares against (supergateway, mcp-proxy), installed from the npm registry
# into .cache/bench, never as project dependencies. Pinned so results stay comparable.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=.cache/bench
SUPERGATEWAY_VERSION=4.0.0
MCP_PROXY_VERSION=6.7.19
if [ -x "$DIR/node_modules/.bin/supergateway" ] && [ -x "$DIR/node_modules/.bin/mcp-proxy" ]; then exit 0; fi
mkdir -p "$DIR"
[ -f "$DIR/package.json" ] || echo '{"name":"bench-peers","private":true}' > "$DIR/package.json"
npm install --prefix "$DIR" --no-audit --no-fund --no-save "supergateway@$SUPERGATEWAY_VERSION" "mcp-proxy@$MCP_PROXY_VERSION" >/dev/null
ls "$DIR/node_modules/.bin/supergateway" "$DIR/node_modules/.bin/mcp-proxy"
