"use strict";
// The relay against real socket.io servers (started here on 127.0.0.1) and socket.io-client game clients that
// speak PROTOCOL.md by hand; the cross-node test also against a real redis-server started here.

const test = require("node:test");
const assert = require("node:assert/strict");
const http = require("http");
const { spawn } = require("child_process");
const net = require("net");
const { Server } = require("socket.io");
const { io: connect } = require("socket.io-client");
const relay = require("../index.js");

const NSP = "/match";

/// A socket.io server with the relay on NSP; `close()` stops it.
async function startServer(options, adapter) {
  const httpServer = http.createServer();
  const io = new Server(httpServer, { maxHttpBufferSize: 1e7 });
  if (adapter) io.adapter(adapter);
  relay.attach(io.of(NSP), options);
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${httpServer.address().port}${NSP}`;
  return { io, url, close: () => new Promise((resolve) => io.close(() => resolve())) };
}

/// A game client: its socket, everything it received by event, and helpers.
async function client(url) {
  const socket = connect(url, { transports: ["websocket"], forceNew: true, reconnection: false });
  const got = { packet: [], peer_connected: [], peer_disconnected: [], closed: [], error: [] };
  socket.on("mp:packet", (from, channel, mode, data) => got.packet.push({ from, channel, mode, data }));
  socket.on("mp:packets", (batch) => {
    got.batches = (got.batches || 0) + 1;
    for (const r of records(batch)) got.packet.push({ from: r.peer, channel: r.channel, mode: r.mode, data: r.data });
  });
  socket.on("mp:peer_connected", (id) => got.peer_connected.push(id));
  socket.on("mp:peer_disconnected", (id) => got.peer_disconnected.push(id));
  socket.on("mp:closed", (info) => got.closed.push(info));
  socket.on("mp:error", (info) => got.error.push(info));
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  const ask = (event, ...args) => socket.timeout(5000).emitWithAck(event, ...args);
  return { socket, got, ask };
}

/// A batch (PROTOCOL.md): records [peer, channel, mode, data].
function batchOf(...records) {
  return Buffer.concat(records.flatMap(([peer, channel, mode, data]) => {
    const header = Buffer.alloc(13);
    header.writeInt32LE(peer, 0);
    header.writeUInt32LE(channel, 4);
    header[8] = mode;
    header.writeUInt32LE(data.length, 9);
    return [header, data];
  }));
}

/// The records of a batch.
function records(batch) {
  const out = [];
  for (let at = 0; at < batch.length; ) {
    const length = batch.readUInt32LE(at + 9);
    out.push({ peer: batch.readInt32LE(at), channel: batch.readUInt32LE(at + 4), mode: batch[at + 8], data: batch.subarray(at + 13, at + 13 + length) });
    at += 13 + length;
  }
  return out;
}

async function until(cond, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === "function" ? what() : what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/// A host and two clients in `room`.
async function room(url, name = "r") {
  const host = await client(url);
  const hosted = await host.ask("mp:host", name);
  assert.equal(hosted.ok, true);
  assert.equal(hosted.id, 1);
  assert.ok(hosted.max_packet_bytes > 0);
  const a = await client(url);
  const b = await client(url);
  const ja = await a.ask("mp:join", name);
  const jb = await b.ask("mp:join", name);
  assert.equal(ja.ok, true);
  assert.equal(jb.ok, true);
  a.id = ja.id;
  b.id = jb.id;
  await until(() => host.got.peer_connected.length === 2, "peer_connected twice");
  return { host, a, b };
}

function closeAll(...clients) {
  for (const c of clients) c.socket.close();
}

test("host, join, ids, refusals", async () => {
  const server = await startServer({ maxPeersPerRoom: 3 });
  try {
    const { host, a, b } = await room(server.url);
    for (const id of [a.id, b.id]) assert.ok(Number.isInteger(id) && id >= 2 && id <= 2 ** 31 - 1, `id ${id}`);
    assert.notEqual(a.id, b.id);
    assert.deepEqual(host.got.peer_connected.sort(), [a.id, b.id].sort());
    const c = await client(server.url);
    assert.equal((await c.ask("mp:join", "r")).error, "room_full");
    assert.equal((await c.ask("mp:join", "nobody")).error, "room_unknown");
    assert.equal((await c.ask("mp:host", "r")).error, "room_taken");
    assert.equal((await c.ask("mp:host", "")).error, "bad_room");
    assert.equal((await c.ask("mp:host", "x".repeat(65))).error, "bad_room");
    assert.equal((await c.ask("mp:host", 42)).error, "bad_room");
    assert.equal((await a.ask("mp:join", "r")).error, "already_in_room");
    // The host refuses new peers: a free seat is still refused.
    b.socket.close();
    await until(() => host.got.peer_disconnected.includes(b.id), "b's departure");
    assert.deepEqual(await host.ask("mp:refuse", true), { ok: true });
    assert.equal((await c.ask("mp:join", "r")).error, "refused");
    assert.equal((await a.ask("mp:refuse", true)).error, "not_host");
    assert.deepEqual(await host.ask("mp:refuse", false), { ok: true });
    assert.equal((await c.ask("mp:join", "r")).ok, true);
    closeAll(host, a, c);
  } finally {
    await server.close();
  }
});

test("routing by target, channel and mode passed through, true sender stamped", async () => {
  const server = await startServer();
  try {
    const { host, a, b } = await room(server.url);
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    host.socket.emit("mp:packet", 0, 3, 2, bytes); // all
    // Unreliable packets may be dropped for a receiver whose link is backed up: a pause keeps it quiet.
    await pause(50);
    host.socket.emit("mp:packet", a.id, 1, 0, Buffer.from("only a")); // one, unreliable
    await pause(50);
    host.socket.emit("mp:packet", -a.id, 0, 1, Buffer.from("all but a")); // all but one, unreliable ordered
    a.socket.emit("mp:packet", 1, 0, 2, Buffer.from("a to host"));
    b.socket.emit("mp:packet", 0, 0, 2, Buffer.from("b to host (0)"));
    a.socket.emit("mp:packet", b.id, 0, 2, Buffer.from("a to b"));
    await until(() => a.got.packet.length === 2 && b.got.packet.length === 2 && host.got.packet.length === 2, () => `packets ${JSON.stringify([a.got.packet, b.got.packet, host.got.packet, a.got.error])}`);
    await pause(100);
    assert.deepEqual(a.got.packet, [
      { from: 1, channel: 3, mode: 2, data: bytes },
      { from: 1, channel: 1, mode: 0, data: Buffer.from("only a") },
    ]);
    assert.deepEqual(b.got.packet, [
      { from: 1, channel: 3, mode: 2, data: bytes },
      { from: 1, channel: 0, mode: 1, data: Buffer.from("all but a") },
    ]);
    assert.deepEqual(host.got.packet.map((p) => [p.from, p.data.toString()]).sort(), [
      [a.id, "a to host"],
      [b.id, "b to host (0)"],
    ].sort());
    assert.equal(a.got.error.length, 1);
    assert.equal(a.got.error[0].code, "bad_target", "a client cannot reach another client directly");
    host.socket.emit("mp:packet", 1, 0, 2, Buffer.from("self"));
    await until(() => host.got.error.length === 1, "bad_target for the host to itself");
    assert.equal(host.got.error[0].code, "bad_target");
    closeAll(host, a, b);
  } finally {
    await server.close();
  }
});

test("a forged sender, malformed and oversized packets are refused, nothing forwarded", async () => {
  const server = await startServer({ maxPacketBytes: 100 });
  try {
    const { host, a, b } = await room(server.url);
    a.socket.emit("mp:packet", b.id, 1, 0, 2, Buffer.from("I am b")); // a sender id in front
    a.socket.emit("mp:packet", 1, 0, 2, "not bytes");
    a.socket.emit("mp:packet", 1, -1, 2, Buffer.from("x"));
    a.socket.emit("mp:packet", 1, 0, 7, Buffer.from("x"));
    a.socket.emit("mp:packet", 1, 0, 2, Buffer.from("x"), () => {}); // an ack asked for
    a.socket.emit("mp:packet");
    a.socket.emit("mp:packet", 1, 0, 2, Buffer.alloc(101));
    a.socket.emit("mp:packet", 1, 0, 2, Buffer.alloc(100));
    await until(() => a.got.error.length === 7, "seven refusals");
    assert.deepEqual(a.got.error.slice(0, 6).map((e) => e.code), Array(6).fill("bad_packet"));
    assert.equal(a.got.error[6].code, "packet_too_large");
    assert.equal(a.got.error[6].limit, 100);
    await until(() => host.got.packet.length === 1, "the one valid packet");
    await pause(100);
    assert.equal(host.got.packet.length, 1);
    assert.equal(host.got.packet[0].from, a.id);
    assert.equal(host.got.packet[0].data.length, 100);
    // Hostile shapes for every event: answered or ignored, never a crash.
    for (const ev of ["mp:host", "mp:join", "mp:leave", "mp:kick", "mp:refuse", "mp:packet"]) {
      for (const args of [[], [null], [{}], [[1, 2]], ["x".repeat(100000)], [1, 2, 3, 4, 5, 6], [Buffer.alloc(3)]]) {
        b.socket.emit(ev, ...args);
      }
    }
    const c = await client(server.url);
    assert.equal((await c.ask("mp:join", "r")).ok, true, "the server still serves");
    closeAll(host, a, b, c);
  } finally {
    await server.close();
  }
});

test("the rate cap drops a flood and says so once a second", async () => {
  const server = await startServer({ rate: { packetsPerSecond: 10, burst: 5 } });
  try {
    const { host, a, b } = await room(server.url);
    for (let i = 0; i < 50; i++) a.socket.emit("mp:packet", 1, 0, 2, Buffer.from([i]));
    await until(() => a.got.error.length >= 1, "rate_limited");
    await pause(200);
    assert.ok(host.got.packet.length >= 5 && host.got.packet.length <= 8, `${host.got.packet.length} passed`);
    assert.deepEqual(a.got.error.map((e) => e.code), ["rate_limited"]);
    assert.equal(a.got.error[0].limit, 10);
    closeAll(host, a, b);
  } finally {
    await server.close();
  }
});

test("leaving, kicking, losing the connection; the host leaving closes the room", async () => {
  const server = await startServer();
  try {
    const { host, a, b } = await room(server.url);
    // Kick b: it is told, the host hears of it, b can no longer send into the room.
    assert.deepEqual(await host.ask("mp:kick", b.id), { ok: true });
    assert.equal((await host.ask("mp:kick", 12345)).error, "unknown_peer");
    assert.equal((await a.ask("mp:kick", b.id)).error, "not_host");
    await until(() => b.got.closed.length === 1, "b kicked");
    assert.deepEqual(b.got.closed, [{ reason: "kicked" }]);
    assert.deepEqual(host.got.peer_disconnected, [b.id]);
    b.socket.emit("mp:packet", 1, 0, 2, Buffer.from("after kick"));
    await until(() => b.got.error.length === 1, "not_in_room");
    assert.equal(b.got.error[0].code, "not_in_room");
    // b joins again: a new id.
    const again = await b.ask("mp:join", "r");
    assert.equal(again.ok, true);
    assert.notEqual(again.id, b.id);
    // a's connection drops: the host hears of it once.
    const aId = a.id;
    a.socket.disconnect();
    await until(() => host.got.peer_disconnected.includes(aId), "a's loss");
    // mp:leave from b.
    assert.deepEqual(await b.ask("mp:leave"), { ok: true });
    await until(() => host.got.peer_disconnected.includes(again.id), "b left");
    assert.deepEqual(host.got.peer_disconnected, [b.id, aId, again.id]);
    // The host leaves: clients get mp:closed host_left, cannot send, and the room name is free.
    assert.equal((await b.ask("mp:join", "r")).ok, true);
    host.socket.disconnect();
    await until(() => b.got.closed.length === 2, "host_left");
    assert.deepEqual(b.got.closed[1], { reason: "host_left" });
    b.socket.emit("mp:packet", 1, 0, 2, Buffer.from("into a closed room"));
    await until(() => b.got.error.length === 2, "not_in_room after the host left");
    assert.equal(b.got.error[1].code, "not_in_room");
    const c = await client(server.url);
    assert.equal((await c.ask("mp:host", "r")).ok, true, "the room name is free again");
    assert.equal((await b.ask("mp:join", "r")).ok, true, "and b can join the new host");
    closeAll(b, c);
  } finally {
    await server.close();
  }
});

test("options are checked", () => {
  assert.throws(() => relay.attach({}), TypeError);
  const fake = { on() {}, off() {}, fetchSockets() {} };
  assert.throws(() => relay.attach(fake, { maxPacketBytes: 0 }), /maxPacketBytes must be at least 1/);
  assert.throws(() => relay.attach(fake, { maxPacketBytes: 1.5 }), /maxPacketBytes must be an integer/);
  assert.throws(() => relay.attach(fake, { rate: { packetsPerSecond: -1 } }), /packetsPerSecond/);
  assert.throws(() => relay.attach(fake, "x"), TypeError);
  const { options } = relay.attach(fake, {});
  assert.deepEqual(options, {
    maxPacketBytes: 65536,
    maxPeersPerRoom: 32,
    unreliableBacklogBytes: 65536,
    rate: { packetsPerSecond: 2000, burst: 4000 },
  });
  assert.throws(() => relay.attach(fake, { unreliableBacklogBytes: -1 }), /unreliableBacklogBytes/);
});

// ---- two server processes sharing a real redis ----------------------------------------------------------------

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  const failed = new Promise((_, reject) =>
    proc.once("error", (err) =>
      reject(new Error(`redis-server cannot start (${err.message}): run bash scripts/setup-interop.sh`)),
    ),
  );
  const deadline = Date.now() + 10000;
  for (;;) {
    const ok = await Promise.race([
      failed,
      new Promise((resolve) => {
        const c = net.connect(port, "127.0.0.1", () => {
          c.end();
          resolve(true);
        });
        c.once("error", () => resolve(false));
      }),
    ]);
    if (ok) return { port, stop: () => proc.kill("SIGKILL") };
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error("redis-server did not listen within 10 s");
    }
    await pause(50);
  }
}

test("a host on one node, clients on another, through redis", async () => {
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const redis = await startRedis();
  const conns = [];
  const servers = [];
  try {
    for (let i = 0; i < 2; i++) {
      const pub = createClient({ url: `redis://127.0.0.1:${redis.port}` });
      const sub = pub.duplicate();
      await Promise.all([pub.connect(), sub.connect()]);
      conns.push(pub, sub);
      servers.push(await startServer({}, createAdapter(pub, sub)));
    }
    const host = await client(servers[0].url);
    assert.equal((await host.ask("mp:host", "x")).ok, true);
    const a = await client(servers[1].url);
    const b = await client(servers[1].url);
    assert.equal((await a.ask("mp:host", "x")).error, "room_taken", "the other node knows the room");
    a.id = (await a.ask("mp:join", "x")).id;
    b.id = (await b.ask("mp:join", "x")).id;
    assert.ok(a.id > 1 && b.id > 1 && a.id !== b.id);
    await until(() => host.got.peer_connected.length === 2, "peer_connected across nodes");
    host.socket.emit("mp:packet", 0, 0, 2, Buffer.from("hello"));
    host.socket.emit("mp:packet", b.id, 0, 2, Buffer.from("b only"));
    a.socket.emit("mp:packet", 1, 0, 2, Buffer.from("from a"));
    await until(() => a.got.packet.length === 1 && b.got.packet.length === 2 && host.got.packet.length === 1, "packets across nodes");
    assert.deepEqual(host.got.packet[0], { from: a.id, channel: 0, mode: 2, data: Buffer.from("from a") });
    assert.deepEqual(b.got.packet.map((p) => p.data.toString()), ["hello", "b only"]);
    // Unreliable packets across nodes, on a quiet link: all of a frame's arrive, in order.
    for (let i = 0; i < 5; i++) host.socket.emit("mp:packet", b.id, 1, 1, Buffer.from([i]));
    await until(() => b.got.packet.length === 7, "unreliable packets across nodes");
    assert.deepEqual(b.got.packet.slice(2).map((p) => [p.from, p.channel, p.mode, p.data[0]]), [0, 1, 2, 3, 4].map((i) => [1, 1, 1, i]));
    a.socket.disconnect();
    await until(() => host.got.peer_disconnected.includes(a.id), "peer_disconnected across nodes");
    host.socket.disconnect();
    await until(() => b.got.closed.length === 1, "host_left across nodes");
    b.socket.emit("mp:packet", 1, 0, 2, Buffer.from("into a closed room"));
    await until(() => b.got.error.length === 1, "not_in_room on the other node");
    assert.equal(b.got.error[0].code, "not_in_room");
    b.socket.close();
  } finally {
    for (const s of servers) await s.close();
    for (const c of conns) await c.quit().catch(() => {});
    redis.stop();
  }
});

test("unreliable packets: on a quiet link all of a frame's arrive", async () => {
  const server = await startServer({});
  try {
    const { host, a, b } = await room(server.url);
    // What a game sends in one frame reaches the relay in one read: none of it is dropped on a quiet link, also
    // when it is more packets than engine.io's write buffer takes in one go (each is two engine.io packets).
    const n = 256;
    for (let i = 0; i < n; i++) host.socket.emit("mp:packet", a.id, 0, i % 2, Buffer.from([i >> 8, i & 255]));
    await until(() => a.got.packet.length === n, `all ${n} unreliable packets`);
    assert.deepEqual(a.got.packet.map((p) => p.data.readUInt16BE(0)), [...Array(n).keys()]);
    closeAll(host, a, b);
  } finally {
    await server.close();
  }
});

test("unreliable packets are dropped when the receiver's link is backed up, reliable ones never", async () => {
  const server = await startServer({ rate: { packetsPerSecond: 100000, burst: 100000 } });
  try {
    const { host, a, b } = await room(server.url);
    const big = Buffer.alloc(30000);
    // a stops reading: the kernel's buffers fill and the relay's writes to a queue up.
    const raw = a.socket.io.engine.transport.ws._socket;
    raw.pause();
    for (let i = 0; i < 200; i++) host.socket.emit("mp:packet", a.id, 0, i % 2 === 0 ? 2 : 0, big);
    await pause(300);
    raw.resume();
    await until(() => a.got.packet.filter((p) => p.mode === 2).length === 100, "every reliable packet", 10000);
    await pause(200);
    const unreliable = a.got.packet.filter((p) => p.mode === 0).length;
    assert.ok(unreliable < 100, `some unreliable packets were dropped under load (${unreliable} of 100 arrived)`);
    closeAll(host, a, b);
  } finally {
    await server.close();
  }
});

test("batches: routed record by record, stamped, in order for every receiver, consecutive ones kept together", async () => {
  const server = await startServer({ maxPacketBytes: 100 });
  try {
    const { host, a, b } = await room(server.url);
    const t = (text) => Buffer.from(text);
    // The host: to all, to a, to all again (a must get them in that order), all but a; unreliable to b.
    host.socket.emit("mp:packets", batchOf([0, 0, 2, t("all 1")], [0, 1, 2, t("all 2")], [a.id, 0, 2, t("a")],
      [0, 0, 2, t("all 3")], [-a.id, 0, 2, t("not a")], [b.id, 2, 0, t("b unreliable")]));
    await until(() => a.got.packet.length === 4 && b.got.packet.length === 5, () => JSON.stringify([a.got.packet, b.got.packet]));
    const seen = (c) => c.got.packet.map((p) => `${p.from}:${p.channel}:${p.mode}:${p.data}`);
    assert.deepEqual(seen(a), ["1:0:2:all 1", "1:1:2:all 2", "1:0:2:a", "1:0:2:all 3"]);
    assert.deepEqual(seen(b), ["1:0:2:all 1", "1:1:2:all 2", "1:0:2:all 3", "1:0:2:not a", "1:2:0:b unreliable"]);
    // Runs: [all 1, all 2], [a], [all 3], [not a] for the reliable ones; b's unreliable one alone.
    assert.equal(a.got.batches, 3);
    assert.equal(b.got.batches, 4);
    // A client's batch goes to the host, stamped with the client's id whatever it claims; one batch for the run.
    a.socket.emit("mp:packets", batchOf([1, 0, 2, t("x")], [0, 0, 2, t("y")], [1, 0, 0, t("z")]));
    await until(() => host.got.packet.length === 3, "a's three packets");
    assert.deepEqual(seen(host), [`${a.id}:0:2:x`, `${a.id}:0:2:y`, `${a.id}:0:0:z`]);
    assert.equal(host.got.batches, 2, "the reliable run, then the unreliable one");
    // Records refused one by one: too large, a client's bad target; the others go on, in order.
    a.socket.emit("mp:packets", batchOf([1, 0, 2, t("before")], [1, 0, 2, Buffer.alloc(101)], [b.id, 0, 2, t("to b")], [1, 0, 2, t("after")]));
    await until(() => host.got.packet.length === 5, "before and after");
    assert.deepEqual(seen(host).slice(3), [`${a.id}:0:2:before`, `${a.id}:0:2:after`]);
    await until(() => a.got.error.length === 2, "two errors");
    assert.deepEqual(a.got.error.map((e) => e.code), ["packet_too_large", "bad_target"]);
    // Not whole records, a bad mode, not binary, an extra argument: bad_packet, nothing delivered.
    const before = host.got.packet.length;
    for (const bad of [batchOf([1, 0, 2, t("cut")]).subarray(0, 14), batchOf([1, 0, 9, t("mode")]), Buffer.alloc(0)]) {
      a.socket.emit("mp:packets", bad);
    }
    a.socket.emit("mp:packets", "text");
    a.socket.emit("mp:packets", batchOf([1, 0, 2, t("extra")]), 1);
    await until(() => a.got.error.length === 7, () => JSON.stringify(a.got.error));
    assert.ok(a.got.error.slice(2).every((e) => e.code === "bad_packet"), JSON.stringify(a.got.error));
    await pause(50);
    assert.equal(host.got.packet.length, before);
    closeAll(host, a, b);
  } finally {
    await server.close();
  }
});

test("batches: the rate cap counts packets, not batches", async () => {
  const server = await startServer({ rate: { packetsPerSecond: 1, burst: 3 } });
  try {
    const { host, a, b } = await room(server.url);
    const five = [1, 2, 3, 4, 5].map((n) => [1, 0, 2, Buffer.from([n])]);
    a.socket.emit("mp:packets", batchOf(...five));
    await until(() => a.got.error.some((e) => e.code === "rate_limited"), "rate_limited");
    await pause(50);
    assert.deepEqual(host.got.packet.map((p) => p.data[0]), [1, 2, 3]);
    closeAll(host, a, b);
  } finally {
    await server.close();
  }
});
