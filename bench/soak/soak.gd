extends Node
## Soak driver of scripts/soak.sh, through the plugin's GDScript API only (SocketIOClient.get_singleton(),
## connect_to_url, poll, get_namespace("/"), on, emit, close, the client's signals).
##
## Phase "echo": connect, warm up (10,000 echoes), read RSS, then 1,000,000 echoes of
## {"seq": i, "x": 1.5, "name": "player"} with up to 200 in flight, each checked on return (seq in order, payload
## intact); RSS sampled every 50,000 echoes (peak) and read after; close.
## Phase "connect_close": 10 unmeasured warm-up cycles, RSS, then 1,000 cycles of connect_to_url -> connected ->
## one echo back -> close() -> disconnected("io client disconnect"); RSS sampled every 100 cycles and read after.
##
## Arguments (user args after `--`): --mode=soak|none (none: print the NOTE line and quit; used to import),
## --url=ws://127.0.0.1:PORT, --events=N, --cycles=N, --warmup=N, --window=N, --idle-sleep-usec=N (default 100).
## Output: `RESULT {json}` per phase; quits 0 when every check passed, 1 otherwise. RSS is VmRSS of
## /proc/self/status, in MiB. Frames are uncapped; one poll() per frame; a frame whose poll() brought no echo sleeps
## idle_sleep_usec before the next.

const MIB := 1048576.0
const STALL_S := 30.0

var client: SocketIOClient
var ns: SocketIONamespace
var url := ""
## A frame whose poll() brought no echo sleeps this long (as an event loop would block in epoll) so that spinning
## frames do not take the CPU from the server on a small machine; 0 = spin. As in scripts/bench.sh's workload A.
var idle_sleep_usec := 100

# Client signal state.
var _connected := false
var _disconnected_reason := ""
var _disconnects := 0
var _last_error := ""

# Echo state.
var _next_seq := 0
var _received := 0
var _out_of_order := 0
var _bad_payload := 0
var _first_problem := ""


func _ready() -> void:
	OS.low_processor_usage_mode = false
	OS.low_processor_usage_mode_sleep_usec = 0
	Engine.max_fps = 0
	print("NOTE frames uncapped: OS.low_processor_usage_mode=%s, Engine.max_fps=%d (Godot %s)" % [
		OS.low_processor_usage_mode, Engine.max_fps, Engine.get_version_info().string])
	await get_tree().process_frame
	if _arg("mode", "soak") == "none":
		get_tree().quit(0)
		return
	url = _arg("url", "")
	var events := maxi(1, int(_arg("events", "1000000")))
	var cycles := maxi(1, int(_arg("cycles", "1000")))
	var warmup := maxi(0, int(_arg("warmup", "10000")))
	var window := maxi(1, int(_arg("window", "200")))
	idle_sleep_usec = maxi(0, int(_arg("idle-sleep-usec", "100")))

	client = SocketIOClient.get_singleton()
	client.connected.connect(_on_connected)
	client.disconnected.connect(_on_disconnected)
	client.connect_error.connect(_on_connect_error)

	var ok := true
	var r1: Dictionary = await _phase_echo(events, warmup, window)
	_result(r1)
	ok = ok and r1.get("ok", false)
	var r2: Dictionary = await _phase_cycles(cycles)
	_result(r2)
	ok = ok and r2.get("ok", false)

	client.close()
	ns = null
	client.connected.disconnect(_on_connected)
	client.disconnected.disconnect(_on_disconnected)
	client.connect_error.disconnect(_on_connect_error)
	client = null
	await get_tree().process_frame
	get_tree().quit(0 if ok else 1)


# ---- helpers -----------------------------------------------------------------------------------------------------

func _arg(name: String, fallback: String) -> String:
	var prefix := "--%s=" % name
	for a in OS.get_cmdline_user_args():
		if a.begins_with(prefix):
			return a.substr(prefix.length())
	return fallback


func _result(fields: Dictionary) -> void:
	print("RESULT " + JSON.stringify(fields))


## VmRSS of /proc/self/status in MiB; -1 when unreadable.
func _rss_mib() -> float:
	var f := FileAccess.open("/proc/self/status", FileAccess.READ)
	if f == null:
		return -1.0
	while not f.eof_reached():
		var line := f.get_line()
		if line.begins_with("VmRSS:"):
			return float(line.substr(6).strip_edges().split(" ")[0]) / 1024.0
	return -1.0


func _frame() -> Signal:
	return get_tree().process_frame


func _on_connected(_sid: String) -> void:
	_connected = true


func _on_disconnected(reason: String) -> void:
	_connected = false
	_disconnected_reason = reason
	_disconnects += 1


func _on_connect_error(error: Dictionary) -> void:
	_last_error = "connect_error: %s" % [error]


func _problem(text: String) -> void:
	if _first_problem == "":
		_first_problem = text


## The "echo" handler (registered with on()): checks the payload and the sequence number.
func _on_echo(data: Array) -> void:
	_received += 1
	var d = data[0] if data.size() == 1 else null
	if not (d is Dictionary):
		_bad_payload += 1
		_problem("echo %d: payload %s" % [_received, var_to_str(data)])
		return
	var seq := int(d.get("seq", -1))
	if seq != _next_seq:
		_out_of_order += 1
		_problem("echo %d: seq %d, expected %d" % [_received, seq, _next_seq])
	_next_seq = seq + 1
	if d.get("x") != 1.5 or d.get("name") != "player":
		_bad_payload += 1
		_problem("echo seq %d: payload %s" % [seq, var_to_str(d)])


## Connects "/" and registers the echo handler; polls until connected. Returns "" or the reason it failed.
func _connect(timeout_s := 10.0) -> String:
	_connected = false
	_disconnected_reason = ""
	_last_error = ""
	var err := client.connect_to_url(url)
	if err != OK:
		return "connect_to_url returned %s" % error_string(err)
	ns = client.get_namespace("/")
	if ns == null:
		return "get_namespace(\"/\") returned null after connect_to_url"
	ns.on("echo", _on_echo)
	var deadline := Time.get_ticks_usec() + int(timeout_s * 1e6)
	while not _connected:
		if Time.get_ticks_usec() > deadline:
			return "not connected within %.0f s (%s)" % [timeout_s, _last_error]
		await _frame()
		client.poll()
	return ""


## close() and wait for disconnected; returns "" or the reason it failed.
func _close(timeout_s := 10.0) -> String:
	_disconnected_reason = ""
	client.close()
	ns = null
	var deadline := Time.get_ticks_usec() + int(timeout_s * 1e6)
	while _disconnected_reason == "":
		if Time.get_ticks_usec() > deadline:
			return "no disconnected signal within %.0f s of close()" % timeout_s
		await _frame()
		client.poll()
	if _disconnected_reason != "io client disconnect":
		return "disconnected(\"%s\") after close(), expected \"io client disconnect\"" % _disconnected_reason
	return ""


## Echoes n events with seq first_seq.. (up to `window` in flight); returns "" or the reason it stopped.
## `on_sample` is called every `sample_every` echoes.
func _echoes(n: int, window: int, sample_every := 0, on_sample := Callable()) -> String:
	var first := _next_seq
	var target := _received + n
	var sent := 0
	var seq := first
	var next_sample := _received + sample_every
	var last_progress := Time.get_ticks_usec()
	var last_received := _received
	while _received < target:
		client.poll()
		if _disconnected_reason != "":
			return "disconnected(\"%s\") after %d echoes" % [_disconnected_reason, _received - (target - n)]
		var in_flight := sent - (_received - (target - n))
		while sent < n and in_flight < window:
			ns.emit("echo", [{"seq": seq, "x": 1.5, "name": "player"}])
			seq += 1
			sent += 1
			in_flight += 1
		if sample_every > 0 and _received >= next_sample:
			on_sample.call()
			next_sample += sample_every
		var now := Time.get_ticks_usec()
		if _received != last_received:
			last_received = _received
			last_progress = now
		else:
			if now - last_progress > int(STALL_S * 1e6):
				return "stalled: %d of %d echoes back, none for %.0f s (%s)" % [
					_received - (target - n), n, STALL_S, _last_error]
			if idle_sleep_usec > 0:
				OS.delay_usec(idle_sleep_usec)
		await _frame()
	return ""


# ---- phase 1: echoes ---------------------------------------------------------------------------------------------

var _peak := 0.0


func _sample_peak() -> void:
	_peak = maxf(_peak, _rss_mib())


func _phase_echo(events: int, warmup: int, window: int) -> Dictionary:
	var out := {"phase": "echo", "count": events, "window": window, "warmup": warmup}
	var why := await _connect()
	if why != "":
		out.merge({"ok": false, "error": why, "received": 0, "lost": events})
		return out
	_next_seq = 0
	_received = 0
	if warmup > 0:
		why = await _echoes(warmup, window)
		if why != "":
			out.merge({"ok": false, "error": "warm-up: " + why, "received": 0, "lost": events})
			return out
	# The measured part: counters restart at 0.
	_next_seq = 0
	_received = 0
	_out_of_order = 0
	_bad_payload = 0
	_first_problem = ""
	var before := _rss_mib()
	_peak = before
	var t0 := Time.get_ticks_usec()
	why = await _echoes(events, window, 50000, _sample_peak)
	var elapsed := (Time.get_ticks_usec() - t0) / 1e6
	var received := _received
	var after := _rss_mib()
	_peak = maxf(_peak, after)
	var close_why := await _close()
	var ok := why == "" and close_why == "" and received == events and _out_of_order == 0 and _bad_payload == 0
	out.merge({
		"ok": ok,
		"received": received,
		"lost": events - received,
		"last_seq": _next_seq - 1,
		"out_of_order": _out_of_order,
		"bad_payload": _bad_payload,
		"duration_s": elapsed,
		"events_per_s": received / elapsed if elapsed > 0 else 0.0,
		"idle_sleep_usec": idle_sleep_usec,
		"rss_before_mib": before,
		"rss_after_mib": after,
		"rss_peak_mib": _peak,
		"growth_mib": after - before,
	})
	var problems: Array[String] = []
	for p in [why, close_why, _first_problem]:
		if p != "":
			problems.append(p)
	if not problems.is_empty():
		out["error"] = "; ".join(problems)
	return out


# ---- phase 2: connect/close cycles -------------------------------------------------------------------------------

## One cycle: connect_to_url -> connected -> one echo -> close() -> disconnected("io client disconnect").
func _cycle(c: int) -> String:
	var why := await _connect()
	if why != "":
		return why
	_next_seq = c
	var r0 := _received
	why = await _echoes(1, 1)
	if why != "":
		client.close()
		ns = null
		return why
	if _received != r0 + 1 or _next_seq != c + 1 or _first_problem != "":
		client.close()
		ns = null
		return "echo: %s" % _first_problem
	return await _close()


func _phase_cycles(cycles: int) -> Dictionary:
	var out := {"phase": "connect_close", "count": cycles, "warmup": 10}
	_received = 0
	_first_problem = ""
	for c in 10:
		var why: String = await _cycle(-1 - c)
		if why != "":
			out.merge({"ok": false, "error": "warm-up cycle %d: %s" % [c + 1, why], "completed": 0, "failed": cycles})
			return out
	_received = 0
	_out_of_order = 0
	_bad_payload = 0
	_first_problem = ""
	_disconnects = 0
	var before := _rss_mib()
	var peak := before
	var completed := 0
	var failed := 0
	var first_failure := ""
	var t0 := Time.get_ticks_usec()
	for c in cycles:
		var why: String = await _cycle(c)
		if why == "":
			completed += 1
		else:
			failed += 1
			if first_failure == "":
				first_failure = "cycle %d: %s" % [c + 1, why]
			_first_problem = ""
			if failed >= 10:
				first_failure += " (stopped after 10 failed cycles)"
				break
		if (c + 1) % 100 == 0:
			peak = maxf(peak, _rss_mib())
	var elapsed := (Time.get_ticks_usec() - t0) / 1e6
	var after := _rss_mib()
	peak = maxf(peak, after)
	out.merge({
		"ok": completed == cycles and failed == 0,
		"completed": completed,
		"failed": cycles - completed,
		"echoes_back": _received,
		"disconnects": _disconnects,
		"duration_s": elapsed,
		"cycles_per_s": completed / elapsed if elapsed > 0 else 0.0,
		"rss_before_mib": before,
		"rss_after_mib": after,
		"rss_peak_mib": peak,
		"growth_mib": after - before,
	})
	if first_failure != "":
		out["error"] = first_failure
	return out
