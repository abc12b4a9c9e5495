//! `Client`: the session state machine wired to a [`Transport`] (the WebSocket one by default). One per connection;
//! no globals.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use crate::check;
use crate::codec::raw::RawPacket;
use crate::codec::value::Value;
use crate::config::{ClientConfig, TransportKind};
use crate::endpoint::{Endpoint, Proxy};
use crate::error::{CommandError, ConnectFailure, TransportEnd, UrlError};
use crate::event::{AckId, AckRequest, ClientEvent, ConnectionState};
use crate::session::{Session, TransportCommand};
use crate::stats::Stats;
use crate::transport::{AutoConnector, AutoTransport, Connector, Transport, TransportEvent};

/// Most transport events handled in one `poll`, so a peer that floods us cannot hold the caller's frame.
const MAX_EVENTS_PER_POLL: usize = 20_000;

/// Longest time one [`Client::poll`] spends decoding a large received message (checking its payload, in steps of
/// [`ClientConfig::decode_step`] bytes). A message that needs more is decoded over several polls, and what arrived
/// after it waits in the socket meanwhile, so that order is kept. 16 MiB of the densest JSON (`[1,1,...]`) takes
/// about 60 ms to check on a 2-core VM: some 30 polls.
pub const DECODE_TIME_PER_POLL: Duration = Duration::from_millis(2);

/// A Socket.IO client connection. Drive it with [`Client::poll`], then drain [`Client::poll_event`].
///
/// Nothing here blocks: `connect` starts the connection and returns, and `poll` does only the work that is ready.
/// Outgoing frames are queued by the commands (`emit`, …) and written at the end of the next `poll` (or by
/// [`Client::flush`], which the Godot layer calls at the end of each frame that emitted), so the frames of one game
/// frame leave together.
///
/// `T` is the transport: [`AutoTransport`] (WebSocket or polling, as the config lists them) unless told otherwise
/// ([`Client::with_connector`], e.g. with [`WebSocketConnector`](crate::transport::WebSocketConnector)).
pub struct Client<T: Transport = AutoTransport> {
    session: Session,
    endpoint: Option<Endpoint>,
    url: String,
    /// Opens a transport at each connection attempt.
    connector: T::Connector,
    transport: Option<T>,
    /// `session.next_deadline()`, cached so an idle `poll` is a clock comparison.
    next_deadline: Option<Instant>,
    /// The counters of [`Client::stats`] (its gauges are read from the session when asked for).
    counters: Stats,
}

impl Client {
    /// A client with these settings, not connected, whose connections use the transports of
    /// [`ClientConfig::transports`] ([`AutoTransport`]).
    pub fn new(config: ClientConfig) -> Self {
        Client::with_connector(config, AutoConnector)
    }
}

impl<T: Transport> Client<T> {
    /// A client with these settings whose transports `connector` opens, not connected.
    pub fn with_connector(config: ClientConfig, connector: T::Connector) -> Self {
        let seed = RandomState::new().hash_one(0x5eed_u64);
        Client {
            session: Session::new(config, seed),
            endpoint: None,
            url: String::new(),
            connector,
            transport: None,
            next_deadline: None,
            counters: Stats::default(),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &ClientConfig {
        self.session.config()
    }

    /// Mutable settings. TLS, path and limits take effect at the next connection; reconnection settings at once.
    pub fn config_mut(&mut self) -> &mut ClientConfig {
        self.session.config_mut()
    }

    /// Starts connecting to `url` (closing any previous connection first). Returns at once.
    ///
    /// Namespaces, the main one included, connect with [`Client::connect_namespace`]; those already wanted
    /// rejoin when the connection opens.
    pub fn connect(&mut self, now: Instant, url: &str) -> Result<(), UrlError> {
        let config = self.session.config();
        let endpoint = Endpoint::parse(url, &config.path)?.with_query(&config.query)?;
        if let Some(proxy) = &config.proxy_url {
            Proxy::parse(proxy)?;
        }
        for (name, value) in &config.extra_headers {
            check::header(name, value).map_err(|e| UrlError::Invalid(format!("extra header {name:?}: {e}")))?;
        }
        self.endpoint = Some(endpoint);
        self.url = url.to_owned();
        self.session.open(now);
        self.apply_session_output(now);
        Ok(())
    }

    /// Does every piece of work that is ready: transport I/O, decoding, timers, reconnection, writes.
    ///
    /// Reading takes at most [`READ_TIME_PER_POLL`](crate::transport::READ_TIME_PER_POLL) and decoding a large
    /// message at most [`DECODE_TIME_PER_POLL`] (plus one step): what does not fit waits for the next poll, in order.
    pub fn poll(&mut self, now: Instant) {
        let decode_until = Instant::now() + DECODE_TIME_PER_POLL;
        if let Some(transport) = self.transport.as_mut() {
            transport.limit_reads();
        }
        let mut decoded = self.decode_until(now, decode_until);
        if decoded {
            for _ in 0..MAX_EVENTS_PER_POLL {
                let Some(transport) = self.transport.as_mut() else {
                    break;
                };
                match transport.poll(now) {
                    None => break,
                    Some(TransportEvent::Connected) => self.session.set_transport(transport.kind()),
                    Some(TransportEvent::Upgraded(kind)) => self.session.handle_upgrade(kind),
                    Some(TransportEvent::RawPacket(frame)) => {
                        self.counters.packets_in += 1;
                        self.counters.bytes_in += frame.len() as u64;
                        self.session.handle_frame(now, frame);
                        // A large message: decode it within this poll's budget; the next frames wait for it.
                        decoded = self.decode_until(now, decode_until);
                    }
                    Some(TransportEvent::Closed(closed)) => {
                        self.transport = None;
                        self.session.handle_transport_loss(now, closed);
                    }
                }
                // Pongs and acks go out at once; a Close or Open from the session replaces the transport.
                if self.apply_session_output(now) || !decoded {
                    break;
                }
            }
        }
        if self.next_deadline.is_some_and(|deadline| deadline <= now) {
            self.session.handle_timeout(now);
        }
        self.apply_session_output(now);
        if let Some(transport) = self.transport.as_mut() {
            transport.flush();
        }
    }

    /// Decodes the message being decoded in steps until it is done or `until` passed. Returns whether it is done.
    fn decode_until(&mut self, now: Instant, until: Instant) -> bool {
        while self.session.is_decoding() {
            if Instant::now() >= until {
                return false;
            }
            self.session.continue_decoding(now);
        }
        true
    }

    /// Before an emit: when the heartbeat deadline passed while nobody polled (a game paused, a blocking load),
    /// reads what the connection holds first. What arrived in time is kept (acks, events, the server's PING), and a
    /// connection the server closed meanwhile is seen closed, so that the emit is buffered for the reconnection
    /// instead of being written into it; if nothing came at all, the session gives the connection up ("ping
    /// timeout") before sending. Events found are queued for [`Self::poll_event`] as in any `poll`.
    fn catch_up(&mut self, now: Instant) {
        if self.session.heartbeat_expired(now) {
            self.poll(now);
        }
    }

    /// Writes what is queued now, without waiting for the next `poll`.
    pub fn flush(&mut self) {
        if let Some(transport) = self.transport.as_mut() {
            transport.flush();
        }
    }

    /// Carries out what the session asks, in the order it asked: hands its packets to the transport, opens or
    /// closes the transport, then caches the session's next deadline. Returns whether the transport was opened or
    /// closed.
    fn apply_session_output(&mut self, now: Instant) -> bool {
        let mut changed = false;
        while let Some(output) = next_output(&mut self.session, &mut self.next_deadline) {
            let command = match output {
                Output::Packet(packet) => {
                    if let Some(transport) = self.transport.as_mut() {
                        self.counters.packets_out += 1;
                        self.counters.bytes_out += packet.len() as u64;
                        transport.send(packet);
                    }
                    continue;
                }
                Output::Command(command) => command,
            };
            changed = true;
            match command {
                TransportCommand::Close => {
                    if let Some(mut transport) = self.transport.take() {
                        transport.close();
                    }
                }
                TransportCommand::Open => {
                    if let Some(mut old) = self.transport.take() {
                        old.close();
                    }
                    if let Some(endpoint) = &self.endpoint {
                        self.transport = Some(self.connector.connect(now, endpoint, self.session.config()));
                    } else {
                        let no_url = TransportEnd::ConnectFailed(ConnectFailure::NoUrl);
                        self.session.handle_transport_loss(now, no_url);
                    }
                }
            }
        }
        changed
    }

    /// The next event, in the order they happened.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        let event = self.session.poll_event()?;
        match &event {
            ClientEvent::Event { .. } => self.counters.events_in += 1,
            ClientEvent::Reconnected { .. } => self.counters.reconnects += 1,
            ClientEvent::ReconnectAttempt { .. } => self.counters.reconnect_attempts += 1,
            _ => {}
        }
        Some(event)
    }

    /// The traffic figures of this client so far (see [`crate::stats`] for what each counts). Cheap: the
    /// counters are copied, the send buffers' lengths summed.
    pub fn stats(&self) -> Stats {
        Stats {
            acks_pending: self.session.pending_acks() as u64,
            buffered_emits: self.session.buffered_packets_total() as u64,
            last_ack_round_trip: self.session.last_ack_round_trip(),
            ..self.counters
        }
    }

    /// The event [`Client::poll_event`] would return next, left in place.
    pub fn peek_event(&self) -> Option<&ClientEvent> {
        self.session.peek_event()
    }

    /// Registers namespace `ns` without connecting it (emits on it wait in its send buffer).
    pub fn add_namespace(&mut self, ns: &str) -> Result<(), CommandError> {
        self.session.add_namespace(ns)
    }

    /// Connects (or reconnects) namespace `ns` with `auth`: at once when the connection is open, otherwise as
    /// soon as it opens. If the client was closed but has a URL, it reconnects.
    pub fn connect_namespace(&mut self, now: Instant, ns: &str, auth: Option<Value>) -> Result<(), CommandError> {
        self.session.connect_namespace(ns, auth)?;
        if self.session.state() == ConnectionState::Disconnected && self.endpoint.is_some() {
            self.session.open(now);
        }
        self.apply_session_output(now);
        Ok(())
    }

    /// Disconnects namespace `ns` (sends DISCONNECT). The connection stays open while other namespaces use it.
    pub fn disconnect_namespace(&mut self, now: Instant, ns: &str) -> Result<(), CommandError> {
        self.session.disconnect_namespace(ns)?;
        self.apply_session_output(now);
        Ok(())
    }

    /// Forgets namespace `ns` (see [`Session::remove_namespace`]): disconnects it if needed, times out its acks and
    /// drops its send buffer. The connection closes when no namespace uses it any more.
    pub fn remove_namespace(&mut self, now: Instant, ns: &str) -> Result<(), CommandError> {
        self.session.remove_namespace(ns)?;
        self.apply_session_output(now);
        Ok(())
    }

    /// Removes every namespace (see [`Session::remove_all_namespaces`]); after [`Client::close`], this only forgets
    /// them.
    pub fn remove_all_namespaces(&mut self, now: Instant) {
        self.session.remove_all_namespaces();
        self.apply_session_output(now);
    }

    /// Whether namespace `ns` is registered (added and not removed).
    pub fn has_namespace(&self, ns: &str) -> bool {
        self.session.has_namespace(ns)
    }

    /// Emits `event` with `args` on `ns`; buffered until the namespace connects.
    pub fn emit(&mut self, now: Instant, ns: &str, event: &str, args: Vec<Value>) -> Result<(), CommandError> {
        self.catch_up(now);
        self.session.emit(now, ns, event, args, None)?;
        self.counters.events_out += 1;
        self.apply_session_output(now);
        Ok(())
    }

    /// Emits only if `ns` is connected right now and the connection is not backed up (what was sent before is all
    /// written: [`Transport::is_backlogged`]); otherwise drops it. Returns whether it was sent.
    pub fn emit_volatile(
        &mut self,
        now: Instant,
        ns: &str,
        event: &str,
        args: Vec<Value>,
    ) -> Result<bool, CommandError> {
        self.catch_up(now);
        if self.transport.as_ref().is_some_and(Transport::is_backlogged) {
            // Still checked as an emit would be (name, namespace), then dropped.
            self.session.check_emit(ns, event)?;
            return Ok(false);
        }
        let sent = self.session.emit_volatile(now, ns, event, args)?;
        self.counters.events_out += u64::from(sent);
        self.apply_session_output(now);
        Ok(sent)
    }

    /// Emits and waits for the server's acknowledgement; `AckResponse` or `AckTimeout` with the returned id follows
    /// exactly once.
    pub fn emit_with_ack(
        &mut self,
        now: Instant,
        ns: &str,
        event: &str,
        args: Vec<Value>,
        timeout: Duration,
    ) -> Result<AckId, CommandError> {
        self.catch_up(now);
        let id = self.session.emit(now, ns, event, args, Some(timeout))?;
        self.counters.events_out += 1;
        self.apply_session_output(now);
        Ok(id.expect("an emit with a timeout always gets an ack id"))
    }

    /// Answers the server's event that carried `request` on `ns` (refused once that namespace session ended).
    pub fn send_ack(
        &mut self,
        now: Instant,
        ns: &str,
        request: AckRequest,
        args: Vec<Value>,
    ) -> Result<(), CommandError> {
        self.session.send_ack(ns, request, args)?;
        self.apply_session_output(now);
        Ok(())
    }

    /// Closes the connection ("io client disconnect"); no reconnection follows.
    pub fn close(&mut self, now: Instant) {
        self.session.close();
        self.apply_session_output(now);
        self.flush();
    }

    /// State of the connection as a whole.
    pub fn state(&self) -> ConnectionState {
        self.session.state()
    }

    /// Why the connection last ended or failed by itself; see [`Session::last_error`].
    pub fn last_error(&self) -> Option<&str> {
        self.session.last_error()
    }

    /// Engine.IO session id, while connected.
    pub fn engine_sid(&self) -> Option<&str> {
        self.session.engine_sid()
    }

    /// The transport carrying the connection, as the events taken so far tell it (see
    /// [`Session::reported_transport`]): the one of the last `Open` or `Upgraded`, `None` when not connected.
    pub fn transport(&self) -> Option<TransportKind> {
        self.session.reported_transport()
    }

    /// State of namespace `ns`.
    pub fn namespace_state(&self, ns: &str) -> ConnectionState {
        self.session.namespace_state(ns)
    }

    /// Socket.IO session id of namespace `ns`, while connected.
    pub fn namespace_sid(&self, ns: &str) -> Option<&str> {
        self.session.namespace_sid(ns)
    }

    /// Whether namespace `ns`'s last connection restored its previous session (connection state recovery).
    pub fn namespace_recovered(&self, ns: &str) -> bool {
        self.session.namespace_recovered(ns)
    }

    /// The URL given to the last successful `connect`, as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The session, for inspection (buffered packets, pending acks, handshake).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Starts over with the same settings, for a front end that lost track of the client (it caught a panic in the
    /// middle of a call): the connection is dropped at once, and the URL, namespaces, acks and events are forgotten,
    /// as in a new client; each namespace that was connected is told it is not any more (see [`Session::reset`]).
    pub fn reset(&mut self) {
        self.session.reset();
        self.transport = None;
        self.endpoint = None;
        self.url.clear();
        self.next_deadline = None;
    }
}

/// What the session asks of the transport next.
enum Output {
    Packet(RawPacket),
    Command(TransportCommand),
}

/// The session's next packet to send, or else its next command; `None` when it has neither, and then `next_deadline`
/// is brought up to date. Not generic, so that it is compiled in this crate with the session's small methods inlined
/// (the generic client is compiled in the crate that uses it, where they would be calls).
fn next_output(session: &mut Session, next_deadline: &mut Option<Instant>) -> Option<Output> {
    if let Some(packet) = session.poll_transmit() {
        return Some(Output::Packet(packet));
    }
    if let Some(command) = session.poll_command() {
        return Some(Output::Command(command));
    }
    *next_deadline = session.next_deadline();
    None
}
