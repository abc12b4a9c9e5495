//! The sans-I/O session: Engine.IO + Socket.IO state machine.
//!
//! Inputs are transport happenings and instants (`handle_*`), and commands from the front end (`emit`, `close`, …).
//! Outputs are drained by the driver after each input, in this order: [`Session::poll_transmit`] (frames to
//! write), [`Session::poll_command`] (open or close the transport), [`Session::poll_event`] (what to tell the
//! user), and [`Session::next_deadline`] (when to call [`Session::handle_timeout`]). It never reads a clock and
//! never touches a socket, so every scenario can be replayed in a test with made-up instants.

pub mod backoff;
pub mod table;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::check;
use crate::codec::binary;
use crate::codec::engineio::{self, EnginePacket, Handshake};
use crate::codec::packet::{Decoder, Packet, Received};
use crate::codec::payload::Payload;
use crate::codec::raw::RawPacket;
use crate::codec::value::Value;
use crate::config::ClientConfig;
use crate::error::{BufferLimit, CommandError, DecodeError, TransportEnd};
use crate::event::{AckId, AckRequest, ClientEvent, ConnectError, ConnectionState, DisconnectReason};
use backoff::Jitter;
use table::PathTable;

/// What the session asks of its transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportCommand {
    /// Open a new WebSocket connection to the endpoint.
    Open,
    /// Close the current connection (after writing what `poll_transmit` gave before this command).
    Close,
}

#[derive(Debug)]
enum EngineState {
    /// No connection and not trying.
    Idle,
    /// Transport requested; waiting for the Engine.IO OPEN packet.
    Opening { deadline: Instant },
    /// Handshake done.
    Open {
        handshake: Handshake,
        ping_deadline: Instant,
    },
    /// Waiting to start the next reconnection attempt.
    Backoff { until: Instant },
}

/// One encoded packet: the text frame (with its `4` prefix) and its attachments.
#[derive(Debug)]
struct Encoded {
    text: String,
    attachments: Vec<Bytes>,
    ack: Option<AckId>,
}

impl Encoded {
    fn size(&self) -> usize {
        self.text.len() + self.attachments.iter().map(Bytes::len).sum::<usize>()
    }

    fn largest_frame(&self) -> usize {
        self.attachments
            .iter()
            .map(Bytes::len)
            .fold(self.text.len(), usize::max)
    }
}

#[derive(Debug)]
struct Namespace {
    path: String,
    state: ConnectionState,
    /// The user wants this namespace connected: (re)join it whenever the engine opens.
    wanted: bool,
    auth: Option<Value>,
    sid: Option<String>,
    /// Connection state recovery: the server's private session id and the last event offset seen.
    pid: Option<String>,
    last_offset: Option<String>,
    /// Whether the last CONNECT answer restored the previous session.
    recovered: bool,
    /// A CONNECT was sent on this connection and not answered yet. The server refuses a DISCONNECT (and closes
    /// the whole connection) before its answer, so a disconnect meanwhile waits for the answer.
    connect_in_flight: bool,
    /// Emits waiting for the namespace to connect.
    send_buffer: VecDeque<Encoded>,
    buffered_bytes: usize,
    /// Events that arrived before the CONNECT answer (a recovered session replays missed events first).
    early_events: Vec<ClientEvent>,
    /// The current (or last) session of this namespace, stamped on the server's ack requests; 0 before the first.
    session: u64,
    /// This namespace's pending acks (sent or still in the send buffer), in id order.
    acks: BTreeSet<AckId>,
}

/// A namespace session number never used before in this process (see [`AckRequest`]): unique across clients and
/// across a client's engine being replaced, so no ack request can ever match another session.
fn next_session() -> u64 {
    static SESSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
}

/// Most events held for a namespace waiting for its CONNECT answer (a recovered session's replay).
const MAX_EARLY_EVENTS: usize = 10_000;

impl Namespace {
    /// Connection state recovery: a delivered event's last string argument is the server's offset.
    fn note_offset(&mut self, event: &ClientEvent) {
        if self.pid.is_none() {
            return;
        }
        if let ClientEvent::Event { args, ack: None, .. } = event {
            if let Some(offset) = args.last_string() {
                self.last_offset = Some(offset);
            }
        }
    }

    fn new(path: &str) -> Self {
        Namespace {
            path: path.to_owned(),
            state: ConnectionState::Disconnected,
            wanted: false,
            auth: None,
            sid: None,
            pid: None,
            last_offset: None,
            recovered: false,
            connect_in_flight: false,
            send_buffer: VecDeque::new(),
            buffered_bytes: 0,
            early_events: Vec::new(),
            session: 0,
            acks: BTreeSet::new(),
        }
    }
}

#[derive(Debug)]
struct PendingAck {
    namespace: String,
    deadline: Instant,
    /// Written to the transport (not still in a send buffer).
    sent: bool,
}

/// The Engine.IO + Socket.IO client state machine. See the module documentation.
#[derive(Debug)]
pub struct Session {
    config: ClientConfig,
    state: EngineState,
    decoder: Decoder,
    /// By path, in creation order: looked up in constant time, however many a game creates.
    namespaces: PathTable<Namespace>,
    /// How many namespaces are `wanted` (kept by [`want`], so that no call scans them all).
    wanted: usize,
    /// Namespaces removed while their CONNECT was unanswered: the server refuses a DISCONNECT before its answer,
    /// so the DISCONNECT follows the answer. Cleared when the connection ends.
    leaving: HashSet<String>,
    acks: HashMap<AckId, PendingAck>,
    ack_deadlines: BTreeSet<(Instant, AckId)>,
    next_ack_id: AckId,
    /// Why the connection last ended or failed by itself (see [`Session::last_error`]).
    last_error: Option<String>,
    /// Attempts made in the current reconnection episode (0 when not reconnecting).
    reconnect_attempt: u32,
    jitter: Jitter,
    transmit: VecDeque<RawPacket>,
    commands: VecDeque<TransportCommand>,
    events: VecDeque<ClientEvent>,
}

impl Session {
    /// A session with these settings, idle. `rng_seed` seeds the reconnection jitter.
    pub fn new(config: ClientConfig, rng_seed: u64) -> Self {
        Session {
            decoder: Decoder::new(&config.limits).with_step(config.decode_step),
            config,
            state: EngineState::Idle,
            namespaces: PathTable::new(),
            wanted: 0,
            leaving: HashSet::new(),
            acks: HashMap::new(),
            ack_deadlines: BTreeSet::new(),
            next_ack_id: 0,
            last_error: None,
            reconnect_attempt: 0,
            jitter: Jitter::new(rng_seed),
            transmit: VecDeque::new(),
            commands: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The settings in force. Limits and reconnection changes apply from the next connection on.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Mutable settings; see [`Session::config`].
    pub fn config_mut(&mut self) -> &mut ClientConfig {
        &mut self.config
    }

    // ----- outputs -------------------------------------------------------------------------------------------

    /// The next frame to write.
    pub fn poll_transmit(&mut self) -> Option<RawPacket> {
        self.transmit.pop_front()
    }

    /// The next transport command.
    pub fn poll_command(&mut self) -> Option<TransportCommand> {
        self.commands.pop_front()
    }

    /// The next event for the user.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When [`Session::handle_timeout`] next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        let engine = match self.state {
            EngineState::Idle => None,
            EngineState::Opening { deadline } => Some(deadline),
            EngineState::Open { ping_deadline, .. } => Some(ping_deadline),
            EngineState::Backoff { until } => Some(until),
        };
        let ack = self.ack_deadlines.first().map(|&(deadline, _)| deadline);
        match (engine, ack) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ----- getters -------------------------------------------------------------------------------------------

    /// State of the connection as a whole.
    pub fn state(&self) -> ConnectionState {
        match self.state {
            EngineState::Idle => ConnectionState::Disconnected,
            EngineState::Opening { .. } | EngineState::Backoff { .. } => ConnectionState::Connecting,
            EngineState::Open { .. } => ConnectionState::Connected,
        }
    }

    /// Why the connection last ended or failed by itself: the cause behind a `"parse error"`, `"transport error"`,
    /// `"ping timeout"` or `"transport close"` (e.g. `JSON payload nested deeper than 64 levels
    /// (max_nesting_depth)`), or of a connection that could not be opened. `None` once a connection was closed on purpose (by the client or the server) since.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// Engine.IO session id while open.
    pub fn engine_sid(&self) -> Option<&str> {
        match &self.state {
            EngineState::Open { handshake, .. } => Some(&handshake.sid),
            _ => None,
        }
    }

    /// The server's handshake while open.
    pub fn handshake(&self) -> Option<&Handshake> {
        match &self.state {
            EngineState::Open { handshake, .. } => Some(handshake),
            _ => None,
        }
    }

    /// State of namespace `path` (`Disconnected` if unknown).
    pub fn namespace_state(&self, path: &str) -> ConnectionState {
        self.namespace(path)
            .map_or(ConnectionState::Disconnected, |ns| ns.state)
    }

    /// Socket.IO session id of namespace `path` while connected.
    pub fn namespace_sid(&self, path: &str) -> Option<&str> {
        self.namespace(path).and_then(|ns| ns.sid.as_deref())
    }

    /// Whether namespace `path`'s last connection restored its previous session (connection state recovery).
    pub fn namespace_recovered(&self, path: &str) -> bool {
        self.namespace(path).is_some_and(|ns| ns.recovered)
    }

    /// Number of emits waiting in namespace `path`'s send buffer.
    pub fn buffered_packets(&self, path: &str) -> usize {
        self.namespace(path).map_or(0, |ns| ns.send_buffer.len())
    }

    /// Number of acks still waiting for an answer or a timeout.
    pub fn pending_acks(&self) -> usize {
        self.acks.len()
    }

    /// Whether namespace `path` is registered (added and not removed).
    pub fn has_namespace(&self, path: &str) -> bool {
        self.namespaces.contains(path)
    }

    /// Number of registered namespaces.
    pub fn namespace_count(&self) -> usize {
        self.namespaces.len()
    }

    fn namespace(&self, path: &str) -> Option<&Namespace> {
        self.namespaces.get(path)
    }

    fn namespace_index(&self, path: &str) -> Option<usize> {
        self.namespaces.index_of(path)
    }

    // ----- commands ------------------------------------------------------------------------------------------

    /// Starts a connection (closing the current one first, as the user's `close()` would).
    pub fn open(&mut self, now: Instant) {
        if !matches!(self.state, EngineState::Idle) {
            self.shut_engine(DisconnectReason::IoClientDisconnect);
        }
        self.reconnect_attempt = 0;
        self.start_opening(now);
    }

    /// Registers namespace `path` (without connecting it). Returns an error for a path the wire cannot carry
    /// ([`check::namespace`]).
    pub fn add_namespace(&mut self, path: &str) -> Result<(), CommandError> {
        if check::namespace(path).is_err() {
            return Err(CommandError::InvalidNamespace(path.to_owned()));
        }
        if !self.namespaces.contains(path) {
            let mut ns = Namespace::new(path);
            // Removed while its CONNECT was on its way, and back before the answer: the answer is this one's.
            ns.connect_in_flight = self.leaving.remove(path);
            self.namespaces.insert(path, ns);
        }
        Ok(())
    }

    /// Connects namespace `path` with `auth`: now if the engine is open, otherwise as soon as it opens.
    ///
    /// When the session is idle (never opened, or closed) this does not open it; the caller does.
    pub fn connect_namespace(&mut self, path: &str, auth: Option<Value>) -> Result<(), CommandError> {
        match &auth {
            None => {}
            Some(value @ Value::Object(_)) if binary::count(value) == 0 => {}
            Some(Value::Object(_)) => return Err(CommandError::InvalidAuth("it holds binary data".into())),
            Some(_) => return Err(CommandError::InvalidAuth("it must be an object (a Dictionary)".into())),
        }
        self.add_namespace(path)?;
        let index = self
            .namespace_index(path)
            .ok_or_else(|| CommandError::UnknownNamespace(path.to_owned()))?;
        let engine_open = matches!(self.state, EngineState::Open { .. });
        let idle = matches!(self.state, EngineState::Idle);
        let ns = &mut self.namespaces[index];
        if ns.state == ConnectionState::Connected {
            return Ok(());
        }
        ns.auth = auth;
        if ns.connect_in_flight && engine_open {
            // A CONNECT is already on its way: a second one would make the server create a second socket.
            // Its answer connects the namespace; the new auth is used from the next (re)join on.
            want(ns, &mut self.wanted, true);
            ns.state = ConnectionState::Connecting;
            return Ok(());
        }
        want(ns, &mut self.wanted, true);
        ns.state = if idle {
            ConnectionState::Disconnected
        } else {
            ConnectionState::Connecting
        };
        if engine_open && ns.state == ConnectionState::Connecting {
            self.send_connect(index);
        }
        Ok(())
    }

    /// Disconnects namespace `path` ("io client disconnect"). When it was the last one, the connection closes.
    pub fn disconnect_namespace(&mut self, path: &str) -> Result<(), CommandError> {
        self.leave(path)?;
        self.close_if_unused();
        Ok(())
    }

    /// Forgets namespace `path`: disconnects it as [`Session::disconnect_namespace`] does (`NamespaceDisconnected`
    /// with "io client disconnect" if it was connected or connecting), discards its send buffer, times out every
    /// pending ack of it (`AckTimeout`), then removes it: it is no longer known (its state reads `Disconnected`,
    /// commands on it fail with `UnknownNamespace`, and packets the server still sends on it are ignored) until
    /// it is added again. When it was the last namespace in use, the connection closes.
    pub fn remove_namespace(&mut self, path: &str) -> Result<(), CommandError> {
        self.leave(path)?;
        let ids: Vec<AckId> = self
            .namespaces
            .get(path)
            .map_or_else(Vec::new, |ns| ns.acks.iter().copied().collect());
        for id in ids {
            self.resolve_ack_timeout(id);
        }
        if let Some(ns) = self.namespaces.remove(path) {
            if ns.connect_in_flight && self.is_open() {
                self.leaving.insert(ns.path);
            }
        }
        self.close_if_unused();
        Ok(())
    }

    /// Removes every namespace, as [`Session::remove_namespace`] does one by one (in creation order).
    pub fn remove_all_namespaces(&mut self) {
        let paths: Vec<String> = self.namespaces.iter().map(|(path, _)| path.to_owned()).collect();
        for path in paths {
            let _ = self.remove_namespace(&path);
        }
    }

    /// The first half of `disconnect_namespace` and `remove_namespace`: everything but closing an unused connection.
    fn leave(&mut self, path: &str) -> Result<(), CommandError> {
        let index = self
            .namespace_index(path)
            .ok_or_else(|| CommandError::UnknownNamespace(path.to_owned()))?;
        let ns = &mut self.namespaces[index];
        let was = ns.state;
        want(ns, &mut self.wanted, false);
        ns.state = ConnectionState::Disconnected;
        ns.sid = None;
        ns.early_events.clear();
        // While our CONNECT is unanswered the DISCONNECT waits for the answer (see `handle_connect`).
        if was == ConnectionState::Connected && matches!(self.state, EngineState::Open { .. }) {
            self.push_packet(&Packet::Disconnect {
                namespace: path.to_owned(),
            });
        }
        self.discard_send_buffer(index);
        self.fail_sent_acks(path);
        if was != ConnectionState::Disconnected {
            self.events.push_back(ClientEvent::NamespaceDisconnected {
                namespace: path.to_owned(),
                reason: DisconnectReason::IoClientDisconnect,
                was_connected: was == ConnectionState::Connected,
            });
        }
        Ok(())
    }

    /// Emits `name(args…)` on namespace `path`. With `ack_timeout`, asks for an acknowledgement and returns its
    /// id; `AckResponse` or `AckTimeout` follows exactly once.
    ///
    /// While the namespace is not connected the packet waits in its send buffer (bounded by
    /// [`Limits::send_buffer_packets`](crate::Limits) and `send_buffer_bytes`), and is sent in order once it is.
    pub fn emit(
        &mut self,
        now: Instant,
        path: &str,
        name: &str,
        args: Vec<Value>,
        ack_timeout: Option<Duration>,
    ) -> Result<Option<AckId>, CommandError> {
        self.emit_inner(now, path, name, args, ack_timeout, false)
    }

    /// Emits only if namespace `path` is connected right now; otherwise drops the packet and returns `Ok(false)`
    /// (socket.io-client's `volatile` flag, for state that is soon stale such as positions).
    pub fn emit_volatile(
        &mut self,
        now: Instant,
        path: &str,
        name: &str,
        args: Vec<Value>,
    ) -> Result<bool, CommandError> {
        let connected = self.namespace_state(path) == ConnectionState::Connected;
        self.emit_inner(now, path, name, args, None, true)?;
        Ok(connected)
    }

    fn emit_inner(
        &mut self,
        now: Instant,
        path: &str,
        name: &str,
        args: Vec<Value>,
        ack_timeout: Option<Duration>,
        volatile: bool,
    ) -> Result<Option<AckId>, CommandError> {
        if check::event_name(name).is_err() {
            return Err(CommandError::InvalidEventName(name.to_owned()));
        }
        let index = self
            .namespace_index(path)
            .ok_or_else(|| CommandError::UnknownNamespace(path.to_owned()))?;
        let id = ack_timeout.map(|_| self.next_ack_id);
        let packet = Packet::Event {
            namespace: path.to_owned(),
            name: name.to_owned(),
            args,
            id,
        };
        let encoded = self.encode(&packet, id)?;
        let sendable = self.namespaces[index].state == ConnectionState::Connected && self.is_open();
        if volatile && !sendable {
            return Ok(None);
        }
        if sendable {
            self.transmit_encoded(encoded);
        } else {
            let limits = &self.config.limits;
            let ns = &mut self.namespaces[index];
            let size = encoded.size();
            if ns.send_buffer.len() >= limits.send_buffer_packets {
                return Err(CommandError::SendBufferFull(BufferLimit::Packets(
                    limits.send_buffer_packets,
                )));
            }
            if ns.buffered_bytes + size > limits.send_buffer_bytes {
                return Err(CommandError::SendBufferFull(BufferLimit::Bytes {
                    size,
                    buffered: ns.buffered_bytes,
                    max: limits.send_buffer_bytes,
                }));
            }
            ns.buffered_bytes += size;
            ns.send_buffer.push_back(encoded);
        }
        if let (Some(id), Some(timeout)) = (id, ack_timeout) {
            self.next_ack_id += 1;
            self.namespaces[index].acks.insert(id);
            let deadline = later(now, timeout);
            self.acks.insert(
                id,
                PendingAck {
                    namespace: path.to_owned(),
                    deadline,
                    sent: sendable,
                },
            );
            self.ack_deadlines.insert((deadline, id));
        }
        Ok(id)
    }

    /// Answers the server's ack request on namespace `path`. Only in the session the request came from: after it
    /// ended (disconnection, reconnection) the answer is refused ([`CommandError::AckExpired`]).
    pub fn send_ack(&mut self, path: &str, request: AckRequest, args: Vec<Value>) -> Result<(), CommandError> {
        let index = self
            .namespace_index(path)
            .ok_or_else(|| CommandError::UnknownNamespace(path.to_owned()))?;
        let ns = &self.namespaces[index];
        if ns.state != ConnectionState::Connected || !self.is_open() || ns.session != request.session {
            return Err(CommandError::AckExpired(path.to_owned()));
        }
        let encoded = self.encode(
            &Packet::Ack {
                namespace: path.to_owned(),
                id: request.id,
                args,
            },
            None,
        )?;
        self.transmit_encoded(encoded);
        Ok(())
    }

    /// Closes everything ("io client disconnect"): namespaces, connection, reconnection. Pending acks time out
    /// now (no answer can come any more) and send buffers are emptied.
    pub fn close(&mut self) {
        self.shut_engine(DisconnectReason::IoClientDisconnect);
        for index in 0..self.namespaces.slot_count() {
            let Some(ns) = self.namespaces.slot_mut(index) else {
                continue;
            };
            want(ns, &mut self.wanted, false);
            ns.state = ConnectionState::Disconnected;
            ns.sid = None;
            ns.pid = None;
            ns.last_offset = None;
            self.discard_send_buffer(index);
        }
        let ids: Vec<AckId> = self.acks.keys().copied().collect();
        for id in ids {
            self.resolve_ack_timeout(id);
        }
    }

    // ----- inputs --------------------------------------------------------------------------------------------

    /// A frame arrived from the transport.
    ///
    /// A large text frame may not be decoded at once: its payload is checked [`ClientConfig::decode_step`] bytes at
    /// a time, and [`is_decoding`](Self::is_decoding) stays true until [`continue_decoding`](Self::continue_decoding)
    /// has checked it all. A frame handed in meanwhile waits for that (the decoding is finished first), so frames
    /// are always taken in order; a driver that wants to spread the work over several polls holds frames back
    /// while decoding.
    pub fn handle_frame(&mut self, now: Instant, frame: RawPacket) {
        while self.decoder.is_checking() {
            self.continue_decoding(now);
        }
        let max = self.config.limits.max_message_bytes;
        if frame.len() > max {
            let error = DecodeError::MessageTooLarge { size: frame.len(), max };
            self.lose(now, DisconnectReason::ParseError, &error.to_string());
            return;
        }
        if let Err(error) = self.process_frame(now, frame) {
            self.lose(now, DisconnectReason::ParseError, &error.to_string());
        }
    }

    /// Whether a received message is being decoded in steps (see [`handle_frame`](Self::handle_frame)).
    pub fn is_decoding(&self) -> bool {
        self.decoder.is_checking()
    }

    /// Decodes the next step ([`ClientConfig::decode_step`] bytes) of the message being decoded, and handles it once
    /// it is complete. Does nothing when no message is being decoded.
    pub fn continue_decoding(&mut self, now: Instant) {
        match self.decoder.resume() {
            Ok(Some(packet)) => self.handle_packet(now, packet),
            Ok(None) => {}
            Err(error) => self.lose(now, DisconnectReason::ParseError, &error.to_string()),
        }
    }

    fn process_frame(&mut self, now: Instant, frame: RawPacket) -> Result<(), DecodeError> {
        let text = match frame {
            RawPacket::Binary(bytes) => {
                if !self.is_open() {
                    return Err(DecodeError::UnexpectedBinary);
                }
                if let Some(packet) = self.decoder.decode_binary(bytes)? {
                    self.handle_packet(now, packet);
                }
                return Ok(());
            }
            RawPacket::Text(text) => text,
        };
        if text.starts_with(engineio::MESSAGE_PREFIX) {
            if !self.is_open() {
                return Err(DecodeError::InvalidPayload("message before the Engine.IO handshake"));
            }
            // The text becomes the payload's as it is: no copy.
            if let Some(packet) = self.decoder.decode_message(text, engineio::MESSAGE_PREFIX.len_utf8())? {
                self.handle_packet(now, packet);
            }
            return Ok(());
        }
        match engineio::decode(&text)? {
            EnginePacket::Open(handshake) => self.handle_open(now, handshake)?,
            EnginePacket::Ping(data) => {
                if let EngineState::Open {
                    handshake,
                    ping_deadline,
                } = &mut self.state
                {
                    *ping_deadline = later(now, handshake.ping_interval.saturating_add(handshake.ping_timeout));
                    let mut pong = String::with_capacity(1 + data.len());
                    pong.push_str(engineio::PONG);
                    pong.push_str(data);
                    self.transmit.push_back(RawPacket::Text(pong.into()));
                }
            }
            EnginePacket::Close => self.lose(now, DisconnectReason::TransportClose, "server closed the session"),
            EnginePacket::Message(_) => {} // Handled above.
            EnginePacket::Pong(_) | EnginePacket::Upgrade | EnginePacket::Noop => {}
        }
        Ok(())
    }

    fn handle_open(&mut self, now: Instant, handshake: Handshake) -> Result<(), DecodeError> {
        if !matches!(self.state, EngineState::Opening { .. }) {
            return Err(DecodeError::BadHandshake("second OPEN packet".into()));
        }
        let ping_deadline = later(now, handshake.ping_interval.saturating_add(handshake.ping_timeout));
        let sid = handshake.sid.clone();
        self.state = EngineState::Open {
            handshake,
            ping_deadline,
        };
        self.decoder.reset();
        self.events.push_back(ClientEvent::Open { sid });
        if self.reconnect_attempt > 0 {
            self.events.push_back(ClientEvent::Reconnected {
                attempt: self.reconnect_attempt,
            });
            self.reconnect_attempt = 0;
        }
        for index in 0..self.namespaces.slot_count() {
            if let Some(ns) = self.namespaces.slot_mut(index).filter(|ns| ns.wanted) {
                ns.state = ConnectionState::Connecting;
                self.send_connect(index);
            }
        }
        Ok(())
    }

    fn handle_packet(&mut self, now: Instant, packet: Received) {
        let Some(index) = self.namespace_index(packet.namespace()) else {
            match packet {
                // The answer to the CONNECT of a namespace removed meanwhile: now the server accepts its DISCONNECT.
                Received::Connect { namespace, .. } if self.leaving.remove(&namespace) => {
                    self.push_packet(&Packet::Disconnect { namespace });
                }
                Received::ConnectError { namespace, .. } => {
                    self.leaving.remove(&namespace);
                }
                _ => {} // A namespace we never joined (or removed): ignore, as socket.io-client does.
            }
            return;
        };
        match packet {
            Received::Connect { namespace, data } => self.handle_connect(index, namespace, data),
            Received::ConnectError { namespace, data } => {
                let ns = &mut self.namespaces[index];
                ns.connect_in_flight = false;
                if ns.state != ConnectionState::Connecting {
                    return;
                }
                ns.state = ConnectionState::Disconnected;
                want(ns, &mut self.wanted, false);
                ns.early_events.clear();
                let error = match data.as_string() {
                    // A bare string (old servers).
                    Some(message) => ConnectError { message, data: None },
                    None => ConnectError {
                        message: data.get_str("message").unwrap_or_default(),
                        data: data.member("data"),
                    },
                };
                self.events
                    .push_back(ClientEvent::NamespaceConnectError { namespace, error });
                self.close_if_unused();
            }
            Received::Disconnect { namespace } => {
                let ns = &mut self.namespaces[index];
                if ns.state == ConnectionState::Disconnected {
                    return;
                }
                let was_connected = ns.state == ConnectionState::Connected;
                ns.state = ConnectionState::Disconnected;
                want(ns, &mut self.wanted, false);
                ns.sid = None;
                ns.early_events.clear();
                self.fail_sent_acks(&namespace);
                if was_connected {
                    self.events.push_back(ClientEvent::NamespaceDisconnected {
                        namespace,
                        reason: DisconnectReason::IoServerDisconnect,
                        was_connected: true,
                    });
                }
                if !self.any_wanted() {
                    self.shut_engine(DisconnectReason::IoServerDisconnect);
                }
            }
            Received::Event {
                namespace,
                name,
                args,
                id,
            } => {
                let ns = &mut self.namespaces[index];
                let event = ClientEvent::Event {
                    namespace,
                    name,
                    args,
                    ack: id.map(|id| AckRequest {
                        id,
                        session: ns.session,
                    }),
                };
                match ns.state {
                    ConnectionState::Connected => {
                        ns.note_offset(&event);
                        self.events.push_back(event);
                    }
                    ConnectionState::Connecting if ns.early_events.len() < MAX_EARLY_EVENTS => {
                        ns.early_events.push(event);
                    }
                    ConnectionState::Connecting => {
                        // More replayed events than we hold: recovering would skip some. Start a fresh session.
                        ns.pid = None;
                        ns.last_offset = None;
                        ns.early_events.clear();
                        self.lose(
                            now,
                            DisconnectReason::ParseError,
                            "too many events before the CONNECT answer",
                        );
                    }
                    ConnectionState::Disconnected => {}
                }
            }
            Received::Ack { namespace, id, args } => {
                let Some(pending) = self.acks.get(&id) else { return };
                if pending.namespace != namespace {
                    return;
                }
                let deadline = pending.deadline;
                self.acks.remove(&id);
                self.ack_deadlines.remove(&(deadline, id));
                self.namespaces[index].acks.remove(&id);
                self.events.push_back(ClientEvent::AckResponse { namespace, id, args });
            }
        }
    }

    fn handle_connect(&mut self, index: usize, namespace: String, data: Option<Payload>) {
        let ns = &mut self.namespaces[index];
        let answered = std::mem::replace(&mut ns.connect_in_flight, false);
        if ns.state != ConnectionState::Connecting {
            if answered && ns.state == ConnectionState::Disconnected {
                // Disconnected by the user while the CONNECT was on its way: leave now that the server allows it.
                self.push_packet(&Packet::Disconnect { namespace });
            }
            return;
        }
        let sid = data.as_ref().and_then(|d| d.get_str("sid"));
        let Some(sid) = sid else {
            ns.state = ConnectionState::Disconnected;
            want(ns, &mut self.wanted, false);
            ns.early_events.clear();
            self.events.push_back(ClientEvent::NamespaceConnectError {
                namespace,
                error: ConnectError {
                    message: "the server's CONNECT answer has no sid: it is not a Socket.IO v5 (v3/v4) server".into(),
                    data: None,
                },
            });
            self.close_if_unused();
            return;
        };
        let pid = data.as_ref().and_then(|d| d.get_str("pid"));
        let recovered = pid.is_some() && pid == ns.pid;
        ns.pid = pid;
        if !recovered {
            ns.last_offset = None;
        }
        ns.state = ConnectionState::Connected;
        ns.sid = Some(sid.clone());
        ns.recovered = recovered;
        ns.session = next_session();
        // Early events keep the stamp they arrived with: an ack request before the CONNECT answer was sent in the
        // previous session (a recovered session's replay never asks for acks), so it cannot be answered here.
        let early = std::mem::take(&mut ns.early_events);
        for event in &early {
            ns.note_offset(event);
        }
        self.events.push_back(ClientEvent::NamespaceConnected {
            namespace: namespace.clone(),
            sid,
            recovered,
        });
        self.events.extend(early);
        let buffered = std::mem::take(&mut self.namespaces[index].send_buffer);
        self.namespaces[index].buffered_bytes = 0;
        let max_payload = self.handshake().map_or(usize::MAX, |h| h.max_payload);
        for encoded in buffered {
            let size = encoded.largest_frame();
            if size > max_payload {
                // Buffered before the server told its limit; it would close the connection on it.
                self.events.push_back(ClientEvent::EmitFailed {
                    namespace: namespace.clone(),
                    message: CommandError::TooLarge { size, max: max_payload }.to_string(),
                });
                if let Some(id) = encoded.ack {
                    self.resolve_ack_timeout(id);
                }
                continue;
            }
            if let Some(pending) = encoded.ack.and_then(|id| self.acks.get_mut(&id)) {
                pending.sent = true;
            }
            self.transmit_encoded(encoded);
        }
    }

    /// The transport went away (or could not be opened).
    pub fn handle_transport_loss(&mut self, now: Instant, end: TransportEnd) {
        match (&self.state, end) {
            (EngineState::Opening { .. }, TransportEnd::ConnectFailed(why)) => {
                self.lose(now, DisconnectReason::TransportError, &why.to_string());
            }
            (EngineState::Opening { .. }, TransportEnd::Error(why)) => {
                self.lose(now, DisconnectReason::TransportError, &why.to_string());
            }
            (EngineState::Opening { .. }, _) => {
                self.lose(
                    now,
                    DisconnectReason::TransportClose,
                    "connection closed during the handshake",
                );
            }
            (EngineState::Open { .. }, TransportEnd::Closed) => {
                self.lose(now, DisconnectReason::TransportClose, "transport close");
            }
            (EngineState::Open { .. }, TransportEnd::Error(why)) => {
                self.lose(now, DisconnectReason::TransportError, &why.to_string());
            }
            (EngineState::Open { .. }, TransportEnd::ConnectFailed(why)) => {
                self.lose(now, DisconnectReason::TransportError, &why.to_string());
            }
            (EngineState::Open { .. }, TransportEnd::MessageTooLarge { size, max }) => {
                let error = DecodeError::MessageTooLarge { size, max };
                self.lose(now, DisconnectReason::ParseError, &error.to_string());
            }
            _ => {} // A transport we already let go of.
        }
    }

    /// Time passed: fires ack timeouts, the ping timeout, the connect timeout and reconnection attempts.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(deadline, id)) = self.ack_deadlines.first() {
            if deadline > now {
                break;
            }
            self.resolve_ack_timeout(id);
        }
        match self.state {
            EngineState::Opening { deadline } if deadline <= now => {
                self.lose(now, DisconnectReason::TransportError, "timeout");
            }
            EngineState::Open { ping_deadline, .. } if ping_deadline <= now => {
                self.lose(now, DisconnectReason::PingTimeout, "ping timeout");
            }
            EngineState::Backoff { until } if until <= now => self.start_opening(now),
            _ => {}
        }
    }

    // ----- internals -----------------------------------------------------------------------------------------

    fn any_wanted(&self) -> bool {
        self.wanted > 0
    }

    /// socket.io-client closes the connection when no namespace uses it any more.
    fn close_if_unused(&mut self) {
        if !self.any_wanted() && !matches!(self.state, EngineState::Idle) {
            self.shut_engine(DisconnectReason::IoClientDisconnect);
        }
    }

    fn is_open(&self) -> bool {
        matches!(self.state, EngineState::Open { .. })
    }

    fn start_opening(&mut self, now: Instant) {
        // A new connection picks up limits changed since the last one.
        self.decoder = Decoder::new(&self.config.limits).with_step(self.config.decode_step);
        self.state = EngineState::Opening {
            deadline: later(now, self.config.connect_timeout),
        };
        for ns in self.namespaces.values_mut() {
            if ns.wanted {
                ns.state = ConnectionState::Connecting;
            }
        }
        self.commands.push_back(TransportCommand::Open);
    }

    /// Encodes `packet` as an Engine.IO message, refusing it when a frame would exceed the server's maxPayload.
    fn encode(&self, packet: &Packet, ack: Option<AckId>) -> Result<Encoded, CommandError> {
        let mut text = String::with_capacity(64);
        text.push(engineio::MESSAGE_PREFIX);
        let mut attachments = Vec::new();
        packet.encode(&mut text, &mut attachments)?;
        let encoded = Encoded { text, attachments, ack };
        if let Some(handshake) = self.handshake() {
            let size = encoded.largest_frame();
            if size > handshake.max_payload {
                return Err(CommandError::TooLarge {
                    size,
                    max: handshake.max_payload,
                });
            }
        }
        Ok(encoded)
    }

    fn transmit_encoded(&mut self, encoded: Encoded) {
        self.transmit.push_back(RawPacket::Text(encoded.text.into()));
        self.transmit
            .extend(encoded.attachments.into_iter().map(RawPacket::Binary));
    }

    /// Queues one of our own control packets (CONNECT, DISCONNECT). Their payloads were checked when given
    /// (`connect_namespace` refuses auth that cannot be sent), so encoding cannot fail here.
    fn push_packet(&mut self, packet: &Packet) {
        if let Ok(encoded) = self.encode(packet, None) {
            self.transmit_encoded(encoded);
        }
    }

    fn send_connect(&mut self, index: usize) {
        let ns = &self.namespaces[index];
        let mut auth = ns.auth.clone();
        if let Some(pid) = &ns.pid {
            // Connection state recovery: merge the private id and last offset in; the user's keys win.
            let mut entries = vec![("pid".to_owned(), Value::String(pid.clone()))];
            if let Some(offset) = &ns.last_offset {
                entries.push(("offset".to_owned(), Value::String(offset.clone())));
            }
            if let Some(Value::Object(user)) = auth.take() {
                entries.retain(|(k, _)| !user.iter().any(|(uk, _)| uk == k));
                entries.extend(user);
            }
            auth = Some(Value::Object(entries));
        }
        let packet = Packet::Connect {
            namespace: ns.path.clone(),
            data: auth,
        };
        self.namespaces[index].connect_in_flight = true;
        self.push_packet(&packet);
    }

    fn discard_send_buffer(&mut self, index: usize) {
        let ns = &mut self.namespaces[index];
        ns.buffered_bytes = 0;
        let dropped = std::mem::take(&mut ns.send_buffer);
        for id in dropped.into_iter().filter_map(|e| e.ack) {
            self.resolve_ack_timeout(id);
        }
    }

    /// Acks already written on `namespace` can no longer be answered once it disconnects: time them out now,
    /// as socket.io-client does. Acks still in a send buffer keep waiting.
    fn fail_sent_acks(&mut self, namespace: &str) {
        let Some(ns) = self.namespaces.get(namespace) else {
            return;
        };
        let ids: Vec<AckId> = ns
            .acks
            .iter()
            .copied()
            .filter(|id| self.acks.get(id).is_some_and(|a| a.sent))
            .collect();
        for id in ids {
            self.resolve_ack_timeout(id);
        }
    }

    fn resolve_ack_timeout(&mut self, id: AckId) {
        let Some(pending) = self.acks.remove(&id) else { return };
        self.ack_deadlines.remove(&(pending.deadline, id));
        if let Some(ns) = self.namespaces.get_mut(&pending.namespace) {
            ns.acks.remove(&id);
            if let Some(pos) = ns.send_buffer.iter().position(|e| e.ack == Some(id)) {
                if let Some(removed) = ns.send_buffer.remove(pos) {
                    ns.buffered_bytes -= removed.size();
                }
            }
        }
        self.events.push_back(ClientEvent::AckTimeout {
            namespace: pending.namespace,
            id,
        });
    }

    /// Ends the connection on the client's or server's word: no reconnection follows.
    fn shut_engine(&mut self, reason: DisconnectReason) {
        self.last_error = None;
        let was_open = self.is_open();
        if was_open {
            for index in 0..self.namespaces.slot_count() {
                if let Some(ns) = self
                    .namespaces
                    .slot(index)
                    .filter(|ns| ns.state == ConnectionState::Connected)
                {
                    let packet = Packet::Disconnect {
                        namespace: ns.path.clone(),
                    };
                    self.push_packet(&packet);
                }
            }
        }
        self.drop_namespaces(reason, false);
        if !matches!(self.state, EngineState::Idle | EngineState::Backoff { .. }) {
            self.commands.push_back(TransportCommand::Close);
        }
        self.state = EngineState::Idle;
        self.reconnect_attempt = 0;
        self.decoder.reset();
        if was_open {
            self.events.push_back(ClientEvent::Closed { reason, cause: None });
        }
    }

    /// The connection is gone: every namespace leaves it (and waits to rejoin, `Connecting`, when `rejoin` and
    /// wanted); those that were connected report `reason`, and their unanswered acks time out.
    fn drop_namespaces(&mut self, reason: DisconnectReason, rejoin: bool) {
        // The connection that owed these answers is gone.
        self.leaving.clear();
        for index in 0..self.namespaces.slot_count() {
            let Some(ns) = self.namespaces.slot_mut(index) else {
                continue;
            };
            let was_connected = ns.state == ConnectionState::Connected;
            ns.connect_in_flight = false;
            ns.state = if ns.wanted && rejoin {
                ConnectionState::Connecting
            } else {
                ConnectionState::Disconnected
            };
            ns.sid = None;
            ns.early_events.clear();
            if was_connected {
                let path = ns.path.clone();
                self.fail_sent_acks(&path);
                self.events.push_back(ClientEvent::NamespaceDisconnected {
                    namespace: path,
                    reason,
                    was_connected: true,
                });
            }
        }
    }

    /// The connection was lost (or never opened): tell the user, then reconnect if that is allowed.
    fn lose(&mut self, now: Instant, reason: DisconnectReason, message: &str) {
        self.last_error = Some(message.to_owned());
        let was_open = self.is_open();
        let reconnect = self.config.reconnect.enabled && reason.allows_reconnect() && self.any_wanted();
        self.commands.push_back(TransportCommand::Close);
        self.decoder.reset();
        self.drop_namespaces(reason, reconnect);
        if was_open {
            let cause = matches!(reason, DisconnectReason::ParseError | DisconnectReason::TransportError)
                .then(|| message.to_owned());
            self.events.push_back(ClientEvent::Closed { reason, cause });
        } else {
            self.events.push_back(ClientEvent::TransportError(ConnectError {
                message: message.to_owned(),
                data: None,
            }));
        }
        self.state = EngineState::Idle;
        if reconnect {
            self.schedule_reconnect(now);
        } else {
            self.reconnect_attempt = 0;
        }
    }

    fn schedule_reconnect(&mut self, now: Instant) {
        let attempt = self.reconnect_attempt + 1;
        if self.config.reconnect.max_attempts.is_some_and(|max| attempt > max) {
            self.events.push_back(ClientEvent::ReconnectFailed {
                attempts: self.reconnect_attempt,
            });
            self.reconnect_attempt = 0;
            for ns in self.namespaces.values_mut() {
                ns.state = ConnectionState::Disconnected;
            }
            return;
        }
        let delay = backoff::delay(&self.config.reconnect, attempt, &mut self.jitter);
        self.reconnect_attempt = attempt;
        self.state = EngineState::Backoff {
            until: later(now, delay),
        };
        self.events.push_back(ClientEvent::ReconnectAttempt { attempt, delay });
    }
}

/// Sets `ns.wanted`, keeping `count` (the session's number of wanted namespaces) in step.
fn want(ns: &mut Namespace, count: &mut usize, wanted: bool) {
    if ns.wanted != wanted {
        ns.wanted = wanted;
        if wanted {
            *count += 1;
        } else {
            *count -= 1;
        }
    }
}

/// `now + duration`, saturating far in the future instead of overflowing (a server may announce any interval).
fn later(now: Instant, duration: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(duration.min(CENTURY)).unwrap_or(now)
}
