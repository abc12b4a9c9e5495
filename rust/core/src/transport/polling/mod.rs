//! The HTTP long-polling transport of Engine.IO v4: [`PollingTransport`].
//!
//! # How it talks
//!
//! - **Handshake**: a `GET` without `sid`; the body is a payload whose first packet is the OPEN packet (`0{"sid":…}`),
//!   read here for the session id and `maxPayload`, and handed on to the session like any packet.
//! - **Receiving**: one `GET` at a time with the `sid`, which the server holds until it has packets (or sends a
//!   ping); its payload's packets are reported one by one, and the next `GET` leaves at once.
//! - **Sending**: one `POST` at a time, whose body is the queued packets as one payload, never larger than the
//!   server's `maxPayload` ([`PayloadBatcher`]); what is queued meanwhile waits for its answer (`ok`).
//!
//! The `GET` and the `POST` each have their own keep-alive connection ([`connection`]): a held `GET` would
//! otherwise stop every send. Both carry the caller's extra headers, and the cookies the server set (a load
//! balancer's sticky-session cookie must come back on every request, or they reach another server that knows
//! nothing of the session).
//!
//! # Pausing, for the upgrade
//!
//! [`pause`](PollingTransport::pause) stops new requests; once the ones in flight are answered
//! ([`is_paused`](PollingTransport::is_paused)), the packets not sent yet are taken out
//! ([`take_unsent`](PollingTransport::take_unsent)) and sent over the WebSocket instead, in order
//! (`crate::transport::auto`).
//!
//! Nothing blocks: requests are written and read as far as the sockets allow, from `poll` and `flush`.

mod connection;

use std::collections::VecDeque;
use std::time::Instant;

use crate::codec::engineio::{self, EnginePacket};
use crate::codec::polling::{self, PayloadBatcher};
use crate::codec::raw::RawPacket;
use crate::config::{ClientConfig, TransportKind};
use crate::endpoint::{Endpoint, Proxy};
use crate::error::{body_excerpt, ConnectFailure, PollingFailure, ProxyFailure, StreamError, TransportEnd};
use crate::transport::http::cookies::CookieJar;
use crate::transport::http::{write_request, Method, ReaderLimits, Response};
use crate::transport::{Connector, Transport, TransportEvent, READ_TIME_PER_POLL};
use connection::{Connection, RequestError};

/// Most packets in one received payload.
const MAX_PACKETS_PER_PAYLOAD: usize = 100_000;

/// The `maxPayload` used until the handshake tells the server's (engine.io's default, 1 MB).
const DEFAULT_MAX_PAYLOAD: usize = 1_000_000;

/// Opens [`PollingTransport`]s.
#[derive(Debug, Default, Clone, Copy)]
pub struct PollingConnector;

impl Connector for PollingConnector {
    type Transport = PollingTransport;

    fn connect(&mut self, now: Instant, endpoint: &Endpoint, config: &ClientConfig) -> PollingTransport {
        PollingTransport::connect(now, endpoint, config, CookieJar::default())
    }
}

#[derive(Debug)]
enum State {
    /// The handshake `GET` is in flight.
    Handshaking,
    /// The session is open.
    Open,
    /// Failed; the end is reported by the next `poll`.
    Failed(TransportEnd),
    /// Over.
    Done,
}

/// An Engine.IO connection over HTTP long-polling. See the [module documentation](self).
pub struct PollingTransport {
    endpoint: Endpoint,
    extra_headers: Vec<(String, String)>,
    cookies: CookieJar,
    state: State,
    /// The long-polling `GET`s.
    get: Connection,
    /// The `POST`s.
    post: Connection,
    sid: Option<String>,
    /// The server's `maxPayload`, once its handshake told it.
    max_payload: usize,
    /// The transports the server's handshake offers to upgrade to.
    upgrades: Vec<String>,
    /// Packets queued by `send`, not posted yet, and their encoded size.
    unsent: VecDeque<RawPacket>,
    unsent_bytes: usize,
    /// Cap on `unsent_bytes`.
    write_limit: usize,
    /// Packets received, not reported yet.
    received: VecDeque<RawPacket>,
    /// `Connected` is due before the packets of the handshake.
    report_connected: bool,
    /// Requests made so far (the `t` parameter).
    requests: u64,
    /// No new request leaves (see [`pause`](Self::pause)).
    paused: bool,
    read_deadline: Option<Instant>,
}

impl PollingTransport {
    /// Starts the handshake with `endpoint` and returns at once; [`poll`](Transport::poll) reports
    /// [`TransportEvent::Connected`] then the OPEN packet, or [`TransportEnd::ConnectFailed`]. `cookies` are sent with
    /// every request, and those the server sets are added.
    pub fn connect(now: Instant, endpoint: &Endpoint, config: &ClientConfig, cookies: CookieJar) -> PollingTransport {
        let max_message = config.limits.max_message_bytes;
        // A payload carries many packets, binary ones in base64 (4/3 of their size).
        let max_body = max_message.saturating_add(max_message / 3).saturating_add(64 << 10);
        let limits = ReaderLimits::new(max_body);
        let proxy = config.proxy_url.as_deref().map(Proxy::parse).transpose();
        let (proxy, proxy_error) = match proxy {
            Ok(proxy) => (proxy, None),
            Err(e) => (None, Some(ConnectFailure::Proxy(ProxyFailure::InvalidUrl(e)))),
        };
        let proxy = proxy.as_ref();
        let mut transport = PollingTransport {
            endpoint: endpoint.clone(),
            extra_headers: config.extra_headers.clone(),
            cookies,
            state: State::Handshaking,
            get: Connection::new(limits, endpoint, &config.tls, proxy),
            post: Connection::new(limits, endpoint, &config.tls, proxy),
            sid: None,
            max_payload: DEFAULT_MAX_PAYLOAD,
            upgrades: Vec::new(),
            unsent: VecDeque::new(),
            unsent_bytes: 0,
            write_limit: max_message
                .max(crate::transport::MIN_WRITE_BUFFER_LIMIT)
                .saturating_mul(2),
            received: VecDeque::new(),
            report_connected: false,
            requests: 0,
            paused: false,
            read_deadline: None,
        };
        match proxy_error {
            Some(why) => transport.fail(TransportEnd::ConnectFailed(why)),
            None => transport.start_get(now),
        }
        transport
    }

    /// The Engine.IO session id, once the handshake told it.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The transports the server offers to upgrade to (its handshake's `upgrades`).
    pub fn upgrades(&self) -> &[String] {
        &self.upgrades
    }

    /// The cookies of the connection (those given, and those the server set since).
    pub fn cookies(&self) -> &CookieJar {
        &self.cookies
    }

    /// Stops making requests, for an upgrade: the ones in flight go on until answered.
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Whether paused with no request in flight: what was received has been reported, and
    /// [`take_unsent`](Self::take_unsent) holds everything sent that did not leave.
    pub fn is_paused(&self) -> bool {
        self.paused && !self.get.is_busy() && !self.post.is_busy() && self.received.is_empty()
    }

    /// Makes requests again after [`pause`](Self::pause) (the upgrade was given up).
    pub fn resume(&mut self) {
        if !self.paused {
            return;
        }
        self.paused = false;
        if matches!(self.state, State::Open) {
            let now = Instant::now();
            if !self.get.is_busy() {
                self.start_get(now);
            }
            self.start_post(now);
        }
    }

    /// Lets go of the connections without ending the session (the upgrade took it over).
    pub fn abandon(&mut self) {
        self.finish();
    }

    /// The packets queued by `send` that were not posted, in order.
    pub fn take_unsent(&mut self) -> VecDeque<RawPacket> {
        self.unsent_bytes = 0;
        std::mem::take(&mut self.unsent)
    }

    /// The request bytes of a `GET` or `POST` with the extra headers and the cookies.
    fn request(&mut self, now: Instant, method: Method, body: &[u8]) -> Result<Vec<u8>, StreamError> {
        let target = self.endpoint.polling_target(self.sid.as_deref(), self.requests);
        self.requests += 1;
        let cookie = self.cookies.header(
            self.endpoint.server_name(),
            self.endpoint.path(),
            self.endpoint.is_tls(),
            now,
        );
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(self.extra_headers.len() + 3);
        headers.push(("Accept", "*/*"));
        if method == Method::Post {
            headers.push(("Content-Type", "text/plain;charset=UTF-8"));
        }
        if let Some(cookie) = &cookie {
            headers.push(("Cookie", cookie));
        }
        headers.extend(self.extra_headers.iter().map(|(n, v)| (n.as_str(), v.trim())));
        let mut out = Vec::with_capacity(256 + body.len());
        write_request(&mut out, method, &target, self.endpoint.authority(), &headers, body)
            .map_err(StreamError::Http)?;
        Ok(out)
    }

    fn start_get(&mut self, now: Instant) {
        match self.request(now, Method::Get, &[]) {
            Ok(request) => self.get.start(now, request),
            Err(why) => self.fail(TransportEnd::Error(why)),
        }
    }

    /// Posts what is queued, if nothing is being posted.
    fn start_post(&mut self, now: Instant) {
        if !matches!(self.state, State::Open) || self.paused || self.post.is_busy() || self.unsent.is_empty() {
            return;
        }
        let mut batcher = PayloadBatcher::new(self.max_payload);
        while let Some(packet) = self.unsent.front() {
            if !batcher.is_empty() && !batcher.fits(packet) {
                break;
            }
            if let Err(why) = batcher.push(packet) {
                // The session refuses what the server's maxPayload does not take; only a bug gets here.
                self.fail(TransportEnd::Error(StreamError::Payload(why.to_string())));
                return;
            }
            let packet = self.unsent.pop_front().expect("the front packet");
            self.unsent_bytes = self.unsent_bytes.saturating_sub(polling::encoded_len(&packet));
        }
        let Some(body) = batcher.finish() else {
            return;
        };
        match self.request(now, Method::Post, &body) {
            Ok(request) => self.post.start(now, request),
            Err(why) => self.fail(TransportEnd::Error(why)),
        }
    }

    fn fail(&mut self, why: TransportEnd) {
        if !matches!(self.state, State::Failed(_) | State::Done) {
            self.state = State::Failed(why);
        }
    }

    /// Keeps the cookies the server set on a response.
    fn keep_cookies(&mut self, response: &Response, now: Instant) {
        for value in response.set_cookies() {
            self.cookies
                .store(value, self.endpoint.server_name(), self.endpoint.path(), now);
        }
    }

    /// A `GET` was answered.
    fn on_get_response(&mut self, now: Instant, response: Response) {
        self.keep_cookies(&response, now);
        let handshaking = matches!(self.state, State::Handshaking);
        if response.status != 200 {
            let (status, body) = (response.status, body_excerpt(&response.body));
            self.fail(if handshaking {
                TransportEnd::ConnectFailed(ConnectFailure::Polling(PollingFailure::Status { status, body }))
            } else {
                TransportEnd::Error(StreamError::HttpStatus { status, body })
            });
            return;
        }
        let max_body = usize::MAX; // The reader capped the body already.
        let packets = match polling::decode_payload(response.body, max_body, MAX_PACKETS_PER_PAYLOAD) {
            Ok(packets) => packets,
            Err(why) => {
                self.fail(if handshaking {
                    TransportEnd::ConnectFailed(ConnectFailure::Polling(PollingFailure::Handshake(why.to_string())))
                } else {
                    TransportEnd::Error(StreamError::Payload(why.to_string()))
                });
                return;
            }
        };
        if handshaking {
            let handshake = match packets.first() {
                Some(RawPacket::Text(text)) => match engineio::decode(text) {
                    Ok(EnginePacket::Open(handshake)) => Ok(handshake),
                    Ok(_) => Err("the first packet is not the OPEN packet".to_owned()),
                    Err(why) => Err(why.to_string()),
                },
                _ => Err("the first packet is not the OPEN packet".to_owned()),
            };
            match handshake {
                Ok(handshake) => {
                    self.max_payload = handshake.max_payload;
                    self.upgrades = handshake.upgrades.clone();
                    self.sid = Some(handshake.sid);
                    self.state = State::Open;
                    self.report_connected = true;
                }
                Err(why) => {
                    let why = PollingFailure::Handshake(why);
                    self.fail(TransportEnd::ConnectFailed(ConnectFailure::Polling(why)));
                    return;
                }
            }
        }
        self.received.extend(packets);
        if !self.paused {
            self.start_get(now);
        }
    }

    /// A `POST` was answered.
    fn on_post_response(&mut self, now: Instant, response: Response) {
        self.keep_cookies(&response, now);
        if response.status != 200 {
            let (status, body) = (response.status, body_excerpt(&response.body));
            self.fail(TransportEnd::Error(StreamError::HttpStatus { status, body }));
            return;
        }
        self.start_post(now);
    }

    /// Advances the `POST` in flight: writes what the socket takes, reads its answer if it came.
    fn advance_post(&mut self, now: Instant) {
        match self.post.poll(now, self.read_deadline) {
            Ok(Some(response)) => self.on_post_response(now, response),
            Ok(None) => {}
            Err(why) => self.request_failed(why),
        }
    }

    fn request_failed(&mut self, why: RequestError) {
        let end = match (&self.state, why) {
            (State::Handshaking, RequestError::Connect(why)) => TransportEnd::ConnectFailed(why),
            (State::Handshaking, RequestError::Io(why)) => {
                TransportEnd::ConnectFailed(ConnectFailure::Polling(PollingFailure::Io(why)))
            }
            (State::Handshaking, RequestError::Http(why)) => {
                TransportEnd::ConnectFailed(ConnectFailure::Polling(PollingFailure::Http(why)))
            }
            (_, why) => why.into_stream_error(),
        };
        self.fail(end);
    }

    fn finish(&mut self) {
        self.state = State::Done;
        self.get.abandon();
        self.post.abandon();
        self.unsent.clear();
        self.received.clear();
    }
}

impl Transport for PollingTransport {
    type Connector = PollingConnector;

    fn limit_reads(&mut self) {
        self.read_deadline = Some(Instant::now() + READ_TIME_PER_POLL);
    }

    fn poll(&mut self, now: Instant) -> Option<TransportEvent> {
        if self.report_connected {
            self.report_connected = false;
            return Some(TransportEvent::Connected);
        }
        if let Some(packet) = self.received.pop_front() {
            return Some(TransportEvent::RawPacket(packet));
        }
        match std::mem::replace(&mut self.state, State::Done) {
            State::Done => return None,
            State::Failed(why) => {
                self.finish();
                return Some(TransportEvent::Closed(why));
            }
            state => self.state = state,
        }
        match self.get.poll(now, self.read_deadline) {
            Ok(Some(response)) => self.on_get_response(now, response),
            Ok(None) => {}
            Err(why) => self.request_failed(why),
        }
        self.advance_post(now);
        if self.report_connected || !self.received.is_empty() || matches!(self.state, State::Failed(_)) {
            return self.poll(now);
        }
        None
    }

    fn send(&mut self, packet: RawPacket) {
        if matches!(self.state, State::Failed(_) | State::Done) {
            return;
        }
        self.unsent_bytes = self.unsent_bytes.saturating_add(polling::encoded_len(&packet));
        if self.unsent_bytes > self.write_limit {
            let limit = self.write_limit;
            self.fail(TransportEnd::Error(StreamError::QueueFull { limit }));
            return;
        }
        self.unsent.push_back(packet);
    }

    fn flush(&mut self) {
        if self.unsent.is_empty() || self.post.is_busy() {
            return;
        }
        let now = Instant::now();
        self.start_post(now);
        // Writes what the socket takes now; the answer is read by `poll`.
        self.advance_post(now);
    }

    fn kind(&self) -> TransportKind {
        TransportKind::Polling
    }

    /// A POST is out and packets already wait for the next one.
    fn is_backlogged(&self) -> bool {
        self.post.is_busy() && !self.unsent.is_empty()
    }

    fn close(&mut self) {
        // engine.io-client posts a CLOSE packet so the server ends the session at once; best effort, one try.
        if matches!(self.state, State::Open) && !self.post.is_busy() && !self.paused {
            self.unsent.clear();
            self.unsent.push_back(RawPacket::Text("1".into()));
            self.start_post(Instant::now());
            let _ = self.post.poll(Instant::now(), None);
        }
        self.finish();
    }
}

impl std::fmt::Debug for PollingTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollingTransport")
            .field("state", &self.state)
            .field("sid", &self.sid)
            .field("unsent", &self.unsent.len())
            .finish()
    }
}
