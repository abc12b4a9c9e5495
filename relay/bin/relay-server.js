#!/usr/bin/env node
// A socket.io server with the relay attached to one namespace: for the tests, the demo, and trying the plugin's
// multiplayer without writing a server.
//
//   node relay/bin/relay-server.js [--port N (0: a free one; default 3000)] [--host H (default 127.0.0.1)]
//        [--namespace /match] [--redis-url URL] [--max-packet-bytes N] [--max-peers N] [--rate PPS]
//        [--ping-interval MS] [--ping-timeout MS] [--recovery] [--stats] [--exit-on-stdin-close] [--quiet]
//
// --stats (for scripts/bench.sh's multiplayer workload) counts the relay namespace's packets ("mp:packet" events and
// the records of "mp:packets" batches), in and out, and serves them on namespace /relay-stats: event "stats" with
// an ack answers {cpu_us (the process's user + system CPU time, process.cpuUsage()), packets_in, packets_out}.
//
// --redis-url uses @socket.io/redis-adapter, so that several of these processes share rooms. When listening it
// prints exactly one line `LISTENING <port>` to stdout. It needs socket.io (and, for --redis-url,
// @socket.io/redis-adapter and redis): `npm ci` in relay/ installs them.
"use strict";

const http = require("http");
const { Server } = require("socket.io");
const relay = require("../index.js");

const opts = {
  port: 3000,
  host: "127.0.0.1",
  namespace: "/match",
  redisUrl: null,
  maxPacketBytes: undefined,
  maxPeers: undefined,
  rate: undefined,
  pingInterval: 25000,
  pingTimeout: 20000,
  recovery: false,
  stats: false,
  exitOnStdinClose: false,
  quiet: false,
};
const flags = {
  "--port": ["port", "int"],
  "--host": ["host", "str"],
  "--namespace": ["namespace", "str"],
  "--redis-url": ["redisUrl", "str"],
  "--max-packet-bytes": ["maxPacketBytes", "int"],
  "--max-peers": ["maxPeers", "int"],
  "--rate": ["rate", "num"],
  "--ping-interval": ["pingInterval", "int"],
  "--ping-timeout": ["pingTimeout", "int"],
  "--recovery": ["recovery", "bool"],
  "--stats": ["stats", "bool"],
  "--exit-on-stdin-close": ["exitOnStdinClose", "bool"],
  "--quiet": ["quiet", "bool"],
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const flag = flags[argv[i]];
  if (!flag) {
    process.stderr.write(`relay-server.js: unknown argument ${argv[i]} (see the comment at the top of this file)\n`);
    process.exit(2);
  }
  const [key, kind] = flag;
  if (kind === "bool") {
    opts[key] = true;
    continue;
  }
  const value = argv[++i];
  if (value === undefined) {
    process.stderr.write(`relay-server.js: ${argv[i - 1]} needs a value\n`);
    process.exit(2);
  }
  if (kind === "str") opts[key] = value;
  else {
    const n = Number(value);
    if (!Number.isFinite(n) || (kind === "int" && !Number.isInteger(n))) {
      process.stderr.write(`relay-server.js: ${argv[i - 1]} needs a number, not ${value}\n`);
      process.exit(2);
    }
    opts[key] = n;
  }
}
const info = (msg) => {
  if (!opts.quiet) process.stderr.write(`relay-server: ${msg}\n`);
};

const options = {};
if (opts.maxPacketBytes !== undefined) options.maxPacketBytes = opts.maxPacketBytes;
if (opts.maxPeers !== undefined) options.maxPeersPerRoom = opts.maxPeers;
if (opts.rate !== undefined) options.rate = { packetsPerSecond: opts.rate, burst: Math.max(1, Math.ceil(opts.rate * 2)) };

const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  // A packet of maxPacketBytes plus its envelope always fits.
  maxHttpBufferSize: Math.max(1e6, (opts.maxPacketBytes || relay.DEFAULTS.maxPacketBytes) * 2),
  serveClient: false,
  ...(opts.recovery ? { connectionStateRecovery: { maxDisconnectionDuration: 120000 } } : {}),
});

let ready = Promise.resolve();
const redisClients = [];
if (opts.redisUrl) {
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const pub = createClient({ url: opts.redisUrl });
  const sub = pub.duplicate();
  redisClients.push(pub, sub);
  for (const c of redisClients) c.on("error", (err) => info(`redis: ${err && err.message}`));
  ready = Promise.all([pub.connect(), sub.connect()]).then(() => io.adapter(createAdapter(pub, sub)));
}

let attached;
try {
  attached = relay.attach(io.of(opts.namespace), options);
} catch (err) {
  process.stderr.write(`relay-server.js: ${err.message}\n`);
  process.exit(2);
}

if (opts.stats) {
  const counts = { packets_in: 0, packets_out: 0 };
  // The packets of a batch (PROTOCOL.md): records of a header, whose last 4 bytes are the length, and data. Only
  // counted here: the relay parses and checks them.
  const header = relay.RECORD_HEADER_BYTES;
  const inBatch = (batch) => {
    let n = 0;
    if (!Buffer.isBuffer(batch)) return 0;
    for (let at = 0; at + header <= batch.length; at += header + batch.readUInt32LE(at + header - 4)) n++;
    return n;
  };
  io.of(opts.namespace).on("connection", (socket) => {
    socket.on("mp:packet", () => counts.packets_in++);
    socket.on("mp:packets", (batch) => (counts.packets_in += inBatch(batch)));
    socket.onAnyOutgoing((event, batch) => {
      if (event === "mp:packet") counts.packets_out++;
      else if (event === "mp:packets") counts.packets_out += inBatch(batch);
    });
  });
  io.of("/relay-stats").on("connection", (socket) => {
    socket.on("stats", (ack) => {
      const cpu = process.cpuUsage();
      if (typeof ack === "function") ack({ cpu_us: cpu.user + cpu.system, ...counts });
    });
  });
}

ready
  .then(() => {
    httpServer.listen(opts.port, opts.host, () => {
      const { port } = httpServer.address();
      info(
        `relay on ws://${opts.host}:${port}${opts.namespace} (max packet ${attached.options.maxPacketBytes} bytes, ` +
          `${attached.options.maxPeersPerRoom} peers a room${opts.redisUrl ? `, redis ${opts.redisUrl}` : ""})`,
      );
      process.stdout.write(`LISTENING ${port}\n`);
    });
  })
  .catch((err) => {
    process.stderr.write(`relay-server.js: ${err && err.message}\n`);
    process.exit(1);
  });

function shutdown(why) {
  info(`stopping (${why})`);
  io.close();
  for (const c of redisClients) c.quit().catch(() => {});
  setTimeout(() => process.exit(0), 200).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
if (opts.exitOnStdinClose) {
  process.stdin.on("end", () => shutdown("stdin closed"));
  process.stdin.on("close", () => shutdown("stdin closed"));
  process.stdin.on("error", () => shutdown("stdin error"));
  process.stdin.resume();
}
