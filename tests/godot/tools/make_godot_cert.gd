extends SceneTree
## Writes a key and a self-signed certificate made by Godot's own Crypto.generate_self_signed_certificate() (RSA
## 2048, CA:TRUE pathlen 0, the host only in the subject's CN, no subjectAltName), for the differential TLS suite
## (suites/test_tls_verdicts.gd). scripts/test-godot.sh runs it outside any project:
##
##     godot --headless --script tests/godot/tools/make_godot_cert.gd -- KEY_PATH CERT_PATH [ISSUER_NAME]
##
## ISSUER_NAME defaults to "CN=localhost,O=socketio-godot tests,C=US". Exits 0 once both files are written, 1
## otherwise.


func _init() -> void:
	var args := OS.get_cmdline_user_args()
	if args.size() < 2 or args.size() > 3:
		printerr("usage: godot --headless --script make_godot_cert.gd -- KEY_PATH CERT_PATH [ISSUER_NAME]")
		quit(1)
		return
	var issuer: String = args[2] if args.size() == 3 else "CN=localhost,O=socketio-godot tests,C=US"
	var crypto := Crypto.new()
	var key := crypto.generate_rsa(2048)
	var cert := crypto.generate_self_signed_certificate(key, issuer)
	if key == null or cert == null:
		printerr("make_godot_cert: Crypto could not make the key or the certificate")
		quit(1)
		return
	var key_err := key.save(args[0])
	var cert_err := cert.save(args[1])
	if key_err != OK or cert_err != OK:
		printerr("make_godot_cert: saving failed (key: %s, certificate: %s)" % [error_string(key_err), error_string(cert_err)])
		quit(1)
		return
	print("make_godot_cert: wrote %s and %s (%s)" % [args[0], args[1], issuer])
	quit(0)
