extends SceneTree
# The Asset Library icon, assets/icon-128.png, is assets/icon.svg rendered by it:
#   bash scripts/godot.sh --headless --script assets/render_svg.gd -- 1 assets/icon.svg assets/icon-128.png
# Renders SVG files to PNG: -- <scale> <in.svg> <out.png> ...
func _init():
	var args := OS.get_cmdline_user_args()
	var scale := float(args[0])
	var i := 1
	while i + 1 < args.size():
		var img := Image.new()
		var err := img.load_svg_from_string(FileAccess.get_file_as_string(args[i]), scale)
		if err != OK:
			printerr("cannot load ", args[i]); quit(1); return
		img.save_png(args[i + 1])
		print(args[i + 1], " ", img.get_size())
		i += 2
	quit(0)
