//! `SocketIONamespace`: one namespace of the connection, as GDScript sees it.
//!
//! The object is a thin handle (its path and the client's instance id). Everything mutable (handlers, pending
//! callbacks, the core's state) lives in its `SocketIOClient`. This file declares the class, its signals
//! and what the client and the dispatcher need of a handle; the methods that ask the client something (connect,
//! emit, handlers, state) are in `client/namespace_api.rs`, so that this module depends on nothing of the client.
//!
//! The getters take `&self` (Godot marks them `const`); the methods that act take `Gd<Self>` (not `const`, as the
//! class reference shows them), copy the handle out and hold no borrow of it. Each borrows the client only for the
//! duration of one core call and never while GDScript runs. That makes every method safe to call from inside an
//! event handler.

use std::cell::Cell;
use std::rc::Rc;

use godot::builtin::{GString, VarArray, VarDictionary};
use godot::classes::RefCounted;
use godot::obj::{Base, Gd, InstanceId, WithBaseField};
use godot::prelude::{godot_api, GodotClass};

use crate::signals::NamespaceSignal;

/// Represents a Socket.IO namespace for event-based communication.
///
/// A namespace is a separate channel multiplexed over the client's single connection, with its own handlers,
/// connection state and session id. Get one from [code]SocketIOClient.get_namespace()[/code] or
/// [code]SocketIOClient.create_namespace()[/code]; the main namespace [code]"/"[/code] is created by
/// [code]connect_to_url()[/code].
///
/// Handlers registered with [method on] receive an [Array] holding the event's arguments. A handler declared with
/// two parameters, [code]func(data, ack)[/code], also receives a [Callable]: when the server asked for an
/// acknowledgement, [code]ack.call([...])[/code] sends it (once).
///
/// Handles and handlers stay valid across automatic reconnections and [code]SocketIOClient.connect_to_url()[/code].
/// [code]SocketIOClient.close()[/code] forgets them (and [code]SocketIOClient.remove_namespace()[/code] one of them)
/// and disconnects whatever is connected to their signals: an old handle then reports
/// [code]STATE_DISCONNECTED[/code] and its commands report an error; get the namespace again from the client.
///
/// A handler lives until [method off], or until the object its [Callable] belongs to is freed (then it is skipped
/// and dropped): a bound method or a lambda using [code]self[/code] goes with its node, but a lambda that does not
/// use [code]self[/code] belongs to its script and stays. Register such lambdas with [method on_for] to tie them
/// to a node.
///
/// Enum [code]ConnectionState[/code]: [code]STATE_DISCONNECTED[/code] = 0 (not connected),
/// [code]STATE_CONNECTING[/code] = 1 (connecting), [code]STATE_CONNECTED[/code] = 2 (connected, ready to send and
/// receive events).
#[derive(GodotClass)]
#[class(no_init, base = RefCounted)]
pub struct SocketIONamespace {
    base: Base<RefCounted>,
    path: Rc<str>,
    client: InstanceId,
    /// Why the client let go of this handle, once it did (from the start of the `close()` or `remove_namespace()`).
    detached: Cell<Detached>,
}

/// Whether, and why, the client let go of a namespace handle: its commands then say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detached {
    /// Still the client's.
    No,
    /// Forgotten by `SocketIOClient.close()`.
    Closed,
    /// Removed by `SocketIOClient.remove_namespace()`.
    Removed,
    /// Its client was freed.
    Freed,
}

#[godot_api]
impl SocketIONamespace {
    /// Emitted when this namespace connects. [param session_id] is the Socket.IO session id of this namespace.
    #[signal]
    fn connected(session_id: GString);

    /// Emitted when this namespace is disconnected, with socket.io's reason ([code]"io client disconnect"[/code],
    /// [code]"io server disconnect"[/code], [code]"transport close"[/code], [code]"ping timeout"[/code], …).
    #[signal]
    fn disconnected(reason: GString);

    /// Emitted for every event received on this namespace, before the handlers registered with [method on].
    /// [param data] holds the event's arguments.
    #[signal]
    fn event_received(event_name: GString, data: VarArray);

    /// Emitted when connecting this namespace fails: the server refused it, or the connection could not be opened.
    /// [param error] holds [code]"message"[/code], [code]"data"[/code] (the server's details, or [code]null[/code])
    /// and [code]"namespace"[/code].
    #[signal]
    fn connect_error(error: VarDictionary);

    /// Returns the namespace path, e.g. [code]"/"[/code] or [code]"/chat"[/code].
    #[func]
    fn get_namespace_path(&self) -> GString {
        GString::from(&*self.path)
    }
}

impl SocketIONamespace {
    /// A handle for namespace `path` of `client`.
    pub(crate) fn create(path: &str, client: InstanceId) -> Gd<Self> {
        Gd::from_init_fn(|base| SocketIONamespace {
            base,
            path: Rc::from(path),
            client,
            detached: Cell::new(Detached::No),
        })
    }

    /// Records why the client let go of this handle.
    pub(crate) fn detach(&self, why: Detached) {
        self.detached.set(why);
    }

    /// Emits one of this namespace's signals (no borrow held).
    pub(crate) fn emit_namespace_signal(this: &Gd<Self>, signal: NamespaceSignal) {
        let mut signals = this.signals();
        match signal {
            NamespaceSignal::Connected(sid) => signals.connected().emit(&sid),
            NamespaceSignal::Disconnected(reason) => signals.disconnected().emit(&reason),
            NamespaceSignal::EventReceived(name, data) => signals.event_received().emit(&name, &data),
            NamespaceSignal::ConnectError(error) => signals.connect_error().emit(&error),
        }
    }

    /// What the methods need of this handle, copied out (the `&self` getters are marked `const` by Godot; the
    /// others must hold no borrow of the handle while they run).
    pub(crate) fn handle(&self) -> Handle {
        Handle {
            path: Rc::clone(&self.path),
            client: self.client,
            object: self.base().instance_id(),
            detached: self.detached.get(),
        }
    }
}

/// A copy of what a namespace object knows, so that methods which may run GDScript hold no borrow of it.
pub(crate) struct Handle {
    /// The namespace's path.
    pub path: Rc<str>,
    /// The client it belongs to.
    pub client: InstanceId,
    /// The namespace object itself.
    pub object: InstanceId,
    /// Why the client let go of it, if it did.
    pub detached: Detached,
}
