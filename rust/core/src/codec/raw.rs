//! Engine.IO packets as transports carry them, before decoding.

use bytes::Bytes;
/// UTF-8 text in shared bytes (tungstenite's): a received message's text goes from the socket's buffer to the
/// payload that holds it without a copy. `From<String>` and `From<&str>`; derefs to `str`.
pub use tungstenite::Utf8Bytes;

/// One Engine.IO packet as a transport carries it, not yet decoded: a text packet (a WebSocket text message, or
/// one packet of a polling payload), or a binary one (a Socket.IO attachment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawPacket {
    /// A text message (an Engine.IO packet, type digit first).
    Text(Utf8Bytes),
    /// A binary message (a Socket.IO binary attachment).
    Binary(Bytes),
}

impl RawPacket {
    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        match self {
            RawPacket::Text(s) => s.len(),
            RawPacket::Binary(b) => b.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
