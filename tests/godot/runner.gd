extends Node
## Headless test runner: runs every `test_*` method of every res://suites/test_*.gd (each a test_suite.gd), each
## under a timeout, polls the SocketIOClient singleton every frame, and prints "N passed, M failed" (N and M count
## checks) as its last line before quitting with exit code 0 (no failure) or 1.
##
## Environment: SOCKETIO_TEST_URL (ws://127.0.0.1:PORT), SOCKETIO_TEST_WSS_URL (wss://…), SOCKETIO_TEST_CA_PEM
## (the wss server's certificate), SOCKETIO_TEST_RECOVERY_URL (a server with connection state recovery),
## SOCKETIO_TEST_SMALL_PAYLOAD_URL (a server with a 4096-byte maxPayload), SOCKETIO_TEST_TLS_SHAPES (the wss servers
## of suites/test_tls_verdicts.gd, one per certificate shape), and optionally SOCKETIO_TEST_FILTER (run only tests
## whose "suite.test" name contains it). Tests named test_release_* run only when SOCKETIO_TEST_BUILD is "release"
## (scripts/test-godot.sh release).
##
## Errors reported by Godot during a test (captured with a Logger on Godot 4.5+) fail the test unless the test
## expected them with expect_error(). Such deliberate errors carry "EXPECTED" or another pattern of
## scripts/test-godot.sh's GODOT_ALLOWED_ERRORS, so the run script accepts their ERROR lines.

const SUITES_DIR := "res://suites"

## The error catcher (error_catcher.gd), or null before Godot 4.5.
var catcher = null
## Errors that no expect_error() claimed during the current test.
var unexpected_errors: Array[String] = []
var total_passed := 0
var total_failed := 0
## The longest poll() of the singleton made by _process since a test last set it to 0, µs.
var worst_poll_usec := 0


func _ready() -> void:
	if ClassDB.class_exists("Logger"):
		catcher = load("res://error_catcher.gd").new()
		OS.add_logger(catcher)
	else:
		print("NOTE: Godot %s has no Logger class (4.5+): expected error messages are not verified" % Engine.get_version_info().string)
	await get_tree().process_frame
	await _run_all()
	await _exit_with_live_handlers()
	_finish()


func _process(_delta: float) -> void:
	var started := Time.get_ticks_usec()
	SocketIOClient.get_singleton().poll()
	worst_poll_usec = maxi(worst_poll_usec, Time.get_ticks_usec() - started)


func _suite_paths() -> Array[String]:
	var paths: Array[String] = []
	for file in DirAccess.get_files_at(SUITES_DIR):
		if file.begins_with("test_") and file.ends_with(".gd"):
			paths.append(SUITES_DIR.path_join(file))
	paths.sort()
	return paths


func _run_all() -> void:
	var filter := OS.get_environment("SOCKETIO_TEST_FILTER")
	var paths := _suite_paths()
	if paths.is_empty():
		total_failed += 1
		print("FAIL: no test suite found in %s" % SUITES_DIR)
	for path in paths:
		var script: GDScript = load(path)
		if script == null or not script.can_instantiate():
			total_failed += 1
			print("FAIL: %s does not load" % path)
			continue
		var suite: Node = script.new()
		suite.name = path.get_file().get_basename()
		suite.runner = self
		add_child(suite)
		print("%s" % suite.name)
		for method in script.get_script_method_list():
			var test: String = method["name"]
			if not test.begins_with("test_"):
				continue
			if filter != "" and not ("%s.%s" % [suite.name, test]).contains(filter):
				continue
			# test_release_*: what only the release build can show (scripts/test.sh runs both builds).
			if test.begins_with("test_release_") and OS.get_environment("SOCKETIO_TEST_BUILD") != "release":
				print("  %s: not run, release build only" % test)
				continue
			await _run_test(suite, test)
		total_passed += suite.passed
		total_failed += suite.failed
		remove_child(suite)
		suite.free()


func _run_test(suite: Node, test: String) -> void:
	var started := Time.get_ticks_msec()
	suite.begin(test)
	unexpected_errors.clear()
	if catcher != null:
		catcher.take()
		catcher.take_warnings()
	var state := {"done": false}
	var body := func():
		await suite.call(test)
		state["done"] = true
	body.call()
	var timeout: float = suite.timeout_for(test)
	var deadline := started + int(timeout * 1000.0)
	while not state["done"] and Time.get_ticks_msec() < deadline:
		await get_tree().process_frame
	if not state["done"]:
		suite.check(false, "timed out after %.0f s" % timeout)
	await suite.end()
	if catcher != null:
		unexpected_errors.append_array(catcher.take())
	for error in unexpected_errors:
		suite.check(false, "unexpected error: %s" % error)
	if suite.test_checks == 0:
		suite.check(false, "made no checks")
	print("  %s (%d ms)" % [test, Time.get_ticks_msec() - started])


## Leaves a connection open, with handlers, callbacks and signal receivers that capture their namespace (reference
## cycles through the namespace's own signals, as in the README's quick start) and an unanswered emit_with_ack, and
## quits without close(): the run then fails on any leak report at exit.
func _exit_with_live_handlers() -> void:
	var url := OS.get_environment("SOCKETIO_TEST_URL")
	if url == "":
		return
	var client := SocketIOClient.get_singleton()
	var ok := [false, false]
	client.connect_to_url(url)
	var ns := client.get_namespace("/")
	ns.on("welcome", func(_data): ns.emit("echo", ["still here"]))
	ns.emit_with_ack("no_ack", [], func(_r): print(ns.get_namespace_path()), 60.0)
	ns.connected.connect(func(_sid):
		ok[0] = true
		ns.emit("echo", ["connected"])
	)
	ns.event_received.connect(func(_name, _data): ns.get_session_id())
	var admin := client.create_namespace("/admin")
	admin.connect_to_namespace({"token": "secret"})
	admin.connected.connect(func(_sid):
		ok[1] = true
		admin.emit("echo", [1, 2.5, "three"])
	)
	# The client's own signals, with receivers that capture namespaces.
	client.namespace_connected.connect(func(_path): admin.get_session_id())
	client.disconnected.connect(func(_reason): ns.get_session_id())
	var deadline := Time.get_ticks_msec() + 10000
	while not (ok[0] and ok[1]) and Time.get_ticks_msec() < deadline:
		await get_tree().process_frame
	if ok[0] and ok[1]:
		total_passed += 1
	else:
		total_failed += 1
		print("FAIL [exit] could not connect for the exit check")


func _finish() -> void:
	if catcher != null:
		for error in catcher.take():
			total_failed += 1
			print("FAIL [exit] unexpected error: %s" % error)
		OS.remove_logger(catcher)
		catcher = null
	print("%d passed, %d failed" % [total_passed, total_failed])
	get_tree().quit(0 if total_failed == 0 else 1)
