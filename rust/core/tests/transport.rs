// Over 600 lines because its in-test servers (plain, TLS, silent, hostile) are shared by every test here.

//! `WebSocketTransport` against in-test servers on 127.0.0.1 (plain and TLS).
//!
//! Every wait polls with short sleeps under a deadline: a broken transport fails a test, it never hangs it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use socketio_core::codec::raw::RawPacket;
use socketio_core::config::{TlsConfig, TlsVerification};
use socketio_core::endpoint::Endpoint;
use socketio_core::error::{CertificateRefusal, ConnectFailure, IoFailure, TlsFailure, TransportEnd, UpgradeFailure};
use socketio_core::transport::{Transport, TransportEvent, WebSocketTransport};
use tungstenite::handshake::server::{Request, Response};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

/// Longest wait for anything that should happen "now".
const DEADLINE: Duration = Duration::from_secs(5);
/// Cap on incoming messages unless a test says otherwise.
const MAX: usize = 8 << 20;
/// Server sockets give up after this, so a failed test does not leave a thread behind for long.
const SERVER_TIMEOUT: Duration = Duration::from_secs(5);

type TlsServerStream = StreamOwned<ServerConnection, TcpStream>;

fn endpoint(url: &str) -> Endpoint {
    Endpoint::parse(url, "/socket.io/").expect("valid URL")
}

fn connect(url: &str, tls: TlsConfig) -> WebSocketTransport {
    WebSocketTransport::connect(Instant::now(), &endpoint(url), &tls, MAX)
}

/// The next event, polling under `timeout`.
fn next_event_within(t: &mut WebSocketTransport, timeout: Duration) -> TransportEvent {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(event) = t.poll(Instant::now()) {
            return event;
        }
        assert!(Instant::now() < deadline, "no transport event within {timeout:?}");
        thread::sleep(Duration::from_millis(1));
    }
}

fn next_event(t: &mut WebSocketTransport) -> TransportEvent {
    next_event_within(t, DEADLINE)
}

fn expect_connected(t: &mut WebSocketTransport) {
    match next_event(t) {
        TransportEvent::Connected => {}
        other => panic!("expected Connected, got {other:?}"),
    }
    assert!(t.is_connected());
}

fn expect_frame(t: &mut WebSocketTransport) -> RawPacket {
    match next_event(t) {
        TransportEvent::RawPacket(frame) => frame,
        other => panic!("expected a frame, got {other:?}"),
    }
}

fn expect_closed_within(t: &mut WebSocketTransport, timeout: Duration) -> TransportEnd {
    match next_event_within(t, timeout) {
        TransportEvent::Closed(why) => {
            assert!(!t.is_connected());
            why
        }
        other => panic!("expected Closed, got {other:?}"),
    }
}

fn expect_closed(t: &mut WebSocketTransport) -> TransportEnd {
    expect_closed_within(t, DEADLINE)
}

fn expect_connect_failed(t: &mut WebSocketTransport) -> String {
    expect_connect_failure(t).to_string()
}

fn expect_connect_failure(t: &mut WebSocketTransport) -> ConnectFailure {
    match expect_closed(t) {
        TransportEnd::ConnectFailed(why) => {
            eprintln!("connect failed: {why}");
            why
        }
        other => panic!("expected ConnectFailed, got {other:?}"),
    }
}

/// After the last event, `poll` stays quiet.
fn assert_silent(t: &mut WebSocketTransport) {
    for _ in 0..3 {
        assert_eq!(t.poll(Instant::now()), None);
    }
}

/// Echoes data messages until the client goes away.
fn echo<S: Read + Write>(mut ws: WebSocket<S>) {
    loop {
        match ws.read() {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                if ws.send(m).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

fn listen() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("local addr").port();
    (listener, port)
}

fn accept_tcp(listener: &TcpListener) -> TcpStream {
    let (tcp, _) = listener.accept().expect("accept");
    tcp.set_read_timeout(Some(SERVER_TIMEOUT)).expect("timeout");
    tcp.set_write_timeout(Some(SERVER_TIMEOUT)).expect("timeout");
    tcp
}

/// A one-connection plain WebSocket server. `handler` gets the socket and the request's path and query.
fn ws_server<F>(handler: F) -> (u16, JoinHandle<()>)
where
    F: FnOnce(WebSocket<TcpStream>, String) + Send + 'static,
{
    let (listener, port) = listen();
    let server = thread::spawn(move || {
        let tcp = accept_tcp(&listener);
        let mut uri = String::new();
        #[allow(clippy::result_large_err)] // the signature is tungstenite's
        let callback = |req: &Request, resp: Response| {
            uri = req.uri().to_string();
            Ok(resp)
        };
        if let Ok(ws) = tungstenite::accept_hdr(tcp, callback) {
            handler(ws, uri);
        }
    });
    (port, server)
}

/// A self-signed certificate for "localhost", made fresh for each test.
struct TestCert {
    pem: String,
    config: Arc<ServerConfig>,
}

fn test_cert() -> TestCert {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server config");
    TestCert {
        pem: certified.cert.pem(),
        config: Arc::new(config),
    }
}

/// A one-connection `wss://` server. The handler runs only if the TLS handshake and the upgrade succeed.
fn wss_server<F>(cert: &TestCert, handler: F) -> (u16, JoinHandle<()>)
where
    F: FnOnce(WebSocket<TlsServerStream>) + Send + 'static,
{
    let (listener, port) = listen();
    let config = Arc::clone(&cert.config);
    let server = thread::spawn(move || {
        let tcp = accept_tcp(&listener);
        let Ok(conn) = ServerConnection::new(config) else {
            return;
        };
        if let Ok(ws) = tungstenite::accept(StreamOwned::new(conn, tcp)) {
            handler(ws);
        }
    });
    (port, server)
}

fn custom_roots(cert: &TestCert, server_name: Option<&str>) -> TlsConfig {
    TlsConfig {
        verification: TlsVerification::CustomRootsPem(cert.pem.clone().into_bytes()),
        server_name: server_name.map(str::to_owned),
    }
}

fn join(server: JoinHandle<()>) {
    server.join().expect("server thread panicked");
}

fn pattern(len: usize) -> Bytes {
    (0..len).map(|i| (i * 31 % 251) as u8).collect::<Vec<u8>>().into()
}

#[test]
fn text_and_binary_round_trip() {
    let (uri_tx, uri_rx) = mpsc::channel();
    let (port, server) = ws_server(move |ws, uri| {
        let _ = uri_tx.send(uri);
        echo(ws);
    });
    let mut t = connect(&format!("ws://127.0.0.1:{port}/?token=abc"), TlsConfig::default());
    expect_connected(&mut t);
    assert_eq!(
        uri_rx.recv_timeout(DEADLINE).expect("request seen"),
        "/socket.io/?token=abc&EIO=4&transport=websocket"
    );

    t.send(RawPacket::Text("4hello, wörld".into()));
    t.send(RawPacket::Binary(Bytes::from_static(&[0, 1, 2, 255])));
    t.send(RawPacket::Text("".into()));
    t.send(RawPacket::Binary(Bytes::new()));
    assert_eq!(expect_frame(&mut t), RawPacket::Text("4hello, wörld".into()));
    assert_eq!(
        expect_frame(&mut t),
        RawPacket::Binary(Bytes::from_static(&[0, 1, 2, 255]))
    );
    assert_eq!(expect_frame(&mut t), RawPacket::Text("".into()));
    assert_eq!(expect_frame(&mut t), RawPacket::Binary(Bytes::new()));

    t.close();
    assert!(!t.is_connected());
    assert_silent(&mut t);
    t.send(RawPacket::Text("after close".into())); // dropped, no panic
    assert_silent(&mut t);
    join(server);
}

#[test]
fn five_mib_binary_arrives_whole_both_ways() {
    let (port, server) = ws_server(|ws, _| echo(ws));
    let mut t = connect(&format!("ws://localhost:{port}"), TlsConfig::default());
    expect_connected(&mut t);
    let big = pattern(5 << 20);
    t.send(RawPacket::Binary(big.clone()));
    match expect_frame(&mut t) {
        RawPacket::Binary(got) => {
            assert_eq!(got.len(), big.len());
            assert!(got == big, "payload differs");
        }
        other => panic!("expected binary, got {other:?}"),
    }
    drop(t);
    join(server);
}

#[test]
fn backlogged_while_the_server_does_not_read_and_no_longer_once_it_has() {
    let (resume_tx, resume_rx) = mpsc::channel::<()>();
    let (port, server) = ws_server(move |mut ws, _| {
        // Reads nothing until told, then everything.
        let _ = resume_rx.recv_timeout(SERVER_TIMEOUT);
        while let Ok(message) = ws.read() {
            if message == Message::Text("last".into()) {
                break;
            }
        }
    });
    let mut t = connect(&format!("ws://127.0.0.1:{port}"), TlsConfig::default());
    expect_connected(&mut t);
    assert!(!t.is_backlogged());
    let chunk = Bytes::from(vec![7u8; 64 << 10]);
    let deadline = Instant::now() + DEADLINE;
    while !t.is_backlogged() {
        assert!(
            Instant::now() < deadline,
            "never backlogged against a server that reads nothing"
        );
        t.send(RawPacket::Binary(chunk.clone()));
        t.flush();
    }
    resume_tx.send(()).unwrap();
    t.send(RawPacket::Text("last".into()));
    while t.is_backlogged() {
        assert!(
            Instant::now() < deadline + DEADLINE,
            "still backlogged after the server read everything"
        );
        assert!(t.poll(Instant::now()).is_none());
        t.flush();
        thread::sleep(Duration::from_millis(1));
    }
    drop(t);
    join(server);
}

#[test]
fn frames_sent_while_connecting_are_delivered_in_order() {
    let (port, server) = ws_server(|ws, _| echo(ws));
    let mut t = connect(&format!("ws://127.0.0.1:{port}"), TlsConfig::default());
    t.send(RawPacket::Text("first".into()));
    t.send(RawPacket::Binary(Bytes::from_static(b"second")));
    expect_connected(&mut t);
    assert_eq!(expect_frame(&mut t), RawPacket::Text("first".into()));
    assert_eq!(expect_frame(&mut t), RawPacket::Binary(Bytes::from_static(b"second")));
    drop(t);
    join(server);
}

#[test]
fn pings_are_answered_and_not_reported() {
    let (pong_tx, pong_rx) = mpsc::channel();
    let (port, server) = ws_server(move |mut ws, _| {
        ws.send(Message::Ping(Bytes::from_static(b"are you there")))
            .expect("ping");
        loop {
            match ws.read() {
                Ok(Message::Pong(payload)) => {
                    let _ = pong_tx.send(payload);
                    break;
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
        ws.send(Message::text("after the ping")).expect("send");
        echo(ws);
    });
    let mut t = connect(&format!("ws://127.0.0.1:{port}"), TlsConfig::default());
    expect_connected(&mut t);
    assert_eq!(expect_frame(&mut t), RawPacket::Text("after the ping".into()));
    assert_eq!(
        pong_rx.recv_timeout(DEADLINE).expect("pong"),
        Bytes::from_static(b"are you there")
    );
    drop(t);
    join(server);
}

/// A server that accepts TCP then never answers (neither the upgrade nor a TLS hello). Checks that `connect`,
/// `poll` and drop never wait on it, and that drop closes the socket at once.
fn never_blocks_against_a_silent_server(scheme: &str) {
    let (listener, port) = listen();
    let (eof_tx, eof_rx) = mpsc::channel();
    let server = thread::spawn(move || {
        let mut tcp = accept_tcp(&listener);
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf) {
                Ok(0) => {
                    let _ = eof_tx.send(Instant::now());
                    return;
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });

    let start = Instant::now();
    let mut t = connect(&format!("{scheme}://127.0.0.1:{port}"), TlsConfig::default());
    let took = start.elapsed();
    assert!(took < Duration::from_millis(50), "connect took {took:?}");

    let until = Instant::now() + Duration::from_millis(300);
    let mut polls = 0;
    while Instant::now() < until {
        let before = Instant::now();
        let event = t.poll(Instant::now());
        let took = before.elapsed();
        assert!(took < Duration::from_millis(5), "poll took {took:?}");
        assert_eq!(event, None);
        t.send(RawPacket::Text("queued".into()));
        t.flush();
        polls += 1;
        thread::sleep(Duration::from_millis(1));
    }
    assert!(polls > 10);
    assert!(!t.is_connected());

    let before = Instant::now();
    drop(t);
    let took = before.elapsed();
    assert!(took < Duration::from_millis(50), "drop took {took:?}");
    let eof_at = eof_rx
        .recv_timeout(Duration::from_secs(2))
        .expect("the server saw the socket close");
    assert!(eof_at.duration_since(before) < Duration::from_secs(1));
    join(server);
}

#[test]
fn never_blocks_when_the_upgrade_is_never_answered() {
    never_blocks_against_a_silent_server("ws");
}

#[test]
fn never_blocks_when_the_tls_handshake_is_never_answered() {
    never_blocks_against_a_silent_server("wss");
}

#[test]
fn connection_refused_is_a_connect_failure() {
    let (listener, port) = listen();
    drop(listener);
    let mut t = connect(&format!("ws://127.0.0.1:{port}"), TlsConfig::default());
    let failure = expect_connect_failure(&mut t);
    assert!(
        matches!(&failure, ConnectFailure::Tcp(tcp) if matches!(tcp.attempts.as_slice(), [(_, IoFailure::Refused(_))])),
        "{failure:?}"
    );
    let why = failure.to_string();
    assert!(why.contains("TCP connect"), "{why}");
    assert!(why.to_lowercase().contains("refused"), "{why}");
    assert_silent(&mut t);
}

#[test]
fn dns_failure_is_a_connect_failure_without_blocking() {
    let start = Instant::now();
    let mut t = connect("ws://nonexistent.invalid:3000", TlsConfig::default());
    assert!(
        start.elapsed() < Duration::from_millis(50),
        "connect took {:?}",
        start.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(9);
    let why = loop {
        let before = Instant::now();
        let event = t.poll(Instant::now());
        assert!(
            before.elapsed() < Duration::from_millis(5),
            "poll took {:?}",
            before.elapsed()
        );
        match event {
            None => {}
            Some(TransportEvent::Closed(TransportEnd::ConnectFailed(why @ ConnectFailure::Dns(_)))) => {
                break why.to_string()
            }
            Some(other) => panic!("expected ConnectFailed, got {other:?}"),
        }
        assert!(Instant::now() < deadline, "DNS failure not reported in time");
        thread::sleep(Duration::from_millis(1));
    };
    assert!(why.contains("DNS") && why.contains("nonexistent.invalid"), "{why}");
    assert_silent(&mut t);
}

#[test]
fn upgrade_refused_by_the_server_is_a_connect_failure() {
    let (listener, port) = listen();
    let server = thread::spawn(move || {
        let mut tcp = accept_tcp(&listener);
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            match tcp.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let body = r#"{"code":0,"message":"Transport unknown"}"#;
        let response = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = tcp.write_all(response.as_bytes());
    });
    let mut t = connect(&format!("ws://127.0.0.1:{port}"), TlsConfig::default());
    let failure = expect_connect_failure(&mut t);
    assert!(
        matches!(
            &failure,
            ConnectFailure::Upgrade(UpgradeFailure::Status { status: 400, body: Some(body) }) if body.contains("Transport unknown")
        ),
        "{failure:?}"
    );
    let why = failure.to_string();
    assert!(why.contains("WebSocket upgrade failed") && why.contains("400"), "{why}");
    join(server);
}

#[test]
fn server_close_is_reported_once() {
    let (port, server) = ws_server(|mut ws, _| {
        ws.send(Message::text("bye")).expect("send");
        ws.close(None).expect("close");
        // Finish the closing handshake.
        while ws.read().is_ok() {}
    });
    let mut t = connect(&format!("ws://127.0.0.1:{port}"), TlsConfig::default());
    expect_connected(&mut t);
    assert_eq!(expect_frame(&mut t), RawPacket::Text("bye".into()));
    assert_eq!(expect_closed(&mut t), TransportEnd::Closed);
    assert_silent(&mut t);
    t.send(RawPacket::Text("too late".into()));
    t.flush();
    assert_silent(&mut t);
    join(server);
}

#[test]
fn end_of_stream_without_close_frame_is_closed() {
    let (port, server) = ws_server(|ws, _| drop(ws));
    let mut t = connect(&format!("ws://127.0.0.1:{port}"), TlsConfig::default());
    expect_connected(&mut t);
    assert_eq!(expect_closed(&mut t), TransportEnd::Closed);
    assert_silent(&mut t);
    join(server);
}

#[test]
fn client_close_sends_a_close_frame() {
    let (close_tx, close_rx) = mpsc::channel();
    let (port, server) = ws_server(move |mut ws, _| loop {
        match ws.read() {
            Ok(Message::Close(frame)) => {
                let _ = close_tx.send(frame.map(|f| f.code));
                return;
            }
            Ok(_) => {}
            Err(_) => return,
        }
    });
    let mut t = connect(&format!("ws://127.0.0.1:{port}"), TlsConfig::default());
    expect_connected(&mut t);
    t.close();
    assert_silent(&mut t);
    assert_eq!(close_rx.recv_timeout(DEADLINE).expect("close frame"), None);
    join(server);
}

#[test]
fn message_over_the_cap_closes_with_message_too_large() {
    let (close_tx, close_rx) = mpsc::channel();
    let (port, server) = ws_server(move |mut ws, _| {
        ws.send(Message::Binary(pattern(1000))).expect("send");
        ws.send(Message::Binary(pattern(2048))).expect("send");
        loop {
            match ws.read() {
                Ok(Message::Close(frame)) => {
                    let _ = close_tx.send(frame.map(|f| f.code));
                    return;
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    let mut t = WebSocketTransport::connect(
        Instant::now(),
        &endpoint(&format!("ws://127.0.0.1:{port}")),
        &TlsConfig::default(),
        1024,
    );
    expect_connected(&mut t);
    assert_eq!(expect_frame(&mut t), RawPacket::Binary(pattern(1000)));
    assert_eq!(
        expect_closed(&mut t),
        TransportEnd::MessageTooLarge { size: 2048, max: 1024 }
    );
    assert_silent(&mut t);
    assert_eq!(
        close_rx.recv_timeout(DEADLINE).expect("close frame"),
        Some(CloseCode::Size)
    );
    join(server);
}

#[test]
fn text_over_the_cap_closes_with_message_too_large() {
    let (port, server) = ws_server(|mut ws, _| {
        let _ = ws.send(Message::text("x".repeat(100)));
        while ws.read().is_ok() {}
    });
    let mut t = WebSocketTransport::connect(
        Instant::now(),
        &endpoint(&format!("ws://127.0.0.1:{port}")),
        &TlsConfig::default(),
        99,
    );
    expect_connected(&mut t);
    assert_eq!(
        expect_closed(&mut t),
        TransportEnd::MessageTooLarge { size: 100, max: 99 }
    );
    drop(t);
    join(server);
}

#[test]
fn wss_self_signed_is_refused_by_default() {
    let cert = test_cert();
    let (port, server) = wss_server(&cert, echo);
    let mut t = connect(&format!("wss://localhost:{port}"), TlsConfig::default());
    let failure = expect_connect_failure(&mut t);
    assert_eq!(
        failure,
        ConnectFailure::Tls(TlsFailure::Certificate(CertificateRefusal::UnknownIssuer))
    );
    let why = failure.to_string();
    assert!(
        why.contains("TLS handshake failed") && why.contains("certificate"),
        "{why}"
    );
    join(server);
}

#[test]
fn wss_accepted_with_the_certificate_as_custom_root() {
    let cert = test_cert();
    let (port, server) = wss_server(&cert, echo);
    let mut t = connect(&format!("wss://localhost:{port}"), custom_roots(&cert, None));
    expect_connected(&mut t);
    t.send(RawPacket::Text("secure".into()));
    assert_eq!(expect_frame(&mut t), RawPacket::Text("secure".into()));
    drop(t);
    join(server);
}

#[test]
fn wss_five_mib_round_trip() {
    let cert = test_cert();
    let (port, server) = wss_server(&cert, echo);
    let mut t = connect(&format!("wss://localhost:{port}"), custom_roots(&cert, None));
    expect_connected(&mut t);
    let big = pattern(5 << 20);
    t.send(RawPacket::Binary(big.clone()));
    t.send(RawPacket::Text("end".into()));
    match expect_frame(&mut t) {
        RawPacket::Binary(got) => assert!(got == big, "payload differs ({} bytes)", got.len()),
        other => panic!("expected binary, got {other:?}"),
    }
    assert_eq!(expect_frame(&mut t), RawPacket::Text("end".into()));
    drop(t);
    join(server);
}

#[test]
fn wss_accepted_with_verification_disabled() {
    let cert = test_cert();
    let (port, server) = wss_server(&cert, echo);
    let tls = TlsConfig {
        verification: TlsVerification::Disabled,
        server_name: None,
    };
    let mut t = connect(&format!("wss://127.0.0.1:{port}"), tls);
    expect_connected(&mut t);
    t.send(RawPacket::Binary(Bytes::from_static(b"\x00unverified")));
    assert_eq!(
        expect_frame(&mut t),
        RawPacket::Binary(Bytes::from_static(b"\x00unverified"))
    );
    drop(t);
    join(server);
}

#[test]
fn wss_refused_with_a_wrong_server_name() {
    let cert = test_cert();
    let (port, server) = wss_server(&cert, echo);
    let mut t = connect(
        &format!("wss://127.0.0.1:{port}"),
        custom_roots(&cert, Some("example.com")),
    );
    let why = expect_connect_failed(&mut t);
    assert!(
        why.contains("TLS handshake failed") && why.contains("certificate"),
        "{why}"
    );
    join(server);
}

#[test]
fn wss_refused_for_an_ip_the_certificate_does_not_name() {
    let cert = test_cert();
    let (port, server) = wss_server(&cert, echo);
    let mut t = connect(&format!("wss://127.0.0.1:{port}"), custom_roots(&cert, None));
    let why = expect_connect_failed(&mut t);
    assert!(why.contains("certificate"), "{why}");
    join(server);
}

#[test]
fn wss_accepted_with_the_server_name_override_on_an_ip() {
    let cert = test_cert();
    let (port, server) = wss_server(&cert, echo);
    let mut t = connect(
        &format!("wss://127.0.0.1:{port}"),
        custom_roots(&cert, Some("localhost")),
    );
    expect_connected(&mut t);
    t.send(RawPacket::Text("by name".into()));
    assert_eq!(expect_frame(&mut t), RawPacket::Text("by name".into()));
    drop(t);
    join(server);
}

#[test]
fn wss_invalid_custom_pem_is_a_connect_failure() {
    for pem in [&b""[..], b"not a certificate"] {
        for verification in [
            TlsVerification::CustomRootsPem(pem.to_vec()),
            TlsVerification::CustomRootsPemAnyName(pem.to_vec()),
        ] {
            let tls = TlsConfig {
                verification,
                server_name: None,
            };
            // No server needed: the PEM is checked before any network I/O.
            let mut t = connect("wss://127.0.0.1:9", tls);
            let failure = expect_connect_failure(&mut t);
            assert!(matches!(failure, ConnectFailure::TlsSettings(_)), "{failure:?}");
            let why = failure.to_string();
            assert!(why.contains("custom CA certificates"), "{why}");
        }
    }
}

fn any_name_roots(pem: &str, server_name: Option<&str>) -> TlsConfig {
    TlsConfig {
        verification: TlsVerification::CustomRootsPemAnyName(pem.as_bytes().to_vec()),
        server_name: server_name.map(str::to_owned),
    }
}

#[test]
fn wss_any_name_roots_accept_a_trusted_certificate_for_another_name() {
    // The certificate names "localhost" only; 127.0.0.1 and "example.com" are refused by `CustomRootsPem`
    // (see above) but pass when only the chain is checked.
    for (url_host, server_name) in [
        ("127.0.0.1", None),
        ("127.0.0.1", Some("example.com")),
        ("localhost", None),
    ] {
        let cert = test_cert();
        let (port, server) = wss_server(&cert, echo);
        let mut t = connect(
            &format!("wss://{url_host}:{port}"),
            any_name_roots(&cert.pem, server_name),
        );
        expect_connected(&mut t);
        t.send(RawPacket::Text("any name".into()));
        assert_eq!(expect_frame(&mut t), RawPacket::Text("any name".into()));
        drop(t);
        join(server);
    }
}

#[test]
fn wss_any_name_roots_refuse_a_certificate_from_other_roots() {
    let cert = test_cert();
    let other = test_cert();
    let (port, server) = wss_server(&cert, echo);
    let mut t = connect(&format!("wss://localhost:{port}"), any_name_roots(&other.pem, None));
    let why = expect_connect_failed(&mut t);
    assert!(
        why.contains("TLS handshake failed") && why.contains("certificate"),
        "{why}"
    );
    join(server);
}

#[test]
fn wss_against_a_plain_server_fails_the_tls_handshake() {
    // wss:// against a plain WebSocket server: the TLS handshake fails.
    let (port, server) = ws_server(|ws, _| echo(ws));
    let mut t = connect(&format!("wss://127.0.0.1:{port}"), TlsConfig::default());
    let why = expect_connect_failed(&mut t);
    assert!(why.contains("TLS handshake failed"), "{why}");
    drop(t);
    join(server);
}
