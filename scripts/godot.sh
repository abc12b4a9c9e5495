#!/usr/bin/env bash
# godot.sh — run Godot 4 with the given arguments.
#
# Uses $GODOT when set (any Godot 4 executable); otherwise fetches the
# project-local Debian build with scripts/fetch-godot.sh (a no-op once cached)
# and runs its launcher. Does not add --headless: callers pass it.
set -euo pipefail

if [ -n "${GODOT:-}" ]; then
    exec "$GODOT" "$@"
fi

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# fetch-godot.sh reports progress on stderr and the launcher path as the last
# line of stdout; it is silent when already fetched.
launcher=$("$script_dir/fetch-godot.sh" | tail -n 1)
[ -x "$launcher" ] || { echo "godot.sh: fetch-godot.sh gave no launcher" >&2; exit 1; }
exec "$launcher" "$@"
