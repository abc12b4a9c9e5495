extends "res://test_suite.gd"
## wss:// against the TLS test server, whose certificate is self-signed (SOCKETIO_TEST_CA_PEM) and names
## "localhost" only (not 127.0.0.1).


func _certificate() -> X509Certificate:
	var path := env("SOCKETIO_TEST_CA_PEM")
	if path == "":
		return null
	var cert := X509Certificate.new()
	if not check_eq(cert.load(path), OK, "the test certificate loads"):
		return null
	return cert


## Connects to the wss server with `options` (by IP when `by_ip`: a name the certificate does not hold); returns
## [connected log, connect_error log] after the outcome.
func _try(options: TLSOptions, by_ip := false) -> Array:
	var url := env("SOCKETIO_TEST_WSS_URL")
	if url == "":
		return [[], []]
	if by_ip:
		url = url.replace("wss://localhost:", "wss://127.0.0.1:")
	client.reconnection = false
	var connected := record(client.connected)
	var errors := record(client.connect_error)
	check_eq(client.connect_to_url(url, {}, options), OK, "connect_to_url(%s) returns OK" % url)
	await wait_until(func(): return connected.size() + errors.size() > 0, 15.0)
	return [connected, errors]


func test_wss_trusting_the_server_certificate() -> void:
	var cert := _certificate()
	if cert == null:
		return
	var outcome := await _try(TLSOptions.client(cert))
	check_eq(outcome[1], [], "no connect_error")
	if not check_eq(outcome[0].size(), 1, "connected over wss with TLSOptions.client(cert)"):
		return
	var ns := client.get_namespace("/")
	var echoes := listen(ns, "echo")
	ns.emit("echo", ["secure ✓", PackedByteArray([1, 2])])
	await wait_for(echoes, "echo over wss")
	check_eq(echoes, [["secure ✓", PackedByteArray([1, 2])]], "echo data over wss")


func test_wss_unsafe_client() -> void:
	var outcome := await _try(TLSOptions.client_unsafe())
	check_eq(outcome[1], [], "no connect_error")
	check_eq(outcome[0].size(), 1, "connected with TLSOptions.client_unsafe()")


func test_wss_default_roots_refuse_a_self_signed_server() -> void:
	var outcome := await _try(null)
	check_eq(outcome[0], [], "not connected with the default (public) roots")
	if check_eq(outcome[1].size(), 1, "a connect_error"):
		var message: String = outcome[1][0][0].get("message", "")
		check("certificate" in message.to_lower(), "the error is about the certificate: %s" % message)
	check_eq(client.get_connection_state(), SocketIOClient.STATE_DISCONNECTED, "disconnected")


func test_wss_explicit_default_client_options() -> void:
	var outcome := await _try(TLSOptions.client())
	check_eq(outcome[0], [], "TLSOptions.client() does not trust a self-signed server either")
	check_eq(outcome[1].size(), 1, "a connect_error")


func test_wss_common_name_override_mismatch() -> void:
	var cert := _certificate()
	if cert == null:
		return
	var outcome := await _try(TLSOptions.client(cert, "example.com"))
	check_eq(outcome[0], [], "a certificate for localhost does not pass as example.com")
	check_eq(outcome[1].size(), 1, "a connect_error")


func test_wss_common_name_override_match() -> void:
	var cert := _certificate()
	if cert == null:
		return
	var outcome := await _try(TLSOptions.client(cert, "localhost"))
	check_eq(outcome[1], [], "no connect_error")
	check_eq(outcome[0].size(), 1, "connected with common_name_override \"localhost\"")


func test_wss_trusted_certificate_for_another_name_is_refused() -> void:
	var cert := _certificate()
	if cert == null:
		return
	var outcome := await _try(TLSOptions.client(cert), true)
	check_eq(outcome[0], [], "TLSOptions.client(cert) checks the name: 127.0.0.1 is not in the certificate")
	check_eq(outcome[1].size(), 1, "a connect_error")


func test_wss_unsafe_client_with_chain_ignores_the_name() -> void:
	var cert := _certificate()
	if cert == null:
		return
	var outcome := await _try(TLSOptions.client_unsafe(cert), true)
	check_eq(outcome[1], [], "no connect_error")
	check_eq(outcome[0].size(), 1, "TLSOptions.client_unsafe(cert) verifies the chain but not the name")


func test_wss_unsafe_client_with_another_chain_is_refused() -> void:
	var crypto := Crypto.new()
	var key := crypto.generate_rsa(2048)
	var other := crypto.generate_self_signed_certificate(key, "CN=localhost,O=EXPECTED other,C=US")
	var outcome := await _try(TLSOptions.client_unsafe(other))
	check_eq(outcome[0], [], "a server whose certificate does not chain to the given one is refused")
	if check_eq(outcome[1].size(), 1, "a connect_error"):
		var message: String = outcome[1][0][0].get("message", "")
		check("certificate" in message.to_lower(), "the error is about the certificate: %s" % message)
