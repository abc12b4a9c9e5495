//! HTTP long-polling against the real `socket.io` server: the handshake, events both ways, binary, and the upgrade
//! to WebSocket with nothing lost or reordered across it.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{poll_for, wait_for, TestServer};
use socketio_core::{Client, ClientConfig, ClientEvent, TransportKind, Value};

fn config(transports: &[TransportKind]) -> ClientConfig {
    let mut config = ClientConfig {
        transports: transports.to_vec(),
        ..ClientConfig::default()
    };
    config.reconnect.delay = Duration::from_millis(100);
    config.reconnect.delay_max = Duration::from_millis(200);
    config
}

fn connect(server: &TestServer, transports: &[TransportKind]) -> Client {
    let mut client = Client::new(config(transports));
    client.connect_namespace(Instant::now(), "/", None).unwrap();
    client.connect(Instant::now(), &server.url()).unwrap();
    wait_for(
        &mut client,
        |e| matches!(e, ClientEvent::NamespaceConnected { namespace, .. } if namespace == "/"),
    );
    client
}

fn echoes(events: &[ClientEvent]) -> Vec<Vec<Value>> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Event { name, args, .. } if name == "echo" => Some(args.to_values()),
            _ => None,
        })
        .collect()
}

#[test]
fn polling_alone_carries_events_both_ways() {
    let server = TestServer::start(&[]);
    let mut client = connect(&server, &[TransportKind::Polling]);
    assert_eq!(client.transport(), Some(TransportKind::Polling));
    let binary = Value::Binary(Bytes::from_static(&[0, 1, 2, 255]));
    let now = Instant::now();
    for i in 0..50 {
        client
            .emit(now, "/", "echo", vec![Value::Int(i), "é\u{1e}x".into()])
            .unwrap();
    }
    client.emit(now, "/", "echo", vec![binary.clone()]).unwrap();
    let events = wait_for(
        &mut client,
        |e| matches!(e, ClientEvent::Event { name, args, .. } if name == "echo" && args.to_values().first().is_some_and(|v| matches!(v, Value::Binary(_)))),
    );
    let echoed = echoes(&events);
    assert_eq!(echoed.len(), 51, "{events:#?}");
    for (i, args) in echoed.iter().take(50).enumerate() {
        assert_eq!(args, &vec![Value::Int(i as i64), "é\u{1e}x".into()]);
    }
    assert_eq!(echoed[50], vec![binary]);
    // Still polling: the list has no WebSocket to upgrade to.
    assert!(poll_for(&mut client, Duration::from_millis(300))
        .iter()
        .all(|e| !matches!(e, ClientEvent::Upgraded { .. })));
    assert_eq!(client.transport(), Some(TransportKind::Polling));
}

#[test]
fn polling_upgrades_to_websocket_without_losing_or_reordering() {
    let server = TestServer::start(&[]);
    let mut client = Client::new(config(&[TransportKind::Polling, TransportKind::WebSocket]));
    client.connect_namespace(Instant::now(), "/", None).unwrap();
    client.connect(Instant::now(), &server.url()).unwrap();
    // Emits go out from the first poll on, across the upgrade.
    let mut sent = 0;
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sent < 300 && Instant::now() < deadline {
        let now = Instant::now();
        client.poll(now);
        while let Some(event) = client.poll_event() {
            events.push(event);
        }
        if client.namespace_state("/") == socketio_core::ConnectionState::Connected {
            for _ in 0..3 {
                client.emit(now, "/", "echo", vec![Value::Int(sent)]).unwrap();
                sent += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    events.extend(wait_for(&mut client, |e| {
        matches!(e, ClientEvent::Event { name, args, .. } if name == "echo" && args.to_values() == vec![Value::Int(299)])
    }));
    let upgraded = events.iter().position(|e| {
        matches!(
            e,
            ClientEvent::Upgraded {
                transport: TransportKind::WebSocket
            }
        )
    });
    assert!(upgraded.is_some(), "no upgrade in {events:#?}");
    assert_eq!(client.transport(), Some(TransportKind::WebSocket));
    let echoed: Vec<i64> = echoes(&events)
        .into_iter()
        .map(|args| match args[..] {
            [Value::Int(i)] => i,
            _ => panic!("{args:?}"),
        })
        .collect();
    assert_eq!(echoed, (0..300).collect::<Vec<_>>(), "every echo once, in order");
}
