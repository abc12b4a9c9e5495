extends Control
## A small Socket.IO chat client.
##
## It connects to the server (SOCKETIO_DEMO_URL, or `--url=ws://host:port` after `--` on the command line; default
## ws://127.0.0.1:3000) over the transports of SOCKETIO_DEMO_TRANSPORTS or `--transports=polling,websocket`
## (default: the client's own, websocket then polling), through the HTTP proxy of SOCKETIO_DEMO_PROXY or
## `--proxy=http://host:port` if given, with a header and a query parameter the server echoes back
## in its welcome, joins the "/chat" namespace and prints the traffic. It has two connections, each a
## SocketIOConnection node that polls its own client: the player, who chats, and a spectator, who only watches
## "/chat". With a window you can type lines; headless (scripts/demo.sh), the player sends a few lines by itself and
## checks they come back and that the spectator saw them, has the server drop its connection, checks that /chat is
## rejoined by itself and that a line sent then comes back exactly once (handlers are registered once and survive
## reconnections), and quits: exit code 0 when all of it worked, 1 otherwise.

const SCRIPTED_LINES := ["Hello from Godot!", "Binary and acks work too.", "Bye 👋"]
const LINE_AFTER_RECONNECTION := "Back after a reconnection."
const HEADLESS_TIMEOUT := 20.0

## The two connections, and the player's client (its settings and namespaces).
var player: SocketIOConnection
var spectator: SocketIOConnection
var socketio: SocketIOClient
var main_ns: SocketIONamespace
var chat_ns: SocketIONamespace
var spectator_chat: SocketIONamespace
var headless := DisplayServer.get_name() == "headless"

var _log: RichTextLabel
var _input: LineEdit
var _echoed := 0
var _acked := false
var _joins := 0
var _dropped := false
var _echoed_after_reconnection := 0
var _started_ms := 0
var _spectator_joined := false
var _seen_by_spectator := 0
var _lines_sent := false


func _ready() -> void:
	_build_ui()
	# Each SocketIOConnection owns a client and polls it every frame (process_callback), and re-emits its signals.
	player = SocketIOConnection.new()
	player.name = "Player"
	add_child(player)
	spectator = SocketIOConnection.new()
	spectator.name = "Spectator"
	add_child(spectator)
	socketio = player.get_client()
	player.connected.connect(_on_connected)
	player.disconnected.connect(func(reason): _say("disconnected: %s" % reason))
	player.connect_error.connect(func(error): _say("connection error: %s" % error["message"]))
	player.reconnect_attempt.connect(func(attempt, delay): _say("reconnecting (attempt %d in %.1f s)" % [attempt, delay]))
	player.transport_upgraded.connect(func(transport): _say("upgraded to %s" % transport))
	spectator.connect_error.connect(func(error): _say("spectator: connection error: %s" % error["message"]))

	# Connection options, socket.io-client's `transports`, `extraHeaders` and `query`, and an HTTP proxy; they apply
	# to the next connect_to_url().
	var transports := _option("transports")
	if transports != "":
		socketio.transports = PackedStringArray(transports.split(","))
	var proxy := _option("proxy")  # e.g. http://proxy.example:3128 or http://user:password@proxy.example:3128
	if proxy != "":
		socketio.proxy_url = proxy
	socketio.extra_headers = {"X-Client": "godot-demo"}
	socketio.query = {"room": "lobby", "version": 1}

	var url := _server_url()
	_say("connecting to %s (transports %s)" % [url, ", ".join(socketio.transports)])
	player.url = url
	player.auth = {"name": "godot-demo"}
	var err := player.connect_to_server()
	if err != OK:
		_say("connect_to_url failed: %s" % error_string(err))
		_finish(false)
		return
	main_ns = socketio.get_namespace("/")
	main_ns.on("welcome", func(data): _say("server says welcome, session %s, over %s, query %s, headers %s" % [
			data[0]["sid"], data[0].get("transport"), data[0].get("query"), data[0].get("headers")]))
	# Everything is registered once, here: namespace objects and their handlers survive reconnections, and the
	# client rejoins /chat by itself after one (registering again in a `connected` handler would add a duplicate
	# handler at every reconnection).
	chat_ns = socketio.create_namespace("/chat")
	chat_ns.connected.connect(_on_chat_joined)
	chat_ns.on("chat", _on_chat_line)
	chat_ns.connect_to_namespace({"name": "godot-demo"})

	# The spectator: a second, independent connection, which joins /chat and watches what the player says.
	spectator.url = url
	spectator.auth = {"name": "spectator"}
	spectator.get_client().transports = socketio.transports
	if socketio.proxy_url != "":
		spectator.get_client().proxy_url = socketio.proxy_url
	spectator_chat = spectator.get_client().create_namespace("/chat")
	spectator_chat.connected.connect(func(_sid):
		_spectator_joined = true
		_say("the spectator joined /chat")
		_send_scripted_lines())
	spectator_chat.on("chat", _on_spectator_line)
	spectator_chat.connect_to_namespace({"name": "spectator"})
	if spectator.connect_to_server() != OK:
		_say("the spectator could not connect")
		_finish(false)
		return
	_started_ms = Time.get_ticks_msec()


func _process(_delta: float) -> void:
	# No poll() here: each SocketIOConnection polls its own client.
	if headless and _started_ms > 0 and Time.get_ticks_msec() - _started_ms > HEADLESS_TIMEOUT * 1000.0:
		_say("timed out")
		_finish(false)


func _server_url() -> String:
	var url := _option("url")
	return url if url != "" else "ws://127.0.0.1:3000"


## `--NAME=value` after `--` on the command line, else SOCKETIO_DEMO_<NAME>, else "".
func _option(name: String) -> String:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--%s=" % name):
			return arg.trim_prefix("--%s=" % name)
	return OS.get_environment("SOCKETIO_DEMO_" + name.to_upper())


func _on_connected(session_id: String) -> void:
	_say("connected over %s (engine session %s, \"/\" session %s)" % [socketio.get_transport(),
			socketio.get_engine_io_session_id(), session_id])


func _on_chat_joined(session_id: String) -> void:
	_joins += 1
	_say("joined /chat as %s" % session_id)
	if _joins > 1:
		if headless:
			chat_ns.emit("chat", [LINE_AFTER_RECONNECTION])
			_say("> %s" % LINE_AFTER_RECONNECTION)
		return
	# A request/response round trip with an acknowledgement, and binary data inside it.
	chat_ns.emit_with_ack("ack", [{"ping": PackedByteArray([1, 2, 3])}], func(response):
		_say("ack answered: %s" % [response])
		_acked = response[0] is Dictionary and response[0].get("ping") == PackedByteArray([1, 2, 3])
		_check_done()
	)
	_send_scripted_lines()


## Headless: the scripted lines, once both the player and the spectator are in /chat.
func _send_scripted_lines() -> void:
	if not headless or _lines_sent or not _spectator_joined or _joins == 0:
		return
	_lines_sent = true
	for line in SCRIPTED_LINES:
		chat_ns.emit("chat", [line])
		_say("> %s" % line)


func _on_spectator_line(data: Array) -> void:
	var line: Dictionary = data[0]
	if line["from"] == chat_ns.get_session_id() and line["text"] in SCRIPTED_LINES:
		_seen_by_spectator += 1
		_say("(the spectator saw: %s)" % line["text"])
		_check_done()


func _on_chat_line(data: Array) -> void:
	var line: Dictionary = data[0]
	var mine: bool = line["from"] == chat_ns.get_session_id()
	_say("[%s] %s" % ["me" if mine else line["from"], line["text"]])
	if mine and line["text"] == LINE_AFTER_RECONNECTION:
		_echoed_after_reconnection += 1
		if _echoed_after_reconnection == 1:
			# Give a duplicate handler time to show itself.
			get_tree().create_timer(0.5).timeout.connect(_check_reconnection_round)
	elif mine:
		_echoed += 1
		_check_done()


func _check_done() -> void:
	if headless and _acked and _echoed == SCRIPTED_LINES.size() and _seen_by_spectator == SCRIPTED_LINES.size() \
			and not _dropped:
		_dropped = true
		_say("exchange complete; asking the server to drop the connection")
		main_ns.emit("drop_transport")


func _check_reconnection_round() -> void:
	var once := _echoed_after_reconnection == 1 and _joins == 2
	_say("after the reconnection: /chat joined %d times, the line came back %d time(s)" % [_joins,
			_echoed_after_reconnection])
	_finish(once)


func _finish(ok: bool) -> void:
	set_process(false)
	player.close()
	spectator.close()
	print("demo: %s" % ("OK" if ok else "FAILED"))
	get_tree().quit(0 if ok else 1)


func _send_typed_line(text: String) -> void:
	if text.strip_edges() == "" or chat_ns == null:
		return
	chat_ns.emit("chat", [text])
	_input.clear()


func _say(text: String) -> void:
	print(text)
	if _log != null:
		_log.append_text(text + "\n")


func _build_ui() -> void:
	var box := VBoxContainer.new()
	box.set_anchors_and_offsets_preset(Control.PRESET_FULL_RECT)
	add_child(box)
	_log = RichTextLabel.new()
	_log.size_flags_vertical = Control.SIZE_EXPAND_FILL
	_log.scroll_following = true
	box.add_child(_log)
	_input = LineEdit.new()
	_input.placeholder_text = "Type a message and press Enter"
	_input.text_submitted.connect(_send_typed_line)
	box.add_child(_input)
