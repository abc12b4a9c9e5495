#!/usr/bin/env node
// Workload M's floor of the relay path (scripts/bench.sh, the row mp-relay-node): the round trip of workload M
// through the same relay, between two socket.io-client (Node) processes that speak relay/PROTOCOL.md by hand, with
// no Godot in the path: what the relay's two passes cost on their own.
//
//   node bench/node/relay-rtt.js --role=host --url=ws://127.0.0.1:PORT --room=ROOM
//   node bench/node/relay-rtt.js --role=client --url=... --room=ROOM [--count=N] [--run=N]
//
// The host prints `MPB READY host` once it has the room and answers every packet with the same packet, to its
// sender; it exits when its room is left (the client closing). The client sends a 20-byte reliable packet in a
// batch (mp:packets, one record, as SocketIOMultiplayerPeer does), waits for the answer, and sends the next:
// --count of them (default 500) after a tenth as many unmeasured; it prints one `RESULT {json}` line with the p50
// and p99 (nearest rank) in µs.
"use strict";

const { io } = require("socket.io-client");

function arg(name, fallback) {
  const prefix = `--${name}=`;
  for (const a of process.argv.slice(2)) if (a.startsWith(prefix)) return a.slice(prefix.length);
  return fallback;
}

const role = arg("role", "");
const url = `${arg("url", "")}/match`;
const room = arg("room", "bench");
const count = Math.max(10, parseInt(arg("count", "500"), 10) || 500);
const run = parseInt(arg("run", "1"), 10) || 1;
const fail = (why) => {
  if (role === "client") console.log(`RESULT ${JSON.stringify({ client: "mp-relay-node", workload: "M", run, na: why })}`);
  console.error(`relay-rtt: ${why}`);
  process.exit(1);
};
setTimeout(() => fail("timed out after 60 s"), 60000).unref();

/// One record of a batch (PROTOCOL.md): peer, channel, mode, length, data.
function batchOf(peer, data) {
  const header = Buffer.alloc(13);
  header.writeInt32LE(peer, 0);
  header[8] = 2;
  header.writeUInt32LE(data.length, 9);
  return Buffer.concat([header, data]);
}

const socket = io(url, { transports: ["websocket"], reconnection: false });
socket.on("connect_error", (err) => fail(`connect: ${err.message}`));
socket.on("connect", async () => {
  if (role === "host") {
    const hosted = await socket.timeout(5000).emitWithAck("mp:host", room);
    if (!hosted.ok) fail(`mp:host: ${JSON.stringify(hosted)}`);
    socket.on("mp:packets", (batch) => {
      const from = batch.readInt32LE(0);
      socket.emit("mp:packets", batchOf(from, batch.subarray(13)));
    });
    socket.on("mp:peer_disconnected", () => process.exit(0));
    console.log("MPB READY host");
    return;
  }
  const joined = await socket.timeout(5000).emitWithAck("mp:join", room);
  if (!joined.ok) fail(`mp:join: ${JSON.stringify(joined)}`);
  const warm = Math.max(1, Math.floor(count / 10));
  const payload = Buffer.alloc(20);
  const samples = [];
  for (let i = 0; i < warm + count; i++) {
    const t = process.hrtime.bigint();
    await new Promise((resolve) => {
      socket.once("mp:packets", resolve);
      socket.emit("mp:packets", batchOf(1, payload));
    });
    if (i >= warm) samples.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  samples.sort((x, y) => x - y);
  const rank = (p) => samples[Math.min(samples.length - 1, Math.max(0, Math.ceil(samples.length * p) - 1))];
  const result = { client: "mp-relay-node", workload: "M", run, M_rtt_p50_us: rank(0.5), M_rtt_p99_us: rank(0.99), rtt_count: samples.length };
  console.log(`RESULT ${JSON.stringify(result)}`);
  socket.close();
  process.exit(0);
});
