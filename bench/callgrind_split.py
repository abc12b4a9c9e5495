#!/usr/bin/env python3
"""Splits the instructions of a callgrind profile of a Godot bench process by part (scripts/bench.sh, workload I).

Usage: bench/callgrind_split.py CALLGRIND_OUT

Prints one JSON object: {"total", "rust", "godot_for_plugin", "libs_for_plugin", "rest"}, in instructions:
- rust: the plugin's own code, the instructions executed in libsocketio_godot.so (socketio-core, the gdext bindings,
  the Rust standard library linked into it);
- godot_for_plugin: what the plugin's calls into Godot cost, everything under them included (building Variants,
  bytes_to_var / var_to_bytes, emitting a signal and the GDScript handler it runs, Callable calls, Godot's malloc);
- libs_for_plugin: what the plugin's calls into other libraries cost (the C library: malloc, free, memcpy; no
  system calls: valgrind does not count the kernel);
- rest: everything else, what the process runs whichever client it holds: Godot's frames (the main loop, the
  SceneTree), the GDScript bench driver, and its calls into the plugin up to the plugin's own code.
A client without the plugin (the WebSocketPeer floor) has only total and rest.

The object of a function is where callgrind saw it defined (`ob=` before `fn=`); the main executable, which Debian
ships stripped and runs through its own dynamic loader, shows as `???`. The cost of a call (`calls=` then a cost
line) is its inclusive cost. Standard library only.
"""

import json
import re
import sys

PLUGIN = "libsocketio_godot"
SPEC = re.compile(r"^(ob|fl|fi|fe|fn|cob|cfi|cfl|cfn)=\((\d+)\)(?: (.*))?$")


def split(path):
    ob_names = {}  # id -> object path
    fn_ob = {}  # function id -> object id
    self_cost = {}  # object id -> instructions
    edges = []  # (caller object id, callee function id, callee object hint or None, inclusive cost)
    cur_ob = cur_fn = None
    call_ob = call_fn = None
    pending_call = False
    total = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line or line[0] == "\n":
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                cost = int(parts[1]) if len(parts) > 1 else 0
                if pending_call:
                    edges.append((cur_ob, call_fn, call_ob, cost))
                    pending_call = False
                    call_ob = call_fn = None
                else:
                    self_cost[cur_ob] = self_cost.get(cur_ob, 0) + cost
                continue
            if line.startswith("calls="):
                pending_call = True
                continue
            if line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
                continue
            m = SPEC.match(line.rstrip("\n"))
            if not m:
                continue
            kind, ident, name = m.group(1), int(m.group(2)), m.group(3)
            if kind in ("ob", "cob") and name is not None:
                ob_names[ident] = name
            if kind == "ob":
                cur_ob = ident
            elif kind == "fn":
                cur_fn = ident
                fn_ob.setdefault(cur_fn, cur_ob)
            elif kind == "cob":
                call_ob = ident
            elif kind == "cfn":
                call_fn = ident
    summed = sum(self_cost.values())
    total = summed if total is None else total

    def is_plugin(ob):
        return PLUGIN in ob_names.get(ob, "")

    def is_godot(ob):
        name = ob_names.get(ob, "???")
        return name == "???" or name.endswith("/godot") or "/godot." in name

    plugin_obs = {ob for ob in ob_names if is_plugin(ob)}
    out = {"total": total}
    if plugin_obs:
        rust = sum(v for ob, v in self_cost.items() if ob in plugin_obs)
        godot = libs = 0
        for caller, callee_fn, hint, cost in edges:
            if caller not in plugin_obs:
                continue
            callee = fn_ob.get(callee_fn, hint if hint is not None else caller)
            if callee in plugin_obs:
                continue
            if is_godot(callee):
                godot += cost
            else:
                libs += cost
        out.update(rust=rust, godot_for_plugin=godot, libs_for_plugin=libs)
        out["rest"] = total - rust - godot - libs
    else:
        out["rest"] = total
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(json.dumps(split(sys.argv[1])))
