//! The JSON tokenizer against `serde_json` (the parser the core used before it read payloads without a tree): on
//! generated and mutated texts, both accept the same texts, and read the same values from them.

use std::collections::BTreeMap;

use socketio_core::codec::json;
use socketio_core::Value;

/// A value of `serde_json` as the core's model reads it: integers that fit in an `i64` stay integers, every other
/// number is a float; object keys deduplicated, the last one winning (as our objects are read by GDScript).
#[derive(Debug, PartialEq)]
enum Model {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(String),
    Array(Vec<Model>),
    Object(BTreeMap<String, Model>),
}

fn from_serde(v: &serde_json::Value) -> Model {
    match v {
        serde_json::Value::Null => Model::Null,
        serde_json::Value::Bool(b) => Model::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Model::Int(i),
            None => Model::Float(n.as_f64().unwrap().to_bits()),
        },
        serde_json::Value::String(s) => Model::Str(s.clone()),
        serde_json::Value::Array(items) => Model::Array(items.iter().map(from_serde).collect()),
        serde_json::Value::Object(map) => Model::Object(map.iter().map(|(k, v)| (k.clone(), from_serde(v))).collect()),
    }
}

fn from_ours(v: &Value) -> Model {
    match v {
        Value::Null => Model::Null,
        Value::Bool(b) => Model::Bool(*b),
        Value::Int(i) => Model::Int(*i),
        Value::Float(f) => Model::Float(f.to_bits()),
        Value::String(s) => Model::Str(s.clone()),
        Value::Array(items) => Model::Array(items.iter().map(from_ours).collect()),
        Value::Object(entries) => Model::Object(entries.iter().map(|(k, v)| (k.clone(), from_ours(v))).collect()),
        Value::Binary(_) => unreachable!("JSON text has no binary"),
    }
}

/// `text` with every `\\uXXXX` escape of a lone UTF-16 surrogate replaced by `\\ufffd`: serde_json refuses lone
/// surrogates, the tokenizer reads them as U+FFFD, so this is the text serde_json is given as the reference.
fn lone_surrogates_replaced(text: &str) -> String {
    let bytes = text.as_bytes();
    let unit_at = |i: usize| -> Option<u16> {
        if bytes.get(i) != Some(&b'\\') || bytes.get(i + 1) != Some(&b'u') {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(bytes.get(i + 2..i + 6)?).ok()?, 16).ok()
    };
    let (mut out, mut copied, mut i) = (String::new(), 0, 0);
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(unit) = unit_at(i) else {
            i += 2;
            continue;
        };
        let leading = (0xD800..0xDC00).contains(&unit);
        if leading && unit_at(i + 6).is_some_and(|low| (0xDC00..0xE000).contains(&low)) {
            i += 12;
            continue;
        }
        if leading || (0xDC00..0xE000).contains(&unit) {
            out.push_str(&text[copied..i]);
            out.push_str("\\ufffd");
            copied = i + 6;
        }
        i += 6;
    }
    out.push_str(&text[copied..]);
    out
}

fn compare(text: &str) {
    let theirs = serde_json::from_str::<serde_json::Value>(&lone_surrogates_replaced(text));
    let ours = json::parse(text, 100);
    match (&theirs, &ours) {
        (Ok(a), Ok(b)) => assert_eq!(from_serde(a), from_ours(b), "values differ for {text:?}"),
        (Err(_), Err(_)) => {}
        _ => panic!("serde_json: {theirs:?}, ours: {ours:?}, for {text:?}"),
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const NUMBERS: [&str; 24] = [
    "0",
    "-0",
    "1",
    "-7",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "123456789012345678901234567890",
    "1.5",
    "-0.0",
    "2.0",
    "1e3",
    "1E-3",
    "1e+308",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "1e309",
    "1e-400",
    "4.9e-324",
    "0.1e1",
    "123.456e-7",
];

const STRINGS: [&str; 16] = [
    r#""""#,
    r#""a""#,
    r#""héllo ✓ 🎮""#,
    r#""\"\\\/\b\f\n\r\t""#,
    r#""\u0041\u00e9\u2713""#,
    r#""\ud83c\udfae""#,
    r#""\ud83c""#,
    r#""\udfae""#,
    r#""\ud83cx""#,
    r#""\ud83c\u0041""#,
    r#""\x""#,
    r#""\u12""#,
    "\"tab\tinside\"",
    "\"nul\u{0}inside\"",
    r#""_placeholder""#,
    r#""eight by eight bytes and then some more""#,
];

fn generate(rng: &mut Rng, out: &mut String, depth: usize) {
    let ws = ["", "", "", " ", "\n", "\t", "\r\n  "];
    out.push_str(rng.pick(&ws));
    match rng.below(if depth > 6 { 5 } else { 8 }) {
        0 => out.push_str(rng.pick(&["null", "true", "false"])),
        1 | 2 => out.push_str(rng.pick(&NUMBERS)),
        3 | 4 => out.push_str(rng.pick(&STRINGS)),
        5 | 6 => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                generate(rng, out, depth + 1);
            }
            out.push_str(rng.pick(&ws));
            out.push(']');
        }
        _ => {
            out.push('{');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(rng.pick(&ws));
                out.push_str(rng.pick(&[r#""a""#, r#""b""#, r#""\u0061""#, r#""_placeholder""#, r#""""#]));
                out.push_str(rng.pick(&ws));
                out.push(':');
                generate(rng, out, depth + 1);
            }
            out.push_str(rng.pick(&ws));
            out.push('}');
        }
    }
    out.push_str(rng.pick(&ws));
}

#[test]
fn same_verdicts_and_values_as_serde_json() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let alphabet = [
        "[", "]", "{", "}", ",", ":", "\"", "\\", "0", "1", "-", ".", "e", "+", " ", "n", "t", "u", "x", "é",
    ];
    for round in 0..60_000 {
        let mut text = String::new();
        generate(&mut rng, &mut text, 0);
        compare(&text);
        // Mutations: a few characters inserted, removed or replaced.
        if round % 2 == 0 {
            let mut chars: Vec<String> = text.chars().map(String::from).collect();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(chars.len() + 1);
                match rng.below(3) {
                    0 => chars.insert(at, rng.pick(&alphabet).to_owned()),
                    1 if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ if at < chars.len() => chars[at] = rng.pick(&alphabet).to_owned(),
                    _ => {}
                }
            }
            compare(&chars.concat());
        }
    }
}

#[test]
fn edge_cases() {
    for text in [
        "",
        " ",
        "[",
        "]",
        "[1,]",
        "[,1]",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{1:2}",
        "01",
        "1.",
        ".5",
        "-",
        "+1",
        "1e",
        "1e+",
        "nul",
        "truex",
        "[1] [2]",
        "[1]x",
        "\"\\u00\"",
        "[1]\n",
        "\u{feff}[1]",
        "NaN",
        "Infinity",
        "[-]",
        "[1 2]",
        "{\"a\" 1}",
        "\"a",
        "[\"\\",
        "1E400",
        "-1e400",
        "[1e-999999]",
    ] {
        compare(text);
    }
    for n in NUMBERS {
        compare(n);
        compare(&format!("[{n}]"));
    }
    for s in STRINGS {
        compare(s);
    }
}
