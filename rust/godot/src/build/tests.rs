//! The chunking tested without an engine: a sink of `Value`s checks what a build writes against the format.

use socketio_core::Value;

use super::*;
use crate::marshal;

/// A sink of [`Value`]s that decodes chunks with the fast path's decoder, so the bytes a build writes are
/// checked against the format too.
struct Values {
    chunks: usize,
}

impl Sink for Values {
    type Container = Value;
    type Value = Value;

    fn decode(&mut self, bytes: &[u8]) -> Value {
        self.chunks += 1;
        let mut wrapped = Vec::new();
        put_u32(&mut wrapped, ARRAY);
        put_u32(&mut wrapped, 1);
        wrapped.extend_from_slice(bytes);
        let mut values = marshal::decode_array(&wrapped).expect("a chunk decodes");
        // As `bytes_to_var` makes a Dictionary: one entry per key.
        as_godot(values.pop().expect("one value"))
    }

    fn empty(&mut self, dict: bool) -> Value {
        if dict {
            Value::Object(Vec::new())
        } else {
            Value::Array(Vec::new())
        }
    }

    fn extend(&mut self, into: &mut Value, from: Value) {
        match (into, from) {
            (Value::Array(into), Value::Array(from)) => into.extend(from),
            (Value::Object(into), Value::Object(from)) => {
                for (k, v) in from {
                    self.push_entry(into, k, v);
                }
            }
            _ => panic!("container kinds differ"),
        }
    }

    fn push(&mut self, into: &mut Value, key: Option<&str>, value: Value) {
        match into {
            Value::Array(items) => items.push(value),
            Value::Object(entries) => self.push_entry(entries, key.unwrap().to_owned(), value),
            _ => panic!("not a container"),
        }
    }

    fn string(&mut self, s: &str) -> Value {
        Value::String(s.to_owned())
    }

    fn binary(&mut self, bytes: &Bytes) -> Value {
        Value::Binary(bytes.clone())
    }

    fn value(&mut self, container: Value) -> Value {
        container
    }
}

impl Values {
    /// A dictionary's assignment: an existing key keeps its place and takes the new value.
    fn push_entry(&mut self, entries: &mut Vec<(String, Value)>, key: String, value: Value) {
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => entries.push((key, value)),
        }
    }
}

/// What GDScript gets for `value`: duplicate keys merged as a Godot `Dictionary` merges them.
fn as_godot(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(as_godot).collect()),
        Value::Object(entries) => {
            let mut merged: Vec<(String, Value)> = Vec::new();
            for (k, v) in entries {
                let v = as_godot(v);
                match merged.iter_mut().find(|(m, _)| *m == k) {
                    Some(entry) => entry.1 = v,
                    None => merged.push((k, v)),
                }
            }
            Value::Object(merged)
        }
        other => other,
    }
}

fn build(payload: &Payload, chunk_values: usize, chunk_bytes: usize, deadline_every_call: bool) -> (Value, usize) {
    let mut sink = Values { chunks: 0 };
    let mut build = Build::with_chunks(payload.clone(), chunk_values, chunk_bytes);
    let mut calls = 0;
    // A deadline in the past: each call does one piece of work and stops.
    let deadline = deadline_every_call.then(Instant::now);
    while !build.run(&mut sink, deadline) {
        calls += 1;
        assert!(calls < 1_000_000, "no progress");
    }
    (build.finish(&mut sink), calls)
}

fn payloads() -> Vec<Payload> {
    let big = Bytes::from(vec![7u8; BIG_LEAF + 1]);
    let long = "y".repeat(BIG_LEAF + 3);
    let nested = Value::Object(vec![
        ("a".into(), Value::Array((0..50).map(Value::Int).collect())),
        ("b".into(), Value::Object(vec![("c".into(), Value::Array(vec![]))])),
        ("big".into(), Value::Binary(big.clone())),
        ("d".into(), Value::String("é\n\"".into())),
        ("long".into(), Value::String(long.clone())),
        ("e".into(), Value::Object(vec![])),
    ]);
    let values = vec![
        Value::Null,
        Value::Bool(true),
        Value::Int(-5),
        Value::Int(i64::MAX),
        Value::Float(-0.0),
        Value::Float(1.5e300),
        Value::String(String::new()),
        Value::Binary(Bytes::from_static(b"small")),
        nested.clone(),
        Value::Array(vec![
            nested.clone(),
            Value::Array(vec![Value::Array(vec![Value::Null])]),
        ]),
        Value::Binary(big),
        Value::String(long),
        Value::Array(
            (0..300)
                .map(|i| Value::Object(vec![("i".into(), Value::Int(i))]))
                .collect(),
        ),
    ];
    let mut out = vec![
        Payload::from_values(&[]).unwrap(),
        Payload::from_values(&values).unwrap(),
        Payload::from_values(&[Value::Array(vec![Value::Array(vec![]); 1000])]).unwrap(),
    ];
    // Duplicate keys, spread over chunks.
    let text = format!(
        "[{{\"k\":1,{}\"k\":2,\"z\":[{}],\"k\":3}}]",
        (0..100).map(|i| format!("\"x{i}\":{i},")).collect::<String>(),
        (0..100).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
    );
    out.push(Payload::parse(&text, 8).unwrap());
    out
}

/// In one go, in tiny chunks, stopped after every piece of work: the same value, which is what the payload
/// holds (as a Godot dictionary merges duplicate keys).
#[test]
fn chunks_and_resumes_give_the_same_value() {
    for payload in payloads() {
        let expected = as_godot(payload.to_value());
        let (whole, calls) = build(&payload, CHUNK_VALUES, CHUNK_BYTES, false);
        assert_eq!(whole, expected);
        assert_eq!(calls, 0);
        for (values, bytes) in [(1, usize::MAX), (2, usize::MAX), (3, 64), (7, 1 << 10), (64, 100)] {
            for stop in [false, true] {
                let (chunked, _) = build(&payload, values, bytes, stop);
                assert_eq!(
                    chunked, expected,
                    "chunks of {values} values / {bytes} bytes, stopping: {stop}"
                );
            }
        }
    }
}

/// A small event is one chunk: one `bytes_to_var`, as before chunks existed.
#[test]
fn small_payloads_are_one_decode() {
    let payload = Payload::parse(r#"[{"x":1.5,"y":2,"name":"player"}]"#, 8).unwrap();
    let mut sink = Values { chunks: 0 };
    let mut build = Build::new(payload.clone());
    assert!(build.is_small());
    assert!(build.run(&mut sink, None));
    assert_eq!(build.finish(&mut sink), payload.to_value());
    assert_eq!(sink.chunks, 1);
}

/// A large payload stops at its deadline and goes on at the next call: many calls, the same value.
#[test]
fn large_payloads_stop_at_the_deadline() {
    let values: Vec<Value> = (0..200_000)
        .map(|i| Value::Object(vec![("i".into(), Value::Int(i))]))
        .collect();
    let payload = Payload::from_values(&[Value::Array(values)]).unwrap();
    let (value, calls) = build(&payload, CHUNK_VALUES, CHUNK_BYTES, true);
    assert!(calls >= 200_000 * 3 / CHUNK_VALUES, "{calls} calls");
    assert_eq!(value, payload.to_value());
}
