// Just over 600 lines, on purpose: the checker and the reader walk the same grammar, and are kept side by side
// so that a change to one is seen beside the other.

//! Received payloads: JSON text checked once, kept as it came, and read again token by token by whoever converts
//! it. No tree of the values is ever built on the way to the game.
//!
//! # Why no tree
//!
//! A tree of [`Value`]s takes 32 bytes per value and more per container, several times the text it came from (a
//! `1,` is two bytes): a 16 MiB array of small integers made a tree of about 270 MiB, held until the game's own
//! copy was made. A [`Payload`] holds the message's text (moved in, not copied), its binary attachments, and the
//! places of the attachments' placeholders: its size is the message's plus a few words per attachment. Its
//! consumer reads it with a [`Reader`] and builds its own representation straight from the text (the Godot layer
//! builds Godot Variants in chunks, over several polls when there is much to build).
//!
//! # Checked once
//!
//! The decoder checks a payload's text completely before anything is delivered (see [`Check`]): a payload is either
//! refused as a whole, with a [`DecodeError`](crate::DecodeError), or delivered as valid JSON of the expected shape.
//! The check can be done in steps (the [`Tokenizer`] resumes between any two tokens), so a large message does not
//! stall the poll that completes it. Reading a payload again therefore cannot fail: a [`Reader`] yields what the
//! check saw.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::codec::json::{self, Num, Str, Token, Tokenizer, MAX_DEPTH};
use crate::codec::raw::Utf8Bytes;
use crate::codec::value::Value;
use crate::error::{DecodeError, EncodeError};

/// Where a binary attachment's placeholder object `{"_placeholder":true,"num":N}` sits in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placeholder {
    /// Offset of its `{`.
    pub at: usize,
    /// Offset just after its `}`.
    pub end: usize,
    /// The attachment it stands for; `None` when `num` is not an integer below the attachment count.
    pub num: Option<usize>,
}

/// A string's text inside the payload's text: `start..end` between its quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StrAt {
    start: usize,
    end: usize,
    escaped: bool,
}

/// A received JSON value (an event's or ack's arguments, a CONNECT answer, a CONNECT_ERROR's data) with its binary
/// attachments, checked but not decoded. See the [module documentation](self).
///
/// Equality compares the values ([`to_value`](Self::to_value)); cloning shares the text.
#[derive(Clone)]
pub struct Payload {
    /// The whole message text (shared, not copied); the value is `text[start..end]`.
    text: Utf8Bytes,
    start: usize,
    end: usize,
    /// The root is an array whose first item is not part of the payload (an event's name).
    skip_first: bool,
    /// Items of a root array (without the skipped one).
    len: usize,
    /// The last item of a root array, when it is a string (and not the skipped one).
    last: Option<StrAt>,
    placeholders: Arc<[Placeholder]>,
    attachments: Vec<Bytes>,
}

impl Payload {
    /// An empty array (`[]`).
    pub fn empty() -> Self {
        Payload {
            text: Utf8Bytes::from_static("[]"),
            start: 0,
            end: 2,
            skip_first: false,
            len: 0,
            last: None,
            placeholders: Arc::new([]),
            attachments: Vec::new(),
        }
    }

    /// `text` checked as one JSON value nested at most `max_depth` deep, in one go (for small texts such as a
    /// handshake; the decoder checks received messages in steps).
    pub fn parse(text: &str, max_depth: usize) -> Result<Self, DecodeError> {
        let mut check = Check::new(text, 0, max_depth, 0);
        // With no budget to stop at, the check goes to the end of the text.
        check.step(text, usize::MAX)?;
        Ok(check.into_payload(text.into(), false))
    }

    /// The array of `values`, as it would arrive: written as JSON (binary as attachments) and checked.
    pub fn from_values(values: &[Value]) -> Result<Self, EncodeError> {
        Self::from_value(&Value::Array(values.to_vec()))
    }

    /// `value` as it would arrive; see [`from_values`](Self::from_values).
    pub fn from_value(value: &Value) -> Result<Self, EncodeError> {
        let mut text = String::new();
        let mut attachments = Vec::new();
        json::write(value, &mut text, &mut attachments, "value")?;
        let mut check = Check::new(&text, 0, MAX_DEPTH, attachments.len());
        // What `json::write` writes is JSON: this check cannot fail.
        let checked = check.step(&text, usize::MAX).unwrap_or(true);
        debug_assert!(checked);
        let mut payload = check.into_payload(text.into(), false);
        payload.attachments = attachments;
        Ok(payload)
    }

    /// Number of items when the payload is an array (an event's or ack's arguments), otherwise 0.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether [`len`](Self::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of JSON text to read.
    pub fn json_len(&self) -> usize {
        self.end - self.start
    }

    /// Bytes of binary attachments.
    pub fn binary_len(&self) -> usize {
        self.attachments.iter().map(Bytes::len).sum()
    }

    /// A reader of the payload's tokens, from the start.
    pub fn reader(&self) -> Reader {
        Reader {
            tokenizer: Tokenizer::range(self.start, self.end, MAX_DEPTH),
            placeholder: 0,
            skip_pending: false,
            skip_first: self.skip_first,
        }
    }

    /// The payload as a [`Value`] tree (for tests and small payloads: a tree is several times the size of its text).
    pub fn to_value(&self) -> Value {
        let mut reader = self.reader();
        let mut stack: Vec<Value> = Vec::new();
        let mut keys: Vec<String> = Vec::new();
        while let Some(item) = reader.next(self) {
            let value = match item {
                Item::Null => Value::Null,
                Item::Bool(b) => Value::Bool(b),
                Item::Int(i) => Value::Int(i),
                Item::Float(f) => Value::Float(f),
                Item::Str(s) => Value::String(s.unescape().into_owned()),
                Item::Binary(b) => Value::Binary(b.clone()),
                Item::Key(k) => {
                    keys.push(k.unescape().into_owned());
                    continue;
                }
                Item::ArrayStart => {
                    stack.push(Value::Array(Vec::new()));
                    continue;
                }
                Item::ObjectStart => {
                    stack.push(Value::Object(Vec::new()));
                    continue;
                }
                Item::ArrayEnd | Item::ObjectEnd => match stack.pop() {
                    Some(done) => done,
                    None => break,
                },
            };
            match stack.last_mut() {
                None => return value,
                Some(Value::Array(items)) => items.push(value),
                Some(Value::Object(entries)) => entries.push((keys.pop().unwrap_or_default(), value)),
                Some(_) => {}
            }
        }
        stack.into_iter().next().unwrap_or(Value::Null)
    }

    /// The items of an array payload as [`Value`]s (empty for any other payload); see [`to_value`](Self::to_value).
    pub fn to_values(&self) -> Vec<Value> {
        match self.to_value() {
            Value::Array(items) => items,
            _ => Vec::new(),
        }
    }

    /// The last item of an array payload, when it is a string (connection state recovery reads the server's offset
    /// there).
    pub fn last_string(&self) -> Option<String> {
        let at = self.last?;
        let raw = self.text.get(at.start..at.end)?;
        Some(json::Str::new(raw, at.escaped).unescape().into_owned())
    }

    /// The value of a string payload.
    pub fn as_string(&self) -> Option<String> {
        let mut tokenizer = Tokenizer::range(self.start, self.end, MAX_DEPTH);
        match tokenizer.next(&self.text) {
            Ok(Some(Token::Str(s))) => Some(s.unescape().into_owned()),
            _ => None,
        }
    }

    /// The string value of member `key` of an object payload (its last occurrence, as JavaScript reads it), if that
    /// is a string.
    pub fn get_str(&self, key: &str) -> Option<String> {
        let (start, _) = self.member_range(key)?;
        let mut tokenizer = Tokenizer::range(start, self.end, MAX_DEPTH);
        match tokenizer.next(&self.text) {
            Ok(Some(Token::Str(s))) => Some(s.unescape().into_owned()),
            _ => None,
        }
    }

    /// The integer value of member `key` of an object payload (its last occurrence), if that is an integer.
    pub fn get_int(&self, key: &str) -> Option<i64> {
        let (start, _) = self.member_range(key)?;
        let mut tokenizer = Tokenizer::range(start, self.end, MAX_DEPTH);
        match tokenizer.next(&self.text) {
            Ok(Some(Token::Number(n))) => match n.value() {
                Num::Int(i) => Some(i),
                Num::Float(_) => None,
            },
            _ => None,
        }
    }

    /// Whether an object payload has member `key`.
    pub fn has(&self, key: &str) -> bool {
        self.member_range(key).is_some()
    }

    /// Member `key` of an object payload (its last occurrence) as a payload of its own, sharing the text.
    pub fn member(&self, key: &str) -> Option<Payload> {
        let (start, end) = self.member_range(key)?;
        Some(Payload {
            text: self.text.clone(),
            start,
            end,
            skip_first: false,
            len: 0,
            last: None,
            placeholders: self
                .placeholders
                .iter()
                .filter(|p| p.at >= start && p.end <= end)
                .copied()
                .collect(),
            attachments: self.attachments.clone(),
        })
    }

    /// `start..end` of the value of the last member `key` of an object payload.
    fn member_range(&self, key: &str) -> Option<(usize, usize)> {
        let text: &str = &self.text;
        let mut tokenizer = Tokenizer::range(self.start, self.end, MAX_DEPTH);
        if tokenizer.next(text).ok()?? != Token::ObjectStart {
            return None;
        }
        let mut found = None;
        loop {
            match tokenizer.next(text).ok()?? {
                Token::Key(k) => {
                    let matches = k.is(key);
                    let start = skip_whitespace(text, tokenizer.position());
                    skip_value(&mut tokenizer, text)?;
                    if matches {
                        found = Some((start, tokenizer.position()));
                    }
                }
                _ => return found,
            }
        }
    }

    /// Puts the attachments in place (once they all arrived).
    pub(crate) fn set_attachments(&mut self, attachments: Vec<Bytes>) {
        self.attachments = attachments;
    }

    /// Whether every placeholder stands for an attachment.
    pub(crate) fn placeholders_valid(&self) -> bool {
        self.placeholders.iter().all(|p| p.num.is_some())
    }
}

fn skip_whitespace(text: &str, mut pos: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = text.as_bytes().get(pos) {
        pos += 1;
    }
    pos
}

/// Reads past the value that comes next.
fn skip_value(tokenizer: &mut Tokenizer, text: &str) -> Option<()> {
    let depth = tokenizer.depth();
    loop {
        tokenizer.next(text).ok()??;
        if tokenizer.depth() == depth {
            return Some(());
        }
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.to_value() == other.to_value()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.json_len() <= 4096 {
            write!(f, "Payload({:?})", self.to_value())
        } else {
            write!(
                f,
                "Payload({} bytes of JSON, {} attachments)",
                self.json_len(),
                self.attachments.len()
            )
        }
    }
}

/// One thing a [`Reader`] read: a JSON token, or an attachment in place of its placeholder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Item<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer (written without fraction or exponent, fits in an `i64`).
    Int(i64),
    /// Any other number (finite).
    Float(f64),
    /// A string value.
    Str(Str<'a>),
    /// An object's key.
    Key(Str<'a>),
    /// A binary attachment, in place of its placeholder object.
    Binary(&'a Bytes),
    /// `[`.
    ArrayStart,
    /// `]`.
    ArrayEnd,
    /// `{`.
    ObjectStart,
    /// `}`.
    ObjectEnd,
}

/// Reads a [`Payload`] item by item; it can stop after any item and go on later. It holds no reference to the
/// payload: pass the same one to every call.
#[derive(Debug, Clone)]
pub struct Reader {
    tokenizer: Tokenizer,
    placeholder: usize,
    skip_first: bool,
    skip_pending: bool,
}

impl Reader {
    /// The next item, or `None` at the end.
    #[allow(clippy::should_implement_trait)]
    pub fn next<'a>(&mut self, payload: &'a Payload) -> Option<Item<'a>> {
        let text: &str = &payload.text;
        loop {
            // Checked text: the tokenizer cannot fail here, and an error would only end the reading early.
            let token = self.tokenizer.next(text).ok()??;
            if self.skip_pending {
                // The event's name, a string.
                self.skip_pending = false;
                continue;
            }
            return Some(match token {
                Token::Null => Item::Null,
                Token::Bool(b) => Item::Bool(b),
                Token::Number(n) => match n.value() {
                    Num::Int(i) => Item::Int(i),
                    Num::Float(f) => Item::Float(f),
                },
                Token::Str(s) => Item::Str(s),
                Token::Key(k) => Item::Key(k),
                Token::ArrayStart => {
                    if self.skip_first && self.tokenizer.depth() == 1 {
                        self.skip_first = false;
                        self.skip_pending = true;
                    }
                    Item::ArrayStart
                }
                Token::ArrayEnd => Item::ArrayEnd,
                Token::ObjectEnd => Item::ObjectEnd,
                Token::ObjectStart => {
                    let at = self.tokenizer.token_start();
                    let placeholders = &payload.placeholders;
                    while placeholders.get(self.placeholder).is_some_and(|p| p.at < at) {
                        self.placeholder += 1;
                    }
                    match placeholders.get(self.placeholder) {
                        Some(p) if p.at == at && !payload.attachments.is_empty() => {
                            self.placeholder += 1;
                            self.tokenizer.skip_container(p.end);
                            match p.num.and_then(|n| payload.attachments.get(n)) {
                                Some(bytes) => Item::Binary(bytes),
                                None => Item::Null,
                            }
                        }
                        _ => Item::ObjectStart,
                    }
                }
            });
        }
    }

    /// Offset in the payload's text read up to (for progress: it grows from the payload's start to its end).
    pub fn position(&self) -> usize {
        self.tokenizer.position()
    }
}

/// The kind of a payload's root value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    Array,
    Object,
    Str,
    Other,
}

/// The first item of a root array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum First {
    Str(String),
    Other,
}

/// An open container while checking, when placeholders are looked for.
#[derive(Debug)]
enum Open {
    Array,
    Object {
        at: usize,
        placeholder: bool,
        num: Option<usize>,
        pending: Member,
    },
}

/// The member whose value comes next in an object, when it matters for placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    Other,
    Placeholder,
    Num,
}

/// Checks a payload's text in steps, noting what the decoder needs (its root kind, the items of a root array, the
/// placeholders), without building anything of the values.
#[derive(Debug)]
pub(crate) struct Check {
    tokenizer: Tokenizer,
    start: usize,
    /// Attachments declared, when placeholders are looked for (a binary packet).
    attachments: Option<usize>,
    open: Vec<Open>,
    pub root: Option<Root>,
    /// Items of a root array.
    pub items: usize,
    pub first: Option<First>,
    last: Option<StrAt>,
    placeholders: Vec<Placeholder>,
}

impl Check {
    /// A check of the value at `text[start..]` (to the end of the text), nested at most `max_depth` deep, with
    /// `attachments` attachments declared (placeholders are looked for when there are any).
    pub fn new(text: &str, start: usize, max_depth: usize, attachments: usize) -> Self {
        Check {
            tokenizer: Tokenizer::range(start, text.len(), max_depth),
            start,
            attachments: (attachments > 0).then_some(attachments),
            open: Vec::new(),
            root: None,
            items: 0,
            first: None,
            last: None,
            placeholders: Vec::new(),
        }
    }

    /// Checks about `budget` more bytes of `text` (at least one token, and always whole tokens). Returns whether the
    /// whole value has been checked.
    pub fn step(&mut self, text: &str, budget: usize) -> Result<bool, DecodeError> {
        let stop = self.tokenizer.position().saturating_add(budget.max(1));
        while self.tokenizer.position() < stop {
            let depth = self.tokenizer.depth();
            let Some(token) = self.tokenizer.next(text)? else {
                return Ok(true);
            };
            self.note(token, depth);
        }
        // The value may have ended exactly at the budget: finish when nothing but whitespace is left.
        Ok(false)
    }

    fn note(&mut self, token: Token<'_>, depth: usize) {
        let starts_value = !matches!(token, Token::Key(_) | Token::ArrayEnd | Token::ObjectEnd);
        if self.root.is_none() {
            self.root = Some(match token {
                Token::ArrayStart => Root::Array,
                Token::ObjectStart => Root::Object,
                Token::Str(_) => Root::Str,
                _ => Root::Other,
            });
        } else if depth == 1 && starts_value && self.root == Some(Root::Array) {
            self.items += 1;
            if self.items == 1 {
                self.first = Some(match token {
                    Token::Str(s) => First::Str(s.unescape().into_owned()),
                    _ => First::Other,
                });
            }
            self.last = match token {
                Token::Str(s) => Some(StrAt {
                    start: self.tokenizer.token_start() + 1,
                    end: self.tokenizer.position() - 1,
                    escaped: s.is_escaped(),
                }),
                _ => None,
            };
        }
        let Some(attachments) = self.attachments else {
            return;
        };
        if starts_value {
            if let Some(Open::Object {
                placeholder,
                num,
                pending,
                ..
            }) = self.open.last_mut()
            {
                match std::mem::replace(pending, Member::Other) {
                    Member::Placeholder => *placeholder = token == Token::Bool(true),
                    Member::Num => {
                        *num = match token {
                            Token::Number(n) => match n.value() {
                                Num::Int(i) => usize::try_from(i).ok().filter(|&i| i < attachments),
                                Num::Float(_) => None,
                            },
                            _ => None,
                        }
                    }
                    Member::Other => {}
                }
            }
        }
        match token {
            Token::Key(key) => {
                if let Some(Open::Object { pending, .. }) = self.open.last_mut() {
                    *pending = if key.is("_placeholder") {
                        Member::Placeholder
                    } else if key.is("num") {
                        Member::Num
                    } else {
                        Member::Other
                    };
                }
            }
            Token::ArrayStart => self.open.push(Open::Array),
            Token::ObjectStart => self.open.push(Open::Object {
                at: self.tokenizer.token_start(),
                placeholder: false,
                num: None,
                pending: Member::Other,
            }),
            Token::ArrayEnd => {
                self.open.pop();
            }
            Token::ObjectEnd => {
                if let Some(Open::Object {
                    at,
                    placeholder: true,
                    num,
                    ..
                }) = self.open.pop()
                {
                    // The whole object stands for an attachment: placeholders inside it do not count.
                    while self.placeholders.last().is_some_and(|p| p.at > at) {
                        self.placeholders.pop();
                    }
                    self.placeholders.push(Placeholder {
                        at,
                        end: self.tokenizer.position(),
                        num,
                    });
                }
            }
            _ => {}
        }
    }

    /// The checked value of `text` as a payload (attachments to be set), the root array's first item left out when
    /// `skip_first`.
    pub fn into_payload(self, text: Utf8Bytes, skip_first: bool) -> Payload {
        let end = self.tokenizer.position();
        let skipped = usize::from(skip_first && self.items > 0);
        let len = self.items - skipped;
        Payload {
            text,
            start: self.start,
            end,
            skip_first,
            len,
            last: if len > 0 { self.last } else { None },
            placeholders: self.placeholders.into(),
            attachments: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
