//! Engine.IO v4 HTTP long-polling payloads: the bodies of the GET responses and POST requests of the `polling`
//! transport. No I/O.
//!
//! A payload is one or more packets joined by the record separator `\x1e`. A text packet is written as it is
//! (type digit first: `0{...}`, `2`, `4hello`); a binary one as `b` followed by its standard, padded base64
//! (`bAQIDBA==` is the four bytes 1, 2, 3, 4). Text packets cannot hold `\x1e`, as in engine.io-parser's
//! `encodePayload` / `decodePayload`.
//!
//! - [`decode_payload`]: a response body to its [`RawPacket`]s, text ones sliced from the body without a copy.
//! - [`PayloadBatcher`] and [`encode_payloads`]: packets to request bodies, none larger than the server's
//!   `maxPayload` (its handshake's field). engine.io-client estimates a binary packet's size and sends a lone
//!   packet whatever its size; here sizes are exact, and a packet that alone exceeds `maxPayload` is refused
//!   (the server would answer 413 and close the session).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;

use crate::codec::raw::{RawPacket, Utf8Bytes};
use crate::error::{DecodeError, PayloadEncodeError};

#[cfg(test)]
mod tests;

/// The record separator between the packets of a payload.
pub const SEPARATOR: u8 = 0x1e;

/// The prefix of a binary packet in a payload, before its base64.
pub const BINARY_PREFIX: u8 = b'b';

/// Decodes a polling response body into its packets, in order.
///
/// The body must be valid UTF-8, at most `max_bytes` long, and hold at most `max_packets` packets, none empty.
/// Text packets are slices of `body`; binary ones are decoded from base64 into new buffers. The Engine.IO packet
/// types are not checked here: that is [`crate::codec::engineio`]'s job, as for a WebSocket message.
pub fn decode_payload(body: Bytes, max_bytes: usize, max_packets: usize) -> Result<Vec<RawPacket>, DecodeError> {
    if body.len() > max_bytes {
        return Err(DecodeError::PayloadTooLarge {
            size: body.len(),
            max: max_bytes,
        });
    }
    // The separator is ASCII and never part of a multi-byte sequence, so a body is valid UTF-8 exactly when each
    // of its packets is: checking packet by packet checks the body once.
    let mut packets = Vec::new();
    let mut start = 0;
    for (index, segment) in body.split(|&b| b == SEPARATOR).enumerate() {
        if index >= max_packets {
            return Err(DecodeError::TooManyPayloadPackets { max: max_packets });
        }
        let end = start + segment.len();
        let range = start..end;
        start = end + 1;
        let Some(&first) = segment.first() else {
            return Err(DecodeError::EmptyPayloadPacket { index });
        };
        if first == BINARY_PREFIX {
            let encoded = &segment[1..];
            if std::str::from_utf8(encoded).is_err() {
                return Err(DecodeError::PayloadNotUtf8);
            }
            let data = STANDARD
                .decode(encoded)
                .map_err(|_| DecodeError::InvalidBase64 { index })?;
            packets.push(RawPacket::Binary(Bytes::from(data)));
        } else {
            let text = Utf8Bytes::try_from(body.slice(range)).map_err(|_| DecodeError::PayloadNotUtf8)?;
            packets.push(RawPacket::Text(text));
        }
    }
    Ok(packets)
}

/// Size in bytes of `packet` once written in a payload, without its separator: the text's length, or 1 + the
/// padded base64 length of the binary.
pub fn encoded_len(packet: &RawPacket) -> usize {
    match packet {
        RawPacket::Text(text) => text.len(),
        // A binary packet whose base64 length overflows `usize` cannot exist in memory; saturate to refuse it.
        RawPacket::Binary(data) => base64::encoded_len(data.len(), true).map_or(usize::MAX, |n| n.saturating_add(1)),
    }
}

/// Checks that `packet` can be written in a payload, and returns its encoded size.
fn check(packet: &RawPacket, max_payload: usize) -> Result<usize, PayloadEncodeError> {
    if let RawPacket::Text(text) = packet {
        if text.is_empty() {
            return Err(PayloadEncodeError::EmptyText);
        }
        if text.as_bytes().contains(&SEPARATOR) {
            return Err(PayloadEncodeError::SeparatorInText);
        }
    }
    let size = encoded_len(packet);
    if size > max_payload {
        return Err(PayloadEncodeError::PacketTooLarge { size, max: max_payload });
    }
    Ok(size)
}

/// Appends `packet`, already checked, to `body`.
fn write(body: &mut Vec<u8>, packet: &RawPacket) {
    match packet {
        RawPacket::Text(text) => body.extend_from_slice(text.as_bytes()),
        RawPacket::Binary(data) => {
            body.push(BINARY_PREFIX);
            let at = body.len();
            body.resize(at + encoded_len(packet) - 1, 0);
            // The buffer was sized from `encoded_len`, so the slice encoder has exactly the room it needs.
            let written = STANDARD.encode_slice(data, &mut body[at..]).unwrap_or_default();
            debug_assert_eq!(written, body.len() - at);
        }
    }
}

/// Packs packets into request bodies, each at most `max_payload` bytes, in order.
///
/// [`push`](Self::push) adds a packet to the body being built; when it does not fit there, the body is returned
/// finished and the packet starts the next one. [`finish`](Self::finish) returns the last body. A refused packet
/// changes nothing, so the caller can report it and go on.
#[derive(Debug, Clone)]
pub struct PayloadBatcher {
    max_payload: usize,
    body: Vec<u8>,
    packets: usize,
}

impl PayloadBatcher {
    /// A batcher for bodies of at most `max_payload` bytes (the server's handshake `maxPayload`).
    pub fn new(max_payload: usize) -> Self {
        PayloadBatcher {
            max_payload,
            body: Vec::new(),
            packets: 0,
        }
    }

    /// The cap on each body, in bytes.
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// Whether the body being built holds no packet.
    pub fn is_empty(&self) -> bool {
        self.packets == 0
    }

    /// Packets in the body being built.
    pub fn len(&self) -> usize {
        self.packets
    }

    /// Size in bytes of the body being built.
    pub fn body_len(&self) -> usize {
        self.body.len()
    }

    /// Whether `packet` would go into the body being built without finishing it. False for a refused packet.
    pub fn fits(&self, packet: &RawPacket) -> bool {
        check(packet, self.max_payload).is_ok_and(|size| self.fits_size(size))
    }

    fn fits_size(&self, size: usize) -> bool {
        let separator = usize::from(self.packets > 0);
        self.body.len() + separator + size <= self.max_payload
    }

    /// Adds `packet`. Returns the finished previous body when `packet` did not fit in it (the packet then starts
    /// a new body), `None` otherwise. Refuses an empty text packet, a text packet holding `\x1e`, and a packet
    /// that alone is larger than `max_payload`; a refusal leaves the batcher as it was.
    pub fn push(&mut self, packet: &RawPacket) -> Result<Option<Bytes>, PayloadEncodeError> {
        let size = check(packet, self.max_payload)?;
        let finished = if self.fits_size(size) { None } else { self.finish() };
        if self.packets > 0 {
            self.body.push(SEPARATOR);
        }
        self.body.reserve(size);
        write(&mut self.body, packet);
        self.packets += 1;
        Ok(finished)
    }

    /// Returns the body being built, if it holds any packet, and starts an empty one.
    pub fn finish(&mut self) -> Option<Bytes> {
        if self.packets == 0 {
            return None;
        }
        self.packets = 0;
        Some(Bytes::from(std::mem::take(&mut self.body)))
    }
}

/// Encodes `packets` into as few request bodies as a greedy, in-order packing gives, each at most `max_payload`
/// bytes. Fails on the first packet [`PayloadBatcher::push`] refuses.
pub fn encode_payloads(packets: &[RawPacket], max_payload: usize) -> Result<Vec<Bytes>, PayloadEncodeError> {
    let mut batcher = PayloadBatcher::new(max_payload);
    let mut bodies = Vec::new();
    for packet in packets {
        bodies.extend(batcher.push(packet)?);
    }
    bodies.extend(batcher.finish());
    Ok(bodies)
}
