//! What the client accepts as event names, namespace paths and nesting depths: one definition for the decoder
//! (what the server sends), the session's commands (what the game asks for) and every front end, which checks its
//! caller's input with these before changing anything and words the refusal for its users.
//!
//! The refusals are plain enums whose `Display` says what is wrong (`it must start with "/"`); the front end names
//! the input it refuses (`invalid namespace "chat": …`).

use std::fmt;
use std::ops::RangeInclusive;

use crate::codec::json;

/// Event names the protocol keeps for itself; neither side may emit them.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Whether the protocol keeps `name` for itself. This is all the decoder refuses in a received event's name:
/// socket.io-parser takes any other string, the empty one included.
pub fn is_reserved_event(name: &str) -> bool {
    RESERVED_EVENTS.contains(&name)
}

/// Why an event name cannot be emitted or listened to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventNameError {
    /// `""`.
    Empty,
    /// One of [`RESERVED_EVENTS`].
    Reserved(&'static str),
}

impl fmt::Display for EventNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventNameError::Empty => f.write_str("the event name is empty"),
            EventNameError::Reserved(name) => write!(f, "\"{name}\" is reserved by Socket.IO"),
        }
    }
}

/// Whether `name` may be emitted (and listened to): not empty, not reserved.
pub fn event_name(name: &str) -> Result<(), EventNameError> {
    if name.is_empty() {
        return Err(EventNameError::Empty);
    }
    match RESERVED_EVENTS.iter().copied().find(|reserved| *reserved == name) {
        Some(reserved) => Err(EventNameError::Reserved(reserved)),
        None => Ok(()),
    }
}

/// Longest namespace path, in bytes, sent or accepted from the wire.
pub const MAX_NAMESPACE_LEN: usize = 1024;

/// Why a namespace path cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceError {
    /// It does not start with `/`.
    NoLeadingSlash,
    /// It holds a `,`, which ends the namespace in a packet.
    Comma,
    /// It holds a control character (`\n`, `\0`, …).
    ControlCharacter,
    /// It is longer than [`MAX_NAMESPACE_LEN`] bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
}

impl fmt::Display for NamespaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamespaceError::NoLeadingSlash => f.write_str("it must start with \"/\" (e.g. \"/chat\")"),
            NamespaceError::Comma => f.write_str("it must not contain a comma"),
            NamespaceError::ControlCharacter => f.write_str("it must not contain control characters"),
            NamespaceError::TooLong { len } => {
                write!(f, "it is {len} bytes long, more than {MAX_NAMESPACE_LEN}")
            }
        }
    }
}

/// Whether `path` is a namespace the wire can carry: `/` first, then no `,` and no control character, at most
/// [`MAX_NAMESPACE_LEN`] bytes in all. The decoder reads a namespace up to the first `,` after a `/`, so for what it
/// reads only the last two can fail.
pub fn namespace(path: &str) -> Result<(), NamespaceError> {
    if !path.starts_with('/') {
        Err(NamespaceError::NoLeadingSlash)
    } else if path.contains(',') {
        Err(NamespaceError::Comma)
    } else if path.chars().any(char::is_control) {
        Err(NamespaceError::ControlCharacter)
    } else if path.len() > MAX_NAMESPACE_LEN {
        Err(NamespaceError::TooLong { len: path.len() })
    } else {
        Ok(())
    }
}

/// Deepest nesting of arrays and objects a front end lets its caller send (deeper values are refused when they are
/// converted), and the default of what is accepted ([`Limits::max_depth`](crate::Limits::max_depth)): what one
/// client sends, another with the default settings receives.
pub const NESTING_DEPTH: usize = 64;

const _: () = assert!(
    NESTING_DEPTH >= 1 && NESTING_DEPTH <= json::MAX_DEPTH,
    "a depth max_depth can take"
);

/// The values [`Limits::max_depth`](crate::Limits::max_depth) may be set to: at least one level, at most the
/// decoder's ceiling ([`json::MAX_DEPTH`]; a larger cap would be taken as that).
pub const MAX_DEPTH_RANGE: RangeInclusive<usize> = 1..=json::MAX_DEPTH;

/// The values [`ReconnectConfig::randomization`](crate::ReconnectConfig::randomization) may be set to.
pub const RANDOMIZATION_RANGE: RangeInclusive<f64> = 0.0..=1.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names() {
        assert_eq!(event_name("chat"), Ok(()));
        assert_eq!(event_name(""), Err(EventNameError::Empty));
        assert_eq!(event_name("").unwrap_err().to_string(), "the event name is empty");
        for name in RESERVED_EVENTS {
            assert_eq!(event_name(name), Err(EventNameError::Reserved(name)));
            assert!(is_reserved_event(name));
            assert_eq!(
                event_name(name).unwrap_err().to_string(),
                format!("\"{name}\" is reserved by Socket.IO")
            );
        }
        // The wire's rule: only reserved names are refused.
        assert!(!is_reserved_event(""));
        assert!(!is_reserved_event("Connect"));
    }

    #[test]
    fn namespace_paths() {
        assert_eq!(namespace("/"), Ok(()));
        assert_eq!(namespace("/admin"), Ok(()));
        assert_eq!(namespace("/ünïcode-ok"), Ok(()));
        assert_eq!(namespace("admin"), Err(NamespaceError::NoLeadingSlash));
        assert_eq!(namespace(""), Err(NamespaceError::NoLeadingSlash));
        assert_eq!(namespace("/a,b"), Err(NamespaceError::Comma));
        assert_eq!(namespace("/a\nb"), Err(NamespaceError::ControlCharacter));
        assert_eq!(namespace("/a\0b"), Err(NamespaceError::ControlCharacter));
        let longest = format!("/{}", "x".repeat(MAX_NAMESPACE_LEN - 1));
        assert_eq!(namespace(&longest), Ok(()));
        assert_eq!(
            namespace(&format!("{longest}x")),
            Err(NamespaceError::TooLong {
                len: MAX_NAMESPACE_LEN + 1
            })
        );
        assert_eq!(
            NamespaceError::NoLeadingSlash.to_string(),
            "it must start with \"/\" (e.g. \"/chat\")"
        );
        assert_eq!(NamespaceError::Comma.to_string(), "it must not contain a comma");
    }
}
