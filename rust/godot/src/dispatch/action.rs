//! What dispatch decides while the client is borrowed ([`Action`], [`Next`]), and what it needs of the object that
//! holds the registry ([`Owner`]).

use godot::builtin::{Callable, Variant};
use godot::obj::Gd;

use crate::guard::Recover;
use crate::namespace::SocketIONamespace;
use crate::signals::{ClientSignal, NamespaceSignal};

use super::registry::Registry;

/// What [`Registry::next_actions`] found.
pub enum Next {
    /// The actions of the next event.
    Actions(Vec<Action>),
    /// A payload is being built and its time is up: dispatch nothing more in this call.
    Busy,
    /// Nothing left.
    Empty,
}

/// One thing to do in GDScript's world, decided while borrowed and done after the borrow is released.
pub enum Action {
    /// Emit a signal of the client.
    Client(ClientSignal),
    /// Emit a signal of a namespace.
    Namespace(Gd<SocketIONamespace>, NamespaceSignal),
    /// Call a handler or callback with these arguments (skipped if it became invalid meanwhile): a plain call with
    /// the arguments, not `callv` of an Array made for it.
    Call(Callable, Vec<Variant>),
    /// Drop this Callable (a handler or callback that became invalid), once no borrow is held.
    Release(Callable),
    /// Report an error with `push_error` (which may run a script `Logger`, so never under a borrow).
    Error(String),
    /// Report a warning with `push_warning`, likewise.
    Warning(String),
}

/// The object a [`Registry`] lives in, as the dispatcher reaches it: the `SocketIOClient`. Dispatch is written against
/// this, not the class, so that it depends only on what it drives below it (the namespace handles, the builders).
pub trait Owner: Recover {
    /// What it keeps: the core, handles, handlers and callbacks.
    fn registry_mut(&mut self) -> &mut Registry;
    /// Has what was queued (an ack) written at the end of the frame.
    fn queue_flush(&mut self);
    /// Emits one of its signals (no borrow held).
    fn emit_client_signal(this: &Gd<Self>, signal: ClientSignal);
}
