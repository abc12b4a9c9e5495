//! One core event to the actions it means in GDScript: its payload built first (over several calls when large),
//! then signals and Callable calls with their arguments; the `ack` Callable handed to handlers.

use std::time::Instant;

use godot::builtin::{Callable, GString, VarArray, VarDictionary, Variant};
use godot::global::godot_error;
use godot::meta::ToGodot;
use godot::obj::{Gd, InstanceId};
use socketio_core::{AckRequest, ClientEvent, Value};

use crate::build::{self, Build, Godot};
use crate::convert;
use crate::guard::{self};
use crate::marshal::godot_text;
use crate::signals::{ClientSignal, NamespaceSignal};

use super::action::{Action, Next, Owner};
use super::registry::{sweep_event, Registry};

impl Registry {
    /// Pops the next event and decides what it means in GDScript, once its payload is built (until `deadline` in
    /// this call; a payload not built by then is taken up again by the next call).
    pub fn next_actions<O: Owner>(&mut self, client: InstanceId, deadline: Instant) -> Next {
        let (event, mut build) = match self.building.take() {
            Some(building) => building,
            None => {
                let Some(event) = self.core.poll_event() else {
                    return Next::Empty;
                };
                match self.payload_to_build(&event) {
                    Some(payload) => (event, Build::new(payload)),
                    None => return Next::Actions(self.plan::<O>(event, None, client)),
                }
            }
        };
        let deadline = (!build.is_small()).then_some(deadline);
        if !build.run(&mut Godot, deadline) {
            self.building = Some((event, build));
            return Next::Busy;
        }
        let data = build.finish(&mut Godot).try_to::<VarArray>().unwrap_or_default();
        Next::Actions(self.plan::<O>(event, Some(data), client))
    }

    /// The payload of `event` that its actions need built, if any: the arguments of an event on a namespace we
    /// have, or of an ack answer whose callback takes them.
    fn payload_to_build(&self, event: &ClientEvent) -> Option<socketio_core::Payload> {
        match event {
            ClientEvent::Event {
                namespace, name, args, ..
            } if self
                .entry(namespace)
                .is_some_and(|entry| entry.wants(&godot_text(name))) =>
            {
                Some(args.clone())
            }
            ClientEvent::AckResponse { id, args, .. } if self.acks.contains_key(id) => Some(args.clone()),
            _ => None,
        }
    }

    /// The actions of `event`; `data` is its payload built, when [`payload_to_build`](Self::payload_to_build) named
    /// one.
    fn plan<O: Owner>(&mut self, event: ClientEvent, data: Option<VarArray>, client: InstanceId) -> Vec<Action> {
        let mut actions = Vec::new();
        match event {
            ClientEvent::Open { .. } => {}
            ClientEvent::Upgraded { transport } => {
                actions.push(Action::Client(ClientSignal::TransportUpgraded(transport.name().into())));
            }
            ClientEvent::EmitFailed { namespace, error } => {
                actions.push(Action::Error(format!(
                    "emit on {namespace}: {error}; the event was not sent"
                )));
            }
            ClientEvent::TransportError(error) => {
                let dict = error_dict(&error.message, error.data.as_ref(), "");
                actions.push(Action::Client(ClientSignal::ConnectError(dict)));
                // The namespaces that waited for this connection (the core follows `TransportError` with one
                // `NamespaceTransportError` each) are told in the same go, right after the client: what the client's
                // handler does (close(), poll(), ...) cannot come between them.
                while let Some(ClientEvent::NamespaceTransportError { .. }) = self.core.peek_event() {
                    if let Some(next) = self.core.poll_event() {
                        actions.extend(self.plan::<O>(next, None, client));
                    }
                }
            }
            // A namespace that waited for the connection that failed: told on its current handle.
            ClientEvent::NamespaceTransportError { namespace, error } => {
                if let Some(entry) = self.namespaces.get(&namespace) {
                    let dict = error_dict(&error.message, error.data.as_ref(), "");
                    actions.push(Action::Namespace(
                        entry.object.clone(),
                        NamespaceSignal::ConnectError(dict),
                    ));
                }
            }
            // The client's `disconnected` is the end of "/" (see `NamespaceDisconnected`), not of the connection. A
            // failure is also told with its cause, which the reason string alone does not say.
            // The core gives a cause exactly for the failures (a parse or transport error).
            ClientEvent::Closed {
                reason,
                cause: Some(cause),
            } => {
                actions.push(Action::Warning(format!(
                    "SocketIOClient: the connection was lost ({reason}): {cause}"
                )));
            }
            ClientEvent::Closed { cause: None, .. } => {}
            ClientEvent::NamespaceConnected { namespace, sid, .. } => {
                let sid = GString::from(sid.as_str());
                if namespace == "/" {
                    actions.push(Action::Client(ClientSignal::Connected(sid.clone())));
                }
                actions.push(Action::Client(ClientSignal::NamespaceConnected(
                    namespace.as_str().into(),
                )));
                if let Some(entry) = self.entry(&namespace) {
                    actions.push(Action::Namespace(entry.object.clone(), NamespaceSignal::Connected(sid)));
                }
            }
            ClientEvent::NamespaceConnectError { namespace, error } => {
                let dict = error_dict(&error.message, error.data.as_ref(), &namespace);
                actions.push(Action::Client(ClientSignal::ConnectError(dict.clone())));
                if let Some(entry) = self.entry(&namespace) {
                    actions.push(Action::Namespace(
                        entry.object.clone(),
                        NamespaceSignal::ConnectError(dict),
                    ));
                }
            }
            ClientEvent::NamespaceDisconnected {
                namespace,
                reason,
                was_connected,
            } => {
                // `connected` and `disconnected` of the client are a strict pair about "/": one `disconnected` for
                // each `connected`, whatever ended "/" (a kick, the client, the connection ending).
                if namespace == "/" && was_connected {
                    actions.push(Action::Client(ClientSignal::Disconnected(reason.as_str().into())));
                }
                actions.push(Action::Client(ClientSignal::NamespaceDisconnected(
                    namespace.as_str().into(),
                )));
                if let Some(entry) = self.entry(&namespace) {
                    let signal = NamespaceSignal::Disconnected(reason.as_str().into());
                    actions.push(Action::Namespace(entry.object.clone(), signal));
                }
            }
            // Its arguments come built as `data`, when anybody wants them (see `payload_to_build`).
            ClientEvent::Event {
                namespace, name, ack, ..
            } => {
                let Some(entry) = self.entry_mut(&namespace) else {
                    return actions;
                };
                // The name as Godot holds it (a NUL is U+FFFD there): for the signal, and the handlers registered
                // under it.
                let name = godot_text(&name);
                // Handlers whose object was freed (a bound method of a freed node, a lambda whose `self` is gone)
                // are dropped for good, with whatever their captures hold.
                // So are those of an `on_for()` owner that was freed: this event's at once, the others in turn.
                actions.extend(sweep_event(entry, &name).into_iter().map(Action::Release));
                // No payload built: `payload_to_build` found nobody to give it to (no handler of that name, nothing
                // connected to `event_received`), so no signal is emitted either.
                let Some(data) = data else {
                    return actions;
                };
                let signal = NamespaceSignal::EventReceived(GString::from(&*name), data.clone());
                actions.push(Action::Namespace(entry.object.clone(), signal));
                let mut ack_fn = None;
                for handler in entry.handlers.iter().filter(|handler| handler.event == *name) {
                    let mut args = Vec::with_capacity(2);
                    // Read at each event: a script reloaded while the game runs may have changed it.
                    let arity = handler.callable.get_argument_count();
                    if arity >= 1 {
                        args.push(data.to_variant());
                    }
                    if arity >= 2 {
                        let ack_fn = ack_fn.get_or_insert_with(|| ack_callable::<O>(client, &namespace, &name, ack));
                        args.push(ack_fn.to_variant());
                    }
                    actions.push(Action::Call(handler.callable.clone(), args));
                }
            }
            ClientEvent::AckResponse { id, args, .. } => {
                if let Some((_, callback)) = self.acks.remove(&id) {
                    actions.push(callback_call(
                        callback,
                        Some(data.unwrap_or_else(|| build::array(&args))),
                    ));
                }
            }
            ClientEvent::AckTimeout { id, .. } => {
                if let Some((_, callback)) = self.acks.remove(&id) {
                    actions.push(callback_call(callback, None));
                }
            }
            ClientEvent::ReconnectAttempt { attempt, delay } => {
                let signal = ClientSignal::ReconnectAttempt(i64::from(attempt), delay.as_secs_f64());
                actions.push(Action::Client(signal));
            }
            ClientEvent::Reconnected { attempt } => {
                actions.push(Action::Client(ClientSignal::Reconnected(i64::from(attempt))));
            }
            ClientEvent::ReconnectFailed { .. } => {
                actions.push(Action::Client(ClientSignal::ReconnectFailed));
            }
        }
        actions
    }
}

/// `{"message": ..., "data": ..., "namespace": ...}` for `connect_error`.
fn error_dict(message: &str, data: Option<&socketio_core::Payload>, namespace: &str) -> VarDictionary {
    let mut dict = VarDictionary::new();
    dict.set(
        &"message".to_variant(),
        &GString::from(&*godot_text(message)).to_variant(),
    );
    dict.set(&"data".to_variant(), &data.map(build::value).unwrap_or_default());
    dict.set(&"namespace".to_variant(), &namespace.to_variant());
    dict
}

/// Calls an `emit_with_ack` callback with the server's answer (`None`: the request timed out), in the shape it was
/// declared with (see [`ACK_CALLBACK_SHAPES`]). A callback that became invalid (its object was freed) is not called,
/// only released.
fn callback_call(callback: Callable, answer: Option<VarArray>) -> Action {
    if !callback.is_valid() {
        return Action::Release(callback);
    }
    let args = match (callback.get_argument_count(), answer) {
        (0, _) => Vec::new(),
        (1, Some(answer)) => vec![answer.to_variant()],
        (1, None) => vec![timeout_array().to_variant()],
        (_, Some(answer)) => vec![Variant::nil(), answer.to_variant()],
        (_, None) => vec!["timeout".to_variant(), VarArray::new().to_variant()],
    };
    Action::Call(callback, args)
}

fn timeout_array() -> VarArray {
    let mut data = VarArray::new();
    data.push(&"timeout".to_variant());
    data
}

/// The shapes an `emit_with_ack` callback may have, for the error that refuses another one.
pub const ACK_CALLBACK_SHAPES: &str = "func(response: Array) (the server's answer, or [\"timeout\"]), \
    func(err, response: Array) (socket.io-client's style: err is null and response the answer, or err is \"timeout\" \
    and response []), or func() (no answer wanted)";

/// The shapes an `on()` handler may have, likewise.
pub const HANDLER_SHAPES: &str = "func(data: Array), func(data: Array, ack: Callable) (ack answers the server), \
    or func()";

/// Why a handler or callback that takes `count` parameters is refused, if it is.
pub fn check_arity(count: usize, shapes: &str) -> Result<(), String> {
    if count <= 2 {
        Ok(())
    } else {
        Err(format!(
            "the callback takes {count} parameters; it would never be called: use {shapes}"
        ))
    }
}

/// The `ack` Callable given to two-parameter handlers: `ack.call([...])` answers the server once.
/// It answers in the namespace session the event came in, never in a later one (where the server's same id means
/// another question): called after that session ended, it reports an error and sends nothing.
fn ack_callable<O: Owner>(client: InstanceId, namespace: &str, event: &str, request: Option<AckRequest>) -> Callable {
    let namespace = namespace.to_owned();
    let event = event.to_owned();
    let mut used = false;
    Callable::from_fn("socketio_ack", move |args: &[&Variant]| {
        let label = format!("ack(\"{event}\")");
        let Some(request) = request else {
            godot_error!("{label}: the server did not ask for an acknowledgement of this event");
            return Variant::nil();
        };
        if used {
            godot_error!("{label}: this event was already acknowledged");
            return Variant::nil();
        }
        let values = match ack_arguments(args) {
            Ok(values) => values,
            Err(message) => {
                godot_error!("{label}: {message}");
                return Variant::nil();
            }
        };
        let Ok(mut gd) = Gd::<O>::try_from_instance_id(client) else {
            godot_error!("{label}: the SocketIOClient no longer exists");
            return Variant::nil();
        };
        used = true;
        let result = guard::guarded(&gd.clone(), &label, Ok(()), || {
            let mut c = gd.bind_mut();
            c.queue_flush();
            c.registry_mut()
                .core
                .send_ack(std::time::Instant::now(), &namespace, request, values)
        });
        if let Err(e) = result {
            godot_error!("{label}: {e}");
        }
        Variant::nil()
    })
}

/// The arguments of `ack.call(...)`: nothing, or one Array holding the values to send.
fn ack_arguments(args: &[&Variant]) -> Result<Vec<Value>, String> {
    match args {
        [] => Ok(Vec::new()),
        [single] => match single.try_to::<godot::builtin::AnyArray>() {
            Ok(array) => convert::args_to_values(&array, "args").map_err(|r| r.to_string()),
            Err(_) => Err("pass the values to send in an Array, e.g. ack.call([\"ok\"])".to_owned()),
        },
        _ => Err("pass the values to send in one Array, e.g. ack.call([1, 2])".to_owned()),
    }
}
