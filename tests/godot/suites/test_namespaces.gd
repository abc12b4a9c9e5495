extends "res://test_suite.gd"
## Many namespaces, and SocketIOClient.remove_namespace(): what a removed namespace does, and that nothing of it is
## left in either layer. SocketIONamespace.on_for(): handlers that go with their owner.


## A node that owns handlers registered with on_for().
class Owner extends Node:
	pass


func timeout_for(_test: String) -> float:
	return 60.0


static func _alive(ref: WeakRef) -> bool:
	return ref.get_ref() != null


func test_ten_thousand_namespaces_are_cheap_to_make_look_up_and_close() -> void:
	var main := await connect_main()
	if main == null:
		return
	var count := 10000
	var started := Time.get_ticks_usec()
	for i in count:
		client.create_namespace("/match-%d" % i)
	var created := (Time.get_ticks_usec() - started) / 1e6
	check(created < 2.0, "10,000 create_namespace() calls take %.3f s (< 2 s)" % created)

	started = Time.get_ticks_usec()
	var found := 0
	for i in count:
		if client.has_namespace("/match-%d" % i):
			found += 1
	var looked_up := (Time.get_ticks_usec() - started) / 1e6
	check_eq(found, count, "every namespace is there")
	check(looked_up < 1.0, "10,000 has_namespace() calls take %.3f s (< 1 s)" % looked_up)

	started = Time.get_ticks_usec()
	var removed_ok := 0
	for i in range(0, count, 2):
		if client.remove_namespace("/match-%d" % i) == OK:
			removed_ok += 1
	var removed := (Time.get_ticks_usec() - started) / 1e6
	check_eq(removed_ok, count / 2, "each remove_namespace() returned OK")
	check(removed < 2.0, "5,000 remove_namespace() calls take %.3f s (< 2 s)" % removed)
	check(not client.has_namespace("/match-0") and client.has_namespace("/match-1"), "the removed ones are gone, the others kept")
	check(main.is_namespace_connected(), "\"/\" is still connected")

	started = Time.get_ticks_usec()
	client.close()
	var closed := (Time.get_ticks_usec() - started) / 1e6
	check(closed < 0.5, "close() with 5,001 namespaces takes %.3f s (< 0.5 s)" % closed)
	check(not client.has_namespace("/match-1") and not client.has_namespace("/"), "close() forgot them all")
	print("    10,000 created in %.3f s, 10,000 has_namespace() in %.3f s, 5,000 removed in %.3f s, close() %.3f s" % [
			created, looked_up, removed, closed])


## Gives /chat (connected) a handler with a capture, a signal receiver that captures the namespace (a cycle) and a
## pending emit_with_ack whose answer goes to `answers`. Returns weak references to the handle and the capture. (Made
## here so that no temporary of the test's own frame keeps them alive.)
func _dress(chat: SocketIONamespace, answers: Array) -> Array[WeakRef]:
	chat.emit_with_ack("no_ack", [], func(response): answers.append(response), 30.0)
	var marker := RefCounted.new()
	chat.on("echo", func(_data): marker.get_reference_count())
	chat.connected.connect(func(_sid): chat.get_session_id())
	return [weakref(chat), weakref(marker)]


## What the old handle of a removed namespace does.
func _check_removed_handle(ref: WeakRef) -> void:
	var chat: SocketIONamespace = ref.get_ref()
	if not check(chat != null, "the old handle is still there while the test holds it"):
		return
	check_eq(chat.get_connection_state(), SocketIONamespace.STATE_DISCONNECTED, "the old handle reports STATE_DISCONNECTED")
	check(not chat.is_namespace_connected(), "and is not connected")
	chat.emit("echo", ["after"])
	expect_error("was removed with SocketIOClient.remove_namespace()")
	chat.on("echo", func(_data): pass)
	expect_error("was removed with SocketIOClient.remove_namespace()")


func _join_and_dress(answers: Array, log: Dictionary) -> Array[WeakRef]:
	var chat := client.create_namespace("/chat")
	log["ns_disconnected"] = record(client.namespace_disconnected)
	log["disconnected"] = record(chat.disconnected)
	log["connected"] = record(chat.connected)
	chat.connect_to_namespace()
	return _dress(chat, answers)


## rust/godot/src/dispatch/release.rs lists these to disconnect them when a handle is let go of.
func test_the_signals_a_handle_has() -> void:
	var names: Array[String] = []
	for signal_info in ClassDB.class_get_signal_list("SocketIONamespace"):
		names.append(signal_info["name"])
	names.sort()
	check_eq(names, ["connect_error", "connected", "disconnected", "event_received", "property_list_changed",
			"script_changed"] as Array[String], "SocketIONamespace's signals, inherited ones included")


func test_remove_namespace_disconnects_times_out_and_forgets() -> void:
	var main := await connect_main()
	if main == null:
		return
	var answers: Array = []
	var log := {}
	var refs := _join_and_dress(answers, log)
	await wait_for(log["connected"], "/chat connected")
	await settle(0.1)
	var chat_ref := refs[0]
	var marker_ref := refs[1]
	refs.clear()

	check_eq(client.remove_namespace("/chat"), OK, "remove_namespace(\"/chat\") returns OK")
	check_eq(log["disconnected"], [["io client disconnect"]], "its disconnected signal, before the call returned")
	check_eq(log["ns_disconnected"], [["/chat"]], "namespace_disconnected(\"/chat\")")
	check_eq(answers, [["timeout"]], "its pending emit_with_ack callback got [\"timeout\"]")
	check(not client.has_namespace("/chat"), "has_namespace(\"/chat\") is false")
	check(client.get_namespace("/chat") == null, "get_namespace(\"/chat\") is null")
	check(not _alive(marker_ref), "its handlers were released with their captures")
	check(not _alive(chat_ref), "the handle is freed, as nothing of the game holds it (despite the cycle)")
	check(main.is_namespace_connected(), "\"/\" keeps the connection")

	check_eq(client.remove_namespace("/chat"), ERR_DOES_NOT_EXIST, "removing it again: ERR_DOES_NOT_EXIST, not reported")
	check_eq(client.remove_namespace("/"), ERR_INVALID_PARAMETER, "\"/\" cannot be removed")
	expect_error("the main namespace cannot be removed")

	# Made anew, it works.
	var again := await join("/chat")
	if again != null:
		var who = await request(again, "whoami", [])
		check(who != null and who[0]["nsp"] == "/chat", "a new /chat works")


func test_a_removed_handle_held_by_the_game_refuses_commands() -> void:
	var main := await connect_main()
	if main == null:
		return
	var chat := await join("/chat")
	if chat == null:
		return
	check_eq(client.remove_namespace("/chat"), OK, "remove_namespace(\"/chat\")")
	_check_removed_handle(weakref(chat))


func test_a_removed_namespace_leaves_nothing_in_the_core() -> void:
	var main := await connect_main()
	if main == null:
		return
	# Buffered while not connected: an emit and an emit_with_ack.
	var admin := client.create_namespace("/admin")
	admin.emit("echo", ["stale"])
	var answers: Array = []
	admin.emit_with_ack("ack", ["stale"], func(response): answers.append(response), 30.0)
	var disconnected := record(admin.disconnected)
	check_eq(client.remove_namespace("/admin"), OK, "remove_namespace(\"/admin\")")
	check_eq(answers, [["timeout"]], "the buffered emit_with_ack got [\"timeout\"]")
	check_eq(disconnected, [], "no disconnected for a namespace that was not connecting")
	var fresh := client.create_namespace("/admin")
	var echoes := listen(fresh, "echo")
	var connected := record(fresh.connected)
	fresh.connect_to_namespace({"token": "secret"})
	await wait_for(connected, "the new /admin connected")
	fresh.emit("echo", ["new"])
	await wait_for(echoes, "the new echo")
	await settle(0.2)
	check_eq(echoes, [["new"]], "the discarded emit was not sent when the namespace was made again")
	check_eq(answers, [["timeout"]], "the old callback was called once")


func test_remove_a_connecting_namespace_and_remove_from_its_handler() -> void:
	var main := await connect_main()
	if main == null:
		return
	var chat := client.create_namespace("/chat")
	chat.connect_to_namespace()
	var disconnected := record(chat.disconnected)
	var made: Array = []
	# A receiver of the removed namespace's disconnected makes it again: that one survives the removal.
	chat.disconnected.connect(func(_reason):
		chat.emit("echo", ["late"])
		made.append(client.create_namespace("/chat"))
	)
	check_eq(client.remove_namespace("/chat"), OK, "remove_namespace while connecting")
	expect_error("was removed with SocketIOClient.remove_namespace()")
	check_eq(disconnected, [["io client disconnect"]], "disconnected, as for disconnect_from_namespace()")
	check_eq(made.size(), 1, "the receiver ran")
	if made.size() == 1:
		check(made[0] != chat, "and made a new handle")
		check(client.get_namespace("/chat") == made[0], "which is the current one")
		var connected := record(made[0].connected)
		made[0].connect_to_namespace()
		await wait_for(connected, "the new handle connects")
	made.clear()


## Registers, with on_for(owner), a handler of `event` that does not use self and captures a new object, whose weak
## reference is returned. Its calls are appended to `got`, without the capture.
func _on_for_with_capture(ns: SocketIONamespace, owner: Object, event: String, got: Array) -> WeakRef:
	var marker := RefCounted.new()
	ns.on_for(owner, event, func(data):
		marker.get_reference_count()
		got.append(data)
	)
	return weakref(marker)


func test_on_for_handlers_go_with_their_owner() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var owner := Owner.new()
	add_child(owner)
	var got: Array = []
	var marker_ref := _on_for_with_capture(ns, owner, "echo", got)
	var echoes := listen(ns, "echo")
	ns.emit("echo", [1])
	await wait_for(echoes, "first echo")
	check_eq(got, [[1]], "the handler runs while its owner exists")
	owner.queue_free()
	owner = null
	await get_tree().process_frame
	check(_alive(marker_ref), "still registered until the next event or on()")
	ns.emit("echo", [2])
	await wait_for(echoes, "second echo", 2)
	check_eq(got, [[1]], "not run once its owner was freed")
	check(not _alive(marker_ref), "and released with its captures")

	# Released at the next on() too, without any event.
	var second := Owner.new()
	var second_ref := _on_for_with_capture(ns, second, "never_sent", got)
	second.free()
	ns.on("other", func(_data): pass)
	check(not _alive(second_ref), "released by the next on() on the namespace")

	# A RefCounted owner goes when its last reference does.
	var holder := [RefCounted.new()]
	var third_ref := _on_for_with_capture(ns, holder[0], "echo", got)
	holder.clear()
	ns.emit("echo", [3])
	await wait_for(echoes, "third echo", 3)
	check_eq(got, [[1]], "not run once its RefCounted owner was freed")
	check(not _alive(third_ref), "and released")

	# off() removes an on_for() handler like any other.
	var fourth := Owner.new()
	var calls: Array = []
	var handler := func(_data): calls.append("fourth")
	ns.on_for(fourth, "echo", handler)
	ns.off("echo", handler)
	ns.emit("echo", [4])
	await wait_for(echoes, "fourth echo", 4)
	check_eq(calls, [], "off() removed it")
	fourth.free()
