//! The engine's [`Sink`]: chunks decoded with `bytes_to_var`, containers as Godot's own `Array` and `Dictionary`,
//! and the one-go builds of small payloads (a CONNECT_ERROR's data, an answer built without a deadline).

use bytes::Bytes;
use godot::builtin::{GString, PackedByteArray, VarArray, VarDictionary, Variant};
use godot::meta::ToGodot;
use socketio_core::Payload;

use super::{Build, Sink};
use crate::marshal::DICTIONARY;

/// The engine's sink: `bytes_to_var` for chunks, Godot's own `Array` and `Dictionary`.
pub struct Godot;

/// A Godot container being filled.
pub enum Container {
    /// An `Array`.
    Array(VarArray),
    /// A `Dictionary`.
    Dict(VarDictionary),
}

impl Sink for Godot {
    type Container = Container;
    type Value = Variant;

    fn decode(&mut self, bytes: &[u8]) -> Container {
        let decoded = godot::global::bytes_to_var(&PackedByteArray::from(bytes));
        let dict = bytes.get(..4) == Some(&DICTIONARY.to_le_bytes());
        // What the build writes always decodes (tested against Godot's own `var_to_bytes`); should it not, the
        // container stays empty rather than the game getting something else.
        if dict {
            Container::Dict(decoded.try_to().unwrap_or_default())
        } else {
            Container::Array(decoded.try_to().unwrap_or_default())
        }
    }

    fn empty(&mut self, dict: bool) -> Container {
        if dict {
            Container::Dict(VarDictionary::new())
        } else {
            Container::Array(VarArray::new())
        }
    }

    fn extend(&mut self, into: &mut Container, from: Container) {
        match (into, from) {
            (Container::Array(into), Container::Array(from)) => into.extend_array(&from),
            (Container::Dict(into), Container::Dict(from)) => into.extend_dictionary(&from, true),
            _ => {}
        }
    }

    fn push(&mut self, into: &mut Container, key: Option<&str>, value: Variant) {
        match into {
            Container::Array(array) => array.push(&value),
            Container::Dict(dict) => dict.set(&GString::from(key.unwrap_or("")).to_variant(), &value),
        }
    }

    fn string(&mut self, s: &str) -> Variant {
        GString::from(s).to_variant()
    }

    fn binary(&mut self, bytes: &Bytes) -> Variant {
        PackedByteArray::from(bytes.as_ref()).to_variant()
    }

    fn value(&mut self, container: Container) -> Variant {
        match container {
            Container::Array(array) => array.to_variant(),
            Container::Dict(dict) => dict.to_variant(),
        }
    }
}

/// Builds the arguments of a received event or ack as the `Array` handlers get, in one go.
pub fn array(payload: &Payload) -> VarArray {
    let mut build = Build::new(payload.clone());
    build.run(&mut Godot, None);
    build.finish(&mut Godot).try_to().unwrap_or_default()
}

/// Builds any received value (a CONNECT_ERROR's data) in one go.
pub fn value(payload: &Payload) -> Variant {
    // The build makes arrays: wrap the value in one.
    let wrapped = match Payload::from_values(&[payload.to_value()]) {
        Ok(wrapped) => wrapped,
        Err(_) => return Variant::nil(),
    };
    array(&wrapped).get(0).unwrap_or_default()
}
