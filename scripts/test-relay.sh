#!/usr/bin/env bash
# test-relay.sh [--install-only] — the multiplayer relay's own tests (relay/test/, Node's test runner), against real
# socket.io servers started by the tests, and for the cross-node test a real redis-server (Debian's; installed by
# scripts/setup-interop.sh) started on a free port and stopped by the test.
#   1. node + npm (scripts/setup-node.sh), then `npm ci` in relay/ when its node_modules is missing or older than
#      relay/package-lock.json;
#   2. `npm test` in relay/ (unless --install-only).
# The last line is "relay: N passed, M failed".
set -euo pipefail

prog=test-relay
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
dir=$root/relay

bash scripts/setup-node.sh
stamp=$dir/node_modules/.package-lock.json # written by npm on install
if [ ! -d "$dir/node_modules/socket.io" ] || [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    out=$(mktemp)
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >"$out" 2>&1; then
        cat "$out" >&2
        rm -f "$out"
        echo "$prog: npm ci in relay/ failed" >&2
        echo "relay: 0 passed, 1 failed"
        exit 1
    fi
    rm -f "$out"
    touch "$stamp"
fi
[ "${1:-}" = --install-only ] && exit 0

log=$(mktemp "${TMPDIR:-/tmp}/$prog.XXXXXX.log")
status=0
(cd "$dir" && node --test --test-reporter=tap test/) >"$log" 2>&1 || status=$?
grep -E "^not ok|^# (tests|pass|fail)" "$log" >&2 || true
if [ "$status" -ne 0 ]; then
    echo "$prog: failures (log: $log):" >&2
    grep -B2 -A30 "^not ok" "$log" | head -n 120 >&2 || true
fi
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n 1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n 1)
pass=${pass:-0}
fail=${fail:-0}
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
if [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ]; then fail=1; echo "$prog: no test ran (log: $log)" >&2; fi
echo "relay: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
