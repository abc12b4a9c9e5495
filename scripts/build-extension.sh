#!/usr/bin/env bash
# build-extension.sh [debug|release] — builds the GDExtension and assembles the addon.
#
#   1. cargo build -p socketio-godot (debug by default, or --release);
#   2. copies the library into addon/bin/<platform>/ (the path socketio.gdextension names for this machine) and
#      the descriptor socketio.gdextension into addon/;
#   3. installs (copies) addon/ into demo-project/addons/socketio/, tests/godot/addons/socketio/ and
#      tests/multiplayer/project/addons/socketio/.
#
# addon/bin/, addon/socketio.gdextension and the installed copies are build output (git-ignored).
#
# Environment:
#   CARGO_TARGET_DIR   cargo's target directory (default <repo>/target)
#   CARGO              cargo executable (default cargo)
set -euo pipefail

prog=build-extension
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 2; }

profile=${1:-debug}
case $profile in
    debug) cargo_flags=() ;;
    release) cargo_flags=(--release) ;;
    *) die "usage: $0 [debug|release]" ;;
esac
[ $# -le 1 ] || die "usage: $0 [debug|release]"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
case $target_dir in /*) ;; *) target_dir=$root/$target_dir ;; esac

# Where this machine's library goes, as named in socketio.gdextension.
# shellcheck source=lib/platform.sh
source "$root/scripts/lib/platform.sh"
host_platform || die "no library path in socketio.gdextension for $(uname -s)/$(uname -m)"
grep -q "\"bin/$platform/$lib\"" "$root/socketio.gdextension" ||
    die "socketio.gdextension names no bin/$platform/$lib"

echo "$prog: cargo build -p socketio-godot ($profile)" >&2
(cd "$root" && CARGO_TARGET_DIR=$target_dir "${CARGO:-cargo}" build -p socketio-godot "${cargo_flags[@]}")
built=$target_dir/$profile/$lib
[ -f "$built" ] || die "cargo produced no $built"

addon=$root/addon
mkdir -p "$addon/bin/$platform"
# Copy to a temporary name, then rename: a running Godot keeps its mapping of the old file.
cp "$built" "$addon/bin/$platform/.$lib.tmp"
mv -f "$addon/bin/$platform/.$lib.tmp" "$addon/bin/$platform/$lib"
cp "$root/socketio.gdextension" "$addon/socketio.gdextension"

for project in demo-project tests/godot tests/multiplayer/project; do
    dest=$root/$project/addons/socketio
    [ -f "$root/$project/project.godot" ] || continue
    rm -rf "$dest"
    mkdir -p "$dest"
    cp -R "$addon/." "$dest/"
done

echo "$prog: addon ready: addon/bin/$platform/$lib ($profile), installed into demo-project/, tests/godot/ and tests/multiplayer/project/" >&2
