extends "res://test_suite.gd"
## Connecting, the lifecycle signals and states, session ids, several namespaces with auth and refusals, close()
## and connecting again.


func test_connect_signals_and_state() -> void:
	var url := server_url()
	if url == "":
		return
	var c := client
	var connected := record(c.connected)
	var ns_connected := record(c.namespace_connected)
	check_eq(c.connect_to_url(url), OK, "connect_to_url returns OK")
	check_eq(c.get_connection_url(), url, "get_connection_url() is the URL given")
	check_eq(c.get_connection_state(), SocketIOClient.STATE_CONNECTING, "STATE_CONNECTING right after connect_to_url")
	check(c.has_namespace("/"), "the main namespace exists at once")
	var ns := c.get_namespace()
	check(ns != null and ns == c.get_namespace("/"), "get_namespace() defaults to \"/\"")
	check_eq(ns.get_connection_state(), SocketIONamespace.STATE_CONNECTING, "the main namespace is connecting")
	check_eq(connected.size(), 0, "nothing is signalled before poll()")
	var ns_signal := record(ns.connected)
	var welcome := listen(ns, "welcome")
	await wait_for(connected, "connected signal")
	await wait_for(welcome, "welcome event")
	var sid: String = connected[0][0] if connected.size() > 0 else ""
	check(sid != "", "connected(session_id) carries a session id")
	check_eq(ns.get_session_id(), sid, "the namespace's session id is the one signalled")
	check_eq(ns_signal.size(), 1, "the namespace's own connected signal fired once")
	if ns_signal.size() > 0:
		check_eq(ns_signal[0][0], sid, "with the same session id")
	check_eq(ns_connected, [["/"]], "namespace_connected(\"/\")")
	check_eq(c.get_connection_state(), SocketIOClient.STATE_CONNECTED, "STATE_CONNECTED")
	check_eq(c.is_socket_connected(), true, "is_socket_connected()")
	check_eq(ns.get_connection_state(), SocketIONamespace.STATE_CONNECTED, "namespace STATE_CONNECTED")
	check_eq(ns.is_namespace_connected(), true, "is_namespace_connected()")
	var eio_sid := c.get_engine_io_session_id()
	check(eio_sid != "", "an Engine.IO session id")
	check(eio_sid != sid, "the Engine.IO session id differs from the Socket.IO one")
	if welcome.size() > 0:
		check_eq(welcome[0], [{"sid": sid, "nsp": "/", "auth": {}, "recovered": false, "query": {}, "headers": {},
				"transport": "websocket", "server": "node"}], "the welcome event's data")


func test_auth_of_main_namespace() -> void:
	var auth := {"user": "ann", "level": 3, "ratio": 0.25, "tags": ["a", "é"]}
	var ns := await connect_main(auth)
	if ns == null:
		return
	var who = await request(ns, "whoami", [])
	if who != null:
		check_eq(who[0]["auth"], auth, "the server received the auth dictionary, int and float kept apart")
		check_eq(who[0]["nsp"], "/", "on the main namespace")
		check_eq(who[0]["sid"], ns.get_session_id(), "with our session id")


func test_a_url_path_names_a_namespace_to_connect() -> void:
	var url := server_url()
	if url == "":
		return
	var connected := record(client.connected)
	var paths := record(client.namespace_connected)
	check_eq(client.connect_to_url(url + "/admin", {"token": "secret"}), OK, "connect_to_url(url + \"/admin\")")
	check_eq(client.get_connection_url(), url + "/admin", "the URL as given")
	var admin := client.get_namespace("/admin")
	if not check(admin != null, "namespace /admin exists right after connect_to_url"):
		return
	var admin_connected := record(admin.connected)
	await wait_for(admin_connected, "/admin connected")
	await wait_for(connected, "\"/\" connected too: the client's connected signal")
	check_eq(connected.size(), 1, "one connected, for \"/\"")
	check_eq(paths.size(), 2, "namespace_connected for \"/\" and /admin")
	var who = await request(admin, "whoami", [])
	if who != null:
		check_eq(who[0]["nsp"], "/admin", "on /admin")
		check_eq(who[0]["auth"], {"token": "secret"}, "with the auth")
	var main_who = await request(client.get_namespace("/"), "whoami", [])
	if main_who != null:
		check_eq(main_who[0]["auth"], {"token": "secret"}, "\"/\" got the auth too")

	# The server path written into the URL is not a namespace.
	var again := record(client.connected)
	check_eq(client.connect_to_url(url + "/socket.io/"), OK, "connect_to_url(url + \"/socket.io/\")")
	check(not client.has_namespace("/socket.io/"), "no namespace /socket.io/")
	await wait_for(again, "connected through the server path as usual")
	check(not admin.is_namespace_connected(), "/admin is not connected by a URL that does not name it")

	check_eq(client.connect_to_url(url + "/a,b"), ERR_INVALID_PARAMETER, "a path that cannot be a namespace")
	expect_error("the URL's path names the namespace to connect")


func test_close_emits_and_forgets() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var c := client
	var disconnected := record(c.disconnected)
	var ns_disconnected := record(ns.disconnected)
	var path_disconnected := record(c.namespace_disconnected)
	c.close()
	check_eq(disconnected, [["io client disconnect"]], "disconnected(\"io client disconnect\") before close() returns")
	check_eq(ns_disconnected, [["io client disconnect"]], "the namespace's disconnected signal too")
	check_eq(path_disconnected, [["/"]], "namespace_disconnected(\"/\")")
	check_eq(c.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "STATE_DISCONNECTED")
	check_eq(c.is_socket_connected(), false, "is_socket_connected() is false")
	check_eq(c.get_engine_io_session_id(), "", "no Engine.IO session id after close")
	check(c.get_namespace("/") == null, "namespaces are forgotten after close()")
	check_eq(ns.get_connection_state(), SocketIONamespace.STATE_DISCONNECTED, "the old handle reports disconnected")
	check_eq(ns.get_session_id(), "", "and no session id")
	ns.emit("echo", ["EXPECTED stale"])
	expect_error("belongs to a connection that was closed")
	c.close()
	check_eq(disconnected.size(), 1, "a second close() signals nothing")
	await settle(0.2)
	check_eq(disconnected.size(), 1, "and nothing later either")


func test_connect_again_after_close() -> void:
	var first := await connect_main()
	if first == null:
		return
	var first_sid := first.get_session_id()
	client.close()
	var second := await connect_main()
	if second == null:
		return
	check(second != first, "a new namespace object after close() and connect_to_url()")
	check(second.get_session_id() != first_sid, "with a new session id")
	var echoes := listen(second, "echo")
	second.emit("echo", ["again"])
	await wait_for(echoes, "echo on the new connection")
	check_eq(echoes, [["again"]], "echo data")


func test_connect_to_url_while_connected_keeps_namespaces_and_handlers() -> void:
	var first := await connect_main()
	if first == null:
		return
	var chat := await join("/chat")
	if chat == null:
		return
	var echoes := listen(first, "echo")
	var answers: Array = []
	first.emit_with_ack("no_ack", [], func(response): answers.append(response), 30.0)
	var disconnected := record(client.disconnected)
	var main_disconnected := record(first.disconnected)
	var chat_disconnected := record(chat.disconnected)
	var connected := record(client.connected)
	check_eq(client.connect_to_url(server_url()), OK, "connect_to_url while connected")
	check_eq(disconnected, [["io client disconnect"]], "the previous connection was closed first")
	check_eq(main_disconnected, [["io client disconnect"]], "the main namespace's disconnected signal")
	check_eq(chat_disconnected, [["io client disconnect"]], "/chat's disconnected signal")
	check_eq(answers, [["timeout"]], "the old connection's pending ack callback got [\"timeout\"] before it returned")
	check(client.get_namespace("/") == first, "the main namespace handle is kept")
	check(client.get_namespace("/chat") == chat, "the other handles are kept")
	await wait_for(connected, "connected again")
	check(first.is_namespace_connected(), "the kept handle is connected")
	first.emit("echo", ["kept"])
	await wait_for(echoes, "a handler registered before connect_to_url() still works")
	check_eq(echoes, [["kept"]], "echo data")
	check_eq(chat.get_connection_state(), SocketIONamespace.STATE_DISCONNECTED, "/chat does not rejoin by itself")
	var chat_connected := record(chat.connected)
	check_eq(chat.connect_to_namespace(), OK, "the kept /chat handle connects again")
	await wait_for(chat_connected, "/chat connected on the new connection")


func test_connect_to_url_while_connecting_keeps_namespaces_and_handlers() -> void:
	var url := server_url()
	if url == "":
		return
	client.reconnection = false
	check_eq(client.connect_to_url("ws://127.0.0.1:1"), OK, "a first connect_to_url, to a closed port")
	var first := client.get_namespace("/")
	var welcome := listen(first, "welcome")
	var answers: Array = []
	first.emit_with_ack("ack", ["buffered"], func(response): answers.append(response), 30.0)
	var errors := record(client.connect_error)
	check_eq(client.connect_to_url(url), OK, "connect_to_url while the first one is connecting")
	check_eq(answers, [["timeout"]], "the ack buffered for the first connection got [\"timeout\"]")
	check(client.get_namespace("/") == first, "the main namespace handle is kept")
	await wait_for(welcome, "the handler registered during the first attempt gets the new connection's welcome")
	check_eq(errors, [], "no connect_error from the abandoned attempt")


func test_connect_to_url_when_disconnected_keeps_namespaces_and_handlers() -> void:
	client.reconnection = false
	var first := await connect_main()
	if first == null:
		return
	var disconnected := record(client.disconnected)
	var echoes := listen(first, "echo")
	first.emit("drop_transport")
	await wait_for(disconnected, "the server dropped the connection")
	check_eq(client.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "disconnected, no reconnection")
	var connected := record(client.connected)
	check_eq(client.connect_to_url(server_url()), OK, "connect_to_url after the connection was lost")
	check(client.get_namespace("/") == first, "the main namespace handle is kept")
	await wait_for(connected, "connected again")
	first.emit("echo", ["kept"])
	await wait_for(echoes, "the handler still works")


func test_connect_to_namespace_twice_while_connecting() -> void:
	var main := await connect_main()
	if main == null:
		return
	var chat := client.create_namespace("/chat")
	var connected := record(chat.connected)
	check_eq(chat.connect_to_namespace({"v": 1}), OK, "connect_to_namespace returns OK")
	check_eq(chat.get_connection_state(), SocketIONamespace.STATE_CONNECTING, "/chat is connecting")
	check_eq(chat.connect_to_namespace({"v": 2}), OK, "connect_to_namespace again while connecting returns OK")
	check_eq(chat.get_connection_state(), SocketIONamespace.STATE_CONNECTING, "still connecting")
	await wait_for(connected, "/chat connected")
	await settle(0.3)
	check_eq(connected.size(), 1, "connected once")
	var who = await request(chat, "whoami", [])
	if who != null:
		check_eq(who[0]["auth"], {"v": 1}, "the attempt under way kept the first auth")
		check_eq(who[0]["sid"], chat.get_session_id(), "the server's socket is ours")
	var count = await request(chat, "count", [])
	if count != null:
		check_eq(count, [1], "the server has one /chat socket: one CONNECT was sent")
	check_eq(chat.connect_to_namespace({"v": 3}), OK, "connect_to_namespace while connected returns OK")
	await settle(0.3)
	check_eq(connected.size(), 1, "and does nothing")


func test_several_namespaces_with_auth() -> void:
	var main := await connect_main()
	if main == null:
		return
	var paths := record(client.namespace_connected)
	var chat := await join("/chat")
	var admin := await join("/admin", {"token": "secret"})
	if chat == null or admin == null:
		return
	check_eq(paths, [["/chat"], ["/admin"]], "namespace_connected for each namespace")
	check(chat.get_session_id() != "" and chat.get_session_id() != main.get_session_id(),
			"each namespace has its own session id")
	check(admin.get_session_id() != chat.get_session_id(), "/admin's differs from /chat's")
	var who = await request(admin, "whoami", [])
	if who != null:
		check_eq(who[0], {"sid": admin.get_session_id(), "nsp": "/admin", "auth": {"token": "secret"}},
				"/admin saw our auth")
	var chat_echo := listen(chat, "echo")
	var main_echo := listen(main, "echo")
	chat.emit("echo", ["to chat"])
	await wait_for(chat_echo, "echo on /chat")
	check_eq(chat_echo, [["to chat"]], "/chat echo")
	check_eq(main_echo, [], "nothing leaked into \"/\"")
	check_eq(client.has_namespace("/admin"), true, "has_namespace(\"/admin\")")


func test_admin_refused_without_token() -> void:
	var main := await connect_main()
	if main == null:
		return
	var admin := client.create_namespace("/admin")
	var client_errors := record(client.connect_error)
	var ns_errors := record(admin.connect_error)
	var connected := record(admin.connected)
	check_eq(admin.connect_to_namespace({"token": "wrong"}), OK, "connect_to_namespace returns OK (refusal comes later)")
	await wait_for(client_errors, "connect_error on the client")
	await wait_for(ns_errors, "connect_error on the namespace")
	var expected := {"message": "Not authorized", "data": {"code": 401, "reason": "bad token"}, "namespace": "/admin"}
	if client_errors.size() > 0:
		check_eq(client_errors[0][0], expected, "the client's connect_error dictionary")
	if ns_errors.size() > 0:
		check_eq(ns_errors[0][0], expected, "the namespace's connect_error dictionary")
	check_eq(connected.size(), 0, "/admin never connected")
	check_eq(admin.get_connection_state(), SocketIONamespace.STATE_DISCONNECTED, "/admin is disconnected")
	check(main.is_namespace_connected(), "\"/\" is still connected")
	# With the right token on the same connection.
	check_eq(admin.connect_to_namespace({"token": "secret"}), OK, "connect_to_namespace again with the token")
	await wait_for(connected, "/admin connected with the right token")


func test_unknown_namespace_refused() -> void:
	var main := await connect_main()
	if main == null:
		return
	var nope := client.create_namespace("/nope")
	var errors := record(nope.connect_error)
	nope.connect_to_namespace()
	await wait_for(errors, "connect_error for an unknown namespace")
	if errors.size() > 0:
		check_eq(errors[0][0]["message"], "Invalid namespace", "socket.io's message")
		check_eq(errors[0][0]["namespace"], "/nope", "names the namespace")


func test_disconnect_from_namespace() -> void:
	var main := await connect_main()
	if main == null:
		return
	var chat := await join("/chat")
	if chat == null:
		return
	var disconnected := record(chat.disconnected)
	var paths := record(client.namespace_disconnected)
	chat.disconnect_from_namespace()
	check_eq(disconnected, [["io client disconnect"]], "disconnected before disconnect_from_namespace() returns")
	check_eq(paths, [["/chat"]], "namespace_disconnected(\"/chat\")")
	check_eq(chat.get_connection_state(), SocketIONamespace.STATE_DISCONNECTED, "/chat is disconnected")
	check_eq(chat.get_session_id(), "", "/chat has no session id")
	check(main.is_namespace_connected(), "\"/\" stays connected")
	check(client.is_socket_connected(), "the connection stays open")
	check(client.get_namespace("/chat") == chat, "the handle stays registered")
	chat.disconnect_from_namespace()
	check_eq(disconnected.size(), 1, "disconnecting again signals nothing")
	var connected := record(chat.connected)
	chat.connect_to_namespace()
	await wait_for(connected, "/chat connects again")
	var echoes := listen(chat, "echo")
	chat.emit("echo", [1])
	await wait_for(echoes, "echo after reconnecting /chat")


func test_disconnect_from_namespace_while_connecting() -> void:
	var main := await connect_main()
	if main == null:
		return
	var chat := client.create_namespace("/chat")
	var disconnected := record(chat.disconnected)
	var paths := record(client.namespace_disconnected)
	var connected := record(chat.connected)
	var closed := record(client.disconnected)
	chat.connect_to_namespace()
	check_eq(chat.get_connection_state(), SocketIONamespace.STATE_CONNECTING, "/chat is connecting")
	chat.disconnect_from_namespace()
	check_eq(disconnected, [["io client disconnect"]], "disconnected is emitted for a connecting namespace too")
	check_eq(paths, [["/chat"]], "namespace_disconnected(\"/chat\")")
	check_eq(chat.get_connection_state(), SocketIONamespace.STATE_DISCONNECTED, "/chat is disconnected")
	await settle(0.5)
	check_eq(connected.size(), 0, "the server's answer to the abandoned CONNECT does not connect it")
	check_eq(disconnected.size(), 1, "disconnected once")
	# socket.io closes the whole connection when a DISCONNECT comes before the CONNECT it follows was answered.
	check_eq(closed, [], "the connection stays open")
	check(main.is_namespace_connected(), "\"/\" stays connected")


func test_disconnect_main_namespace_before_the_connection_opens() -> void:
	var url := server_url()
	if url == "":
		return
	client.connect_to_url(url)
	var main := client.get_namespace("/")
	var disconnected := record(main.disconnected)
	var connected := record(main.connected)
	main.disconnect_from_namespace()
	check_eq(disconnected, [["io client disconnect"]], "disconnected is emitted before the connection is even open")
	check_eq(main.get_connection_state(), SocketIONamespace.STATE_DISCONNECTED, "\"/\" is disconnected")
	await settle(0.5)
	check_eq(connected.size(), 0, "and does not connect afterwards")


func test_server_disconnects_namespace() -> void:
	var main := await connect_main()
	if main == null:
		return
	var chat := await join("/chat")
	if chat == null:
		return
	var disconnected := record(chat.disconnected)
	var paths := record(client.namespace_disconnected)
	chat.emit("server_disconnect")
	await wait_for(disconnected, "/chat disconnected by the server")
	check_eq(disconnected, [["io server disconnect"]], "reason \"io server disconnect\"")
	check_eq(paths, [["/chat"]], "namespace_disconnected(\"/chat\")")
	await settle(0.3)
	check_eq(chat.get_connection_state(), SocketIONamespace.STATE_DISCONNECTED, "no automatic reconnection")
	check(main.is_namespace_connected(), "\"/\" is still connected")


func test_connect_error_when_nothing_listens() -> void:
	var c := client
	c.reconnection = false
	var errors := record(c.connect_error)
	var disconnected := record(c.disconnected)
	check_eq(c.connect_to_url("ws://127.0.0.1:1"), OK, "connect_to_url to a closed port starts connecting")
	var ns := c.get_namespace("/")
	var ns_errors := record(ns.connect_error)
	await wait_for(errors, "connect_error on the client")
	if errors.size() > 0:
		var error: Dictionary = errors[0][0]
		check(error.get("message", "") != "", "a message: %s" % error.get("message"))
		check_eq(error.get("namespace"), "", "no namespace for a connection failure")
		check(error.has("data"), "a data key")
	check_eq(ns_errors.size(), 1, "the main namespace got connect_error too")
	await settle(0.2)
	check_eq(c.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "disconnected, no reconnection")
	check_eq(disconnected.size(), 0, "no disconnected signal: it never connected")


func test_a_failed_connection_is_told_to_the_client_and_its_namespaces_in_one_go() -> void:
	var c := client
	c.reconnection = false
	var order: Array = []
	# A handler that polls from inside: the namespaces' connect_error still comes after it, not within its poll().
	c.connect_error.connect(func(_e): order.append("client"); c.poll(); order.append("client done"), CONNECT_ONE_SHOT)
	check_eq(c.connect_to_url("ws://127.0.0.1:1"), OK, "connect_to_url to a closed port starts connecting")
	var ns := c.get_namespace("/")
	ns.connect_error.connect(func(_e): order.append("/"))
	var chat := c.create_namespace("/chat")
	check_eq(chat.connect_to_namespace(), OK, "/chat asked to connect")
	chat.connect_error.connect(func(_e): order.append("/chat"))
	await wait_for(order, "connect_error on the client and both namespaces", 4)
	await settle(0.1)
	check_eq(order, ["client", "client done", "/", "/chat"], "the client's handler, then each waiting namespace")


func test_reconnect_attempts_then_failure() -> void:
	var c := client
	c.reconnection_attempts = 2
	c.reconnection_delay = 0.05
	c.reconnection_delay_max = 0.1
	c.randomization_factor = 0.0
	var attempts := record(c.reconnect_attempt, 2)
	var failed_log := record(c.reconnect_failed, 0)
	var errors := record(c.connect_error)
	c.connect_to_url("ws://127.0.0.1:1")
	await wait_for(failed_log, "reconnect_failed")
	check_eq(attempts.size(), 2, "two reconnect_attempt signals")
	if attempts.size() == 2:
		check_eq(attempts[0][0], 1, "first attempt is 1")
		check_eq(attempts[1][0], 2, "second attempt is 2")
		check(typeof(attempts[0][1]) == TYPE_FLOAT and attempts[0][1] >= 0.0, "the delay is a float in seconds")
		check(attempts[0][1] <= 0.1 + 0.0001, "the delay respects reconnection_delay_max")
	check_eq(errors.size(), 3, "a connect_error for the first try and each attempt")
	check_eq(c.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "disconnected after giving up")
