//! What is let go of under a borrow and dropped after it: Callables whose last reference may free objects that run
//! scripts, and namespace handles whose signal connections are cut so that no reference cycle keeps them alive.

use godot::builtin::{Callable, GString, StringName};
use godot::classes::Object;
use godot::obj::{Gd, Inherits};

use crate::namespace::SocketIONamespace;

/// Callables and namespace handles taken out of the client, to be dropped once no borrow is held (dropping the last
/// reference to a lambda can free objects whose scripts run code).
///
/// Dropping it also disconnects everything connected to the handles' signals: a lambda connected to a namespace's
/// signal and capturing that namespace (`ns.connected.connect(func(_sid): ns.emit(...))`) forms a reference cycle
/// (namespace → connection → lambda → namespace) that would otherwise keep both alive forever. The handles are no
/// longer the client's, so their signals would never be emitted again anyway.
#[must_use]
pub struct ToRelease {
    handlers: Vec<Callable>,
    objects: Vec<Gd<SocketIONamespace>>,
}

impl ToRelease {
    /// These handlers and handles, to be dropped in that order.
    pub(super) fn new(handlers: Vec<Callable>, objects: Vec<Gd<SocketIONamespace>>) -> ToRelease {
        ToRelease { handlers, objects }
    }
}

impl Drop for ToRelease {
    fn drop(&mut self) {
        let names = NAMESPACE_SIGNALS.map(StringName::from);
        for object in &self.objects {
            disconnect_signals(object, &names);
        }
        // Handlers first, then the handles (the handles' last references may be inside the handlers' captures).
        self.handlers.clear();
        self.objects.clear();
    }
}

/// Every signal a `SocketIONamespace` has: its own and `Object`'s (a script cannot be attached to it, so there are no
/// others). Listed rather than read with `get_signal_list()`, which builds a dictionary per signal: `close()` lets go
/// of every handle at once.
const NAMESPACE_SIGNALS: [&str; 6] = [
    "connected",
    "disconnected",
    "event_received",
    "connect_error",
    "script_changed",
    "property_list_changed",
];

/// Disconnects every connection of every signal of `object`. Runs GDScript (freed captures): call unborrowed.
pub fn disconnect_all_signals<T: Inherits<Object>>(object: &Gd<T>) {
    let names: Vec<StringName> = object
        .clone()
        .upcast::<Object>()
        .get_signal_list()
        .iter_shared()
        // "name" is a String in the dictionary.
        .filter_map(|signal| signal.get("name").and_then(|n| n.try_to::<GString>().ok()))
        .map(|name| StringName::from(&name))
        .collect();
    disconnect_signals(object, &names);
}

/// Disconnects every connection of the signals `names` of `object`. Runs GDScript (freed captures): call unborrowed.
fn disconnect_signals<T: Inherits<Object>>(object: &Gd<T>, names: &[StringName]) {
    let mut object: Gd<Object> = object.clone().upcast();
    let mut released = Vec::new();
    for name in names {
        for connection in object.get_signal_connection_list(name).iter_shared() {
            if let Some(callable) = connection.get("callable").and_then(|c| c.try_to::<Callable>().ok()) {
                if object.is_connected(name, &callable) {
                    object.disconnect(name, &callable);
                }
                released.push(callable);
            }
        }
    }
    drop(released);
}
