#!/usr/bin/env bash
# test-multiplayer.sh [debug|release] — Godot's high-level multiplayer over SocketIOMultiplayerPeer (issue 16), as
# three headless game processes of tests/multiplayer/project (a host and two clients) against the relay
# (relay/bin/relay-server.js):
#   1. builds and installs the extension (scripts/build-extension.sh; release by default), installs the relay's
#      packages (scripts/test-relay.sh's npm ci) and, for the second round, needs Debian's redis-server
#      (scripts/setup-interop.sh installs it);
#   2. round "one relay": one relay process (max packet 4096 bytes), the host and both clients on it;
#   3. round "two relays": redis-server and two relay processes sharing it through @socket.io/redis-adapter, the
#      host on the first, the clients on the second;
#   each round runs the three games at once (scripts/run-godot-scene.sh each, with MP_ROLE, MP_URL, MP_ROOM) and
#   passes when all three pass (every "MP CHECK" ok, exit 0).
# Everything started is stopped on exit, also on failure or interruption. The last line is
# "multiplayer: N passed, M failed" (checks over every process of every round, plus one failure per process that
# failed for another reason).
#
# Environment: GODOT, GODOT_TIMEOUT (default 120 per game), CARGO_TARGET_DIR.
set -euo pipefail

prog=test-multiplayer
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/server-port.sh
. scripts/lib/server-port.sh

profile=${1:-release}
case $profile in
    debug | release) ;;
    *) echo "usage: $0 [debug|release]" >&2; exit 2 ;;
esac
bash scripts/build-extension.sh "$profile"
bash scripts/setup-node.sh
bash scripts/test-relay.sh --install-only

tmp=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
verdict() { echo "multiplayer: $passed passed, $failed failed"; }

# start_relay NAME ARGS... — starts relay/bin/relay-server.js, sets $port once it prints "LISTENING <port>"; it
# exits when this script's end of its stdin FIFO closes.
start_relay() {
    local name=$1 fifo fd
    shift
    fifo=$tmp/$name.stdin
    mkfifo "$fifo"
    node relay/bin/relay-server.js --port 0 --exit-on-stdin-close --max-packet-bytes 4096 "$@" \
        <"$fifo" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=("$!")
    exec {fd}>"$fifo"
    port=$(wait_for_port "$tmp/$name.out" "${pids[-1]}")
    [ -n "$port" ] && return 0
    cat "$tmp/$name.err" >&2
    echo "$prog: error: relay $name did not start" >&2
    failed=$((failed + 1))
    verdict
    exit 1
}

# The errors the games provoke on purpose: the oversized rpc refused on the sender's side (ours, and the
# multiplayer API's report of the failed put_packet).
export GODOT_ALLOWED_ERRORS="larger than the relay's limit|SocketIOMultiplayerPeer: |Error sending|put_packet|_send"
export GODOT_TIMEOUT=${GODOT_TIMEOUT:-120}

# round NAME HOST_URL CLIENT_URL — the three games at once; adds their checks to the totals.
round() {
    local name=$1 host_url=$2 client_url=$3 r url status room
    room="room-$name-$$"
    echo "$prog: round \"$name\": host on $host_url, clients on $client_url" >&2
    local game_pids=()
    for r in host a b; do
        url=$client_url
        [ "$r" = host ] && url=$host_url
        MP_ROLE=$r MP_URL=$url MP_ROOM=$room bash scripts/run-godot-scene.sh tests/multiplayer/project \
            >"$tmp/$name-$r.log" 2>&1 &
        game_pids+=("$!")
    done
    local i=0
    for r in host a b; do
        status=0
        wait "${game_pids[$i]}" || status=$?
        i=$((i + 1))
        local ok bad
        ok=$(grep -c "^MP CHECK ok" "$tmp/$name-$r.log" || true)
        bad=$(grep -c "^MP CHECK FAIL" "$tmp/$name-$r.log" || true)
        passed=$((passed + ok))
        failed=$((failed + bad))
        if ! grep -q "^MP DONE $r " "$tmp/$name-$r.log"; then
            failed=$((failed + 1))
            echo "$prog: round \"$name\", $r: did not finish" >&2
        elif [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
            failed=$((failed + 1))
            echo "$prog: round \"$name\", $r: the run failed (exit $status) with no failed check" >&2
        fi
        if [ "$status" -ne 0 ] || [ "$bad" -ne 0 ]; then
            echo "---- round \"$name\", $r (exit $status) ----" >&2
            grep -v "^MP CHECK ok" "$tmp/$name-$r.log" | tail -n 60 >&2
        else
            echo "$prog: round \"$name\", $r: $ok checks passed" >&2
        fi
    done
}

# Import the project once, before three processes would race to do it.
MP_ROLE=none bash scripts/run-godot-scene.sh tests/multiplayer/project >"$tmp/import.log" 2>&1 || {
    cat "$tmp/import.log" >&2
    echo "$prog: error: the test project does not load" >&2
    failed=$((failed + 1))
    verdict
    exit 1
}
export GODOT_IMPORT=never

start_relay one
round "one relay" "ws://127.0.0.1:$port" "ws://127.0.0.1:$port"

command -v redis-server >/dev/null 2>&1 || {
    echo "$prog: error: redis-server is missing: run bash scripts/setup-interop.sh" >&2
    failed=$((failed + 1))
    verdict
    exit 1
}
redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$tmp/redis.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null && break
    sleep 0.1
done
start_relay node1 --redis-url "redis://127.0.0.1:$redis_port"
port1=$port
start_relay node2 --redis-url "redis://127.0.0.1:$redis_port"
round "two relays" "ws://127.0.0.1:$port1" "ws://127.0.0.1:$port"

verdict
[ "$failed" -eq 0 ]
