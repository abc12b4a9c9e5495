extends "res://test_suite.gd"
## Independent clients: SocketIOClient.new() makes a client of its own (connection, namespaces, signals, settings),
## alongside the singleton; free() closes it cleanly, also from inside its own handlers.

## The clients made by the current test: polled every frame (the runner polls only the singleton), and freed by
## end() when the test did not.
var _made: Array = []


func _process(_delta: float) -> void:
	for c in _made:
		if is_instance_valid(c):
			c.poll()


func _new_client() -> SocketIOClient:
	var c := SocketIOClient.new()
	_made.append(c)
	return c


func end() -> void:
	for c in _made:
		if is_instance_valid(c):
			c.free()
	_made.clear()
	await super()


## Connects `c` with `auth` and returns [main namespace, welcome log] once its welcome came (null on failure).
func _connect(c: SocketIOClient, auth: Dictionary) -> Array:
	check_eq(c.connect_to_url(server_url(), auth), OK, "connect_to_url with %s" % auth)
	var ns := c.get_namespace("/")
	if not check(ns != null, "the main namespace of %s exists" % auth):
		return [null, []]
	var welcome := listen(ns, "welcome")
	await wait_for(welcome, "welcome for %s" % auth)
	return [ns, welcome]


## The number of sockets the server has on "/", asked through `ns`.
func _server_count(ns: SocketIONamespace) -> int:
	var answer = await request(ns, "count", [])
	return answer[0] if answer is Array and answer.size() == 1 else -1


## Asks the server (through `ns`) until it has `count` sockets on "/"; false after 10 s.
func _wait_count(ns: SocketIONamespace, count: int) -> bool:
	var deadline := Time.get_ticks_msec() + 10000
	while Time.get_ticks_msec() < deadline:
		if await _server_count(ns) == count:
			return true
		await settle(0.1)
	return false


func test_new_clients_have_their_own_connections() -> void:
	if server_url() == "":
		return
	var a := _new_client()
	var b := _new_client()
	check(a != client and b != client and a != b, "new() makes distinct clients, none of them the singleton")
	check(SocketIOClient.get_singleton() == client, "get_singleton() still returns the shared instance")
	check_eq(a.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "a new client starts disconnected")
	check(not a.has_namespace("/"), "a new client has no namespace")
	var a_connected := record(a.connected)
	var b_connected := record(b.connected)
	var s_connected := record(client.connected)

	check_eq(client.connect_to_url(server_url(), {"who": "singleton"}), OK, "the singleton connects")
	var s_ns := client.get_namespace("/")
	var s_welcome := listen(s_ns, "welcome")
	var ra := await _connect(a, {"who": "a"})
	var rb := await _connect(b, {"who": "b"})
	await wait_for(s_welcome, "the singleton's welcome")
	var a_ns: SocketIONamespace = ra[0]
	var b_ns: SocketIONamespace = rb[0]
	if a_ns == null or b_ns == null or s_welcome.is_empty():
		return
	var a_welcome: Array = ra[1]
	var b_welcome: Array = rb[1]
	check_eq(a_welcome[0][0]["auth"], {"who": "a"}, "a's welcome echoes a's auth")
	check_eq(b_welcome[0][0]["auth"], {"who": "b"}, "b's welcome echoes b's auth")
	check_eq(s_welcome[0][0]["auth"], {"who": "singleton"}, "the singleton's welcome echoes its auth")
	check_eq([a_welcome.size(), b_welcome.size(), s_welcome.size()], [1, 1, 1], "one welcome each")
	check_eq([a_connected.size(), b_connected.size(), s_connected.size()], [1, 1, 1],
		"each client's connected signal was emitted once, for its own connection")
	check(a_ns != b_ns and a_ns != s_ns, "each client has its own namespace handles")
	var eio := [a.get_engine_io_session_id(), b.get_engine_io_session_id(), client.get_engine_io_session_id()]
	check(eio[0] != "" and eio[0] != eio[1] and eio[0] != eio[2] and eio[1] != eio[2],
		"three Engine.IO sessions: %s" % [eio])
	check_eq(await _server_count(s_ns), 3, "the server has three sockets on /")

	# Events go back to the client that asked only.
	var a_echo := listen(a_ns, "echo")
	var b_echo := listen(b_ns, "echo")
	var s_echo := listen(s_ns, "echo")
	a_ns.emit("echo", ["from a"])
	b_ns.emit("echo", ["from b"])
	s_ns.emit("echo", ["from singleton"])
	await wait_for(a_echo, "a's echo")
	await wait_for(b_echo, "b's echo")
	await wait_for(s_echo, "the singleton's echo")
	await settle(0.2)
	check_eq(a_echo, [["from a"]], "a got its echo only")
	check_eq(b_echo, [["from b"]], "b got its echo only")
	check_eq(s_echo, [["from singleton"]], "the singleton got its echo only")

	# Acks: each callback gets its own client's answer.
	var answers := {}
	a_ns.emit_with_ack("ack", ["a"], func(r): answers["a"] = r)
	b_ns.emit_with_ack("ack", ["b"], func(r): answers["b"] = r)
	s_ns.emit_with_ack("ack", ["s"], func(r): answers["s"] = r)
	check(await wait_until(func(): return answers.size() == 3), "three acks")
	check_eq(answers, {"a": ["a"], "b": ["b"], "s": ["s"]}, "each ack came to its own client")

	# Namespaces of one client are not the other's; closing one client leaves the others connected.
	var chat := a.create_namespace("/chat")
	check(chat != null and not b.has_namespace("/chat") and not client.has_namespace("/chat"),
		"a namespace made on a exists on a only")
	var b_disconnected := record(b.disconnected)
	a.close()
	check_eq(a.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "a is closed")
	check(b.is_socket_connected() and client.is_socket_connected(), "b and the singleton stay connected")
	check(b_disconnected.is_empty(), "closing a emits nothing on b")
	check(await _wait_count(s_ns, 2), "the server sees a leave")


func test_settings_are_independent() -> void:
	if server_url() == "":
		return
	var a := _new_client()
	var b := _new_client()
	a.reconnection_delay = 3.0
	a.transports = PackedStringArray(["polling"])
	a.query = {"who": "a"}
	a.max_nesting_depth = 10
	check_eq(b.reconnection_delay, 1.0, "b keeps the default reconnection_delay")
	check_eq(client.reconnection_delay, 1.0, "so does the singleton")
	check_eq(b.transports, PackedStringArray(["websocket", "polling"]), "b keeps the default transports")
	check_eq(b.query, {}, "b has no query")
	check_eq(b.max_nesting_depth, 64, "b keeps the default max_nesting_depth")
	check_eq([a.reconnection_delay, a.query, a.max_nesting_depth], [3.0, {"who": "a"}, 10], "a has its own")
	client.query = {"who": "singleton"}
	var ra := await _connect(a, {})
	var rb := await _connect(b, {})
	if ra[0] == null or rb[0] == null:
		return
	var wa: Dictionary = ra[1][0][0]
	var wb: Dictionary = rb[1][0][0]
	check_eq([wa["transport"], wa["query"]], ["polling", {"who": "a"}], "a connects over polling with its query")
	check_eq([wb["transport"], wb["query"]], ["websocket", {}], "b connects over WebSocket without a query")
	check_eq(a.get_transport(), "polling", "a's transport")
	check_eq(b.get_transport(), "websocket", "b's transport")


func test_free_connected_client() -> void:
	if server_url() == "":
		return
	var s_ns := await connect_main()
	var a := SocketIOClient.new()
	_made.append(a)
	var ra := await _connect(a, {"who": "a"})
	var a_ns: SocketIONamespace = ra[0]
	if a_ns == null or s_ns == null:
		return
	var chat := a.create_namespace("/chat")
	var chat_connected := record(chat.connected)
	chat.connect_to_namespace()
	await wait_for(chat_connected, "a's /chat connected")
	check_eq(await _server_count(s_ns), 2, "the server has the singleton and a on /")
	# What the client holds, each capturing an object that must be released with it.
	var markers := _register_markers(a, a_ns)
	var disconnects := record(a_ns.disconnected)
	var chat_disconnects := record(chat.disconnected)
	a_ns.emit("echo", ["unflushed"])
	a.free()
	check(not is_instance_valid(a), "the client is freed")
	for i in markers.size():
		check(markers[i].get_ref() == null, "what the client held is released (%d)" % i)
	check(disconnects.is_empty() and chat_disconnects.is_empty(), "no signal is emitted by a client being freed")
	check(await _wait_count(s_ns, 1), "the server sees the client disconnect")
	check(client.is_socket_connected(), "the singleton stays connected")
	# Its handles now refuse, saying why.
	check_eq(a_ns.get_connection_state(), SocketIONamespace.STATE_DISCONNECTED, "a freed client's handle is disconnected")
	check_eq(a_ns.get_session_id(), "", "and has no session id")
	a_ns.emit("echo", ["EXPECTED"])
	expect_error("the SocketIOClient of namespace \"/\" was freed")
	check_eq(chat.connect_to_namespace(), ERR_UNCONFIGURED, "connect_to_namespace on a freed client's handle")
	expect_error("the SocketIOClient of namespace \"/chat\" was freed")
	await settle(0.3)
	check(disconnects.is_empty(), "nothing comes to the handles afterwards")


## A handler, an ack callback and receivers of the client's and the namespace's signals, each capturing a new
## object; returns weak references to those objects. (Made here so that no temporary of the test keeps them.)
func _register_markers(c: SocketIOClient, ns: SocketIONamespace) -> Array:
	var m := [RefCounted.new(), RefCounted.new(), RefCounted.new(), RefCounted.new()]
	var m0: RefCounted = m[0]
	var m1: RefCounted = m[1]
	var m2: RefCounted = m[2]
	var m3: RefCounted = m[3]
	ns.on("echo", func(_d): m0.get_reference_count())
	ns.emit_with_ack("no_ack", [], func(_r): m1.get_reference_count(), 60.0)
	c.disconnected.connect(func(_r): m2.get_reference_count())
	# A receiver capturing the namespace itself too (a cycle through its own signal).
	ns.event_received.connect(func(_n, _d): [m3, ns].size())
	return m.map(func(o): return weakref(o))


func test_free_from_inside_handlers() -> void:
	if server_url() == "":
		return
	var s_ns := await connect_main()
	if s_ns == null:
		return
	# From an ack callback, during the dispatch of disconnect_from_namespace() (the ack times out first): the
	# actions left of that dispatch (the namespace's disconnected, a second ack timeout) are not performed.
	var a := _new_client()
	var a_id := a.get_instance_id()
	var ra := await _connect(a, {"who": "a"})
	if ra[0] == null:
		return
	var chat := a.create_namespace("/chat")
	var chat_connected := record(chat.connected)
	chat.connect_to_namespace()
	await wait_for(chat_connected, "/chat connected")
	var log := []
	chat.emit_with_ack("no_ack", [], func(r):
		log.append(["ack", r])
		a.free()
	, 60.0)
	chat.emit_with_ack("no_ack", [], func(r): log.append(["second ack", r]), 60.0)
	chat.disconnected.connect(func(reason): log.append(["disconnected", reason]))
	chat.disconnect_from_namespace()
	check(not is_instance_id_valid(a_id), "freed from its ack callback")
	check_eq(log, [["ack", ["timeout"]]], "the rest of that dispatch was not performed")
	check_eq(chat.get_connection_state(), SocketIONamespace.STATE_DISCONNECTED, "its handle reports disconnected")
	chat.emit("echo", ["EXPECTED"])
	expect_error("was freed")

	# From an event handler run by poll(): Godot (debug builds) refuses free() of an object one of whose methods
	# is running ("Attempted to free a locked object"), so the handler defers it; events after it in that poll
	# are still dispatched, none after it is freed.
	var b := _new_client()
	var b_id := b.get_instance_id()
	var seen := []
	b.connect_to_url(server_url(), {"who": "b"})
	var b_ns := b.get_namespace("/")
	b_ns.on("welcome", func(_d): b_ns.emit("burst", [20]))
	b_ns.on("burst_item", func(data):
		seen.append(data[0])
		if data[0] == 3:
			b.free.call_deferred()
	)
	check(await wait_until(func(): return not is_instance_id_valid(b_id)), "freed (deferred) from its event handler")
	var count := seen.size()
	await settle(0.3)
	check(count >= 4 and seen.size() == count, "nothing is dispatched once it is freed (%d events)" % count)

	# From the main namespace's connected receiver, deferred likewise.
	var c := _new_client()
	var c_id := c.get_instance_id()
	var after := []
	c.connect_to_url(server_url(), {"who": "c"})
	var c_ns := c.get_namespace("/")
	c_ns.connected.connect(func(_sid): c.free.call_deferred())
	c_ns.on("echo", func(_d): after.append("echo"))
	c_ns.emit("echo", ["buffered"])
	check(await wait_until(func(): return not is_instance_id_valid(c_id)), "freed (deferred) from its connected receiver")
	await settle(0.3)
	check_eq(after, [], "no handler of it runs once it is freed")
	check(await _wait_count(s_ns, 1), "the server sees all three leave")


func test_forgotten_client_is_released_at_exit() -> void:
	if server_url() == "":
		return
	# Left connected, with handlers and receivers capturing their namespaces: the exit hook shuts it down with the
	# singleton, and the extension frees it when it unloads (the run fails on any leak report at exit).
	var forgotten := SocketIOClient.new()
	var connected := []
	forgotten.connect_to_url(server_url(), {"who": "forgotten"})
	var ns := forgotten.get_namespace("/")
	ns.connected.connect(func(_sid):
		connected.append(true)
		ns.emit("echo", ["still here"])
	)
	ns.on("echo", func(_d): ns.get_session_id())
	forgotten.disconnected.connect(func(_r): ns.get_session_id())
	var never_connected := SocketIOClient.new()
	never_connected.connected.connect(func(_sid): ns.get_session_id())
	# Not in _made: polled here until connected, then left alone.
	var deadline := Time.get_ticks_msec() + 10000
	while connected.is_empty() and Time.get_ticks_msec() < deadline:
		forgotten.poll()
		await get_tree().process_frame
	check(not connected.is_empty(), "the client that is never freed connected")


func test_free_completes_pending_requests() -> void:
	if server_url() == "":
		return
	var c := _new_client()
	var got := await _connect(c, {"who": "requester"})
	var ns: SocketIONamespace = got[0]
	if ns == null:
		return
	var replies: Array = []
	var waiter := func() -> void:
		var reply: Array = await ns.request("no_ack", [], 30.0)
		replies.append(reply)
	waiter.call()
	await settle(0.1)
	c.free()
	check_eq(replies, [], "not resumed inside free()")
	await settle(0.1)
	check_eq(replies, [["timeout"]], "a request pending on a freed client completes with [\"timeout\"] after it")
