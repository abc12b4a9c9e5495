//! What the client's methods do, and what namespace handles ask of the client: connecting, closing and removing
//! (their final events dispatched before they return), emitting, handlers, and each namespace's state. Input is
//! checked (with the core's rules, [`socketio_core::check`]) and converted before the client is borrowed; errors
//! are reported once it is no longer borrowed.

use std::time::{Duration, Instant};

use godot::builtin::{AnyArray, Callable, VarDictionary};
use godot::classes::TlsOptions;
use godot::global::{godot_error, Error};
use godot::meta::ToGodot;
use godot::obj::{Gd, InstanceId, WithBaseField};
use socketio_core::check::{self, EventNameError, NamespaceError};
use socketio_core::endpoint::Endpoint;
use socketio_core::{CommandError, ConnectionState, Value};

use super::SocketIOClient;
use crate::convert;
use crate::dispatch;
use crate::tls::tls_config;

/// What `SocketIOClient::send_event` sends.
pub(super) enum EmitKind {
    /// `emit()`: sent, or buffered until the namespace connects.
    Plain,
    /// `emit_volatile()`: sent only if the namespace is connected now.
    Volatile,
    /// `emit_with_ack()`.
    Ack {
        /// Called with the answer, or `["timeout"]`.
        callback: Callable,
        /// Seconds to wait for the answer.
        timeout: f64,
        /// The method, as errors name it (`emit_with_ack` or `request`).
        method: &'static str,
    },
}

impl EmitKind {
    fn method(&self) -> &'static str {
        match self {
            EmitKind::Plain => "emit",
            EmitKind::Volatile => "emit_volatile",
            EmitKind::Ack { method, .. } => method,
        }
    }
}

/// The core's rule for event names ([`check::event_name`]), worded for GDScript.
fn valid_event_name(name: &str) -> Result<(), String> {
    check::event_name(name).map_err(|refusal| match refusal {
        EventNameError::Reserved(_) => format!("{refusal} (use the client's and namespace's signals instead)"),
        EventNameError::Empty => refusal.to_string(),
    })
}

/// The core's rule for namespace paths ([`check::namespace`]), worded for GDScript: the path is shown as given,
/// escaped when it holds control characters and cut when it is too long to print.
pub(super) fn valid_namespace(path: &str) -> Result<(), String> {
    check::namespace(path).map_err(|refusal| {
        let shown = match refusal {
            NamespaceError::ControlCharacter => path.escape_debug().to_string(),
            NamespaceError::TooLong { .. } => format!("{}…", path.chars().take(32).collect::<String>()),
            NamespaceError::NoLeadingSlash | NamespaceError::Comma => path.to_owned(),
        };
        format!("invalid namespace \"{shown}\": {refusal}")
    })
}

/// The `Error` code for a refused command.
fn command_error_code(error: &CommandError) -> Error {
    match error {
        CommandError::InvalidNamespace(_) | CommandError::InvalidEventName(_) => Error::ERR_INVALID_PARAMETER,
        CommandError::Encode(_) => Error::ERR_INVALID_DATA,
        CommandError::UnknownNamespace(_) => Error::ERR_DOES_NOT_EXIST,
        CommandError::TooLarge { .. } => Error::ERR_OUT_OF_MEMORY,
        CommandError::SendBufferFull(_) => Error::ERR_BUSY,
        CommandError::NotConnected => Error::ERR_UNCONFIGURED,
        #[allow(unreachable_patterns)]
        _ => Error::FAILED,
    }
}

/// An auth dictionary as the core wants it: `None` when empty.
fn auth_value(auth: &VarDictionary, label: &str) -> Result<Option<Value>, String> {
    if auth.is_empty() {
        return Ok(None);
    }
    convert::variant_to_value(&auth.to_variant(), "auth")
        .map(Some)
        .map_err(|refusal| format!("{label}: {refusal}"))
}

impl SocketIOClient {
    /// State of namespace `path`.
    pub(super) fn namespace_state(&self, path: &str) -> ConnectionState {
        self.registry.core.namespace_state(path)
    }

    /// Socket.IO session id of namespace `path`, or empty.
    pub(super) fn namespace_sid(&self, path: &str) -> String {
        self.registry.core.namespace_sid(path).unwrap_or_default().to_owned()
    }

    /// Whether namespace `path`'s last connection restored its previous session.
    pub(super) fn namespace_recovered(&self, path: &str) -> bool {
        self.registry.core.namespace_recovered(path)
    }

    /// Whether `handle` is the current handle of namespace `path`.
    pub(super) fn is_attached(&self, path: &str, handle: InstanceId) -> bool {
        self.registry.is_attached(path, handle)
    }

    /// `close()` without the panic guard: the final events are dispatched first, then the handles, handlers and
    /// callbacks of the closed connection are forgotten (not those a handler created meanwhile), and whatever is
    /// connected to the forgotten handles' signals is disconnected.
    pub(super) fn close_now(this: &mut Gd<Self>) {
        let closed = this.bind_mut().registry.begin_close(Instant::now());
        dispatch::run(this, Instant::now() + dispatch::CONVERT_TIME_PER_POLL);
        // A handler of those final events may have freed the client, which let go of everything already.
        if this.is_instance_valid() {
            let leftovers = this.bind_mut().registry.forget(closed);
            drop(leftovers);
        }
    }

    /// `remove_namespace()` without the panic guard: the namespace's final events are dispatched, then its handle is
    /// forgotten (not one a handler created meanwhile).
    pub(super) fn remove_now(this: &mut Gd<Self>, path: &str) -> Error {
        if path == "/" {
            godot_error!(
                "remove_namespace(\"/\"): the main namespace cannot be removed (the client's connected and \
                 disconnected signals are about it); disconnect it with disconnect_from_namespace(), or close() the client"
            );
            return Error::ERR_INVALID_PARAMETER;
        }
        let Some(removed) = this.bind_mut().registry.begin_remove(path, Instant::now()) else {
            return Error::ERR_DOES_NOT_EXIST;
        };
        dispatch::run(this, Instant::now() + dispatch::CONVERT_TIME_PER_POLL);
        if this.is_instance_valid() {
            let leftovers = this.bind_mut().registry.forget_removed(removed);
            drop(leftovers);
        }
        Error::OK
    }

    /// `connect_to_url()` without the panic guard.
    pub(super) fn connect_now(
        this: &mut Gd<Self>,
        url: &str,
        auth: &VarDictionary,
        tls: Option<&Gd<TlsOptions>>,
    ) -> Error {
        let label = format!("connect_to_url(\"{url}\")");
        let tls = match tls_config(tls) {
            Ok(tls) => tls,
            Err(message) => {
                godot_error!("{label}: {message}");
                return Error::ERR_INVALID_PARAMETER;
            }
        };
        let auth = match auth_value(auth, &label) {
            Ok(auth) => auth,
            Err(message) => {
                godot_error!("{message}");
                return Error::ERR_INVALID_PARAMETER;
            }
        };
        let path = this.bind().config().path.clone();
        let endpoint = match Endpoint::parse(url, &path) {
            Ok(endpoint) => endpoint,
            Err(e) => {
                godot_error!("{label}: {e}");
                return Error::ERR_INVALID_PARAMETER;
            }
        };
        // As with socket.io-client's io("ws://host/admin"), the URL's path names a namespace to connect (besides
        // "/", which the client's own signals are about).
        let extra = endpoint.extra_namespace().map(str::to_owned);
        if let Some(extra) = &extra {
            if let Err(message) = valid_namespace(extra) {
                godot_error!("{label}: the URL's path names the namespace to connect; {message}");
                return Error::ERR_INVALID_PARAMETER;
            }
        }

        // The previous connection is closed as by close(), its final signals and ack timeouts delivered before this
        // method returns, but the namespace handles and their handlers are kept.
        let was_active = this.bind().registry.core.state() != ConnectionState::Disconnected;
        if was_active {
            this.bind_mut().registry.close_connection(Instant::now());
            dispatch::run(this, Instant::now() + dispatch::CONVERT_TIME_PER_POLL);
        }

        if !this.is_instance_valid() {
            // A handler of those final events freed the client.
            return Error::ERR_UNAVAILABLE;
        }
        let result = {
            super::hooks::install_exit_hook();
            let mut c = this.bind_mut();
            let id = c.base().instance_id();
            let registry = &mut c.registry;
            registry.core.config_mut().tls = tls;
            match registry.core.connect(Instant::now(), url) {
                Err(e) => Err((Error::ERR_INVALID_PARAMETER, e.to_string())),
                Ok(()) => {
                    let mut result = Ok(());
                    for ns in std::iter::once("/").chain(extra.as_deref()) {
                        registry.ensure_namespace(ns, id);
                        result = result.and_then(|()| {
                            registry
                                .core
                                .connect_namespace(Instant::now(), ns, auth.clone())
                                .map_err(|e| (command_error_code(&e), e.to_string()))
                        });
                    }
                    result
                }
            }
        };
        match result {
            Ok(()) => Error::OK,
            Err((code, message)) => {
                godot_error!("{label}: {message}");
                code
            }
        }
    }

    /// `SocketIONamespace.connect_to_namespace()`. While the namespace is connected this does nothing; while it is
    /// connecting, the request under way continues (the core keeps `auth` for later rejoins). Both return `OK`.
    pub(super) fn connect_namespace(this: &mut Gd<Self>, path: &str, auth: &VarDictionary) -> Error {
        let label = format!("connect_to_namespace(\"{path}\")");
        let auth = match auth_value(auth, &label) {
            Ok(auth) => auth,
            Err(message) => {
                godot_error!("{message}");
                return Error::ERR_INVALID_PARAMETER;
            }
        };
        let result = {
            let mut c = this.bind_mut();
            if c.registry.core.namespace_state(path) == ConnectionState::Connected {
                Ok(())
            } else {
                c.registry.core.connect_namespace(Instant::now(), path, auth)
            }
        };
        match result {
            Ok(()) => Error::OK,
            Err(e) => {
                godot_error!("{label}: {e}");
                command_error_code(&e)
            }
        }
    }

    /// `SocketIONamespace.disconnect_from_namespace()`: the `disconnected` signal is emitted before returning.
    pub(super) fn disconnect_namespace(this: &mut Gd<Self>, path: &str) {
        let result = {
            let mut c = this.bind_mut();
            let registry = &mut c.registry;
            registry.drop_building_event(Some(path));
            registry.core.disconnect_namespace(Instant::now(), path)
        };
        match result {
            Ok(()) | Err(CommandError::UnknownNamespace(_)) | Err(CommandError::NotConnected) => {}
            Err(e) => godot_error!("disconnect_from_namespace(\"{path}\"): {e}"),
        }
        dispatch::run(this, Instant::now() + dispatch::CONVERT_TIME_PER_POLL);
    }

    /// `emit()`, `emit_volatile()` and `emit_with_ack()` of namespace `path`. Returns whether the packet was sent
    /// or buffered (for `emit_volatile()`: sent). The data is converted before the client is borrowed; errors are
    /// reported, and a refused callback dropped, once it is no longer borrowed.
    pub(super) fn send_event(this: &mut Gd<Self>, path: &str, event: &str, data: &AnyArray, kind: EmitKind) -> bool {
        let label = CallLabel(kind.method(), event);
        let volatile = matches!(kind, EmitKind::Volatile);
        let checked = valid_event_name(event)
            .and_then(|()| convert::args_to_values(data, "data").map_err(|refusal| refusal.to_string()));
        let args = match checked {
            Ok(args) => args,
            Err(message) => {
                godot_error!("{label}: {message}");
                return false;
            }
        };
        let ack = match kind {
            EmitKind::Ack { callback, timeout, .. } => {
                if !callback.is_valid() {
                    godot_error!("{label}: the callback is not a valid Callable");
                    return false;
                }
                if let Err(message) =
                    dispatch::check_arity(callback.get_argument_count(), dispatch::ACK_CALLBACK_SHAPES)
                {
                    godot_error!("{label}: {message}; nothing was sent");
                    return false;
                }
                let Some(timeout) = Duration::try_from_secs_f64(timeout).ok().filter(|t| !t.is_zero()) else {
                    godot_error!("{label}: the timeout must be a positive number of seconds, not {timeout}");
                    return false;
                };
                Some((callback, timeout))
            }
            _ => None,
        };
        let now = Instant::now();
        let (result, refused) = {
            let mut c = this.bind_mut();
            c.queue_flush();
            let registry = &mut c.registry;
            match (volatile, ack) {
                (_, Some((callback, timeout))) => match registry.core.emit_with_ack(now, path, event, args, timeout) {
                    Ok(id) => {
                        registry.add_ack(id, callback);
                        (Ok(true), None)
                    }
                    Err(e) => (Err(e), Some(callback)),
                },
                (true, None) => (registry.core.emit_volatile(now, path, event, args), None),
                (false, None) => (registry.core.emit(now, path, event, args).map(|()| true), None),
            }
        };
        drop(refused);
        match result {
            Ok(sent) => sent,
            Err(e) => {
                godot_error!("{label}: {e}");
                false
            }
        }
    }

    /// `SocketIONamespace.on()` and `on_for()` (with its owner).
    pub(super) fn add_handler(
        this: &mut Gd<Self>,
        path: &str,
        event: &str,
        callback: Callable,
        owner: Option<InstanceId>,
    ) {
        let label = CallLabel(if owner.is_some() { "on_for" } else { "on" }, event);
        if let Err(message) = valid_event_name(event) {
            godot_error!("{label}: {message}");
        } else if !callback.is_valid() {
            godot_error!("{label}: the callback is not a valid Callable");
        } else if let Err(message) = dispatch::check_arity(callback.get_argument_count(), dispatch::HANDLER_SHAPES) {
            godot_error!("{label}: {message}");
        } else {
            let released = this.bind_mut().registry.add_handler(path, event, callback, owner);
            drop(released);
        }
    }

    /// `SocketIONamespace.off()`: returns the removed handler, to be dropped once the client is no longer borrowed.
    pub(super) fn remove_handler(&mut self, path: &str, event: &str, callback: &Callable) -> Option<Callable> {
        self.registry.remove_handler(path, event, callback)
    }
}

/// `method("argument")`, as error messages name a call; formatted only when one is reported.
struct CallLabel<'a>(&'a str, &'a str);

impl std::fmt::Display for CallLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}(\"{}\")", self.0, self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_name_refusals() {
        assert_eq!(valid_event_name("chat"), Ok(()));
        assert_eq!(valid_event_name("").unwrap_err(), "the event name is empty");
        assert_eq!(
            valid_event_name("connect").unwrap_err(),
            "\"connect\" is reserved by Socket.IO (use the client's and namespace's signals instead)"
        );
    }

    #[test]
    fn namespace_refusals() {
        assert_eq!(valid_namespace("/chat"), Ok(()));
        assert_eq!(
            valid_namespace("chat").unwrap_err(),
            "invalid namespace \"chat\": it must start with \"/\" (e.g. \"/chat\")"
        );
        assert_eq!(
            valid_namespace("/a,b").unwrap_err(),
            "invalid namespace \"/a,b\": it must not contain a comma"
        );
        assert_eq!(
            valid_namespace("/a\nb").unwrap_err(),
            "invalid namespace \"/a\\nb\": it must not contain control characters"
        );
        let long = format!("/{}", "x".repeat(2000));
        assert_eq!(
            valid_namespace(&long).unwrap_err(),
            format!(
                "invalid namespace \"/{}…\": it is 2001 bytes long, more than 1024",
                "x".repeat(31)
            )
        );
    }
}
