//! What the session has to say: frames for the transport, commands to it ([`TransportCommand`]), and events for the
//! user, each in the order they came.
//!
//! Events stay here until the front end takes them, one at a time. The server's events (`ClientEvent::Event`) not
//! taken yet are dropped when the user closes the client or disconnects (or removes) their namespace
//! ([`Outbox::drop_server_events`]): what arrived before is then not delivered. Lifecycle events and ack answers
//! are always kept.

use std::collections::VecDeque;

use crate::codec::packet::Packet;
use crate::codec::raw::RawPacket;
use crate::event::ClientEvent;

use super::send_buffer::{Encoded, FrameLimit};

/// What the session asks of its transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportCommand {
    /// Open a new WebSocket connection to the endpoint.
    Open,
    /// Close the current connection (after writing what `poll_transmit` gave before this command).
    Close,
}

/// Frames to write, transport commands and events to tell. See the module documentation.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    frames: VecDeque<RawPacket>,
    commands: VecDeque<TransportCommand>,
    events: VecDeque<ClientEvent>,
    /// How many of `events` a purge may drop (server events, and the news that a connection could not be opened):
    /// with none, a purge costs nothing (a `close()` removes every namespace in turn, with their final events
    /// queued).
    droppable: usize,
}

impl Outbox {
    /// Queues a frame.
    pub(super) fn frame(&mut self, frame: RawPacket) {
        self.frames.push_back(frame);
    }

    /// Queues the frames of an encoded packet: its text, then its attachments.
    pub(super) fn send(&mut self, encoded: Encoded) {
        self.frames.push_back(RawPacket::Text(encoded.text.into()));
        self.frames
            .extend(encoded.attachments.into_iter().map(RawPacket::Binary));
    }

    /// Queues one of our own control packets (CONNECT, DISCONNECT). Their payloads were checked when given
    /// (`connect_namespace` refuses auth that cannot be sent), so only the server's `max_payload` can refuse one;
    /// such a packet is not sent.
    pub(super) fn control(&mut self, packet: &Packet, limit: Option<FrameLimit>) {
        if let Ok(encoded) = Encoded::new(packet, None, limit) {
            self.send(encoded);
        }
    }

    /// The next frame to write.
    #[inline]
    pub(super) fn pop_frame(&mut self) -> Option<RawPacket> {
        self.frames.pop_front()
    }

    /// Queues a transport command.
    pub(super) fn command(&mut self, command: TransportCommand) {
        self.commands.push_back(command);
    }

    /// The next transport command.
    #[inline]
    pub(super) fn pop_command(&mut self) -> Option<TransportCommand> {
        self.commands.pop_front()
    }

    /// Queues an event.
    pub(super) fn event(&mut self, event: ClientEvent) {
        if droppable(&event) {
            self.droppable += 1;
        }
        self.events.push_back(event);
    }

    /// The next event.
    #[inline]
    pub(super) fn pop_event(&mut self) -> Option<ClientEvent> {
        let event = self.events.pop_front()?;
        if droppable(&event) {
            self.droppable -= 1;
        }
        Some(event)
    }

    /// The next event, left in place.
    #[inline]
    pub(super) fn peek_event(&self) -> Option<&ClientEvent> {
        self.events.front()
    }

    /// Drops the server events not taken yet: those of `namespace`, or of every namespace (`None`).
    pub(super) fn drop_server_events(&mut self, namespace: Option<&str>) {
        self.drop_where(|event| match event {
            ClientEvent::Event { namespace: ns, .. } => namespace.is_none_or(|path| path == ns),
            _ => false,
        });
    }

    /// Drops the news, not taken yet, that the connection namespace `path` waited for could not be opened: the
    /// client let go of the namespace since, so it no longer waits.
    pub(super) fn drop_unreachable(&mut self, path: &str) {
        self.drop_where(
            |event| matches!(event, ClientEvent::NamespaceTransportError { namespace, .. } if namespace == path),
        );
    }

    /// Drops the events not taken yet that `dropped` picks among the droppable ones.
    fn drop_where(&mut self, dropped: impl Fn(&ClientEvent) -> bool) {
        if self.droppable == 0 {
            return;
        }
        let before = self.events.len();
        self.events.retain(|event| !dropped(event));
        self.droppable -= before - self.events.len();
    }
}

/// Whether a purge may drop `event` (see [`Outbox::drop_where`]).
fn droppable(event: &ClientEvent) -> bool {
    matches!(
        event,
        ClientEvent::Event { .. } | ClientEvent::NamespaceTransportError { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::Outbox;
    use crate::codec::payload::Payload;
    use crate::event::{ClientEvent, DisconnectReason};

    fn event(namespace: &str, name: &str) -> ClientEvent {
        ClientEvent::Event {
            namespace: namespace.into(),
            name: name.into(),
            args: Payload::from_values(&[]).unwrap(),
            ack: None,
        }
    }

    #[test]
    fn a_purge_drops_only_undelivered_server_events_of_its_namespace() {
        let mut out = Outbox::default();
        out.event(event("/", "a"));
        out.event(event("/chat", "b"));
        let lifecycle = ClientEvent::NamespaceDisconnected {
            namespace: "/chat".into(),
            reason: DisconnectReason::IoServerDisconnect,
            was_connected: true,
        };
        out.event(lifecycle.clone());
        out.event(event("/chat", "c"));
        assert_eq!(out.pop_event(), Some(event("/", "a")), "taken already");
        out.drop_server_events(Some("/chat"));
        out.event(event("/chat", "d"));
        assert_eq!(out.pop_event(), Some(lifecycle));
        assert_eq!(
            out.pop_event(),
            Some(event("/chat", "d")),
            "what comes after the purge is kept"
        );
        assert_eq!(out.pop_event(), None);
        assert_eq!(out.droppable, 0);

        out.event(event("/", "e"));
        out.event(event("/chat", "f"));
        out.drop_server_events(None);
        assert_eq!((out.pop_event(), out.droppable), (None, 0));
    }
}
