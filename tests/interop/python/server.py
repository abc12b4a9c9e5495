#!/usr/bin/env python3
"""python-socketio test server of the interop matrix: the scenario contract of tests/interop/README.md.

Usage: server.py [--port N] [--transports polling|websocket|polling,websocket] [--wsgi] [--max-payload BYTES]
                 [--exit-on-stdin-close]

An ASGI app (socketio.AsyncServer) under uvicorn, WebSocket by wsproto. `--transports polling` is a
polling-only mode of it (python-engineio refuses WebSocket requests and offers no upgrade). `--wsgi` is the other
polling-only mode: a WSGI app (socketio.Server, threading) under the standard library's wsgiref, one thread per
request, HTTP/1.0 (a connection per request); polling only, as wsgiref cannot do WebSocket.
Prints `LISTENING <port>` on stdout once it accepts connections (the port is bound before uvicorn starts,
so port 0 picks a free one).
"""

import argparse
import asyncio
import os
import socket
import sys
import threading

import socketio
import uvicorn

TYPES_VALUE = {
    "int": 42,
    "neg": -7,
    "float": 1.5,
    "big": 9007199254740991,
    "text": "héllo wörld ✓ 日本 🎮",
    "t": True,
    "f": False,
    "n": None,
    "arr": [1, 2.5, "x", [True, None]],
    "nested": {"a": {"b": {"c": [1]}}},
}


def binary_nested_value():
    return {"a": b"\x01\x02\x03", "list": [b"\x04", {"deep": b"\x05\x06"}], "text": "t"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--transports", default="polling,websocket")
    parser.add_argument("--max-payload", type=int, default=1_000_000)
    parser.add_argument("--exit-on-stdin-close", action="store_true")
    parser.add_argument("--wsgi", action="store_true")
    args = parser.parse_args()
    transports = args.transports.split(",")

    if args.exit_on_stdin_close:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read(256):
                    pass
            finally:
                os._exit(0)

        threading.Thread(target=watch_stdin, daemon=True).start()

    if args.wsgi:
        serve_wsgi(args)
        return

    sio = socketio.AsyncServer(
        async_mode="asgi",
        transports=transports,
        max_http_buffer_size=args.max_payload,
        cors_allowed_origins="*",
    )

    def setup_namespace(ns):
        @sio.on("connect", namespace=ns)
        async def connect(sid, environ, auth=None):
            await sio.emit("welcome", {"sid": sid, "nsp": ns, "auth": auth}, to=sid, namespace=ns)

        @sio.on("echo", namespace=ns)
        async def echo(sid, *data):
            await sio.emit("echo", data, to=sid, namespace=ns)

        @sio.on("ack", namespace=ns)
        async def ack(sid, *data):
            return data

        @sio.on("types", namespace=ns)
        async def types(sid, *data):
            return TYPES_VALUE

        @sio.on("binary_nested", namespace=ns)
        async def binary_nested(sid, *data):
            return binary_nested_value()

        @sio.on("request_ack", namespace=ns)
        async def request_ack(sid, *data):
            if not data or not isinstance(data[0], str):
                return
            name, rest = data[0], tuple(data[1:])

            async def answered(*answer):
                await sio.emit("ack_result", answer, to=sid, namespace=ns)

            await sio.emit(name, rest, to=sid, namespace=ns, callback=answered)

        @sio.on("kick", namespace=ns)
        async def kick(sid, *data):
            await sio.disconnect(sid, namespace=ns)

        @sio.on("chat", namespace=ns)
        async def chat(sid, *data):
            await sio.emit("chat", {"from": sid, "text": data[0] if data else None}, namespace=ns)

    for ns in ("/", "/chat"):
        setup_namespace(ns)

    @sio.on("connect", namespace="/refused")
    async def refused(sid, environ, auth=None):
        raise socketio.exceptions.ConnectionRefusedError("Refused", {"code": 403, "reason": "always refused"})

    app = socketio.ASGIApp(sio, socketio_path="socket.io")

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    port = sock.getsockname()[1]

    config = uvicorn.Config(app, log_level="warning", ws="wsproto", lifespan="off", access_log=False)
    server = uvicorn.Server(config)

    async def serve():
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started:
            if serving.done():
                serving.result()
                return
            await asyncio.sleep(0.01)
        sys.stdout.write(f"LISTENING {port}\n")
        sys.stdout.flush()
        await serving

    asyncio.run(serve())


def serve_wsgi(args):
    """The same contract with the synchronous server, under wsgiref (polling only)."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    sio = socketio.Server(async_mode="threading", transports=["polling"], max_http_buffer_size=args.max_payload)

    def setup_namespace(ns):
        @sio.on("connect", namespace=ns)
        def connect(sid, environ, auth=None):
            sio.emit("welcome", {"sid": sid, "nsp": ns, "auth": auth}, to=sid, namespace=ns)

        @sio.on("echo", namespace=ns)
        def echo(sid, *data):
            sio.emit("echo", data, to=sid, namespace=ns)

        @sio.on("ack", namespace=ns)
        def ack(sid, *data):
            return data

        @sio.on("types", namespace=ns)
        def types(sid, *data):
            return TYPES_VALUE

        @sio.on("binary_nested", namespace=ns)
        def binary_nested(sid, *data):
            return binary_nested_value()

        @sio.on("request_ack", namespace=ns)
        def request_ack(sid, *data):
            if not data or not isinstance(data[0], str):
                return
            name, rest = data[0], tuple(data[1:])

            def answered(*answer):
                sio.emit("ack_result", answer, to=sid, namespace=ns)

            sio.emit(name, rest, to=sid, namespace=ns, callback=answered)

        @sio.on("kick", namespace=ns)
        def kick(sid, *data):
            sio.disconnect(sid, namespace=ns)

        @sio.on("chat", namespace=ns)
        def chat(sid, *data):
            sio.emit("chat", {"from": sid, "text": data[0] if data else None}, namespace=ns)

    for ns in ("/", "/chat"):
        setup_namespace(ns)

    @sio.on("connect", namespace="/refused")
    def refused(sid, environ, auth=None):
        raise socketio.exceptions.ConnectionRefusedError("Refused", {"code": 403, "reason": "always refused"})

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        allow_reuse_address = True

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *_):
            pass

    app = socketio.WSGIApp(sio, socketio_path="socket.io")
    httpd = make_server("127.0.0.1", args.port, app, server_class=Server, handler_class=QuietHandler)
    sys.stdout.write(f"LISTENING {httpd.server_address[1]}\n")
    sys.stdout.flush()
    httpd.serve_forever()


if __name__ == "__main__":
    main()
