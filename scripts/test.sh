#!/usr/bin/env bash
# Runs every check of the project, from a fresh Debian machine with the Rust toolchain:
# style (cargo fmt --check), lints (clippy -D warnings), the Rust tests (codec, session, transport, and the real
# socket.io server), and the headless Godot test scenes (fetching headless Godot first unless GODOT is set).
# Installs what it needs by itself (Node packages of the test server, Godot). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Node test server dependencies"
bash scripts/setup-node.sh

step "cargo fmt --check"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
cargo fmt --all --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test"
cargo test --workspace

step "headless Godot test scenes"
bash scripts/test-godot.sh
