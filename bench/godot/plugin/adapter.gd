extends RefCounted
## Bench adapter: this plugin, through its GDScript API only (SocketIOClient singleton, SocketIONamespace).
## The driver (res://common/bench_main.gd) calls poller().poll() once per frame: the singleton's own poll(), with no
## GDScript wrapper in between, so the poll timings are the plugin's (including the handlers below, which it
## dispatches to from poll()).

const NAME := "plugin"
const SMALL := {"x": 1.5, "y": 2, "name": "player"}

var client: SocketIOClient
var ns: SocketIONamespace

## Counters and state read by the driver.
var echoes := 0
var last_echo: Array = []
var big_size := -1
var main_connected := false
var connected_usec := 0
var extra_namespaces_connected := 0
var attempts := 0
var last_error := ""
## F with a shape: the count the server announced, [type, size] of the value received, and the value itself (kept
## until the driver lets go of it).
var shape_count = -1
var shape_summary: Array = []
var shape_value = null
## The transports list set with set_transports() (empty: the plugin's default), and the upgrade from polling to
## WebSocket (the transport_upgraded signal) of the current connection.
var transports := PackedStringArray()
var upgraded := false
var upgraded_usec := 0

var _small_args: Array = [SMALL]
var _extra: Array = []


func _init() -> void:
	client = SocketIOClient.get_singleton()
	client.connected.connect(_on_connected)
	client.disconnected.connect(_on_disconnected)
	client.connect_error.connect(_on_connect_error)
	client.namespace_connected.connect(_on_namespace_connected)
	if client.has_signal("reconnect_attempt"):
		client.connect("reconnect_attempt", _on_reconnect_attempt)
	if client.has_signal("transport_upgraded"):
		client.connect("transport_upgraded", _on_transport_upgraded)


func poller() -> Object:
	return client


func _on_connected(_sid: String) -> void:
	main_connected = true
	connected_usec = Time.get_ticks_usec()


func _on_disconnected(reason: String) -> void:
	main_connected = false
	if reason != "io client disconnect":
		last_error = "disconnected: " + reason


func _on_connect_error(error: Dictionary) -> void:
	last_error = "connect_error: %s" % [error]


func _on_namespace_connected(path: String) -> void:
	if path != "/":
		extra_namespaces_connected += 1


func _on_reconnect_attempt(_attempt: int, _delay: float) -> void:
	attempts += 1


func _on_transport_upgraded(_transport: String) -> void:
	upgraded = true
	upgraded_usec = Time.get_ticks_usec()


func _on_echo(data: Array) -> void:
	echoes += 1
	last_echo = data


func _on_big(data: Array) -> void:
	big_size = data[0].size() if data.size() > 0 and data[0] is PackedByteArray else -2


func _on_big_shape(data: Array) -> void:
	var value = data[0] if data.size() > 0 else null
	shape_value = value
	var size := -1
	if value is Array or value is PackedByteArray:
		size = value.size()
	elif value is String:
		size = value.length()
	shape_summary = [typeof(value), size]


func _set_if_present(property: String, value) -> void:
	if property in client:
		client.set(property, value)


## The bench's --transports (the clients plugin-polling, plugin-upgrade): set as SocketIOClient.transports before
## every connect_to_url(). Returns "" or why it cannot be (a build without the property).
func set_transports(list: PackedStringArray) -> String:
	if not ("transports" in client):
		return "this build of the plugin has no SocketIOClient.transports property"
	transports = list
	return ""


## Whether the connection starts on polling and then upgrades to WebSocket (the driver waits for the upgrade).
func wants_upgrade() -> bool:
	return transports.size() > 1 and transports[0] == "polling" and transports.has("websocket")


## The transport in use, for the RESULT lines: SocketIOClient.get_transport() where the build has it; else
## "websocket" after an upgrade, else the first of the list (the default list starts with "websocket").
func transport_name() -> String:
	if client.has_method("get_transport"):
		var now: String = client.get_transport()
		if now != "":
			return now
	if upgraded or transports.is_empty():
		return "websocket"
	return transports[0]


func start_connect(url: String, reconnection := false) -> int:
	main_connected = false
	extra_namespaces_connected = 0
	upgraded = false
	_set_if_present("reconnection", reconnection)
	if not transports.is_empty():
		client.set("transports", transports)
	var err := client.connect_to_url(url)
	if err != OK:
		return err
	ns = client.get_namespace("/")
	if ns == null:
		last_error = "get_namespace(\"/\") returned null after connect_to_url"
		return FAILED
	ns.on("echo", _on_echo)
	ns.on("big", _on_big)
	ns.on("big_shape", _on_big_shape)
	return OK


## Connects to a dead port with reconnection on: attempts every `delay` s (plugin properties beyond the spec's API,
## set only when present).
func start_reconnecting(url: String, delay: float) -> int:
	_set_if_present("reconnection_delay", delay)
	_set_if_present("reconnection_delay_max", delay)
	_set_if_present("randomization_factor", 0.0)
	_set_if_present("reconnection_attempts", 0)
	return start_connect(url, true)


## The plugin writes a frame's emits together at the end of that frame by itself: nothing to flush (the
## websocketpeer adapter's flush() sends what WebSocketPeer.send() queued).
func flush() -> void:
	pass


func connect_namespaces(count: int) -> void:
	_extra.clear()
	for k in range(1, count + 1):
		var extra := client.create_namespace("/bench-%d" % k)
		if extra == null:
			last_error = "create_namespace(/bench-%d) returned null" % k
			continue
		_extra.append(extra)
		extra.connect_to_namespace()


func emit_small() -> void:
	ns.emit("echo", _small_args)


func emit_ack(i: int, callback: Callable) -> void:
	ns.emit_with_ack("ack", [i], callback, 10.0)


func emit_binary(buf: PackedByteArray) -> void:
	ns.emit("echo", [buf])


func last_binary_size() -> int:
	return last_echo[0].size() if last_echo.size() > 0 and last_echo[0] is PackedByteArray else -1


func request_big(nbytes: int) -> void:
	ns.emit("big", [nbytes, "binary"])


## One message of `shape` (ints, objects, string, binary) at most `nbytes` long; the server's ack tells its count.
func request_shape(shape: String, nbytes: int) -> void:
	ns.emit_with_ack("big_shape", [shape, nbytes], func(answer): shape_count = answer[0], 30.0)


## H: a SocketIOConnection node (its own client) that connects to `url` when it enters the tree and polls itself
## every idle frame; null when this build has no such class (a baseline from before it).
func make_idle_node(url: String) -> Node:
	if not ClassDB.class_exists("SocketIOConnection"):
		return null
	var n: Node = ClassDB.instantiate("SocketIOConnection")
	n.set("url", url)
	n.set("autoconnect", true)
	return n


func close() -> void:
	client.close()
	main_connected = false
	extra_namespaces_connected = 0
	ns = null
	_extra.clear()
