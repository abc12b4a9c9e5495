//! `SocketIOClient`: the client GDScript talks to, the shared one of `get_singleton()` or clients of its own (`new()`).
//!
//! This file declares the class: its fields, its signals, and its properties, whose getters and setters go straight
//! to the core's settings ([`properties`] converts and checks). The rest of it is split by concern:
//! - [`api`]: the methods GDScript calls (connect, close, poll, namespaces, state);
//! - [`commands`]: what they do, and what namespace handles ask of the client (emit, handlers, namespace state);
//! - [`hooks`]: what the client hooks into Godot's main loop (the end-of-frame flush, the shutdown at exit).
//!
//! Methods that may run GDScript (`poll`, `close`, `connect_to_url`) take `Gd<Self>` (`#[func(gd_self)]`) so no
//! borrow of the object is held while handlers and signal receivers run; see [`crate::dispatch`].

mod api;
mod commands;
mod hooks;
mod namespace_api;
mod properties;
mod stats;

pub(crate) use stats::{register_monitors, unregister_monitors};

pub(crate) use hooks::{free_all, install_exit_hook, shutdown_all};

use godot::builtin::{Callable, GString, PackedStringArray, VarDictionary};
use godot::classes::notify::ObjectNotification;
use godot::classes::{IObject, Object};
use godot::global::godot_error;
use godot::obj::{Base, Gd};
use godot::prelude::{godot_api, GodotClass, PhantomVar};
use socketio_core::ClientConfig;

use crate::dispatch::{Owner, Registry, ToRelease};
use crate::guard::{on_main_thread, Recover};
use crate::signals::ClientSignal;

/// Socket.IO v5 protocol client for real-time bidirectional communication.
///
/// [code]SocketIOClient[/code] holds one connection to a Socket.IO v4+ server (protocol v5) over WebSocket ([code]ws://[/code] or [code]wss://[/code]) or
/// HTTP long-polling ([member transports]), multiplexing any number of namespaces ([SocketIONamespace]). It handles Engine.IO and Socket.IO packet
/// encoding, binary attachments, acknowledgements with timeouts, heartbeats and automatic reconnection.
///
/// Call [method poll] regularly (e.g. in [code]_process[/code]): all signals and handlers run from inside it.
/// Emits made during a frame are written together at the end of that frame. Use the client from the main thread
/// only: a call from another thread is refused with an error.
///
/// [codeblock]
/// var socketio = SocketIOClient.get_singleton()
/// socketio.connect_to_url("ws://localhost:3000")
/// var main_ns = socketio.get_namespace("/")
/// main_ns.on("welcome", func(data): print("Welcome: ", data))
/// main_ns.emit("chat_message", ["Hello, server!"])
///
/// func _process(_delta):
///     socketio.poll()
/// [/codeblock]
///
/// [b]Singleton or clients of your own.[/b] [method get_singleton] always returns the same shared client, made by its
/// first call and freed at exit (it is not registered with [method Engine.register_singleton]: GDScript could not
/// call [code]new()[/code] on the class then). [code]SocketIOClient.new()[/code] makes another client, independent of
/// it and of every other: its own connection, namespaces, signals, settings and send buffers, with the whole API of
/// the singleton (a game may talk to two servers at once, or simulate several players). Each client must be polled:
/// call [method poll] on every client you made, as on the singleton. A client made with [code]new()[/code] is an
/// [Object], not a [RefCounted]: free it with [method Object.free] when done. Freeing a connected client closes its
/// connection (the server sees the client disconnect, as after [method close]) without emitting any signal, drops
/// the events not yet dispatched, and releases its handlers, callbacks and namespace handles: a handle kept by a
/// script then reports [code]STATE_DISCONNECTED[/code], and its commands report an error saying the client was
/// freed. A handler or callback of the client may free it: the rest of that dispatch is skipped. But Godot refuses
/// (in debug builds) to free an object while a script's call to one of its methods runs ("Attempted to free a
/// locked object"), and forbids freeing one while it emits a signal: from a handler run by this client's
/// [method poll] (or [method close], [method connect_to_url]), and from a receiver of its own signals
/// ([signal connected], …), free it with [code]free.call_deferred()[/code]. A client never freed is shut down with the singleton when the
/// scene tree exits (its handlers and signal connections released) and freed when the extension unloads.
/// [codeblock]
/// var player2 := SocketIOClient.new()
/// player2.connect_to_url("ws://localhost:3000", {"token": "player 2"})
///
/// func _process(_delta):
///     player2.poll()
///
/// func _exit_tree():
///     player2.free()
/// [/codeblock]
///
/// Namespace handles ([SocketIONamespace]) and the handlers registered on them with [code]on()[/code] survive
/// automatic reconnections and [method connect_to_url] (which closes the previous connection first). Only
/// [method close] forgets them, and [method remove_namespace] one of them. Namespaces cost nothing per call however
/// many there are (lookups are constant-time), so a game may make one per match and remove it afterwards.
///
/// Limits on what the server may make the client hold ([member max_message_size], [member max_attachments],
/// [member max_nesting_depth]) and on what is buffered while a namespace is not connected
/// ([member send_buffer_max_packets], [member send_buffer_max_bytes]) are properties, as are the reconnection
/// settings and [member connect_timeout]. So are the handshake's options, socket.io-client's [code]transports[/code],
/// [code]extraHeaders[/code] and [code]query[/code] ([member transports], [member extra_headers], [member query]),
/// and [member proxy_url].
///
/// Enum [code]ConnectionState[/code]: [code]STATE_DISCONNECTED[/code] = 0 (not connected to any server),
/// [code]STATE_CONNECTING[/code] = 1 (connecting, or waiting to reconnect), [code]STATE_CONNECTED[/code] = 2
/// (connected).
#[derive(GodotClass)]
#[class(tool, base = Object)]
pub struct SocketIOClient {
    base: Base<Object>,
    registry: Registry,
    /// A deferred flush (see [`Self::queue_flush`]) is queued for the end of this frame.
    flush_queued: bool,
    /// That flush, made by the first one queued and reused every frame after.
    flush_call: Option<Callable>,

    /// Reconnect automatically when the connection is lost (not after [method close] or a server-side
    /// disconnect). Default [code]true[/code].
    #[var(get, set)]
    reconnection: PhantomVar<bool>,

    /// Give up reconnecting after this many attempts ([signal reconnect_failed]); [code]0[/code] (default) never
    /// gives up.
    #[var(get, set)]
    reconnection_attempts: PhantomVar<i64>,

    /// Delay in seconds before the first reconnection attempt; it doubles with each attempt, up to
    /// [member reconnection_delay_max]. Default [code]1.0[/code].
    #[var(get, set)]
    reconnection_delay: PhantomVar<f64>,

    /// Longest delay in seconds between two reconnection attempts. Default [code]5.0[/code].
    #[var(get, set)]
    reconnection_delay_max: PhantomVar<f64>,

    /// Random jitter applied to reconnection delays, between [code]0.0[/code] and [code]1.0[/code].
    /// Default [code]0.5[/code].
    #[var(get, set)]
    randomization_factor: PhantomVar<f64>,

    /// Server path of the Socket.IO endpoint. Default [code]"/socket.io/"[/code]. Takes effect at the next
    /// [method connect_to_url].
    #[var(get, set)]
    path: PhantomVar<GString>,

    /// Largest WebSocket message accepted from the server, in bytes; a larger one closes the connection
    /// ([code]"parse error"[/code], and a warning naming the limit). Default [code]16777216[/code] (16 MiB; socket.io's
    /// server accepts 1 MB by default). A message of that size arrives and is converted over several frames, a few
    /// milliseconds of work in each. Takes effect at the next connection
    /// ([method connect_to_url] or a reconnection).
    #[var(get, set)]
    max_message_size: PhantomVar<i64>,

    /// Most binary attachments ([PackedByteArray]s) in one received packet. Default [code]10[/code], as
    /// socket.io-parser's [code]maxAttachments[/code]. Takes effect at the next connection.
    #[var(get, set)]
    max_attachments: PhantomVar<i64>,

    /// Deepest nesting of arrays and dictionaries accepted in received data, between [code]1[/code] and
    /// [code]127[/code]. Default [code]64[/code]. Takes effect at the next connection. (What is sent may be nested
    /// 64 levels deep.)
    #[var(get, set)]
    max_nesting_depth: PhantomVar<i64>,

    /// Most emits a namespace buffers while it is not connected (they are sent once it connects); past that, emits
    /// are refused with an error. Default [code]10000[/code]. Applies to the following emits.
    #[var(get, set)]
    send_buffer_max_packets: PhantomVar<i64>,

    /// Most bytes a namespace buffers while it is not connected, as for [member send_buffer_max_packets].
    /// Default [code]16777216[/code] (16 MiB).
    #[var(get, set)]
    send_buffer_max_bytes: PhantomVar<i64>,

    /// Seconds allowed to open a connection (DNS, TCP, TLS, WebSocket upgrade and Engine.IO handshake) before it
    /// counts as failed ([signal connect_error], then reconnection if enabled). Default [code]20.0[/code]. Takes
    /// effect at the next connection attempt.
    #[var(get, set)]
    connect_timeout: PhantomVar<f64>,

    /// Transports to open the connection with, in order: [code]"websocket"[/code] and/or [code]"polling"[/code]
    /// (HTTP long-polling), as socket.io-client's [code]transports[/code] option. Default
    /// [code]PackedStringArray("websocket", "polling")[/code]: WebSocket first; when the server or a proxy refuses it
    /// (or it does not open within 5 seconds), the same attempt goes on over polling, which then upgrades to
    /// WebSocket if the server offers it. [code]["polling", "websocket"][/code] (socket.io-client's own order) opens
    /// with polling and upgrades ([signal transport_upgraded]); one transport alone is used alone
    /// ([code]["polling"][/code] where only plain HTTP gets through). See [method get_transport] for the one in use.
    /// An empty list, an unknown name or a name listed twice is refused with an error, and the list stays as it was.
    /// Takes effect at the next connection ([method connect_to_url] or a reconnection).
    #[var(get, set)]
    transports: PhantomVar<PackedStringArray>,

    /// HTTP headers added to every request of the connection (the WebSocket upgrade, polling's GETs and POSTs; not
    /// a proxy's [code]CONNECT[/code]), as socket.io-client's [code]extraHeaders[/code] option: a [Dictionary] of
    /// [String] names to [String] values, sent in its order, e.g. [code]{"Authorization": "Bearer abc"}[/code]. The
    /// server sees them in [code]socket.handshake.headers[/code] (in lower case). Default [code]{}[/code]. A key or
    /// value that is not a [String], a name HTTP does not allow (empty, with spaces, colons or control characters),
    /// a value holding CR, LF or another control character (which could smuggle in headers of its own), or a header
    /// the client writes itself ([code]Host[/code], [code]Content-Length[/code], [code]Connection[/code],
    /// [code]Upgrade[/code], the [code]Sec-WebSocket-*[/code] ones, [code]Proxy-Authorization[/code], …) refuses the
    /// whole dictionary with an error naming the header (not its value), and the headers stay as they were. Reading
    /// the property gives a copy: change it and assign it again. Takes effect at the next connection.
    #[var(get, set)]
    extra_headers: PhantomVar<VarDictionary>,

    /// Query parameters added to the handshake URL, after those of the URL given to [method connect_to_url], as
    /// socket.io-client's [code]query[/code] option: a [Dictionary] with [String] keys and [String], [int],
    /// [float] or [bool] values, sent as text ([code]2[/code] as [code]"2"[/code], [code]true[/code] as
    /// [code]"true"[/code]) and percent-encoded; read back, the values are those texts. The server sees them in
    /// [code]socket.handshake.query[/code]. Default [code]{}[/code]. A key that is not a [String], empty, or one of
    /// the protocol's own ([code]"EIO"[/code], [code]"transport"[/code], [code]"sid"[/code], [code]"t"[/code]), or a
    /// value of another type (or a NaN or infinite [float]) refuses the whole dictionary with an error, and the query
    /// stays as it was. Takes effect at the next connection.
    #[var(get, set)]
    query: PhantomVar<VarDictionary>,

    /// HTTP proxy to tunnel the connection through with [code]CONNECT[/code]:
    /// [code]"http://host:port"[/code] or [code]"http://user:password@host:port"[/code] (basic authentication); a
    /// [code]wss://[/code] or [code]https://[/code] server is reached with TLS inside the tunnel. This is what an
    /// [code]agent[/code] (such as [code]https-proxy-agent[/code]) does for socket.io-client in Node.js. Default
    /// [code]""[/code]: no proxy, connect directly. Anything but an [code]http://[/code] URL with a host and no path
    /// is refused with an error, and the setting stays as it was. Takes effect at the next connection. Every
    /// connection goes through it: the WebSocket, each polling request's connection, the upgrade. When the proxy
    /// refuses, [signal connect_error]'s message says so and what it answered (e.g. [code]proxy 10.0.0.1:3128
    /// refused CONNECT to example.com:443: 403 Forbidden[/code]).
    #[var(get, set)]
    proxy_url: PhantomVar<GString>,
}

#[godot_api]
impl SocketIOClient {
    /// Emitted when connecting fails: the connection could not be opened ([code]"namespace"[/code] is empty), or
    /// the server refused a namespace. [param error] holds [code]"message"[/code], [code]"data"[/code] (the
    /// server's details, or [code]null[/code]) and [code]"namespace"[/code].
    #[signal]
    fn connect_error(error: VarDictionary);

    /// Emitted when the main namespace [code]"/"[/code] connects. [param session_id] is its Socket.IO session id.
    /// Each [signal connected] is followed by exactly one [signal disconnected] before the next one.
    #[signal]
    fn connected(session_id: GString);

    /// Emitted when the main namespace [code]"/"[/code], connected before, is disconnected, whatever ended it, with
    /// socket.io's reason: [code]"io server disconnect"[/code] (the server disconnected it, even while other
    /// namespaces keep the connection open), [code]"io client disconnect"[/code] ([method close],
    /// [method connect_to_url] again, or [code]disconnect_from_namespace()[/code] on [code]"/"[/code]), or the
    /// connection ending: [code]"transport close"[/code], [code]"transport error"[/code], [code]"ping timeout"[/code],
    /// [code]"parse error"[/code]. It pairs with [signal connected]: one for each, never one without a
    /// [signal connected] before it (a connection that never opened is [signal connect_error]).
    #[signal]
    fn disconnected(reason: GString);

    /// Emitted when any namespace (the main one included) connects.
    #[signal]
    fn namespace_connected(namespace_path: GString);

    /// Emitted when any namespace is disconnected.
    #[signal]
    fn namespace_disconnected(namespace_path: GString);

    /// Emitted when a reconnection attempt is scheduled: [param attempt] counts from 1, [param delay] is the wait
    /// in seconds before it starts.
    #[signal]
    fn reconnect_attempt(attempt: i64, delay: f64);

    /// Emitted when reconnection succeeded, after [param attempt] attempts. Namespaces then reconnect by themselves.
    #[signal]
    fn reconnected(attempt: i64);

    /// Emitted when reconnection gives up after [member reconnection_attempts] attempts.
    #[signal]
    fn reconnect_failed();

    /// Emitted when the connection moves from HTTP long-polling to WebSocket (the upgrade, see [member transports]);
    /// [param transport] is the one now in use, [code]"websocket"[/code]. Nothing is lost or reordered across it.
    #[signal]
    fn transport_upgraded(transport: GString);

    /// Getter of [member reconnection].
    #[func]
    fn get_reconnection(&self) -> bool {
        properties::reconnection(self.config())
    }

    /// Setter of [member reconnection].
    #[func]
    fn set_reconnection(&mut self, value: bool) {
        self.set_property("SocketIOClient.set_reconnection", value, properties::set_reconnection);
    }

    /// Getter of [member reconnection_attempts].
    #[func]
    fn get_reconnection_attempts(&self) -> i64 {
        properties::reconnection_attempts(self.config())
    }

    /// Setter of [member reconnection_attempts].
    #[func]
    fn set_reconnection_attempts(&mut self, value: i64) {
        self.set_property(
            "SocketIOClient.set_reconnection_attempts",
            value,
            properties::set_reconnection_attempts,
        );
    }

    /// Getter of [member reconnection_delay].
    #[func]
    fn get_reconnection_delay(&self) -> f64 {
        properties::reconnection_delay(self.config())
    }

    /// Setter of [member reconnection_delay].
    #[func]
    fn set_reconnection_delay(&mut self, value: f64) {
        self.set_property(
            "SocketIOClient.set_reconnection_delay",
            value,
            properties::set_reconnection_delay,
        );
    }

    /// Getter of [member reconnection_delay_max].
    #[func]
    fn get_reconnection_delay_max(&self) -> f64 {
        properties::reconnection_delay_max(self.config())
    }

    /// Setter of [member reconnection_delay_max].
    #[func]
    fn set_reconnection_delay_max(&mut self, value: f64) {
        self.set_property(
            "SocketIOClient.set_reconnection_delay_max",
            value,
            properties::set_reconnection_delay_max,
        );
    }

    /// Getter of [member randomization_factor].
    #[func]
    fn get_randomization_factor(&self) -> f64 {
        properties::randomization_factor(self.config())
    }

    /// Setter of [member randomization_factor].
    #[func]
    fn set_randomization_factor(&mut self, value: f64) {
        self.set_property(
            "SocketIOClient.set_randomization_factor",
            value,
            properties::set_randomization_factor,
        );
    }

    /// Getter of [member max_message_size].
    #[func]
    fn get_max_message_size(&self) -> i64 {
        properties::max_message_size(self.config())
    }

    /// Setter of [member max_message_size].
    #[func]
    fn set_max_message_size(&mut self, value: i64) {
        self.set_property(
            "SocketIOClient.set_max_message_size",
            value,
            properties::set_max_message_size,
        );
    }

    /// Getter of [member max_attachments].
    #[func]
    fn get_max_attachments(&self) -> i64 {
        properties::max_attachments(self.config())
    }

    /// Setter of [member max_attachments].
    #[func]
    fn set_max_attachments(&mut self, value: i64) {
        self.set_property(
            "SocketIOClient.set_max_attachments",
            value,
            properties::set_max_attachments,
        );
    }

    /// Getter of [member max_nesting_depth].
    #[func]
    fn get_max_nesting_depth(&self) -> i64 {
        properties::max_nesting_depth(self.config())
    }

    /// Setter of [member max_nesting_depth].
    #[func]
    fn set_max_nesting_depth(&mut self, value: i64) {
        self.set_property(
            "SocketIOClient.set_max_nesting_depth",
            value,
            properties::set_max_nesting_depth,
        );
    }

    /// Getter of [member send_buffer_max_packets].
    #[func]
    fn get_send_buffer_max_packets(&self) -> i64 {
        properties::send_buffer_max_packets(self.config())
    }

    /// Setter of [member send_buffer_max_packets].
    #[func]
    fn set_send_buffer_max_packets(&mut self, value: i64) {
        self.set_property(
            "SocketIOClient.set_send_buffer_max_packets",
            value,
            properties::set_send_buffer_max_packets,
        );
    }

    /// Getter of [member send_buffer_max_bytes].
    #[func]
    fn get_send_buffer_max_bytes(&self) -> i64 {
        properties::send_buffer_max_bytes(self.config())
    }

    /// Setter of [member send_buffer_max_bytes].
    #[func]
    fn set_send_buffer_max_bytes(&mut self, value: i64) {
        self.set_property(
            "SocketIOClient.set_send_buffer_max_bytes",
            value,
            properties::set_send_buffer_max_bytes,
        );
    }

    /// Getter of [member connect_timeout].
    #[func]
    fn get_connect_timeout(&self) -> f64 {
        properties::connect_timeout(self.config())
    }

    /// Setter of [member connect_timeout].
    #[func]
    fn set_connect_timeout(&mut self, value: f64) {
        self.set_property(
            "SocketIOClient.set_connect_timeout",
            value,
            properties::set_connect_timeout,
        );
    }

    /// Getter of [member transports].
    #[func]
    fn get_transports(&self) -> PackedStringArray {
        properties::transports(self.config())
            .into_iter()
            .map(GString::from)
            .collect()
    }

    /// Setter of [member transports].
    #[func]
    fn set_transports(&mut self, value: PackedStringArray) {
        let names = value.as_slice().iter().map(GString::to_string).collect();
        self.set_property("SocketIOClient.set_transports", names, properties::set_transports);
    }

    /// Getter of [member extra_headers].
    #[func]
    fn get_extra_headers(&self) -> VarDictionary {
        properties::text_dictionary(properties::extra_headers(self.config()))
    }

    /// Setter of [member extra_headers].
    #[func]
    fn set_extra_headers(&mut self, value: VarDictionary) {
        match properties::header_pairs(&value) {
            Ok(headers) => self.set_property(
                "SocketIOClient.set_extra_headers",
                headers,
                properties::set_extra_headers,
            ),
            Err(refusal) => godot_error!("{refusal}"),
        }
    }

    /// Getter of [member query].
    #[func]
    fn get_query(&self) -> VarDictionary {
        properties::text_dictionary(properties::query(self.config()))
    }

    /// Setter of [member query].
    #[func]
    fn set_query(&mut self, value: VarDictionary) {
        match properties::query_pairs(&value) {
            Ok(parameters) => self.set_property("SocketIOClient.set_query", parameters, properties::set_query),
            Err(refusal) => godot_error!("{refusal}"),
        }
    }

    /// Getter of [member proxy_url].
    #[func]
    fn get_proxy_url(&self) -> GString {
        GString::from(properties::proxy_url(self.config()))
    }

    /// Setter of [member proxy_url].
    #[func]
    fn set_proxy_url(&mut self, value: GString) {
        self.set_property(
            "SocketIOClient.set_proxy_url",
            value.to_string(),
            properties::set_proxy_url,
        );
    }

    /// Getter of [member path].
    #[func]
    fn get_path(&self) -> GString {
        GString::from(properties::path(self.config()))
    }

    /// Setter of [member path].
    #[func]
    fn set_path(&mut self, value: GString) {
        self.set_property("SocketIOClient.set_path", value.to_string(), properties::set_path);
    }
}

#[godot_api]
impl IObject for SocketIOClient {
    /// The singleton, or a client of its own (`SocketIOClient.new()`): not connected, default settings, listed for
    /// the exit hook ([`hooks`]).
    fn init(base: Base<Object>) -> Self {
        hooks::register(base.to_init_gd().instance_id());
        SocketIOClient {
            base,
            registry: Registry::new(),
            flush_queued: false,
            flush_call: None,
            reconnection: PhantomVar::default(),
            reconnection_attempts: PhantomVar::default(),
            reconnection_delay: PhantomVar::default(),
            reconnection_delay_max: PhantomVar::default(),
            randomization_factor: PhantomVar::default(),
            path: PhantomVar::default(),
            max_message_size: PhantomVar::default(),
            max_attachments: PhantomVar::default(),
            max_nesting_depth: PhantomVar::default(),
            send_buffer_max_packets: PhantomVar::default(),
            send_buffer_max_bytes: PhantomVar::default(),
            connect_timeout: PhantomVar::default(),
            transports: PhantomVar::default(),
            extra_headers: PhantomVar::default(),
            query: PhantomVar::default(),
            proxy_url: PhantomVar::default(),
        }
    }

    fn on_notification(&mut self, what: ObjectNotification) {
        if what == ObjectNotification::PREDELETE {
            self.on_predelete();
        }
    }
}

impl SocketIOClient {
    /// The core's settings, which the properties read.
    fn config(&self) -> &ClientConfig {
        self.registry.core.config()
    }

    /// A property's setter: on the main thread only, `apply` checks `value` and writes it to the core's settings,
    /// or says why it refuses it (reported; nothing changes).
    fn set_property<T>(
        &mut self,
        what: &str,
        value: T,
        apply: fn(&mut ClientConfig, T) -> Result<(), properties::Refusal>,
    ) {
        if !on_main_thread(what) {
            return;
        }
        if let Err(refusal) = apply(self.registry.core.config_mut(), value) {
            godot_error!("{refusal}");
        }
    }
}

/// The dispatcher's view of the client ([`crate::dispatch`] depends on this trait, not on the class).
impl Owner for SocketIOClient {
    fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    fn queue_flush(&mut self) {
        // The end-of-frame flush of `hooks.rs`.
        SocketIOClient::queue_flush(self);
    }

    /// Emits one of the client's signals (no borrow held).
    fn emit_client_signal(this: &Gd<Self>, signal: ClientSignal) {
        let mut signals = this.signals();
        match signal {
            ClientSignal::ConnectError(error) => signals.connect_error().emit(&error),
            ClientSignal::Connected(sid) => signals.connected().emit(&sid),
            ClientSignal::Disconnected(reason) => signals.disconnected().emit(&reason),
            ClientSignal::NamespaceConnected(path) => signals.namespace_connected().emit(&path),
            ClientSignal::NamespaceDisconnected(path) => signals.namespace_disconnected().emit(&path),
            ClientSignal::ReconnectAttempt(attempt, delay) => signals.reconnect_attempt().emit(attempt, delay),
            ClientSignal::Reconnected(attempt) => signals.reconnected().emit(attempt),
            ClientSignal::ReconnectFailed => signals.reconnect_failed().emit(),
            ClientSignal::TransportUpgraded(transport) => signals.transport_upgraded().emit(&transport),
        }
    }
}

impl Recover for SocketIOClient {
    type Released = ToRelease;

    /// After a caught panic: a fresh engine with the same settings. The pending callbacks are returned, to be
    /// dropped once the client is no longer borrowed.
    fn reset_after_panic(&mut self) -> ToRelease {
        self.registry.reset()
    }
}
