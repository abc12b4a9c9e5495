#!/usr/bin/env bash
# profile-run.sh — one Godot bench process under a counter, for workload I of scripts/bench.sh.
#
#   bench/profile-run.sh callgrind PROJECT_DIR LOG -- USER_ARGS...
#       Runs the project under `valgrind --tool=callgrind --instr-atstart=no` with --hold (bench_main.gd): counting
#       starts at `NOTE hold start` (before the workload's connect) and stops at `NOTE hold end` (after its last
#       run), so Godot's start and exit, which are slow under valgrind, are not counted. Prints `SPLIT {json}`, the
#       counted instructions by part (bench/callgrind_split.py).
#   bench/profile-run.sh syscalls PROJECT_DIR LOG -- USER_ARGS...
#       Runs the project natively under `perf stat -e raw_syscalls:sys_enter` (every thread), counting between the
#       same two holds (perf stat --delay=-1 --control), and prints `SYSCALLS <count>`.
#
# The process's output goes to LOG. Godot is $GODOT, or the launcher of scripts/fetch-godot.sh (a shell script that
# execs Debian's Godot through its own loader: valgrind follows the exec, --trace-children=yes).
# Environment: PROFILE_TIMEOUT (seconds for the whole process, default 900), PROFILE_KEEP (a folder: the callgrind
# profile is copied there as callgrind.out.<pid>, for callgrind_annotate).
set -euo pipefail

prog=profile-run
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
[ $# -ge 4 ] && [ "$4" = -- ] || die "usage: $0 callgrind|syscalls PROJECT_DIR LOG -- USER_ARGS..."
mode=$1 project=$2 log=$3
shift 4
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
timeout_s=${PROFILE_TIMEOUT:-900}
godot=${GODOT:-$("$root/scripts/fetch-godot.sh" | tail -n 1)}
[ -x "$godot" ] || die "no Godot to run (GODOT, scripts/fetch-godot.sh)"

case $mode in
    syscalls) command -v perf >/dev/null 2>&1 || die "perf is missing (apt-get install linux-perf)" ;;
    callgrind) command -v valgrind >/dev/null 2>&1 || die "valgrind is missing (apt-get install valgrind)" ;;
    *) die "unknown mode '$mode' (callgrind, syscalls)" ;;
esac
dir=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX")
pid=
trap '[ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
hold=$dir/hold
: >"$hold"
if [ "$mode" = callgrind ]; then
    valgrind --tool=callgrind --instr-atstart=no --trace-children=yes --callgrind-out-file="$dir/cg.%p" \
        "$godot" --headless --path "$project" -- "$@" --hold="$hold" </dev/null >"$log" 2>&1 &
    pid=$!
    count_on() { callgrind_control -i on "$pid" >/dev/null || die "callgrind_control -i on $pid failed"; }
    count_off() { callgrind_control -i off "$pid" >/dev/null || die "callgrind_control -i off $pid failed"; }
else
    mkfifo "$dir/ctl" "$dir/ack"
    perf stat --delay=-1 --control="fifo:$dir/ctl,$dir/ack" -x, -e raw_syscalls:sys_enter -o "$dir/stat" -- \
        "$godot" --headless --path "$project" -- "$@" --hold="$hold" </dev/null >"$log" 2>&1 &
    pid=$!
    exec {ctl}<>"$dir/ctl" {ack}<>"$dir/ack"
    # perf answers each command with "ack" on the second fifo.
    perf_cmd() {
        local reply=
        echo "$1" >&"$ctl"
        read -r -t 10 -u "$ack" reply || die "perf stat did not acknowledge '$1'"
    }
    count_on() { perf_cmd enable; }
    count_off() { perf_cmd disable; }
fi
deadline=$((SECONDS + timeout_s))
# wait_for TEXT — until LOG has a line starting with TEXT; fails when the process ended or time is up.
wait_for() {
    until grep -q "^$1" "$log"; do
        kill -0 "$pid" 2>/dev/null || die "the process ended before '$1' (see $log)"
        [ "$SECONDS" -lt "$deadline" ] || die "no '$1' within ${timeout_s}s (see $log)"
        sleep 0.2
    done
}
wait_for "NOTE hold start"
count_on
rm -f "$hold"
wait_for "NOTE hold end"
count_off
rm -f "$hold"
# The process quits once the hold is over: within the same time.
while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || die "the process did not end within ${timeout_s}s (see $log)"
    sleep 0.2
done
rc=0
wait "$pid" || rc=$?
pid_done=$pid
pid=
[ "$rc" -eq 0 ] || die "the process exited with $rc (see $log)"
if [ "$mode" = syscalls ]; then
    count=$(awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 }' "$dir/stat")
    case $count in '' | *[!0-9]*) die "perf stat counted no system calls: $(tr '\n' ' ' <"$dir/stat")" ;; esac
    echo "SYSCALLS $count"
else
    [ -s "$dir/cg.$pid_done" ] || die "callgrind wrote no profile for process $pid_done"
    if [ -n "${PROFILE_KEEP:-}" ]; then
        mkdir -p "$PROFILE_KEEP" && cp "$dir/cg.$pid_done" "$PROFILE_KEEP/callgrind.out.$pid_done"
    fi
    echo "SPLIT $(python3 "$root/bench/callgrind_split.py" "$dir/cg.$pid_done")"
fi
