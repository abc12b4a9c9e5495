//! Socket.IO v5 packets: encoding to a text frame plus attachments, and a decoder that refuses malformed input.
//!
//! Outgoing packets are [`Packet`]s of [`Value`]s. Incoming ones are [`Received`]: their payloads are checked but
//! not decoded ([`Payload`]), and a large one is checked in steps ([`Decoder::resume`]), so that neither memory nor a
//! single poll grows with the message beyond the message itself.

use bytes::Bytes;

use crate::check;
use crate::codec::binary;
use crate::codec::json;
use crate::codec::payload::{Check, First, Payload, Root};
use crate::codec::raw::Utf8Bytes;
use crate::codec::value::Value;
use crate::config::Limits;
use crate::error::{DecodeError, EncodeError};

/// Largest ack id accepted from the wire: JavaScript's largest safe integer.
pub const MAX_ACK_ID: u64 = (1 << 53) - 1;

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
        // The path is formatted only for an error.
        json::write(arg, out, attachments, format_args!("data[{i}]"))?;
    }
    out.push(']');
    Ok(())
}

/// A packet as received: its payloads checked, not decoded (see [`Payload`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    /// CONNECT: the server's answer `{"sid": ..., "pid"?: ...}`.
    Connect {
        /// Namespace path.
        namespace: String,
        /// Payload (an object), if any.
        data: Option<Payload>,
    },
    /// DISCONNECT.
    Disconnect {
        /// Namespace path.
        namespace: String,
    },
    /// EVENT or BINARY_EVENT.
    Event {
        /// Namespace path.
        namespace: String,
        /// Event name.
        name: String,
        /// Arguments after the name (an array payload, attachments in place).
        args: Payload,
        /// Ack id, when the sender waits for an acknowledgement.
        id: Option<u64>,
    },
    /// ACK or BINARY_ACK.
    Ack {
        /// Namespace path.
        namespace: String,
        /// The id of the event this answers.
        id: u64,
        /// The answer (an array payload).
        args: Payload,
    },
    /// CONNECT_ERROR: an object `{"message": ..., "data"?: ...}` or a string.
    ConnectError {
        /// Namespace path.
        namespace: String,
        /// Payload.
        data: Payload,
    },
}

impl Received {
    /// The packet's namespace.
    pub fn namespace(&self) -> &str {
        match self {
            Received::Connect { namespace, .. }
            | Received::Disconnect { namespace }
            | Received::Event { namespace, .. }
            | Received::Ack { namespace, .. }
            | Received::ConnectError { namespace, .. } => namespace,
        }
    }

    /// The same packet with its payloads decoded into [`Value`]s (for tests and tools: a tree is several times the
    /// size of its text).
    pub fn to_packet(&self) -> Packet {
        match self.clone() {
            Received::Connect { namespace, data } => Packet::Connect {
                namespace,
                data: data.map(|d| d.to_value()),
            },
            Received::Disconnect { namespace } => Packet::Disconnect { namespace },
            Received::Event {
                namespace,
                name,
                args,
                id,
            } => Packet::Event {
                namespace,
                name,
                args: args.to_values(),
                id,
            },
            Received::Ack { namespace, id, args } => Packet::Ack {
                namespace,
                id,
                args: args.to_values(),
            },
            Received::ConnectError { namespace, data } => Packet::ConnectError {
                namespace,
                data: data.to_value(),
            },
        }
    }
}

/// Turns Socket.IO text payloads and binary frames into complete packets.
///
/// It holds at most one packet being checked or waiting for its attachments; nothing is allocated from a count the
/// peer declares. A text is checked `step` bytes at a time when the decoder was made [`with_step`](Self::with_step):
/// [`decode_message`](Self::decode_message) then returns `None` until [`resume`](Self::resume) has checked it all.
#[derive(Debug)]
pub struct Decoder {
    max_attachments: usize,
    max_depth: usize,
    step: usize,
    state: State,
}

#[derive(Debug)]
enum State {
    Idle,
    /// A text being checked.
    Checking(Box<Checking>),
    /// A binary packet waiting for attachments.
    Binary(Box<PendingBinary>),
}

#[derive(Debug)]
struct Checking {
    header: Header,
    text: Utf8Bytes,
    check: Check,
}

#[derive(Debug)]
struct PendingBinary {
    packet: Received,
    expected: usize,
    received: Vec<Bytes>,
}

/// What precedes a packet's payload.
#[derive(Debug)]
struct Header {
    kind: u8,
    namespace: String,
    id: Option<u64>,
    attachments: usize,
}

impl Decoder {
    /// A decoder enforcing these limits, checking each text in one go.
    pub fn new(limits: &Limits) -> Self {
        Decoder {
            max_attachments: limits.max_attachments,
            max_depth: limits.max_depth,
            step: usize::MAX,
            state: State::Idle,
        }
    }

    /// The same, checking texts `step` bytes at a time (at least one token per step).
    pub fn with_step(mut self, step: usize) -> Self {
        self.step = step.max(1);
        self
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_waiting_for_binary(&self) -> bool {
        matches!(self.state, State::Binary(_))
    }

    /// Whether a text is being checked (call [`resume`](Self::resume)).
    pub fn is_checking(&self) -> bool {
        matches!(self.state, State::Checking(_))
    }

    /// Forgets any partial packet (on a new connection).
    pub fn reset(&mut self) {
        self.state = State::Idle;
    }

    /// Decodes the text of a Socket.IO packet (without the Engine.IO `4` prefix), checking it in one go. Returns
    /// `None` when the packet now waits for binary attachments.
    pub fn decode_text(&mut self, text: &str) -> Result<Option<Received>, DecodeError> {
        let step = std::mem::replace(&mut self.step, usize::MAX);
        let result = self.decode_message(text.into(), 0);
        self.step = step;
        result
    }

    /// Decodes the Socket.IO packet at `text[at..]` (an Engine.IO message: `at` is 1, after its `4`). The text is
    /// kept, not copied, as the payload's. Returns `None` while the text is still being checked (see
    /// [`resume`](Self::resume)) or the packet waits for binary attachments.
    pub fn decode_message(&mut self, text: Utf8Bytes, at: usize) -> Result<Option<Received>, DecodeError> {
        if !matches!(self.state, State::Idle) {
            return Err(DecodeError::UnexpectedText);
        }
        let (header, payload_at) = decode_header(text.get(at..).ok_or(DecodeError::Empty)?, self.max_attachments)?;
        let payload_at = at + payload_at;
        if payload_at >= text.len() {
            // No payload at all.
            return self.finish(header, None);
        }
        let check = Check::new(&text, payload_at, self.max_depth, header.attachments);
        self.state = State::Checking(Box::new(Checking { header, text, check }));
        self.resume()
    }

    /// Checks the next `step` bytes of the text being checked; returns the packet once it is all checked (`None`
    /// before, and when the packet then waits for attachments, or when nothing is being checked).
    pub fn resume(&mut self) -> Result<Option<Received>, DecodeError> {
        let State::Checking(checking) = &mut self.state else {
            return Ok(None);
        };
        match checking.check.step(&checking.text, self.step) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(e) => {
                self.state = State::Idle;
                return Err(e);
            }
        }
        let State::Checking(checking) = std::mem::replace(&mut self.state, State::Idle) else {
            return Ok(None);
        };
        let Checking { header, text, check } = *checking;
        self.finish(header, Some((text, check)))
    }

    /// Takes one binary attachment. Returns the packet once its last attachment has arrived.
    pub fn decode_binary(&mut self, bytes: Bytes) -> Result<Option<Received>, DecodeError> {
        let State::Binary(pending) = &mut self.state else {
            self.state = State::Idle;
            return Err(DecodeError::UnexpectedBinary);
        };
        pending.received.push(bytes);
        if pending.received.len() < pending.expected {
            return Ok(None);
        }
        let State::Binary(pending) = std::mem::replace(&mut self.state, State::Idle) else {
            return Err(DecodeError::UnexpectedBinary);
        };
        let PendingBinary {
            mut packet, received, ..
        } = *pending;
        match &mut packet {
            Received::Event { args, .. } | Received::Ack { args, .. } => {
                if !args.placeholders_valid() {
                    return Err(DecodeError::BadPlaceholder);
                }
                args.set_attachments(received);
            }
            // Only EVENT and ACK packets can be binary.
            _ => {}
        }
        Ok(Some(packet))
    }

    /// The packet of a checked payload (or of none), refused when its payload does not fit its type.
    fn finish(&mut self, header: Header, payload: Option<(Utf8Bytes, Check)>) -> Result<Option<Received>, DecodeError> {
        let Header {
            kind,
            namespace,
            id,
            attachments,
        } = header;
        let root = payload.as_ref().and_then(|(_, check)| check.root);
        let packet = match kind {
            b'0' => match payload {
                None => Received::Connect { namespace, data: None },
                Some((text, check)) if root == Some(Root::Object) => Received::Connect {
                    namespace,
                    data: Some(check.into_payload(text, false)),
                },
                Some(_) => return Err(DecodeError::InvalidPayload("CONNECT payload must be an object")),
            },
            b'1' => match payload {
                None => Received::Disconnect { namespace },
                Some(_) => return Err(DecodeError::InvalidPayload("DISCONNECT takes no payload")),
            },
            b'2' | b'5' => {
                let Some((text, check)) = payload.filter(|_| root == Some(Root::Array)) else {
                    return Err(DecodeError::InvalidPayload("EVENT payload must be an array"));
                };
                let name = match &check.first {
                    None => return Err(DecodeError::InvalidPayload("EVENT payload has no event name")),
                    Some(First::Other) => return Err(DecodeError::InvalidPayload("EVENT name must be a string")),
                    Some(First::Str(name)) => name.clone(),
                };
                if check::is_reserved_event(&name) {
                    return Err(DecodeError::ReservedEventName(name));
                }
                Received::Event {
                    namespace,
                    name,
                    args: check.into_payload(text, true),
                    id,
                }
            }
            b'3' | b'6' => {
                let id = id.ok_or(DecodeError::BadAckId)?;
                let Some((text, check)) = payload.filter(|_| root == Some(Root::Array)) else {
                    return Err(DecodeError::InvalidPayload("ACK payload must be an array"));
                };
                Received::Ack {
                    namespace,
                    id,
                    args: check.into_payload(text, false),
                }
            }
            _ => match payload {
                Some((text, check)) if matches!(root, Some(Root::Object | Root::Str)) => Received::ConnectError {
                    namespace,
                    data: check.into_payload(text, false),
                },
                _ => {
                    return Err(DecodeError::InvalidPayload(
                        "CONNECT_ERROR payload must be an object or a string",
                    ))
                }
            },
        };
        if id.is_some() && !matches!(packet, Received::Event { .. } | Received::Ack { .. }) {
            return Err(DecodeError::BadAckId);
        }
        if attachments == 0 {
            // No attachments, no placeholders to fill: an object that merely has a `_placeholder` key stays as is.
            return Ok(Some(packet));
        }
        self.state = State::Binary(Box::new(PendingBinary {
            packet,
            expected: attachments,
            received: Vec::new(),
        }));
        Ok(None)
    }
}

/// Parses a packet's header (type, attachment count, namespace, ack id). Returns it with the payload's offset.
fn decode_header(text: &str, max_attachments: usize) -> Result<(Header, usize), DecodeError> {
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
        if check::namespace(namespace).is_err() {
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
    Ok((
        Header {
            kind,
            namespace,
            id,
            attachments,
        },
        pos,
    ))
}

/// Number of ASCII digits starting at `pos`.
fn digits_at(bytes: &[u8], pos: usize) -> usize {
    bytes
        .get(pos..)
        .map_or(0, |rest| rest.iter().take_while(|b| b.is_ascii_digit()).count())
}
