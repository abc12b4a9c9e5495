#!/usr/bin/env node
// The partition faults of rust/core/tests/partition.rs, with socket.io-client (Node) as the client: spawned by that
// test, which owns the network namespace, the server in it and the nftables rule, and tells this script on stdin
// when the link is cut and healed:
//   this script prints READY once connected ("/" and, in long mode, "/chat"), then reads lines:
//   CUT     the link drops every packet from now on
//   HEALED  it carries them again
// long mode (the cut outlasts the heartbeat window): 5 "echo"s go round before READY; on CUT it emits 3 "echo"s into the cut, waits for the disconnect
//   (printing DETECTED), emits 20 on "/" and 10 on "/chat" while disconnected (socket.io-client buffers them), and
//   after HEALED waits for both namespaces and every buffered echo;
// short mode (the cut is shorter than the window): emits an "echo" every 50 ms until HEALED, then waits for all.
// It prints one line `RELIABILITY {json}` (the keys of partition.rs's lines) and one `OUTCOME {json}` that the Rust
// test checks, then exits.
//
// Usage: node partition-client.js --url URL --mode long|short
// socket.io-client comes from bench/node (its package.json and lock; `npm ci` there).
"use strict";

const path = require("path");
const readline = require("readline");
const { io } = require(require.resolve("socket.io-client", { paths: [path.join(__dirname, "../../bench/node")] }));

const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
    process.stderr.write(`partition-client.js: bad argument ${argv[i]}\n`);
    process.exit(2);
  }
  args[argv[i].slice(2)] = argv[i + 1];
}
if (!args.url || !["long", "short"].includes(args.mode)) {
  process.stderr.write("usage: node partition-client.js --url URL --mode long|short\n");
  process.exit(2);
}
const long = args.mode === "long";
const fail = (msg) => {
  process.stderr.write(`partition-client.js: ${msg}\n`);
  process.exit(1);
};
setTimeout(() => fail("timed out"), 30000).unref();

const opts = { transports: ["websocket"], reconnectionDelay: 200, reconnectionDelayMax: 500, timeout: 1000 };
const main = io(args.url, opts);
const chat = long ? io(`${args.url}/chat`, opts) : null;
const echoes = { "/": [], "/chat": [] };
const disconnects = [];
let cutAt = null;
let healedAt = null;
let detect = null;
let back = null;
let caughtUp = null;
let failedAttempts = 0;
let sent = 0;
let ticker = null;
let done = false;

main.on("echo", (n) => {
  echoes["/"].push(n);
  printReady();
  check();
});
if (chat) {
  chat.on("echo", (n) => {
    echoes["/chat"].push(n);
    check();
  });
}
main.io.on("reconnect_error", () => failedAttempts++);
main.on("disconnect", (reason) => {
  disconnects.push(reason);
  if (long && cutAt !== null && detect === null) {
    detect = Date.now() - cutAt;
    for (let i = 200; i < 220; i++) main.emit("echo", i);
    for (let i = 300; i < 310; i++) chat.emit("echo", i);
    console.log("DETECTED");
  }
});
main.on("connect", () => {
  if (healedAt !== null && back === null) back = Date.now() - healedAt;
  ready();
});
if (chat) chat.on("connect", ready);

// Connected: in long mode, 5 echoes go round first (0..4); then READY.
let readyStarted = false;
let readyPrinted = false;
function ready() {
  if (readyStarted || !main.connected || (chat && !chat.connected)) return;
  readyStarted = true;
  if (long) for (let i = 0; i < 5; i++) main.emit("echo", i);
  printReady();
}
function printReady() {
  if (readyPrinted || !readyStarted || (long && echoes["/"].length < 5)) return;
  readyPrinted = true;
  console.log("READY");
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "CUT") {
    cutAt = Date.now();
    if (long) {
      for (let i = 100; i < 103; i++) main.emit("echo", i);
    } else {
      const tick = () => main.emit("echo", sent++);
      tick();
      ticker = setInterval(tick, 50);
    }
  } else if (line === "HEALED") {
    healedAt = Date.now();
    if (ticker) clearInterval(ticker);
    check();
  }
});

function check() {
  if (done || healedAt === null) return;
  const all = long
    ? echoes["/"].filter((n) => n >= 200).length >= 20 && echoes["/chat"].length >= 10
    : echoes["/"].length >= sent;
  if (!all) return;
  done = true;
  caughtUp = Date.now() - healedAt;
  // Anything more would be a duplicate.
  setTimeout(finish, 500);
}

function duplicates(list) {
  return list.length - new Set(list).size;
}

function finish() {
  const main_ = echoes["/"];
  let line;
  if (long) {
    const promised = main_.filter((n) => n < 100 || n >= 200);
    line = {
      fault: "partition 4 s (window 1 s)",
      client: "node-client",
      detect_ms: detect,
      recover_ms: back,
      buffered: 30,
      delivered: promised.filter((n) => n >= 200).length + echoes["/chat"].length,
      duplicates: duplicates(main_) + duplicates(echoes["/chat"]),
      missed_without_recovery: null,
      missed_with_recovery: null,
      worst_poll_ms: null,
      failed_attempts: failedAttempts,
      emitted_into_the_cut: 3,
      of_those_delivered: main_.filter((n) => n >= 100 && n < 103).length,
    };
  } else {
    line = {
      fault: "partition 1.5 s (window 5 s)",
      client: "node-client",
      detect_ms: null,
      recover_ms: caughtUp,
      buffered: sent,
      delivered: new Set(main_).size,
      duplicates: duplicates(main_),
      missed_without_recovery: null,
      missed_with_recovery: null,
      worst_poll_ms: null,
    };
  }
  console.log(`RELIABILITY ${JSON.stringify(line)}`);
  console.log(`OUTCOME ${JSON.stringify({ echoes: main_, chat: echoes["/chat"], disconnects, sent })}`);
  main.close();
  if (chat) chat.close();
  process.exit(0);
}
