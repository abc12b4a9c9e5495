//! A hostile HTTP server, for what no real Engine.IO server does over long-polling and around the upgrade: garbage
//! instead of HTTP, bodies that are not payloads, lying or endless lengths, header floods, silence, refused
//! upgrades and probes that go wrong. Each case must end in a clear error or a reconnection, with bounded memory,
//! no panic, and no `Client::poll` that blocks (each is timed).
//!
//! The fake server ([`serve`]) speaks just enough Engine.IO over polling to carry a session (handshake, held
//! `GET`s, `POST`s, CONNECT answered, `echo` events sent back); each test's script takes over the requests it wants
//! to spoil, routed by method and query (`transport=polling` or `transport=websocket`, with or without `sid`).

mod common;

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use socketio_core::{Client, ClientConfig, ClientEvent, DisconnectReason, TransportKind, Value};
use tungstenite::{Message, WebSocket};

/// The body of engine.io's refusal of an unknown transport.
const TRANSPORT_UNKNOWN: &str = r#"{"code":0,"message":"Transport unknown"}"#;

/// A polled request, as the fake server read it.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn query(&self, key: &str) -> Option<&str> {
        let query = self.target.split_once('?')?.1;
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    fn is_websocket(&self) -> bool {
        self.query("transport") == Some("websocket")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The index of the session it belongs to (sids are `s<index>`), `None` for a handshake.
    fn session(&self) -> Option<usize> {
        self.query("sid")?.strip_prefix('s')?.parse().ok()
    }
}

/// What a script did with a request.
enum Reply {
    /// Nothing: the fake server answers as a good polling-only server would.
    Default,
    /// Answered; the connection may carry the next request.
    KeepAlive,
    /// Answered (or not); the connection ends.
    Close,
}

/// One Engine.IO session of the fake server: the packets waiting for the next `GET`.
#[derive(Default)]
struct Session {
    out: Mutex<VecDeque<String>>,
    ready: Condvar,
}

impl Session {
    fn push(&self, packet: String) {
        self.out.lock().unwrap().push_back(packet);
        self.ready.notify_all();
    }
}

/// The state shared by a fake server's connections.
struct Server {
    port: u16,
    /// Whether the handshake offers `websocket` in `upgrades`.
    offer_websocket: bool,
    sessions: Mutex<HashMap<usize, Arc<Session>>>,
    handshakes: AtomicUsize,
    /// Bytes written by scripts that stream (to check the client stopped reading early).
    streamed: AtomicU64,
    /// Set by scripts to tell the test something happened (e.g. the probe socket was closed by the client).
    flag: AtomicBool,
    /// While set, held `GET`s are not answered (a server that does not end the held `GET` for the upgrade).
    hold: AtomicBool,
}

impl Server {
    fn session(&self, index: usize) -> Arc<Session> {
        self.sessions.lock().unwrap().entry(index).or_default().clone()
    }
}

type Script = Arc<dyn Fn(&Server, &Req, &mut TcpStream) -> Reply + Send + Sync>;

/// Serves HTTP on 127.0.0.1: each request goes to `script`, then, if it says [`Reply::Default`], to the good
/// polling server.
fn serve(offer_websocket: bool, script: Script) -> Arc<Server> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = Arc::new(Server {
        port: listener.local_addr().unwrap().port(),
        offer_websocket,
        sessions: Mutex::new(HashMap::new()),
        handshakes: AtomicUsize::new(0),
        streamed: AtomicU64::new(0),
        flag: AtomicBool::new(false),
        hold: AtomicBool::new(false),
    });
    let shared = server.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (server, script) = (shared.clone(), script.clone());
            thread::spawn(move || connection(&server, &script, stream));
        }
    });
    server
}

/// Serves the requests of one connection until it ends.
fn connection(server: &Server, script: &Script, stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        let stream = reader.get_mut();
        let reply = match script(server, &req, stream) {
            Reply::Default => default_reply(server, &req, stream),
            reply => reply,
        };
        if matches!(reply, Reply::Close) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Req> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Req {
        method,
        target,
        headers,
        body,
    })
}

/// Writes a response with a `Content-Length` body.
fn respond(stream: &mut TcpStream, status: &str, body: &[u8]) -> bool {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).is_ok() && stream.write_all(body).is_ok()
}

/// `body` chunked in pieces of 7 bytes, so that a client that shows the raw body shows chunk sizes.
fn chunked(body: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in body.as_bytes().chunks(7) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// engine.io's answer to an unknown transport: 400, chunked JSON.
fn refuse_transport(stream: &mut TcpStream) -> Reply {
    let head = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\
                Connection: close\r\n\r\n";
    // One write, as Node.js sends a small response: the client reads the body with the head.
    let mut response = head.as_bytes().to_vec();
    response.extend_from_slice(&chunked(TRANSPORT_UNKNOWN));
    let _ = stream.write_all(&response);
    Reply::Close
}

/// A good polling-only Engine.IO server (the WebSocket upgrade is refused as engine.io refuses an unknown
/// transport).
fn default_reply(server: &Server, req: &Req, stream: &mut TcpStream) -> Reply {
    if req.is_websocket() {
        return refuse_transport(stream);
    }
    let Some(index) = req.session() else {
        let index = server.handshakes.fetch_add(1, Ordering::SeqCst);
        server.session(index);
        let upgrades = if server.offer_websocket {
            r#"["websocket"]"#
        } else {
            "[]"
        };
        let open = format!(
            r#"0{{"sid":"s{index}","upgrades":{upgrades},"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}"#
        );
        respond(stream, "200 OK", open.as_bytes());
        return Reply::KeepAlive;
    };
    let session = server.session(index);
    if req.method == "POST" {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        for packet in body.split('\u{1e}') {
            if packet.starts_with("40") {
                session.push(format!(r#"40{{"sid":"ns-{index}"}}"#));
            } else if packet.starts_with("42") {
                session.push(packet.to_owned());
            }
        }
        respond(stream, "200 OK", b"ok");
        return Reply::KeepAlive;
    }
    // A held GET: answered once there are packets, or with a NOOP after a while.
    let mut out = session.out.lock().unwrap();
    if out.is_empty() {
        out = session.ready.wait_timeout(out, Duration::from_millis(300)).unwrap().0;
    }
    let packets: Vec<String> = out.drain(..).collect();
    drop(out);
    let held = Instant::now();
    while server.hold.load(Ordering::SeqCst) && held.elapsed() < Duration::from_secs(15) {
        thread::sleep(Duration::from_millis(5));
    }
    let body = if packets.is_empty() {
        "6".to_owned()
    } else {
        packets.join("\u{1e}")
    };
    respond(stream, "200 OK", body.as_bytes());
    Reply::KeepAlive
}

/// Accepts a WebSocket upgrade by hand (the request head was read already) and returns the socket.
fn accept_websocket(req: &Req, stream: &mut TcpStream) -> Option<WebSocket<TcpStream>> {
    let key = req.header("sec-websocket-key")?;
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    stream.write_all(response.as_bytes()).ok()?;
    let socket = stream.try_clone().ok()?;
    Some(WebSocket::from_raw_socket(
        socket,
        tungstenite::protocol::Role::Server,
        None,
    ))
}

fn config(transports: &[TransportKind]) -> ClientConfig {
    let mut config = ClientConfig {
        transports: transports.to_vec(),
        ..ClientConfig::default()
    };
    config.reconnect.delay = Duration::from_millis(30);
    config.reconnect.delay_max = Duration::from_millis(60);
    config.limits.max_message_bytes = 64 * 1024;
    config
}

fn polling_only() -> ClientConfig {
    config(&[TransportKind::Polling])
}

/// A client that joins "/" on the fake server (connecting starts; nothing is polled yet).
fn connect_to(server: &Server, config: ClientConfig) -> Client {
    let mut client = Client::new(config);
    client.connect_namespace(Instant::now(), "/", None).unwrap();
    client
        .connect(Instant::now(), &format!("http://127.0.0.1:{}", server.port))
        .unwrap();
    client
}

/// Every `Client::poll` of a test, timed.
struct Timing {
    polls: usize,
    worst: Duration,
    /// Polls over [`SLOW_POLL`].
    slow: usize,
    /// How many polls over [`SLOW_POLL`] are allowed, besides 1 in 200 (see [`Timing::check`]).
    allowed_slow: usize,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            polls: 0,
            worst: Duration::ZERO,
            slow: 0,
            allowed_slow: 3,
        }
    }
}

/// The bound on one poll.
const SLOW_POLL: Duration = Duration::from_millis(1);

/// The bound on every poll, outliers included: a poll that blocked would wait for a server that holds its answers
/// for 300 ms and more, or for the connect timeout.
const BLOCKED_POLL: Duration = Duration::from_millis(50);

impl Timing {
    /// One `client.poll`, timed.
    fn poll(&mut self, client: &mut Client) {
        let before = Instant::now();
        client.poll(before);
        let took = before.elapsed();
        self.polls += 1;
        self.worst = self.worst.max(took);
        if took > SLOW_POLL {
            self.slow += 1;
            eprintln!("poll {} took {took:?}", self.polls);
        }
    }

    /// No poll blocked, and nearly all took under 1 ms. The outliers allowed (3 by default, and 1 in 200) are the
    /// test build's: `cargo test` runs unoptimized code, and the few polls that do several connection steps at once
    /// (the fallback's: the refused upgrade read, the WebSocket closed, polling's dial, handshake and first POST)
    /// add up to about 1 ms there, more when the machine is busy (the tests run in parallel, beside their fake
    /// servers' threads); none of them waits.
    fn check(&self) {
        eprintln!(
            "{} polls, worst {:?}, {} over {SLOW_POLL:?}",
            self.polls, self.worst, self.slow
        );
        assert!(self.worst < BLOCKED_POLL, "a poll took {:?}", self.worst);
        assert!(
            self.slow <= self.allowed_slow + self.polls / 200,
            "{} of {} polls took over {SLOW_POLL:?} (worst {:?})",
            self.slow,
            self.polls,
            self.worst
        );
    }
}

/// Polls `client` (each poll timed) until `done` holds for the events seen, or `timeout` (then panics).
fn drive(
    client: &mut Client,
    timing: &mut Timing,
    timeout: Duration,
    mut done: impl FnMut(&[ClientEvent]) -> bool,
) -> Vec<ClientEvent> {
    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        timing.poll(client);
        let mut got = false;
        while let Some(event) = client.poll_event() {
            seen.push(event);
            got = true;
        }
        if got && done(&seen) {
            return seen;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?}; events: {seen:#?}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// Polls for `duration` (each poll timed); returns the events seen.
fn drive_for(client: &mut Client, timing: &mut Timing, duration: Duration) -> Vec<ClientEvent> {
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < duration {
        timing.poll(client);
        seen.extend(std::iter::from_fn(|| client.poll_event()));
        thread::sleep(Duration::from_millis(1));
    }
    seen
}

fn transport_errors(events: &[ClientEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::TransportError(e) => Some(e.message.clone()),
            _ => None,
        })
        .collect()
}

fn connected_count(events: &[ClientEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, ClientEvent::NamespaceConnected { .. }))
        .count()
}

/// The first handshake of a polling-only client gets `spoil`'s answer; returns the first `TransportError`'s message.
/// The second handshake is answered well: the client must connect then.
fn handshake_refused(spoil: impl Fn(&Server, &mut TcpStream) -> Reply + Send + Sync + 'static) -> String {
    handshake_refused_with(polling_only(), Duration::from_secs(5), spoil).0
}

fn handshake_refused_with(
    config: ClientConfig,
    timeout: Duration,
    spoil: impl Fn(&Server, &mut TcpStream) -> Reply + Send + Sync + 'static,
) -> (String, Arc<Server>) {
    handshake_refused_timed(config, timeout, Timing::default(), spoil)
}

fn handshake_refused_timed(
    config: ClientConfig,
    timeout: Duration,
    mut timing: Timing,
    spoil: impl Fn(&Server, &mut TcpStream) -> Reply + Send + Sync + 'static,
) -> (String, Arc<Server>) {
    let spoiled = Arc::new(AtomicBool::new(false));
    let script: Script = Arc::new(move |server, req, stream| {
        if req.session().is_none() && !req.is_websocket() && !spoiled.swap(true, Ordering::SeqCst) {
            return spoil(server, stream);
        }
        Reply::Default
    });
    let server = serve(false, script);
    let mut client = connect_to(&server, config);
    let events = drive(&mut client, &mut timing, timeout, |events| connected_count(events) == 1);
    timing.check();
    let errors = transport_errors(&events);
    assert_eq!(errors.len(), 1, "{events:#?}");
    (errors[0].clone(), server)
}

#[test]
fn handshake_answered_with_garbage() {
    let message = handshake_refused(|_, stream| {
        let _ = stream.write_all(b"\x00\x01garbage that is not HTTP at all\r\n\r\n");
        Reply::Close
    });
    assert!(message.contains("polling handshake failed"), "{message}");
    assert!(message.contains("malformed HTTP response head"), "{message}");
}

#[test]
fn handshake_body_is_not_a_payload() {
    let message = handshake_refused(|_, stream| {
        respond(stream, "200 OK", b"<html>hello</html>");
        Reply::KeepAlive
    });
    assert!(message.contains("polling handshake failed"), "{message}");
}

#[test]
fn handshake_first_packet_is_not_open() {
    let message = handshake_refused(|_, stream| {
        respond(stream, "200 OK", b"4hello\x1e2");
        Reply::KeepAlive
    });
    assert!(message.contains("not the OPEN packet"), "{message}");
}

#[test]
fn handshake_refused_with_chunked_json() {
    let message = handshake_refused(|_, stream| refuse_transport(stream));
    assert!(message.contains("400"), "{message}");
    assert!(message.contains(TRANSPORT_UNKNOWN), "the decoded body: {message}");
}

#[test]
fn handshake_redirected() {
    let message = handshake_refused(|_, stream| {
        let _ =
            stream.write_all(b"HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid/\r\nContent-Length: 0\r\n\r\n");
        Reply::KeepAlive
    });
    assert!(message.contains("302"), "{message}");
}

#[test]
fn handshake_body_truncated() {
    let message = handshake_refused(|_, stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n0{\"sid\":\"trunc");
        Reply::Close
    });
    assert!(message.contains("closed in the middle"), "{message}");
}

#[test]
fn handshake_body_announced_too_large_is_refused_unread() {
    let (message, server) = handshake_refused_with(polling_only(), Duration::from_secs(5), |server, stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n");
        // Streams slowly: a client that waited for the body would be here for hours.
        let piece = [b'a'; 1024];
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if stream.write_all(&piece).is_err() {
                break;
            }
            server.streamed.fetch_add(piece.len() as u64, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(5));
        }
        Reply::Close
    });
    assert!(message.contains("1073741824 bytes, larger than the cap"), "{message}");
    // Refused by the announced length, at once: the server got a few of its 1 KiB pieces out, no more.
    let streamed = server.streamed.load(Ordering::SeqCst);
    eprintln!("the server wrote {streamed} bytes of the body");
    assert!(streamed < 1 << 20, "the server wrote {streamed} bytes");
}

#[test]
fn handshake_chunked_body_that_never_ends_stops_at_the_cap() {
    let streamed = Arc::new(AtomicU64::new(0));
    let counter = streamed.clone();
    let (message, _) = handshake_refused_with(polling_only(), Duration::from_secs(10), move |_, stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let mut chunk = b"1000\r\n".to_vec();
        chunk.extend_from_slice(&[b'a'; 0x1000]);
        chunk.extend_from_slice(b"\r\n");
        // Forever, as far as the client is concerned: until the client closes, or 64 MiB.
        while counter.load(Ordering::SeqCst) < 64 << 20 {
            if stream.write_all(&chunk).is_err() {
                break;
            }
            counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        }
        Reply::Close
    });
    assert!(message.contains("larger than the cap"), "{message}");
    // The client stopped reading at its cap (some 150 KiB); what the server got out is that plus the socket
    // buffers, far from the 64 MiB it was ready to send.
    let streamed = streamed.load(Ordering::SeqCst);
    eprintln!("the server wrote {streamed} bytes of chunks");
    assert!(streamed < 32 << 20, "the server wrote {streamed} bytes");
}

#[test]
fn set_cookie_flood_is_refused_by_the_header_caps() {
    // The client reads the head 16 KiB at a time, up to its 64 KiB cap: 4 or 5 polls that each look for the end of
    // the head in 16 KiB, which takes some 0.85 ms in the unoptimized test build (microseconds when optimized).
    let timing = Timing {
        allowed_slow: 8,
        ..Timing::default()
    };
    let (message, _) = handshake_refused_timed(polling_only(), Duration::from_secs(5), timing, |_, stream| {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..5000 {
            head.extend_from_slice(format!("Set-Cookie: c{i}=v{i}; Path=/\r\n").as_bytes());
        }
        head.extend_from_slice(b"Content-Length: 2\r\n\r\nok");
        let _ = stream.write_all(&head);
        Reply::Close
    });
    assert!(
        message.contains("header fields") || message.contains("header block over"),
        "{message}"
    );
}

#[test]
fn handshake_never_answered_times_out() {
    let mut config = polling_only();
    config.connect_timeout = Duration::from_millis(500);
    let started = Instant::now();
    let (message, _) = handshake_refused_with(config, Duration::from_secs(5), |_, stream| {
        // Holds the connection, never answers.
        let mut scratch = [0u8; 1024];
        let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
        let _ = stream.read(&mut scratch);
        Reply::Close
    });
    assert_eq!(message, "timeout");
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
}

/// The first session's requests of `method` (after its handshake) get `spoil`'s answer: the session must report a
/// disconnect with a reason and connect again.
fn session_request_spoiled(method: &'static str, spoil: fn(&mut TcpStream) -> Reply) {
    let script: Script = Arc::new(move |_, req, stream| {
        if req.session() == Some(0) && req.method == method {
            return spoil(stream);
        }
        Reply::Default
    });
    let server = serve(false, script);
    let mut client = connect_to(&server, polling_only());
    let mut timing = Timing::default();
    let events = drive(&mut client, &mut timing, Duration::from_secs(10), |events| {
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::NamespaceConnected { sid, .. } if sid == "ns-1"))
    });
    timing.check();
    let closed = events
        .iter()
        .find_map(|e| match e {
            ClientEvent::Closed { reason, cause } => Some((*reason, cause.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no Closed: {events:#?}"));
    assert_eq!(closed.0, DisconnectReason::TransportError, "{events:#?}");
    let cause = closed.1.expect("a cause");
    eprintln!("{method} spoiled: {cause}");
    assert!(!cause.is_empty());
    assert!(server.handshakes.load(Ordering::SeqCst) >= 2);
}

#[test]
fn session_get_answered_with_garbage_reconnects() {
    session_request_spoiled("GET", |stream| {
        let _ = stream.write_all(b"garbage\r\n\r\n");
        Reply::Close
    });
}

#[test]
fn session_get_answered_400_reconnects() {
    session_request_spoiled("GET", |stream| {
        respond(
            stream,
            "400 Bad Request",
            br#"{"code":1,"message":"Session ID unknown"}"#,
        );
        Reply::KeepAlive
    });
}

#[test]
fn session_post_answered_400_reconnects() {
    session_request_spoiled("POST", |stream| {
        respond(
            stream,
            "400 Bad Request",
            br#"{"code":1,"message":"Session ID unknown"}"#,
        );
        Reply::KeepAlive
    });
}

/// Node.js's HTTP server closes a keep-alive connection after 5 s without a request (`keepAliveTimeout`): the POST
/// connection is closed so between two emits, and the GET one when a held GET's answer is not followed at once by
/// the next one. A request on a connection the server had closed while idle must go again on a new connection, as
/// browsers and HTTP libraries do, not end the session.
#[test]
fn idle_keep_alive_connections_closed_by_the_server_are_redialed() {
    let script: Script = Arc::new(|server, req, stream| {
        if req.method != "POST" || req.is_websocket() {
            return Reply::Default;
        }
        let reply = default_reply(server, req, stream);
        // Idle for 100 ms, then closed (a short keepAliveTimeout) without having said `Connection: close`.
        let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
        let mut scratch = [0u8; 1];
        match stream.peek(&mut scratch) {
            Ok(n) if n > 0 => reply,
            _ => Reply::Close,
        }
    });
    let server = serve(false, script);
    let mut client = connect_to(&server, polling_only());
    let mut timing = Timing::default();
    drive(&mut client, &mut timing, Duration::from_secs(5), |events| {
        connected_count(events) == 1
    });
    let mut events = Vec::new();
    for i in 0..3 {
        events.extend(drive_for(&mut client, &mut timing, Duration::from_millis(300)));
        client.emit(Instant::now(), "/", "echo", vec![Value::Int(i)]).unwrap();
        events.extend(drive(&mut client, &mut timing, Duration::from_secs(5), |events| {
            events.iter().any(|e| {
                matches!(e, ClientEvent::Event { name, args, .. } if name == "echo" && args.to_values() == vec![Value::Int(i)])
            })
        }));
    }
    timing.check();
    assert!(
        !events.iter().any(|e| matches!(e, ClientEvent::Closed { .. })),
        "{events:#?}"
    );
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 1, "one session throughout");
}

/// The first session's held `GET` is never answered (the server hangs on to it): the client must not wait on it
/// forever, but end the session when the server's pings stop (pingInterval + pingTimeout), and connect again.
#[test]
fn session_get_never_answered_ends_by_ping_timeout() {
    let script: Script = Arc::new(|server, req, stream| {
        if req.session().is_none() && server.handshakes.load(Ordering::SeqCst) == 0 {
            server.handshakes.fetch_add(1, Ordering::SeqCst);
            let open = r#"0{"sid":"s0","upgrades":[],"pingInterval":200,"pingTimeout":200,"maxPayload":1000000}"#;
            respond(stream, "200 OK", open.as_bytes());
            return Reply::KeepAlive;
        }
        if req.session() == Some(0) && req.method == "GET" {
            let mut scratch = [0u8; 64];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
            let _ = stream.read(&mut scratch); // until the client gives up on it
            server.flag.store(true, Ordering::SeqCst);
            return Reply::Close;
        }
        Reply::Default
    });
    let server = serve(false, script);
    let mut client = connect_to(&server, polling_only());
    let mut timing = Timing::default();
    let started = Instant::now();
    let events = drive(&mut client, &mut timing, Duration::from_secs(5), |events| {
        connected_count(events) == 1
    });
    timing.check();
    assert!(
        events.contains(&ClientEvent::Closed {
            reason: DisconnectReason::PingTimeout,
            cause: None
        }),
        "{events:#?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(350),
        "{:?}",
        started.elapsed()
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::NamespaceConnected { sid, .. } if sid == "ns-1")),
        "{events:#?}"
    );
    // The held GET's connection was let go (the server saw it end), not left open.
    let until = Instant::now() + Duration::from_secs(2);
    while !server.flag.load(Ordering::SeqCst) && Instant::now() < until {
        thread::sleep(Duration::from_millis(5));
    }
    assert!(
        server.flag.load(Ordering::SeqCst),
        "the held GET's socket is still open"
    );
}

/// Polling with an upgrade offered, whose probe WebSocket `probe` handles (after the 101): the upgrade must be
/// given up and events must still flow over polling, after `wait`.
fn probe_fails(wait: Duration, probe: fn(&Server, &mut WebSocket<TcpStream>)) {
    probe_fails_with(wait, move |server, req, stream| {
        if let Some(mut ws) = accept_websocket(req, stream) {
            probe(server, &mut ws);
        }
        Reply::Close
    });
}

fn probe_fails_with(
    wait: Duration,
    websocket: impl Fn(&Server, &Req, &mut TcpStream) -> Reply + Send + Sync + 'static,
) {
    let script: Script = Arc::new(move |server, req, stream| {
        if req.is_websocket() {
            assert_eq!(req.query("sid"), Some("s0"), "the probe names the session");
            return websocket(server, req, stream);
        }
        Reply::Default
    });
    let server = serve(true, script);
    let mut client = connect_to(&server, config(&[TransportKind::Polling, TransportKind::WebSocket]));
    let mut timing = Timing::default();
    drive(&mut client, &mut timing, Duration::from_secs(5), |events| {
        connected_count(events) == 1
    });
    let events = drive_for(&mut client, &mut timing, wait);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ClientEvent::Upgraded { .. } | ClientEvent::Closed { .. })),
        "{events:#?}"
    );
    assert_eq!(client.transport(), Some(TransportKind::Polling));
    for i in 0..3 {
        client.emit(Instant::now(), "/", "echo", vec![Value::Int(i)]).unwrap();
    }
    let events = drive(&mut client, &mut timing, Duration::from_secs(5), |events| {
        events
            .iter()
            .filter(|e| matches!(e, ClientEvent::Event { name, .. } if name == "echo"))
            .count()
            == 3
    });
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ClientEvent::Upgraded { .. } | ClientEvent::Closed { .. })),
        "{events:#?}"
    );
    assert_eq!(client.transport(), Some(TransportKind::Polling));
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 1, "one session throughout");
    timing.check();
    assert!(server.flag.load(Ordering::SeqCst), "the probe was tried and dropped");
}

/// Reads until the client closes the probe; anything else from it (a `5`, a packet) is a failure.
fn wait_for_close(ws: &mut WebSocket<TcpStream>) {
    match ws.read() {
        Ok(Message::Close(_)) | Err(_) => {}
        Ok(other) => panic!("unexpected {other:?}"),
    }
}

#[test]
fn upgrade_probe_never_answered_times_out_and_polling_goes_on() {
    // The probe timeout is 10 s (auto::PROBE_TIMEOUT).
    probe_fails(Duration::from_millis(10_500), |server, ws| {
        let _ = ws.get_mut().set_read_timeout(Some(Duration::from_secs(15)));
        // Reads 2probe, answers nothing; the client must drop the socket once the probe times out.
        let got = ws.read();
        assert!(
            matches!(&got, Ok(Message::Text(t)) if t.as_str() == "2probe"),
            "{got:?}"
        );
        let started = Instant::now();
        wait_for_close(ws);
        // Dropped by the client's timeout, not by ours.
        assert!(started.elapsed() < Duration::from_secs(12));
        server.flag.store(true, Ordering::SeqCst);
    });
}

#[test]
fn upgrade_probe_answered_wrong_and_polling_goes_on() {
    probe_fails(Duration::from_millis(300), |server, ws| {
        let got = ws.read();
        assert!(
            matches!(&got, Ok(Message::Text(t)) if t.as_str() == "2probe"),
            "{got:?}"
        );
        let _ = ws.send(Message::text("3nope"));
        wait_for_close(ws);
        server.flag.store(true, Ordering::SeqCst);
    });
}

/// The probe answers `3probe`, but the server never ends the held `GET` (engine.io answers it with a NOOP), so
/// polling never finishes pausing: the probe times out, polling resumes, and what was emitted during the pause goes
/// out over polling, in order.
#[test]
fn upgrade_stuck_while_pausing_times_out_and_polling_resumes() {
    let script: Script = Arc::new(|server, req, stream| {
        if !req.is_websocket() {
            return Reply::Default;
        }
        if let Some(mut ws) = accept_websocket(req, stream) {
            let got = ws.read();
            assert!(
                matches!(&got, Ok(Message::Text(t)) if t.as_str() == "2probe"),
                "{got:?}"
            );
            server.hold.store(true, Ordering::SeqCst);
            // A GET answered before the hold would let polling finish pausing (nothing in flight): by the time the
            // client reads 3probe, the GET it started after that answer is held too.
            thread::sleep(Duration::from_millis(400));
            let _ = ws.send(Message::text("3probe"));
            let _ = ws.get_mut().set_read_timeout(Some(Duration::from_secs(15)));
            wait_for_close(&mut ws);
            server.hold.store(false, Ordering::SeqCst);
            server.flag.store(true, Ordering::SeqCst);
        }
        Reply::Close
    });
    let server = serve(true, script);
    let mut client = connect_to(&server, config(&[TransportKind::Polling, TransportKind::WebSocket]));
    let mut timing = Timing::default();
    let mut events = Vec::new();
    let until = Instant::now() + Duration::from_secs(3);
    while !server.hold.load(Ordering::SeqCst) && Instant::now() < until {
        timing.poll(&mut client);
        events.extend(std::iter::from_fn(|| client.poll_event()));
        thread::sleep(Duration::from_millis(1));
    }
    assert!(
        server.hold.load(Ordering::SeqCst),
        "the probe got its 3probe: {events:#?}"
    );
    // Polling is pausing now (the namespace may not even be connected yet, its CONNECT waiting too): these wait,
    // then go over polling once the probe is given up.
    for i in 0..5 {
        client.emit(Instant::now(), "/", "echo", vec![Value::Int(i)]).unwrap();
    }
    events.extend(drive(&mut client, &mut timing, Duration::from_secs(14), |events| {
        events
            .iter()
            .filter(|e| matches!(e, ClientEvent::Event { name, .. } if name == "echo"))
            .count()
            == 5
    }));
    assert_eq!(connected_count(&events), 1, "{events:#?}");
    timing.check();
    let echoed: Vec<Vec<Value>> = events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Event { name, args, .. } if name == "echo" => Some(args.to_values()),
            _ => None,
        })
        .collect();
    assert_eq!(echoed, (0..5).map(|i| vec![Value::Int(i)]).collect::<Vec<_>>());
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ClientEvent::Upgraded { .. } | ClientEvent::Closed { .. })),
        "{events:#?}"
    );
    assert_eq!(client.transport(), Some(TransportKind::Polling));
    assert!(server.flag.load(Ordering::SeqCst), "the probe was dropped");
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 1, "one session throughout");
}

#[test]
fn upgrade_refused_and_polling_goes_on() {
    probe_fails_with(Duration::from_millis(300), |server, _, stream| {
        server.flag.store(true, Ordering::SeqCst);
        refuse_transport(stream)
    });
}

#[test]
fn websocket_only_refused_upgrade_is_reported_per_attempt() {
    let server = serve(false, Arc::new(|_, _, _| Reply::Default));
    let mut config = config(&[TransportKind::WebSocket]);
    config.reconnect.max_attempts = Some(2);
    let mut client = connect_to(&server, config);
    let mut timing = Timing::default();
    let events = drive(&mut client, &mut timing, Duration::from_secs(5), |events| {
        events.iter().any(|e| matches!(e, ClientEvent::ReconnectFailed { .. }))
    });
    timing.check();
    let errors = transport_errors(&events);
    assert_eq!(errors.len(), 3, "the first attempt and 2 reconnections: {events:#?}");
    for message in &errors {
        assert!(message.contains("WebSocket upgrade failed"), "{message}");
        assert!(message.contains("400"), "{message}");
        assert!(message.contains(TRANSPORT_UNKNOWN), "the decoded body: {message}");
    }
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 0);
}

#[test]
fn default_transports_fall_back_to_polling_in_the_same_attempt() {
    let server = serve(false, Arc::new(|_, _, _| Reply::Default));
    let mut client = connect_to(&server, config(&[TransportKind::WebSocket, TransportKind::Polling]));
    let mut timing = Timing::default();
    let events = drive(&mut client, &mut timing, Duration::from_secs(5), |events| {
        connected_count(events) == 1
    });
    assert!(transport_errors(&events).is_empty(), "{events:#?}");
    assert_eq!(client.transport(), Some(TransportKind::Polling));
    client.emit(Instant::now(), "/", "echo", vec![Value::Int(7)]).unwrap();
    drive(&mut client, &mut timing, Duration::from_secs(5), |events| {
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::Event { name, .. } if name == "echo"))
    });
    timing.check();
    assert_eq!(server.handshakes.load(Ordering::SeqCst), 1);
}
