extends "res://test_suite.gd"
## SocketIONamespace.request(): acks awaited in one line. Answered, timed out, completed by close(), by a namespace
## disconnect and by remove_namespace(), concurrent requests, refused input (the signal still completes), and an
## awaiting object freed before the answer (not resumed, no crash).

## A node whose start() awaits a request and then logs the reply; freed by the test before the reply comes. It lets
## go of `ns` before awaiting: Godot 4.6 never frees the saved stack of a coroutine whose object is freed
## (godotengine/godot#99383), so an object on it would be reported leaked at exit.
const AWAITER_SOURCE := """extends Node

func start(ns: SocketIONamespace, event: String, timeout: float, log: Array) -> void:
	var pending := ns.request(event, ["from a freed node"], timeout)
	ns = null
	var reply: Array = await pending
	log.append(reply)
	log.append(name)
"""


## Awaits `sig` in a coroutine of its own and logs its value into the returned array, so that a test can check that
## it completes (and when) without hanging if it never does.
func watch(sig: Signal) -> Array:
	var got: Array = []
	var waiter := func() -> void:
		var reply: Array = await sig
		got.append(reply)
	waiter.call()
	return got


func test_answered() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var reply: Array = await ns.request("ack", [1, "two", {"three": 3.5}, PackedByteArray([4])])
	check_eq(reply, [1, "two", {"three": 3.5}, PackedByteArray([4])], "await request() gives the server's answer")
	var empty: Array = await ns.request("ack")
	check_eq(empty, [], "data defaults to []: the server answers with no arguments")


func test_timeout() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var started := Time.get_ticks_msec()
	var got := watch(ns.request("no_ack", [1], 0.2))
	await wait_for(got, "the request times out")
	var elapsed := (Time.get_ticks_msec() - started) / 1000.0
	check(elapsed >= 0.19 and elapsed < 2.0, "completed after about 0.2 s (%.2f s)" % elapsed)
	await settle(0.5)
	check_eq(got, [["timeout"]], "completed once, with [\"timeout\"]")


func test_close_completes_pending() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var got := watch(ns.request("no_ack", [], 30.0))
	var other := watch(ns.request("no_ack", [], 30.0))
	await settle(0.1)
	check_eq(got, [], "pending")
	client.close()
	check_eq(got, [["timeout"]], "close() completes a pending request with [\"timeout\"] before it returns")
	check_eq(other, [["timeout"]], "and every other one")


func test_namespace_disconnect_completes_pending() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var got := watch(ns.request("no_ack", [], 30.0))
	await settle(0.1)
	ns.disconnect_from_namespace()
	check_eq(got, [["timeout"]], "disconnect_from_namespace() completes a pending request with [\"timeout\"]")


func test_remove_namespace_completes_pending() -> void:
	if await connect_main() == null:
		return
	var chat := await join("/chat")
	if chat == null:
		return
	var got := watch(chat.request("no_ack", [], 30.0))
	await settle(0.1)
	check_eq(client.remove_namespace("/chat"), OK, "remove_namespace(\"/chat\")")
	check_eq(got, [["timeout"]], "remove_namespace() completes a pending request with [\"timeout\"]")


func test_concurrent_requests() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var logs: Array = []
	for i in 50:
		logs.append(watch(ns.request("ack", [i, "n%d" % i])))
	var slow := watch(ns.request("no_ack", [], 0.3))
	await wait_until(func(): return logs.all(func(l): return l.size() > 0))
	var wrong: Array = []
	for i in 50:
		if logs[i] != [[i, "n%d" % i]]:
			wrong.append([i, logs[i]])
	check_eq(wrong, [], "each of 50 concurrent requests got its own answer, once")
	await wait_for(slow, "the unanswered one among them times out")
	check_eq(slow, [["timeout"]], "the unanswered one completes with [\"timeout\"]")
	# Awaited one after another in one coroutine.
	var replies: Array = []
	for i in 5:
		replies.append(await ns.request("ack", [i]))
	check_eq(replies, [[0], [1], [2], [3], [4]], "sequential awaits")


func test_refused_still_completes() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var got := watch(ns.request("connect"))
	expect_error("request(\"connect\"): \"connect\" is reserved by Socket.IO")
	check_eq(got, [], "not completed before request() returns (the caller is not awaiting yet)")
	var reply: Array = await ns.request("")
	expect_error("request(\"\"): the event name is empty")
	check_eq(reply, ["timeout"], "an awaited refused request completes with [\"timeout\"]")
	check_eq(got, [["timeout"]], "the first one completed too, at the end of its frame")
	var bad_data: Array = await ns.request("EXPECTED_data", [Vector2.ZERO])
	expect_error("request(\"EXPECTED_data\"): data[0] is a Vector2")
	check_eq(bad_data, ["timeout"], "unsendable data: refused, completed")
	var bad_timeout: Array = await ns.request("EXPECTED_timeout", [], -1.0)
	expect_error("request(\"EXPECTED_timeout\"): the timeout must be a positive number of seconds")
	check_eq(bad_timeout, ["timeout"], "a negative timeout: refused, completed")
	var fine: Array = await ns.request("ack", ["still works"])
	check_eq(fine, ["still works"], "the namespace still works")


func test_detached_handle_still_completes() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	client.close()
	var reply: Array = await ns.request("ack", [1])
	expect_error("SocketIONamespace.request: this handle of namespace \"/\" belongs to a connection that was closed")
	check_eq(reply, ["timeout"], "a request on a closed client's handle completes with [\"timeout\"]")


func test_awaiting_object_freed() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var script := GDScript.new()
	script.source_code = AWAITER_SOURCE
	check_eq(script.reload(), OK, "the awaiter script compiles")
	var log: Array = []
	# Answered after the node is freed.
	var answered: Node = script.new()
	answered.name = "answered"
	add_child(answered)
	answered.start(ns, "ack", 5.0, log)
	answered.free()
	# Timed out after the node is freed.
	var timed_out: Node = script.new()
	timed_out.name = "timed_out"
	add_child(timed_out)
	timed_out.start(ns, "no_ack", 0.2, log)
	timed_out.queue_free()
	# Completed by close() after the node is freed.
	var closed: Node = script.new()
	closed.name = "closed"
	add_child(closed)
	closed.start(ns, "no_ack", 30.0, log)
	# A request awaited by nothing completes too (and is released).
	var unawaited := ns.request("ack", ["nobody waits"])
	var request: Object = unawaited.get_object()
	check(request != null and not request.is_completed(), "the request object is pending")
	closed.free()
	await settle(0.6)
	check(request.is_completed(), "an unawaited request completes")
	client.close()
	await settle(0.1)
	check_eq(log, [], "no function of a freed node was resumed")
	# A live one, for contrast, is resumed.
	ns = await connect_main()
	if ns == null:
		return
	var alive: Node = script.new()
	alive.name = "alive"
	add_child(alive)
	alive.start(ns, "ack", 5.0, log)
	await wait_for(log, "the live node's request")
	check_eq(log, [["from a freed node"], &"alive"], "the live node resumed with the answer")
	alive.free()


func test_request_objects_are_released() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var answered := ns.request("ack", [1])
	var timed_out := ns.request("no_ack", [], 0.2)
	var closed := ns.request("no_ack", [], 30.0)
	var refused := ns.request("")
	expect_error("request(\"\"): the event name is empty")
	var ids := [answered, timed_out, closed, refused].map(func(s: Signal): return s.get_object().get_instance_id())
	check(ids.all(func(id): return is_instance_id_valid(id)), "the client keeps pending requests alive")
	check_eq(answered.get_object().get_class(), "SocketIORequest", "the signal belongs to a SocketIORequest")
	await settle(0.5)
	check_eq(ids.map(func(id): return is_instance_id_valid(id)), [false, false, true, false],
			"answered, timed out and refused requests are released once completed")
	client.close()
	check(not is_instance_id_valid(ids[2]), "close() releases the request it completes")
