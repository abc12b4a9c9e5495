#!/usr/bin/env bash
# fetch-godot.sh — obtain a headless-capable Godot 4, and its Linux export templates, without installing anything
# system-wide.
#
# Debian's `godot` package (sid), its export templates `godot-template-release` and `godot-template-debug` (the
# same Godot version: root/usr/bin/godot-template-{release,debug}, for scripts/test-package.sh), and their full
# dependency closure (including
# sid's libc6) are downloaded with a PRIVATE apt configuration (own sources
# list, state, cache, empty dpkg status; signatures verified against the
# system's Debian archive keyring), unpacked with `dpkg -x` into
# <cache>/root, and started through the unpacked dynamic loader by the
# launcher <cache>/godot-headless.
#
# Cache: ${SOCKETIO_CACHE:-<repo>/.cache}/godot. Idempotent: does nothing when
# the unpacked binary and launcher already exist. The launcher path is always
# the last line of stdout.
#
# Environment:
#   SOCKETIO_CACHE          cache base directory (default <repo>/.cache)
#   GODOT_DEBIAN_MIRROR     Debian mirror (default http://deb.debian.org/debian)
#   GODOT_DEBIAN_SUITE      suite that carries godot 4 (default sid)
#   GODOT_DEBIAN_KEYRING    keyring for signed-by
#                           (default /usr/share/keyrings/debian-archive-keyring.gpg)
#   GODOT_APT_CHECK_VALID_UNTIL  "true" to also enforce the Release file's
#                           Valid-Until date (default "false": mirrors and
#                           proxies may serve a frozen snapshot whose Release
#                           has expired; signatures and hashes are still
#                           verified either way)
set -euo pipefail

die() { printf 'fetch-godot: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'fetch-godot: %s\n' "$*" >&2; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$script_dir/.." && pwd)
cache_base=${SOCKETIO_CACHE:-$repo_dir/.cache}
mkdir -p "$cache_base"
cache=$(cd "$cache_base" && pwd)/godot
root=$cache/root
launcher=$cache/godot-headless

mirror=${GODOT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${GODOT_DEBIAN_SUITE:-sid}
keyring=${GODOT_DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
check_valid_until=${GODOT_APT_CHECK_VALID_UNTIL:-false}

packages=(godot godot-template-release godot-template-debug)
fetched() {
    [ -x "$root/usr/bin/godot" ] && [ -x "$root/usr/bin/godot-template-release" ] &&
        [ -x "$root/usr/bin/godot-template-debug" ] && [ -x "$launcher" ]
}

# Fast path: already fetched.
if fetched; then
    printf '%s\n' "$launcher"
    exit 0
fi

for tool in apt-get dpkg dpkg-deb flock; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (a Debian-based system is required)"
done
[ -r "$keyring" ] || die "keyring $keyring not readable (install debian-archive-keyring)"

arch=$(dpkg --print-architecture)
case $arch in
    amd64) triplet=x86_64-linux-gnu; ldso=ld-linux-x86-64.so.2 ;;
    arm64) triplet=aarch64-linux-gnu; ldso=ld-linux-aarch64.so.1 ;;
    *) die "unsupported architecture '$arch'" ;;
esac

mkdir -p "$cache"
# Serialise concurrent fetches (e.g. parallel test jobs).
exec 9>"$cache/.lock"
flock 9
if fetched; then
    printf '%s\n' "$launcher"
    exit 0
fi

apt_dir=$cache/apt
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" \
    "$apt_dir/empty.d" "$apt_dir/log"
: >"$apt_dir/empty-status"
printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$suite" >"$apt_dir/sources.list"

# Private apt configuration, read through APT_CONFIG *before* anything else:
# Dir::Etc::Parts/main point at empty places so none of the system's apt
# configuration (apt.conf.d, sources, preferences, foreign architectures)
# leaks in. Signature verification stays on (only the Valid-Until freshness
# check is relaxed by default, see GODOT_APT_CHECK_VALID_UNTIL).
cat >"$apt_dir/apt.conf" <<EOF
Dir::Etc::Parts "$apt_dir/empty.d/";
Dir::Etc::main "$apt_dir/no-such-apt.conf";
Dir::Etc::SourceList "$apt_dir/sources.list";
Dir::Etc::SourceParts "$apt_dir/empty.d/";
Dir::Etc::Preferences "$apt_dir/no-such-preferences";
Dir::Etc::PreferencesParts "$apt_dir/empty.d/";
Dir::Etc::Trusted "$apt_dir/no-such-trusted.gpg";
Dir::Etc::TrustedParts "$apt_dir/empty.d/";
Dir::State "$apt_dir/state/";
Dir::State::status "$apt_dir/empty-status";
Dir::Cache "$apt_dir/cache/";
Dir::Log "$apt_dir/log/";
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::Sandbox::User "root";
Acquire::Languages "none";
Acquire::Check-Valid-Until "$check_valid_until";
Debug::NoLocking "true";
EOF
export APT_CONFIG=$apt_dir/apt.conf

log=$apt_dir/log/fetch.log
run_logged() {
    if ! "$@" >>"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "command failed: $* (full log: $log)"
    fi
}
: >"$log"

note "updating private package index ($mirror $suite)..."
run_logged apt-get -q update
# apt-get update only warns on some failures (e.g. bad signature -> index
# ignored); make those fatal.
if grep -Eq '^(W|E): ' "$log"; then
    grep -E '^(W|E): ' "$log" >&2
    die "apt-get update reported problems (full log: $log)"
fi

note "downloading ${packages[*]} and their dependency closure..."
rm -f "$apt_dir/cache/archives/"*.deb
run_logged apt-get -q -y --download-only install "${packages[@]}"

shopt -s nullglob
debs=("$apt_dir/cache/archives/"*.deb)
shopt -u nullglob
[ "${#debs[@]}" -gt 0 ] || die "no packages were downloaded (full log: $log)"

note "unpacking ${#debs[@]} packages..."
tmp_root=$cache/root.tmp
rm -rf "$tmp_root"
mkdir -p "$tmp_root"
for deb in "${debs[@]}"; do
    dpkg -x "$deb" "$tmp_root" || die "dpkg -x failed for $deb"
done

# Locate the unpacked dynamic loader (usrmerged sid ships it under
# usr/lib/<triplet>; older layouts used lib/ or lib64/).
ldso_rel=
for cand in "usr/lib/$triplet/$ldso" "lib/$triplet/$ldso" "usr/lib64/$ldso" "lib64/$ldso"; do
    if [ -e "$tmp_root/$cand" ]; then ldso_rel=$cand; break; fi
done
[ -n "$ldso_rel" ] || die "unpacked tree has no $ldso"
for binary in godot godot-template-release godot-template-debug; do
    [ -x "$tmp_root/usr/bin/$binary" ] || die "unpacked tree has no usr/bin/$binary"
done

# Library search path: the multiarch lib dir plus pulseaudio's private dir
# (libpulse links libpulsecommon from there). Nothing else is needed for the
# binaries' DT_NEEDED closure.
libpath_rel=usr/lib/$triplet
[ -d "$tmp_root/usr/lib/$triplet/pulseaudio" ] && libpath_rel="$libpath_rel usr/lib/$triplet/pulseaudio"
for binary in godot godot-template-release godot-template-debug; do
    if missing=$("$tmp_root/$ldso_rel" --library-path "$tmp_root/${libpath_rel// /:$tmp_root/}" \
            --list "$tmp_root/usr/bin/$binary" 2>&1 | grep 'not found'); then
        printf '%s\n' "$missing" >&2
        die "unresolved libraries of $binary in the unpacked tree"
    fi
done

# Record what was unpacked (name, version) for diagnostics.
for deb in "${debs[@]}"; do
    # shellcheck disable=SC2016 # dpkg-deb format string, not shell
    dpkg-deb --show --showformat '${Package} ${Version}\n' "$deb"
done | sort >"$tmp_root.packages"

rm -rf "$root"
mv "$tmp_root" "$root"
mv "$tmp_root.packages" "$cache/packages.txt"

# The launcher locates root/ relative to itself, so the cache can be moved.
libpath_expr=
for rel in $libpath_rel; do libpath_expr=${libpath_expr:+$libpath_expr:}\$root/$rel; done
cat >"$launcher.tmp" <<EOF
#!/bin/sh
# Generated by scripts/fetch-godot.sh: runs the unpacked Debian godot through
# its own (unpacked) dynamic loader and libraries. Pass --headless yourself.
here=\$(cd "\$(dirname "\$0")" && pwd)
root=\$here/root
exec "\$root/$ldso_rel" --library-path "$libpath_expr" "\$root/usr/bin/godot" "\$@"
EOF
chmod +x "$launcher.tmp"
mv "$launcher.tmp" "$launcher"

# Only the unpacked tree is needed from now on: drop the .debs, the package
# indexes and apt's binary caches (~150 MB); keep the log.
rm -f "$apt_dir/cache/archives/"*.deb "$apt_dir/cache/"*.bin
rm -rf "$apt_dir/state/lists"

if ! version=$("$launcher" --headless --version 2>&1); then
    printf '%s\n' "$version" >&2
    die "the unpacked godot does not start"
fi
note "godot $(printf '%s\n' "$version" | tail -n 1) ready"
printf '%s\n' "$launcher"
