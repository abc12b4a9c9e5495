extends "res://test_suite.gd"
## A game that stops polling: the main thread blocked (OS.delay_msec, as a blocking level load or an app stopped in
## the background does) for 10 s, within socket.io's default heartbeat window (pingInterval 25 s + pingTimeout
## 20 s), and for 60 s, past it; a SocketIOConnection node told NOTIFICATION_APPLICATION_RESUMED. Release build only:
## the pauses are real. Each prints a RELIABILITY line (scripts/reliability.sh makes the table).

var _nodes: Array = []


func timeout_for(_test: String) -> float:
	return 150.0


func end() -> void:
	for n in _nodes:
		if is_instance_valid(n):
			n.free()
	_nodes.clear()
	await super()


## A connected SocketIOConnection node, or null after a failed check.
func _connected_node() -> SocketIOConnection:
	var n := SocketIOConnection.new()
	n.url = server_url()
	n.autoconnect = true
	_nodes.append(n)
	var connected := record(n.connected)
	add_child(n)
	if not await wait_for(connected, "the node connected"):
		return null
	return n


func _numbers(got: Array) -> Array:
	return got.map(func(data): return data[0])


func _reliability(fault: String, fields: Dictionary) -> void:
	var line := {"fault": fault, "client": "plugin", "detect_ms": null, "recover_ms": null, "buffered": null,
		"delivered": null, "duplicates": 0, "missed_without_recovery": null, "missed_with_recovery": null,
		"worst_poll_ms": null}
	line.merge(fields, true)
	print("RELIABILITY " + JSON.stringify(line))


## 10 s without a poll: the connection survives. An ack answered meanwhile resolves with its answer; one whose
## 2 s ran out during the pause times out, once; emits from before and after arrive once, in order.
func test_release_a_10_s_pause_within_the_heartbeat_loses_nothing() -> void:
	var n := await _connected_node()
	if n == null:
		return
	var ns := n.get_namespace()
	var echoes := listen(ns, "echo")
	var disconnects := record(n.disconnected)
	var answered: Array = []
	var short: Array = []
	ns.emit_with_ack("ack", ["answered"], func(r): answered.append(r), 30.0)
	ns.emit_with_ack("no_ack", [], func(r): short.append(r), 2.0)
	for i in 5:
		ns.emit("echo", [i])
	n.poll()
	OS.delay_msec(10000)
	var resumed := Time.get_ticks_msec()
	for i in range(5, 10):
		ns.emit("echo", [i])
	var worst := 0
	while echoes.size() < 10 and Time.get_ticks_msec() - resumed < 5000:
		var t := Time.get_ticks_usec()
		n.poll()
		worst = maxi(worst, Time.get_ticks_usec() - t)
		await get_tree().process_frame
	await settle(1.0)
	check_eq(disconnects, [], "no disconnection")
	check_eq(n.get_client().get_connection_state(), SocketIOClient.STATE_CONNECTED, "still connected")
	check_eq(answered, [["answered"]], "the ack answered during the pause resolved with its answer")
	check_eq(short, [["timeout"]], "the 2 s ack timed out, once")
	check_eq(_numbers(echoes), range(10), "every echo, once, in order")
	_reliability("game paused 10 s (window 45 s)", {"buffered": 10, "delivered": _numbers(echoes).size(),
		"duplicates": echoes.size() - _numbers(echoes).size(), "worst_poll_ms": worst / 1000.0})


## 60 s without a poll, past the window: the server dropped the connection. Emits made before the first poll are
## buffered (the heartbeat deadline passed: nothing is written into the dead connection); the node's
## NOTIFICATION_APPLICATION_RESUMED poll notices the loss in that same frame; reconnection then runs its attempts
## one at a time (never two in a frame), the namespace rejoins, and the buffered emits arrive once, in order.
func test_release_a_60_s_pause_past_the_heartbeat_reconnects_gracefully() -> void:
	var n := await _connected_node()
	if n == null:
		return
	var ns := n.get_namespace()
	var echoes := listen(ns, "echo")
	var disconnects: Array = []
	var attempts_by_frame := {}
	n.disconnected.connect(func(reason): disconnects.append([reason, Engine.get_process_frames(), Time.get_ticks_msec()]))
	n.reconnect_attempt.connect(func(attempt, _delay):
		var frame := Engine.get_process_frames()
		attempts_by_frame[frame] = attempts_by_frame.get(frame, 0) + 1)
	var back: Array = []
	n.connected.connect(func(_sid): back.append(Time.get_ticks_msec()))
	var answered: Array = []
	var pending: Array = []
	ns.emit_with_ack("ack", ["answered"], func(r): answered.append(r), 120.0)
	ns.emit_with_ack("no_ack", [], func(r): pending.append(r), 120.0)
	n.poll()
	OS.delay_msec(60000)
	var resumed := Time.get_ticks_msec()
	var resumed_frame := Engine.get_process_frames()
	# The game's first act after the pause: emits, before any poll.
	for i in 5:
		ns.emit("echo", [i])
	n.notification(NOTIFICATION_APPLICATION_RESUMED)
	var worst := 0
	while (back.is_empty() or echoes.size() < 5) and Time.get_ticks_msec() - resumed < 20000:
		await get_tree().process_frame
		var t := Time.get_ticks_usec()
		n.poll()
		worst = maxi(worst, Time.get_ticks_usec() - t)
	await settle(1.0)
	if not check_eq(disconnects.size(), 1, "one disconnection: %s" % [disconnects]):
		return
	var reason: String = disconnects[0][0]
	check(reason in ["transport close", "ping timeout"], "the reason says the connection died: %s" % reason)
	check_eq(disconnects[0][1], resumed_frame, "noticed in the frame of the resume, before the next one")
	check(not back.is_empty(), "connected again")
	check(attempts_by_frame.values().all(func(count): return count == 1), "one reconnection attempt per frame at most: %s" % [attempts_by_frame])
	check_eq(answered, [["answered"]], "the ack answered before the server gave up resolved with its answer")
	check_eq(pending, [["timeout"]], "the unanswered ack ended with the connection, once")
	check_eq(_numbers(echoes), range(5), "the emits made before the first poll were buffered and delivered once, in order")
	check_eq(n.get_client().get_connection_state(), SocketIOClient.STATE_CONNECTED, "connected")
	print("PAUSED 60 s: reason %s, attempts %s" % [reason, attempts_by_frame])
	var detect: float = disconnects[0][2] - resumed
	_reliability("game paused 60 s (window 45 s)", {"detect_ms": detect,
		"recover_ms": (back[back.size() - 1] - resumed) if not back.is_empty() else null,
		"buffered": 5, "delivered": _numbers(echoes).size(), "worst_poll_ms": worst / 1000.0})
