//! Transports: the only code of the crate that touches sockets.
//!
//! Each file uses only those below it in this list:
//!
//! - [`websocket`]: the WebSocket transport, tungstenite over a `Stream`; its `connect` module
//!   opens it (a dial, then the upgrade).
//! - `dial`: DNS (on a short-lived thread), TCP and TLS, step by step from `poll()`, to a stream.
//! - `stream`: the non-blocking byte stream, plain or TLS, with a read deadline and HTTP header gathering.
//! - `tls`: rustls set-up, and a certificate verifier that reaches Godot's own verdicts.

mod dial;
mod stream;
mod tls;
pub mod websocket;

pub use websocket::{TransportEvent, WebSocketTransport, MIN_WRITE_BUFFER_LIMIT, READ_CHUNK, READ_TIME_PER_POLL};
