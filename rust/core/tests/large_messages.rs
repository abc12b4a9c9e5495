//! Large received messages: decoded without a tree of values (memory: the message and a few words more), in steps
//! that give the same result as one go, with the messages after them kept waiting in order. The heap is measured
//! with a counting allocator, so these run one at a time (one test function per measurement, behind a lock).

// The one unsafe item: a global allocator that counts what it hands out (std's `GlobalAlloc` is an unsafe trait).
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use bytes::Bytes;
use socketio_core::codec::payload::Item;
use socketio_core::session::Session;
use socketio_core::{ClientConfig, ClientEvent, DisconnectReason, Payload, RawPacket, Value};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only the byte counts are recorded.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Measurements must not overlap: the counts are process-wide.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Peak heap above what was allocated when `f` started.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst) - base)
}

const OPEN: &str = r#"0{"sid":"e","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const MIB: usize = 1 << 20;

fn connected(decode_step: usize) -> Session {
    let config = ClientConfig {
        decode_step,
        ..ClientConfig::default()
    };
    let now = Instant::now();
    let mut session = Session::new(config, 1);
    session.connect_namespace("/", None).unwrap();
    session.open(now);
    session.handle_frame(now, RawPacket::Text(OPEN.into()));
    session.handle_frame(now, RawPacket::Text(r#"40{"sid":"s"}"#.into()));
    while session.is_decoding() {
        session.continue_decoding(now);
    }
    while session.poll_event().is_some() {}
    while session.poll_transmit().is_some() {}
    session
}

/// `42["big",<value>]` of about `size` bytes, for each shape.
fn message(shape: &str, size: usize) -> String {
    let mut text = String::with_capacity(size + 16);
    text.push_str("42[\"big\",");
    match shape {
        "ints" => {
            text.push('[');
            while text.len() < size - 2 {
                text.push_str("1,");
            }
            text.push_str("1]");
        }
        "objects" => {
            text.push('[');
            while text.len() < size - 3 {
                text.push_str("{},");
            }
            text.push_str("{}]");
        }
        "string" => {
            text.push('"');
            text.extend(std::iter::repeat_n('x', size - text.len() - 2));
            text.push('"');
        }
        _ => unreachable!(),
    }
    text.push(']');
    text
}

/// Counts what a reader yields (no allocation of its own).
fn count_items(args: &Payload) -> (usize, usize) {
    let mut reader = args.reader();
    let (mut values, mut string_bytes) = (0, 0);
    while let Some(item) = reader.next(args) {
        match item {
            Item::Str(s) => string_bytes += s.raw().len(),
            Item::ArrayEnd | Item::ObjectEnd | Item::Key(_) => continue,
            _ => {}
        }
        values += 1;
    }
    (values, string_bytes)
}

/// A 16 MiB message of each shape is checked with a few KiB of heap beyond the message (a tree of its values would
/// take 16 to 50 times the message), in many steps, and read back value by value allocating nothing but the
/// reader's stack of open containers.
#[test]
fn large_messages_are_decoded_without_a_tree() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for shape in ["ints", "objects", "string"] {
        let text = message(shape, 16 * MIB - 16);
        let len = text.len();
        // The arguments' array, the value, and what is inside it.
        let expected = match shape {
            "ints" => (2 + text.matches('1').count(), 0),
            "objects" => (2 + text.matches("{}").count(), 0),
            _ => (2, text.matches('x').count()),
        };
        let mut session = connected(64 << 10);
        let now = Instant::now();
        let (steps, peak) = peak_during(|| {
            session.handle_frame(now, RawPacket::Text(text.into()));
            let mut steps = 1;
            while session.is_decoding() {
                session.continue_decoding(now);
                steps += 1;
            }
            steps
        });
        // A string is one token, checked in one step (about 2 ms for 16 MiB in a release build).
        if shape != "string" {
            assert!(steps >= len / (64 << 10), "{shape}: {steps} steps for {len} bytes");
        }
        assert!(peak < 64 << 10, "{shape}: {peak} bytes of heap to decode {len} bytes");
        let Some(ClientEvent::Event { name, args, .. }) = session.poll_event() else {
            panic!("{shape}: no event");
        };
        assert_eq!(name, "big");
        assert_eq!(args.len(), 1);
        let ((values, string_bytes), peak) = peak_during(|| count_items(&args));
        assert!(peak < 1024, "{shape}: reading allocated {peak} bytes");
        assert_eq!((values, string_bytes), expected, "{shape}");
    }
}

/// Checking in steps of any size gives what checking at once gives, and the frames handed in meanwhile are taken
/// after it, in order.
#[test]
fn decoding_in_steps_gives_the_same_events_in_order() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let big = format!(
        "42[\"big\",{},\"off\\\"set\"]",
        r#"{"a":[1,-2.5,"é\n",true,null,{"b":{}}],"c":"d"}"#.repeat(200)
    )
    .replace("}{", "},{");
    let frames = [
        "42[\"before\",1]".to_owned(),
        big.clone(),
        "42[\"after\",2]".to_owned(),
        "451-[\"bin\",{\"_placeholder\":true,\"num\":0},[{\"x\":{\"_placeholder\":true,\"num\":0}}]]".to_owned(),
    ];
    let run = |step: usize, drive: bool| {
        let mut session = connected(step);
        let now = Instant::now();
        let mut events = Vec::new();
        let mut steps = 0;
        for frame in &frames {
            session.handle_frame(now, RawPacket::Text(frame.as_str().into()));
            while drive && session.is_decoding() {
                session.continue_decoding(now);
                steps += 1;
            }
            events.extend(std::iter::from_fn(|| session.poll_event()));
        }
        session.handle_frame(now, RawPacket::Binary(Bytes::from_static(b"\x00\x01")));
        events.extend(std::iter::from_fn(|| session.poll_event()));
        (events, steps)
    };
    let (at_once, _) = run(usize::MAX, true);
    let names: Vec<&str> = at_once
        .iter()
        .map(|e| match e {
            ClientEvent::Event { name, .. } => name.as_str(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(names, ["before", "big", "after", "bin"]);
    let ClientEvent::Event { args, .. } = &at_once[1] else {
        unreachable!()
    };
    assert_eq!(args.len(), 201);
    assert_eq!(args.last_string().as_deref(), Some("off\"set"));
    let ClientEvent::Event { args, .. } = &at_once[3] else {
        unreachable!()
    };
    let binary = Value::Binary(Bytes::from_static(b"\x00\x01"));
    assert_eq!(
        args.to_values(),
        [
            binary.clone(),
            Value::Array(vec![Value::Object(vec![("x".into(), binary)])])
        ]
    );
    for step in [1, 7, 64, 1000, 4096] {
        let (events, steps) = run(step, true);
        assert_eq!(events, at_once, "step {step}");
        assert!(steps >= big.len() / step.max(64) / 2, "step {step}: {steps} steps");
        // Not driven: the next frame finishes the decoding first, so the order holds anyway.
        let (events, _) = run(step, false);
        assert_eq!(events, at_once, "step {step}, not driven");
    }
}

/// A message refused after some steps closes the connection with "parse error" and nothing of it is delivered.
#[test]
fn a_bad_message_refused_after_some_steps_delivers_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut session = connected(16);
    let now = Instant::now();
    let bad = format!("42[\"big\",{}x]", "[1,2,3],".repeat(100));
    session.handle_frame(now, RawPacket::Text(bad.into()));
    assert!(session.is_decoding());
    while session.is_decoding() {
        session.continue_decoding(now);
    }
    let events: Vec<ClientEvent> = std::iter::from_fn(|| session.poll_event()).collect();
    assert!(
        !events.iter().any(|e| matches!(e, ClientEvent::Event { .. })),
        "{events:?}"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        ClientEvent::Closed { reason: DisconnectReason::ParseError, cause: Some(c) } if c.contains("invalid JSON")
    )));
}
