#!/usr/bin/env bash
# Installs what the reference Socket.IO test server (tests/server) and the reference client (bench/node:
# socket.io-client, for the benchmark and the fault tests' comparison) need: node + npm, then the exact packages
# pinned in tests/server/package-lock.json and bench/node/package-lock.json.
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

# `npm ci` in DIR when its node_modules is missing, incomplete (no KEY package), or older than its lock file.
npm_ci() {
    local dir=$1 key=$2 stamp="$1/node_modules/.package-lock.json" out   # npm writes the stamp on install
    if [ ! -d "$dir/node_modules/$key" ] || [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
        out="$(mktemp)"
        if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >"$out" 2>&1; then
            cat "$out" >&2
            rm -f "$out"
            log "npm ci in ${dir#"$ROOT"/} failed"
            exit 1
        fi
        rm -f "$out"
        touch "$stamp"
    fi
}

npm_ci "$SERVER_DIR" socket.io
# socket.io-client (Node), the reference client of the benchmark and of the fault tests' comparison figures.
npm_ci "$ROOT/bench/node" socket.io-client
