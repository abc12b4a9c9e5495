#!/usr/bin/env node
// The mobile-link faults of rust/core/tests/slow_links.rs (300 ms RTT, 64 KiB/s each way, through the test
// harness's impairment proxy), with socket.io-client (Node) as the client, spawned by that test:
//   --mode emit     a 1 MiB binary "digest" emit with a 60 s ack, then a 2 s ack ("late") and a 60 s one
//                   ("patient") behind it;
//   --mode receive  asks the server for a 5 MiB binary "big" message, then one small ack round trip.
// It prints one line `RELIABILITY {json}` (the keys of slow_links.rs's lines) and one `OUTCOME {json}` that the Rust
// test checks, then exits.
//
// Usage: node slow-link-client.js --url URL --mode emit|receive
// socket.io-client comes from bench/node (its package.json and lock; `npm ci` there).
"use strict";

const path = require("path");
const { io } = require(require.resolve("socket.io-client", { paths: [path.join(__dirname, "../../bench/node")] }));

const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i + 1 < argv.length; i += 2) args[argv[i].replace(/^--/, "")] = argv[i + 1];
if (!args.url || !["emit", "receive"].includes(args.mode)) {
  process.stderr.write("usage: node slow-link-client.js --url URL --mode emit|receive\n");
  process.exit(2);
}
const fail = (msg) => {
  process.stderr.write(`slow-link-client.js: ${msg}\n`);
  process.exit(1);
};
setTimeout(() => fail("timed out"), 150000).unref();

const MIB = 1 << 20;
const pattern = (n) => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
};
const socket = io(args.url, { transports: ["websocket"] });
const disconnects = [];
socket.on("disconnect", (reason) => disconnects.push(reason));

function report(fault, completed, outcome) {
  console.log(
    `RELIABILITY ${JSON.stringify({
      fault,
      client: "node-client",
      detect_ms: null,
      recover_ms: null,
      buffered: null,
      delivered: 1,
      duplicates: 0,
      missed_without_recovery: null,
      missed_with_recovery: null,
      worst_poll_ms: null,
      completed_ms: completed,
    })}`,
  );
  console.log(`OUTCOME ${JSON.stringify({ ...outcome, disconnects })}`);
  socket.close();
  process.exit(0);
}

socket.once("connect", () => {
  const start = Date.now();
  if (args.mode === "emit") {
    const data = pattern(MIB);
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum = (sum + data[i]) >>> 0;
    const out = { expected_sum: sum, late_calls: [], late_after_ms: null };
    let digestDone = false;
    let patientDone = false;
    const maybeDone = () => {
      if (!digestDone || !patientDone) return;
      // Give a late answer to the 2 s ack the time to come, and be ignored.
      setTimeout(() => report("slow link 300 ms RTT 64 KiB/s: 1 MiB binary emit", out.completed, out), 500);
    };
    socket.timeout(60000).emit("digest", data, (err, len, got) => {
      out.completed = Date.now() - start;
      out.digest = err ? "timeout" : [len, got];
      digestDone = true;
      maybeDone();
    });
    socket.timeout(2000).emit("ack", "late", (err, ...rest) => {
      if (out.late_after_ms === null) out.late_after_ms = Date.now() - start;
      out.late_calls.push(err ? "timeout" : rest);
    });
    socket.timeout(60000).emit("ack", "patient", (err, ...rest) => {
      out.patient = err ? "timeout" : rest;
      patientDone = true;
      maybeDone();
    });
  } else {
    socket.once("big", (buf) => {
      const completed = Date.now() - start;
      const intact = Buffer.isBuffer(buf) && buf.equals(pattern(5 * MIB));
      socket.timeout(10000).emit("ack", 1, (err, ...rest) => {
        report("slow link 300 ms RTT 64 KiB/s: 5 MiB receive", completed, {
          length: buf.length,
          intact,
          after: err ? "timeout" : rest,
        });
      });
    });
    socket.emit("big", 5 * MIB, "binary");
  }
});
