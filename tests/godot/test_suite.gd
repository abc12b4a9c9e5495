extends Node
## Base of the test suites in res://suites/: checks, waiting helpers, signal recorders and the test server's
## addresses. The runner calls every method whose name starts with "test_" (coroutines allowed), one at a time,
## and closes the client after each.

## Set by the runner.
var runner: Node
var current_test := ""
var passed := 0
var failed := 0
## Checks made by the current test.
var test_checks := 0

var _connections: Array = []


## The SocketIOClient singleton, reached the way the spec's examples do.
var client: SocketIOClient:
	get:
		return SocketIOClient.get_singleton()


## Seconds a test may take; suites override this for slow tests.
func timeout_for(_test: String) -> float:
	return 30.0


# ---- checks ------------------------------------------------------------------------------------------------------

func check(ok: bool, what: String) -> bool:
	test_checks += 1
	if ok:
		passed += 1
	else:
		failed += 1
		print("    FAIL [%s] %s" % [current_test, what])
	return ok


## Checks that `actual` equals `expected` deeply, with the same types (an int is not a float).
func check_eq(actual, expected, what: String) -> bool:
	if same(actual, expected):
		return check(true, what)
	return check(false, "%s: expected %s, got %s" % [what, describe(expected), describe(actual)])


static func same(a, b) -> bool:
	if typeof(a) != typeof(b):
		return false
	match typeof(a):
		TYPE_ARRAY:
			if a.size() != b.size():
				return false
			for i in a.size():
				if not same(a[i], b[i]):
					return false
			return true
		TYPE_DICTIONARY:
			if a.size() != b.size():
				return false
			for key in a:
				if not b.has(key) or not same(a[key], b[key]):
					return false
			return true
		_:
			return a == b


static func describe(value) -> String:
	var text := var_to_str(value) if typeof(value) != TYPE_PACKED_BYTE_ARRAY else "PackedByteArray(%d bytes)" % value.size()
	if text.length() > 300:
		text = text.substr(0, 300) + "…"
	return "%s (%s)" % [text, type_string(typeof(value))]


## Checks that `count` errors containing `fragment` were reported since the previous expect_error() (Godot 4.5+
## only; older versions cannot capture errors and the runner says so once). Other errors reported meanwhile count
## as unexpected.
func expect_error(fragment: String, count := 1) -> void:
	if runner.catcher == null:
		return
	var found := 0
	for error in runner.catcher.take():
		if found < count and fragment in error:
			found += 1
		else:
			runner.unexpected_errors.append(error)
	if count == 1:
		check(found == 1, "an error containing '%s' was reported" % fragment)
	else:
		check_eq(found, count, "errors containing '%s'" % fragment)


## Checks that a warning containing `fragment` was reported since the previous call (Godot 4.5+ only).
func expect_warning(fragment: String, also := "") -> void:
	if runner.catcher == null:
		return
	var warnings: Array[String] = runner.catcher.take_warnings()
	check(warnings.any(func(w): return fragment in w and (also == "" or also in w)),
		"a warning containing '%s' and '%s' was reported: %s" % [fragment, also, warnings])


# ---- waiting -----------------------------------------------------------------------------------------------------

## Waits (the runner polls the client every frame) until `condition` returns true; false after `timeout` seconds.
func wait_until(condition: Callable, timeout := 10.0) -> bool:
	var deadline := Time.get_ticks_msec() + int(timeout * 1000.0)
	while not condition.call():
		if Time.get_ticks_msec() > deadline:
			return false
		await get_tree().process_frame
	return true


## Waits `seconds` while the client keeps being polled.
func settle(seconds: float) -> void:
	var deadline := Time.get_ticks_msec() + int(seconds * 1000.0)
	while Time.get_ticks_msec() < deadline:
		await get_tree().process_frame


## Waits until `got` (a log from record() or listen()) has at least `count` entries; checks it, naming `what`.
func wait_for(got: Array, what: String, count := 1, timeout := 10.0) -> bool:
	var ok: bool = await wait_until(func(): return got.size() >= count, timeout)
	return check(ok, "%s (%d expected within %.0f s, got %d)" % [what, count, timeout, got.size()])


## Connects a recorder to `sig` (with `arity` arguments); each emission appends the array of its arguments to the
## returned array. Disconnected by the runner when the test ends.
func record(sig: Signal, arity := 1) -> Array:
	var got: Array = []
	var callback: Callable
	match arity:
		0:
			callback = func(): got.append([])
		1:
			callback = func(a): got.append([a])
		2:
			callback = func(a, b): got.append([a, b])
		_:
			push_error("record(): arity %d not supported" % arity)
	sig.connect(callback)
	_connections.append([sig, callback])
	return got


## Registers `handler` with `ns.on(event, ...)`, returning an array of the data arrays it receives.
func listen(ns: SocketIONamespace, event: String) -> Array:
	var got: Array = []
	ns.on(event, func(data): got.append(data))
	return got


# ---- the test server ---------------------------------------------------------------------------------------------

func env(name: String) -> String:
	var value := OS.get_environment(name)
	if value == "":
		check(false, "%s is not set (run the tests with scripts/test-godot.sh)" % name)
	return value


func server_url() -> String:
	return env("SOCKETIO_TEST_URL")


## Connects to the plain test server and waits for the main namespace; returns it (null on failure).
func connect_main(auth := {}) -> SocketIONamespace:
	var url := server_url()
	if url == "":
		return null
	var connected := record(client.connected)
	var err := client.connect_to_url(url, auth)
	check_eq(err, OK, "connect_to_url(%s) returns OK" % url)
	var ns := client.get_namespace("/")
	check(ns != null, "the main namespace exists right after connect_to_url")
	await wait_for(connected, "connected signal")
	return ns


## Creates and connects namespace `path` on the current connection; returns it once connected (or after a failed
## check).
func join(path: String, auth := {}) -> SocketIONamespace:
	var ns := client.create_namespace(path)
	if not check(ns != null, "create_namespace(%s)" % path):
		return null
	var connected := record(ns.connected)
	check_eq(ns.connect_to_namespace(auth), OK, "connect_to_namespace(%s) returns OK" % path)
	await wait_for(connected, "%s connected" % path)
	return ns


## Emits with an ack and waits for the answer (the callback's array), or null after a failed check.
func request(ns: SocketIONamespace, event: String, data: Array, timeout := 10.0) -> Variant:
	var answers: Array = []
	ns.emit_with_ack(event, data, func(response): answers.append(response), timeout)
	if await wait_for(answers, "ack of %s" % event, 1, timeout + 1.0):
		return answers[0]
	return null


# ---- runner hooks ------------------------------------------------------------------------------------------------

func begin(test: String) -> void:
	current_test = test
	test_checks = 0


## Disconnects the recorders, closes the client and restores its properties.
func end() -> void:
	for connection in _connections:
		var sig: Signal = connection[0]
		if is_instance_valid(sig.get_object()) and sig.is_connected(connection[1]):
			sig.disconnect(connection[1])
	_connections.clear()
	var c := client
	c.close()
	c.reconnection = true
	c.reconnection_attempts = 0
	c.reconnection_delay = 1.0
	c.reconnection_delay_max = 5.0
	c.randomization_factor = 0.5
	c.path = "/socket.io/"
	c.max_message_size = 16777216
	c.max_attachments = 10
	c.max_nesting_depth = 64
	c.send_buffer_max_packets = 10000
	c.send_buffer_max_bytes = 16777216
	c.connect_timeout = 20.0
	c.transports = PackedStringArray(["websocket", "polling"])
	c.extra_headers = {}
	c.query = {}
	c.proxy_url = ""
	await get_tree().process_frame
