## The bench processes' arguments (scripts/bench.sh copies this folder into each Godot bench project):
## `--name=value` among the user arguments (`godot ... -- --name=value`), else the environment variable
## BENCH_NAME (upper case, "-" as "_"), else `fallback`.
static func value(name: String, fallback: String) -> String:
	var prefix := "--%s=" % name
	for a in OS.get_cmdline_user_args():
		if a.begins_with(prefix):
			return a.substr(prefix.length())
	var env := OS.get_environment("BENCH_" + name.to_upper().replace("-", "_"))
	return env if env != "" else fallback
