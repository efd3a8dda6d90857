#!/usr/bin/env bash
# The official conformance suite needs Node 22: install node@22 and the pinned suite into
# .cache/conformance (npm registry packages only), once.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=.cache/conformance
CONFORMANCE_VERSION=0.1.16
if [ -x "$DIR/node_modules/.bin/conformance" ] && [ -x "$DIR/node_modules/node/bin/node" ]; then exit 0; fi
mkdir -p "$DIR"
[ -f "$DIR/package.json" ] || echo '{"name":"conformance-runner","private":true,"allowScripts":{"node":true}}' > "$DIR/package.json"
npm install --prefix "$DIR" --no-audit --no-fund --no-save "node@22" "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" >/dev/null
"$DIR/node_modules/node/bin/node" --version
