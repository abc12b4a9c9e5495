extends "res://test_suite.gd"
## The client's `connected` and `disconnected` signals are a strict pair about the main namespace "/": after every
## `connected` comes exactly one `disconnected(reason)` before the next `connected`, whatever ends "/" (a server kick,
## close(), disconnect_from_namespace(), the connection ending), and never a `disconnected` without a `connected`.
## Each test records every client signal in one ordered log and checks the exact sequence.

const SIGNALS := [
	["connected", 1], ["disconnected", 1], ["connect_error", 1], ["namespace_connected", 1],
	["namespace_disconnected", 1], ["reconnect_attempt", 2], ["reconnected", 1], ["reconnect_failed", 0],
]


func timeout_for(_test: String) -> float:
	return 40.0


## Records every signal of the client, in order, as [name, args...] (session ids as "sid", delays as "delay",
## connect_error dictionaries as their message).
func _log_signals() -> Array:
	var log: Array = []
	for entry in SIGNALS:
		var name: String = entry[0]
		var callback: Callable
		match entry[1]:
			0:
				callback = func(): log.append([name])
			1:
				callback = func(a): log.append([name, _tidy(name, a)])
			2:
				callback = func(a, _b): log.append([name, a, "delay"])
		var sig := Signal(client, name)
		sig.connect(callback)
		_connections.append([sig, callback])
	return log


static func _tidy(name: String, value):
	match name:
		"connected":
			return "sid" if value is String and value != "" else value
		"connect_error":
			return "error"
	return value


## The log cut into phases at each change of kind (connecting, disconnecting, reconnecting), each phase sorted: the
## namespaces of one phase are reported in no particular order, while the phases themselves are strictly ordered.
static func _phases(log: Array) -> Array:
	var kind_of := {
		"connected": "up", "namespace_connected": "up", "disconnected": "down", "namespace_disconnected": "down",
	}
	var phases: Array = []
	var kind := ""
	for entry in log:
		var k: String = kind_of.get(entry[0], entry[0])
		if k != kind or phases.is_empty():
			phases.append([])
			kind = k
		phases.back().append(entry)
	for phase in phases:
		phase.sort_custom(func(a, b): return var_to_str(a) < var_to_str(b))
	return phases


## `connected` and `disconnected` alternate, starting with `connected`.
func _check_strict_pair(log: Array, what: String) -> void:
	var open := false
	var broken := ""
	for entry in log:
		if entry[0] == "connected" and open:
			broken = "a second connected before a disconnected"
		elif entry[0] == "disconnected" and not open:
			broken = "a disconnected without a connected before it"
		if broken != "":
			break
		if entry[0] == "connected" or entry[0] == "disconnected":
			open = entry[0] == "connected"
	check(broken == "", "%s: connected and disconnected alternate (%s): %s" % [what, broken, log])


func test_pair_when_the_server_kicks_main_while_another_namespace_keeps_the_connection() -> void:
	var log := _log_signals()
	var main := await connect_main()
	if main == null:
		return
	var chat := await join("/chat")
	if chat == null:
		return
	log.clear()
	main.emit("server_disconnect")
	await wait_until(func(): return log.size() >= 2, 10.0)
	check_eq(log, [["disconnected", "io server disconnect"], ["namespace_disconnected", "/"]],
		"a kick of \"/\" is a disconnected(\"io server disconnect\"), though /chat keeps the connection open")
	check(client.is_socket_connected(), "the connection stays open for /chat")
	check(chat.is_namespace_connected(), "/chat stays connected")
	var echoes := listen(chat, "echo")
	chat.emit("echo", ["still here"])
	await wait_for(echoes, "/chat still works")
	await settle(0.3)
	log.clear()
	client.close()
	check_eq(log, [["namespace_disconnected", "/chat"]],
		"closing afterwards disconnects /chat only: no second disconnected for \"/\"")


func test_pair_with_close() -> void:
	var log := _log_signals()
	var main := await connect_main()
	if main == null:
		return
	await join("/chat")
	client.close()
	check_eq(_phases(log), [
		[["connected", "sid"], ["namespace_connected", "/"], ["namespace_connected", "/chat"]],
		[["disconnected", "io client disconnect"], ["namespace_disconnected", "/"], ["namespace_disconnected", "/chat"]],
	], "the whole sequence of a connection closed by close()")
	_check_strict_pair(log, "close")


func test_pair_when_main_is_disconnected_by_the_client() -> void:
	var log := _log_signals()
	var main := await connect_main()
	if main == null:
		return
	var chat := await join("/chat")
	if chat == null:
		return
	var start := log.size()
	main.disconnect_from_namespace()
	check_eq(log.slice(start), [["disconnected", "io client disconnect"], ["namespace_disconnected", "/"]],
		"disconnect_from_namespace() on \"/\" is a disconnected(\"io client disconnect\") before it returns")
	check(chat.is_namespace_connected(), "/chat stays connected")
	# socket.io 4.8 closes the connection when a CONNECT of a namespace reaches it in the same read as that
	# namespace's DISCONNECT (it handles the DISCONNECT a tick later), so let the DISCONNECT arrive first.
	await settle(0.2)
	main.connect_to_namespace()
	await wait_until(func(): return log.size() >= start + 4, 10.0)
	check_eq(log.slice(start + 2), [["connected", "sid"], ["namespace_connected", "/"]], "\"/\" connects again: connected")
	_check_strict_pair(log, "disconnect_from_namespace and back")


func test_no_disconnected_for_main_that_never_connected() -> void:
	var url := server_url()
	if url == "":
		return
	var log := _log_signals()
	client.connect_to_url(url)
	var main := client.get_namespace("/")
	main.disconnect_from_namespace()
	check_eq(log, [["namespace_disconnected", "/"]], "\"/\" left while connecting: no disconnected (it never connected)")
	await settle(0.3)
	client.close()
	check_eq(log.filter(func(e): return e[0] == "disconnected"), [], "no disconnected at all")


func test_no_disconnected_after_a_failed_connection() -> void:
	var log := _log_signals()
	client.reconnection = false
	# A port nothing listens on: the connection never opens.
	var server := TCPServer.new()
	server.listen(0, "127.0.0.1")
	var port := server.get_local_port()
	server.stop()
	client.connect_to_url("ws://127.0.0.1:%d" % port)
	await wait_until(func(): return log.size() >= 1, 10.0)
	check_eq(log, [["connect_error", "error"]], "a connection that never opened is connect_error only")
	client.close()
	check_eq(log, [["connect_error", "error"]], "and close() adds no disconnected")


func test_pair_across_a_lost_connection_and_reconnection() -> void:
	var log := _log_signals()
	client.reconnection_delay = 0.2
	client.reconnection_delay_max = 0.2
	var main := await connect_main()
	if main == null:
		return
	await join("/chat")
	main.emit("drop_transport", ["tcp"])
	await wait_until(func(): return log.filter(func(e): return e[0] == "connected").size() >= 2, 15.0)
	await settle(0.3)
	check_eq(_phases(log), [
		[["connected", "sid"], ["namespace_connected", "/"], ["namespace_connected", "/chat"]],
		[["disconnected", "transport close"], ["namespace_disconnected", "/"], ["namespace_disconnected", "/chat"]],
		[["reconnect_attempt", 1, "delay"]],
		[["reconnected", 1]],
		[["connected", "sid"], ["namespace_connected", "/"], ["namespace_connected", "/chat"]],
	], "loss, reconnection and rejoin, in order")
	_check_strict_pair(log, "loss and reconnection")
	client.close()
	check_eq(_phases(log).back(),
		[["disconnected", "io client disconnect"], ["namespace_disconnected", "/"], ["namespace_disconnected", "/chat"]],
		"close() after the reconnection ends the second pair")
	_check_strict_pair(log, "loss, reconnection and close")
	check_eq(log.filter(func(e): return e[0] == "disconnected").size(), 2, "two disconnected for two connected")


func test_pair_when_connect_to_url_replaces_the_connection() -> void:
	var log := _log_signals()
	var main := await connect_main()
	if main == null:
		return
	client.connect_to_url(server_url())
	check_eq(log.slice(2), [["disconnected", "io client disconnect"], ["namespace_disconnected", "/"]],
		"connect_to_url() while connected ends the first pair before it returns")
	await wait_until(func(): return log.size() >= 6, 10.0)
	check_eq(log.slice(4), [["connected", "sid"], ["namespace_connected", "/"]], "and the new connection starts one")
	_check_strict_pair(log, "connect_to_url twice")
