//! A hostile server, for what the real one never does: malformed packets, no pings, no upgrade answer.
//! The client must report the right reason, keep running, and be able to connect again.

mod common;

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{poll_for, poll_until};
use socketio_core::{Client, ClientConfig, ClientEvent, ConnectionState, DisconnectReason};
use tungstenite::{Message, WebSocket};

const OPEN: &str = r#"0{"sid":"hostile","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

type Script = Arc<dyn Fn(usize, &mut WebSocket<TcpStream>) + Send + Sync>;

/// Serves WebSocket connections on 127.0.0.1, running `script(connection_index, socket)` for each.
fn serve(script: Script) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let index = count.fetch_add(1, Ordering::SeqCst);
            let script = script.clone();
            thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                if let Ok(mut ws) = tungstenite::accept(stream) {
                    script(index, &mut ws);
                }
            });
        }
    });
    (port, connections)
}

/// Engine.IO handshake, then answers the first CONNECT of "/" with a sid.
fn handshake(ws: &mut WebSocket<TcpStream>) {
    ws.send(Message::text(OPEN)).unwrap();
    loop {
        match ws.read() {
            Ok(Message::Text(t)) if t.starts_with("40") => break,
            Ok(_) => {}
            Err(_) => return,
        }
    }
    ws.send(Message::text(r#"40{"sid":"ns-sid"}"#)).unwrap();
}

/// Reads until the client goes away.
fn drain(ws: &mut WebSocket<TcpStream>) {
    while ws.read().is_ok() {}
}

fn client_config() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.reconnect.delay = Duration::from_millis(30);
    config.reconnect.delay_max = Duration::from_millis(60);
    config.limits.max_message_bytes = 64 * 1024;
    config
}

/// A client that joins "/" on 127.0.0.1:`port` (connecting starts; nothing is polled yet).
fn connect_to(port: u16, config: ClientConfig) -> Client {
    let mut client = Client::new(config);
    client.connect_namespace(Instant::now(), "/", None).unwrap();
    client
        .connect(Instant::now(), &format!("ws://127.0.0.1:{port}"))
        .unwrap();
    client
}

fn connected_count(events: &[ClientEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, ClientEvent::NamespaceConnected { .. }))
        .count()
}

/// The first connection sends `bad` after the handshake; the second behaves. The client must close the first
/// with `reason` and connect again.
fn refused_then_reconnects(bad: Vec<Message>, reason: DisconnectReason) {
    let script: Script = Arc::new(move |index, ws| {
        handshake(ws);
        if index == 0 {
            for message in &bad {
                if ws.send(message.clone()).is_err() {
                    return;
                }
            }
        }
        drain(ws);
    });
    let (port, _) = serve(script);
    let mut client = connect_to(port, client_config());
    let events = poll_until(&mut client, Duration::from_secs(10), |events| {
        connected_count(events) == 2
    });
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::Closed { reason: r, cause } if *r == reason
                && (cause.is_some() || reason != DisconnectReason::ParseError))),
        "expected {reason}: {events:#?}"
    );
    assert_eq!(client.state(), ConnectionState::Connected);
}

fn text(s: &str) -> Message {
    Message::text(s.to_owned())
}

#[test]
fn unknown_packet_types() {
    refused_then_reconnects(vec![text("48[\"x\"]")], DisconnectReason::ParseError);
    refused_then_reconnects(vec![text("9")], DisconnectReason::ParseError);
}

#[test]
fn bad_namespace_and_ack_ids() {
    refused_then_reconnects(vec![text("42/a\u{1}b,[\"x\"]")], DisconnectReason::ParseError);
    refused_then_reconnects(vec![text("421.5[\"x\"]")], DisconnectReason::ParseError);
    refused_then_reconnects(
        vec![text("4299999999999999999999[\"x\"]")],
        DisconnectReason::ParseError,
    );
}

#[test]
fn bad_event_payloads() {
    refused_then_reconnects(vec![text("42{\"a\":1}")], DisconnectReason::ParseError);
    refused_then_reconnects(vec![text("42[1]")], DisconnectReason::ParseError);
    refused_then_reconnects(vec![text("42[\"connect\"]")], DisconnectReason::ParseError);
    refused_then_reconnects(vec![text("42[\"x\",")], DisconnectReason::ParseError);
}

#[test]
fn bad_attachments() {
    refused_then_reconnects(vec![text("45x-[\"x\"]")], DisconnectReason::ParseError);
    refused_then_reconnects(vec![text("4599999-[\"x\"]")], DisconnectReason::ParseError);
    refused_then_reconnects(
        vec![
            text("451-[\"x\",{\"_placeholder\":true,\"num\":3}]"),
            Message::binary(Bytes::from_static(b"a")),
        ],
        DisconnectReason::ParseError,
    );
    refused_then_reconnects(
        vec![Message::binary(Bytes::from_static(b"stray"))],
        DisconnectReason::ParseError,
    );
    refused_then_reconnects(
        vec![text("451-[\"x\",{\"_placeholder\":true,\"num\":0}]"), text("42[\"y\"]")],
        DisconnectReason::ParseError,
    );
}

#[test]
fn too_deep_and_too_large() {
    let deep = format!("42[\"x\",{}{}]", "[".repeat(500), "]".repeat(500));
    refused_then_reconnects(vec![text(&deep)], DisconnectReason::ParseError);
    let large = format!("42[\"x\",\"{}\"]", "a".repeat(100 * 1024));
    refused_then_reconnects(vec![text(&large)], DisconnectReason::ParseError);
}

#[test]
fn server_that_stops_pinging() {
    let script: Script = Arc::new(|_, ws| {
        ws.send(text(
            r#"0{"sid":"quiet","upgrades":[],"pingInterval":100,"pingTimeout":100,"maxPayload":1000}"#,
        ))
        .unwrap();
        drain(ws);
    });
    let (port, _) = serve(script);
    let mut client = connect_to(port, client_config());
    let events = poll_until(&mut client, Duration::from_secs(5), |events| {
        events.iter().any(|e| matches!(e, ClientEvent::Closed { .. }))
    });
    assert!(
        events.contains(&ClientEvent::Closed {
            reason: DisconnectReason::PingTimeout,
            cause: None
        }),
        "{events:#?}"
    );
}

#[test]
fn server_that_accepts_tcp_but_never_upgrades() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = thread::spawn(move || {
        let mut kept = Vec::new();
        listener.set_nonblocking(true).unwrap();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if let Ok((stream, _)) = listener.accept() {
                kept.push(stream); // never read, never answered
            }
            thread::sleep(Duration::from_millis(5));
        }
        kept.len()
    });
    let mut config = client_config();
    config.connect_timeout = Duration::from_millis(300);
    config.reconnect.max_attempts = Some(1);
    let mut client = Client::new(config);
    client.connect_namespace(Instant::now(), "/", None).unwrap();
    let started = Instant::now();
    client
        .connect(Instant::now(), &format!("ws://127.0.0.1:{port}"))
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "connect returned after {:?}",
        started.elapsed()
    );
    let mut events = Vec::new();
    let mut slowest = Duration::ZERO;
    while !events.iter().any(|e| matches!(e, ClientEvent::ReconnectFailed { .. })) {
        assert!(started.elapsed() < Duration::from_secs(5), "{events:#?}");
        let before = Instant::now();
        client.poll(Instant::now());
        slowest = slowest.max(before.elapsed());
        events.extend(std::iter::from_fn(|| client.poll_event()));
        thread::sleep(Duration::from_millis(2));
    }
    // A hang would show as a poll lasting the whole handshake; the bound is loose on purpose.
    assert!(slowest < Duration::from_millis(100), "a poll took {slowest:?}");
    let errors: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, ClientEvent::TransportError(_)))
        .collect();
    assert_eq!(errors.len(), 2, "{events:#?}");
    assert!(matches!(errors[0], ClientEvent::TransportError(e) if e.message == "timeout"));
    assert_eq!(client.state(), ConnectionState::Disconnected);
    assert!(held.join().unwrap() >= 2);
}

#[test]
fn connection_refused_is_reported_and_retried() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut config = client_config();
    config.reconnect.max_attempts = Some(2);
    let mut client = connect_to(port, config);
    let events = poll_until(&mut client, Duration::from_secs(5), |events| {
        events.iter().any(|e| matches!(e, ClientEvent::ReconnectFailed { .. }))
    });
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, ClientEvent::TransportError(_)))
            .count(),
        3
    );
    assert!(events.contains(&ClientEvent::ReconnectFailed { attempts: 2 }));
    assert!(poll_for(&mut client, Duration::from_millis(200)).is_empty());
}

#[test]
fn invalid_urls_are_errors_not_panics() {
    let mut client = Client::new(ClientConfig::default());
    for url in [
        "",
        "not a url",
        "ftp://host",
        "ws://",
        "ws://host:99999",
        "localhost:3000",
    ] {
        assert!(client.connect(Instant::now(), url).is_err(), "{url}");
    }
    assert_eq!(client.state(), ConnectionState::Disconnected);
}

/// Raw WebSocket frame bytes (server to client: unmasked).
fn raw_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut frame = vec![(u8::from(fin) << 7) | opcode, payload.len() as u8];
    frame.extend_from_slice(payload);
    frame
}

#[test]
fn never_ending_tiny_fragments_hit_the_size_cap() {
    use std::io::Write;
    let script: Script = Arc::new(|index, ws| {
        handshake(ws);
        if index == 0 {
            // A text message that never ends: one opening fragment, then 1-byte continuations forever.
            let stream = ws.get_mut();
            let _ = stream.write_all(&raw_frame(false, 0x1, b"42[\"x\",\""));
            for _ in 0..200_000 {
                if stream.write_all(&raw_frame(false, 0x0, b"a")).is_err() {
                    return;
                }
            }
            return;
        }
        drain(ws);
    });
    let (port, _) = serve(script);
    let mut client = connect_to(port, client_config());
    let events = poll_until(&mut client, Duration::from_secs(15), |events| {
        connected_count(events) == 2
    });
    let closed = events.iter().find(|e| matches!(e, ClientEvent::Closed { .. })).unwrap();
    assert!(
        matches!(
            closed,
            ClientEvent::Closed {
                reason: DisconnectReason::ParseError | DisconnectReason::TransportError,
                ..
            }
        ),
        "{closed:?}"
    );
}

#[test]
fn truncated_frame_then_close() {
    use std::io::Write;
    let script: Script = Arc::new(|index, ws| {
        handshake(ws);
        if index == 0 {
            // The header promises 100 bytes; 10 come, then the connection ends.
            let stream = ws.get_mut();
            let _ = stream.write_all(&[0x81, 100]);
            let _ = stream.write_all(b"42[\"x\",\"ab");
            let _ = stream.flush();
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
        drain(ws);
    });
    let (port, _) = serve(script);
    let mut client = connect_to(port, client_config());
    let events = poll_until(&mut client, Duration::from_secs(10), |events| {
        connected_count(events) == 2
    });
    assert!(
        events.iter().any(|e| matches!(
            e,
            ClientEvent::Closed {
                reason: DisconnectReason::TransportClose | DisconnectReason::TransportError,
                ..
            }
        )),
        "{events:#?}"
    );
    assert!(
        !events.iter().any(|e| matches!(e, ClientEvent::Event { .. })),
        "no partial event delivered"
    );
}

/// A valid upgrade response that arrives a few bytes at a time (a slow proxy, a tiny MTU) is still an upgrade: any
/// split of a response within the size and time caps works (tungstenite alone gives up after 64 small reads).
#[test]
fn upgrade_response_in_tiny_pieces() {
    upgrade_response_served("\r\n");
}

/// httparse, tungstenite's parser, also takes a response whose lines end with a bare LF.
#[test]
fn upgrade_response_with_bare_line_feeds_in_tiny_pieces() {
    upgrade_response_served("\n");
}

fn upgrade_response_served(eol: &'static str) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let Ok((mut tcp, _)) = listener.accept() else { return };
        let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") {
            if std::io::Read::read(&mut tcp, &mut byte).unwrap_or(0) == 0 {
                return;
            }
            request.push(byte[0]);
        }
        let request = String::from_utf8_lossy(&request).into_owned();
        let key = request
            .lines()
            .find_map(|line| {
                line.strip_prefix("Sec-WebSocket-Key: ")
                    .or(line.strip_prefix("sec-websocket-key: "))
            })
            .unwrap()
            .trim()
            .to_owned();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             X-Padding: {}\r\nSec-WebSocket-Accept: {accept}\r\n\r\n",
            "p".repeat(200)
        )
        .replace("\r\n", eol);
        tcp.set_nodelay(true).unwrap();
        // One byte every 3 ms: the client (polled every 1 ms) reads each on its own, some 300 reads.
        for piece in response.as_bytes().chunks(1) {
            if std::io::Write::write_all(&mut tcp, piece).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(3));
        }
        let mut ws = WebSocket::from_raw_socket(tcp, tungstenite::protocol::Role::Server, None);
        handshake(&mut ws);
        drain(&mut ws);
    });
    let mut client = connect_to(port, client_config());
    let events = poll_until(&mut client, Duration::from_secs(10), |events| {
        connected_count(events) > 0
    });
    assert_eq!(connected_count(&events), 1, "{events:#?}");
}
