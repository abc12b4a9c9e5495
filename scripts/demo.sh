#!/usr/bin/env bash
# demo.sh [debug|release] — runs the chat demo (demo-project/) headless against a local test server:
#   builds the extension and installs the addon (scripts/build-extension.sh), fetches Godot (scripts/fetch-godot.sh,
#   unless GODOT is set), installs the server's packages (scripts/setup-node.sh), starts tests/server/server.js with
#   --log (its packet log is shown with a "[server]" prefix), runs the demo scene through scripts/run-godot-scene.sh
#   and stops the server. Exits 0 when the demo's exchange completed.
set -euo pipefail

prog=demo
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/server-port.sh
. scripts/lib/server-port.sh

bash scripts/build-extension.sh "${1:-debug}"
if [ -z "${GODOT:-}" ]; then
    bash scripts/fetch-godot.sh >/dev/null
fi
bash scripts/setup-node.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX")
server_stdin=
server_pid=
cleanup() {
    # The server exits (--exit-on-stdin-close) once its stdin, a FIFO held open here, is closed.
    if [ -n "$server_stdin" ]; then
        exec {server_stdin}>&-
    fi
    if [ -n "$server_pid" ]; then
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkfifo "$tmp/server.stdin"
(node tests/server/server.js --port 0 --log --exit-on-stdin-close <"$tmp/server.stdin" 2>&1 |
    tee "$tmp/server.out" | sed -u 's/^/[server] /') &
server_pid=$!
exec {server_stdin}>"$tmp/server.stdin"
port=$(wait_for_port "$tmp/server.out" "$server_pid")
if [ -z "$port" ]; then
    echo "$prog: error: the test server did not start" >&2
    exit 1
fi
echo "$prog: server listening on ws://127.0.0.1:$port (its packet log is prefixed [server])"

export SOCKETIO_DEMO_URL="ws://127.0.0.1:$port"
set +e
bash scripts/run-godot-scene.sh demo-project
rc=$?
set -e
exit "$rc"
