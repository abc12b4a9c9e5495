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

/// The shortcut for short decimals writes exactly what ryu writes, and everything else still goes to ryu.
#[test]
fn floats_are_written_as_ryu_writes_them() {
    fn written(f: f64) -> String {
        let mut out = String::new();
        write(&Value::Float(f), &mut out, &mut Vec::new(), "data").unwrap();
        out
    }
    let mut values = vec![
        1.5,
        -1.5,
        2.0,
        0.5,
        0.25,
        0.1,
        0.2,
        0.3,
        0.0001,
        0.00015,
        0.001,
        1e-5,
        123.4567,
        999_999_999.999_9,
        1e9,
        1e9 + 0.5,
        1e15,
        1e16,
        1e21,
        0.1 + 0.2,
        100.0,
        -0.0,
        0.0,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        std::f64::consts::PI,
        65_535.0,
        0.999_95,
        12_345.678_9,
    ];
    // Decimals of every length from 0 to 6 at many magnitudes, and arbitrary bit patterns (a fixed LCG).
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..20_000 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let digits = (x >> 33) % 10_000_000_000_000;
        let decimals = ((x >> 20) % 7) as i32;
        values.push(digits as f64 / 10f64.powi(decimals));
        values.push(-((x >> 40) as f64) / 10f64.powi(decimals));
        let bits = f64::from_bits(x);
        if bits.is_finite() {
            values.push(bits);
        }
    }
    for f in values {
        assert_eq!(written(f), ryu::Buffer::new().format_finite(f), "{f:e}");
    }
}
