//! Tunnelling through an HTTP proxy: [`Tunnel`], the `CONNECT` step of a [`Dial`](super::dial::Dial) made through
//! [`ClientConfig::proxy_url`](crate::ClientConfig::proxy_url).
//!
//! The dial connects TCP to the proxy instead of the server, then the tunnel sends
//!
//! ```text
//! CONNECT example.com:443 HTTP/1.1
//! Host: example.com:443
//! Proxy-Authorization: Basic dXNlcjpwYXNz      (when the proxy URL has credentials)
//! ```
//!
//! and reads the proxy's answer without blocking. On a 2xx the socket is a tunnel to the server, and the dial goes on
//! over it (the TLS handshake with the server itself for `wss://` and `https://`, SNI and certificate checked against
//! the server's name, never the proxy's). Any other answer is a [`ProxyFailure`].
//!
//! The answer's head is read exactly, never a byte further: the socket is peeked, and only the bytes up to the blank
//! line are taken from it, so that whatever follows in the tunnel is left for the TLS handshake or the transport. The
//! head is checked to start like an HTTP response as soon as it can be, and capped at [`MAX_HEAD_BYTES`]: a proxy
//! that says something else, or a head that never ends, fails at once rather than at the connect timeout. The head
//! itself is parsed by the HTTP codec ([`ResponseReader::poll_head`]).

use std::io::{self, Read, Write};
use std::net::TcpStream;

use crate::endpoint::{Endpoint, Proxy};
use crate::error::{HttpError, IoFailure, ProxyFailure};
use crate::transport::http::{ReaderLimits, ResponseReader, MAX_HEADERS};

/// Most bytes of the proxy's answer to `CONNECT` (its status line and headers, interim answers included).
pub const MAX_HEAD_BYTES: usize = 16 << 10;

/// Most characters of the reason phrase kept in [`ProxyFailure::Refused`].
const MAX_REASON_CHARS: usize = 200;

/// Bytes peeked at once from the socket.
const PEEK_BYTES: usize = 4096;

/// The `CONNECT` request and its answer, over a TCP connection to the proxy.
pub(crate) struct Tunnel {
    tcp: TcpStream,
    /// The request, and how much of it the socket took.
    request: Vec<u8>,
    written: usize,
    /// The bytes of the head being read, taken from the socket.
    head: Vec<u8>,
    /// The answer's bytes taken from the socket in all (interim heads included).
    taken: usize,
    reader: ResponseReader,
    /// `host:port` of the proxy, and of the server, for the errors.
    proxy: String,
    target: String,
    sent_credentials: bool,
}

impl Tunnel {
    /// Starts asking `proxy`, connected by `tcp` (non-blocking), for a tunnel to `endpoint`; nothing is sent before
    /// the first [`poll`](Self::poll).
    pub(crate) fn start(tcp: TcpStream, proxy: &Proxy, endpoint: &Endpoint) -> Tunnel {
        let target = format!("{}:{}", endpoint.host(), endpoint.port());
        Tunnel {
            tcp,
            request: connect_request(&target, proxy.authorization()),
            written: 0,
            head: Vec::new(),
            taken: 0,
            reader: ResponseReader::with_limits(ReaderLimits {
                max_header_bytes: MAX_HEAD_BYTES,
                max_headers: MAX_HEADERS,
                max_body_bytes: 0,
                max_chunk_line: 0,
            }),
            proxy: format!("{}:{}", proxy.host(), proxy.port()),
            target,
            sent_credentials: proxy.authorization().is_some(),
        }
    }

    /// Sends the request and reads the answer as far as the socket allows without waiting: `Ok(true)` once the
    /// proxy opened the tunnel ([`into_tcp`](Self::into_tcp) then gives the socket), `Ok(false)` to poll again later.
    pub(crate) fn poll(&mut self) -> Result<bool, ProxyFailure> {
        while self.written < self.request.len() {
            match self.tcp.write(&self.request[self.written..]) {
                Ok(0) => return Err(self.closed()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io(&e)),
            }
        }
        let mut buf = [0u8; PEEK_BYTES];
        // Each turn takes at least one byte, and at most MAX_HEAD_BYTES + 1 are taken in all.
        loop {
            let room = (MAX_HEAD_BYTES + 1 - self.taken).min(PEEK_BYTES);
            let peeked = match self.tcp.peek(&mut buf[..room]) {
                Ok(0) => return Err(self.closed()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io(&e)),
            };
            let end = head_end(&self.head, &buf[..peeked]);
            let want = end.unwrap_or(peeked);
            let got = match self.tcp.read(&mut buf[..want]) {
                Ok(0) => return Err(self.closed()),
                Ok(n) => n,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => continue,
                Err(e) => return Err(self.io(&e)),
            };
            self.head.extend_from_slice(&buf[..got]);
            self.taken += got;
            let start = &self.head[..self.head.len().min(5)];
            if !b"HTTP/".starts_with(start) {
                return Err(self.malformed(HttpError::MalformedHead(format!(
                    "the answer starts with {:?}, not HTTP/",
                    String::from_utf8_lossy(&self.head[..self.head.len().min(40)])
                ))));
            }
            if self.taken > MAX_HEAD_BYTES {
                return Err(self.malformed(HttpError::HeaderTooLarge { max: MAX_HEAD_BYTES }));
            }
            if end != Some(got) {
                continue;
            }
            self.reader.feed(&self.head);
            self.head.clear();
            match self.reader.poll_head() {
                // An interim answer (`100 Continue`), skipped: the final one follows.
                Ok(None) => {}
                Ok(Some(answer)) if (200..300).contains(&answer.status) => return Ok(true),
                Ok(Some(answer)) => {
                    return Err(ProxyFailure::Refused {
                        proxy: self.proxy.clone(),
                        target: self.target.clone(),
                        status: answer.status,
                        reason: answer.reason.chars().take(MAX_REASON_CHARS).collect(),
                        sent_credentials: self.sent_credentials,
                    })
                }
                Err(e) => return Err(self.malformed(e)),
            }
        }
    }

    /// The socket, a tunnel to the server once [`poll`](Self::poll) said so.
    pub(crate) fn into_tcp(self) -> TcpStream {
        self.tcp
    }

    fn closed(&self) -> ProxyFailure {
        ProxyFailure::Closed {
            proxy: self.proxy.clone(),
        }
    }

    fn io(&self, e: &io::Error) -> ProxyFailure {
        ProxyFailure::Io {
            proxy: self.proxy.clone(),
            why: IoFailure::of(e),
        }
    }

    fn malformed(&self, why: HttpError) -> ProxyFailure {
        ProxyFailure::Malformed {
            proxy: self.proxy.clone(),
            why,
        }
    }
}

/// `CONNECT target HTTP/1.1`, its `Host`, and `Proxy-Authorization` when given. `target` is an endpoint's
/// `host:port` and `authorization` is `Basic` and base64: neither can hold a line break.
fn connect_request(target: &str, authorization: Option<&str>) -> Vec<u8> {
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(authorization) = authorization {
        request.push_str("Proxy-Authorization: ");
        request.push_str(authorization);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.into_bytes()
}

/// Where in `new` the head ends (just after its blank line: CRLF CRLF, or bare LFs as httparse also takes them),
/// given the bytes `taken` of it before `new`.
fn head_end(taken: &[u8], new: &[u8]) -> Option<usize> {
    // A blank line begun in the last two bytes taken ends within the first two new ones.
    let carried = &taken[taken.len().saturating_sub(2)..];
    let mut edge = [0u8; 4];
    let (k, m) = (carried.len(), new.len().min(2));
    edge[..k].copy_from_slice(carried);
    edge[k..k + m].copy_from_slice(&new[..m]);
    match blank_line_end(&edge[..k + m]) {
        Some(end) if end > k => Some(end - k),
        _ => blank_line_end(new),
    }
}

/// The end of the first blank line in `bytes` (`\n\n` or `\n\r\n`), just after it.
fn blank_line_end(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = bytes[from..].iter().position(|&b| b == b'\n') {
        let lf = from + i;
        match bytes.get(lf + 1) {
            Some(b'\n') => return Some(lf + 2),
            Some(b'\r') if bytes.get(lf + 2) == Some(&b'\n') => return Some(lf + 3),
            _ => from = lf + 1,
        }
    }
    None
}

#[cfg(test)]
mod tests;
