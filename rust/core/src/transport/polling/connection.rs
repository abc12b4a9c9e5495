//! One keep-alive HTTP/1.1 connection of the polling transport: [`Connection`] dials when it has to (and again after
//! a response that ends the connection), writes one request, and reads its response, all without blocking.

use std::io::{self, Read, Write};
use std::time::Instant;

use crate::config::TlsConfig;
use crate::endpoint::Endpoint;
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
}

impl Connection {
    /// A connection whose responses are read with `limits`; nothing is dialed before the first request.
    pub(super) fn new(limits: ReaderLimits) -> Self {
        Connection {
            socket: Socket::None,
            reader: ResponseReader::with_limits(limits),
            limits,
            out: Vec::new(),
            written: 0,
            busy: false,
            failed: None,
        }
    }

    /// Whether a request waits for its response.
    pub(super) fn is_busy(&self) -> bool {
        self.busy
    }

    /// Sends `request` (bytes from [`write_request`](crate::transport::http::write_request)), dialing first when
    /// there is no connection. The connection must not be busy.
    pub(super) fn start(&mut self, now: Instant, endpoint: &Endpoint, tls: &TlsConfig, request: Vec<u8>) {
        debug_assert!(!self.busy, "one request at a time");
        self.out = request;
        self.written = 0;
        self.busy = true;
        if matches!(self.socket, Socket::None) {
            self.reader = ResponseReader::with_limits(self.limits);
            self.socket = match Dial::start(now, endpoint, tls) {
                Ok(dial) => Socket::Dialing(Box::new(dial)),
                // Reported by the next poll.
                Err(why) => {
                    self.failed = Some(RequestError::Connect(why));
                    Socket::None
                }
            };
        }
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
        match self.advance(now, read_deadline) {
            Ok(Some(response)) => {
                self.busy = false;
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

fn would_block(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}
