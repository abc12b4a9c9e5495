#!/usr/bin/env bash
# Runs every check of the project, from a fresh Debian machine with the Rust toolchain:
# style (cargo fmt --check), lints (clippy -D warnings), the Rust tests (codec, session, transport, the real
# socket.io server, the interop matrix: Node, python-socketio, socketioxide, haproxy + redis, tinyproxy; and the
# network faults of issue 15: a partition in a network namespace with nftables (root), slow links through the
# harness's impairment proxy, a cluster of two nodes on redis behind haproxy losing one), the
# headless Godot test scenes against the debug and the release build (fetching headless Godot first unless GODOT is
# set), the release zip installed into a new project and exported as a game (scripts/test-package.sh), the
# multiplayer relay's tests and three headless games playing through it (scripts/test-relay.sh,
# scripts/test-multiplayer.sh), the GitHub
# workflows (actionlint), and a short fuzz run of the decoder and the session (FUZZ_SECONDS per target, default 30).
# Installs what it needs by itself (Node packages of the test server, the interop servers and their Debian packages,
# Godot). Exits non-zero on any failure.
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

step "GitHub workflows (actionlint)"
bash scripts/lint-workflows.sh

step "interop servers (redis-server, haproxy, tinyproxy, python-socketio venv, socketioxide)"
bash scripts/setup-interop.sh

step "network faults (iproute2, nftables: the partition tests)"
bash scripts/setup-netfaults.sh

step "cargo test"
# --no-fail-fast: a failing test binary (e.g. a red cell of the interop matrix) does not hide the others.
cargo test --workspace --no-fail-fast

# Both builds: debug (gdext's strict checks of every engine call) and release (what the addon ships).
verdicts=()
for profile in debug release; do
    step "headless Godot test scenes, $profile build"
    bash scripts/test-godot.sh "$profile" | tee "${TMPDIR:-/tmp}/socketio-test-godot-$profile.log"
    verdicts+=("$(tail -n 1 "${TMPDIR:-/tmp}/socketio-test-godot-$profile.log")")
done

step "the release zip, installed into a new project and exported as a game"
bash scripts/test-package.sh | tee "${TMPDIR:-/tmp}/socketio-test-package.log"
package_verdict=$(tail -n 1 "${TMPDIR:-/tmp}/socketio-test-package.log")

step "the multiplayer relay's tests (relay/, Node's test runner)"
bash scripts/test-relay.sh | tee "${TMPDIR:-/tmp}/socketio-test-relay.log"
relay_verdict=$(tail -n 1 "${TMPDIR:-/tmp}/socketio-test-relay.log")

step "Godot's high-level multiplayer over SocketIOMultiplayerPeer: three headless games on the relay, release build"
bash scripts/test-multiplayer.sh release | tee "${TMPDIR:-/tmp}/socketio-test-multiplayer.log"
multiplayer_verdict=$(tail -n 1 "${TMPDIR:-/tmp}/socketio-test-multiplayer.log")

step "fuzz: ${FUZZ_SECONDS:-30} s per target"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"

# The interop matrix of `cargo test` (rust/core/tests/interop.rs), which a passing test does not show.
step "interop matrix"
cat "${CARGO_TARGET_DIR:-target}/interop-matrix.txt"

# The Godot scenes' verdict stays the last line a reader (or CI) sees: each build's, then their sum.
passed=0
failed=0
for verdict in "${verdicts[@]}"; do
    counts=${verdict#godot: }
    passed=$((passed + ${counts%% passed*}))
    counts=${counts#*, }
    failed=$((failed + ${counts%% failed*}))
done
echo "$package_verdict"
echo "$relay_verdict"
echo "$multiplayer_verdict"
echo "godot (debug build): ${verdicts[0]#godot: }"
echo "godot (release build): ${verdicts[1]#godot: }"
echo "godot: $passed passed, $failed failed"
