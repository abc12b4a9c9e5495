#!/usr/bin/env bash
# soak.sh — soak benchmark (not a timed test, not part of scripts/test.sh): 1,000,000 echoed events and 1,000
# connect/close cycles in one headless Godot process (bench/soak/), with resident memory (VmRSS) read before and
# after each phase; it must stay flat.
#
#   1. installs the test server's packages (scripts/setup-node.sh);
#   2. builds the extension in release (scripts/build-extension.sh release) and installs addon/ into
#      bench/soak/addons/socketio/; imports the project (scripts/run-godot-scene.sh);
#   3. starts tests/server/server.js on a free port (stopped on exit);
#   4. runs bench/soak/ (res://soak.gd) headless: phase "echo" (connect, 10,000 warm-up echoes, then the measured
#      echoes of {"seq": i, "x": 1.5, "name": "player"}, up to 200 in flight, each checked in order) and phase
#      "connect_close" (10 warm-up cycles, then connect_to_url -> connected -> one echo -> close() ->
#      disconnected("io client disconnect"), per cycle);
#   5. prints a Markdown table, the `soak ...` summary lines and the checks.
# Exits 1 when an echo was lost, out of order or damaged, a cycle failed, or Godot failed (crash, error line,
# timeout); memory growth is only reported: growth > 5 MiB in a phase is flagged "NOT FLAT".
# Logs: bench/soak/last-run/ (git-ignored).
#
# Environment:
#   SOAK_EVENTS    echoed events in phase 1 (default 1000000)
#   SOAK_CYCLES    connect/close cycles in phase 2 (default 1000)
#   SOAK_BUILD     0: do not build; use addon/ as it is (default 1: scripts/build-extension.sh release)
#   SOAK_TIMEOUT   seconds for the Godot run (default 1800)
#   SOAK_IDLE_SLEEP_USEC  sleep after a frame whose poll() brought no echo (default 100 µs, as bench.sh's A; 0 = spin)
#   GODOT, CARGO_TARGET_DIR: as for scripts/godot.sh and scripts/build-extension.sh
set -euo pipefail

prog=soak
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/server-port.sh
. scripts/lib/server-port.sh
note() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

events=${SOAK_EVENTS:-1000000}
cycles=${SOAK_CYCLES:-1000}
timeout_s=${SOAK_TIMEOUT:-1800}
idle_sleep=${SOAK_IDLE_SLEEP_USEC:-100}
for v in events cycles timeout_s; do
    case ${!v} in '' | *[!0-9]* | 0) die "$v must be a whole number >= 1" ;; esac
done
case $idle_sleep in '' | *[!0-9]*) die "SOAK_IDLE_SLEEP_USEC must be a whole number of µs" ;; esac

started=$SECONDS
project=bench/soak
run_dir=$root/$project/last-run
rm -rf "$run_dir"
mkdir -p "$run_dir"
note "logs: ${run_dir#"$root"/}/"

server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. packages -------------------------------------------------------------------------------------------------

bash scripts/setup-node.sh

# ---- 2. extension and project ------------------------------------------------------------------------------------

if [ "${SOAK_BUILD:-1}" != 0 ]; then
    note "building the extension (release)"
    bash scripts/build-extension.sh release >"$run_dir/build.log" 2>&1 ||
        { tail -n 30 "$run_dir/build.log" >&2; die "release build failed (see build.log)"; }
    build_note="release (scripts/build-extension.sh release)"
else
    note "SOAK_BUILD=0: using addon/ as it is"
    build_note="SOAK_BUILD=0: addon/ as found, not rebuilt (may be a debug build)"
fi
compgen -G "addon/bin/*/*" >/dev/null && [ -f addon/socketio.gdextension ] ||
    die "no built addon in addon/ (addon/bin/, addon/socketio.gdextension)"
rm -rf "$project/addons/socketio"
mkdir -p "$project/addons/socketio"
cp -R addon/. "$project/addons/socketio/"
# The project's list of extensions is rewritten from scratch by the import below.
rm -f "$project/.godot/extension_list.cfg"

note "importing $project"
GODOT_TIMEOUT=300 GODOT_IMPORT=always GODOT_LOG=$run_dir/import.log.full \
    bash scripts/run-godot-scene.sh "$project" -- --mode=none >"$run_dir/import.log" 2>&1 ||
    { tail -n 20 "$run_dir/import.log" >&2; die "the soak project does not import/start"; }
grep -q '^NOTE frames uncapped' "$run_dir/import.log" ||
    die "the soak scene did not start (see ${run_dir#"$root"/}/import.log)"

# ---- 3. server ---------------------------------------------------------------------------------------------------

node tests/server/server.js --port 0 --quiet >"$run_dir/server.out" 2>"$run_dir/server.err" &
server_pid=$!
port=$(wait_for_port "$run_dir/server.out" "$server_pid")
[ -n "$port" ] || { cat "$run_dir/server.err" >&2; die "the test server did not start"; }
url=ws://127.0.0.1:$port
note "server: $url (tests/server/server.js)"

# ---- 4. the soak -------------------------------------------------------------------------------------------------

note "running $project: $events echoes, $cycles connect/close cycles (timeout ${timeout_s}s)"
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$SECONDS
godot_rc=0
GODOT_TIMEOUT=$timeout_s GODOT_IMPORT=never GODOT_LOG=$run_dir/soak.log.full \
    bash scripts/run-godot-scene.sh "$project" -- --mode=soak --url="$url" --events="$events" --cycles="$cycles" \
    --idle-sleep-usec="$idle_sleep" >"$run_dir/soak.log" 2>&1 || godot_rc=$?
godot_s=$((SECONDS - t0))
verdict=$(tail -n 1 "$run_dir/soak.log")
grep '^RESULT {' "$run_dir/soak.log" | sed 's/^RESULT //' >"$run_dir/results.jsonl" || true

# ---- 5. report ---------------------------------------------------------------------------------------------------

report_rc=0
python3 - "$run_dir/results.jsonl" "$events" "$cycles" <<'PY' || report_rc=$?
import json, sys

path, events, cycles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
FLAT_MIB = 5.0
rows = {}
for line in open(path):
    line = line.strip()
    if line:
        r = json.loads(line)
        rows[r.get("phase")] = r

def f(v, fmt="{:.1f}"):
    return fmt.format(v) if isinstance(v, (int, float)) else "n/a"

print("| phase | count | duration s | RSS before MiB | RSS after MiB | RSS peak MiB | growth MiB |")
print("|---|---:|---:|---:|---:|---:|---:|")
for phase, label in (("echo", "echoed events"), ("connect_close", "connect/close cycles")):
    r = rows.get(phase, {})
    g = r.get("growth_mib")
    flag = " NOT FLAT" if isinstance(g, (int, float)) and g > FLAT_MIB else ""
    print(f"| {label} | {r.get('count', 'n/a')} | {f(r.get('duration_s'))} | {f(r.get('rss_before_mib'))} | "
          f"{f(r.get('rss_after_mib'))} | {f(r.get('rss_peak_mib'))} | {f(g, '{:+.1f}')}{flag} |")
print()

ok = True
def summary(key, count, r):
    g = r.get("growth_mib")
    flat = "n/a" if not isinstance(g, (int, float)) else ("NOT FLAT" if g > FLAT_MIB else "flat")
    print(f"soak {key}={count} rss_before_mib={f(r.get('rss_before_mib'))} rss_after_mib={f(r.get('rss_after_mib'))} "
          f"rss_peak_mib={f(r.get('rss_peak_mib'))} growth_mib={f(g, '{:+.1f}')} duration_s={f(r.get('duration_s'))} "
          f"memory={flat}")

e = rows.get("echo")
if e is None:
    print("soak echo_events: no result")
    ok = False
else:
    summary("echo_events", e.get("count"), e)
    good = (e.get("ok") is True and e.get("received") == events and e.get("lost") == 0
            and e.get("out_of_order") == 0 and e.get("bad_payload") == 0)
    ok &= good
    print(f"check echo: {'PASS' if good else 'FAIL'}: {e.get('received', 0)}/{events} echoes back, "
          f"lost={e.get('lost', 'n/a')} out_of_order={e.get('out_of_order', 'n/a')} "
          f"bad_payload={e.get('bad_payload', 'n/a')} last_seq={e.get('last_seq', 'n/a')} "
          f"({f(e.get('events_per_s'), '{:.0f}')} events/s)" + (f"; {e['error']}" if e.get("error") else ""))

c = rows.get("connect_close")
if c is None:
    print("soak connect_close_cycles: no result")
    ok = False
else:
    summary("connect_close_cycles", c.get("count"), c)
    good = c.get("ok") is True and c.get("completed") == cycles and c.get("failed") == 0
    ok &= good
    print(f"check cycles: {'PASS' if good else 'FAIL'}: {c.get('completed', 0)}/{cycles} cycles reached connected, "
          f"echoed ({c.get('echoes_back', 'n/a')} back) and disconnected(\"io client disconnect\") "
          f"({c.get('disconnects', 'n/a')} disconnects; {f(c.get('cycles_per_s'))} cycles/s)"
          + (f"; {c['error']}" if c.get("error") else ""))
sys.exit(0 if ok else 1)
PY

echo "godot: $verdict"
echo "build: $build_note; Godot $(bash scripts/godot.sh --version 2>/dev/null | tail -n 1); $(nproc) CPUs;" \
    "load $load_at_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; Godot run ${godot_s}s," \
    "$((SECONDS - started))s in all"
if [ "$godot_rc" -ne 0 ] || [ "$report_rc" -ne 0 ]; then
    note "FAIL (godot exit $godot_rc, checks ${report_rc}); see ${run_dir#"$root"/}/soak.log"
    exit 1
fi
note "PASS"
