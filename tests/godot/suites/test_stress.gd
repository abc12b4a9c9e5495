extends "res://test_suite.gd"
## Volume: a 5,000-event burst and 5 MiB messages, both ways.

const BIG := 5 * 1024 * 1024


func timeout_for(_test: String) -> float:
	return 90.0


func test_burst_of_5000_events() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var items := PackedInt64Array()
	var wrong_shape := [0]
	ns.on("burst_item", func(data):
		if data.size() != 1 or typeof(data[0]) != TYPE_INT:
			wrong_shape[0] += 1
		items.append(data[0])
	)
	var done := listen(ns, "burst_done")
	ns.emit("burst", [5000])
	await wait_for(done, "burst_done", 1, 60.0)
	check_eq(done, [[5000]], "burst_done(5000)")
	check_eq(items.size(), 5000, "5,000 items arrived")
	var in_order := true
	for i in items.size():
		if items[i] != i:
			in_order = false
			break
	check(in_order, "in order, each once")
	check_eq(wrong_shape[0], 0, "each item is one int")


func test_big_string_from_server() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var got := listen(ns, "big")
	ns.emit("big", [BIG, "string"])
	await wait_for(got, "a 5 MiB string", 1, 60.0)
	if got.size() == 0:
		return
	var text = got[0][0]
	check_eq(typeof(text), TYPE_STRING, "a String")
	check_eq(text.length(), BIG, "5 MiB long")
	check(text.count("x") == BIG, "all 'x'")


func test_big_binary_from_server() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var got := listen(ns, "big")
	ns.emit("big", [BIG, "binary"])
	await wait_for(got, "5 MiB of binary", 1, 60.0)
	if got.size() == 0:
		return
	var bytes = got[0][0]
	check_eq(typeof(bytes), TYPE_PACKED_BYTE_ARRAY, "a PackedByteArray")
	check_eq(bytes.size(), BIG, "5 MiB long")
	var expected := PackedByteArray()
	expected.resize(BIG)
	for i in BIG:
		expected[i] = i % 251
	check(bytes == expected, "byte i is i % 251")


func test_big_messages_to_server() -> void:
	var ns := await connect_main()
	if ns == null:
		return
	var bytes := PackedByteArray()
	bytes.resize(BIG)
	for i in BIG:
		bytes[i] = (i * 7) % 256
	var text := "é".repeat(2621440)  # 2 bytes each in UTF-8: 5 MiB
	var echoes := listen(ns, "echo")
	ns.emit("echo", [bytes, text])
	await wait_for(echoes, "5 MiB of binary and 5 MiB of text echoed", 1, 60.0)
	if echoes.size() > 0:
		check(echoes[0].size() == 2 and echoes[0][0] == bytes, "the binary came back intact")
		check(echoes[0].size() == 2 and echoes[0][1] == text, "the text came back intact")
