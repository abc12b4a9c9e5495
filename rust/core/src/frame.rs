//! WebSocket frames as the engine sees them.

use bytes::Bytes;
/// UTF-8 text in shared bytes (tungstenite's): a received message's text goes from the socket's buffer to the
/// payload that holds it without a copy. `From<String>` and `From<&str>`; derefs to `str`.
pub use tungstenite::Utf8Bytes;

/// One WebSocket data message: an Engine.IO text packet, or a raw binary attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text message (an Engine.IO packet, type digit first).
    Text(Utf8Bytes),
    /// A binary message (a Socket.IO binary attachment).
    Binary(Bytes),
}

impl Frame {
    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(s) => s.len(),
            Frame::Binary(b) => b.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
