//! The Engine.IO connection's state ([`EngineState`]): idle, opening (until a deadline), open (with the server's
//! handshake and the heartbeat deadline), or waiting to reconnect; what the namespaces see of it ([`Link`]); and
//! [`later`], the deadline arithmetic.

use std::time::{Duration, Instant};

use crate::codec::engineio::{self, Handshake};
use crate::config::TransportKind;
use crate::event::ConnectionState;

use super::send_buffer::FrameLimit;

/// The connection, as the namespaces see it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Link {
    /// The Engine.IO handshake is done: packets can be sent and received.
    pub(super) open: bool,
    /// No connection, and not trying to open one.
    pub(super) idle: bool,
    /// The server's largest accepted frame on the transport in use, once its handshake told it.
    pub(super) frame_limit: Option<FrameLimit>,
}

/// See the module documentation.
#[derive(Debug)]
pub(super) enum EngineState {
    /// No connection and not trying.
    Idle,
    /// Transport requested; waiting for the Engine.IO OPEN packet.
    Opening { deadline: Instant },
    /// Handshake done.
    Open {
        handshake: Handshake,
        ping_deadline: Instant,
    },
    /// Waiting to start the next reconnection attempt.
    Backoff { until: Instant },
}

impl EngineState {
    /// Opening a transport at `now`, given up after `timeout`.
    pub(super) fn opening(now: Instant, timeout: Duration) -> Self {
        EngineState::Opening {
            deadline: later(now, timeout),
        }
    }

    /// The server's `handshake` arrived at `now`: the first ping is due within `pingInterval + pingTimeout`.
    pub(super) fn open(now: Instant, handshake: Handshake) -> Self {
        EngineState::Open {
            ping_deadline: heartbeat(now, &handshake),
            handshake,
        }
    }

    /// When this state ends by itself (the connect timeout, the ping timeout, the next reconnection attempt).
    pub(super) fn deadline(&self) -> Option<Instant> {
        match *self {
            EngineState::Idle => None,
            EngineState::Opening { deadline } => Some(deadline),
            EngineState::Open { ping_deadline, .. } => Some(ping_deadline),
            EngineState::Backoff { until } => Some(until),
        }
    }

    /// The state of the connection as the user sees it.
    pub(super) fn connection_state(&self) -> ConnectionState {
        match self {
            EngineState::Idle => ConnectionState::Disconnected,
            EngineState::Opening { .. } | EngineState::Backoff { .. } => ConnectionState::Connecting,
            EngineState::Open { .. } => ConnectionState::Connected,
        }
    }

    /// The server's handshake while open.
    pub(super) fn handshake(&self) -> Option<&Handshake> {
        match self {
            EngineState::Open { handshake, .. } => Some(handshake),
            _ => None,
        }
    }

    /// Whether the handshake is done.
    pub(super) fn is_open(&self) -> bool {
        matches!(self, EngineState::Open { .. })
    }

    /// Whether there is no connection and no attempt to open one.
    pub(super) fn is_idle(&self) -> bool {
        matches!(self, EngineState::Idle)
    }

    /// The connection, as the namespaces see it, over `transport`.
    pub(super) fn link(&self, transport: TransportKind) -> Link {
        Link {
            open: self.is_open(),
            idle: self.is_idle(),
            frame_limit: self.handshake().map(|h| FrameLimit {
                max_payload: h.max_payload,
                polling: transport == TransportKind::Polling,
            }),
        }
    }

    /// The server's PING with `data` arrived at `now`: the heartbeat deadline moves on, and the PONG to answer
    /// with is returned (nothing when not open).
    pub(super) fn ping(&mut self, now: Instant, data: &str) -> Option<String> {
        let EngineState::Open {
            handshake,
            ping_deadline,
        } = self
        else {
            return None;
        };
        *ping_deadline = heartbeat(now, handshake);
        let mut pong = String::with_capacity(1 + data.len());
        pong.push_str(engineio::PONG);
        pong.push_str(data);
        Some(pong)
    }
}

/// When the next ping is due, counted from `now`.
fn heartbeat(now: Instant, handshake: &Handshake) -> Instant {
    later(now, handshake.ping_interval.saturating_add(handshake.ping_timeout))
}

/// `now + duration`, saturating far in the future instead of overflowing (a server may announce any interval).
pub(super) fn later(now: Instant, duration: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(duration.min(CENTURY)).unwrap_or(now)
}
