//! Engine.IO v4 packets over WebSocket: one packet per text message, binary messages carried raw.

use std::time::Duration;

use crate::codec::payload::Payload;
use crate::error::DecodeError;

/// What the server said in its OPEN packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Engine.IO session id.
    pub sid: String,
    /// How often the server pings.
    pub ping_interval: Duration,
    /// How long the server waits for our pong (and we add to `ping_interval` before giving up on it).
    pub ping_timeout: Duration,
    /// Largest message the server accepts, in bytes.
    pub max_payload: usize,
    /// The transports the session can be upgraded to (`["websocket"]` over polling, `[]` over WebSocket or when the
    /// server allows no upgrade).
    pub upgrades: Vec<String>,
}

/// One Engine.IO text packet, borrowing from the frame it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnginePacket<'a> {
    /// `0{...}`: the handshake.
    Open(Handshake),
    /// `1`: the server closes the session.
    Close,
    /// `2` (optionally with data, e.g. `2probe`).
    Ping(&'a str),
    /// `3`.
    Pong(&'a str),
    /// `4...`: a Socket.IO packet in text form.
    Message(&'a str),
    /// `5`: transport upgrade (not expected on a websocket-only session).
    Upgrade,
    /// `6`.
    Noop,
}

/// The Engine.IO packet-type digit for a message: a Socket.IO packet is sent as `"4" + packet`.
pub const MESSAGE_PREFIX: char = '4';
/// Our answer to a ping.
pub const PONG: &str = "3";

/// The largest `maxPayload` used when the server does not say (the Engine.IO default, 1 MB).
const DEFAULT_MAX_PAYLOAD: usize = 1_000_000;

/// Decodes one Engine.IO text packet.
pub fn decode(text: &str) -> Result<EnginePacket<'_>, DecodeError> {
    let mut chars = text.chars();
    let kind = chars.next().ok_or(DecodeError::Empty)?;
    let rest = chars.as_str();
    Ok(match kind {
        '0' => EnginePacket::Open(parse_handshake(rest)?),
        '1' => EnginePacket::Close,
        '2' => EnginePacket::Ping(rest),
        '3' => EnginePacket::Pong(rest),
        '4' => EnginePacket::Message(rest),
        '5' => EnginePacket::Upgrade,
        '6' => EnginePacket::Noop,
        other => return Err(DecodeError::UnknownEnginePacketType(other)),
    })
}

fn parse_handshake(json_text: &str) -> Result<Handshake, DecodeError> {
    let bad = |why: &str| DecodeError::BadHandshake(why.to_owned());
    // Checked without building a tree: only four members are read.
    let value = Payload::parse(json_text, 4).map_err(|e| DecodeError::BadHandshake(e.to_string()))?;
    let sid = value.get_str("sid").ok_or_else(|| bad("no string \"sid\""))?;
    if sid.is_empty() {
        return Err(bad("empty \"sid\""));
    }
    let millis = |key: &str| match value.get_int(key) {
        Some(ms) if ms >= 0 => Ok(Duration::from_millis(ms as u64)),
        _ => Err(DecodeError::BadHandshake(format!(
            "\"{key}\" is not a non-negative integer"
        ))),
    };
    let max_payload = match value.get_int("maxPayload") {
        None if !value.has("maxPayload") => DEFAULT_MAX_PAYLOAD,
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(usize::MAX),
        _ => return Err(bad("\"maxPayload\" is not a positive integer")),
    };
    // Read only by the polling transport; a server that leaves it out (or sends something else) offers none.
    let upgrades = match value.member("upgrades").map(|m| m.to_value()) {
        Some(crate::codec::value::Value::Array(items)) => items
            .into_iter()
            .filter_map(|item| match item {
                crate::codec::value::Value::String(name) => Some(name),
                _ => None,
            })
            .take(8)
            .collect(),
        _ => Vec::new(),
    };
    Ok(Handshake {
        upgrades,
        sid,
        ping_interval: millis("pingInterval")?,
        ping_timeout: millis("pingTimeout")?,
        max_payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_document_examples() {
        // engine.io-protocol v4, "Example" of the handshake and the heartbeat.
        let open = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#;
        assert_eq!(
            decode(open).unwrap(),
            EnginePacket::Open(Handshake {
                sid: "lv_VI97HAXpY6yYWAAAC".into(),
                ping_interval: Duration::from_millis(25000),
                ping_timeout: Duration::from_millis(5000),
                max_payload: 1_000_000,
                upgrades: vec!["websocket".into()],
            })
        );
        assert_eq!(decode("2").unwrap(), EnginePacket::Ping(""));
        assert_eq!(decode("2probe").unwrap(), EnginePacket::Ping("probe"));
        assert_eq!(decode("3probe").unwrap(), EnginePacket::Pong("probe"));
        assert_eq!(decode("4hello").unwrap(), EnginePacket::Message("hello"));
        assert_eq!(decode("1").unwrap(), EnginePacket::Close);
        assert_eq!(decode("5").unwrap(), EnginePacket::Upgrade);
        assert_eq!(decode("6").unwrap(), EnginePacket::Noop);
    }

    #[test]
    fn refusals() {
        assert_eq!(decode(""), Err(DecodeError::Empty));
        assert_eq!(decode("7"), Err(DecodeError::UnknownEnginePacketType('7')));
        assert_eq!(decode("é"), Err(DecodeError::UnknownEnginePacketType('é')));
        for bad in [
            "0",
            "0{}",
            r#"0{"sid":1,"pingInterval":1,"pingTimeout":1}"#,
            r#"0{"sid":"","pingInterval":1,"pingTimeout":1}"#,
            r#"0{"sid":"a","pingInterval":-1,"pingTimeout":1}"#,
            r#"0{"sid":"a","pingInterval":1.5,"pingTimeout":1}"#,
            r#"0{"sid":"a","pingInterval":1,"pingTimeout":1,"maxPayload":"x"}"#,
            r#"0[[[[[[[[]]]]]]]]"#,
        ] {
            assert!(matches!(decode(bad), Err(DecodeError::BadHandshake(_))), "{bad}");
        }
    }
}
