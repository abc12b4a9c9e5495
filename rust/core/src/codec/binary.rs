//! Binary attachments on the way out: counting them. (On the way in, a [`Payload`](crate::Payload) yields each
//! attachment in place of its placeholder.)

use crate::codec::value::Value;

/// How many `Binary` values `value` holds, at any depth.
pub fn count(value: &Value) -> usize {
    match value {
        Value::Binary(_) => 1,
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(entries) => entries.iter().map(|(_, v)| count(v)).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn counts_binary_at_any_depth() {
        let v = Value::Array(vec![
            Value::Binary(Bytes::from_static(b"zero")),
            Value::Object(vec![("a".into(), Value::Array(vec![Value::Binary(Bytes::new())]))]),
            Value::Int(1),
        ]);
        assert_eq!(count(&v), 2);
    }
}
