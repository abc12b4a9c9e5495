//! The transport a [`Client`](crate::Client) uses unless told otherwise: [`AutoTransport`], WebSocket or HTTP
//! long-polling as [`ClientConfig::transports`] lists them, falling back from one to the other and upgrading
//! polling to WebSocket, as engine.io-client's `Socket` does.
//!
//! # WebSocket first (the default, `["websocket", "polling"]`)
//!
//! The WebSocket opens the connection, with no extra round trip. When it is refused before the server's OPEN
//! packet came (an HTTP error on the upgrade, a reset or close, or no OPEN within [`FALLBACK_AFTER`]), the same
//! connection attempt goes on over polling, which then upgrades if the server offers it. Failures that polling
//! would meet too (the DNS lookup, the TCP connect, TLS, the proxy) are reported as they are.
//!
//! # Polling first (`["polling", "websocket"]`, socket.io-client's order), and the upgrade
//!
//! Polling opens the connection. When the server's handshake lists `websocket` in `upgrades` and the list has it,
//! a WebSocket is opened beside it for the same session (`sid`) and probed: `2probe` out, `3probe` back. Polling
//! then pauses: no new request leaves, and the ones in flight are answered (the server ends the held `GET` with a
//! NOOP). What polling received is reported first; then `5` (UPGRADE) goes over the WebSocket, followed by the
//! packets sent meanwhile that polling did not post, in order, and the WebSocket carries the session from then
//! on ([`TransportEvent::Upgraded`]). A probe that fails or does not finish within [`PROBE_TIMEOUT`] is dropped,
//! and polling goes on as if nothing happened.

use std::time::{Duration, Instant};

use crate::codec::raw::RawPacket;
use crate::config::{ClientConfig, TransportKind};
use crate::endpoint::Endpoint;
use crate::error::{ConnectFailure, TransportEnd};
use crate::transport::http::cookies::CookieJar;
use crate::transport::polling::PollingTransport;
use crate::transport::websocket::WebSocketTransport;
use crate::transport::{Connector, Transport, TransportEvent};

/// How long a WebSocket that should fall back to polling has to bring the server's OPEN packet.
pub const FALLBACK_AFTER: Duration = Duration::from_secs(5);

/// How long the upgrade probe may take, from the WebSocket's dial to the switch.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens [`AutoTransport`]s.
#[derive(Debug, Default, Clone, Copy)]
pub struct AutoConnector;

impl Connector for AutoConnector {
    type Transport = AutoTransport;

    fn connect(&mut self, now: Instant, endpoint: &Endpoint, config: &ClientConfig) -> AutoTransport {
        AutoTransport::connect(now, endpoint, config)
    }
}

enum Active {
    /// A WebSocket; `fallback` until its first packet, when polling may take over.
    WebSocket {
        ws: Box<WebSocketTransport>,
        fallback: Option<Instant>,
    },
    Polling(Box<PollingTransport>),
}

enum ProbeStep {
    /// The WebSocket is being opened.
    Opening,
    /// `2probe` sent.
    Pinged,
    /// `3probe` came back; polling is pausing.
    Pausing,
}

/// A WebSocket opened beside polling, to upgrade to.
struct Probe {
    ws: Box<WebSocketTransport>,
    step: ProbeStep,
    deadline: Instant,
}

/// WebSocket or polling, with fallback and upgrade. See the [module documentation](self).
pub struct AutoTransport {
    endpoint: Endpoint,
    config: ClientConfig,
    active: Active,
    probe: Option<Probe>,
}

impl AutoTransport {
    /// Starts connecting with the first of `config.transports` and returns at once.
    pub fn connect(now: Instant, endpoint: &Endpoint, config: &ClientConfig) -> AutoTransport {
        let first = config.transports.first().copied().unwrap_or(TransportKind::WebSocket);
        let active = match first {
            TransportKind::WebSocket => Active::WebSocket {
                ws: Box::new(open_websocket(now, endpoint, endpoint.ws_url(), config, None)),
                fallback: config
                    .transports
                    .contains(&TransportKind::Polling)
                    .then(|| now + FALLBACK_AFTER),
            },
            TransportKind::Polling => Active::Polling(Box::new(PollingTransport::connect(
                now,
                endpoint,
                config,
                CookieJar::default(),
            ))),
        };
        AutoTransport {
            endpoint: endpoint.clone(),
            config: config.clone(),
            active,
            probe: None,
        }
    }

    /// Goes on over polling, in the same connection attempt.
    fn fall_back(&mut self, now: Instant) {
        if let Active::WebSocket { ws, .. } = &mut self.active {
            ws.close();
        }
        let polling = PollingTransport::connect(now, &self.endpoint, &self.config, CookieJar::default());
        self.active = Active::Polling(Box::new(polling));
    }

    /// Polling's handshake is done: opens the upgrade probe if the server and the list allow it.
    fn maybe_probe(&mut self, now: Instant) {
        let Active::Polling(polling) = &self.active else {
            return;
        };
        let wanted = self.config.transports.contains(&TransportKind::WebSocket);
        let offered = polling.upgrades().iter().any(|u| u == "websocket");
        let Some(sid) = polling.sid() else {
            return;
        };
        if !wanted || !offered || self.probe.is_some() {
            return;
        }
        let cookie = polling.cookies().header(
            self.endpoint.server_name(),
            self.endpoint.path(),
            self.endpoint.is_tls(),
            now,
        );
        let url = self.endpoint.ws_upgrade_url(sid);
        let ws = open_websocket(now, &self.endpoint, &url, &self.config, cookie);
        self.probe = Some(Probe {
            ws: Box::new(ws),
            step: ProbeStep::Opening,
            deadline: now + PROBE_TIMEOUT,
        });
    }

    /// Advances the probe. Returns `Upgraded` once the WebSocket carries the session.
    fn advance_probe(&mut self, now: Instant) -> Option<TransportEvent> {
        let probe = self.probe.as_mut()?;
        let Active::Polling(polling) = &mut self.active else {
            self.probe = None;
            return None;
        };
        if now >= probe.deadline {
            return self.drop_probe();
        }
        while let Some(event) = probe.ws.poll(now) {
            match (&probe.step, event) {
                (ProbeStep::Opening, TransportEvent::Connected) => {
                    probe.ws.send(RawPacket::Text("2probe".into()));
                    probe.ws.flush();
                    probe.step = ProbeStep::Pinged;
                }
                (ProbeStep::Pinged, TransportEvent::RawPacket(RawPacket::Text(text))) if text.as_str() == "3probe" => {
                    polling.pause();
                    probe.step = ProbeStep::Pausing;
                }
                // Anything else (a close, another packet) ends the probe: polling goes on.
                _ => return self.drop_probe(),
            }
        }
        if !matches!(probe.step, ProbeStep::Pausing) || !polling.is_paused() {
            return None;
        }
        let mut probe = self.probe.take()?;
        probe.ws.send(RawPacket::Text("5".into()));
        for packet in polling.take_unsent() {
            probe.ws.send(packet);
        }
        probe.ws.flush();
        polling.abandon();
        self.active = Active::WebSocket {
            ws: probe.ws,
            fallback: None,
        };
        Some(TransportEvent::Upgraded(TransportKind::WebSocket))
    }

    fn drop_probe(&mut self) -> Option<TransportEvent> {
        if let Some(mut probe) = self.probe.take() {
            probe.ws.close();
        }
        if let Active::Polling(polling) = &mut self.active {
            polling.resume();
        }
        None
    }
}

/// A WebSocket to `url` (the endpoint's, or the upgrade's with the sid), with the extra headers and `cookie`.
fn open_websocket(
    now: Instant,
    endpoint: &Endpoint,
    url: &str,
    config: &ClientConfig,
    cookie: Option<String>,
) -> WebSocketTransport {
    let mut headers = config.extra_headers.clone();
    if let Some(cookie) = cookie {
        headers.push(("Cookie".to_owned(), cookie));
    }
    WebSocketTransport::open(now, endpoint, url, config, &headers)
}

/// Whether polling may take over after the WebSocket ended this way before the server's OPEN packet: a refusal of
/// the WebSocket itself, not of the host (which polling would meet too).
fn falls_back(end: &TransportEnd) -> bool {
    match end {
        TransportEnd::ConnectFailed(why) => matches!(why, ConnectFailure::Upgrade(_)),
        TransportEnd::Closed | TransportEnd::Error(_) => true,
        TransportEnd::MessageTooLarge { .. } => false,
    }
}

impl Transport for AutoTransport {
    type Connector = AutoConnector;

    fn limit_reads(&mut self) {
        match &mut self.active {
            Active::WebSocket { ws, .. } => ws.limit_reads(),
            Active::Polling(polling) => polling.limit_reads(),
        }
        if let Some(probe) = &mut self.probe {
            probe.ws.limit_reads();
        }
    }

    fn poll(&mut self, now: Instant) -> Option<TransportEvent> {
        if let Some(upgraded) = self.advance_probe(now) {
            return Some(upgraded);
        }
        match &mut self.active {
            Active::WebSocket { ws, fallback } => {
                let event = ws.poll(now);
                match (event, *fallback) {
                    (Some(TransportEvent::RawPacket(packet)), _) => {
                        *fallback = None;
                        Some(TransportEvent::RawPacket(packet))
                    }
                    (Some(TransportEvent::Closed(end)), Some(_)) if falls_back(&end) => {
                        self.fall_back(now);
                        self.poll(now)
                    }
                    (None, Some(deadline)) if now >= deadline => {
                        self.fall_back(now);
                        self.poll(now)
                    }
                    (event, _) => event,
                }
            }
            Active::Polling(polling) => {
                let event = polling.poll(now);
                if matches!(event, Some(TransportEvent::Connected)) {
                    self.maybe_probe(now);
                }
                event
            }
        }
    }

    fn send(&mut self, packet: RawPacket) {
        match &mut self.active {
            Active::WebSocket { ws, .. } => ws.send(packet),
            Active::Polling(polling) => polling.send(packet),
        }
    }

    fn flush(&mut self) {
        match &mut self.active {
            Active::WebSocket { ws, .. } => ws.flush(),
            Active::Polling(polling) => polling.flush(),
        }
    }

    fn close(&mut self) {
        if let Some(mut probe) = self.probe.take() {
            probe.ws.close();
        }
        match &mut self.active {
            Active::WebSocket { ws, .. } => ws.close(),
            Active::Polling(polling) => polling.close(),
        }
    }

    fn is_backlogged(&self) -> bool {
        match &self.active {
            Active::WebSocket { ws, .. } => ws.is_backlogged(),
            Active::Polling(polling) => polling.is_backlogged(),
        }
    }

    fn kind(&self) -> TransportKind {
        match &self.active {
            Active::WebSocket { .. } => TransportKind::WebSocket,
            Active::Polling(_) => TransportKind::Polling,
        }
    }
}

impl std::fmt::Debug for AutoTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutoTransport")
            .field("active", &self.kind())
            .field("probing", &self.probe.is_some())
            .finish()
    }
}
