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

/// The editor help of each enumerator of `SocketIOClient.ConnectionState` (the class reference's words).
const CLIENT_DOCS: [&str; 3] = [
    "The client is not connected to any server.",
    "The client is attempting to connect to the server.",
    "The client is connected to the server.",
];

/// The editor help of each enumerator of `SocketIONamespace.ConnectionState` (the class reference's words).
const NAMESPACE_DOCS: [&str; 3] = [
    "The namespace is not connected.",
    "The namespace is attempting to connect.",
    "The namespace is connected and ready to send/receive events.",
];

/// An enum of one of the crate's classes, registered by hand: its class, name, and enumerators with their editor
/// help.
pub struct ClassEnum {
    /// The class's name.
    pub class: &'static str,
    /// The enum's name in the class.
    pub name: &'static str,
    /// Name, value and description of each enumerator.
    pub enumerators: Vec<(&'static str, i64, &'static str)>,
}

/// Every enum the crate registers by hand (`ConnectionState` of both classes, `SocketIOConnection.ProcessCallback`).
pub fn class_enums() -> Vec<ClassEnum> {
    let state = |class, docs: [&'static str; 3]| ClassEnum {
        class,
        name: ENUM_NAME,
        enumerators: ENUMERATORS
            .iter()
            .zip(docs)
            .map(|(&(name, value), doc)| (name, value, doc))
            .collect(),
    };
    vec![
        state("SocketIOClient", CLIENT_DOCS),
        state("SocketIONamespace", NAMESPACE_DOCS),
        ClassEnum {
            class: "SocketIOConnection",
            name: "ProcessCallback",
            enumerators: crate::connection::PROCESS_CALLBACK.to_vec(),
        },
    ]
}

/// Registers `T`'s enum `name` with Godot. Call once, after `T` itself is registered.
pub fn register<T: GodotClass>(class_enum: &ClassEnum) {
    let enumerators = class_enum
        .enumerators
        .iter()
        .map(|&(name, value, _)| IntegerConstant::new(name, value))
        .collect();
    let kind = ConstantKind::Enum {
        name: StringName::from(class_enum.name),
        enumerators,
    };
    ExportConstant::new(T::class_id(), kind).register();
}

/// Registers every enum of [`class_enums`] with Godot. Call once, after the classes are registered.
pub fn register_all() {
    for class_enum in class_enums() {
        match class_enum.class {
            "SocketIOClient" => register::<crate::client::SocketIOClient>(&class_enum),
            "SocketIONamespace" => register::<crate::namespace::SocketIONamespace>(&class_enum),
            "SocketIOConnection" => register::<crate::connection::SocketIOConnection>(&class_enum),
            other => unreachable!("no class {other}"),
        }
    }
}

/// The class reference XML of a class (as `register-docs` makes it) with its hand-registered enums added as a
/// `<constants>` block, so that the editor help describes every enumerator; `None` for a class without one.
/// gdext's XML has no `<constants>` block for these classes (it knows only `#[constant]`s, which they have none of).
pub fn with_enum_docs(xml: &str) -> Option<String> {
    let class = xml.split("<class name=\"").nth(1)?.split('"').next()?;
    let enums: Vec<ClassEnum> = class_enums().into_iter().filter(|e| e.class == class).collect();
    if enums.is_empty() || xml.contains("<constants>") {
        return None;
    }
    let mut block = String::from("<constants>");
    for class_enum in &enums {
        for (name, value, doc) in &class_enum.enumerators {
            block.push_str(&format!(
                "<constant name=\"{name}\" value=\"{value}\" enum=\"{}\">{}</constant>",
                class_enum.name,
                escape(doc)
            ));
        }
    }
    block.push_str("</constants>");
    // Godot's own files put the constants after the methods; before the signals, else before the members.
    let at = xml.find("<signals>").or_else(|| xml.find("<members>"))?;
    Some(format!("{}{block}\n{}", &xml[..at], &xml[at..]))
}

/// XML text escaping of a description.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
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
