# Sourced by the scripts that start tests/server/server.js.
#
# wait_for_port OUT_FILE PID — prints the port once the server wrote "LISTENING <port>" to OUT_FILE; prints
# nothing if process PID exits first or 20 s pass. Callers report the failure in their own words.
wait_for_port() {
    local out=$1 pid=$2 port _
    for _ in $(seq 1 200); do
        port=$(sed -n 's/^LISTENING \([0-9][0-9]*\)$/\1/p' "$out" 2>/dev/null | head -n 1)
        if [ -n "$port" ]; then
            echo "$port"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
}
