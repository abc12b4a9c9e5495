//! The sans-I/O session driven by a script of operations on a virtual clock.
//!
//! Input: four bytes of configuration, then operations, each an opcode byte followed by the bytes it reads (see
//! `Script::step`). Canned server packets (the OPEN handshake, CONNECT answers, events, acks for ids we emitted,
//! binary events) get the session deep; raw text and binary frames from the input cover the rest.
//!
//! Checks, after every operation and once all its output is drained: no panic; each ack id is answered by exactly
//! one `AckResponse` or `AckTimeout` (or forgotten by `reset`), and only ids `emit` returned; `pending_acks()` is
//! the number of ack ids returned minus those answered; after `handle_timeout(now)`, `next_deadline()` is not
//! before `now`; every frame the session writes is well formed (a server-side decoder accepts it); each
//! `NamespaceConnected` is followed by exactly one `NamespaceDisconnected` with `was_connected` before the next,
//! and a namespace reads `Connected` exactly between the two; and `NamespaceTransportError`s come right after a
//! `TransportError`.
#![no_main]

use std::collections::{BTreeSet, HashSet};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use socketio_core::codec::engineio::{self, EnginePacket};
use socketio_core::codec::packet::Decoder;
use socketio_core::error::{ConnectFailure, StreamError, TransportEnd};
use socketio_core::session::{Session, TransportCommand};
use socketio_core::{
    AckId, AckRequest, ClientConfig, ClientEvent, ConnectionState, Limits, RawPacket, ReconnectConfig, Value,
};

const NAMESPACES: [&str; 4] = ["/", "/a", "/b", "nope"];
const MAX_OPS: usize = 400;
/// The virtual clock never runs further than this from its start (`Instant` arithmetic must not overflow).
const MAX_ELAPSED: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// With `FUZZ_TRACE` set, every operation, frame, command and event is printed (to follow a crashing input).
fn trace() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

struct Input<'a> {
    data: &'a [u8],
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    fn bytes(&mut self, len: usize) -> &[u8] {
        let (taken, rest) = self.data.split_at(len.min(self.data.len()));
        self.data = rest;
        taken
    }

    /// A length-prefixed slice (one byte of length).
    fn chunk(&mut self) -> Vec<u8> {
        let len = usize::from(self.byte());
        self.bytes(len).to_vec()
    }

    fn text(&mut self) -> String {
        String::from_utf8_lossy(&self.chunk()).into_owned()
    }

    fn namespace(&mut self) -> &'static str {
        NAMESPACES[usize::from(self.byte()) % NAMESPACES.len()]
    }

    /// A small value tree (depth ≤ 3). With `binary`, `Binary` leaves may appear.
    fn value(&mut self, depth: u8, binary: bool) -> Value {
        match self.byte() % 10 {
            0 => Value::Null,
            1 => Value::Bool(self.byte() & 1 == 1),
            2 => Value::Int(i64::from(self.u16() as i16)),
            3 => Value::Float(match self.byte() {
                0 => f64::NAN,
                1 => f64::INFINITY,
                b => f64::from(b) / 7.0,
            }),
            4 => Value::String(self.text()),
            5 if binary => Value::Binary(Bytes::from(self.chunk())),
            6 if depth < 3 => {
                let n = self.byte() % 4;
                Value::Array((0..n).map(|_| self.value(depth + 1, binary)).collect())
            }
            7 if depth < 3 => {
                let n = self.byte() % 4;
                Value::Object((0..n).map(|_| (self.text(), self.value(depth + 1, binary))).collect())
            }
            8 => Value::String("x".repeat(usize::from(self.u16()))),
            _ => Value::Int(i64::from(self.byte())),
        }
    }

    fn args(&mut self) -> Vec<Value> {
        let n = self.byte() % 4;
        (0..n).map(|_| self.value(0, true)).collect()
    }
}

struct Script {
    session: Session,
    base: Instant,
    now: Instant,
    /// Ack ids `emit` returned, and those answered (`AckResponse` or `AckTimeout`).
    emitted: Vec<AckId>,
    emitted_set: HashSet<AckId>,
    resolved: HashSet<AckId>,
    /// Ack requests of the server's events (for `send_ack`): as the session reported them, or made up.
    server_acks: Vec<AckRequest>,
    /// What the server would decode from our frames; reset on each new transport.
    server: Decoder,
    /// Namespaces between their `NamespaceConnected` and its `NamespaceDisconnected`.
    connected: BTreeSet<String>,
    /// The last event was a `TransportError` or a `NamespaceTransportError`.
    after_transport_error: bool,
}

/// Socket.IO namespace prefix of a packet: nothing for `/`, else `/a,`.
fn prefix(ns: &str) -> String {
    if ns == "/" {
        String::new()
    } else {
        format!("{ns},")
    }
}

impl Script {
    fn advance(&mut self, by: Duration) {
        let target = self.now + by;
        if target.duration_since(self.base) < MAX_ELAPSED {
            self.now = target;
        }
    }

    fn frame(&mut self, frame: RawPacket) {
        if trace() {
            eprintln!("  <- {frame:?}");
        }
        self.session.handle_frame(self.now, frame);
    }

    fn text(&mut self, text: String) {
        self.frame(RawPacket::Text(text.into()));
    }

    fn step(&mut self, input: &mut Input<'_>) {
        let op = input.byte();
        if trace() {
            eprintln!("op {} at +{:?}", op % 23, self.now - self.base);
        }
        match op % 23 {
            0 => self.session.open(self.now),
            1 => {
                let ns = input.namespace();
                // Objects without binary only: see the module documentation.
                let auth = match input.byte() % 3 {
                    0 => None,
                    1 => Some(Value::Object(vec![("token".into(), input.value(0, false))])),
                    _ => Some(Value::Object(vec![
                        ("pid".into(), Value::String(input.text())),
                        ("x".into(), input.value(0, false)),
                    ])),
                };
                let _ = self.session.connect_namespace(ns, auth);
            }
            2 => {
                let ns = input.namespace();
                let _ = self.session.disconnect_namespace(ns);
            }
            3 => {
                // The OPEN handshake, with fuzzed timings and maxPayload.
                let interval = input.u16();
                let timeout = input.u16();
                let max_payload = match input.byte() % 4 {
                    0 => String::new(),
                    1 => ",\"maxPayload\":64".into(),
                    2 => format!(",\"maxPayload\":{}", input.u16()),
                    _ => ",\"maxPayload\":1000000".into(),
                };
                self.text(format!(
                    r#"0{{"sid":"eio","upgrades":[],"pingInterval":{interval},"pingTimeout":{timeout}{max_payload}}}"#
                ));
            }
            4 => {
                let text = input.text();
                self.text(text);
            }
            5 => {
                let ns = input.namespace();
                let p = prefix(ns);
                let text = match input.byte() % 12 {
                    0 => format!(r#"40{p}{{"sid":"s-{ns}"}}"#),
                    1 => format!(r#"40{p}{{"sid":"s-{ns}","pid":"pid-{ns}"}}"#),
                    2 => format!("40{p}{{}}"),
                    3 => format!(r#"44{p}{{"message":"refused","data":{{"code":1}}}}"#),
                    4 => format!(r#"44{p}"refused""#),
                    5 => format!("41{p}"),
                    6 => format!(r#"42{p}["ev",1,"offset-{}"]"#, input.byte()),
                    7 => {
                        let id = u64::from(input.byte());
                        format!(r#"42{p}{id}["ev",{{"a":[1.5,null]}}]"#)
                    }
                    8 => {
                        // An ack for an id we emitted (or a made-up one).
                        let id = self.pick_emitted(input);
                        format!(r#"43{p}{id}["ok",2]"#)
                    }
                    9 => {
                        let n = input.byte() % 3;
                        let placeholders: Vec<String> = (0..n)
                            .map(|i| format!(r#"{{"_placeholder":true,"num":{i}}}"#))
                            .collect();
                        format!(r#"45{n}-{p}["bin",{}]"#, placeholders.join(","))
                    }
                    10 => {
                        let id = self.pick_emitted(input);
                        format!(r#"461-{p}{id}[{{"_placeholder":true,"num":0}}]"#)
                    }
                    _ => format!("4{}", input.text()),
                };
                self.text(text);
            }
            6 => {
                let bytes = input.chunk();
                self.frame(RawPacket::Binary(Bytes::from(bytes)));
            }
            7 => {
                let text = ["2", "2probe", "3", "1", "5", "6", "4", ""][usize::from(input.byte() % 8)];
                self.text(text.to_owned());
            }
            8 => {
                let loss = match input.byte() % 4 {
                    0 => TransportEnd::ConnectFailed(ConnectFailure::NoUrl),
                    1 => TransportEnd::Closed,
                    2 => TransportEnd::Error(StreamError::Protocol("reset".into())),
                    _ => TransportEnd::MessageTooLarge { size: 100, max: 10 },
                };
                self.session.handle_transport_loss(self.now, loss);
            }
            9 | 10 => {
                // Time passes (anywhere from 0 ms to about a day), then the timer fires, whether due or not.
                let b = input.byte();
                let ms = (u64::from(b & 0x1f) + 1) << ((b >> 5) * 3);
                self.advance(Duration::from_millis(ms - 1));
                self.timeout();
            }
            11 => {
                // Jump to the next deadline, as a driver sleeping until it would.
                if let Some(deadline) = self.session.next_deadline() {
                    if deadline > self.now {
                        self.advance(deadline - self.now);
                    }
                }
                self.timeout();
            }
            12 | 13 => {
                let ns = input.namespace();
                let name = ["ev", "", "connect", "disconnect", "x"][usize::from(input.byte() % 5)];
                let args = input.args();
                let timeout = match input.byte() % 3 {
                    0 => None,
                    1 => Some(Duration::from_millis(u64::from(input.u16()))),
                    _ => Some(Duration::from_secs(u64::from(input.byte()))),
                };
                if let Ok(Some(id)) = self.session.emit(self.now, ns, name, args, timeout) {
                    assert!(self.emitted_set.insert(id), "ack id {id} returned twice");
                    self.emitted.push(id);
                }
            }
            14 => {
                let ns = input.namespace();
                let args = input.args();
                let _ = self.session.emit_volatile(self.now, ns, "vol", args);
            }
            15 => {
                let ns = input.namespace();
                let request = match self.server_acks.pop() {
                    Some(request) if input.byte() & 1 == 0 => request,
                    _ => AckRequest {
                        id: u64::from(input.byte()),
                        session: u64::from(input.byte()),
                    },
                };
                let args = input.args();
                let _ = self.session.send_ack(ns, request, args);
            }
            16 => self.session.close(),
            17 => {
                let ns = input.namespace();
                let _ = self.session.add_namespace(ns);
            }
            18 => {
                // One step of a message being decoded in steps (see `decode_step`), then a little time.
                self.session.continue_decoding(self.now);
                let d = input.byte();
                self.advance(Duration::from_millis(u64::from(d)));
            }
            20 => {
                let ns = input.namespace();
                let _ = self.session.remove_namespace(ns);
            }
            21 => self.session.remove_all_namespaces(),
            22 => {
                // The front end lost track (a panic): acks pending are forgotten, not answered.
                self.session.reset();
                self.resolved.extend(self.emitted.iter().copied());
            }
            _ => {
                // A transmit-heavy burst: several emits in a row.
                let ns = input.namespace();
                for _ in 0..input.byte() % 8 {
                    if let Ok(Some(id)) = self.session.emit(self.now, ns, "burst", vec![Value::Int(1)], None) {
                        panic!("emit without ack timeout returned ack id {id}");
                    }
                }
            }
        }
        self.drain();
    }

    fn pick_emitted(&self, input: &mut Input<'_>) -> u64 {
        let b = input.byte();
        if self.emitted.is_empty() || b == 0xff {
            u64::from(b)
        } else {
            self.emitted[usize::from(b) % self.emitted.len()]
        }
    }

    fn timeout(&mut self) {
        self.session.handle_timeout(self.now);
        if let Some(deadline) = self.session.next_deadline() {
            assert!(
                deadline >= self.now,
                "next_deadline() is {:?} in the past after handle_timeout(now)",
                self.now - deadline
            );
        }
    }

    fn drain(&mut self) {
        while let Some(frame) = self.session.poll_transmit() {
            if trace() {
                eprintln!("  -> {frame:?}");
            }
            self.server_receives(frame);
        }
        while let Some(command) = self.session.poll_command() {
            if trace() {
                eprintln!("  => {command:?}");
            }
            if command == TransportCommand::Open {
                self.server.reset();
            }
        }
        while let Some(event) = self.session.poll_event() {
            if trace() {
                eprintln!("  !! {event:?}");
            }
            if let ClientEvent::Event { ack: Some(request), .. } = &event {
                self.server_acks.push(*request);
            }
            match &event {
                ClientEvent::NamespaceConnected { namespace, .. } => {
                    assert!(self.connected.insert(namespace.clone()), "{namespace} connected twice");
                }
                ClientEvent::NamespaceDisconnected {
                    namespace,
                    was_connected,
                    ..
                } => {
                    assert_eq!(
                        self.connected.remove(namespace),
                        *was_connected,
                        "{namespace}: was_connected vs its NamespaceConnected"
                    );
                }
                ClientEvent::NamespaceTransportError { namespace, .. } => {
                    assert!(
                        self.after_transport_error,
                        "{namespace}: NamespaceTransportError without TransportError"
                    );
                }
                _ => {}
            }
            self.after_transport_error = matches!(
                event,
                ClientEvent::TransportError(_) | ClientEvent::NamespaceTransportError { .. }
            );
            if let ClientEvent::AckResponse { id, .. } | ClientEvent::AckTimeout { id, .. } = event {
                assert!(
                    self.emitted_set.contains(&id),
                    "answer for ack id {id}, which emit never returned"
                );
                assert!(self.resolved.insert(id), "ack id {id} answered twice");
            }
        }
        assert_eq!(
            self.session.pending_acks(),
            self.emitted.len() - self.resolved.len(),
            "pending_acks() vs acks emitted minus answered"
        );
        for ns in NAMESPACES {
            assert_eq!(
                self.session.namespace_state(ns) == ConnectionState::Connected,
                self.connected.contains(ns),
                "{ns}: Connected exactly between NamespaceConnected and NamespaceDisconnected"
            );
        }
    }

    /// Checks that a frame we write is something a server decodes.
    fn server_receives(&mut self, frame: RawPacket) {
        match frame {
            RawPacket::Text(text) => match engineio::decode(&text) {
                Ok(EnginePacket::Message(body)) => {
                    if let Err(e) = self.server.decode_text(body) {
                        panic!("the server cannot decode our {text:?}: {e}");
                    }
                }
                Ok(EnginePacket::Pong(_)) => {}
                other => panic!("unexpected frame from the client {text:?}: {other:?}"),
            },
            RawPacket::Binary(bytes) => {
                if let Err(e) = self.server.decode_binary(bytes) {
                    panic!("the server cannot take our binary frame: {e}");
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input { data };
    let c = [input.byte(), input.byte(), input.byte(), input.byte()];
    let config = ClientConfig {
        reconnect: ReconnectConfig {
            enabled: c[0] & 1 == 0,
            max_attempts: (c[0] & 2 != 0).then_some(u32::from(c[0] >> 5)),
            delay: Duration::from_millis(u64::from(c[1]) * 20),
            delay_max: Duration::from_millis(u64::from(c[1]) * 20 + u64::from(c[2]) * 100),
            randomization: if c[0] & 4 != 0 { 0.5 } else { 0.0 },
        },
        limits: Limits {
            send_buffer_packets: usize::from(c[3] & 0x0f) + 1,
            send_buffer_bytes: 64 << (c[3] >> 4),
            max_message_bytes: if c[0] & 8 != 0 { 64 } else { 1 << 20 },
            ..Limits::default()
        },
        connect_timeout: Duration::from_millis(u64::from(c[2]) * 100),
        // Messages decoded in steps of a few bytes, or at once.
        decode_step: if c[0] & 0x10 != 0 {
            1 + usize::from(c[3] & 0x0f)
        } else {
            usize::MAX
        },
        ..ClientConfig::default()
    };
    let base = Instant::now();
    let mut script = Script {
        session: Session::new(config, u64::from(c[1])),
        base,
        now: base,
        emitted: Vec::new(),
        emitted_set: HashSet::new(),
        resolved: HashSet::new(),
        server_acks: Vec::new(),
        server: Decoder::new(&Limits {
            max_attachments: usize::MAX,
            ..Limits::default()
        }),
        connected: BTreeSet::new(),
        after_transport_error: false,
    };
    for _ in 0..MAX_OPS {
        if input.data.is_empty() {
            break;
        }
        script.step(&mut input);
    }
});
