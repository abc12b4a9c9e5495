//! Connections through an HTTP proxy (`proxy_url`, `CONNECT`): an in-test relaying proxy on 127.0.0.1 in front of
//! the real socket.io server (`ws://`) and of an in-test TLS WebSocket server (`wss://`, whose certificate is checked
//! against the server's name through the tunnel), and proxies that refuse. Real proxies (tinyproxy) are the interop
//! matrix's.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{wait_for, TestServer};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use socketio_core::config::{TlsConfig, TlsVerification};
use socketio_core::endpoint::{Endpoint, Proxy};
use socketio_core::transport::{Transport, TransportEvent, WebSocketTransport};
use socketio_core::{Client, ClientConfig, ClientEvent, RawPacket, Value};

const DEADLINE: Duration = Duration::from_secs(5);

/// A proxy that opens every tunnel it is asked for and relays both ways; keeps the request heads it read.
struct RelayProxy {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl RelayProxy {
    fn start() -> RelayProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        // Lives as long as the test process: accept blocks, and nothing here needs it to end.
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let seen = Arc::clone(&seen);
                thread::spawn(move || tunnel(client, &seen));
            }
        });
        RelayProxy { port, requests }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }
}

fn tunnel(mut client: TcpStream, seen: &Mutex<Vec<String>>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(20)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    seen.lock().expect("lock").push(head.clone());
    let Some(target) = head.strip_prefix("CONNECT ").and_then(|rest| rest.split(' ').next()) else {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let Ok(server) = TcpStream::connect(target) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let _ = client.set_read_timeout(None);
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (Ok(mut client_out), Ok(mut server_in)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = thread::spawn(move || {
        let mut client = client;
        let mut server = server;
        let _ = std::io::copy(&mut client, &mut server);
        let _ = server.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut server_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// A one-connection proxy that answers `answer` to anything, then waits for the client to go.
fn refusing_proxy(answer: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        let Ok((mut tcp, _)) = listener.accept() else { return };
        let _ = tcp.set_read_timeout(Some(DEADLINE));
        let mut buf = [0u8; 1024];
        let _ = tcp.read(&mut buf);
        let _ = tcp.write_all(answer);
        while matches!(tcp.read(&mut buf), Ok(n) if n > 0) {}
    });
    port
}

fn client_through(proxy_url: &str) -> Client {
    let config = ClientConfig {
        proxy_url: Some(proxy_url.to_owned()),
        ..ClientConfig::default()
    };
    Client::new(config)
}

#[test]
fn a_client_reaches_the_real_server_through_the_proxy() {
    let server = TestServer::start(&[]);
    let proxy = RelayProxy::start();
    let mut client = client_through(&proxy.url());
    client.connect_namespace(Instant::now(), "/", None).expect("namespace");
    client.connect(Instant::now(), &server.url()).expect("connect");
    wait_for(
        &mut client,
        |e| matches!(e, ClientEvent::NamespaceConnected { namespace, .. } if namespace == "/"),
    );
    let payload = vec![Value::from("through the tunnel")];
    client.emit(Instant::now(), "/", "echo", payload.clone()).expect("emit");
    let events = wait_for(
        &mut client,
        |e| matches!(e, ClientEvent::Event { name, .. } if name == "echo"),
    );
    let args = events.iter().find_map(|e| match e {
        ClientEvent::Event { name, args, .. } if name == "echo" => Some(args.to_values()),
        _ => None,
    });
    assert_eq!(args, Some(payload));
    assert_eq!(
        proxy.requests(),
        [format!(
            "CONNECT 127.0.0.1:{0} HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\n\r\n",
            server.port
        )]
    );
}

#[test]
fn polling_and_its_upgrade_go_through_the_proxy() {
    let server = TestServer::start(&[]);
    let proxy = RelayProxy::start();
    let mut config = ClientConfig {
        proxy_url: Some(proxy.url()),
        transports: vec![
            socketio_core::TransportKind::Polling,
            socketio_core::TransportKind::WebSocket,
        ],
        ..ClientConfig::default()
    };
    config.reconnect.enabled = false;
    let mut client = Client::new(config);
    client.connect_namespace(Instant::now(), "/", None).expect("namespace");
    client.connect(Instant::now(), &server.url()).expect("connect");
    wait_for(&mut client, |e| matches!(e, ClientEvent::Upgraded { .. }));
    client
        .emit(Instant::now(), "/", "echo", vec![Value::from("after")])
        .expect("emit");
    wait_for(
        &mut client,
        |e| matches!(e, ClientEvent::Event { name, .. } if name == "echo"),
    );
    // One tunnel for the GETs, one for the POSTs (at least the namespace's CONNECT), one for the WebSocket.
    let connect = format!(
        "CONNECT 127.0.0.1:{0} HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\n\r\n",
        server.port
    );
    let requests = proxy.requests();
    assert!(requests.len() >= 3, "{requests:#?}");
    assert!(requests.iter().all(|r| *r == connect), "{requests:#?}");
}

#[test]
fn wss_through_the_proxy_checks_the_servers_certificate_not_the_proxys() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server config");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().expect("accept");
        tcp.set_read_timeout(Some(DEADLINE)).expect("timeout");
        let conn = ServerConnection::new(Arc::new(config)).expect("tls");
        let mut ws = tungstenite::accept(StreamOwned::new(conn, tcp)).expect("upgrade");
        // The name the client asked for (SNI): the server's, through the tunnel.
        let sni = ws.get_ref().conn.server_name().map(str::to_owned);
        while let Ok(message) = ws.read() {
            if message.is_text() && ws.send(message).is_err() {
                break;
            }
        }
        sni
    });

    let proxy = RelayProxy::start();
    let endpoint = Endpoint::parse(&format!("wss://localhost:{port}"), "/socket.io/").expect("url");
    let tls = TlsConfig {
        verification: TlsVerification::CustomRootsPem(certified.cert.pem().into_bytes()),
        server_name: None,
    };
    let through = Proxy::parse(&proxy.url()).expect("proxy url");
    let mut t = WebSocketTransport::connect_through(Instant::now(), &endpoint, &tls, &through, 1 << 20);
    t.send(RawPacket::Text("4hello".into()));
    t.flush();
    let deadline = Instant::now() + DEADLINE;
    let mut events = Vec::new();
    while !events.iter().any(|e| matches!(e, TransportEvent::RawPacket(_))) {
        events.extend(t.poll(Instant::now()));
        assert!(Instant::now() < deadline, "events so far: {events:?}");
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        events,
        [
            TransportEvent::Connected,
            TransportEvent::RawPacket(RawPacket::Text("4hello".into()))
        ]
    );
    t.close();
    assert_eq!(server.join().expect("server").as_deref(), Some("localhost"));
    assert_eq!(
        proxy.requests(),
        [format!(
            "CONNECT localhost:{port} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"
        )]
    );
}

/// The message of the client's first `TransportError`.
fn transport_error(client: &mut Client) -> String {
    let events = wait_for(client, |e| matches!(e, ClientEvent::TransportError(_)));
    match events.last() {
        Some(ClientEvent::TransportError(error)) => error.message.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_proxy_refusal_reaches_the_user_in_the_proxys_words() {
    let port = refusing_proxy(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    let mut client = client_through(&format!("http://127.0.0.1:{port}"));
    client
        .connect(Instant::now(), "ws://game.example:3000")
        .expect("connect");
    assert_eq!(
        transport_error(&mut client),
        format!("proxy 127.0.0.1:{port} refused CONNECT to game.example:3000: 403 Forbidden")
    );
}

#[test]
fn an_invalid_proxy_url_is_refused_by_connect() {
    // Refused at once, as an invalid server URL is; nothing is dialed.
    let mut client = client_through("socks5://127.0.0.1:1080");
    let error = client.connect(Instant::now(), "ws://127.0.0.1:9").unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid URL: proxy URL \"socks5://127.0.0.1:1080\": only http:// proxies are supported"
    );
}
