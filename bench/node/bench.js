#!/usr/bin/env node
// socket.io-client (Node), websocket transport only by default: the reference client of scripts/bench.sh.
//
// Usage: node bench/node/bench.js --workload=A|B|C|D|warmup --url=ws://127.0.0.1:PORT [--runs=N] [--scale=F]
//        [--transports=websocket|polling|polling,websocket] [--client-name=NAME]
// (or the environment variables BENCH_WORKLOAD, BENCH_URL, BENCH_RUNS, BENCH_SCALE, BENCH_TRANSPORTS,
// BENCH_CLIENT_NAME). --transports is socket.io-client's `transports` option (default websocket only); with
// polling,websocket every connection waits for the upgrade (5 s at most) before it is measured, and D also records
// the time to it (upgrade_ms). Each RESULT line tells the transport in use at its end.
//
// Prints one line `RESULT {json}` per measured run (and `RESULT {"error": ...}` when a workload fails), the same
// contract as the Godot bench projects (bench/godot/common/bench_main.gd). Workloads E and F measure the poll()
// of a frame-driven client and do not apply to Node; G (resident memory after A) is reported with A.
//
// CPU: process.cpuUsage() (getrusage: user + system time of the whole process, all threads, in µs) read before
// and after the measured part of a run.
"use strict";

const { io } = require("socket.io-client");

function arg(name, fallback) {
  const prefix = `--${name}=`;
  for (const a of process.argv.slice(2)) if (a.startsWith(prefix)) return a.slice(prefix.length);
  const env = process.env[`BENCH_${name.toUpperCase()}`];
  return env !== undefined && env !== "" ? env : fallback;
}

const workload = arg("workload", "");
const url = arg("url", "");
const runs = Math.max(1, parseInt(arg("runs", "3"), 10) || 3);
const scale = Math.max(0.0001, parseFloat(arg("scale", "1")) || 1);
const scaled = (n) => Math.max(1, Math.round(n * scale));

const CLIENT = arg("client-name", "node-client");
const TRANSPORTS = arg("transports", "websocket").split(",").filter((t) => t !== "");
const WANTS_UPGRADE = TRANSPORTS[0] === "polling" && TRANSPORTS.includes("websocket");
// The transport of the last connection, for the RESULT lines.
let lastSocket = null;
const SMALL = { x: 1.5, y: 2, name: "player" };
const MIB = 1024 * 1024;

function transportName() {
  const engine = lastSocket && lastSocket.io && lastSocket.io.engine;
  return engine && engine.transport ? engine.transport.name : undefined;
}

function result(obj) {
  const transport = obj.error === undefined ? transportName() : undefined;
  process.stdout.write(`RESULT ${JSON.stringify({ client: CLIENT, workload, transport, ...obj })}\n`);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function connect() {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const socket = io(url, { transports: TRANSPORTS, forceNew: true, reconnection: false, timeout: 10000 });
    lastSocket = socket;
    let upgradeMs;
    if (WANTS_UPGRADE) {
      socket.io.on("open", () =>
        socket.io.engine.once("upgrade", () => {
          upgradeMs = Number(process.hrtime.bigint() - started) / 1e6;
        }),
      );
    }
    socket.once("connect", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (!WANTS_UPGRADE) return resolve({ socket, ms });
      // Measured once on WebSocket: waits for the upgrade.
      const deadline = Date.now() + 5000;
      const wait = () => {
        if (upgradeMs !== undefined) return resolve({ socket, ms, upgradeMs });
        if (Date.now() > deadline) {
          socket.close();
          return reject(new Error("connected over polling, not upgraded to WebSocket within 5 s"));
        }
        setTimeout(wait, 1);
      };
      wait();
    });
    socket.once("connect_error", (err) => {
      socket.close();
      reject(new Error(`connect_error: ${err && err.message}`));
    });
  });
}

const nowUs = () => Number(process.hrtime.bigint()) / 1000;
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

function percentile(sorted, p) {
  // Nearest rank.
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

// A: n echoed small events, up to `window` in flight.
function throughput(socket, n, window) {
  return new Promise((resolve) => {
    let sent = 0;
    let received = 0;
    const t0 = nowUs();
    const c0 = cpuUs();
    const onEcho = () => {
      received++;
      if (sent < n) {
        socket.emit("echo", SMALL);
        sent++;
      } else if (received === n) {
        const elapsed = nowUs() - t0;
        const cpu = cpuUs() - c0;
        socket.off("echo", onEcho);
        resolve({ A_events_per_s: (n * 1e6) / elapsed, A_cpu_us_per_event: cpu / n, elapsed_s: elapsed / 1e6 });
      }
    };
    socket.on("echo", onEcho);
    while (sent < Math.min(window, n)) {
      socket.emit("echo", SMALL);
      sent++;
    }
  });
}

// B: n sequential acks.
async function acks(socket, n) {
  const lat = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const answer = await new Promise((resolve) => socket.emit("ack", i, (v) => resolve(v)));
    lat.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (answer !== i) throw new Error(`ack ${i} answered ${JSON.stringify(answer)}`);
  }
  lat.sort((a, b) => a - b);
  return { B_ack_p50: percentile(lat, 50), B_ack_p99: percentile(lat, 99) };
}

// C: n sequential round trips of a 1 MiB buffer.
async function binaryRun(socket, n, buf) {
  const t0 = nowUs();
  const c0 = cpuUs();
  for (let i = 0; i < n; i++) {
    const p = new Promise((resolve) => socket.once("echo", (data) => resolve(data)));
    socket.emit("echo", buf);
    const back = await p;
    if (!Buffer.isBuffer(back) || back.length !== buf.length || back[back.length - 1] !== buf[buf.length - 1]) {
      throw new Error(`round trip ${i}: got ${Buffer.isBuffer(back) ? back.length + " bytes" : typeof back}`);
    }
  }
  const elapsed = nowUs() - t0;
  return { C_binary_mibs: (n * buf.length) / MIB / (elapsed / 1e6), cpu_us_per_mib: (cpuUs() - c0) / ((n * buf.length) / MIB) };
}

async function connects(n) {
  const times = [];
  const upgrades = [];
  for (let i = 0; i < n; i++) {
    const { socket, ms, upgradeMs } = await connect();
    times.push(ms);
    if (upgradeMs !== undefined) upgrades.push(upgradeMs);
    socket.close();
    await new Promise((r) => setImmediate(r));
  }
  times.sort((a, b) => a - b);
  const mid = times.length / 2;
  const median = times.length % 2 ? times[Math.floor(mid)] : (times[mid - 1] + times[mid]) / 2;
  const out = { D_connect_ms: median, connect_ms_max: times[times.length - 1] };
  if (upgrades.length) {
    upgrades.sort((a, b) => a - b);
    const m = upgrades.length / 2;
    out.upgrade_ms = upgrades.length % 2 ? upgrades[Math.floor(m)] : (upgrades[m - 1] + upgrades[m]) / 2;
  }
  return out;
}

async function main() {
  if (!url) throw new Error("no --url / BENCH_URL");
  const nA = scaled(20000);
  const nB = scaled(2000);
  const nC = scaled(200);
  const nD = scaled(20);
  const buf = Buffer.alloc(MIB);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 7 + 3) & 0xff;

  switch (workload) {
    case "warmup": {
      // Warms the server (and this client) up; reports nothing.
      const { socket } = await connect();
      for (let r = 0; r < 3; r++) await throughput(socket, nA, 100);
      await acks(socket, nB);
      await binaryRun(socket, Math.max(1, Math.round(nC / 4)), buf);
      socket.close();
      await connects(nD);
      return;
    }
    case "A": {
      const { socket } = await connect();
      await throughput(socket, Math.max(1, Math.round(nA / 10)), 100); // warm-up, not reported
      for (let r = 1; r <= runs; r++) {
        const res = await withTimeout(throughput(socket, nA, 100), 120000, "throughput");
        result({ run: r, n: nA, ...res, G_rss_mib: process.memoryUsage().rss / MIB });
      }
      socket.close();
      return;
    }
    case "B": {
      const { socket } = await connect();
      await acks(socket, Math.max(1, Math.round(nB / 10)));
      for (let r = 1; r <= runs; r++) {
        result({ run: r, n: nB, ...(await withTimeout(acks(socket, nB), 120000, "acks")) });
      }
      socket.close();
      return;
    }
    case "C": {
      const { socket } = await connect();
      await binaryRun(socket, Math.max(1, Math.round(nC / 20)), buf);
      for (let r = 1; r <= runs; r++) {
        result({ run: r, n: nC, ...(await withTimeout(binaryRun(socket, nC, buf), 300000, "binary")) });
      }
      socket.close();
      return;
    }
    case "D": {
      await connects(2);
      for (let r = 1; r <= runs; r++) {
        result({ run: r, n: nD, ...(await withTimeout(connects(nD), 120000, "connects")) });
      }
      return;
    }
    case "E":
    case "F":
      result({ na: "not applicable: Node has no poll() (event loop)" });
      return;
    default:
      throw new Error(`unknown workload "${workload}"`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    result({ error: String((err && err.message) || err) });
    process.exit(1);
  },
);
