//! `Client`: the session state machine wired to the WebSocket transport. One per connection; no globals.

use std::time::{Duration, Instant};

use crate::config::ClientConfig;
use crate::error::{CommandError, UrlError};
use crate::event::{AckId, ClientEvent, ConnectionState};
use crate::value::Value;

/// A Socket.IO client connection. Drive it with [`Client::poll`], then drain [`Client::poll_event`].
///
/// Nothing here blocks: `connect` starts the connection and returns, and `poll` does only the work that is ready.
pub struct Client {
    config: ClientConfig,
}

impl Client {
    /// A client with these settings, not connected.
    pub fn new(config: ClientConfig) -> Self {
        Client { config }
    }

    /// The settings in force. Changes take effect at the next `connect`.
    pub fn config_mut(&mut self) -> &mut ClientConfig {
        &mut self.config
    }

    /// Starts connecting to `url` (closing any previous connection first). Returns at once.
    /// Namespaces, the main one included, connect with [`Client::connect_namespace`].
    pub fn connect(&mut self, url: &str, now: Instant) -> Result<(), UrlError> {
        let _ = (url, now);
        unimplemented!("wired in the session commit")
    }

    /// Does every piece of work that is ready: transport I/O, decoding, timers, reconnection.
    pub fn poll(&mut self, now: Instant) {
        let _ = now;
    }

    /// The next event, in the order they happened.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        None
    }

    /// Connects (or reconnects) namespace `ns` with `auth`. Sent once the connection is open.
    pub fn connect_namespace(&mut self, ns: &str, auth: Option<Value>) -> Result<(), CommandError> {
        let _ = (ns, auth);
        unimplemented!()
    }

    /// Disconnects namespace `ns` (sends DISCONNECT). The connection stays open.
    pub fn disconnect_namespace(&mut self, ns: &str) -> Result<(), CommandError> {
        let _ = ns;
        unimplemented!()
    }

    /// Emits `event` with `args` on `ns`; buffered until the namespace connects.
    pub fn emit(&mut self, ns: &str, event: &str, args: Vec<Value>) -> Result<(), CommandError> {
        let _ = (ns, event, args);
        unimplemented!()
    }

    /// Emits and waits for the server's acknowledgement; `AckResponse` or `AckTimeout` with the returned id follows.
    pub fn emit_with_ack(
        &mut self,
        ns: &str,
        event: &str,
        args: Vec<Value>,
        timeout: Duration,
        now: Instant,
    ) -> Result<AckId, CommandError> {
        let _ = (ns, event, args, timeout, now);
        unimplemented!()
    }

    /// Answers the server's event that carried `ack_id` on `ns`.
    pub fn send_ack(&mut self, ns: &str, ack_id: u64, args: Vec<Value>) -> Result<(), CommandError> {
        let _ = (ns, ack_id, args);
        unimplemented!()
    }

    /// Closes the connection ("io client disconnect"); no reconnection follows.
    pub fn close(&mut self) {}

    /// State of the connection as a whole.
    pub fn state(&self) -> ConnectionState {
        ConnectionState::Disconnected
    }

    /// Engine.IO session id, while connected.
    pub fn engine_sid(&self) -> Option<&str> {
        None
    }

    /// State of namespace `ns`.
    pub fn namespace_state(&self, ns: &str) -> ConnectionState {
        let _ = ns;
        ConnectionState::Disconnected
    }

    /// Socket.IO session id of namespace `ns`, while connected.
    pub fn namespace_sid(&self, ns: &str) -> Option<&str> {
        let _ = ns;
        None
    }

    /// The URL given to the last `connect`, as given.
    pub fn url(&self) -> &str {
        ""
    }
}
