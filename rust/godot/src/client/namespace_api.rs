//! The methods of `SocketIONamespace` that ask the client: connecting and disconnecting the namespace, emitting,
//! handlers, and its state. Each forwards to the client's commands for the handle's path, once the handle is known
//! to still be the client's ([`Handle::with_client`]). They are here rather than in `namespace.rs` so that the
//! dependency points one way: from the client to the handle.

use godot::builtin::{AnyArray, Callable, GString, Signal};
use godot::classes::Object;
use godot::global::{godot_error, Error};
use godot::obj::Gd;
use godot::prelude::godot_api;

use super::commands::EmitKind;
use super::SocketIOClient;
use crate::defaults;
use crate::enums::NamespaceState;
use crate::guard;
use crate::namespace::{Detached, Handle, SocketIONamespace};
use crate::request::SocketIORequest;

#[godot_api(secondary)]
impl SocketIONamespace {
    /// Connects this namespace, sending [param auth] to the server. Returns [constant @GlobalScope.OK] when the
    /// request is under way; wait for [signal connected] (or [signal connect_error]) before relying on it.
    /// The main namespace [code]"/"[/code] is connected by [code]SocketIOClient.connect_to_url()[/code].
    ///
    /// Calling it again while the namespace is connecting returns [constant @GlobalScope.OK] without sending a
    /// second request (the one under way keeps its auth; [param auth] is used when the namespace rejoins after a
    /// reconnection); while it is connected, it does nothing and returns [constant @GlobalScope.OK].
    #[func(gd_self)]
    fn connect_to_namespace(
        this: Gd<Self>,
        #[opt(default = defaults::Dictionary::empty())] auth: defaults::Dictionary,
    ) -> Error {
        Handle::of(&this).with_client(
            Error::ERR_UNCONFIGURED,
            "connect_to_namespace",
            false,
            |client, path| SocketIOClient::connect_namespace(client, path, &auth.0),
        )
    }

    /// Disconnects this namespace. The connection stays open for the other namespaces. [signal disconnected] is
    /// emitted (before this method returns) when the namespace was connected or connecting.
    #[func(gd_self)]
    fn disconnect_from_namespace(this: Gd<Self>) {
        Handle::of(&this).with_client((), "disconnect_from_namespace", false, |client, path| {
            SocketIOClient::disconnect_namespace(client, path)
        })
    }

    /// Emits [param event] with the arguments in [param data]. Sent once the namespace is connected (buffered until
    /// then, up to [code]SocketIOClient.send_buffer_max_packets[/code] and [code]send_buffer_max_bytes[/code]).
    /// Values that cannot be sent (objects, vectors, NaN, …), a full send buffer, or a packet larger than the
    /// server's [code]maxPayload[/code] are reported with [method @GlobalScope.push_error] and nothing is sent.
    #[func(gd_self)]
    fn emit(this: Gd<Self>, event: GString, #[opt(default = defaults::Array::empty())] data: defaults::Array) {
        Handle::of(&this).with_client((), "emit", false, |client, path| {
            SocketIOClient::send_event(client, path, &event.to_string(), &data.0, EmitKind::Plain);
        })
    }

    /// Emits [param event] with [param data] only if this namespace is connected right now and the connection is not
    /// backed up (what was sent before is all written: the socket took it); otherwise the event is dropped instead of
    /// being buffered (socket.io-client's [code]volatile[/code] flag). Meant for state that is soon stale, such as
    /// positions. Returns [code]true[/code] when the event was sent. Data that cannot be sent is
    /// reported as for [method emit] (and [code]false[/code] returned).
    #[func(gd_self)]
    fn emit_volatile(
        this: Gd<Self>,
        event: GString,
        #[opt(default = defaults::Array::empty())] data: defaults::Array,
    ) -> bool {
        Handle::of(&this).with_client(false, "emit_volatile", false, |client, path| {
            SocketIOClient::send_event(client, path, &event.to_string(), &data.0, EmitKind::Volatile)
        })
    }

    /// Emits [param event] with [param data] and waits for the server's acknowledgement. [param callback] is called
    /// once, with an [Array] of the server's answer, or with [code]["timeout"][/code] when no answer came within
    /// [param timeout] seconds (or the namespace disconnected first).
    ///
    /// [param callback] may also take two parameters, socket.io-client's style [code]func(err, response)[/code]:
    /// [code](null, answer)[/code] when answered, [code]("timeout", [])[/code] otherwise; or none at all. A callback
    /// with more parameters is refused with an error and nothing is sent. [method request] is the same without a
    /// callback: it returns a [Signal] to [code]await[/code] for the answer.
    #[func(gd_self)]
    fn emit_with_ack(
        this: Gd<Self>,
        event: GString,
        data: AnyArray,
        callback: Callable,
        #[opt(default = 5.0)] timeout: f64,
    ) {
        Handle::of(&this).with_client((), "emit_with_ack", false, |client, path| {
            let kind = EmitKind::Ack {
                callback,
                timeout,
                method: "emit_with_ack",
            };
            SocketIOClient::send_event(client, path, &event.to_string(), &data, kind);
        })
    }

    /// Emits [param event] with [param data] and returns a [Signal] to [code]await[/code] for the server's
    /// acknowledgement: [method emit_with_ack] without a callback. The awaited value is the [Array] its callback
    /// would receive: the server's answer, or [code]["timeout"][/code] when no answer came within [param timeout]
    /// seconds, the namespace disconnected first, the client was closed ([code]SocketIOClient.close()[/code]
    /// completes every pending request before it returns), or the game is exiting (the scene tree's exit).
    /// [codeblock]
    /// var reply: Array = await ns.request("get_user", [42])
    /// if reply == ["timeout"]:
    ///     print("no answer")
    /// else:
    ///     print("user: ", reply[0])
    /// [/codeblock]
    /// A request is refused as [method emit_with_ack] refuses it (bad event name, data that cannot be sent, a
    /// timeout that is not a positive number, a full send buffer, a handle the client no longer has): the error is
    /// reported with [method @GlobalScope.push_error], nothing is sent, and the signal still completes, with
    /// [code]["timeout"][/code], at the end of the frame. An awaited request therefore always resumes, once.
    /// If the object whose function awaits it is freed first, that function is not resumed.
    #[func(gd_self)]
    fn request(
        this: Gd<Self>,
        event: GString,
        #[opt(default = defaults::Array::empty())] data: defaults::Array,
        #[opt(default = 5.0)] timeout: f64,
    ) -> Signal {
        let (request, callback) = SocketIORequest::start();
        let sent = Handle::of(&this).with_client(false, "request", false, |client, path| {
            let kind = EmitKind::Ack {
                callback,
                timeout,
                method: "request",
            };
            SocketIOClient::send_event(client, path, &event.to_string(), &data.0, kind)
        });
        SocketIORequest::signal(request, sent)
    }

    /// Returns the connection state of this namespace.
    #[func]
    fn get_connection_state(&self) -> NamespaceState {
        let state = self
            .handle()
            .with_client(Default::default(), "get_connection_state", true, |client, path| {
                client.bind().namespace_state(path)
            });
        NamespaceState(state)
    }

    /// Returns the Socket.IO session id of this namespace, or an empty string when not connected. It differs from
    /// the Engine.IO session id of the connection.
    #[func]
    fn get_session_id(&self) -> GString {
        self.handle()
            .with_client(GString::new(), "get_session_id", true, |client, path| {
                GString::from(&client.bind().namespace_sid(path))
            })
    }

    /// Returns [code]true[/code] when this namespace is connected.
    #[func]
    fn is_namespace_connected(&self) -> bool {
        self.get_connection_state().0 == socketio_core::ConnectionState::Connected
    }

    /// Returns [code]true[/code] when the last connection of this namespace restored its previous session:
    /// connection state recovery (socket.io 4.6+, server option [code]connectionStateRecovery[/code]) kept the same
    /// session id, the rooms, and replayed the events missed while disconnected. [code]false[/code] when the server
    /// started a new session, or never connected this namespace.
    #[func]
    fn is_recovered(&self) -> bool {
        self.handle().with_client(false, "is_recovered", true, |client, path| {
            client.bind().namespace_recovered(path)
        })
    }

    /// Removes the first handler of [param event] equal to [param callback] (the same lambda, or the same bound
    /// method). Does nothing when there is none.
    #[func(gd_self)]
    fn off(this: Gd<Self>, event: GString, callback: Callable) {
        let removed = Handle::of(&this).with_client(None, "off", false, |client, path| {
            client.bind_mut().remove_handler(path, &event.to_string(), &callback)
        });
        drop(removed);
    }

    /// Registers [param callback] for [param event]. Handlers run in the order they were registered and receive an
    /// [Array] of the event's arguments; a handler with two parameters also receives the acknowledgement
    /// [Callable], which answers the server (once) when it asked for an acknowledgement. The acknowledgement belongs
    /// to the namespace session the event came in: called after a disconnection or reconnection, it reports an
    /// error and sends nothing (the server would take it for the answer to another question). A handler with no
    /// parameter is called without the data; one with more than two is refused with an error.
    #[func(gd_self)]
    fn on(this: Gd<Self>, event: GString, callback: Callable) {
        Handle::of(&this).with_client((), "on", false, |client, path| {
            SocketIOClient::add_handler(client, path, &event.to_string(), callback, None)
        })
    }

    /// Registers [param callback] for [param event], as [method on] does, for as long as [param owner] exists:
    /// once [param owner] is freed (a node freed or [method Node.queue_free]d, which
    /// [method SceneTree.change_scene_to_file] does to the old scene), the handler no longer runs and is released
    /// with whatever it captures. Pass the node that registers it, typically [code]self[/code]:
    /// [codeblock]
    /// func _ready():
    ///     ns.on_for(self, "chat", func(data): print(data[0]))
    /// [/codeblock]
    /// Needed for lambdas that do not use [code]self[/code]: such a lambda belongs to its script, not to the node,
    /// so a handler registered with [method on] in [code]_ready[/code] would outlive the node and run once more for
    /// every time the scene was loaded. (Lambdas that use [code]self[/code] and bound methods such as
    /// [code]_on_chat[/code] already go with their node.) [method off] removes it like any other handler.
    #[func(gd_self)]
    fn on_for(this: Gd<Self>, owner: Gd<Object>, event: GString, callback: Callable) {
        let owner = owner.instance_id();
        Handle::of(&this).with_client((), "on_for", false, |client, path| {
            SocketIOClient::add_handler(client, path, &event.to_string(), callback, Some(owner))
        })
    }
}

impl Handle {
    fn of(this: &Gd<SocketIONamespace>) -> Handle {
        this.bind().handle()
    }

    /// Runs `f` with the client and the namespace path (panics caught and reported) when this handle is still the
    /// client's handle of its namespace. Otherwise returns `fallback`, reporting why unless `quiet` (getters simply
    /// answer "disconnected").
    fn with_client<R>(
        &self,
        fallback: R,
        method: &str,
        quiet: bool,
        f: impl FnOnce(&mut Gd<SocketIOClient>, &str) -> R,
    ) -> R {
        let what = format_args!("SocketIONamespace.{method}");
        if !guard::on_main_thread(what) {
            return fallback;
        }
        let Ok(mut client) = Gd::<SocketIOClient>::try_from_instance_id(self.client) else {
            if !quiet {
                godot_error!(
                    "SocketIONamespace.{method}: the SocketIOClient of namespace \"{}\" was freed; this handle no \
                     longer works",
                    self.path
                );
            }
            return fallback;
        };
        if !client.bind().is_attached(&self.path, self.object) {
            if quiet {
            } else if self.detached == Detached::Freed {
                // Being freed (a script running from its PREDELETE): the same as once it is gone.
                godot_error!(
                    "SocketIONamespace.{method}: the SocketIOClient of namespace \"{}\" was freed; this handle no \
                     longer works",
                    self.path
                );
            } else if self.detached == Detached::Removed {
                godot_error!(
                    "SocketIONamespace.{method}: namespace \"{}\" was removed with SocketIOClient.remove_namespace(); \
                     this handle no longer works (create the namespace again with SocketIOClient.create_namespace())",
                    self.path
                );
            } else {
                godot_error!(
                    "SocketIONamespace.{method}: this handle of namespace \"{}\" belongs to a connection that was \
                     closed; get the current one with SocketIOClient.get_namespace() or create_namespace()",
                    self.path
                );
            }
            return fallback;
        }
        guard::guarded(&client.clone(), what, fallback, || f(&mut client, &self.path))
    }
}
