//! Fault scenarios against the real socket.io server; each ends with a check that nothing was lost.

mod common;

use std::time::{Duration, Instant};

use common::{poll_until, wait_for, TestServer};
use socketio_core::{Client, ClientConfig, ClientEvent, DisconnectReason, Value};

fn config() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.reconnect.delay = Duration::from_millis(100);
    config.reconnect.delay_max = Duration::from_millis(300);
    config
}

fn connect(url: &str, namespaces: &[&str]) -> Client {
    let mut client = Client::new(config());
    for ns in namespaces {
        let auth = (*ns == "/admin").then(|| Value::Object(vec![("token".into(), "secret".into())]));
        client.connect_namespace(Instant::now(), ns, auth).unwrap();
    }
    client.connect(Instant::now(), url).unwrap();
    poll_until(&mut client, Duration::from_secs(10), |events| {
        connected(events) == namespaces.len()
    });
    client
}

fn connected(events: &[ClientEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, ClientEvent::NamespaceConnected { .. }))
        .count()
}

/// The first argument of every `name` event on `ns`, in arrival order.
fn first_args(events: &[ClientEvent], ns: &str, name: &str) -> Vec<Value> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Event {
                namespace,
                name: n,
                args,
                ..
            } if namespace == ns && n == name => args.to_values().first().cloned(),
            _ => None,
        })
        .collect()
}

#[test]
fn server_killed_and_restarted_on_the_same_port() {
    let mut server = TestServer::start(&[]);
    let port = server.port;
    let mut client = connect(&server.url(), &["/", "/admin", "/chat"]);
    server.kill();
    let events = poll_until(&mut client, Duration::from_secs(10), |events| {
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::ReconnectAttempt { attempt: 2, .. }))
    });
    assert!(events.iter().any(|e| matches!(
        e,
        ClientEvent::Closed {
            reason: DisconnectReason::TransportClose | DisconnectReason::TransportError,
            ..
        }
    )));
    // Emits made while the server is down wait in the send buffer...
    for i in 0..100 {
        client
            .emit(Instant::now(), "/chat", "echo", vec![Value::Int(i)])
            .unwrap();
        client
            .emit(Instant::now(), "/admin", "echo", vec![Value::Int(i)])
            .unwrap();
    }
    let _server = TestServer::start_on(port, &[]);
    // ...and arrive in order, exactly once, after every namespace rejoined.
    let events = poll_until(&mut client, Duration::from_secs(15), |events| {
        first_args(events, "/chat", "echo").len() >= 100 && first_args(events, "/admin", "echo").len() >= 100
    });
    assert_eq!(connected(&events), 3, "{events:#?}");
    assert!(events.iter().any(|e| matches!(e, ClientEvent::Reconnected { .. })));
    let expected: Vec<Value> = (0..100).map(Value::Int).collect();
    assert_eq!(first_args(&events, "/chat", "echo"), expected);
    assert_eq!(first_args(&events, "/admin", "echo"), expected);
}

#[test]
fn a_thousand_emits_while_disconnected_arrive_once_in_order() {
    let mut server = TestServer::start(&[]);
    let port = server.port;
    let mut client = connect(&server.url(), &["/"]);
    server.kill();
    wait_for(&mut client, |e| matches!(e, ClientEvent::Closed { .. }));
    let mut ack_ids = Vec::new();
    for i in 0..1000 {
        client.emit(Instant::now(), "/", "echo", vec![Value::Int(i)]).unwrap();
        if i % 100 == 0 {
            ack_ids.push(
                client
                    .emit_with_ack(Instant::now(), "/", "ack", vec![Value::Int(i)], Duration::from_secs(30))
                    .unwrap(),
            );
        }
    }
    assert_eq!(client.session().buffered_packets("/"), 1010);
    let _server = TestServer::start_on(port, &[]);
    let events = poll_until(&mut client, Duration::from_secs(15), |events| {
        first_args(events, "/", "echo").len() >= 1000
            && events
                .iter()
                .filter(|e| matches!(e, ClientEvent::AckResponse { .. }))
                .count()
                >= ack_ids.len()
    });
    assert_eq!(
        first_args(&events, "/", "echo"),
        (0..1000).map(Value::Int).collect::<Vec<_>>()
    );
    let answered: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::AckResponse { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(answered, ack_ids, "each buffered ack answered exactly once, in order");
    let more = common::poll_for(&mut client, Duration::from_millis(300));
    assert!(first_args(&more, "/", "echo").is_empty(), "nothing delivered twice");
}

#[test]
fn recovered_session_receives_the_events_it_missed() {
    let server = TestServer::start(&["--recovery"]);
    let mut client = connect(&server.url(), &["/chat"]);
    let mut other = connect(&server.url(), &["/chat"]);
    let sid_before = client.namespace_sid("/chat").unwrap().to_owned();
    client.emit(Instant::now(), "/chat", "drop_transport", vec![]).unwrap();
    wait_for(&mut client, |e| matches!(e, ClientEvent::Closed { .. }));
    // While `client` is away, `other` talks to the room.
    other
        .emit(Instant::now(), "/chat", "chat", vec!["while you were away".into()])
        .unwrap();
    wait_for(
        &mut other,
        |e| matches!(e, ClientEvent::Event { name, .. } if name == "chat"),
    );
    let events = poll_until(&mut client, Duration::from_secs(10), |events| {
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::Event { name, .. } if name == "chat"))
    });
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::NamespaceConnected { recovered: true, sid, .. } if *sid == sid_before)),
        "{events:#?}"
    );
    let chats = first_args(&events, "/chat", "chat");
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].get("text"), Some(&Value::from("while you were away")));
}

#[test]
fn transport_dropped_mid_burst_loses_nothing_with_recovery() {
    let server = TestServer::start(&["--recovery"]);
    let mut client = connect(&server.url(), &["/"]);
    client
        .emit(Instant::now(), "/", "burst", vec![Value::Int(3000)])
        .unwrap();
    client
        .emit(Instant::now(), "/", "drop_transport", vec!["tcp".into()])
        .unwrap();
    let events = poll_until(&mut client, Duration::from_secs(15), |events| {
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::Event { name, .. } if name == "burst_done"))
    });
    assert!(
        events.iter().any(|e| matches!(e, ClientEvent::Closed { .. })),
        "the transport did drop"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::NamespaceConnected { recovered: true, .. })),
        "{events:#?}"
    );
    let items = first_args(&events, "/", "burst_item");
    assert_eq!(
        items,
        (0..3000).map(Value::Int).collect::<Vec<_>>(),
        "every item once, in order"
    );
}
