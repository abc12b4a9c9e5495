extends Node2D
## The multiplayer demo: Godot's own high-level multiplayer over Socket.IO. Start the relay
## (`node relay/bin/relay-server.js --port 3000`), run this scene in two editor instances (or two exported games),
## press Host in one and Join in the other. Each game moves its own square with the arrow keys; a
## MultiplayerSpawner gives every peer a square, a MultiplayerSynchronizer replicates positions, and "Wave" is an
## @rpc to everyone.
##
## Environment (optional): SOCKETIO_DEMO_URL (default ws://127.0.0.1:3000), SOCKETIO_DEMO_ROOM (default "arena"),
## SOCKETIO_DEMO_AUTO ("host" or "join": press the button at start, for a headless run).

const SPEED := 240.0

@onready var status: Label = $UI/Status
@onready var room_edit: LineEdit = $UI/Room
@onready var players: Node2D = $Players
@onready var spawner: MultiplayerSpawner = $Spawner

var connection: SocketIOConnection
var peer: SocketIOMultiplayerPeer


func _ready() -> void:
	var url := OS.get_environment("SOCKETIO_DEMO_URL")
	connection = SocketIOConnection.new()
	connection.url = url if url != "" else "ws://127.0.0.1:3000"
	connection.namespaces = PackedStringArray(["/match"])
	add_child(connection)
	var room := OS.get_environment("SOCKETIO_DEMO_ROOM")
	room_edit.text = room if room != "" else "arena"
	spawner.spawn_function = _spawn_square
	$UI/Host.pressed.connect(_start.bind(true))
	$UI/Join.pressed.connect(_start.bind(false))
	$UI/Wave.pressed.connect(func(): wave.rpc(multiplayer.get_unique_id()))
	multiplayer.peer_connected.connect(_on_peer_connected)
	multiplayer.peer_disconnected.connect(_on_peer_disconnected)
	multiplayer.connected_to_server.connect(func(): _say("joined as peer %d" % multiplayer.get_unique_id()))
	multiplayer.connection_failed.connect(func(): _say("could not join: %s" % peer.get_last_error()))
	multiplayer.server_disconnected.connect(func(): _say("the host left"))
	connection.connect_to_server()
	var auto := OS.get_environment("SOCKETIO_DEMO_AUTO")
	if auto in ["host", "join"]:
		connection.connected.connect(func(_sid: String): _start(auto == "host"), CONNECT_ONE_SHOT)


func _start(as_host: bool) -> void:
	var ns := connection.get_namespace("/match")
	if ns == null:
		_say("no /match namespace yet")
		return
	multiplayer.multiplayer_peer = null
	for child in players.get_children():
		child.queue_free()
	peer = SocketIOMultiplayerPeer.new()
	peer.relay_error.connect(func(code: String, message: String): _say("relay: %s (%s)" % [message, code]))
	var err := peer.host(ns, room_edit.text) if as_host else peer.join(ns, room_edit.text)
	if err != OK:
		_say("%s: %s" % ["host" if as_host else "join", error_string(err)])
		return
	multiplayer.multiplayer_peer = peer
	if as_host:
		_say("hosting room %s" % room_edit.text)
		spawner.spawn(1)
	else:
		_say("joining room %s..." % room_edit.text)


func _on_peer_connected(id: int) -> void:
	if multiplayer.is_server():
		spawner.spawn(id)
		_say("peer %d joined" % id)


func _on_peer_disconnected(id: int) -> void:
	if multiplayer.is_server():
		var square := players.get_node_or_null(str(id))
		if square != null:
			square.queue_free()
		_say("peer %d left" % id)


func _spawn_square(id: int) -> Node:
	var square := Node2D.new()
	square.name = str(id)
	square.position = Vector2(100 + (id % 7) * 60, 200)
	var rect := ColorRect.new()
	rect.size = Vector2(32, 32)
	rect.color = Color.from_hsv(float(id % 360) / 360.0, 0.7, 0.95)
	square.add_child(rect)
	var sync := MultiplayerSynchronizer.new()
	sync.name = "Sync"
	var config := SceneReplicationConfig.new()
	config.add_property(NodePath(".:position"))
	sync.replication_config = config
	square.add_child(sync)
	square.set_multiplayer_authority(id)
	return square


func _process(delta: float) -> void:
	if peer == null or peer.get_connection_status() != MultiplayerPeer.CONNECTION_CONNECTED:
		return
	var own := players.get_node_or_null(str(multiplayer.get_unique_id()))
	if own != null and own.is_multiplayer_authority():
		var dir := Input.get_vector("ui_left", "ui_right", "ui_up", "ui_down")
		own.position += dir * SPEED * delta


@rpc("any_peer", "call_local", "reliable")
func wave(from: int) -> void:
	_say("peer %d waves" % from)


func _say(text: String) -> void:
	status.text = text
	print("arena: ", text)
