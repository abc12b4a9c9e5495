//! The words of transport ends and connect failures: each typed cause reads as the text the client always gave
//! (the Godot suites and users' logs match these texts).

use std::io;

use socketio_core::error::{
    CertificateRefusal, ConnectFailure, DnsFailure, HttpError, IoFailure, ProxyFailure, StreamError, TcpFailure,
    TlsFailure, TlsSettingsError, TransportEnd, UpgradeFailure, UrlError,
};

fn refused() -> IoFailure {
    IoFailure::of(&io::Error::from(io::ErrorKind::ConnectionRefused))
}

#[test]
fn connect_failures_read_as_step_then_cause() {
    let cases: Vec<(ConnectFailure, &str)> =
        vec![
        (ConnectFailure::NoUrl, "no URL to connect to"),
        (
            ConnectFailure::Dns(DnsFailure::NoAddress { host: "a.example".into() }),
            "DNS lookup of a.example found no address",
        ),
        (
            ConnectFailure::Dns(DnsFailure::Lookup {
                host: "nonexistent.invalid".into(),
                message: "failed to lookup address information".into(),
            }),
            "DNS lookup of nonexistent.invalid failed: failed to lookup address information",
        ),
        (
            ConnectFailure::Tcp(TcpFailure {
                host: "127.0.0.1".into(),
                port: 9,
                attempts: vec![("127.0.0.1:9".parse().unwrap(), refused())],
            }),
            "TCP connect to 127.0.0.1:9 failed: connection refused",
        ),
        (
            ConnectFailure::Tcp(TcpFailure {
                host: "localhost".into(),
                port: 9,
                attempts: vec![("[::1]:9".parse().unwrap(), IoFailure::TimedOut)],
            }),
            "TCP connect to localhost:9 ([::1]:9) failed: timed out",
        ),
        (
            ConnectFailure::Tcp(TcpFailure {
                host: "localhost".into(),
                port: 9,
                attempts: vec![
                    ("[::1]:9".parse().unwrap(), refused()),
                    ("127.0.0.1:9".parse().unwrap(), IoFailure::TimedOut),
                ],
            }),
            "TCP connect to localhost:9 failed: [::1]:9: connection refused; 127.0.0.1:9: timed out",
        ),
        (
            ConnectFailure::Tls(TlsFailure::Certificate(CertificateRefusal::NameMismatch {
                expected: "127.0.0.1".into(),
                presented: vec![],
            })),
            "TLS handshake failed: the server's certificate is for no name, not for 127.0.0.1 (name mismatch)",
        ),
        (
            ConnectFailure::Tls(TlsFailure::Certificate(CertificateRefusal::NotValidYet {
                not_before: 951_782_400,
            })),
            "TLS handshake failed: the server's certificate is not valid yet: it is valid from 2000-02-29 00:00:00 UTC",
        ),
        (
            ConnectFailure::Tls(TlsFailure::Io(IoFailure::ClosedByServer)),
            "TLS handshake failed: the server closed the connection",
        ),
        (
            ConnectFailure::TlsSettings(TlsSettingsError::NoCertificate),
            "custom CA certificates: no \"BEGIN CERTIFICATE\" block in the PEM",
        ),
        (
            ConnectFailure::Upgrade(UpgradeFailure::Status {
                status: 400,
                body: Some("{\"code\":0}".into()),
            }),
            "WebSocket upgrade failed: the server answered HTTP 400 Bad Request: {\"code\":0}",
        ),
        (
            ConnectFailure::Upgrade(UpgradeFailure::Status { status: 404, body: None }),
            "WebSocket upgrade failed: the server answered HTTP 404 Not Found",
        ),
        (
            ConnectFailure::Proxy(ProxyFailure::InvalidUrl(UrlError::Invalid(
                "proxy URL \"p:1\": write it as http://host:port".into(),
            ))),
            "invalid proxy_url: invalid URL: proxy URL \"p:1\": write it as http://host:port",
        ),
        (
            ConnectFailure::Proxy(ProxyFailure::Tcp(TcpFailure {
                host: "127.0.0.1".into(),
                port: 8888,
                attempts: vec![("127.0.0.1:8888".parse().unwrap(), refused())],
            })),
            "proxy 127.0.0.1:8888 unreachable: TCP connect to 127.0.0.1:8888 failed: connection refused",
        ),
        (
            ConnectFailure::Proxy(ProxyFailure::Dns {
                proxy: "proxy.example:3128".into(),
                why: DnsFailure::NoAddress {
                    host: "proxy.example".into(),
                },
            }),
            "proxy proxy.example:3128 unreachable: DNS lookup of proxy.example found no address",
        ),
        (
            ConnectFailure::Proxy(ProxyFailure::Refused {
                proxy: "127.0.0.1:8888".into(),
                target: "example.com:443".into(),
                status: 403,
                reason: "Forbidden".into(),
                sent_credentials: false,
            }),
            "proxy 127.0.0.1:8888 refused CONNECT to example.com:443: 403 Forbidden",
        ),
        (
            ConnectFailure::Proxy(ProxyFailure::Refused {
                proxy: "127.0.0.1:8888".into(),
                target: "example.com:443".into(),
                status: 407,
                reason: "Proxy Authentication Required".into(),
                sent_credentials: true,
            }),
            "proxy 127.0.0.1:8888 refused CONNECT to example.com:443: 407 Proxy Authentication Required (the \
             credentials in proxy_url were refused)",
        ),
        (
            ConnectFailure::Proxy(ProxyFailure::Closed {
                proxy: "127.0.0.1:8888".into(),
            }),
            "proxy 127.0.0.1:8888 closed the connection before answering CONNECT",
        ),
        (
            ConnectFailure::Proxy(ProxyFailure::Io {
                proxy: "127.0.0.1:8888".into(),
                why: IoFailure::ClosedByServer,
            }),
            "proxy 127.0.0.1:8888: CONNECT failed: the server closed the connection",
        ),
        (
            ConnectFailure::Proxy(ProxyFailure::Malformed {
                proxy: "127.0.0.1:8888".into(),
                why: HttpError::HeaderTooLarge { max: 16384 },
            }),
            "proxy 127.0.0.1:8888 sent a bad answer to CONNECT: HTTP response header block over 16384 bytes",
        ),
    ];
    for (failure, text) in cases {
        assert_eq!(failure.to_string(), text);
    }
}

#[test]
fn transport_ends_keep_their_words() {
    let end = TransportEnd::ConnectFailed(ConnectFailure::NoUrl);
    assert_eq!(end.to_string(), "connection failed: no URL to connect to");
    assert_eq!(TransportEnd::Closed.to_string(), "connection closed by the server");
    let end = TransportEnd::Error(StreamError::QueueFull { limit: 10 });
    assert_eq!(
        end.to_string(),
        "connection error: send buffer full: more than 10 bytes queued before the connection opened"
    );
    let reset = StreamError::io(&io::Error::from(io::ErrorKind::ConnectionReset));
    assert_eq!(reset.to_string(), "I/O error: connection reset");
    let end = TransportEnd::MessageTooLarge { size: 10, max: 5 };
    assert_eq!(
        end.to_string(),
        "the server sent a message of 10 bytes, larger than max_message_size (5 bytes)"
    );
}

#[test]
fn io_failures_are_sorted_by_meaning() {
    let of = |kind: io::ErrorKind| IoFailure::of(&io::Error::from(kind));
    assert_eq!(of(io::ErrorKind::WouldBlock), IoFailure::TimedOut);
    assert_eq!(of(io::ErrorKind::TimedOut), IoFailure::TimedOut);
    assert_eq!(of(io::ErrorKind::UnexpectedEof), IoFailure::ClosedByServer);
    assert!(matches!(of(io::ErrorKind::ConnectionRefused), IoFailure::Refused(_)));
    assert!(matches!(of(io::ErrorKind::HostUnreachable), IoFailure::Unreachable(_)));
    assert!(matches!(
        of(io::ErrorKind::NetworkUnreachable),
        IoFailure::Unreachable(_)
    ));
    let other = of(io::ErrorKind::PermissionDenied);
    assert_eq!(other.to_string(), "permission denied");
    assert!(matches!(
        other,
        IoFailure::Other {
            kind: io::ErrorKind::PermissionDenied,
            ..
        }
    ));
}
