extends "res://test_suite.gd"
## Lifetimes: what close() lets go of (reference cycles through signal connections included), and handlers or
## callbacks whose object was freed.


## A node whose methods and lambdas serve as handlers; freed by the tests while still registered.
class Holder extends Node:
	var got: Array = []

	func on_data(data: Array) -> void:
		got.append(data)

	## Registers, as a handler of `event`, a lambda that uses `self` (so it becomes invalid when the node is freed)
	## and captures a new object, whose weak reference is returned. (Made here so that no temporary of the test's
	## own frame keeps the lambda alive.)
	func add_lambda_handler(ns: SocketIONamespace, event: String) -> WeakRef:
		var marker := RefCounted.new()
		ns.on(event, func(data): got.append([data, marker]))
		return weakref(marker)

	## The same, as the callback of an emit_with_ack.
	func add_lambda_callback(ns: SocketIONamespace, event: String) -> WeakRef:
		var marker := RefCounted.new()
		ns.emit_with_ack(event, [event], func(data): got.append([data, marker]))
		return weakref(marker)


## Creates namespace `path` with the README's pattern: signal receivers that capture the namespace itself (a
## cycle: namespace → connection → lambda → namespace), and connects it. Returns only a weak reference; the
## connected receiver appends to `connected`.
func _namespace_in_a_cycle(path: String, connected: Array) -> WeakRef:
	var ns := client.create_namespace(path)
	if path != "/":
		ns.connect_to_namespace()
	ns.connected.connect(func(sid):
		connected.append(sid)
		ns.emit("echo", ["hello from " + ns.get_namespace_path()])
	)
	ns.event_received.connect(func(_name, _data): ns.get_session_id())
	ns.disconnected.connect(func(_reason): ns.get_connection_state())
	ns.on("echo", func(_data): ns.get_session_id())
	return weakref(ns)


static func _alive(ref: WeakRef) -> bool:
	return ref.get_ref() != null


func test_close_frees_namespaces_whose_signals_capture_them() -> void:
	var url := server_url()
	if url == "":
		return
	var connected: Array = []
	check_eq(client.connect_to_url(url), OK, "connect_to_url")
	var main_ref := _namespace_in_a_cycle("/", connected)
	var chat_ref := _namespace_in_a_cycle("/chat", connected)
	await wait_for(connected, "both namespaces connected (their connected receivers ran)", 2)
	check(_alive(main_ref) and _alive(chat_ref), "the handles are alive while connected")
	client.close()
	check(not _alive(main_ref), "close() frees the main namespace although its signals capture it")
	check(not _alive(chat_ref), "close() frees /chat although its signals capture it")


func test_connect_to_url_keeps_signal_connections() -> void:
	var url := server_url()
	if url == "":
		return
	var connected: Array = []
	client.connect_to_url(url)
	var main_ref := _namespace_in_a_cycle("/", connected)
	await wait_for(connected, "connected")
	client.connect_to_url(url)
	await wait_for(connected, "the kept handle's connected receiver runs on the new connection", 2)
	check(_alive(main_ref), "the handle is alive")
	client.close()
	check(not _alive(main_ref), "and freed by close()")


func test_handlers_of_freed_objects_are_skipped_and_dropped() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var holder := Holder.new()
	ns.on("echo", holder.on_data)
	var marker_ref := holder.add_lambda_handler(ns, "echo")
	var echoes := listen(ns, "echo")
	ns.emit("echo", [1])
	await wait_for(echoes, "first echo")
	check_eq(holder.got.size(), 2, "both handlers of the holder ran while it existed")
	holder.free()
	check(_alive(marker_ref), "the freed holder's lambda (and its captures) is still registered")
	ns.emit("echo", [2])
	await wait_for(echoes, "second echo", 2)
	check_eq(echoes, [[1], [2]], "the remaining handler still runs")
	check(not _alive(marker_ref), "the handlers of the freed holder were dropped, with their captures")


func test_handlers_of_other_events_are_dropped_in_turn() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var holder := Holder.new()
	var marker_ref := holder.add_lambda_handler(ns, "never_sent")
	var other_ref := holder.add_lambda_handler(ns, "not_sent_either")
	var echoes := listen(ns, "echo")
	holder.free()
	ns.emit("echo", [1])
	await wait_for(echoes, "first echo")
	# Each event looks at its own handlers and one other, in turn: with three handlers, the first stale one goes at
	# the first event, and both within three.
	check(not _alive(marker_ref), "the first event dropped the first stale handler of another event")
	ns.emit("echo", [2])
	ns.emit("echo", [3])
	await wait_for(echoes, "three echoes", 3)
	check(not _alive(other_ref), "the stale handlers of other events were dropped, with their captures")
	check_eq(echoes, [[1], [2], [3]], "the live handler ran for each")


func test_ack_callbacks_of_freed_objects_are_skipped() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var holder := Holder.new()
	var answers: Array = []
	ns.emit_with_ack("ack", ["bound"], holder.on_data)
	var marker_ref := holder.add_lambda_callback(ns, "ack")
	ns.emit_with_ack("no_ack", ["timeout"], holder.on_data, 0.3)
	ns.emit_with_ack("ack", ["other"], func(response): answers.append(response))
	holder.free()
	await wait_for(answers, "the remaining callback's answer")
	await settle(0.6)
	check_eq(answers, [["other"]], "the valid callback was called")
	check(not _alive(marker_ref), "the invalid callbacks were dropped, with their captures")
