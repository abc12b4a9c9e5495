//! The methods GDScript calls on `SocketIOClient`: connecting and closing, polling, the namespaces, and the
//! state getters. Each that does work runs inside [`guarded`] and leaves the work to [`super::commands`].

use std::time::Instant;

use godot::builtin::GString;
use godot::global::{godot_error, Error};
use godot::obj::{Gd, WithBaseField};
use godot::prelude::godot_api;
use socketio_core::{ConnectionState, TransportKind};

use super::commands::valid_namespace;
use super::SocketIOClient;
use crate::defaults;
use crate::dispatch;
use crate::enums::ClientState;
use crate::guard::{guarded, on_main_thread};
use crate::namespace::SocketIONamespace;

#[godot_api(secondary)]
impl SocketIOClient {
    /// Returns the version of the addon's library, e.g. [code]"0.1.0"[/code] (the version in its
    /// [code]plugin.cfg[/code] and release zip).
    #[func]
    fn get_version() -> GString {
        GString::from(env!("CARGO_PKG_VERSION"))
    }

    /// Returns the [code]SocketIOClient[/code] singleton: always the same shared client, unlike
    /// [code]SocketIOClient.new()[/code], which makes a client of its own (see the class description).
    #[func]
    fn get_singleton() -> Gd<SocketIOClient> {
        super::hooks::singleton()
    }

    /// Closes the connection ([code]"io client disconnect"[/code]); no reconnection follows. Before this method
    /// returns, [signal disconnected] and the namespaces' [code]disconnected[/code] signals are emitted and pending
    /// [code]emit_with_ack()[/code] callbacks get [code]["timeout"][/code]; events received but not yet dispatched
    /// are dropped. Then the namespaces are forgotten with their handlers, and whatever is connected to their
    /// signals is disconnected: after the next [method connect_to_url], get them again with [method get_namespace]
    /// / [method create_namespace]. (To keep them, call [method connect_to_url] directly instead.)
    #[func(gd_self)]
    fn close(mut this: Gd<Self>) {
        let client = this.clone();
        guarded(&client, "SocketIOClient.close", (), || Self::close_now(&mut this));
    }

    /// Connects to the Socket.IO server at [param url] ([code]ws://host:port[/code], [code]wss://host:port[/code];
    /// [code]http(s)://[/code] also work). The Engine.IO path ([member path]) and query are added automatically; a
    /// query in [param url] is sent along (the server sees it in [code]socket.handshake.query[/code]).
    /// [param auth] is sent with the main namespace's CONNECT. [param tls_options]
    /// ([code]TLSOptions.client()[/code] by default) selects the trusted certificates for [code]wss://[/code], with
    /// the same verdicts as Godot's own [WebSocketPeer]: [code]TLSOptions.client(cert)[/code] trusts only
    /// [code]cert[/code] (the server's own self-signed certificate, CA or not, or the CA that issued it),
    /// [code]TLSOptions.client_unsafe(cert)[/code] checks that but not the name the certificate is issued for, and
    /// [code]TLSOptions.client_unsafe()[/code] disables verification. Another object as [param tls_options] (an
    /// [X509Certificate], say) is refused with an error.
    ///
    /// A path in [param url] names a namespace, as in socket.io-client ([code]io("http://host/admin")[/code]), not
    /// the server path: [code]connect_to_url("ws://host:3000/admin", auth)[/code] connects [code]"/"[/code] as
    /// always and also namespace [code]"/admin"[/code], both with [param auth]; get it with
    /// [code]get_namespace("/admin")[/code] and wait for its [code]connected[/code] signal (or
    /// [signal namespace_connected]). [signal connected] stays about [code]"/"[/code]. A path equal to
    /// [member path] ([code]ws://host:3000/socket.io/[/code]) is taken as the server path it already is, and names
    /// no namespace.
    ///
    /// A previous connection (connected, or still connecting or reconnecting) is closed first, as by
    /// [method close]: [signal disconnected] and the namespaces' [code]disconnected[/code] signals are emitted and
    /// pending [code]emit_with_ack()[/code] callbacks get [code]["timeout"][/code] before this method returns. Unlike
    /// [method close], the namespace handles and their handlers are kept and work on the new connection; the main
    /// namespace connects by itself, others once [code]connect_to_namespace()[/code] is called again.
    ///
    /// Returns [constant @GlobalScope.OK] once connecting has started (listen for [signal connected] or
    /// [signal connect_error]), or [constant @GlobalScope.ERR_INVALID_PARAMETER] for an invalid URL, auth or TLS
    /// options, in which case nothing is changed. Call [method poll] regularly for the connection to proceed.
    #[func(gd_self)]
    fn connect_to_url(
        mut this: Gd<Self>,
        url: GString,
        #[opt(default = defaults::Dictionary::empty())] auth: defaults::Dictionary,
        #[opt(default = defaults::TLSOptions::none())] tls_options: defaults::TLSOptions,
    ) -> Error {
        let client = this.clone();
        guarded(&client, "SocketIOClient.connect_to_url", Error::FAILED, || {
            let tls = match &tls_options.0 {
                Ok(tls) => tls.as_ref(),
                Err(message) => {
                    godot_error!("connect_to_url(\"{url}\"): {message}");
                    return Error::ERR_INVALID_PARAMETER;
                }
            };
            Self::connect_now(&mut this, &url.to_string(), &auth.0, tls)
        })
    }

    /// Returns the namespace [param namespace] (e.g. [code]"/admin"[/code]), creating it if needed; connect it
    /// with [code]connect_to_namespace()[/code]. The path must start with [code]"/"[/code]; otherwise an error is
    /// reported and [code]null[/code] returned.
    #[func(gd_self)]
    fn create_namespace(mut this: Gd<Self>, namespace: GString) -> Option<Gd<SocketIONamespace>> {
        let path = namespace.to_string();
        let client = this.clone();
        guarded(&client, "SocketIOClient.create_namespace", None, || {
            if let Err(message) = valid_namespace(&path) {
                godot_error!("create_namespace: {message}");
                return None;
            }
            let created = {
                super::hooks::install_exit_hook();
                let mut c = this.bind_mut();
                let id = c.base().instance_id();
                match c.registry.core.add_namespace(&path) {
                    Ok(()) => Ok(c.registry.ensure_namespace(&path, id)),
                    Err(e) => Err(e),
                }
            };
            created.map_err(|e| godot_error!("create_namespace: {e}")).ok()
        })
    }

    /// Returns the state of the connection as a whole.
    #[func]
    fn get_connection_state(&self) -> ClientState {
        if !on_main_thread("SocketIOClient.get_connection_state") {
            return ClientState(ConnectionState::Disconnected);
        }
        ClientState(self.registry.core.state())
    }

    /// Returns the URL given to the last [method connect_to_url].
    #[func]
    fn get_connection_url(&self) -> GString {
        if !on_main_thread("SocketIOClient.get_connection_url") {
            return GString::new();
        }
        GString::from(self.registry.core.url())
    }

    /// Returns the transport carrying the connection while it is connected: [code]"websocket"[/code] or
    /// [code]"polling"[/code] (HTTP long-polling; see [member transports]), and [code]""[/code] otherwise (not
    /// connected yet, reconnecting, closed). After [signal transport_upgraded] it is [code]"websocket"[/code]. It
    /// tells the transport in use at the time of the call: an upgrade completed during the [method poll] that
    /// emits [signal connected] already shows in that signal's handlers, before [signal transport_upgraded] is
    /// emitted later in the same [method poll].
    /// Like socket.io-client's [code]socket.io.engine.transport.name[/code].
    #[func]
    fn get_transport(&self) -> GString {
        if !on_main_thread("SocketIOClient.get_transport") {
            return GString::new();
        }
        GString::from(self.registry.core.transport().map_or("", TransportKind::name))
    }

    /// Returns the Engine.IO session id of the connection, or an empty string when not connected. It differs from
    /// the per-namespace Socket.IO session ids.
    #[func]
    fn get_engine_io_session_id(&self) -> GString {
        if !on_main_thread("SocketIOClient.get_engine_io_session_id") {
            return GString::new();
        }
        GString::from(self.registry.core.engine_sid().unwrap_or_default())
    }

    /// Returns why the connection last ended or failed by itself, in words: the cause behind a
    /// [signal disconnected] reason such as [code]"parse error"[/code] or [code]"transport error"[/code] (e.g.
    /// [code]"JSON payload nested deeper than 64 levels (max_nesting_depth)"[/code], [code]"message of 20000000 bytes,
    /// larger than max_message_size (16777216 bytes)"[/code]), the cause of [code]"ping timeout"[/code] or
    /// [code]"transport close"[/code], or why a connection could not be opened (as in [signal connect_error]'s [code]"message"[/code]). Empty before any such
    /// failure, and after a connection closed on purpose ([method close], or the server disconnecting us).
    /// A [code]"parse error"[/code] or [code]"transport error"[/code] is also reported with
    /// [method @GlobalScope.push_warning] when it happens.
    #[func]
    fn get_last_error(&self) -> GString {
        if !on_main_thread("SocketIOClient.get_last_error") {
            return GString::new();
        }
        GString::from(self.registry.core.last_error().unwrap_or_default())
    }

    /// Returns the namespace [param namespace], or [code]null[/code] if it was never created. [code]"/"[/code]
    /// exists once [method connect_to_url] was called.
    #[func(gd_self)]
    fn get_namespace(this: Gd<Self>, #[opt(default = "/")] namespace: GString) -> Option<Gd<SocketIONamespace>> {
        if !on_main_thread("SocketIOClient.get_namespace") {
            return None;
        }
        this.bind().registry.namespace(&namespace.to_string())
    }

    /// Removes namespace [param namespace], for a game that makes namespaces as it goes (one per match, say) and is
    /// done with one: it is disconnected first if it was connected or connecting ([code]"io client disconnect"[/code];
    /// [signal namespace_disconnected] and the namespace's [code]disconnected[/code] are emitted as for
    /// [code]disconnect_from_namespace()[/code]), its pending [code]emit_with_ack()[/code] callbacks get
    /// [code]["timeout"][/code] and its buffered emits are discarded, all before this method returns. Then its
    /// handlers are dropped and whatever is connected to its signals is disconnected; the old handle reports
    /// [code]STATE_DISCONNECTED[/code] and its commands report an error, and [method has_namespace] returns
    /// [code]false[/code]. [method create_namespace] makes it anew. When it was the last namespace in use, the
    /// connection closes, as after [code]disconnect_from_namespace()[/code].
    ///
    /// Returns [constant @GlobalScope.OK], or [constant @GlobalScope.ERR_DOES_NOT_EXIST] (not reported as an error)
    /// when there is no such namespace, e.g. after [method close]. The main namespace [code]"/"[/code] cannot be
    /// removed ([constant @GlobalScope.ERR_INVALID_PARAMETER], reported): [signal connected] and
    /// [signal disconnected] are about it; disconnect it with [code]disconnect_from_namespace()[/code], or
    /// [method close] the client.
    #[func(gd_self)]
    fn remove_namespace(mut this: Gd<Self>, namespace: GString) -> Error {
        let path = namespace.to_string();
        let client = this.clone();
        guarded(&client, "SocketIOClient.remove_namespace", Error::FAILED, || {
            Self::remove_now(&mut this, &path)
        })
    }

    /// Returns [code]true[/code] when namespace [param namespace] was created (and not removed since, nor forgotten
    /// by [method close]).
    #[func]
    fn has_namespace(&self, namespace: GString) -> bool {
        if !on_main_thread("SocketIOClient.has_namespace") {
            return false;
        }
        self.registry.namespace(&namespace.to_string()).is_some()
    }

    /// Returns [code]true[/code] when the connection to the server is open.
    #[func]
    fn is_socket_connected(&self) -> bool {
        if !on_main_thread("SocketIOClient.is_socket_connected") {
            return false;
        }
        self.registry.core.state() == ConnectionState::Connected
    }

    /// Does the pending network work (reading, writing, heartbeats, acknowledgement timeouts, reconnection), then
    /// emits the resulting signals and calls handlers and callbacks, in the order things happened. Call it
    /// regularly, typically from [code]_process[/code].
    #[func(gd_self)]
    fn poll(mut this: Gd<Self>) {
        let client = this.clone();
        guarded(&client, "SocketIOClient.poll", (), || {
            let start = Instant::now();
            {
                let mut c = this.bind_mut();
                // This poll writes whatever was queued: a deferred flush still to come has nothing left to do, and
                // one that never came (a full message queue) no longer holds back the next.
                c.flush_queued = false;
                c.registry.core.poll(start);
            }
            dispatch::run(&this, start + dispatch::CONVERT_TIME_PER_POLL);
        });
    }
}

/// The Rust path of [`crate::connection::SocketIOConnection`] to its client: the same work as the methods GDScript
/// calls, without a by-name `call()` (the node polls every frame).
impl SocketIOClient {
    /// [`Self::poll`].
    pub(crate) fn poll_client(this: Gd<Self>) {
        Self::poll(this);
    }

    /// [`Self::connect_to_url`].
    pub(crate) fn connect_client(
        this: Gd<Self>,
        url: GString,
        auth: godot::builtin::VarDictionary,
        tls_options: Option<Gd<godot::classes::TlsOptions>>,
    ) -> Error {
        Self::connect_to_url(
            this,
            url,
            defaults::Dictionary(auth),
            defaults::TLSOptions(Ok(tls_options)),
        )
    }

    /// [`Self::close`].
    pub(crate) fn close_client(this: Gd<Self>) {
        Self::close(this);
    }

    /// [`Self::get_namespace`].
    pub(crate) fn namespace_of(this: Gd<Self>, path: GString) -> Option<Gd<SocketIONamespace>> {
        Self::get_namespace(this, path)
    }

    /// Creates namespace `path` and connects it with `auth`, unless it is connected or connecting already.
    pub(crate) fn join_namespace(this: Gd<Self>, path: &str, auth: &godot::builtin::VarDictionary) {
        let Some(_) = Self::create_namespace(this.clone(), GString::from(path)) else {
            return;
        };
        if this.bind().namespace_state(path) != ConnectionState::Disconnected {
            return;
        }
        let mut this = this;
        let client = this.clone();
        guarded(&client, "SocketIOConnection.namespaces", (), || {
            Self::connect_namespace(&mut this, path, auth);
        });
    }
}
