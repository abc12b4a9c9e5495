//! Godot's high-level multiplayer over a Socket.IO namespace: the game's side of the relay protocol
//! (`relay/PROTOCOL.md`), sans-I/O. [`RelayPeer`] is what a `MultiplayerPeer` needs: a connection status, a unique
//! id, the peers it sees, a queue of received packets; it turns the game's calls into [`Emit`]s to send on the
//! namespace and the relay's events (already decoded into [`Value`]s) into [`PeerEvent`]s.
//!
//! The topology is Godot's server/client one: the host is peer 1; a client sees only the host, and Godot's own
//! server relay (`SceneMultiplayer.server_relay`) carries what clients say to each other.

use std::collections::{BTreeSet, VecDeque};

use bytes::Bytes;

use crate::codec::value::Value;

/// Event names of the protocol.
pub mod event {
    /// Client to relay: host a room. Acked.
    pub const HOST: &str = "mp:host";
    /// Client to relay: join a room. Acked.
    pub const JOIN: &str = "mp:join";
    /// Client to relay: leave the room.
    pub const LEAVE: &str = "mp:leave";
    /// Both ways: a packet.
    pub const PACKET: &str = "mp:packet";
    /// Both ways: several packets in one binary attachment, records of [`super::RECORD_HEADER_BYTES`] bytes of
    /// header and the packet (PROTOCOL.md, "Batches").
    pub const PACKETS: &str = "mp:packets";
    /// Host to relay: remove a client.
    pub const KICK: &str = "mp:kick";
    /// Host to relay: refuse (or admit again) new clients.
    pub const REFUSE: &str = "mp:refuse";
    /// Relay to host: a client joined.
    pub const PEER_CONNECTED: &str = "mp:peer_connected";
    /// Relay to host: a client left.
    pub const PEER_DISCONNECTED: &str = "mp:peer_disconnected";
    /// Relay to client: the room is gone for it (host left, kicked).
    pub const CLOSED: &str = "mp:closed";
    /// Relay to sender: a packet was refused.
    pub const ERROR: &str = "mp:error";
}

/// Longest room name, in bytes (the relay's limit too).
pub const MAX_ROOM_BYTES: usize = 64;
/// The packet size the relay enforces by default, until its answer says otherwise.
pub const DEFAULT_MAX_PACKET_BYTES: usize = 65536;
/// The host's peer id.
pub const HOST_ID: i32 = 1;
/// A batch record's header: the peer (target or sender, i32), channel (u32), mode (u8), the packet's length (u32),
/// all little-endian.
pub const RECORD_HEADER_BYTES: usize = 13;
/// A batch is closed before it would grow past this many bytes (a larger packet goes alone), so that it stays far
/// below socket.io's default message limit (1 MB).
pub const BATCH_BYTES: usize = 65536;

/// Godot's `MultiplayerPeer.TransferMode`, with its numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferMode {
    /// May be lost, may come out of order.
    Unreliable = 0,
    /// May be lost; never out of order.
    UnreliableOrdered = 1,
    /// Never lost, in order.
    Reliable = 2,
}

impl TransferMode {
    /// The mode numbered `n`.
    pub fn from_i64(n: i64) -> Option<TransferMode> {
        match n {
            0 => Some(TransferMode::Unreliable),
            1 => Some(TransferMode::UnreliableOrdered),
            2 => Some(TransferMode::Reliable),
            _ => None,
        }
    }

    /// Unreliable modes are volatile emits: dropped rather than queued when they cannot be sent now.
    pub fn is_volatile(self) -> bool {
        self != TransferMode::Reliable
    }
}

/// Godot's `MultiplayerPeer.ConnectionStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not in a room.
    Disconnected = 0,
    /// `host()` or `join()` asked; the relay has not answered.
    Connecting = 1,
    /// In a room.
    Connected = 2,
}

/// Host or client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Peer 1, the authority.
    Host,
    /// Any other peer.
    Client,
}

/// Something to emit on the namespace.
#[derive(Clone, Debug, PartialEq)]
pub struct Emit {
    /// Event name.
    pub event: &'static str,
    /// Its arguments.
    pub args: Vec<Value>,
    /// Whether the relay's answer (an ack) is wanted: feed it to [`RelayPeer::on_answer`].
    pub ack: bool,
    /// Send volatile.
    pub volatile: bool,
}

impl Emit {
    fn plain(event: &'static str, args: Vec<Value>) -> Emit {
        Emit {
            event,
            args,
            ack: false,
            volatile: false,
        }
    }
}

/// A received packet.
#[derive(Clone, Debug, PartialEq)]
pub struct Packet {
    /// The sender's id, as the relay stamped it.
    pub from: i32,
    /// Channel.
    pub channel: i32,
    /// How it was sent.
    pub mode: TransferMode,
    /// The bytes.
    pub data: Bytes,
}

/// What the game hears of, besides packets.
#[derive(Clone, Debug, PartialEq)]
pub enum PeerEvent {
    /// A peer is there (for a client: the host, once joined).
    PeerConnected(i32),
    /// A peer left.
    PeerDisconnected(i32),
    /// The relay refused something, or the room ended: `code` is the protocol's (`room_taken`, `room_full`,
    /// `packet_too_large`, `host_left`, …), `message` says it in words.
    Error {
        /// The protocol's code.
        code: String,
        /// In words.
        message: String,
    },
}

/// Why a call of the game is refused at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerError {
    /// `host()`/`join()` while already in a room or asking for one.
    Busy,
    /// An empty or too long room name.
    BadRoom(String),
    /// Sending while not connected.
    NotConnected,
    /// A packet larger than the relay accepts.
    TooLarge {
        /// Its size.
        size: usize,
        /// The relay's limit.
        limit: usize,
    },
    /// A target a client cannot reach, or a host's target that is no peer.
    BadTarget(i32),
    /// Only the host may do that.
    NotHost,
}

impl std::fmt::Display for PeerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerError::Busy => write!(f, "already in a room or joining one: close() first"),
            PeerError::BadRoom(why) => write!(f, "bad room name: {why}"),
            PeerError::NotConnected => write!(f, "not connected to a room"),
            PeerError::TooLarge { size, limit } => {
                write!(
                    f,
                    "packet of {size} bytes, larger than the relay's limit of {limit} bytes"
                )
            }
            PeerError::BadTarget(t) => write!(f, "no peer {t} to send to"),
            PeerError::NotHost => write!(f, "only the host can do that"),
        }
    }
}

/// The game's side of a room.
#[derive(Debug)]
pub struct RelayPeer {
    status: Status,
    role: Role,
    id: i32,
    room: String,
    peers: BTreeSet<i32>,
    /// The clients that left this room: what the multiplayer API still sends them (it hears of a departure at the
    /// next poll, and relays what it read before) is dropped without an error, as it would be on the way.
    departed: BTreeSet<i32>,
    packets: VecDeque<Packet>,
    events: VecDeque<PeerEvent>,
    max_packet_bytes: usize,
    refusing: bool,
    /// The packets put since the last [`RelayPeer::take_batch`], as batch records: reliable ones, unreliable ones.
    reliable: Vec<u8>,
    unreliable: Vec<u8>,
    /// Batches closed because they were full, in order.
    full: VecDeque<Emit>,
}

impl Default for RelayPeer {
    fn default() -> Self {
        RelayPeer::new()
    }
}

impl RelayPeer {
    /// Not in a room.
    pub fn new() -> RelayPeer {
        RelayPeer {
            status: Status::Disconnected,
            role: Role::Client,
            id: 0,
            room: String::new(),
            peers: BTreeSet::new(),
            departed: BTreeSet::new(),
            packets: VecDeque::new(),
            events: VecDeque::new(),
            max_packet_bytes: DEFAULT_MAX_PACKET_BYTES,
            refusing: false,
            reliable: Vec::new(),
            unreliable: Vec::new(),
            full: VecDeque::new(),
        }
    }

    /// Connection status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Host or client (a client until `host()`).
    pub fn role(&self) -> Role {
        self.role
    }

    /// This peer's id: 1 for a host, the relay's for a client once joined, 0 before.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// The room asked for or in.
    pub fn room(&self) -> &str {
        &self.room
    }

    /// The peers this one sees.
    pub fn peers(&self) -> impl Iterator<Item = i32> + '_ {
        self.peers.iter().copied()
    }

    /// The largest packet the relay accepts.
    pub fn max_packet_bytes(&self) -> usize {
        self.max_packet_bytes
    }

    /// Whether the host refuses new clients.
    pub fn is_refusing(&self) -> bool {
        self.refusing
    }

    /// Asks to host `room`: the emit to send, with an ack whose answer goes to [`Self::on_answer`].
    pub fn host(&mut self, room: &str) -> Result<Emit, PeerError> {
        self.ask(room, Role::Host, event::HOST)
    }

    /// Asks to join `room`, likewise.
    pub fn join(&mut self, room: &str) -> Result<Emit, PeerError> {
        self.ask(room, Role::Client, event::JOIN)
    }

    fn ask(&mut self, room: &str, role: Role, name: &'static str) -> Result<Emit, PeerError> {
        if self.status != Status::Disconnected {
            return Err(PeerError::Busy);
        }
        check_room(room)?;
        self.reset();
        self.status = Status::Connecting;
        self.role = role;
        self.id = if role == Role::Host { HOST_ID } else { 0 };
        self.room = room.to_owned();
        Ok(Emit {
            event: name,
            args: vec![Value::String(room.to_owned())],
            ack: true,
            volatile: false,
        })
    }

    /// The relay's answer to `host()`/`join()` (the ack's arguments), or `None` when it did not come in time.
    pub fn on_answer(&mut self, answer: Option<&[Value]>) {
        if self.status != Status::Connecting {
            return; // closed meanwhile: the answer is stale
        }
        let Some(answer) = answer else {
            self.fail(
                "timeout",
                "the relay did not answer in time (is it attached to this namespace?)",
            );
            return;
        };
        let Some(reply) = answer.first().filter(|v| matches!(v, Value::Object(_))) else {
            self.fail("bad_answer", "the relay's answer is not an object");
            return;
        };
        if reply.get("ok") != Some(&Value::Bool(true)) {
            let code = reply
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("refused")
                .to_owned();
            let message = reply
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| code.replace('_', " "), str::to_owned);
            self.fail(&code, &message);
            return;
        }
        if let Some(Value::Int(n)) = reply.get("max_packet_bytes") {
            if *n > 0 {
                self.max_packet_bytes = usize::try_from(*n).unwrap_or(usize::MAX);
            }
        }
        match self.role {
            Role::Host => {
                self.id = HOST_ID;
                self.status = Status::Connected;
            }
            Role::Client => match reply.get("id") {
                Some(Value::Int(id)) if (2..=i64::from(i32::MAX)).contains(id) => {
                    self.id = *id as i32;
                    self.status = Status::Connected;
                    self.peers.insert(HOST_ID);
                    self.events.push_back(PeerEvent::PeerConnected(HOST_ID));
                }
                _ => self.fail("bad_answer", "the relay's answer has no valid peer id"),
            },
        }
    }

    /// A namespace event: the relay's, when `name` is one of the protocol's (others are ignored). Malformed ones are
    /// reported as [`PeerEvent::Error`] with code `bad_event`, never trusted.
    pub fn on_event(&mut self, name: &str, args: &[Value]) {
        if self.status != Status::Connected {
            return;
        }
        match name {
            event::PACKET => match parse_packet(args) {
                Some(packet) if self.peers.contains(&packet.from) => self.packets.push_back(packet),
                Some(_) => {} // from a peer that already left: dropped, as Godot's own peers do
                None => self.error("bad_event", "a packet from the relay is malformed"),
            },
            event::PACKETS => match args {
                [Value::Binary(batch)] => {
                    let mut at = 0;
                    while at < batch.len() {
                        let Some((packet, next)) = parse_record(batch, at) else {
                            self.error("bad_event", "a batch of packets from the relay is malformed");
                            break;
                        };
                        at = next;
                        if self.peers.contains(&packet.from) {
                            self.packets.push_back(packet);
                        }
                    }
                }
                _ => self.error("bad_event", "a batch of packets from the relay is malformed"),
            },
            event::PEER_CONNECTED if self.role == Role::Host => match peer_id(args) {
                Some(id) if self.peers.insert(id) => self.events.push_back(PeerEvent::PeerConnected(id)),
                Some(_) => {}
                None => self.error("bad_event", "mp:peer_connected without a valid id"),
            },
            event::PEER_DISCONNECTED if self.role == Role::Host => {
                if let Some(id) = peer_id(args) {
                    if self.peers.remove(&id) {
                        self.departed.insert(id);
                        self.forget_packets_of(id);
                        self.events.push_back(PeerEvent::PeerDisconnected(id));
                    }
                }
            }
            event::CLOSED => {
                let reason = args
                    .first()
                    .and_then(|v| v.get("reason"))
                    .and_then(Value::as_str)
                    .unwrap_or("closed")
                    .to_owned();
                let message = match reason.as_str() {
                    "host_left" => "the host left the room".to_owned(),
                    "kicked" => "the host removed this peer from the room".to_owned(),
                    other => format!("the room closed ({other})"),
                };
                self.drop_room();
                self.error(&reason, &message);
            }
            event::ERROR => {
                let info = args.first();
                let code = info
                    .and_then(|v| v.get("code"))
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .to_owned();
                let message = info
                    .and_then(|v| v.get("message"))
                    .and_then(Value::as_str)
                    .map_or_else(|| code.replace('_', " "), str::to_owned);
                self.error(&code, &message);
            }
            _ => {}
        }
    }

    /// The namespace disconnected (or the client closed): the room is gone, as the relay treats it.
    pub fn on_namespace_lost(&mut self) {
        match self.status {
            Status::Disconnected => {}
            Status::Connecting => self.fail("disconnected", "the namespace disconnected before the relay answered"),
            Status::Connected => {
                self.drop_room();
                self.error("disconnected", "the namespace disconnected: the room is left");
            }
        }
    }

    /// A packet to `target` (Godot's: 0 all, `n` one peer, `-n` all but one), added to this frame's batch: the
    /// caller sends what [`RelayPeer::take_batch`] gives, at the end of the frame.
    pub fn put_packet(&mut self, data: &[u8], target: i32, channel: i32, mode: TransferMode) -> Result<(), PeerError> {
        if self.status != Status::Connected {
            return Err(PeerError::NotConnected);
        }
        if data.len() > self.max_packet_bytes {
            let error = PeerError::TooLarge {
                size: data.len(),
                limit: self.max_packet_bytes,
            };
            // Also an event: Godot's multiplayer API does not hand put_packet's error back to the game's rpc().
            self.error("packet_too_large", &error.to_string());
            return Err(error);
        }
        let target = match self.role {
            // A client reaches the host only; 0 (everyone it sees) is the host too.
            Role::Client if target == 0 || target == HOST_ID => HOST_ID,
            Role::Client => return Err(PeerError::BadTarget(target)),
            Role::Host if target > 0 && self.departed.contains(&target) => return Ok(()),
            Role::Host if target > 0 && !self.peers.contains(&target) => return Err(PeerError::BadTarget(target)),
            Role::Host => target,
        };
        let volatile = mode.is_volatile();
        let batch = if volatile {
            &mut self.unreliable
        } else {
            &mut self.reliable
        };
        if !batch.is_empty() && batch.len() + RECORD_HEADER_BYTES + data.len() > BATCH_BYTES {
            self.full.push_back(batch_emit(std::mem::take(batch), volatile));
        }
        push_record(batch, target, channel.max(0) as u32, mode, data);
        Ok(())
    }

    /// The next batch to emit: those that filled up first, then the reliable packets, then the unreliable ones
    /// (emitted volatile). `None` when nothing is waiting.
    pub fn take_batch(&mut self) -> Option<Emit> {
        if let Some(full) = self.full.pop_front() {
            return Some(full);
        }
        if !self.reliable.is_empty() {
            return Some(batch_emit(std::mem::take(&mut self.reliable), false));
        }
        if !self.unreliable.is_empty() {
            return Some(batch_emit(std::mem::take(&mut self.unreliable), true));
        }
        None
    }

    /// The next received packet, without taking it.
    pub fn peek_packet(&self) -> Option<&Packet> {
        self.packets.front()
    }

    /// Takes the next received packet.
    pub fn take_packet(&mut self) -> Option<Packet> {
        self.packets.pop_front()
    }

    /// Packets waiting.
    pub fn packet_count(&self) -> usize {
        self.packets.len()
    }

    /// Takes the next event.
    pub fn take_event(&mut self) -> Option<PeerEvent> {
        self.events.pop_front()
    }

    /// The host removes client `id`.
    pub fn kick(&mut self, id: i32) -> Result<Emit, PeerError> {
        if self.role != Role::Host || self.status != Status::Connected {
            return Err(PeerError::NotHost);
        }
        if !self.peers.remove(&id) {
            return Err(PeerError::BadTarget(id));
        }
        self.departed.insert(id);
        self.forget_packets_of(id);
        self.events.push_back(PeerEvent::PeerDisconnected(id));
        Ok(Emit::plain(event::KICK, vec![Value::Int(i64::from(id))]))
    }

    /// The host refuses new clients (or admits them again). Remembered before hosting, sent once connected.
    pub fn set_refusing(&mut self, refuse: bool) -> Option<Emit> {
        let changed = self.refusing != refuse;
        self.refusing = refuse;
        (changed && self.role == Role::Host && self.status != Status::Disconnected)
            .then(|| Emit::plain(event::REFUSE, vec![Value::Bool(refuse)]))
    }

    /// The emit that tells a relay a newly hosted room refuses clients, if it should (after the host answer).
    pub fn refuse_after_hosting(&self) -> Option<Emit> {
        (self.refusing && self.role == Role::Host && self.status == Status::Connected)
            .then(|| Emit::plain(event::REFUSE, vec![Value::Bool(true)]))
    }

    /// Leaves the room: the emit telling the relay, if there was a room. Peers are forgotten without events, as
    /// `MultiplayerPeer.close()` does.
    pub fn close(&mut self) -> Option<Emit> {
        let was = self.status;
        self.reset();
        (was != Status::Disconnected).then(|| Emit::plain(event::LEAVE, Vec::new()))
    }

    fn reset(&mut self) {
        self.status = Status::Disconnected;
        self.id = 0;
        self.peers.clear();
        self.departed.clear();
        self.packets.clear();
        self.max_packet_bytes = DEFAULT_MAX_PACKET_BYTES;
        self.clear_batches();
    }

    fn clear_batches(&mut self) {
        self.reliable.clear();
        self.unreliable.clear();
        self.full.clear();
    }

    /// The room ended: every peer seen leaves (events), status disconnected.
    fn drop_room(&mut self) {
        let peers: Vec<i32> = std::mem::take(&mut self.peers).into_iter().collect();
        self.events.extend(peers.into_iter().map(PeerEvent::PeerDisconnected));
        self.status = Status::Disconnected;
        self.packets.clear();
        self.clear_batches();
    }

    fn fail(&mut self, code: &str, message: &str) {
        self.reset();
        self.error(code, message);
    }

    /// Packets of a peer that left and are not read yet: Godot's multiplayer API no longer knows their sender.
    fn forget_packets_of(&mut self, id: i32) {
        self.packets.retain(|packet| packet.from != id);
    }

    fn error(&mut self, code: &str, message: &str) {
        self.events.push_back(PeerEvent::Error {
            code: code.to_owned(),
            message: message.to_owned(),
        });
    }
}

fn check_room(room: &str) -> Result<(), PeerError> {
    if room.is_empty() {
        Err(PeerError::BadRoom("it is empty".into()))
    } else if room.len() > MAX_ROOM_BYTES {
        Err(PeerError::BadRoom(format!(
            "{} bytes, more than {MAX_ROOM_BYTES}",
            room.len()
        )))
    } else {
        Ok(())
    }
}

fn peer_id(args: &[Value]) -> Option<i32> {
    match args {
        [Value::Int(id)] if (1..=i64::from(i32::MAX)).contains(id) => Some(*id as i32),
        _ => None,
    }
}

fn push_record(batch: &mut Vec<u8>, peer: i32, channel: u32, mode: TransferMode, data: &[u8]) {
    batch.reserve(RECORD_HEADER_BYTES + data.len());
    batch.extend_from_slice(&peer.to_le_bytes());
    batch.extend_from_slice(&channel.to_le_bytes());
    batch.push(mode as u8);
    // At most max_packet_bytes, which the relay gives as an i32-sized number.
    batch.extend_from_slice(&(data.len() as u32).to_le_bytes());
    batch.extend_from_slice(data);
}

fn batch_emit(batch: Vec<u8>, volatile: bool) -> Emit {
    Emit {
        event: event::PACKETS,
        args: vec![Value::Binary(Bytes::from(batch))],
        ack: false,
        volatile,
    }
}

/// The record at `at` of a batch from the relay, and where the next begins; `None` when malformed (cut short, a
/// sender that is no peer id, a channel over i32, an unknown mode).
fn parse_record(batch: &Bytes, at: usize) -> Option<(Packet, usize)> {
    let header = batch.get(at..at.checked_add(RECORD_HEADER_BYTES)?)?;
    let from = i32::from_le_bytes(header[0..4].try_into().ok()?);
    let channel = i32::try_from(u32::from_le_bytes(header[4..8].try_into().ok()?)).ok()?;
    let mode = TransferMode::from_i64(i64::from(header[8]))?;
    let len = usize::try_from(u32::from_le_bytes(header[9..13].try_into().ok()?)).ok()?;
    let start = at + RECORD_HEADER_BYTES;
    let end = start.checked_add(len)?;
    if from < 1 || end > batch.len() {
        return None;
    }
    let packet = Packet {
        from,
        channel,
        mode,
        data: batch.slice(start..end),
    };
    Some((packet, end))
}

fn parse_packet(args: &[Value]) -> Option<Packet> {
    match args {
        [Value::Int(from), Value::Int(channel), Value::Int(mode), Value::Binary(data)]
            if (1..=i64::from(i32::MAX)).contains(from) && (0..=i64::from(i32::MAX)).contains(channel) =>
        {
            Some(Packet {
                from: *from as i32,
                channel: *channel as i32,
                mode: TransferMode::from_i64(*mode)?,
                data: data.clone(),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(fields: &[(&str, Value)]) -> Vec<Value> {
        let mut entries = vec![("ok".to_owned(), Value::Bool(true))];
        entries.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        vec![Value::Object(entries)]
    }

    fn joined(id: i64) -> RelayPeer {
        let mut peer = RelayPeer::new();
        peer.join("r").unwrap();
        peer.on_answer(Some(&ok(&[
            ("id", Value::Int(id)),
            ("max_packet_bytes", Value::Int(100)),
        ])));
        peer
    }

    fn hosting() -> RelayPeer {
        let mut peer = RelayPeer::new();
        peer.host("r").unwrap();
        peer.on_answer(Some(&ok(&[("id", Value::Int(1))])));
        peer
    }

    fn packet(from: i64, data: &'static [u8]) -> Vec<Value> {
        vec![
            Value::Int(from),
            Value::Int(3),
            Value::Int(2),
            Value::Binary(Bytes::from_static(data)),
        ]
    }

    #[test]
    fn a_client_joins_sees_the_host_and_sends_to_it_only() {
        let mut peer = joined(7);
        assert_eq!(peer.status(), Status::Connected);
        assert_eq!(peer.id(), 7);
        assert_eq!(peer.max_packet_bytes(), 100);
        assert_eq!(peer.take_event(), Some(PeerEvent::PeerConnected(1)));
        peer.put_packet(b"hi", 0, 2, TransferMode::Unreliable).unwrap();
        let emit = peer.take_batch().unwrap();
        assert_eq!(emit.event, event::PACKETS);
        assert!(emit.volatile);
        assert_eq!(
            emit.args,
            vec![Value::Binary(Bytes::from_static(&[
                1, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, b'h', b'i'
            ]))],
            "0 from a client is the host"
        );
        assert_eq!(peer.take_batch(), None);
        assert_eq!(
            peer.put_packet(b"hi", 5, 0, TransferMode::Reliable),
            Err(PeerError::BadTarget(5))
        );
        assert_eq!(
            peer.put_packet(&[0; 101], 1, 0, TransferMode::Reliable),
            Err(PeerError::TooLarge { size: 101, limit: 100 })
        );
        match peer.take_event() {
            Some(PeerEvent::Error { code, message }) => {
                assert_eq!(code, "packet_too_large");
                assert!(message.contains("101") && message.contains("100"), "{message}");
            }
            other => panic!("expected packet_too_large, got {other:?}"),
        }
    }

    #[test]
    fn packets_from_known_peers_are_queued_malformed_ones_reported() {
        let mut peer = joined(7);
        peer.take_event();
        peer.on_event(event::PACKET, &packet(1, b"abc"));
        peer.on_event(event::PACKET, &packet(9, b"stranger"));
        peer.on_event(event::PACKET, &[Value::Int(1), Value::String("x".into())]);
        assert_eq!(peer.packet_count(), 1);
        let p = peer.take_packet().unwrap();
        assert_eq!(
            (p.from, p.channel, p.mode, &p.data[..]),
            (1, 3, TransferMode::Reliable, &b"abc"[..])
        );
        assert!(matches!(peer.take_event(), Some(PeerEvent::Error { code, .. }) if code == "bad_event"));
    }

    fn record(peer: i32, channel: u32, mode: u8, data: &[u8]) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&peer.to_le_bytes());
        r.extend_from_slice(&channel.to_le_bytes());
        r.push(mode);
        r.extend_from_slice(&(data.len() as u32).to_le_bytes());
        r.extend_from_slice(data);
        r
    }

    fn records(emit: &Emit) -> Vec<(i32, u32, u8, Vec<u8>)> {
        let [Value::Binary(batch)] = &emit.args[..] else {
            panic!("not a batch: {emit:?}")
        };
        let mut out = Vec::new();
        let mut at = 0;
        while at < batch.len() {
            let h = &batch[at..at + RECORD_HEADER_BYTES];
            let len = u32::from_le_bytes(h[9..13].try_into().unwrap()) as usize;
            out.push((
                i32::from_le_bytes(h[0..4].try_into().unwrap()),
                u32::from_le_bytes(h[4..8].try_into().unwrap()),
                h[8],
                batch[at + RECORD_HEADER_BYTES..at + RECORD_HEADER_BYTES + len].to_vec(),
            ));
            at += RECORD_HEADER_BYTES + len;
        }
        out
    }

    #[test]
    fn a_frames_packets_go_as_one_reliable_and_one_unreliable_batch_in_order() {
        let mut peer = hosting();
        peer.on_event(event::PEER_CONNECTED, &[Value::Int(5)]);
        peer.put_packet(b"a", 0, 0, TransferMode::Reliable).unwrap();
        peer.put_packet(b"b", 5, 1, TransferMode::Unreliable).unwrap();
        peer.put_packet(b"c", -5, 2, TransferMode::Reliable).unwrap();
        peer.put_packet(b"d", 0, 3, TransferMode::UnreliableOrdered).unwrap();
        let reliable = peer.take_batch().unwrap();
        assert!(!reliable.volatile);
        assert_eq!(
            records(&reliable),
            vec![(0, 0, 2, b"a".to_vec()), (-5, 2, 2, b"c".to_vec())]
        );
        let unreliable = peer.take_batch().unwrap();
        assert!(unreliable.volatile);
        assert_eq!(
            records(&unreliable),
            vec![(5, 1, 0, b"b".to_vec()), (0, 3, 1, b"d".to_vec())]
        );
        assert_eq!(peer.take_batch(), None);
    }

    #[test]
    fn a_batch_is_closed_before_it_outgrows_batch_bytes() {
        let mut peer = hosting();
        let big = vec![7u8; 30000];
        for _ in 0..3 {
            peer.put_packet(&big, 0, 0, TransferMode::Reliable).unwrap();
        }
        peer.put_packet(b"x", 0, 0, TransferMode::Reliable).unwrap();
        let first = peer.take_batch().unwrap();
        assert_eq!(records(&first).len(), 2, "two of 30000 fit in {BATCH_BYTES}, not three");
        let second = peer.take_batch().unwrap();
        assert_eq!(records(&second).len(), 2);
        assert_eq!(records(&second)[1].3, b"x".to_vec());
        assert_eq!(peer.take_batch(), None);
        // Leaving drops what was not sent.
        peer.put_packet(b"y", 0, 0, TransferMode::Reliable).unwrap();
        peer.close();
        assert_eq!(peer.take_batch(), None);
    }

    #[test]
    fn a_batch_from_the_relay_is_queued_packet_by_packet_and_a_malformed_one_reported() {
        let mut peer = hosting();
        peer.on_event(event::PEER_CONNECTED, &[Value::Int(5)]);
        peer.take_event();
        let mut batch = record(5, 3, 2, b"one");
        batch.extend(record(9, 0, 2, b"stranger"));
        batch.extend(record(5, 0, 0, b""));
        peer.on_event(event::PACKETS, &[Value::Binary(Bytes::from(batch))]);
        let got: Vec<_> = std::iter::from_fn(|| peer.take_packet())
            .map(|p| (p.from, p.channel, p.mode, p.data.to_vec()))
            .collect();
        assert_eq!(
            got,
            vec![
                (5, 3, TransferMode::Reliable, b"one".to_vec()),
                (5, 0, TransferMode::Unreliable, Vec::new())
            ]
        );
        assert_eq!(peer.take_event(), None);
        // Cut short, a bad mode, a sender 0: what came before is kept, the rest reported.
        for bad in [
            {
                let mut b = record(5, 0, 2, b"kept");
                b.extend(&record(5, 0, 2, b"cut")[..15]);
                b
            },
            record(5, 0, 7, b"mode"),
            record(0, 0, 2, b"nobody"),
        ] {
            peer.on_event(event::PACKETS, &[Value::Binary(Bytes::from(bad))]);
            assert!(matches!(peer.take_event(), Some(PeerEvent::Error { code, .. }) if code == "bad_event"));
        }
        assert_eq!(peer.packet_count(), 1, "only 'kept'");
        peer.on_event(event::PACKETS, &[Value::Int(1)]);
        assert!(matches!(peer.take_event(), Some(PeerEvent::Error { code, .. }) if code == "bad_event"));
    }

    #[test]
    fn a_departed_peers_unread_packets_are_dropped() {
        let mut peer = hosting();
        peer.on_event(event::PEER_CONNECTED, &[Value::Int(5)]);
        peer.on_event(event::PEER_CONNECTED, &[Value::Int(6)]);
        peer.on_event(event::PACKET, &packet(5, b"five"));
        peer.on_event(event::PACKET, &packet(6, b"six"));
        peer.on_event(event::PEER_DISCONNECTED, &[Value::Int(5)]);
        assert_eq!(peer.packet_count(), 1, "the multiplayer API no longer knows peer 5");
        peer.kick(6).unwrap();
        assert_eq!(peer.packet_count(), 0);
    }

    #[test]
    fn the_host_sees_clients_come_and_go_and_kicks() {
        let mut peer = hosting();
        assert_eq!((peer.status(), peer.id()), (Status::Connected, 1));
        peer.on_event(event::PEER_CONNECTED, &[Value::Int(5)]);
        peer.on_event(event::PEER_CONNECTED, &[Value::Int(6)]);
        peer.on_event(event::PEER_CONNECTED, &[Value::Int(5)]);
        assert_eq!(peer.take_event(), Some(PeerEvent::PeerConnected(5)));
        assert_eq!(peer.take_event(), Some(PeerEvent::PeerConnected(6)));
        assert_eq!(peer.take_event(), None);
        assert!(peer.put_packet(b"x", -5, 0, TransferMode::Reliable).is_ok());
        assert_eq!(
            peer.put_packet(b"x", 9, 0, TransferMode::Reliable),
            Err(PeerError::BadTarget(9))
        );
        let kick = peer.kick(6).unwrap();
        assert_eq!(kick.args, vec![Value::Int(6)]);
        assert_eq!(peer.take_event(), Some(PeerEvent::PeerDisconnected(6)));
        // The relay confirms: no second event.
        peer.on_event(event::PEER_DISCONNECTED, &[Value::Int(6)]);
        assert_eq!(peer.take_event(), None);
        // What is still sent to a peer that left is dropped quietly; an id never seen is an error.
        assert_eq!(peer.put_packet(b"late", 6, 0, TransferMode::Reliable), Ok(()));
        peer.on_event(event::PEER_DISCONNECTED, &[Value::Int(5)]);
        assert_eq!(peer.put_packet(b"late", 5, 0, TransferMode::Reliable), Ok(()));
        let batch = peer.take_batch().unwrap();
        assert_eq!(records(&batch).len(), 1, "only the packet to -5 before: {batch:?}");
        assert_eq!(
            peer.put_packet(b"x", 9, 0, TransferMode::Reliable),
            Err(PeerError::BadTarget(9))
        );
    }

    #[test]
    fn refusals_and_the_host_leaving_end_the_room_with_a_reason() {
        let mut peer = RelayPeer::new();
        peer.join("r").unwrap();
        assert_eq!(peer.join("r"), Err(PeerError::Busy));
        let refusal = Value::Object(vec![
            ("ok".into(), Value::Bool(false)),
            ("error".into(), Value::String("room_full".into())),
        ]);
        peer.on_answer(Some(&[refusal]));
        assert_eq!(peer.status(), Status::Disconnected);
        assert_eq!(
            peer.take_event(),
            Some(PeerEvent::Error {
                code: "room_full".into(),
                message: "room full".into()
            })
        );
        let mut peer = joined(3);
        peer.take_event();
        peer.on_event(
            event::CLOSED,
            &[Value::Object(vec![("reason".into(), "host_left".into())])],
        );
        assert_eq!(peer.status(), Status::Disconnected);
        assert_eq!(peer.take_event(), Some(PeerEvent::PeerDisconnected(1)));
        assert!(matches!(peer.take_event(), Some(PeerEvent::Error { code, .. }) if code == "host_left"));
        assert_eq!(peer.room(), "r");
        assert!(peer.join("r").is_ok(), "can join again");
    }

    #[test]
    fn a_late_answer_after_close_is_ignored_and_a_timeout_fails() {
        let mut peer = RelayPeer::new();
        peer.join("r").unwrap();
        assert!(peer.close().is_some());
        peer.on_answer(Some(&ok(&[("id", Value::Int(4))])));
        assert_eq!(peer.status(), Status::Disconnected);
        peer.join("r").unwrap();
        peer.on_answer(None);
        assert_eq!(peer.status(), Status::Disconnected);
        assert!(matches!(peer.take_event(), Some(PeerEvent::Error { code, .. }) if code == "timeout"));
        assert!(matches!(peer.join(""), Err(PeerError::BadRoom(_))));
        assert!(matches!(peer.join(&"x".repeat(65)), Err(PeerError::BadRoom(_))));
    }
}
