extends Logger
## Records the errors Godot reports (Godot 4.5+), so tests can check that an expected error was reported and
## that no other error was.

var errors: Array[String] = []
## Warnings, kept apart: they never fail a test, but a test may look for one (expect_warning()).
var warnings: Array[String] = []
var _mutex := Mutex.new()


func _log_error(_function: String, _file: String, _line: int, code: String, rationale: String,
		_editor_notify: bool, error_type: int, _script_backtraces: Array[ScriptBacktrace]) -> void:
	_mutex.lock()
	if error_type == ERROR_TYPE_WARNING:
		warnings.append(("%s %s" % [code, rationale]).strip_edges())
	else:
		errors.append(("%s %s" % [code, rationale]).strip_edges())
	_mutex.unlock()


func _log_message(_message: String, _error: bool) -> void:
	pass


## Removes and returns the warnings recorded so far.
func take_warnings() -> Array[String]:
	_mutex.lock()
	var taken := warnings.duplicate()
	warnings.clear()
	_mutex.unlock()
	return taken


## Removes and returns the errors recorded so far.
func take() -> Array[String]:
	_mutex.lock()
	var taken := errors.duplicate()
	errors.clear()
	_mutex.unlock()
	return taken
