extends "res://test_suite.gd"
## The classes as Godot registered them (ClassDB: what the editor's help and autocompletion show) against the class
## references in ../shared/spec/ (SOCKETIO_TEST_SPEC_DIR; "none" checks nothing, for a checkout without them, and
## scripts/test-godot.sh then says so): every method of the reference with its name, arguments,
## argument types, defaults, return type and `const` flag. Methods beyond the reference may exist; only getters
## (get_*, is_*, has_*) among them may be `const`.

const CLASSES := ["SocketIOClient", "SocketIONamespace"]


## The reference's methods of `cls`: name → its signature line as the reference writes it, normalized.
func _reference_methods(cls: String) -> Dictionary:
	var dir := env("SOCKETIO_TEST_SPEC_DIR")
	if dir == "" or dir == "none":
		# "none": a checkout without the class references (scripts/test-godot.sh says so after the verdict).
		return {}
	var text := FileAccess.get_file_as_string(dir.path_join(cls + ".txt"))
	if not check(text != "", "the class reference %s.txt is readable in %s" % [cls, dir]):
		return {}
	var methods := {}
	var in_descriptions := false
	var regex := RegEx.create_from_string("^(\\S+) (\\w+)\\((.*)\\)( const)? 🔗$")
	for raw_line in text.split("\n"):
		var line := raw_line.strip_edges()
		if line == "Method Descriptions":
			in_descriptions = true
			continue
		if not in_descriptions:
			continue
		var found := regex.search(line)
		if found == null:
			continue
		var args: Array[String] = []
		for arg in _split_args(found.get_string(3)):
			var parts := arg.split("=", true, 1)
			var decl := parts[0].strip_edges()
			if parts.size() == 2:
				# Defaults compared as Godot prints the value ("{}", "null", "5.0", "\"/\"").
				decl += " = " + var_to_str(str_to_var(parts[1].strip_edges()))
			args.append(decl)
		methods[found.get_string(2)] = "%s %s(%s)%s" % [
			found.get_string(1), found.get_string(2), ", ".join(args), found.get_string(4)]
	check(methods.size() >= 8, "%s: the reference lists its methods (%d found)" % [cls, methods.size()])
	return methods


## Splits "a: T, b: Dictionary = {}" at top-level commas.
static func _split_args(text: String) -> Array[String]:
	var out: Array[String] = []
	if text.strip_edges() == "":
		return out
	var depth := 0
	var start := 0
	for i in text.length():
		var c := text[i]
		if c in "[{(":
			depth += 1
		elif c in "]})":
			depth -= 1
		elif c == "," and depth == 0:
			out.append(text.substr(start, i - start).strip_edges())
			start = i + 1
	out.append(text.substr(start).strip_edges())
	return out


## A type as the reference writes it, from a ClassDB property info.
static func _type_name(info: Dictionary) -> String:
	var class_name_: String = info.get("class_name", "")
	match info["type"]:
		TYPE_NIL:
			return "Variant" if info.get("usage", 0) & PROPERTY_USAGE_NIL_IS_VARIANT else "void"
		TYPE_OBJECT:
			return class_name_
		TYPE_INT:
			if class_name_ != "":
				# Enums: "SocketIOClient.ConnectionState" is written "ConnectionState" in its own class.
				return class_name_.get_slice(".", class_name_.get_slice_count(".") - 1)
	return type_string(info["type"])


## A registered method written as the reference writes its signature.
static func _registered_signature(method: Dictionary) -> String:
	var args: Array[String] = []
	var arguments: Array = method["args"]
	var defaults: Array = method["default_args"]
	var first_default := arguments.size() - defaults.size()
	for i in arguments.size():
		var decl := "%s: %s" % [arguments[i]["name"], _type_name(arguments[i])]
		if i >= first_default:
			decl += " = " + var_to_str(defaults[i - first_default])
		args.append(decl)
	var is_const: bool = method["flags"] & METHOD_FLAG_CONST
	return "%s %s(%s)%s" % [_type_name(method["return"]), method["name"], ", ".join(args), " const" if is_const else ""]


func test_methods_match_the_class_reference() -> void:
	for cls in CLASSES:
		var reference := _reference_methods(cls)
		var registered := {}
		for method in ClassDB.class_get_method_list(cls, true):
			registered[method["name"]] = method
		for name in reference:
			if not check(registered.has(name), "%s.%s exists" % [cls, name]):
				continue
			check_eq(_registered_signature(registered[name]), reference[name], "%s.%s as the reference shows it" % [cls, name])


func test_only_getters_beyond_the_reference_are_const() -> void:
	for cls in CLASSES:
		var reference := _reference_methods(cls)
		for method in ClassDB.class_get_method_list(cls, true):
			var name: String = method["name"]
			if reference.has(name) or not (method["flags"] & METHOD_FLAG_CONST):
				continue
			var getter := name.begins_with("get_") or name.begins_with("is_") or name.begins_with("has_")
			check(getter, "%s.%s changes state, so it is not const" % [cls, name])
	check(not (ClassDB.class_get_method_list("SocketIONamespace", true).filter(
			func(m): return m["name"] == "emit_volatile")[0]["flags"] & METHOD_FLAG_CONST),
			"SocketIONamespace.emit_volatile is not const")
