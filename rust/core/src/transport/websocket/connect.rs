//! Opening a WebSocket connection without blocking the caller: [`Opening`], a [`Dial`] (DNS, TCP, TLS) followed by
//! the WebSocket upgrade (tungstenite's resumable handshake), each advanced by [`Opening::poll`] as far as it goes
//! without waiting.
//!
//! The upgrade response is gathered whole before tungstenite reads it ([`Stream::gather_http_header`]). An upgrade
//! that is never answered is ended by the session's connect timeout, which drops the transport and this with it.

use std::time::Instant;

use tungstenite::client::IntoClientRequest;
use tungstenite::error::{Error as WsError, ProtocolError};
use tungstenite::handshake::client::{ClientHandshake, Response};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::http::{HeaderName, HeaderValue};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::WebSocket;

use crate::config::TlsConfig;
use crate::endpoint::{Endpoint, Proxy};
use crate::error::{body_excerpt, ConnectFailure, IoFailure, UpgradeFailure};
use crate::transport::dial::{Dial, Progress};
use crate::transport::stream::Stream;

type Upgrade = MidHandshake<ClientHandshake<Stream>>;

/// A WebSocket open on its stream, whose socket is non-blocking.
pub(crate) type Open = Box<WebSocket<Stream>>;

enum Step {
    /// DNS, TCP and TLS.
    Dialing(Box<Dial>),
    /// The WebSocket upgrade, waiting for the server's answer.
    Upgrade(Box<Upgrade>),
    /// Finished (opened or failed).
    Done,
}

/// One WebSocket connection being opened. Dropping it abandons the attempt and closes the socket.
pub(crate) struct Opening {
    /// The `ws://` or `wss://` URL to request.
    url: String,
    /// Added to the upgrade request (checked names and values: [`crate::check::header`]).
    headers: Vec<(String, String)>,
    ws_config: WebSocketConfig,
    step: Step,
}

impl Opening {
    /// Starts opening a WebSocket to `endpoint`, through the HTTP `proxy` when given; returns at once. Fails only
    /// when nothing can be tried (see [`Dial::start`]).
    pub(crate) fn start(
        now: Instant,
        endpoint: &Endpoint,
        url: &str,
        tls: &TlsConfig,
        proxy: Option<&Proxy>,
        ws_config: WebSocketConfig,
        headers: &[(String, String)],
    ) -> Result<Self, ConnectFailure> {
        Ok(Opening {
            url: url.to_owned(),
            headers: headers.to_vec(),
            ws_config,
            step: Step::Dialing(Box::new(Dial::start(now, endpoint, tls, proxy)?)),
        })
    }

    /// Advances the connection as far as it goes without blocking.
    pub(crate) fn poll(&mut self, now: Instant) -> Progress<Open> {
        match self.advance(now) {
            Ok(Some(ws)) => Progress::Ready(ws),
            Ok(None) => Progress::Pending,
            Err(why) => {
                self.step = Step::Done;
                Progress::Failed(why)
            }
        }
    }

    /// Runs the steps until one has to wait (`Ok(None)`), the WebSocket is open, or a step fails.
    fn advance(&mut self, now: Instant) -> Result<Option<Open>, ConnectFailure> {
        match std::mem::replace(&mut self.step, Step::Done) {
            Step::Done => Err(ConnectFailure::Ended),
            Step::Dialing(mut dial) => match dial.poll(now) {
                Progress::Pending => {
                    self.step = Step::Dialing(dial);
                    Ok(None)
                }
                Progress::Failed(why) => Err(why),
                Progress::Ready(mut stream) => {
                    stream.gather_http_header();
                    let protocol =
                        |e: &dyn std::fmt::Display| ConnectFailure::Upgrade(UpgradeFailure::Protocol(e.to_string()));
                    let mut request = self.url.as_str().into_client_request().map_err(|e| protocol(&e))?;
                    for (name, value) in &self.headers {
                        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| protocol(&e))?;
                        let value = HeaderValue::from_str(value.trim()).map_err(|e| protocol(&e))?;
                        request.headers_mut().append(name, value);
                    }
                    let handshake = ClientHandshake::start(stream, request, Some(self.ws_config))
                        .map_err(|e| ConnectFailure::Upgrade(upgrade_failure(e)))?;
                    self.upgraded(handshake.handshake())
                }
            },
            Step::Upgrade(mid) => self.upgraded(mid.handshake()),
        }
    }

    /// The outcome of one attempt at the upgrade.
    fn upgraded(
        &mut self,
        attempt: Result<(WebSocket<Stream>, Response), HandshakeError<ClientHandshake<Stream>>>,
    ) -> Result<Option<Open>, ConnectFailure> {
        match attempt {
            Ok((ws, _response)) => Ok(Some(Box::new(ws))),
            Err(HandshakeError::Interrupted(mid)) => {
                self.step = Step::Upgrade(Box::new(mid));
                Ok(None)
            }
            Err(HandshakeError::Failure(e)) => Err(ConnectFailure::Upgrade(upgrade_failure(e))),
        }
    }
}

/// Why the server refused the WebSocket upgrade.
fn upgrade_failure(e: WsError) -> UpgradeFailure {
    match e {
        WsError::Http(response) => UpgradeFailure::Status {
            status: response.status().as_u16(),
            body: response.body().as_deref().and_then(|tail| error_body(&response, tail)),
        },
        WsError::Io(io) => UpgradeFailure::Io(IoFailure::of(&io)),
        WsError::Protocol(ProtocolError::HandshakeIncomplete) => UpgradeFailure::Io(IoFailure::ClosedByServer),
        WsError::AttackAttempt => UpgradeFailure::HeaderTooLarge,
        other => UpgradeFailure::Protocol(other.to_string()),
    }
}

/// Most bytes of a refused upgrade's body decoded for its message (which shows 200 characters).
const ERROR_BODY_CAP: usize = 4096;

/// The start of a refused upgrade's body, for its message: `tail` is what tungstenite read after the response head
/// (the body, or its start), still framed as the response says. A chunked body (engine.io's `400` with
/// `{"code":0,"message":"Transport unknown"}`, sent by Node.js in chunks) is decoded as far as its whole chunks go,
/// so that the message shows the text and not chunk sizes; a `Content-Length` body is cut at its length.
fn error_body(response: &Response, tail: &[u8]) -> Option<String> {
    let headers = response.headers();
    let chunked = headers
        .get_all(tungstenite::http::header::TRANSFER_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
    let length = headers
        .get(tungstenite::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let tail = &tail[..tail.len().min(ERROR_BODY_CAP)];
    if chunked {
        body_excerpt(&dechunk(tail))
    } else {
        body_excerpt(&tail[..length.unwrap_or(tail.len()).min(tail.len())])
    }
}

/// The data of the chunks at the start of `bytes`, as far as they go: a malformed or unfinished size line ends it
/// (what came before is kept), and so does the last chunk.
fn dechunk(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(lf) = bytes.iter().position(|&b| b == b'\n') {
        let line = bytes[..lf].strip_suffix(b"\r").unwrap_or(&bytes[..lf]);
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let size = std::str::from_utf8(&line[..digits])
            .ok()
            .and_then(|hex| usize::from_str_radix(hex, 16).ok());
        let Some(size) = size.filter(|&size| size > 0 && digits > 0) else {
            break;
        };
        bytes = &bytes[lf + 1..];
        let take = size.min(bytes.len());
        out.extend_from_slice(&bytes[..take]);
        bytes = &bytes[take..];
        bytes = bytes.strip_prefix(b"\r").unwrap_or(bytes);
        bytes = bytes.strip_prefix(b"\n").unwrap_or(bytes);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::dechunk;

    #[test]
    fn dechunk_decodes_whole_and_partial_chunks() {
        assert_eq!(dechunk(b"7\r\n{\"code\"\r\n3;x=1\r\n:0}\r\n0\r\n\r\n"), b"{\"code\":0}");
        // Cut short: what came is kept.
        assert_eq!(dechunk(b"7\r\n{\"co"), b"{\"co");
        assert_eq!(dechunk(b"3\r\nabc\r\nzz\r\nxyz"), b"abc");
        assert_eq!(dechunk(b"not chunked"), b"");
        assert_eq!(dechunk(b"ffffffffffffffffffffff\r\nx"), b"");
    }
}
