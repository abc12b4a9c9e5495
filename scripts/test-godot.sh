#!/usr/bin/env bash
# test-godot.sh [debug|release] — the headless Godot tests, end to end:
#   1. builds the extension (debug by default; release is what the addon ships, with gdext's per-call checks off)
#      and installs it into tests/godot/addons/socketio/ (scripts/build-extension.sh);
#   2. installs the Node test server's packages (scripts/setup-node.sh);
#   3. starts four test servers on free ports: plain ws, wss with a self-signed certificate for "localhost" (not
#      127.0.0.1) made here with openssl in a temporary directory, plain ws with connection state recovery, and
#      plain ws with a 4096-byte maxPayload; then one wss server per certificate shape of the differential TLS suite
#      (tests/godot/suites/test_tls_verdicts.gd), made in the same directory: "godot" (by Godot's own
#      Crypto.generate_self_signed_certificate, through tests/godot/tools/make_godot_cert.gd: CA:TRUE, the name only
#      in the CN), "openssl" (self-signed, CA:TRUE, subjectAltName DNS:localhost and IP:127.0.0.1), and leaves
#      signed by a private CA (CA:FALSE, subjectAltName DNS:localhost only): "leaf" (valid now), "expired" (2020) and
#      "future" (valid from a year ahead); "san_only" (CN example.com, SAN localhost), "wildcard" (SAN *.example.com),
#      "no_sign" (key usage without digitalSignature), and "stale_ca" (a valid leaf of a CA that expired in 2020);
#   4. runs the test project through scripts/run-godot-scene.sh, with SOCKETIO_TEST_URL, SOCKETIO_TEST_WSS_URL,
#      SOCKETIO_TEST_CA_PEM, SOCKETIO_TEST_RECOVERY_URL, SOCKETIO_TEST_SMALL_PAYLOAD_URL, SOCKETIO_TEST_TLS_SHAPES (a
#      JSON list of {"name", "port", "trust": PEM to trust for that server, "other": a PEM not in its chain}) and
#      SOCKETIO_TEST_BUILD (debug or release) set, and the deliberate error messages of the tests allowed
#      (GODOT_ALLOWED_ERRORS: also the "TLS handshake error" of Godot's own WebSocketPeer when it refuses a server);
#   5. stops the servers (also when interrupted: they exit when this script's end of their stdin closes).
# Exits with the scene's verdict; the last line is "godot: N passed, M failed" (checks of the test runner, plus one
# failure when the run script failed the run for another reason: crash, leak report, unexpected error line).
#
# Environment: SOCKETIO_TEST_FILTER (only tests whose "suite.test" contains it), GODOT, GODOT_TIMEOUT, GODOT_LOG
# (see run-godot-scene.sh), CARGO_TARGET_DIR.
set -euo pipefail

prog=test-godot
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/server-port.sh
. scripts/lib/server-port.sh

profile=${1:-debug}
case $profile in
    debug | release) ;;
    *) echo "usage: $0 [debug|release]" >&2; exit 2 ;;
esac
bash scripts/build-extension.sh "$profile"
bash scripts/setup-node.sh

tmp=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME ARGS... — starts tests/server/server.js and sets $port once it prints "LISTENING <port>".
# Its stdin is a FIFO held open by this script, so it exits (--exit-on-stdin-close) whenever this script ends.
start_server() {
    local name=$1 fifo fd
    shift
    fifo=$tmp/$name.stdin
    mkfifo "$fifo"
    node tests/server/server.js --port 0 --quiet --exit-on-stdin-close "$@" <"$fifo" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=("$!")
    exec {fd}>"$fifo"
    port=$(wait_for_port "$tmp/$name.out" "${pids[-1]}")
    [ -n "$port" ] && return 0
    cat "$tmp/$name.err" >&2
    echo "$prog: error: the $name test server did not start" >&2
    echo "godot: 0 passed, 1 failed"
    exit 1
}

# A self-signed certificate for localhost (not a CA: it is its own trust anchor in the TLS tests). It does not name
# 127.0.0.1, so the tests can reach the server under a name the certificate does not hold.
cat >"$tmp/cert.cnf" <<'EOF'
[req]
distinguished_name = dn
x509_extensions = ext
prompt = no
[dn]
CN = localhost
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
EOF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -config "$tmp/cert.cnf" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>"$tmp/openssl.err" ||
    { cat "$tmp/openssl.err" >&2; echo "$prog: error: openssl could not make a certificate" >&2; exit 1; }

# The certificate shapes of the differential TLS suite (suites/test_tls_verdicts.gd), each served by one more wss
# server: "godot" (Crypto.generate_self_signed_certificate: CA:TRUE pathlen 0, the name only in the CN, no
# subjectAltName), "openssl" (openssl req -x509 with OpenSSL 3's default extensions, CA:TRUE, and subjectAltName
# DNS:localhost, IP:127.0.0.1), and three leaves (CA:FALSE, serverAuth, subjectAltName DNS:localhost only) signed by
# a private CA: "leaf" (valid), "expired" (2020-01-01 to 2020-01-02) and "future" (valid from a year ahead).
shapes=$tmp/shapes
mkdir -p "$shapes/godot-cwd" "$shapes/ca/newcerts"
shape_fail() {
    cat "$shapes/$1.err" >&2 2>/dev/null || true
    echo "$prog: error: could not make the \"$1\" test certificate" >&2
    echo "godot: 0 passed, 1 failed"
    exit 1
}
# Run outside any project (an empty working directory): nothing is imported and tests/godot/ is left alone.
(cd "$shapes/godot-cwd" && bash "$root/scripts/godot.sh" --headless \
    --script "$root/tests/godot/tools/make_godot_cert.gd" -- "$shapes/godot-key.pem" "$shapes/godot-cert.pem") \
    >"$shapes/godot.err" 2>&1 || shape_fail godot
grep -q 'BEGIN CERTIFICATE' "$shapes/godot-cert.pem" 2>/dev/null &&
    grep -q 'PRIVATE KEY' "$shapes/godot-key.pem" 2>/dev/null || shape_fail godot
cat >"$shapes/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
x509_extensions = v3_ca
prompt = no
[dn]
CN = localhost
# What "openssl req -x509" gives by default (openssl.cnf's v3_ca), spelled out so that the shape does not depend on
# the system's openssl.cnf, and the subjectAltName one adds with -addext.
[v3_ca]
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always, issuer
basicConstraints = critical, CA:TRUE
subjectAltName = DNS:localhost, IP:127.0.0.1
EOF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -config "$shapes/openssl.cnf" \
    -keyout "$shapes/openssl-key.pem" -out "$shapes/openssl-cert.pem" 2>"$shapes/openssl.err" || shape_fail openssl
cat >"$shapes/ca.cnf" <<EOF
[req]
distinguished_name = dn
x509_extensions = ca_ext
prompt = no
[dn]
CN = socketio-godot test CA
[ca_ext]
subjectKeyIdentifier = hash
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
# openssl ca (for the leaves with chosen dates: openssl x509 -req can only start now).
[ca]
default_ca = test_ca
[test_ca]
database = $shapes/ca/index.txt
new_certs_dir = $shapes/ca/newcerts
serial = $shapes/ca/serial
certificate = $shapes/ca-cert.pem
private_key = $shapes/ca-key.pem
default_md = sha256
policy = any_name
unique_subject = no
email_in_dn = no
copy_extensions = none
x509_extensions = leaf_ext
[any_name]
commonName = supplied
[leaf_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
authorityKeyIdentifier = keyid
[san_only_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
[wildcard_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:*.example.com
[no_sign_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
[stale_ca_ext]
subjectKeyIdentifier = hash
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
EOF
: >"$shapes/ca/index.txt"
echo 1000 >"$shapes/ca/serial"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -config "$shapes/ca.cnf" \
    -keyout "$shapes/ca-key.pem" -out "$shapes/ca-cert.pem" 2>"$shapes/ca.err" || shape_fail ca
# make_leaf NAME START END [EXTENSIONS [CN [CA_CERT CA_KEY]]] — a leaf signed by the CA (or by CA_CERT), valid from
# START to END (YYYYMMDDHHMMSSZ), with the extensions of section EXTENSIONS of ca.cnf (default leaf_ext) and common
# name CN (default localhost).
make_leaf() {
    local ca_args=()
    [ -n "${6:-}" ] && ca_args=(-cert "$6" -keyfile "$7")
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=${5:-localhost}" \
        -keyout "$shapes/$1-key.pem" -out "$shapes/$1.csr" 2>"$shapes/$1.err" &&
        openssl ca -batch -notext -config "$shapes/ca.cnf" -startdate "$2" -enddate "$3" \
            -extensions "${4:-leaf_ext}" "${ca_args[@]}" \
            -in "$shapes/$1.csr" -out "$shapes/$1-cert.pem" 2>>"$shapes/$1.err" || shape_fail "$1"
}
yesterday=$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)
in_two_days=$(date -u -d '+2 days' +%Y%m%d%H%M%SZ)
make_leaf leaf "$yesterday" "$in_two_days"
make_leaf expired 20200101000000Z 20200102000000Z
make_leaf future "$(date -u -d '+1 year' +%Y%m%d%H%M%SZ)" "$(date -u -d '+2 years' +%Y%m%d%H%M%SZ)"
# The name only in the subjectAltName (the common name is another one: with a subjectAltName it does not count), a
# wildcard, and a key usage without digitalSignature.
make_leaf san_only "$yesterday" "$in_two_days" san_only_ext example.com
make_leaf wildcard "$yesterday" "$in_two_days" wildcard_ext www.example.com
make_leaf no_sign "$yesterday" "$in_two_days" no_sign_ext
# A CA out of its own dates (2019-2020), self-signed with openssl ca, and a valid leaf it signs.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=socketio-godot stale test CA" \
    -keyout "$shapes/stale-ca-key.pem" -out "$shapes/stale-ca.csr" 2>"$shapes/stale_ca.err" &&
    openssl ca -batch -notext -selfsign -config "$shapes/ca.cnf" -keyfile "$shapes/stale-ca-key.pem" \
        -startdate 20190101000000Z -enddate 20200101000000Z -extensions stale_ca_ext \
        -in "$shapes/stale-ca.csr" -out "$shapes/stale-ca-cert.pem" 2>>"$shapes/stale_ca.err" || shape_fail stale_ca
make_leaf stale_ca "$yesterday" "$in_two_days" leaf_ext localhost "$shapes/stale-ca-cert.pem" "$shapes/stale-ca-key.pem"

start_server plain
plain_port=$port
start_server tls --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"
tls_port=$port
start_server recovery --recovery
recovery_port=$port
start_server small --max-payload 4096
small_port=$port
# One wss server per certificate shape; SOCKETIO_TEST_TLS_SHAPES lists them with the certificate to trust for each
# (itself when self-signed, the CA for the leaves) and a trusted certificate that is not the server's.
shape_list=()
shape_ports=""
for shape in godot openssl leaf expired future san_only wildcard no_sign stale_ca; do
    start_server "tls-$shape" --tls-cert "$shapes/$shape-cert.pem" --tls-key "$shapes/$shape-key.pem"
    case $shape in
        godot) trust=$shapes/godot-cert.pem other=$shapes/openssl-cert.pem ;;
        openssl) trust=$shapes/openssl-cert.pem other=$shapes/godot-cert.pem ;;
        stale_ca) trust=$shapes/stale-ca-cert.pem other=$shapes/godot-cert.pem ;;
        *) trust=$shapes/ca-cert.pem other=$shapes/godot-cert.pem ;;
    esac
    shape_list+=("{\"name\": \"$shape\", \"port\": $port, \"trust\": \"$trust\", \"other\": \"$other\"}")
    shape_ports+="$shape $port, "
done
(IFS=,; printf '[%s]\n' "${shape_list[*]}") >"$shapes/shapes.json"
echo "$prog: test servers on ws://127.0.0.1:$plain_port, wss://localhost:$tls_port," \
    "ws://127.0.0.1:$recovery_port (recovery), ws://127.0.0.1:$small_port (maxPayload 4096)" \
    "and wss for the certificate shapes (${shape_ports%, })" >&2

export SOCKETIO_TEST_URL="ws://127.0.0.1:$plain_port"
export SOCKETIO_TEST_WSS_URL="wss://localhost:$tls_port"
export SOCKETIO_TEST_CA_PEM="$tmp/cert.pem"
export SOCKETIO_TEST_RECOVERY_URL="ws://127.0.0.1:$recovery_port"
export SOCKETIO_TEST_SMALL_PAYLOAD_URL="ws://127.0.0.1:$small_port"
export SOCKETIO_TEST_TLS_SHAPES="$shapes/shapes.json"
export SOCKETIO_TEST_BUILD="$profile"
# The class references the API is checked against (tests/godot/suites/test_reference.gd); "none" for a checkout
# without them (a fork's CI): the suite then checks nothing, and a line before the verdict says so.
export SOCKETIO_TEST_SPEC_DIR="${SOCKETIO_TEST_SPEC_DIR:-$root/../shared/spec}"
# Errors the tests trigger on purpose (each one is also checked by the runner with expect_error()).
export GODOT_ALLOWED_ERRORS='EXPECTED|process_callback must be PROCESS_IDLE|transports \[\] refused|"polling" is listed twice|header "Host": Host is written by the client itself|is set by the Engine\.IO protocol itself|a header name is an int, not a String|a key is a float, not a String|key "": the key is empty|is reserved by Socket\.IO|the event name is empty|must be 0 \(unlimited\) or more|must be between 0\.0 and 1\.0|must be a finite number of seconds|belongs to a connection that was closed|was removed with SocketIOClient\.remove_namespace|was freed; this handle no longer works|the main namespace cannot be removed|the URL.s path names the namespace to connect|tls_options must be a TLSOptions|godot-rust function call failed: SocketIO|Invalid call error code 1337|must be -?[0-9]+ or more|must be between 1 and 127|must be more than 0 seconds|the server.s maxPayload of 4096|called from a thread other than the main thread|^ERROR: TLS handshake error: -[0-9]+$'

set +e
bash scripts/run-godot-scene.sh tests/godot 2>&1 | tee "$tmp/run.out"
rc=${PIPESTATUS[0]}
set -e

summary=$(sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$tmp/run.out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1 || true)
passed=0
failed=1
if [ -n "$summary" ]; then
    passed=${summary%% passed*}
    failed=${summary#*, }
    failed=${failed%% failed*}
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
fi
if [ "$SOCKETIO_TEST_SPEC_DIR" = none ]; then
    echo "$prog: NOT RUN: the class-reference suite (SOCKETIO_TEST_SPEC_DIR=none): the API was not checked against the class references"
fi
echo "godot: $passed passed, $failed failed"
exit "$rc"
