//! Socket.IO v5 packets: encoding to a text frame plus attachments, and a decoder that refuses malformed input.

use bytes::Bytes;

use crate::binary;
use crate::config::Limits;
use crate::error::{DecodeError, EncodeError};
use crate::json;
use crate::value::Value;

/// Event names the protocol keeps for itself; neither side may emit them.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Whether `name` may be used as an event name (non-empty and not reserved).
pub fn is_valid_event_name(name: &str) -> bool {
    !name.is_empty() && !RESERVED_EVENTS.contains(&name)
}

/// Largest ack id accepted from the wire: JavaScript's largest safe integer.
pub const MAX_ACK_ID: u64 = (1 << 53) - 1;

/// Longest namespace accepted from the wire, in bytes.
const MAX_NAMESPACE_LEN: usize = 1024;

/// A complete Socket.IO packet (binary attachments already in place as [`Value::Binary`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Packet {
    /// CONNECT (type 0). From the client: the auth payload. From the server: `{"sid": ..., "pid"?: ...}`.
    Connect {
        /// Namespace path.
        namespace: String,
        /// Payload, if any.
        data: Option<Value>,
    },
    /// DISCONNECT (type 1).
    Disconnect {
        /// Namespace path.
        namespace: String,
    },
    /// EVENT (type 2) or BINARY_EVENT (type 5), chosen by whether the arguments hold binary.
    Event {
        /// Namespace path.
        namespace: String,
        /// Event name.
        name: String,
        /// Arguments after the name.
        args: Vec<Value>,
        /// Ack id, when the sender waits for an acknowledgement.
        id: Option<u64>,
    },
    /// ACK (type 3) or BINARY_ACK (type 6).
    Ack {
        /// Namespace path.
        namespace: String,
        /// The id of the event this answers.
        id: u64,
        /// The answer.
        args: Vec<Value>,
    },
    /// CONNECT_ERROR (type 4): `{"message": ..., "data"?: ...}` (or a bare string from old servers).
    ConnectError {
        /// Namespace path.
        namespace: String,
        /// Payload.
        data: Value,
    },
}

impl Packet {
    /// The packet's namespace.
    pub fn namespace(&self) -> &str {
        match self {
            Packet::Connect { namespace, .. }
            | Packet::Disconnect { namespace }
            | Packet::Event { namespace, .. }
            | Packet::Ack { namespace, .. }
            | Packet::ConnectError { namespace, .. } => namespace,
        }
    }

    /// Appends the packet's text form to `out` and pushes its attachments, in placeholder order.
    ///
    /// `out` usually already holds the Engine.IO message prefix `4`, so the frame is built in one buffer.
    pub fn encode(&self, out: &mut String, attachments: &mut Vec<Bytes>) -> Result<(), EncodeError> {
        let binary_count = match self {
            Packet::Event { args, .. } | Packet::Ack { args, .. } => args.iter().map(binary::count).sum(),
            Packet::Connect { data: Some(d), .. } => binary::count(d),
            _ => 0,
        };
        let digit = match self {
            Packet::Connect { .. } => '0',
            Packet::Disconnect { .. } => '1',
            Packet::Event { .. } if binary_count > 0 => '5',
            Packet::Event { .. } => '2',
            Packet::Ack { .. } if binary_count > 0 => '6',
            Packet::Ack { .. } => '3',
            Packet::ConnectError { .. } => '4',
        };
        out.push(digit);
        if matches!(digit, '5' | '6') {
            out.push_str(itoa::Buffer::new().format(binary_count));
            out.push('-');
        }
        let namespace = self.namespace();
        if namespace != "/" {
            out.push_str(namespace);
            out.push(',');
        }
        match self {
            Packet::Connect { data, .. } => {
                if let Some(data) = data {
                    json::write(data, out, attachments, "auth")?;
                }
            }
            Packet::Disconnect { .. } => {}
            Packet::Event { name, args, id, .. } => {
                if let Some(id) = id {
                    out.push_str(itoa::Buffer::new().format(*id));
                }
                out.push('[');
                json::write_string(name, out);
                write_args(args, out, attachments)?;
            }
            Packet::Ack { id, args, .. } => {
                out.push_str(itoa::Buffer::new().format(*id));
                out.push('[');
                let mut rest = args.iter().enumerate();
                if let Some((_, first)) = rest.next() {
                    json::write(first, out, attachments, "data[0]")?;
                }
                write_indexed(rest, out, attachments)?;
            }
            Packet::ConnectError { data, .. } => json::write(data, out, attachments, "data")?,
        }
        Ok(())
    }
}

fn write_args(args: &[Value], out: &mut String, attachments: &mut Vec<Bytes>) -> Result<(), EncodeError> {
    write_indexed(args.iter().enumerate(), out, attachments)
}

/// Writes `,arg` for each argument, then the closing `]`.
fn write_indexed<'a>(
    args: impl Iterator<Item = (usize, &'a Value)>,
    out: &mut String,
    attachments: &mut Vec<Bytes>,
) -> Result<(), EncodeError> {
    for (i, arg) in args {
        out.push(',');
        json::write(arg, out, attachments, &format!("data[{i}]"))?;
    }
    out.push(']');
    Ok(())
}

/// Turns Socket.IO text payloads and binary frames into complete packets.
///
/// It holds at most one packet waiting for its attachments; nothing is allocated from a count the peer declares.
#[derive(Debug)]
pub struct Decoder {
    max_attachments: usize,
    max_depth: usize,
    pending: Option<PendingBinary>,
}

#[derive(Debug)]
struct PendingBinary {
    packet: Packet,
    expected: usize,
    received: Vec<Bytes>,
}

impl Decoder {
    /// A decoder enforcing these limits.
    pub fn new(limits: &Limits) -> Self {
        Decoder {
            max_attachments: limits.max_attachments,
            max_depth: limits.max_depth,
            pending: None,
        }
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_waiting_for_binary(&self) -> bool {
        self.pending.is_some()
    }

    /// Forgets any partial packet (on a new connection).
    pub fn reset(&mut self) {
        self.pending = None;
    }

    /// Decodes the text of a Socket.IO packet (the Engine.IO `4` prefix already removed).
    /// Returns `None` when the packet now waits for binary attachments.
    pub fn decode_text(&mut self, text: &str) -> Result<Option<Packet>, DecodeError> {
        if self.pending.is_some() {
            return Err(DecodeError::UnexpectedText);
        }
        let (packet, attachments) = decode_packet(text, self.max_attachments, self.max_depth)?;
        if attachments == 0 {
            // No attachments, no placeholders to fill: an object that merely has a `_placeholder` key stays as is.
            return Ok(Some(packet));
        }
        self.pending = Some(PendingBinary {
            packet,
            expected: attachments,
            received: Vec::new(),
        });
        Ok(None)
    }

    /// Takes one binary attachment. Returns the packet once its last attachment has arrived.
    pub fn decode_binary(&mut self, bytes: Bytes) -> Result<Option<Packet>, DecodeError> {
        let pending = self.pending.as_mut().ok_or(DecodeError::UnexpectedBinary)?;
        pending.received.push(bytes);
        if pending.received.len() < pending.expected {
            return Ok(None);
        }
        let PendingBinary { packet, received, .. } = self.pending.take().ok_or(DecodeError::UnexpectedBinary)?;
        finish(packet, &received).map(Some)
    }
}

/// Puts attachments in place; `packet` holds the placeholders.
fn finish(mut packet: Packet, attachments: &[Bytes]) -> Result<Packet, DecodeError> {
    match &mut packet {
        Packet::Event { args, .. } | Packet::Ack { args, .. } => {
            for arg in args {
                binary::fill_placeholders(arg, attachments)?;
            }
        }
        Packet::Connect { data: Some(data), .. } | Packet::ConnectError { data, .. } => {
            binary::fill_placeholders(data, attachments)?;
        }
        _ => {}
    }
    Ok(packet)
}

/// Parses a packet's text: header, then payload checked against its type. Returns the attachment count.
fn decode_packet(text: &str, max_attachments: usize, max_depth: usize) -> Result<(Packet, usize), DecodeError> {
    let bytes = text.as_bytes();
    let kind = *bytes.first().ok_or(DecodeError::Empty)?;
    let mut pos = 1;

    let binary = matches!(kind, b'5' | b'6');
    if !(b'0'..=b'6').contains(&kind) {
        let c = text.chars().next().unwrap_or('\0');
        return Err(DecodeError::UnknownPacketType(c));
    }

    let mut attachments = 0usize;
    if binary {
        let digits = digits_at(bytes, pos);
        if digits == 0 || bytes.get(pos + digits) != Some(&b'-') || digits > 20 {
            return Err(DecodeError::BadAttachmentCount);
        }
        let declared: u64 = text[pos..pos + digits]
            .parse()
            .map_err(|_| DecodeError::BadAttachmentCount)?;
        if declared > max_attachments as u64 {
            return Err(DecodeError::TooManyAttachments {
                declared,
                max: max_attachments,
            });
        }
        attachments = declared as usize;
        pos += digits + 1;
    }

    let mut namespace = "/";
    if bytes.get(pos) == Some(&b'/') {
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b',')
            .map_or(bytes.len(), |i| pos + i);
        namespace = &text[pos..end];
        if namespace.len() > MAX_NAMESPACE_LEN || namespace.chars().any(char::is_control) {
            return Err(DecodeError::BadNamespace);
        }
        pos = (end + 1).min(bytes.len());
    }
    let namespace = namespace.to_owned();

    let digits = digits_at(bytes, pos);
    let mut id = None;
    if digits > 0 {
        let parsed: u64 = text[pos..pos + digits].parse().map_err(|_| DecodeError::BadAckId)?;
        if parsed > MAX_ACK_ID {
            return Err(DecodeError::BadAckId);
        }
        pos += digits;
        if !matches!(bytes.get(pos), None | Some(b'[' | b'{' | b'"')) {
            return Err(DecodeError::BadAckId);
        }
        id = Some(parsed);
    }

    let payload = &text[pos..];
    let data = if payload.is_empty() {
        None
    } else {
        Some(json::parse(payload, max_depth)?)
    };

    let packet = match kind {
        b'0' => match data {
            Some(Value::Object(_)) | None => Packet::Connect { namespace, data },
            Some(_) => return Err(DecodeError::InvalidPayload("CONNECT payload must be an object")),
        },
        b'1' => match data {
            None => Packet::Disconnect { namespace },
            Some(_) => return Err(DecodeError::InvalidPayload("DISCONNECT takes no payload")),
        },
        b'2' | b'5' => {
            let Some(Value::Array(mut items)) = data else {
                return Err(DecodeError::InvalidPayload("EVENT payload must be an array"));
            };
            if items.is_empty() {
                return Err(DecodeError::InvalidPayload("EVENT payload has no event name"));
            }
            let Value::String(name) = items.remove(0) else {
                return Err(DecodeError::InvalidPayload("EVENT name must be a string"));
            };
            if RESERVED_EVENTS.contains(&name.as_str()) {
                return Err(DecodeError::ReservedEventName(name));
            }
            Packet::Event {
                namespace,
                name,
                args: items,
                id,
            }
        }
        b'3' | b'6' => {
            let id = id.ok_or(DecodeError::BadAckId)?;
            let Some(Value::Array(args)) = data else {
                return Err(DecodeError::InvalidPayload("ACK payload must be an array"));
            };
            Packet::Ack { namespace, id, args }
        }
        _ => match data {
            Some(data @ (Value::Object(_) | Value::String(_))) => Packet::ConnectError { namespace, data },
            _ => {
                return Err(DecodeError::InvalidPayload(
                    "CONNECT_ERROR payload must be an object or a string",
                ))
            }
        },
    };
    if id.is_some() && !matches!(packet, Packet::Event { .. } | Packet::Ack { .. }) {
        return Err(DecodeError::BadAckId);
    }
    Ok((packet, attachments))
}

/// Number of ASCII digits starting at `pos`.
fn digits_at(bytes: &[u8], pos: usize) -> usize {
    bytes
        .get(pos..)
        .map_or(0, |rest| rest.iter().take_while(|b| b.is_ascii_digit()).count())
}
