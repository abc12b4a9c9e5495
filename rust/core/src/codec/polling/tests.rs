use bytes::Bytes;
use proptest::prelude::*;

use super::*;

const BIG: usize = 1 << 20;

fn text(s: &str) -> RawPacket {
    RawPacket::Text(Utf8Bytes::from(s))
}

fn binary(b: &[u8]) -> RawPacket {
    RawPacket::Binary(Bytes::copy_from_slice(b))
}

fn decode(body: &[u8]) -> Result<Vec<RawPacket>, DecodeError> {
    decode_payload(Bytes::copy_from_slice(body), BIG, 100)
}

// Vectors of the Engine.IO v4 protocol document (socket.io/docs/v4/engine-io-protocol, "HTTP long-polling").
#[test]
fn protocol_vectors_decode() {
    assert_eq!(
        decode("4hello\x1e4€".as_bytes()).unwrap(),
        vec![text("4hello"), text("4€")]
    );
    let open = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#;
    let body = format!("{open}\x1e2");
    assert_eq!(decode(body.as_bytes()).unwrap(), vec![text(open), text("2")]);
    assert_eq!(
        decode(b"4hello\x1ebAQIDBA==").unwrap(),
        vec![text("4hello"), binary(&[1, 2, 3, 4])]
    );
    assert_eq!(decode(b"bAQIDBA==").unwrap(), vec![binary(&[1, 2, 3, 4])]);
    assert_eq!(decode(b"6").unwrap(), vec![text("6")]);
    assert_eq!(decode(b"b").unwrap(), vec![binary(&[])]);
}

#[test]
fn protocol_vectors_encode() {
    let bodies = encode_payloads(&[text("4hello"), text("4€")], BIG).unwrap();
    assert_eq!(bodies, vec![Bytes::from("4hello\x1e4€")]);
    let bodies = encode_payloads(&[text("4hello"), binary(&[1, 2, 3, 4])], BIG).unwrap();
    assert_eq!(bodies, vec![Bytes::from_static(b"4hello\x1ebAQIDBA==")]);
    assert_eq!(
        encode_payloads(&[binary(&[])], BIG).unwrap(),
        vec![Bytes::from_static(b"b")]
    );
    assert_eq!(encode_payloads(&[], BIG).unwrap(), Vec::<Bytes>::new());
}

#[test]
fn text_is_sliced_from_the_body() {
    let body = Bytes::from_static(b"4abc\x1e4def");
    let packets = decode_payload(body.clone(), BIG, 10).unwrap();
    let RawPacket::Text(second) = &packets[1] else {
        panic!("text expected")
    };
    assert_eq!(second.as_ptr(), body[5..].as_ptr());
}

#[test]
fn encoded_len_is_exact() {
    for n in 0..20 {
        let packet = binary(&vec![7; n]);
        let body = &encode_payloads(std::slice::from_ref(&packet), BIG).unwrap();
        let got = body.first().map_or(0, Bytes::len);
        assert_eq!(encoded_len(&packet), got, "{n} bytes");
    }
    assert_eq!(encoded_len(&text("4€")), 4);
}

#[test]
fn refuses_invalid_utf8() {
    assert_eq!(decode(b"4\xff"), Err(DecodeError::PayloadNotUtf8));
    assert_eq!(decode(b"2\x1e4\xe2\x82"), Err(DecodeError::PayloadNotUtf8));
    assert_eq!(decode(b"b\xff"), Err(DecodeError::PayloadNotUtf8));
}

#[test]
fn refuses_empty_packets() {
    assert_eq!(decode(b""), Err(DecodeError::EmptyPayloadPacket { index: 0 }));
    assert_eq!(decode(b"2\x1e\x1e3"), Err(DecodeError::EmptyPayloadPacket { index: 1 }));
    assert_eq!(decode(b"2\x1e"), Err(DecodeError::EmptyPayloadPacket { index: 1 }));
    assert_eq!(decode(b"\x1e2"), Err(DecodeError::EmptyPayloadPacket { index: 0 }));
}

#[test]
fn refuses_invalid_base64() {
    for bad in [
        &b"2\x1ebAQIDBA="[..],
        b"2\x1ebAQIDBA",
        b"2\x1eb!!!!",
        b"2\x1ebAQIDBA==\n",
        b"2\x1ebAR==",
    ] {
        assert_eq!(decode(bad), Err(DecodeError::InvalidBase64 { index: 1 }), "{bad:?}");
    }
}

#[test]
fn refuses_too_many_packets() {
    assert_eq!(
        decode_payload(Bytes::from_static(b"2\x1e3\x1e6"), BIG, 3)
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        decode_payload(Bytes::from_static(b"2\x1e3\x1e6\x1e6"), BIG, 3),
        Err(DecodeError::TooManyPayloadPackets { max: 3 })
    );
}

#[test]
fn refuses_large_bodies() {
    assert_eq!(decode_payload(Bytes::from_static(b"4hello"), 6, 10).unwrap().len(), 1);
    assert_eq!(
        decode_payload(Bytes::from_static(b"4hello!"), 6, 10),
        Err(DecodeError::PayloadTooLarge { size: 7, max: 6 })
    );
}

#[test]
fn batches_at_the_exact_boundary() {
    // "4abc" + "\x1e" + "4def" is 9 bytes.
    let packets = [text("4abc"), text("4def")];
    assert_eq!(encode_payloads(&packets, 9).unwrap(), vec![Bytes::from("4abc\x1e4def")]);
    assert_eq!(
        encode_payloads(&packets, 8).unwrap(),
        vec![Bytes::from("4abc"), Bytes::from("4def")]
    );
    // A packet exactly max_payload long goes alone; one byte more is refused.
    assert_eq!(encode_payloads(&[text("4abc")], 4).unwrap(), vec![Bytes::from("4abc")]);
    // Binary: "bAQIDBA==" is 9 bytes.
    assert_eq!(encode_payloads(&[binary(&[1, 2, 3, 4])], 9).unwrap().len(), 1);
    assert_eq!(
        encode_payloads(&[binary(&[1, 2, 3, 4])], 8),
        Err(PayloadEncodeError::PacketTooLarge { size: 9, max: 8 })
    );
}

#[test]
fn batcher_reports_and_goes_on() {
    let mut batcher = PayloadBatcher::new(6);
    assert_eq!(batcher.max_payload(), 6);
    assert!(batcher.is_empty());
    assert_eq!(batcher.finish(), None);
    assert_eq!(batcher.push(&text("2")), Ok(None));
    assert!(batcher.fits(&text("3")));
    assert!(!batcher.fits(&text("4hello")));
    assert_eq!(
        batcher.push(&text("4hello!")),
        Err(PayloadEncodeError::PacketTooLarge { size: 7, max: 6 })
    );
    assert_eq!(batcher.push(&text("4a\x1eb")), Err(PayloadEncodeError::SeparatorInText));
    assert_eq!(batcher.push(&text("")), Err(PayloadEncodeError::EmptyText));
    assert!(!batcher.fits(&text("")));
    assert_eq!((batcher.len(), batcher.body_len()), (1, 1));
    assert_eq!(batcher.push(&text("3")), Ok(None));
    assert_eq!(batcher.push(&text("4ab")), Ok(Some(Bytes::from("2\x1e3"))));
    assert_eq!(batcher.finish(), Some(Bytes::from("4ab")));
    assert!(batcher.is_empty());
}

#[test]
fn refuses_unencodable_text() {
    assert_eq!(
        encode_payloads(&[text("4a\x1eb")], BIG),
        Err(PayloadEncodeError::SeparatorInText)
    );
    assert_eq!(encode_payloads(&[text("")], BIG), Err(PayloadEncodeError::EmptyText));
}

#[test]
fn display_texts() {
    assert_eq!(
        DecodeError::PayloadNotUtf8.to_string(),
        "polling payload is not valid UTF-8"
    );
    assert_eq!(
        DecodeError::EmptyPayloadPacket { index: 2 }.to_string(),
        "empty packet at position 2 of a polling payload"
    );
    assert_eq!(
        DecodeError::InvalidBase64 { index: 1 }.to_string(),
        "invalid base64 in the binary packet at position 1 of a polling payload"
    );
    assert_eq!(
        DecodeError::TooManyPayloadPackets { max: 3 }.to_string(),
        "polling payload of more than 3 packets"
    );
    assert_eq!(
        DecodeError::PayloadTooLarge { size: 7, max: 6 }.to_string(),
        "polling payload of 7 bytes, larger than the cap (6 bytes)"
    );
    assert_eq!(
        PayloadEncodeError::PacketTooLarge { size: 7, max: 6 }.to_string(),
        "packet of 7 bytes, larger than the server's maxPayload (6 bytes)"
    );
    assert_eq!(
        PayloadEncodeError::SeparatorInText.to_string(),
        "text packet holds the record separator \\x1e, which HTTP long-polling cannot carry"
    );
    assert_eq!(PayloadEncodeError::EmptyText.to_string(), "empty text packet");
}

fn packet_strategy() -> impl Strategy<Value = RawPacket> {
    prop_oneof![
        // Type digit first, then any text without the separator (multi-byte characters included).
        ("[0-6]", "[^\x1e]{0,40}").prop_map(|(t, rest)| RawPacket::Text(Utf8Bytes::from(t + &rest))),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| RawPacket::Binary(Bytes::from(b))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(512) })]

    #[test]
    fn random_packets_round_trip(packets in proptest::collection::vec(packet_strategy(), 0..30), cap in 1usize..300) {
        let fitting: Vec<RawPacket> = packets.into_iter().filter(|p| encoded_len(p) <= cap).collect();
        let bodies = encode_payloads(&fitting, cap).unwrap();
        let mut decoded = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            prop_assert!(body.len() <= cap, "body {} of {} bytes over {}", i, body.len(), cap);
            let packets = decode_payload(body.clone(), cap, usize::MAX).unwrap();
            prop_assert!(!packets.is_empty());
            // Greedy: the first packet of the next body did not fit in this one.
            if let Some(next) = bodies.get(i + 1) {
                let first = decode_payload(next.clone(), cap, usize::MAX).unwrap().remove(0);
                prop_assert!(body.len() + 1 + encoded_len(&first) > cap);
            }
            decoded.extend(packets);
        }
        prop_assert_eq!(decoded, fitting);
    }

    #[test]
    fn arbitrary_bodies_do_not_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(packets) = decode_payload(Bytes::from(body), BIG, 1000) {
            let bodies = encode_payloads(&packets, BIG).unwrap();
            prop_assert_eq!(bodies.len(), 1);
            prop_assert_eq!(decode_payload(bodies[0].clone(), BIG, 1000).unwrap(), packets);
        }
    }
}
