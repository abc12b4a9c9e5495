#!/usr/bin/env bash
# run-godot-scene.sh PROJECT_DIR [extra godot args...]
#
# Prepares a Godot 4 project, runs it headless and judges the output.
#
#   1. If PROJECT_DIR/.godot/extension_list.cfg is missing, it is written from
#      every *.gdextension file in the project (one `res://<path>` per line):
#      the first --import of a project with no .godot/ folder crashes at exit
#      when a GDExtension is present and that file does not exist yet.
#   2. If the project has no imported state (.godot/imported or
#      .godot/global_script_class_cache.cfg missing), runs
#      `godot --headless --path PROJECT_DIR --import` once. A non-zero exit
#      code is tolerated unless Godot died from a signal (exit > 128) or its
#      output shows a crash or panic.
#   3. Runs `godot --headless --path PROJECT_DIR [extra args...]`, output
#      shown live and captured to a log, under a timeout.
#   4. Prints a one-line verdict (last line of stdout) and exits 0 on PASS.
#
# FAIL when any of:
#   - Godot's exit code is non-zero (so scripts should end with quit(0), or
#     quit(1) on a failed check);
#   - the timeout hits (exit 124);
#   - the output contains (never allowed): "ObjectDB instances leaked",
#     "resources still in use", "Leaked instance", "panicked", "Rust panic",
#     "[panic " (godot-rust's panic report), "Segmentation fault",
#     "Program crashed", "handle_crash";
#   - the output has an error line ("ERROR: ", "SCRIPT ERROR", "USER ERROR: ")
#     that the allow-list does not match.
#
# Environment:
#   GODOT                 Godot executable to use (default: scripts/godot.sh's
#                         project-local Debian build, fetched on first use)
#   GODOT_TIMEOUT         seconds before the run is killed (default 600); the
#                         import step gets the same budget separately
#   GODOT_ALLOWED_ERRORS  extended regex (grep -E); error lines matching it are
#                         expected and ignored. Tests that deliberately trigger
#                         errors (push_error, godot_error!, ...) should put a
#                         marker in the message, e.g. push_error("EXPECTED: x")
#                         with GODOT_ALLOWED_ERRORS='EXPECTED: '. Only the
#                         error line itself is matched (not the "at:" lines).
#   GODOT_IMPORT          auto (default) | always | never — the import step
#   GODOT_LOG             log file path (default: a new file under $TMPDIR);
#                         ANSI colour codes are stripped before judging
set -euo pipefail

prog=run-godot-scene
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 2; }

[ $# -ge 1 ] || die "usage: $0 PROJECT_DIR [extra godot args...]"
[ -f "$1/project.godot" ] || die "'$1' has no project.godot"
project=$(cd "$1" && pwd)
shift

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
godot_sh=$script_dir/godot.sh

timeout_s=${GODOT_TIMEOUT:-600}
case $timeout_s in ''|*[!0-9]*) die "GODOT_TIMEOUT must be a whole number of seconds" ;; esac
allowed=${GODOT_ALLOWED_ERRORS:-}
import_mode=${GODOT_IMPORT:-auto}
case $import_mode in auto|always|never) ;; *) die "GODOT_IMPORT must be auto, always or never" ;; esac
log=${GODOT_LOG:-$(mktemp "${TMPDIR:-/tmp}/$prog.XXXXXX.log")}
: >"$log"

# Fetch before starting any clock, so a first-time download is not counted
# against the timeout.
if [ -z "${GODOT:-}" ]; then
    "$script_dir/fetch-godot.sh" >/dev/null
fi

# Never allowed, even when an allow-list is given.
# "[panic " is how godot-rust reports a panic ("ERROR: [panic src/x.rs:1]").
fatal_re='ObjectDB instances leaked|resources still in use|Leaked instance|panicked|Rust panic|\[panic |Segmentation fault|Program crashed|handle_crash'
crash_re='panicked|Rust panic|\[panic |Segmentation fault|Program crashed|handle_crash'
error_re='(^|[[:space:]])ERROR: |SCRIPT ERROR'

strip_ansi() { sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$1"; }

# --foreground keeps Godot in our process group, so killing this script's
# group (Ctrl-C, CI cancellation) also stops Godot.
# run_godot OUTFILE ARGS... — godot.sh under the timeout, stdin closed,
# stdout+stderr to OUTFILE; sets `rc` and `elapsed`.
run_godot() {
    local out=$1 start
    shift
    start=$SECONDS
    set +e
    timeout --foreground --kill-after=20 "$timeout_s" "$godot_sh" "$@" </dev/null >"$out" 2>&1
    rc=$?
    set -e
    elapsed=$((SECONDS - start))
}
timed_out() { [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ "$elapsed" -ge "$timeout_s" ]; }; }

# 1. extension_list.cfg (skipping hidden and .gdignore'd folders, as Godot does).
ext_list=$project/.godot/extension_list.cfg
if [ ! -f "$ext_list" ]; then
    mapfile -t exts < <(cd "$project" && find . -mindepth 1 \
        \( -name '.*' -prune \) -o \
        \( -type d -exec test -e '{}/.gdignore' \; -prune \) -o \
        \( -type f -name '*.gdextension' -print \) | sed 's|^\./||' | LC_ALL=C sort)
    if [ "${#exts[@]}" -gt 0 ]; then
        mkdir -p "$project/.godot"
        printf 'res://%s\n' "${exts[@]}" >"$ext_list"
        echo "$prog: wrote .godot/extension_list.cfg (${#exts[@]} extension(s))"
    fi
fi

# 2. Import when there is no imported state yet.
need_import=false
case $import_mode in
    always) need_import=true ;;
    auto) if [ ! -d "$project/.godot/imported" ] ||
              [ ! -f "$project/.godot/global_script_class_cache.cfg" ]; then
              need_import=true
          fi ;;
esac
if $need_import; then
    import_log=$log.import
    run_godot "$import_log" --headless --path "$project" --import
    { echo "=== import (exit $rc) ==="; strip_ansi "$import_log"; echo "=== run ==="; } >>"$log"
    # A crash is a crash/panic line or death by a signal (exit > 128: the
    # known GDExtension-at-exit crash is a silent SIGABRT, exit 134).
    if timed_out || [ "$rc" -gt 128 ] || strip_ansi "$import_log" | grep -Eq "$crash_re"; then
        strip_ansi "$import_log"
        if timed_out; then why="import timed out after ${timeout_s}s"; else why="import crashed (exit $rc)"; fi
        echo "$prog: FAIL: $why (log: $log)"
        exit 1
    fi
    rm -f "$import_log"
    if [ "$rc" -ne 0 ]; then
        echo "$prog: note: import exited with $rc (tolerated: no crash in its output)"
    else
        echo "$prog: imported project in ${elapsed}s"
    fi
fi

# 3. The run: live output, captured to the log.
run_out=$log.run
start=$SECONDS
set +e
timeout --foreground --kill-after=20 "$timeout_s" "$godot_sh" --headless --path "$project" "$@" \
    </dev/null 2>&1 | tee "$run_out"
rc=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - start))
strip_ansi "$run_out" >>"$log"
clean=$(strip_ansi "$run_out")
rm -f "$run_out"

# 4. Judge.
reasons=()
if timed_out; then
    reasons+=("timed out after ${timeout_s}s")
elif [ "$rc" -ne 0 ]; then
    reasons+=("exit code $rc")
fi
fatal_lines=$(printf '%s\n' "$clean" | grep -E "$fatal_re" || true)
[ -z "$fatal_lines" ] || reasons+=("crash/leak/panic output")
error_lines=$(printf '%s\n' "$clean" | grep -E "$error_re" || true)
if [ -n "$error_lines" ] && [ -n "$allowed" ]; then
    error_lines=$(printf '%s\n' "$error_lines" | grep -Ev "$allowed" || true)
fi
[ -z "$error_lines" ] || reasons+=("$(printf '%s\n' "$error_lines" | wc -l) unexpected error line(s)")

if [ "${#reasons[@]}" -eq 0 ]; then
    echo "$prog: PASS (exit 0, ${elapsed}s, log: $log)"
    exit 0
fi
if [ -n "$fatal_lines$error_lines" ]; then
    echo "$prog: offending lines:"
    printf '%s\n%s\n' "$fatal_lines" "$error_lines" | sed '/^$/d' | head -n 40 | sed 's/^/  | /'
fi
reason_text=$(printf '%s; ' "${reasons[@]}")
echo "$prog: FAIL: ${reason_text%; } (${elapsed}s, log: $log)"
if timed_out; then exit 124; fi
exit 1
