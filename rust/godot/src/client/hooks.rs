//! What the client hooks into Godot's main loop: the flush at the end of each frame in which something was emitted,
//! and the shutdown when the scene tree exits (installed by the first frame, see `lib.rs`).

use godot::builtin::{Callable, Variant};
use godot::classes::{Engine, SceneTree};
use godot::obj::{Gd, Singleton, WithBaseField};

use super::SocketIOClient;
use crate::dispatch;
use crate::guard::guarded;

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
    /// connected to the namespaces' and the client's own signals) and closes the connection silently. Called when
    /// the scene tree exits (and, should that hook be missing, when the extension unloads), so that no lambda
    /// outlives the scripts: the singleton itself is freed only after Godot has shut GDScript down, and freeing a
    /// lambda then corrupts memory; a lambda capturing a namespace would also leak it.
    pub(crate) fn shutdown(this: &mut Gd<Self>) {
        let leftovers = {
            let mut c = this.bind_mut();
            let leftovers = c.registry.shutdown();
            if let Some((root_id, callable)) = c.exit_hook.take() {
                if let Ok(mut root) = Gd::<godot::classes::Node>::try_from_instance_id(root_id) {
                    if root.is_connected("tree_exiting", &callable) {
                        root.disconnect("tree_exiting", &callable);
                    }
                }
            }
            leftovers
        };
        drop(leftovers);
        dispatch::disconnect_all_signals(this);
    }

    /// Connects [`Self::shutdown`] to the scene tree root's `tree_exiting` (once; not in the editor), which fires
    /// before scripts are torn down at exit. Done by the first frame (see `lib.rs`), and by the methods that
    /// connect or create namespaces in case that frame has not come yet.
    pub(crate) fn install_exit_hook(&mut self) {
        if self.exit_hook.is_some() || Engine::singleton().is_editor_hint() {
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
        let client = self.base().instance_id();
        let callable = Callable::from_fn("socketio_shutdown", move |_args: &[&Variant]| {
            if let Ok(mut gd) = Gd::<SocketIOClient>::try_from_instance_id(client) {
                let guard = gd.clone();
                guarded(&guard, "SocketIOClient (exit)", (), || Self::shutdown(&mut gd));
            }
            Variant::nil()
        });
        root.connect("tree_exiting", &callable);
        self.exit_hook = Some((root.instance_id(), callable));
    }
}
