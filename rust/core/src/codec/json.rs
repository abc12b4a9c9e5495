//! JSON text: a [`Tokenizer`] that checks as it reads and can stop and resume anywhere between tokens, [`parse`]
//! into a [`Value`] on top of it, and [`write`] of values with binary placeholders.
//!
//! # Reading without a tree
//!
//! Received payloads are never parsed into a tree on their way to the game (see [`crate::codec::payload`]): their text is
//! checked once by the tokenizer, kept as it is, and read again token by token by whoever converts it. The
//! tokenizer holds no more than its position and one entry per open container, so checking a message costs no
//! memory beyond the message, and it can be done in steps ([`Tokenizer::next`] may be called over several polls).
//!
//! What it accepts is what `serde_json` accepts (RFC 8259), but for one thing: a lone UTF-16 surrogate in a `\u`
//! escape (JavaScript writes one when it cuts a string inside an emoji) reads as U+FFFD, as a browser's
//! `TextDecoder` and `String::from_utf16_lossy` do, instead of refusing the packet. So no trailing commas, comments,
//! `NaN`, or control characters in strings; a number must be finite once rounded to an `f64`.
//! Integers stay apart from floats: a number written without fraction or exponent that fits in an `i64` is an
//! [`Num::Int`], any other number an [`Num::Float`] (JavaScript has one number type, so a larger integer is a float
//! for the peer anyway).
//!
//! Writing is hand-rolled: it is on the hot path of every emit, and it has to swap `Value::Binary` for
//! `{"_placeholder":true,"num":N}` while collecting the bytes.

use std::borrow::Cow;

use bytes::Bytes;

use crate::codec::value::Value;
use crate::error::{DecodeError, EncodeError};

/// Deepest nesting accepted whatever the configured cap (a [`Value`] is dropped recursively, so it must stay shallow
/// enough for any thread's stack). A cap above this is treated as this.
pub const MAX_DEPTH: usize = 127;

/// A string as written in the JSON text, between its quotes (escapes not yet resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Str<'a> {
    raw: &'a str,
    escaped: bool,
}

impl<'a> Str<'a> {
    /// The string whose text between its quotes is `raw` (holding a `\` escape when `escaped`).
    pub(crate) fn new(raw: &'a str, escaped: bool) -> Self {
        Str { raw, escaped }
    }

    /// The text between the quotes, escapes as written.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Whether the string holds a `\` escape (otherwise [`raw`](Self::raw) is its value).
    pub fn is_escaped(&self) -> bool {
        self.escaped
    }

    /// The string's value: borrowed when it holds no escape.
    pub fn unescape(&self) -> Cow<'a, str> {
        if self.escaped {
            Cow::Owned(unescape(self.raw))
        } else {
            Cow::Borrowed(self.raw)
        }
    }

    /// Whether the string's value is `s`.
    pub fn is(&self, s: &str) -> bool {
        if self.escaped {
            unescape(self.raw) == s
        } else {
            self.raw == s
        }
    }
}

/// A number as written in the JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Number<'a> {
    raw: &'a str,
    integer: bool,
}

/// A JSON number's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// Written without fraction or exponent, and fits in an `i64`.
    Int(i64),
    /// Any other number; always finite.
    Float(f64),
}

impl<'a> Number<'a> {
    /// The number as written.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Its value. Checked by the tokenizer already: only the tokenizer's own tokens are ever valued, so this never
    /// fails for them.
    pub fn value(&self) -> Num {
        // `-0` is JavaScript's negative zero, a float (as serde_json reads it too).
        if self.integer && self.raw != "-0" {
            if let Some(i) = small_int(self.raw) {
                return Num::Int(i);
            }
            if let Ok(i) = self.raw.parse::<i64>() {
                return Num::Int(i);
            }
        }
        Num::Float(self.raw.parse::<f64>().unwrap_or(0.0))
    }

    /// Whether the number is finite as an `f64` (an integer that fits in an `i64` always is). Cheap for every
    /// number that cannot come near `f64::MAX`.
    fn is_finite(&self) -> bool {
        let raw = self.raw.as_bytes();
        // Without an exponent, fewer than 300 digits are below 1e300.
        if raw.len() < 300 && !raw.iter().any(|&b| b == b'e' || b == b'E') {
            return true;
        }
        self.raw.parse::<f64>().is_ok_and(f64::is_finite)
    }
}

/// Up to 18 digits (with an optional `-`) always fit in an `i64`: the common case, without `str::parse`.
fn small_int(raw: &str) -> Option<i64> {
    let bytes = raw.as_bytes();
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        value = value * 10 + i64::from(d - b'0');
    }
    Some(if negative { -value } else { value })
}

/// One token of JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(Number<'a>),
    /// A string value.
    Str(Str<'a>),
    /// An object's key (its `:` is consumed with it).
    Key(Str<'a>),
    /// `[`.
    ArrayStart,
    /// `]`.
    ArrayEnd,
    /// `{`.
    ObjectStart,
    /// `}`.
    ObjectEnd,
}

/// What may come next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (at the start, after `:`, after `,` in an array).
    Value,
    /// A value or `]` (after `[`).
    FirstItem,
    /// A key or `}` (after `{`).
    FirstKey,
    /// A key (after `,` in an object).
    Key,
    /// `,` or the end of the enclosing container, or the end of the text at the top level.
    After,
    /// Nothing but whitespace.
    Done,
}

/// Reads one JSON value from text, token by token, refusing whatever is not JSON. Its state is a position and one
/// byte per open container, so it can stop after any token and resume later: the text is passed to every call and
/// must be the same each time.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    pos: usize,
    end: usize,
    /// One entry per open container: `true` for an object.
    stack: Vec<bool>,
    expect: Expect,
    max_depth: usize,
    token_start: usize,
}

impl Tokenizer {
    /// A tokenizer of the whole of a text, accepting containers nested at most `max_depth` deep (at most
    /// [`MAX_DEPTH`]).
    pub fn new(text: &str, max_depth: usize) -> Self {
        Self::range(0, text.len(), max_depth)
    }

    /// A tokenizer of the value in `text[start..end]` (whitespace around it allowed).
    pub fn range(start: usize, end: usize, max_depth: usize) -> Self {
        Tokenizer {
            pos: start,
            end,
            stack: Vec::new(),
            expect: Expect::Value,
            max_depth: max_depth.min(MAX_DEPTH),
            token_start: start,
        }
    }

    /// Bytes of the text read so far (an offset in the text).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Where the last token returned began (an offset in the text).
    pub fn token_start(&self) -> usize {
        self.token_start
    }

    /// Containers open now.
    pub fn depth(&self) -> usize {
        self.stack.len()
    }

    /// Whether the innermost open container is an object.
    pub fn in_object(&self) -> bool {
        self.stack.last() == Some(&true)
    }

    /// Leaves the container just opened by the last token (an `ObjectStart` or `ArrayStart`) unread: reading goes
    /// on at `end`, just after it. Only for text read before: nothing in between is checked.
    pub(crate) fn skip_container(&mut self, end: usize) {
        self.stack.pop();
        self.pos = end;
        self.after_value();
    }

    /// The next token; `None` once the value and any whitespace after it are read. An error leaves the tokenizer
    /// useless.
    #[allow(clippy::should_implement_trait)]
    pub fn next<'t>(&mut self, text: &'t str) -> Result<Option<Token<'t>>, DecodeError> {
        let bytes = &text.as_bytes()[..self.end.min(text.len())];
        self.skip_whitespace(bytes);
        self.token_start = self.pos;
        let Some(&b) = bytes.get(self.pos) else {
            return match self.expect {
                Expect::Done => Ok(None),
                _ => Err(self.error("unexpected end of JSON")),
            };
        };
        match self.expect {
            Expect::Done => Err(self.error("trailing characters after the JSON value")),
            Expect::After => {
                let object = match self.stack.last() {
                    None => return Err(self.error("trailing characters after the JSON value")),
                    Some(&object) => object,
                };
                match (b, object) {
                    (b',', false) => {
                        self.pos += 1;
                        self.expect = Expect::Value;
                        self.value(text, bytes).map(Some)
                    }
                    (b',', true) => {
                        self.pos += 1;
                        self.expect = Expect::Key;
                        self.key(text, bytes).map(Some)
                    }
                    (b']', false) => Ok(Some(self.close(Token::ArrayEnd))),
                    (b'}', true) => Ok(Some(self.close(Token::ObjectEnd))),
                    (_, false) => Err(self.error("expected `,` or `]`")),
                    (_, true) => Err(self.error("expected `,` or `}`")),
                }
            }
            Expect::FirstItem if b == b']' => Ok(Some(self.close(Token::ArrayEnd))),
            Expect::FirstKey if b == b'}' => Ok(Some(self.close(Token::ObjectEnd))),
            Expect::FirstKey | Expect::Key => self.key(text, bytes).map(Some),
            Expect::Value | Expect::FirstItem => self.value(text, bytes).map(Some),
        }
    }

    fn error(&self, what: &str) -> DecodeError {
        DecodeError::InvalidJson(format!("{what} at byte {}", self.pos))
    }

    #[inline(always)]
    fn skip_whitespace(&mut self, bytes: &[u8]) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline(always)]
    fn close<'t>(&mut self, token: Token<'t>) -> Token<'t> {
        self.pos += 1;
        self.stack.pop();
        self.after_value();
        token
    }

    #[inline(always)]
    fn after_value(&mut self) {
        self.expect = if self.stack.is_empty() {
            Expect::Done
        } else {
            Expect::After
        };
    }

    #[inline(always)]
    fn open<'t>(&mut self, object: bool) -> Result<Token<'t>, DecodeError> {
        if self.stack.len() >= self.max_depth {
            return Err(DecodeError::TooDeep { max: self.max_depth });
        }
        self.pos += 1;
        self.stack.push(object);
        if object {
            self.expect = Expect::FirstKey;
            Ok(Token::ObjectStart)
        } else {
            self.expect = Expect::FirstItem;
            Ok(Token::ArrayStart)
        }
    }

    /// A value starting at `self.pos` (whitespace skipped).
    #[inline(always)]
    fn value<'t>(&mut self, text: &'t str, bytes: &[u8]) -> Result<Token<'t>, DecodeError> {
        self.skip_whitespace(bytes);
        self.token_start = self.pos;
        let token = match bytes.get(self.pos) {
            Some(b'[') => return self.open(false),
            Some(b'{') => return self.open(true),
            Some(b'"') => Token::Str(self.string(text, bytes)?),
            Some(b'-' | b'0'..=b'9') => Token::Number(self.number(text, bytes)?),
            Some(b'n') => self.literal(bytes, b"null", Token::Null)?,
            Some(b't') => self.literal(bytes, b"true", Token::Bool(true))?,
            Some(b'f') => self.literal(bytes, b"false", Token::Bool(false))?,
            Some(_) => return Err(self.error("expected a JSON value")),
            None => return Err(self.error("unexpected end of JSON")),
        };
        self.after_value();
        Ok(token)
    }

    /// A key and its `:` (whitespace before the key skipped).
    #[inline(always)]
    fn key<'t>(&mut self, text: &'t str, bytes: &[u8]) -> Result<Token<'t>, DecodeError> {
        self.skip_whitespace(bytes);
        self.token_start = self.pos;
        if bytes.get(self.pos) != Some(&b'"') {
            return Err(self.error("expected a string key"));
        }
        let key = self.string(text, bytes)?;
        self.skip_whitespace(bytes);
        if bytes.get(self.pos) != Some(&b':') {
            return Err(self.error("expected `:`"));
        }
        self.pos += 1;
        self.expect = Expect::Value;
        Ok(Token::Key(key))
    }

    #[inline(always)]
    fn literal<'t>(&mut self, bytes: &[u8], word: &[u8], token: Token<'t>) -> Result<Token<'t>, DecodeError> {
        if bytes.get(self.pos..self.pos + word.len()) != Some(word) {
            return Err(self.error("expected a JSON value"));
        }
        self.pos += word.len();
        Ok(token)
    }

    #[inline(always)]
    fn number<'t>(&mut self, text: &'t str, bytes: &[u8]) -> Result<Number<'t>, DecodeError> {
        let start = self.pos;
        let mut pos = start;
        if bytes.get(pos) == Some(&b'-') {
            pos += 1;
        }
        match bytes.get(pos) {
            Some(b'0') => pos += 1,
            Some(b'1'..=b'9') => pos = skip_digits(bytes, pos + 1),
            _ => {
                self.pos = pos;
                return Err(self.error("invalid number"));
            }
        }
        let mut integer = true;
        if bytes.get(pos) == Some(&b'.') {
            integer = false;
            let digits = skip_digits(bytes, pos + 1);
            if digits == pos + 1 {
                self.pos = digits;
                return Err(self.error("invalid number"));
            }
            pos = digits;
        }
        if let Some(b'e' | b'E') = bytes.get(pos) {
            integer = false;
            pos += 1;
            if let Some(b'+' | b'-') = bytes.get(pos) {
                pos += 1;
            }
            let digits = skip_digits(bytes, pos);
            if digits == pos {
                self.pos = digits;
                return Err(self.error("invalid number"));
            }
            pos = digits;
        }
        let number = Number {
            raw: &text[start..pos],
            integer,
        };
        if !number.is_finite() {
            return Err(self.error("number out of range"));
        }
        self.pos = pos;
        Ok(number)
    }

    /// A string starting at the `"` at `self.pos`; leaves `self.pos` after its closing `"`.
    fn string<'t>(&mut self, text: &'t str, bytes: &[u8]) -> Result<Str<'t>, DecodeError> {
        let start = self.pos + 1;
        let mut pos = start;
        let mut escaped = false;
        loop {
            pos = find_special(bytes, pos);
            match bytes.get(pos) {
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    pos = self.escape(bytes, pos)?;
                }
                Some(_) => {
                    self.pos = pos;
                    return Err(self.error("control character in a string"));
                }
                None => {
                    self.pos = pos;
                    return Err(self.error("unterminated string"));
                }
            }
        }
        self.pos = pos + 1;
        Ok(Str {
            raw: &text[start..pos],
            escaped,
        })
    }

    /// Checks the escape at `pos` (a `\`); returns the position after it.
    fn escape(&mut self, bytes: &[u8], pos: usize) -> Result<usize, DecodeError> {
        match bytes.get(pos + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(pos + 2),
            Some(b'u') => {
                let unit = hex4(bytes, pos + 2).ok_or_else(|| self.error_at(pos, "invalid \\u escape"))?;
                // A lone surrogate (JavaScript writes one when it cuts a string inside an emoji) is accepted here
                // and reads as U+FFFD (see `unescape`), as a browser's TextDecoder does.
                match unit {
                    0xd800..=0xdbff => {
                        let low = (bytes.get(pos + 6..pos + 8) == Some(b"\\u"))
                            .then(|| hex4(bytes, pos + 8))
                            .flatten();
                        match low {
                            Some(0xdc00..=0xdfff) => Ok(pos + 12),
                            _ => Ok(pos + 6),
                        }
                    }
                    _ => Ok(pos + 6),
                }
            }
            _ => Err(self.error_at(pos, "invalid escape")),
        }
    }

    fn error_at(&mut self, pos: usize, what: &str) -> DecodeError {
        self.pos = pos;
        self.error(what)
    }
}

fn skip_digits(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(b'0'..=b'9') = bytes.get(pos) {
        pos += 1;
    }
    pos
}

fn hex4(bytes: &[u8], pos: usize) -> Option<u32> {
    let digits = bytes.get(pos..pos + 4)?;
    let mut value = 0;
    for &d in digits {
        value = value * 16 + char::from(d).to_digit(16)?;
    }
    Some(value)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The first position from `pos` holding `"`, `\` or a control character (below 0x20), or the end. Eight bytes at
/// a time: this is most of the time spent on a message made of long strings.
fn find_special(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let word = u64::from_le_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        // A byte is zero / below 0x20 iff its high bit is set in these (the classic "has zero byte" test).
        let found = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word);
        if found & HIGHS != 0 {
            break;
        }
        pos += 8;
    }
    while let Some(&b) = bytes.get(pos) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return pos;
        }
        pos += 1;
    }
    pos
}

/// The value of a string's text between its quotes, checked by the tokenizer.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let bytes = rest.as_bytes();
        let (c, used) = match bytes.get(i + 1) {
            Some(b'b') => ('\u{8}', 2),
            Some(b'f') => ('\u{c}', 2),
            Some(b'n') => ('\n', 2),
            Some(b'r') => ('\r', 2),
            Some(b't') => ('\t', 2),
            Some(b'u') => {
                let unit = hex4(bytes, i + 2).unwrap_or(0xfffd);
                let low = (bytes.get(i + 6..i + 8) == Some(b"\\u"))
                    .then(|| hex4(bytes, i + 8))
                    .flatten()
                    .filter(|low| (0xdc00..0xe000).contains(low));
                match low {
                    Some(low) if (0xd800..0xdc00).contains(&unit) => {
                        let c = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                        (char::from_u32(c).unwrap_or('\u{fffd}'), 12)
                    }
                    // A lone surrogate is no char: U+FFFD.
                    _ => (char::from_u32(unit).unwrap_or('\u{fffd}'), 6),
                }
            }
            Some(&other) => (char::from(other), 2),
            None => ('\\', 1),
        };
        out.push(c);
        rest = rest.get(i + used..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Parses `text` as one JSON value nested at most `max_depth` deep (and at most [`MAX_DEPTH`]).
pub fn parse(text: &str, max_depth: usize) -> Result<Value, DecodeError> {
    let mut tokenizer = Tokenizer::new(text, max_depth);
    let value = build(&mut tokenizer, text, |_| None)?;
    match tokenizer.next(text)? {
        None => Ok(value),
        Some(_) => Err(DecodeError::InvalidJson(
            "trailing characters after the JSON value".into(),
        )),
    }
}

/// An open container while [`build`] builds.
enum Open {
    Array(Vec<Value>),
    Object(Vec<(String, Value)>, String),
}

/// Builds the value the tokenizer reads next into a [`Value`], without recursion. `replace` may stand in for an
/// object the tokenizer just opened (given the offset of its `{`): it then skips that object and returns the value
/// to put in its place (a binary attachment for a placeholder).
pub(crate) fn build(
    tokenizer: &mut Tokenizer,
    text: &str,
    mut replace: impl FnMut(&mut Tokenizer) -> Option<Value>,
) -> Result<Value, DecodeError> {
    let mut stack: Vec<Open> = Vec::new();
    loop {
        let token = tokenizer
            .next(text)?
            .ok_or_else(|| DecodeError::InvalidJson("unexpected end of JSON".into()))?;
        let value = match token {
            Token::Null => Value::Null,
            Token::Bool(b) => Value::Bool(b),
            Token::Number(n) => match n.value() {
                Num::Int(i) => Value::Int(i),
                Num::Float(f) => Value::Float(f),
            },
            Token::Str(s) => Value::String(s.unescape().into_owned()),
            Token::Key(k) => {
                if let Some(Open::Object(_, key)) = stack.last_mut() {
                    *key = k.unescape().into_owned();
                }
                continue;
            }
            Token::ArrayStart => {
                stack.push(Open::Array(Vec::new()));
                continue;
            }
            Token::ObjectStart => match replace(tokenizer) {
                Some(value) => value,
                None => {
                    stack.push(Open::Object(Vec::new(), String::new()));
                    continue;
                }
            },
            Token::ArrayEnd | Token::ObjectEnd => match stack.pop() {
                Some(Open::Array(items)) => Value::Array(items),
                Some(Open::Object(entries, _)) => Value::Object(entries),
                None => return Err(DecodeError::InvalidJson("unbalanced container".into())),
            },
        };
        match stack.last_mut() {
            None => return Ok(value),
            Some(Open::Array(items)) => items.push(value),
            Some(Open::Object(entries, key)) => entries.push((std::mem::take(key), value)),
        }
    }
}

/// Appends `value` as JSON to `out`; each `Binary` becomes a placeholder and its bytes are pushed to `attachments`.
///
/// `path` names the value in errors (e.g. `data`); a NaN or infinite float is refused with its full path.
pub fn write(value: &Value, out: &mut String, attachments: &mut Vec<Bytes>, path: &str) -> Result<(), EncodeError> {
    write_value(value, out, attachments).map_err(|mut segments| {
        segments.reverse();
        EncodeError::NonFiniteFloat {
            path: format!("{path}{}", segments.concat()),
        }
    })
}

/// On error, returns the path segments from the failing value up to `value` (innermost first).
fn write_value(value: &Value, out: &mut String, attachments: &mut Vec<Bytes>) -> Result<(), Vec<String>> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(Vec::new());
            }
            out.push_str(ryu::Buffer::new().format_finite(*f));
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out, attachments).map_err(|mut p| {
                    p.push(format!("[{i}]"));
                    p
                })?;
            }
            out.push(']');
        }
        Value::Object(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out, attachments).map_err(|mut p| {
                    p.push(format!("[{key:?}]"));
                    p
                })?;
            }
            out.push('}');
        }
        Value::Binary(bytes) => {
            out.push_str("{\"_placeholder\":true,\"num\":");
            out.push_str(itoa::Buffer::new().format(attachments.len()));
            out.push('}');
            attachments.push(bytes.clone());
        }
    }
    Ok(())
}

/// Appends `s` as a JSON string literal.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    fn to_json(v: &Value) -> String {
        let mut out = String::new();
        write(v, &mut out, &mut Vec::new(), "data").unwrap();
        out
    }

    #[test]
    fn integers_stay_integers_and_floats_stay_floats() {
        let v = parse(r#"[1, -7, 1.5, 2.0, 1e3, 9007199254740991, 18446744073709551615]"#, 8).unwrap();
        assert_eq!(
            v,
            Value::Array(vec![
                Value::Int(1),
                Value::Int(-7),
                Value::Float(1.5),
                Value::Float(2.0),
                Value::Float(1000.0),
                Value::Int(9007199254740991),
                Value::Float(18446744073709551615.0),
            ])
        );
        assert_eq!(
            to_json(&v),
            "[1,-7,1.5,2.0,1000.0,9007199254740991,1.8446744073709552e19]"
        );
    }

    #[test]
    fn strings_round_trip_with_escapes_and_unicode() {
        let s = "héllo \"wörld\" \\ ✓ 日本 🎮\n\t\u{1}";
        let json = to_json(&Value::from(s));
        assert_eq!(json, "\"héllo \\\"wörld\\\" \\\\ ✓ 日本 🎮\\n\\t\\u0001\"");
        assert_eq!(parse(&json, 1).unwrap(), Value::from(s));
    }

    #[test]
    fn objects_keep_key_order() {
        let v = parse(r#"{"b":1,"a":{"c":null,"d":[true,false]}}"#, 8).unwrap();
        assert_eq!(to_json(&v), r#"{"b":1,"a":{"c":null,"d":[true,false]}}"#);
    }

    #[test]
    fn depth_cap_is_enforced() {
        assert!(parse("[[1]]", 2).is_ok());
        assert_eq!(parse("[[[1]]]", 2), Err(DecodeError::TooDeep { max: 2 }));
        assert_eq!(parse(r#"{"a":{"b":{}}}"#, 2), Err(DecodeError::TooDeep { max: 2 }));
        let deep = "[".repeat(100_000);
        assert!(matches!(parse(&deep, 64), Err(DecodeError::TooDeep { .. })));
    }

    #[test]
    fn garbage_is_refused() {
        for bad in ["", "[", "{\"a\":}", "[1,]", "nul", "[1] x", "\"\\x\""] {
            assert!(matches!(parse(bad, 8), Err(DecodeError::InvalidJson(_))), "{bad}");
        }
    }

    #[test]
    fn binary_becomes_placeholders_in_order() {
        let v = Value::Array(vec![
            Value::Binary(Bytes::from_static(b"a")),
            Value::Object(vec![("x".into(), Value::Binary(Bytes::from_static(b"b")))]),
        ]);
        let mut out = String::new();
        let mut att = Vec::new();
        write(&v, &mut out, &mut att, "data").unwrap();
        assert_eq!(
            out,
            r#"[{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]"#
        );
        assert_eq!(att, vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")]);
    }

    #[test]
    fn non_finite_float_is_refused_with_its_path() {
        let v = Value::Array(vec![
            Value::Int(1),
            Value::Object(vec![("pos".into(), Value::Array(vec![Value::Float(f64::NAN)]))]),
        ]);
        let err = write(&v, &mut String::new(), &mut Vec::new(), "data").unwrap_err();
        assert_eq!(
            err,
            EncodeError::NonFiniteFloat {
                path: "data[1][\"pos\"][0]".into()
            }
        );
    }

    fn string(text: &str) -> Value {
        parse(text, 8).unwrap()
    }

    #[test]
    fn a_lone_surrogate_reads_as_the_replacement_character() {
        // `"hi 😀".slice(0, 4)` in JavaScript, as JSON.stringify writes it.
        assert_eq!(string(r#""hi \ud83d""#), Value::String("hi \u{FFFD}".to_owned()));
        assert_eq!(string(r#""\ude00 end""#), Value::String("\u{FFFD} end".to_owned()));
        assert_eq!(
            string(r#""\uD83D\uD83D\uDE00""#),
            Value::String("\u{FFFD}😀".to_owned())
        );
        assert_eq!(string(r#""\ud83d\n""#), Value::String("\u{FFFD}\n".to_owned()));
        // The rest of the packet is kept.
        assert_eq!(
            string(r#"["chat", "\ud83d", {"k\udc00": 1}, "😀 \ud83d\ude00"]"#),
            Value::Array(vec![
                "chat".into(),
                "\u{FFFD}".into(),
                Value::Object(vec![("k\u{FFFD}".to_owned(), Value::Int(1))]),
                "😀 😀".into(),
            ])
        );
    }

    #[test]
    fn escaped_backslashes_are_not_mistaken_for_escapes() {
        assert_eq!(string(r#""\\ud83d""#), Value::String(r"\ud83d".to_owned()));
        assert_eq!(
            string(r#"["\\", "\ud83d"]"#),
            Value::Array(vec![r"\".into(), "\u{FFFD}".into()])
        );
    }

    #[test]
    fn other_bad_escapes_stay_refused() {
        assert!(matches!(parse(r#""\uZZZZ""#, 8), Err(DecodeError::InvalidJson(_))));
        assert!(matches!(parse(r#""\ud83d"#, 8), Err(DecodeError::InvalidJson(_))));
        assert!(matches!(parse(r#""\q""#, 8), Err(DecodeError::InvalidJson(_))));
    }
}
