#!/usr/bin/env bash
# Installs what the reference Socket.IO test server (tests/server) needs:
# node + npm, then the exact packages pinned in tests/server/package-lock.json.
# Idempotent and quiet on success; safe to call before every test run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVER_DIR="$ROOT/tests/server"

log() { echo "setup-node: $*" >&2; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    log "node/npm missing: installing with apt-get"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    out="$(mktemp)"
    if ! { $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y nodejs npm; } >"$out" 2>&1; then
        cat "$out" >&2
        rm -f "$out"
        log "apt-get install nodejs npm failed"
        exit 1
    fi
    rm -f "$out"
fi

# `npm ci` when node_modules is missing, incomplete, or older than the lock file.
stamp="$SERVER_DIR/node_modules/.package-lock.json"   # written by npm on install
if [ ! -d "$SERVER_DIR/node_modules/socket.io" ] || [ ! -f "$stamp" ] \
    || [ "$SERVER_DIR/package-lock.json" -nt "$stamp" ]; then
    out="$(mktemp)"
    if ! (cd "$SERVER_DIR" && npm ci --no-audit --no-fund --loglevel=error) >"$out" 2>&1; then
        cat "$out" >&2
        rm -f "$out"
        log "npm ci in tests/server failed"
        exit 1
    fi
    rm -f "$out"
    touch "$stamp"
fi
