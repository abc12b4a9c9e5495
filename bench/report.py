#!/usr/bin/env python3
"""Turns the RESULT lines of scripts/bench.sh into the benchmark report.

Usage: bench/report.py RESULTS.jsonl [--runs N] [--out FILE]

RESULTS.jsonl holds one JSON object per line: the `RESULT {json}` lines of the bench processes
({"client", "workload", "run", <figure keys>...}), plus records written by scripts/bench.sh itself:
{"client", "workload", "error"} (nothing measured) and {"client", "workload": "-", "info": {key: text}}.
A figure of a record may instead come as "<key>_error" (that figure failed) and a record as {"na": why}.

Prints (and writes to --out) a Markdown table, one row per client and one column per figure, each cell the median
over the runs with the min-max range, or "n/a [k]" with reason k listed below it; then one line per ratio, exactly
`ratio <figure> <client>/<client> = <value>` (value with 2 decimals, or n/a) so that scripts can read them.
Standard library only.
"""

import argparse
import json
import os
import statistics
import sys

CLIENTS = ["plugin", "plugin-baseline", "websocketpeer", "websocketpeer-json", "node-client", "plugin-polling",
           "node-client-polling", "plugin-upgrade", "node-client-upgrade", "empty-godot"]
CLIENT_LABELS = {
    "plugin": "plugin (this addon)",
    "plugin-baseline": "plugin at BENCH_BASELINE (before)",
    "websocketpeer": "WebSocketPeer + GDScript (floor)",
    "websocketpeer-json": "WebSocketPeer + GDScript, JSON.stringify / JSON.parse_string (realistic floor)",
    "node-client": "socket.io-client (Node)",
    "plugin-polling": "plugin, polling only",
    "node-client-polling": "socket.io-client (Node), polling only",
    "plugin-upgrade": "plugin, polling → WebSocket",
    "node-client-upgrade": "socket.io-client (Node), polling → WebSocket",
    "empty-godot": "empty Godot process",
}
# The transport variants (transports ["polling"] and ["polling", "websocket"]) of a client.
TRANSPORT_VARIANTS = {"plugin": ["plugin-polling", "plugin-upgrade"],
                      "node-client": ["node-client-polling", "node-client-upgrade"]}

# (key, header)
COLUMNS = [
    ("A_events_per_s", "A events/s"),
    ("A_net_us_per_event", "A net µs/event"),
    ("A_cpu_us_per_event", "A CPU µs/event"),
    ("B_ack_p50", "B ack p50 µs"),
    ("B_ack_p99", "B ack p99 µs"),
    ("C_binary_mibs", "C MiB/s"),
    ("D_connect_ms", "D connect ms"),
    ("E_idle_poll_us_1ns", "E idle poll µs, 1 ns"),
    ("E_idle_poll_us_10ns", "E idle poll µs, 10 ns"),
    ("F_worst_poll_connect_ms", "F worst poll ms, connect"),
    ("F_worst_poll_reconnect_ms", "F worst poll ms, reconnect"),
    ("F_worst_poll_5mib_ms", "F worst poll ms, 5 MiB in"),
    ("F_ints_worst_poll_ms", "F ints: worst poll ms"),
    ("F_ints_peak_rss_mib", "F ints: peak RSS MiB"),
    ("F_objects_worst_poll_ms", "F objects: worst poll ms"),
    ("F_objects_peak_rss_mib", "F objects: peak RSS MiB"),
    ("F_string_worst_poll_ms", "F string: worst poll ms"),
    ("F_string_peak_rss_mib", "F string: peak RSS MiB"),
    ("F_binary_worst_poll_ms", "F binary: worst poll ms"),
    ("F_binary_peak_rss_mib", "F binary: peak RSS MiB"),
    ("G_rss_mib", "G RSS MiB"),
    ("H_idle_node_us_per_frame", "H idle node µs/frame"),
]

# Workload I (instructions, scripts/bench.sh's run_instructions): its own table, per event of A and per ack of B.
I_CLIENTS = ["plugin", "plugin-baseline", "websocketpeer", "websocketpeer-json"]
I_PARTS = [("total", "instructions"), ("rust", "plugin's Rust"), ("godot_for_plugin", "Godot called by the plugin"),
           ("libs_for_plugin", "C library called by the plugin"), ("rest", "the rest: Godot's frames, GDScript"),
           ("syscalls", "system calls")]
I_COLUMNS = [(f"I_{w}_{part}", f"{w}: {label}") for w in "AB" for part, label in I_PARTS]
I_NOT_APPLICABLE = {c: {f"I_{w}_{part}" for w in "AB" for part in ("rust", "godot_for_plugin", "libs_for_plugin")}
                    for c in ("websocketpeer", "websocketpeer-json")}
I_RATIOS = [("I_A_total", "plugin", "websocketpeer"), ("I_A_total", "plugin", "websocketpeer-json"),
            ("I_B_total", "plugin", "websocketpeer"), ("I_B_total", "plugin", "websocketpeer-json")]

# Workload M (multiplayer, scripts/bench.sh's run_multiplayer): its own table, one row per peer.
MP_CLIENTS = ["mp-direct", "mp-relay", "mp-relay-node"]
MP_LABELS = {
    "mp-direct": "WebSocketMultiplayerPeer, host listening (direct)",
    "mp-relay": "SocketIOMultiplayerPeer through the relay",
    "mp-relay-node": "socket.io-client (Node) host and client through the relay: its own floor",
}
MP_COLUMNS = [
    ("M_rtt_p50_us", "@rpc round trip p50 µs"),
    ("M_rtt_p99_us", "@rpc round trip p99 µs"),
    ("M_updates_per_s", "unreliable updates delivered/s, 3 peers at 60 fps (best step)"),
    ("M_host_cpu_pct", "host CPU % (best step)"),
    ("M_relay_cpu_pct", "relay CPU % (best step)"),
    ("M_relay_cpu_us_per_packet", "relay CPU µs/packet in (best step)"),
    ("M_flood_updates_per_s", "flood: delivered/s"),
    ("M_flood_delivered_fraction", "flood: share delivered"),
]
MP_NOT_APPLICABLE = {"mp-direct": {"M_relay_cpu_pct", "M_relay_cpu_us_per_packet"}}
# The Node floor measures the round trip only.
MP_NOT_APPLICABLE["mp-relay-node"] = {key for key, _ in MP_COLUMNS if not key.startswith("M_rtt_")}
# (figure, client, reference, bound, "at most" | "at least"): the targets for the relay against the direct
# peer, printed as `target <figure> mp-relay/mp-direct = <ratio> (at most 2: met)`.
MP_TARGETS = [("M_rtt_p50_us", "mp-relay", "mp-direct", 2.0, "at most"),
              ("M_updates_per_s", "mp-relay", "mp-direct", 0.5, "at least")]

# Workload F's large-message shapes: measured for the plugin only.
SHAPE_KEYS = {key for key, _ in COLUMNS if key.startswith("F_") and key.split("_")[1] in
              ("ints", "objects", "string", "binary")}

# Figures that do not apply to a client ("—" in the table).
NOT_APPLICABLE = {
    "node-client": {"A_net_us_per_event", "E_idle_poll_us_1ns", "E_idle_poll_us_10ns", "F_worst_poll_connect_ms",
                    "F_worst_poll_reconnect_ms", "F_worst_poll_5mib_ms"} | SHAPE_KEYS,
    "websocketpeer": SHAPE_KEYS,
    "websocketpeer-json": SHAPE_KEYS,
    "empty-godot": {key for key, _ in COLUMNS if key != "G_rss_mib"},
}
# The transport variants run A to E (scripts/bench.sh does not run F for them).
for _base, _variants in TRANSPORT_VARIANTS.items():
    for _variant in _variants:
        NOT_APPLICABLE[_variant] = NOT_APPLICABLE.get(_base, set()) | {key for key, _ in COLUMNS
                                                                          if key.startswith("F_")}
# H (idle SocketIOConnection nodes) is the plugin's node class: the plugin's rows only.
for _client in CLIENTS:
    if _client not in ("plugin", "plugin-baseline"):
        NOT_APPLICABLE.setdefault(_client, set()).add("H_idle_node_us_per_frame")

RATIOS = [
    ("A_events_per_s", "plugin", "node-client"),
    ("A_cpu_us_per_event", "plugin", "node-client"),
    ("A_cpu_us_per_event", "plugin", "websocketpeer"),
    ("A_cpu_us_per_event", "plugin", "websocketpeer-json"),
    ("B_ack_p50", "plugin", "websocketpeer"),
    ("B_ack_p50", "plugin", "websocketpeer-json"),
    ("C_binary_mibs", "plugin", "websocketpeer"),
    ("D_connect_ms", "plugin", "websocketpeer"),
]
# Each transport variant of the plugin against socket.io-client with the same transports; printed when either ran.
TRANSPORT_RATIOS = [(key, plugin, node)
                    for plugin, node in zip(TRANSPORT_VARIANTS["plugin"], TRANSPORT_VARIANTS["node-client"])
                    for key in ("A_events_per_s", "A_cpu_us_per_event", "B_ack_p50", "C_binary_mibs",
                                "D_connect_ms")]
# Absolute targets of a figure (at most), printed as `target <figure> <client> = <value> (at most <limit>: met)`.
TARGETS = [("H_idle_node_us_per_frame", "plugin", 2.0)]
# With BENCH_BASELINE: every figure of the plugin against the same figure of the baseline build, in the same run.
BASELINE_RATIOS = [(key, "plugin", "plugin-baseline") for key, _ in COLUMNS]


def workload_of(key):
    # G (resident memory) is measured right after A, in the same process; I_A_... and I_B_... are workload I's.
    return "A" if key.startswith("G_") else key[0]


def applies(record, key):
    """Whether a failure record of workload F concerns `key`: a shape's records concern its own columns only."""
    shape = record.get("shape")
    if key in SHAPE_KEYS:
        return shape is None or key.split("_")[1] == shape
    return shape is None


def fmt(value):
    a = abs(value)
    if a >= 1000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def load(path):
    records = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"report: {path}:{n}: not JSON ({e}): {line[:120]}", file=sys.stderr)
                continue
            if isinstance(rec, dict):
                records.append(rec)
    return records


def number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v  # not NaN


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--runs", type=int, default=3, help="measured runs asked for (marks cells with fewer)")
    ap.add_argument("--out", help="also write the report to this file")
    args = ap.parse_args()

    records = load(args.results)
    clients = [c for c in CLIENTS if any(r.get("client") == c for r in records)]
    clients += sorted({r.get("client") for r in records if r.get("client") not in CLIENTS + MP_CLIENTS
                       and r.get("client") != "-" and r.get("workload") != "-"} - {None})
    mp_clients = [c for c in MP_CLIENTS if any(r.get("client") == c for r in records)]

    infos = {}
    for r in records:
        if isinstance(r.get("info"), dict):
            for k, v in r["info"].items():
                infos.setdefault(r.get("client", "-"), {})[k] = v

    reasons = []  # footnotes

    here = os.getcwd().rstrip("/") + "/"

    def footnote(text):
        text = " ".join(str(text).split()).replace(here, "")
        if text not in reasons:
            reasons.append(text)
        return reasons.index(text) + 1

    ran = {r.get("workload") for r in records}
    medians = {}

    def ratio(key, a, b):
        """Client a's median of figure `key` over client b's, or None when either is missing (or b's is 0)."""
        x, y = medians.get((a, key)), medians.get((b, key))
        return x / y if x is not None and y else None

    def ratio_line(key, a, b):
        r = ratio(key, a, b)
        return f"ratio {key} {a}/{b} = {'n/a' if r is None else f'{r:.2f}'}"

    def section(title, clients, columns, not_applicable, labels, runs=None):
        """A table of its own under what `lines` holds: a blank line, the title, a blank line, the table, a blank."""
        if lines:
            lines.append("")
        lines.extend([title, ""])
        lines.extend(table(clients, columns, not_applicable, labels, runs))
        lines.append("")

    def table(clients, columns, not_applicable, labels, runs=None):
        rows = []
        for client in clients:
            rows.append((labels.get(client, client), row(client, columns, not_applicable, runs or args.runs)))
        lines = ["| client | " + " | ".join(h for _, h in columns) + " |", "|---|" + "---:|" * len(columns)]
        for label, cells in rows:
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        return lines

    def row(client, columns, not_applicable, runs):
        cells = []
        mine = [r for r in records if r.get("client") == client and "info" not in r]
        for key, _ in columns:
            workload = workload_of(key)
            if key in not_applicable.get(client, ()):
                cells.append("—")
                continue
            # Why this figure is missing (or missing from some runs).
            why = None
            for r in mine:
                if r.get(key + "_error"):
                    why = f"{client}, {key}: {r[key + '_error']}"
                    break
            if why is None:
                for r in mine:
                    if r.get("workload") == workload and applies(r, key) and (r.get("error") or r.get("na")):
                        why = f"{client}, workload {workload}: {r.get('error') or r.get('na')}"
                        break
            values = [float(r[key]) for r in mine if number(r.get(key))]
            if values:
                med = statistics.median(values)
                medians[(client, key)] = med
                cell = fmt(med)
                if len(values) > 1:
                    cell += f" ({fmt(min(values))}–{fmt(max(values))})"
                if len(values) < runs:
                    cell += f" [{len(values)} of {runs} runs" + (f"; {footnote(why)}]" if why else "]")
                cells.append(cell)
            elif why is not None:
                cells.append(f"n/a [{footnote(why)}]")
            elif workload not in ran:
                cells.append("not run")
            else:
                cells.append(f"n/a [{footnote(f'{client}, {key}: no result (see the logs)')}]")
        return cells

    # Only M or I ran: no main table.
    main_ran = bool(ran - {"M", "I", "-", None})
    lines = table(clients, COLUMNS, NOT_APPLICABLE, CLIENT_LABELS) if clients and main_ran else []
    if lines:
        lines.append("")
    for key, a, b in RATIOS if lines else []:
        lines.append(ratio_line(key, a, b))
    for key, a, b in TRANSPORT_RATIOS:
        if a in clients or b in clients:
            lines.append(ratio_line(key, a, b))
    for key, client, limit in TARGETS:
        if client in clients and (client, key) in medians:
            value = medians[(client, key)]
            verdict = "met" if value <= limit else "NOT met"
            lines.append(f"target {key} {client} = {value:.2f} (at most {limit:g}: {verdict})")
    if "plugin-baseline" in clients:
        lines.append("")
        for key, a, b in BASELINE_RATIOS:
            r = ratio(key, a, b)
            if r is not None:
                lines.append(f"ratio {key} {a}/{b} = {r:.2f}")

    i_clients = [c for c in I_CLIENTS if any(r.get("client") == c and r.get("workload") == "I" for r in records)]
    if i_clients:
        # One pair of runs per client (the counts barely move from one run to the next).
        section("Instructions (I), under callgrind: per echoed event of A and per ack of B, by part, and the system "
                "calls per event of a native run (perf stat):", i_clients, I_COLUMNS, I_NOT_APPLICABLE, CLIENT_LABELS,
                runs=1)
        for key, a, b in I_RATIOS:
            if a in i_clients and b in i_clients:
                lines.append(ratio_line(key, a, b))

    if mp_clients:
        section("Multiplayer (M): Godot's @rpc between three processes (a host and two clients), the same scene "
                "over both peers:", mp_clients, MP_COLUMNS, MP_NOT_APPLICABLE, MP_LABELS)
        for key, a, b, bound, kind in MP_TARGETS:
            r = ratio(key, a, b)
            if r is None:
                lines.append(f"target {key} {a}/{b} = n/a ({kind} {bound:g})")
                continue
            met = r <= bound if kind == "at most" else r >= bound
            lines.append(f"target {key} {a}/{b} = {r:.2f} ({kind} {bound:g}: {'met' if met else 'NOT met'})")

    notes = ["", "Cells: median over the runs (min–max). —: does not apply to that client. n/a [k]: failed, reason k below."]
    if reasons:
        notes.append("")
        notes.append("n/a reasons:")
        for i, text in enumerate(reasons, 1):
            notes.append(f"- [{i}] {text}")
    extra = []
    # The transport each transport variant ended its runs on ("transport" of the RESULT lines), and the median
    # time from the connect call to the upgrade (D's upgrade_ms).
    for client in clients:
        if not any(client in v for v in TRANSPORT_VARIANTS.values()):
            continue
        mine = [r for r in records if r.get("client") == client and isinstance(r.get("transport"), str)]
        seen = {}
        for r in mine:
            seen.setdefault(r["transport"], set()).add(str(r.get("workload")))
        if seen:
            text = "; ".join(f"{t} ({', '.join(sorted(w))})" for t, w in sorted(seen.items()))
            extra.append(f"- {client}, transport at the end of the runs: {text}")
        ups = [float(r["upgrade_ms"]) for r in records if r.get("client") == client and number(r.get("upgrade_ms"))]
        if ups:
            extra.append(f"- {client}, D connect call → upgraded to WebSocket, ms: {fmt(statistics.median(ups))} "
                         f"({fmt(min(ups))}–{fmt(max(ups))})")
    for client, facts in infos.items():
        for k, v in facts.items():
            v = str(v).replace(here, "")
            extra.append(f"- {k}: {v}" if client == "-" else f"- {client}, {k}: {v}")
    if extra:
        notes.append("")
        notes.append("Run:")
        notes.extend(extra)
    notes.append("")
    notes.append("Godot clients ran headless with uncapped frames (OS.low_processor_usage_mode = false, "
                 "OS.low_processor_usage_mode_sleep_usec = 0, Engine.max_fps = 0) in A-E, one poll() per frame; "
                 "F ran at the frame rate noted above. Method and caveats: bench/README.md.")

    text = "\n".join(lines + notes) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
