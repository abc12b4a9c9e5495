//! Traffic figures of one [`Client`](crate::Client): what [`Client::stats`](crate::Client::stats) returns.
//!
//! The counters are plain `u64` fields bumped where the data already flows (one add per packet or event, no
//! allocation, no clock read): bytes and Engine.IO packets where the client hands packets to the transport and takes
//! them from it, Socket.IO events where they are emitted and where they are taken with `poll_event`, reconnections
//! where their events are taken. The gauges (acks pending, buffered emits) are read from the session only when asked
//! for, and the ack round trip uses the `now` the client is given.
//!
//! # Definitions
//!
//! - `bytes_in` / `bytes_out`: Engine.IO packet bytes as the transports carry them, i.e. [`RawPacket::len`]: for
//!   WebSocket, the payload of each data message (no WebSocket frame header, no TLS); for HTTP long-polling, each
//!   packet of a payload as encoded (binary ones after base64 decoding), without the HTTP headers and the `\x1e`
//!   separators. Out: packets handed to an open or opening transport (a packet sent while there is no transport is
//!   dropped and not counted).
//! - `packets_in` / `packets_out`: those Engine.IO packets, counted one by one: Socket.IO packets, binary
//!   attachments (each one packet), pings and pongs, the handshake, upgrade probes excepted (the transport handles
//!   them itself).
//! - `events_in`: Socket.IO events taken with `poll_event` ([`ClientEvent::Event`]); `events_out`: events the
//!   client accepted to emit (`emit`, `emit_with_ack`; `emit_volatile` only when it was sent), buffered ones
//!   included from the moment they are emitted. Acks either way are not events.
//! - `acks_pending`: our `emit_with_ack`s waiting for an answer or a timeout.
//! - `buffered_emits`: Socket.IO packets waiting in the namespaces' send buffers (emitted before their namespace
//!   connected).
//! - `reconnects`: successful reconnections ([`ClientEvent::Reconnected`]); `reconnect_attempts`: attempts made
//!   ([`ClientEvent::ReconnectAttempt`]), as `poll_event` hands them out.
//! - `last_ack_round_trip`: for the last ack answered, the time from its `emit_with_ack` to the poll that read the
//!   answer (both `now`s the client was given, so it is only as fine as the caller's polling); `None` before any.
//!
//! The counters go on across reconnections and [`Client::reset`](crate::Client::reset); they never go down.
//!
//! [`RawPacket::len`]: crate::RawPacket::len
//! [`ClientEvent::Event`]: crate::ClientEvent::Event
//! [`ClientEvent::Reconnected`]: crate::ClientEvent::Reconnected
//! [`ClientEvent::ReconnectAttempt`]: crate::ClientEvent::ReconnectAttempt

use std::time::Duration;

/// The figures of one client at one moment. See the [module documentation](self) for what each counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Engine.IO packet bytes received.
    pub bytes_in: u64,
    /// Engine.IO packet bytes handed to the transport.
    pub bytes_out: u64,
    /// Engine.IO packets received.
    pub packets_in: u64,
    /// Engine.IO packets handed to the transport.
    pub packets_out: u64,
    /// Socket.IO events received (taken with `poll_event`).
    pub events_in: u64,
    /// Socket.IO events emitted.
    pub events_out: u64,
    /// Acks waiting for an answer or a timeout.
    pub acks_pending: u64,
    /// Emits waiting in send buffers.
    pub buffered_emits: u64,
    /// Successful reconnections.
    pub reconnects: u64,
    /// Reconnection attempts.
    pub reconnect_attempts: u64,
    /// Round trip of the last answered ack.
    pub last_ack_round_trip: Option<Duration>,
}

impl Stats {
    /// Adds `other`'s figures to these (for a sum over clients); the round trip is the longer of the two.
    pub fn add(&mut self, other: &Stats) {
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.packets_in += other.packets_in;
        self.packets_out += other.packets_out;
        self.events_in += other.events_in;
        self.events_out += other.events_out;
        self.acks_pending += other.acks_pending;
        self.buffered_emits += other.buffered_emits;
        self.reconnects += other.reconnects;
        self.reconnect_attempts += other.reconnect_attempts;
        self.last_ack_round_trip = self.last_ack_round_trip.max(other.last_ack_round_trip);
    }
}
