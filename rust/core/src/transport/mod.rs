//! Transports: the only code of the crate that touches sockets.
//!
//! - [`websocket`]: tungstenite over a non-blocking TCP socket, rustls for `wss://`.
//! - `connect`: opens it step by step from `poll()` (DNS on a short-lived thread, TCP, TLS, upgrade).
//! - `tls`: rustls set-up, and a certificate verifier that reaches Godot's own verdicts.

mod connect;
mod tls;
pub mod websocket;

pub use websocket::{TransportEvent, WebSocketTransport, MIN_WRITE_BUFFER_LIMIT, READ_CHUNK, READ_TIME_PER_POLL};
