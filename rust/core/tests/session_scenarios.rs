// Long on purpose: one file of scenarios sharing one harness (`Harness`), each a short story read top to bottom;
// split by theme it would repeat the harness or hide it in a module the reader has to find.

//! Session scenarios on a virtual clock: frames and instants in, frames, commands and events out.

use std::io;
use std::time::{Duration, Instant};

use bytes::Bytes;
use socketio_core::error::BufferLimit;
use socketio_core::error::{ConnectFailure, IoFailure, StreamError, TcpFailure, TransportEnd};
use socketio_core::session::{Session, TransportCommand};
use socketio_core::{
    AckRequest, ClientConfig, ClientEvent, CommandError, ConnectionState, DisconnectReason, Payload, RawPacket, Value,
};

const OPEN: &str = r#"0{"sid":"eio-sid","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000}"#;

struct Harness {
    session: Session,
    now: Instant,
}

impl Harness {
    fn new(config: ClientConfig) -> Self {
        Harness {
            session: Session::new(config, 7),
            now: Instant::now(),
        }
    }

    /// Opens the engine and connects "/" (answered with sid "s1").
    fn connected() -> Self {
        let mut h = Harness::new(ClientConfig::default());
        h.session
            .connect_namespace("/", Some(obj(&[("token", "t".into())])))
            .unwrap();
        h.session.open(h.now);
        assert_eq!(h.commands(), [TransportCommand::Open]);
        h.text(OPEN);
        assert_eq!(h.sent(), [r#"40{"token":"t"}"#]);
        h.text(r#"40{"sid":"s1"}"#);
        assert_eq!(
            h.events(),
            [
                ClientEvent::Open {
                    sid: "eio-sid".into(),
                    transport: socketio_core::TransportKind::WebSocket
                },
                ClientEvent::NamespaceConnected {
                    namespace: "/".into(),
                    sid: "s1".into(),
                    recovered: false
                },
            ]
        );
        h
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        if self.session.next_deadline().is_some_and(|d| d <= self.now) {
            self.session.handle_timeout(self.now);
        }
    }

    fn text(&mut self, text: &str) {
        self.session.handle_frame(self.now, RawPacket::Text(text.into()));
    }

    fn binary(&mut self, bytes: &'static [u8]) {
        self.session
            .handle_frame(self.now, RawPacket::Binary(Bytes::from_static(bytes)));
    }

    fn sent(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.session.poll_transmit())
            .map(|f| match f {
                RawPacket::Text(t) => t.to_string(),
                RawPacket::Binary(b) => format!("<bin {}>", String::from_utf8_lossy(&b)),
            })
            .collect()
    }

    fn commands(&mut self) -> Vec<TransportCommand> {
        std::iter::from_fn(|| self.session.poll_command()).collect()
    }

    /// The events so far, ack requests stamped with session 0 (session numbers are unique in the process, so
    /// they differ from test to test; tests of the stamps themselves use [`Harness::raw_events`]).
    fn events(&mut self) -> Vec<ClientEvent> {
        let mut events = self.raw_events();
        for event in &mut events {
            if let ClientEvent::Event { ack: Some(request), .. } = event {
                request.session = 0;
            }
        }
        events
    }

    fn raw_events(&mut self) -> Vec<ClientEvent> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }
}

fn obj(entries: &[(&str, Value)]) -> Value {
    Value::Object(entries.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

/// An event as the session reports it, its ack request (if any) stamped with session 0 (see [`Harness::events`]).
fn event(ns: &str, name: &str, args: Vec<Value>, ack_id: Option<u64>) -> ClientEvent {
    ClientEvent::Event {
        namespace: ns.into(),
        name: name.into(),
        args: payload(args),
        ack: ack_id.map(|id| AckRequest { id, session: 0 }),
    }
}

fn payload(values: Vec<Value>) -> Payload {
    Payload::from_values(&values).unwrap()
}

/// The cause of `event`, which must be a `Closed` with `reason`.
fn closed_cause(event: &ClientEvent, reason: DisconnectReason) -> String {
    match event {
        ClientEvent::Closed {
            reason: r,
            cause: Some(cause),
        } if *r == reason => cause.clone(),
        other => panic!("expected Closed({reason:?}) with a cause, got {other:?}"),
    }
}

/// A connect failure: nothing listens at 127.0.0.1:3000.
fn refused() -> TransportEnd {
    let refused = IoFailure::of(&io::Error::from(io::ErrorKind::ConnectionRefused));
    assert!(matches!(refused, IoFailure::Refused(_)), "{refused:?}");
    TransportEnd::ConnectFailed(ConnectFailure::Tcp(TcpFailure {
        host: "127.0.0.1".into(),
        port: 3000,
        attempts: vec![("127.0.0.1:3000".parse().unwrap(), refused)],
    }))
}

/// The connection was reset after it opened.
fn reset() -> StreamError {
    StreamError::io(&io::Error::from(io::ErrorKind::ConnectionReset))
}

#[test]
fn handshake_ping_pong_and_events_in_order() {
    let mut h = Harness::connected();
    assert_eq!(h.session.state(), ConnectionState::Connected);
    assert_eq!(h.session.engine_sid(), Some("eio-sid"));
    assert_eq!(h.session.namespace_sid("/"), Some("s1"));
    h.text("2");
    assert_eq!(h.sent(), ["3"]);
    h.text(r#"42["a",1]"#);
    h.text(r#"42["b",2.5]"#);
    h.text(r#"421["c"]"#);
    assert_eq!(
        h.events(),
        [
            event("/", "a", vec![Value::Int(1)], None),
            event("/", "b", vec![Value::Float(2.5)], None),
            event("/", "c", vec![], Some(1)),
        ]
    );
    h.text(r#"422["d"]"#);
    let Some(ClientEvent::Event { ack: Some(request), .. }) = h.raw_events().pop() else {
        panic!("an ack request")
    };
    assert_eq!(request.id, 2);
    h.session.send_ack("/", request, vec!["ok".into()]).unwrap();
    assert_eq!(h.sent(), [r#"432["ok"]"#]);
}

#[test]
fn an_ack_request_belongs_to_the_session_it_came_in() {
    let mut config = ClientConfig::default();
    config.reconnect.randomization = 0.0;
    let mut h = Harness::new(config);
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    h.text(OPEN);
    h.text(r#"40{"sid":"s1"}"#);
    h.text(r#"420["question",1]"#);
    let Some(ClientEvent::Event { ack: Some(old), .. }) = h.raw_events().pop() else {
        panic!("an ack request")
    };
    assert_eq!(old.id, 0);
    let _ = (h.sent(), h.commands());

    // The connection drops and comes back; the server numbers its requests from 0 again.
    h.session.handle_transport_loss(h.now, TransportEnd::Closed);
    h.advance(Duration::from_secs(10));
    let _ = h.commands();
    h.text(OPEN);
    h.text(r#"40{"sid":"s2"}"#);
    h.text(r#"420["another question",2]"#);
    let Some(ClientEvent::Event { ack: Some(new), .. }) = h.raw_events().pop() else {
        panic!("an ack request")
    };
    assert_eq!(new.id, 0, "the same id");
    assert_ne!(new.session, old.session, "in a new session");
    let _ = h.sent();

    assert_eq!(
        h.session.send_ack("/", old, vec!["stale".into()]),
        Err(CommandError::AckExpired("/".into())),
        "the old answer would answer the new question"
    );
    assert!(h.sent().is_empty(), "nothing sent");
    h.session.send_ack("/", new, vec!["ok".into()]).unwrap();
    assert_eq!(h.sent(), [r#"430["ok"]"#]);

    // Within the same engine connection, a namespace that leaves and joins again starts a new session too.
    h.session.connect_namespace("/chat", None).unwrap();
    h.text(r#"40/chat,{"sid":"c1"}"#);
    h.text(r#"42/chat,5["q"]"#);
    let Some(ClientEvent::Event { ack: Some(first), .. }) = h.raw_events().pop() else {
        panic!("an ack request")
    };
    h.session.disconnect_namespace("/chat").unwrap();
    h.session.connect_namespace("/chat", None).unwrap();
    h.text(r#"40/chat,{"sid":"c2"}"#);
    let _ = (h.sent(), h.events());
    assert_eq!(
        h.session.send_ack("/chat", first, vec![]),
        Err(CommandError::AckExpired("/chat".into()))
    );
    assert!(h.sent().is_empty());

    // Left and joined again at once: a question the server sent before it saw us leave arrives before the answer
    // to the new CONNECT. It belongs to the old session and cannot be answered in the new one.
    h.session.disconnect_namespace("/chat").unwrap();
    h.session.connect_namespace("/chat", None).unwrap();
    h.text(r#"42/chat,6["in flight"]"#);
    h.text(r#"40/chat,{"sid":"c3"}"#);
    let in_flight = h
        .raw_events()
        .into_iter()
        .find_map(|e| match e {
            ClientEvent::Event { ack: Some(request), .. } => Some(request),
            _ => None,
        })
        .expect("the in-flight question is delivered");
    let _ = h.sent();
    assert_eq!(
        h.session.send_ack("/chat", in_flight, vec![]),
        Err(CommandError::AckExpired("/chat".into()))
    );
    assert!(h.sent().is_empty());
}

#[test]
fn ping_timeout_closes_and_reconnects_with_backoff() {
    let mut h = Harness::connected();
    h.advance(Duration::from_secs(40));
    h.text("2"); // a ping resets the deadline
    let _ = h.sent();
    h.advance(Duration::from_secs(44));
    assert!(h.events().is_empty());
    h.advance(Duration::from_secs(2));
    let events = h.events();
    assert_eq!(
        events[0],
        ClientEvent::NamespaceDisconnected {
            namespace: "/".into(),
            reason: DisconnectReason::PingTimeout,
            was_connected: true
        }
    );
    assert_eq!(
        events[1],
        ClientEvent::Closed {
            reason: DisconnectReason::PingTimeout,
            cause: None
        }
    );
    let ClientEvent::ReconnectAttempt { attempt: 1, delay } = events[2] else {
        panic!("{events:?}")
    };
    assert!(
        delay >= Duration::from_millis(500) && delay <= Duration::from_millis(1500),
        "{delay:?}"
    );
    assert_eq!(h.commands(), [TransportCommand::Close]);
    assert_eq!(h.session.state(), ConnectionState::Connecting);
    assert_eq!(h.session.namespace_state("/"), ConnectionState::Connecting);
    h.advance(delay);
    assert_eq!(h.commands(), [TransportCommand::Open]);
    h.text(OPEN);
    assert_eq!(h.sent(), [r#"40{"token":"t"}"#], "rejoins with its auth");
    h.text(r#"40{"sid":"s2"}"#);
    assert_eq!(
        h.events(),
        [
            ClientEvent::Open {
                sid: "eio-sid".into(),
                transport: socketio_core::TransportKind::WebSocket
            },
            ClientEvent::Reconnected { attempt: 1 },
            ClientEvent::NamespaceConnected {
                namespace: "/".into(),
                sid: "s2".into(),
                recovered: false
            },
        ]
    );
}

#[test]
fn failed_attempts_back_off_and_give_up_after_max_attempts() {
    let mut config = ClientConfig::default();
    config.reconnect.max_attempts = Some(2);
    config.reconnect.randomization = 0.0;
    let mut h = Harness::new(config);
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    h.session.handle_transport_loss(h.now, refused());
    assert_eq!(
        h.events(),
        [
            ClientEvent::TransportError(socketio_core::ConnectError {
                message: "TCP connect to 127.0.0.1:3000 failed: connection refused".into(),
                data: None
            }),
            ClientEvent::NamespaceTransportError {
                namespace: "/".into(),
                error: socketio_core::ConnectError {
                    message: "TCP connect to 127.0.0.1:3000 failed: connection refused".into(),
                    data: None
                }
            },
            ClientEvent::ReconnectAttempt {
                attempt: 1,
                delay: Duration::from_secs(1)
            },
        ]
    );
    h.advance(Duration::from_secs(1));
    h.session.handle_transport_loss(h.now, refused());
    assert_eq!(
        h.events()[2],
        ClientEvent::ReconnectAttempt {
            attempt: 2,
            delay: Duration::from_secs(2)
        }
    );
    h.advance(Duration::from_secs(2));
    h.session.handle_transport_loss(h.now, refused());
    assert_eq!(h.events()[2], ClientEvent::ReconnectFailed { attempts: 2 });
    assert_eq!(h.session.state(), ConnectionState::Disconnected);
    assert_eq!(h.session.next_deadline(), None);
}

#[test]
fn connect_timeout_is_a_transport_error() {
    let mut h = Harness::new(ClientConfig::default());
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    h.advance(Duration::from_secs(21));
    let events = h.events();
    assert_eq!(
        events[0],
        ClientEvent::TransportError(socketio_core::ConnectError {
            message: "timeout".into(),
            data: None
        })
    );
    assert!(matches!(&events[1], ClientEvent::NamespaceTransportError { namespace, .. } if namespace == "/"));
    assert!(matches!(events[2], ClientEvent::ReconnectAttempt { attempt: 1, .. }));
}

#[test]
fn server_disconnect_does_not_reconnect() {
    let mut h = Harness::connected();
    h.text("41");
    assert_eq!(
        h.events(),
        [
            ClientEvent::NamespaceDisconnected {
                namespace: "/".into(),
                reason: DisconnectReason::IoServerDisconnect,
                was_connected: true
            },
            ClientEvent::Closed {
                reason: DisconnectReason::IoServerDisconnect,
                cause: None
            },
        ]
    );
    assert_eq!(h.commands(), [TransportCommand::Close]);
    assert_eq!(h.session.next_deadline(), None);
}

#[test]
fn transport_close_and_error_reasons() {
    let mut h = Harness::connected();
    h.session.handle_transport_loss(h.now, TransportEnd::Closed);
    assert_eq!(
        h.events()[1],
        ClientEvent::Closed {
            reason: DisconnectReason::TransportClose,
            cause: None
        }
    );
    let mut h = Harness::connected();
    h.session.handle_transport_loss(h.now, TransportEnd::Error(reset()));
    assert_eq!(
        h.events()[1],
        ClientEvent::Closed {
            reason: DisconnectReason::TransportError,
            cause: Some("I/O error: connection reset".into())
        }
    );
}

#[test]
fn malformed_packet_is_a_parse_error() {
    let mut h = Harness::connected();
    h.text(r#"42[{"toString":"x"}]"#);
    let events = h.events();
    assert_eq!(
        closed_cause(&events[1], DisconnectReason::ParseError),
        "invalid payload: EVENT name must be a string"
    );
    assert!(matches!(events[2], ClientEvent::ReconnectAttempt { .. }));
}

#[test]
fn oversized_frame_is_refused() {
    let mut config = ClientConfig::default();
    config.limits.max_message_bytes = 100;
    let mut h = Harness::new(config);
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    h.text(OPEN);
    h.text(r#"40{"sid":"s"}"#);
    let _ = h.events();
    h.text(&format!("42[\"x\",\"{}\"]", "a".repeat(200)));
    assert_eq!(
        closed_cause(&h.events()[1], DisconnectReason::ParseError),
        "message of 210 bytes, larger than max_message_size (100 bytes)"
    );
}

#[test]
fn binary_events_are_reassembled() {
    let mut h = Harness::connected();
    h.text(r#"452-["up",{"_placeholder":true,"num":0},{"k":{"_placeholder":true,"num":1}}]"#);
    assert!(h.events().is_empty());
    h.binary(b"one");
    h.binary(b"two");
    assert_eq!(
        h.events(),
        [event(
            "/",
            "up",
            vec![
                Value::Binary(Bytes::from_static(b"one")),
                obj(&[("k", Value::Binary(Bytes::from_static(b"two")))])
            ],
            None
        )]
    );
    h.binary(b"stray");
    assert_eq!(
        closed_cause(&h.events()[1], DisconnectReason::ParseError),
        "binary frame with no binary packet waiting"
    );
}

#[test]
fn emit_encodes_binary_as_attachments() {
    let mut h = Harness::connected();
    h.session
        .emit(
            h.now,
            "/",
            "up",
            vec![Value::Binary(Bytes::from_static(b"xy")), "t".into()],
            None,
        )
        .unwrap();
    assert_eq!(
        h.sent(),
        [r#"451-["up",{"_placeholder":true,"num":0},"t"]"#, "<bin xy>"]
    );
}

#[test]
fn acks_resolve_exactly_once() {
    let mut h = Harness::connected();
    let a = h
        .session
        .emit(h.now, "/", "q", vec![], Some(Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    let b = h
        .session
        .emit(h.now, "/", "q", vec![], Some(Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    assert_eq!(h.sent(), [format!("42{a}[\"q\"]"), format!("42{b}[\"q\"]")]);
    h.text(&format!("43{a}[\"answer\",1]"));
    h.text(&format!("43{a}[\"again\"]")); // a second answer is ignored
    assert_eq!(
        h.events(),
        [ClientEvent::AckResponse {
            namespace: "/".into(),
            id: a,
            args: payload(vec!["answer".into(), Value::Int(1)])
        }]
    );
    h.advance(Duration::from_secs(5));
    assert_eq!(
        h.events(),
        [ClientEvent::AckTimeout {
            namespace: "/".into(),
            id: b
        }]
    );
    h.text(&format!("43{b}[\"late\"]"));
    h.advance(Duration::from_secs(30));
    assert!(h.events().is_empty());
    assert_eq!(h.session.pending_acks(), 0);
}

#[test]
fn ack_from_another_namespace_is_ignored() {
    let mut h = Harness::connected();
    h.session.connect_namespace("/admin", None).unwrap();
    h.text(r#"40/admin,{"sid":"a1"}"#);
    let _ = (h.sent(), h.events());
    let id = h
        .session
        .emit(h.now, "/admin", "q", vec![], Some(Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    h.text(&format!("43{id}[\"wrong ns\"]"));
    assert!(h.events().is_empty());
    h.text(&format!("43/admin,{id}[\"right\"]"));
    assert_eq!(
        h.events(),
        [ClientEvent::AckResponse {
            namespace: "/admin".into(),
            id,
            args: payload(vec!["right".into()])
        }]
    );
}

#[test]
fn namespaces_with_auth_and_refusal() {
    let mut h = Harness::connected();
    h.session
        .connect_namespace("/admin", Some(obj(&[("token", "bad".into())])))
        .unwrap();
    assert_eq!(h.sent(), [r#"40/admin,{"token":"bad"}"#]);
    h.text(r#"44/admin,{"message":"Not authorized","data":{"code":401}}"#);
    assert_eq!(
        h.events(),
        [ClientEvent::NamespaceConnectError {
            namespace: "/admin".into(),
            error: socketio_core::ConnectError {
                message: "Not authorized".into(),
                data: Some(Payload::from_value(&obj(&[("code", Value::Int(401))])).unwrap()),
            },
        }]
    );
    assert_eq!(h.session.namespace_state("/admin"), ConnectionState::Disconnected);
    assert_eq!(
        h.session.state(),
        ConnectionState::Connected,
        "the connection stays for the other namespaces"
    );
    assert_eq!(
        h.session.add_namespace("admin"),
        Err(CommandError::InvalidNamespace("admin".into()))
    );
}

#[test]
fn connect_answer_without_sid_is_a_connect_error() {
    let mut h = Harness::new(ClientConfig::default());
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    h.text(OPEN);
    h.text("40");
    let events = h.events();
    assert!(matches!(&events[1], ClientEvent::NamespaceConnectError { error, .. } if error.message.contains("sid")));
}

#[test]
fn emits_wait_in_the_send_buffer_until_connected() {
    let mut h = Harness::new(ClientConfig::default());
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    h.session.emit(h.now, "/", "first", vec![Value::Int(1)], None).unwrap();
    let id = h
        .session
        .emit(h.now, "/", "second", vec![], Some(Duration::from_secs(10)))
        .unwrap()
        .unwrap();
    assert!(h.sent().is_empty());
    assert_eq!(h.session.buffered_packets("/"), 2);
    h.text(OPEN);
    assert_eq!(h.sent(), ["40"]);
    h.text(r#"40{"sid":"s"}"#);
    assert_eq!(h.sent(), [r#"42["first",1]"#.to_owned(), format!("42{id}[\"second\"]")]);
    h.text(&format!("43{id}[]"));
    assert!(h
        .events()
        .iter()
        .any(|e| matches!(e, ClientEvent::AckResponse { id: got, .. } if *got == id)));
}

#[test]
fn send_buffer_is_bounded() {
    let mut config = ClientConfig::default();
    config.limits.send_buffer_packets = 2;
    let mut h = Harness::new(config);
    h.session.add_namespace("/").unwrap();
    h.session.emit(h.now, "/", "a", vec![], None).unwrap();
    h.session.emit(h.now, "/", "b", vec![], None).unwrap();
    assert_eq!(
        h.session.emit(h.now, "/", "c", vec![], None),
        Err(CommandError::SendBufferFull(BufferLimit::Packets(2)))
    );
}

#[test]
fn send_buffer_bytes_are_bounded_and_the_error_names_that_limit() {
    let mut config = ClientConfig::default();
    config.limits.send_buffer_bytes = 100;
    let mut h = Harness::new(config);
    h.session.add_namespace("/").unwrap();
    h.session
        .emit(h.now, "/", "a", vec!["x".repeat(40).into()], None)
        .unwrap();
    let refused = h
        .session
        .emit(h.now, "/", "b", vec!["y".repeat(80).into()], None)
        .unwrap_err();
    let CommandError::SendBufferFull(BufferLimit::Bytes {
        size,
        buffered,
        max: 100,
    }) = refused
    else {
        panic!("{refused:?}")
    };
    assert!(size > 80 && buffered > 40, "{size} {buffered}");
    let message = refused.to_string();
    assert!(
        message.contains("send_buffer_max_bytes (100)") && !message.contains("packets are"),
        "{message}"
    );
}

#[test]
fn buffered_ack_times_out_and_is_not_sent_later() {
    let mut h = Harness::new(ClientConfig::default());
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    let id = h
        .session
        .emit(h.now, "/", "q", vec![], Some(Duration::from_secs(1)))
        .unwrap()
        .unwrap();
    h.advance(Duration::from_secs(1));
    assert_eq!(
        h.events(),
        [ClientEvent::AckTimeout {
            namespace: "/".into(),
            id
        }]
    );
    h.text(OPEN);
    h.text(r#"40{"sid":"s"}"#);
    assert_eq!(h.sent(), ["40"]);
}

#[test]
fn volatile_emits_are_dropped_unless_connected() {
    let mut h = Harness::new(ClientConfig::default());
    h.session.add_namespace("/").unwrap();
    assert_eq!(h.session.emit_volatile(h.now, "/", "pos", vec![]), Ok(false));
    assert_eq!(h.session.buffered_packets("/"), 0);
    let mut h = Harness::connected();
    assert_eq!(
        h.session.emit_volatile(h.now, "/", "pos", vec![Value::Int(3)]),
        Ok(true)
    );
    assert_eq!(h.sent(), [r#"42["pos",3]"#]);
}

#[test]
fn emits_over_max_payload_are_refused() {
    let mut h = Harness::connected();
    let err = h
        .session
        .emit(h.now, "/", "big", vec!["x".repeat(2000).into()], None)
        .unwrap_err();
    assert!(matches!(err, CommandError::TooLarge { max: 1000, .. }), "{err:?}");
    assert_eq!(h.session.state(), ConnectionState::Connected);
}

#[test]
fn invalid_event_names_are_refused() {
    let mut h = Harness::connected();
    for name in ["", "connect", "disconnect"] {
        assert_eq!(
            h.session.emit(h.now, "/", name, vec![], None),
            Err(CommandError::InvalidEventName(name.into()))
        );
    }
}

#[test]
fn client_close_disconnects_everything_and_times_out_acks() {
    let mut h = Harness::connected();
    let id = h
        .session
        .emit(h.now, "/", "q", vec![], Some(Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    let _ = h.sent();
    h.session.close();
    assert_eq!(h.sent(), ["41"]);
    assert_eq!(h.commands(), [TransportCommand::Close]);
    assert_eq!(
        h.events(),
        [
            ClientEvent::AckTimeout {
                namespace: "/".into(),
                id
            },
            ClientEvent::NamespaceDisconnected {
                namespace: "/".into(),
                reason: DisconnectReason::IoClientDisconnect,
                was_connected: true
            },
            ClientEvent::Closed {
                reason: DisconnectReason::IoClientDisconnect,
                cause: None
            },
        ]
    );
    h.advance(Duration::from_secs(100));
    assert!(h.events().is_empty());
    h.session.close(); // twice is fine
    assert!(h.events().is_empty() && h.commands().is_empty());
}

#[test]
fn disconnecting_one_namespace_keeps_the_others() {
    let mut h = Harness::connected();
    h.session.connect_namespace("/chat", None).unwrap();
    h.text(r#"40/chat,{"sid":"c"}"#);
    let _ = (h.sent(), h.events());
    h.session.disconnect_namespace("/chat").unwrap();
    assert_eq!(h.sent(), ["41/chat,"]);
    assert_eq!(
        h.events(),
        [ClientEvent::NamespaceDisconnected {
            namespace: "/chat".into(),
            reason: DisconnectReason::IoClientDisconnect,
            was_connected: true
        }]
    );
    assert_eq!(h.session.state(), ConnectionState::Connected);
    h.session.disconnect_namespace("/").unwrap();
    assert_eq!(
        h.session.state(),
        ConnectionState::Disconnected,
        "the last namespace closes the connection"
    );
}

#[test]
fn recovery_sends_pid_and_offset_and_replays_early_events() {
    let mut h = Harness::new(ClientConfig::default());
    h.session
        .connect_namespace("/", Some(obj(&[("token", "t".into())])))
        .unwrap();
    h.session.open(h.now);
    h.text(OPEN);
    h.text(r#"40{"sid":"s1","pid":"p1"}"#);
    h.text(r#"42["tick",1,"off-1"]"#);
    let _ = (h.sent(), h.events());
    h.session.handle_transport_loss(h.now, TransportEnd::Closed);
    let _ = (h.events(), h.commands());
    h.advance(Duration::from_secs(2));
    h.text(OPEN);
    assert_eq!(h.sent(), [r#"40{"pid":"p1","offset":"off-1","token":"t"}"#]);
    h.text(r#"42["missed",2,"off-2"]"#); // replayed before the CONNECT answer
    h.text(r#"40{"sid":"s1","pid":"p1"}"#);
    let events = h.events();
    assert_eq!(
        &events[events.len() - 2..],
        [
            ClientEvent::NamespaceConnected {
                namespace: "/".into(),
                sid: "s1".into(),
                recovered: true
            },
            event("/", "missed", vec![Value::Int(2), "off-2".into()], None),
        ]
    );
    assert!(h.session.namespace_recovered("/"));
}

#[test]
fn no_reconnection_when_disabled() {
    let mut config = ClientConfig::default();
    config.reconnect.enabled = false;
    let mut h = Harness::new(config);
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    h.text(OPEN);
    h.session.handle_transport_loss(h.now, TransportEnd::Closed);
    let events = h.events();
    assert!(
        !events.iter().any(|e| matches!(e, ClientEvent::ReconnectAttempt { .. })),
        "{events:?}"
    );
    assert_eq!(h.session.state(), ConnectionState::Disconnected);
}

#[test]
fn huge_intervals_and_timeouts_never_overflow_the_clock() {
    let mut h = Harness::new(ClientConfig::default());
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    h.text(r#"0{"sid":"x","upgrades":[],"pingInterval":9223372036854775807,"pingTimeout":9223372036854775807}"#);
    h.text("2");
    h.text(r#"40{"sid":"s"}"#);
    assert_eq!(h.session.namespace_state("/"), ConnectionState::Connected);
    let id = h.session.emit(h.now, "/", "q", vec![], Some(Duration::MAX)).unwrap();
    assert!(id.is_some());
    h.advance(Duration::from_secs(3600));
    assert_eq!(h.session.pending_acks(), 1);
}

#[test]
fn auth_must_be_an_object_without_binary() {
    let mut h = Harness::new(ClientConfig::default());
    let binary = obj(&[("k", Value::Binary(Bytes::from_static(b"x")))]);
    assert!(matches!(
        h.session.connect_namespace("/", Some(binary)),
        Err(CommandError::InvalidAuth(_))
    ));
    assert!(matches!(
        h.session.connect_namespace("/", Some(Value::Int(5))),
        Err(CommandError::InvalidAuth(_))
    ));
    assert_eq!(h.session.namespace_state("/"), ConnectionState::Disconnected);
}

#[test]
fn namespaces_that_the_wire_cannot_carry_are_refused() {
    let mut h = Harness::new(ClientConfig::default());
    for bad in ["", "chat", "/a,b", "/a\nb", &format!("/{}", "x".repeat(2000))] {
        assert!(
            matches!(h.session.add_namespace(bad), Err(CommandError::InvalidNamespace(_))),
            "{bad:?}"
        );
    }
    assert!(h.session.add_namespace("/ünïcode-ok").is_ok());
}

#[test]
fn limit_changes_apply_to_the_next_connection() {
    let mut h = Harness::connected();
    h.session.config_mut().limits.max_attachments = 1;
    h.text(r#"452-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
    h.binary(b"a");
    h.binary(b"b");
    assert_eq!(h.events().len(), 1, "the current connection keeps its limits");
    h.session.handle_transport_loss(h.now, TransportEnd::Closed);
    h.advance(Duration::from_secs(2));
    h.text(OPEN);
    h.text(r#"40{"sid":"s2"}"#);
    let _ = h.events();
    h.text(r#"452-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
    closed_cause(&h.events()[1], DisconnectReason::ParseError);
}

#[test]
fn refusal_of_the_only_namespace_closes_the_connection() {
    let mut h = Harness::new(ClientConfig::default());
    h.session
        .connect_namespace("/", Some(obj(&[("token", "bad".into())])))
        .unwrap();
    h.session.open(h.now);
    h.text(OPEN);
    let _ = (h.sent(), h.events(), h.commands());
    h.text(r#"44{"message":"Not authorized"}"#);
    let events = h.events();
    assert!(matches!(events[0], ClientEvent::NamespaceConnectError { .. }));
    assert_eq!(
        events[1],
        ClientEvent::Closed {
            reason: DisconnectReason::IoClientDisconnect,
            cause: None
        }
    );
    assert_eq!(h.commands(), [TransportCommand::Close]);
    assert_eq!(h.session.state(), ConnectionState::Disconnected);
    h.advance(Duration::from_secs(120));
    assert!(
        h.events().is_empty() && h.commands().is_empty(),
        "no empty reconnection loop"
    );
}

#[test]
fn a_second_connect_while_one_is_in_flight_sends_nothing() {
    let mut h = Harness::connected();
    h.session
        .connect_namespace("/chat", Some(obj(&[("v", Value::Int(1))])))
        .unwrap();
    assert_eq!(h.sent(), [r#"40/chat,{"v":1}"#]);
    h.session
        .connect_namespace("/chat", Some(obj(&[("v", Value::Int(2))])))
        .unwrap();
    assert!(h.sent().is_empty(), "one CONNECT per attempt");
    h.text(r#"40/chat,{"sid":"c"}"#);
    assert_eq!(h.session.namespace_state("/chat"), ConnectionState::Connected);
    // The newer auth is used when rejoining.
    h.session.handle_transport_loss(h.now, TransportEnd::Closed);
    h.advance(Duration::from_secs(2));
    h.text(OPEN);
    assert_eq!(
        h.sent(),
        [r#"40{"token":"t"}"#.to_owned(), r#"40/chat,{"v":2}"#.to_owned()]
    );
}

#[test]
fn disconnecting_a_connecting_namespace_reports_it() {
    let mut h = Harness::connected();
    h.session.connect_namespace("/chat", None).unwrap();
    h.session.disconnect_namespace("/chat").unwrap();
    assert_eq!(
        h.sent(),
        ["40/chat,"],
        "no DISCONNECT before the server answered the CONNECT"
    );
    assert_eq!(
        h.events(),
        [ClientEvent::NamespaceDisconnected {
            namespace: "/chat".into(),
            reason: DisconnectReason::IoClientDisconnect,
            was_connected: false
        }]
    );
    h.text(r#"40/chat,{"sid":"c"}"#);
    assert_eq!(h.sent(), ["41/chat,"], "leaves once the answer came");
    assert!(h.events().is_empty(), "the late answer does not connect it");
    assert_eq!(h.session.namespace_state("/chat"), ConnectionState::Disconnected);
    // Connecting again while a CONNECT is unanswered reuses it instead of sending a second one.
    h.session.connect_namespace("/chat", None).unwrap();
    h.session.disconnect_namespace("/chat").unwrap();
    h.session.connect_namespace("/chat", None).unwrap();
    assert_eq!(h.sent(), ["40/chat,"]);
    h.text(r#"40/chat,{"sid":"c2"}"#);
    assert_eq!(h.session.namespace_state("/chat"), ConnectionState::Connected);
    assert!(h.sent().is_empty());
}

#[test]
fn a_plain_object_with_a_placeholder_key_is_just_data() {
    let mut h = Harness::connected();
    h.text(r#"42["form",{"_placeholder":true,"text":"Type here"}]"#);
    assert_eq!(
        h.events(),
        [event(
            "/",
            "form",
            vec![obj(&[
                ("_placeholder", Value::Bool(true)),
                ("text", "Type here".into())
            ])],
            None
        )]
    );
}

#[test]
fn offsets_count_only_delivered_events_and_an_overlong_replay_drops_recovery() {
    let mut h = Harness::new(ClientConfig::default());
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    h.text(OPEN);
    h.text(r#"40{"sid":"s1","pid":"p1"}"#);
    h.text(r#"42["tick","off-1"]"#);
    h.session.handle_transport_loss(h.now, TransportEnd::Closed);
    h.advance(Duration::from_secs(2));
    h.text(OPEN);
    // Replayed events, then the connection drops before the CONNECT answer: they were never delivered...
    h.text(r#"42["missed","off-2"]"#);
    h.session.handle_transport_loss(h.now, TransportEnd::Closed);
    let _ = (h.sent(), h.events());
    h.advance(Duration::from_secs(5));
    h.text(OPEN);
    // ...so the next attempt still asks from the last delivered offset.
    assert_eq!(h.sent(), [r#"40{"pid":"p1","offset":"off-1"}"#]);
    for i in 0..10_001 {
        h.text(&format!("42[\"missed\",\"off-{i}\"]"));
    }
    assert!(h.events().iter().any(|e| matches!(
        e,
        ClientEvent::Closed {
            reason: DisconnectReason::ParseError,
            ..
        }
    )));
    h.advance(Duration::from_secs(5));
    h.text(OPEN);
    assert_eq!(h.sent(), ["40"], "recovery dropped: a fresh session rather than a gap");
}

#[test]
fn a_buffered_emit_over_max_payload_fails_when_flushed() {
    let mut h = Harness::new(ClientConfig::default());
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    let id = h
        .session
        .emit(
            h.now,
            "/",
            "big",
            vec!["x".repeat(5000).into()],
            Some(Duration::from_secs(5)),
        )
        .unwrap()
        .unwrap();
    h.session.emit(h.now, "/", "small", vec![], None).unwrap();
    h.text(OPEN); // maxPayload 1000
    h.text(r#"40{"sid":"s"}"#);
    assert_eq!(h.sent(), ["40", r#"42["small"]"#]);
    let events = h.events();
    assert!(events.iter().any(
        |e| matches!(e, ClientEvent::EmitFailed { error: error @ CommandError::TooLarge { max: 1000, .. }, .. }
            if error.to_string().contains("maxPayload"))
    ));
    assert!(events.contains(&ClientEvent::AckTimeout {
        namespace: "/".into(),
        id
    }));
}

#[test]
fn removing_a_namespace_disconnects_it_times_out_its_acks_and_forgets_it() {
    let mut h = Harness::connected();
    h.session.connect_namespace("/match-1", None).unwrap();
    h.text(r#"40/match-1,{"sid":"m"}"#);
    let _ = (h.sent(), h.events());
    let sent = h
        .session
        .emit(
            h.now,
            "/match-1",
            "move",
            vec![Value::Int(1)],
            Some(Duration::from_secs(5)),
        )
        .unwrap()
        .unwrap();
    assert_eq!(h.sent(), [format!(r#"42/match-1,{sent}["move",1]"#)]);
    h.session.remove_namespace("/match-1").unwrap();
    assert_eq!(h.sent(), ["41/match-1,"]);
    assert_eq!(
        h.events(),
        [
            ClientEvent::AckTimeout {
                namespace: "/match-1".into(),
                id: sent
            },
            ClientEvent::NamespaceDisconnected {
                namespace: "/match-1".into(),
                reason: DisconnectReason::IoClientDisconnect,
                was_connected: true
            },
        ]
    );
    assert!(!h.session.has_namespace("/match-1"));
    assert_eq!(h.session.namespace_count(), 1);
    assert_eq!(h.session.pending_acks(), 0);
    assert_eq!(h.session.namespace_state("/match-1"), ConnectionState::Disconnected);
    assert_eq!(
        h.session.emit(h.now, "/match-1", "move", vec![], None),
        Err(CommandError::UnknownNamespace("/match-1".into()))
    );
    assert_eq!(
        h.session.remove_namespace("/match-1"),
        Err(CommandError::UnknownNamespace("/match-1".into()))
    );
    // The server's late events on it are ignored; "/" keeps the connection.
    h.text(r#"42/match-1,["late"]"#);
    assert!(h.events().is_empty());
    assert_eq!(h.session.state(), ConnectionState::Connected);
    // Added again, it starts afresh.
    h.session.connect_namespace("/match-1", None).unwrap();
    assert_eq!(h.sent(), ["40/match-1,"]);
}

#[test]
fn removing_a_disconnected_namespace_drops_its_buffer_and_buffered_acks() {
    let mut h = Harness::connected();
    h.session.add_namespace("/lobby").unwrap();
    h.session.emit(h.now, "/lobby", "hello", vec![], None).unwrap();
    let buffered = h
        .session
        .emit(h.now, "/lobby", "ask", vec![], Some(Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    assert_eq!(h.session.buffered_packets("/lobby"), 2);
    h.session.remove_namespace("/lobby").unwrap();
    assert_eq!(
        h.events(),
        [ClientEvent::AckTimeout {
            namespace: "/lobby".into(),
            id: buffered
        }],
        "no disconnect for a namespace that was not connecting"
    );
    assert_eq!(h.session.buffered_packets("/lobby"), 0);
    h.session.connect_namespace("/lobby", None).unwrap();
    h.text(r#"40/lobby,{"sid":"l"}"#);
    assert_eq!(h.sent(), ["40/lobby,"], "the discarded emits are not sent");
    assert_eq!(h.session.pending_acks(), 0);
}

#[test]
fn removing_a_namespace_whose_connect_is_unanswered_leaves_after_the_answer() {
    let mut h = Harness::connected();
    h.session.connect_namespace("/a", None).unwrap();
    h.session.connect_namespace("/b", None).unwrap();
    assert_eq!(h.sent(), ["40/a,", "40/b,"]);
    h.session.remove_namespace("/a").unwrap();
    h.session.remove_namespace("/b").unwrap();
    assert!(
        h.sent().is_empty(),
        "no DISCONNECT before the server answered the CONNECT"
    );
    assert_eq!(h.events().len(), 2);
    h.text(r#"40/a,{"sid":"a"}"#);
    assert_eq!(h.sent(), ["41/a,"], "leaves once the answer came");
    h.text(r#"44/b,{"message":"no"}"#);
    assert!(h.sent().is_empty() && h.events().is_empty());
    h.text(r#"40/a,{"sid":"again"}"#);
    assert!(h.sent().is_empty(), "only once");

    // Removed and added back before the answer: the answer connects the new one, with no second CONNECT.
    h.session.connect_namespace("/c", None).unwrap();
    h.session.remove_namespace("/c").unwrap();
    h.session.connect_namespace("/c", None).unwrap();
    assert_eq!(h.sent(), ["40/c,"]);
    let _ = h.events();
    h.text(r#"40/c,{"sid":"c"}"#);
    assert_eq!(h.session.namespace_state("/c"), ConnectionState::Connected);
    assert!(h.sent().is_empty());
}

#[test]
fn removing_the_last_namespace_in_use_closes_the_connection() {
    let mut h = Harness::connected();
    h.session.add_namespace("/idle").unwrap();
    h.session.remove_namespace("/").unwrap();
    assert_eq!(h.sent(), ["41"]);
    assert_eq!(h.commands(), [TransportCommand::Close]);
    assert_eq!(h.session.state(), ConnectionState::Disconnected);
    assert!(h.session.has_namespace("/idle") && !h.session.has_namespace("/"));
}

#[test]
fn many_namespaces_cost_no_scan_per_call() {
    // Quadratic work would take minutes here (each call scanning 50,000 namespaces); this takes milliseconds.
    let mut h = Harness::connected();
    let started = Instant::now();
    let count = 50_000;
    for i in 0..count {
        let path = format!("/match-{i}");
        h.session.add_namespace(&path).unwrap();
        h.session
            .emit(h.now, &path, "hi", vec![], Some(Duration::from_secs(60)))
            .unwrap();
    }
    for i in 0..count {
        assert!(h.session.has_namespace(&format!("/match-{i}")));
    }
    h.session.connect_namespace("/match-7", None).unwrap();
    for i in (0..count).filter(|i| i % 2 == 0) {
        h.session.remove_namespace(&format!("/match-{i}")).unwrap();
    }
    assert_eq!(h.session.namespace_count(), count / 2 + 1);
    assert_eq!(h.session.pending_acks(), count / 2);
    let _ = (h.sent(), h.events());
    h.session.close();
    assert_eq!(h.session.pending_acks(), 0);
    let timeouts = h
        .events()
        .iter()
        .filter(|e| matches!(e, ClientEvent::AckTimeout { .. }))
        .count();
    assert_eq!(timeouts, count / 2);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[test]
fn the_users_close_disconnect_and_remove_drop_the_servers_events_not_taken_yet() {
    let mut h = Harness::connected();
    for ns in ["/chat", "/lobby"] {
        h.session.connect_namespace(ns, None).unwrap();
        h.text(&format!(r#"40{ns},{{"sid":"x"}}"#));
    }
    let asked = h
        .session
        .emit(h.now, "/chat", "q", vec![], Some(Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    let _ = (h.sent(), h.events());
    let left = |ns: &str| ClientEvent::NamespaceDisconnected {
        namespace: ns.into(),
        reason: DisconnectReason::IoClientDisconnect,
        was_connected: true,
    };

    // Disconnecting a namespace drops its events not taken yet, not the others', nor the answers to our acks.
    h.text(r#"42["a"]"#);
    h.text(r#"42/chat,["b"]"#);
    h.text(&format!(r#"43/chat,{asked}["ok"]"#));
    h.text(r#"42/lobby,["c"]"#);
    h.session.disconnect_namespace("/chat").unwrap();
    assert_eq!(
        h.events(),
        [
            event("/", "a", vec![], None),
            ClientEvent::AckResponse {
                namespace: "/chat".into(),
                id: asked,
                args: payload(vec!["ok".into()])
            },
            event("/lobby", "c", vec![], None),
            left("/chat"),
        ]
    );

    // What arrives after is delivered: joined again, /chat hears the server.
    h.session.connect_namespace("/chat", None).unwrap();
    h.text(r#"40/chat,{"sid":"y"}"#);
    h.text(r#"42/chat,["d"]"#);
    let events = h.events();
    assert_eq!(events.last(), Some(&event("/chat", "d", vec![], None)));

    // The server's own DISCONNECT drops nothing: what it sent before it is delivered.
    h.text(r#"42/chat,["e"]"#);
    h.text("41/chat,");
    assert_eq!(
        h.events(),
        [
            event("/chat", "e", vec![], None),
            ClientEvent::NamespaceDisconnected {
                namespace: "/chat".into(),
                reason: DisconnectReason::IoServerDisconnect,
                was_connected: true
            },
        ]
    );

    // Removing a namespace drops its events too.
    h.text(r#"42/lobby,["f"]"#);
    h.text(r#"42["g"]"#);
    h.session.remove_namespace("/lobby").unwrap();
    assert_eq!(h.events(), [event("/", "g", vec![], None), left("/lobby")]);

    // Closing drops every namespace's.
    h.text(r#"42["h"]"#);
    h.session.close();
    assert_eq!(
        h.events(),
        [
            left("/"),
            ClientEvent::Closed {
                reason: DisconnectReason::IoClientDisconnect,
                cause: None
            },
        ]
    );
}

#[test]
fn a_connection_that_cannot_open_is_told_to_every_namespace_waiting_for_it() {
    let mut config = ClientConfig::default();
    config.reconnect.randomization = 0.0;
    let mut h = Harness::new(config);
    h.session.add_namespace("/idle").unwrap();
    for ns in ["/", "/chat", "/refused", "/left", "/kicked"] {
        h.session.connect_namespace(ns, None).unwrap();
    }
    h.session.open(h.now);
    h.text(OPEN);
    for answer in [
        r#"40{"sid":"a"}"#,
        r#"40/chat,{"sid":"b"}"#,
        r#"44/refused,{"message":"no"}"#,
        r#"40/kicked,{"sid":"c"}"#,
        "41/kicked,",
    ] {
        h.text(answer);
    }
    h.session.disconnect_namespace("/left").unwrap();
    let _ = (h.sent(), h.events(), h.commands());
    // The connection drops, and the next attempt cannot open one.
    h.session.handle_transport_loss(h.now, TransportEnd::Closed);
    h.advance(Duration::from_secs(1));
    let _ = (h.events(), h.commands());
    h.session.handle_transport_loss(h.now, refused());
    let error = socketio_core::ConnectError {
        message: "TCP connect to 127.0.0.1:3000 failed: connection refused".into(),
        data: None,
    };
    let waiting = |ns: &str| ClientEvent::NamespaceTransportError {
        namespace: ns.into(),
        error: error.clone(),
    };
    assert_eq!(
        h.events(),
        [
            ClientEvent::TransportError(error.clone()),
            waiting("/"),
            waiting("/chat"),
            ClientEvent::ReconnectAttempt {
                attempt: 2,
                delay: Duration::from_secs(2)
            },
        ],
        "not the namespace never asked to connect, nor those the server refused or the client or server disconnected"
    );
    // They still wait: they join when a connection opens.
    h.advance(Duration::from_secs(2));
    h.text(OPEN);
    assert_eq!(h.sent(), ["40", "40/chat,"]);
}

#[test]
fn a_namespace_let_go_of_before_the_news_is_taken_is_not_told_the_connection_failed() {
    let mut h = Harness::new(ClientConfig::default());
    for ns in ["/", "/chat", "/gone"] {
        h.session.connect_namespace(ns, None).unwrap();
    }
    h.session.open(h.now);
    let _ = (h.events(), h.commands());
    h.session.handle_transport_loss(h.now, refused());
    // The game disconnects "/chat" and removes "/gone" before it takes the events of the failure.
    h.session.disconnect_namespace("/chat").unwrap();
    h.session.remove_namespace("/gone").unwrap();
    let events = h.events();
    let told: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::NamespaceTransportError { namespace, .. } => Some(namespace.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(told, ["/"], "{events:?}");
    assert!(matches!(events[0], ClientEvent::TransportError(_)), "{events:?}");
}

#[test]
fn reset_forgets_everything_but_the_settings_and_tells_connected_namespaces() {
    let mut config = ClientConfig::default();
    config.reconnect.delay = Duration::from_millis(1234);
    let mut h = Harness::new(config);
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    h.text(OPEN);
    h.text(r#"40{"sid":"a"}"#);
    h.session.connect_namespace("/chat", None).unwrap();
    h.session.connect_namespace("/joining", None).unwrap();
    h.text(r#"40/chat,{"sid":"b"}"#);
    let before = h
        .session
        .emit(h.now, "/", "q", vec![], Some(Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    let _ = (h.sent(), h.events(), h.commands());
    h.text(r#"42["not taken"]"#);

    h.session.reset();
    let gone = |ns: &str| ClientEvent::NamespaceDisconnected {
        namespace: ns.into(),
        reason: DisconnectReason::TransportError,
        was_connected: true,
    };
    assert_eq!(
        h.events(),
        [gone("/"), gone("/chat")],
        "the connected ones only; nothing else, not even ack timeouts"
    );
    assert!(
        h.sent().is_empty() && h.commands().is_empty(),
        "nothing sent: the driver drops its transport"
    );
    assert_eq!(h.session.state(), ConnectionState::Disconnected);
    assert_eq!((h.session.namespace_count(), h.session.pending_acks()), (0, 0));
    assert_eq!(h.session.next_deadline(), None);
    assert_eq!(
        h.session.config().reconnect.delay,
        Duration::from_millis(1234),
        "settings kept"
    );
    // It works as a new session.
    h.session.connect_namespace("/", None).unwrap();
    h.session.open(h.now);
    assert_eq!(h.commands(), [TransportCommand::Open]);
    h.text(OPEN);
    assert_eq!(h.sent(), ["40"]);
    h.text(r#"40{"sid":"c"}"#);
    let after = h.session.emit(h.now, "/", "q", vec![], Some(Duration::from_secs(5)));
    assert!(
        after.unwrap().unwrap() > before,
        "ack ids stay unique for the client's lifetime"
    );
}

/// `NamespaceDisconnected` by the client: `was_connected` as given.
fn left_by_client(ns: &str, was_connected: bool) -> ClientEvent {
    ClientEvent::NamespaceDisconnected {
        namespace: ns.into(),
        reason: DisconnectReason::IoClientDisconnect,
        was_connected,
    }
}

fn connected_event(ns: &str, sid: &str) -> ClientEvent {
    ClientEvent::NamespaceConnected {
        namespace: ns.into(),
        sid: sid.into(),
        recovered: false,
    }
}

/// A namespace's memberships (idle, waiting for a connection, joining, connected, leaving) as the user reads them
/// (`namespace_state`) and as the server sees them (CONNECT and DISCONNECT), through each way in.
#[test]
fn membership_transitions_in() {
    use ConnectionState::{Connected, Connecting, Disconnected};
    let mut h = Harness::new(ClientConfig::default());
    // Idle: registered, not wanted.
    h.session.add_namespace("/idle").unwrap();
    assert_eq!(h.session.namespace_state("/idle"), Disconnected);
    // Waiting: wanted, no connection yet; it reads Disconnected while the session is idle, Connecting once it opens.
    h.session.connect_namespace("/", None).unwrap();
    h.session.connect_namespace("/w", None).unwrap();
    assert_eq!(h.session.namespace_state("/w"), Disconnected);
    h.session.open(h.now);
    assert_eq!(h.session.namespace_state("/w"), Connecting);
    // Waiting → idle, by the user: told, though it never connected; and back.
    h.session.disconnect_namespace("/w").unwrap();
    assert_eq!(h.events(), [left_by_client("/w", false)]);
    assert_eq!(h.session.namespace_state("/w"), Disconnected);
    h.session.connect_namespace("/w", None).unwrap();
    // The connection opens: each waiting namespace joins, in creation order; the idle one does not.
    h.text(OPEN);
    assert_eq!(h.sent(), ["40", "40/w,"]);
    assert_eq!(h.session.namespace_state("/w"), Connecting);
    assert_eq!(h.session.namespace_state("/idle"), Disconnected);
    // Idle → joining at once while the connection is open.
    h.session.connect_namespace("/idle", None).unwrap();
    assert_eq!(h.sent(), ["40/idle,"]);
    // Joining → connected.
    h.text(r#"40{"sid":"a"}"#);
    h.text(r#"40/w,{"sid":"w"}"#);
    assert_eq!(h.session.namespace_state("/w"), Connected);
    assert_eq!(h.session.namespace_sid("/w"), Some("w"));
    // Connected: asking again changes nothing.
    h.session.connect_namespace("/w", None).unwrap();
    assert!(h.sent().is_empty());
    // Joining → leaving, by the user: no DISCONNECT before the CONNECT answer (the server would close the
    // connection); leaving → joining again before the answer: no second CONNECT, and the answer connects it.
    h.session.disconnect_namespace("/idle").unwrap();
    assert_eq!(h.session.namespace_state("/idle"), Disconnected);
    h.session.connect_namespace("/idle", None).unwrap();
    assert!(h.sent().is_empty(), "no DISCONNECT, no second CONNECT");
    assert_eq!(h.session.namespace_state("/idle"), Connecting);
    h.text(r#"40/idle,{"sid":"i"}"#);
    assert!(h.sent().is_empty());
    assert_eq!(
        h.events(),
        [
            ClientEvent::Open {
                sid: "eio-sid".into(),
                transport: socketio_core::TransportKind::WebSocket
            },
            connected_event("/", "a"),
            connected_event("/w", "w"),
            left_by_client("/idle", false),
            connected_event("/idle", "i"),
        ]
    );
    assert_eq!(h.session.namespace_state("/idle"), Connected);
}

/// Each way out of each membership: what the namespace becomes, what the server is sent and what the user is told.
#[test]
fn membership_transitions_out() {
    use ConnectionState::{Connecting, Disconnected};
    let mut h = Harness::connected();
    for ns in [
        "/by-user",
        "/by-server",
        "/lost",
        "/joining",
        "/refused",
        "/kicked-early",
        "/left-early",
        "/leaving",
    ] {
        h.session.connect_namespace(ns, None).unwrap();
    }
    for ns in ["/by-user", "/by-server", "/lost"] {
        h.text(&format!(r#"40{ns},{{"sid":"x"}}"#));
    }
    let _ = (h.sent(), h.events());

    // Connected → idle, by the user: DISCONNECT, told. By the server: told.
    h.session.disconnect_namespace("/by-user").unwrap();
    h.text("41/by-server,");
    // Joining → idle, refused: told as a connect error.
    h.text(r#"44/refused,{"message":"no"}"#);
    // Joining → leaving, by the server's DISCONNECT (not told: it never connected) or by the user (told).
    h.text("41/kicked-early,");
    h.session.disconnect_namespace("/left-early").unwrap();
    h.session.disconnect_namespace("/leaving").unwrap();
    assert_eq!(h.sent(), ["41/by-user,"]);
    assert_eq!(
        h.events(),
        [
            left_by_client("/by-user", true),
            ClientEvent::NamespaceDisconnected {
                namespace: "/by-server".into(),
                reason: DisconnectReason::IoServerDisconnect,
                was_connected: true
            },
            ClientEvent::NamespaceConnectError {
                namespace: "/refused".into(),
                error: socketio_core::ConnectError {
                    message: "no".into(),
                    data: None
                }
            },
            left_by_client("/left-early", false),
            left_by_client("/leaving", false),
        ]
    );
    // Leaving → idle: the DISCONNECT follows the answer, once.
    h.text(r#"40/kicked-early,{"sid":"k"}"#);
    h.text(r#"44/left-early,{"message":"late"}"#);
    assert_eq!(h.sent(), ["41/kicked-early,"], "a refusal needs no DISCONNECT");
    assert!(h.events().is_empty());
    for ns in [
        "/by-user",
        "/by-server",
        "/refused",
        "/kicked-early",
        "/left-early",
        "/leaving",
    ] {
        assert_eq!(h.session.namespace_state(ns), Disconnected, "{ns}");
    }

    // The connection is lost: connected and joining namespaces wait for the next one (connected ones told);
    // a leaving one is idle (its answer will never come).
    h.session.handle_transport_loss(h.now, TransportEnd::Closed);
    let events = h.events();
    assert_eq!(
        events[..2],
        [
            ClientEvent::NamespaceDisconnected {
                namespace: "/".into(),
                reason: DisconnectReason::TransportClose,
                was_connected: true
            },
            ClientEvent::NamespaceDisconnected {
                namespace: "/lost".into(),
                reason: DisconnectReason::TransportClose,
                was_connected: true
            },
        ]
    );
    assert!(matches!(events[2], ClientEvent::Closed { .. }));
    for ns in ["/", "/lost", "/joining"] {
        assert_eq!(h.session.namespace_state(ns), Connecting, "{ns}");
    }
    assert_eq!(h.session.namespace_state("/leaving"), Disconnected);
    // They join the next connection, in creation order; none of the others does.
    h.advance(Duration::from_secs(10));
    let _ = h.commands();
    h.text(OPEN);
    assert_eq!(h.sent(), [r#"40{"token":"t"}"#, "40/lost,", "40/joining,"]);
    h.text(r#"40{"sid":"s2"}"#);
    h.text(r#"40/lost,{"sid":"l2"}"#);
    let _ = h.events();

    // We end the connection ourselves (open() starts another): connected namespaces say goodbye and are told, and
    // all of them join the new connection.
    h.session.open(h.now);
    assert_eq!(h.sent(), ["41", "41/lost,"]);
    assert_eq!(
        h.events()[..2],
        [left_by_client("/", true), left_by_client("/lost", true)]
    );
    assert_eq!(h.commands(), [TransportCommand::Close, TransportCommand::Open]);
    h.text(OPEN);
    assert_eq!(h.sent(), [r#"40{"token":"t"}"#, "40/lost,", "40/joining,"]);

    // close(): every namespace is idle, and no connection is tried.
    h.session.close();
    for ns in ["/", "/lost", "/joining"] {
        assert_eq!(h.session.namespace_state(ns), Disconnected, "{ns}");
    }
    let _ = (h.sent(), h.events(), h.commands());
    h.session.open(h.now);
    h.text(OPEN);
    assert!(h.sent().is_empty(), "no namespace joins after close()");
}

/// The game stopped polling for a minute (paused, a blocking load): past the heartbeat window (25 s + 20 s here).
/// An emit made before the first poll finds the deadline passed: the connection is given up first ("ping timeout",
/// as engine.io-client does before a write), and the emit is buffered for the reconnection rather than written into
/// a connection the server has dropped. The acks pending time out once each, and the first reconnection attempt is
/// scheduled from now, once, with its normal delay.
#[test]
fn after_a_long_pause_an_emit_finds_the_connection_dead_and_is_buffered() {
    let mut h = Harness::connected();
    let short = h
        .session
        .emit(h.now, "/", "q", vec![], Some(Duration::from_secs(5)))
        .unwrap()
        .unwrap();
    let long = h
        .session
        .emit(h.now, "/", "q", vec![], Some(Duration::from_secs(30)))
        .unwrap()
        .unwrap();
    let _ = h.sent();
    // A minute passes with no poll at all.
    h.now += Duration::from_secs(60);
    h.session.emit(h.now, "/", "after", vec![1.into()], None).unwrap();
    assert!(h.sent().is_empty(), "nothing written into the dead connection");
    assert_eq!(h.commands(), [TransportCommand::Close]);
    // The pending acks end with their namespace's session (as on any loss), once each.
    let events = h.events();
    assert!(
        matches!(
            events.as_slice(),
            [
                ClientEvent::AckTimeout { id: a, .. },
                ClientEvent::AckTimeout { id: b, .. },
                ClientEvent::NamespaceDisconnected { reason: DisconnectReason::PingTimeout, .. },
                ClientEvent::Closed { reason: DisconnectReason::PingTimeout, .. },
                ClientEvent::ReconnectAttempt { attempt: 1, .. },
            ] if *a == short && *b == long
        ),
        "{events:?}"
    );
    // The poll that follows: nothing more fires (no second attempt, no second timeout).
    h.advance(Duration::from_millis(1));
    assert!(h.events().is_empty());
    h.advance(Duration::from_secs(10));
    assert!(
        !h.events().iter().any(|e| matches!(e, ClientEvent::AckTimeout { .. })),
        "each ack timed out once"
    );
    // The reconnection: the buffered emit goes out once "/" is back.
    assert_eq!(h.commands(), [TransportCommand::Open]);
    h.text(OPEN);
    let _ = h.sent();
    h.text(r#"40{"sid":"s2"}"#);
    assert_eq!(h.sent(), [r#"42["after",1]"#]);
}

/// Within the window nothing is given up: a 10 s gap, then an emit goes out at once.
#[test]
fn after_a_short_pause_an_emit_is_sent_at_once() {
    let mut h = Harness::connected();
    h.now += Duration::from_secs(10);
    h.session.emit(h.now, "/", "after", vec![], None).unwrap();
    assert_eq!(h.sent(), [r#"42["after"]"#]);
    assert!(h.commands().is_empty());
    assert!(h.events().is_empty());
}
