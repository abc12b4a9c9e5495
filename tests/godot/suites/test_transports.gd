extends "res://test_suite.gd"
## Transports and the handshake's options (issue 12): transports (polling alone, polling upgraded to WebSocket
## with nothing lost, the default list), get_transport(), extra_headers and query reaching the server over both
## transports, proxy_url, and the refusals of each property.

const DEFAULT_TRANSPORTS := ["websocket", "polling"]


func timeout_for(_test: String) -> float:
	return 45.0


## Connects with the client's current settings, the welcome handler registered before the first poll; returns
## [namespace, welcome log] (the namespace null on failure).
func _connect_with_welcome(url := "") -> Array:
	if url == "":
		url = server_url()
	if url == "":
		return [null, []]
	var connected := record(client.connected)
	check_eq(client.connect_to_url(url), OK, "connect_to_url(%s) returns OK" % url)
	var ns := client.get_namespace("/")
	var welcome := listen(ns, "welcome")
	await wait_for(connected, "connected signal")
	await wait_for(welcome, "welcome event")
	return [ns, welcome]


## The welcome event's dictionary (empty if it did not come).
static func _welcome_data(welcome: Array) -> Dictionary:
	if welcome.size() > 0 and welcome[0].size() > 0 and welcome[0][0] is Dictionary:
		return welcome[0][0]
	return {}


func test_transports_default_and_get_transport() -> void:
	var c := client
	check_eq(c.transports, PackedStringArray(DEFAULT_TRANSPORTS), "transports defaults to websocket, polling")
	check_eq(c.get_transport(), "", "get_transport() is empty before connecting")
	var upgraded := record(c.transport_upgraded)
	var got := await _connect_with_welcome()
	if got[0] == null:
		return
	check_eq(c.get_transport(), "websocket", "the default list connects over WebSocket")
	check_eq(_welcome_data(got[1]).get("transport"), "websocket", "the server sees a websocket transport")
	await settle(0.3)
	check_eq(upgraded, [], "no transport_upgraded on a WebSocket connection")
	c.close()
	check_eq(c.get_transport(), "", "get_transport() is empty after close()")


func test_polling_only() -> void:
	var c := client
	c.transports = PackedStringArray(["polling"])
	check_eq(c.transports, PackedStringArray(["polling"]), "transports reads back [\"polling\"]")
	var upgraded := record(c.transport_upgraded)
	var got := await _connect_with_welcome()
	var ns: SocketIONamespace = got[0]
	if ns == null:
		return
	check_eq(c.get_transport(), "polling", "get_transport() is polling")
	check_eq(_welcome_data(got[1]).get("transport"), "polling", "the server sees a polling transport")

	# Events, every JSON type.
	var echoes := listen(ns, "echo")
	var sent := [1, -7, 2.5, "héllo ✓ 🎮", true, null, [1, [2.25, "x"]], {"a": {"b": [1, {"c": null}]}}]
	ns.emit("echo", sent)
	await wait_for(echoes, "echo over polling")
	if echoes.size() > 0:
		check_eq(echoes[0], sent, "an event comes back over polling with its types")

	# Acks both ways.
	var answer = await request(ns, "ack", ["pong", 3])
	check_eq(answer, ["pong", 3], "an ack over polling")
	var asked := listen(ns, "ack_result")
	ns.on("question", func(data, ack): ack.call(["answer"] + data))
	ns.emit("request_ack", ["question", 42])
	await wait_for(asked, "ack_result of the server's emit_with_ack")
	check_eq(asked, [["answer", 42]], "the server's ack request is answered over polling")

	# Binary at any depth, both ways.
	echoes.clear()
	var binary := [PackedByteArray([0, 1, 255]), {"x": [PackedByteArray([7]), "t", PackedByteArray()]},
			"between", PackedByteArray([9, 9])]
	ns.emit("echo", binary)
	await wait_for(echoes, "binary echo over polling")
	if echoes.size() > 0:
		check_eq(echoes[0], binary, "binary attachments round-trip over polling")
	var nested = await request(ns, "binary_nested", [])
	check_eq(nested, [{"a": PackedByteArray([1, 2, 3]), "list": [PackedByteArray([4]), {"deep": PackedByteArray([5, 6])}],
			"text": "t"}], "the server's binary over polling")

	# A burst from the server, in order.
	var items := listen(ns, "burst_item")
	var done := listen(ns, "burst_done")
	ns.emit("burst", [300])
	await wait_for(done, "burst_done")
	check_eq(items, range(300).map(func(i): return [i]), "300 events over polling, in order")

	await settle(0.3)
	check_eq(upgraded, [], "polling alone is never upgraded")
	check_eq(c.get_transport(), "polling", "still polling")


func test_polling_upgrades_to_websocket_losing_nothing() -> void:
	var c := client
	c.transports = PackedStringArray(["polling", "websocket"])
	var upgraded := record(c.transport_upgraded)
	var url := server_url()
	if url == "":
		return
	var connected := record(c.connected)
	check_eq(c.connect_to_url(url), OK, "connect_to_url returns OK")
	var ns := c.get_namespace("/")
	var welcome := listen(ns, "welcome")
	var echoes := listen(ns, "echo")
	var items := listen(ns, "burst_item")
	# From inside the connected signal: the first emits, which leave while the upgrade is probed.
	var at_connect: Array = []
	var first := 100
	var on_connected := func(_sid):
		at_connect.append(SocketIOClient.get_singleton().get_transport())
		ns.emit("burst", [500])
		for i in first:
			ns.emit("echo", [i])
	c.connected.connect(on_connected)
	_connections.append([c.connected, on_connected])
	await wait_for(connected, "connected signal")
	# get_transport() tells the transport in use now: an upgrade done within the poll() that signals `connected`
	# already shows, before its transport_upgraded is emitted. The server's welcome tells where it opened.
	check(at_connect == ["polling"] or at_connect == ["websocket"], "get_transport() inside connected: %s" % [at_connect])
	# Then more every frame, until after the upgrade.
	var sent := first
	var deadline := Time.get_ticks_msec() + 10000
	while (upgraded.is_empty() or sent < 400) and Time.get_ticks_msec() < deadline:
		for i in 5:
			ns.emit("echo", [sent])
			sent += 1
		await get_tree().process_frame
	check_eq(upgraded, [["websocket"]], "transport_upgraded(\"websocket\") once")
	check_eq(c.get_transport(), "websocket", "get_transport() is websocket after the upgrade")
	check_eq(_welcome_data(welcome).get("transport"), "polling", "the connection opened over polling")
	await wait_for(echoes, "every echo of the burst", sent)
	await wait_for(items, "every event of the server's burst", 500)
	check_eq(echoes, range(sent).map(func(i): return [i]), "%d echoes across the upgrade, all there, in order" % sent)
	check_eq(items, range(500).map(func(i): return [i]), "500 server events across the upgrade, in order")
	var answer = await request(ns, "ack", ["after"])
	check_eq(answer, ["after"], "acks work after the upgrade")
	var nested = await request(ns, "binary_nested", [])
	check(nested != null and nested[0]["a"] == PackedByteArray([1, 2, 3]), "binary works after the upgrade")


func test_headers_and_query_reach_the_server_over_both_transports() -> void:
	var c := client
	for transport in ["websocket", "polling"]:
		c.transports = PackedStringArray([transport])
		c.extra_headers = {"X-Game": "demo", "x-token": "abc 123", "Cookie": "flavour=oat"}
		c.query = {"room": "lobby", "level": 3, "ratio": 0.5, "whole": 2.0, "hard": true, "name": "é&=? /"}
		var got := await _connect_with_welcome()
		if got[0] == null:
			return
		var data := _welcome_data(got[1])
		check_eq(data.get("transport"), transport, "%s: connected over it" % transport)
		check_eq(data.get("query"), {"room": "lobby", "level": "3", "ratio": "0.5", "whole": "2", "hard": "true",
				"name": "é&=? /"}, "%s: the query reaches the server as text" % transport)
		var headers: Dictionary = data.get("headers", {})
		check_eq(headers.get("x-game"), "demo", "%s: X-Game reaches the server" % transport)
		check_eq(headers.get("x-token"), "abc 123", "%s: x-token reaches the server" % transport)
		check_eq(headers.get("cookie"), "flavour=oat", "%s: Cookie reaches the server" % transport)
		c.close()


func test_query_joins_the_urls_own() -> void:
	var c := client
	c.query = {"token": "s3cret"}
	var got := await _connect_with_welcome(server_url() + "/?from=url")
	if got[0] == null:
		return
	check_eq(_welcome_data(got[1]).get("query"), {"from": "url", "token": "s3cret"},
			"the URL's query and the query property both reach the server")


func test_options_take_effect_at_the_next_connection() -> void:
	var c := client
	var got := await _connect_with_welcome()
	if got[0] == null:
		return
	c.query = {"later": "yes"}
	c.transports = PackedStringArray(["polling"])
	check_eq(c.get_transport(), "websocket", "changing transports does not touch the open connection")
	got = await _connect_with_welcome()
	if got[0] == null:
		return
	check_eq(c.get_transport(), "polling", "the next connect_to_url uses the new transports")
	check_eq(_welcome_data(got[1]).get("query"), {"later": "yes"}, "and the new query")


func test_values_read_back() -> void:
	var c := client
	check_eq(c.extra_headers, {}, "extra_headers defaults to {}")
	check_eq(c.query, {}, "query defaults to {}")
	check_eq(c.proxy_url, "", "proxy_url defaults to \"\"")
	c.extra_headers = {"Authorization": "Bearer abc", &"X-Name": "v"}
	check_eq(c.extra_headers, {"Authorization": "Bearer abc", "X-Name": "v"}, "extra_headers reads back, keys as String")
	check_eq(c.extra_headers.keys(), ["Authorization", "X-Name"], "in order")
	c.query = {"n": -3, "f": 0.25, "b": false, "s": &"name"}
	check_eq(c.query, {"n": "-3", "f": "0.25", "b": "false", "s": "name"}, "query reads back as text")
	c.proxy_url = "http://user:pw@127.0.0.1:3128"
	check_eq(c.proxy_url, "http://user:pw@127.0.0.1:3128", "proxy_url reads back as given")
	c.proxy_url = ""
	check_eq(c.proxy_url, "", "\"\" removes the proxy")
	c.transports = PackedStringArray(["polling", "websocket"])
	check_eq(c.transports, PackedStringArray(["polling", "websocket"]), "transports reads back in order")
	c.extra_headers = {}
	check_eq(c.extra_headers, {}, "{} removes the headers")


func test_invalid_values_are_refused() -> void:
	var c := client
	c.transports = PackedStringArray(["polling"])
	c.transports = PackedStringArray([])
	expect_error("transports [] refused: at least one transport is needed (\"websocket\" or \"polling\")")
	c.transports = PackedStringArray(["websocket", "EXPECTED"])
	expect_error("transports [\"websocket\", \"EXPECTED\"] refused: unknown transport \"EXPECTED\" (expected \"websocket\" or \"polling\")")
	c.transports = PackedStringArray(["polling", "polling"])
	expect_error("transports [\"polling\", \"polling\"] refused: \"polling\" is listed twice")
	check_eq(c.transports, PackedStringArray(["polling"]), "a refused list leaves transports as it was")

	var headers := {"X-Kept": "1"}
	c.extra_headers = headers
	c.extra_headers = {"X-Fine": "ok", "X-EXPECTED": "a\r\nX-Evil: 1"}
	expect_error("extra_headers refused: header \"X-EXPECTED\": the value must not contain CR, LF or other control characters")
	c.extra_headers = {"X EXPECTED": "x"}
	expect_error("extra_headers refused: header \"X EXPECTED\": the name must be one or more letters")
	c.extra_headers = {"Host": "evil.example"}
	expect_error("extra_headers refused: header \"Host\": Host is written by the client itself")
	c.extra_headers = {"X-EXPECTED": "jürgen"}
	expect_error("extra_headers refused: header \"X-EXPECTED\": the value must be ASCII (servers read other bytes as Latin-1)")
	c.extra_headers = {"X-EXPECTED": 5}
	expect_error("extra_headers refused: the value of header \"X-EXPECTED\" is an int, not a String")
	c.extra_headers = {7: "EXPECTED"}
	expect_error("extra_headers refused: a header name is an int, not a String")
	check_eq(c.extra_headers, headers, "a refused dictionary leaves the headers as they were")

	c.query = {"kept": "1"}
	c.query = {"fine": 1, "EIO": "3"}
	expect_error("query refused: key \"EIO\": \"EIO\" is set by the Engine.IO protocol itself")
	c.query = {"sid": "x"}
	expect_error("query refused: key \"sid\"")
	c.query = {"": "EXPECTED"}
	expect_error("query refused: key \"\": the key is empty")
	c.query = {"EXPECTED": Vector2.ONE}
	expect_error("query refused: the value of \"EXPECTED\" is a Vector2, not a String, int, float or bool")
	c.query = {"EXPECTED": NAN}
	expect_error("query refused: the value of \"EXPECTED\" is NaN: only finite numbers can be sent")
	c.query = {1.5: "EXPECTED"}
	expect_error("query refused: a key is a float, not a String")
	check_eq(c.query, {"kept": "1"}, "a refused dictionary leaves the query as it was")

	c.proxy_url = "http://127.0.0.1:3128"
	c.proxy_url = "socks5://EXPECTED:1080"
	expect_error("proxy_url refused: invalid URL: proxy URL \"socks5://EXPECTED:1080\": only http:// proxies are supported")
	c.proxy_url = "EXPECTED:8080"
	expect_error("proxy_url refused: invalid URL: proxy URL \"EXPECTED:8080\": write it as http://host:port")
	c.proxy_url = "http://EXPECTED.example:8080/path"
	expect_error("a proxy URL has no path or query")
	check_eq(c.proxy_url, "http://127.0.0.1:3128", "a refused proxy URL leaves proxy_url as it was")
