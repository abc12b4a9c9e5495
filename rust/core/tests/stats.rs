//! `Client::stats()` against the real `socket.io` server: a scripted exchange is counted exactly.

mod common;

use std::time::{Duration, Instant};

use common::{poll_until, wait_for, TestServer};
use socketio_core::{Client, ClientConfig, ClientEvent, Stats, TransportKind, Value};

fn websocket_only() -> ClientConfig {
    only(TransportKind::WebSocket)
}

fn only(kind: TransportKind) -> ClientConfig {
    ClientConfig {
        transports: vec![kind],
        ..ClientConfig::default()
    }
}

#[test]
fn a_scripted_exchange_is_counted_exactly_over_websocket() {
    scripted_exchange(TransportKind::WebSocket);
}

/// Over polling the same packets are counted with the same bytes (each packet of a payload, without separators).
#[test]
fn a_scripted_exchange_is_counted_exactly_over_polling() {
    scripted_exchange(TransportKind::Polling);
}

fn scripted_exchange(kind: TransportKind) {
    let server = TestServer::start(&[]);
    let mut client = Client::new(only(kind));
    assert_eq!(client.stats(), Stats::default());
    client.connect_namespace(Instant::now(), "/", None).unwrap();
    // Emitted before the namespace connects: buffered.
    client.emit(Instant::now(), "/", "echo", vec!["a".into()]).unwrap();
    let before = client.stats();
    assert_eq!(
        (before.events_out, before.buffered_emits, before.packets_out),
        (1, 1, 0)
    );
    client.connect(Instant::now(), &server.url()).unwrap();
    // The welcome event, and the echo of the buffered emit (over polling they may come in one payload).
    let named = |events: &[ClientEvent], want: &str| {
        events
            .iter()
            .filter(|e| matches!(e, ClientEvent::Event { name, .. } if name == want))
            .count()
    };
    let events = poll_until(&mut client, Duration::from_secs(10), |events| {
        named(events, "welcome") == 1 && named(events, "echo") == 1
    });
    let event_count = events.iter().filter(|e| matches!(e, ClientEvent::Event { .. })).count();
    assert_eq!(event_count, 2, "{events:#?}");
    let connected = client.stats();
    // In: the Engine.IO handshake (OPEN), the CONNECT answer, the welcome event and the echo. Out: CONNECT "40",
    // then the buffered emit 42["echo","a"] as the namespace connected.
    assert_eq!(connected.packets_out, 2, "{connected:?}");
    assert_eq!(connected.bytes_out, 2 + r#"42["echo","a"]"#.len() as u64);
    assert_eq!(connected.buffered_emits, 0);
    assert_eq!(connected.packets_in, 4, "{connected:?}");
    assert_eq!(connected.events_in, 2);

    // Two more echoes, and one ack.
    let start = Instant::now();
    client.emit(start, "/", "echo", vec!["bb".into()]).unwrap();
    client.emit(start, "/", "echo", vec![Value::from(3_i64)]).unwrap();
    let id = client
        .emit_with_ack(start, "/", "ack", vec!["x".into()], Duration::from_secs(10))
        .unwrap();
    assert_eq!(client.stats().acks_pending, 1);
    assert_eq!(client.stats().last_ack_round_trip, None);
    poll_until(&mut client, Duration::from_secs(10), |events| {
        let echoes = events
            .iter()
            .filter(|e| matches!(e, ClientEvent::Event { name, .. } if name == "echo"))
            .count();
        echoes == 2
            && events
                .iter()
                .any(|e| matches!(e, ClientEvent::AckResponse { id: got, .. } if *got == id))
    });
    let end = Instant::now();
    let after = client.stats();
    let sent = [
        r#"42["echo","bb"]"#,
        r#"42["echo",3]"#,
        &format!(r#"42{id}["ack","x"]"#),
    ];
    let received = [r#"42["echo","bb"]"#, r#"42["echo",3]"#, &format!(r#"43{id}["x"]"#)];
    let len = |packets: &[&str]| packets.iter().map(|p| p.len() as u64).sum::<u64>();
    assert_eq!(after.events_out, 4, "{after:?}");
    assert_eq!(after.events_in - connected.events_in, 2, "{after:?}");
    assert_eq!(after.packets_out - connected.packets_out, 3, "{after:?}");
    assert_eq!(after.bytes_out - connected.bytes_out, len(&sent), "{after:?}");
    assert_eq!(after.packets_in - connected.packets_in, 3, "{after:?}");
    assert_eq!(after.bytes_in - connected.bytes_in, len(&received), "{after:?}");
    assert_eq!(after.acks_pending, 0);
    assert_eq!(after.buffered_emits, 0);
    assert_eq!((after.reconnects, after.reconnect_attempts), (0, 0));
    let round_trip = after.last_ack_round_trip.expect("an ack was answered");
    assert!(round_trip <= end - start, "{round_trip:?}");
}

#[test]
fn reconnections_are_counted() {
    let mut server = TestServer::start(&[]);
    let port: u16 = server
        .url()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let mut config = websocket_only();
    config.reconnect.delay = Duration::from_millis(100);
    config.reconnect.delay_max = Duration::from_millis(200);
    config.reconnect.randomization = 0.0;
    let mut client = Client::new(config);
    client.connect_namespace(Instant::now(), "/", None).unwrap();
    client.connect(Instant::now(), &server.url()).unwrap();
    wait_for(&mut client, |e| matches!(e, ClientEvent::NamespaceConnected { .. }));
    server.kill();
    let is_attempt = |e: &ClientEvent| matches!(e, ClientEvent::ReconnectAttempt { .. });
    let first = wait_for(&mut client, is_attempt);
    let first_attempts = first.iter().filter(|e| is_attempt(e)).count() as u64;
    assert_eq!(client.stats().reconnect_attempts, first_attempts);
    assert_eq!(client.stats().reconnects, 0);
    let _server = TestServer::start_on(port, &[]);
    let events = wait_for(&mut client, |e| matches!(e, ClientEvent::Reconnected { .. }));
    let attempts = events.iter().filter(|e| is_attempt(e)).count() as u64;
    let stats = client.stats();
    assert_eq!(stats.reconnects, 1);
    assert_eq!(stats.reconnect_attempts, first_attempts + attempts);
}
