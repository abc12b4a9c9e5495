//! Parameter types for the spec's default arguments (`auth: Dictionary = {}`, `data: Array = []`,
//! `tls_options: TLSOptions = null`).
//!
//! gdext 0.5's `#[opt(default = ...)]` accepts only types implementing `GodotImmutable`, which excludes untyped
//! `Dictionary`, `Array` and `Option<Gd<T>>`. These newtypes have the same Godot shape as the type they wrap (so
//! GDScript and the class reference show `Dictionary`, `Array`, `TLSOptions`), and implement `GodotImmutable`
//! themselves; the only value ever used as a default is empty and made read-only (or `null`).
//!
//! They are named after the GDScript types they stand for because gdext names the Rust type of a parameter when a
//! call passes a value it cannot convert (`parameter #1 (Dictionary) conversion`, then `cannot convert from NIL to
//! DICTIONARY`): such a call fails inside gdext before any of our code runs. What can get through to us is handled
//! here: an object of the wrong class for `tls_options` (an `X509Certificate` rather than `TLSOptions`, say) is
//! reported by `connect_to_url` with a hint, instead of failing the call.

use godot::builtin::{AnyArray, VarArray, VarDictionary, Variant};
use godot::classes::{Object, TlsOptions};
use godot::meta::conv::ByValue;
use godot::meta::error::ConvertError;
use godot::meta::shape::GodotShape;
use godot::meta::{FromGodot, GodotConvert, GodotImmutable, ToGodot};
use godot::obj::Gd;

/// A `Dictionary` parameter that may default to `{}`.
#[derive(Debug, Clone)]
pub struct Dictionary(pub VarDictionary);

impl Dictionary {
    /// The default: an empty, read-only dictionary.
    pub fn empty() -> Self {
        Dictionary(VarDictionary::new().into_read_only())
    }
}

impl GodotConvert for Dictionary {
    type Via = VarDictionary;

    fn godot_shape() -> GodotShape {
        VarDictionary::godot_shape()
    }
}

impl ToGodot for Dictionary {
    type Pass = ByValue;

    fn to_godot(&self) -> VarDictionary {
        self.0.clone()
    }
}

impl FromGodot for Dictionary {
    fn try_from_godot(via: VarDictionary) -> Result<Self, ConvertError> {
        Ok(Dictionary(via))
    }
}

// SAFETY: the only default value is an empty dictionary made read-only, which no caller can change; its reference
// count is atomic, so clones on other threads are sound.
#[allow(unsafe_code)]
unsafe impl GodotImmutable for Dictionary {
    fn into_runtime_immutable(self) -> Self {
        Dictionary(self.0.into_read_only())
    }
}

/// An `Array` parameter (typed or untyped) that may default to `[]`.
#[derive(Debug, Clone)]
pub struct Array(pub AnyArray);

impl Array {
    /// The default: an empty, read-only array.
    pub fn empty() -> Self {
        Array(VarArray::new().into_read_only().upcast_any_array())
    }
}

impl GodotConvert for Array {
    type Via = AnyArray;

    fn godot_shape() -> GodotShape {
        AnyArray::godot_shape()
    }
}

impl ToGodot for Array {
    type Pass = ByValue;

    fn to_godot(&self) -> AnyArray {
        self.0.clone()
    }
}

impl FromGodot for Array {
    fn try_from_godot(via: AnyArray) -> Result<Self, ConvertError> {
        Ok(Array(via))
    }
}

// SAFETY: the only default value is an empty array made read-only (see `empty()`); its reference count is atomic.
#[allow(unsafe_code)]
unsafe impl GodotImmutable for Array {}

/// A `TLSOptions` parameter that may default to `null`: the options, or why the value given is not one.
#[derive(Debug, Clone)]
#[allow(clippy::upper_case_acronyms)]
pub struct TLSOptions(pub Result<Option<Gd<TlsOptions>>, String>);

impl TLSOptions {
    /// The default: `null`.
    pub fn none() -> Self {
        TLSOptions(Ok(None))
    }
}

impl GodotConvert for TLSOptions {
    type Via = Option<Gd<TlsOptions>>;

    fn godot_shape() -> GodotShape {
        <Option<Gd<TlsOptions>> as GodotConvert>::godot_shape()
    }
}

impl ToGodot for TLSOptions {
    type Pass = ByValue;

    fn to_godot(&self) -> Option<Gd<TlsOptions>> {
        self.0.clone().ok().flatten()
    }

    /// `null` is Godot's `Variant()`, as for engine methods with a `= null` default.
    fn to_variant(&self) -> Variant {
        match &self.0 {
            Ok(Some(options)) => options.to_variant(),
            _ => Variant::nil(),
        }
    }
}

impl FromGodot for TLSOptions {
    fn try_from_godot(via: Option<Gd<TlsOptions>>) -> Result<Self, ConvertError> {
        Ok(TLSOptions(Ok(via)))
    }

    /// An object of another class is taken, and reported by the method, rather than failing the call in gdext (which
    /// Godot prints as "Bug: Invalid call error code 1337").
    fn try_from_variant(variant: &Variant) -> Result<Self, ConvertError> {
        if let Ok(options) = variant.try_to::<Option<Gd<TlsOptions>>>() {
            return Ok(TLSOptions(Ok(options)));
        }
        match variant.try_to::<Gd<Object>>() {
            Ok(object) => {
                let class = object.get_class().to_string();
                let message = if class == "X509Certificate" {
                    "tls_options must be a TLSOptions or null, not an X509Certificate: to trust this certificate, \
                     pass TLSOptions.client(certificate)"
                        .to_owned()
                } else {
                    format!(
                        "tls_options must be a TLSOptions or null, not {} {class}",
                        crate::convert::article(&class)
                    )
                };
                Ok(TLSOptions(Err(message)))
            }
            Err(error) => Err(error),
        }
    }
}

// SAFETY: the only default value is `null`, which holds no object at all.
#[allow(unsafe_code)]
unsafe impl GodotImmutable for TLSOptions {}
