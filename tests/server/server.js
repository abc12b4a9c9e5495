#!/usr/bin/env node
// Reference Socket.IO v5 test server for socketio-godot.
//
// This is the real `socket.io` npm package (version pinned in package.json /
// package-lock.json, installed by scripts/setup-node.sh). The Rust integration
// tests, the headless Godot test scenes, the demo and the benchmarks all talk
// to it.
//
// Usage:
//   node tests/server/server.js [--port N] [--host H]
//        [--tls-cert PATH --tls-key PATH]
//        [--ping-interval MS] [--ping-timeout MS] [--max-payload BYTES]
//        [--recovery] [--quiet] [--log] [--exit-on-stdin-close]
//        [--transports polling|websocket|polling,websocket] [--no-upgrades]
//        [--cookie NAME] [--redis-url URL] [--redis-streams-url URL]
//        [--persist-sessions MS] [--name NAME]
//
// --redis-streams-url uses @socket.io/redis-streams-adapter instead of the
// pub/sub @socket.io/redis-adapter: the only one of the two with which
// connection state recovery works across servers (a session lost on one server
// is restored by another, the packets it missed read back from the stream).
// That adapter writes a socket's session to redis only when the server sees
// the socket disconnect; a server killed without a goodbye (SIGKILL) writes
// none. --persist-sessions MS (with --recovery and --redis-streams-url) also
// writes every connected socket's session every MS ms, so another server can
// restore the sessions of one that died.
//
// Rooms (any namespace): "join"(room) joins it, "leave"(room) leaves it,
// "to_room"(room, event, ...args) emits event(...args) to everyone in it on
// every server (through the adapter); each acks with true when given an ack.
//
// When listening it prints exactly one line `LISTENING <port>` to stdout.
// With --log, every Engine.IO / Socket.IO packet received or sent is printed
// to stdout afterwards, one JSON object per line.
"use strict";

const fs = require("fs");
const http = require("http");
const https = require("https");
const path = require("path");
const { Server } = require("socket.io");

// ---------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------

const USAGE = `usage: node server.js [options]
  --port N               port to listen on (default 0 = pick a free port)
  --host H               address to bind (default 127.0.0.1)
  --tls-cert PATH        PEM certificate: serve https/wss (needs --tls-key)
  --tls-key PATH         PEM private key
  --ping-interval MS     Engine.IO pingInterval (default 25000)
  --ping-timeout MS      Engine.IO pingTimeout (default 20000)
  --max-payload BYTES    maxHttpBufferSize (default 67108864 = 64 MiB)
  --recovery             enable connectionStateRecovery (2 min, skipMiddlewares)
  --quiet                print nothing but LISTENING and errors
  --log                  print every packet received/sent as one JSON line
  --exit-on-stdin-close  exit when stdin reaches EOF (no orphans in tests)
  --transports LIST      server transports option (default polling,websocket)
  --no-upgrades          allowUpgrades: false (polling never upgrades)
  --cookie NAME          socket.io's cookie option: the handshake sets cookie NAME
  --redis-url URL        @socket.io/redis-adapter on this redis (several servers, one namespace)
  --redis-streams-url URL
                         @socket.io/redis-streams-adapter on this redis instead (the adapter with which
                         --recovery restores a session on another server)
  --persist-sessions MS  with --recovery and --redis-streams-url: also write each connected socket's
                         session to redis every MS ms (default 0 = only on disconnect, as socket.io does),
                         so a server killed with SIGKILL leaves sessions another server can restore
  --name NAME            this server's name, sent in "welcome" as "server" (default "node")
  --help                 this text`;

function parseArgs(argv) {
  const opts = {
    port: 0,
    host: "127.0.0.1",
    tlsCert: null,
    tlsKey: null,
    pingInterval: 25000,
    pingTimeout: 20000,
    maxPayload: 64 * 1024 * 1024,
    recovery: false,
    quiet: false,
    log: false,
    exitOnStdinClose: false,
    transports: "polling,websocket",
    noUpgrades: false,
    cookie: null,
    redisUrl: null,
    redisStreamsUrl: null,
    persistSessions: 0,
    name: "node",
  };
  const valued = {
    "--port": ["port", "int"],
    "--host": ["host", "str"],
    "--tls-cert": ["tlsCert", "str"],
    "--tls-key": ["tlsKey", "str"],
    "--ping-interval": ["pingInterval", "int"],
    "--ping-timeout": ["pingTimeout", "int"],
    "--max-payload": ["maxPayload", "int"],
    "--transports": ["transports", "str"],
    "--cookie": ["cookie", "str"],
    "--redis-url": ["redisUrl", "str"],
    "--redis-streams-url": ["redisStreamsUrl", "str"],
    "--persist-sessions": ["persistSessions", "int"],
    "--name": ["name", "str"],
  };
  const flags = {
    "--recovery": "recovery",
    "--quiet": "quiet",
    "--log": "log",
    "--exit-on-stdin-close": "exitOnStdinClose",
    "--no-upgrades": "noUpgrades",
  };
  const fail = (msg) => {
    process.stderr.write(`server.js: ${msg}\n${USAGE}\n`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === "--help" || arg === "-h") {
      process.stdout.write(USAGE + "\n");
      process.exit(0);
    } else if (arg in flags) {
      if (value !== undefined) fail(`${arg} takes no value`);
      opts[flags[arg]] = true;
    } else if (arg in valued) {
      if (value === undefined) {
        if (i + 1 >= argv.length) fail(`${arg} needs a value`);
        value = argv[++i];
      }
      const [key, kind] = valued[arg];
      if (kind === "int") {
        if (!/^\d+$/.test(value)) fail(`${arg} needs a non-negative integer, got "${value}"`);
        opts[key] = Number(value);
      } else {
        opts[key] = value;
      }
    } else {
      fail(`unknown argument "${argv[i]}"`);
    }
  }
  if (opts.port > 65535) fail(`--port out of range: ${opts.port}`);
  if (!!opts.tlsCert !== !!opts.tlsKey) fail("--tls-cert and --tls-key go together");
  opts.transports = opts.transports.split(",");
  if (!opts.transports.length || opts.transports.some((t) => t !== "polling" && t !== "websocket")) {
    fail(`--transports takes polling, websocket or both, got "${opts.transports.join(",")}"`);
  }
  if (opts.redisUrl && opts.redisStreamsUrl) fail("--redis-url and --redis-streams-url exclude each other");
  if (opts.persistSessions && !(opts.recovery && opts.redisStreamsUrl)) {
    fail("--persist-sessions needs --recovery and --redis-streams-url");
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

function info(msg) {
  if (!opts.quiet) process.stderr.write(`[server] ${msg}\n`);
}

// ---------------------------------------------------------------------------
// HTTP(S) + Socket.IO server
// ---------------------------------------------------------------------------

const httpServer = opts.tlsCert
  ? https.createServer({
      cert: fs.readFileSync(opts.tlsCert),
      key: fs.readFileSync(opts.tlsKey),
    })
  : http.createServer();

const serverOptions = {
  transports: opts.transports, // default both
  allowUpgrades: !opts.noUpgrades,
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  maxHttpBufferSize: opts.maxPayload,
  serveClient: false,
};
if (opts.recovery) {
  serverOptions.connectionStateRecovery = {
    maxDisconnectionDuration: 2 * 60 * 1000,
    skipMiddlewares: true,
  };
}

if (opts.cookie) serverOptions.cookie = { name: opts.cookie, httpOnly: true, path: "/", sameSite: "lax" };

const io = new Server(httpServer, serverOptions);

// --redis-url: the adapter connects before the server listens (below), so broadcasts reach the other servers
// from the first connection on.
let redisReady = Promise.resolve();
let redisClients = [];
if (opts.redisUrl) {
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const pub = createClient({ url: opts.redisUrl });
  const sub = pub.duplicate();
  redisClients = [pub, sub];
  for (const c of redisClients) c.on("error", (err) => info(`redis: ${err && err.message}`));
  redisReady = Promise.all([pub.connect(), sub.connect()]).then(() => {
    io.adapter(createAdapter(pub, sub));
  });
}
// --redis-streams-url: one client; the adapter makes its own duplicates to read the stream and for pub/sub.
if (opts.redisStreamsUrl) {
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-streams-adapter");
  const client = createClient({ url: opts.redisStreamsUrl });
  redisClients = [client];
  client.on("error", (err) => info(`redis: ${err && err.message}`));
  redisReady = client.connect().then(() => {
    // A short XREAD block, so a shutdown does not wait for it.
    io.adapter(createAdapter(client, { blockTimeInMs: 1000 }));
  });
}
// --persist-sessions: what socket.io does at a disconnect (socket.js, _onclose), done periodically for the
// sockets still connected.
if (opts.persistSessions) {
  setInterval(() => {
    for (const nsp of io._nsps.values()) {
      for (const socket of nsp.sockets.values()) {
        nsp.adapter.persistSession({ sid: socket.id, pid: socket.pid, rooms: [...socket.rooms], data: socket.data });
      }
    }
  }, opts.persistSessions).unref();
}

// ---------------------------------------------------------------------------
// Shared behaviour for "/", "/chat" and "/admin"
// ---------------------------------------------------------------------------

const TYPES_VALUE = Object.freeze({
  int: 42,
  neg: -7,
  float: 1.5,
  big: 9007199254740991,
  zero_float: 0.5,
  text: "héllo wörld ✓ 日本 🎮",
  t: true,
  f: false,
  n: null,
  arr: [1, 2.5, "x", [true, null]],
  nested: { a: { b: { c: [1] } } },
});

function binaryNestedValue() {
  return {
    a: Buffer.from([1, 2, 3]),
    list: [Buffer.from([4]), { deep: Buffer.from([5, 6]) }],
    text: "t",
  };
}

// Splits a handler's arguments into (data args, ack callback or null).
function splitAck(args) {
  if (args.length && typeof args[args.length - 1] === "function") {
    return [args.slice(0, -1), args[args.length - 1]];
  }
  return [args, null];
}

// Runs `fn` with the trailing ack callback, if the client asked for one.
function withAck(fn) {
  return (...args) => {
    const [, cb] = splitAck(args);
    if (cb) fn(cb);
  };
}

function toNonNegInt(v, fallback) {
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : fallback;
}

function setupNamespace(nsp) {
  nsp.on("connection", (socket) => {
    info(`connect ${nsp.name} ${socket.id}${socket.recovered ? " (recovered)" : ""}`);
    socket.on("disconnect", (reason) => info(`disconnect ${nsp.name} ${socket.id}: ${reason}`));

    socket.emit("welcome", {
      sid: socket.id,
      nsp: socket.nsp.name,
      auth: socket.handshake.auth,
      recovered: socket.recovered,
      server: opts.name,
      // What the client sent with its handshake: its query (minus the protocol's own), the headers it added
      // (x-* only, and cookie), and the transport it connected over.
      query: Object.fromEntries(
        Object.entries(socket.handshake.query).filter(([k]) => !["EIO", "transport", "t", "sid"].includes(k)),
      ),
      headers: Object.fromEntries(
        Object.entries(socket.handshake.headers).filter(([k]) => k.startsWith("x-") || k === "cookie"),
      ),
      transport: socket.conn.transport.name,
    });

    // Echo the arguments back as an "echo" event. Binary (Buffer) arguments
    // come back as binary at any depth. A trailing ack callback, if any, is
    // dropped (not forwarded, not called): use "ack" for acknowledgements.
    socket.on("echo", (...args) => {
      const [data] = splitAck(args);
      socket.emit("echo", ...data);
    });

    // Acknowledge with the same arguments.
    socket.on("ack", (...args) => {
      const [data, cb] = splitAck(args);
      if (cb) cb(...data);
    });

    // Never acknowledges (client-side ack timeouts).
    socket.on("no_ack", () => {});

    // Server -> client emit with ack; the ack's arguments (or "timeout") are
    // reported back as an "ack_result" event.
    socket.on("request_ack", (...args) => {
      const [data] = splitAck(args);
      if (!data.length || typeof data[0] !== "string") return;
      const [eventName, ...rest] = data;
      socket.timeout(5000).emit(eventName, ...rest, (err, ...response) => {
        if (!socket.connected) return;
        if (err) socket.emit("ack_result", "timeout");
        else socket.emit("ack_result", ...response);
      });
    });

    // n events `eventName`(i), i = 0..n-1, then "burst_done"(n).
    socket.on("burst", (...args) => {
      const [data] = splitAck(args);
      const n = toNonNegInt(data[0], 0);
      const eventName = typeof data[1] === "string" && data[1] ? data[1] : "burst_item";
      for (let i = 0; i < n; i++) socket.emit(eventName, i);
      socket.emit("burst_done", n);
    });

    // A large payload: "string" -> nbytes 'x'; "binary" -> byte i = i % 251.
    socket.on("big", (...args) => {
      const [data] = splitAck(args);
      const nbytes = toNonNegInt(data[0], 0);
      const kind = data[1] === "binary" ? "binary" : "string";
      if (kind === "string") {
        socket.emit("big", "x".repeat(nbytes));
      } else {
        const buf = Buffer.allocUnsafe(nbytes);
        for (let i = 0; i < nbytes; i++) buf[i] = i % 251;
        socket.emit("big", buf);
      }
    });

    // A large message of a given shape, its whole WebSocket message at most nbytes long (exactly nbytes for
    // "string" and "binary"): "big_shape"(value) with value one of
    //   "ints"    [1,1,...,1]   (the most values per byte)
    //   "objects" [{},{},...]   (the most containers per byte)
    //   "string"  "xxx..."
    //   "binary"  a Buffer of nbytes bytes, byte i = i % 251 (a binary attachment: its own message of nbytes)
    // An ack callback, if given, gets the element count (ints, objects), length (string) or size (binary),
    // before the event is sent.
    socket.on("big_shape", (...args) => {
      const [data, cb] = splitAck(args);
      const shape = data[0];
      const nbytes = toNonNegInt(data[1], 0);
      const prefix = nsp.name === "/" ? "" : `${nsp.name},`;
      // Everything of the message but the value: 42["big_shape",<value>]
      const overhead = Buffer.byteLength(`42${prefix}["big_shape",]`);
      let value;
      let count;
      if (shape === "ints") {
        count = Math.max(0, Math.floor((nbytes - overhead - 1) / 2));
        value = new Array(count).fill(1);
      } else if (shape === "objects") {
        count = Math.max(0, Math.floor((nbytes - overhead - 1) / 3));
        value = Array.from({ length: count }, () => ({}));
      } else if (shape === "string") {
        count = Math.max(0, nbytes - overhead - 2);
        value = "x".repeat(count);
      } else if (shape === "binary") {
        count = nbytes;
        value = Buffer.allocUnsafe(nbytes);
        for (let i = 0; i < nbytes; i++) value[i] = i % 251;
      } else {
        if (cb) cb(-1);
        return;
      }
      if (cb) cb(count);
      socket.emit("big_shape", value);
    });

    // Server-initiated namespace disconnect: client sees "io server disconnect". "kick" is the interop
    // contract's name for it (tests/interop/README.md).
    socket.on("server_disconnect", () => socket.disconnect());
    socket.on("kick", () => socket.disconnect());

    // Closes the whole Engine.IO connection (all namespaces multiplexed on it)
    // with the engine's own close: the WebSocket gets a normal close frame
    // (polling: a CLOSE packet). The client sees "transport close" and
    // auto-reconnects; the server-side reason is "forced close", which is
    // recoverable with --recovery. Argument "tcp" instead destroys the raw TCP
    // socket (no close frame: like a network failure; client also sees
    // "transport close", server sees "transport close").
    socket.on("drop_transport", (...args) => {
      const [data] = splitAck(args);
      if (data[0] === "tcp") {
        const raw = socket.conn.transport && socket.conn.transport.socket;
        const tcp = raw && raw._socket; // ws.WebSocket -> net.Socket
        if (tcp) {
          tcp.destroy();
          return;
        }
      }
      socket.conn.close();
    });

    // Namespace-wide broadcast, sender included (the demo's chat).
    socket.on("chat", (...args) => {
      const [data] = splitAck(args);
      socket.nsp.emit("chat", { from: socket.id, text: data[0], server: opts.name });
    });

    // Rooms, across servers through the adapter (see the header).
    socket.on("join", (...args) => {
      const [data, cb] = splitAck(args);
      if (typeof data[0] === "string") socket.join(data[0]);
      if (cb) cb(true);
    });
    socket.on("leave", (...args) => {
      const [data, cb] = splitAck(args);
      if (typeof data[0] === "string") socket.leave(data[0]);
      if (cb) cb(true);
    });
    socket.on("to_room", (...args) => {
      const [data, cb] = splitAck(args);
      if (typeof data[0] === "string" && typeof data[1] === "string") {
        socket.nsp.to(data[0]).emit(data[1], ...data.slice(2));
      }
      if (cb) cb(true);
    });

    socket.on(
      "whoami",
      withAck((cb) => cb({ sid: socket.id, nsp: socket.nsp.name, auth: socket.handshake.auth })),
    );
    // Strings JavaScript makes but UTF-8 cannot hold (a lone surrogate: a string cut inside an emoji) or Godot
    // cannot (a NUL), in an event and in an ack answer, with a plain event after them.
    socket.on("odd_strings", (...args) => {
      const [, cb] = splitAck(args);
      const odd = ["hi 😀".slice(0, 4), "\udc00x", "a\u0000b", { "a\u0000b": 1, "a\u0000c": 2, a: 3 }];
      socket.emit("odd", ...odd);
      socket.emit("odd\u0000name", "x");
      socket.emit("after_odd", "fine");
      if (cb) cb(...odd);
    });

    // The Cookie header of the latest HTTP request of this connection (polling: every GET and POST, not only the
    // handshake), or null: how the interop test sees that a load balancer's sticky cookie came back.
    socket.on("last_request_cookie", withAck((cb) => cb(lastRequestCookie.get(socket.conn.id) ?? null)));
    socket.on("types", withAck((cb) => cb(TYPES_VALUE)));
    socket.on("binary_nested", withAck((cb) => cb(binaryNestedValue())));
    socket.on("count", withAck((cb) => cb(socket.nsp.sockets.size)));
    // The byte length and a checksum (the sum of the bytes, mod 2^32) of a binary first argument: a large upload
    // answered with a small ack (the slow-link tests, rust/core/tests/slow_links.rs).
    socket.on("digest", (...args) => {
      const [data, cb] = splitAck(args);
      const buf = Buffer.isBuffer(data[0]) ? data[0] : Buffer.alloc(0);
      let sum = 0;
      for (let i = 0; i < buf.length; i++) sum = (sum + buf[i]) >>> 0;
      if (cb) cb(buf.length, sum);
    });
  });
}

io.of("/admin").use((socket, next) => {
  const auth = socket.handshake.auth || {};
  if (auth.token !== "secret") {
    const err = new Error("Not authorized");
    err.data = { code: 401, reason: "bad token" };
    return next(err);
  }
  next();
});

// The Cookie header of each connection's latest HTTP request (see "last_request_cookie").
const lastRequestCookie = new Map();
io.engine.on("headers", (headers, req) => {
  const sid = req._query && req._query.sid;
  if (sid) lastRequestCookie.set(sid, req.headers.cookie ?? null);
});
io.engine.on("connection", (conn) => conn.on("close", () => lastRequestCookie.delete(conn.id)));

// Always refused, with a message and data (the interop contract's refused namespace).
io.of("/refused").use((socket, next) => {
  const err = new Error("Refused");
  err.data = { code: 403, reason: "always refused" };
  next(err);
});

// --log first, so its "connection" listeners run before the ones that emit.
if (opts.log) setupPacketLog();

for (const name of ["/", "/chat", "/admin"]) setupNamespace(io.of(name));
// Any other namespace is refused with "Invalid namespace" (socket.io default).

// ---------------------------------------------------------------------------
// --log: every packet, one JSON line each
// ---------------------------------------------------------------------------

function setupPacketLog() {
  // socket.io-parser is socket.io's own dependency (pinned by the lock file);
  // resolve it from socket.io's location so the same copy is used.
  const parser = require(require.resolve("socket.io-parser", {
    paths: [path.dirname(require.resolve("socket.io"))],
  }));
  const SIO_TYPES = ["CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"];
  const MAX_STR = 200;

  function summarize(v, depth = 0) {
    if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
      const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer || v, v.byteOffset || 0, v.byteLength);
      const head = b.subarray(0, 16).toString("hex");
      return { $binary: b.length, head: head + (b.length > 16 ? "…" : "") };
    }
    if (typeof v === "string") {
      return v.length > MAX_STR ? `${v.slice(0, MAX_STR)}…(${v.length} chars)` : v;
    }
    if (v === null || typeof v !== "object") return v;
    if (depth > 8) return "…";
    if (Array.isArray(v)) {
      const out = v.slice(0, 50).map((x) => summarize(x, depth + 1));
      if (v.length > 50) out.push(`…(${v.length} items)`);
      return out;
    }
    const out = {};
    for (const k of Object.keys(v)) out[k] = summarize(v[k], depth + 1);
    return out;
  }

  function emitLine(obj) {
    process.stdout.write(JSON.stringify(obj) + "\n");
  }

  // socket id per (engine connection, namespace), for readable lines.
  const sids = new Map(); // eio id -> Map(nsp -> sid)
  for (const name of ["/", "/chat", "/admin"]) {
    io.of(name).on("connection", (socket) => {
      let m = sids.get(socket.conn.id);
      if (!m) sids.set(socket.conn.id, (m = new Map()));
      m.set(name, socket.id);
      socket.on("disconnect", () => m.delete(name));
    });
  }

  io.engine.on("connection", (conn) => {
    const eio = conn.id;
    const ts = () => new Date().toISOString();
    // The decoder reports reassembled binary packets as EVENT/ACK: remember
    // the wire type and attachment count from the header ("51-..." / "61-...").
    const binHeader = { in: null, out: null };

    function makeDecoder(dir) {
      const decoder = new parser.Decoder();
      decoder.on("decoded", (p) => {
        const line = { ts: ts(), dir, eio, nsp: p.nsp, sid: null, type: SIO_TYPES[p.type] || p.type };
        if (binHeader[dir]) {
          line.type = binHeader[dir].type;
          line.attachments = binHeader[dir].attachments;
          binHeader[dir] = null;
        }
        const m = sids.get(eio);
        line.sid = (m && m.get(p.nsp)) || (p.data && typeof p.data.sid === "string" ? p.data.sid : null);
        if (p.id !== undefined) line.id = p.id;
        if (p.data !== undefined) line.data = summarize(p.data);
        emitLine(line);
      });
      return decoder;
    }
    const decoders = { in: makeDecoder("in"), out: makeDecoder("out") };

    emitLine({ ts: ts(), dir: "-", eio, type: "eio_open", transport: conn.transport.name });

    const onEio = (dir) => (packet) => {
      if (packet.type === "message") {
        const m = typeof packet.data === "string" && /^([56])(\d+)-/.exec(packet.data);
        if (m) binHeader[dir] = { type: SIO_TYPES[Number(m[1])], attachments: Number(m[2]) };
        try {
          decoders[dir].add(packet.data);
        } catch (e) {
          emitLine({ ts: ts(), dir, eio, type: "decode_error", error: String(e && e.message), raw: summarize(packet.data) });
          binHeader[dir] = null;
          decoders[dir].destroy();
          decoders[dir] = makeDecoder(dir);
        }
      } else {
        const line = { ts: ts(), dir, eio, type: `eio_${packet.type}` };
        if (packet.data !== undefined && packet.data !== "") line.data = summarize(packet.data);
        emitLine(line);
      }
    };
    conn.on("packet", onEio("in"));
    conn.on("packetCreate", onEio("out"));
    conn.on("upgrade", (transport) => emitLine({ ts: ts(), dir: "-", eio, type: "eio_upgrade", transport: transport.name }));
    conn.on("close", (reason) => {
      emitLine({ ts: ts(), dir: "-", eio, type: "eio_close", reason });
      sids.delete(eio);
    });
  });
}

// ---------------------------------------------------------------------------
// Listen / shutdown
// ---------------------------------------------------------------------------

httpServer.on("error", (err) => {
  process.stderr.write(`server.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});

redisReady.then(
  () => listen(),
  (err) => {
    process.stderr.write(`server.js: redis adapter: ${err && err.message}\n`);
    process.exit(1);
  },
);

function listen() {
  httpServer.listen(opts.port, opts.host, () => {
    const { port } = httpServer.address();
    // stdout to a pipe or file is synchronous on Linux, so the line is out now.
    process.stdout.write(`LISTENING ${port}\n`);
    info(
      `socket.io ${require("socket.io/package.json").version} on ${opts.tlsCert ? "https" : "http"}://${opts.host}:${port}` +
        (opts.recovery ? " (connection state recovery)" : ""),
    );
  });
}

let shuttingDown = false;
function shutdown(why) {
  if (shuttingDown) return;
  shuttingDown = true;
  info(`shutting down (${why})`);
  const force = setTimeout(() => process.exit(0), 2000);
  force.unref();
  io.close(() => {
    Promise.allSettled(redisClients.map((c) => c.quit())).then(() => process.exit(0));
  });
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGHUP", () => shutdown("SIGHUP"));
// The reader of our stdout went away (e.g. a harness that died): just leave.
process.stdout.on("error", () => process.exit(0));

if (opts.exitOnStdinClose) {
  process.stdin.on("end", () => shutdown("stdin closed"));
  process.stdin.on("close", () => shutdown("stdin closed"));
  process.stdin.on("error", () => shutdown("stdin error"));
  process.stdin.resume(); // read and discard, to see EOF
}
