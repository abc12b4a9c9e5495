#!/usr/bin/env bash
# bench.sh — benchmarks this plugin against socket.io-client (Node) and against Godot's own WebSocketPeer driven
# from GDScript with pre-encoded frames, on the same workloads, against the real Socket.IO test server on
# 127.0.0.1. Not part of the test command (scripts/test.sh). See bench/README.md for the workloads and the method.
#
#   1. installs the test server's packages (scripts/setup-node.sh) and bench/node's (npm ci);
#   2. builds the extension in release (scripts/build-extension.sh release) and installs addon/ into
#      bench/godot/plugin/addons/socketio/ and bench/godot/multiplayer/addons/socketio/; copies the shared driver
#      bench/godot/common/ into the Godot bench projects; imports them (scripts/run-godot-scene.sh);
#   3. starts tests/server/server.js (with bench/server-preload.js, which adds the namespaces /bench-<n>) and warms
#      it up with socket.io-client;
#   4. runs each workload (A..H) for each client in turn, one process per (workload, client) doing BENCH_RUNS
#      measured runs after a short unmeasured warm-up, then the empty Godot process (G); every process prints
#      `RESULT {json}` lines, collected into <run dir>/results.jsonl; workload M (multiplayer) is three Godot
#      processes of bench/godot/multiplayer per run, over WebSocketMultiplayerPeer (mp-direct) and over
#      SocketIOMultiplayerPeer through relay/bin/relay-server.js (mp-relay), the two alternating run by run;
#   5. prints the Markdown table and the ratio lines (bench/report.py) and writes them to bench/results/latest.md;
#      the logs and raw results stay in bench/results/last-run/ (git-ignored) until the next run.
# A client that fails a workload (build, crash, timeout, error) shows "n/a" with the reason; the run goes on.
# Exits 0 when the report was written (even with n/a cells), 1 otherwise.
#
# Environment:
#   BENCH_RUNS        measured runs per workload and client (default 3, at least 1)
#   BENCH_SCALE       multiplies the counts (20,000 events, 2,000 acks, 200 round trips, 20 connects; default 1):
#                     e.g. 0.05 for a quick try
#   BENCH_CLIENTS     clients to run, in order (default "plugin websocketpeer websocketpeer-json node-client
#                     plugin-polling node-client-polling plugin-upgrade node-client-upgrade"). websocketpeer-json is
#                     the WebSocketPeer floor that encodes and parses its payloads with JSON, as a GDScript addon
#                     has to (websocketpeer sends pre-encoded frames and reads replies by their first bytes). The
#                     -polling and -upgrade clients are
#                     the plugin and socket.io-client with the transports list ["polling"] (HTTP long-polling only)
#                     and ["polling", "websocket"] (polling, then the upgrade to WebSocket, waited for before
#                     measuring); they run A to E (F is WebSocket only)
#   BENCH_WORKLOADS   workloads to run, in order (default "A B C D E F H I M"; G comes with A, plus the empty process).
#                     I: instructions per event of A and B by part, under callgrind, and system calls per event
#                     (bench/profile-run.sh), for the Godot clients (plugin, websocketpeer, websocketpeer-json,
#                     plugin-baseline)
#                     M does not depend on BENCH_CLIENTS: it always runs mp-direct, mp-relay and mp-relay-node
#   BENCH_M_STEPS     workload M: the paced steps, entities (pos.rpc() calls) per peer per frame at 60 fps
#                     (default "4,16,64,256,1024"; see bench/godot/multiplayer/main.gd)
#   BENCH_I_SCALES    workload I: the two scales of its pairs of runs (default "0.05 0.25": 1,000 and 5,000 events
#                     of A, 100 and 500 acks of B); the figures are the differences over the difference in events
#   BENCH_TIMEOUT     seconds per client process (default 900)
#   BENCH_BUILD       0: do not build; use the addon/ as it is (default 1: scripts/build-extension.sh release)
#   BENCH_OUT         the report file (default bench/results/latest.md)
#   BENCH_IDLE_SLEEP_USEC  workload A, Godot clients: sleep after a frame whose poll() brought nothing
#                     (default 100 µs; 0 = spin: the process CPU figure then mostly counts idle frames)
#   BENCH_F_FPS       workload F, Godot clients: Engine.max_fps (default 60; 0 = uncapped)
#   BENCH_F_SHAPES    workload F, plugin: the large-message shapes, one process each (default
#                     "ints objects string binary"; "" for none), of BENCH_F_SHAPE_BYTES bytes (default 16 MiB
#                     times BENCH_SCALE)
#   BENCH_BASELINE    a git revision (e.g. main, HEAD~3, a tag): also runs that revision's plugin as the client
#                     "plugin-baseline", right after "plugin" in every workload, and adds plugin/plugin-baseline ratios:
#                     a before/after comparison within one run. Its source is exported with `git archive` and built
#                     in release into target/bench-baseline/ (cargo's own directory there, so a rerun is incremental).
#   BENCH_BASELINE_FIRST  1: plugin-baseline runs before plugin. The first of the two to run a workload pays for the
#                     server's warm-up (seen: D about 10 % slower with the same build on both sides), so a verdict
#                     wants both orders.
#   GODOT, CARGO_TARGET_DIR: as for scripts/godot.sh and scripts/build-extension.sh
set -euo pipefail

prog=bench
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/server-port.sh
. scripts/lib/server-port.sh
note() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

runs=${BENCH_RUNS:-3}
scale=${BENCH_SCALE:-1}
clients=${BENCH_CLIENTS:-plugin websocketpeer websocketpeer-json node-client plugin-polling node-client-polling plugin-upgrade node-client-upgrade}
# base_of CLIENT — the client a transport variant is (plugin-polling: plugin, node-client-upgrade: node-client).
base_of() {
    case $1 in
        plugin-polling | plugin-upgrade) echo plugin ;;
        node-client-polling | node-client-upgrade) echo node-client ;;
        websocketpeer-json) echo websocketpeer ;;
        *) echo "$1" ;;
    esac
}
# transports_of CLIENT — its --transports argument ("" for the client's default).
transports_of() {
    case $1 in
        *-polling) echo polling ;;
        *-upgrade) echo polling,websocket ;;
        *) echo "" ;;
    esac
}
# client_args CLIENT — the driver's arguments that make CLIENT the variant of its base it is, one a line: its
# transports list (the -polling and -upgrade clients), --json=1 (websocketpeer-json).
client_args() {
    local transports
    transports=$(transports_of "$1")
    [ -z "$transports" ] || echo "--transports=$transports"
    [ "$1" != websocketpeer-json ] || echo "--json=1"
}
uses_plugin=0
for client in $clients; do [ "$(base_of "$client")" != plugin ] || uses_plugin=1; done
baseline=${BENCH_BASELINE:-}
if [ -n "$baseline" ]; then
    baseline_commit=$(git -C "$root" rev-parse --verify --quiet "$baseline^{commit}") ||
        die "BENCH_BASELINE: '$baseline' is not a revision of this repository"
    # plugin-baseline runs right after plugin (BENCH_BASELINE_FIRST=1: right before), or first when plugin is not
    # among the clients.
    if [[ " $clients " == *" plugin "* ]]; then
        with_baseline=""
        for client in $clients; do
            if [ "$client" != plugin ]; then
                with_baseline+=" $client"
            elif [ "${BENCH_BASELINE_FIRST:-0}" = 1 ]; then
                with_baseline+=" plugin-baseline plugin"
            else
                with_baseline+=" plugin plugin-baseline"
            fi
        done
        clients=${with_baseline# }
    else
        clients="plugin-baseline $clients"
    fi
fi
workloads=${BENCH_WORKLOADS:-A B C D E F H I M}
i_scales=${BENCH_I_SCALES:-0.05 0.25}
[[ $i_scales =~ ^[0-9.]+\ [0-9.]+$ ]] || die "BENCH_I_SCALES must be two scales, e.g. \"0.05 0.25\""
# M's relay mode runs the plugin.
[[ " $workloads " != *" M "* ]] || uses_plugin=1
timeout_s=${BENCH_TIMEOUT:-900}
out=${BENCH_OUT:-$root/bench/results/latest.md}
case $runs in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a whole number >= 1" ;; esac
case $timeout_s in '' | *[!0-9]*) die "BENCH_TIMEOUT must be a whole number of seconds" ;; esac
python3 -c "import sys; f = float(sys.argv[1]); sys.exit(0 if f > 0 else 1)" "$scale" 2>/dev/null ||
    die "BENCH_SCALE must be a number > 0"
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
idle_sleep=${BENCH_IDLE_SLEEP_USEC:-100}
case $idle_sleep in '' | *[!0-9]*) die "BENCH_IDLE_SLEEP_USEC must be a whole number of µs" ;; esac
f_fps=${BENCH_F_FPS:-60}
case $f_fps in '' | *[!0-9]*) die "BENCH_F_FPS must be a whole number" ;; esac
f_shapes=${BENCH_F_SHAPES-ints objects string binary}
for shape in $f_shapes; do
    case $shape in ints | objects | string | binary) ;; *) die "unknown shape '$shape' in BENCH_F_SHAPES" ;; esac
done
# M's round trips: 500 times BENCH_SCALE, at least 10, for the Godot and the Node clients alike.
m_rtt_count=$(python3 -c "import sys; print(max(10, round(500 * float(sys.argv[1]))))" "$scale")
m_steps=${BENCH_M_STEPS:-4,16,64,256,1024}
[[ $m_steps =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "BENCH_M_STEPS must be numbers >= 1 separated by commas"
f_shape_bytes=${BENCH_F_SHAPE_BYTES:-$(python3 -c "import sys; print(max(64, round(16 * 1048576 * float(sys.argv[1]))))" "$scale")}
case $f_shape_bytes in '' | *[!0-9]*) die "BENCH_F_SHAPE_BYTES must be a whole number" ;; esac

started=$SECONDS
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$root/bench/results"
run_dir=$root/bench/results/last-run
rm -rf "$run_dir"
mkdir -p "$run_dir"
results=$run_dir/results.jsonl
: >"$results"
note "logs and raw results: ${run_dir#"$root"/}/"

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fail CLIENT WORKLOAD REASON [SHAPE] — records a failed (client, workload[, F shape]) for the report.
fail() {
    python3 -c 'import json, sys
r = {"client": sys.argv[1], "workload": sys.argv[2], "error": sys.argv[3]}
if sys.argv[4:] and sys.argv[4]:
    r["shape"] = sys.argv[4]
print(json.dumps(r))' "$1" "$2" "$3" "${4:-}" >>"$results"
}
# info CLIENT KEY VALUE — records a fact (string) about a client for the report's notes.
info() {
    python3 -c 'import json, sys; print(json.dumps({"client": sys.argv[1], "workload": "-", "info": {sys.argv[2]: sys.argv[3]}}))' \
        "$1" "$2" "$3" >>"$results"
}

# ---- 1. packages -------------------------------------------------------------------------------------------------

bash scripts/setup-node.sh
node_dir=$root/bench/node
stamp=$node_dir/node_modules/.package-lock.json
if [ ! -d "$node_dir/node_modules/socket.io-client" ] || [ ! -f "$stamp" ] ||
    [ "$node_dir/package-lock.json" -nt "$stamp" ]; then
    note "npm ci in bench/node"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error) >"$run_dir/npm-ci.log" 2>&1 ||
        { cat "$run_dir/npm-ci.log" >&2; die "npm ci in bench/node failed"; }
    touch "$stamp"
fi

# ---- 2. Godot projects -------------------------------------------------------------------------------------------

declare -A broken=() # client -> reason it cannot run at all
for project in plugin websocketpeer multiplayer; do
    rm -rf "bench/godot/$project/common"
    cp -R bench/godot/common "bench/godot/$project/common"
done

if [ "$uses_plugin" = 1 ]; then
    if [ "${BENCH_BUILD:-1}" != 0 ]; then
        note "building the extension (release)"
        if ! bash scripts/build-extension.sh release >"$run_dir/build.log" 2>&1; then
            tail -n 30 "$run_dir/build.log" >&2
            broken[plugin]="release build failed (scripts/build-extension.sh release; see build.log)"
        else
            info plugin build "release (scripts/build-extension.sh release)"
        fi
    else
        note "BENCH_BUILD=0: using addon/ as it is"
        info plugin build "BENCH_BUILD=0: addon/ as found, not rebuilt (may be a debug build)"
    fi
    if [ -z "${broken[plugin]:-}" ]; then
        if ! compgen -G "addon/bin/*/*" >/dev/null || [ ! -f addon/socketio.gdextension ]; then
            broken[plugin]="no built addon in addon/ (addon/bin/, addon/socketio.gdextension)"
        else
            for project in plugin multiplayer; do
                rm -rf "bench/godot/$project/addons/socketio"
                mkdir -p "bench/godot/$project/addons/socketio"
                cp -R addon/. "bench/godot/$project/addons/socketio/"
                # The project's list of extensions is rewritten from scratch by the import below.
                rm -f "bench/godot/$project/.godot/extension_list.cfg"
            done
        fi
    fi
fi

if [ -n "$baseline" ]; then
    # The baseline's own tree, built with its own scripts, in a project of its own: a copy of bench/godot/plugin
    # (this run's adapter and driver) with the baseline's addon installed.
    baseline_dir=$root/target/bench-baseline
    rm -rf "$baseline_dir/src" "bench/godot/plugin-baseline"
    mkdir -p "$baseline_dir/src"
    git -C "$root" archive "$baseline_commit" | tar -x -C "$baseline_dir/src"
    note "building the baseline $baseline (${baseline_commit:0:12}, release)"
    if ! CARGO_TARGET_DIR=$baseline_dir/cargo bash "$baseline_dir/src/scripts/build-extension.sh" release \
        >"$run_dir/build-baseline.log" 2>&1; then
        tail -n 30 "$run_dir/build-baseline.log" >&2
        broken[plugin-baseline]="the baseline's release build failed (see build-baseline.log)"
    else
        info plugin-baseline build "release of $baseline (${baseline_commit:0:12}), $(git -C "$root" log -1 --format=%s "$baseline_commit" | cut -c1-80)"
        mkdir -p bench/godot/plugin-baseline/addons/socketio
        (cd bench/godot/plugin && tar -c --exclude=./.godot --exclude=./addons .) | tar -x -C bench/godot/plugin-baseline
        cp -R "$baseline_dir/src/addon/." bench/godot/plugin-baseline/addons/socketio/
    fi
fi

# prepare_godot CLIENT PROJECT — (re)imports a bench project; marks the client broken on failure.
prepare_godot() {
    local client=$1 project=$2 log=$run_dir/import-$2.log
    if ! GODOT_TIMEOUT=300 GODOT_IMPORT=always GODOT_LOG=$log.full \
        bash scripts/run-godot-scene.sh "bench/godot/$project" -- --workload=none >"$log" 2>&1; then
        broken[$client]="the Godot project does not import/start: $(tail -n 1 "$log")"
    elif ! grep -q '^NOTE frames uncapped' "$log" && [ "$project" != empty ]; then
        broken[$client]="the bench scene did not start (see ${log#"$root"/})"
    fi
}
imported=" "
for client in $clients; do
    base=$(base_of "$client")
    case $client in
        plugin | websocketpeer | websocketpeer-json | plugin-baseline | plugin-polling | plugin-upgrade)
            [[ $imported == *" $base "* ]] || [ -n "${broken[$base]:-}" ] ||
                { note "importing bench/godot/$base"; prepare_godot "$base" "$base"; imported+="$base "; } ;;
        node-client | node-client-polling | node-client-upgrade) ;;
        *) die "unknown client '$client' in BENCH_CLIENTS (plugin, websocketpeer, websocketpeer-json, node-client, plugin-polling, node-client-polling, plugin-upgrade, node-client-upgrade; BENCH_BASELINE adds plugin-baseline)" ;;
    esac
done
if [[ " $workloads " == *" A "* ]]; then
    note "importing bench/godot/empty"
    prepare_godot empty-godot empty
fi
if [[ " $workloads " == *" M "* ]]; then
    note "importing bench/godot/multiplayer; the relay's packages (scripts/test-relay.sh --install-only)"
    if [ -n "${broken[plugin]:-}" ]; then
        broken[mp-relay]=${broken[plugin]}
    fi
    if ! GODOT_TIMEOUT=300 GODOT_IMPORT=always GODOT_LOG=$run_dir/import-multiplayer.log.full \
        bash scripts/run-godot-scene.sh bench/godot/multiplayer -- --role=none >"$run_dir/import-multiplayer.log" 2>&1 ||
        ! grep -q '^NOTE frames uncapped' "$run_dir/import-multiplayer.log"; then
        broken[mp-direct]="bench/godot/multiplayer does not import/start: $(tail -n 1 "$run_dir/import-multiplayer.log")"
        broken[mp-relay]=${broken[mp-relay]:-${broken[mp-direct]}}
    fi
    if ! bash scripts/test-relay.sh --install-only >"$run_dir/relay-install.log" 2>&1; then
        broken[mp-relay]="the relay's npm ci failed (see relay-install.log)"
    fi
fi

# ---- 3. server ---------------------------------------------------------------------------------------------------

fifo=$run_dir/server.stdin
mkfifo "$fifo"
node -r ./bench/server-preload.js tests/server/server.js --port 0 --quiet --exit-on-stdin-close \
    <"$fifo" >"$run_dir/server.out" 2>"$run_dir/server.err" &
pids+=("$!")
# Held open until this script ends: then the server sees EOF on stdin and exits (--exit-on-stdin-close).
exec {server_fd}>"$fifo"
: "$server_fd"
port=$(wait_for_port "$run_dir/server.out" "${pids[-1]}")
[ -n "$port" ] || { cat "$run_dir/server.err" >&2; die "the test server did not start"; }
url=ws://127.0.0.1:$port
note "server: $url (tests/server/server.js + bench/server-preload.js)"

note "warming the server up (socket.io-client: 3 x A, B, C/4, D)"
timeout "$timeout_s" node bench/node/bench.js --workload=warmup --url="$url" --scale="$scale" \
    >"$run_dir/warmup.log" 2>&1 || note "warm-up failed (see warmup.log); going on"

# ---- 4. workloads ------------------------------------------------------------------------------------------------

# collect CLIENT WORKLOAD LOG RC [SHAPE] — appends the RESULT lines of a log; records why when there are none.
collect() {
    local client=$1 workload=$2 log=$3 rc=$4 shape=${5:-} why
    grep '^RESULT {' "$log" | sed 's/^RESULT //' >>"$results" || true
    if ! grep -q '^RESULT {' "$log"; then
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            why="timed out after ${timeout_s}s"
        else
            why="exit code $rc, no result"
        fi
        why="$why: $(grep -E 'ERROR|Error|error|panic|FAIL' "$log" | head -n 1 | cut -c1-160)"
        fail "$client" "$workload" "${why%: }" "$shape"
    elif [ "$rc" -ne 0 ] && [[ $client != node-client* ]]; then
        info "$client" "run-$workload" "$(tail -n 1 "$log" | cut -c1-200)"
    fi
}

# run_client CLIENT WORKLOAD [SHAPE] — one process; SHAPE: workload F's large-message measurement of that shape.
run_client() {
    local client=$1 workload=$2 shape=${3:-} rc=0 t0=$SECONDS
    local log=$run_dir/$1-$2${shape:+-$shape}.log
    local extra=() base
    base=$(base_of "$client")
    mapfile -t extra < <(client_args "$client")
    [ -z "$shape" ] || extra+=(--f-shape="$shape" --f-shape-bytes="$f_shape_bytes")
    if [ -n "${broken[$base]:-}" ]; then
        fail "$client" "$workload" "${broken[$base]}" "$shape"
        note "$workload${shape:+ $shape} $client: skipped (${broken[$base]})"
        return
    fi
    case $base in
        node-client)
            timeout --kill-after=10 "$timeout_s" node bench/node/bench.js --workload="$workload" --url="$url" \
                --client-name="$client" --runs="$runs" --scale="$scale" "${extra[@]}" >"$log" 2>&1 || rc=$?
            ;;
        plugin | websocketpeer | empty-godot | plugin-baseline)
            local project=$base
            [ "$client" = empty-godot ] && project=empty
            GODOT_TIMEOUT=$timeout_s GODOT_IMPORT=never GODOT_LOG=$log.full \
                bash scripts/run-godot-scene.sh "bench/godot/$project" -- --workload="$workload" --url="$url" \
                --client-name="$client" \
                --runs="$runs" --scale="$scale" --clk-tck="$clk_tck" --idle-sleep-usec="$idle_sleep" --f-fps="$f_fps" \
                "${extra[@]}" >"$log" 2>&1 || rc=$?
            ;;
    esac
    collect "$client" "$workload" "$log" "$rc" "$shape"
    note "$workload${shape:+ $shape} $client: $(grep -c '^RESULT {' "$log" || true) result line(s), $((SECONDS - t0))s"
}

# run_instructions CLIENT — workload I: for A and B, two runs under callgrind (bench/profile-run.sh callgrind, which
# counts the measured run only, after the connect and the warm-up) at the two scales of BENCH_I_SCALES, and two
# native runs under perf stat (system calls, counted the same way); each figure is the difference between the two
# runs over the difference in events, which leaves out what a count costs once (the holds' frames). One RESULT line
# with I_<workload>_<part> per event.
run_instructions() {
    local client=$1 base w s log rc t0=$SECONDS extra=() records=()
    base=$(base_of "$client")
    mapfile -t extra < <(client_args "$client")
    if [ -n "${broken[$base]:-}" ]; then
        fail "$client" I "${broken[$base]}"
        return
    fi
    for w in A B; do
        for s in $i_scales; do
            for mode in callgrind syscalls; do
                log=$run_dir/$client-I-$w-$s-$mode.log
                rc=0
                PROFILE_TIMEOUT=$timeout_s bash bench/profile-run.sh "$mode" "bench/godot/$base" "$log" -- \
                    --workload="$w" --url="$url" --client-name="$client" --runs=1 --scale="$s" \
                    --clk-tck="$clk_tck" --idle-sleep-usec="$idle_sleep" "${extra[@]}" >"$log.out" 2>&1 || rc=$?
                if [ "$rc" -ne 0 ] || grep -q '^RESULT {.*"error"' "$log"; then
                    fail "$client" I "$w at scale $s ($mode): $(grep -h -m1 -E '"error"|error:' "$log" "$log.out" | cut -c1-160)"
                    return
                fi
                records+=("$w $s $mode $(grep -E '^(SPLIT|SYSCALLS) ' "$log.out" | tail -n 1 | cut -d' ' -f2-)")
            done
        done
    done
    printf '%s\n' "${records[@]}" | python3 -c 'import json, math, sys
client = sys.argv[1]
# The events of the one measured run at a scale (bench_main.gd), all that is counted (between the holds).
counts = {"A": 20000, "B": 2000}
def events(w, s):
    return max(1, math.floor(counts[w] * float(s) + 0.5))
got = {}
for line in sys.stdin:
    w, s, mode, value = line.rstrip("\n").split(" ", 3)
    got.setdefault(w, {}).setdefault(mode, []).append((s, value))
out = {"client": client, "workload": "I", "run": 1}
for w, modes in got.items():
    (s1, v1), (s2, v2) = modes["callgrind"]
    d = events(w, s2) - events(w, s1)
    a, b = json.loads(v1), json.loads(v2)
    for part in b:
        out["I_%s_%s" % (w, part)] = (b[part] - a[part]) / d
    (s1, c1), (s2, c2) = modes["syscalls"]
    out["I_%s_syscalls" % w] = (int(c2) - int(c1)) / d
    out["I_%s_events" % w] = d
print(json.dumps(out))' "$client" >>"$results"
    note "I $client: $((SECONDS - t0))s"
}

# wait_ready LOG PID — waits (30 s at most) until LOG has the line "MPB READY host", or process PID ended.
wait_ready() {
    local _
    for _ in $(seq 1 300); do
        grep -q '^MPB READY host' "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 0
        sleep 0.1
    done
}

# mp_run MODE RUN — workload M, one run: the host, then clients a and b, of bench/godot/multiplayer; mode direct
# (WebSocketMultiplayerPeer on a free port) or relay (SocketIOMultiplayerPeer, the relay at $relay_url). The host
# prints the RESULT line.
mp_run() {
    local mode=$1 run=$2 client=mp-$1 t0=$SECONDS r i url room=bench-$2-$$ rc=0 port_m=""
    local logs=() mp_pids=()
    # Allowed: what WebSocketMultiplayerPeer reports when its send buffer is full, and when a peer left while the
    # host still sends to it.
    local allowed="Error sending|_send|put_packet|buffer|Buffer|ready_state != STATE_OPEN"
    if [ -n "${broken[$client]:-}" ]; then
        fail "$client" M "${broken[$client]}"
        note "M $client run $run: skipped (${broken[$client]})"
        return
    fi
    if [ "$mode" = direct ]; then
        port_m=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        url=ws://127.0.0.1:$port_m
    else
        url=$relay_url
    fi
    for r in host a b; do
        local log=$run_dir/$client-M-$run-$r.log
        logs+=("$log")
        GODOT_TIMEOUT=$timeout_s GODOT_IMPORT=never GODOT_LOG=$log.full \
            GODOT_ALLOWED_ERRORS="$allowed" \
            bash scripts/run-godot-scene.sh bench/godot/multiplayer -- --role="$r" --mode="$mode" --url="$url" \
            --port="$port_m" --room="$room" --run="$run" --client-name="$client" --rtt-count="$m_rtt_count" \
            --idle-sleep-usec="$idle_sleep" --updates-steps="$m_steps" >"$log" 2>&1 &
        mp_pids+=("$!")
        # The clients start once the host listens (direct) or has the room (relay).
        [ "$r" != host ] || wait_ready "$log" "${mp_pids[0]}"
    done
    for i in 0 1 2; do
        local status=0
        wait "${mp_pids[$i]}" || status=$?
        [ "$status" -eq 0 ] || rc=$status
    done
    collect "$client" M "${logs[0]}" "$rc"
    if [ "$rc" -ne 0 ]; then
        for i in 0 1 2; do grep -h '^MPB FAIL' "${logs[$i]}" >&2 || true; done
    fi
    note "M $client run $run: $(grep -c '^RESULT {' "${logs[0]}" || true) result line(s), $((SECONDS - t0))s"
}

# mp_node_run RUN — workload M's floor of the relay path: the round trip between two socket.io-client (Node)
# processes through the same relay (bench/node/relay-rtt.js), no Godot in the path.
mp_node_run() {
    local run=$1 room=bench-node-$1-$$ rc=0 t0=$SECONDS
    local log=$run_dir/mp-relay-node-M-$run.log
    if [ -n "${broken[mp-relay]:-}" ]; then
        fail mp-relay-node M "${broken[mp-relay]}"
        return
    fi
    node bench/node/relay-rtt.js --role=host --url="$relay_url" --room="$room" >"$log.host" 2>&1 &
    local host_pid=$!
    wait_ready "$log.host" "$host_pid"
    timeout 120 node bench/node/relay-rtt.js --role=client --url="$relay_url" --room="$room" \
        --count="$m_rtt_count" --run="$run" >"$log" 2>&1 || rc=$?
    kill "$host_pid" 2>/dev/null || true
    wait "$host_pid" 2>/dev/null || true
    collect mp-relay-node M "$log" "$rc"
    note "M mp-relay-node run $run: $(grep -c '^RESULT {' "$log" || true) result line(s), $((SECONDS - t0))s"
}

# run_multiplayer — workload M: the relay (one process, --stats, its rate cap lifted: this measures throughput),
# then BENCH_RUNS runs of each mode, alternating.
run_multiplayer() {
    relay_url=""
    if [ -z "${broken[mp-relay]:-}" ]; then
        local fifo=$run_dir/relay.stdin
        mkfifo "$fifo"
        node relay/bin/relay-server.js --port 0 --stats --rate 1000000 --exit-on-stdin-close \
            <"$fifo" >"$run_dir/relay.out" 2>"$run_dir/relay.err" &
        pids+=("$!")
        exec {relay_fd}>"$fifo"
        : "$relay_fd"
        local relay_port
        relay_port=$(wait_for_port "$run_dir/relay.out" "${pids[-1]}")
        if [ -z "$relay_port" ]; then
            broken[mp-relay]="the relay did not start: $(tail -n 1 "$run_dir/relay.err")"
        else
            relay_url=ws://127.0.0.1:$relay_port
            note "relay: $relay_url/match (relay/bin/relay-server.js --stats --rate 1000000)"
        fi
    fi
    local run
    for run in $(seq 1 "$runs"); do
        mp_run direct "$run"
        mp_run relay "$run"
        mp_node_run "$run"
    done
}

for workload in $workloads; do
    case $workload in A | B | C | D | E | F | H | I | M) ;; *) die "unknown workload '$workload' in BENCH_WORKLOADS" ;; esac
    if [ "$workload" = M ]; then
        run_multiplayer
        continue
    fi
    if [ "$workload" = I ]; then
        for client in $clients; do
            case $client in plugin | plugin-baseline | websocketpeer | websocketpeer-json) run_instructions "$client" ;; esac
        done
        continue
    fi
    for client in $clients; do
        # The transport variants measure A to E: F (worst poll()) is about WebSocket messages.
        if [ "$workload" = F ] && [ -n "$(transports_of "$client")" ]; then continue; fi
        # H (idle SocketIOConnection nodes) is about the plugin's node class, on its default transports.
        if [ "$workload" = H ] && [ "$client" != plugin ] && [ "$client" != plugin-baseline ]; then continue; fi
        run_client "$client" "$workload"
        if [ "$workload" = F ] && { [ "$client" = plugin ] || [ "$client" = plugin-baseline ]; }; then
            for shape in $f_shapes; do run_client "$client" F "$shape"; done
        fi
    done
    if [ "$workload" = A ]; then
        if [ -n "${broken[empty-godot]:-}" ]; then
            fail empty-godot G "${broken[empty-godot]}"
        else
            for _ in $(seq 1 "$runs"); do run_client empty-godot G; done
        fi
    fi
done

# ---- 5. report ---------------------------------------------------------------------------------------------------

godot_version=$(bash scripts/godot.sh --version 2>/dev/null | tail -n 1 || true)
info - godot "$godot_version"
info - node "$(node --version)"
info - socket.io "$(node -p 'require("./tests/server/node_modules/socket.io/package.json").version')"
info - socket.io-client "$(node -p 'require("./bench/node/node_modules/socket.io-client/package.json").version')"
info - cpu "$(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
info - load "1/5/15 min load average $load_at_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
info - runs "$runs"
info - scale "$scale"
info - "A idle sleep" "$idle_sleep µs after a frame whose poll() brought nothing (Godot clients, A only)"
info - "F frame rate" "Engine.max_fps = $f_fps during F (0 = uncapped); every other workload ran uncapped"
[ -z "$f_shapes" ] || info - "F shapes" "$f_shapes: one message of at most $f_shape_bytes bytes each (plugin only)"
info - elapsed "$((SECONDS - started)) s"

python3 bench/report.py "$results" --runs "$runs" --out "$out"
note "report written to ${out#"$root"/} ($((SECONDS - started)) s in all)"
