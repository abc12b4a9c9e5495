//! The sans-I/O session: Engine.IO + Socket.IO state machine.
//!
//! Inputs are transport happenings and instants (`handle_*`), and commands from the front end (`emit`, `close`, …).
//! Outputs are drained by the driver after each input, in this order: [`Session::poll_transmit`] (frames to
//! write), [`Session::poll_command`] (open or close the transport), [`Session::poll_event`] (what to tell the
//! user), and [`Session::next_deadline`] (when to call [`Session::handle_timeout`]). It never reads a clock and
//! never touches a socket, so every scenario can be replayed in a test with made-up instants.
//!
//! This file is the engine: the Engine.IO connection (opening, handshake, heartbeat, loss, reconnection) and the
//! commands. Its parts, none of which knows the engine: `engine` (the connection's state), `namespace` (each
//! namespace's membership, one enum, and its one teardown), `acks` (our pending acks, and the sessions the
//! server's ack requests belong to), `send_buffer` (emits waiting for their namespace), `outbox` (frames,
//! transport commands and events not taken yet), [`backoff`] (reconnection delays) and [`table`] (values by path,
//! in creation order).

mod acks;
pub mod backoff;
mod engine;
mod namespace;
mod outbox;
mod send_buffer;
pub mod table;

use std::time::{Duration, Instant};

use crate::check;
use crate::codec::binary;
use crate::codec::engineio::{self, EnginePacket, Handshake};
use crate::codec::packet::{Decoder, Packet, Received};
use crate::codec::raw::RawPacket;
use crate::codec::value::Value;
use crate::config::{ClientConfig, TransportKind};
use crate::error::{CommandError, DecodeError, TransportEnd};
use crate::event::{AckId, AckRequest, ClientEvent, ConnectError, ConnectionState, DisconnectReason};
use acks::Acks;
use backoff::Reconnection;
use engine::{later, EngineState, Link};
use namespace::{Exit, Namespaces, Then};
use outbox::Outbox;
pub use outbox::TransportCommand;
use send_buffer::Encoded;

/// The Engine.IO + Socket.IO client state machine. See the module documentation.
#[derive(Debug)]
pub struct Session {
    config: ClientConfig,
    state: EngineState,
    decoder: Decoder,
    /// By path, in creation order, each with its membership.
    namespaces: Namespaces,
    acks: Acks,
    /// Why the connection last ended or failed by itself (see [`Session::last_error`]).
    last_error: Option<String>,
    reconnection: Reconnection,
    out: Outbox,
    /// The transport that carries the connection (what sizes are measured for).
    transport: TransportKind,
    /// See [`Session::reported_transport`].
    reported_transport: Option<TransportKind>,
    /// See [`Session::last_ack_round_trip`].
    last_ack_round_trip: Option<Duration>,
}

impl Session {
    /// A session with these settings, idle. `rng_seed` seeds the reconnection jitter.
    pub fn new(config: ClientConfig, rng_seed: u64) -> Self {
        Session {
            decoder: Decoder::new(&config.limits).with_step(config.decode_step),
            config,
            state: EngineState::Idle,
            namespaces: Namespaces::default(),
            acks: Acks::default(),
            last_error: None,
            reconnection: Reconnection::new(rng_seed),
            out: Outbox::default(),
            transport: TransportKind::WebSocket,
            reported_transport: None,
            last_ack_round_trip: None,
        }
    }

    /// The connection, as the namespaces see it.
    fn link(&self) -> Link {
        self.state.link(self.transport)
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
    #[must_use]
    #[inline]
    pub fn poll_transmit(&mut self) -> Option<RawPacket> {
        self.out.pop_frame()
    }

    /// The next transport command.
    #[must_use]
    #[inline]
    pub fn poll_command(&mut self) -> Option<TransportCommand> {
        self.out.pop_command()
    }

    /// The next event for the user.
    #[must_use]
    #[inline]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        let event = self.out.pop_event()?;
        match &event {
            ClientEvent::Open { transport, .. } | ClientEvent::Upgraded { transport } => {
                self.reported_transport = Some(*transport);
            }
            ClientEvent::Closed { .. } => self.reported_transport = None,
            _ => {}
        }
        Some(event)
    }

    /// The transport of the connection as the events handed out so far tell it: the one of the last
    /// [`ClientEvent::Open`] or [`ClientEvent::Upgraded`], `None` before and after [`ClientEvent::Closed`]. A front
    /// end that dispatches events one by one shows its handlers the transport of the event they handle, not one
    /// that an upgrade further down the queue brought.
    pub fn reported_transport(&self) -> Option<TransportKind> {
        self.reported_transport
    }

    /// The event [`Session::poll_event`] would return next, left in place.
    #[inline]
    pub fn peek_event(&self) -> Option<&ClientEvent> {
        self.out.peek_event()
    }

    /// When [`Session::handle_timeout`] next has something to do.
    #[inline]
    pub fn next_deadline(&self) -> Option<Instant> {
        match (self.state.deadline(), self.acks.next_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ----- getters -------------------------------------------------------------------------------------------

    /// State of the connection as a whole.
    pub fn state(&self) -> ConnectionState {
        self.state.connection_state()
    }

    /// Why the connection last ended or failed by itself: the cause behind a `"parse error"`, `"transport error"`,
    /// `"ping timeout"` or `"transport close"` (e.g. `JSON payload nested deeper than 64 levels
    /// (max_nesting_depth)`), or of a connection that could not be opened. `None` once a connection was closed on purpose (by the client or the server) since.
    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// Engine.IO session id while open.
    pub fn engine_sid(&self) -> Option<&str> {
        self.handshake().map(|h| h.sid.as_str())
    }

    /// The server's handshake while open.
    pub fn handshake(&self) -> Option<&Handshake> {
        self.state.handshake()
    }

    /// State of namespace `path` (`Disconnected` if unknown).
    pub fn namespace_state(&self, path: &str) -> ConnectionState {
        let link = self.link();
        self.namespaces
            .get(path)
            .map_or(ConnectionState::Disconnected, |ns| ns.state(link))
    }

    /// Socket.IO session id of namespace `path` while connected.
    pub fn namespace_sid(&self, path: &str) -> Option<&str> {
        self.namespaces.get(path).and_then(|ns| ns.sid())
    }

    /// Whether namespace `path`'s last connection restored its previous session (connection state recovery).
    pub fn namespace_recovered(&self, path: &str) -> bool {
        self.namespaces.get(path).is_some_and(|ns| ns.recovered())
    }

    /// Number of emits waiting in namespace `path`'s send buffer.
    pub fn buffered_packets(&self, path: &str) -> usize {
        self.namespaces.get(path).map_or(0, |ns| ns.buffer.len())
    }

    /// Number of acks still waiting for an answer or a timeout.
    pub fn pending_acks(&self) -> usize {
        self.acks.len()
    }

    /// Packets waiting in all the namespaces' send buffers.
    pub fn buffered_packets_total(&self) -> usize {
        self.namespaces.buffered_total()
    }

    /// For the ack answered last: the time from its emit to the `now` its answer was handled with; `None` before
    /// any.
    pub fn last_ack_round_trip(&self) -> Option<Duration> {
        self.last_ack_round_trip
    }

    /// Whether namespace `path` is registered (added and not removed).
    pub fn has_namespace(&self, path: &str) -> bool {
        self.namespaces.contains(path)
    }

    /// Number of registered namespaces.
    pub fn namespace_count(&self) -> usize {
        self.namespaces.len()
    }

    // ----- commands ------------------------------------------------------------------------------------------

    /// Starts a connection (closing the current one first, as the user's `close()` would).
    pub fn open(&mut self, now: Instant) {
        if !self.state.is_idle() {
            self.shut_engine(DisconnectReason::IoClientDisconnect);
        }
        self.reconnection.end();
        self.start_opening(now);
    }

    /// Registers namespace `path` (without connecting it). Returns an error for a path the wire cannot carry
    /// ([`check::namespace`]).
    pub fn add_namespace(&mut self, path: &str) -> Result<(), CommandError> {
        if check::namespace(path).is_err() {
            return Err(CommandError::InvalidNamespace(path.to_owned()));
        }
        self.namespaces.add(path);
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
        let index = self.namespaces.index_or_err(path)?;
        let link = self.link();
        self.namespaces.connect(index, auth, link, &mut self.out);
        Ok(())
    }

    /// Disconnects namespace `path` ("io client disconnect"): the server's events on it not taken yet are dropped,
    /// its buffered emits too (their acks time out, as do those sent: no answer can come any more), and
    /// `NamespaceDisconnected` follows if it was connected or connecting. When it was the last one in use, the
    /// connection closes.
    pub fn disconnect_namespace(&mut self, path: &str) -> Result<(), CommandError> {
        let index = self.namespaces.index_or_err(path)?;
        let link = self.link();
        self.namespaces
            .leave(index, Exit::Client, link, &mut self.acks, &mut self.out);
        self.close_if_unused(DisconnectReason::IoClientDisconnect);
        Ok(())
    }

    /// Forgets namespace `path`: disconnects it as [`Session::disconnect_namespace`] does, times out every pending
    /// ack of it (`AckTimeout`), then removes it: it is no longer known (its state reads `Disconnected`, commands on
    /// it fail with `UnknownNamespace`, and packets the server still sends on it are ignored) until it is added
    /// again. When it was the last namespace in use, the connection closes.
    pub fn remove_namespace(&mut self, path: &str) -> Result<(), CommandError> {
        let index = self.namespaces.index_or_err(path)?;
        let link = self.link();
        self.namespaces.remove(index, link, &mut self.acks, &mut self.out);
        self.close_if_unused(DisconnectReason::IoClientDisconnect);
        Ok(())
    }

    /// Removes every namespace, as [`Session::remove_namespace`] does one by one (in creation order).
    pub fn remove_all_namespaces(&mut self) {
        for path in self.namespaces.paths() {
            let _ = self.remove_namespace(&path);
        }
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
        self.expire_heartbeat(now);
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
        self.expire_heartbeat(now);
        let connected = self.namespace_state(path) == ConnectionState::Connected;
        self.emit_inner(now, path, name, args, None, true)?;
        Ok(connected)
    }

    /// Refuses what [`Session::emit`] would refuse for its name and namespace, without sending anything.
    pub fn check_emit(&self, path: &str, name: &str) -> Result<(), CommandError> {
        self.emit_target(path, name).map(|_| ())
    }

    /// The index of namespace `path` to emit `name` on, or why not (a bad event name, an unknown namespace).
    fn emit_target(&self, path: &str, name: &str) -> Result<usize, CommandError> {
        if check::event_name(name).is_err() {
            return Err(CommandError::InvalidEventName(name.to_owned()));
        }
        self.namespaces.index_or_err(path)
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
        let index = self.emit_target(path, name)?;
        let id = ack_timeout.map(|_| self.acks.next_id());
        let packet = Packet::Event {
            namespace: path.to_owned(),
            name: name.to_owned(),
            args,
            id,
        };
        let link = self.link();
        let encoded = Encoded::new(&packet, id, link.frame_limit)?;
        let sendable = self.namespaces.is_connected(index) && link.open;
        if volatile && !sendable {
            return Ok(None);
        }
        if sendable {
            self.out.send(encoded);
        } else {
            let ns = self.namespaces.slot_mut(index);
            ns.buffer.push(encoded, &self.config.limits)?;
        }
        if let (Some(id), Some(timeout)) = (id, ack_timeout) {
            self.namespaces.slot_mut(index).acks.insert(id);
            self.acks.insert(id, path, now, later(now, timeout), sendable);
        }
        Ok(id)
    }

    /// Answers the server's ack request on namespace `path`. Only in the session the request came from: after it
    /// ended (disconnection, reconnection) the answer is refused ([`CommandError::AckExpired`]).
    pub fn send_ack(&mut self, path: &str, request: AckRequest, args: Vec<Value>) -> Result<(), CommandError> {
        let index = self.namespaces.index_or_err(path)?;
        if !self.state.is_open() || !self.namespaces.slot_mut(index).in_session(request) {
            return Err(CommandError::AckExpired(path.to_owned()));
        }
        let packet = Packet::Ack {
            namespace: path.to_owned(),
            id: request.id,
            args,
        };
        let encoded = Encoded::new(&packet, None, self.link().frame_limit)?;
        self.out.send(encoded);
        Ok(())
    }

    /// Closes everything ("io client disconnect"): namespaces, connection, reconnection. The server's events not
    /// taken yet are dropped; pending acks time out now (no answer can come any more) and send buffers are emptied.
    pub fn close(&mut self) {
        self.out.drop_server_events(None);
        self.shut_engine(DisconnectReason::IoClientDisconnect);
        let link = self.link();
        self.namespaces.forget_all(link, &mut self.acks, &mut self.out);
        for id in self.acks.ids() {
            self.namespaces.time_out_ack(id, &mut self.acks, &mut self.out);
        }
    }

    /// Starts over, for a front end that lost track of the session (it caught a panic in the middle of a call):
    /// everything but the settings is forgotten at once, as by a new session (nothing is sent, no ack times out,
    /// undelivered events are dropped; ack ids go on from where they were, so they stay unique), except that each
    /// namespace that was connected is told it is not any more (`NamespaceDisconnected`, "transport error"), so
    /// that its `NamespaceConnected` keeps its pair. The driver drops its transport.
    pub fn reset(&mut self) {
        let connected = self.namespaces.connected();
        let fresh = Session::new(self.config.clone(), 0);
        let mut old = std::mem::replace(self, fresh);
        old.reconnection.end();
        self.reconnection = old.reconnection;
        self.acks = old.acks.emptied();
        for namespace in connected {
            self.out.event(ClientEvent::NamespaceDisconnected {
                namespace,
                reason: DisconnectReason::TransportError,
                was_connected: true,
            });
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
    #[inline]
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
                if !self.state.is_open() {
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
            if !self.state.is_open() {
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
                if let Some(pong) = self.state.ping(now, data) {
                    self.out.frame(RawPacket::Text(pong.into()));
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
        let sid = handshake.sid.clone();
        self.state = EngineState::open(now, handshake);
        self.decoder.reset();
        self.out.event(ClientEvent::Open {
            sid,
            transport: self.transport,
        });
        let attempt = self.reconnection.end();
        if attempt > 0 {
            self.out.event(ClientEvent::Reconnected { attempt });
        }
        let link = self.link();
        self.namespaces.join_waiting(link, &mut self.out);
        Ok(())
    }

    fn handle_packet(&mut self, now: Instant, packet: Received) {
        let link = self.link();
        let then = self.namespaces.receive(packet, link, &mut self.acks, &mut self.out);
        if let Some(emitted) = self.acks.take_answered() {
            self.last_ack_round_trip = Some(now.saturating_duration_since(emitted));
        }
        match then {
            Then::Done => {}
            Then::CloseIfUnused(reason) => self.close_if_unused(reason),
            Then::Fail(message) => self.lose(now, DisconnectReason::ParseError, message),
        }
    }

    /// The transport opening the connection (or carrying it) is `kind`: emits are measured against the server's
    /// `maxPayload` as it sends them.
    pub fn set_transport(&mut self, kind: TransportKind) {
        self.transport = kind;
    }

    /// The connection moved to transport `kind` (polling was upgraded to WebSocket).
    pub fn handle_upgrade(&mut self, kind: TransportKind) {
        self.transport = kind;
        if self.state.is_open() {
            self.out.event(ClientEvent::Upgraded { transport: kind });
        }
    }

    /// The transport in use (or being opened).
    pub fn transport(&self) -> TransportKind {
        self.transport
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
        while let Some(id) = self.acks.first_due(now) {
            self.namespaces.time_out_ack(id, &mut self.acks, &mut self.out);
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

    /// Whether the heartbeat deadline of the open connection has passed (nobody polled since it did).
    pub fn heartbeat_expired(&self, now: Instant) -> bool {
        matches!(self.state, EngineState::Open { ping_deadline, .. } if ping_deadline <= now)
    }

    /// engine.io-client's `_hasPingExpired()`, checked before sending: when the heartbeat deadline passed while
    /// nobody polled (a game paused, a blocking level load), the server has given the connection up too, and a
    /// packet written into it would be lost. It is given up first (`"ping timeout"`), so that the emit is buffered
    /// for the reconnection instead.
    fn expire_heartbeat(&mut self, now: Instant) {
        if self.heartbeat_expired(now) {
            self.lose(now, DisconnectReason::PingTimeout, "ping timeout");
        }
    }

    /// socket.io-client closes the connection when no namespace uses it any more.
    fn close_if_unused(&mut self, reason: DisconnectReason) {
        if !self.namespaces.any_wanted() && !self.state.is_idle() {
            self.shut_engine(reason);
        }
    }

    fn start_opening(&mut self, now: Instant) {
        // A new connection picks up limits changed since the last one.
        self.decoder = Decoder::new(&self.config.limits).with_step(self.config.decode_step);
        self.state = EngineState::opening(now, self.config.connect_timeout);
        self.out.command(TransportCommand::Open);
    }

    /// Ends the connection on the client's or server's word: no reconnection follows.
    fn shut_engine(&mut self, reason: DisconnectReason) {
        self.last_error = None;
        let link = self.link();
        self.namespaces
            .leave_all(|| Exit::Closed(reason), link, &mut self.acks, &mut self.out);
        if !matches!(self.state, EngineState::Idle | EngineState::Backoff { .. }) {
            self.out.command(TransportCommand::Close);
        }
        self.state = EngineState::Idle;
        self.reconnection.end();
        self.decoder.reset();
        if link.open {
            self.out.event(ClientEvent::Closed { reason, cause: None });
        }
    }

    /// The connection was lost (or never opened): tell the user, then reconnect if that is allowed.
    fn lose(&mut self, now: Instant, reason: DisconnectReason, message: &str) {
        self.last_error = Some(message.to_owned());
        let link = self.link();
        let reconnect = self.config.reconnect.enabled && reason.allows_reconnect() && self.namespaces.any_wanted();
        self.out.command(TransportCommand::Close);
        self.decoder.reset();
        self.namespaces
            .leave_all(|| Exit::Lost(reason), link, &mut self.acks, &mut self.out);
        if link.open {
            let cause = matches!(reason, DisconnectReason::ParseError | DisconnectReason::TransportError)
                .then(|| message.to_owned());
            self.out.event(ClientEvent::Closed { reason, cause });
        } else {
            let error = ConnectError {
                message: message.to_owned(),
                data: None,
            };
            self.out.event(ClientEvent::TransportError(error.clone()));
            self.namespaces.tell_unreachable(&error, &mut self.out);
        }
        self.state = EngineState::Idle;
        if !reconnect {
            self.reconnection.end();
            return;
        }
        match self.reconnection.next(&self.config.reconnect) {
            Ok((attempt, delay)) => {
                self.state = EngineState::Backoff {
                    until: later(now, delay),
                };
                self.out.event(ClientEvent::ReconnectAttempt { attempt, delay });
            }
            // The session stays idle: the namespaces that wanted the connection read `Disconnected`, and join the
            // next one that is opened.
            Err(attempts) => self.out.event(ClientEvent::ReconnectFailed { attempts }),
        }
    }
}
