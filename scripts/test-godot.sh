#!/usr/bin/env bash
# test-godot.sh [debug|release] — the headless Godot tests, end to end:
#   1. builds the extension (debug by default; release is what the addon ships, with gdext's per-call checks off)
#      and installs it into tests/godot/addons/socketio/ (scripts/build-extension.sh);
#   2. installs the Node test server's packages (scripts/setup-node.sh);
#   3. starts four test servers on free ports: plain ws, wss with a self-signed certificate for "localhost" (not
#      127.0.0.1) made here with openssl in a temporary directory, plain ws with connection state recovery, and
#      plain ws with a 4096-byte maxPayload;
#   4. runs the test project through scripts/run-godot-scene.sh, with SOCKETIO_TEST_URL, SOCKETIO_TEST_WSS_URL,
#      SOCKETIO_TEST_CA_PEM, SOCKETIO_TEST_RECOVERY_URL, SOCKETIO_TEST_SMALL_PAYLOAD_URL and SOCKETIO_TEST_BUILD
#      (debug or release) set, and the deliberate
#      error messages of the tests allowed (GODOT_ALLOWED_ERRORS);
#   5. stops the servers (also when interrupted: they exit when this script's end of their stdin closes).
# Exits with the scene's verdict; the last line is "godot: N passed, M failed" (checks of the test runner, plus one
# failure when the run script failed the run for another reason: crash, leak report, unexpected error line).
#
# Environment: SOCKETIO_TEST_FILTER (only tests whose "suite.test" contains it), GODOT, GODOT_TIMEOUT, GODOT_LOG
# (see run-godot-scene.sh), CARGO_TARGET_DIR.
set -euo pipefail

prog=test-godot
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/server-port.sh
. scripts/lib/server-port.sh

profile=${1:-debug}
case $profile in
    debug | release) ;;
    *) echo "usage: $0 [debug|release]" >&2; exit 2 ;;
esac
bash scripts/build-extension.sh "$profile"
bash scripts/setup-node.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME ARGS... — starts tests/server/server.js and sets $port once it prints "LISTENING <port>".
# Its stdin is a FIFO held open by this script, so it exits (--exit-on-stdin-close) whenever this script ends.
start_server() {
    local name=$1 fifo fd
    shift
    fifo=$tmp/$name.stdin
    mkfifo "$fifo"
    node tests/server/server.js --port 0 --quiet --exit-on-stdin-close "$@" <"$fifo" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=("$!")
    exec {fd}>"$fifo"
    port=$(wait_for_port "$tmp/$name.out" "${pids[-1]}")
    [ -n "$port" ] && return 0
    cat "$tmp/$name.err" >&2
    echo "$prog: error: the $name test server did not start" >&2
    echo "godot: 0 passed, 1 failed"
    exit 1
}

# A self-signed certificate for localhost (not a CA: it is its own trust anchor in the TLS tests). It does not name
# 127.0.0.1, so the tests can reach the server under a name the certificate does not hold.
cat >"$tmp/cert.cnf" <<'EOF'
[req]
distinguished_name = dn
x509_extensions = ext
prompt = no
[dn]
CN = localhost
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
EOF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -config "$tmp/cert.cnf" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/openssl.err" ||
    { cat "$tmp/openssl.err" >&2; echo "$prog: error: openssl could not make a certificate" >&2; exit 1; }

start_server plain
plain_port=$port
start_server tls --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"
tls_port=$port
start_server recovery --recovery
recovery_port=$port
start_server small --max-payload 4096
small_port=$port
echo "$prog: test servers on ws://127.0.0.1:$plain_port, wss://localhost:$tls_port," \
    "ws://127.0.0.1:$recovery_port (recovery) and ws://127.0.0.1:$small_port (maxPayload 4096)" >&2

export SOCKETIO_TEST_URL="ws://127.0.0.1:$plain_port"
export SOCKETIO_TEST_WSS_URL="wss://localhost:$tls_port"
export SOCKETIO_TEST_CA_PEM="$tmp/cert.pem"
export SOCKETIO_TEST_RECOVERY_URL="ws://127.0.0.1:$recovery_port"
export SOCKETIO_TEST_SMALL_PAYLOAD_URL="ws://127.0.0.1:$small_port"
export SOCKETIO_TEST_BUILD="$profile"
# Errors the tests trigger on purpose (each one is also checked by the runner with expect_error()).
export GODOT_ALLOWED_ERRORS='EXPECTED|is reserved by Socket\.IO|the event name is empty|must be 0 \(unlimited\) or more|must be between 0\.0 and 1\.0|must be a finite number of seconds|belongs to a connection that was closed|must be -?[0-9]+ or more|must be between 1 and 127|must be more than 0 seconds|the server.s maxPayload of 4096|called from a thread other than the main thread'

set +e
bash scripts/run-godot-scene.sh tests/godot 2>&1 | tee "$tmp/run.out"
rc=${PIPESTATUS[0]}
set -e

summary=$(sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$tmp/run.out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1 || true)
passed=0
failed=1
if [ -n "$summary" ]; then
    passed=${summary%% passed*}
    failed=${summary#*, }
    failed=${failed%% failed*}
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
fi
echo "godot: $passed passed, $failed failed"
exit "$rc"
