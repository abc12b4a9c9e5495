//! Keeps panics away from Godot: every entry point runs inside [`guarded`].

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use godot::global::godot_error;
use godot::obj::Gd;

use crate::client::SocketIOClient;

/// Runs `f`; if it panics, reports the panic with `push_error`, closes the client (dropping its connection and
/// pending callbacks) and returns `fallback`.
pub fn guarded<R>(client: &Gd<SocketIOClient>, what: &str, fallback: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            godot_error!(
                "{what}: internal error ({}); the Socket.IO connection was closed",
                panic_message(payload.as_ref())
            );
            let mut client = client.clone();
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
