extends "res://test_suite.gd"
## Handlers that call back into the client while it dispatches: emit, on, off, close, poll, connect_to_namespace,
## disconnect_from_namespace and connect_to_url from inside handlers and signal receivers.


func test_emit_from_handler() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var seen: Array = []
	ns.on("echo", func(data):
		seen.append(data[0])
		if data[0] < 3:
			ns.emit("echo", [data[0] + 1])
	)
	ns.emit("echo", [1])
	await wait_until(func(): return seen.size() >= 3)
	check_eq(seen, [1, 2, 3], "each handler call emitted the next echo")


func test_off_from_inside_the_handler() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var calls: Array = []
	var all := listen(ns, "burst_item")
	var once := [Callable()]
	once[0] = func(data):
		calls.append(data[0])
		ns.off("burst_item", once[0])
	ns.on("burst_item", once[0])
	ns.emit("burst", [3])
	await wait_for(all, "three burst items", 3)
	check_eq(calls, [0], "the handler removed itself on its first call")
	once.clear()


func test_on_from_inside_a_handler() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var late: Array = []
	var added := [false]
	var all := listen(ns, "burst_item")
	ns.on("burst_item", func(data):
		if not added[0]:
			added[0] = true
			ns.on("burst_item", func(d): late.append(d[0]))
	)
	ns.emit("burst", [3])
	await wait_for(all, "three burst items", 3)
	check_eq(late, [1, 2], "a handler added during dispatch sees the following events, not the current one")


func test_close_from_inside_a_handler() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var items: Array = []
	var disconnected := record(client.disconnected)
	ns.on("burst_item", func(data):
		items.append(data[0])
		if data[0] == 3:
			client.close()
	)
	ns.emit("burst", [20])
	await wait_for(disconnected, "disconnected after close() in a handler")
	await settle(0.2)
	check_eq(items, [0, 1, 2, 3], "no event is delivered after close()")
	check_eq(disconnected, [["io client disconnect"]], "reason")
	check_eq(client.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "disconnected")


func test_poll_from_inside_a_handler() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var items: Array = []
	var done := listen(ns, "burst_done")
	ns.on("burst_item", func(data):
		items.append(data[0])
		client.poll()
	)
	ns.emit("burst", [50])
	await wait_for(done, "burst_done")
	var expected := []
	for i in 50:
		expected.append(i)
	check_eq(items, expected, "nested poll() keeps every event, once, in order")


func test_connect_to_namespace_from_inside_a_handler() -> void:
	var url := server_url()
	if url == "":
		return
	client.connect_to_url(url)
	var main := client.get_namespace("/")
	var chat_connected: Array = []
	main.on("welcome", func(_data):
		var chat := client.create_namespace("/chat")
		chat.connected.connect(func(sid): chat_connected.append(sid))
		chat.connect_to_namespace()
	)
	await wait_for(chat_connected, "/chat connected from inside the welcome handler")
	var chat := client.get_namespace("/chat")
	check(chat != null and chat.is_namespace_connected(), "/chat is connected")


func test_disconnect_from_namespace_inside_its_handler() -> void:
	var main := await connect_main()
	if main == null:
		return
	var chat := await join("/chat")
	if chat == null:
		return
	var items: Array = []
	var disconnected := record(chat.disconnected)
	chat.on("burst_item", func(data):
		items.append(data[0])
		if data[0] == 1:
			chat.disconnect_from_namespace()
	)
	chat.emit("burst", [10])
	await wait_for(disconnected, "/chat disconnected from inside its handler")
	await settle(0.2)
	check_eq(items, [0, 1], "no /chat event after disconnect_from_namespace()")
	check(main.is_namespace_connected(), "\"/\" unaffected")


func test_connect_to_url_from_the_disconnected_signal() -> void:
	var first := await connect_main()
	if first == null:
		return
	var connected := record(client.connected)
	var reconnect := func(_reason): client.connect_to_url(server_url())
	client.disconnected.connect(reconnect, CONNECT_ONE_SHOT)
	client.close()
	var second := client.get_namespace("/")
	check(second != null, "the namespace created during close()'s dispatch survives close()")
	check(second != first, "and it is a new one")
	await wait_for(connected, "connected again")
	if second != null:
		check(second.is_namespace_connected(), "the new connection works")
		var echoes := listen(second, "echo")
		second.emit("echo", ["new"])
		await wait_for(echoes, "echo on the new connection")


func test_emit_with_ack_from_ack_callback() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var answers: Array = []
	ns.emit_with_ack("ack", [1], func(r1):
		answers.append(r1)
		ns.emit_with_ack("ack", [r1[0] + 1], func(r2): answers.append(r2))
	)
	await wait_until(func(): return answers.size() >= 2)
	check_eq(answers, [[1], [2]], "an ack callback can emit with ack")
