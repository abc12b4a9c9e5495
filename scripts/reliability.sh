#!/usr/bin/env bash
# reliability.sh — the figures of the fault tests (issue 15), as one table: for each fault, and each client that ran
# it (this plugin; socket.io-client in Node where the same fault applies to it), the time to detect the loss, the
# time to recover, the emits buffered and delivered, the duplicates (must be 0), the server broadcasts missed
# without and with connection state recovery, and the worst single poll().
#
# It runs the fault tests themselves (not timed tests: their assertions hold whatever the figures), collects their
# `RELIABILITY {json}` lines and prints the table (Markdown), also written to RELIABILITY_OUT:
#   cargo test -p socketio-core --test partition --test failover -- --nocapture --test-threads=1, then
#   cargo test -p socketio-core --test slow_links -- --nocapture --test-threads=8
#     (a real partition: network namespaces + nftables, root needed; a slow, lossy link through the impairment
#     proxy of the test harness; two Node servers on Redis behind haproxy, one killed)
#   the headless Godot suite test_paused (the game stops polling for 10 s and 60 s), release build
#
# Environment: RELIABILITY_OUT (default target/reliability.md), RELIABILITY_SKIP_GODOT=1 (only the cargo tests),
# CARGO_TARGET_DIR, GODOT.
set -euo pipefail

prog=reliability
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
target_dir=${CARGO_TARGET_DIR:-$root/target}
out=${RELIABILITY_OUT:-$target_dir/reliability.md}
log=$(mktemp "${TMPDIR:-/tmp}/$prog.XXXXXX.log")
status=0

bash scripts/setup-node.sh
bash scripts/setup-interop.sh
bash scripts/setup-netfaults.sh

echo "$prog: cargo fault tests (partition, failover: one at a time)..." >&2
cargo test -p socketio-core --test partition --test failover -- --nocapture --test-threads=1 \
    >>"$log" 2>&1 || { status=1; echo "$prog: some cargo fault tests failed (log: $log)" >&2; }
# The slow-link tests wait on the link, not the CPU: side by side (the 5 MiB ones take 80 s each).
echo "$prog: cargo fault tests (slow_links, side by side)..." >&2
cargo test -p socketio-core --test slow_links -- --nocapture --test-threads=8 \
    >>"$log" 2>&1 || { status=1; echo "$prog: some cargo fault tests failed (log: $log)" >&2; }
if [ "${RELIABILITY_SKIP_GODOT:-0}" != 1 ]; then
    echo "$prog: Godot suite test_paused (release build)..." >&2
    SOCKETIO_TEST_FILTER=test_paused bash scripts/test-godot.sh release >>"$log" 2>&1 ||
        { status=1; echo "$prog: the Godot suite test_paused failed (log: $log)" >&2; }
fi

mkdir -p "$(dirname "$out")"
python3 - "$log" "$out" <<'PY'
import json, re, sys
log, out = sys.argv[1], sys.argv[2]
rows = []
for line in open(log, encoding="utf-8", errors="replace"):
    m = re.search(r"RELIABILITY (\{.*\})\s*$", line)
    if m:
        try:
            rows.append(json.loads(m.group(1)))
        except json.JSONDecodeError:
            pass
cols = [("fault", "fault"), ("client", "client"), ("detect_ms", "detect ms"), ("recover_ms", "recover ms"),
        ("buffered", "emits buffered"), ("delivered", "delivered"), ("duplicates", "duplicates"),
        ("missed_without_recovery", "missed, no recovery"), ("missed_with_recovery", "missed, recovery"),
        ("completed_ms", "transfer ms"), ("worst_poll_ms", "worst poll ms")]
def cell(v):
    # Times alike whether a client printed 1635 or 1630.9: no decimals from 100 on, one from 10, two below.
    if v is None:
        return "—"
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int) and abs(v) < 100:
        return str(v)
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"
lines = ["| " + " | ".join(h for _, h in cols) + " |", "|---|---|" + "---:|" * (len(cols) - 2)]
for r in sorted(rows, key=lambda r: (str(r.get("fault")), str(r.get("client")))):
    lines.append("| " + " | ".join(cell(r.get(k)) for k, _ in cols) + " |")
extra = []
for r in rows:
    more = {k: v for k, v in r.items() if k not in dict(cols)}
    if more:
        extra.append(f"- {r.get('fault')}, {r.get('client')}: " + ", ".join(f"{k} {cell(v)}" for k, v in more.items()))
dups = [r for r in rows if (r.get("duplicates") or 0) != 0]
text = "\n".join(lines) + ("\n\n" + "\n".join(extra) if extra else "") + "\n"
if dups:
    text += "\nDUPLICATES in: " + ", ".join(f"{r.get('fault')} ({r.get('client')})" for r in dups) + "\n"
if not rows:
    text = "no RELIABILITY lines were printed (see the log)\n"
open(out, "w", encoding="utf-8").write(text)
print(text, end="")
PY
echo "$prog: table written to ${out#"$root"/} (log: $log)" >&2
exit "$status"
