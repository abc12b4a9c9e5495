extends Node
## The main scene's script: runs main.gd only when the addon's classes exist, so that a game whose library did not
## load says so and exits 1 (main.gd itself would not even compile, and the game would sit idle).


func _ready() -> void:
	if not ClassDB.class_exists("SocketIOClient"):
		printerr("PACKAGE FAILED: there is no SocketIOClient class: the addon's library did not load")
		get_tree().quit(1)
		return
	add_child(load("res://main.gd").new())
