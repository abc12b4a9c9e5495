//! The resumable JSON tokenizer: it checks the text as it reads, one [`Token`] per call, and can stop between
//! any two tokens and resume in a later poll. Strings and numbers are handed out as written ([`Str`], [`Number`]);
//! escapes are resolved ([`Str::unescape`]) only when a consumer asks.

use std::borrow::Cow;

use crate::error::DecodeError;

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
