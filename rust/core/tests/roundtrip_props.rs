//! Property tests of the codec: what the encoder writes, the decoder reads back unchanged, and no input makes the
//! JSON or Engine.IO decoders panic.

use bytes::Bytes;
use proptest::prelude::*;
use socketio_core::check;
use socketio_core::codec::packet::{Decoder, Packet, MAX_ACK_ID};
use socketio_core::codec::{binary, engineio, json};
use socketio_core::{Limits, Value};

/// Limits roomy enough for any generated packet: attachments are only bounded by what the generator makes.
fn limits() -> Limits {
    Limits {
        max_attachments: 1_000,
        ..Limits::default()
    }
}

/// A leaf value: every scalar kind, `Binary` included (so it appears at any depth).
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::Float),
        any::<String>().prop_map(Value::String),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(|b| Value::Binary(Bytes::from(b))),
    ]
}

/// Object entries with unique keys, never `_placeholder` (an object with `"_placeholder": true` is a placeholder).
fn entries(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Vec<(String, Value)>> {
    prop::collection::vec((any::<String>(), inner), 0..5).prop_map(|raw| {
        let mut entries: Vec<(String, Value)> = Vec::with_capacity(raw.len());
        for (key, value) in raw {
            if key != "_placeholder" && !entries.iter().any(|(k, _)| *k == key) {
                entries.push((key, value));
            }
        }
        entries
    })
}

/// Value trees up to 5 levels deep.
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            entries(inner).prop_map(Value::Object),
        ]
    })
}

/// Like [`value`], without `Binary` anywhere (for packets that cannot carry attachments).
fn value_without_binary() -> impl Strategy<Value = Value> {
    let leaf = leaf().prop_filter("no binary", |v| !matches!(v, Value::Binary(_)));
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            entries(inner).prop_map(Value::Object),
        ]
    })
}

/// `/`, or `/` followed by anything but `,` and control characters (what the decoder accepts as a namespace).
fn namespace() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_owned()),
        "[^,\\p{Cc}]{0,24}".prop_map(|rest| format!("/{rest}")),
    ]
}

fn event_name() -> impl Strategy<Value = String> {
    any::<String>().prop_filter("valid event name", |n| check::event_name(n).is_ok())
}

fn ack_id() -> impl Strategy<Value = u64> {
    prop_oneof![0..1_000u64, 0..=MAX_ACK_ID]
}

fn args() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(value(), 0..5)
}

fn event() -> impl Strategy<Value = Packet> {
    (namespace(), event_name(), args(), prop::option::of(ack_id())).prop_map(|(namespace, name, args, id)| {
        Packet::Event {
            namespace,
            name,
            args,
            id,
        }
    })
}

fn ack() -> impl Strategy<Value = Packet> {
    (namespace(), ack_id(), args()).prop_map(|(namespace, id, args)| Packet::Ack { namespace, id, args })
}

/// Packets with no binary: CONNECT (object or no auth), DISCONNECT, CONNECT_ERROR (object or string).
fn control() -> impl Strategy<Value = Packet> {
    prop_oneof![
        (namespace(), prop::option::of(entries(value_without_binary()))).prop_map(|(namespace, data)| {
            Packet::Connect {
                namespace,
                data: data.map(Value::Object),
            }
        }),
        namespace().prop_map(|namespace| Packet::Disconnect { namespace }),
        (
            namespace(),
            prop_oneof![
                entries(value_without_binary()).prop_map(Value::Object),
                any::<String>().prop_map(Value::String),
            ]
        )
            .prop_map(|(namespace, data)| Packet::ConnectError { namespace, data }),
    ]
}

fn binary_count(packet: &Packet) -> usize {
    match packet {
        Packet::Event { args, .. } | Packet::Ack { args, .. } => args.iter().map(binary::count).sum(),
        Packet::Connect { data: Some(d), .. } => binary::count(d),
        Packet::ConnectError { data, .. } => binary::count(data),
        _ => 0,
    }
}

/// Encodes `packet`, checks the attachment count, and decodes it back (text, then each attachment in order).
fn round_trip(packet: &Packet) -> Result<Packet, TestCaseError> {
    let mut text = String::new();
    let mut attachments = Vec::new();
    packet
        .encode(&mut text, &mut attachments)
        .map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
    prop_assert_eq!(attachments.len(), binary_count(packet), "attachments of {}", text);

    let mut decoder = Decoder::new(&limits());
    let mut decoded = decoder
        .decode_text(&text)
        .map_err(|e| TestCaseError::fail(format!("decode {text:?}: {e}")))?;
    for (i, bytes) in attachments.into_iter().enumerate() {
        prop_assert!(decoded.is_none(), "{} complete before attachment {}", text, i);
        decoded = decoder
            .decode_binary(bytes)
            .map_err(|e| TestCaseError::fail(format!("attachment {i} of {text:?}: {e}")))?;
    }
    prop_assert!(!decoder.is_waiting_for_binary());
    decoded
        .map(|p| p.to_packet())
        .ok_or_else(|| TestCaseError::fail(format!("{text:?} never completed")))
}

/// A JSON-looking string: mostly JSON punctuation, digits and keywords, so the parser gets past the first byte.
fn jsonish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\[\\]{}\",:0-9.eE+\\-\\\\ truefalsnl_ué\u{1F3AE}]{0,64}",
        prop::collection::vec(
            prop_oneof![
                Just("["),
                Just("]"),
                Just("{"),
                Just("}"),
                Just(","),
                Just(":"),
                Just("\"k\""),
                Just("\"_placeholder\""),
                Just("1"),
                Just("-0"),
                Just("1.5e308"),
                Just("1e400"),
                Just("18446744073709551616"),
                Just("null"),
                Just("true"),
                Just("\"\\ud800\""),
            ],
            0..32
        )
        .prop_map(|parts| parts.concat()),
    ]
}

proptest! {
    // No regression files: a failure prints its minimal input, which belongs in a named test.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(256) })]

    #[test]
    fn events_round_trip(packet in event()) {
        prop_assert_eq!(round_trip(&packet)?, packet);
    }

    #[test]
    fn acks_round_trip(packet in ack()) {
        prop_assert_eq!(round_trip(&packet)?, packet);
    }

    #[test]
    fn control_packets_round_trip(packet in control()) {
        prop_assert_eq!(round_trip(&packet)?, packet);
    }

    /// The encoder writes `2.0` for a float that holds an integer, so it comes back a float, not an int.
    #[test]
    fn integral_floats_stay_floats(i in -(1i64 << 49)..=(1i64 << 49), exponent in 0i32..=22) {
        // Exactly representable with at most 16 digits written (`i.0`), so the value must come back unchanged
        // too; exactness in general is `floats_round_trip_exactly`'s.
        for f in [i as f64, 10f64.powi(exponent), -(10f64.powi(exponent))] {
            let packet = Packet::Event {
                namespace: "/".into(),
                name: "f".into(),
                args: vec![Value::Float(f)],
                id: None,
            };
            let decoded = round_trip(&packet)?;
            prop_assert!(
                matches!(&decoded, Packet::Event { args, .. } if matches!(args[..], [Value::Float(_)])),
                "{:?} came back as {:?}", f, decoded
            );
            prop_assert_eq!(decoded, packet);
        }
    }

    /// Any finite float comes back bit for bit (the encoder writes the shortest representation).
    #[test]
    fn floats_round_trip_exactly(f in any::<f64>()) {
        prop_assume!(f.is_finite());
        let mut text = String::new();
        json::write(&Value::Float(f), &mut text, &mut Vec::new(), "f").unwrap();
        let back = json::parse(&text, 1).unwrap();
        prop_assert!(
            matches!(back, Value::Float(g) if g.to_bits() == f.to_bits()),
            "{:?} written as {} came back as {:?}", f, text, back
        );
    }

    #[test]
    fn json_parse_never_panics(text in jsonish(), max_depth in 0usize..8) {
        let _ = json::parse(&text, max_depth);
    }

    #[test]
    fn engineio_decode_never_panics(kind in "[0-9a-zé]?", body in jsonish()) {
        let _ = engineio::decode(&format!("{kind}{body}"));
    }

    #[test]
    fn engineio_handshake_never_panics(
        sid in any::<String>(),
        interval in any::<i64>(),
        timeout in any::<i64>(),
        max_payload in prop::option::of(any::<i64>()),
    ) {
        let mut text = String::from("0{\"sid\":");
        json::write_string(&sid, &mut text);
        text.push_str(&format!(",\"pingInterval\":{interval},\"pingTimeout\":{timeout}"));
        if let Some(max) = max_payload {
            text.push_str(&format!(",\"maxPayload\":{max}"));
        }
        text.push('}');
        let _ = engineio::decode(&text);
    }

    /// Socket.IO packet text of any shape: the decoder refuses or accepts it, without panicking.
    #[test]
    fn decoder_never_panics(kind in "[0-7]?", count in "([0-9]{0,3}-)?", ns in "(/[^,]{0,8},?)?", id in "[0-9]{0,3}",
                            body in jsonish(), attachments in prop::collection::vec(any::<Vec<u8>>(), 0..3)) {
        let mut decoder = Decoder::new(&Limits::default());
        let _ = decoder.decode_text(&format!("{kind}{count}{ns}{id}{body}"));
        for bytes in attachments {
            let _ = decoder.decode_binary(Bytes::from(bytes));
        }
    }
}
