//! Received payloads → Godot values: straight from the JSON text, in chunks, over several polls when there is much
//! to build.
//!
//! # How
//!
//! A [`Build`] reads the payload item by item ([`socketio_core::codec::payload::Reader`]) and writes each value in Godot's
//! binary serialization ([`crate::marshal`]) into a buffer; one `bytes_to_var` call then makes the Godot value of the
//! whole buffer. That is the fast path, and all a small event takes: one pass over the text, one engine call,
//! nothing allocated per value on the Rust side.
//!
//! A large payload is built in chunks: whenever the buffer holds [`CHUNK_VALUES`] values or [`CHUNK_BYTES`] bytes,
//! the containers open at that point are made Godot objects ("built"), and what the buffer holds for each of them is
//! decoded with one `bytes_to_var` and appended to it (`append_array`, or `merge` for a dictionary, which keeps the
//! last of duplicate keys in the place of the first, as one `bytes_to_var` would). The buffer then starts again.
//! Strings and binary attachments larger than [`BIG_LEAF`] bytes do not go through the buffer: they are made
//! directly (one copy each) and added to their built container.
//!
//! So the memory a build takes beyond the payload's own text is the value it makes, one chunk, and, while a built
//! array grows, Godot's reallocation of it (up to twice its size for a moment). No tree is made of the values.
//!
//! # Over several polls
//!
//! [`Build::run`] stops once its deadline has passed (checked every [`CHECK_EVERY`] items and after each chunk) and
//! goes on where it stopped at the next call. The dispatcher ([`crate::dispatch`]) holds the event until its build is
//! complete and dispatches nothing after it meanwhile, so events still reach the game in the order they came. The
//! largest piece of work that cannot be cut is one chunk (about 4,096 dictionaries: 0.8 ms on a 2-core VM) or one
//! large leaf (a 16 MiB string: about 15 ms, Godot's own UTF-8 decoding).
//!
//! The building steps are behind [`Sink`], so that the chunking is tested without an engine (`tests.rs`, with a
//! sink that decodes the chunks into [`Value`](socketio_core::Value)s); [`Godot`] is the engine's ([`engine`]: it
//! turns the chunks into `Array`s and `Dictionary`s, and [`array`] and [`value`] build small payloads in one go).

mod engine;
#[cfg(test)]
mod tests;

use std::time::Instant;

use bytes::Bytes;
use socketio_core::codec::payload::{Item, Reader};
use socketio_core::Payload;

use crate::marshal::{
    godot_text, put_padded, put_u32, ARRAY, BOOL, DICTIONARY, FLAG_64, FLOAT, INT, NIL, PACKED_BYTE_ARRAY, STRING,
};

pub use engine::{array, value, Godot};

/// Values written to the buffer before its containers are built and it is decoded: one chunk, a bounded piece of
/// engine work (4,096 empty dictionaries take about 0.8 ms to decode; 4,096 integers 0.15 ms).
pub const CHUNK_VALUES: usize = 4096;

/// Bytes written to the buffer before it is decoded, whatever the number of values (long strings).
pub const CHUNK_BYTES: usize = 256 << 10;

/// Strings and attachments larger than this are made directly rather than through the buffer (which would copy
/// them twice more).
pub const BIG_LEAF: usize = 64 << 10;

/// Items read between two looks at the clock.
pub const CHECK_EVERY: usize = 512;

/// A payload whose text and attachments are at most this large is built in one go, without looking at the clock.
pub const SMALL_PAYLOAD: usize = 64 << 10;

/// What a build makes its values with.
pub trait Sink {
    /// An array or dictionary being filled.
    type Container;
    /// A value.
    type Value;

    /// Decodes a complete serialized `Array` or `Dictionary` (header, count, values).
    fn decode(&mut self, bytes: &[u8]) -> Self::Container;
    /// A new empty array or dictionary.
    fn empty(&mut self, dict: bool) -> Self::Container;
    /// Appends the values (or entries) of `from` to `into`.
    fn extend(&mut self, into: &mut Self::Container, from: Self::Container);
    /// Appends `value` to an array, or sets `key` to it in a dictionary.
    fn push(&mut self, into: &mut Self::Container, key: Option<&str>, value: Self::Value);
    /// A string value.
    fn string(&mut self, s: &str) -> Self::Value;
    /// A binary value.
    fn binary(&mut self, bytes: &Bytes) -> Self::Value;
    /// A container as a value.
    fn value(&mut self, container: Self::Container) -> Self::Value;
}

/// A container open in the buffer.
#[derive(Debug)]
struct Inline {
    dict: bool,
    /// Where its entry starts in the buffer: its key, when its parent is a dictionary; else its header.
    start: usize,
    /// Where its key is, when its parent is a dictionary.
    key_at: Option<usize>,
    /// Where its header is (its count follows).
    header_at: usize,
    /// Values (entries for a dictionary) complete so far.
    count: u32,
}

/// A container made a Godot object.
struct Built<C> {
    dict: bool,
    /// `None` until something is added to it.
    object: Option<C>,
    /// Its key in its parent, when that is a dictionary.
    key: Option<String>,
}

/// Where a build stands. See the [module documentation](self).
pub struct Build<S: Sink> {
    payload: Payload,
    reader: Reader,
    /// The payload is read to its end.
    read_all: bool,
    writer: Writer<S>,
}

/// The buffer and the containers of a build (apart from the payload, which the items being written borrow).
struct Writer<S: Sink> {
    /// Serialized values; the first 8 bytes are kept free for the header of the innermost built container.
    buf: Vec<u8>,
    inline: Vec<Inline>,
    built: Vec<Built<S::Container>>,
    /// Values in the buffer directly under the innermost built container.
    pending: u32,
    /// Values written to the buffer since it was last decoded.
    written: usize,
    /// A key was written whose value has not started yet; it is at `key_at`.
    key_pending: bool,
    key_at: usize,
    result: Option<S::Value>,
    chunk_values: usize,
    chunk_bytes: usize,
}

/// Room for a header and a count at the start of the buffer.
const RESERVED: usize = 8;

impl<S: Sink> Build<S> {
    /// A build of `payload`, an array (an event's or ack's arguments): [`finish`](Self::finish) gives that array.
    pub fn new(payload: Payload) -> Self {
        Self::with_chunks(payload, CHUNK_VALUES, CHUNK_BYTES)
    }

    /// The same with other chunk sizes (tests).
    pub fn with_chunks(payload: Payload, chunk_values: usize, chunk_bytes: usize) -> Self {
        let reader = payload.reader();
        let mut buf = Vec::with_capacity(64);
        buf.resize(RESERVED, 0);
        Build {
            payload,
            reader,
            read_all: false,
            writer: Writer {
                buf,
                inline: Vec::new(),
                built: Vec::new(),
                pending: 0,
                written: 0,
                key_pending: false,
                key_at: 0,
                result: None,
                chunk_values: chunk_values.max(1),
                chunk_bytes,
            },
        }
    }

    /// Whether the payload is small enough to be built in one go (see [`SMALL_PAYLOAD`]).
    pub fn is_small(&self) -> bool {
        self.payload.json_len() + self.payload.binary_len() <= SMALL_PAYLOAD
    }

    /// Builds until the value is complete (returns `true`) or `deadline` has passed (`false`: call again).
    /// Without a deadline it runs to completion.
    pub fn run(&mut self, sink: &mut S, deadline: Option<Instant>) -> bool {
        let mut items = 0;
        while !self.read_all {
            let Some(item) = self.reader.next(&self.payload) else {
                self.read_all = true;
                break;
            };
            // The payload is borrowed by `item`: take what is needed out of it first.
            let writer = &mut self.writer;
            let chunked = match item {
                Item::Str(s) if s.raw().len() > BIG_LEAF => {
                    let value = sink.string(&godot_text(&s.unescape()));
                    writer.add_direct(sink, value);
                    true
                }
                Item::Binary(b) if b.len() > BIG_LEAF => {
                    let value = sink.binary(b);
                    writer.add_direct(sink, value);
                    true
                }
                item => writer.item(sink, item),
            };
            items += 1;
            let check = chunked || items % CHECK_EVERY == 0;
            if check && deadline.is_some_and(|d| Instant::now() >= d) {
                return self.writer.result.is_some();
            }
        }
        if self.writer.result.is_none() {
            // Only a malformed payload ends with containers open; the checked ones never do.
            while !self.writer.built.is_empty() {
                self.writer.close_built(sink);
            }
        }
        true
    }

    /// The built value (an empty array if the build is not complete, which it is after [`run`](Self::run) returned
    /// `true`).
    pub fn finish(mut self, sink: &mut S) -> S::Value {
        match self.writer.result.take() {
            Some(value) => value,
            None => {
                let empty = sink.empty(false);
                sink.value(empty)
            }
        }
    }
}

impl<S: Sink> Writer<S> {
    /// Writes one item; returns whether a chunk was decoded.
    fn item(&mut self, sink: &mut S, item: Item<'_>) -> bool {
        match item {
            Item::ArrayStart | Item::ObjectStart => {
                let dict = item == Item::ObjectStart;
                if self.built.is_empty() {
                    // The payload's own array.
                    self.built.push(Built {
                        dict,
                        object: None,
                        key: None,
                    });
                    return false;
                }
                let key_at = self.key_pending.then_some(self.key_at);
                self.key_pending = false;
                let header_at = self.buf.len();
                put_u32(&mut self.buf, if dict { DICTIONARY } else { ARRAY });
                put_u32(&mut self.buf, 0);
                self.inline.push(Inline {
                    dict,
                    start: key_at.unwrap_or(header_at),
                    key_at,
                    header_at,
                    count: 0,
                });
                self.written += 1;
            }
            Item::ArrayEnd | Item::ObjectEnd => {
                if let Some(done) = self.inline.pop() {
                    self.buf[done.header_at + 4..done.header_at + 8].copy_from_slice(&done.count.to_le_bytes());
                    self.completed();
                } else {
                    self.close_built(sink);
                    return true;
                }
            }
            Item::Key(key) => {
                self.key_at = self.buf.len();
                self.key_pending = true;
                put_u32(&mut self.buf, STRING);
                put_padded(&mut self.buf, godot_text(&key.unescape()).as_bytes());
                self.written += 1;
            }
            Item::Null => self.scalar(|buf| put_u32(buf, NIL)),
            Item::Bool(b) => self.scalar(|buf| {
                put_u32(buf, BOOL);
                put_u32(buf, u32::from(b));
            }),
            Item::Int(i) => self.scalar(|buf| match i32::try_from(i) {
                Ok(small) => {
                    put_u32(buf, INT);
                    buf.extend_from_slice(&small.to_le_bytes());
                }
                Err(_) => {
                    put_u32(buf, INT | FLAG_64);
                    buf.extend_from_slice(&i.to_le_bytes());
                }
            }),
            Item::Float(f) => self.scalar(|buf| {
                put_u32(buf, FLOAT | FLAG_64);
                buf.extend_from_slice(&f.to_le_bytes());
            }),
            Item::Str(s) => {
                let unescaped = s.unescape();
                let s = godot_text(&unescaped);
                self.scalar(|buf| {
                    put_u32(buf, STRING);
                    put_padded(buf, s.as_bytes());
                });
            }
            Item::Binary(bytes) => self.scalar(|buf| {
                put_u32(buf, PACKED_BYTE_ARRAY);
                put_padded(buf, bytes);
            }),
        }
        if self.written >= self.chunk_values || self.buf.len() >= self.chunk_bytes {
            self.chunk(sink);
            return true;
        }
        false
    }

    fn scalar(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.buf);
        self.written += 1;
        self.completed();
    }

    /// A value directly under the innermost open container is complete.
    fn completed(&mut self) {
        self.key_pending = false;
        match self.inline.last_mut() {
            Some(open) => open.count += 1,
            None => self.pending += 1,
        }
    }

    /// Builds every container open in the buffer and decodes what the buffer holds for each; the buffer then holds
    /// only a key whose value is still to come, if any.
    fn chunk(&mut self, sink: &mut S) {
        let inline = std::mem::take(&mut self.inline);
        let tail = if self.key_pending { self.key_at } else { self.buf.len() };
        let first_end = inline.first().map_or(tail, |open| open.start);
        let pending = std::mem::take(&mut self.pending);
        self.decode_into_top(sink, first_end, pending);
        for (i, open) in inline.iter().enumerate() {
            let end = inline.get(i + 1).map_or(tail, |next| next.start);
            let key = open.key_at.map(|at| self.key(at).to_owned());
            self.buf[open.header_at + 4..open.header_at + 8].copy_from_slice(&open.count.to_le_bytes());
            let object = (open.count > 0).then(|| sink.decode(&self.buf[open.header_at..end]));
            self.built.push(Built {
                dict: open.dict,
                object,
                key,
            });
        }
        // Keep the pending key, moved to the start.
        if self.key_pending {
            let key_len = self.buf.len() - self.key_at;
            self.buf.copy_within(self.key_at.., RESERVED);
            self.buf.truncate(RESERVED + key_len);
            self.key_at = RESERVED;
            self.written = 1;
        } else {
            self.buf.truncate(RESERVED);
            self.written = 0;
        }
    }

    /// Decodes the `count` values of `buf[RESERVED..end]` into the innermost built container.
    fn decode_into_top(&mut self, sink: &mut S, end: usize, count: u32) {
        let Some(top) = self.built.last_mut() else {
            return;
        };
        if count == 0 {
            return;
        }
        self.buf[0..4].copy_from_slice(&(if top.dict { DICTIONARY } else { ARRAY }).to_le_bytes());
        self.buf[4..8].copy_from_slice(&count.to_le_bytes());
        let decoded = sink.decode(&self.buf[..end]);
        match &mut top.object {
            Some(object) => sink.extend(object, decoded),
            None => top.object = Some(decoded),
        }
    }

    /// The key written at `at`.
    fn key(&self, at: usize) -> &str {
        let len = self
            .buf
            .get(at + 4..at + 8)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
        self.buf
            .get(at + 8..at + 8 + len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// Adds a value made directly (a large leaf) to the innermost container, building the open ones first.
    fn add_direct(&mut self, sink: &mut S, value: S::Value) {
        self.chunk(sink);
        let key = self.key_pending.then(|| self.key(self.key_at).to_owned());
        self.key_pending = false;
        self.buf.truncate(RESERVED);
        self.written = 0;
        if let Some(top) = self.built.last_mut() {
            let dict = top.dict;
            let object = top.object.get_or_insert_with(|| sink.empty(dict));
            sink.push(object, key.as_deref(), value);
        }
    }

    /// The innermost built container is complete: decode what the buffer holds for it, then add it to its parent
    /// (or make it the result).
    fn close_built(&mut self, sink: &mut S) {
        let pending = std::mem::take(&mut self.pending);
        let end = self.buf.len();
        self.decode_into_top(sink, end, pending);
        self.buf.truncate(RESERVED);
        self.written = 0;
        let Some(done) = self.built.pop() else {
            return;
        };
        let object = done.object.unwrap_or_else(|| sink.empty(done.dict));
        let value = sink.value(object);
        match self.built.last_mut() {
            Some(parent) => {
                let dict = parent.dict;
                let object = parent.object.get_or_insert_with(|| sink.empty(dict));
                sink.push(object, done.key.as_deref(), value);
            }
            None => self.result = Some(value),
        }
    }
}
