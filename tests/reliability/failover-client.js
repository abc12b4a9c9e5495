#!/usr/bin/env node
// The cluster failover fault of rust/core/tests/failover.rs, with socket.io-client (Node) as the client: spawned
// by that test with the cluster it started (two tests/server/server.js nodes on redis-streams-adapter behind
// haproxy). The client connects through haproxy (websocket), joins room "news"; a second client, straight on the
// other node, broadcasts a number to the room every 20 ms. After 20 of them this script SIGKILLs the client's
// node itself (by pid, so the kill time is exact), emits 50 "echo"s while disconnected (socket.io-client buffers
// them) and has 5 broadcasts made at once, then none until the client is back (a broadcast made during the restore
// handshake can be lost by the redis-streams adapter's restoreSession, a server-side race: see failover.rs), and once the client is connected again (on the other node, through haproxy) waits for 40 more
// broadcasts, then for everything it should get. It prints one line:
//   RELIABILITY {"fault": ..., "client": "node-client", ...}   (the keys of failover.rs's lines)
// plus one line `OUTCOME {json}` with what the Rust test checks (sids, recovered, lists).
//
// Usage: node failover-client.js --via URL --node1 URL --node1-pid PID --node2 URL --node2-pid PID
//                                [--recovery] [--fault TEXT]
// socket.io-client comes from bench/node (its package.json and lock; `npm ci` there).
"use strict";

const path = require("path");
const { io } = require(require.resolve("socket.io-client", { paths: [path.join(__dirname, "../../bench/node")] }));

const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--recovery") args.recovery = true;
  else if (a.startsWith("--") && i + 1 < argv.length) args[a.slice(2)] = argv[++i];
  else {
    process.stderr.write(`failover-client.js: bad argument ${a}\n`);
    process.exit(2);
  }
}
for (const k of ["via", "node1", "node1-pid", "node2", "node2-pid"]) {
  if (!args[k]) {
    process.stderr.write(`failover-client.js: --${k} is required\n`);
    process.exit(2);
  }
}
const fault = args.fault || (args.recovery ? "cluster node killed, recovery on" : "cluster node killed, recovery off");

const ROOM = "news";
const BUFFERED = 50;
const BEFORE_KILL = 20;
const AFTER_BACK = 40;
const AWAY_BURST = 5;
const opts = { transports: ["websocket"], reconnectionDelay: 100, reconnectionDelayMax: 300 };

const fail = (msg) => {
  process.stderr.write(`failover-client.js: ${msg}\n`);
  process.exit(1);
};
setTimeout(() => fail("timed out"), 30000).unref();

const received = [];
const echoes = [];
let sent = 0;
let sidBefore = null;
let killedAt = null;
let sentAtKill = 0;
let detect = null;
let back = null; // { at, sent }
let lastSent = null;
let recovered = null;
let welcomeRecovered = null;
let broadcaster = null;
let timer = null;

const client = io(args.via, opts);
client.on("room_msg", (n) => {
  received.push(n);
  if (killedAt === null && received.length >= BEFORE_KILL) kill();
  check();
});
client.on("echo", (n) => {
  echoes.push(n);
  check();
});
client.once("welcome", (w) => {
  const mine = w.server;
  const other = mine === "node1" ? "node2" : "node1";
  client.myPid = Number(args[`${mine}-pid`]);
  broadcaster = io(args[other], opts);
  broadcaster.once("welcome", () => {
    client.emit("join", ROOM, () => {
      sidBefore = client.id;
      timer = setInterval(() => {
        if (lastSent !== null || (killedAt !== null && back === null)) return;
        broadcaster.emit("to_room", ROOM, "room_msg", sent++);
        if (back && sent >= back.sent + AFTER_BACK) lastSent = sent - 1;
      }, 20);
    });
  });
});

function kill() {
  killedAt = process.hrtime.bigint();
  sentAtKill = sent;
  process.kill(client.myPid, "SIGKILL");
}

const since = (t) => Number(process.hrtime.bigint() - t) / 1e6;

client.on("disconnect", () => {
  if (killedAt === null || detect !== null) return;
  detect = since(killedAt);
  for (let i = 0; i < BUFFERED; i++) client.emit("echo", i);
  for (let i = 0; i < AWAY_BURST; i++) broadcaster.emit("to_room", ROOM, "room_msg", sent++);
});
client.on("connect", () => {
  if (killedAt === null || back !== null) return;
  back = { at: since(killedAt), sent };
  recovered = client.recovered === true;
  if (!client.recovered) client.emit("join", ROOM);
});
client.on("welcome", (w) => {
  if (back !== null && welcomeRecovered === null) welcomeRecovered = w.recovered;
});

let done = false;
function check() {
  if (done || lastSent === null || received[received.length - 1] !== lastSent || echoes.length < BUFFERED) return;
  done = true;
  clearInterval(timer);
  // Anything more would be a duplicate.
  setTimeout(report, 300);
}

function duplicates(list) {
  return list.length - new Set(list).size;
}

function report() {
  const got = new Set(received);
  let missed = 0;
  for (let i = 0; i < sent; i++) if (!got.has(i)) missed++;
  let delivered = 0;
  for (let i = 0; i < BUFFERED; i++) if (echoes.includes(i)) delivered++;
  const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
  const line = {
    fault,
    client: "node-client",
    detect_ms: round(detect),
    recover_ms: round(back && back.at),
    buffered: BUFFERED,
    delivered,
    duplicates: duplicates(received) + duplicates(echoes),
    missed_without_recovery: args.recovery ? null : missed,
    missed_with_recovery: args.recovery ? missed : null,
    worst_poll_ms: null,
  };
  process.stdout.write(`RELIABILITY ${JSON.stringify(line)}\n`);
  const outcome = {
    sid_before: sidBefore,
    sid_after: client.id,
    recovered,
    welcome_recovered: welcomeRecovered,
    sent,
    sent_while_away: back.sent - sentAtKill,
    received,
    echoes,
  };
  process.stdout.write(`OUTCOME ${JSON.stringify(outcome)}\n`);
  client.close();
  broadcaster.close();
  process.exit(0);
}
