//! Codec vectors from the socket.io-protocol v5 document, and every refusal the decoder makes.

use bytes::Bytes;
use socketio_core::codec::packet::{Decoder, Packet};
use socketio_core::{DecodeError, Limits, Value};

fn decoder() -> Decoder {
    Decoder::new(&Limits::default())
}

fn encode(packet: &Packet) -> (String, Vec<Bytes>) {
    let mut text = String::new();
    let mut attachments = Vec::new();
    packet.encode(&mut text, &mut attachments).expect("encodable");
    (text, attachments)
}

/// Decodes `text` (+ attachments), checks the packet, and checks it encodes back to the same frames.
fn round_trip(text: &str, attachments: &[&'static [u8]], expected: Packet) {
    let mut d = decoder();
    let mut decoded = d.decode_text(text).expect("valid vector");
    for (i, bytes) in attachments.iter().enumerate() {
        assert!(decoded.is_none(), "complete before attachment {i}");
        decoded = d.decode_binary(Bytes::from_static(bytes)).expect("valid attachment");
    }
    assert_eq!(decoded.map(|p| p.to_packet()).as_ref(), Some(&expected), "{text}");
    let (re_text, re_att) = encode(&expected);
    assert_eq!(re_text, text);
    assert_eq!(
        re_att,
        attachments.iter().map(|b| Bytes::from_static(b)).collect::<Vec<_>>()
    );
}

fn obj(entries: &[(&str, Value)]) -> Value {
    Value::Object(entries.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

fn placeholder(num: i64) -> Value {
    obj(&[("_placeholder", Value::Bool(true)), ("num", Value::Int(num))])
}

#[test]
fn connect_vectors() {
    round_trip(
        "0",
        &[],
        Packet::Connect {
            namespace: "/".into(),
            data: None,
        },
    );
    round_trip(
        "0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}",
        &[],
        Packet::Connect {
            namespace: "/admin".into(),
            data: Some(obj(&[("sid", "oSO0OpakMV_3jnilAAAA".into())])),
        },
    );
    round_trip(
        "0{\"token\":\"123\"}",
        &[],
        Packet::Connect {
            namespace: "/".into(),
            data: Some(obj(&[("token", "123".into())])),
        },
    );
}

#[test]
fn connect_error_vectors() {
    round_trip(
        "4{\"message\":\"Not authorized\"}",
        &[],
        Packet::ConnectError {
            namespace: "/".into(),
            data: obj(&[("message", "Not authorized".into())]),
        },
    );
    round_trip(
        "4/admin,{\"message\":\"Not authorized\",\"data\":{\"code\":401}}",
        &[],
        Packet::ConnectError {
            namespace: "/admin".into(),
            data: obj(&[
                ("message", "Not authorized".into()),
                ("data", obj(&[("code", Value::Int(401))])),
            ]),
        },
    );
}

#[test]
fn disconnect_vectors() {
    round_trip(
        "1/admin,",
        &[],
        Packet::Disconnect {
            namespace: "/admin".into(),
        },
    );
    round_trip("1", &[], Packet::Disconnect { namespace: "/".into() });
    // socket.io-parser also accepts a namespace that runs to the end of the packet.
    assert_eq!(
        decoder().decode_text("1/admin").unwrap().map(|p| p.to_packet()),
        Some(Packet::Disconnect {
            namespace: "/admin".into()
        })
    );
}

#[test]
fn event_vectors() {
    round_trip(
        "2[\"foo\"]",
        &[],
        Packet::Event {
            namespace: "/".into(),
            name: "foo".into(),
            args: vec![],
            id: None,
        },
    );
    round_trip(
        "2/admin,[\"bar\"]",
        &[],
        Packet::Event {
            namespace: "/admin".into(),
            name: "bar".into(),
            args: vec![],
            id: None,
        },
    );
    round_trip(
        "212[\"foo\"]",
        &[],
        Packet::Event {
            namespace: "/".into(),
            name: "foo".into(),
            args: vec![],
            id: Some(12),
        },
    );
    round_trip(
        "2[\"hello\",1,\"two\",{\"three\":3.5}]",
        &[],
        Packet::Event {
            namespace: "/".into(),
            name: "hello".into(),
            args: vec![Value::Int(1), "two".into(), obj(&[("three", Value::Float(3.5))])],
            id: None,
        },
    );
}

#[test]
fn ack_vectors() {
    round_trip(
        "3/admin,13[\"bar\"]",
        &[],
        Packet::Ack {
            namespace: "/admin".into(),
            id: 13,
            args: vec!["bar".into()],
        },
    );
    round_trip(
        "312[]",
        &[],
        Packet::Ack {
            namespace: "/".into(),
            id: 12,
            args: vec![],
        },
    );
}

#[test]
fn binary_vectors() {
    round_trip(
        "51-[\"baz\",{\"_placeholder\":true,\"num\":0}]",
        &[b"\x01\x02\x03\x04"],
        Packet::Event {
            namespace: "/".into(),
            name: "baz".into(),
            args: vec![Value::Binary(Bytes::from_static(b"\x01\x02\x03\x04"))],
            id: None,
        },
    );
    round_trip(
        "61-15[\"bar\",{\"_placeholder\":true,\"num\":0}]",
        &[b"\x01\x02"],
        Packet::Ack {
            namespace: "/".into(),
            id: 15,
            args: vec!["bar".into(), Value::Binary(Bytes::from_static(b"\x01\x02"))],
        },
    );
    // Several attachments, nested, in order.
    round_trip(
        "52-/admin,7[\"up\",{\"a\":[{\"_placeholder\":true,\"num\":0}]},{\"_placeholder\":true,\"num\":1}]",
        &[b"first", b"second"],
        Packet::Event {
            namespace: "/admin".into(),
            name: "up".into(),
            args: vec![
                obj(&[("a", Value::Array(vec![Value::Binary(Bytes::from_static(b"first"))]))]),
                Value::Binary(Bytes::from_static(b"second")),
            ],
            id: Some(7),
        },
    );
}

#[test]
fn attachments_may_be_referenced_out_of_order() {
    let mut d = decoder();
    assert_eq!(
        d.decode_text("52-[\"x\",{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]"),
        Ok(None)
    );
    assert_eq!(d.decode_binary(Bytes::from_static(b"A")), Ok(None));
    let packet = d.decode_binary(Bytes::from_static(b"B")).unwrap().unwrap();
    let Packet::Event { args, .. } = packet.to_packet() else {
        panic!("event expected")
    };
    assert_eq!(
        args,
        vec![
            Value::Binary(Bytes::from_static(b"B")),
            Value::Binary(Bytes::from_static(b"A"))
        ]
    );
    let _ = placeholder(0);
}

fn refused(text: &str) -> DecodeError {
    decoder().decode_text(text).expect_err(text)
}

#[test]
fn unknown_packet_type() {
    assert_eq!(refused("7[\"x\"]"), DecodeError::UnknownPacketType('7'));
    assert_eq!(refused("a"), DecodeError::UnknownPacketType('a'));
    assert_eq!(refused("é"), DecodeError::UnknownPacketType('é'));
    assert_eq!(refused(""), DecodeError::Empty);
}

#[test]
fn bad_namespace() {
    assert_eq!(refused("2/ad\u{0}min,[\"x\"]"), DecodeError::BadNamespace);
    assert_eq!(
        refused(&format!("2/{},[\"x\"]", "a".repeat(2000))),
        DecodeError::BadNamespace
    );
}

#[test]
fn bad_ack_ids() {
    assert_eq!(refused("21.5[\"x\"]"), DecodeError::BadAckId);
    assert_eq!(refused("21e3[\"x\"]"), DecodeError::BadAckId);
    assert_eq!(refused("2999999999999999999999999[\"x\"]"), DecodeError::BadAckId);
    assert_eq!(refused("29007199254740992[\"x\"]"), DecodeError::BadAckId);
    assert!(decoder().decode_text("29007199254740991[\"x\"]").is_ok());
    assert_eq!(refused("3[\"x\"]"), DecodeError::BadAckId, "ACK without id");
    assert_eq!(refused("01{}"), DecodeError::BadAckId, "id on CONNECT");
}

#[test]
fn bad_event_payloads() {
    assert!(matches!(refused("2{\"a\":1}"), DecodeError::InvalidPayload(_)));
    assert!(matches!(refused("2"), DecodeError::InvalidPayload(_)));
    assert!(matches!(refused("2[]"), DecodeError::InvalidPayload(_)));
    assert!(matches!(refused("2[1,2]"), DecodeError::InvalidPayload(_)));
    assert!(matches!(refused("2[null]"), DecodeError::InvalidPayload(_)));
    assert!(matches!(refused("3/a,1{}"), DecodeError::InvalidPayload(_)));
    assert!(matches!(refused("0[1]"), DecodeError::InvalidPayload(_)));
    assert!(matches!(refused("1/a,{}"), DecodeError::InvalidPayload(_)));
    assert!(matches!(refused("4[1]"), DecodeError::InvalidPayload(_)));
    assert!(matches!(refused("2[\"x\""), DecodeError::InvalidJson(_)));
}

#[test]
fn reserved_event_names() {
    for name in [
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
    ] {
        assert_eq!(
            refused(&format!("2[\"{name}\"]")),
            DecodeError::ReservedEventName(name.into())
        );
    }
}

#[test]
fn bad_attachment_counts() {
    for bad in [
        "5-[\"x\"]",
        "5a-[\"x\"]",
        "51[\"x\"]",
        "5+1-[\"x\"]",
        "5 1-[\"x\"]",
        "51.0-[\"x\"]",
        "5-1-[\"x\"]",
    ] {
        assert_eq!(refused(bad), DecodeError::BadAttachmentCount, "{bad}");
    }
    assert_eq!(
        refused("511-[\"x\"]"),
        DecodeError::TooManyAttachments { declared: 11, max: 10 }
    );
}

#[test]
fn bad_placeholder_nums() {
    let mut d = decoder();
    assert_eq!(d.decode_text("51-[\"x\",{\"_placeholder\":true,\"num\":1}]"), Ok(None));
    assert_eq!(
        d.decode_binary(Bytes::from_static(b"a")),
        Err(DecodeError::BadPlaceholder)
    );
}

#[test]
fn stray_frames() {
    let mut d = decoder();
    assert_eq!(
        d.decode_binary(Bytes::from_static(b"a")),
        Err(DecodeError::UnexpectedBinary)
    );
    assert_eq!(d.decode_text("51-[\"x\",{\"_placeholder\":true,\"num\":0}]"), Ok(None));
    assert!(d.is_waiting_for_binary());
    assert_eq!(d.decode_text("2[\"y\"]"), Err(DecodeError::UnexpectedText));
}

#[test]
fn nesting_cap() {
    let deep = format!("2[\"x\",{}1{}]", "[".repeat(100), "]".repeat(100));
    assert_eq!(refused(&deep), DecodeError::TooDeep { max: 64 });
    let ok = format!("2[\"x\",{}1{}]", "[".repeat(60), "]".repeat(60));
    assert!(decoder().decode_text(&ok).is_ok());
}

// Regression tests, one per socket.io-parser CVE shape.

/// CVE-2020-36049: memory exhaustion from an unbounded packet. The size cap is enforced before decoding; see
/// `session::tests::oversized_frame_is_refused` and the transport's `max_message_size`. Here: no allocation
/// grows from what the header declares, and a declared count never reserves memory.
#[test]
fn cve_2020_36049_huge_declared_sizes_allocate_nothing() {
    assert!(matches!(
        refused("599999999999999999999999-[\"x\"]"),
        DecodeError::BadAttachmentCount
    ));
    assert!(matches!(
        refused("518446744073709551615-[\"x\"]"),
        DecodeError::TooManyAttachments { .. }
    ));
}

/// CVE-2022-2421: placeholder `num` not validated (type confusion, e.g. `"__proto__"` or an out-of-range index).
#[test]
fn cve_2022_2421_placeholder_type_validation() {
    for num in ["\"__proto__\"", "\"toString\"", "-1", "1", "0.5", "[0]", "{}"] {
        let mut d = decoder();
        let text = format!("51-[\"x\",{{\"_placeholder\":true,\"num\":{num}}}]");
        assert_eq!(d.decode_text(&text), Ok(None));
        assert_eq!(
            d.decode_binary(Bytes::from_static(b"z")),
            Err(DecodeError::BadPlaceholder),
            "{num}"
        );
    }
}

/// CVE-2023-32695: an event whose name is not a string (`2[{"toString":"foo"}]`) crashed the server.
#[test]
fn cve_2023_32695_event_name_must_be_a_string() {
    assert!(matches!(
        refused("2[{\"toString\":\"foo\"}]"),
        DecodeError::InvalidPayload(_)
    ));
    assert!(matches!(refused("2[[\"foo\"]]"), DecodeError::InvalidPayload(_)));
}

/// CVE-2026-33151: an unbounded number of binary attachments exhausted memory.
#[test]
fn cve_2026_33151_attachment_count_is_capped() {
    assert_eq!(
        refused("51000000-[\"x\"]"),
        DecodeError::TooManyAttachments {
            declared: 1_000_000,
            max: 10
        }
    );
    let limits = Limits {
        max_attachments: 2,
        ..Limits::default()
    };
    let mut d = Decoder::new(&limits);
    assert_eq!(
        d.decode_text("53-[\"x\"]"),
        Err(DecodeError::TooManyAttachments { declared: 3, max: 2 })
    );
}

#[test]
fn encoder_refuses_non_finite_floats() {
    let packet = Packet::Event {
        namespace: "/".into(),
        name: "move".into(),
        args: vec![Value::Int(1), obj(&[("pos", Value::Float(f64::INFINITY))])],
        id: None,
    };
    let err = packet.encode(&mut String::new(), &mut Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "data[1][\"pos\"] is NaN or infinite, which JSON cannot carry"
    );
}
