//! The payload value model: JSON plus binary attachments, with integers kept apart from floats.

use bytes::Bytes;

/// One value of an event's arguments, an ack's arguments or an auth payload.
///
/// It is JSON with two refinements the protocol needs: integers and floats stay distinct (a `2` never comes back as
/// `2.0`), and `Binary` may sit at any depth (it travels as a binary attachment, in place of a
/// `{"_placeholder":true,"num":N}` object). Object keys keep the order in which they arrived or were inserted.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON `null`.
    Null,
    /// JSON `true` / `false`.
    Bool(bool),
    /// A JSON number written without fraction or exponent that fits in an `i64`.
    Int(i64),
    /// Any other JSON number. Never NaN or infinite once encoded: the encoder refuses those.
    Float(f64),
    /// A JSON string.
    String(String),
    /// A JSON array.
    Array(Vec<Value>),
    /// A JSON object, keys in order. Duplicate keys from the wire keep the last value, as JavaScript does.
    Object(Vec<(String, Value)>),
    /// Raw bytes, sent as a binary attachment.
    Binary(Bytes),
}

impl Value {
    /// The value of `key` when this is an object that holds it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string inside, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::Array(items)
    }
}

impl From<Bytes> for Value {
    fn from(b: Bytes) -> Self {
        Value::Binary(b)
    }
}
