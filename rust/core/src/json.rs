//! JSON text ⇄ [`Value`], with a nesting cap on input and binary placeholders on output.
//!
//! Parsing goes straight from text to `Value` (no intermediate `serde_json::Value`), keeping integers apart from
//! floats. Writing is hand-rolled: it is on the hot path of every emit, and it has to swap `Value::Binary` for
//! `{"_placeholder":true,"num":N}` while collecting the bytes.

use std::fmt;

use bytes::Bytes;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{DecodeError, EncodeError};
use crate::value::Value;

/// Parses `text` as one JSON value nested at most `max_depth` deep.
///
/// A lone UTF-16 surrogate escape (`"\ud83d"`, which JavaScript writes when a string is cut inside an emoji) reads
/// as U+FFFD, as a browser's `TextDecoder` and `String::from_utf16_lossy` do: the rest of the text is kept.
pub fn parse(text: &str, max_depth: usize) -> Result<Value, DecodeError> {
    match parse_strict(text, max_depth) {
        Err(DecodeError::InvalidJson(why)) if why.contains("surrogate") || why.contains("hex escape") => {
            match replace_lone_surrogates(text) {
                Some(fixed) => parse_strict(&fixed, max_depth),
                None => Err(DecodeError::InvalidJson(why)),
            }
        }
        parsed => parsed,
    }
}

/// `text` with every `\uXXXX` escape of a lone surrogate (a leading one not followed by a trailing one, or a
/// trailing one not preceded by a leading one) replaced by `\ufffd`; `None` when there is none.
fn replace_lone_surrogates(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let escape_at = |i: usize| -> Option<u16> {
        let hex = bytes.get(i + 2..i + 6)?;
        if bytes[i] != b'\\' || bytes.get(i + 1) != Some(&b'u') {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    };
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(unit) = escape_at(i) else {
            // Another escape (`\\`, `\"`, ...): skip it whole, so an escaped backslash is not read as the start of one.
            i += 2;
            continue;
        };
        let leading = (0xD800..=0xDBFF).contains(&unit);
        let trailing = (0xDC00..=0xDFFF).contains(&unit);
        if leading && escape_at(i + 6).is_some_and(|next| (0xDC00..=0xDFFF).contains(&next)) {
            i += 12; // a valid pair
            continue;
        }
        if leading || trailing {
            out.push_str(&text[copied..i]);
            out.push_str("\\ufffd");
            copied = i + 6;
        }
        i += 6;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

fn parse_strict(text: &str, max_depth: usize) -> Result<Value, DecodeError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut too_deep = false;
    let seed = ValueSeed {
        depth_left: max_depth,
        too_deep: &mut too_deep,
    };
    let parsed = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(value) => Ok(value),
        Err(_) if too_deep => Err(DecodeError::TooDeep { max: max_depth }),
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => Err(DecodeError::TooDeep {
            max: max_depth.min(127),
        }),
        Err(e) => Err(DecodeError::InvalidJson(e.to_string())),
    }
}

/// Deserializes one value, counting nesting down from `depth_left`.
struct ValueSeed<'a> {
    depth_left: usize,
    too_deep: &'a mut bool,
}

impl ValueSeed<'_> {
    fn nested(&mut self) -> Result<ValueSeed<'_>, ()> {
        if self.depth_left == 0 {
            *self.too_deep = true;
            return Err(());
        }
        Ok(ValueSeed {
            depth_left: self.depth_left - 1,
            too_deep: self.too_deep,
        })
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        // Beyond i64 a JavaScript peer has a float anyway (every JS number is a double).
        Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested().map_err(|()| de::Error::custom("nested too deep"))?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed {
            depth_left: inner.depth_left,
            too_deep: inner.too_deep,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested().map_err(|()| de::Error::custom("nested too deep"))?;
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(ValueSeed {
                depth_left: inner.depth_left,
                too_deep: inner.too_deep,
            })?;
            entries.push((key, value));
        }
        Ok(Value::Object(entries))
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
