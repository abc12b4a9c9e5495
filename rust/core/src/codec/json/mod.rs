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

use bytes::Bytes;

use crate::codec::value::Value;
use crate::error::{DecodeError, EncodeError};

#[cfg(test)]
mod tests;
mod tokenizer;

pub use tokenizer::{Num, Number, Str, Token, Tokenizer, MAX_DEPTH};

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
/// `path` names the value in errors (e.g. `data`), formatted only then; a NaN or infinite float is refused with its
/// full path.
pub fn write(
    value: &Value,
    out: &mut String,
    attachments: &mut Vec<Bytes>,
    path: impl std::fmt::Display,
) -> Result<(), EncodeError> {
    write_value(value, out, attachments).map_err(|mut segments| {
        segments.reverse();
        EncodeError::NonFiniteFloat {
            path: format!("{path}{}", segments.concat()),
        }
    })
}

/// Appends a finite float exactly as `ryu` writes it (the shortest decimal that reads back as the same float), with
/// a shortcut for the floats games send most: a magnitude under 10⁹ with at most 4 decimals (`1.5`, `-0.25`,
/// `100.0`).
fn write_float(f: f64, out: &mut String) {
    if !write_short_decimal(f, out) {
        out.push_str(ryu::Buffer::new().format_finite(f));
    }
}

/// Writes `f` as `<integer>.<decimals>` when it is `m / 10^d` for a whole `m` and `d` of at most 4, with the least
/// such `d`; false (nothing written) otherwise. Under 10⁹ two floats are less than 2⁻²³ apart, far closer than two
/// such decimals (10⁻⁴), so the decimal found is the only one of that length that reads back as `f`, and no shorter
/// one does (a smaller `d` was tried first): the string `ryu` makes, which prints that range without an exponent.
fn write_short_decimal(f: f64, out: &mut String) -> bool {
    const SCALES: [f64; 5] = [1.0, 10.0, 100.0, 1_000.0, 10_000.0];
    const POWERS: [u64; 5] = [1, 10, 100, 1_000, 10_000];
    let a = f.abs();
    // Zero keeps ryu's sign handling (`-0.0`); NaN fails the comparison.
    if !(a > 0.0 && a < 1e9) {
        return false;
    }
    for (d, scale) in SCALES.iter().enumerate() {
        let m = (a * scale).round();
        if m / scale != a {
            continue;
        }
        // m < 10^13: exact as an integer.
        let m = m as u64;
        let mut digits = itoa::Buffer::new();
        if f < 0.0 {
            out.push('-');
        }
        out.push_str(digits.format(m / POWERS[d]));
        out.push('.');
        if d == 0 {
            out.push('0');
        } else {
            let frac = digits.format(m % POWERS[d]);
            for _ in frac.len()..d {
                out.push('0');
            }
            out.push_str(frac);
        }
        return true;
    }
    false
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
            write_float(*f, out);
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
