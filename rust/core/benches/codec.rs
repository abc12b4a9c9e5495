//! Codec speed: a small event decoded (checked and read item by item, as the Godot layer reads it) and encoded, a
//! 1 MiB binary event decoded, and 1 MiB of dense JSON checked.
//!
//! Target (issue 2): a small event's round trip through the codec in at most 2 µs on the 2-core CI machine.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use socketio_core::codec::packet::{Decoder, Packet, Received};
use socketio_core::codec::payload::Item;
use socketio_core::{Limits, Payload, Value};

const SMALL: &str = r#"42["move",{"x":1.5,"y":2,"name":"player"}]"#;

/// Reads every item of `payload`, as a consumer converting it would.
fn read_all(payload: &Payload) -> usize {
    let mut reader = payload.reader();
    let mut n = 0;
    while let Some(item) = reader.next(payload) {
        black_box(&item);
        n += 1;
    }
    n
}

/// An Engine.IO frame read as a received event, and that event's echo encoded, as they would travel.
fn small_event_round_trip(c: &mut Criterion) {
    let mut decoder = Decoder::new(&Limits::default());
    let mut out = String::with_capacity(64);
    let mut attachments = Vec::new();
    let echo = Packet::Event {
        namespace: "/".into(),
        name: "move".into(),
        args: vec![Value::Object(vec![
            ("x".into(), Value::Float(1.5)),
            ("y".into(), Value::Int(2)),
            ("name".into(), Value::String("player".into())),
        ])],
        id: None,
    };
    c.bench_function("small event decode+read+encode", |b| {
        b.iter(|| {
            let Some(Received::Event { args, .. }) = decoder.decode_message(black_box(SMALL).into(), 1).unwrap() else {
                unreachable!()
            };
            black_box(read_all(&args));
            out.clear();
            out.push('4');
            echo.encode(&mut out, &mut attachments).unwrap();
            black_box(&out);
        })
    });
    c.bench_function("small event encode", |b| {
        b.iter(|| {
            out.clear();
            out.push('4');
            black_box(&echo).encode(&mut out, &mut attachments).unwrap();
            black_box(&out);
        })
    });
    c.bench_function("small event decode+read", |b| {
        b.iter(|| {
            let Some(Received::Event { args, .. }) = decoder.decode_message(black_box(SMALL).into(), 1).unwrap() else {
                unreachable!()
            };
            black_box(read_all(&args))
        })
    });
}

/// A 1 MiB attachment: the bytes are reference-counted, never copied by the codec.
fn binary_event(c: &mut Criterion) {
    let payload = Bytes::from(vec![7u8; 1 << 20]);
    let header = r#"51-["blob",{"_placeholder":true,"num":0}]"#;
    let mut group = c.benchmark_group("1 MiB binary event");
    group.throughput(Throughput::Bytes(1 << 20));
    let mut decoder = Decoder::new(&Limits::default());
    group.bench_function("decode+read", |b| {
        b.iter(|| {
            assert!(decoder.decode_text(header).unwrap().is_none());
            let Some(Received::Event { args, .. }) = decoder.decode_binary(payload.clone()).unwrap() else {
                unreachable!()
            };
            let mut reader = args.reader();
            reader.next(&args);
            let Some(Item::Binary(bytes)) = reader.next(&args) else {
                unreachable!()
            };
            assert_eq!(bytes.as_ptr(), payload.as_ptr(), "attachment copied");
            black_box(bytes);
        })
    });
    group.finish();
}

/// 1 MiB of the densest JSON (`[1,1,...]`, 0.5 M values) and of one string, checked at once.
fn large_payload_check(c: &mut Criterion) {
    let mut ints = String::from("42[\"big\",[1");
    while ints.len() < (1 << 20) - 2 {
        ints.push_str(",1");
    }
    ints.push_str("]]");
    let string = format!("42[\"big\",\"{}\"]", "x".repeat((1 << 20) - 12));
    let mut group = c.benchmark_group("1 MiB payload check");
    group.throughput(Throughput::Bytes(1 << 20));
    let mut decoder = Decoder::new(&Limits::default());
    for (name, text) in [("ints", ints), ("string", string)] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(decoder.decode_message(text.as_str().into(), 1).unwrap().is_some()))
        });
    }
    group.finish();
}

criterion_group!(benches, small_event_round_trip, binary_event, large_payload_check);
criterion_main!(benches);
