#!/usr/bin/env bash
# Installs what the interop matrix (rust/core/tests/interop.rs, tests/interop/README.md) needs, on Debian:
#   - Debian's redis-server, haproxy and tinyproxy (apt-get, when missing). Their system services are not used: the
#     test starts its own instances on free ports with its own config files, and stops any the package started.
#   - a Python virtualenv in .cache/python-venv with tests/interop/python/requirements.txt (exact versions);
#   - the socketioxide test server (tests/interop/socketioxide-server, its own Cargo.lock), built into
#     ${CARGO_TARGET_DIR:-target}/interop-socketioxide with `cargo build --release --locked` (where the test looks);
#   - the Node test server's packages (scripts/setup-node.sh: socket.io, @socket.io/redis-adapter, redis).
# Idempotent and quiet on success; safe to call before every test run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "setup-interop: $*" >&2; }

# Runs a command with its output kept aside, shown only when it fails.
quiet() {
    local out
    out="$(mktemp)"
    if ! "$@" >"$out" 2>&1; then
        cat "$out" >&2
        rm -f "$out"
        log "failed: $*"
        exit 1
    fi
    rm -f "$out"
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# --- Debian packages -------------------------------------------------------------------------------------------
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v tinyproxy >/dev/null 2>&1 || [ -x /usr/sbin/tinyproxy ] || missing+=(tinyproxy)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} with apt-get"
    # policy-rc.d 101: packages do not start their services on install (where invoke-rc.d is used).
    policy_added=""
    if [ ! -e /usr/sbin/policy-rc.d ] && [ -z "$SUDO" ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        policy_added=1
    fi
    quiet $SUDO apt-get update
    quiet env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${missing[@]}"
    if [ -n "$policy_added" ]; then rm -f /usr/sbin/policy-rc.d; fi
    # Stop what the packages may have started anyway: nothing of ours uses the system instances.
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        for unit in redis-server haproxy tinyproxy; do
            $SUDO systemctl disable --now "$unit" >/dev/null 2>&1 || true
        done
    elif command -v service >/dev/null 2>&1; then
        for unit in redis-server haproxy tinyproxy; do
            $SUDO service "$unit" stop >/dev/null 2>&1 || true
        done
    fi
fi

# --- Python virtualenv -----------------------------------------------------------------------------------------
VENV="$ROOT/.cache/python-venv"
REQ="$ROOT/tests/interop/python/requirements.txt"
stamp="$VENV/.requirements.txt"
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$stamp" ] || ! cmp -s "$REQ" "$stamp"; then
    quiet python3 -m venv "$VENV"
    quiet "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"
    cp "$REQ" "$stamp"
fi

# --- socketioxide test server ----------------------------------------------------------------------------------
quiet env CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/interop-socketioxide" \
    cargo build --release --locked --quiet --manifest-path "$ROOT/tests/interop/socketioxide-server/Cargo.toml"

# --- Node test server packages ---------------------------------------------------------------------------------
bash "$ROOT/scripts/setup-node.sh"
