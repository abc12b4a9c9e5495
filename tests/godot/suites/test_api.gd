extends "res://test_suite.gd"
## The API surface without a server: singleton, enums, method signatures and defaults, signals, properties, and
## the errors for invalid input.


func test_singleton() -> void:
	var a := SocketIOClient.get_singleton()
	var b := SocketIOClient.get_singleton()
	check(a != null, "get_singleton() returns the client")
	check(a == b, "get_singleton() returns the same object every time")
	# Not an engine singleton: GDScript refuses new() on a class named like one (see test_instances.gd).
	check(not Engine.has_singleton("SocketIOClient"), "not registered as an engine singleton")
	check(ClassDB.can_instantiate("SocketIOClient"), "SocketIOClient can be instantiated (SocketIOClient.new())")
	check_eq(a.get_class(), "SocketIOClient", "class name")
	check(not a.is_class("RefCounted"), "SocketIOClient is an Object, not RefCounted")
	check(not ClassDB.can_instantiate("SocketIONamespace"), "SocketIONamespace cannot be instantiated from scripts")


func test_enum_values() -> void:
	check_eq(SocketIOClient.STATE_DISCONNECTED, 0, "SocketIOClient.STATE_DISCONNECTED")
	check_eq(SocketIOClient.STATE_CONNECTING, 1, "SocketIOClient.STATE_CONNECTING")
	check_eq(SocketIOClient.STATE_CONNECTED, 2, "SocketIOClient.STATE_CONNECTED")
	check_eq(SocketIONamespace.STATE_DISCONNECTED, 0, "SocketIONamespace.STATE_DISCONNECTED")
	check_eq(SocketIONamespace.STATE_CONNECTING, 1, "SocketIONamespace.STATE_CONNECTING")
	check_eq(SocketIONamespace.STATE_CONNECTED, 2, "SocketIONamespace.STATE_CONNECTED")
	check_eq(SocketIOClient.ConnectionState.STATE_CONNECTED, 2, "SocketIOClient.ConnectionState.STATE_CONNECTED")
	check_eq(SocketIONamespace.ConnectionState.STATE_CONNECTING, 1, "SocketIONamespace.ConnectionState.STATE_CONNECTING")
	var names := ["STATE_DISCONNECTED", "STATE_CONNECTING", "STATE_CONNECTED"]
	for cls in ["SocketIOClient", "SocketIONamespace"]:
		check(ClassDB.class_has_enum(cls, "ConnectionState", true), "%s has enum ConnectionState" % cls)
		check_eq(Array(ClassDB.class_get_enum_constants(cls, "ConnectionState", true)), names,
				"%s.ConnectionState enumerators" % cls)
		for i in names.size():
			check_eq(ClassDB.class_get_integer_constant(cls, names[i]), i, "%s.%s value" % [cls, names[i]])
			check_eq(ClassDB.class_get_integer_constant_enum(cls, names[i], true), &"ConnectionState",
					"%s.%s belongs to ConnectionState" % [cls, names[i]])


## Method name → [argument names, default arguments, return type, return class name].
const CLIENT_METHODS := {
	"close": [[], [], TYPE_NIL, ""],
	"connect_to_url": [["url", "auth", "tls_options"], [{}, null], TYPE_INT, "Error"],
	"create_namespace": [["namespace"], [], TYPE_OBJECT, "SocketIONamespace"],
	"get_connection_state": [[], [], TYPE_INT, "SocketIOClient.ConnectionState"],
	"get_connection_url": [[], [], TYPE_STRING, ""],
	"get_engine_io_session_id": [[], [], TYPE_STRING, ""],
	"get_namespace": [["namespace"], ["/"], TYPE_OBJECT, "SocketIONamespace"],
	"has_namespace": [["namespace"], [], TYPE_BOOL, ""],
	"is_socket_connected": [[], [], TYPE_BOOL, ""],
	"poll": [[], [], TYPE_NIL, ""],
	"get_singleton": [[], [], TYPE_OBJECT, "SocketIOClient"],
}

const NAMESPACE_METHODS := {
	"connect_to_namespace": [["auth"], [{}], TYPE_INT, "Error"],
	"disconnect_from_namespace": [[], [], TYPE_NIL, ""],
	"emit": [["event", "data"], [[]], TYPE_NIL, ""],
	"emit_with_ack": [["event", "data", "callback", "timeout"], [5.0], TYPE_NIL, ""],
	"emit_volatile": [["event", "data"], [[]], TYPE_BOOL, ""],
	"get_connection_state": [[], [], TYPE_INT, "SocketIONamespace.ConnectionState"],
	"get_namespace_path": [[], [], TYPE_STRING, ""],
	"get_session_id": [[], [], TYPE_STRING, ""],
	"is_namespace_connected": [[], [], TYPE_BOOL, ""],
	"is_recovered": [[], [], TYPE_BOOL, ""],
	"off": [["event", "callback"], [], TYPE_NIL, ""],
	"on": [["event", "callback"], [], TYPE_NIL, ""],
	"request": [["event", "data", "timeout"], [[], 5.0], TYPE_SIGNAL, ""],
}


func _check_methods(cls: String, expected: Dictionary) -> void:
	var methods := {}
	for m in ClassDB.class_get_method_list(cls, true):
		methods[m["name"]] = m
	for name in expected:
		if not check(methods.has(name), "%s.%s exists" % [cls, name]):
			continue
		var m: Dictionary = methods[name]
		var spec: Array = expected[name]
		var arg_names := []
		for arg in m["args"]:
			arg_names.append(arg["name"])
		check_eq(arg_names, spec[0], "%s.%s argument names" % [cls, name])
		check_eq(Array(m["default_args"]), spec[1], "%s.%s default arguments" % [cls, name])
		check_eq(m["return"]["type"], spec[2], "%s.%s return type" % [cls, name])
		if spec[3] != "":
			check_eq(String(m["return"]["class_name"]), spec[3], "%s.%s return class" % [cls, name])


func test_client_methods() -> void:
	_check_methods("SocketIOClient", CLIENT_METHODS)
	check(ClassDB.class_get_method_list("SocketIOClient", true).any(
			func(m): return m["name"] == "get_singleton" and m["flags"] & METHOD_FLAG_STATIC),
			"get_singleton is static")


func test_namespace_methods() -> void:
	_check_methods("SocketIONamespace", NAMESPACE_METHODS)
	check_eq(ClassDB.get_parent_class("SocketIONamespace"), &"RefCounted", "SocketIONamespace inherits RefCounted")
	check_eq(ClassDB.get_parent_class("SocketIOClient"), &"Object", "SocketIOClient inherits Object")


## Signal name → [[argument name, type], ...].
const CLIENT_SIGNALS := {
	"connect_error": [["error", TYPE_DICTIONARY]],
	"connected": [["session_id", TYPE_STRING]],
	"disconnected": [["reason", TYPE_STRING]],
	"namespace_connected": [["namespace_path", TYPE_STRING]],
	"namespace_disconnected": [["namespace_path", TYPE_STRING]],
	"reconnect_attempt": [["attempt", TYPE_INT], ["delay", TYPE_FLOAT]],
	"reconnected": [["attempt", TYPE_INT]],
	"reconnect_failed": [],
}

const NAMESPACE_SIGNALS := {
	"connected": [["session_id", TYPE_STRING]],
	"disconnected": [["reason", TYPE_STRING]],
	"event_received": [["event_name", TYPE_STRING], ["data", TYPE_ARRAY]],
	"connect_error": [["error", TYPE_DICTIONARY]],
}


func _check_signals(cls: String, expected: Dictionary) -> void:
	var signals := {}
	for s in ClassDB.class_get_signal_list(cls, true):
		signals[s["name"]] = s
	for name in expected:
		if not check(signals.has(name), "%s signal %s exists" % [cls, name]):
			continue
		var args := []
		for arg in signals[name]["args"]:
			args.append([arg["name"], arg["type"]])
		check_eq(args, expected[name], "%s signal %s arguments" % [cls, name])


func test_signals() -> void:
	_check_signals("SocketIOClient", CLIENT_SIGNALS)
	_check_signals("SocketIONamespace", NAMESPACE_SIGNALS)


func test_property_defaults_and_setters() -> void:
	var c := client
	check_eq(c.reconnection, true, "reconnection default")
	check_eq(c.reconnection_attempts, 0, "reconnection_attempts default (unlimited)")
	check_eq(c.reconnection_delay, 1.0, "reconnection_delay default")
	check_eq(c.reconnection_delay_max, 5.0, "reconnection_delay_max default")
	check_eq(c.randomization_factor, 0.5, "randomization_factor default")
	check_eq(c.path, "/socket.io/", "path default")
	c.reconnection = false
	c.reconnection_attempts = 3
	c.reconnection_delay = 0.25
	c.reconnection_delay_max = 2.0
	c.randomization_factor = 0.0
	c.path = "/custom/"
	check_eq(c.reconnection, false, "reconnection set")
	check_eq(c.reconnection_attempts, 3, "reconnection_attempts set")
	check_eq(c.reconnection_delay, 0.25, "reconnection_delay set")
	check_eq(c.reconnection_delay_max, 2.0, "reconnection_delay_max set")
	check_eq(c.randomization_factor, 0.0, "randomization_factor set")
	check_eq(c.path, "/custom/", "path set")
	check_eq(c.get("reconnection_attempts"), 3, "properties are reachable with get()")
	c.reconnection_attempts = -1
	expect_error("reconnection_attempts must be 0 (unlimited) or more, not -1")
	check_eq(c.reconnection_attempts, 3, "an invalid reconnection_attempts is refused")
	c.randomization_factor = 2.0
	expect_error("randomization_factor must be between 0.0 and 1.0, not 2")
	check_eq(c.randomization_factor, 0.0, "an invalid randomization_factor is refused")
	c.reconnection_delay = -1.0
	expect_error("reconnection_delay must be a finite number of seconds, 0 or more, not -1")
	check_eq(c.reconnection_delay, 0.25, "a negative reconnection_delay is refused")


func test_limit_properties() -> void:
	var c := client
	var defaults := {
		"max_message_size": 16777216,
		"max_attachments": 10,
		"max_nesting_depth": 64,
		"send_buffer_max_packets": 10000,
		"send_buffer_max_bytes": 16777216,
		"connect_timeout": 20.0,
	}
	var props := {}
	for p in ClassDB.class_get_property_list("SocketIOClient", true):
		props[p["name"]] = p
	for name in defaults:
		check(props.has(name), "property %s exists" % name)
		check_eq(c.get(name), defaults[name], "%s default" % name)
	var changed := {
		"max_message_size": 1024,
		"max_attachments": 0,
		"max_nesting_depth": 127,
		"send_buffer_max_packets": 0,
		"send_buffer_max_bytes": 0,
		"connect_timeout": 0.5,
	}
	for name in changed:
		c.set(name, changed[name])
		check_eq(c.get(name), changed[name], "%s set" % name)
	var refused := [
		["max_message_size", 0, "max_message_size must be 1 or more, not 0"],
		["max_message_size", -5, "max_message_size must be 1 or more, not -5"],
		["max_attachments", -1, "max_attachments must be 0 or more, not -1"],
		["max_nesting_depth", 0, "max_nesting_depth must be between 1 and 127, not 0"],
		["max_nesting_depth", 128, "max_nesting_depth must be between 1 and 127, not 128"],
		["send_buffer_max_packets", -1, "send_buffer_max_packets must be 0 or more, not -1"],
		["send_buffer_max_bytes", -1, "send_buffer_max_bytes must be 0 or more, not -1"],
		["connect_timeout", 0.0, "connect_timeout must be more than 0 seconds, not 0"],
		["connect_timeout", -1.0, "connect_timeout must be a finite number of seconds, 0 or more, not -1"],
		["connect_timeout", INF, "connect_timeout must be a finite number of seconds"],
	]
	for case in refused:
		c.set(case[0], case[1])
		expect_error(case[2])
		check_eq(c.get(case[0]), changed[case[0]], "%s = %s is refused" % [case[0], case[1]])


func test_send_buffer_limit() -> void:
	client.send_buffer_max_packets = 3
	var chat := client.create_namespace("/chat")
	for i in 3:
		chat.emit("EXPECTED_buffered", [i])
	check(true, "three emits are buffered while /chat is not connected")
	chat.emit("EXPECTED_buffered", [3])
	expect_error("emit(\"EXPECTED_buffered\"): send buffer full: 3 packets are already waiting for the namespace to connect (send_buffer_max_packets)")
	var answers: Array = []
	chat.emit_with_ack("EXPECTED_buffered", [4], func(response): answers.append(response))
	expect_error("emit_with_ack(\"EXPECTED_buffered\"): send buffer full")
	check_eq(chat.emit_volatile("EXPECTED_buffered", [5]), false, "a volatile emit is dropped, not refused")
	client.send_buffer_max_packets = 10000
	client.send_buffer_max_bytes = 8
	chat.emit("EXPECTED_buffered", ["more than eight bytes"])
	expect_error("emit(\"EXPECTED_buffered\"): send buffer full: this packet of 53 bytes, with the 93 bytes already waiting for the namespace to connect, is more than send_buffer_max_bytes (8)")
	await settle(0.1)
	check_eq(answers, [], "the refused emit_with_ack's callback is never called")


func test_state_before_connecting() -> void:
	var c := client
	check_eq(c.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "state is STATE_DISCONNECTED")
	check_eq(c.is_socket_connected(), false, "is_socket_connected() is false")
	check_eq(c.get_engine_io_session_id(), "", "no Engine.IO session id")
	check(c.get_namespace() == null, "get_namespace() with its default \"/\" is null before connecting")
	check_eq(c.has_namespace("/"), false, "has_namespace(\"/\") is false before connecting")
	c.poll()
	check(true, "poll() without a connection does nothing")


func test_create_namespace() -> void:
	var c := client
	var chat := c.create_namespace("/chat")
	check(chat != null, "create_namespace(\"/chat\") returns a namespace")
	check(chat is SocketIONamespace, "it is a SocketIONamespace")
	check(chat is RefCounted, "it is RefCounted")
	check(c.has_namespace("/chat"), "has_namespace(\"/chat\")")
	check(c.get_namespace("/chat") == chat, "get_namespace returns the same object")
	check(c.create_namespace("/chat") == chat, "create_namespace of an existing path returns the existing one")
	check_eq(chat.get_namespace_path(), "/chat", "get_namespace_path()")
	check_eq(chat.get_connection_state(), SocketIONamespace.STATE_DISCONNECTED, "a new namespace is disconnected")
	check_eq(chat.is_namespace_connected(), false, "is_namespace_connected() is false")
	check_eq(chat.get_session_id(), "", "no session id yet")
	check(not c.has_namespace("/other"), "has_namespace of an unknown path is false")
	check(c.get_namespace("/other") == null, "get_namespace of an unknown path is null")

	var bad := c.create_namespace("EXPECTED-no-slash")
	expect_error("invalid namespace \"EXPECTED-no-slash\": it must start with \"/\"")
	check(bad == null, "create_namespace without a leading / returns null")
	check(not c.has_namespace("EXPECTED-no-slash"), "and registers nothing")


func test_invalid_urls() -> void:
	var c := client
	check_eq(c.connect_to_url("EXPECTED not a url"), ERR_INVALID_PARAMETER, "an unparsable URL is refused")
	expect_error("connect_to_url(\"EXPECTED not a url\")")
	check_eq(c.connect_to_url("ftp://EXPECTED.example/"), ERR_INVALID_PARAMETER, "an ftp:// URL is refused")
	expect_error("ftp")
	check_eq(c.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "nothing is connecting")
	check(c.get_namespace("/") == null, "no main namespace was created")
	check_eq(c.connect_to_url("ws://127.0.0.1:1", {"EXPECTED": Vector2.ONE}), ERR_INVALID_PARAMETER,
			"an auth dictionary that cannot be sent is refused")
	expect_error("auth[\"EXPECTED\"] is a Vector2")
	check_eq(c.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "still nothing connecting")


func test_unsendable_values_are_refused() -> void:
	var ns := client.create_namespace("/")
	var self_array := []
	self_array.append(self_array)
	var deep := []
	var cursor := deep
	for i in 70:
		var inner := []
		cursor.append(inner)
		cursor = inner
	var cases := [
		[[1, {"pos": Vector2(1, 2)}], "data[1][\"pos\"] is a Vector2, which cannot be sent"],
		[[self], "data[0] is an Object (Node), which cannot be sent"],
		[[func(): pass], "data[0] is a Callable"],
		[[client.connected], "data[0] is a Signal"],
		[[RID()], "data[0] is a RID"],
		[[Color.RED], "data[0] is a Color"],
		[[NAN], "data[0] is NaN or infinite"],
		[[{"x": [1.0, INF]}], "data[0][\"x\"][1] is NaN or infinite"],
		[[PackedFloat32Array([1.0, NAN])], "data[0][1] is NaN or infinite"],
		[[{1: "int key"}], "data[0] has the key 1 of type int"],
		[[PackedVector2Array([Vector2.ZERO])], "data[0] is a PackedVector2Array"],
		[[deep], "is nested deeper than 64 levels"],
		[[self_array], "is nested deeper than 64 levels"],
	]
	for case in cases:
		ns.emit("EXPECTED_unsendable", case[0])
		expect_error("emit(\"EXPECTED_unsendable\"): " + case[1] if case[1].begins_with("data") else case[1])
	ns.emit_with_ack("EXPECTED_unsendable", [Vector3.ZERO], func(_r): check(false, "callback of a refused emit"))
	expect_error("emit_with_ack(\"EXPECTED_unsendable\"): data[0] is a Vector3")
	self_array.clear()


## Prints itself with a script: converting data must never call it (the client may be busy).
class Noisy extends RefCounted:
	var printed := false

	func _to_string() -> String:
		printed = true
		return "EXPECTED noisy"


func test_object_keys_are_refused_without_running_scripts() -> void:
	var ns := client.create_namespace("/")
	var key := Noisy.new()
	ns.emit("EXPECTED_object_key", [{key: 1}])
	expect_error("emit(\"EXPECTED_object_key\"): data[0] has a key of type Object (RefCounted): only String or StringName")
	ns.emit("EXPECTED_object_key", [{"a": {[key]: 1}}])
	expect_error("data[0][\"a\"] has a key of type Array")
	ns.emit_with_ack("EXPECTED_object_key", [{{"k": key}: 1}], func(_r): pass)
	expect_error("emit_with_ack(\"EXPECTED_object_key\"): data[0] has a key of type Dictionary")
	ns.emit("EXPECTED_object_key", [{key.to_string: 1}])
	expect_error("data[0] has a key of type Callable")
	check_eq(client.connect_to_url("ws://EXPECTED.invalid:1", {key: "x"}), ERR_INVALID_PARAMETER, "refused in auth too")
	expect_error("auth has a key of type Object (RefCounted)")
	check(not key.printed, "the key's _to_string() was never called")
	ns.emit("EXPECTED_object_key", [{Vector2(1, 2): 1}])
	expect_error("data[0] has the key (1")


## Release builds only: debug builds keep gdext's own check, which aborts on the first engine call from another
## thread, before the client's own check runs.
func test_release_calls_from_another_thread_are_refused() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var client := SocketIOClient.get_singleton()
	var seen := {}
	var thread := Thread.new()
	thread.start(func():
		seen["connected"] = client.is_socket_connected()
		ns.emit("echo", ["from a thread"])
		client.path = "/elsewhere/"
	)
	thread.wait_to_finish()
	check_eq(seen.get("connected"), false, "a getter called from another thread answers its fallback")
	check(client.is_socket_connected(), "the same getter on the main thread sees the connection")
	check_eq(client.path, "/socket.io/", "a setter called from another thread changes nothing")
	expect_error("called from a thread other than the main thread", 3)


func test_reserved_and_empty_event_names() -> void:
	var ns := client.create_namespace("/")
	for name in ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]:
		ns.emit(name, [])
		expect_error("\"%s\" is reserved by Socket.IO" % name)
		ns.on(name, func(_d): pass)
		expect_error("\"%s\" is reserved by Socket.IO" % name)
	ns.emit("", [])
	expect_error("the event name is empty")
	ns.emit_with_ack("", [], func(_r): pass)
	expect_error("the event name is empty")


func test_invalid_ack_arguments() -> void:
	var ns := client.create_namespace("/")
	ns.emit_with_ack("EXPECTED_timeout", [], func(_r): pass, -1.0)
	expect_error("the timeout must be a positive number of seconds")
	ns.emit_with_ack("EXPECTED_timeout", [], func(_r): pass, 0.0)
	expect_error("the timeout must be a positive number of seconds")
	ns.emit_with_ack("EXPECTED_callable", [], Callable())
	expect_error("the callback is not a valid Callable")
	ns.on("EXPECTED_callable", Callable())
	expect_error("the callback is not a valid Callable")


static func _untyped(value) -> Variant:
	return value


## Calls through untyped values, one per function: a call that fails inside gdext aborts the calling function.
func _call_emit(ns, event, data) -> void:
	ns.emit(event, data)


func _call_connect_to_url(c, url, auth, tls) -> Variant:
	return c.connect_to_url(url, auth, tls)


## Checks that the errors reported since the last check are one containing each of `fragments`, in order (Godot
## reports a failed call's script error once the calling coroutine yields, so this waits a frame first).
func _expect_errors(fragments: Array[String]) -> void:
	await get_tree().process_frame
	if runner.catcher == null:
		return
	var errors: Array[String] = runner.catcher.take()
	var matched := errors.size() == fragments.size()
	for i in mini(errors.size(), fragments.size()):
		matched = matched and fragments[i] in errors[i]
	if not check(matched, "errors %s reported" % [fragments]):
		runner.unexpected_errors.append_array(errors)


func test_wrong_argument_types_through_untyped_values() -> void:
	var c = _untyped(client)
	var ns = c.create_namespace("/typed")
	# Refused by gdext before the plugin runs: its message names the method, the parameter and the conversion, and
	# Godot adds its generic line for a failed extension call.
	_call_emit(ns, _untyped(42), [])
	await _expect_errors(["SocketIONamespace::emit()", "Invalid call error code 1337"])
	_call_emit(ns, "x", _untyped(42))
	await _expect_errors(["parameter #1 (Array) conversion", "Invalid call error code 1337"])
	_call_connect_to_url(c, "ws://127.0.0.1:1", _untyped(null), null)
	await _expect_errors(["parameter #1 (Dictionary) conversion", "Invalid call error code 1337"])
	# What reaches the plugin is refused by it, with a hint, and the call returns an error code.
	var cert := X509Certificate.new()
	check_eq(_call_connect_to_url(c, "ws://127.0.0.1:1", {}, _untyped(cert)), ERR_INVALID_PARAMETER,
			"an X509Certificate as tls_options: ERR_INVALID_PARAMETER")
	await _expect_errors(["not an X509Certificate: to trust this certificate, pass TLSOptions.client(certificate)"])
	var node := Node.new()
	check_eq(_call_connect_to_url(c, "ws://127.0.0.1:1", {}, _untyped(node)), ERR_INVALID_PARAMETER,
			"a Node as tls_options: ERR_INVALID_PARAMETER")
	await _expect_errors(["tls_options must be a TLSOptions or null, not a Node"])
	node.free()
	check_eq(c.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "nothing was started")
