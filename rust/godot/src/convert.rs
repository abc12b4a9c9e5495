//! Variant ⇄ [`Value`]: what GDScript may send, and how received payloads look in GDScript.
//!
//! Sent (Variant → Value):
//! - `null`, `bool`, `int` (stays an integer), `float` (finite only), `String`, `StringName`, `NodePath` (as its
//!   string form);
//! - `Array` (typed or not) and `Dictionary` with `String` / `StringName` keys, nested up to [`NESTING_DEPTH`] levels;
//! - `PackedByteArray` at any depth → a binary attachment;
//! - `PackedInt32Array`, `PackedInt64Array` → arrays of integers; `PackedFloat32Array`, `PackedFloat64Array` →
//!   arrays of floats; `PackedStringArray` → array of strings.
//!
//! Everything else (objects, callables, signals, RIDs, vectors, colors, transforms, …) is refused with a message
//! that names the type and where it sits, e.g. `data[1]["pos"] is a Vector2, which cannot be sent (use an Array or
//! Dictionary)`. Nothing is sent when any part is refused.
//!
//! Received payloads are not [`Value`]s: [`crate::build`] makes their Godot values straight from the JSON text
//! (integers → `int`, other numbers → `float`, binary → `PackedByteArray`, arrays → `Array`, objects →
//! `Dictionary` with keys in arrival order).

use std::fmt;

use bytes::Bytes;
use godot::builtin::{
    AnyArray, AnyDictionary, GString, NodePath, PackedByteArray, PackedFloat32Array, PackedFloat64Array,
    PackedInt32Array, PackedInt64Array, PackedStringArray, StringName, Variant, VariantType,
};
use godot::classes::{Engine, Object};
use godot::meta::ToGodot;
use godot::obj::{EngineEnum, Gd, Singleton};
use socketio_core::check::NESTING_DEPTH;
use socketio_core::Value;

use crate::marshal;

/// One step from the root of a payload to a nested value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// An array index.
    Index(usize),
    /// A dictionary key.
    Key(String),
}

/// Where a value sits inside a payload: a root name (`data`, `auth`) and the steps down to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuePath {
    root: String,
    segments: Vec<Segment>,
}

impl ValuePath {
    /// The path of the root value itself.
    pub fn new(root: impl Into<String>) -> Self {
        ValuePath {
            root: root.into(),
            segments: Vec::new(),
        }
    }

    fn push(&mut self, segment: Segment) {
        self.segments.push(segment);
    }

    fn pop(&mut self) {
        self.segments.pop();
    }

    /// Number of steps below the root.
    pub fn depth(&self) -> usize {
        self.segments.len()
    }
}

impl fmt::Display for ValuePath {
    /// GDScript-like: `data[1]["pos"]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.root)?;
        for segment in &self.segments {
            match segment {
                Segment::Index(i) => write!(f, "[{i}]")?,
                Segment::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

/// Why a Variant cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A type with no JSON or binary form.
    Unsupported {
        /// Where it sits.
        path: ValuePath,
        /// Its Godot type name, e.g. `Vector2`, or `Object (Node2D)`.
        type_name: String,
    },
    /// A NaN or infinite float.
    NonFinite {
        /// Where it sits.
        path: ValuePath,
    },
    /// A dictionary key that is not a `String` or `StringName`.
    BadKey {
        /// The dictionary holding it.
        path: ValuePath,
        /// The key's type name.
        type_name: String,
        /// The key, as Godot prints it; `None` for keys whose printing could run a script (objects, and containers
        /// or callables that may hold one: `_to_string()`).
        key: Option<String>,
    },
    /// Nested deeper than [`NESTING_DEPTH`] (or an array / dictionary that contains itself).
    TooDeep {
        /// Where the limit was crossed.
        path: ValuePath,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Unsupported { path, type_name } => write!(
                f,
                "{path} is {} {type_name}, which cannot be sent (use an Array or Dictionary)",
                article(type_name)
            ),
            Refusal::NonFinite { path } => write!(f, "{path} is NaN or infinite, which JSON cannot carry"),
            Refusal::BadKey {
                path,
                type_name,
                key: Some(key),
            } => write!(
                f,
                "{path} has the key {key} of type {type_name}: only String or StringName keys can be sent"
            ),
            Refusal::BadKey {
                path,
                type_name,
                key: None,
            } => write!(
                f,
                "{path} has a key of type {type_name}: only String or StringName keys can be sent"
            ),
            Refusal::TooDeep { path } => write!(
                f,
                "{path} is nested deeper than {NESTING_DEPTH} levels (does an Array or Dictionary contain itself?)"
            ),
        }
    }
}

/// "a" or "an" for a type name.
pub(crate) fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some(c) if "AEIOUaeiou".contains(c) => "an",
        _ => "a",
    }
}

/// Converts the elements of `array` (the arguments of an emit or ack), naming them `root[i]` in errors.
///
/// The whole array crosses from the engine in one `var_to_bytes` call ([`marshal`]); only what that fast path
/// leaves alone (values to refuse, `NodePath`s, nesting past the limit) is walked Variant by Variant.
pub fn args_to_values(array: &AnyArray, root: &str) -> Result<Vec<Value>, Refusal> {
    if let Some(values) = args_through_bytes(array) {
        return Ok(values);
    }
    let mut path = ValuePath::new(root);
    array_items(array, &mut path)
}

/// The fast path of [`args_to_values`]: `None` when the slow path must decide.
fn args_through_bytes(array: &AnyArray) -> Option<Vec<Value>> {
    let variant = array.to_variant();
    // An array that contains itself makes `var_to_bytes` fail after printing an error for each of its 1024
    // levels; the slow path then refuses it with one message of its own. Nothing else it accepts prints. The flag
    // silences the output only: in a game run from the editor, the debugger's error list still receives them.
    let mut engine = Engine::singleton();
    let printing = engine.is_printing_error_messages();
    if printing {
        engine.set_print_error_messages(false);
    }
    let bytes = godot::global::var_to_bytes(&variant);
    if printing {
        engine.set_print_error_messages(true);
    }
    marshal::decode_array(bytes.as_slice())
}

/// Converts one Variant (e.g. an auth dictionary), naming it `root` in errors.
pub fn variant_to_value(variant: &Variant, root: &str) -> Result<Value, Refusal> {
    let mut path = ValuePath::new(root);
    convert(variant, &mut path)
}

fn array_items(array: &AnyArray, path: &mut ValuePath) -> Result<Vec<Value>, Refusal> {
    let mut out = Vec::with_capacity(array.len());
    for (i, item) in array.iter_shared().enumerate() {
        path.push(Segment::Index(i));
        out.push(convert(&item, path)?);
        path.pop();
    }
    Ok(out)
}

fn finite(f: f64, path: &ValuePath) -> Result<Value, Refusal> {
    if f.is_finite() {
        Ok(Value::Float(f))
    } else {
        Err(Refusal::NonFinite { path: path.clone() })
    }
}

fn with_index<T>(
    items: impl Iterator<Item = T>,
    path: &mut ValuePath,
    mut f: impl FnMut(T, &ValuePath) -> Result<Value, Refusal>,
) -> Result<Value, Refusal> {
    let mut out = Vec::new();
    for (i, item) in items.enumerate() {
        path.push(Segment::Index(i));
        out.push(f(item, path)?);
        path.pop();
    }
    Ok(Value::Array(out))
}

fn convert(variant: &Variant, path: &mut ValuePath) -> Result<Value, Refusal> {
    let unsupported = |path: &ValuePath| Refusal::Unsupported {
        path: path.clone(),
        type_name: type_name(variant),
    };
    let ty = variant.get_type();
    Ok(match ty {
        VariantType::NIL => Value::Null,
        VariantType::BOOL => Value::Bool(variant.to::<bool>()),
        VariantType::INT => Value::Int(variant.to::<i64>()),
        VariantType::FLOAT => finite(variant.to::<f64>(), path)?,
        VariantType::STRING => Value::String(variant.to::<GString>().to_string()),
        VariantType::STRING_NAME => Value::String(variant.to::<StringName>().to_string()),
        VariantType::NODE_PATH => Value::String(variant.to::<NodePath>().to_string()),
        VariantType::PACKED_BYTE_ARRAY => {
            Value::Binary(Bytes::copy_from_slice(variant.to::<PackedByteArray>().as_slice()))
        }
        VariantType::PACKED_INT32_ARRAY => {
            let a = variant.to::<PackedInt32Array>();
            Value::Array(a.as_slice().iter().map(|&i| Value::Int(i64::from(i))).collect())
        }
        VariantType::PACKED_INT64_ARRAY => {
            let a = variant.to::<PackedInt64Array>();
            Value::Array(a.as_slice().iter().map(|&i| Value::Int(i)).collect())
        }
        VariantType::PACKED_FLOAT32_ARRAY => {
            let a = variant.to::<PackedFloat32Array>();
            with_index(a.as_slice().iter(), path, |&f, p| finite(f64::from(f), p))?
        }
        VariantType::PACKED_FLOAT64_ARRAY => {
            let a = variant.to::<PackedFloat64Array>();
            with_index(a.as_slice().iter(), path, |&f, p| finite(f, p))?
        }
        VariantType::PACKED_STRING_ARRAY => {
            let a = variant.to::<PackedStringArray>();
            Value::Array(a.as_slice().iter().map(|s| Value::String(s.to_string())).collect())
        }
        VariantType::ARRAY => {
            if path.depth() >= NESTING_DEPTH {
                return Err(Refusal::TooDeep { path: path.clone() });
            }
            let array = variant.try_to::<AnyArray>().map_err(|_| unsupported(path))?;
            Value::Array(array_items(&array, path)?)
        }
        VariantType::DICTIONARY => {
            if path.depth() >= NESTING_DEPTH {
                return Err(Refusal::TooDeep { path: path.clone() });
            }
            let dict = variant.try_to::<AnyDictionary>().map_err(|_| unsupported(path))?;
            Value::Object(dict_entries(&dict, path)?)
        }
        _ => return Err(unsupported(path)),
    })
}

fn dict_entries(dict: &AnyDictionary, path: &mut ValuePath) -> Result<Vec<(String, Value)>, Refusal> {
    let mut out = Vec::with_capacity(dict.len());
    for (key, value) in dict.iter_shared() {
        let key = match key.get_type() {
            VariantType::STRING => key.to::<GString>().to_string(),
            VariantType::STRING_NAME => key.to::<StringName>().to_string(),
            other => {
                // Printing an object runs its script's `_to_string()`, which must not happen here (the caller may
                // hold a borrow of the client), nor have any other effect: name the type only.
                let printable = !matches!(
                    other,
                    VariantType::OBJECT
                        | VariantType::ARRAY
                        | VariantType::DICTIONARY
                        | VariantType::CALLABLE
                        | VariantType::SIGNAL
                );
                return Err(Refusal::BadKey {
                    path: path.clone(),
                    type_name: type_name(&key),
                    key: printable.then(|| key.stringify().to_string()),
                });
            }
        };
        path.push(Segment::Key(key.clone()));
        let value = convert(&value, path)?;
        path.pop();
        out.push((key, value));
    }
    Ok(out)
}

/// Godot's name for the type of `variant`; for objects, with the class: `Object (Node2D)`.
fn type_name(variant: &Variant) -> String {
    let ty = variant.get_type();
    if ty == VariantType::OBJECT {
        return match variant.try_to::<Option<Gd<Object>>>() {
            Ok(Some(object)) => format!("Object ({})", object.get_class()),
            Ok(None) => "null Object".to_owned(),
            Err(_) => "freed Object".to_owned(),
        };
    }
    godot::global::type_string(ty.ord() as i64).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(root: &str, segments: Vec<Segment>) -> ValuePath {
        ValuePath {
            root: root.to_owned(),
            segments,
        }
    }

    #[test]
    fn path_formats_like_gdscript() {
        assert_eq!(path("data", vec![]).to_string(), "data");
        let p = path("data", vec![Segment::Index(1), Segment::Key("pos".into())]);
        assert_eq!(p.to_string(), r#"data[1]["pos"]"#);
        let p = path("auth", vec![Segment::Key("a \"q\"".into()), Segment::Index(0)]);
        assert_eq!(p.to_string(), r#"auth["a \"q\""][0]"#);
    }

    #[test]
    fn refusal_messages_name_type_and_place() {
        let p = path("data", vec![Segment::Index(1), Segment::Key("pos".into())]);
        let r = Refusal::Unsupported {
            path: p.clone(),
            type_name: "Vector2".into(),
        };
        assert_eq!(
            r.to_string(),
            r#"data[1]["pos"] is a Vector2, which cannot be sent (use an Array or Dictionary)"#
        );
        let r = Refusal::Unsupported {
            path: p.clone(),
            type_name: "Object (Node2D)".into(),
        };
        assert!(r
            .to_string()
            .starts_with(r#"data[1]["pos"] is an Object (Node2D), which"#));
        let r = Refusal::NonFinite { path: p.clone() };
        assert_eq!(
            r.to_string(),
            r#"data[1]["pos"] is NaN or infinite, which JSON cannot carry"#
        );
        let r = Refusal::BadKey {
            path: path("data", vec![Segment::Index(0)]),
            type_name: "int".into(),
            key: Some("3".into()),
        };
        assert_eq!(
            r.to_string(),
            "data[0] has the key 3 of type int: only String or StringName keys can be sent"
        );
        let r = Refusal::BadKey {
            path: path("data", vec![Segment::Index(0)]),
            type_name: "Object (RefCounted)".into(),
            key: None,
        };
        assert_eq!(
            r.to_string(),
            "data[0] has a key of type Object (RefCounted): only String or StringName keys can be sent"
        );
        let r = Refusal::TooDeep {
            path: path("data", vec![Segment::Index(0); 64]),
        };
        assert!(r.to_string().contains("nested deeper than 64 levels"));
    }

    #[test]
    fn articles() {
        assert_eq!(article("Object"), "an");
        assert_eq!(article("RID"), "a");
        assert_eq!(article("int"), "an");
    }
}
