//! The client's state that GDScript never sees directly, and borrow-free dispatch of the core's events.
//!
//! [`Registry`] lives inside each `SocketIOClient`: the core `Client` (whose events are dispatched straight
//! from its queue), the namespace handles with their handlers, and the callbacks of `emit_with_ack`.
//!
//! Dispatch ([`run`]) pops one event at a time from the core while the client is borrowed, turns it into a list of
//! [`Action`]s (signals to emit, Callables to call, with their arguments already converted), releases the borrow,
//! and only then performs the actions. A handler may therefore call any method of the client or of a namespace,
//! including `poll()`, `close()` and `connect_to_url()`: a nested dispatch simply continues with the core's next
//! event, and every event is dispatched once, in arrival order.
//!
//! The arguments of an event or ack are built as Godot values before its actions are planned ([`crate::build`]).
//! A large payload is built over several calls, [`CONVERT_TIME_PER_POLL`] at most in each (from the start of the
//! `poll()`): its event waits, built so far, in [`Registry`], and the events after it wait in the core, so that
//! handlers see events in the order they came, each complete.
//!
//! The same rule holds for everything that can run GDScript indirectly: dropping the last reference to a Callable
//! (a lambda's captures may be freed, and their scripts run `_notification`), disconnecting signals, and reporting
//! errors (a script `Logger` runs inside `push_error`). Such things are carried out of the borrow, as
//! [`Action::Release`] or [`ToRelease`], or as error messages reported by the caller once the borrow is released.
//!
//! Files, each using only those after it: this one runs the dispatch ([`run`]); `plan` turns one core event into
//! [`Action`]s; `action` names them, and what the dispatcher needs of its [`Owner`]; `registry` holds what the client
//! keeps (the core, handles, handlers, ack callbacks) and lets go of it; `release` drops what was let go of once no
//! borrow is held.

mod action;
mod plan;
mod registry;
mod release;

use std::time::{Duration, Instant};

use godot::builtin::StringName;
use godot::classes::Object;
use godot::global::{godot_error, godot_warn};
use godot::meta::ToGodot;
use godot::obj::Gd;

use crate::namespace::SocketIONamespace;
use crate::signals::NamespaceSignal;

pub use action::{Action, Next, Owner};
pub use plan::{check_arity, ACK_CALLBACK_SHAPES, HANDLER_SHAPES};
pub use registry::Registry;
pub use release::{disconnect_all_signals, ToRelease};

/// Longest time a `poll()` (or another call that dispatches) spends building received payloads, counted from the
/// start of the call: what is left waits for the next call, in order. The engine work of the largest chunk a build
/// cannot cut comes on top (see [`crate::build`]).
pub const CONVERT_TIME_PER_POLL: Duration = Duration::from_millis(4);

/// Dispatches queued events until the queue is empty or the time to build payloads (until `deadline`) is up,
/// holding no borrow while actions run.
///
/// Any action may free the client (a handler calling `free()` on it): the loop checks that it still exists before
/// each action and each event, and stops when it does not (the actions left are dropped: the client let go of
/// everything when it was freed, and no signal of it may be emitted any more).
pub fn run<O: Owner>(client: &Gd<O>, deadline: Instant) {
    let mut gd = client.clone();
    let id = gd.instance_id();
    // Made once per run rather than once per event.
    let mut event_received: Option<StringName> = None;
    while gd.is_instance_valid() {
        let next = { gd.bind_mut().registry_mut().next_actions::<O>(id, deadline) };
        let Next::Actions(actions) = next else {
            break;
        };
        for action in actions {
            if !gd.is_instance_valid() {
                return;
            }
            perform(&gd, action, &mut event_received);
        }
    }
}

fn perform<O: Owner>(client: &Gd<O>, action: Action, event_received: &mut Option<StringName>) {
    match action {
        // The one signal emitted per event: straight to `emit_signal` with a name made once per run.
        Action::Namespace(mut namespace, NamespaceSignal::EventReceived(name, data)) => {
            let signal = event_received.get_or_insert_with(|| StringName::from("event_received"));
            // upcast_mut, not upcast: the latter checks the class through the engine (two calls) every time.
            namespace
                .upcast_mut::<Object>()
                .emit_signal(&*signal, &[name.to_variant(), data.to_variant()]);
        }
        Action::Client(signal) => O::emit_client_signal(client, signal),
        Action::Namespace(namespace, signal) => SocketIONamespace::emit_namespace_signal(&namespace, signal),
        Action::Call(callable, args) => {
            // An earlier action may have freed its object.
            if callable.is_valid() {
                callable.call(&args);
            }
        }
        Action::Release(callable) => drop(callable),
        Action::Error(message) => godot_error!("{message}"),
        Action::Warning(message) => godot_warn!("{message}"),
    }
}
