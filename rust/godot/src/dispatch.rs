//! The client's state that GDScript never sees directly, and borrow-free dispatch of the core's events.
//!
//! [`Session`] lives inside the `SocketIOClient` singleton: the core `Client` (whose events are dispatched straight
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
//! `poll()`): its event waits, built so far, in [`Session`], and the events after it wait in the core, so that
//! handlers see events in the order they came, each complete.
//!
//! The same rule holds for everything that can run GDScript indirectly: dropping the last reference to a Callable
//! (a lambda's captures may be freed, and their scripts run `_notification`), disconnecting signals, and reporting
//! errors (a script `Logger` runs inside `push_error`). Such things are carried out of the borrow, as
//! [`Action::Release`] or [`Leftovers`], or as error messages reported by the caller once the borrow is released.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use godot::builtin::{Callable, GString, StringName, VarArray, VarDictionary, Variant};
use godot::classes::Object;
use godot::global::{godot_error, godot_warn};
use godot::meta::ToGodot;
use godot::obj::{Gd, Inherits, InstanceId};
use socketio_core::session::table::PathTable;
use socketio_core::{AckId, AckRequest, Client, ClientConfig, ClientEvent, Value};

use crate::build::{self, Build, Godot};
use crate::convert;
use crate::guard::{self, Recover};
use crate::marshal::godot_text;
use crate::namespace::{Detached, SocketIONamespace};
use crate::signals::{ClientSignal, NamespaceSignal};

/// Longest time a `poll()` (or another call that dispatches) spends building received payloads, counted from the
/// start of the call: what is left waits for the next call, in order. The engine work of the largest chunk a build
/// cannot cut comes on top (see [`crate::build`]).
pub const CONVERT_TIME_PER_POLL: Duration = Duration::from_millis(4);

/// What [`Session::next_actions`] found.
pub enum Next {
    /// The actions of the next event.
    Actions(Vec<Action>),
    /// A payload is being built and its time is up: dispatch nothing more in this call.
    Busy,
    /// Nothing left.
    Empty,
}

/// One thing to do in GDScript's world, decided while borrowed and done after the borrow is released.
pub enum Action {
    /// Emit a signal of the client.
    Client(ClientSignal),
    /// Emit a signal of a namespace.
    Namespace(Gd<SocketIONamespace>, NamespaceSignal),
    /// Call a handler or callback with these arguments (skipped if it became invalid meanwhile).
    Call(Callable, VarArray),
    /// Drop this Callable (a handler or callback that became invalid), once no borrow is held.
    Release(Callable),
    /// Report an error with `push_error` (which may run a script `Logger`, so never under a borrow).
    Error(String),
    /// Report a warning with `push_warning`, likewise.
    Warning(String),
}

/// A handler registered with `SocketIONamespace.on()` or `on_for()`.
struct Handler {
    event: String,
    callable: Callable,
    /// `on_for()`'s owner: the handler goes when this object is freed.
    owner: Option<InstanceId>,
}

impl Handler {
    /// Whether the handler can still run: its Callable's object and its owner exist.
    fn is_live(&self) -> bool {
        self.callable.is_valid() && self.owner.is_none_or(InstanceId::lookup_validity)
    }
}

/// One namespace handle and what belongs to it.
struct NamespaceEntry {
    object: Gd<SocketIONamespace>,
    /// In registration order.
    handlers: Vec<Handler>,
}

/// Handles let go of by one `close()` (all of them) or `remove_namespace()` (one): still reached by the final
/// events (disconnections, ack timeouts) that call dispatches, no longer attached (their commands are refused),
/// and forgotten once those events are dispatched.
struct Retired {
    /// Names this group for [`Session::forget_removed`].
    id: u64,
    /// The connection epoch it was let go of in: a `close()` of that epoch forgets it too.
    epoch: u64,
    entries: PathTable<NamespaceEntry>,
}

/// Callables and namespace handles taken out of the client, to be dropped once no borrow is held (dropping the last
/// reference to a lambda can free objects whose scripts run code).
///
/// Dropping it also disconnects everything connected to the handles' signals: a lambda connected to a namespace's
/// signal and capturing that namespace (`ns.connected.connect(func(_sid): ns.emit(...))`) forms a reference cycle
/// (namespace → connection → lambda → namespace) that would otherwise keep both alive forever. The handles are no
/// longer the client's, so their signals would never be emitted again anyway.
#[must_use]
pub struct Leftovers {
    handlers: Vec<Callable>,
    objects: Vec<Gd<SocketIONamespace>>,
}

impl Leftovers {
    fn of(retired: Vec<Retired>, mut handlers: Vec<Callable>) -> Leftovers {
        let mut objects = Vec::new();
        for group in retired {
            for entry in group.entries.into_values() {
                handlers.extend(entry.handlers.into_iter().map(|h| h.callable));
                objects.push(entry.object);
            }
        }
        Leftovers { handlers, objects }
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        let names = NAMESPACE_SIGNALS.map(StringName::from);
        for object in &self.objects {
            disconnect_signals(object, &names);
        }
        // Handlers first, then the handles (the handles' last references may be inside the handlers' captures).
        self.handlers.clear();
        self.objects.clear();
    }
}

/// Every signal a `SocketIONamespace` has: its own and `Object`'s (a script cannot be attached to it, so there are no
/// others). Listed rather than read with `get_signal_list()`, which builds a dictionary per signal: `close()` lets go
/// of every handle at once.
const NAMESPACE_SIGNALS: [&str; 6] = [
    "connected",
    "disconnected",
    "event_received",
    "connect_error",
    "script_changed",
    "property_list_changed",
];

/// Disconnects every connection of every signal of `object`. Runs GDScript (freed captures): call unborrowed.
pub fn disconnect_all_signals<T: Inherits<Object>>(object: &Gd<T>) {
    let names: Vec<StringName> = object
        .clone()
        .upcast::<Object>()
        .get_signal_list()
        .iter_shared()
        // "name" is a String in the dictionary.
        .filter_map(|signal| signal.get("name").and_then(|n| n.try_to::<GString>().ok()))
        .map(|name| StringName::from(&name))
        .collect();
    disconnect_signals(object, &names);
}

/// Disconnects every connection of the signals `names` of `object`. Runs GDScript (freed captures): call unborrowed.
fn disconnect_signals<T: Inherits<Object>>(object: &Gd<T>, names: &[StringName]) {
    let mut object: Gd<Object> = object.clone().upcast();
    let mut released = Vec::new();
    for name in names {
        for connection in object.get_signal_connection_list(name).iter_shared() {
            if let Some(callable) = connection.get("callable").and_then(|c| c.try_to::<Callable>().ok()) {
                if object.is_connected(name, &callable) {
                    object.disconnect(name, &callable);
                }
                released.push(callable);
            }
        }
    }
    drop(released);
}

/// Everything the client holds besides its properties.
pub struct Session {
    /// The protocol engine.
    pub core: Client,
    /// The current handles, by path (constant-time lookups however many namespaces a game makes).
    namespaces: PathTable<NamespaceEntry>,
    /// Handles of a `close()` or `remove_namespace()` whose final events are being dispatched (usually none).
    retired: Vec<Retired>,
    next_retired: u64,
    acks: HashMap<AckId, (u64, Callable)>,
    /// The event at the head of the dispatch order whose payload is being built (over several polls).
    building: Option<(ClientEvent, Build<Godot>)>,
    /// Incremented by every `close()`: handles, handlers and callbacks of earlier epochs are forgotten once the
    /// close's own events are dispatched, while anything a handler creates during that dispatch survives.
    epoch: u64,
}

impl Session {
    /// Not connected, no namespaces.
    pub fn new() -> Self {
        Session {
            core: Client::new(ClientConfig::default()),
            namespaces: PathTable::new(),
            retired: Vec::new(),
            next_retired: 0,
            acks: HashMap::new(),
            building: None,
            epoch: 0,
        }
    }

    /// The entry the events of `path` go to: the current one, else the newest retired one (while a `close()` or
    /// `remove_namespace()` dispatches its final events, a handler may already have made the path's next entry,
    /// which then hides the retired one).
    fn entry(&self, path: &str) -> Option<&NamespaceEntry> {
        self.namespaces
            .get(path)
            .or_else(|| self.retired.iter().rev().find_map(|r| r.entries.get(path)))
    }

    fn entry_mut(&mut self, path: &str) -> Option<&mut NamespaceEntry> {
        if self.namespaces.contains(path) {
            return self.namespaces.get_mut(path);
        }
        self.retired.iter_mut().rev().find_map(|r| r.entries.get_mut(path))
    }

    /// The current handle of namespace `path`, if it was created (and neither removed nor forgotten by a
    /// `close()`).
    pub fn namespace(&self, path: &str) -> Option<Gd<SocketIONamespace>> {
        self.namespaces.get(path).map(|e| e.object.clone())
    }

    /// Whether `handle` is the current handle of namespace `path` (handles of a closed connection, or of a removed
    /// namespace, are not, from the moment `close()` or `remove_namespace()` is called).
    pub fn is_attached(&self, path: &str, handle: InstanceId) -> bool {
        self.namespaces
            .get(path)
            .is_some_and(|e| e.object.instance_id() == handle)
    }

    /// The handle of namespace `path`, created if needed. `path` must be valid.
    pub fn ensure_namespace(&mut self, path: &str, client: InstanceId) -> Gd<SocketIONamespace> {
        if let Some(existing) = self.namespaces.get(path) {
            return existing.object.clone();
        }
        let object = SocketIONamespace::create(path, client);
        self.namespaces.insert(
            path,
            NamespaceEntry {
                object: object.clone(),
                handlers: Vec::new(),
            },
        );
        object
    }

    /// Adds a handler of `event` on `path` (with `on_for()`'s owner), first dropping the namespace's handlers that
    /// can no longer run (so that they do not pile up even while no event comes). Returns what is to be dropped
    /// unborrowed: those, and the callback itself when there is no such namespace.
    pub fn add_handler(
        &mut self,
        path: &str,
        event: &str,
        callback: Callable,
        owner: Option<InstanceId>,
    ) -> Vec<Callable> {
        let Some(entry) = self.namespaces.get_mut(path) else {
            return vec![callback];
        };
        let stale = sweep(&mut entry.handlers);
        entry.handlers.push(Handler {
            event: event.to_owned(),
            callable: callback,
            owner,
        });
        stale
    }

    /// Removes the first handler of `event` on `path` equal to `callback`; returns it (to be dropped unborrowed).
    pub fn remove_handler(&mut self, path: &str, event: &str, callback: &Callable) -> Option<Callable> {
        let entry = self.namespaces.get_mut(path)?;
        let index = entry
            .handlers
            .iter()
            .position(|handler| handler.event == event && handler.callable == *callback)?;
        Some(entry.handlers.remove(index).callable)
    }

    /// Stores the callback of an `emit_with_ack`.
    pub fn add_ack(&mut self, id: AckId, callback: Callable) {
        self.acks.insert(id, (self.epoch, callback));
    }

    /// Drops the server event being built, if it is one of namespace `path` (of any namespace: `None`). The core
    /// drops those it still holds when it is closed or the namespace is disconnected (after which events already
    /// received are not delivered); this one it gave away already.
    pub fn purge_events(&mut self, path: Option<&str>) {
        let purged = |event: &ClientEvent| match event {
            ClientEvent::Event { namespace, .. } => path.is_none_or(|p| p == namespace),
            _ => false,
        };
        if self.building.as_ref().is_some_and(|(event, _)| purged(event)) {
            self.building = None;
        }
    }

    /// Closes the connection, keeping the handles and their handlers: the core drops undelivered server events,
    /// closes, and queues its final events (disconnections, ack timeouts), to be dispatched next. No namespace is
    /// wanted any more. `connect_to_url()` does this before connecting again.
    pub fn close_connection(&mut self, now: std::time::Instant) {
        self.purge_events(None);
        self.core.close(now);
    }

    /// First half of `close()`: [`close_connection`](Self::close_connection), and a new epoch. Returns the epoch to
    /// [`forget`](Self::forget) once the final events are dispatched.
    pub fn begin_close(&mut self, now: std::time::Instant) -> u64 {
        let closed = self.epoch;
        self.epoch += 1;
        self.close_connection(now);
        // The core forgets them too (its close() kept them, idle); a namespace a handler creates during the
        // dispatch to come is added back to both.
        self.core.remove_all_namespaces(now);
        let entries = std::mem::take(&mut self.namespaces);
        self.retire(closed, entries, Detached::Closed);
        closed
    }

    /// Moves `entries` to the retired groups, telling their handles why (their commands say so from now on).
    fn retire(&mut self, epoch: u64, entries: PathTable<NamespaceEntry>, why: Detached) -> u64 {
        for entry in entries.values() {
            entry.object.bind().detach(why);
        }
        let id = self.next_retired;
        self.next_retired += 1;
        self.retired.push(Retired { id, epoch, entries });
        id
    }

    /// Second half of `close()`: forgets the handles, handlers and callbacks of epoch `closed` and before.
    pub fn forget(&mut self, closed: u64) -> Leftovers {
        let (old, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.retired)
            .into_iter()
            .partition(|r| r.epoch <= closed);
        self.retired = kept;
        let mut handlers = Vec::new();
        let stale: Vec<AckId> = self
            .acks
            .iter()
            .filter(|(_, (e, _))| *e <= closed)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some((_, callback)) = self.acks.remove(&id) {
                handlers.push(callback);
            }
        }
        Leftovers::of(old, handlers)
    }

    /// First half of `remove_namespace()`: removes namespace `path` from the core (which disconnects it, times out
    /// its acks and drops its buffered emits, queueing those events to be dispatched next) and retires its handle.
    /// Returns the group to [`forget_removed`](Self::forget_removed) once they are dispatched, or `None` when there
    /// is no such namespace.
    pub fn begin_remove(&mut self, path: &str, now: std::time::Instant) -> Option<u64> {
        let entry = self.namespaces.remove(path)?;
        self.purge_events(Some(path));
        // Both layers know the same namespaces, so the core knows it.
        let _ = self.core.remove_namespace(now, path);
        let mut entries = PathTable::new();
        entries.insert(path, entry);
        Some(self.retire(self.epoch, entries, Detached::Removed))
    }

    /// Second half of `remove_namespace()`: forgets the retired handle with its handlers (unless a `close()` in a
    /// handler already did).
    pub fn forget_removed(&mut self, id: u64) -> Leftovers {
        let (old, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.retired).into_iter().partition(|r| r.id == id);
        self.retired = kept;
        Leftovers::of(old, Vec::new())
    }

    /// Closes the connection and resets the engine, for a panic's aftermath: pending callbacks are dropped.
    /// Connected namespaces are told they are not any more (the core's reset queues that), so `connected` and
    /// `disconnected` stay paired.
    pub fn reset(&mut self) -> Leftovers {
        self.core.reset();
        self.building = None;
        Leftovers {
            handlers: self.acks.drain().map(|(_, (_, cb))| cb).collect(),
            objects: Vec::new(),
        }
    }

    /// Closes without telling anyone and lets go of every handler, callback and namespace handle (exit time).
    pub fn shutdown(&mut self) -> Leftovers {
        self.core.close(std::time::Instant::now());
        while self.core.poll_event().is_some() {}
        self.building = None;
        let entries = std::mem::take(&mut self.namespaces);
        self.retire(self.epoch, entries, Detached::Closed);
        self.epoch += 1;
        self.forget(u64::MAX)
    }

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
            ClientEvent::Event { namespace, args, .. } if self.entry(namespace).is_some() => Some(args.clone()),
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
            ClientEvent::EmitFailed { namespace, message } => {
                actions.push(Action::Error(format!(
                    "emit on {namespace}: {message}; the event was not sent"
                )));
            }
            ClientEvent::TransportError(error) => {
                let dict = error_dict(&error.message, error.data.as_ref(), "");
                actions.push(Action::Client(ClientSignal::ConnectError(dict)));
            }
            // A namespace that waited for the connection that failed (the core follows `TransportError` with one
            // per such namespace): told on its current handle.
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
            ClientEvent::Event {
                namespace,
                name,
                args,
                ack,
            } => {
                let Some(entry) = self.entry_mut(&namespace) else {
                    return actions;
                };
                // Handlers whose object was freed (a bound method of a freed node, a lambda whose `self` is gone)
                // are dropped for good, with whatever their captures hold.
                // So are those of an `on_for()` owner that was freed.
                actions.extend(sweep(&mut entry.handlers).into_iter().map(Action::Release));
                let data = data.unwrap_or_else(|| build::array(&args));
                // The name as Godot holds it (a NUL is U+FFFD there): for the signal, and the handlers registered
                // under it.
                let name = godot_text(&name);
                let signal = NamespaceSignal::EventReceived(GString::from(&*name), data.clone());
                actions.push(Action::Namespace(entry.object.clone(), signal));
                let mut ack_fn = None;
                for handler in entry.handlers.iter().filter(|handler| handler.event == *name) {
                    let mut args = VarArray::new();
                    // Read at each event: a script reloaded while the game runs may have changed it.
                    let arity = handler.callable.get_argument_count();
                    if arity >= 1 {
                        args.push(&data.to_variant());
                    }
                    if arity >= 2 {
                        let ack_fn = ack_fn.get_or_insert_with(|| ack_callable::<O>(client, &namespace, &name, ack));
                        args.push(&ack_fn.to_variant());
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

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

/// Takes out the handlers that can no longer run (see [`Handler::is_live`]), to be dropped unborrowed.
fn sweep(handlers: &mut Vec<Handler>) -> Vec<Callable> {
    if handlers.iter().all(Handler::is_live) {
        return Vec::new();
    }
    let (live, stale): (Vec<_>, Vec<_>) = std::mem::take(handlers).into_iter().partition(Handler::is_live);
    *handlers = live;
    stale.into_iter().map(|h| h.callable).collect()
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
    let mut args = VarArray::new();
    match (callback.get_argument_count(), answer) {
        (0, _) => {}
        (1, Some(answer)) => args.push(&answer.to_variant()),
        (1, None) => args.push(&timeout_array().to_variant()),
        (_, Some(answer)) => {
            args.push(&Variant::nil());
            args.push(&answer.to_variant());
        }
        (_, None) => {
            args.push(&"timeout".to_variant());
            args.push(&VarArray::new().to_variant());
        }
    }
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
            c.session_mut()
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

/// The object a [`Session`] lives in, as the dispatcher reaches it: the `SocketIOClient`. Dispatch is written against
/// this, not the class, so that it depends only on what it drives below it (the namespace handles, the builders).
pub trait Owner: Recover {
    /// Its session.
    fn session_mut(&mut self) -> &mut Session;
    /// Has what was queued (an ack) written at the end of the frame.
    fn queue_flush(&mut self);
    /// Emits one of its signals (no borrow held).
    fn emit_client_signal(this: &Gd<Self>, signal: ClientSignal);
}

/// Dispatches queued events until the queue is empty or the time to build payloads (until `deadline`) is up,
/// holding no borrow while actions run.
pub fn run<O: Owner>(client: &Gd<O>, deadline: Instant) {
    let mut gd = client.clone();
    let id = gd.instance_id();
    // Made once per run rather than once per event.
    let mut event_received: Option<StringName> = None;
    loop {
        let next = { gd.bind_mut().session_mut().next_actions::<O>(id, deadline) };
        let Next::Actions(actions) = next else {
            break;
        };
        for action in actions {
            perform(&gd, action, &mut event_received);
        }
    }
}

fn perform<O: Owner>(client: &Gd<O>, action: Action, event_received: &mut Option<StringName>) {
    match action {
        // The one signal emitted per event: straight to `emit_signal` with a name made once per run.
        Action::Namespace(namespace, NamespaceSignal::EventReceived(name, data)) => {
            let signal = event_received.get_or_insert_with(|| StringName::from("event_received"));
            namespace
                .upcast::<Object>()
                .emit_signal(&*signal, &[name.to_variant(), data.to_variant()]);
        }
        Action::Client(signal) => O::emit_client_signal(client, signal),
        Action::Namespace(namespace, signal) => SocketIONamespace::emit_namespace_signal(&namespace, signal),
        Action::Call(callable, args) => {
            // An earlier action may have freed its object.
            if callable.is_valid() {
                callable.callv(&args);
            }
        }
        Action::Release(callable) => drop(callable),
        Action::Error(message) => godot_error!("{message}"),
        Action::Warning(message) => godot_warn!("{message}"),
    }
}
