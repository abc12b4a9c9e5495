extends Node
## What a new user's first scene does with the addon installed from the release zip: connect, emit, an ack, a binary
## round trip, close (started by boot.gd, the main scene's script). Run by scripts/test-package.sh in the editor's
## headless player and as an exported game, against the Node test server at SOCKETIO_PACKAGE_URL. Prints
## "PACKAGE OK <what ran>" and exits 0 when every step passed; anything else exits 1.

var _log: Array[String] = []


func _ready() -> void:
	var url := OS.get_environment("SOCKETIO_PACKAGE_URL")
	if url == "":
		_fail("SOCKETIO_PACKAGE_URL is not set")
		return
	var how := "exported game" if OS.has_feature("template") else "editor build"
	print("PACKAGE addon version %s, Godot %s, %s" % [SocketIOClient.get_version(), Engine.get_version_info().string, how])

	var client := SocketIOClient.get_singleton()
	var welcome: Array = []
	if client.connect_to_url(url) != OK:
		_fail("connect_to_url(%s) refused" % url)
		return
	client.get_namespace("/").on("welcome", func(data: Array): welcome.append(data[0]))
	if not await _until(func(): return not welcome.is_empty()):
		_fail("no welcome from %s (state %d)" % [url, client.get_connection_state()])
		return
	var ns := client.get_namespace("/")
	_log.append("connected as %s" % welcome[0]["sid"])

	var echoes: Array = []
	ns.on("echo", func(data: Array): echoes.append(data))
	ns.emit("echo", [{"hello": "from the package", "n": 42}])
	if not await _until(func(): return echoes.size() == 1):
		_fail("no echo")
		return
	if echoes[0] != [{"hello": "from the package", "n": 42}]:
		_fail("echo came back as %s" % [echoes[0]])
		return
	_log.append("echo")

	var reply: Array = await ns.request("ack", ["ack me", 7])
	if reply != ["ack me", 7]:
		_fail("ack answered %s" % [reply])
		return
	_log.append("ack")

	var blob := PackedByteArray()
	for i in 100000:
		blob.append(i % 251)
	ns.emit("echo", [blob])
	if not await _until(func(): return echoes.size() == 2):
		_fail("no binary echo")
		return
	if not (echoes[1][0] is PackedByteArray and echoes[1][0] == blob):
		_fail("binary came back as %s" % type_string(typeof(echoes[1][0])))
		return
	_log.append("binary %d bytes" % blob.size())

	var reasons: Array = []
	client.disconnected.connect(func(reason: String): reasons.append(reason))
	client.close()
	if reasons != ["io client disconnect"] or client.get_connection_state() != SocketIOClient.STATE_DISCONNECTED:
		_fail("close: %s, state %d" % [reasons, client.get_connection_state()])
		return
	_log.append("close")
	print("PACKAGE OK %s" % ", ".join(_log))
	get_tree().quit(0)


func _process(_delta: float) -> void:
	SocketIOClient.get_singleton().poll()


## Waits frame by frame (_process polls) until `done` is true, for at most 10 s.
func _until(done: Callable) -> bool:
	var deadline := Time.get_ticks_msec() + 10000
	while not done.call():
		if Time.get_ticks_msec() > deadline:
			return false
		await get_tree().process_frame
	return true


func _fail(why: String) -> void:
	printerr("PACKAGE FAILED: %s (after: %s)" % [why, ", ".join(_log)])
	get_tree().quit(1)
