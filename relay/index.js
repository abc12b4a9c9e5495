"use strict";
// socketio-godot-relay: the server side of SocketIOMultiplayerPeer (Godot's high-level multiplayer over Socket.IO).
// Attached to a socket.io 4.x namespace, it keeps rooms of one host (peer 1) and clients (ids 2..2^31-1), routes
// packets by target, stamps each with its sender's true id, and enforces a packet size cap and a per-peer rate cap.
// The protocol is PROTOCOL.md's.
//
// Nothing lives only in this process: a room is socket.io rooms (`mp:<room>` all members, `mp:<room>:host`,
// `mp:<room>:<id>` each peer) and a member's id and room are in `socket.data`, which `fetchSockets()` reads on
// every node. With @socket.io/redis-adapter a host on one server process and clients on another play together.

const MAX_ROOM_BYTES = 64;
const MAX_ID = 2 ** 31 - 1;
const MODES = new Set([0, 1, 2]); // Godot's TransferMode: unreliable, unreliable ordered, reliable
const RELIABLE = 2;
/// The server-side event that carries an unreliable packet to the other nodes.
const UNRELIABLE = "mp:unreliable";
/// The same for a batch of unreliable packets.
const UNRELIABLE_BATCH = "mp:unreliable_batch";
/// A batch record's header (PROTOCOL.md): peer i32, channel u32, mode u8, length u32, little-endian.
const RECORD_HEADER_BYTES = 13;

const DEFAULTS = Object.freeze({
  maxPacketBytes: 65536,
  maxPeersPerRoom: 32,
  rate: Object.freeze({ packetsPerSecond: 2000, burst: 4000 }),
  unreliableBacklogBytes: 65536,
});
/// Engine.io packets waiting in a long-polling connection's write buffer beyond which unreliable packets are dropped
/// (they wait there for the client's next GET).
const BACKLOG_PACKETS = 64;

const roomAll = (room) => `mp:${room}`;
const roomHost = (room) => `mp:${room}:host`;
const roomPeer = (room, id) => `mp:${room}:${id}`;

/// Checks `options` and fills in the defaults; throws a TypeError or RangeError naming the option.
function validate(options) {
  if (options === undefined || options === null) options = {};
  if (typeof options !== "object") throw new TypeError("socketio-godot-relay: options must be an object");
  const positiveInt = (name, value) => {
    if (!Number.isInteger(value)) throw new TypeError(`socketio-godot-relay: options.${name} must be an integer`);
    if (value < 1) throw new RangeError(`socketio-godot-relay: options.${name} must be at least 1, not ${value}`);
    return value;
  };
  const out = {
    maxPacketBytes: positiveInt("maxPacketBytes", options.maxPacketBytes ?? DEFAULTS.maxPacketBytes),
    maxPeersPerRoom: positiveInt("maxPeersPerRoom", options.maxPeersPerRoom ?? DEFAULTS.maxPeersPerRoom),
  };
  if (out.maxPeersPerRoom < 1) throw new RangeError("socketio-godot-relay: options.maxPeersPerRoom must be at least 1");
  const rate = options.rate ?? DEFAULTS.rate;
  if (typeof rate !== "object" || rate === null) {
    throw new TypeError("socketio-godot-relay: options.rate must be an object {packetsPerSecond, burst}");
  }
  const pps = rate.packetsPerSecond ?? DEFAULTS.rate.packetsPerSecond;
  if (typeof pps !== "number" || !(pps > 0) || !Number.isFinite(pps)) {
    throw new RangeError("socketio-godot-relay: options.rate.packetsPerSecond must be a positive number");
  }
  const backlog = options.unreliableBacklogBytes ?? DEFAULTS.unreliableBacklogBytes;
  if (!Number.isInteger(backlog) || backlog < 0) {
    throw new RangeError("socketio-godot-relay: options.unreliableBacklogBytes must be an integer of at least 0");
  }
  out.unreliableBacklogBytes = backlog;
  out.rate = { packetsPerSecond: pps, burst: positiveInt("rate.burst", rate.burst ?? Math.max(1, Math.ceil(pps * 2))) };
  return Object.freeze(out);
}

/// Attaches the relay to namespace `nsp` (e.g. `io.of("/match")`). Returns `{options, detach()}`; `detach()`
/// stops serving new connections (sockets already connected keep their handlers).
function attach(nsp, options) {
  if (!nsp || typeof nsp.on !== "function" || typeof nsp.fetchSockets !== "function") {
    throw new TypeError("socketio-godot-relay: attach() needs a socket.io Namespace, e.g. io.of(\"/match\")");
  }
  const opts = validate(options);
  const onConnection = (socket) => serve(nsp, socket, opts);
  // Another node's unreliable packet, for this node's sockets.
  const onUnreliable = (room, except, from, channel, mode, data) => {
    data = asBuffer(data);
    if (typeof room === "string" && Array.isArray(except) && Buffer.isBuffer(data)) {
      deliverUnreliable(nsp, room, except, "mp:packet", [from, channel, mode, data], opts.unreliableBacklogBytes);
    }
  };
  const onUnreliableBatch = (room, except, batch) => {
    batch = asBuffer(batch);
    if (typeof room === "string" && Array.isArray(except) && batch) {
      deliverUnreliable(nsp, room, except, "mp:packets", [batch], opts.unreliableBacklogBytes);
    }
  };
  nsp.on("connection", onConnection);
  // Only an adapter spanning several processes delivers these.
  nsp.on(UNRELIABLE, onUnreliable);
  nsp.on(UNRELIABLE_BATCH, onUnreliableBatch);
  return {
    options: opts,
    detach() {
      nsp.off("connection", onConnection);
      nsp.off(UNRELIABLE, onUnreliable);
      nsp.off(UNRELIABLE_BATCH, onUnreliableBatch);
    },
  };
}

/// The handlers of one socket.
function serve(nsp, socket, opts) {
  // A socket restored by connection state recovery is a new peer (PROTOCOL.md): forget a room it had.
  if (socket.data && socket.data.mp) {
    const { room, id } = socket.data.mp;
    for (const r of [roomAll(room), roomHost(room), roomPeer(room, id)]) socket.leave(r);
    socket.data.mp = null;
  }
  const bucket = { tokens: opts.rate.burst, at: Date.now(), reported: 0 };
  const answer = (ack) => (typeof ack === "function" ? ack : () => {});
  const guard = (fn) => (...args) => {
    try {
      const r = fn(...args);
      if (r && typeof r.catch === "function") r.catch((err) => report(socket, "internal", String(err && err.message)));
    } catch (err) {
      report(socket, "internal", String(err && err.message));
    }
  };

  socket.on("mp:host", guard(async (room, ack) => {
    const reply = answer(ack);
    const bad = checkRoom(room) || inRoom(socket);
    if (bad) return reply(bad);
    const hosts = await nsp.in(roomHost(room)).fetchSockets();
    if (hosts.length > 0) return reply(refusal("room_taken", `room "${room}" already has a host`));
    if (!socket.connected || inRoom(socket)) return reply(refusal("already_in_room", "already in a room"));
    socket.data.mp = { room, id: 1, refusing: false };
    socket.join([roomAll(room), roomHost(room), roomPeer(room, 1)]);
    reply({ ok: true, id: 1, max_packet_bytes: opts.maxPacketBytes });
  }));

  socket.on("mp:join", guard(async (room, ack) => {
    const reply = answer(ack);
    const bad = checkRoom(room) || inRoom(socket);
    if (bad) return reply(bad);
    const hosts = await nsp.in(roomHost(room)).fetchSockets();
    if (hosts.length === 0) return reply(refusal("room_unknown", `no room "${room}" is hosted`));
    const host = hosts[0];
    if (host.data && host.data.mp && host.data.mp.refusing) {
      return reply(refusal("refused", `room "${room}" refuses new peers`));
    }
    const members = await nsp.in(roomAll(room)).fetchSockets();
    if (members.length >= opts.maxPeersPerRoom) {
      return reply(refusal("room_full", `room "${room}" is full (${opts.maxPeersPerRoom} peers)`));
    }
    if (!socket.connected || inRoom(socket)) return reply(refusal("already_in_room", "already in a room"));
    const taken = new Set(members.map((m) => m.data && m.data.mp && m.data.mp.id));
    let id;
    do {
      id = 2 + Math.floor(Math.random() * (MAX_ID - 1));
    } while (taken.has(id));
    socket.data.mp = { room, id };
    socket.join([roomAll(room), roomPeer(room, id)]);
    reply({ ok: true, id, max_packet_bytes: opts.maxPacketBytes });
    nsp.to(roomHost(room)).emit("mp:peer_connected", id);
  }));

  socket.on("mp:leave", guard((ack) => {
    leave(nsp, socket);
    answer(ack)({ ok: true });
  }));

  socket.on("mp:kick", guard(async (peer, ack) => {
    const reply = answer(ack);
    const mp = member(socket);
    if (!mp || mp.id !== 1) return reply(refusal("not_host", "only the host can remove a peer"));
    if (!Number.isInteger(peer) || peer < 2 || peer > MAX_ID) return reply(refusal("unknown_peer", "no such peer"));
    const targets = await nsp.in(roomPeer(mp.room, peer)).fetchSockets();
    if (targets.length === 0) return reply(refusal("unknown_peer", `no peer ${peer} in the room`));
    nsp.to(roomPeer(mp.room, peer)).emit("mp:closed", { reason: "kicked" });
    nsp.in(roomPeer(mp.room, peer)).socketsLeave([roomAll(mp.room), roomPeer(mp.room, peer)]);
    socket.emit("mp:peer_disconnected", peer);
    reply({ ok: true });
  }));

  socket.on("mp:refuse", guard((enable, ack) => {
    const reply = answer(ack);
    const mp = member(socket);
    if (!mp || mp.id !== 1) return reply(refusal("not_host", "only the host can refuse new peers"));
    mp.refusing = Boolean(enable);
    reply({ ok: true });
  }));

  socket.on("mp:packet", guard((...args) => {
    // Exactly target, channel, mode, data: anything more (a sender's id, an ack) is refused, never trusted.
    const [target, channel, mode, data] = args;
    if (
      args.length !== 4 ||
      !Number.isInteger(target) ||
      !Number.isInteger(channel) ||
      channel < 0 ||
      !MODES.has(mode) ||
      !Buffer.isBuffer(data)
    ) {
      return report(socket, "bad_packet", "a packet is target, channel, mode and binary data, nothing else");
    }
    const mp = member(socket);
    if (!mp) return report(socket, "not_in_room", "not in a room");
    if (!admit(data.length)) return;
    const receivers = receiversOf(mp, target);
    if (!receivers) return;
    const [to, except] = receivers;
    const packet = [mp.id, channel, mode, data];
    if (mode === RELIABLE) {
      nsp.to(to).except(except).emit("mp:packet", ...packet);
      return;
    }
    // Unreliable: dropped for a receiver whose connection is backed up, decided by the node that holds it.
    deliverUnreliable(nsp, to, except, "mp:packet", packet, opts.unreliableBacklogBytes);
    if (isClustered(nsp)) nsp.serverSideEmit(UNRELIABLE, to, except, ...packet);
  }));

  // A batch: records of target, channel, mode, length and the packet (PROTOCOL.md). Each record is checked as a
  // packet is; consecutive records for the same receivers and of the same reliability go on as one batch, stamped
  // with the sender, so that every receiver gets its packets in the order they were sent.
  socket.on("mp:packets", guard((...args) => {
    const [batch] = args;
    const records = args.length === 1 && Buffer.isBuffer(batch) ? parseBatch(batch) : null;
    if (!records) {
      return report(socket, "bad_packet", "a batch is one binary attachment of whole records (target, channel, mode, length, data)");
    }
    const mp = member(socket);
    if (!mp) return report(socket, "not_in_room", "not in a room");
    let run = null; // {key, reliable, receivers, start, end}: consecutive records of the input for the same receivers
    const flush = () => {
      if (!run) return;
      const out = Buffer.from(batch.subarray(run.start, run.end));
      for (let at = 0; at < out.length; at += RECORD_HEADER_BYTES + out.readUInt32LE(at + 9)) out.writeInt32LE(mp.id, at);
      const [to, except] = run.receivers;
      if (run.reliable) nsp.to(to).except(except).emit("mp:packets", out);
      else {
        deliverUnreliable(nsp, to, except, "mp:packets", [out], opts.unreliableBacklogBytes);
        if (isClustered(nsp)) nsp.serverSideEmit(UNRELIABLE_BATCH, to, except, out);
      }
      run = null;
    };
    for (const r of records) {
      const receivers = admit(r.length) ? receiversOf(mp, r.target) : null;
      if (!receivers) {
        flush(); // a record left out ends the run: what follows may not overtake what came before it
        continue;
      }
      const reliable = r.mode === RELIABLE;
      const key = `${receivers[0]} ${receivers[1].join(" ")}`;
      if (run && run.key === key && run.reliable === reliable) {
        run.end = r.end;
      } else {
        flush();
        run = { key, reliable, receivers, start: r.start, end: r.end };
      }
    }
    flush();
  }));

  /// Whether a packet of `bytes` may go: within the size cap (else packet_too_large) and the rate cap (else
  /// dropped, rate_limited reported at most once a second).
  function admit(bytes) {
    if (bytes > opts.maxPacketBytes) {
      report(socket, "packet_too_large", `packet of ${bytes} bytes, over ${opts.maxPacketBytes}`, opts.maxPacketBytes);
      return false;
    }
    if (!take(bucket, opts.rate)) {
      const now = Date.now();
      if (now - bucket.reported >= 1000) {
        bucket.reported = now;
        report(socket, "rate_limited", `more than ${opts.rate.packetsPerSecond} packets per second: dropped`, opts.rate.packetsPerSecond);
      }
      return false;
    }
    return true;
  }

  /// The receivers of a packet to `target` from member `mp`: [room `to`, rooms `except`], the members of `to` but
  /// those of the rooms in `except`; null (bad_target reported) when `target` is no one `mp` may send to.
  function receiversOf(mp, target) {
    if (mp.id === 1) {
      if (target === 0) return [roomAll(mp.room), [roomPeer(mp.room, 1)]];
      if (target > 1) return [roomPeer(mp.room, target), []];
      if (target < 0 && -target > 1) return [roomAll(mp.room), [roomPeer(mp.room, 1), roomPeer(mp.room, -target)]];
      report(socket, "bad_target", `the host cannot send to ${target}`);
      return null;
    }
    if (target === 1 || target === 0) return [roomPeer(mp.room, 1), []];
    report(socket, "bad_target", `a client sends to the host (1) only, not to ${target}`);
    return null;
  }

  // "disconnecting": the socket is still in its rooms, so leave() can tell whether it was still in its room.
  socket.on("disconnecting", guard(() => leave(nsp, socket)));
}

/// Emits `packet` to this node's sockets in room `to` and in none of `except`, but not to those whose connection
/// is backed up: unreliable packets are dropped when the link is congested, never queued behind it. (socket.io's
/// own `volatile` flag drops a packet whenever a write is in flight, so all but the first of what a game sends in
/// one frame.)
function deliverUnreliable(nsp, to, except, event, args, backlogBytes) {
  const local = nsp.adapter.rooms;
  for (const id of local.get(to) || []) {
    if (except.some((room) => local.get(room)?.has(id))) continue;
    const socket = nsp.sockets.get(id);
    if (socket && socket.connected && !backedUp(socket.conn, backlogBytes)) socket.emit(event, ...args);
  }
}

/// The records of a batch, [{target, mode, length, start, end}] (start and end: the record's bytes, header
/// included), or null when it is not whole records with an integer channel and a known mode.
function parseBatch(batch) {
  const records = [];
  for (let at = 0; at < batch.length; ) {
    if (at + RECORD_HEADER_BYTES > batch.length) return null;
    const target = batch.readInt32LE(at);
    const mode = batch[at + 8];
    const length = batch.readUInt32LE(at + 9);
    const end = at + RECORD_HEADER_BYTES + length;
    if (!MODES.has(mode) || batch.readUInt32LE(at + 4) > 0x7fffffff || end > batch.length) return null;
    records.push({ target, mode, length, start: at, end });
    at = end;
  }
  return records.length > 0 ? records : null;
}

/// A Buffer from what an adapter's encoding between nodes made of one (a Uint8Array, or Node's JSON form of a
/// Buffer), or null.
function asBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data && data.type === "Buffer" && Array.isArray(data.data)) return Buffer.from(data.data);
  return null;
}

/// More than `backlogBytes` queued for the connection's WebSocket (bytes it has not written yet, and those still in
/// engine.io's write buffer: a burst read in one go is all there before the first of it reaches the socket), or,
/// over long-polling, more than BACKLOG_PACKETS engine.io packets waiting for the client's next GET.
function backedUp(conn, backlogBytes) {
  if (!conn) return false;
  const ws = conn.transport && conn.transport.socket;
  if (!ws || typeof ws.bufferedAmount !== "number") {
    return Array.isArray(conn.writeBuffer) && conn.writeBuffer.length > BACKLOG_PACKETS;
  }
  return ws.bufferedAmount + writeBufferBytes(conn) > backlogBytes;
}

/// The bytes of the packets in `conn.writeBuffer`, counted once each: engine.io appends to that array and replaces
/// it with a new one when it flushes.
const counted = new WeakMap();
function writeBufferBytes(conn) {
  const buffer = conn.writeBuffer;
  if (!Array.isArray(buffer) || buffer.length === 0) return 0;
  let c = counted.get(conn);
  if (!c || c.buffer !== buffer || c.n > buffer.length) {
    c = { buffer, n: 0, bytes: 0 };
    counted.set(conn, c);
  }
  for (; c.n < buffer.length; c.n++) {
    const data = buffer[c.n] && buffer[c.n].data;
    if (data) c.bytes += typeof data === "string" ? data.length : data.byteLength || 0;
  }
  return c.bytes;
}

/// Whether `nsp`'s adapter spans several server processes: it has a `serverSideEmit` of its own, the in-memory
/// adapter (socket.io-adapter's `Adapter`, also under its session-aware subclass) only warns that it has none.
/// Asked per packet, since `io.adapter()` may replace the adapter after `attach()`; known adapters are cached.
const clusteredAdapters = new WeakMap();
function isClustered(nsp) {
  const adapter = nsp.adapter;
  if (!adapter) return false;
  let known = clusteredAdapters.get(adapter);
  if (known === undefined) {
    let proto = Object.getPrototypeOf(adapter);
    while (proto && !Object.prototype.hasOwnProperty.call(proto, "serverSideEmit")) proto = Object.getPrototypeOf(proto);
    known = Boolean(proto) && proto.constructor.name !== "Adapter";
    clusteredAdapters.set(adapter, known);
  }
  return known;
}

/// The socket's membership when it is still in its room (a room closed by its host, or a kick, took it out of
/// the room's socket.io rooms on every node; its `data` may lag behind on another node).
function member(socket) {
  const mp = socket.data && socket.data.mp;
  if (!mp) return null;
  if (!socket.rooms.has(roomAll(mp.room)) && socket.connected) {
    socket.leave(roomPeer(mp.room, mp.id));
    socket.data.mp = null;
    return null;
  }
  return mp;
}

function inRoom(socket) {
  return member(socket) ? refusal("already_in_room", "already in a room: mp:leave first") : null;
}

/// The socket leaves its room: a client's host hears of it; a host's room closes for every client, on every node.
function leave(nsp, socket) {
  const mp = socket.data && socket.data.mp;
  if (!mp) return;
  socket.data.mp = null;
  const { room, id } = mp;
  const wasIn = socket.rooms.has(roomAll(room));
  for (const r of [roomAll(room), roomHost(room), roomPeer(room, id)]) socket.leave(r);
  if (!wasIn) return; // already out: its room was closed, or it was kicked
  if (id === 1) {
    nsp.to(roomAll(room)).emit("mp:closed", { reason: "host_left" });
    // Out of the room on every node, so that nobody sends into it any more; each client also leaves its own
    // `mp:<room>:<id>` when it next acts (member()), its ids being random 31-bit numbers a new room will not meet.
    nsp.in(roomAll(room)).socketsLeave(roomAll(room));
  } else {
    nsp.to(roomHost(room)).emit("mp:peer_disconnected", id);
  }
}

function checkRoom(room) {
  if (typeof room !== "string" || room.length === 0 || Buffer.byteLength(room) > MAX_ROOM_BYTES) {
    return refusal("bad_room", `a room name is a string of 1 to ${MAX_ROOM_BYTES} bytes`);
  }
  return null;
}

function refusal(error, message) {
  return { ok: false, error, message };
}

function report(socket, code, message, limit) {
  const info = { code, message };
  if (limit !== undefined) info.limit = limit;
  socket.emit("mp:error", info);
}

/// A token bucket: `rate.packetsPerSecond` refilled, up to `rate.burst`.
function take(bucket, rate) {
  const now = Date.now();
  bucket.tokens = Math.min(rate.burst, bucket.tokens + ((now - bucket.at) / 1000) * rate.packetsPerSecond);
  bucket.at = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

module.exports = { attach, DEFAULTS, MAX_ROOM_BYTES, RECORD_HEADER_BYTES };
