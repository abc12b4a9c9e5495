//! The HTTP long-polling payload codec on arbitrary response bodies.
//!
//! Input: one byte of limits (bits 0–3: the packet cap, 1–16; bits 4–7: the body cap in steps of 64 bytes, 64–1024,
//! or no cap when 0), then the body.
//!
//! Checks: no panic; a decoded body has at least one packet and no more than the cap; its packets encode again
//! (into one body when the cap is the body's size); the bodies decode back to the same packets, in order; no body
//! exceeds the cap; and re-encoded into one body, the body comes back byte for byte.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use socketio_core::codec::polling::{decode_payload, encode_payloads, encoded_len};

fuzz_target!(|data: &[u8]| {
    let Some((&limits, body)) = data.split_first() else {
        return;
    };
    let max_packets = usize::from(limits & 0x0f) + 1;
    let max_bytes = match usize::from(limits >> 4) {
        0 => usize::MAX,
        n => n * 64,
    };
    let body = Bytes::copy_from_slice(body);
    let Ok(packets) = decode_payload(body.clone(), max_bytes, max_packets) else {
        return;
    };
    assert!(!packets.is_empty() && packets.len() <= max_packets);

    // Re-encoded with the body's own size as the cap: one body, decoding to the same packets.
    let cap = body.len();
    let bodies = encode_payloads(&packets, cap).expect("decoded packets encode again");
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        decode_payload(bodies[0].clone(), cap, max_packets).as_ref(),
        Ok(&packets)
    );
    // Base64 is decoded strictly (padding and trailing bits canonical), so the body comes back byte for byte.
    assert_eq!(bodies[0], body);

    // Re-encoded with a smaller cap: several bodies, none over it, decoding to the same packets in order.
    let largest = packets.iter().map(encoded_len).max().unwrap_or(0);
    let cap = largest.max(cap / 3);
    let bodies = encode_payloads(&packets, cap).expect("each packet fits alone");
    let mut decoded = Vec::new();
    for body in &bodies {
        assert!(body.len() <= cap);
        decoded.extend(decode_payload(body.clone(), cap, usize::MAX).expect("an encoded body decodes"));
    }
    assert_eq!(decoded, packets);
});
