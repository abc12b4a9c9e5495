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

/// The `welcome` event's payload: what the server saw of the handshake.
fn welcome(events: &[ClientEvent]) -> Value {
    events
        .iter()
        .find_map(|e| match e {
            ClientEvent::Event { name, args, .. } if name == "welcome" => args.to_values().into_iter().next(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no welcome in {events:#?}"))
}

#[test]
fn extra_headers_and_query_reach_the_server_on_every_transport() {
    let server = TestServer::start(&[]);
    for transports in [
        vec![TransportKind::Polling],
        vec![TransportKind::WebSocket],
        vec![TransportKind::Polling, TransportKind::WebSocket],
    ] {
        let mut config = config(&transports);
        config.extra_headers = vec![
            ("X-Game-Version".into(), "1.2.3".into()),
            ("X-Token".into(), " a\tb ".into()),
        ];
        config.query = vec![("room".into(), "a b&c".into()), ("lang".into(), "ü".into())];
        let mut client = Client::new(config);
        client.connect_namespace(Instant::now(), "/", None).unwrap();
        client
            .connect(Instant::now(), &format!("{}/?from=url", server.url()))
            .unwrap();
        let events = wait_for(
            &mut client,
            |e| matches!(e, ClientEvent::Event { name, .. } if name == "welcome"),
        );
        let welcome = welcome(&events);
        let query = welcome.get("query").unwrap_or_else(|| panic!("{welcome:?}"));
        assert_eq!(
            query.get("from"),
            Some(&Value::from("url")),
            "{transports:?}: {query:?}"
        );
        assert_eq!(
            query.get("room"),
            Some(&Value::from("a b&c")),
            "{transports:?}: {query:?}"
        );
        assert_eq!(query.get("lang"), Some(&Value::from("ü")), "{transports:?}: {query:?}");
        let headers = welcome.get("headers").unwrap();
        assert_eq!(
            headers.get("x-game-version"),
            Some(&Value::from("1.2.3")),
            "{transports:?}: {headers:?}"
        );
        // Blanks around a value are trimmed, as HTTP does.
        assert_eq!(
            headers.get("x-token"),
            Some(&Value::from("a\tb")),
            "{transports:?}: {headers:?}"
        );
        let transport = welcome.get("transport").unwrap();
        assert_eq!(transport, &Value::from(transports[0].name()));
    }
}

#[test]
fn invalid_extra_headers_and_query_keys_are_refused_at_connect() {
    let mut config = config(&[TransportKind::Polling]);
    config.extra_headers = vec![("X-A".into(), "a\r\nX-Evil: 1".into())];
    let mut client = Client::new(config.clone());
    let error = client.connect(Instant::now(), "http://127.0.0.1:1").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid URL: extra header \"X-A\": the value must not contain CR, LF or other control characters"
    );
    config.extra_headers.clear();
    config.query = vec![("sid".into(), "x".into())];
    let mut client = Client::new(config.clone());
    let error = client.connect(Instant::now(), "http://127.0.0.1:1").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("\"sid\" is set by the Engine.IO protocol itself"),
        "{error}"
    );
    config.query.clear();
    config.proxy_url = Some("socks5://p:1".into());
    let mut client = Client::new(config);
    let error = client.connect(Instant::now(), "http://127.0.0.1:1").unwrap_err();
    assert!(error.to_string().contains("only http:// proxies"), "{error}");
}

#[test]
fn an_idle_post_connection_closed_by_the_server_is_replaced() {
    // Node closes keep-alive connections idle for 5 s (keepAliveTimeout, plus 1 s of grace): the POST connection,
    // after a quiet spell.
    let server = TestServer::start(&[]);
    let mut client = connect(&server, &[TransportKind::Polling]);
    let quiet = poll_for(&mut client, Duration::from_millis(6500));
    assert!(
        quiet.iter().all(|e| !matches!(
            e,
            ClientEvent::Closed { .. } | ClientEvent::NamespaceDisconnected { .. }
        )),
        "{quiet:#?}"
    );
    client.emit(Instant::now(), "/", "echo", vec![Value::Int(7)]).unwrap();
    let events = wait_for(
        &mut client,
        |e| matches!(e, ClientEvent::Event { name, .. } if name == "echo"),
    );
    assert!(
        events.iter().all(|e| !matches!(e, ClientEvent::Closed { .. })),
        "the POST on the closed connection lost the session: {events:#?}"
    );
    assert_eq!(echoes(&events), vec![vec![Value::Int(7)]]);
}
