//! Binary attachments: counting them on the way out, putting them back in place on the way in.

use bytes::Bytes;

use crate::error::DecodeError;
use crate::value::Value;

/// How many `Binary` values `value` holds, at any depth.
pub fn count(value: &Value) -> usize {
    match value {
        Value::Binary(_) => 1,
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(entries) => entries.iter().map(|(_, v)| count(v)).sum(),
        _ => 0,
    }
}

/// Replaces every `{"_placeholder":true,"num":N}` in `value` by `attachments[N]`.
///
/// A placeholder whose `num` is not an integer within `attachments` is refused, as socket.io-parser does.
pub fn fill_placeholders(value: &mut Value, attachments: &[Bytes]) -> Result<(), DecodeError> {
    match value {
        Value::Array(items) => items.iter_mut().try_for_each(|v| fill_placeholders(v, attachments)),
        Value::Object(_) if value.get("_placeholder") == Some(&Value::Bool(true)) => {
            let bytes = match value.get("num") {
                Some(&Value::Int(n)) => usize::try_from(n).ok().and_then(|n| attachments.get(n)),
                _ => None,
            };
            *value = Value::Binary(bytes.ok_or(DecodeError::BadPlaceholder)?.clone());
            Ok(())
        }
        Value::Object(entries) => entries
            .iter_mut()
            .try_for_each(|(_, v)| fill_placeholders(v, attachments)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn placeholders_at_any_depth_in_order() {
        let mut v = json::parse(
            r#"[{"_placeholder":true,"num":1},{"a":[{"_placeholder":true,"num":0}]}]"#,
            8,
        )
        .unwrap();
        let att = [Bytes::from_static(b"zero"), Bytes::from_static(b"one")];
        fill_placeholders(&mut v, &att).unwrap();
        assert_eq!(
            v,
            Value::Array(vec![
                Value::Binary(att[1].clone()),
                Value::Object(vec![("a".into(), Value::Array(vec![Value::Binary(att[0].clone())]))]),
            ])
        );
        assert_eq!(count(&v), 2);
    }

    #[test]
    fn bad_placeholders_are_refused() {
        let att = [Bytes::from_static(b"x")];
        for bad in [
            r#"{"_placeholder":true,"num":1}"#,
            r#"{"_placeholder":true,"num":-1}"#,
            r#"{"_placeholder":true,"num":0.5}"#,
            r#"{"_placeholder":true,"num":"0"}"#,
            r#"{"_placeholder":true}"#,
            r#"[{"_placeholder":true,"num":99999999999999999999}]"#,
        ] {
            let mut v = json::parse(bad, 8).unwrap();
            assert_eq!(
                fill_placeholders(&mut v, &att),
                Err(DecodeError::BadPlaceholder),
                "{bad}"
            );
        }
        // Not a placeholder: left alone.
        let mut v = json::parse(r#"{"_placeholder":false,"num":7}"#, 8).unwrap();
        let before = v.clone();
        fill_placeholders(&mut v, &att).unwrap();
        assert_eq!(v, before);
    }
}
