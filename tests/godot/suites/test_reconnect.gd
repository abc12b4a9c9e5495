extends "res://test_suite.gd"
## Automatic reconnection after the server drops the connection.


func _fast_reconnection() -> void:
	client.reconnection_delay = 0.1
	client.reconnection_delay_max = 0.2
	client.randomization_factor = 0.0


func _drop_and_reconnect(how: Array) -> void:
	_fast_reconnection()
	var main := await connect_main()
	if main == null:
		return
	var chat := await join("/chat")
	if chat == null:
		return
	var old_sid := main.get_session_id()
	var disconnected := record(client.disconnected)
	var main_disconnected := record(main.disconnected)
	var attempts := record(client.reconnect_attempt, 2)
	var reconnected := record(client.reconnected)
	var connected := record(client.connected)
	var chat_connected := record(chat.connected)
	var echoes := listen(main, "echo")
	main.emit("drop_transport", how)
	await wait_for(disconnected, "disconnected after the transport dropped")
	check_eq(disconnected, [["transport close"]], "reason \"transport close\"")
	check_eq(main_disconnected, [["transport close"]], "the namespace's reason")
	await wait_for(reconnected, "reconnected")
	await wait_for(connected, "\"/\" connected again")
	await wait_for(chat_connected, "/chat connected again by itself")
	check(attempts.size() >= 1 and attempts[0][0] == 1, "reconnect_attempt(1, delay) came first")
	if reconnected.size() > 0:
		check_eq(reconnected[0][0], attempts.size(), "reconnected(attempt) names the attempt that succeeded")
	check(client.get_namespace("/") == main, "the same namespace objects are kept across reconnection")
	check(main.get_session_id() != "" and main.get_session_id() != old_sid, "with a new session id")
	check_eq(main.is_recovered(), false, "not recovered: this server has no connection state recovery")
	main.emit("echo", ["after reconnection"])
	await wait_for(echoes, "handlers registered before the drop still work")
	check_eq(echoes, [["after reconnection"]], "echo data")


func test_reconnects_after_the_server_closes_the_transport() -> void:
	await _drop_and_reconnect([])


func test_reconnects_after_the_tcp_connection_dies() -> void:
	await _drop_and_reconnect(["tcp"])


func test_emits_during_reconnection_are_buffered() -> void:
	_fast_reconnection()
	client.reconnection_delay = 0.5
	client.reconnection_delay_max = 0.5
	var main := await connect_main()
	if main == null:
		return
	var disconnected := record(client.disconnected)
	var connected := record(client.connected)
	var echoes := listen(main, "echo")
	main.emit("drop_transport")
	await wait_for(disconnected, "disconnected")
	check_eq(main.get_connection_state(), SocketIONamespace.STATE_CONNECTING, "the namespace waits to reconnect")
	main.emit("echo", ["buffered"])
	await wait_for(connected, "connected again")
	await wait_for(echoes, "the emit made while disconnected")
	check_eq(echoes, [["buffered"]], "delivered after reconnecting")


func test_no_reconnection_when_disabled() -> void:
	client.reconnection = false
	var main := await connect_main()
	if main == null:
		return
	var disconnected := record(client.disconnected)
	var attempts := record(client.reconnect_attempt, 2)
	main.emit("drop_transport")
	await wait_for(disconnected, "disconnected")
	await settle(1.0)
	check_eq(attempts.size(), 0, "no reconnect_attempt")
	check_eq(client.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "stays disconnected")
	check_eq(main.get_connection_state(), SocketIONamespace.STATE_DISCONNECTED, "the namespace too")


func test_connection_state_recovery() -> void:
	var url := env("SOCKETIO_TEST_RECOVERY_URL")
	if url == "":
		return
	_fast_reconnection()
	var connected := record(client.connected)
	var disconnected := record(client.disconnected)
	check_eq(client.connect_to_url(url), OK, "connect_to_url(%s)" % url)
	var main := client.get_namespace("/")
	var chat := client.create_namespace("/chat")
	var chat_connected := record(chat.connected)
	chat.connect_to_namespace()
	await wait_for(connected, "connected to the recovery server")
	await wait_for(chat_connected, "/chat connected")
	check_eq(main.is_recovered(), false, "a first connection is not a recovered one")
	check_eq(chat.is_recovered(), false, "nor is /chat's")
	var sid := main.get_session_id()
	var chat_sid := chat.get_session_id()
	var echoes := listen(main, "echo")
	main.emit("drop_transport")
	await wait_for(disconnected, "disconnected")
	await wait_for(connected, "connected again", 2)
	await wait_for(chat_connected, "/chat connected again", 2)
	check_eq(main.is_recovered(), true, "\"/\" recovered its session")
	check_eq(main.get_session_id(), sid, "with the same session id")
	check_eq(chat.is_recovered(), true, "/chat recovered its session")
	check_eq(chat.get_session_id(), chat_sid, "with the same session id")
	main.emit("echo", ["recovered"])
	await wait_for(echoes, "events flow on the recovered session")
	client.close()
	check_eq(main.is_recovered(), false, "a closed (forgotten) handle reports false")
