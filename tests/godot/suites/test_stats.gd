extends "res://test_suite.gd"
## Traffic figures (issue 13): SocketIOClient.get_stats() counts a scripted exchange exactly, and the socketio/*
## Performance monitors give the same figures. The counters are the client's for the whole run (they never go
## down), so the tests check what one exchange adds.

const KEYS := [
	"bytes_in", "bytes_out", "packets_in", "packets_out", "events_in", "events_out", "acks_pending",
	"buffered_emits", "reconnects", "reconnect_attempts", "last_ack_round_trip_ms",
]


## Connects "/" over WebSocket and waits for the server's welcome event; returns the namespace (null on failure).
func connect_and_welcome() -> SocketIONamespace:
	var url := server_url()
	if url == "":
		return null
	client.transports = PackedStringArray(["websocket"])
	check_eq(client.connect_to_url(url), OK, "connect_to_url")
	var ns := client.get_namespace("/")
	var welcome := listen(ns, "welcome")
	await wait_for(welcome, "welcome")
	return ns


func test_get_stats_keys_and_types() -> void:
	var stats := client.get_stats()
	check_eq(stats.keys(), KEYS, "get_stats() has these keys, in this order")
	for key in KEYS:
		var want := TYPE_FLOAT if key == "last_ack_round_trip_ms" else TYPE_INT
		check_eq(typeof(stats[key]), want, "%s is %s" % [key, type_string(want)])
		check(stats[key] >= 0 or key == "last_ack_round_trip_ms", "%s is not negative" % key)


func test_a_scripted_exchange_is_counted_exactly() -> void:
	var ns := await connect_and_welcome()
	if ns == null:
		return
	var before := client.get_stats()
	check_eq(before.acks_pending, 0, "no ack pending")
	check_eq(before.buffered_emits, 0, "nothing buffered")
	var echoes := listen(ns, "echo")
	ns.emit("echo", ["a"])
	ns.emit("echo", ["bb"])
	ns.emit("echo", [3])
	var answers: Array = []
	ns.emit_with_ack("ack", ["x"], func(response): answers.append(response), 10.0)
	check_eq(client.get_stats().acks_pending, 1, "one ack pending right after emit_with_ack")
	await wait_for(echoes, "3 echoes", 3)
	await wait_for(answers, "the ack's answer")
	check_eq(answers, [["x"]], "the ack answered [\"x\"]")
	var after := client.get_stats()
	var echo_bytes := '42["echo","a"]'.length() + '42["echo","bb"]'.length() + '42["echo",3]'.length()
	check_eq(after.events_out - before.events_out, 4, "events_out: 3 echoes and the ack's event")
	check_eq(after.events_in - before.events_in, 3, "events_in: the 3 echoes (the ack's answer is no event)")
	check_eq(after.packets_out - before.packets_out, 4, "packets_out: 4 Socket.IO packets")
	check_eq(after.packets_in - before.packets_in, 4, "packets_in: 3 echoes and the ack's answer")
	# The ack's packets carry its id (the client's count of acks so far): 42<id>["ack","x"] out, 43<id>["x"] in.
	var id_digits_out: int = after.bytes_out - before.bytes_out - echo_bytes - '42["ack","x"]'.length()
	var id_digits_in: int = after.bytes_in - before.bytes_in - echo_bytes - '43["x"]'.length()
	check(id_digits_out >= 1 and id_digits_out <= 6, "bytes_out: the 4 packets' bytes (id of %d digits)" % id_digits_out)
	check_eq(id_digits_in, id_digits_out, "bytes_in: the 4 packets' bytes, the same ack id")
	check_eq(after.acks_pending, 0, "no ack pending once answered")
	check_eq(after.buffered_emits, 0, "nothing buffered")
	check_eq(after.reconnects - before.reconnects, 0, "no reconnection")
	check(after.last_ack_round_trip_ms >= 0.0 and after.last_ack_round_trip_ms < 10000.0,
		"last_ack_round_trip_ms is the ack's round trip (%s ms)" % after.last_ack_round_trip_ms)


func test_emits_buffered_before_connect_count() -> void:
	var url := server_url()
	if url == "":
		return
	client.transports = PackedStringArray(["websocket"])
	var before := client.get_stats()
	var ns := client.create_namespace("/")
	ns.emit("echo", ["early"])
	var buffered := client.get_stats()
	check_eq(buffered.buffered_emits, 1, "an emit before connecting waits in the send buffer")
	check_eq(buffered.events_out - before.events_out, 1, "and counts as emitted")
	var echoes := listen(ns, "echo")
	check_eq(client.connect_to_url(url), OK, "connect_to_url")
	await wait_for(echoes, "the buffered emit's echo")
	check_eq(client.get_stats().buffered_emits, 0, "sent once connected")


func test_performance_monitors_match_get_stats() -> void:
	for key in KEYS:
		check(Performance.has_custom_monitor("socketio/" + key), "Performance has monitor socketio/" + key)
	var ns := await connect_and_welcome()
	if ns == null:
		return
	var echoes := listen(ns, "echo")
	ns.emit("echo", ["m"])
	await wait_for(echoes, "an echo")
	var stats := client.get_stats()
	# The monitors sum every live client: other suites may leave clients of their own alive (one is never freed on
	# purpose, until exit), so each monitor is at least this client's figure.
	for key in KEYS:
		if key == "last_ack_round_trip_ms":
			continue
		check(Performance.get_custom_monitor("socketio/" + key) >= stats[key],
				"socketio/%s (%s) >= get_stats().%s (%s)" % [key, Performance.get_custom_monitor("socketio/" + key), key, stats[key]])
	check(stats.events_in > 0, "events_in counted")
	# What this client adds shows in the sum exactly: events come only by poll(), which only this client gets here.
	var before: int = Performance.get_custom_monitor("socketio/events_out")
	ns.emit("echo", ["n"])
	check_eq(Performance.get_custom_monitor("socketio/events_out"), before + 1, "socketio/events_out grows with an emit")


func test_reconnections_are_counted() -> void:
	client.reconnection_delay = 0.1
	client.reconnection_delay_max = 0.2
	client.randomization_factor = 0.0
	var ns := await connect_and_welcome()
	if ns == null:
		return
	var before := client.get_stats()
	var attempts := record(client.reconnect_attempt, 2)
	var reconnected := record(client.reconnected)
	var connected := record(client.connected)
	ns.emit("drop_transport", [])
	await wait_for(reconnected, "reconnected")
	await wait_for(connected, "connected again")
	var after := client.get_stats()
	check_eq(after.reconnects - before.reconnects, 1, "reconnects: one more")
	check_eq(after.reconnect_attempts - before.reconnect_attempts, attempts.size(),
		"reconnect_attempts: one per reconnect_attempt signal (%d)" % attempts.size())


func test_monitors_sum_every_client() -> void:
	var url := server_url()
	if url == "":
		return
	var ns := await connect_and_welcome()
	if ns == null:
		return
	var other := SocketIOClient.new()
	check_eq(other.connect_to_url(url), OK, "a second client connects")
	# Its events are dispatched by its own poll(), below: listening now misses none.
	var welcome := listen(other.get_namespace("/"), "welcome")
	var deadline := Time.get_ticks_msec() + 10000
	while welcome.is_empty() and Time.get_ticks_msec() < deadline:
		other.poll()
		await get_tree().process_frame
	check(not welcome.is_empty(), "the second client's welcome")
	var its: int = other.get_stats().events_in
	check(its > 0, "the second client counts its own events")
	# Other clients may be alive (see above); the second one's part of the sum is what freeing it takes away.
	var with_it: int = Performance.get_custom_monitor("socketio/events_in")
	other.free()
	check_eq(Performance.get_custom_monitor("socketio/events_in"), with_it - its, "a freed client leaves the sum")
