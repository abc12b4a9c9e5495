# Sourced by the scripts that build or package the library.
#
# host_platform — sets `platform` (the folder under bin/ that socketio.gdextension names for this machine, e.g.
# linux) and `lib` (the library's file name, e.g. libsocketio_godot.so); returns 1 on a machine it has no name for.
host_platform() {
    case "$(uname -s)/$(uname -m)" in
        Linux/x86_64) platform=linux; lib=libsocketio_godot.so ;;
        Linux/aarch64 | Linux/arm64) platform=linux-arm64; lib=libsocketio_godot.so ;;
        Darwin/*) platform=macos; lib=libsocketio_godot.dylib ;;
        MINGW*/* | MSYS*/* | CYGWIN*/*) platform=windows; lib=socketio_godot.dll ;;
        *) return 1 ;;
    esac
}
