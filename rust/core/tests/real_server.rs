//! Integration tests against the real `socket.io` server (npm, pinned in tests/server/package-lock.json).

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{poll_for, poll_until, wait_for, TestServer};
use socketio_core::{Client, ClientConfig, ClientEvent, ConnectionState, DisconnectReason, Value};

fn obj(entries: &[(&str, Value)]) -> Value {
    Value::Object(entries.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

fn fast_reconnect() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.reconnect.delay = Duration::from_millis(100);
    config.reconnect.delay_max = Duration::from_millis(200);
    config
}

/// Connects "/" (with `auth`) and returns the client once the namespace is connected.
fn connect(server: &TestServer, auth: Option<Value>) -> Client {
    let mut client = Client::new(fast_reconnect());
    client.connect_namespace(Instant::now(), "/", auth).unwrap();
    client.connect(Instant::now(), &server.url()).unwrap();
    wait_for(
        &mut client,
        |e| matches!(e, ClientEvent::NamespaceConnected { namespace, .. } if namespace == "/"),
    );
    client
}

fn is_event(e: &ClientEvent, ns: &str, event: &str) -> bool {
    matches!(e, ClientEvent::Event { namespace, name, .. } if namespace == ns && name == event)
}

fn event_args(events: &[ClientEvent], ns: &str, event: &str) -> Vec<Value> {
    events
        .iter()
        .find_map(|e| match e {
            ClientEvent::Event {
                namespace, name, args, ..
            } if namespace == ns && name == event => Some(args.to_values()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {event} on {ns} in {events:#?}"))
}

fn ack_args(events: &[ClientEvent], want: u64) -> Vec<Value> {
    events
        .iter()
        .find_map(|e| match e {
            ClientEvent::AckResponse { id, args, .. } if *id == want => Some(args.to_values()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no answer to ack {want} in {events:#?}"))
}

#[test]
fn connects_and_the_server_sees_the_auth() {
    let server = TestServer::start(&[]);
    let mut client = Client::new(ClientConfig::default());
    client
        .connect_namespace(Instant::now(), "/", Some(obj(&[("token", "abc".into())])))
        .unwrap();
    client.connect(Instant::now(), &server.url()).unwrap();
    assert_eq!(client.state(), ConnectionState::Connecting);
    let events = wait_for(&mut client, |e| is_event(e, "/", "welcome"));
    assert!(matches!(events[0], ClientEvent::Open { .. }));
    let ClientEvent::NamespaceConnected {
        sid, recovered: false, ..
    } = &events[1]
    else {
        panic!("{events:#?}")
    };
    assert_eq!(client.state(), ConnectionState::Connected);
    assert_eq!(client.namespace_sid("/"), Some(sid.as_str()));
    assert!(client.engine_sid().is_some_and(|eio| eio != sid));
    let welcome = &event_args(&events, "/", "welcome")[0];
    assert_eq!(welcome.get("sid"), Some(&Value::String(sid.clone())));
    assert_eq!(welcome.get("auth"), Some(&obj(&[("token", "abc".into())])));
}

#[test]
fn events_both_ways_keep_ints_floats_and_unicode() {
    let server = TestServer::start(&[]);
    let mut client = connect(&server, None);
    let payload = vec![
        obj(&[
            ("int", Value::Int(42)),
            ("neg", Value::Int(-7)),
            ("float", Value::Float(1.5)),
            ("text", "héllo wörld ✓ 日本 🎮".into()),
            (
                "nested",
                Value::Array(vec![Value::Null, Value::Bool(true), obj(&[("deep", Value::Int(1))])]),
            ),
        ]),
        Value::Float(-0.25),
    ];
    client.emit(Instant::now(), "/", "echo", payload.clone()).unwrap();
    let events = wait_for(&mut client, |e| is_event(e, "/", "echo"));
    assert_eq!(event_args(&events, "/", "echo"), payload);

    let id = client
        .emit_with_ack(Instant::now(), "/", "types", vec![], Duration::from_secs(5))
        .unwrap();
    let events = wait_for(&mut client, |e| matches!(e, ClientEvent::AckResponse { .. }));
    let types = &ack_args(&events, id)[0];
    assert_eq!(types.get("int"), Some(&Value::Int(42)));
    assert_eq!(types.get("float"), Some(&Value::Float(1.5)));
    assert_eq!(types.get("big"), Some(&Value::Int(9007199254740991)));
    assert_eq!(types.get("text"), Some(&Value::from("héllo wörld ✓ 日本 🎮")));
    assert_eq!(types.get("n"), Some(&Value::Null));
}

#[test]
fn acks_both_ways_and_ack_timeout() {
    let server = TestServer::start(&[]);
    let mut client = connect(&server, None);
    let id = client
        .emit_with_ack(
            Instant::now(),
            "/",
            "ack",
            vec![Value::Int(1), "two".into()],
            Duration::from_secs(5),
        )
        .unwrap();
    let events = wait_for(&mut client, |e| matches!(e, ClientEvent::AckResponse { .. }));
    assert_eq!(ack_args(&events, id), vec![Value::Int(1), "two".into()]);

    // The server asks us for an ack; we answer; the server reports what it got.
    client
        .emit(
            Instant::now(),
            "/",
            "request_ack",
            vec!["question".into(), Value::Int(5)],
        )
        .unwrap();
    let events = wait_for(&mut client, |e| is_event(e, "/", "question"));
    let ClientEvent::Event {
        args,
        ack: Some(request),
        ..
    } = events.iter().find(|e| is_event(e, "/", "question")).unwrap()
    else {
        panic!("the server's event carries an ack id")
    };
    assert_eq!(args.to_values(), vec![Value::Int(5)]);
    client
        .send_ack(Instant::now(), "/", *request, vec!["answer".into(), Value::Float(2.5)])
        .unwrap();
    let events = wait_for(&mut client, |e| is_event(e, "/", "ack_result"));
    assert_eq!(
        event_args(&events, "/", "ack_result"),
        vec!["answer".into(), Value::Float(2.5)]
    );

    // No answer: exactly one timeout.
    let id = client
        .emit_with_ack(Instant::now(), "/", "no_ack", vec![], Duration::from_millis(300))
        .unwrap();
    let started = Instant::now();
    let events = wait_for(&mut client, |e| matches!(e, ClientEvent::AckTimeout { .. }));
    assert!(started.elapsed() >= Duration::from_millis(290));
    assert_eq!(
        events,
        [ClientEvent::AckTimeout {
            namespace: "/".into(),
            id
        }]
    );
    let later = poll_for(&mut client, Duration::from_millis(500));
    assert!(!later
        .iter()
        .any(|e| matches!(e, ClientEvent::AckTimeout { .. } | ClientEvent::AckResponse { .. })));
}

#[test]
fn binary_with_several_nested_attachments_both_ways() {
    let server = TestServer::start(&[]);
    let mut client = connect(&server, None);
    let big: Bytes = (0..100_000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into();
    let payload = vec![
        Value::Binary(Bytes::from_static(b"\x00\x01\x02")),
        obj(&[("inner", Value::Array(vec![Value::Binary(big.clone()), "text".into()]))]),
        Value::Binary(Bytes::new()),
    ];
    client.emit(Instant::now(), "/", "echo", payload.clone()).unwrap();
    let events = wait_for(&mut client, |e| is_event(e, "/", "echo"));
    assert_eq!(event_args(&events, "/", "echo"), payload);

    let id = client
        .emit_with_ack(Instant::now(), "/", "binary_nested", vec![], Duration::from_secs(5))
        .unwrap();
    let events = wait_for(&mut client, |e| matches!(e, ClientEvent::AckResponse { .. }));
    assert_eq!(
        ack_args(&events, id)[0],
        obj(&[
            ("a", Value::Binary(Bytes::from_static(&[1, 2, 3]))),
            (
                "list",
                Value::Array(vec![
                    Value::Binary(Bytes::from_static(&[4])),
                    obj(&[("deep", Value::Binary(Bytes::from_static(&[5, 6])))]),
                ])
            ),
            ("text", "t".into()),
        ])
    );
}

#[test]
fn namespaces_with_auth_and_a_rejecting_middleware() {
    let server = TestServer::start(&[]);
    let mut client = connect(&server, None);
    client
        .connect_namespace(Instant::now(), "/admin", Some(obj(&[("token", "wrong".into())])))
        .unwrap();
    let events = wait_for(&mut client, |e| matches!(e, ClientEvent::NamespaceConnectError { .. }));
    let Some(ClientEvent::NamespaceConnectError { namespace, error }) = events.last() else {
        panic!()
    };
    assert_eq!(namespace, "/admin");
    assert_eq!(error.message, "Not authorized");
    assert_eq!(
        error.data.as_ref().map(|d| d.to_value()),
        Some(obj(&[("code", Value::Int(401)), ("reason", "bad token".into())]))
    );
    assert_eq!(client.namespace_state("/admin"), ConnectionState::Disconnected);

    client
        .connect_namespace(Instant::now(), "/admin", Some(obj(&[("token", "secret".into())])))
        .unwrap();
    client.connect_namespace(Instant::now(), "/chat", None).unwrap();
    let events = poll_until(&mut client, Duration::from_secs(10), |events| {
        events
            .iter()
            .filter(|e| matches!(e, ClientEvent::NamespaceConnected { .. }))
            .count()
            == 2
    });
    assert!(events
        .iter()
        .any(|e| matches!(e, ClientEvent::NamespaceConnected { namespace, .. } if namespace == "/admin")));
    client
        .emit(Instant::now(), "/admin", "echo", vec!["on admin".into()])
        .unwrap();
    client
        .emit(Instant::now(), "/chat", "echo", vec!["on chat".into()])
        .unwrap();
    let events = poll_until(&mut client, Duration::from_secs(10), |events| {
        events.iter().any(|e| is_event(e, "/admin", "echo")) && events.iter().any(|e| is_event(e, "/chat", "echo"))
    });
    assert_eq!(event_args(&events, "/admin", "echo"), vec!["on admin".into()]);
    assert_eq!(event_args(&events, "/chat", "echo"), vec!["on chat".into()]);

    client.connect_namespace(Instant::now(), "/nope", None).unwrap();
    let events = wait_for(&mut client, |e| matches!(e, ClientEvent::NamespaceConnectError { .. }));
    assert!(events.iter().any(
        |e| matches!(e, ClientEvent::NamespaceConnectError { namespace, error } if namespace == "/nope" && error.message == "Invalid namespace")
    ));
}

#[test]
fn server_side_disconnect() {
    let server = TestServer::start(&[]);
    let mut client = connect(&server, None);
    client.emit(Instant::now(), "/", "server_disconnect", vec![]).unwrap();
    let events = wait_for(&mut client, |e| matches!(e, ClientEvent::Closed { .. }));
    assert!(events.contains(&ClientEvent::NamespaceDisconnected {
        namespace: "/".into(),
        reason: DisconnectReason::IoServerDisconnect,
        was_connected: true
    }));
    assert!(events.contains(&ClientEvent::Closed {
        reason: DisconnectReason::IoServerDisconnect,
        cause: None
    }));
    let later = poll_for(&mut client, Duration::from_millis(600));
    assert!(
        later.is_empty(),
        "no reconnection after io server disconnect: {later:#?}"
    );
}

#[test]
fn dropped_transport_reconnects_and_rejoins_namespaces() {
    let server = TestServer::start(&[]);
    let mut client = connect(&server, Some(obj(&[("token", "t1".into())])));
    client
        .connect_namespace(Instant::now(), "/admin", Some(obj(&[("token", "secret".into())])))
        .unwrap();
    wait_for(&mut client, |e| is_event(e, "/admin", "welcome"));
    client.emit(Instant::now(), "/", "drop_transport", vec![]).unwrap();
    // Both namespaces rejoin ("/" with its auth) and the server welcomes each again.
    let welcomed_again = |events: &[ClientEvent]| {
        let after = events
            .iter()
            .skip_while(|e| !matches!(e, ClientEvent::Reconnected { .. }));
        let after: Vec<&ClientEvent> = after.collect();
        ["/", "/admin"]
            .iter()
            .all(|ns| after.iter().any(|e| is_event(e, ns, "welcome")))
    };
    let events = poll_until(&mut client, Duration::from_secs(10), welcomed_again);
    assert!(
        events.contains(&ClientEvent::Closed {
            reason: DisconnectReason::TransportClose,
            cause: None
        }),
        "{events:#?}"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, ClientEvent::ReconnectAttempt { attempt: 1, .. })));
    assert!(events.contains(&ClientEvent::Reconnected { attempt: 1 }));
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, ClientEvent::NamespaceConnected { .. }))
            .count(),
        2
    );
    assert_eq!(
        event_args(&events, "/", "welcome")[0].get("auth"),
        Some(&obj(&[("token", "t1".into())]))
    );
    client
        .emit(Instant::now(), "/admin", "echo", vec![Value::Int(7)])
        .unwrap();
    let events = wait_for(&mut client, |e| is_event(e, "/admin", "echo"));
    assert_eq!(event_args(&events, "/admin", "echo"), vec![Value::Int(7)]);
}

#[test]
fn burst_arrives_whole_and_in_order() {
    let server = TestServer::start(&[]);
    let mut client = connect(&server, None);
    client
        .emit(Instant::now(), "/", "burst", vec![Value::Int(5000)])
        .unwrap();
    let events = wait_for(&mut client, |e| is_event(e, "/", "burst_done"));
    let items: Vec<Value> = events
        .iter()
        .filter(|e| is_event(e, "/", "burst_item"))
        .map(|e| match e {
            ClientEvent::Event { args, .. } => args.to_values()[0].clone(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(items, (0..5000).map(Value::Int).collect::<Vec<_>>());
}

#[test]
fn five_mib_messages_both_kinds() {
    let server = TestServer::start(&[]);
    let mut client = connect(&server, None);
    let size = 5 << 20;
    client
        .emit(Instant::now(), "/", "big", vec![Value::Int(size), "string".into()])
        .unwrap();
    let events = wait_for(&mut client, |e| is_event(e, "/", "big"));
    assert_eq!(
        event_args(&events, "/", "big")[0].as_str().map(str::len),
        Some(size as usize)
    );
    client
        .emit(Instant::now(), "/", "big", vec![Value::Int(size), "binary".into()])
        .unwrap();
    let events = wait_for(&mut client, |e| is_event(e, "/", "big"));
    let Value::Binary(bytes) = &event_args(&events, "/", "big")[0] else {
        panic!("binary expected")
    };
    assert_eq!(bytes.len(), size as usize);
    assert!(bytes.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
}

#[test]
fn close_then_connect_again() {
    let server = TestServer::start(&[]);
    let mut client = connect(&server, None);
    client.close(Instant::now());
    let events = poll_until(&mut client, Duration::from_secs(2), |events| !events.is_empty());
    assert!(events.contains(&ClientEvent::Closed {
        reason: DisconnectReason::IoClientDisconnect,
        cause: None
    }));
    assert_eq!(client.state(), ConnectionState::Disconnected);
    client.connect_namespace(Instant::now(), "/", None).unwrap();
    client.connect(Instant::now(), &server.url()).unwrap();
    wait_for(&mut client, |e| matches!(e, ClientEvent::NamespaceConnected { .. }));
    assert_eq!(client.state(), ConnectionState::Connected);
}

#[test]
fn ping_timeout_when_the_server_stops_answering() {
    // A real server with a short heartbeat, frozen with SIGSTOP: no ping arrives, the client gives up on it.
    let server = TestServer::start(&["--ping-interval", "200", "--ping-timeout", "200"]);
    let mut client = connect(&server, None);
    let pid = server_pid(&server);
    let stop = std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap();
    assert!(stop.success());
    let events = poll_until(&mut client, Duration::from_secs(5), |events| {
        events.iter().any(|e| matches!(e, ClientEvent::Closed { .. }))
    });
    let _ = std::process::Command::new("kill").args(["-CONT", &pid]).status();
    assert!(
        events.contains(&ClientEvent::Closed {
            reason: DisconnectReason::PingTimeout,
            cause: None
        }),
        "{events:#?}"
    );
    wait_for(&mut client, |e| matches!(e, ClientEvent::NamespaceConnected { .. }));
}

fn server_pid(server: &TestServer) -> String {
    server.pid().to_string()
}

#[test]
fn refusal_of_the_only_namespace_closes_the_connection() {
    let server = TestServer::start(&[]);
    let mut client = Client::new(fast_reconnect());
    client
        .connect_namespace(Instant::now(), "/admin", Some(obj(&[("token", "wrong".into())])))
        .unwrap();
    client.connect(Instant::now(), &server.url()).unwrap();
    let events = wait_for(&mut client, |e| matches!(e, ClientEvent::Closed { .. }));
    assert!(events
        .iter()
        .any(|e| matches!(e, ClientEvent::NamespaceConnectError { .. })));
    assert_eq!(client.state(), ConnectionState::Disconnected);
    let later = poll_for(&mut client, Duration::from_millis(500));
    assert!(later.is_empty(), "no reconnection of an unused connection: {later:#?}");
}
