//! What the client keeps besides its properties: the core `Client`, the namespace handles with their handlers,
//! the callbacks of `emit_with_ack`, and the handles let go of by a `close()` or `remove_namespace()` until their
//! final events are dispatched.

use std::collections::HashMap;

use godot::builtin::Callable;
use godot::classes::Object;
use godot::obj::{Gd, InstanceId};
use socketio_core::session::table::PathTable;
use socketio_core::{AckId, Client, ClientConfig, ClientEvent};

use crate::build::{Build, Godot};
use crate::namespace::{Detached, SocketIONamespace};

use super::release::ToRelease;

/// A handler registered with `SocketIONamespace.on()` or `on_for()`.
pub(super) struct Handler {
    pub(super) event: String,
    pub(super) callable: Callable,
    /// `on_for()`'s owner: the handler goes when this object is freed.
    pub(super) owner: Option<InstanceId>,
}

impl Handler {
    /// Whether the handler can still run: its Callable's object and its owner exist.
    pub(super) fn is_live(&self) -> bool {
        self.callable.is_valid() && self.owner.is_none_or(InstanceId::lookup_validity)
    }
}

/// One namespace handle and what belongs to it.
pub(super) struct NamespaceEntry {
    pub(super) object: Gd<SocketIONamespace>,
    /// In registration order.
    pub(super) handlers: Vec<Handler>,
    /// The handler [`sweep_event`] looks at next besides those of the event.
    pub(super) sweep_at: usize,
}

impl NamespaceEntry {
    /// Whether an event named `event` (as Godot holds the name) goes anywhere: a handler of that name (live or not:
    /// the dispatch sorts that out), or anything connected to the handle's `event_received`. The signal is only
    /// asked about when no handler matches, the case where the answer saves building the payload.
    pub(super) fn wants(&self, event: &str) -> bool {
        self.handlers.iter().any(|handler| handler.event == event)
            || !self
                .object
                .upcast_ref::<Object>()
                .get_signal_connection_list("event_received")
                .is_empty()
    }
}

/// Handles let go of by one `close()` (all of them) or `remove_namespace()` (one): still reached by the final
/// events (disconnections, ack timeouts) that call dispatches, no longer attached (their commands are refused),
/// and forgotten once those events are dispatched.
pub(super) struct Retired {
    /// Names this group for [`Registry::forget_removed`].
    pub(super) id: u64,
    /// The connection epoch it was let go of in: a `close()` of that epoch forgets it too.
    pub(super) epoch: u64,
    pub(super) entries: PathTable<NamespaceEntry>,
}

/// Everything the client holds besides its properties.
pub struct Registry {
    /// The protocol engine.
    pub core: Client,
    /// The current handles, by path (constant-time lookups however many namespaces a game makes).
    pub(super) namespaces: PathTable<NamespaceEntry>,
    /// Handles of a `close()` or `remove_namespace()` whose final events are being dispatched (usually none).
    pub(super) retired: Vec<Retired>,
    pub(super) next_retired: u64,
    pub(super) acks: HashMap<AckId, (u64, Callable)>,
    /// The event at the head of the dispatch order whose payload is being built (over several polls).
    pub(super) building: Option<(ClientEvent, Build<Godot>)>,
    /// Incremented by every `close()`: handles, handlers and callbacks of earlier epochs are forgotten once the
    /// close's own events are dispatched, while anything a handler creates during that dispatch survives.
    pub(super) epoch: u64,
}

impl Registry {
    /// Not connected, no namespaces.
    pub fn new() -> Self {
        Registry {
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
    pub(super) fn entry(&self, path: &str) -> Option<&NamespaceEntry> {
        self.namespaces
            .get(path)
            .or_else(|| self.retired.iter().rev().find_map(|r| r.entries.get(path)))
    }

    pub(super) fn entry_mut(&mut self, path: &str) -> Option<&mut NamespaceEntry> {
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
                sweep_at: 0,
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
    pub fn drop_building_event(&mut self, path: Option<&str>) {
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
        self.drop_building_event(None);
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
    pub fn forget(&mut self, closed: u64) -> ToRelease {
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
        released(old, handlers)
    }

    /// First half of `remove_namespace()`: removes namespace `path` from the core (which disconnects it, times out
    /// its acks and drops its buffered emits, queueing those events to be dispatched next) and retires its handle.
    /// Returns the group to [`forget_removed`](Self::forget_removed) once they are dispatched, or `None` when there
    /// is no such namespace.
    pub fn begin_remove(&mut self, path: &str, now: std::time::Instant) -> Option<u64> {
        let entry = self.namespaces.remove(path)?;
        self.drop_building_event(Some(path));
        // Both layers know the same namespaces, so the core knows it.
        let _ = self.core.remove_namespace(now, path);
        let mut entries = PathTable::new();
        entries.insert(path, entry);
        Some(self.retire(self.epoch, entries, Detached::Removed))
    }

    /// Second half of `remove_namespace()`: forgets the retired handle with its handlers (unless a `close()` in a
    /// handler already did).
    pub fn forget_removed(&mut self, id: u64) -> ToRelease {
        let (old, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.retired).into_iter().partition(|r| r.id == id);
        self.retired = kept;
        released(old, Vec::new())
    }

    /// Closes the connection and resets the engine, for a panic's aftermath: pending callbacks are dropped.
    /// Connected namespaces are told they are not any more (the core's reset queues that), so `connected` and
    /// `disconnected` stay paired.
    pub fn reset(&mut self) -> ToRelease {
        self.core.reset();
        self.building = None;
        ToRelease::new(self.acks.drain().map(|(_, (_, cb))| cb).collect(), Vec::new())
    }

    /// Closes without telling anyone and lets go of every handler, callback and namespace handle (exit time, or
    /// the client being freed: `why` tells the handles).
    pub fn shutdown(&mut self, why: Detached) -> ToRelease {
        self.core.close(std::time::Instant::now());
        while self.core.poll_event().is_some() {}
        self.building = None;
        let entries = std::mem::take(&mut self.namespaces);
        self.retire(self.epoch, entries, why);
        self.epoch += 1;
        self.forget(u64::MAX)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

/// Takes out the handlers that can no longer run (see [`Handler::is_live`]), to be dropped unborrowed.
pub(super) fn sweep(handlers: &mut Vec<Handler>) -> Vec<Callable> {
    take_out(handlers, |_, handler| !handler.is_live())
}

/// For an event named `event`: takes out the handlers of that name that can no longer run, and looks at one other
/// handler, each in turn (from `sweep_at`), to be dropped unborrowed. An event costs a look at its own handlers and
/// one more rather than at all of them (each look is a call into the engine), and the stale handlers of a
/// namespace are all gone within as many of its events as it has handlers.
pub(super) fn sweep_event(entry: &mut NamespaceEntry, event: &str) -> Vec<Callable> {
    let len = entry.handlers.len();
    if len == 0 {
        return Vec::new();
    }
    let other = entry.sweep_at % len;
    entry.sweep_at = other + 1;
    take_out(&mut entry.handlers, |i, handler| {
        (i == other || handler.event == event) && !handler.is_live()
    })
}

/// Takes out the handlers for which `stale(index, handler)` holds, keeping the others in order; one pass and
/// nothing moved when there are none.
fn take_out(handlers: &mut Vec<Handler>, stale: impl Fn(usize, &Handler) -> bool) -> Vec<Callable> {
    if !handlers.iter().enumerate().any(|(i, handler)| stale(i, handler)) {
        return Vec::new();
    }
    let mut kept = Vec::with_capacity(handlers.len());
    let mut out = Vec::new();
    for (i, handler) in std::mem::take(handlers).into_iter().enumerate() {
        if stale(i, &handler) {
            out.push(handler.callable);
        } else {
            kept.push(handler);
        }
    }
    *handlers = kept;
    out
}

/// What `retired` holds, with `handlers`, to be dropped once no borrow is held.
fn released(retired: Vec<Retired>, mut handlers: Vec<Callable>) -> ToRelease {
    let mut objects = Vec::new();
    for group in retired {
        for entry in group.entries.into_values() {
            handlers.extend(entry.handlers.into_iter().map(|h| h.callable));
            objects.push(entry.object);
        }
    }
    ToRelease::new(handlers, objects)
}
