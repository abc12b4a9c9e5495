extends "res://test_suite.gd"
## Events and acknowledgements: value types both ways, unicode, binary at any depth, acks both ways, ack timeouts,
## handler order, off(), and handlers that call back into the client.

var bound_calls: Array = []


func _on_echo_bound(data: Array) -> void:
	bound_calls.append(data)


func test_value_types_round_trip() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var echoes := listen(ns, "echo")
	var sent := [1, -7, 2.5, 0.5, "text", true, false, null, [1, [2.25, "x"]], {"a": {"b": [1, {"c": null}]}},
			9007199254740991, -9007199254740991, ""]
	ns.emit("echo", sent)
	await wait_for(echoes, "echo")
	if echoes.size() > 0:
		check_eq(echoes[0], sent, "every JSON type comes back with its type (ints stay ints)")


func test_emits_leave_at_the_end_of_their_frame() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var echoes := listen(ns, "echo")
	var seen_by_one_poll := [false]
	ns.emit("echo", ["end of frame"])
	# Deferred calls run in order at the end of the frame: the client's flush, queued by the emit, comes first.
	# Without it the emit would wait for the next poll(), and this single poll() would find no echo.
	(func():
		OS.delay_msec(200)
		SocketIOClient.get_singleton().poll()
		seen_by_one_poll[0] = echoes.size() > 0
	).call_deferred()
	await get_tree().process_frame
	await get_tree().process_frame
	check(seen_by_one_poll[0], "an emit is written at the end of its frame, not at the next poll()")


func test_integral_float_comes_back_as_int() -> void:
	# JavaScript has one number type: 2.0 reaches the server as 2 and returns as an int. Documented behaviour.
	var ns := await connect_main()
	if ns == null:
		return
	var echoes := listen(ns, "echo")
	ns.emit("echo", [2.0, 1e300])
	await wait_for(echoes, "echo")
	if echoes.size() > 0:
		check_eq(echoes[0][0], 2, "2.0 comes back as the int 2")
		check_eq(echoes[0][1], 1e300, "1e300 stays a float")


func test_types_from_server() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var answer = await request(ns, "types", [])
	if answer == null:
		return
	var expected := {
		"int": 42, "neg": -7, "float": 1.5, "big": 9007199254740991, "zero_float": 0.5,
		"text": "héllo wörld ✓ 日本 🎮", "t": true, "f": false, "n": null,
		"arr": [1, 2.5, "x", [true, null]], "nested": {"a": {"b": {"c": [1]}}},
	}
	check_eq(answer, [expected], "the server's typed values")
	var value: Dictionary = answer[0]
	check_eq(typeof(value["int"]), TYPE_INT, "42 is an int")
	check_eq(typeof(value["float"]), TYPE_FLOAT, "1.5 is a float")
	check_eq(typeof(value["big"]), TYPE_INT, "2^53-1 is an int")
	check_eq(value.keys(), expected.keys(), "keys in the server's order")


func test_unicode_round_trip() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var echoes := listen(ns, "echo")
	var text := "héllo wörld ✓ 日本 🎮 \"quoted\" \\ back\nslash \t tab"
	ns.emit("echo", [text, {"ключ": "значение", "🎮": ["😀"]}])
	await wait_for(echoes, "echo")
	if echoes.size() > 0:
		check_eq(echoes[0], [text, {"ключ": "значение", "🎮": ["😀"]}], "unicode text and keys")


func test_unicode_event_name() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var got := listen(ns, "événement ✓")
	ns.emit("burst", [1, "événement ✓"])
	await wait_for(got, "an event with a unicode name")
	check_eq(got, [[0]], "its data")


func test_binary_from_server() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var answer = await request(ns, "binary_nested", [])
	if answer == null:
		return
	var expected := {
		"a": PackedByteArray([1, 2, 3]),
		"list": [PackedByteArray([4]), {"deep": PackedByteArray([5, 6])}],
		"text": "t",
	}
	check_eq(answer, [expected], "binary attachments at any depth arrive as PackedByteArray")


func test_binary_round_trip() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var echoes := listen(ns, "echo")
	var sent := [PackedByteArray([0, 1, 255]), {"x": [PackedByteArray([7]), "t", PackedByteArray()]},
			"between", PackedByteArray([9, 9])]
	ns.emit("echo", sent)
	await wait_for(echoes, "echo with binary")
	if echoes.size() > 0:
		check_eq(echoes[0], sent, "nested binary comes back in place")


func test_packed_arrays_and_names_as_json() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var echoes := listen(ns, "echo")
	var typed: Array[int] = [5, 6]
	ns.emit("echo", [PackedInt32Array([1, -2]), PackedInt64Array([9007199254740991]), PackedFloat32Array([0.5]),
			PackedFloat64Array([0.25, -1.5]), PackedStringArray(["a", "ü"]), NodePath("a/b:c"), &"name", typed,
			{&"key": 1}])
	await wait_for(echoes, "echo")
	if echoes.size() > 0:
		check_eq(echoes[0], [[1, -2], [9007199254740991], [0.5], [0.25, -1.5], ["a", "ü"], "a/b:c", "name", [5, 6],
				{"key": 1}], "packed arrays become JSON arrays; NodePath and StringName strings")
	var typed_data: Array[String] = ["typed", "data"]
	ns.emit("echo", typed_data)
	await wait_for(echoes, "echo of a typed data array", 2)
	if echoes.size() > 1:
		check_eq(echoes[1], ["typed", "data"], "a typed Array is accepted as data")


func test_default_data_argument() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var echoes := listen(ns, "echo")
	ns.emit("echo")
	await wait_for(echoes, "echo without data")
	check_eq(echoes, [[]], "emit(event) sends no arguments")


func test_ack_round_trip() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var answers: Array = []
	ns.emit_with_ack("ack", [1, "two", {"three": 3.5}, PackedByteArray([4])], func(response): answers.append(response))
	await wait_for(answers, "ack callback")
	await settle(0.2)
	check_eq(answers, [[1, "two", {"three": 3.5}, PackedByteArray([4])]], "called once with the server's answer")


func test_ack_with_default_timeout_and_bound_method() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	bound_calls.clear()
	ns.emit_with_ack("ack", ["bound"], _on_echo_bound)
	await wait_for(bound_calls, "bound method ack callback")
	check_eq(bound_calls, [["bound"]], "a bound method works as a callback")


func test_ack_timeout_fires_exactly_once() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var answers: Array = []
	var started := Time.get_ticks_msec()
	ns.emit_with_ack("no_ack", [1], func(response): answers.append(response), 0.3)
	await wait_for(answers, "timeout callback")
	var elapsed := (Time.get_ticks_msec() - started) / 1000.0
	check(elapsed >= 0.29 and elapsed < 2.0, "the timeout fired after about 0.3 s (%.2f s)" % elapsed)
	await settle(0.7)
	check_eq(answers, [["timeout"]], "called exactly once, with [\"timeout\"]")


func test_pending_ack_gets_timeout_on_close() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var answers: Array = []
	ns.emit_with_ack("no_ack", [], func(response): answers.append(response), 30.0)
	await settle(0.1)
	client.close()
	check_eq(answers, [["timeout"]], "close() resolves pending acks with [\"timeout\"] before it returns")


func test_server_asks_for_ack() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var results := listen(ns, "ack_result")
	var seen: Array = []
	ns.on("ask", func(data, ack):
		seen.append(data)
		ack.call(["pong", data[0], {"bin": PackedByteArray([1])}])
	)
	ns.emit("request_ack", ["ask", 7])
	await wait_for(results, "ack_result")
	check_eq(seen, [[7]], "the two-parameter handler got the data")
	check_eq(results, [["pong", 7, {"bin": PackedByteArray([1])}]], "the server received our ack arguments")


func test_server_ack_only_once() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var results := listen(ns, "ack_result")
	ns.on("EXPECTED_twice", func(_data, ack):
		ack.call(["first"])
		ack.call(["second"])
	)
	ns.emit("request_ack", ["EXPECTED_twice"])
	await wait_for(results, "ack_result")
	expect_error("ack(\"EXPECTED_twice\"): this event was already acknowledged")
	await settle(0.2)
	check_eq(results, [["first"]], "only the first ack was sent")


func test_ack_without_arguments_and_late_ack() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var results := listen(ns, "ack_result")
	var saved: Array = []
	ns.on("later", func(_data, ack): saved.append(ack))
	ns.emit("request_ack", ["later"])
	await wait_until(func(): return saved.size() > 0)
	check_eq(saved.size(), 1, "the handler kept the ack Callable")
	await settle(0.1)
	check_eq(results.size(), 0, "nothing acked yet")
	if saved.size() > 0:
		saved[0].call()
	await wait_for(results, "ack_result after a late ack.call()")
	check_eq(results, [[]], "an ack with no arguments")


func test_one_parameter_handler_of_ack_request() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var got := listen(ns, "ask1")
	ns.emit("request_ack", ["ask1", "x"])
	await wait_for(got, "a one-parameter handler receives an event that asks for an ack")
	check_eq(got, [["x"]], "its data")


func test_ack_when_none_was_requested() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var acks: Array = []
	ns.on("EXPECTED_noack", func(_data, ack):
		acks.append(ack)
		ack.call(["nobody asked"])
	)
	ns.emit("burst", [1, "EXPECTED_noack"])
	await wait_until(func(): return acks.size() > 0)
	check_eq(acks.size(), 1, "two-parameter handlers also get an ack for events without one")
	expect_error("ack(\"EXPECTED_noack\"): the server did not ask for an acknowledgement")


func test_ack_with_unsendable_value() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var results := listen(ns, "ack_result")
	ns.on("EXPECTED_badack", func(_data, ack):
		ack.call([Vector2.ZERO])
		ack.call(["fine"])
	)
	ns.emit("request_ack", ["EXPECTED_badack"])
	await wait_for(results, "ack_result")
	expect_error("ack(\"EXPECTED_badack\"): args[0] is a Vector2")
	check_eq(results, [["fine"]], "a refused ack is not used up")


func test_handlers_order_and_event_received() -> void:
	var url := server_url()
	if url == "":
		return
	client.connect_to_url(url)
	var ns := client.get_namespace("/")
	var order: Array = []
	var received := record(ns.event_received, 2)
	ns.event_received.connect(func(name, _data): if name == "echo": order.append("event_received"))
	ns.on("echo", func(data): order.append("first %s" % data[0]))
	ns.on("echo", func(data): order.append("second %s" % data[0]))
	ns.on("echo", func(): order.append("no parameter"))
	ns.emit("echo", ["x"])
	await wait_until(func(): return order.size() >= 4)
	check_eq(order, ["event_received", "first x", "second x", "no parameter"],
			"event_received first, then the handlers in registration order")
	var echo_events := received.filter(func(e): return e[0] == "echo")
	check_eq(echo_events, [["echo", ["x"]]], "event_received(event_name, data)")
	var welcome := received.filter(func(e): return e[0] == "welcome")
	check_eq(welcome.size(), 1, "event_received fires without any handler (welcome)")


func test_events_nobody_listens_to_are_skipped_in_order() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	# Nothing listens to "unheard" yet: those events' payloads are not built and nothing is emitted for them. The
	# events after them still come, in order, to whatever listens by then.
	var done := listen(ns, "burst_done")
	ns.emit("burst", [3, "unheard"])
	await wait_for(done, "burst_done after three unheard events")
	var received := record(ns.event_received, 2)
	var heard := listen(ns, "unheard")
	ns.emit("burst", [2, "unheard"])
	await wait_for(done, "the second burst_done", 2)
	check_eq(heard, [[0], [1]], "heard once a handler is registered; the unheard ones are gone")
	check_eq(received, [["unheard", [0]], ["unheard", [1]], ["burst_done", [2]]],
			"event_received gets the events from its connection on")
	check_eq(done, [[3], [2]], "the events after the unheard ones came, in order")


func test_off_lambda_and_bound_method() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var lambda_calls: Array = []
	var handler := func(data): lambda_calls.append(data)
	bound_calls.clear()
	var all := listen(ns, "echo")
	ns.on("echo", handler)
	ns.on("echo", _on_echo_bound)
	ns.emit("echo", [1])
	await wait_for(all, "first echo")
	await settle(0.05)
	check_eq(lambda_calls, [[1]], "the lambda handler ran")
	check_eq(bound_calls, [[1]], "the bound method handler ran")
	ns.off("echo", handler)
	ns.off("echo", _on_echo_bound)
	ns.emit("echo", [2])
	await wait_for(all, "second echo", 2)
	await settle(0.05)
	check_eq(lambda_calls, [[1]], "off() removed the lambda")
	check_eq(bound_calls, [[1]], "off() removed the bound method (an equal Callable)")
	ns.off("echo", handler)
	ns.off("nothing", handler)
	check(true, "off() of a handler not registered does nothing")


func test_off_removes_one_registration() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var calls: Array = []
	var handler := func(data): calls.append(data[0])
	ns.on("echo", handler)
	ns.on("echo", handler)
	ns.off("echo", handler)
	ns.emit("echo", ["once"])
	await wait_for(calls, "echo")
	await settle(0.1)
	check_eq(calls, ["once"], "one of two registrations of the same handler remains")


func test_buffered_emits_before_connected() -> void:
	var url := server_url()
	if url == "":
		return
	client.connect_to_url(url)
	var ns := client.get_namespace("/")
	var echoes := listen(ns, "echo")
	ns.emit("echo", ["sent while connecting"])
	var chat := client.create_namespace("/chat")
	var chat_echoes := listen(chat, "echo")
	chat.emit("echo", ["sent before connect_to_namespace"])
	chat.connect_to_namespace()
	await wait_for(echoes, "the buffered emit on \"/\"")
	await wait_for(chat_echoes, "the buffered emit on /chat")
	check_eq(echoes, [["sent while connecting"]], "\"/\" data")
	check_eq(chat_echoes, [["sent before connect_to_namespace"]], "/chat data")


func test_refused_emit_sends_nothing() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var echoes := listen(ns, "echo")
	ns.emit("echo", [{"EXPECTED": Vector2.ONE}])
	expect_error("data[0][\"EXPECTED\"] is a Vector2")
	ns.emit("echo", ["after"])
	await wait_for(echoes, "echo")
	await settle(0.1)
	check_eq(echoes, [["after"]], "only the valid emit reached the server")


func test_chat_broadcast() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var chat := await join("/chat")
	if chat == null:
		return
	var lines := listen(chat, "chat")
	chat.emit("chat", ["hello ✓"])
	await wait_for(lines, "chat broadcast")
	if lines.size() > 0:
		check_eq(lines[0], [{"from": chat.get_session_id(), "text": "hello ✓", "server": "node"}], "the broadcast names us")


## Connects with the limit `property` = `value`, has the server send what exceeds it (event `event`, `data`), and
## checks that the connection is closed with "parse error", with a cause that names the limit (warned and kept).
func _exceed_limit(property: String, value, event: String, data: Array) -> void:
	if runner.catcher != null:
		runner.catcher.take_warnings()
	client.reconnection = false
	client.set(property, value)
	var ns := await connect_main()
	if ns == null:
		return
	var disconnected := record(client.disconnected)
	var got := listen(ns, event)
	ns.emit(event, data)
	await wait_for(disconnected, "disconnected when the server exceeds %s = %s" % [property, value])
	check_eq(disconnected, [["parse error"]], "reason \"parse error\"")
	check_eq(got, [], "the oversized event was not delivered")
	check(property in client.get_last_error(), "get_last_error() names the limit %s: %s" % [property, client.get_last_error()])
	expect_warning("the connection was lost (parse error): ", property)
	client.close()
	check_eq(client.get_last_error(), "", "close() clears the last error")


func test_max_message_size_applies() -> void:
	await _exceed_limit("max_message_size", 2000, "big", [5000])


func test_max_attachments_applies() -> void:
	await _exceed_limit("max_attachments", 2, "echo", [PackedByteArray([1]), PackedByteArray([2]), PackedByteArray([3])])


func test_max_nesting_depth_applies() -> void:
	await _exceed_limit("max_nesting_depth", 3, "echo", [{"a": {"b": {"c": [1]}}}])


func test_emit_volatile() -> void:
	var main := await connect_main()
	if main == null:
		return
	var echoes := listen(main, "echo")
	check_eq(main.emit_volatile("echo", ["now"]), true, "sent while connected")
	check_eq(main.emit_volatile("echo"), true, "data defaults to []")
	await wait_for(echoes, "the volatile echoes", 2)
	check_eq(echoes, [["now"], []], "echo data")
	var chat := client.create_namespace("/chat")
	var chat_echoes := listen(chat, "echo")
	check_eq(chat.emit_volatile("echo", ["dropped"]), false, "dropped while /chat is not connected")
	var connected := record(chat.connected)
	chat.connect_to_namespace()
	check_eq(chat.emit_volatile("echo", ["dropped too"]), false, "dropped while /chat is connecting")
	chat.emit("echo", ["buffered"])
	await wait_for(connected, "/chat connected")
	await wait_for(chat_echoes, "the buffered echo")
	await settle(0.3)
	check_eq(chat_echoes, [["buffered"]], "only the plain emit was kept and sent")
	check_eq(main.emit_volatile("EXPECTED_volatile", [Vector2.ZERO]), false, "data that cannot be sent")
	expect_error("emit_volatile(\"EXPECTED_volatile\"): data[0] is a Vector2")
	check_eq(main.emit_volatile("connect"), false, "a reserved name")
	expect_error("\"connect\" is reserved by Socket.IO")


func test_emits_larger_than_the_servers_max_payload() -> void:
	var url := env("SOCKETIO_TEST_SMALL_PAYLOAD_URL")
	if url == "":
		return
	var connected := record(client.connected)
	check_eq(client.connect_to_url(url), OK, "connect_to_url(%s)" % url)
	var main := client.get_namespace("/")
	var echoes := listen(main, "echo")
	var answers: Array = []
	var big := "x".repeat(10000)
	# Buffered before the server told its maxPayload: refused when the namespace connects.
	main.emit("echo", [big])
	main.emit_with_ack("ack", [big], func(response): answers.append(response))
	main.emit("echo", ["small"])
	await wait_for(connected, "connected to the small-payload server")
	await wait_for(echoes, "the small echo")
	expect_error("emit on /: packet of 10", 2)
	await wait_for(answers, "the oversized emit_with_ack's callback")
	check_eq(answers, [["timeout"]], "called with [\"timeout\"]")
	check(client.is_socket_connected(), "the connection stays up: nothing oversized was written")
	# Once the limit is known, an oversized emit is refused at once.
	main.emit("EXPECTED_big", [big])
	expect_error("emit(\"EXPECTED_big\"): packet of")
	main.emit("echo", ["after"])
	await wait_for(echoes, "the next echo", 2)
	check_eq(echoes, [["small"], ["after"]], "only the small emits arrived")


## JavaScript strings that UTF-8 or Godot cannot hold as they are: a lone UTF-16 surrogate (a string cut inside an
## emoji) reads as U+FFFD, and a NUL becomes U+FFFD instead of cutting the string (or a dictionary key) short. The
## connection and the rest of the packet are kept.
func test_lone_surrogates_and_nul_characters_from_server() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var odd := listen(ns, "odd")
	var after := listen(ns, "after_odd")
	var names := record(ns.event_received, 2)
	var by_name := listen(ns, "odd\uFFFDname")
	var disconnected := record(client.disconnected)
	var answers: Array = []
	ns.emit_with_ack("odd_strings", [], func(answer): answers.append(answer))
	await wait_for(after, "the event after the odd ones")
	await wait_for(answers, "the ack answer with the odd strings")
	var expected := ["hi \uFFFD", "\uFFFDx", "a\uFFFDb", {"a\uFFFDb": 1, "a\uFFFDc": 2, "a": 3}]
	check_eq(odd, [expected], "lone surrogates and NULs arrive as U+FFFD, nothing cut off")
	if odd.size() == 1:
		check_eq(odd[0][2].length(), 3, "\"a\\u0000b\" keeps its three characters")
		check_eq(odd[0][3].size(), 3, "keys with a NUL stay distinct")
	check_eq(answers, [expected], "the same in an ack answer")
	var event_names := names.map(func(entry): return entry[0])
	check(event_names.has("odd\uFFFDname"), "an event name with a NUL is not cut short: %s" % [event_names])
	check_eq(by_name, [["x"]], "and reaches the handlers registered under that name")
	check_eq(disconnected, [], "the connection stays up")
	check(client.is_socket_connected(), "still connected")


## An ack Callable kept across a reconnection answers nothing in the new session: it reports an error and sends
## nothing. (Node numbers its requests per namespace, so it would ignore a stale answer; python-socketio numbers them
## per session, where the stale answer would answer the new question. The error is what shows the rule here.)
func test_an_ack_kept_across_a_reconnection_answers_nothing() -> void:
	client.reconnection_delay = 0.2
	client.reconnection_delay_max = 0.2
	var ns := await connect_main()
	if ns == null:
		return
	var results := listen(ns, "ack_result")
	var saved: Array = []
	ns.on("EXPECTED_stale", func(data, ack): saved.append([data[0], ack]))
	ns.emit("request_ack", ["EXPECTED_stale", "first question"])
	await wait_until(func(): return saved.size() == 1)
	var connected := record(client.connected)
	ns.emit("drop_transport", ["tcp"])
	await wait_for(connected, "reconnected")
	ns.emit("request_ack", ["EXPECTED_stale", "second question"])
	await wait_until(func(): return saved.size() == 2)
	if not check_eq(saved.size(), 2, "both questions reached the handler"):
		return
	saved[0][1].call(["answer to the first question"])
	expect_error("ack(\"EXPECTED_stale\"): the event was received in an earlier session of namespace \"/\"")
	saved[1][1].call(["answer to the second question"])
	await wait_for(results, "the server's ack_result")
	await settle(0.2)
	check_eq(results, [["answer to the second question"]], "the second question got its own answer, and only it")


## Handlers and callbacks that could never be called with their parameter count are refused when registered, with
## an error that names the shapes accepted; socket.io-client's func(err, response) is one of them.
func test_callback_shapes() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	ns.on("EXPECTED_three", func(_a, _b, _c): pass)
	expect_error("on(\"EXPECTED_three\"): the callback takes 3 parameters; it would never be called: use func(data: Array)")
	var sent: Array = []
	ns.emit_with_ack("EXPECTED_ack3", ["x"], func(_a, _b, _c): sent.append(1), 2.0)
	expect_error("emit_with_ack(\"EXPECTED_ack3\"): the callback takes 3 parameters")
	var styled: Array = []
	ns.emit_with_ack("ack", ["x", 2], func(err, response): styled.append([err, response]), 2.0)
	ns.emit_with_ack("no_ack", [], func(err, response): styled.append([err, response]), 0.3)
	var nothing_wanted: Array = []
	ns.emit_with_ack("ack", ["y"], func(): nothing_wanted.append(true), 2.0)
	await wait_until(func(): return styled.size() == 2 and nothing_wanted.size() == 1, 5.0)
	check_eq(styled, [[null, ["x", 2]], ["timeout", []]],
		"func(err, response): (null, the answer) when answered, (\"timeout\", []) on timeout")
	check_eq(nothing_wanted, [true], "func() is called without the answer")
	check_eq(sent, [], "a refused callback is never called")
