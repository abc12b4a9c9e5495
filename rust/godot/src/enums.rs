//! The `ConnectionState` enum of `SocketIOClient` and `SocketIONamespace`.
//!
//! gdext 0.5 has no macro for class-level enums, so the enumerators are registered by hand with Godot
//! ([`register_enum`], called once the classes exist), and the return type of `get_connection_state()` is a small
//! newtype whose shape names the enum (`SocketIOClient.ConnectionState`), so GDScript and the class reference show
//! the enum type rather than a bare `int`.

use std::borrow::Cow;

use godot::builtin::StringName;
use godot::meta::conv::ByValue;
use godot::meta::shape::{EnumeratorShape, GodotShape};
use godot::meta::{GodotConvert, ToGodot};
use godot::obj::GodotClass;
use godot::register::private::constant::{ConstantKind, ExportConstant, IntegerConstant};
use socketio_core::ConnectionState;

/// Enum name inside each class.
const ENUM_NAME: &str = "ConnectionState";

/// Enumerator names and values, shared by both classes.
const ENUMERATORS: [(&str, i64); 3] = [
    ("STATE_DISCONNECTED", 0),
    ("STATE_CONNECTING", 1),
    ("STATE_CONNECTED", 2),
];

/// The enumerator value of a core state.
pub fn ordinal(state: ConnectionState) -> i64 {
    match state {
        ConnectionState::Disconnected => 0,
        ConnectionState::Connecting => 1,
        ConnectionState::Connected => 2,
    }
}

/// Registers `T.ConnectionState` with Godot. Call once, after `T` itself is registered.
pub fn register_enum<T: GodotClass>() {
    let enumerators = ENUMERATORS
        .iter()
        .map(|&(name, value)| IntegerConstant::new(name, value))
        .collect();
    let kind = ConstantKind::Enum {
        name: StringName::from(ENUM_NAME),
        enumerators,
    };
    ExportConstant::new(T::class_id(), kind).register();
}

/// Registers enum `name` of class `T` with `enumerators`. Call once, after `T` itself is registered.
pub fn register_named_enum<T: GodotClass>(name: &str, enumerators: &[(&str, i64)]) {
    let enumerators = enumerators
        .iter()
        .map(|&(name, value)| IntegerConstant::new(name, value))
        .collect();
    let kind = ConstantKind::Enum {
        name: StringName::from(name),
        enumerators,
    };
    ExportConstant::new(T::class_id(), kind).register();
}

macro_rules! state_type {
    ($(#[$attr:meta])* $name:ident, $godot_name:literal) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(pub ConnectionState);

        impl GodotConvert for $name {
            type Via = i64;

            fn godot_shape() -> GodotShape {
                const SHAPES: &[EnumeratorShape] = &[
                    EnumeratorShape::new_int(ENUMERATORS[0].0, ENUMERATORS[0].1),
                    EnumeratorShape::new_int(ENUMERATORS[1].0, ENUMERATORS[1].1),
                    EnumeratorShape::new_int(ENUMERATORS[2].0, ENUMERATORS[2].1),
                ];
                GodotShape::Enum {
                    variant_type: godot::builtin::VariantType::INT,
                    enumerators: Cow::Borrowed(SHAPES),
                    godot_name: Some(Cow::Borrowed($godot_name)),
                    is_bitfield: false,
                }
            }
        }

        impl ToGodot for $name {
            type Pass = ByValue;

            fn to_godot(&self) -> i64 {
                ordinal(self.0)
            }
        }
    };
}

state_type!(
    /// `SocketIOClient.ConnectionState` as a return type.
    ClientState,
    "SocketIOClient.ConnectionState"
);

state_type!(
    /// `SocketIONamespace.ConnectionState` as a return type.
    NamespaceState,
    "SocketIONamespace.ConnectionState"
);
