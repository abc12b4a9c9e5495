extends RefCounted
## Bench adapter: Godot's own WebSocketPeer driven from GDScript with hand-made, pre-encoded Socket.IO frames, the
## floor of what any GDScript addon can reach. It does the Engine.IO handshake (waits for the OPEN packet, sends
## "40"), answers pings ("2") with "3", sends pre-encoded text frames, and parses just enough of the replies, by
## their first bytes and without any JSON parsing, to count echoes, match acks by id, and take binary attachments.
## Reconnection (workload F only) is a fixed-delay retry done from poll().
##
## With `--json=1` (the client websocketpeer-json of scripts/bench.sh) it works as a GDScript addon has to instead:
## each event and ack it sends is built with JSON.stringify(), and each one it receives is read with
## JSON.parse_string() into its Array of arguments, which the echo and ack handlers are given.

const Args := preload("res://common/args.gd")
const NAME := "websocketpeer"

const C_0 := 0x30  # "0"
const C_1 := 0x31
const C_2 := 0x32
const C_3 := 0x33
const C_4 := 0x34
const C_5 := 0x35
const C_SLASH := 0x2F
const C_COMMA := 0x2C
const C_BRACKET := 0x5B  # "["
const C_E := 0x65  # "e" of "echo"
const C_B := 0x62  # "b" of "big"

## Pre-encoded frames.
var SMALL_FRAME: PackedByteArray = '42["echo",{"x":1.5,"y":2,"name":"player"}]'.to_utf8_buffer()
var BINARY_ECHO_HEADER: PackedByteArray = '451-["echo",{"_placeholder":true,"num":0}]'.to_utf8_buffer()
var PONG: PackedByteArray = "3".to_utf8_buffer()
var CONNECT: PackedByteArray = "40".to_utf8_buffer()

var ws: WebSocketPeer
var url := ""

## Counters and state read by the driver.
var echoes := 0
var last_binary := PackedByteArray()
var big_size := -1
var main_connected := false
var connected_usec := 0
var extra_namespaces_connected := 0
var attempts := 0
var last_error := ""

## 0: none; 1: the next binary frame is the attachment of an "echo"; 2: of a "big".
var _pending_binary := 0
var _next_ack_id := 0
var _acks := {}  # ack id -> [i, callback]
## Something was sent from poll() (a pong, the namespace CONNECT): flush it before returning.
var _sent_in_poll := false
var _reconnect_delay_usec := -1
var _retry_at := 0
var _active := false
## --json=1: encode and parse the Socket.IO payloads as JSON (see the top of this file).
var _json := Args.value("json", "0") == "1"
var _small_data := {"x": 1.5, "y": 2, "name": "player"}
var last_echo: Array = []


func poller() -> Object:
	return self


func _new_peer() -> void:
	ws = WebSocketPeer.new()
	# Godot's defaults (64 KiB each way) cannot carry the 1 MiB (C) and 5 MiB (F) messages: the smallest sizes
	# that can, for every workload (one configuration, as an addon would have). The peer allocates them on connect.
	ws.inbound_buffer_size = 8 * 1048576
	ws.outbound_buffer_size = 2 * 1048576
	_pending_binary = 0


func _open() -> int:
	_new_peer()
	return ws.connect_to_url(url.trim_suffix("/") + "/socket.io/?EIO=4&transport=websocket")


func start_connect(server_url: String) -> int:
	close()
	url = server_url
	_reconnect_delay_usec = -1
	_active = true
	return _open()


func start_reconnecting(server_url: String, delay: float) -> int:
	var err := start_connect(server_url)
	_reconnect_delay_usec = int(delay * 1e6)
	return err


func poll() -> void:
	if ws == null:
		return
	ws.poll()
	var state := ws.get_ready_state()
	if state == WebSocketPeer.STATE_OPEN:
		while ws.get_available_packet_count() > 0:
			var pkt := ws.get_packet()
			if not ws.was_string_packet():
				if _pending_binary == 1:
					last_binary = pkt
					echoes += 1
				elif _pending_binary == 2:
					big_size = pkt.size()
				_pending_binary = 0
				continue
			_on_text(pkt)
		if _sent_in_poll:
			flush()
	elif state == WebSocketPeer.STATE_CLOSED and _active:
		main_connected = false
		if _reconnect_delay_usec < 0:
			_active = false
			last_error = "closed: %d %s" % [ws.get_close_code(), ws.get_close_reason()]
		elif _retry_at == 0:
			_retry_at = Time.get_ticks_usec() + _reconnect_delay_usec
		elif Time.get_ticks_usec() >= _retry_at:
			_retry_at = 0
			attempts += 1
			_open()


func _on_text(pkt: PackedByteArray) -> void:
	if pkt.is_empty():
		return
	var b0 := pkt[0]
	if b0 == C_4 and pkt.size() > 1:  # Engine.IO MESSAGE: a Socket.IO packet
		var b1 := pkt[1]
		if b1 == C_2:  # EVENT: 42["echo",...] on "/"; other events and namespaces are ignored
			if _json:
				if pkt.size() > 2 and pkt[2] == C_BRACKET:
					var parsed = JSON.parse_string(pkt.get_string_from_utf8().substr(2))
					if parsed is Array and parsed.size() > 0 and parsed[0] == "echo":
						parsed.remove_at(0)
						last_echo = parsed
						echoes += 1
			elif pkt.size() > 4 and pkt[2] == C_BRACKET and pkt[4] == C_E:
				echoes += 1
		elif b1 == C_3:  # ACK: 43<id>[...]
			var id := 0
			var k := 2
			while k < pkt.size() and pkt[k] != C_BRACKET:
				id = id * 10 + pkt[k] - C_0
				k += 1
			var entry = _acks.get(id)
			if entry != null:
				_acks.erase(id)
				if _json:
					# JSON has one number type: Godot's JSON parses every number as a float, so an addon that
					# hands its users the ints they sent has to turn the whole ones back.
					var parsed = JSON.parse_string(pkt.get_string_from_utf8().substr(k))
					var args: Array = parsed if parsed is Array else []
					for j in args.size():
						if args[j] is float and args[j] == floorf(args[j]):
							args[j] = int(args[j])
					entry[1].call(args)
				else:
					entry[1].call([entry[0]])
		elif b1 == C_5:  # BINARY_EVENT: 451-["echo",... / 451-["big",...
			if pkt.size() > 6:
				_pending_binary = 1 if pkt[6] == C_E else (2 if pkt[6] == C_B else 0)
		elif b1 == C_0:  # CONNECT reply: 40{"sid":...} or 40/bench-1,{...}
			if pkt.size() > 2 and pkt[2] == C_SLASH:
				extra_namespaces_connected += 1
			else:
				main_connected = true
				connected_usec = Time.get_ticks_usec()
		elif b1 == C_4:  # CONNECT_ERROR
			last_error = "connect_error: " + pkt.get_string_from_utf8()
	elif b0 == C_2:  # Engine.IO PING
		ws.send(PONG, WebSocketPeer.WRITE_MODE_TEXT)
		_sent_in_poll = true
	elif b0 == C_0:  # Engine.IO OPEN: connect the main namespace
		ws.send(CONNECT, WebSocketPeer.WRITE_MODE_TEXT)
		_sent_in_poll = true
	elif b0 == C_1:  # Engine.IO CLOSE
		last_error = "engine.io close"


## WebSocketPeer.send() only queues: the frames go out at the peer's next poll(). The driver calls this after its
## emits, so that they leave in the same frame, as the plugin's do. What this poll() reads stays queued in the peer
## for the next poll().
func flush() -> void:
	_sent_in_poll = false
	if ws != null:
		ws.poll()


func connect_namespaces(count: int) -> void:
	for k in range(1, count + 1):
		ws.send_text("40/bench-%d," % k)


func emit_small() -> void:
	if _json:
		ws.send_text("42" + JSON.stringify(["echo", _small_data]))
	else:
		ws.send(SMALL_FRAME, WebSocketPeer.WRITE_MODE_TEXT)


func emit_ack(i: int, callback: Callable) -> void:
	var id := _next_ack_id
	_next_ack_id += 1
	_acks[id] = [i, callback]
	if _json:
		ws.send_text("42%d%s" % [id, JSON.stringify(["ack", i])])
	else:
		ws.send_text('42%d["ack",%d]' % [id, i])


func emit_binary(buf: PackedByteArray) -> void:
	ws.send(BINARY_ECHO_HEADER, WebSocketPeer.WRITE_MODE_TEXT)
	ws.send(buf, WebSocketPeer.WRITE_MODE_BINARY)


func last_binary_size() -> int:
	return last_binary.size()


func request_big(nbytes: int) -> void:
	ws.send_text('42["big",%d,"binary"]' % nbytes)


func close() -> void:
	if ws != null and ws.get_ready_state() != WebSocketPeer.STATE_CLOSED:
		ws.close()
	ws = null
	_active = false
	main_connected = false
	extra_namespaces_connected = 0
	_reconnect_delay_usec = -1
	_retry_at = 0
	_acks.clear()
