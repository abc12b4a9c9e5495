//! Keeps panics away from Godot, and other threads away from the client: every entry point that does work runs
//! inside [`guarded`], and the getters and setters start with [`on_main_thread`].
//!
//! Release builds use gdext's `safeguards-release-disengaged` level (see `Cargo.toml`), which drops gdext's own
//! main-thread check from every engine call; [`guarded`] makes that check once per call instead. Debug builds keep
//! gdext's strict checks, and the test suite runs them.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use godot::global::godot_error;
use godot::obj::{Gd, WithBaseField};

/// What [`guarded`] puts right after a caught panic: the object the call was about (the `SocketIOClient`).
pub trait Recover: WithBaseField {
    /// What the reset lets go of, dropped once the object is no longer borrowed.
    type Released;
    /// Makes the object usable again, as far as it can: for the client, a fresh engine with the same settings.
    fn reset_after_panic(&mut self) -> Self::Released;
}

thread_local! {
    /// Whether this thread is the one that loaded the extension: Godot's main thread.
    static MAIN_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Records the calling thread as the main thread (called when the extension loads).
pub fn mark_main_thread() {
    MAIN_THREAD.with(|main| main.set(true));
}

/// Whether the calling thread is Godot's main thread; if not, reports that `what` was called from another one.
pub fn on_main_thread(what: impl fmt::Display) -> bool {
    let main = MAIN_THREAD.with(Cell::get);
    if !main {
        let message = format!(
            "{what}: called from a thread other than the main thread; the Socket.IO client is not thread-safe \
             (call it from the main thread, e.g. with call_deferred())"
        );
        // Debug builds keep gdext's own check, which panics on any engine call from another thread, reporting
        // included: there the message goes to stderr only.
        if cfg!(debug_assertions) {
            eprintln!("ERROR: {message}");
        } else {
            godot_error!("{message}");
        }
    }
    main
}

/// Runs `f`, on the main thread only: called from another thread, reports it and returns `fallback`. If `f`
/// panics, reports the panic with `push_error`, resets the client ([`Recover`]: its connection and pending callbacks
/// are dropped) and returns `fallback`.
///
/// `what` names the call in those reports; it is formatted only then.
pub fn guarded<C: Recover, R>(client: &Gd<C>, what: impl fmt::Display, fallback: R, f: impl FnOnce() -> R) -> R {
    if !on_main_thread(&what) {
        return fallback;
    }
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            godot_error!(
                "{what}: internal error ({}); the Socket.IO connection was closed",
                panic_message(payload.as_ref())
            );
            let mut client = client.clone();
            if !client.is_instance_valid() {
                // Freed meanwhile: it let go of everything already.
                return fallback;
            }
            // The panic unwound through our own borrows, which released them. Should the client still be borrowed
            // further up the stack, `bind_mut` panics: that is caught too and the reset is skipped.
            let reset = catch_unwind(AssertUnwindSafe(|| client.bind_mut().reset_after_panic()));
            match reset {
                // Dropped here, with the client no longer borrowed.
                Ok(leftovers) => drop(leftovers),
                Err(_) => godot_error!("{what}: the client could not be reset after the error"),
            }
            fallback
        }
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::panic_message;

    #[test]
    fn messages_from_payloads() {
        let p = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "boom 1");
        let p = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "plain");
    }
}
