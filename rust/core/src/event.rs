//! What the engine reports to its front end.

use std::time::Duration;

use crate::codec::payload::Payload;
use crate::error::CommandError;

/// Identifies one `emit_with_ack` of this client; unique for the client's lifetime.
pub type AckId = u64;

/// The server's request to acknowledge one of its events: answer it with `Client::send_ack`.
///
/// It belongs to the namespace session the event arrived in: once that session ends, by a disconnection or a
/// reconnection, answering it is refused with [`CommandError::AckExpired`](crate::CommandError::AckExpired) rather
/// than sent in a new session, where the server no longer waits for it, and where a server that numbers its
/// requests per session (python-socketio, from 0 again) would take it for the answer to another question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AckRequest {
    /// The server's ack id.
    pub id: u64,
    /// The namespace session it belongs to: a number unique in the process, given when the namespace connects; 0
    /// for a request that came in no session (before the answer to our CONNECT), which can never be answered.
    pub session: u64,
}

/// Why a connection or a namespace was closed. The strings are socket.io-client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// The server sent DISCONNECT (`socket.disconnect()` on the server). No automatic reconnection.
    IoServerDisconnect,
    /// The client closed (`close()` or `disconnect_from_namespace()`). No automatic reconnection.
    IoClientDisconnect,
    /// No ping arrived within `pingInterval + pingTimeout`.
    PingTimeout,
    /// The connection was closed (by the server, or the network).
    TransportClose,
    /// The connection failed with an I/O or protocol error of the WebSocket layer.
    TransportError,
    /// The server sent something the decoder refused.
    ParseError,
}

impl DisconnectReason {
    /// socket.io-client's string for this reason, e.g. `"io server disconnect"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::IoServerDisconnect => "io server disconnect",
            DisconnectReason::IoClientDisconnect => "io client disconnect",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
        }
    }

    /// Whether socket.io-client reconnects automatically after this reason.
    pub fn allows_reconnect(self) -> bool {
        !matches!(
            self,
            DisconnectReason::IoServerDisconnect | DisconnectReason::IoClientDisconnect
        )
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Connection state of the client or of one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ConnectionState {
    /// Not connected, and not trying to.
    #[default]
    Disconnected,
    /// Connecting, or waiting to reconnect.
    Connecting,
    /// Connected.
    Connected,
}

/// A refusal by the server of a namespace CONNECT (a CONNECT_ERROR packet), or a failure to open the connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// Human-readable message: the server's `message`, or a description of the transport failure.
    pub message: String,
    /// The server's `data`, when its middleware attached some (`err.data = {...}`).
    pub data: Option<Payload>,
}

impl ConnectError {
    /// What the server's CONNECT_ERROR packet says: `{"message": ..., "data": ...}`, or a bare string (old servers).
    pub(crate) fn refusal(data: &Payload) -> Self {
        match data.as_string() {
            Some(message) => ConnectError { message, data: None },
            None => ConnectError {
                message: data.get_str("message").unwrap_or_default(),
                data: data.member("data"),
            },
        }
    }
}

/// One thing that happened, in the order it happened. Drained with `Client::poll_event`.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// The Engine.IO handshake completed: the connection is up (namespaces connect next).
    Open {
        /// Engine.IO session id.
        sid: String,
        /// The transport it opened over.
        transport: crate::config::TransportKind,
    },
    /// The connection moved to another transport: HTTP long-polling was upgraded to WebSocket. Packets keep their
    /// order across it.
    Upgraded {
        /// The transport now in use.
        transport: crate::config::TransportKind,
    },
    /// The connection could not be opened (DNS, TCP, TLS, WebSocket upgrade, handshake timeout). Each namespace that
    /// was waiting for it then gets `NamespaceTransportError`.
    TransportError(ConnectError),
    /// The whole connection closed. Every connected namespace also gets `NamespaceDisconnected`, before this event.
    Closed {
        /// Why.
        reason: DisconnectReason,
        /// What more the client knows of it: the decoder's refusal after a [`DisconnectReason::ParseError`] (e.g.
        /// `message of 16777300 bytes, larger than max_message_size (16777216 bytes)`), the error after a
        /// [`DisconnectReason::TransportError`]; `None` after a close by either side or a ping timeout.
        cause: Option<String>,
    },
    /// A namespace is connected.
    NamespaceConnected {
        /// Namespace path, e.g. `/` or `/admin`.
        namespace: String,
        /// Socket.IO session id of this namespace.
        sid: String,
        /// Whether the server restored the previous session (connection state recovery).
        recovered: bool,
    },
    /// The server refused to connect the namespace (CONNECT_ERROR).
    NamespaceConnectError {
        /// Namespace path.
        namespace: String,
        /// The server's message and data.
        error: ConnectError,
    },
    /// The connection could not be opened while this namespace was waiting for it: it was asked to connect, and
    /// neither the client nor the server disconnected it since. Follows the `TransportError`, one per such
    /// namespace, in the order they were created. The namespace still waits: it joins when a connection opens.
    NamespaceTransportError {
        /// Namespace path.
        namespace: String,
        /// The `TransportError`'s.
        error: ConnectError,
    },
    /// A namespace left the connection: a connected one for any reason, or one still connecting that the client
    /// disconnected (`disconnect_namespace`).
    NamespaceDisconnected {
        /// Namespace path.
        namespace: String,
        /// Why.
        reason: DisconnectReason,
        /// Whether it was connected (its `NamespaceConnected` came before); `false` for one still connecting.
        /// After each `NamespaceConnected` exactly one `NamespaceDisconnected` with `was_connected` follows.
        was_connected: bool,
    },
    /// The server emitted an event.
    Event {
        /// Namespace path.
        namespace: String,
        /// Event name.
        name: String,
        /// Arguments after the name (checked, not decoded: read them with [`Payload::reader`]).
        args: Payload,
        /// Present when the server waits for an acknowledgement: answer with `Client::send_ack`.
        ack: Option<AckRequest>,
    },
    /// The server answered one of our `emit_with_ack` calls.
    AckResponse {
        /// Namespace path.
        namespace: String,
        /// The id `emit_with_ack` returned.
        id: AckId,
        /// The server's answer.
        args: Payload,
    },
    /// No answer came in time for one of our `emit_with_ack` calls (or the connection was closed by the client).
    AckTimeout {
        /// Namespace path.
        namespace: String,
        /// The id `emit_with_ack` returned.
        id: AckId,
    },
    /// An emit buffered while the namespace was not connected could not be sent once it connected (it is larger
    /// than the server's `maxPayload`). Its ack, if any, times out.
    EmitFailed {
        /// Namespace path.
        namespace: String,
        /// Why: [`CommandError::TooLarge`] with the server's limit.
        error: CommandError,
    },
    /// A reconnection attempt is scheduled.
    ReconnectAttempt {
        /// 1 for the first attempt after a loss.
        attempt: u32,
        /// Delay before this attempt starts.
        delay: Duration,
    },
    /// A reconnection attempt succeeded (the Engine.IO handshake completed).
    Reconnected {
        /// The attempt that succeeded.
        attempt: u32,
    },
    /// Reconnection gave up after the configured number of attempts.
    ReconnectFailed {
        /// Attempts made.
        attempts: u32,
    },
}
