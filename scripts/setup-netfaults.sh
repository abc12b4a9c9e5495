#!/usr/bin/env bash
# Installs what the network-fault tests (rust/core/tests/partition.rs) need, on Debian:
#   - Debian's nftables (`nft`: the rule that silently drops a namespace's packets) and iproute2 (`ip netns`, veth
#     pairs, `ss`), with apt-get when missing. nftables' system service is not used: the tests add and delete their
#     own tables inside their own network namespaces.
# The tests themselves need root (CAP_NET_ADMIN) to create namespaces; they fail, saying so, without it.
# Idempotent and quiet on success; safe to call before every test run.
set -euo pipefail

log() { echo "setup-netfaults: $*" >&2; }

# Runs a command with its output kept aside, shown only when it fails.
quiet() {
    local out
    out="$(mktemp)"
    if ! "$@" >"$out" 2>&1; then
        cat "$out" >&2
        rm -f "$out"
        log "failed: $*"
        exit 1
    fi
    rm -f "$out"
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
{ command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ]; } \
    && { command -v ss >/dev/null 2>&1 || [ -x /usr/bin/ss ]; } || missing+=(iproute2)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} with apt-get"
    # policy-rc.d 101: packages do not start their services on install (where invoke-rc.d is used).
    policy_added=""
    if [ ! -e /usr/sbin/policy-rc.d ] && [ -z "$SUDO" ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        policy_added=1
    fi
    quiet $SUDO apt-get update
    quiet $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    if [ -n "$policy_added" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
