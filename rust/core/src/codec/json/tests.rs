//! The tokenizer, parse and write, against hand-picked texts.

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
