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

/// Why a header cannot be added to the client's HTTP requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// The name is empty or holds a character HTTP does not allow in one (a space, `:`, a control character, …).
    InvalidName,
    /// The value holds CR, LF, NUL or another control character but tab: it would end the header (or the request)
    /// early, and let the rest be read as headers of its own.
    InvalidValue,
    /// The value holds a character outside ASCII, which servers read as Latin-1 (Node turns `é` into `Ã©`): a silent
    /// wrong value.
    NonAsciiValue,
    /// The name is one the client writes itself (`Host`, `Content-Length`, the WebSocket upgrade's, …).
    Reserved(&'static str),
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::InvalidName => f.write_str(
                "the name must be one or more letters, digits or !#$%&'*+-.^_`|~ (no spaces, colons or control characters)",
            ),
            HeaderError::InvalidValue => f.write_str("the value must not contain CR, LF or other control characters"),
            HeaderError::NonAsciiValue => f.write_str(
                "the value must be ASCII (servers read other bytes as Latin-1): percent-encode it, or send it in the \
                 query or the auth",
            ),
            HeaderError::Reserved(name) => write!(f, "{name} is written by the client itself"),
        }
    }
}

/// Headers the client writes on its own requests, which an extra header may not replace (compared without case).
pub const RESERVED_HEADERS: [&str; 10] = [
    "Host",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Upgrade",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Protocol",
    "Proxy-Authorization",
];

/// Whether `name: value` may be added to the client's requests: a name that is an HTTP token (RFC 9110) and not one
/// of [`RESERVED_HEADERS`], an ASCII value without control characters but tab (so no CR/LF injection). Leading and trailing
/// blanks of the value are not refused; they are trimmed when the header is written.
pub fn header(name: &str, value: &str) -> Result<(), HeaderError> {
    let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(HeaderError::InvalidName);
    }
    if let Some(reserved) = RESERVED_HEADERS.iter().find(|r| r.eq_ignore_ascii_case(name)) {
        return Err(HeaderError::Reserved(reserved));
    }
    if value.bytes().any(|c| (c < 0x20 && c != b'\t') || c == 0x7f) {
        return Err(HeaderError::InvalidValue);
    }
    if !value.is_ascii() {
        return Err(HeaderError::NonAsciiValue);
    }
    Ok(())
}

/// Query parameters the protocol sets itself, which [`ClientConfig::query`](crate::ClientConfig::query) may not.
pub const RESERVED_QUERY_KEYS: [&str; 4] = ["EIO", "transport", "sid", "t"];

/// Why a query parameter cannot be added to the handshake URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKeyError {
    /// `""`.
    Empty,
    /// One of [`RESERVED_QUERY_KEYS`].
    Reserved(&'static str),
}

impl fmt::Display for QueryKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryKeyError::Empty => f.write_str("the key is empty"),
            QueryKeyError::Reserved(key) => write!(f, "{key:?} is set by the Engine.IO protocol itself"),
        }
    }
}

/// Whether `key` may be a query parameter of [`ClientConfig::query`](crate::ClientConfig::query). Keys and values
/// are percent-encoded when the URL is built, so any other string will do.
pub fn query_key(key: &str) -> Result<(), QueryKeyError> {
    if key.is_empty() {
        return Err(QueryKeyError::Empty);
    }
    match RESERVED_QUERY_KEYS.iter().copied().find(|reserved| *reserved == key) {
        Some(reserved) => Err(QueryKeyError::Reserved(reserved)),
        None => Ok(()),
    }
}

/// Why a list of transports cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportsError {
    /// No transport at all.
    Empty,
    /// A name that is neither `"websocket"` nor `"polling"`.
    Unknown(String),
    /// The same transport twice.
    Repeated(&'static str),
}

impl fmt::Display for TransportsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportsError::Empty => f.write_str("at least one transport is needed (\"websocket\" or \"polling\")"),
            TransportsError::Unknown(name) => {
                write!(f, "unknown transport {name:?} (expected \"websocket\" or \"polling\")")
            }
            TransportsError::Repeated(name) => write!(f, "{name:?} is listed twice"),
        }
    }
}

/// The transports named by `names`, in order: each `"websocket"` or `"polling"`, at least one, none twice.
pub fn transports<S: AsRef<str>>(names: &[S]) -> Result<Vec<crate::TransportKind>, TransportsError> {
    let mut kinds = Vec::with_capacity(names.len());
    for name in names {
        let name = name.as_ref();
        let kind = crate::TransportKind::from_name(name).ok_or_else(|| TransportsError::Unknown(name.to_owned()))?;
        if kinds.contains(&kind) {
            return Err(TransportsError::Repeated(kind.name()));
        }
        kinds.push(kind);
    }
    if kinds.is_empty() {
        return Err(TransportsError::Empty);
    }
    Ok(kinds)
}

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

    #[test]
    fn headers() {
        assert_eq!(header("Authorization", "Bearer abc"), Ok(()));
        assert_eq!(header("X-Game-Version", "1.2\t(beta)"), Ok(()));
        assert_eq!(header("", "x"), Err(HeaderError::InvalidName));
        assert_eq!(header("X Bad", "x"), Err(HeaderError::InvalidName));
        assert_eq!(header("X:Bad", "x"), Err(HeaderError::InvalidName));
        assert_eq!(header("Ünï", "x"), Err(HeaderError::InvalidName));
        assert_eq!(header("X-A", "a\r\nX-Evil: 1"), Err(HeaderError::InvalidValue));
        assert_eq!(header("X-A", "a\nb"), Err(HeaderError::InvalidValue));
        assert_eq!(header("X-A", "a\0b"), Err(HeaderError::InvalidValue));
        assert_eq!(header("host", "evil"), Err(HeaderError::Reserved("Host")));
        assert_eq!(
            header("X-A", "\r").unwrap_err().to_string(),
            "the value must not contain CR, LF or other control characters"
        );
        // Servers would read UTF-8 as Latin-1.
        assert_eq!(header("X-Name", "jürgen"), Err(HeaderError::NonAsciiValue));
    }

    #[test]
    fn query_keys() {
        assert_eq!(query_key("token"), Ok(()));
        assert_eq!(query_key("a b&c"), Ok(()));
        assert_eq!(query_key(""), Err(QueryKeyError::Empty));
        assert_eq!(query_key("EIO"), Err(QueryKeyError::Reserved("EIO")));
        assert_eq!(query_key("sid"), Err(QueryKeyError::Reserved("sid")));
    }

    #[test]
    fn transport_lists() {
        use crate::TransportKind::{Polling, WebSocket};
        assert_eq!(transports(&["websocket", "polling"]), Ok(vec![WebSocket, Polling]));
        assert_eq!(transports(&["polling"]), Ok(vec![Polling]));
        assert_eq!(transports::<&str>(&[]), Err(TransportsError::Empty));
        assert_eq!(
            transports(&["webtransport"]),
            Err(TransportsError::Unknown("webtransport".into()))
        );
        assert_eq!(
            transports(&["polling", "polling"]),
            Err(TransportsError::Repeated("polling"))
        );
        assert_eq!(
            transports(&["ws"]).unwrap_err().to_string(),
            "unknown transport \"ws\" (expected \"websocket\" or \"polling\")"
        );
    }
}
