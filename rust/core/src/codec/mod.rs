//! The codec: Engine.IO and Socket.IO packets to and from the messages a transport carries. No I/O, no state
//! beyond one message's attachments.
//!
//! - [`engineio`]: Engine.IO v4 packets (`0{...}` open, `2`/`3` ping and pong, `4…` message, binary frames).
//! - [`packet`]: Socket.IO v5 packets inside Engine.IO messages, with the [`packet::Decoder`] that reassembles
//!   binary attachments; every refusal is a typed [`DecodeError`](crate::DecodeError).
//! - [`polling`]: Engine.IO v4 HTTP long-polling bodies: packets joined by `\x1e`, binary ones as `b` + base64,
//!   and the batcher that keeps each request body within the server's `maxPayload`.
//! - [`payload`]: received argument lists, checked but kept as JSON text and read token by token.
//! - [`json`], [`binary`], [`value`]: the JSON tokenizer and writer, attachment placeholders, and the value tree
//!   that outgoing arguments are written from.
//! - [`raw`]: one Engine.IO packet as a transport carries it, text or binary, not yet decoded.

pub mod binary;
pub mod engineio;
pub mod json;
pub mod packet;
pub mod payload;
pub mod polling;
pub mod raw;
pub mod value;
