extends Node
## Empty Godot process for workload G: runs 60 uncapped frames, then prints its resident memory (VmRSS of
## /proc/self/status) as `RESULT {"client": "empty-godot", "workload": "G", "G_rss_mib": ...}` and quits.


func _ready() -> void:
	OS.low_processor_usage_mode = false
	OS.low_processor_usage_mode_sleep_usec = 0
	Engine.max_fps = 0
	for i in 60:
		await get_tree().process_frame
	var rss := -1.0
	var f := FileAccess.open("/proc/self/status", FileAccess.READ)
	if f != null:
		while not f.eof_reached():
			var line := f.get_line()
			if line.begins_with("VmRSS:"):
				rss = float(line.substr(6).strip_edges().split(" ")[0]) / 1024.0
				break
	var out := {"client": "empty-godot", "workload": "G", "run": 1}
	if rss >= 0:
		out["G_rss_mib"] = rss
	else:
		out["error"] = "/proc/self/status unreadable"
	print("RESULT " + JSON.stringify(out))
	get_tree().quit(0)
