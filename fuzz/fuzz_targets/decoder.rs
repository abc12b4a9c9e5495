//! The Socket.IO packet decoder on a sequence of text and binary frames.
//!
//! Input: one byte of limits, then frames. Each frame starts with a header byte: bit 7 set for a binary frame,
//! bits 0–5 the length; with bit 6 set the next byte adds bits 6–13 to the length. A final frame without a header
//! byte's worth of input is ignored, and a length past the end takes the rest. Text frames are the Socket.IO
//! packet text (no Engine.IO `4`), invalid UTF-8 replaced.
//!
//! Checks: no panic; a decoder checking texts in steps of 7 bytes gives the same results, frame by frame, as one
//! checking them at once; every packet decoded encodes again, with one attachment per `Binary`; the encoded form
//! decodes (text, then its attachments) to an equal packet; and encoding that packet gives the same text again.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use socketio_core::codec::packet::{Decoder, Packet, Received};
use socketio_core::DecodeError;
use socketio_core::codec::binary;
use socketio_core::Limits;

enum RawPacket {
    Text(String),
    Binary(Bytes),
}

fn frames(mut data: &[u8]) -> Vec<RawPacket> {
    let mut frames = Vec::new();
    while let Some((&header, rest)) = data.split_first() {
        data = rest;
        let mut len = usize::from(header & 0x3f);
        if header & 0x40 != 0 {
            if let Some((&high, rest)) = data.split_first() {
                data = rest;
                len |= usize::from(high) << 6;
            }
        }
        let (body, rest) = data.split_at(len.min(data.len()));
        data = rest;
        frames.push(if header & 0x80 != 0 {
            RawPacket::Binary(Bytes::copy_from_slice(body))
        } else {
            RawPacket::Text(String::from_utf8_lossy(body).into_owned())
        });
    }
    frames
}

fn binary_count(packet: &Packet) -> usize {
    match packet {
        Packet::Event { args, .. } | Packet::Ack { args, .. } => args.iter().map(binary::count).sum(),
        Packet::Connect { data: Some(d), .. } | Packet::ConnectError { data: d, .. } => binary::count(d),
        _ => 0,
    }
}

fn encode(packet: &Packet) -> (String, Vec<Bytes>) {
    let mut text = String::new();
    let mut attachments = Vec::new();
    // The decoder never yields NaN or infinity (it refuses out-of-range numbers), so this cannot fail.
    if let Err(e) = packet.encode(&mut text, &mut attachments) {
        panic!("decoded packet does not encode: {e}: {packet:?}");
    }
    assert_eq!(attachments.len(), binary_count(packet), "attachment count of {text:?}");
    (text, attachments)
}

fn check_round_trip(packet: &Packet, limits: &Limits) {
    let (text, attachments) = encode(packet);
    // Placeholders reused by the peer come back as one attachment each, so allow as many as were written.
    let roomy = Limits {
        max_attachments: limits.max_attachments.max(attachments.len()),
        ..limits.clone()
    };
    let mut decoder = Decoder::new(&roomy);
    let mut decoded = match decoder.decode_text(&text) {
        Ok(p) => p,
        Err(e) => panic!("re-encoded {text:?} does not decode: {e}\noriginal: {packet:?}"),
    };
    for (i, bytes) in attachments.into_iter().enumerate() {
        assert!(decoded.is_none(), "{text:?} complete before attachment {i}");
        decoded = match decoder.decode_binary(bytes) {
            Ok(p) => p,
            Err(e) => panic!("attachment {i} of re-encoded {text:?} refused: {e}"),
        };
    }
    let Some(decoded) = decoded.map(|p| p.to_packet()) else {
        panic!("re-encoded {text:?} never completed");
    };
    assert_eq!(&decoded, packet, "round trip through {text:?}");
    let (again, _) = encode(&decoded);
    assert_eq!(again, text, "encoding is not stable");
}

/// Decodes `text` checking it in steps until it is done.
fn in_steps(decoder: &mut Decoder, text: String) -> Result<Option<Received>, DecodeError> {
    let mut result = decoder.decode_message(text.into(), 0);
    while matches!(result, Ok(None)) && decoder.is_checking() {
        result = decoder.resume();
    }
    result
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, data)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_attachments: usize::from(config & 0x0f),
        max_depth: 1 + usize::from(config >> 4) * 8,
        ..Limits::default()
    };
    let mut decoder = Decoder::new(&limits);
    let mut stepped = Decoder::new(&limits).with_step(7);
    for frame in frames(data) {
        let (result, in_steps) = match frame {
            RawPacket::Text(text) => (decoder.decode_text(&text), in_steps(&mut stepped, text)),
            RawPacket::Binary(bytes) => (decoder.decode_binary(bytes.clone()), stepped.decode_binary(bytes)),
        };
        assert_eq!(result, in_steps, "checked at once and in steps");
        if let Ok(Some(packet)) = result {
            check_round_trip(&packet.to_packet(), &limits);
        }
    }
});
