//! Transports: the only code of the crate that touches sockets, behind one seam, [`Transport`].
//!
//! # The seam
//!
//! A [`Client`](crate::Client) drives one transport at a time, and knows nothing of what it runs on. It gets each
//! transport from the [`Connector`] of its kind, then, in every `poll` of its own, in this order:
//!
//! 1. [`Transport::limit_reads`]: a new poll starts, and reading gets a new time budget;
//! 2. [`Transport::poll`] until it returns `None` (or the session asks for something else): the transport advances
//!    a connect under way, reads what is ready and reports it as [`TransportEvent`]s, one per call;
//! 3. [`Transport::send`] for each packet the session queued, then [`Transport::flush`] once, at the end (so the
//!    packets of one game frame leave together).
//!
//! [`Transport::close`] ends it when the session says so; a transport that ends by itself reports why, once, as
//! its last event ([`TransportEvent::Closed`]). Nothing blocks: a connect returns at once and a read or write that
//! would wait is left for a later poll. The split follows engine.io-client's transports (`open`, `send(packets)`,
//! `close`, and `packet`/`close` events): the transport carries Engine.IO packets, and knows nothing of what they
//! mean; every protocol decision is the session's.
//!
//! A transport is a type parameter of the client (static dispatch: no virtual call on the poll loop or on a send).
//! The default is [`AutoTransport`], which holds a WebSocket or an HTTP long-polling transport as
//! [`ClientConfig::transports`] says, falls back from one to the other, and upgrades polling to WebSocket; it
//! reports the switch as [`TransportEvent::Upgraded`]. Polling fits the same seam as WebSocket: `send` queues,
//! `flush` posts the queued packets as one payload, `poll` returns the packets of the poll responses one by one.
//!
//! # Files
//!
//! Each file uses only those below it in this list (and this file's seam):
//!
//! - [`auto`]: the transport of the `transports` list, with fallback and upgrade, over the two below.
//! - [`polling`]: the HTTP long-polling transport; its `connection` module is one keep-alive HTTP connection
//!   (a dial, then requests and responses through [`http`]).
//! - [`websocket`]: the WebSocket transport, tungstenite over a `Stream`; its `connect` module opens it (a dial,
//!   then the upgrade).
//! - `dial`: DNS (on a short-lived thread), TCP and TLS, step by step from `poll()`, to a stream.
//! - `proxy`: the HTTP proxy's `CONNECT` tunnel, a step of the dial when `proxy_url` is set.
//! - `stream`: the non-blocking byte stream, plain or TLS, with a read deadline and HTTP header gathering.
//! - `tls`: rustls set-up, and a certificate verifier that reaches Godot's own verdicts.
//! - [`http`]: HTTP/1.1 client requests and responses as bytes (sans-I/O), and the cookie jar of a connection.

pub mod auto;
mod dial;
pub mod http;
pub mod polling;
mod proxy;
mod stream;
mod tls;
pub mod websocket;

use std::time::{Duration, Instant};

use crate::codec::raw::RawPacket;
use crate::config::{ClientConfig, TransportKind};
use crate::endpoint::Endpoint;
use crate::error::TransportEnd;

pub use auto::{AutoConnector, AutoTransport};
pub use polling::{PollingConnector, PollingTransport};
pub use websocket::{WebSocketConnector, WebSocketTransport, MIN_WRITE_BUFFER_LIMIT, READ_CHUNK};

/// Longest time a transport spends reading in one client poll (from [`Transport::limit_reads`] on): about 1 MiB on
/// loopback. A larger message arrives over several polls instead of stalling one frame. The price: a client polled
/// 60 times a second takes in at most about 60 MiB/s; a server that sends faster for long builds a backlog in the
/// socket (its pings then arrive late too).
pub const READ_TIME_PER_POLL: Duration = Duration::from_micros(500);

/// What [`Transport::poll`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportEvent {
    /// The connection is open. Reported once, first.
    Connected,
    /// A packet arrived (a WebSocket data message).
    RawPacket(RawPacket),
    /// The connection is over. Reported once, last; `poll` returns `None` afterwards.
    Closed(TransportEnd),
    /// The session moved to another transport (polling was upgraded to WebSocket): what follows comes over it.
    Upgraded(TransportKind),
}

/// Opens transports of one kind: the client asks it for a new transport at each connection attempt.
pub trait Connector {
    /// The transport it opens.
    type Transport: Transport;

    /// Starts connecting to `endpoint` with what it needs of `config` (TLS settings, limits) and returns the
    /// transport at once. A connection that cannot be opened is reported by the transport's poll, as
    /// [`TransportEvent::Closed`] with [`TransportEnd::ConnectFailed`].
    #[must_use]
    fn connect(&mut self, now: Instant, endpoint: &Endpoint, config: &ClientConfig) -> Self::Transport;
}

/// One connection to the server, as the client drives it. See the [module documentation](self) for the order of
/// the calls.
pub trait Transport {
    /// What opens transports of this kind.
    type Connector: Connector<Transport = Self>;

    /// A client poll starts: from now on, reads may take [`READ_TIME_PER_POLL`], and no longer, until the next
    /// call (what does not fit waits in the socket, in order). For transports that read a socket; the default does
    /// nothing.
    fn limit_reads(&mut self) {}

    /// The next event, or `None` when nothing is ready. Never blocks. Also advances a connect under way and writes
    /// out what [`send`](Self::send) and [`flush`](Self::flush) could not.
    #[must_use]
    fn poll(&mut self, now: Instant) -> Option<TransportEvent>;

    /// Queues `packet`. It may wait for [`flush`](Self::flush) (or the next `poll`), so that several leave together.
    /// Packets sent while connecting leave once the connection is open; after the end they are dropped. A failure
    /// is reported by the next `poll`.
    fn send(&mut self, packet: RawPacket);

    /// Writes out what is queued, as far as the socket takes it without blocking.
    fn flush(&mut self);

    /// Ends the connection (abandoning a connect under way), without blocking. No event follows.
    fn close(&mut self);

    /// The transport carrying the connection now (or trying to open it).
    fn kind(&self) -> TransportKind;

    /// Whether what was sent is still waiting because the connection did not take it: the socket refused more at
    /// the last write (WebSocket), or a request is out and more waits for the next (polling). Volatile emits are
    /// dropped then (socket.io-client drops them while its transport is not writable). The default: never.
    fn is_backlogged(&self) -> bool {
        false
    }
}
