extends "res://test_suite.gd"
## SocketIOConnection: a Node owning a client of its own, connected from its properties and polled every frame.

## The nodes made by the current test, freed by end() when the test did not.
var _nodes: Array = []


func _node(auth: Dictionary, autoconnect := true) -> SocketIOConnection:
	var n := SocketIOConnection.new()
	n.url = server_url()
	n.auth = auth
	n.autoconnect = autoconnect
	_nodes.append(n)
	return n


func end() -> void:
	for n in _nodes:
		if is_instance_valid(n):
			n.free()
	_nodes.clear()
	await super()


func test_defaults() -> void:
	var n := SocketIOConnection.new()
	check_eq([n.url, n.auth, n.autoconnect, n.namespaces, n.tls_options, n.process_callback],
		["", {}, false, PackedStringArray(), null, SocketIOConnection.PROCESS_IDLE], "the defaults")
	check_eq([SocketIOConnection.PROCESS_IDLE, SocketIOConnection.PROCESS_PHYSICS, SocketIOConnection.PROCESS_MANUAL],
		[0, 1, 2], "the ProcessCallback enum")
	var c := n.get_client()
	check(c is SocketIOClient and c != client, "the node has a client of its own")
	check(n.get_namespace() == null, "no namespace before connecting")
	n.process_callback = 7
	expect_error("process_callback must be PROCESS_IDLE")
	check_eq(n.process_callback, SocketIOConnection.PROCESS_IDLE, "an unknown callback mode is refused")
	n.free()
	check(not is_instance_valid(c), "freeing the node frees its client")


func test_two_nodes_own_auth_and_signals() -> void:
	if server_url() == "":
		return
	var a := _node({"who": "a"})
	var b := _node({"who": "b"})
	var a_connected := record(a.connected)
	var b_connected := record(b.connected)
	var a_ns_connected := record(a.namespace_connected)
	add_child(a)
	add_child(b)
	var a_ns := a.get_namespace()
	var b_ns := b.get_namespace("/")
	if not check(a_ns != null and b_ns != null and a_ns != b_ns, "each node has its own main namespace"):
		return
	var a_welcome := listen(a_ns, "welcome")
	var b_welcome := listen(b_ns, "welcome")
	await wait_for(a_welcome, "a's welcome")
	await wait_for(b_welcome, "b's welcome")
	check_eq(a_welcome[0][0]["auth"], {"who": "a"}, "a's welcome echoes a's auth")
	check_eq(b_welcome[0][0]["auth"], {"who": "b"}, "b's welcome echoes b's auth")
	check_eq([a_connected.size(), b_connected.size()], [1, 1], "connected re-emitted once on each node")
	check_eq(a_connected[0][0], a_ns.get_session_id(), "with the session id")
	check_eq(a_ns_connected, [["/"]], "namespace_connected re-emitted")
	check(a.get_client() != b.get_client(), "two clients")
	# Leaving the tree closes; entering it again reconnects.
	var a_disconnected := record(a.disconnected)
	remove_child(a)
	check_eq(a_disconnected, [["io client disconnect"]], "leaving the tree closes with io client disconnect")
	check_eq(a.get_client().get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "a is disconnected")
	check(b.get_client().is_socket_connected(), "b stays connected")
	add_child(a)
	await wait_for(a_connected, "a reconnects when it enters the tree again", 2)
	var ns2 := a.get_namespace()
	check(ns2 != null and ns2.get_connection_state() == SocketIONamespace.STATE_CONNECTED, "a's new main namespace")


func test_other_signals_reemitted() -> void:
	if server_url() == "":
		return
	var n := _node({}, false)
	n.url = "ws://127.0.0.1:1"
	n.get_client().reconnection_attempts = 1
	n.get_client().reconnection_delay = 0.05
	var errors := record(n.connect_error)
	var attempts := record(n.reconnect_attempt, 2)
	var failed_ := record(n.reconnect_failed, 0)
	add_child(n)
	check_eq(n.connect_to_server(), OK, "connect_to_server")
	await wait_for(failed_, "reconnect_failed re-emitted")
	check(errors.size() >= 1 and errors[0][0] is Dictionary, "connect_error re-emitted with its dictionary")
	check(attempts.size() == 1 and attempts[0][0] == 1, "reconnect_attempt re-emitted with (attempt, delay)")
	var m := _node({})
	m.get_client().transports = PackedStringArray(["polling", "websocket"])
	var upgraded := record(m.transport_upgraded)
	add_child(m)
	await wait_for(upgraded, "transport_upgraded re-emitted")
	check_eq(upgraded, [["websocket"]], "with the transport")


func test_namespaces_joined() -> void:
	if server_url() == "":
		return
	var n := _node({"who": "n"})
	n.namespaces = PackedStringArray(["/chat"])
	var joined := record(n.namespace_connected)
	add_child(n)
	check(n.get_namespace("/chat") == null, "/chat waits for / to connect")
	await wait_for(joined, "/ and /chat connect", 2)
	check_eq(joined, [["/"], ["/chat"]], "/chat joins after /")
	var chat := n.get_namespace("/chat")
	if not check(chat != null, "/chat exists"):
		return
	var echo := listen(chat, "echo")
	chat.emit("echo", ["hi"])
	await wait_for(echo, "/chat works")


func test_free_node_frees_client() -> void:
	if server_url() == "":
		return
	var n := _node({})
	var connected := record(n.connected)
	add_child(n)
	await wait_for(connected, "connected")
	var c := n.get_client()
	var weak := _register_marker(n.get_namespace())
	var disconnected := record(n.disconnected)
	n.free()
	check(not is_instance_valid(c), "freeing the node frees its client")
	check(weak.get_ref() == null, "the client's handlers are released")
	check(disconnected.is_empty(), "a node being freed re-emits nothing")


## A handler capturing a new object; returns a weak reference to it.
func _register_marker(ns: SocketIONamespace) -> WeakRef:
	var marker := RefCounted.new()
	ns.on("nothing", func(_d): print(marker))
	return weakref(marker)


func test_free_from_connected_handler() -> void:
	if server_url() == "":
		return
	var n := _node({})
	var c := n.get_client()
	var cid := c.get_instance_id()
	var ref := [n]
	# From a receiver of the client's own signal (no lock on the node): freed at once, its client at the end of the poll.
	c.connected.connect(func(_sid): ref[0].free())
	add_child(n)
	check(await wait_until(func(): return not is_instance_id_valid(cid)), "the node and its client are freed")
	# From a receiver of the node's own signal: Godot refuses free() there, queue_free() works.
	var m := _node({})
	var did := m.get_client().get_instance_id()
	var ref2 := [m]
	m.connected.connect(func(_sid): ref2[0].queue_free())
	add_child(m)
	check(await wait_until(func(): return not is_instance_id_valid(did)), "queue_free from connected frees node and client")
	await settle(0.2)


func test_manual_does_not_poll() -> void:
	if server_url() == "":
		return
	var n := _node({})
	n.process_callback = SocketIOConnection.PROCESS_MANUAL
	var connected := record(n.connected)
	add_child(n)
	await settle(0.5)
	check(connected.is_empty(), "PROCESS_MANUAL does not poll by itself")
	check(await wait_until(func(): n.poll(); return not connected.is_empty()), "poll() on the node connects")
	var p := _node({})
	p.process_callback = SocketIOConnection.PROCESS_PHYSICS
	var p_connected := record(p.connected)
	add_child(p)
	await wait_for(p_connected, "PROCESS_PHYSICS polls")


func test_idle_cost() -> void:
	if server_url() == "":
		return
	# 100 idle nodes in the tree, one of them connected. Their _process calls cannot be timed apart from the frame,
	# so the node's poll() is timed instead: the same Rust path, plus a script call. Release build: about 0.7 us per
	# node (a raw SocketIOClient.poll() about 0.35 us); an unoptimized debug build is some 200 times slower, hence
	# the loose bound.
	var nodes: Array = []
	for i in 100:
		var n := _node({}, i == 0)
		add_child(n)
		nodes.append(n)
	var connected := record(nodes[0].connected)
	await wait_for(connected, "the first node connects")
	var start := Time.get_ticks_usec()
	for round in 100:
		for n in nodes:
			n.poll()
	var per_poll := float(Time.get_ticks_usec() - start) / 10000.0
	print("    SocketIOConnection.poll() of an idle node: %.2f us" % per_poll)
	check(per_poll < 1000.0, "an idle node's poll is cheap (%.2f us)" % per_poll)


func test_client_settings_are_node_properties() -> void:
	var n := SocketIOConnection.new()
	var names := []
	for p in n.get_property_list():
		names.append(p["name"])
	for setting in ["client/reconnection_delay", "client/transports", "client/extra_headers", "client/max_message_size"]:
		check(setting in names, "%s is a property of the node" % setting)
	n.set("client/reconnection_delay", 0.25)
	check_eq(n.get_client().reconnection_delay, 0.25, "setting client/reconnection_delay sets the client's")
	check_eq(n.get("client/reconnection_delay"), 0.25, "and reads back")
	check(n.property_can_revert("client/reconnection_delay"), "a client setting can be reverted in the inspector")
	var fresh := SocketIOClient.new()
	check_eq(n.property_get_revert("client/reconnection_delay"), fresh.reconnection_delay, "to the client's default")
	fresh.free()
	n.set("client/transports", PackedStringArray(["polling"]))
	check_eq(n.get_client().transports, PackedStringArray(["polling"]), "client/transports")
	n.set("client/transports", PackedStringArray(["EXPECTED"]))
	expect_error("unknown transport \"EXPECTED\"")
	check_eq(n.get_client().transports, PackedStringArray(["polling"]), "a refused value leaves the setting as it was")
	# Saved with a scene and restored when it is instantiated.
	var holder := Node.new()
	holder.add_child(n)
	n.owner = holder
	var scene := PackedScene.new()
	check_eq(scene.pack(holder), OK, "the node packs into a scene")
	var state := scene.get_state()
	var saved := []
	for k in state.get_node_property_count(1):
		saved.append(String(state.get_node_property_name(1, k)))
	check("client/reconnection_delay" in saved and "client/transports" in saved, "changed settings are saved (%s)" % [saved])
	check(not ("client/max_message_size" in saved), "a setting left at its default is not saved (%s)" % [saved])
	var copy := scene.instantiate()
	var restored: SocketIOConnection = copy.get_child(0)
	check_eq(restored.get_client().reconnection_delay, 0.25, "client/reconnection_delay restored from the scene")
	check_eq(restored.get_client().transports, PackedStringArray(["polling"]), "client/transports restored")
	copy.free()
	holder.free()
