//! One keep-alive HTTP/1.1 connection of the polling transport: [`Connection`] dials when it has to (and again after
//! a response that ends the connection), writes one request, and reads its response, all without blocking.
//!
//! # Idle connections the server closed
//!
//! Servers close keep-alive connections that stay idle (Node after 5 s, its `keepAliveTimeout`), and the `POST`
//! connection is idle whenever the game sends nothing. Before a request reuses a connection, a read checks that
//! the server has not closed it; and when a reused connection fails before any byte of the response came (the
//! server closed it while the request was on its way), the request is sent once more on a new connection, as
//! browsers and HTTP client libraries do.

use std::io::{self, Read, Write};
use std::time::Instant;

use crate::config::TlsConfig;
use crate::endpoint::{Endpoint, Proxy};
use crate::error::{ConnectFailure, HttpError, IoFailure, StreamError};
use crate::transport::dial::{Dial, Progress};
use crate::transport::http::{ReaderLimits, Response, ResponseReader};
use crate::transport::stream::Stream;

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

enum Socket {
    /// No connection (none yet, or the last one ended after its response).
    None,
    Dialing(Box<Dial>),
    Open(Box<Stream>),
}

/// Why a request got no response.
#[derive(Debug)]
pub(super) enum RequestError {
    /// The connection could not be opened.
    Connect(ConnectFailure),
    /// The socket failed, or the server closed it, before the whole response.
    Io(IoFailure),
    /// The response cannot be read.
    Http(HttpError),
}

impl RequestError {
    /// As the end of an open transport.
    pub(super) fn into_stream_error(self) -> crate::error::TransportEnd {
        use crate::error::TransportEnd;
        match self {
            RequestError::Connect(why) => TransportEnd::ConnectFailed(why),
            RequestError::Io(IoFailure::ClosedByServer) => TransportEnd::Closed,
            RequestError::Io(why) => TransportEnd::Error(StreamError::Protocol(format!("polling: {why}"))),
            RequestError::Http(why) => TransportEnd::Error(StreamError::Http(why)),
        }
    }
}

/// See the module documentation.
pub(super) struct Connection {
    socket: Socket,
    reader: ResponseReader,
    limits: ReaderLimits,
    /// The request being written, and how much of it the socket took.
    out: Vec<u8>,
    written: usize,
    /// A request was written (or is being written) and its response has not been read.
    busy: bool,
    /// A failure to report from the next poll.
    failed: Option<RequestError>,
    /// The request in flight, kept until its response begins, to send again on a new connection (see the module
    /// documentation); `None` when it went on a new connection.
    retry: Option<Vec<u8>>,
    /// Where to dial: the server, with its TLS settings, through the proxy when there is one.
    target: (Endpoint, TlsConfig, Option<Proxy>),
}

impl Connection {
    /// A connection to `endpoint` (through `proxy`) whose responses are read with `limits`; nothing is dialed
    /// before the first request.
    pub(super) fn new(limits: ReaderLimits, endpoint: &Endpoint, tls: &TlsConfig, proxy: Option<&Proxy>) -> Self {
        Connection {
            socket: Socket::None,
            reader: ResponseReader::with_limits(limits),
            limits,
            out: Vec::new(),
            written: 0,
            busy: false,
            failed: None,
            retry: None,
            target: (endpoint.clone(), tls.clone(), proxy.cloned()),
        }
    }

    /// Whether a request waits for its response.
    pub(super) fn is_busy(&self) -> bool {
        self.busy
    }

    /// Sends `request` (bytes from [`write_request`](crate::transport::http::write_request)), dialing first when
    /// there is no connection. The connection must not be busy.
    pub(super) fn start(&mut self, now: Instant, request: Vec<u8>) {
        debug_assert!(!self.busy, "one request at a time");
        if let Socket::Open(stream) = &mut self.socket {
            if !still_open(stream) {
                self.shut_down();
            }
        }
        self.retry = matches!(self.socket, Socket::Open(_)).then(|| request.clone());
        self.out = request;
        self.written = 0;
        self.busy = true;
        if matches!(self.socket, Socket::None) {
            self.dial(now);
        }
    }

    /// Dials a new connection for the request in `out`.
    fn dial(&mut self, now: Instant) {
        self.reader = ResponseReader::with_limits(self.limits);
        let (endpoint, tls, proxy) = &self.target;
        self.socket = match Dial::start(now, endpoint, tls, proxy.as_ref()) {
            Ok(dial) => Socket::Dialing(Box::new(dial)),
            // Reported by the next poll.
            Err(why) => {
                self.failed = Some(RequestError::Connect(why));
                Socket::None
            }
        };
    }

    /// Advances the request as far as it goes without blocking: the dial, the write, the read (until
    /// `read_deadline`). Returns its response once whole.
    pub(super) fn poll(
        &mut self,
        now: Instant,
        read_deadline: Option<Instant>,
    ) -> Result<Option<Response>, RequestError> {
        if let Some(why) = self.failed.take() {
            self.abandon();
            return Err(why);
        }
        if !self.busy {
            return Ok(None);
        }
        let mut outcome = self.advance(now, read_deadline);
        if outcome.is_err() && self.reader.is_idle() {
            if let Some(request) = self.retry.take() {
                // The server closed the reused connection before answering: once more, on a new one.
                self.shut_down();
                self.out = request;
                self.written = 0;
                self.dial(now);
                outcome = self.advance(now, read_deadline);
            }
        }
        if !self.reader.is_idle() {
            self.retry = None;
        }
        match outcome {
            Ok(Some(response)) => {
                self.busy = false;
                self.retry = None;
                if !response.keep_alive {
                    self.shut_down();
                }
                Ok(Some(response))
            }
            Ok(None) => Ok(None),
            Err(why) => {
                self.abandon();
                Err(why)
            }
        }
    }

    fn advance(&mut self, now: Instant, read_deadline: Option<Instant>) -> Result<Option<Response>, RequestError> {
        if let Socket::Dialing(dial) = &mut self.socket {
            match dial.poll(now) {
                Progress::Pending => return Ok(None),
                Progress::Failed(why) => return Err(RequestError::Connect(why)),
                Progress::Ready(stream) => self.socket = Socket::Open(Box::new(stream)),
            }
        }
        let Socket::Open(stream) = &mut self.socket else {
            return Err(RequestError::Io(IoFailure::ClosedByServer));
        };
        stream.read_until(read_deadline);
        while self.written < self.out.len() {
            match stream.write(&self.out[self.written..]) {
                Ok(0) => return Err(RequestError::Io(IoFailure::ClosedByServer)),
                Ok(n) => self.written += n,
                Err(e) if would_block(&e) => break,
                Err(e) => return Err(RequestError::Io(IoFailure::of(&e))),
            }
        }
        if self.written == self.out.len() && !self.out.is_empty() {
            let _ = stream.flush();
            self.out = Vec::new();
            self.written = 0;
        }
        // The response may come before the whole request is written (a server refusing it early).
        let mut chunk = [0u8; READ_CHUNK];
        loop {
            if let Some(response) = self.reader.poll().map_err(RequestError::Http)? {
                return Ok(Some(response));
            }
            match stream.read(&mut chunk) {
                Ok(0) => {
                    self.reader.close();
                    return match self.reader.poll().map_err(RequestError::Http)? {
                        Some(response) => Ok(Some(response)),
                        None => Err(RequestError::Io(IoFailure::ClosedByServer)),
                    };
                }
                Ok(n) => self.reader.feed(&chunk[..n]),
                Err(e) if would_block(&e) => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.reader.close();
                    return match self.reader.poll().map_err(RequestError::Http)? {
                        Some(response) => Ok(Some(response)),
                        None => Err(RequestError::Io(IoFailure::ClosedByServer)),
                    };
                }
                Err(e) => return Err(RequestError::Io(IoFailure::of(&e))),
            }
        }
    }

    /// Drops the connection and the request in flight.
    pub(super) fn abandon(&mut self) {
        self.busy = false;
        self.retry = None;
        self.out = Vec::new();
        self.written = 0;
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Socket::Open(stream) = &mut self.socket {
            stream.shut_down();
        }
        self.socket = Socket::None;
    }
}

/// Whether an idle keep-alive connection can take another request: the server has not closed it (nor sent anything,
/// which would be out of turn).
fn still_open(stream: &mut Stream) -> bool {
    stream.read_until(None);
    let mut byte = [0u8; 1];
    matches!(stream.read(&mut byte), Err(e) if would_block(&e))
}

fn would_block(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}
