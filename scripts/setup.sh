#!/usr/bin/env bash
# Installs what the satellite needs beside npm packages on Debian: bubblewrap (the production
# sandbox). With --test also the conformance suite (Node 22 + @modelcontextprotocol/conformance).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v bwrap >/dev/null 2>&1; then
  echo "setup: installing bubblewrap (the team sandbox)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq bubblewrap >/dev/null
fi

if [ "${1:-}" = "--test" ]; then
  bash scripts/install-conformance.sh
fi
