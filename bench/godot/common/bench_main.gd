extends Node
## Benchmark driver shared by the Godot bench projects (bench/godot/plugin and bench/godot/websocketpeer; scripts/
## bench.sh copies this file into each as res://common/bench_main.gd). The client under test is res://adapter.gd,
## the one file that differs between the projects: the same workload code drives both clients.
##
## Arguments (user args after `--`, or environment variables):
##   --workload=A|B|C|D|E|F|none   (BENCH_WORKLOAD)   none: start, print the NOTE line, quit (used to import)
##   --url=ws://127.0.0.1:PORT      (BENCH_URL)
##   --runs=N                       (BENCH_RUNS, default 3)
##   --scale=F                      (BENCH_SCALE, default 1: multiplies the event / round-trip / connect counts)
##   --clk-tck=N                    (BENCH_CLK_TCK, default 100: the kernel's clock ticks per second)
##   --idle-sleep-usec=N            (BENCH_IDLE_SLEEP_USEC, default 100: see idle_sleep_usec; 0 = spin)
##   --f-fps=N                      (BENCH_F_FPS, default 60: Engine.max_fps during F; 0 = uncapped)
##   --f-shape=ints|objects|string|binary  (BENCH_F_SHAPE) F only: instead of the usual F figures, the worst poll()
##                                  and peak resident memory while one large message of that shape arrives
##   --f-shape-bytes=N              (BENCH_F_SHAPE_BYTES, default 16 MiB times --scale: that message's size)
##   --transports=polling[,websocket]  (BENCH_TRANSPORTS, default "": the adapter's default) the transports list,
##                                  for adapters that have set_transports() (the plugin's: SocketIOClient.transports);
##                                  when it starts with polling and has websocket, every connection waits for the
##                                  upgrade (5 s at most) before it is measured; D also records the time to it
##   --hold=PATH                    (BENCH_HOLD, default "": no holds) for a profiler that counts one part of the
##                                  process (scripts/bench.sh, workload I): A and B, after the connect and the
##                                  warm-up (other workloads: before the connect), print `NOTE hold start` and wait
##                                  while PATH exists; after the last run, create PATH, print `NOTE hold end` and
##                                  wait again while PATH exists
## Output: one line `RESULT {json}` per measured run, keys named like the table's columns; a failed run prints
## `RESULT {"error": ...}` (or `<key>_error` for one figure), and the process quits with 0 either way.
##
## Timing: every workload runs with uncapped frames (OS.low_processor_usage_mode = false,
## OS.low_processor_usage_mode_sleep_usec = 0, Engine.max_fps = 0), except F (worst poll: 60 fps by default), one
## poll() per frame, as a game would call it in _process(). "net" time is Time.get_ticks_usec() around the networking calls only (poll(), which dispatches to
## the handlers, and the emits). Process CPU time (all threads) is read before and after the measured part from
## /proc/self/task/*/schedstat (ns), or utime + stime of /proc/self/stat (clock ticks). Resident memory is VmRSS of
## /proc/self/status.

const Args := preload("res://common/args.gd")

const MIB := 1048576

var adapter
var poller: Object
var url := ""
var runs := 3
var scale := 1.0
var clk_tck := 100
var client_name := "?"
var workload := ""
## A only: a frame whose poll() brought no echo (all `window` events in flight) sleeps this long (OS.delay_usec)
## before the next frame, as an event loop would block in epoll; 0 = spin. Outside the net timing.
var idle_sleep_usec := 100
## --hold's file ("": no holds).
var hold_path := ""

# Ack state (B).
var _ack_value = null
var _ack_usec := 0


func _ready() -> void:
	OS.low_processor_usage_mode = false
	OS.low_processor_usage_mode_sleep_usec = 0
	Engine.max_fps = 0
	workload = Args.value("workload", "")
	url = Args.value("url", "")
	runs = maxi(1, int(Args.value("runs", "3")))
	scale = maxf(0.0001, float(Args.value("scale", "1")))
	clk_tck = maxi(1, int(Args.value("clk-tck", "100")))
	idle_sleep_usec = maxi(0, int(Args.value("idle-sleep-usec", "100")))
	print("NOTE frames uncapped: OS.low_processor_usage_mode=%s, OS.low_processor_usage_mode_sleep_usec=%d, Engine.max_fps=%d (Godot %s)" % [
		OS.low_processor_usage_mode, OS.low_processor_usage_mode_sleep_usec, Engine.max_fps,
		Engine.get_version_info().string])
	await get_tree().process_frame
	var script = load("res://adapter.gd")
	if script == null or not script.can_instantiate():
		client_name = ProjectSettings.get_setting("application/config/name", "?")
		_result({"error": "res://adapter.gd does not load (is the extension installed?)"})
		get_tree().quit(0)
		return
	adapter = script.new()
	# bench.sh names the client (a baseline build runs the plugin's adapter under another name).
	client_name = Args.value("client-name", adapter.NAME)
	poller = adapter.poller()
	var transports := Args.value("transports", "")
	if transports != "" and workload != "none":
		var why := "this client has no transports setting"
		if adapter.has_method("set_transports"):
			why = adapter.set_transports(PackedStringArray(transports.split(",", false)))
		if why != "":
			_result({"error": "--transports=%s: %s" % [transports, why]})
			get_tree().quit(0)
			return
	hold_path = Args.value("hold", "")
	var hold_here := hold_path != "" and not workload in ["none", "A", "B"]
	if hold_here:
		await _hold("start")
	match workload:
		"none":
			pass
		"A":
			await _workload_a()
		"B":
			await _workload_b()
		"C":
			await _workload_c()
		"D":
			await _workload_d()
		"E":
			await _workload_e()
		"F":
			await _workload_f()
		"H":
			await _workload_h()
		_:
			_result({"error": "unknown workload '%s'" % workload})
	if hold_here:
		await _hold("end")
	adapter.close()
	adapter = null
	poller = null
	await get_tree().process_frame
	get_tree().quit(0)


# ---- helpers -----------------------------------------------------------------------------------------------------

func _scaled(n: int) -> int:
	return maxi(1, int(round(n * scale)))


func _result(fields: Dictionary) -> void:
	var out := {"client": client_name, "workload": workload}
	if adapter != null and adapter.has_method("transport_name") and not fields.has("error"):
		out["transport"] = adapter.transport_name()
	out.merge(fields)
	print("RESULT " + JSON.stringify(out))


## Process CPU time (user + system, all threads) in µs: the sum of the first field of /proc/self/task/*/schedstat
## (each thread's time on a CPU, in ns) when readable, else utime + stime of /proc/self/stat (clock ticks); -1 when
## neither is readable.
func _cpu_usec() -> int:
	var total := 0
	var read := 0
	for tid in DirAccess.get_directories_at("/proc/self/task"):
		var sf := FileAccess.open("/proc/self/task/%s/schedstat" % tid, FileAccess.READ)
		if sf != null:  # null: the thread just ended
			total += int(sf.get_line().get_slice(" ", 0))
			read += 1
	if read > 0:
		return total / 1000
	return _cpu_usec_stat()


## Process CPU time (user + system, all threads, also of threads that ended) in µs from /proc/self/stat, in clock
## ticks; -1 when unreadable.
func _cpu_usec_stat() -> int:
	var f := FileAccess.open("/proc/self/stat", FileAccess.READ)
	if f == null:
		return -1
	var line := f.get_line()
	var paren := line.rfind(")")
	if paren < 0:
		return -1
	var fields := line.substr(paren + 2).split(" ")
	# After "pid (comm) ", fields[0] is field 3 (state): utime is field 14, stime field 15.
	if fields.size() < 13:
		return -1
	return int((int(fields[11]) + int(fields[12])) * 1000000 / clk_tck)


## Resident set size in MiB (VmRSS of /proc/self/status); -1 when unreadable.
func _rss_mib() -> float:
	return _status_mib("VmRSS:")


## Peak resident set size in MiB since the start or the last _reset_peak_rss() (VmHWM); -1 when unreadable.
func _peak_rss_mib() -> float:
	return _status_mib("VmHWM:")


## Resets the peak resident set size (VmHWM) to the current one: "5" to /proc/self/clear_refs (Linux 4.0+).
## Returns whether that worked.
func _reset_peak_rss() -> bool:
	var f := FileAccess.open("/proc/self/clear_refs", FileAccess.WRITE)
	if f == null:
		return false
	f.store_string("5")
	f.close()
	return true


func _status_mib(field: String) -> float:
	var f := FileAccess.open("/proc/self/status", FileAccess.READ)
	if f == null:
		return -1.0
	while not f.eof_reached():
		var line := f.get_line()
		if line.begins_with(field):
			return float(line.substr(field.length()).strip_edges().split(" ")[0]) / 1024.0
	return -1.0


## With --hold: waits (20 ms a frame) while its file exists, 10 minutes at most; "end" first creates the file.
func _hold(what: String) -> void:
	if hold_path == "":
		return
	if what == "end":
		var f := FileAccess.open(hold_path, FileAccess.WRITE)
		if f == null:
			_result({"error": "--hold: cannot create %s" % hold_path})
			return
		f.close()
	print("NOTE hold %s" % what)
	var deadline := Time.get_ticks_msec() + 600000
	while FileAccess.file_exists(hold_path) and Time.get_ticks_msec() < deadline:
		OS.delay_msec(20)
		await _frame()


func _frame() -> Signal:
	return get_tree().process_frame


## Polls once per frame until adapter.<flag> is true or `timeout_s` passes; returns the worst poll in µs, or -1 on
## timeout.
func _poll_until(flag: String, timeout_s: float) -> int:
	var deadline := Time.get_ticks_usec() + int(timeout_s * 1e6)
	var worst := 0
	while not adapter.get(flag):
		if Time.get_ticks_usec() > deadline:
			return -1
		await _frame()
		var t := Time.get_ticks_usec()
		poller.poll()
		worst = maxi(worst, Time.get_ticks_usec() - t)
	return worst


## Connects the main namespace; returns "" or the reason it failed.
func _connect(timeout_s := 10.0) -> String:
	adapter.close()
	var err: int = adapter.start_connect(url)
	if err != OK:
		return "connect_to_url returned %s" % error_string(err)
	if await _poll_until("main_connected", timeout_s) < 0:
		return "not connected within %.0f s (%s)" % [timeout_s, adapter.last_error]
	return await _await_upgrade()


## With --transports=polling,websocket: polls until the connection has moved to WebSocket; "" or why not.
func _await_upgrade() -> String:
	if not (adapter.has_method("wants_upgrade") and adapter.wants_upgrade()):
		return ""
	if await _poll_until("upgraded", 5.0) < 0:
		return "connected over polling, not upgraded to WebSocket within 5 s (%s)" % adapter.last_error
	return ""


static func _percentile(sorted: Array, p: float):
	# Nearest rank.
	var i := clampi(int(ceil(p / 100.0 * sorted.size())) - 1, 0, sorted.size() - 1)
	return sorted[i]


static func _median(values: Array) -> float:
	var s := values.duplicate()
	s.sort()
	var n := s.size()
	if n == 0:
		return NAN
	if n % 2 == 1:
		return float(s[n / 2])
	return (s[n / 2 - 1] + s[n / 2]) / 2.0


# ---- A: throughput -----------------------------------------------------------------------------------------------

## n echoed small events, up to `window` in flight. Returns the figures, or {"error": ...}.
func _throughput(n: int, window: int) -> Dictionary:
	adapter.echoes = 0
	var sent := 0
	var net := 0
	var before := 0
	var sleeps := 0
	var deadline := Time.get_ticks_msec() + 120000
	var c0 := _cpu_usec()
	var s0 := _cpu_usec_stat()
	var t0 := Time.get_ticks_usec()
	while true:
		var t := Time.get_ticks_usec()
		poller.poll()
		var done: int = adapter.echoes
		if done >= n:
			net += Time.get_ticks_usec() - t
			break
		var before_emits := sent
		while sent < n and sent - done < window:
			adapter.emit_small()
			sent += 1
		if sent != before_emits:
			adapter.flush()
		net += Time.get_ticks_usec() - t
		if Time.get_ticks_msec() > deadline:
			return {"error": "A: %d of %d echoes after 120 s (%s)" % [adapter.echoes, n, adapter.last_error]}
		if done == before and idle_sleep_usec > 0:
			OS.delay_usec(idle_sleep_usec)
			sleeps += 1
		before = done
		await _frame()
	var elapsed := Time.get_ticks_usec() - t0
	var c1 := _cpu_usec()
	var s1 := _cpu_usec_stat()
	var out := {
		"n": n,
		"A_events_per_s": n * 1e6 / elapsed,
		"A_net_us_per_event": float(net) / n,
		"elapsed_s": elapsed / 1e6,
		"idle_sleeps": sleeps,
		"idle_sleep_usec": idle_sleep_usec,
	}
	if c0 >= 0 and c1 >= 0:
		out["A_cpu_us_per_event"] = float(c1 - c0) / n
	else:
		out["A_cpu_us_per_event_error"] = "/proc/self/task/*/schedstat and /proc/self/stat unreadable"
	if s0 >= 0 and s1 >= 0:
		out["cpu_us_per_event_proc_stat"] = float(s1 - s0) / n
	return out


func _workload_a() -> void:
	var rss_start := _rss_mib()
	var why := await _connect()
	if why != "":
		_result({"error": why})
		return
	var n := _scaled(20000)
	await _throughput(maxi(1, n / 10), 100)  # warm-up, not reported
	await _hold("start")
	for r in range(1, runs + 1):
		var res: Dictionary = await _throughput(n, 100)
		res["run"] = r
		if not res.has("error"):
			res["G_rss_mib"] = _rss_mib()
			res["rss_start_mib"] = rss_start
		_result(res)
		if res.has("error"):
			break
	await _hold("end")


# ---- B: ack latency ----------------------------------------------------------------------------------------------

func _on_ack(response: Array) -> void:
	_ack_usec = Time.get_ticks_usec()
	_ack_value = response[0] if response.size() > 0 else null


func _acks(n: int) -> Dictionary:
	var latencies: Array[int] = []
	var on_ack := _on_ack
	for i in n:
		_ack_value = null
		var t0 := Time.get_ticks_usec()
		adapter.emit_ack(i, on_ack)
		adapter.flush()
		var deadline := t0 + 10000000
		while _ack_value == null:
			await _frame()
			poller.poll()
			if _ack_value == null and Time.get_ticks_usec() > deadline:
				return {"error": "B: ack %d not answered within 10 s (%s)" % [i, adapter.last_error]}
		if typeof(_ack_value) != TYPE_INT or _ack_value != i:
			return {"error": "B: ack %d answered %s" % [i, var_to_str(_ack_value)]}
		latencies.append(_ack_usec - t0)
	latencies.sort()
	return {"n": n, "B_ack_p50": _percentile(latencies, 50), "B_ack_p99": _percentile(latencies, 99)}


func _workload_b() -> void:
	var why := await _connect()
	if why != "":
		_result({"error": why})
		return
	var n := _scaled(2000)
	await _acks(maxi(1, n / 10))
	await _hold("start")
	for r in range(1, runs + 1):
		var res: Dictionary = await _acks(n)
		res["run"] = r
		_result(res)
		if res.has("error"):
			break
	await _hold("end")


# ---- C: binary round trips ---------------------------------------------------------------------------------------

func _binary(n: int, buf: PackedByteArray) -> Dictionary:
	var c0 := _cpu_usec()
	var t0 := Time.get_ticks_usec()
	for i in n:
		adapter.echoes = 0
		adapter.emit_binary(buf)
		adapter.flush()
		var deadline := Time.get_ticks_usec() + 30000000
		while adapter.echoes == 0:
			await _frame()
			poller.poll()
			if adapter.echoes == 0 and Time.get_ticks_usec() > deadline:
				return {"error": "C: round trip %d not back within 30 s (%s)" % [i, adapter.last_error]}
		var size: int = adapter.last_binary_size()
		if size != buf.size():
			return {"error": "C: round trip %d came back with %d bytes" % [i, size]}
	var elapsed := Time.get_ticks_usec() - t0
	var mib := float(n) * buf.size() / MIB
	var out := {"n": n, "C_binary_mibs": mib / (elapsed / 1e6)}
	var c1 := _cpu_usec()
	if c0 >= 0 and c1 >= 0:
		out["cpu_us_per_mib"] = (c1 - c0) / mib
	return out


func _workload_c() -> void:
	var why := await _connect()
	if why != "":
		_result({"error": why})
		return
	var buf := PackedByteArray()
	buf.resize(MIB)
	for i in MIB:
		buf[i] = (i * 7 + 3) & 0xff
	var n := _scaled(200)
	await _binary(maxi(1, n / 20), buf)
	for r in range(1, runs + 1):
		var res: Dictionary = await _binary(n, buf)
		res["run"] = r
		_result(res)
		if res.has("error"):
			return


# ---- D: connect --------------------------------------------------------------------------------------------------

func _connects(n: int) -> Dictionary:
	var times: Array = []
	var upgrades: Array = []
	var worst_poll := 0
	var worst_call := 0
	for i in n:
		adapter.close()
		await _frame()
		var t0 := Time.get_ticks_usec()
		var err: int = adapter.start_connect(url)
		worst_call = maxi(worst_call, Time.get_ticks_usec() - t0)
		if err != OK:
			return {"error": "connect %d: connect_to_url returned %s" % [i, error_string(err)]}
		var worst: int = await _poll_until("main_connected", 10.0)
		if worst < 0:
			return {"error": "connect %d: not connected within 10 s (%s)" % [i, adapter.last_error]}
		times.append((adapter.connected_usec - t0) / 1000.0)
		worst_poll = maxi(worst_poll, worst)
		var why := await _await_upgrade()
		if why != "":
			return {"error": "connect %d: %s" % [i, why]}
		if adapter.has_method("wants_upgrade") and adapter.wants_upgrade():
			upgrades.append((adapter.upgraded_usec - t0) / 1000.0)
	times.sort()
	var out := {"n": n, "D_connect_ms": _median(times), "connect_ms_max": times[-1],
			"worst_poll_ms": worst_poll / 1000.0, "connect_call_ms_max": worst_call / 1000.0}
	if not upgrades.is_empty():
		out["upgrade_ms"] = _median(upgrades)
	return out


func _workload_d() -> void:
	var n := _scaled(20)
	await _connects(2)
	for r in range(1, runs + 1):
		var res: Dictionary = await _connects(n)
		res["run"] = r
		_result(res)
		if res.has("error"):
			return


# ---- E: idle poll() ----------------------------------------------------------------------------------------------

## µs of one idle poll(): `frames` frames, each timing a batch of `batch` consecutive poll() calls; the median over
## the frames of the batch's mean (the median keeps a preempted batch out).
func _idle_poll_us(frames: int, batch: int) -> float:
	var per_frame: Array = []
	for f in frames:
		await _frame()
		var t := Time.get_ticks_usec()
		for k in batch:
			poller.poll()
		per_frame.append(float(Time.get_ticks_usec() - t) / batch)
	return _median(per_frame)


## Polls (once per frame) for `seconds`, letting the welcome events and namespace replies arrive.
func _settle(seconds: float) -> void:
	var until := Time.get_ticks_usec() + int(seconds * 1e6)
	while Time.get_ticks_usec() < until:
		await _frame()
		poller.poll()


func _workload_e() -> void:
	var frames := maxi(10, _scaled(300))
	var batch := 100
	for r in range(1, runs + 1):
		var why := await _connect()
		if why != "":
			_result({"run": r, "error": why})
			return
		await _settle(0.2)
		var res := {"run": r, "frames": frames, "batch": batch}
		res["E_idle_poll_us_1ns"] = await _idle_poll_us(frames, batch)
		adapter.connect_namespaces(9)
		adapter.flush()
		var deadline := Time.get_ticks_usec() + 10000000
		while adapter.extra_namespaces_connected < 9:
			if Time.get_ticks_usec() > deadline:
				break
			await _frame()
			poller.poll()
		if adapter.extra_namespaces_connected < 9:
			res["E_idle_poll_us_10ns_error"] = "only %d of 9 extra namespaces connected (%s)" % [
				adapter.extra_namespaces_connected, adapter.last_error]
		else:
			await _settle(0.2)
			res["E_idle_poll_us_10ns"] = await _idle_poll_us(frames, batch)
		_result(res)


# ---- F: worst single poll() --------------------------------------------------------------------------------------

func _workload_f() -> void:
	# A game's frame rate: each poll() gets what arrived during a whole frame, and the process sleeps between frames
	# (a busy-spinning one gets preempted at random, which would show up as worst polls of a few ms).
	var fps := maxi(0, int(Args.value("f-fps", "60")))
	Engine.max_fps = fps
	print("NOTE F: Engine.max_fps=%d (%s)" % [fps, "uncapped" if fps == 0 else "frames capped, as in a game"])
	var shape := Args.value("f-shape", "")
	if shape != "":
		await _workload_f_shape(shape, fps)
		return
	var connects := maxi(2, _scaled(5))
	for r in range(1, runs + 1):
		var res := {"run": r, "fps": fps}
		# During a connect: worst poll() from connect_to_url() to connected, over a few connects.
		var d: Dictionary = await _connects(connects)
		if d.has("error"):
			res["F_worst_poll_connect_ms_error"] = d["error"]
		else:
			res["F_worst_poll_connect_ms"] = d["worst_poll_ms"]
			res["connect_call_ms_max"] = d["connect_call_ms_max"]

		# While a 5 MiB binary message arrives: worst poll() from the request until it has been dispatched.
		var why := await _connect()
		if why != "":
			res["F_worst_poll_5mib_ms_error"] = why
		else:
			await _settle(0.1)
			adapter.big_size = -1
			adapter.request_big(5 * MIB)
			adapter.flush()
			var worst := 0
			var deadline := Time.get_ticks_usec() + 30000000
			while adapter.big_size < 0 and Time.get_ticks_usec() < deadline:
				await _frame()
				var t := Time.get_ticks_usec()
				poller.poll()
				worst = maxi(worst, Time.get_ticks_usec() - t)
			if adapter.big_size != 5 * MIB:
				res["F_worst_poll_5mib_ms_error"] = "got %d bytes (%s)" % [adapter.big_size, adapter.last_error]
			else:
				res["F_worst_poll_5mib_ms"] = worst / 1000.0

		# Reconnection to a dead port (a port just released by a TCPServer): worst poll() over 1.5 s of attempts
		# made 50 ms apart.
		adapter.close()
		var probe := TCPServer.new()
		var dead_port := 0
		if probe.listen(0, "127.0.0.1") == OK:
			dead_port = probe.get_local_port()
		probe.stop()
		if dead_port == 0:
			res["F_worst_poll_reconnect_ms_error"] = "no free port found"
		else:
			adapter.attempts = 0
			var err: int = adapter.start_reconnecting("ws://127.0.0.1:%d" % dead_port, 0.05)
			if err != OK:
				res["F_worst_poll_reconnect_ms_error"] = "connect_to_url(dead port) returned %s" % error_string(err)
			else:
				var worst := 0
				var until := Time.get_ticks_usec() + 1500000
				while Time.get_ticks_usec() < until:
					await _frame()
					var t := Time.get_ticks_usec()
					poller.poll()
					worst = maxi(worst, Time.get_ticks_usec() - t)
				res["reconnect_attempts"] = adapter.attempts
				if adapter.attempts < 2:
					res["F_worst_poll_reconnect_ms_error"] = "only %d reconnection attempt(s) in 1.5 s" % adapter.attempts
				else:
					res["F_worst_poll_reconnect_ms"] = worst / 1000.0
			adapter.close()
		_result(res)


## F with --f-shape: one large message of `shape` per run (see tests/server/server.js "big_shape"), from the request
## until its handler ran: the worst single poll(), the number of polls, and the peak resident memory (VmHWM, reset
## just before the request) against the resident memory before it. The handler keeps the received value (as a game
## would store it) until the run's figures are taken: freeing a value of millions of Variants is Godot's own work,
## done wherever the game lets go of it, and is left out of the polls measured here.
func _workload_f_shape(shape: String, fps: int) -> void:
	var nbytes := maxi(64, int(Args.value("f-shape-bytes", str(_scaled(16 * MIB)))))
	var why := await _connect()
	if why != "":
		_result({"shape": shape, "error": why})
		return
	await _settle(0.1)
	var key := "F_%s" % shape
	for r in range(1, runs + 1):
		var res := {"run": r, "fps": fps, "shape": shape, "bytes": nbytes}
		adapter.shape_count = -1
		adapter.shape_summary = []
		adapter.shape_value = null
		await _settle(0.2)
		var rss_before := _rss_mib()
		var reset := _reset_peak_rss()
		adapter.request_shape(shape, nbytes)
		adapter.flush()
		var worst := 0
		var polls := 0
		var t0 := Time.get_ticks_usec()
		var deadline := t0 + 120000000
		while adapter.shape_summary.is_empty() and Time.get_ticks_usec() < deadline:
			await _frame()
			var t := Time.get_ticks_usec()
			poller.poll()
			worst = maxi(worst, Time.get_ticks_usec() - t)
			polls += 1
		var elapsed := Time.get_ticks_usec() - t0
		var peak := _peak_rss_mib()
		var summary: Array = adapter.shape_summary
		var expected := {"ints": TYPE_ARRAY, "objects": TYPE_ARRAY, "string": TYPE_STRING,
				"binary": TYPE_PACKED_BYTE_ARRAY}
		if summary.is_empty():
			res["error"] = "%s: no \"big_shape\" event within 120 s (%s)" % [shape, adapter.last_error]
		elif summary[0] != expected.get(shape, -1) or summary[1] != adapter.shape_count:
			res["error"] = "%s: got a %s of %d, expected %d" % [shape, type_string(summary[0]), summary[1],
					adapter.shape_count]
		else:
			res[key + "_worst_poll_ms"] = worst / 1000.0
			res["polls"] = polls
			res["elapsed_ms"] = elapsed / 1000.0
			res["rss_before_mib"] = rss_before
			if reset and peak >= 0:
				res[key + "_peak_rss_mib"] = peak
			else:
				res[key + "_peak_rss_mib_error"] = "VmHWM could not be reset (/proc/self/clear_refs)"
		adapter.shape_value = null
		_result(res)
		if res.has("error"):
			return


# ---- H: idle SocketIOConnection nodes ----------------------------------------------------------------------------

## The median frame, in µs, over `frames` frames (process_frame to process_frame: everything a frame runs).
func _median_frame_us(frames: int) -> float:
	var per_frame: Array = []
	await _frame()
	var t := Time.get_ticks_usec()
	for f in frames:
		await _frame()
		var now := Time.get_ticks_usec()
		per_frame.append(float(now - t))
		t = now
	return _median(per_frame)


## What `count` idle SocketIOConnection nodes add to a frame, per node: the median frame with them in the tree
## (each connected on its own connection, process_callback IDLE, nothing sent), minus the median frame without them
## (measured before adding them and after freeing them), divided by `count`.
func _workload_h() -> void:
	if not adapter.has_method("make_idle_node"):
		_result({"na": "this client has no node class"})
		return
	var count := 100
	var frames := maxi(100, _scaled(3000))
	for r in range(1, runs + 1):
		var before := await _median_frame_us(frames)
		var nodes: Array = []
		var connected := [0]
		for i in count:
			var n: Node = adapter.make_idle_node(url)
			if n == null:
				_result({"run": r, "na": "this build has no SocketIOConnection class"})
				return
			n.connect("connected", func(_sid): connected[0] += 1)
			add_child(n)
			nodes.append(n)
		var deadline := Time.get_ticks_usec() + 20000000
		while connected[0] < count and Time.get_ticks_usec() < deadline:
			await _frame()
		if connected[0] < count:
			_result({"run": r, "error": "only %d of %d nodes connected within 20 s" % [connected[0], count]})
			for n in nodes:
				n.queue_free()
			return
		var settle_until := Time.get_ticks_usec() + 300000
		while Time.get_ticks_usec() < settle_until:
			await _frame()
		var with_nodes := await _median_frame_us(frames)
		for n in nodes:
			n.queue_free()
		nodes.clear()
		await _frame()
		await _frame()
		var after := await _median_frame_us(frames)
		var without := (before + after) / 2.0
		_result({"run": r, "nodes": count, "frames": frames, "frame_us_without": without, "frame_us_with": with_nodes,
			"H_idle_node_us_per_frame": (with_nodes - without) / count})
