//! What the client hooks into Godot's main loop: the flush at the end of each frame in which something was emitted,
//! and the shutdown of every client when the scene tree exits (installed by the first frame, see `lib.rs`).
//!
//! Every `SocketIOClient` alive, the shared one of `get_singleton()` and those made with `SocketIOClient.new()`, is
//! listed here from its `init` to its `PREDELETE`, so that the one exit hook can shut them all down, and so that the
//! extension can free them when it unloads (see `lib.rs`), those a script never freed included.
//!
//! The shared client is not registered as an engine singleton: GDScript refuses `new()` on a class whose name is
//! an engine singleton's ("Cannot construct native class … because it is an engine singleton"). It is made by the
//! first `get_singleton()` and freed when the extension unloads.

use std::cell::{Cell, RefCell};

use godot::builtin::{Callable, Variant};
use godot::classes::{Engine, Node, SceneTree};
use godot::obj::{Gd, InstanceId, NewAlloc, Singleton, WithBaseField};

use super::SocketIOClient;
use crate::dispatch;
use crate::guard::guarded;
use crate::namespace::Detached;

thread_local! {
    /// Every client alive (main thread only: Godot creates and frees them there), in creation order.
    static LIVE: RefCell<Vec<InstanceId>> = const { RefCell::new(Vec::new()) };
    /// The shared client of `get_singleton()`, once made.
    static SINGLETON: Cell<Option<InstanceId>> = const { Cell::new(None) };
    /// The exit hook once installed: `(root id, callable)`.
    static EXIT_HOOK: RefCell<Option<(InstanceId, Callable)>> = const { RefCell::new(None) };
}

/// Lists a client that was just made.
pub(super) fn register(id: InstanceId) {
    LIVE.with(|live| live.borrow_mut().push(id));
}

/// Forgets a client being freed.
fn unregister(id: InstanceId) {
    LIVE.with(|live| live.borrow_mut().retain(|&other| other != id));
}

/// The clients alive now that still exist.
pub(super) fn live_clients() -> Vec<Gd<SocketIOClient>> {
    let ids = LIVE.with(|live| live.borrow().clone());
    ids.into_iter()
        .filter_map(|id| Gd::<SocketIOClient>::try_from_instance_id(id).ok())
        .collect()
}

/// [`SocketIOClient::shutdown`] for every client alive (at exit), each under the panic guard.
pub(crate) fn shutdown_all() {
    for mut client in live_clients() {
        let guard = client.clone();
        guarded(&guard, "SocketIOClient (exit)", (), || {
            SocketIOClient::shutdown(&mut client)
        });
    }
    let hook = EXIT_HOOK.with(|hook| hook.borrow_mut().take());
    if let Some((root_id, callable)) = hook {
        if let Ok(mut root) = Gd::<Node>::try_from_instance_id(root_id) {
            if root.is_connected("tree_exiting", &callable) {
                root.disconnect("tree_exiting", &callable);
            }
        }
    }
}

/// The shared client of `get_singleton()`, made by its first call (and made anew should a script free it).
pub(super) fn singleton() -> Gd<SocketIOClient> {
    if let Some(existing) = SINGLETON
        .with(Cell::get)
        .and_then(|id| Gd::<SocketIOClient>::try_from_instance_id(id).ok())
    {
        return existing;
    }
    let made = SocketIOClient::new_alloc();
    SINGLETON.with(|id| id.set(Some(made.instance_id())));
    made
}

/// Frees every client left (when the extension unloads, after [`shutdown_all`]): the shared one, and those made
/// with `SocketIOClient.new()` that a script never freed, which would otherwise be reported as leaked.
pub(crate) fn free_all() {
    for client in live_clients() {
        client.free();
    }
    SINGLETON.with(|id| id.set(None));
}

/// Connects [`shutdown_all`] to the scene tree root's `tree_exiting` (once; not in the editor), which fires before
/// scripts are torn down at exit. Done by the first frame (see `lib.rs`), and by the methods that connect or create
/// namespaces in case that frame has not come yet.
pub(crate) fn install_exit_hook() {
    if EXIT_HOOK.with(|hook| hook.borrow().is_some()) || Engine::singleton().is_editor_hint() {
        return;
    }
    let Some(main_loop) = Engine::singleton().get_main_loop() else {
        return;
    };
    let Ok(tree) = main_loop.try_cast::<SceneTree>() else {
        return;
    };
    let Some(mut root) = tree.get_root() else {
        return;
    };
    let callable = Callable::from_fn("socketio_shutdown", |_args: &[&Variant]| {
        shutdown_all();
        Variant::nil()
    });
    root.connect("tree_exiting", &callable);
    EXIT_HOOK.with(|hook| *hook.borrow_mut() = Some((root.instance_id(), callable)));
}

impl SocketIOClient {
    /// Writes what the emits of this frame queued at the end of the frame (Godot's deferred calls), in one write,
    /// rather than at the next `poll()`: an emit made in `_process` after `poll()`, or from a handler, leaves a
    /// frame earlier. Queued once per frame.
    pub(super) fn queue_flush(&mut self) {
        if self.flush_queued {
            return;
        }
        self.flush_queued = true;
        let client = self.base().instance_id();
        let flush = self.flush_call.get_or_insert_with(|| {
            Callable::from_fn("socketio_flush", move |_args: &[&Variant]| {
                // The client may have been freed since.
                if let Ok(mut gd) = Gd::<SocketIOClient>::try_from_instance_id(client) {
                    let guard = gd.clone();
                    guarded(&guard, "SocketIOClient (flush)", (), || {
                        let mut c = gd.bind_mut();
                        c.flush_queued = false;
                        c.registry.core.flush();
                    });
                }
                Variant::nil()
            })
        });
        flush.call_deferred(&[]);
    }

    /// Lets go of everything that refers to GDScript (handlers, callbacks, namespace handles, and whatever is
    /// connected to the namespaces' and the client's own signals) and closes the connection silently. Called for
    /// every client when the scene tree exits (and, should that hook be missing, when the extension unloads), so
    /// that no lambda outlives the scripts: the singleton itself is freed only after Godot has shut GDScript down,
    /// and freeing a lambda then corrupts memory; a lambda capturing a namespace would also leak it.
    pub(crate) fn shutdown(this: &mut Gd<Self>) {
        let leftovers = this.bind_mut().registry.shutdown(Detached::Closed);
        drop(leftovers);
        dispatch::disconnect_all_signals(this);
    }

    /// `PREDELETE`: the client is being freed (`free()` from a script, or [`free_all`]). The connection is
    /// closed (the server sees the client disconnect), undelivered events are dropped and no signal is emitted;
    /// handlers, callbacks and namespace handles are let go of (the handles' methods then say the client was
    /// freed). Godot disconnects the client's own signals itself once this returns.
    pub(super) fn on_predelete(&mut self) {
        unregister(self.base().instance_id());
        let leftovers = self.registry.shutdown(Detached::Freed);
        // Dropped while the client is borrowed (gdext holds it during notifications): a script that runs from a
        // freed capture and calls this client back gets an error, as it would a moment later anyway.
        drop(leftovers);
    }
}
