//! The WebSocket transport: [`WebSocketTransport`], tungstenite over a non-blocking `Stream` (`crate::transport::stream`).
//!
//! # Design: nothing waits
//!
//! Opening a connection takes four steps that can each wait for seconds: the DNS lookup, the TCP connect, the
//! TLS handshake and the WebSocket upgrade. None of them may block the caller, which is a game's main loop.
//! [`WebSocketTransport::connect`] hands them to an `Opening` (the `connect` module: a dial, then the upgrade),
//! which [`poll`](WebSocketTransport::poll) advances as far as each can go without waiting (a host name is
//! resolved on a short-lived thread, since std has no non-blocking DNS). Once open, all I/O happens in `poll` /
//! [`send`](WebSocketTransport::send) / [`flush`](WebSocketTransport::flush) on the caller's thread, on a
//! non-blocking socket: no thread, lock or channel on the data path.
//!
//! - `connect` returns at once; `close` or drop abandons the attempt and closes the socket.
//! - A read or write that would block returns `WouldBlock`; unwritten bytes stay in tungstenite's write buffer
//!   until the next `poll`, `send` or `flush`.
//! - A step that never completes is ended by the session's connect timeout (see `crate::transport::dial`).
//!
//! # TLS
//!
//! rustls with the *ring* provider, installed per connection (the process-wide default provider is neither
//! read nor set). What is trusted, and how, is `crate::transport::tls`'s: Godot's own verdicts for the same
//! `TLSOptions`. [`TlsConfig::server_name`](crate::TlsConfig::server_name) replaces the URL's host for SNI and
//! certificate verification; the `Host` header keeps the URL's host.
//!
//! # Limits
//!
//! Incoming messages (and frames) larger than `max_message_bytes` end the connection with
//! [`TransportEnd::MessageTooLarge`], detected from the frame header before the payload is buffered.
//! Outgoing bytes the kernel has not accepted yet are capped at twice `max_message_bytes` or twice
//! [`MIN_WRITE_BUFFER_LIMIT`], whichever is larger: past that the server is not reading, and the transport closes with
//! [`TransportEnd::Error`] rather than grow without bound.

mod connect;

use std::fmt;
use std::io;
use std::time::Instant;

use tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

use crate::codec::raw::RawPacket;
use crate::config::{ClientConfig, TlsConfig, TransportKind};
use crate::endpoint::{Endpoint, Proxy};
use crate::error::{ConnectFailure, ProxyFailure, StreamError, TransportEnd};
use crate::transport::dial::Progress;
use crate::transport::stream::Stream;
use crate::transport::{Connector, Transport, TransportEvent, READ_TIME_PER_POLL};
use connect::Opening;

/// Bytes asked of the socket per read. tungstenite zero-fills this much before every read, so an idle `poll`
/// costs a memset of it: 128 KiB (its default) made an idle poll ~6 µs; 8 KiB keeps it well under 1 µs while
/// large messages still arrive in few reads.
pub const READ_CHUNK: usize = 8 * 1024;

/// Outgoing bytes waiting for the kernel are capped at twice this, or twice `max_message_bytes` if larger.
pub const MIN_WRITE_BUFFER_LIMIT: usize = 16 << 20;

enum State {
    /// Being opened.
    Connecting(Box<Opening>),
    /// Open (or failed, with the failure not reported yet).
    Open(Box<WebSocket<Stream>>),
    /// Failed before a socket existed; reported by the next `poll`.
    Failed(TransportEnd),
    /// Over: the close was reported, or the transport was closed by us.
    Done,
}

/// Opens [`WebSocketTransport`]s, with the TLS settings, the proxy and the message cap of the client's config.
#[derive(Debug, Default, Clone, Copy)]
pub struct WebSocketConnector;

impl Connector for WebSocketConnector {
    type Transport = WebSocketTransport;

    fn connect(&mut self, now: Instant, endpoint: &Endpoint, config: &ClientConfig) -> WebSocketTransport {
        WebSocketTransport::open(now, endpoint, endpoint.ws_url(), config, &config.extra_headers)
    }
}

/// A WebSocket client connection that never blocks its caller. See the [module documentation](self).
pub struct WebSocketTransport {
    state: State,
    /// Messages sent before the connection opened, written once it does.
    queued: Vec<Message>,
    queued_bytes: usize,
    /// The read deadline of the current client poll, once [`limit_reads`](Transport::limit_reads) was called.
    read_deadline: Option<Instant>,
    /// A send or flush failure, reported by the next `poll`.
    error: Option<TransportEnd>,
    write_limit: usize,
    /// The socket did not take everything at the last write: bytes wait in the write buffer.
    backlogged: bool,
}

impl WebSocketTransport {
    /// Starts connecting to `endpoint` and returns at once; [`poll`](Transport::poll) reports
    /// [`TransportEvent::Connected`] or [`TransportEnd::ConnectFailed`]. `tls` only matters for `wss://`.
    /// Incoming messages larger than `max_message_bytes` close the connection.
    pub fn connect(now: Instant, endpoint: &Endpoint, tls: &TlsConfig, max_message_bytes: usize) -> WebSocketTransport {
        Self::start(now, endpoint, endpoint.ws_url(), tls, Ok(None), max_message_bytes, &[])
    }

    /// [`connect`](Self::connect) through the HTTP `proxy` (a `CONNECT` tunnel).
    pub fn connect_through(
        now: Instant,
        endpoint: &Endpoint,
        tls: &TlsConfig,
        proxy: &Proxy,
        max_message_bytes: usize,
    ) -> WebSocketTransport {
        Self::start(
            now,
            endpoint,
            endpoint.ws_url(),
            tls,
            Ok(Some(proxy)),
            max_message_bytes,
            &[],
        )
    }

    /// Starts connecting to `url` (the endpoint's WebSocket URL, or the upgrade's with a `sid`) with the settings of
    /// `config` (TLS, message cap, `proxy_url`) and `headers` added to the upgrade request, and returns at once. An
    /// invalid `proxy_url` is reported by the first `poll`.
    pub fn open(
        now: Instant,
        endpoint: &Endpoint,
        url: &str,
        config: &ClientConfig,
        headers: &[(String, String)],
    ) -> WebSocketTransport {
        let proxy = config.proxy_url.as_deref().map(Proxy::parse).transpose();
        let proxy = proxy.map_err(|e| ConnectFailure::Proxy(ProxyFailure::InvalidUrl(e)));
        let max = config.limits.max_message_bytes;
        Self::start(
            now,
            endpoint,
            url,
            &config.tls,
            proxy.as_ref().map(Option::as_ref),
            max,
            headers,
        )
    }

    /// Starts connecting, through `proxy` when given; a `proxy` that is an error is reported by the first `poll`.
    fn start(
        now: Instant,
        endpoint: &Endpoint,
        url: &str,
        tls: &TlsConfig,
        proxy: Result<Option<&Proxy>, &ConnectFailure>,
        max_message_bytes: usize,
        headers: &[(String, String)],
    ) -> WebSocketTransport {
        let write_limit = max_message_bytes.max(MIN_WRITE_BUFFER_LIMIT).saturating_mul(2);
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(max_message_bytes))
            .max_frame_size(Some(max_message_bytes))
            .max_write_buffer_size(write_limit)
            .read_buffer_size(READ_CHUNK);

        let opening = proxy
            .map_err(Clone::clone)
            .and_then(|proxy| Opening::start(now, endpoint, url, tls, proxy, ws_config, headers));
        let state = match opening {
            Ok(opening) => State::Connecting(Box::new(opening)),
            Err(why) => State::Failed(TransportEnd::ConnectFailed(why)),
        };
        WebSocketTransport {
            state,
            queued: Vec::new(),
            queued_bytes: 0,
            read_deadline: None,
            error: None,
            write_limit,
            backlogged: false,
        }
    }

    /// Whether the WebSocket is open and has not failed.
    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Open(_)) && self.error.is_none()
    }

    fn write_message(&mut self, message: Message) {
        if self.error.is_some() {
            return;
        }
        if let State::Open(ws) = &mut self.state {
            match ws.write(message) {
                Ok(()) => {}
                // The frame is in the write buffer; the rest goes out later.
                Err(e) if is_would_block(&e) => self.backlogged = true,
                Err(e) => self.error = Some(classify(e)),
            }
        }
    }

    /// Ends the connection, best effort and without blocking: a close frame (code 1009 after an oversized
    /// message; no code when we close, as a browser's `ws.close()`; none after an error or the peer's close,
    /// which tungstenite answered already), TLS close_notify, then the socket is dropped.
    fn finish(&mut self, why: Option<&TransportEnd>) {
        match std::mem::replace(&mut self.state, State::Done) {
            // Dropping the connector closes its socket.
            State::Connecting(_) => self.queued.clear(),
            State::Open(mut ws) => {
                let close_frame = match why {
                    None => Some(None),
                    Some(TransportEnd::MessageTooLarge { .. }) => Some(Some(CloseFrame {
                        code: CloseCode::Size,
                        reason: "message too large".into(),
                    })),
                    // The peer's close was answered by tungstenite already; errors get no close frame.
                    Some(_) => None,
                };
                if let Some(frame) = close_frame {
                    if self.error.is_none() {
                        let _ = ws.close(frame);
                    }
                }
                let _ = ws.flush();
                ws.get_mut().shut_down();
            }
            State::Failed(_) | State::Done => {}
        }
    }
}

impl Transport for WebSocketTransport {
    type Connector = WebSocketConnector;

    /// The next event, or `None` when nothing is ready. Never blocks: call it until it returns `None`, every
    /// frame of the game loop. Also writes out what [`send`](Self::send) could not.
    fn poll(&mut self, now: Instant) -> Option<TransportEvent> {
        match &mut self.state {
            State::Done => None,
            State::Failed(_) => match std::mem::replace(&mut self.state, State::Done) {
                State::Failed(why) => Some(TransportEvent::Closed(why)),
                _ => None,
            },
            State::Connecting(opening) => match opening.poll(now) {
                Progress::Pending => None,
                Progress::Failed(why) => {
                    self.state = State::Done;
                    self.queued.clear();
                    Some(TransportEvent::Closed(TransportEnd::ConnectFailed(why)))
                }
                Progress::Ready(mut ws) => {
                    // The rest of this client poll reads within its budget, as any other.
                    ws.get_mut().read_until(self.read_deadline);
                    self.state = State::Open(ws);
                    self.queued_bytes = 0;
                    for message in std::mem::take(&mut self.queued) {
                        self.write_message(message);
                    }
                    self.flush();
                    Some(TransportEvent::Connected)
                }
            },
            State::Open(ws) => {
                if let Some(why) = self.error.take() {
                    self.finish(Some(&why));
                    return Some(TransportEvent::Closed(why));
                }
                match read_one(ws) {
                    ReadOutcome::RawPacket(frame) => Some(TransportEvent::RawPacket(frame)),
                    ReadOutcome::Idle => None,
                    ReadOutcome::Closed(why) => {
                        self.finish(Some(&why));
                        Some(TransportEvent::Closed(why))
                    }
                }
            }
        }
    }

    /// Queues `frame`; nothing is written until [`flush`](Self::flush) (or the next `poll`), so several frames
    /// leave in one write. A failure is reported by the next `poll`, as
    /// [`TransportEnd::Error`]. Frames sent while connecting are written once the connection opens; frames
    /// sent after the close are dropped.
    #[inline]
    fn send(&mut self, frame: RawPacket) {
        let message = match frame {
            RawPacket::Text(text) => Message::Text(text),
            RawPacket::Binary(bytes) => Message::Binary(bytes),
        };
        match &mut self.state {
            State::Connecting(_) => {
                self.queued_bytes = self.queued_bytes.saturating_add(message.len());
                if self.queued_bytes > self.write_limit {
                    self.error.get_or_insert(TransportEnd::Error(StreamError::QueueFull {
                        limit: self.write_limit,
                    }));
                } else {
                    self.queued.push(message);
                }
            }
            // Queued only: `flush` (called by the client at the end of each poll) writes everything queued
            // since, so the frames of one game frame leave in as few writes as the socket allows.
            State::Open(_) => self.write_message(message),
            State::Failed(_) | State::Done => {}
        }
    }

    /// Lets reads go on for [`READ_TIME_PER_POLL`] from now, and no longer; called once per client `poll`, before
    /// the calls to [`poll`](Self::poll) it makes.
    #[inline]
    fn limit_reads(&mut self) {
        let deadline = Instant::now() + READ_TIME_PER_POLL;
        self.read_deadline = Some(deadline);
        if let State::Open(ws) = &mut self.state {
            ws.get_mut().read_until(Some(deadline));
        }
    }

    /// Writes out buffered bytes, as far as the socket takes them without blocking.
    #[inline]
    fn flush(&mut self) {
        if self.error.is_some() {
            return;
        }
        if let State::Open(ws) = &mut self.state {
            match ws.flush() {
                Ok(()) => self.backlogged = false,
                Err(e) if is_would_block(&e) => self.backlogged = true,
                Err(e) => self.error = Some(classify(e)),
            }
        }
    }

    fn kind(&self) -> TransportKind {
        TransportKind::WebSocket
    }

    fn is_backlogged(&self) -> bool {
        self.backlogged
    }

    /// Closes the connection: a close frame is sent if the socket takes it at once, then the socket is closed.
    /// A connection attempt in progress is abandoned. Never blocks. No event follows.
    fn close(&mut self) {
        self.finish(None);
    }
}

impl Drop for WebSocketTransport {
    fn drop(&mut self) {
        self.finish(None);
    }
}

impl fmt::Debug for WebSocketTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Connecting(_) => "connecting",
            State::Open(_) => "open",
            State::Failed(_) => "failed",
            State::Done => "done",
        };
        f.debug_struct("WebSocketTransport")
            .field("state", &state)
            .field("error", &self.error)
            .finish()
    }
}

enum ReadOutcome {
    RawPacket(RawPacket),
    Idle,
    Closed(TransportEnd),
}

/// Reads until a data message, a stop, or nothing more to read (then flushes).
fn read_one(ws: &mut WebSocket<Stream>) -> ReadOutcome {
    loop {
        match ws.read() {
            // The text stays in the bytes it was read into: a large message is not copied.
            Ok(Message::Text(text)) => return ReadOutcome::RawPacket(RawPacket::Text(text)),
            Ok(Message::Binary(bytes)) => return ReadOutcome::RawPacket(RawPacket::Binary(bytes)),
            // Pongs to pings are queued by tungstenite and go out with the next write or flush.
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
            Ok(Message::Close(_)) => return ReadOutcome::Closed(TransportEnd::Closed),
            Err(e) if is_would_block(&e) => {
                return match ws.flush() {
                    Ok(()) => ReadOutcome::Idle,
                    Err(e) if is_would_block(&e) => ReadOutcome::Idle,
                    Err(e) => ReadOutcome::Closed(classify(e)),
                };
            }
            Err(e) => return ReadOutcome::Closed(classify(e)),
        }
    }
}

fn is_would_block(e: &WsError) -> bool {
    matches!(e, WsError::Io(io) if matches!(io.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted))
}

/// Maps a tungstenite error after the connection opened.
fn classify(e: WsError) -> TransportEnd {
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => TransportEnd::Closed,
        // End of stream without a close frame.
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => TransportEnd::Closed,
        // End of TCP stream without TLS close_notify: most servers just close the socket.
        WsError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => TransportEnd::Closed,
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
            TransportEnd::MessageTooLarge { size, max: max_size }
        }
        WsError::WriteBufferFull(_) => TransportEnd::Error(StreamError::WriteBufferFull),
        WsError::Io(io) => TransportEnd::Error(StreamError::io(&io)),
        other => TransportEnd::Error(StreamError::Protocol(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_can_move_between_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<WebSocketTransport>();
        assert_send::<TransportEvent>();
    }

    #[test]
    fn oversized_message_error_maps_to_message_too_large() {
        let e = WsError::Capacity(CapacityError::MessageTooLong { size: 10, max_size: 5 });
        assert_eq!(classify(e), TransportEnd::MessageTooLarge { size: 10, max: 5 });
    }
}
