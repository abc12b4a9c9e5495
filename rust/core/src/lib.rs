//! A Godot-free Socket.IO v5 / Engine.IO v4 client engine.
//!
//! - codec modules ([`engineio`], [`packet`], [`binary`], [`json`]) turn frames into packets and back, refusing
//!   malformed input with a typed [`DecodeError`]. Received payloads are checked, not decoded into a tree
//!   ([`payload`]): their consumer reads them token by token.
//! - [`session`] is a sans-I/O state machine: frames and instants in, frames and [`ClientEvent`]s out. It never
//!   reads a clock.
//! - [`transport`] is the only code that touches sockets (tungstenite over TCP, rustls for `wss://`); it opens
//!   connections without blocking through the private `connect` module.
//! - [`Client`] wires the two together behind a non-blocking `poll()`.

pub mod backoff;
pub mod binary;
pub mod client;
pub mod config;
mod connect;
pub mod endpoint;
pub mod engineio;
pub mod error;
pub mod event;
pub mod frame;
pub mod json;
pub mod packet;
pub mod payload;
pub mod session;
pub mod table;
mod tls;
pub mod transport;
pub mod value;

pub use client::Client;
pub use config::{ClientConfig, Limits, ReconnectConfig, TlsConfig, TlsVerification};
pub use error::{BufferLimit, CommandError, DecodeError, EncodeError, UrlError};
pub use event::{AckId, AckRequest, ClientEvent, ConnectError, ConnectionState, DisconnectReason};
pub use frame::Frame;
pub use payload::Payload;
pub use value::Value;
