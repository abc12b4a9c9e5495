extends Node
## Workload M of scripts/bench.sh: Godot's high-level multiplayer, the same scene and RPCs over two peers, run as
## three processes (a host and clients "a" and "b"):
##   --mode=direct  Godot's own WebSocketMultiplayerPeer, the host listening on --port, the clients connecting to it;
##   --mode=relay   SocketIOMultiplayerPeer over namespace /match of the relay at --url (relay/bin/relay-server.js
##                  --stats), room --room.
## Two measurements, one after the other, once all three are connected:
##   1. round trip: client a calls ping.rpc_id(1, n) (reliable), the host answers pong.rpc_id(a, n); the next ping
##      leaves from the frame that got the pong. --rtt-count of them (default 500 times --scale) after a tenth as
##      many unmeasured: p50 and p99 (nearest rank) of rpc → pong handler, µs. b is idle meanwhile.
##   2. unreliable position updates: every peer calls pos.rpc(k, position) ("unreliable", to all, so a client's go
##      through the host, Godot's server relay) a number of times in each frame (that many moving entities), for
##      --updates-seconds (default 1) per step: first at a game's --updates-fps (default 60) with
##      --updates-steps entities (default 4,16,64,256,1024: one step each), then a flood: uncapped frames with
##      --flood-per-frame (default 8) a frame. Each peer counts the pos calls it receives while its own window is
##      open; a step's figure is the sum over the three of received / window, updates delivered per second. The
##      result is the best paced step (the most a game at that frame rate gets through) and the flood (what is left
##      when the peers send more than the path can carry). The relay's CPU time and packet counts (its
##      /relay-stats namespace) are read by the host before and after each step: relay CPU µs per packet in.
## The host prints one `RESULT {json}` line (client --client-name, workload "M", run --run). A frame that brought
## nothing and sends nothing sleeps --idle-sleep-usec (default 100) before the next, as an event loop would block,
## so that three processes waiting on each other do not spin on 2 cores.

const Args := preload("res://common/args.gd")

const PHASE_TIMEOUT_MS := 30000

var role := ""
var mode := ""
var client_name := ""
var run := 1
var scale := 1.0
var idle_sleep_usec := 100
var rtt_count := 500
var updates_seconds := 1.0
var updates_fps := 60
var updates_steps: Array[int] = [4, 16, 64, 256, 1024]
var flood_per_frame := 8

var sio: SocketIOClient
var stats_ns: SocketIONamespace
var mp_peer: MultiplayerPeer
## Calls of the RPCs that this frame's poll dispatched (to tell an idle frame).
var _calls := 0
var _calls_seen := 0
## Round trip (client a).
var _pong_seq := -1
var _pong_usec := 0
## Updates.
var _sending := false
var _per_frame := 0
var _window_start := 0
var _window_end := 0
var _received := 0
var _sent := 0
var _frames := 0
var _updates_started := false
## The host's collection of what the clients measured: role -> Dictionary.
var _reports := {}
var _finish_asked := false


func _ready() -> void:
	OS.low_processor_usage_mode = false
	OS.low_processor_usage_mode_sleep_usec = 0
	Engine.max_fps = 0
	role = Args.value("role", "")
	if role == "none":
		print("NOTE frames uncapped (Godot %s)" % Engine.get_version_info().string)
		get_tree().quit(0)
		return
	mode = Args.value("mode", "")
	client_name = Args.value("client-name", "mp-" + mode)
	run = int(Args.value("run", "1"))
	scale = maxf(0.0001, float(Args.value("scale", "1")))
	idle_sleep_usec = maxi(0, int(Args.value("idle-sleep-usec", "100")))
	rtt_count = maxi(10, int(Args.value("rtt-count", str(roundi(500 * scale)))))
	updates_seconds = maxf(0.2, float(Args.value("updates-seconds", "1")))
	updates_fps = maxi(1, int(Args.value("updates-fps", "60")))
	updates_steps.clear()
	for n in Args.value("updates-steps", "4,16,64,256,1024").split(",", false):
		updates_steps.append(maxi(1, int(n)))
	flood_per_frame = maxi(1, int(Args.value("flood-per-frame", "8")))
	if role not in ["host", "a", "b"] or mode not in ["direct", "relay"]:
		return _fail("--role=host|a|b and --mode=direct|relay are needed, not role '%s' mode '%s'" % [role, mode])
	multiplayer.server_disconnected.connect(_on_server_gone)
	var err := _start_peer()
	if err != OK:
		return _fail("%s peer of %s: %s" % [mode, role, error_string(err)])
	_run.call_deferred()


func _process(_delta: float) -> void:
	if sio != null:
		sio.poll()
	if _sending:
		var now := Time.get_ticks_usec()
		if now >= _window_end:
			_sending = false
			Engine.max_fps = 0
		else:
			_frames += 1
			for k in _per_frame:
				pos.rpc(k, Vector2(_frames, k))
			_sent += _per_frame
			return
	var idle := _calls == _calls_seen
	_calls_seen = _calls
	# The relay peer's packets that the client's poll just brought are dispatched at the next frame's poll.
	if idle and mp_peer != null and mp_peer.get_available_packet_count() == 0 and idle_sleep_usec > 0:
		OS.delay_usec(idle_sleep_usec)


func _start_peer() -> Error:
	var room := Args.value("room", "bench")
	if mode == "direct":
		var ws := WebSocketMultiplayerPeer.new()
		mp_peer = ws
		var err: Error
		if role == "host":
			err = ws.create_server(int(Args.value("port", "0")), "127.0.0.1")
		else:
			err = ws.create_client(Args.value("url", ""))
		multiplayer.multiplayer_peer = ws
		return err
	sio = SocketIOClient.new()
	sio.reconnection = false
	sio.connect_to_url(Args.value("url", ""))
	var ns := sio.create_namespace("/match")
	ns.connect_to_namespace()
	var relay_peer := SocketIOMultiplayerPeer.new()
	relay_peer.relay_error.connect(func(code: String, message: String): print("NOTE relay_error %s: %s" % [code, message]))
	mp_peer = relay_peer
	var err := relay_peer.host(ns, room) if role == "host" else relay_peer.join(ns, room)
	multiplayer.multiplayer_peer = relay_peer
	if role == "host":
		stats_ns = sio.create_namespace("/relay-stats")
		stats_ns.connect_to_namespace()
	return err


func _run() -> void:
	if not await _until(func(): return mp_peer.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED, "connected"):
		return
	if role == "host":
		print("MPB READY host")
		await _run_host()
	else:
		print("MPB READY %s %d" % [role, multiplayer.get_unique_id()])
		if not await _until(func(): return multiplayer.get_peers().size() == 2, "the host and the other client known"):
			return
		hello.rpc_id(1, role)
		await _until(func(): return _finish_asked, "the end", 120000)
		_quit(0)


# ---- the host ------------------------------------------------------------------------------------------------

func _run_host() -> void:
	if not await _until(func(): return _reports.has("a_id") and _reports.has("b_id"), "both clients connected"):
		return
	var a: int = _reports["a_id"]
	# 1. Round trips, measured by a.
	start_rtt.rpc_id(a, rtt_count)
	if not await _until(func(): return _reports.has("a_rtt"), "a's round trips", 120000):
		return
	var rtt: Dictionary = _reports["a_rtt"]
	# 2. Updates from all three: the paced steps, then the flood.
	var out := {
		"client": client_name, "workload": "M", "run": run,
		"M_rtt_p50_us": rtt["p50"], "M_rtt_p99_us": rtt["p99"], "rtt_count": rtt["count"],
		"updates_window_s": updates_seconds, "updates_fps": updates_fps,
	}
	var steps := []
	for n in updates_steps:
		var step := await _update_step(n, updates_fps)
		if step.is_empty():
			return
		steps.append(step)
	var flood := await _update_step(flood_per_frame, 0)
	if flood.is_empty():
		return
	out["steps"] = steps
	out["flood"] = flood
	var peak: Dictionary = steps[0]
	for step in steps:
		if step["delivered_per_s"] > peak["delivered_per_s"]:
			peak = step
	out["M_updates_per_s"] = peak["delivered_per_s"]
	out["peak_per_frame"] = peak["per_frame"]
	out["peak_delivered_fraction"] = peak["delivered_fraction"]
	out["M_host_cpu_pct"] = peak["host_cpu_pct"]
	for key in ["relay_cpu_pct", "relay_cpu_us_per_packet"]:
		if peak.has(key):
			out["M_" + key] = peak[key]
	out["M_flood_updates_per_s"] = flood["delivered_per_s"]
	out["M_flood_delivered_fraction"] = flood["delivered_fraction"]
	print("RESULT " + JSON.stringify(out))
	finish.rpc()
	# The clients quit when they see it (or the connection end); the host once they had time to.
	await get_tree().create_timer(0.3).timeout
	_quit(0)


## One step of the updates: every peer sends `per_frame` pos.rpc() a frame at `fps` frames a second (0: uncapped)
## for updates_seconds. Returns the step's figures ({} when a client did not report).
func _update_step(per_frame: int, fps: int) -> Dictionary:
	_reports.erase("a_updates")
	_reports.erase("b_updates")
	var stats0 := {}
	if stats_ns != null:
		stats0 = await _relay_stats()
	var stats_t0 := Time.get_ticks_usec()
	var cpu0 := _cpu_usec()
	var t0 := Time.get_ticks_usec()
	begin_updates.rpc(updates_seconds, per_frame, fps)
	_begin_updates(updates_seconds, per_frame, fps)
	await _until(func(): return not _sending, "the host's update window", int(updates_seconds * 1000) + 10000)
	var host_cpu := _cpu_usec() - cpu0
	var host_window := (Time.get_ticks_usec() - t0) / 1e6
	var stats1 := {}
	if stats_ns != null:
		stats1 = await _relay_stats()
	# The relay answers once it has worked through what it had queued: its CPU share is over the time between the
	# two answers.
	var stats_window := (Time.get_ticks_usec() - stats_t0) / 1e6
	_reports["host_updates"] = _own_updates()
	if not await _until(func(): return _reports.has("a_updates") and _reports.has("b_updates"), "the clients' update counts", int(updates_seconds * 1000) + 10000):
		return {}
	var delivered := 0.0
	var sent := 0.0
	var frames := []
	for r in ["host", "a", "b"]:
		var u: Dictionary = _reports["%s_updates" % r]
		delivered += u["received"] / u["window_s"]
		sent += u["sent"] / u["window_s"]
		frames.append(u["frames"] / u["window_s"])
	frames.sort()
	# Each sent update is for the two other peers: the share of them that arrived.
	var step := {
		"per_frame": per_frame, "fps_cap": fps, "fps": frames[1], "delivered_per_s": delivered, "sent_per_s": sent,
		"delivered_fraction": delivered / (2.0 * sent) if sent > 0 else 0.0,
		"host_cpu_pct": 100.0 * host_cpu / 1e6 / host_window,
	}
	if not stats0.is_empty() and not stats1.is_empty():
		var packets_in: int = stats1["packets_in"] - stats0["packets_in"]
		var relay_cpu: float = stats1["cpu_us"] - stats0["cpu_us"]
		step["relay_packets_in"] = packets_in
		step["relay_packets_out"] = stats1["packets_out"] - stats0["packets_out"]
		step["relay_cpu_pct"] = 100.0 * relay_cpu / 1e6 / stats_window
		if packets_in > 0:
			step["relay_cpu_us_per_packet"] = relay_cpu / packets_in
	print("NOTE step %s" % JSON.stringify(step))
	# What is still on its way belongs to no window.
	await get_tree().create_timer(0.3).timeout
	return step


func _relay_stats() -> Dictionary:
	if not await _until(func(): return stats_ns.is_namespace_connected(), "/relay-stats connected"):
		return {}
	var reply: Array = await stats_ns.request("stats", [], 5.0)
	if reply.size() != 1 or typeof(reply[0]) != TYPE_DICTIONARY:
		print("NOTE /relay-stats answered %s" % [reply])
		return {}
	return reply[0]


# ---- the clients ---------------------------------------------------------------------------------------------

func _run_rtt(count: int) -> void:
	var warm := maxi(1, count / 10)
	var samples := PackedInt64Array()
	for i in warm + count:
		var t := Time.get_ticks_usec()
		ping.rpc_id(1, i)
		while _pong_seq != i:
			await get_tree().process_frame
			if Time.get_ticks_usec() - t > 5000000:
				return _fail("no pong %d within 5 s" % i)
		if i >= warm:
			samples.append(_pong_usec - t)
	samples.sort()
	var p50 := samples[clampi(ceili(samples.size() * 0.5) - 1, 0, samples.size() - 1)]
	var p99 := samples[clampi(ceili(samples.size() * 0.99) - 1, 0, samples.size() - 1)]
	report.rpc_id(1, "a_rtt", {"p50": p50, "p99": p99, "count": samples.size()})


func _begin_updates(seconds: float, per_frame: int, fps: int) -> void:
	_per_frame = per_frame
	Engine.max_fps = fps
	_received = 0
	_sent = 0
	_frames = 0
	_window_start = Time.get_ticks_usec()
	_window_end = _window_start + int(seconds * 1e6)
	_sending = true
	_updates_started = true
	if role != "host":
		_client_updates.call_deferred()


func _client_updates() -> void:
	await _until(func(): return not _sending, "the update window", int(updates_seconds * 1000) + 10000)
	report.rpc_id(1, "%s_updates" % role, _own_updates())


func _own_updates() -> Dictionary:
	return {"received": _received, "sent": _sent, "frames": _frames, "window_s": (_window_end - _window_start) / 1e6}


# ---- RPCs ----------------------------------------------------------------------------------------------------

@rpc("any_peer", "call_remote", "reliable")
func hello(who: String) -> void:
	_calls += 1
	if multiplayer.is_server():
		_reports["%s_id" % who] = multiplayer.get_remote_sender_id()


@rpc("any_peer", "call_remote", "reliable")
func report(key: String, value: Variant) -> void:
	_calls += 1
	if multiplayer.is_server():
		_reports[key] = value


@rpc("authority", "call_remote", "reliable")
func start_rtt(count: int) -> void:
	_calls += 1
	_run_rtt.call_deferred(count)


@rpc("any_peer", "call_remote", "reliable")
func ping(n: int) -> void:
	_calls += 1
	pong.rpc_id(multiplayer.get_remote_sender_id(), n)


@rpc("authority", "call_remote", "reliable")
func pong(n: int) -> void:
	_calls += 1
	_pong_usec = Time.get_ticks_usec()
	_pong_seq = n


@rpc("authority", "call_remote", "reliable")
func begin_updates(seconds: float, per_frame: int, fps: int) -> void:
	_calls += 1
	_begin_updates(seconds, per_frame, fps)


@rpc("any_peer", "call_remote", "unreliable")
func pos(_entity: int, _position: Vector2) -> void:
	_calls += 1
	if _sending:
		_received += 1


@rpc("authority", "call_remote", "reliable")
func finish() -> void:
	_calls += 1
	_finish_asked = true


# ---- helpers -------------------------------------------------------------------------------------------------

func _on_server_gone() -> void:
	# The host ended the run (or went away): a client is done.
	if role != "host":
		_finish_asked = true


func _until(done: Callable, what: String, timeout_ms := PHASE_TIMEOUT_MS) -> bool:
	var deadline := Time.get_ticks_msec() + timeout_ms
	while not done.call():
		if Time.get_ticks_msec() > deadline:
			_fail("%s: %s within %d ms" % [role, what, timeout_ms])
			return false
		await get_tree().process_frame
	return true


func _fail(why: String) -> void:
	if role == "host" or role == "":
		print("RESULT " + JSON.stringify({"client": client_name, "workload": "M", "run": run, "na": why}))
	print("MPB FAIL %s" % why)
	_quit(1)


func _quit(code: int) -> void:
	multiplayer.multiplayer_peer = null
	if mp_peer != null:
		mp_peer.close()
		mp_peer = null
	if sio != null:
		sio.close()
		sio.free()
		sio = null
	get_tree().quit(code)


## Process CPU time (user + system, all threads) in µs: the sum of the first field of /proc/self/task/*/schedstat
## (each thread's time on a CPU, in ns); -1 when unreadable.
func _cpu_usec() -> int:
	var total := 0
	var read := 0
	for tid in DirAccess.get_directories_at("/proc/self/task"):
		var sf := FileAccess.open("/proc/self/task/%s/schedstat" % tid, FileAccess.READ)
		if sf != null:
			total += int(sf.get_line().get_slice(" ", 0))
			read += 1
	return total / 1000 if read > 0 else -1
