extends "res://test_suite.gd"
## Differential TLS test: for every certificate shape of SOCKETIO_TEST_TLS_SHAPES (wss servers started by
## scripts/test-godot.sh), both host names and each TLSOptions form, Godot's own WebSocketPeer (mbedTLS) and
## SocketIOClient connect to the same server, and their verdicts (accepted or refused) must agree: the plugin
## accepts a server exactly when Godot's TLS accepts it with the same TLSOptions. The one allowed difference: under
## TLSOptions.client_unsafe(chain) the plugin may refuse a server that does not chain to `chain` while Godot accepts
## it (printed as a NOTE, not a failure).
##
## SOCKETIO_TEST_TLS_SHAPES is a JSON file: a list of {"name", "port", "trust" (PEM path of the certificate to trust
## for that server: itself when self-signed, else its CA), "other" (PEM path of a certificate that is not in the
## server's chain)}.

const HOSTS: Array[String] = ["localhost", "127.0.0.1"]
## The TLSOptions forms, under the names the checks and the table use ("trust" and "other" as in the shapes file).
const OPTIONS: Array[String] = [
	"client()",
	"client(trust)",
	"client(trust, \"localhost\")",
	"client(trust, \"example.com\")",
	"client(trust, \"127.0.0.1\")",
	"client(trust, \"a.example.com\")",
	"client(other)",
	"client_unsafe()",
	"client_unsafe(trust)",
	"client_unsafe(other)",
]
const ACCEPTED := "accepted"
const REFUSED := "refused"
const TIMED_OUT := "timed out"
## Seconds one connection attempt may take; longer is a failure of the test, not a verdict.
const CASE_TIMEOUT := 10.0
## What Godot reports (push_error) when an mbedTLS handshake fails; claimed here for the cases Godot refuses, and
## allowed by scripts/test-godot.sh's GODOT_ALLOWED_ERRORS.
const GODOT_TLS_ERROR := "TLS handshake error: "


func timeout_for(_test: String) -> float:
	return 300.0


## The shapes of SOCKETIO_TEST_TLS_SHAPES, each with its certificates loaded ("trust_cert", "other_cert"); empty
## after a failed check.
func _shapes() -> Array[Dictionary]:
	var shapes: Array[Dictionary] = []
	var path := env("SOCKETIO_TEST_TLS_SHAPES")
	if path == "":
		return shapes
	var parsed: Variant = JSON.parse_string(FileAccess.get_file_as_string(path))
	if not check(parsed is Array and not parsed.is_empty(), "%s holds a list of shapes" % path):
		return shapes
	for entry: Variant in parsed:
		if not check(entry is Dictionary and entry.has_all(["name", "port", "trust", "other"]),
				"shape entry %s has name, port, trust and other" % describe(entry)):
			return []
		var shape: Dictionary = entry.duplicate()
		shape["port"] = int(shape["port"])
		for key: String in ["trust", "other"]:
			var cert := X509Certificate.new()
			if not check_eq(cert.load(shape[key]), OK, "%s: the %s certificate %s loads" % [shape["name"], key, shape[key]]):
				return []
			shape[key + "_cert"] = cert
		shapes.append(shape)
	return shapes


static func _options(option: String, trust: X509Certificate, other: X509Certificate) -> TLSOptions:
	match option:
		"client()":
			return TLSOptions.client()
		"client(trust)":
			return TLSOptions.client(trust)
		"client(trust, \"localhost\")":
			return TLSOptions.client(trust, "localhost")
		"client(trust, \"example.com\")":
			return TLSOptions.client(trust, "example.com")
		"client(trust, \"127.0.0.1\")":
			return TLSOptions.client(trust, "127.0.0.1")
		"client(trust, \"a.example.com\")":
			return TLSOptions.client(trust, "a.example.com")
		"client(other)":
			return TLSOptions.client(other)
		"client_unsafe()":
			return TLSOptions.client_unsafe()
		"client_unsafe(trust)":
			return TLSOptions.client_unsafe(trust)
		"client_unsafe(other)":
			return TLSOptions.client_unsafe(other)
	push_error("unknown TLSOptions form %s" % option)
	return null


## Godot's verdict: a WebSocketPeer opening the Engine.IO WebSocket at `host`:`port` with `options`. Returns
## {"verdict", "detail", "packet" (the first text message, when accepted)}.
func _godot_verdict(host: String, port: int, options: TLSOptions) -> Dictionary:
	var peer := WebSocketPeer.new()
	var url := "wss://%s:%d/socket.io/?EIO=4&transport=websocket" % [host, port]
	var err := peer.connect_to_url(url, options)
	var result := {"verdict": TIMED_OUT, "detail": "", "packet": ""}
	if err != OK:
		result = {"verdict": REFUSED, "detail": "connect_to_url: %s" % error_string(err), "packet": ""}
	else:
		var opened := false
		var deadline := Time.get_ticks_msec() + int(CASE_TIMEOUT * 1000.0)
		while Time.get_ticks_msec() < deadline:
			peer.poll()
			var state := peer.get_ready_state()
			if state == WebSocketPeer.STATE_OPEN:
				opened = true
				if peer.get_available_packet_count() > 0:
					var packet := peer.get_packet()
					var text := packet.get_string_from_utf8() if peer.was_string_packet() else "(binary)"
					result = {"verdict": ACCEPTED, "detail": "", "packet": text}
					break
			elif state == WebSocketPeer.STATE_CLOSED:
				if opened:
					result = {"verdict": ACCEPTED, "detail": "closed before the first message", "packet": ""}
				else:
					result = {"verdict": REFUSED, "detail": "closed (code %d)" % peer.get_close_code(), "packet": ""}
				break
			await get_tree().process_frame
		if result["verdict"] == TIMED_OUT:
			result["detail"] = "open, no message" if opened else "state %d" % peer.get_ready_state()
		peer.close()
	# Godot's own handshake errors belong to this case; anything else is left for the runner to report.
	if runner.catcher != null:
		var tls_errors: Array[String] = []
		for error in runner.catcher.take():
			if GODOT_TLS_ERROR in error:
				tls_errors.append(error)
			else:
				runner.unexpected_errors.append(error)
		if not tls_errors.is_empty():
			result["detail"] = ("%s; %s" % [result["detail"], "; ".join(tls_errors)]).trim_prefix("; ")
	return result


## The plugin's verdict: SocketIOClient connecting to `host`:`port` with `options` (no reconnection). `connected`
## and `errors` are the recorders of its connected and connect_error signals.
func _plugin_verdict(host: String, port: int, options: TLSOptions, connected: Array, errors: Array) -> Dictionary:
	connected.clear()
	errors.clear()
	var url := "wss://%s:%d" % [host, port]
	var result := {"verdict": TIMED_OUT, "detail": ""}
	var err := client.connect_to_url(url, {}, options)
	if err != OK:
		result = {"verdict": REFUSED, "detail": "connect_to_url returned %s" % error_string(err)}
	else:
		await wait_until(func(): return connected.size() + errors.size() > 0, CASE_TIMEOUT)
		if connected.size() > 0:
			result = {"verdict": ACCEPTED, "detail": ""}
		elif errors.size() > 0:
			var info: Variant = errors[0][0]
			var message: String = info.get("message", str(info)) if info is Dictionary else str(info)
			result = {"verdict": REFUSED, "detail": message}
	client.close()
	await get_tree().process_frame
	connected.clear()
	errors.clear()
	return result


static func _mark(verdict: String) -> String:
	match verdict:
		ACCEPTED:
			return "+"
		REFUSED:
			return "-"
	return "?"


static func _side(side: Dictionary) -> String:
	if side["detail"] == "":
		return side["verdict"]
	return "%s (%s)" % [side["verdict"], side["detail"]]


## Prints Godot's truth table next to the plugin's: one row per shape and host, one column per TLSOptions form,
## each cell "GP" (+ accepted, - refused, ? timed out), then every case with its details.
func _print_table(cases: Array[Dictionary]) -> void:
	print("    TLS verdicts, G = Godot's WebSocketPeer, P = SocketIOClient (+ accepted, - refused, ? timed out); cells GP:")
	for i in OPTIONS.size():
		print("      [%d] TLSOptions.%s" % [i + 1, OPTIONS[i]])
	var header := "      %-18s" % "shape/host"
	for i in OPTIONS.size():
		header += " [%d]" % (i + 1)
	print(header)
	var rows: Dictionary = {}
	var order: Array[String] = []
	for case in cases:
		var row: String = "%s/%s" % [case["shape"], case["host"]]
		if not rows.has(row):
			rows[row] = {}
			order.append(row)
		rows[row][case["option"]] = _mark(case["godot"]["verdict"]) + _mark(case["plugin"]["verdict"])
	for row in order:
		var line := "      %-18s" % row
		for option in OPTIONS:
			line += " %3s" % rows[row].get(option, "")
		print(line)
	print("    Every case (shape/host/option: godot, plugin):")
	for case in cases:
		var mark := "  " if case["godot"]["verdict"] == case["plugin"]["verdict"] else "≠ "
		print("      %s%s: godot=%s plugin=%s" % [mark, case["name"], _side(case["godot"]), _side(case["plugin"])])


func test_plugin_agrees_with_godot() -> void:
	var shapes := _shapes()
	if shapes.is_empty():
		return
	var cases: Array[Dictionary] = []
	for shape in shapes:
		for host in HOSTS:
			for option in OPTIONS:
				cases.append({
					"name": "%s/%s/%s" % [shape["name"], host, option],
					"shape": shape["name"],
					"host": host,
					"port": shape["port"],
					"option": option,
					"options": _options(option, shape["trust_cert"], shape["other_cert"]),
				})
	# Godot's verdicts first, then the plugin's (the singleton holds one connection at a time).
	for case in cases:
		case["godot"] = await _godot_verdict(case["host"], case["port"], case["options"])
	client.reconnection = false
	client.connect_timeout = CASE_TIMEOUT
	var connected := record(client.connected)
	var errors := record(client.connect_error)
	for case in cases:
		case["plugin"] = await _plugin_verdict(case["host"], case["port"], case["options"], connected, errors)
	_print_table(cases)

	# The harness itself: what Godot must do, so that the comparison cannot pass vacuously.
	var by_name: Dictionary = {}
	for case in cases:
		by_name[case["name"]] = case
	var must := {}
	for shape in ["godot", "openssl", "leaf", "san_only"]:
		must["%s/localhost/client(trust)" % shape] = ACCEPTED
		must["%s/localhost/client(trust, \"example.com\")" % shape] = REFUSED
	must["expired/localhost/client(trust)"] = REFUSED
	must["wildcard/localhost/client(trust, \"a.example.com\")"] = ACCEPTED
	must["wildcard/localhost/client(trust, \"example.com\")"] = REFUSED
	must["wildcard/localhost/client(trust)"] = REFUSED
	for shape in shapes:
		for host in HOSTS:
			must["%s/%s/client_unsafe()" % [shape["name"], host]] = ACCEPTED
			must["%s/%s/client()" % [shape["name"], host]] = REFUSED
			must["%s/%s/client(other)" % [shape["name"], host]] = REFUSED
	for name: String in must:
		if not check(by_name.has(name), "case %s exists" % name):
			continue
		var godot: Dictionary = by_name[name]["godot"]
		check_eq(godot["verdict"], must[name], "sanity: Godot's verdict for %s (%s)" % [name, godot["detail"]])
	for case in cases:
		var godot: Dictionary = case["godot"]
		if godot["verdict"] == ACCEPTED:
			check(godot["packet"].begins_with("0{"),
					"%s: Godot's first message is the Engine.IO open packet: %s" % [case["name"], describe(godot["packet"])])

	# The rule.
	var differ := 0
	for case in cases:
		var godot: Dictionary = case["godot"]
		var plugin: Dictionary = case["plugin"]
		var what := "%s: godot=%s plugin=%s" % [case["name"], _side(godot), _side(plugin)]
		if godot["verdict"] == TIMED_OUT or plugin["verdict"] == TIMED_OUT:
			check(false, "%s: no verdict within %.0f s" % [what, CASE_TIMEOUT])
			continue
		if godot["verdict"] == plugin["verdict"]:
			check(true, what)
			continue
		differ += 1
		# client_unsafe(other): the server never chains to `other`; the plugin may refuse where Godot accepts.
		if case["option"] == "client_unsafe(other)" and godot["verdict"] == ACCEPTED:
			print("    NOTE [%s] %s: the plugin is stricter (allowed: the server does not chain to the given certificate)" % [current_test, what])
			check(true, what)
			continue
		check(false, what)
	print("    %d cases, %d with different verdicts" % [cases.size(), differ])
