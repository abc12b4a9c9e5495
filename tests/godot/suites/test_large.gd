extends "res://test_suite.gd"
## Large messages at the default max_message_size (16 MiB), of each shape the test server's "big_shape" makes: they
## arrive complete and right, without any single poll() stalling the frame (the runner times each poll), and one a
## byte over the limit is refused. The bound here is generous (CI runs on two busy cores, and this is also the debug
## build); the benchmark (workload F) has the real figures.

const LIMIT := 16777216
## Longest poll() allowed while a large message arrives, µs.
const POLL_BOUND_USEC := 250000


func timeout_for(_test: String) -> float:
	return 180.0


## Requests one message of `shape`, at most `nbytes` long; returns [the value, the count the server announced, the
## worst poll() in µs], or [] after a failed check.
func _receive(shape: String, nbytes := LIMIT) -> Array:
	var ns := await connect_main()
	if ns == null:
		return []
	check_eq(client.max_message_size, LIMIT, "max_message_size is 16 MiB by default")
	var got := []
	ns.on("big_shape", func(data): got.append(data))
	var counts := []
	var seen := []
	# Whatever the namespace emits meanwhile: the event comes whole, in order with the ones around it.
	ns.on("echo", func(data): seen.append([data[0], got.size()]))
	ns.emit("echo", ["before"])
	ns.emit_with_ack("big_shape", [shape, nbytes], func(answer): counts.append(answer[0]), 60.0)
	ns.emit("echo", ["after"])
	await wait_for(counts, "the server's count for %s" % shape, 1, 30.0)
	runner.worst_poll_usec = 0
	await wait_for(got, "a %s message of %d bytes" % [shape, nbytes], 1, 150.0)
	var worst: int = runner.worst_poll_usec
	await wait_for(seen, "the echoes around it", 2, 10.0)
	check_eq(seen, [["before", 0], ["after", 1]], "events keep their order around the large one")
	if got.is_empty() or counts.is_empty():
		return []
	check_eq(got[0].size(), 1, "one argument")
	print("    %s: worst poll %.1f ms" % [shape, worst / 1000.0])
	check(worst < POLL_BOUND_USEC, "no poll() over %d ms while it arrived (worst %.1f ms)" % [
		POLL_BOUND_USEC / 1000, worst / 1000.0])
	return [got[0][0], counts[0], worst]


func test_ints_at_the_limit() -> void:
	var r := await _receive("ints")
	if r.is_empty():
		return
	var value = r[0]
	check_eq(typeof(value), TYPE_ARRAY, "an Array")
	check_eq(value.size(), r[1], "%d values" % r[1])
	check(value.size() > 8000000, "more than 8 M values")
	var wrong := 0
	for i in range(0, value.size(), 1021):
		if typeof(value[i]) != TYPE_INT or value[i] != 1:
			wrong += 1
	check_eq(wrong, 0, "every sampled value is the int 1")
	check_eq(value[-1], 1, "the last value too")


func test_objects_at_the_limit() -> void:
	var r := await _receive("objects")
	if r.is_empty():
		return
	var value = r[0]
	check_eq(typeof(value), TYPE_ARRAY, "an Array")
	check_eq(value.size(), r[1], "%d values" % r[1])
	check(value.size() > 5000000, "more than 5 M objects")
	var wrong := 0
	for i in range(0, value.size(), 1021):
		if typeof(value[i]) != TYPE_DICTIONARY or not value[i].is_empty():
			wrong += 1
	check_eq(wrong, 0, "every sampled value is an empty Dictionary")
	# Each its own: changing one changes no other.
	value[0]["k"] = 1
	check(value[1].is_empty(), "the dictionaries are distinct")


func test_string_at_the_limit() -> void:
	var r := await _receive("string")
	if r.is_empty():
		return
	var value = r[0]
	check_eq(typeof(value), TYPE_STRING, "a String")
	check_eq(value.length(), r[1], "%d characters" % r[1])
	check_eq(value.count("x"), r[1], "all 'x'")


func test_binary_at_the_limit() -> void:
	var r := await _receive("binary")
	if r.is_empty():
		return
	var value = r[0]
	check_eq(typeof(value), TYPE_PACKED_BYTE_ARRAY, "a PackedByteArray")
	check_eq(value.size(), LIMIT, "16 MiB")
	var wrong := 0
	for i in range(0, value.size(), 997):
		if value[i] != i % 251:
			wrong += 1
	check_eq(wrong, 0, "every sampled byte i is i % 251")


## A message one byte over max_message_size is refused as a whole: "parse error", with a warning that names the
## limit, and nothing of it is delivered.
func test_a_message_one_byte_over_the_limit_is_refused() -> void:
	client.reconnection = false
	var ns := await connect_main()
	if ns == null:
		return
	var disconnected := record(client.disconnected)
	var got := listen(ns, "big_shape")
	ns.emit("big_shape", ["string", LIMIT + 1])
	await wait_for(disconnected, "disconnected by the oversized message", 1, 60.0)
	check_eq(disconnected, [["parse error"]], "reason \"parse error\"")
	check_eq(got, [], "the oversized event was not delivered")
	expect_warning("message of %d bytes, larger than max_message_size (%d bytes)" % [LIMIT + 1, LIMIT])
