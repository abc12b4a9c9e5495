#!/usr/bin/env bash
# package.sh — builds the release library and writes dist/socketio-godot-<version>.zip: the addon as a user unpacks
# it into a Godot project's folder, so that it lands in res://addons/socketio/:
#
#   addons/socketio/plugin.cfg             the editor plugin's entry (its version stamped from Cargo.toml)
#   addons/socketio/plugin.gd(.uid)
#   addons/socketio/socketio.gdextension   the descriptor, listing only the libraries the zip holds
#   addons/socketio/bin/<platform>/...     one library per platform and architecture (see socketio.gdextension)
#   addons/socketio/icons/*.svg            the classes' editor icons
#   addons/socketio/LICENSE, README.md     the MIT licence, and addon/README.md (install and first steps)
#
# The version is the Cargo workspace's ([workspace.package] version): it names the zip, is written into the zip's
# plugin.cfg, and CHANGELOG.md must have a section for it. The zip is reproducible: sorted entries, fixed times.
# The path of the zip is the last line of stdout.
#
# Environment:
#   PACKAGE_BUILD     1 (default): build this machine's release library (scripts/build-extension.sh release) and
#                     add it; 0: build nothing, take every library from PACKAGE_LIBS (the release workflow's job)
#   PACKAGE_LIBS      a folder holding bin/<platform>/<library> of other builds, added to the zip (optional)
#   PACKAGE_OUT       where the zip goes (default <repo>/dist)
#   CARGO_TARGET_DIR  as for scripts/build-extension.sh
set -euo pipefail

prog=package
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
note() { printf '%s: %s\n' "$prog" "$*" >&2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PACKAGE_BUILD:-1}
libs=${PACKAGE_LIBS:-}
out=${PACKAGE_OUT:-$root/dist}
case $build in 0 | 1) ;; *) die "PACKAGE_BUILD must be 0 or 1" ;; esac
[ -z "$libs" ] || [ -d "$libs/bin" ] || die "PACKAGE_LIBS=$libs holds no bin/ folder"
[ "$build" = 1 ] || [ -n "$libs" ] || die "PACKAGE_BUILD=0 needs PACKAGE_LIBS (there would be no library)"

version=$(python3 - "$root/Cargo.toml" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print(tomllib.load(f)["workspace"]["package"]["version"])
PY
) || die "no [workspace.package] version in Cargo.toml"
grep -q "^## \[$version\]" "$root/CHANGELOG.md" || die "CHANGELOG.md has no '## [$version]' section"

stage=$(mktemp -d "${TMPDIR:-/tmp}/socketio-package.XXXXXX")
trap 'rm -rf "$stage"' EXIT
addon=$stage/addons/socketio
mkdir -p "$addon/bin"

if [ "$build" = 1 ]; then
    # shellcheck source=lib/platform.sh
    source "$root/scripts/lib/platform.sh"
    host_platform || die "no library name for $(uname -s)/$(uname -m)"
    bash "$root/scripts/build-extension.sh" release >&2
    mkdir -p "$addon/bin/$platform"
    cp "$root/addon/bin/$platform/$lib" "$addon/bin/$platform/$lib"
fi
if [ -n "$libs" ]; then
    cp -R "$libs/bin/." "$addon/bin/"
fi

cp "$root/addon/plugin.gd" "$root/addon/plugin.gd.uid" "$root/addon/socketio.gdextension.uid" "$addon/"
cp -R "$root/addon/icons" "$addon/icons"
cp "$root/LICENSE" "$addon/LICENSE"
cp "$root/addon/README.md" "$addon/README.md"
sed "s/^version=\".*\"$/version=\"$version\"/" "$root/addon/plugin.cfg" >"$addon/plugin.cfg"
grep -q "^version=\"$version\"$" "$addon/plugin.cfg" || die "addon/plugin.cfg has no version= line to stamp"

# The descriptor, with the [libraries] entries whose file is in the zip; the others would only be a load error on
# those platforms ("can't open dynamic library") instead of Godot's clearer "no library for this platform".
python3 - "$root/socketio.gdextension" "$addon" <<'PY' || die "no library in the package"
import os, re, sys
src, addon = sys.argv[1], sys.argv[2]
out, section, kept, dropped = [], None, [], []
for line in open(src, encoding="utf-8").read().splitlines():
    m = re.match(r"^\[(.+)\]$", line)
    if m:
        section = m.group(1)
    entry = re.match(r'^([a-z0-9_.]+)\s*=\s*"(bin/[^"]+)"$', line)
    if section == "libraries" and entry:
        target = os.path.join(addon, entry.group(2))
        (kept if os.path.isfile(target) else dropped).append(entry.group(1))
        if not os.path.isfile(target):
            continue
    out.append(line)
if not kept:
    sys.exit("no library of socketio.gdextension is in the package")
open(os.path.join(addon, "socketio.gdextension"), "w", encoding="utf-8").write("\n".join(out) + "\n")
print("libraries: " + " ".join(kept), file=sys.stderr)
if dropped:
    print("not in this package: " + " ".join(dropped), file=sys.stderr)
PY

# Every file under bin/ must be one the descriptor names (a stray file would ship unused).
while IFS= read -r file; do
    rel=${file#"$addon/"}
    grep -q "\"$rel\"" "$addon/socketio.gdextension" || die "$rel is not named by socketio.gdextension"
done < <(find "$addon/bin" -type f)

mkdir -p "$out"
zip=$out/socketio-godot-$version.zip
python3 - "$stage" "$zip" <<'PY'
import os, sys, zipfile
stage, dest = sys.argv[1], sys.argv[2]
files = []
for base, dirs, names in os.walk(stage):
    for name in names:
        files.append(os.path.relpath(os.path.join(base, name), stage))
tmp = dest + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for rel in sorted(files):
        info = zipfile.ZipInfo(rel.replace(os.sep, "/"), date_time=(2026, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(os.path.join(stage, rel), "rb") as f:
            z.writestr(info, f.read())
os.replace(tmp, dest)
PY
note "$(python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(len(z.namelist()), "files,", sum(i.file_size for i in z.infolist()), "bytes unpacked")' "$zip")"
note "written: ${zip#"$root"/}"
echo "$zip"
