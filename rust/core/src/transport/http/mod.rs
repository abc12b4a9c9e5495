//! HTTP/1.1, client side, for the long-polling transport: requests written to bytes, responses read from bytes.
//! No socket here (sans-I/O): the transport moves the bytes.
//!
//! - [`write_request`]: a `GET` or `POST` with its target (path and query), `Host`, the caller's headers (checked:
//!   names are tokens, values hold no control character), `Content-Length` for a `POST`, `Connection: keep-alive`.
//! - [`ResponseReader`]: takes the bytes of a connection in pieces of any size ([`feed`](ResponseReader::feed)) and
//!   gives back whole [`Response`]s, one per [`poll`](ResponseReader::poll). The status line and headers go through
//!   httparse; the body is framed by `Content-Length`, by `Transfer-Encoding: chunked` (extensions and trailers
//!   read and dropped), or by the end of the connection ([`close`](ResponseReader::close)) when neither is given.
//!   Interim (1xx) responses are skipped. Bytes after a response stay for the next one (a keep-alive connection).
//!
//! Every size is capped ([`ReaderLimits`]); what is refused is an [`HttpError`], and a reader that refused once
//! refuses from then on (the connection's framing is lost).
//!
//! [`CookieJar`] ([`cookies`]) keeps the cookies the server sets and gives the `Cookie` header of each request.

use bytes::Bytes;

use crate::error::HttpError;

pub mod cookies;
#[cfg(test)]
mod tests;

pub use cookies::CookieJar;

/// Default cap on the status line and headers of a response, in bytes (also the cap on its chunked trailers).
pub const MAX_HEADER_BYTES: usize = 64 << 10;

/// Default cap on the number of header fields of a response.
pub const MAX_HEADERS: usize = 64;

/// Default cap on a chunk-size line (with its extensions) and on each trailer line, in bytes.
pub const MAX_CHUNK_LINE: usize = 1 << 10;

/// The request method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`: a poll. No body.
    Get,
    /// `POST`: packets sent. Written with its `Content-Length`.
    Post,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Headers [`write_request`] writes itself, refused among the caller's.
const RESERVED: [&str; 4] = ["host", "content-length", "transfer-encoding", "connection"];

/// Appends to `out` the request `method target HTTP/1.1`, with `Host: host`, then `headers` in order, then
/// `Content-Length` (for a `POST`, even empty) and `Connection: keep-alive`, then `body`.
///
/// Nothing is appended when it refuses: a target that does not start with `/` or holds a space, a control character
/// or a non-ASCII byte (percent-encode it); a `host` likewise; a header name that is not an HTTP token; a header
/// value with a control character other than tab (header injection); one of the headers it writes itself; a body
/// on a `GET`.
pub fn write_request(
    out: &mut Vec<u8>,
    method: Method,
    target: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<(), HttpError> {
    if !target.starts_with('/') || !target.bytes().all(is_visible_ascii) {
        return Err(HttpError::InvalidTarget(target.to_owned()));
    }
    if host.is_empty() || !host.bytes().all(is_visible_ascii) {
        return Err(HttpError::InvalidHost(host.to_owned()));
    }
    for &(name, value) in headers {
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(HttpError::InvalidHeaderName(name.to_owned()));
        }
        if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            return Err(HttpError::ReservedHeader(name.to_owned()));
        }
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(HttpError::InvalidHeaderValue { name: name.to_owned() });
        }
    }
    if method == Method::Get && !body.is_empty() {
        return Err(HttpError::BodyOnGet);
    }

    let line = |out: &mut Vec<u8>, parts: &[&[u8]]| {
        for part in parts {
            out.extend_from_slice(part);
        }
        out.extend_from_slice(b"\r\n");
    };
    line(
        out,
        &[method.as_str().as_bytes(), b" ", target.as_bytes(), b" HTTP/1.1"],
    );
    line(out, &[b"Host: ", host.as_bytes()]);
    for &(name, value) in headers {
        line(out, &[name.as_bytes(), b": ", value.as_bytes()]);
    }
    if method == Method::Post {
        let mut length = itoa::Buffer::new();
        line(out, &[b"Content-Length: ", length.format(body.len()).as_bytes()]);
    }
    line(out, &[b"Connection: keep-alive"]);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Ok(())
}

/// A printable ASCII byte other than space.
fn is_visible_ascii(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

/// A byte of an HTTP token (RFC 9110 §5.6.2).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A whole response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The reason phrase, e.g. `OK` (non-UTF-8 bytes replaced).
    pub reason: String,
    /// The header fields in order, names as sent (non-UTF-8 bytes of values replaced).
    pub headers: Vec<(String, String)>,
    /// The body, unchunked.
    pub body: Bytes,
    /// Whether the connection can carry another request: HTTP/1.1 without `Connection: close`, or HTTP/1.0 with
    /// `Connection: keep-alive`, and a body framed by its length or by chunks (not by the end of the connection),
    /// and not a `101 Switching Protocols` (returned as a response without a body).
    pub keep_alive: bool,
}

impl Response {
    /// The value of the first header field called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers_named(name).next()
    }

    /// The values of every header field called `name` (any case), in order.
    pub fn headers_named<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The values of the `Set-Cookie` fields, in order (each one cookie, never joined by commas).
    pub fn set_cookies(&self) -> impl Iterator<Item = &str> + '_ {
        self.headers_named("set-cookie")
    }
}

/// The caps of a [`ResponseReader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderLimits {
    /// Most bytes of a status line and headers, and of a chunked body's trailers ([`MAX_HEADER_BYTES`]).
    pub max_header_bytes: usize,
    /// Most header fields ([`MAX_HEADERS`]).
    pub max_headers: usize,
    /// Most bytes of a body.
    pub max_body_bytes: usize,
    /// Most bytes of a chunk-size line or of a trailer line ([`MAX_CHUNK_LINE`]).
    pub max_chunk_line: usize,
}

impl ReaderLimits {
    /// The default caps, with `max_body_bytes`.
    pub fn new(max_body_bytes: usize) -> Self {
        ReaderLimits {
            max_header_bytes: MAX_HEADER_BYTES,
            max_headers: MAX_HEADERS,
            max_body_bytes,
            max_chunk_line: MAX_CHUNK_LINE,
        }
    }
}

/// Reads the responses of one connection from its bytes, in pieces of any size. See the [module
/// documentation](self).
#[derive(Debug)]
pub struct ResponseReader {
    limits: ReaderLimits,
    /// Bytes fed and not yet consumed start at `buf[pos]`.
    buf: Vec<u8>,
    pos: usize,
    /// While looking for the end of a head: how far `buf[pos..]` was searched already.
    scanned: usize,
    state: State,
    /// The connection ended ([`ResponseReader::close`]).
    closed: bool,
}

#[derive(Debug)]
enum State {
    /// Waiting for a status line and headers.
    Head,
    /// Reading the body of `head`.
    Body {
        head: Head,
        body: Vec<u8>,
        framing: Framing,
    },
    /// Refused: the same error from now on.
    Failed(HttpError),
}

/// A response's status line and headers, parsed.
#[derive(Debug)]
struct Head {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    keep_alive: bool,
}

#[derive(Debug)]
enum Framing {
    /// `remaining` bytes to go.
    Length { remaining: u64 },
    /// Chunked.
    Chunked(Chunk),
    /// Until the connection ends.
    UntilClose,
}

#[derive(Debug, Clone, Copy)]
enum Chunk {
    /// Waiting for a chunk-size line.
    Size,
    /// `remaining` bytes of chunk data to go.
    Data { remaining: u64 },
    /// The CRLF after chunk data.
    DataEnd,
    /// Trailer lines, after the last chunk; `bytes` of them read so far.
    Trailers { bytes: usize },
}

impl ResponseReader {
    /// A reader with the default caps and a body cap of `max_body_bytes`.
    pub fn new(max_body_bytes: usize) -> Self {
        Self::with_limits(ReaderLimits::new(max_body_bytes))
    }

    /// A reader with these caps.
    pub fn with_limits(limits: ReaderLimits) -> Self {
        ResponseReader {
            limits,
            buf: Vec::new(),
            pos: 0,
            scanned: 0,
            state: State::Head,
            closed: false,
        }
    }

    /// Takes the next bytes of the connection (ignored after [`close`](Self::close) or a refusal).
    pub fn feed(&mut self, bytes: &[u8]) {
        if !self.closed && !matches!(self.state, State::Failed(_)) {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// The connection ended: a body framed by the end of the connection is whole, and anything else unfinished is
    /// [`HttpError::Truncated`] (reported by the next [`poll`](Self::poll)).
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// Whether nothing of a response is waiting: no byte fed and not yet read, and no body begun. A connection that
    /// ends now ends cleanly.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Head) && self.pos == self.buf.len()
    }

    /// The next whole response, skipping interim (1xx) ones; `None` until its last byte is fed. After a refusal,
    /// the same error again.
    pub fn poll(&mut self) -> Result<Option<Response>, HttpError> {
        let result = self.advance();
        self.settle(result)
    }

    /// After a read: drops what was consumed, so that the buffer holds only what is still to read, and after a
    /// refusal keeps refusing.
    fn settle(&mut self, result: Result<Option<Response>, HttpError>) -> Result<Option<Response>, HttpError> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        if let Err(e) = &result {
            self.state = State::Failed(e.clone());
            self.buf = Vec::new();
        }
        result
    }

    /// The next status line and headers only, skipping interim (1xx) ones, as a [`Response`] with no body and
    /// `keep_alive` false: for an answer that has no body whatever its headers say, or whose body is not wanted,
    /// such as the answer to a `CONNECT` (a 2xx makes the connection a tunnel right after the head; a refusal ends
    /// it). The bytes after the head stay unread; the reader is not meant to read more. `None` until the head is
    /// whole. After a refusal, the same error again.
    pub fn poll_head(&mut self) -> Result<Option<Response>, HttpError> {
        let result = loop {
            match &self.state {
                State::Failed(e) => break Err(e.clone()),
                State::Body { .. } => break Err(HttpError::Truncated),
                State::Head => {}
            }
            match self.read_head() {
                Ok(Some(head)) if (100..200).contains(&head.status) && head.status != 101 => continue,
                Ok(Some(head)) => {
                    break Ok(Some(Response {
                        status: head.status,
                        reason: head.reason,
                        headers: head.headers,
                        body: Bytes::new(),
                        keep_alive: false,
                    }))
                }
                Ok(None) if self.closed && self.pos < self.buf.len() => break Err(HttpError::Truncated),
                Ok(None) => break Ok(None),
                Err(e) => break Err(e),
            }
        };
        self.settle(result)
    }

    fn advance(&mut self) -> Result<Option<Response>, HttpError> {
        loop {
            match &mut self.state {
                State::Failed(e) => return Err(e.clone()),
                State::Head => {
                    let Some(head) = self.read_head()? else {
                        if self.closed && self.pos < self.buf.len() {
                            return Err(HttpError::Truncated);
                        }
                        return Ok(None);
                    };
                    if (100..200).contains(&head.status) && head.status != 101 {
                        continue; // interim: the final response follows
                    }
                    let framing = framing(&head, self.limits.max_body_bytes)?;
                    // After a 101 the connection speaks another protocol.
                    let keep_alive = head.keep_alive && head.status != 101 && !matches!(framing, Framing::UntilClose);
                    self.state = State::Body {
                        head: Head { keep_alive, ..head },
                        body: Vec::new(),
                        framing,
                    };
                }
                State::Body { body, framing, .. } => {
                    let done = match framing {
                        Framing::Length { remaining } => {
                            let take = take(&self.buf[self.pos..], *remaining);
                            body.extend_from_slice(&self.buf[self.pos..self.pos + take]);
                            self.pos += take;
                            *remaining -= take as u64;
                            *remaining == 0
                        }
                        Framing::UntilClose => {
                            let rest = &self.buf[self.pos..];
                            if body.len().saturating_add(rest.len()) > self.limits.max_body_bytes {
                                return Err(HttpError::BodyTooLarge {
                                    size: (body.len() + rest.len()) as u64,
                                    max: self.limits.max_body_bytes,
                                });
                            }
                            body.extend_from_slice(rest);
                            self.pos = self.buf.len();
                            self.closed
                        }
                        Framing::Chunked(chunk) => read_chunks(&self.buf, &mut self.pos, chunk, body, &self.limits)?,
                    };
                    if !done {
                        if self.closed {
                            return Err(HttpError::Truncated);
                        }
                        return Ok(None);
                    }
                    let State::Body { head, body, .. } = std::mem::replace(&mut self.state, State::Head) else {
                        unreachable!("matched above");
                    };
                    return Ok(Some(Response {
                        status: head.status,
                        reason: head.reason,
                        headers: head.headers,
                        body: Bytes::from(body),
                        keep_alive: head.keep_alive,
                    }));
                }
            }
        }
    }

    /// The next status line and headers, consumed, once the blank line that ends them is fed.
    fn read_head(&mut self) -> Result<Option<Head>, HttpError> {
        let rest = &self.buf[self.pos..];
        let max = self.limits.max_header_bytes;
        // Look for the blank line (CRLF CRLF, or bare LFs, which httparse also takes) before parsing, so that a head
        // fed byte by byte is parsed once, not once per byte.
        let from = self.scanned.saturating_sub(2);
        let end = rest[from..]
            .windows(2)
            .position(|w| w == b"\n\n" || w == b"\n\r")
            .map(|i| from + i);
        let Some(end) = end else {
            self.scanned = rest.len();
            if rest.len() > max {
                return Err(HttpError::HeaderTooLarge { max });
            }
            return Ok(None);
        };
        if end + 2 > max {
            return Err(HttpError::HeaderTooLarge { max });
        }
        let mut headers = vec![httparse::EMPTY_HEADER; self.limits.max_headers];
        let mut response = httparse::Response::new(&mut headers);
        let len = match response.parse(rest) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                // A `\n\r` that does not end the head: keep waiting.
                self.scanned = rest.len();
                if rest.len() > max {
                    return Err(HttpError::HeaderTooLarge { max });
                }
                return Ok(None);
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Err(HttpError::TooManyHeaders {
                    max: self.limits.max_headers,
                })
            }
            Err(e) => return Err(HttpError::MalformedHead(e.to_string())),
        };
        if len > max {
            return Err(HttpError::HeaderTooLarge { max });
        }
        let status = response.code.unwrap_or(0);
        let reason = response.reason.unwrap_or("").to_owned();
        let version = response.version.unwrap_or(1);
        let headers: Vec<(String, String)> = response
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
            .collect();
        let connection = |token: &str| {
            headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
                .flat_map(|(_, v)| v.split(','))
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        let keep_alive = if version == 0 {
            connection("keep-alive")
        } else {
            !connection("close")
        };
        self.pos += len;
        self.scanned = 0;
        Ok(Some(Head {
            status,
            reason,
            headers,
            keep_alive,
        }))
    }
}

/// How many of `available` bytes a body with `remaining` bytes to go takes.
fn take(available: &[u8], remaining: u64) -> usize {
    usize::try_from(remaining).map_or(available.len(), |r| r.min(available.len()))
}

/// How the body of `head` is framed, checked against the body cap.
fn framing(head: &Head, max_body: usize) -> Result<Framing, HttpError> {
    // No body, whatever the headers say (RFC 9112 §6.3).
    if matches!(head.status, 101 | 204 | 304) {
        return Ok(Framing::Length { remaining: 0 });
    }
    let named = |name: &'static str| {
        head.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let mut length: Option<u64> = None;
    for value in named("content-length") {
        // `Content-Length: 5, 5` is one length said twice.
        for part in value.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HttpError::InvalidContentLength(value.to_owned()));
            }
            let n: u64 = part
                .parse()
                .map_err(|_| HttpError::InvalidContentLength(value.to_owned()))?;
            if length.is_some_and(|l| l != n) {
                return Err(HttpError::ConflictingContentLength);
            }
            length = Some(n);
        }
    }
    let encodings: Vec<&str> = named("transfer-encoding").collect();
    if !encodings.is_empty() {
        if length.is_some() {
            return Err(HttpError::ContentLengthWithTransferEncoding);
        }
        let codings: Vec<&str> = encodings.iter().flat_map(|v| v.split(',')).map(str::trim).collect();
        if codings.len() != 1 || !codings[0].eq_ignore_ascii_case("chunked") {
            return Err(HttpError::UnsupportedTransferEncoding(encodings.join(", ")));
        }
        return Ok(Framing::Chunked(Chunk::Size));
    }
    match length {
        Some(n) if n > max_body as u64 => Err(HttpError::BodyTooLarge { size: n, max: max_body }),
        Some(n) => Ok(Framing::Length { remaining: n }),
        None => Ok(Framing::UntilClose),
    }
}

/// Reads chunks from `buf[*pos..]` into `body`; `true` once the last chunk and the trailers are read.
fn read_chunks(
    buf: &[u8],
    pos: &mut usize,
    chunk: &mut Chunk,
    body: &mut Vec<u8>,
    limits: &ReaderLimits,
) -> Result<bool, HttpError> {
    loop {
        let rest = &buf[*pos..];
        match *chunk {
            Chunk::Size => {
                let Some((line, len)) = line(rest, limits.max_chunk_line)? else {
                    return Ok(false);
                };
                let size = chunk_size(line)?;
                let total = (body.len() as u64).saturating_add(size);
                if total > limits.max_body_bytes as u64 {
                    return Err(HttpError::BodyTooLarge {
                        size: total,
                        max: limits.max_body_bytes,
                    });
                }
                *pos += len;
                *chunk = if size == 0 {
                    Chunk::Trailers { bytes: 0 }
                } else {
                    Chunk::Data { remaining: size }
                };
            }
            Chunk::Data { remaining } => {
                let n = take(rest, remaining);
                body.extend_from_slice(&rest[..n]);
                *pos += n;
                if n as u64 == remaining {
                    *chunk = Chunk::DataEnd;
                } else {
                    *chunk = Chunk::Data {
                        remaining: remaining - n as u64,
                    };
                    return Ok(false);
                }
            }
            Chunk::DataEnd => match rest {
                [b'\r', b'\n', ..] => {
                    *pos += 2;
                    *chunk = Chunk::Size;
                }
                [b'\n', ..] => {
                    *pos += 1;
                    *chunk = Chunk::Size;
                }
                [] | [b'\r'] => return Ok(false),
                _ => return Err(HttpError::MissingChunkEnd),
            },
            Chunk::Trailers { bytes } => {
                let Some((line, len)) = line(rest, limits.max_chunk_line)? else {
                    return Ok(false);
                };
                let bytes = bytes + len;
                if bytes > limits.max_header_bytes {
                    return Err(HttpError::HeaderTooLarge {
                        max: limits.max_header_bytes,
                    });
                }
                *pos += len;
                if line.is_empty() {
                    return Ok(true);
                }
                *chunk = Chunk::Trailers { bytes };
            }
        }
    }
}

/// The line at the start of `rest` without its CRLF (or bare LF), and its length with it; `None` until it is whole.
fn line(rest: &[u8], max: usize) -> Result<Option<(&[u8], usize)>, HttpError> {
    // The line itself (without CR LF) may have `max` bytes.
    let window = max.saturating_add(2);
    match rest.iter().take(window).position(|&b| b == b'\n') {
        Some(lf) => {
            let line = &rest[..lf];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.len() > max {
                return Err(HttpError::ChunkLineTooLong { max });
            }
            Ok(Some((line, lf + 1)))
        }
        None if rest.len() >= window => Err(HttpError::ChunkLineTooLong { max }),
        None => Ok(None),
    }
}

/// The size of a chunk-size line: hexadecimal digits, then optional whitespace and `;` extensions (ignored).
fn chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(HttpError::InvalidChunkSize);
    }
    let after = &line[digits..];
    let after = after.trim_ascii_start();
    if !after.is_empty() && after[0] != b';' {
        return Err(HttpError::InvalidChunkSize);
    }
    let mut size: u64 = 0;
    for &b in &line[..digits] {
        let digit = u64::from(char::from(b).to_digit(16).unwrap_or(0));
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(digit))
            .ok_or(HttpError::InvalidChunkSize)?;
    }
    Ok(size)
}
