#!/usr/bin/env bash
# Fuzzes socketio-core with libFuzzer (the cargo-fuzz project in fuzz/): each target for SECONDS (default 30).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      targets default to every one in fuzz/fuzz_targets/
#
# Installs what it needs: a nightly toolchain (minimal profile) and cargo-fuzz, when missing. Builds once, then
# runs each target on a working corpus seeded from fuzz/corpus/<target>/ (the seeds are only read), and prints
# one line per target:  fuzz <target>: <N> runs in <S> s, <C> crashes
# Full libFuzzer output goes to $TARGET_DIR/fuzz/logs/<target>.log, crashing inputs to
# $TARGET_DIR/fuzz/artifacts/<target>/ (TARGET_DIR is $CARGO_TARGET_DIR, else target/). Exits non-zero when a
# target crashes (panic, hang over 10 s, out of memory) or does not build.
#
# Environment: FUZZ_SANITIZER (none by default: the core is safe Rust and debug assertions stay on; `address`
# for ASan, about 4x slower), FUZZ_FEATURES (cargo features of the fuzz crate, e.g. `float-roundtrip`).
# Reproduce a crash:  cd fuzz && FUZZ_TRACE=1 cargo +nightly fuzz run <target> <crash file>
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${1:-30}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
fi
shift $(($# > 0 ? 1 : 0))
targets=("$@")
if ((${#targets[@]} == 0)); then
    for file in fuzz/fuzz_targets/*.rs; do
        targets+=("$(basename "$file" .rs)")
    done
fi

target_dir=${CARGO_TARGET_DIR:-$root/target}
out=$target_dir/fuzz
mkdir -p "$out/logs"
sanitizer=${FUZZ_SANITIZER:-none}
features=()
if [[ -n ${FUZZ_FEATURES:-} ]]; then
    features=(--features "$FUZZ_FEATURES")
fi

if ! rustup toolchain list | grep -q '^nightly'; then
    echo "fuzz: installing the nightly toolchain"
    rustup toolchain install nightly --profile minimal >"$out/logs/install.log" 2>&1 ||
        { tail -20 "$out/logs/install.log" >&2; exit 1; }
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked >>"$out/logs/install.log" 2>&1 ||
        { tail -20 "$out/logs/install.log" >&2; exit 1; }
fi

# The fuzz crate is its own workspace; its build lives apart from the main one's.
fuzz=(cargo +nightly fuzz)
build_args=(--sanitizer "$sanitizer" --target-dir "$out/build" "${features[@]}")

cd fuzz
if ! "${fuzz[@]}" build "${build_args[@]}" >"$out/logs/build.log" 2>&1; then
    echo "fuzz: build failed (log: $out/logs/build.log)" >&2
    tail -30 "$out/logs/build.log" >&2
    exit 1
fi

status=0
for target in "${targets[@]}"; do
    log=$out/logs/$target.log
    artifacts=$out/artifacts/$target
    corpus=$out/corpus/$target
    mkdir -p "$artifacts" "$corpus"
    seeds=()
    if [[ -d corpus/$target ]]; then
        seeds=("corpus/$target")
    fi
    before=$(find "$artifacts" -type f | wc -l)
    start=$(date +%s)
    set +e
    "${fuzz[@]}" run "${build_args[@]}" "$target" "$corpus" "${seeds[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$log" 2>&1
    code=$?
    set -e
    elapsed=$(($(date +%s) - start))
    crashes=$(($(find "$artifacts" -type f | wc -l) - before))
    if ((code != 0 && crashes == 0)); then
        crashes=1 # died without writing an input (e.g. killed)
    fi
    # libFuzzer's final stats (printed after a crash too), else "Done N runs in S second(s)", else the last "#N".
    runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
    [[ -n $runs ]] || runs=$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log" | tail -1)
    [[ -n $runs ]] || runs=$(sed -n 's/^#\([0-9]*\)\t.*/\1/p' "$log" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    echo "fuzz $target: ${runs:-0} runs in ${secs:-$elapsed} s, $crashes crashes"
    if ((crashes > 0)); then
        status=1
        echo "  log: $log" >&2
        grep -m1 -A4 -E "panicked at|ERROR: libFuzzer|==ERROR" "$log" | sed 's/^/  /' >&2 || true
        find "$artifacts" -type f -newermt "@$start" | sed 's/^/  input: /' >&2
    fi
done
exit $status
