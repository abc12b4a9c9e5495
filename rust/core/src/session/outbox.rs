//! What the session has to say: frames for the transport, commands to it ([`TransportCommand`]), and events for the
//! user, each in the order they came.

use std::collections::VecDeque;

use crate::codec::packet::Packet;
use crate::codec::raw::RawPacket;
use crate::event::ClientEvent;

use super::send_buffer::Encoded;

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
    pub(super) fn control(&mut self, packet: &Packet, max_payload: Option<usize>) {
        if let Ok(encoded) = Encoded::new(packet, None, max_payload) {
            self.send(encoded);
        }
    }

    /// The next frame to write.
    pub(super) fn pop_frame(&mut self) -> Option<RawPacket> {
        self.frames.pop_front()
    }

    /// Queues a transport command.
    pub(super) fn command(&mut self, command: TransportCommand) {
        self.commands.push_back(command);
    }

    /// The next transport command.
    pub(super) fn pop_command(&mut self) -> Option<TransportCommand> {
        self.commands.pop_front()
    }

    /// Queues an event.
    pub(super) fn event(&mut self, event: ClientEvent) {
        self.events.push_back(event);
    }

    /// The next event.
    pub(super) fn pop_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }
}
