//! How a transport ended ([`TransportEnd`]), and why a connection could not be opened ([`ConnectFailure`] and
//! the failure of each step: DNS, TCP, the proxy's tunnel, TLS, the upgrade), and what the HTTP codec of the long-polling transport
//! refuses ([`HttpError`]).

use std::fmt;
use std::io;
use std::net::SocketAddr;

use super::UrlError;

/// How a transport ended: it could not be opened, the server closed it, it failed, or the server sent a message
/// over the cap. A transport reports it once, as its last event
/// ([`TransportEvent::Closed`](crate::transport::TransportEvent::Closed)), and the session turns it into the
/// user's event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportEnd {
    /// The connection could not be opened: which step failed, and why.
    ConnectFailed(ConnectFailure),
    /// The server closed the connection: a close frame, or end of stream.
    Closed,
    /// An I/O or protocol error after the connection was open.
    Error(StreamError),
    /// The server sent a message larger than the cap.
    MessageTooLarge {
        /// Size of the message (or frame), as announced.
        size: usize,
        /// The cap in force (`max_message_bytes`).
        max: usize,
    },
}

impl fmt::Display for TransportEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportEnd::ConnectFailed(why) => write!(f, "connection failed: {why}"),
            TransportEnd::Closed => f.write_str("connection closed by the server"),
            TransportEnd::Error(why) => write!(f, "connection error: {why}"),
            TransportEnd::MessageTooLarge { size, max } => {
                write!(
                    f,
                    "the server sent a message of {size} bytes, larger than max_message_size ({max} bytes)"
                )
            }
        }
    }
}

impl std::error::Error for TransportEnd {}

/// Why an open connection failed ([`TransportEnd::Error`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamError {
    /// The socket failed: the error's kind, and the system's words for it.
    Io {
        /// What kind of error it is.
        kind: io::ErrorKind,
        /// The error as the system words it, e.g. `Connection reset by peer (os error 104)`.
        message: String,
    },
    /// The server does not read what we send (or the network is too slow): the bytes waiting for the kernel
    /// passed the write buffer's cap.
    WriteBufferFull,
    /// More than `limit` bytes were sent before the connection opened.
    QueueFull {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The server broke the WebSocket protocol (or sent text that is not UTF-8), in tungstenite's words.
    Protocol(String),
    /// A polling request got a response that cannot be read (see [`HttpError`]).
    Http(HttpError),
    /// A polling request was answered with an HTTP error (a 400 when the server no longer knows the session).
    HttpStatus {
        /// The status code.
        status: u16,
        /// The start of the body, decoded (trimmed, at most 200 characters), when it had one.
        body: Option<String>,
    },
    /// A polling response's body is not a payload of Engine.IO packets.
    Payload(String),
}

impl StreamError {
    /// An I/O error of the open connection.
    pub fn io(e: &io::Error) -> Self {
        StreamError::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Io { message, .. } => write!(f, "I/O error: {message}"),
            StreamError::WriteBufferFull => f.write_str(
                "write buffer full: the server is not reading what we send, or the network is too slow (unsent bytes \
                 are capped at twice max_message_size or twice 16 MiB, whichever is larger)",
            ),
            StreamError::QueueFull { limit } => write!(
                f,
                "send buffer full: more than {limit} bytes queued before the connection opened"
            ),
            StreamError::Protocol(why) => f.write_str(why),
            StreamError::Http(why) => write!(f, "polling: {why}"),
            StreamError::HttpStatus { status, body } => {
                write!(f, "polling request refused: ")?;
                write_status(f, *status, body.as_deref())
            }
            StreamError::Payload(why) => write!(f, "polling: {why}"),
        }
    }
}

impl std::error::Error for StreamError {}

/// Why a connection could not be opened ([`TransportEnd::ConnectFailed`]): the step that failed, and its cause.
/// The text says both, e.g. `TLS handshake failed: the server's certificate expired on 2020-01-02 00:00:00 UTC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The client has no URL to connect to.
    NoUrl,
    /// The TLS settings cannot be used (checked before anything is sent).
    TlsSettings(TlsSettingsError),
    /// The host name could not be resolved.
    Dns(DnsFailure),
    /// No address of the host took a TCP connection.
    Tcp(TcpFailure),
    /// The HTTP proxy (`proxy_url`) could not be reached, or did not open the tunnel (`CONNECT`).
    Proxy(ProxyFailure),
    /// The TLS handshake failed.
    Tls(TlsFailure),
    /// The server did not upgrade the connection to a WebSocket.
    Upgrade(UpgradeFailure),
    /// The Engine.IO handshake over HTTP long-polling failed.
    Polling(PollingFailure),
    /// The attempt had already ended when it was polled again.
    Ended,
}

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectFailure::NoUrl => f.write_str("no URL to connect to"),
            ConnectFailure::TlsSettings(why) => why.fmt(f),
            ConnectFailure::Dns(why) => why.fmt(f),
            ConnectFailure::Tcp(why) => why.fmt(f),
            ConnectFailure::Proxy(why) => why.fmt(f),
            ConnectFailure::Tls(why) => write!(f, "TLS handshake failed: {why}"),
            ConnectFailure::Upgrade(why) => write!(f, "WebSocket upgrade failed: {why}"),
            ConnectFailure::Polling(why) => write!(f, "polling handshake failed: {why}"),
            ConnectFailure::Ended => f.write_str("the connection attempt is over"),
        }
    }
}

impl std::error::Error for ConnectFailure {}

/// An I/O error of a connection step, by what it means to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IoFailure {
    /// No answer in time.
    TimedOut,
    /// The server closed the connection.
    ClosedByServer,
    /// Nothing takes connections at that address (or a firewall says so), in the system's words, e.g.
    /// `Connection refused (os error 111)`.
    Refused(String),
    /// No route to the host or to its network, in the system's words.
    Unreachable(String),
    /// Another error: its kind, and the system's words.
    Other {
        /// What kind of error it is.
        kind: io::ErrorKind,
        /// The error as the system words it.
        message: String,
    },
}

impl IoFailure {
    /// What `e` means for a connection step.
    pub fn of(e: &io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => IoFailure::TimedOut,
            io::ErrorKind::UnexpectedEof => IoFailure::ClosedByServer,
            io::ErrorKind::ConnectionRefused => IoFailure::Refused(e.to_string()),
            io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => IoFailure::Unreachable(e.to_string()),
            kind => IoFailure::Other {
                kind,
                message: e.to_string(),
            },
        }
    }
}

impl fmt::Display for IoFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IoFailure::TimedOut => f.write_str("timed out"),
            IoFailure::ClosedByServer => f.write_str("the server closed the connection"),
            IoFailure::Refused(message) | IoFailure::Unreachable(message) | IoFailure::Other { message, .. } => {
                f.write_str(message)
            }
        }
    }
}

/// Why the TLS settings cannot be used ([`ConnectFailure::TlsSettings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSettingsError {
    /// The name to verify (`TlsConfig::server_name`, or the URL's host) is not a valid DNS name or IP address.
    ServerName {
        /// The name.
        name: String,
        /// rustls's reason.
        why: String,
    },
    /// rustls refused its own set-up (no protocol version in common with the provider).
    Setup(String),
    /// The custom CA certificates are not valid PEM.
    InvalidPem(String),
    /// A custom CA certificate cannot be a trust anchor.
    UnusableCertificate {
        /// Its place in the PEM, from 1.
        index: usize,
        /// webpki's reason.
        why: String,
    },
    /// The custom CA PEM holds no certificate.
    NoCertificate,
}

impl fmt::Display for TlsSettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsSettingsError::ServerName { name, why } => write!(f, "invalid TLS server name {name:?}: {why}"),
            TlsSettingsError::Setup(why) => write!(f, "TLS setup failed: {why}"),
            TlsSettingsError::InvalidPem(why) => write!(f, "custom CA certificates: invalid PEM: {why}"),
            TlsSettingsError::UnusableCertificate { index, why } => {
                write!(f, "custom CA certificates: certificate {index} is not usable: {why}")
            }
            TlsSettingsError::NoCertificate => {
                f.write_str("custom CA certificates: no \"BEGIN CERTIFICATE\" block in the PEM")
            }
        }
    }
}

/// Why the host name could not be resolved ([`ConnectFailure::Dns`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsFailure {
    /// The resolver failed.
    Lookup {
        /// The name looked up.
        host: String,
        /// The resolver's words.
        message: String,
    },
    /// The name has no address.
    NoAddress {
        /// The name looked up.
        host: String,
    },
    /// The thread that asks the resolver could not be started.
    ThreadNotStarted(String),
    /// That thread ended without an answer.
    ThreadEnded,
}

impl fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DnsFailure::Lookup { host, message } => write!(f, "DNS lookup of {host} failed: {message}"),
            DnsFailure::NoAddress { host } => write!(f, "DNS lookup of {host} found no address"),
            DnsFailure::ThreadNotStarted(why) => write!(f, "could not start the DNS lookup thread: {why}"),
            DnsFailure::ThreadEnded => f.write_str("the DNS lookup thread ended"),
        }
    }
}

/// No address of the host took a TCP connection ([`ConnectFailure::Tcp`]): each one tried, and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpFailure {
    /// The host as the URL names it (an IPv6 address in brackets).
    pub host: String,
    /// The port.
    pub port: u16,
    /// Each address tried, in order, and why it failed.
    pub attempts: Vec<(SocketAddr, IoFailure)>,
}

impl fmt::Display for TcpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = format!("{}:{}", self.host, self.port);
        match self.attempts.as_slice() {
            [(addr, why)] if addr.to_string() == target => write!(f, "TCP connect to {target} failed: {why}"),
            [(addr, why)] => write!(f, "TCP connect to {target} ({addr}) failed: {why}"),
            all => {
                write!(f, "TCP connect to {target} failed: ")?;
                for (i, (addr, why)) in all.iter().enumerate() {
                    let separator = if i == 0 { "" } else { "; " };
                    write!(f, "{separator}{addr}: {why}")?;
                }
                Ok(())
            }
        }
    }
}

/// Why the HTTP proxy did not open a tunnel to the server ([`ConnectFailure::Proxy`]). `proxy` is the proxy's
/// `host:port`; `target` the server's, as the `CONNECT` request names it. The text says it was the proxy, e.g.
/// `proxy 127.0.0.1:8888 refused CONNECT to example.com:443: 403 Forbidden`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyFailure {
    /// `proxy_url` does not parse.
    InvalidUrl(UrlError),
    /// The proxy's host name could not be resolved.
    Dns {
        /// The proxy, `host:port`.
        proxy: String,
        /// Why.
        why: DnsFailure,
    },
    /// No address of the proxy took a TCP connection.
    Tcp(TcpFailure),
    /// The socket failed while the `CONNECT` request was sent or its answer read.
    Io {
        /// The proxy, `host:port`.
        proxy: String,
        /// Why.
        why: IoFailure,
    },
    /// The proxy closed the connection before the end of its answer's head.
    Closed {
        /// The proxy, `host:port`.
        proxy: String,
    },
    /// The proxy answered with a status other than 2xx.
    Refused {
        /// The proxy, `host:port`.
        proxy: String,
        /// The server, `host:port`.
        target: String,
        /// The status code, e.g. 407.
        status: u16,
        /// The reason phrase, e.g. `Proxy Authentication Required` (at most 200 characters).
        reason: String,
        /// Whether the request carried credentials (`Proxy-Authorization`).
        sent_credentials: bool,
    },
    /// The answer is not an HTTP response, or its head is malformed or larger than the cap.
    Malformed {
        /// The proxy, `host:port`.
        proxy: String,
        /// The HTTP codec's reason.
        why: HttpError,
    },
}

impl fmt::Display for ProxyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyFailure::InvalidUrl(why) => write!(f, "invalid proxy_url: {why}"),
            ProxyFailure::Dns { proxy, why } => write!(f, "proxy {proxy} unreachable: {why}"),
            ProxyFailure::Tcp(why) => write!(f, "proxy {}:{} unreachable: {why}", why.host, why.port),
            ProxyFailure::Io { proxy, why } => write!(f, "proxy {proxy}: CONNECT failed: {why}"),
            ProxyFailure::Closed { proxy } => {
                write!(f, "proxy {proxy} closed the connection before answering CONNECT")
            }
            ProxyFailure::Refused {
                proxy,
                target,
                status,
                reason,
                sent_credentials,
            } => {
                write!(f, "proxy {proxy} refused CONNECT to {target}: {status}")?;
                if !reason.is_empty() {
                    write!(f, " {reason}")?;
                }
                match (status, sent_credentials) {
                    (407, true) => f.write_str(" (the credentials in proxy_url were refused)"),
                    (407, false) => f.write_str(" (proxy_url has no credentials: http://user:pass@host:port)"),
                    _ => Ok(()),
                }
            }
            ProxyFailure::Malformed { proxy, why } => {
                write!(f, "proxy {proxy} sent a bad answer to CONNECT: {why}")
            }
        }
    }
}

/// Why the TLS handshake failed ([`ConnectFailure::Tls`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    /// The server's certificate was refused.
    Certificate(CertificateRefusal),
    /// Another TLS error, in rustls's words (e.g. the server does not speak TLS).
    Protocol(String),
    /// The socket failed, or the server closed it, during the handshake.
    Io(IoFailure),
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsFailure::Certificate(why) => write!(f, "the server's certificate {why}"),
            TlsFailure::Protocol(why) => f.write_str(why),
            TlsFailure::Io(why) => why.fmt(f),
        }
    }
}

/// Why the server's certificate was refused ([`TlsFailure::Certificate`]); the text follows "the server's
/// certificate".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateRefusal {
    /// It is neither trusted itself nor issued by a trusted certificate.
    UnknownIssuer,
    /// It is issued for other names.
    NameMismatch {
        /// The name asked for.
        expected: String,
        /// The names it holds.
        presented: Vec<String>,
    },
    /// It (or the trusted certificate it leads to) expired.
    Expired {
        /// The end of its validity, in seconds since the UNIX epoch.
        not_after: u64,
    },
    /// It (or the trusted certificate it leads to) is not valid yet.
    NotValidYet {
        /// The start of its validity, in seconds since the UNIX epoch.
        not_before: u64,
    },
    /// Its key usage or extended key usage does not allow a TLS server.
    NotForServers,
    /// Another refusal, in the verifier's words.
    Other(String),
}

impl fmt::Display for CertificateRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertificateRefusal::UnknownIssuer => {
                f.write_str("is not trusted: it is neither a trusted certificate nor issued by one (unknown issuer)")
            }
            CertificateRefusal::NameMismatch { expected, presented } => {
                let presented = if presented.is_empty() {
                    "no name".to_owned()
                } else {
                    presented.join(", ")
                };
                write!(f, "is for {presented}, not for {expected} (name mismatch)")
            }
            CertificateRefusal::Expired { not_after } => write!(f, "expired on {}", utc_date(*not_after)),
            CertificateRefusal::NotValidYet { not_before } => {
                write!(f, "is not valid yet: it is valid from {}", utc_date(*not_before))
            }
            CertificateRefusal::NotForServers => f.write_str("is not meant for a TLS server (key usage)"),
            CertificateRefusal::Other(why) => write!(f, "is refused: {why}"),
        }
    }
}

/// Why the server refused the WebSocket upgrade ([`ConnectFailure::Upgrade`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeFailure {
    /// The server answered with another HTTP status than 101.
    Status {
        /// The status code, e.g. 400.
        status: u16,
        /// The start of the answer's body (trimmed, at most 200 characters), when it had one.
        body: Option<String>,
    },
    /// The socket failed, or the server closed it, before the answer.
    Io(IoFailure),
    /// The answer's header is larger than 64 KiB.
    HeaderTooLarge,
    /// Another refusal (a wrong accept key, a malformed answer), in tungstenite's words.
    Protocol(String),
}

impl fmt::Display for UpgradeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpgradeFailure::Status { status, body } => {
                write_status(f, *status, body.as_deref())?;
                // engine.io's answer to a transport it does not offer.
                if body.as_deref().is_some_and(|b| b.contains("Transport unknown")) {
                    f.write_str(" (the server does not offer WebSocket: add \"polling\" to transports)")?;
                }
                Ok(())
            }
            UpgradeFailure::Io(why) => why.fmt(f),
            UpgradeFailure::HeaderTooLarge => f.write_str("the server's upgrade response header is larger than 64 KiB"),
            UpgradeFailure::Protocol(why) => f.write_str(why),
        }
    }
}

/// `the server answered HTTP 400 Bad Request: {"code":0,"message":"Transport unknown"}`.
fn write_status(f: &mut fmt::Formatter<'_>, status: u16, body: Option<&str>) -> fmt::Result {
    match tungstenite::http::StatusCode::from_u16(status) {
        Ok(code) => write!(f, "the server answered HTTP {code}")?,
        Err(_) => write!(f, "the server answered HTTP {status}")?,
    }
    if let Some(body) = body {
        write!(f, ": {body}")?;
    }
    Ok(())
}

/// The start of an error response's body, as a message shows it: trimmed, at most 200 characters, `None` when
/// empty.
pub(crate) fn body_excerpt(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(200).collect())
}

/// Why the Engine.IO handshake over HTTP long-polling failed ([`ConnectFailure::Polling`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollingFailure {
    /// The server answered the handshake request with an HTTP error.
    Status {
        /// The status code, e.g. 400.
        status: u16,
        /// The start of the body, decoded (trimmed, at most 200 characters), when it had one.
        body: Option<String>,
    },
    /// The response cannot be read.
    Http(HttpError),
    /// The socket failed, or the server closed it, before the answer.
    Io(IoFailure),
    /// The body is not an Engine.IO handshake (no OPEN packet first, or a payload that does not decode).
    Handshake(String),
}

impl fmt::Display for PollingFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PollingFailure::Status { status, body } => write_status(f, *status, body.as_deref()),
            PollingFailure::Http(why) => why.fmt(f),
            PollingFailure::Io(why) => why.fmt(f),
            PollingFailure::Handshake(why) => f.write_str(why),
        }
    }
}

/// What the HTTP/1.1 codec of the long-polling transport ([`transport::http`](crate::transport::http)) refuses:
/// a request it will not write, or a response it will not read. A refused response leaves the connection unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    /// A request header name is not an HTTP token (empty, or a byte outside `A-Z a-z 0-9 !#$%&'*+-.^_`|~`).
    InvalidHeaderName(String),
    /// A request header value holds a control character (CR, LF, NUL, …; a tab is allowed).
    InvalidHeaderValue {
        /// The header's name.
        name: String,
    },
    /// A request header the codec writes itself (`Host`, `Content-Length`, `Transfer-Encoding`, `Connection`).
    ReservedHeader(String),
    /// The request target does not start with `/`, or holds a space, a control character or a non-ASCII byte.
    InvalidTarget(String),
    /// The `Host` is empty, or holds a space, a control character or a non-ASCII byte.
    InvalidHost(String),
    /// A GET request with a body.
    BodyOnGet,
    /// The response's status line and headers (or its chunked trailers) are larger than the cap.
    HeaderTooLarge {
        /// The cap, in bytes.
        max: usize,
    },
    /// The response has more header fields than the cap.
    TooManyHeaders {
        /// The cap.
        max: usize,
    },
    /// The status line or a header line does not parse, in httparse's words (e.g. `invalid HTTP version`).
    MalformedHead(String),
    /// A `Content-Length` that is not a plain decimal number that fits in 64 bits (negative, empty, signed, …).
    InvalidContentLength(String),
    /// Several `Content-Length` values that differ.
    ConflictingContentLength,
    /// Both `Content-Length` and `Transfer-Encoding`: a sign of request smuggling, refused.
    ContentLengthWithTransferEncoding,
    /// A `Transfer-Encoding` other than `chunked` alone.
    UnsupportedTransferEncoding(String),
    /// The body is larger than the caller's cap (as announced, or as read so far).
    BodyTooLarge {
        /// The size announced (`Content-Length`), or the bytes read so far.
        size: u64,
        /// The cap, in bytes.
        max: usize,
    },
    /// A chunk-size line that is not hexadecimal digits (then optional extensions), or does not fit in 64 bits.
    InvalidChunkSize,
    /// A chunk-size line (or a trailer line) longer than the cap, without its end.
    ChunkLineTooLong {
        /// The cap, in bytes.
        max: usize,
    },
    /// Chunk data not followed by CRLF.
    MissingChunkEnd,
    /// The connection closed in the middle of a response.
    Truncated,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::InvalidHeaderName(name) => write!(f, "HTTP request header name {name:?} is not a token"),
            HttpError::InvalidHeaderValue { name } => {
                write!(
                    f,
                    "HTTP request header {name:?} has a control character (CR, LF, NUL, ...) in its value"
                )
            }
            HttpError::ReservedHeader(name) => {
                write!(
                    f,
                    "HTTP request header {name:?} is written by the client itself and cannot be set"
                )
            }
            HttpError::InvalidTarget(target) => write!(f, "invalid HTTP request target {target:?}"),
            HttpError::InvalidHost(host) => write!(f, "invalid HTTP Host {host:?}"),
            HttpError::BodyOnGet => f.write_str("an HTTP GET request cannot have a body"),
            HttpError::HeaderTooLarge { max } => write!(f, "HTTP response header block over {max} bytes"),
            HttpError::TooManyHeaders { max } => write!(f, "HTTP response with more than {max} header fields"),
            HttpError::MalformedHead(why) => write!(f, "malformed HTTP response head: {why}"),
            HttpError::InvalidContentLength(value) => write!(f, "invalid HTTP Content-Length {value:?}"),
            HttpError::ConflictingContentLength => f.write_str("HTTP response with conflicting Content-Length values"),
            HttpError::ContentLengthWithTransferEncoding => {
                f.write_str("HTTP response with both Content-Length and Transfer-Encoding")
            }
            HttpError::UnsupportedTransferEncoding(value) => {
                write!(f, "unsupported HTTP Transfer-Encoding {value:?} (only \"chunked\" is)")
            }
            HttpError::BodyTooLarge { size, max } => {
                write!(
                    f,
                    "HTTP response body of {size} bytes, larger than the cap ({max} bytes)"
                )
            }
            HttpError::InvalidChunkSize => f.write_str("invalid HTTP chunk size line"),
            HttpError::ChunkLineTooLong { max } => write!(f, "HTTP chunk size or trailer line over {max} bytes"),
            HttpError::MissingChunkEnd => f.write_str("HTTP chunk data not followed by CRLF"),
            HttpError::Truncated => f.write_str("the connection closed in the middle of an HTTP response"),
        }
    }
}

impl std::error::Error for HttpError {}

/// `2026-12-01 21:12:00 UTC` for a UNIX time.
pub(crate) fn utc_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}
