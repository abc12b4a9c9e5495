//! Typed errors of every layer, one variant per cause; `Display` gives the words the user reads.
//!
//! This file: the codec's ([`DecodeError`], [`EncodeError`], [`PayloadEncodeError`]), the URL's and the commands'.
//! [`transport`]: how a transport ended, why a connection could not be opened, and the HTTP codec's refusals
//! ([`HttpError`]).

use std::fmt;

mod transport;

pub use transport::*;

/// Why the decoder refused a frame. Each refusal closes the connection with "parse error".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// An empty text frame.
    Empty,
    /// The Engine.IO packet type is not 0–6.
    UnknownEnginePacketType(char),
    /// The Socket.IO packet type is not 0–6.
    UnknownPacketType(char),
    /// The Engine.IO OPEN payload is not the expected handshake object.
    BadHandshake(String),
    /// The namespace is malformed (not terminated by `,`, or not valid).
    BadNamespace,
    /// The ack id is not a plain integer, or does not fit.
    BadAckId,
    /// The attachment count is not a plain small integer followed by `-`.
    BadAttachmentCount,
    /// More attachments than the configured cap.
    TooManyAttachments {
        /// Declared count.
        declared: u64,
        /// Cap in force.
        max: usize,
    },
    /// The JSON payload does not parse.
    InvalidJson(String),
    /// The JSON payload nests deeper than the cap.
    TooDeep {
        /// Cap in force.
        max: usize,
    },
    /// The payload's shape does not fit the packet type (e.g. an EVENT that is not an array).
    InvalidPayload(&'static str),
    /// The event name is reserved (`connect`, `disconnect`, …).
    ReservedEventName(String),
    /// A placeholder's `num` is not an integer in range of the attachments.
    BadPlaceholder,
    /// A binary frame arrived with no binary packet waiting for it.
    UnexpectedBinary,
    /// A text frame arrived while attachments were still due.
    UnexpectedText,
    /// A message over the size cap (`Limits::max_message_bytes`, the Godot property `max_message_size`).
    MessageTooLarge {
        /// Size of the message.
        size: usize,
        /// Cap in force.
        max: usize,
    },
    /// A polling payload (an HTTP response body) that is not valid UTF-8.
    PayloadNotUtf8,
    /// An empty packet in a polling payload (an empty body, or two separators in a row).
    EmptyPayloadPacket {
        /// Position of the packet in the payload, from 0.
        index: usize,
    },
    /// A binary packet of a polling payload (`b` + base64) whose base64 does not decode.
    InvalidBase64 {
        /// Position of the packet in the payload, from 0.
        index: usize,
    },
    /// A polling payload of more packets than the cap.
    TooManyPayloadPackets {
        /// Cap in force.
        max: usize,
    },
    /// A polling payload over the size cap.
    PayloadTooLarge {
        /// Size of the body.
        size: usize,
        /// Cap in force.
        max: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Empty => write!(f, "empty packet"),
            DecodeError::UnknownEnginePacketType(c) => write!(f, "unknown Engine.IO packet type {c:?}"),
            DecodeError::UnknownPacketType(c) => write!(f, "unknown Socket.IO packet type {c:?}"),
            DecodeError::BadHandshake(why) => write!(f, "invalid Engine.IO handshake: {why}"),
            DecodeError::BadNamespace => write!(f, "invalid namespace"),
            DecodeError::BadAckId => write!(f, "invalid ack id"),
            DecodeError::BadAttachmentCount => write!(f, "invalid attachment count"),
            DecodeError::TooManyAttachments { declared, max } => {
                write!(
                    f,
                    "{declared} binary attachments declared, at most {max} allowed (max_attachments)"
                )
            }
            DecodeError::InvalidJson(why) => write!(f, "invalid JSON payload: {why}"),
            DecodeError::TooDeep { max } => {
                write!(f, "JSON payload nested deeper than {max} levels (max_nesting_depth)")
            }
            DecodeError::InvalidPayload(why) => write!(f, "invalid payload: {why}"),
            DecodeError::ReservedEventName(name) => write!(f, "reserved event name {name:?}"),
            DecodeError::BadPlaceholder => write!(f, "invalid binary placeholder"),
            DecodeError::UnexpectedBinary => write!(f, "binary frame with no binary packet waiting"),
            DecodeError::UnexpectedText => write!(f, "text frame while binary attachments are due"),
            DecodeError::MessageTooLarge { size, max } => {
                write!(f, "message of {size} bytes, larger than max_message_size ({max} bytes)")
            }
            DecodeError::PayloadNotUtf8 => write!(f, "polling payload is not valid UTF-8"),
            DecodeError::EmptyPayloadPacket { index } => {
                write!(f, "empty packet at position {index} of a polling payload")
            }
            DecodeError::InvalidBase64 { index } => {
                write!(
                    f,
                    "invalid base64 in the binary packet at position {index} of a polling payload"
                )
            }
            DecodeError::TooManyPayloadPackets { max } => {
                write!(f, "polling payload of more than {max} packets")
            }
            DecodeError::PayloadTooLarge { size, max } => {
                write!(f, "polling payload of {size} bytes, larger than the cap ({max} bytes)")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why a value could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// A float that is NaN or infinite: JSON has no such number.
    NonFiniteFloat {
        /// Where it sits, e.g. `data[1]["pos"]`.
        path: String,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::NonFiniteFloat { path } => write!(f, "{path} is NaN or infinite, which JSON cannot carry"),
        }
    }
}

impl std::error::Error for EncodeError {}

/// Why a packet could not be put in a polling payload (an HTTP request body). Nothing of it was queued.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadEncodeError {
    /// The packet alone, encoded, is larger than the server's `maxPayload`.
    PacketTooLarge {
        /// Encoded size of the packet (`b` + base64 for a binary one).
        size: usize,
        /// The server's `maxPayload` in force.
        max: usize,
    },
    /// A text packet holding the record separator `\x1e`, which Engine.IO v4 polling cannot carry.
    SeparatorInText,
    /// An empty text packet: Engine.IO text packets start with their type digit.
    EmptyText,
}

impl fmt::Display for PayloadEncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadEncodeError::PacketTooLarge { size, max } => {
                write!(
                    f,
                    "packet of {size} bytes, larger than the server's maxPayload ({max} bytes)"
                )
            }
            PayloadEncodeError::SeparatorInText => {
                write!(
                    f,
                    "text packet holds the record separator \\x1e, which HTTP long-polling cannot carry"
                )
            }
            PayloadEncodeError::EmptyText => write!(f, "empty text packet"),
        }
    }
}

impl std::error::Error for PayloadEncodeError {}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// It does not parse as a URL.
    Invalid(String),
    /// The scheme is not `ws`, `wss`, `http` or `https`.
    UnsupportedScheme(String),
    /// It has no host.
    MissingHost,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Invalid(why) => write!(f, "invalid URL: {why}"),
            UrlError::UnsupportedScheme(s) => {
                write!(f, "unsupported URL scheme {s:?} (expected ws, wss, http or https)")
            }
            UrlError::MissingHost => write!(f, "URL has no host"),
        }
    }
}

impl std::error::Error for UrlError {}

/// Why an emit, ack or namespace command was refused. Nothing was sent or queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// The namespace path does not start with `/`.
    InvalidNamespace(String),
    /// The auth payload is not an object, or holds binary (CONNECT packets cannot carry attachments).
    InvalidAuth(String),
    /// The namespace was never created / connected on this client.
    UnknownNamespace(String),
    /// The event name is empty or reserved.
    InvalidEventName(String),
    /// A value could not be encoded.
    Encode(EncodeError),
    /// The packet is larger than the `maxPayload` the server's handshake announced. The client holds every server
    /// to its word on every transport (Node and python-socketio close the connection over WebSocket too; socketioxide
    /// only enforces it on polling bodies), so one emit is refused instead of the connection being lost.
    TooLarge {
        /// Encoded size: its largest frame over WebSocket; over polling, its largest packet in a payload (binary
        /// in base64, a third larger).
        size: usize,
        /// The server's limit.
        max: usize,
        /// Measured for HTTP long-polling.
        polling: bool,
    },
    /// The send buffer (packets waiting for the namespace to connect) is full: it holds `Limits::send_buffer_packets`
    /// packets already, or this packet would take it past `Limits::send_buffer_bytes`.
    SendBufferFull(BufferLimit),
    /// The client has no connection and is not connecting.
    NotConnected,
    /// An acknowledgement of an event that arrived in a namespace session that has ended since (see
    /// [`AckRequest`](crate::event::AckRequest)).
    AckExpired(String),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::InvalidNamespace(ns) => write!(
                f,
                "invalid namespace {ns:?}: it must start with \"/\" and hold no \",\" or control characters"
            ),
            CommandError::InvalidAuth(why) => write!(f, "invalid auth: {why}"),
            CommandError::UnknownNamespace(ns) => write!(f, "unknown namespace {ns:?}"),
            CommandError::InvalidEventName(name) => write!(f, "invalid event name {name:?}: empty or reserved"),
            CommandError::Encode(e) => e.fmt(f),
            CommandError::TooLarge { size, max, polling } => {
                let measured = if *polling {
                    " (binary counted as base64, as HTTP long-polling sends it)"
                } else {
                    ""
                };
                write!(
                    f,
                    "packet of {size} bytes{measured} is larger than the server's maxPayload of {max} bytes; raise it on \
                     the server (socket.io: maxHttpBufferSize, python-socketio: max_http_buffer_size, socketioxide: \
                     max_payload)"
                )
            }
            CommandError::SendBufferFull(BufferLimit::Packets(max)) => write!(
                f,
                "send buffer full: {max} packets are already waiting for the namespace to connect \
                 (send_buffer_max_packets)"
            ),
            CommandError::SendBufferFull(BufferLimit::Bytes { size, buffered, max }) => write!(
                f,
                "send buffer full: this packet of {size} bytes, with the {buffered} bytes already waiting for the \
                 namespace to connect, is more than send_buffer_max_bytes ({max})"
            ),
            CommandError::NotConnected => write!(f, "not connected: call connect_to_url first"),
            CommandError::AckExpired(ns) => write!(
                f,
                "the event was received in an earlier session of namespace {ns:?}, which has ended (disconnected or \
                 reconnected since): the server no longer waits for this acknowledgement, so nothing was sent"
            ),
        }
    }
}

impl std::error::Error for CommandError {}

/// Which limit of the send buffer an emit hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferLimit {
    /// The packet count, `Limits::send_buffer_packets`.
    Packets(usize),
    /// The byte count, `Limits::send_buffer_bytes`.
    Bytes {
        /// The refused packet's size.
        size: usize,
        /// Bytes already buffered.
        buffered: usize,
        /// The limit.
        max: usize,
    },
}

impl From<EncodeError> for CommandError {
    fn from(e: EncodeError) -> Self {
        CommandError::Encode(e)
    }
}
