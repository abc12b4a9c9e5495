extends Node
## One game, three processes (scripts/test-multiplayer.sh): MP_ROLE "host", "a" or "b", the relay at MP_URL
## (namespace MP_NAMESPACE, default "/match"), room MP_ROOM. Godot's own high-level multiplayer runs over
## SocketIOMultiplayerPeer: @rpc in every transfer mode and target, a MultiplayerSpawner spawning one player per
## peer, a MultiplayerSynchronizer replicating their positions, Godot's server relay between the clients, a forged
## sender and an oversized packet refused, a client leaving, the host leaving.
##
## The host is the referee: the clients report what they saw with report.rpc_id(1, ...). Every process prints
## "MP CHECK ok <what>" or "MP CHECK FAIL <what>" lines and "MP DONE <role> passed N failed M", and exits 0 only when
## every check of its own passed.

const PHASE_TIMEOUT := 20.0

var role := ""
var client: SocketIOClient
var ns: SocketIONamespace
var peer: SocketIOMultiplayerPeer
var passed := 0
var failed := 0
## What arrived, by key (host_says, direct, shout, ...): lists of [sender, value].
var got := {}
## The clients' reports, on the host: key -> value.
var reports := {}
var phase_seen := 0
var relay_errors: Array = []
var server_gone := false
var peers_left: Array = []


func _ready() -> void:
	role = OS.get_environment("MP_ROLE")
	if role == "none":
		# scripts/test-multiplayer.sh's first run: the project imported and loaded, nothing more.
		print("MP DONE none passed 0 failed 0")
		get_tree().quit(0)
		return
	var url := OS.get_environment("MP_URL")
	var room := OS.get_environment("MP_ROOM")
	var path := OS.get_environment("MP_NAMESPACE")
	if path == "":
		path = "/match"
	if role not in ["host", "a", "b"] or url == "" or room == "":
		_check(false, "MP_ROLE (host|a|b), MP_URL and MP_ROOM are set")
		_finish()
		return
	$Spawner.spawn_function = _spawn_player
	client = SocketIOClient.new()
	client.reconnection = false
	client.connect_to_url(url)
	ns = client.create_namespace(path)
	ns.connect_to_namespace()
	peer = SocketIOMultiplayerPeer.new()
	peer.relay_error.connect(func(code: String, message: String): relay_errors.append([code, message]))
	multiplayer.server_disconnected.connect(func(): server_gone = true)
	multiplayer.peer_disconnected.connect(func(id: int): peers_left.append(id))
	if role == "host":
		_run_host.call_deferred(room)
	else:
		_run_client.call_deferred(room)


func _process(_delta: float) -> void:
	if client != null:
		client.poll()


# ----- the host ------------------------------------------------------------------------------------------------

func _run_host(room: String) -> void:
	var err := peer.host(ns, room)
	_check(err == OK, "host() returns OK (%s)" % error_string(err))
	_check(peer.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTING, "connecting until the relay answers")
	multiplayer.multiplayer_peer = peer
	if not await _until(func(): return peer.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED, "hosting"):
		return _finish()
	_check(multiplayer.get_unique_id() == 1 and multiplayer.is_server(), "the host is peer 1, the server")
	print("MP READY host")
	if not await _until(func(): return multiplayer.get_peers().size() == 2, "two clients joined"):
		return _finish()
	var clients := Array(multiplayer.get_peers())
	clients.sort()
	_check(clients.all(func(id): return id > 1), "client ids are above 1: %s" % [clients])
	# One player per peer, spawned by the host and replicated to both clients.
	for id in [1] + clients:
		$Spawner.spawn(id)

	# Every mode and channel, to all. The unreliable modes may be dropped at the relay when a receiver's link is
	# backed up (it is not, on loopback): each sent 10 times, a few frames apart.
	for n in 3:
		host_says.rpc("reliable", n)
	for n in 10:
		host_unreliable.rpc(n)
		host_ordered.rpc(n)
		for _f in 3:
			await get_tree().process_frame
	var a: int = reports.get("a_id", 0)
	if not await _until(func(): return reports.has("a_id") and reports.has("b_id"), "both clients reported their ids"):
		return _finish()
	a = reports["a_id"]
	var b: int = reports["b_id"]
	only_for.rpc_id(a, "a")
	# Phase 1: the clients talk to each other through Godot's server relay, and check what they got.
	phase.rpc(1)
	if not await _until(func(): return reports.has("a_done") and reports.has("b_done"), "phase 1 reports"):
		return _finish()
	_check(reports["a_done"] == "ok", "client a's checks: %s" % reports["a_done"])
	_check(reports["b_done"] == "ok", "client b's checks: %s" % reports["b_done"])
	var shouts: Array = got.get("shout", [])
	_check(shouts == [[a, "from a"]], "a's rpc() to all reached the host once, from a: %s" % [shouts])
	# Positions: each peer moves its own player; everyone agrees.
	_move_own_player()
	if not await _until(func(): return _positions_agree() and reports.has("a_positions") and reports.has("b_positions"), "positions agree everywhere"):
		return _finish()
	_check(reports["a_positions"] == true and reports["b_positions"] == true, "all three see the same positions")
	# A forged sender: nothing from a claiming to be someone else reached the host.
	_check(not got.has("forged"), "no forged packet delivered")
	_check(not got.has("big"), "the oversized rpc was not delivered: %s" % [got.get("big")])
	# Phase 2: b leaves.
	phase.rpc(2)
	if not await _until(func(): return b in peers_left, "b's departure seen"):
		return _finish()
	_check(multiplayer.get_peers() == PackedInt32Array([a]), "only a is left: %s" % [multiplayer.get_peers()])
	if not await _until(func(): return reports.has("a_saw_b_leave"), "a saw b leave"):
		return _finish()
	_check(reports["a_saw_b_leave"] == true, "a got peer_disconnected(b) through the server relay")
	# The host leaves: a gets server_disconnected (it reports nothing more; the driver checks a's own output).
	await get_tree().create_timer(0.2).timeout
	multiplayer.multiplayer_peer.close()
	_check(peer.get_connection_status() == MultiplayerPeer.CONNECTION_DISCONNECTED, "closed")
	await get_tree().create_timer(0.5).timeout
	_finish()


# ----- the clients ---------------------------------------------------------------------------------------------

func _run_client(room: String) -> void:
	# The host may not have the room yet: try again on room_unknown.
	var deadline := Time.get_ticks_msec() + int(PHASE_TIMEOUT * 1000)
	while true:
		relay_errors.clear()
		# A peer is polled by the multiplayer API it is given to: given at once, as a game does (set to null first
		# on a retry, since giving the same peer again is a no-op for SceneMultiplayer).
		multiplayer.multiplayer_peer = null
		var err := peer.join(ns, room)
		_check(err == OK, "join() returns OK (%s)" % error_string(err))
		multiplayer.multiplayer_peer = peer
		await _until(func(): return peer.get_connection_status() != MultiplayerPeer.CONNECTION_CONNECTING, "an answer")
		if peer.get_connection_status() == MultiplayerPeer.CONNECTION_CONNECTED:
			break
		if Time.get_ticks_msec() > deadline or relay_errors.is_empty() or relay_errors[0][0] != "room_unknown":
			_check(false, "joined room %s: %s" % [room, relay_errors])
			return _finish()
		await get_tree().create_timer(0.2).timeout
	var me := multiplayer.get_unique_id()
	_check(me > 1 and not multiplayer.is_server(), "a client id above 1: %d" % me)
	print("MP READY %s %d" % [role, me])
	if not await _until(func(): return multiplayer.get_peers().has(1), "the host connected"):
		return _finish()
	report.rpc_id(1, "%s_id" % role, me)
	if not await _until(func(): return phase_seen >= 1, "phase 1"):
		return _finish()
	var problems: Array = []
	# What the host sent to everyone: reliable in order, once; of the unreliable ones some, never twice, and the
	# ordered ones in order.
	if got.get("host_says", []) != [[1, 0], [1, 1], [1, 2]]:
		problems.append("host_says %s" % [got.get("host_says")])
	for key in ["host_unreliable", "host_ordered"]:
		var list: Array = got.get(key, [])
		var values := list.map(func(e): return e[1])
		var sorted := values.duplicate()
		sorted.sort()
		var unique := {}
		for v in values:
			unique[v] = true
		if list.is_empty() or list.any(func(e): return e[0] != 1) or unique.size() != values.size():
			problems.append("%s %s" % [key, list])
		elif key == "host_ordered" and values != sorted:
			problems.append("host_ordered out of order %s" % [values])
	if role == "a" and got.get("only_for", []) != [[1, "a"]]:
		problems.append("only_for %s" % [got.get("only_for")])
	if role == "b" and got.has("only_for"):
		problems.append("b got a's only_for")
	# Through the server relay: a talks to b directly, and to everyone.
	var others := Array(multiplayer.get_peers()).filter(func(id): return id != 1)
	if others.size() != 1:
		problems.append("the other client is not known: peers %s" % [multiplayer.get_peers()])
	else:
		var other: int = others[0]
		if role == "a":
			direct.rpc_id(other, "from a")
			shout.rpc("from a")
			_forge()
			await _oversized(problems)
		else:
			if not await _until(func(): return got.has("direct") and got.has("shout"), "a's direct and shout"):
				return _finish()
			if got["direct"] != [[other, "from a"]]:
				problems.append("direct %s (a is %d)" % [got["direct"], other])
			if got["shout"] != [[other, "from a"]]:
				problems.append("shout %s" % [got["shout"]])
	if role == "a":
		# The forged packet and the oversized one were refused, with reasons.
		if not await _until(func(): return relay_errors.any(func(e): return e[0] == "bad_packet"), "the relay's bad_packet"):
			problems.append("no bad_packet from the relay for the forged packet: %s" % [relay_errors])
	_check(problems.is_empty(), "phase 1 as expected %s" % [problems])
	report.rpc_id(1, "%s_done" % role, "ok" if problems.is_empty() else str(problems))
	_move_own_player()
	if not await _until(_positions_agree, "positions agree"):
		report.rpc_id(1, "%s_positions" % role, false)
		return _finish()
	report.rpc_id(1, "%s_positions" % role, true)
	if not await _until(func(): return phase_seen >= 2, "phase 2"):
		return _finish()
	if role == "b":
		await get_tree().create_timer(0.1).timeout
		multiplayer.multiplayer_peer.close()
		_check(peer.get_connection_status() == MultiplayerPeer.CONNECTION_DISCONNECTED, "b left")
		await get_tree().create_timer(0.5).timeout
		return _finish()
	# a: sees b leave, then the host.
	var b_id: int = others[0] if others.size() == 1 else -1
	if not await _until(func(): return b_id in peers_left, "b's departure"):
		return _finish()
	report.rpc_id(1, "a_saw_b_leave", true)
	if not await _until(func(): return server_gone, "server_disconnected when the host left"):
		return _finish()
	_check(relay_errors.any(func(e): return e[0] == "host_left"), "relay_error host_left: %s" % [relay_errors])
	_check(peer.get_connection_status() == MultiplayerPeer.CONNECTION_DISCONNECTED, "disconnected after the host left")
	_finish()


## A packet claiming another sender, emitted by hand on the relay's namespace: refused by the relay (bad_packet).
func _forge() -> void:
	ns.emit("mp:packet", [1, 0, 2, PackedByteArray([1, 2, 3]), 1])


## An rpc larger than the relay's limit fails on this side, with an error naming the limit: pushed as an error, and
## as relay_error("packet_too_large") at the next poll (rpc_id() itself returns OK: Godot's multiplayer API does not
## pass put_packet's error on). The host checks that nothing arrived.
func _oversized(problems: Array) -> void:
	var limit: int = peer.get_max_packet_bytes()
	if limit != 4096:
		problems.append("the relay's limit is %d, not the 4096 it was started with" % limit)
	big.rpc_id(1, _bytes(limit + 100))
	if not await _until(func(): return relay_errors.any(func(e): return e[0] == "packet_too_large"), "relay_error packet_too_large"):
		problems.append("no packet_too_large for an rpc of %d bytes: %s" % [limit + 100, relay_errors])
	else:
		var e: Array = relay_errors.filter(func(e): return e[0] == "packet_too_large")[0]
		if not str(e[1]).contains(str(limit)):
			problems.append("the error does not name the limit: %s" % [e])


func _bytes(n: int) -> PackedByteArray:
	var b := PackedByteArray()
	b.resize(n)
	return b


# ----- players -------------------------------------------------------------------------------------------------

func _spawn_player(id: int) -> Node:
	var player := Node2D.new()
	player.name = str(id)
	var sync := MultiplayerSynchronizer.new()
	sync.name = "Sync"
	var config := SceneReplicationConfig.new()
	config.add_property(NodePath(".:position"))
	sync.replication_config = config
	player.add_child(sync)
	player.set_multiplayer_authority(id)
	return player


func _expected_position(id: int) -> Vector2:
	return Vector2(id % 997, 42)


func _move_own_player() -> void:
	var own := $Players.get_node_or_null(str(multiplayer.get_unique_id()))
	if own != null:
		own.position = _expected_position(multiplayer.get_unique_id())


func _positions_agree() -> bool:
	_move_own_player()
	if $Players.get_child_count() != 3:
		return false
	for player in $Players.get_children():
		if player.position != _expected_position(int(str(player.name))):
			return false
	return true


# ----- RPCs ----------------------------------------------------------------------------------------------------

@rpc("authority", "call_remote", "reliable", 0)
func host_says(_tag: String, n: int) -> void:
	_got("host_says", n)


@rpc("authority", "call_remote", "unreliable", 1)
func host_unreliable(n: int) -> void:
	_got("host_unreliable", n)


@rpc("authority", "call_remote", "unreliable_ordered", 2)
func host_ordered(n: int) -> void:
	_got("host_ordered", n)


@rpc("authority", "call_remote", "reliable")
func only_for(tag: String) -> void:
	_got("only_for", tag)


@rpc("authority", "call_remote", "reliable")
func phase(n: int) -> void:
	phase_seen = n


@rpc("any_peer", "call_remote", "reliable")
func report(key: String, value: Variant) -> void:
	if multiplayer.is_server():
		reports[key] = value


@rpc("any_peer", "call_remote", "reliable")
func direct(tag: String) -> void:
	_got("direct", tag)


@rpc("any_peer", "call_remote", "reliable")
func shout(tag: String) -> void:
	_got("shout", tag)


@rpc("any_peer", "call_remote", "reliable")
func big(_data: PackedByteArray) -> void:
	_got("big", _data.size())


func _got(key: String, value: Variant) -> void:
	if not got.has(key):
		got[key] = []
	got[key].append([multiplayer.get_remote_sender_id(), value])


# ----- checks --------------------------------------------------------------------------------------------------

func _check(ok: bool, what: String) -> void:
	if ok:
		passed += 1
		print("MP CHECK ok %s %s" % [role, what])
	else:
		failed += 1
		print("MP CHECK FAIL %s %s" % [role, what])


func _until(done: Callable, what: String) -> bool:
	var deadline := Time.get_ticks_msec() + int(PHASE_TIMEOUT * 1000)
	while not done.call():
		if Time.get_ticks_msec() > deadline:
			_check(false, "%s within %d s (relay errors %s)" % [what, PHASE_TIMEOUT, relay_errors])
			return false
		await get_tree().process_frame
	return true


func _finish() -> void:
	print("MP DONE %s passed %d failed %d" % [role, passed, failed])
	multiplayer.multiplayer_peer = null
	if client != null:
		client.close()
		client.free()
		client = null
	get_tree().quit(0 if failed == 0 else 1)
