//! Parameter types for the spec's default arguments (`auth: Dictionary = {}`, `data: Array = []`,
//! `tls_options: TLSOptions = null`).
//!
//! gdext 0.5's `#[opt(default = ...)]` accepts only types implementing `GodotImmutable`, which excludes untyped
//! `Dictionary`, `Array` and `Option<Gd<T>>`. These newtypes have the same Godot shape as the type they wrap (so
//! GDScript and the class reference show `Dictionary`, `Array`, `TLSOptions`), and implement `GodotImmutable`
//! themselves; the only value ever used as a default is empty and made read-only (or `null`).

use godot::builtin::{AnyArray, VarArray, VarDictionary, Variant};
use godot::classes::TlsOptions;
use godot::meta::conv::ByValue;
use godot::meta::error::ConvertError;
use godot::meta::shape::GodotShape;
use godot::meta::{FromGodot, GodotConvert, GodotImmutable, ToGodot};
use godot::obj::Gd;

/// A `Dictionary` parameter that may default to `{}`.
#[derive(Debug, Clone)]
pub struct DictArg(pub VarDictionary);

impl DictArg {
    /// The default: an empty, read-only dictionary.
    pub fn empty() -> Self {
        DictArg(VarDictionary::new().into_read_only())
    }
}

impl GodotConvert for DictArg {
    type Via = VarDictionary;

    fn godot_shape() -> GodotShape {
        VarDictionary::godot_shape()
    }
}

impl ToGodot for DictArg {
    type Pass = ByValue;

    fn to_godot(&self) -> VarDictionary {
        self.0.clone()
    }
}

impl FromGodot for DictArg {
    fn try_from_godot(via: VarDictionary) -> Result<Self, ConvertError> {
        Ok(DictArg(via))
    }
}

// SAFETY: the only default value is an empty dictionary made read-only, which no caller can change; its reference
// count is atomic, so clones on other threads are sound.
#[allow(unsafe_code)]
unsafe impl GodotImmutable for DictArg {
    fn into_runtime_immutable(self) -> Self {
        DictArg(self.0.into_read_only())
    }
}

/// An `Array` parameter (typed or untyped) that may default to `[]`.
#[derive(Debug, Clone)]
pub struct ArrayArg(pub AnyArray);

impl ArrayArg {
    /// The default: an empty, read-only array.
    pub fn empty() -> Self {
        ArrayArg(VarArray::new().into_read_only().upcast_any_array())
    }
}

impl GodotConvert for ArrayArg {
    type Via = AnyArray;

    fn godot_shape() -> GodotShape {
        AnyArray::godot_shape()
    }
}

impl ToGodot for ArrayArg {
    type Pass = ByValue;

    fn to_godot(&self) -> AnyArray {
        self.0.clone()
    }
}

impl FromGodot for ArrayArg {
    fn try_from_godot(via: AnyArray) -> Result<Self, ConvertError> {
        Ok(ArrayArg(via))
    }
}

// SAFETY: the only default value is an empty array made read-only (see `empty()`); its reference count is atomic.
#[allow(unsafe_code)]
unsafe impl GodotImmutable for ArrayArg {}

/// A `TLSOptions` parameter that may default to `null`.
#[derive(Debug, Clone)]
pub struct TlsArg(pub Option<Gd<TlsOptions>>);

impl TlsArg {
    /// The default: `null`.
    pub fn none() -> Self {
        TlsArg(None)
    }
}

impl GodotConvert for TlsArg {
    type Via = Option<Gd<TlsOptions>>;

    fn godot_shape() -> GodotShape {
        <Option<Gd<TlsOptions>> as GodotConvert>::godot_shape()
    }
}

impl ToGodot for TlsArg {
    type Pass = ByValue;

    fn to_godot(&self) -> Option<Gd<TlsOptions>> {
        self.0.clone()
    }

    /// `null` is Godot's `Variant()`, as for engine methods with a `= null` default.
    fn to_variant(&self) -> Variant {
        match &self.0 {
            Some(options) => options.to_variant(),
            None => Variant::nil(),
        }
    }
}

impl FromGodot for TlsArg {
    fn try_from_godot(via: Option<Gd<TlsOptions>>) -> Result<Self, ConvertError> {
        Ok(TlsArg(via))
    }
}

// SAFETY: the only default value is `null`, which holds no object at all.
#[allow(unsafe_code)]
unsafe impl GodotImmutable for TlsArg {}
