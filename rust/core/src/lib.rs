//! A Godot-free Socket.IO v5 / Engine.IO v4 client engine.
//!
//! - [`codec`] ([`engineio`](codec::engineio), [`packet`](codec::packet), [`binary`](codec::binary), [`json`](codec::json)) turn frames into packets and back, refusing
//!   malformed input with a typed [`DecodeError`]. Received payloads are checked, not decoded into a tree
//!   ([`payload`](codec::payload)): their consumer reads them token by token.
//! - [`session`] is a sans-I/O state machine: frames and instants in, frames and [`ClientEvent`]s out. It never
//!   reads a clock.
//! - [`transport`] is the only code that touches sockets (tungstenite over TCP, HTTP/1.1 long-polling, rustls for
//!   `wss://` and `https://`); it opens connections without blocking (the private `dial` module, then the WebSocket
//!   upgrade or the polling handshake), and its [`auto`](transport::auto) transport falls back from WebSocket to
//!   polling and upgrades polling to WebSocket. Its [`http`](transport::http) module is a sans-I/O HTTP/1.1 codec
//!   (httparse for response heads).
//! - [`Client`] wires the two together behind a non-blocking `poll()`.
//! - [`multiplayer`] is the game's side of the multiplayer relay protocol (`relay/PROTOCOL.md`), sans-I/O, for
//!   Godot's `MultiplayerPeer`.
//! - [`check`] says which event names, namespace paths and nesting depths are accepted, and [`config`] holds the
//!   settings with their defaults: the one definition of each, for the decoder, the session and every front end.

pub mod check;
pub mod client;
pub mod codec;
pub mod config;
pub mod endpoint;
pub mod error;
pub mod event;
pub mod multiplayer;
pub mod session;
pub mod stats;
pub mod transport;

pub use client::Client;
pub use codec::payload::Payload;
pub use codec::raw::RawPacket;
pub use codec::value::Value;
pub use config::{ClientConfig, Limits, ReconnectConfig, TlsConfig, TlsVerification, TransportKind};
pub use error::{
    BufferLimit, CommandError, ConnectFailure, DecodeError, EncodeError, PayloadEncodeError, TransportEnd, UrlError,
};
pub use event::{AckId, AckRequest, ClientEvent, ConnectError, ConnectionState, DisconnectReason};
pub use stats::Stats;
