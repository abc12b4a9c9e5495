//! Payload checks and reads against hand-picked texts.

use super::*;

fn checked(text: &str, attachments: usize, skip_first: bool, budget: usize) -> Payload {
    let mut check = Check::new(text, 0, 64, attachments);
    while !check.step(text, budget).unwrap() {}
    check.into_payload(text.into(), skip_first)
}

#[test]
fn reads_back_what_was_checked_in_any_steps() {
    let text = r#"["name", 1, -2.5, "s\n", {"k": [true, null, {}]}, []]"#;
    let whole = checked(text, 0, true, usize::MAX);
    assert_eq!(whole.len(), 5);
    let expected = json::parse(&text.replacen("\"name\", ", "", 1), 8).unwrap();
    assert_eq!(whole.to_value(), expected);
    for budget in 1..text.len() {
        assert_eq!(checked(text, 0, true, budget).to_value(), expected, "budget {budget}");
    }
}

#[test]
fn placeholders_become_attachments() {
    let text = r#"["x",{"_placeholder":true,"num":1},{"a":[{"num":0,"_placeholder":true}]}]"#;
    let mut p = checked(text, 2, false, 7);
    assert!(p.placeholders_valid());
    p.set_attachments(vec![Bytes::from_static(b"zero"), Bytes::from_static(b"one")]);
    assert_eq!(
        p.to_values(),
        vec![
            Value::String("x".into()),
            Value::Binary(Bytes::from_static(b"one")),
            Value::Object(vec![(
                "a".into(),
                Value::Array(vec![Value::Binary(Bytes::from_static(b"zero"))])
            )]),
        ]
    );
    // Only the outer object of a placeholder inside a placeholder counts, and its own `num` decides.
    let nested = r#"[{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]"#;
    assert!(checked(nested, 1, false, 3).placeholders_valid());
    for bad in [
        r#"[{"_placeholder":true,"num":1}]"#,
        r#"[{"_placeholder":true,"num":-1}]"#,
        r#"[{"_placeholder":true,"num":0.0}]"#,
        r#"[{"_placeholder":true,"num":"0"}]"#,
        r#"[{"_placeholder":true}]"#,
        r#"[{"_placeholder":true,"num":0,"num":[0]}]"#,
    ] {
        assert!(!checked(bad, 1, false, 5).placeholders_valid(), "{bad}");
    }
    // The last `_placeholder` decides, and only `true` makes a placeholder.
    for not in [
        r#"[{"_placeholder":true,"_placeholder":false,"num":5}]"#,
        r#"[{"_placeholder":1,"num":5}]"#,
    ] {
        assert!(checked(not, 1, false, 5).placeholders_valid(), "{not}");
    }
}

#[test]
fn members_and_last_string() {
    let p = checked(
        r#"{"sid":"a","sid":"b","n":7,"d":{"x":[1]} ,"e":"\u00e9"}"#,
        0,
        false,
        4,
    );
    assert_eq!(p.get_str("sid").as_deref(), Some("b"));
    assert_eq!(p.get_int("n"), Some(7));
    assert_eq!(p.get_str("n"), None);
    assert_eq!(p.get_str("e").as_deref(), Some("é"));
    assert_eq!(
        p.member("d").map(|d| d.to_value()),
        Some(json::parse(r#"{"x":[1]}"#, 4).unwrap())
    );
    assert!(p.member("nope").is_none());
    let args = checked(r#"["ev",1,"off\"set"]"#, 0, true, 2);
    assert_eq!(args.last_string().as_deref(), Some("off\"set"));
    assert_eq!(checked(r#"["ev"]"#, 0, true, 2).last_string(), None);
    assert_eq!(checked(r#"["ev","a",2]"#, 0, true, 2).last_string(), None);
}
