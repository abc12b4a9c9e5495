//! The signals of both classes as values: what [`crate::dispatch`] decides to emit while the client is borrowed,
//! and each class emits once no borrow is held (`SocketIOClient::emit_client_signal`,
//! [`SocketIONamespace::emit_namespace_signal`](crate::namespace::SocketIONamespace::emit_namespace_signal)).

use godot::builtin::{GString, VarArray, VarDictionary};

/// A signal of `SocketIOClient`, with its arguments.
pub enum ClientSignal {
    /// `connect_error(error)`
    ConnectError(VarDictionary),
    /// `connected(session_id)`
    Connected(GString),
    /// `disconnected(reason)`
    Disconnected(GString),
    /// `namespace_connected(namespace_path)`
    NamespaceConnected(GString),
    /// `namespace_disconnected(namespace_path)`
    NamespaceDisconnected(GString),
    /// `reconnect_attempt(attempt, delay)`
    ReconnectAttempt(i64, f64),
    /// `reconnected(attempt)`
    Reconnected(i64),
    /// `reconnect_failed()`
    ReconnectFailed,
    /// `transport_upgraded(transport)`
    TransportUpgraded(GString),
}

/// A signal of `SocketIONamespace`, with its arguments.
pub enum NamespaceSignal {
    /// `connected(session_id)`
    Connected(GString),
    /// `disconnected(reason)`
    Disconnected(GString),
    /// `event_received(event_name, data)`
    EventReceived(GString, VarArray),
    /// `connect_error(error)`
    ConnectError(VarDictionary),
}
