#!/usr/bin/env bash
# instructions.sh — instruction counts per event, repeatable where times are not (issue 17): the core's own work per
# echoed event (rust/core/benches/instructions.rs: workload A's event received, checked, read into values and
# emitted back over an in-memory transport), run under `valgrind --tool=callgrind` with N1 and N2 events; the
# difference divided by N2 − N1 leaves out the start-up. Prints the total per event, the split by object file (the
# Rust code, libc: malloc, free, memcpy) and the functions that cost most per event.
#
# Not in the test command. The Godot side (Variant building, signals, the GDScript handler) is not in these counts:
# workload I of scripts/bench.sh counts the whole Godot process by part (bench/profile-run.sh).
#
# Environment: INSTR_N1 (default 1000), INSTR_N2 (default 11000), INSTR_TOP (functions listed, default 12).
set -euo pipefail

prog=instructions
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
n1=${INSTR_N1:-1000}
n2=${INSTR_N2:-11000}
top=${INSTR_TOP:-12}
for v in "$n1" "$n2" "$top"; do
    case $v in '' | *[!0-9]*) echo "$prog: INSTR_N1, INSTR_N2 and INSTR_TOP must be whole numbers" >&2; exit 2 ;; esac
done
[ "$n2" -gt "$n1" ] || { echo "$prog: INSTR_N2 must be larger than INSTR_N1" >&2; exit 2; }
command -v valgrind >/dev/null 2>&1 || { echo "$prog: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }

bin=$(cargo bench -p socketio-core --bench instructions --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "instructions" and m.get("executable"):
        print(m["executable"])')
[ -x "$bin" ] || { echo "$prog: the bench binary was not built (cargo bench -p socketio-core --bench instructions --no-run)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/$prog.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for n in "$n1" "$n2"; do
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out.$n" "$bin" "$n" >"$tmp/log.$n" 2>&1 ||
        { cat "$tmp/log.$n" >&2; echo "$prog: the run with $n events failed" >&2; exit 1; }
    grep -q "^instructions bench: $n of $n events echoed" "$tmp/log.$n" ||
        { cat "$tmp/log.$n" >&2; echo "$prog: the run with $n events did not echo them all" >&2; exit 1; }
    callgrind_annotate --threshold=100 "$tmp/out.$n" >"$tmp/annotated.$n" 2>/dev/null
done

python3 - "$tmp/annotated.$n1" "$tmp/annotated.$n2" "$n1" "$n2" "$top" <<'PY'
import re, sys
a1, a2, n1, n2, top = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
line = re.compile(r"^\s*([\d,]+)\s+\([^)]*\)\s+(.*?)\s+\[(.*)\]\s*$")
def read(path):
    total, funcs, objs = 0, {}, {}
    for text in open(path, encoding="utf-8", errors="replace"):
        if "PROGRAM TOTALS" in text:
            total = int(text.split()[0].replace(",", ""))
            continue
        m = line.match(text)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        fn = m.group(2).split(":", 1)[-1] if ":" in m.group(2) else m.group(2)
        obj = m.group(3).rsplit("/", 1)[-1]
        funcs[fn] = funcs.get(fn, 0) + ir
        objs[obj] = objs.get(obj, 0) + ir
    return total, funcs, objs
t1, f1, o1 = read(a1)
t2, f2, o2 = read(a2)
d = n2 - n1
per = lambda x2, x1: (x2 - x1) / d
print(f"instructions per echoed event, core (Rust) over an in-memory transport: {per(t2, t1):,.0f}")
print("by object file:")
for obj in sorted(o2, key=lambda o: -(o2[o] - o1.get(o, 0))):
    v = per(o2[obj], o1.get(obj, 0))
    if v >= 1:
        label = "Rust (socketio-core)" if obj.startswith("instructions-") else obj
        print(f"  {label}: {v:,.0f}")
print(f"top {top} functions (self, per event):")
for fn in sorted(f2, key=lambda f: -(f2[f] - f1.get(f, 0)))[:top]:
    print(f"  {per(f2[fn], f1.get(fn, 0)):>8,.0f}  {fn}")
PY
