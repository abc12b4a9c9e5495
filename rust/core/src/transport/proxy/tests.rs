//! The `CONNECT` step against scripted proxies on 127.0.0.1: each test's proxy reads the request, answers as told,
//! then closes or echoes. Every wait polls under a deadline: a broken tunnel fails a test, it never hangs it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::*;
use crate::config::TlsConfig;
use crate::error::ConnectFailure;
use crate::transport::dial::{Dial, Progress};
use crate::transport::stream::Stream;

const DEADLINE: Duration = Duration::from_secs(5);

/// The server behind the proxy: never resolved nor reached by the dial, only named in the request.
const TARGET: &str = "ws://example.com:1234";

/// What the scripted proxy does after reading the request.
enum Then {
    /// Writes this answer, then echoes what comes until the client closes.
    AnswerThenEcho(Vec<u8>),
    /// Writes this answer one byte at a time, then echoes.
    Trickle(Vec<u8>),
    /// Writes this answer, then keeps the socket open until the client closes, reading nothing.
    AnswerThenWait(Vec<u8>),
    /// Writes this answer and closes its side of the connection (FIN), then waits for the client to close.
    AnswerThenEnd(Vec<u8>),
    /// Closes at once.
    Close,
}

/// A one-connection proxy; the thread returns the request head it read.
fn scripted(then: Then) -> (u16, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let proxy = thread::spawn(move || {
        let (mut tcp, _) = listener.accept().expect("accept");
        tcp.set_read_timeout(Some(DEADLINE)).expect("timeout");
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") {
            match tcp.read(&mut byte) {
                Ok(1) => request.push(byte[0]),
                _ => return request,
            }
        }
        let end = matches!(then, Then::AnswerThenEnd(_));
        match then {
            Then::Close => {}
            Then::AnswerThenEcho(answer) => {
                let _ = tcp.write_all(&answer);
                echo(&mut tcp);
            }
            Then::Trickle(answer) => {
                tcp.set_nodelay(true).expect("nodelay");
                for b in answer {
                    let _ = tcp.write_all(&[b]);
                    thread::sleep(Duration::from_micros(300));
                }
                echo(&mut tcp);
            }
            Then::AnswerThenWait(answer) | Then::AnswerThenEnd(answer) => {
                let _ = tcp.write_all(&answer);
                if end {
                    let _ = tcp.shutdown(std::net::Shutdown::Write);
                }
                let mut sink = [0u8; 1024];
                while matches!(tcp.read(&mut sink), Ok(n) if n > 0) {}
            }
        }
        request
    });
    (port, proxy)
}

fn echo(tcp: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = tcp.read(&mut buf) {
        if n == 0 || tcp.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

fn dial(proxy_url: &str) -> Dial {
    let endpoint = Endpoint::parse(TARGET, "/socket.io/").expect("url");
    let proxy = Proxy::parse(proxy_url).expect("proxy url");
    Dial::start(Instant::now(), &endpoint, &TlsConfig::default(), Some(&proxy)).expect("start")
}

/// Polls `dial` to its end; also returns the longest poll.
fn finish(dial: &mut Dial) -> (Result<Stream, ConnectFailure>, Duration) {
    let deadline = Instant::now() + DEADLINE;
    let mut longest = Duration::ZERO;
    loop {
        let before = Instant::now();
        let progress = dial.poll(before);
        longest = longest.max(before.elapsed());
        match progress {
            Progress::Pending => {}
            Progress::Ready(stream) => return (Ok(stream), longest),
            Progress::Failed(why) => return (Err(why), longest),
        }
        assert!(Instant::now() < deadline, "the dial did not end within {DEADLINE:?}");
        thread::sleep(Duration::from_millis(1));
    }
}

fn expect_failure(dial: &mut Dial) -> ProxyFailure {
    match finish(dial).0 {
        Ok(_) => panic!("the tunnel opened"),
        Err(ConnectFailure::Proxy(why)) => why,
        Err(other) => panic!("not the proxy's failure: {other:?}"),
    }
}

/// Reads exactly `n` bytes from the non-blocking stream, under the deadline.
fn read_n(stream: &mut Stream, n: usize) -> Vec<u8> {
    let deadline = Instant::now() + DEADLINE;
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < n {
        match stream.read(&mut buf[..n - got.len()]) {
            Ok(0) => panic!("closed after {got:?}"),
            Ok(k) => got.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(1)),
            Err(e) => panic!("read: {e}"),
        }
        assert!(Instant::now() < deadline, "only {got:?} arrived");
    }
    got
}

#[test]
fn a_200_opens_the_tunnel_and_nothing_after_the_head_is_lost() {
    // The byte after the blank line is the server's, sent in the same segment: it must reach the stream.
    let answer = b"HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n!".to_vec();
    let (port, proxy) = scripted(Then::AnswerThenEcho(answer));
    let mut dial = dial(&format!("http://127.0.0.1:{port}"));
    let (stream, longest) = finish(&mut dial);
    let mut stream = stream.expect("tunnel");
    assert_eq!(read_n(&mut stream, 1), b"!");
    stream.write_all(b"hello").expect("write");
    assert_eq!(read_n(&mut stream, 5), b"hello");
    drop(stream);
    let request = proxy.join().expect("proxy thread");
    assert_eq!(
        String::from_utf8(request).expect("ascii"),
        "CONNECT example.com:1234 HTTP/1.1\r\nHost: example.com:1234\r\n\r\n"
    );
    assert!(longest < Duration::from_millis(50), "a poll took {longest:?}");
}

#[test]
fn credentials_are_sent_as_proxy_authorization() {
    let (port, proxy) = scripted(Then::AnswerThenEcho(b"HTTP/1.0 200 OK\r\n\r\n".to_vec()));
    let mut dial = dial(&format!("http://user:pa%3Ass@127.0.0.1:{port}"));
    drop(finish(&mut dial).0.expect("tunnel"));
    let request = String::from_utf8(proxy.join().expect("proxy thread")).expect("ascii");
    // base64("user:pa:ss")
    assert_eq!(
        request,
        "CONNECT example.com:1234 HTTP/1.1\r\nHost: example.com:1234\r\n\
         Proxy-Authorization: Basic dXNlcjpwYTpzcw==\r\n\r\n"
    );
}

#[test]
fn an_answer_arriving_byte_by_byte_opens_the_tunnel_without_long_polls() {
    let answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\nVia: 1.1 p\n\n".to_vec();
    let (port, proxy) = scripted(Then::Trickle(answer));
    let mut dial = dial(&format!("http://127.0.0.1:{port}"));
    let (stream, longest) = finish(&mut dial);
    let mut stream = stream.expect("tunnel");
    stream.write_all(b"after").expect("write");
    assert_eq!(read_n(&mut stream, 5), b"after");
    drop(stream);
    proxy.join().expect("proxy thread");
    assert!(longest < Duration::from_millis(50), "a poll took {longest:?}");
}

#[test]
fn a_403_is_the_proxy_refusing() {
    let answer = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nConnection: close\r\n\r\nforbidden".to_vec();
    let (port, proxy) = scripted(Then::AnswerThenWait(answer));
    let mut dial = dial(&format!("http://127.0.0.1:{port}"));
    let why = expect_failure(&mut dial);
    assert!(
        matches!(&why, ProxyFailure::Refused { status: 403, reason, sent_credentials: false, .. } if reason == "Forbidden"),
        "{why:?}"
    );
    assert_eq!(
        ConnectFailure::Proxy(why).to_string(),
        format!("proxy 127.0.0.1:{port} refused CONNECT to example.com:1234: 403 Forbidden")
    );
    drop(dial);
    proxy.join().expect("proxy thread");
}

#[test]
fn a_407_says_whether_credentials_were_sent() {
    for (url, hint) in [
        ("http://127.0.0.1", "proxy_url has no credentials"),
        ("http://u:wrong@127.0.0.1", "the credentials in proxy_url were refused"),
    ] {
        let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                       Proxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n"
            .to_vec();
        let (port, proxy) = scripted(Then::AnswerThenWait(answer));
        let mut dial = dial(&format!("{url}:{port}"));
        let why = expect_failure(&mut dial);
        assert!(matches!(why, ProxyFailure::Refused { status: 407, .. }), "{why:?}");
        let text = why.to_string();
        assert!(text.contains("407 Proxy Authentication Required"), "{text}");
        assert!(text.contains(hint), "{text}");
        drop(dial);
        proxy.join().expect("proxy thread");
    }
}

#[test]
fn an_answer_that_is_not_http_fails_at_once() {
    // No blank line ever comes: the first bytes are enough to give up.
    let (port, proxy) = scripted(Then::AnswerThenWait(b"SSH-2.0-OpenSSH_9.6\r\n".to_vec()));
    let mut dial = dial(&format!("http://127.0.0.1:{port}"));
    let why = expect_failure(&mut dial);
    assert!(
        matches!(
            &why,
            ProxyFailure::Malformed {
                why: HttpError::MalformedHead(_),
                ..
            }
        ),
        "{why:?}"
    );
    assert!(
        why.to_string()
            .starts_with(&format!("proxy 127.0.0.1:{port} sent a bad answer to CONNECT")),
        "{why}"
    );
    drop(dial);
    proxy.join().expect("proxy thread");
}

#[test]
fn a_malformed_head_is_refused_by_the_codec() {
    let answer = b"HTTP/1.1 200 OK\r\nBad Header Name: x\r\n\r\n".to_vec();
    let (port, proxy) = scripted(Then::AnswerThenWait(answer));
    let mut dial = dial(&format!("http://127.0.0.1:{port}"));
    let why = expect_failure(&mut dial);
    assert!(
        matches!(
            &why,
            ProxyFailure::Malformed {
                why: HttpError::MalformedHead(_),
                ..
            }
        ),
        "{why:?}"
    );
    drop(dial);
    proxy.join().expect("proxy thread");
}

#[test]
fn a_head_over_the_cap_fails_without_waiting_for_its_end() {
    let mut answer = b"HTTP/1.1 200 OK\r\n".to_vec();
    while answer.len() <= MAX_HEAD_BYTES + 100 {
        answer.extend_from_slice(b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    let (port, proxy) = scripted(Then::AnswerThenWait(answer));
    let mut dial = dial(&format!("http://127.0.0.1:{port}"));
    let why = expect_failure(&mut dial);
    assert_eq!(
        why,
        ProxyFailure::Malformed {
            proxy: format!("127.0.0.1:{port}"),
            why: HttpError::HeaderTooLarge { max: MAX_HEAD_BYTES },
        }
    );
    drop(dial);
    proxy.join().expect("proxy thread");
}

#[test]
fn a_head_just_under_the_cap_is_taken() {
    let mut answer = b"HTTP/1.1 200 OK\r\n".to_vec();
    // Under the codec's cap on header fields too.
    let line = format!("X-Padding: {}\r\n", "a".repeat(MAX_HEAD_BYTES / 40));
    let line = line.as_bytes();
    while answer.len() + line.len() + 2 <= MAX_HEAD_BYTES {
        answer.extend_from_slice(line);
    }
    answer.extend_from_slice(b"\r\n");
    let (port, proxy) = scripted(Then::AnswerThenEcho(answer));
    let mut dial = dial(&format!("http://127.0.0.1:{port}"));
    let mut stream = finish(&mut dial).0.expect("tunnel");
    stream.write_all(b"x").expect("write");
    assert_eq!(read_n(&mut stream, 1), b"x");
    drop(stream);
    proxy.join().expect("proxy thread");
}

#[test]
fn a_proxy_closing_before_answering_is_a_failure() {
    for then in [
        Then::Close,
        Then::AnswerThenEnd(Vec::new()),
        Then::AnswerThenEnd(b"HTTP/1.1 200 OK\r\n".to_vec()),
    ] {
        let (port, proxy) = scripted(then);
        let mut dial = dial(&format!("http://127.0.0.1:{port}"));
        let why = expect_failure(&mut dial);
        assert_eq!(
            why.to_string(),
            format!("proxy 127.0.0.1:{port} closed the connection before answering CONNECT")
        );
        drop(dial);
        proxy.join().expect("proxy thread");
    }
}

#[test]
fn an_unreachable_proxy_is_named_as_such() {
    let gone = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = gone.local_addr().expect("addr").port();
    drop(gone);
    let mut dial = dial(&format!("http://127.0.0.1:{port}"));
    let why = expect_failure(&mut dial);
    assert!(matches!(&why, ProxyFailure::Tcp(tcp) if tcp.port == port), "{why:?}");
    let text = ConnectFailure::Proxy(why).to_string();
    assert!(
        text.starts_with(&format!(
            "proxy 127.0.0.1:{port} unreachable: TCP connect to 127.0.0.1:{port} failed"
        )),
        "{text}"
    );
}

#[test]
fn head_end_finds_the_blank_line_across_pieces() {
    assert_eq!(head_end(b"", b"HTTP/1.1 200 OK\r\n\r\nrest"), Some(19));
    assert_eq!(head_end(b"HTTP/1.1 200 OK\r\n", b"\r\nrest"), Some(2));
    assert_eq!(head_end(b"HTTP/1.1 200 OK\r\n\r", b"\nrest"), Some(1));
    assert_eq!(head_end(b"HTTP/1.1 200 OK\n", b"\nrest"), Some(1));
    assert_eq!(head_end(b"", b"HTTP/1.1 200 OK\r\nA: b\r\n"), None);
    assert_eq!(head_end(b"HTTP/1.1 200 OK\r", b"\n"), None);
    assert_eq!(head_end(b"", b""), None);
    assert_eq!(head_end(b"HTTP/1.1 200 OK\r\n", b"\r"), None);
    assert_eq!(head_end(b"HTTP/1.1 200 OK\r\nA: b", b"\r\n\r\n"), Some(4));
    assert_eq!(
        head_end(b"HTTP/1.1 200 OK\n\r", b"x\n\n"),
        Some(3),
        "a CR after a LF that is no blank line"
    );
}
