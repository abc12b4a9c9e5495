//! Emits waiting for their namespace to connect ([`SendBuffer`], bounded by [`Limits::send_buffer_packets`] and
//! [`Limits::send_buffer_bytes`]), in the encoded form they wait in ([`Encoded`]).

use std::collections::VecDeque;

use bytes::Bytes;

use crate::codec::engineio;
use crate::codec::packet::Packet;
use crate::config::Limits;
use crate::error::{BufferLimit, CommandError};
use crate::event::AckId;

/// One encoded packet: the text frame (with its `4` prefix) and its attachments.
#[derive(Debug)]
pub(super) struct Encoded {
    pub(super) text: String,
    pub(super) attachments: Vec<Bytes>,
    /// The ack id the packet asks an answer for, if any.
    pub(super) ack: Option<AckId>,
}

impl Encoded {
    /// Encodes `packet` as an Engine.IO message, refusing it when a frame would exceed `limit` (the server's, once
    /// its handshake told it).
    pub(super) fn new(packet: &Packet, ack: Option<AckId>, limit: Option<FrameLimit>) -> Result<Encoded, CommandError> {
        let mut text = String::with_capacity(64);
        text.push(engineio::MESSAGE_PREFIX);
        let mut attachments = Vec::new();
        packet.encode(&mut text, &mut attachments)?;
        let encoded = Encoded { text, attachments, ack };
        if let Some(limit) = limit {
            limit.check(&encoded)?;
        }
        Ok(encoded)
    }

    /// Bytes of all its frames.
    pub(super) fn size(&self) -> usize {
        self.text.len() + self.attachments.iter().map(Bytes::len).sum::<usize>()
    }

    /// Bytes of its largest frame (what the server's `maxPayload` bounds) over WebSocket, or of its largest packet
    /// in a polling payload (binary as `b` + base64).
    pub(super) fn largest_frame(&self, polling: bool) -> usize {
        self.attachments
            .iter()
            .map(|b| if polling { 1 + b.len().div_ceil(3) * 4 } else { b.len() })
            .fold(self.text.len(), usize::max)
    }
}

/// The server's `maxPayload`, on the transport in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FrameLimit {
    pub(super) max_payload: usize,
    /// HTTP long-polling: binary is sent as base64.
    pub(super) polling: bool,
}

impl FrameLimit {
    /// Refuses `encoded` when a frame of it exceeds the limit.
    pub(super) fn check(self, encoded: &Encoded) -> Result<(), CommandError> {
        let size = encoded.largest_frame(self.polling);
        if size > self.max_payload {
            return Err(CommandError::TooLarge {
                size,
                max: self.max_payload,
                polling: self.polling,
            });
        }
        Ok(())
    }
}

/// One namespace's emits waiting for it to connect, in order.
#[derive(Debug, Default)]
pub(super) struct SendBuffer {
    packets: VecDeque<Encoded>,
    /// [`Encoded::size`] of them all.
    bytes: usize,
}

impl SendBuffer {
    /// Number of emits waiting.
    pub(super) fn len(&self) -> usize {
        self.packets.len()
    }

    /// Adds `encoded` at the end, or refuses it ([`CommandError::SendBufferFull`]) when that would pass `limits`.
    pub(super) fn push(&mut self, encoded: Encoded, limits: &Limits) -> Result<(), CommandError> {
        let size = encoded.size();
        if self.packets.len() >= limits.send_buffer_packets {
            return Err(CommandError::SendBufferFull(BufferLimit::Packets(
                limits.send_buffer_packets,
            )));
        }
        if self.bytes + size > limits.send_buffer_bytes {
            return Err(CommandError::SendBufferFull(BufferLimit::Bytes {
                size,
                buffered: self.bytes,
                max: limits.send_buffer_bytes,
            }));
        }
        self.bytes += size;
        self.packets.push_back(encoded);
        Ok(())
    }

    /// Drops the emit that asked for ack `id`, if it still waits here.
    pub(super) fn remove_ack(&mut self, id: AckId) {
        if let Some(pos) = self.packets.iter().position(|e| e.ack == Some(id)) {
            if let Some(removed) = self.packets.remove(pos) {
                self.bytes -= removed.size();
            }
        }
    }

    /// Takes every emit out, in order, leaving the buffer empty.
    pub(super) fn take(&mut self) -> VecDeque<Encoded> {
        self.bytes = 0;
        std::mem::take(&mut self.packets)
    }
}
