//! Codec speed: a small event and a 1 MiB binary event, decoded and encoded.
//!
//! Target (issue 2): a small event's round trip through the codec in at most 2 µs on the 2-core CI machine.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use socketio_core::engineio::{self, EnginePacket};
use socketio_core::packet::Decoder;
use socketio_core::Limits;

const SMALL: &str = r#"42["move",{"x":1.5,"y":2,"name":"player"}]"#;

/// Engine.IO frame → Socket.IO packet → frame again, as a received event and its echo would travel.
fn small_event_round_trip(c: &mut Criterion) {
    let mut decoder = Decoder::new(&Limits::default());
    let mut out = String::with_capacity(64);
    let mut attachments = Vec::new();
    c.bench_function("small event decode+encode", |b| {
        b.iter(|| {
            let EnginePacket::Message(body) = engineio::decode(black_box(SMALL)).unwrap() else {
                unreachable!()
            };
            let packet = decoder.decode_text(body).unwrap().unwrap();
            out.clear();
            out.push(engineio::MESSAGE_PREFIX);
            packet.encode(&mut out, &mut attachments).unwrap();
            black_box(&out);
        })
    });
    let packet = Decoder::new(&Limits::default())
        .decode_text(&SMALL[1..])
        .unwrap()
        .unwrap();
    c.bench_function("small event encode", |b| {
        b.iter(|| {
            out.clear();
            out.push(engineio::MESSAGE_PREFIX);
            black_box(&packet).encode(&mut out, &mut attachments).unwrap();
            black_box(&out);
        })
    });
    c.bench_function("small event decode", |b| {
        b.iter(|| black_box(decoder.decode_text(black_box(&SMALL[1..])).unwrap()))
    });
}

/// A 1 MiB attachment: the bytes are reference-counted, never copied by the codec.
fn binary_event(c: &mut Criterion) {
    let payload = Bytes::from(vec![7u8; 1 << 20]);
    let header = r#"51-["blob",{"_placeholder":true,"num":0}]"#;
    let mut group = c.benchmark_group("1 MiB binary event");
    group.throughput(Throughput::Bytes(1 << 20));
    let mut decoder = Decoder::new(&Limits::default());
    let mut out = String::with_capacity(64);
    let mut attachments = Vec::new();
    group.bench_function("decode+encode", |b| {
        b.iter(|| {
            assert!(decoder.decode_text(header).unwrap().is_none());
            let packet = decoder.decode_binary(payload.clone()).unwrap().unwrap();
            out.clear();
            attachments.clear();
            packet.encode(&mut out, &mut attachments).unwrap();
            assert_eq!(attachments[0].as_ptr(), payload.as_ptr(), "attachment copied");
            black_box((&out, &attachments));
        })
    });
    group.finish();
}

criterion_group!(benches, small_event_round_trip, binary_event);
criterion_main!(benches);
