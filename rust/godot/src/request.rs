//! `SocketIONamespace.request()`: an `emit_with_ack` whose answer is awaited rather than passed to a callback.
//!
//! A request is a [`SocketIORequest`] object with one signal, `completed(reply)`, and the ack callback that emits it:
//! `Callable(request, "_reply").bind(keep)`. Its shape is the one-parameter callback of `emit_with_ack` (two
//! parameters, one bound), so the client calls it exactly as it calls a GDScript callback: with the server's answer,
//! or with `["timeout"]` when the ack times out, the namespace disconnects first, or the client is closed.
//!
//! Nothing but that callback keeps the request alive: `keep`, its bound argument, is a Rust Callable that owns the
//! request (an object-method Callable holds only the object's id). When the client lets go of the callback without
//! calling it (a panic's reset, the shutdown at exit, a client that is freed, an ack made during `close()`'s final
//! dispatch), dropping `keep` completes the request with `["timeout"]`, so that an `await` never hangs. The client
//! drops the Callables it lets go of only once no borrow is held (see `dispatch::ToRelease`), as it does for any
//! Callable whose release may run scripts.
//!
//! A request refused before anything is sent (bad event name, unsendable data, bad timeout, a handle the client no
//! longer has) completes with `["timeout"]` too, deferred to the end of the frame: the caller has not reached its
//! `await` yet when `request()` returns.

use std::cell::Cell;

use godot::builtin::{Callable, Signal, VarArray, Variant};
use godot::classes::{Engine, RefCounted};
use godot::meta::ToGodot;
use godot::obj::{Base, Gd, Singleton};
use godot::prelude::{godot_api, GodotClass};

/// The pending request behind [code]SocketIONamespace.request()[/code].
///
/// [code]SocketIONamespace.request()[/code] returns this object's [signal completed] signal, to be awaited:
/// [codeblock]
/// var reply: Array = await ns.request("get_user", [42])
/// [/codeblock]
/// There is no need to keep or use the object itself: the client keeps it until it completes.
#[derive(GodotClass)]
#[class(no_init, base = RefCounted)]
pub struct SocketIORequest {
    base: Base<RefCounted>,
    /// Whether `completed` was emitted (it is emitted once).
    done: Cell<bool>,
    /// Whether the request was handed to the client: from then on, a callback released without being called
    /// completes it (before, `request()` completes it itself, deferred).
    armed: Cell<bool>,
}

#[godot_api]
impl SocketIORequest {
    /// Emitted once, with the server's answer (an [Array] of its arguments, as [code]emit_with_ack()[/code]'s
    /// callback receives it), or with [code]["timeout"][/code] when no answer came in time, the namespace
    /// disconnected first, the client was closed, or the request was refused.
    #[signal]
    fn completed(reply: VarArray);

    /// Returns [code]true[/code] once [signal completed] was emitted.
    #[func]
    fn is_completed(&self) -> bool {
        self.done.get()
    }

    /// The acknowledgement callback (called by the client; [param _keep] is what keeps the request alive).
    #[func(gd_self)]
    fn _reply(this: Gd<Self>, reply: VarArray, _keep: Variant) {
        Self::finish(&this, reply);
    }
}

impl SocketIORequest {
    /// A new request and the callback to register for it with the client.
    pub(crate) fn start() -> (Gd<Self>, Callable) {
        let request = Gd::from_init_fn(|base| SocketIORequest {
            base,
            done: Cell::new(false),
            armed: Cell::new(false),
        });
        let keep = Keep(Some(request.clone()));
        let keep = Callable::from_fn("socketio_request", move |_args: &[&Variant]| {
            let _ = &keep;
            Variant::nil()
        });
        let callback = Callable::from_object_method(&request, "_reply").bind(&[keep.to_variant()]);
        (request, callback)
    }

    /// The signal `request()` returns: armed when the client took the request (`sent`), otherwise completed with
    /// `["timeout"]` at the end of the frame.
    pub(crate) fn signal(request: Gd<Self>, sent: bool) -> Signal {
        let signal = Signal::from_object_signal(&request, "completed");
        if sent {
            request.bind().armed.set(true);
        } else {
            let refused = request.clone();
            Callable::from_fn("socketio_request_refused", move |_args: &[&Variant]| {
                Self::finish(&refused, timeout_reply());
                Variant::nil()
            })
            .call_deferred(&[]);
        }
        signal
    }

    /// Emits `completed` with `reply`, once (holding no borrow while the awaiting code resumes).
    fn finish(this: &Gd<Self>, reply: VarArray) {
        if this.bind().done.replace(true) {
            return;
        }
        this.signals().completed().emit(&reply);
    }
}

/// Owns a request for as long as its callback exists; completes it with `["timeout"]` when the callback is released
/// without having been called (unless the game is exiting: there is no main loop left to resume anything).
struct Keep(Option<Gd<SocketIORequest>>);

impl Drop for Keep {
    fn drop(&mut self) {
        let Some(request) = self.0.take() else {
            return;
        };
        let pending = {
            let r = request.bind();
            r.armed.get() && !r.done.get()
        };
        if pending && Engine::singleton().get_main_loop().is_some() {
            SocketIORequest::finish(&request, timeout_reply());
        }
    }
}

/// `["timeout"]`, what `emit_with_ack()`'s one-parameter callback receives when no answer comes.
fn timeout_reply() -> VarArray {
    let mut reply = VarArray::new();
    reply.push(&"timeout".to_variant());
    reply
}
