//! `SocketIOClient`: the engine singleton GDScript talks to.
//!
//! Methods that may run GDScript (`poll`, `close`, `connect_to_url`) take `Gd<Self>` (`#[func(gd_self)]`) so no
//! borrow of the object is held while handlers and signal receivers run; see [`crate::dispatch`].

use std::time::{Duration, Instant};

use godot::builtin::{AnyArray, Callable, GString, VarDictionary, Variant};
use godot::classes::{Engine, Object, SceneTree, TlsOptions};
use godot::global::{godot_error, Error};
use godot::meta::ToGodot;
use godot::obj::{Base, Gd, InstanceId, Singleton, WithBaseField};
use godot::prelude::{godot_api, GodotClass};
use socketio_core::endpoint::Endpoint;
use socketio_core::{CommandError, ConnectionState, Value};

use crate::convert;
use crate::defaults;
use crate::dispatch::{self, check_event_name, check_namespace_path, ClientSignal, Leftovers, Session};
use crate::enums::ClientState;
use crate::guard::{guarded, on_main_thread};
use crate::namespace::SocketIONamespace;
use crate::tls::tls_config;

/// Socket.IO v5 protocol client for real-time bidirectional communication.
///
/// [code]SocketIOClient[/code] is an engine singleton ([code]SocketIOClient.get_singleton()[/code]) holding one
/// connection to a Socket.IO v4+ server (protocol v5) over WebSocket ([code]ws://[/code] or [code]wss://[/code]),
/// multiplexing any number of namespaces ([SocketIONamespace]). It handles Engine.IO and Socket.IO packet
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
/// Namespace handles ([SocketIONamespace]) and the handlers registered on them with [code]on()[/code] survive
/// automatic reconnections and [method connect_to_url] (which closes the previous connection first). Only
/// [method close] forgets them, and [method remove_namespace] one of them. Namespaces cost nothing per call however
/// many there are (lookups are constant-time), so a game may make one per match and remove it afterwards.
///
/// Limits on what the server may make the client hold ([member max_message_size], [member max_attachments],
/// [member max_nesting_depth]) and on what is buffered while a namespace is not connected
/// ([member send_buffer_max_packets], [member send_buffer_max_bytes]) are properties, as are the reconnection
/// settings and [member connect_timeout].
///
/// Enum [code]ConnectionState[/code]: [code]STATE_DISCONNECTED[/code] = 0 (not connected to any server),
/// [code]STATE_CONNECTING[/code] = 1 (connecting, or waiting to reconnect), [code]STATE_CONNECTED[/code] = 2
/// (connected).
#[derive(GodotClass)]
#[class(init, singleton)]
pub struct SocketIOClient {
    base: Base<Object>,
    session: Session,
    /// The exit hook (on the scene tree's root) once installed: `(root id, callable)`.
    exit_hook: Option<(InstanceId, Callable)>,
    /// A deferred flush (see [`Self::queue_flush`]) is queued for the end of this frame.
    flush_queued: bool,
    /// That flush, made by the first one queued and reused every frame after.
    flush_call: Option<Callable>,

    /// Reconnect automatically when the connection is lost (not after [method close] or a server-side
    /// disconnect). Default [code]true[/code].
    #[var(set)]
    #[init(val = true)]
    reconnection: bool,

    /// Give up reconnecting after this many attempts ([signal reconnect_failed]); [code]0[/code] (default) never
    /// gives up.
    #[var(set)]
    #[init(val = 0)]
    reconnection_attempts: i64,

    /// Delay in seconds before the first reconnection attempt; it doubles with each attempt, up to
    /// [member reconnection_delay_max]. Default [code]1.0[/code].
    #[var(set)]
    #[init(val = 1.0)]
    reconnection_delay: f64,

    /// Longest delay in seconds between two reconnection attempts. Default [code]5.0[/code].
    #[var(set)]
    #[init(val = 5.0)]
    reconnection_delay_max: f64,

    /// Random jitter applied to reconnection delays, between [code]0.0[/code] and [code]1.0[/code].
    /// Default [code]0.5[/code].
    #[var(set)]
    #[init(val = 0.5)]
    randomization_factor: f64,

    /// Server path of the Socket.IO endpoint. Default [code]"/socket.io/"[/code]. Takes effect at the next
    /// [method connect_to_url].
    #[var(set)]
    #[init(val = "/socket.io/".into())]
    path: GString,

    /// Largest WebSocket message accepted from the server, in bytes; a larger one closes the connection
    /// ([code]"parse error"[/code], and a warning naming the limit). Default [code]16777216[/code] (16 MiB; socket.io's
    /// server accepts 1 MB by default). A message of that size arrives and is converted over several frames, a few
    /// milliseconds of work in each. Takes effect at the next connection
    /// ([method connect_to_url] or a reconnection).
    #[var(set)]
    #[init(val = 16 << 20)]
    max_message_size: i64,

    /// Most binary attachments ([PackedByteArray]s) in one received packet. Default [code]10[/code], as
    /// socket.io-parser's [code]maxAttachments[/code]. Takes effect at the next connection.
    #[var(set)]
    #[init(val = 10)]
    max_attachments: i64,

    /// Deepest nesting of arrays and dictionaries accepted in received data, between [code]1[/code] and
    /// [code]127[/code]. Default [code]64[/code]. Takes effect at the next connection. (What is sent may be nested
    /// 64 levels deep.)
    #[var(set)]
    #[init(val = 64)]
    max_nesting_depth: i64,

    /// Most emits a namespace buffers while it is not connected (they are sent once it connects); past that, emits
    /// are refused with an error. Default [code]10000[/code]. Applies to the following emits.
    #[var(set)]
    #[init(val = 10_000)]
    send_buffer_max_packets: i64,

    /// Most bytes a namespace buffers while it is not connected, as for [member send_buffer_max_packets].
    /// Default [code]16777216[/code] (16 MiB).
    #[var(set)]
    #[init(val = 16 << 20)]
    send_buffer_max_bytes: i64,

    /// Seconds allowed to open a connection (DNS, TCP, TLS, WebSocket upgrade and Engine.IO handshake) before it
    /// counts as failed ([signal connect_error], then reconnection if enabled). Default [code]20.0[/code]. Takes
    /// effect at the next connection attempt.
    #[var(set)]
    #[init(val = 20.0)]
    connect_timeout: f64,
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

    /// Returns the [code]SocketIOClient[/code] singleton.
    #[func]
    fn get_singleton() -> Gd<SocketIOClient> {
        <SocketIOClient as Singleton>::singleton()
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
            if let Err(message) = check_namespace_path(&path) {
                godot_error!("create_namespace: {message}");
                return None;
            }
            let created = {
                let mut c = this.bind_mut();
                c.install_exit_hook();
                let id = c.base().instance_id();
                match c.session.core.add_namespace(&path) {
                    Ok(()) => Ok(c.session.ensure_namespace(&path, id)),
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
        ClientState(self.session.core.state())
    }

    /// Returns the URL given to the last [method connect_to_url].
    #[func]
    fn get_connection_url(&self) -> GString {
        if !on_main_thread("SocketIOClient.get_connection_url") {
            return GString::new();
        }
        GString::from(self.session.core.url())
    }

    /// Returns the Engine.IO session id of the connection, or an empty string when not connected. It differs from
    /// the per-namespace Socket.IO session ids.
    #[func]
    fn get_engine_io_session_id(&self) -> GString {
        if !on_main_thread("SocketIOClient.get_engine_io_session_id") {
            return GString::new();
        }
        GString::from(self.session.core.engine_sid().unwrap_or_default())
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
        GString::from(self.session.core.last_error().unwrap_or_default())
    }

    /// Returns the namespace [param namespace], or [code]null[/code] if it was never created. [code]"/"[/code]
    /// exists once [method connect_to_url] was called.
    #[func(gd_self)]
    fn get_namespace(this: Gd<Self>, #[opt(default = "/")] namespace: GString) -> Option<Gd<SocketIONamespace>> {
        if !on_main_thread("SocketIOClient.get_namespace") {
            return None;
        }
        this.bind().session.namespace(&namespace.to_string())
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
        self.session.namespace(&namespace.to_string()).is_some()
    }

    /// Returns [code]true[/code] when the connection to the server is open.
    #[func]
    fn is_socket_connected(&self) -> bool {
        if !on_main_thread("SocketIOClient.is_socket_connected") {
            return false;
        }
        self.session.core.state() == ConnectionState::Connected
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
                c.session.core.poll(start);
            }
            dispatch::run(&this, start + dispatch::CONVERT_TIME_PER_POLL);
        });
    }

    /// Setter of [member reconnection].
    #[func]
    fn set_reconnection(&mut self, value: bool) {
        if !on_main_thread("SocketIOClient.set_reconnection") {
            return;
        }
        self.reconnection = value;
        self.session.core.config_mut().reconnect.enabled = value;
    }

    /// Setter of [member reconnection_attempts].
    #[func]
    fn set_reconnection_attempts(&mut self, value: i64) {
        if !on_main_thread("SocketIOClient.set_reconnection_attempts") {
            return;
        }
        if value < 0 {
            godot_error!("reconnection_attempts must be 0 (unlimited) or more, not {value}");
            return;
        }
        self.reconnection_attempts = value;
        let max = u32::try_from(value).unwrap_or(u32::MAX);
        self.session.core.config_mut().reconnect.max_attempts = (max > 0).then_some(max);
    }

    /// Setter of [member reconnection_delay].
    #[func]
    fn set_reconnection_delay(&mut self, value: f64) {
        if !on_main_thread("SocketIOClient.set_reconnection_delay") {
            return;
        }
        if let Some(delay) = seconds("reconnection_delay", value) {
            self.reconnection_delay = value;
            self.session.core.config_mut().reconnect.delay = delay;
        }
    }

    /// Setter of [member reconnection_delay_max].
    #[func]
    fn set_reconnection_delay_max(&mut self, value: f64) {
        if !on_main_thread("SocketIOClient.set_reconnection_delay_max") {
            return;
        }
        if let Some(delay) = seconds("reconnection_delay_max", value) {
            self.reconnection_delay_max = value;
            self.session.core.config_mut().reconnect.delay_max = delay;
        }
    }

    /// Setter of [member randomization_factor].
    #[func]
    fn set_randomization_factor(&mut self, value: f64) {
        if !on_main_thread("SocketIOClient.set_randomization_factor") {
            return;
        }
        if !(0.0..=1.0).contains(&value) {
            godot_error!("randomization_factor must be between 0.0 and 1.0, not {value}");
            return;
        }
        self.randomization_factor = value;
        self.session.core.config_mut().reconnect.randomization = value;
    }

    /// Setter of [member max_message_size].
    #[func]
    fn set_max_message_size(&mut self, value: i64) {
        if !on_main_thread("SocketIOClient.set_max_message_size") {
            return;
        }
        if let Some(size) = at_least("max_message_size", value, 1) {
            self.max_message_size = value;
            self.session.core.config_mut().limits.max_message_bytes = size;
        }
    }

    /// Setter of [member max_attachments].
    #[func]
    fn set_max_attachments(&mut self, value: i64) {
        if !on_main_thread("SocketIOClient.set_max_attachments") {
            return;
        }
        if let Some(count) = at_least("max_attachments", value, 0) {
            self.max_attachments = value;
            self.session.core.config_mut().limits.max_attachments = count;
        }
    }

    /// Setter of [member max_nesting_depth].
    #[func]
    fn set_max_nesting_depth(&mut self, value: i64) {
        if !on_main_thread("SocketIOClient.set_max_nesting_depth") {
            return;
        }
        if !(1..=127).contains(&value) {
            godot_error!("max_nesting_depth must be between 1 and 127, not {value}");
            return;
        }
        self.max_nesting_depth = value;
        self.session.core.config_mut().limits.max_depth = value as usize;
    }

    /// Setter of [member send_buffer_max_packets].
    #[func]
    fn set_send_buffer_max_packets(&mut self, value: i64) {
        if !on_main_thread("SocketIOClient.set_send_buffer_max_packets") {
            return;
        }
        if let Some(count) = at_least("send_buffer_max_packets", value, 0) {
            self.send_buffer_max_packets = value;
            self.session.core.config_mut().limits.send_buffer_packets = count;
        }
    }

    /// Setter of [member send_buffer_max_bytes].
    #[func]
    fn set_send_buffer_max_bytes(&mut self, value: i64) {
        if !on_main_thread("SocketIOClient.set_send_buffer_max_bytes") {
            return;
        }
        if let Some(size) = at_least("send_buffer_max_bytes", value, 0) {
            self.send_buffer_max_bytes = value;
            self.session.core.config_mut().limits.send_buffer_bytes = size;
        }
    }

    /// Setter of [member connect_timeout].
    #[func]
    fn set_connect_timeout(&mut self, value: f64) {
        if !on_main_thread("SocketIOClient.set_connect_timeout") {
            return;
        }
        let Some(timeout) = seconds("connect_timeout", value) else {
            return;
        };
        if timeout.is_zero() {
            godot_error!("connect_timeout must be more than 0 seconds, not {value}");
            return;
        }
        self.connect_timeout = value;
        self.session.core.config_mut().connect_timeout = timeout;
    }

    /// Setter of [member path].
    #[func]
    fn set_path(&mut self, value: GString) {
        if !on_main_thread("SocketIOClient.set_path") {
            return;
        }
        let path = value.to_string();
        if !path.starts_with('/') {
            godot_error!("path must start with \"/\", not \"{path}\"");
            return;
        }
        self.path = value;
        self.session.core.config_mut().path = path;
    }
}

/// What `SocketIOClient::send_event` sends.
pub(crate) enum EmitKind {
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
    },
}

impl EmitKind {
    fn method(&self) -> &'static str {
        match self {
            EmitKind::Plain => "emit",
            EmitKind::Volatile => "emit_volatile",
            EmitKind::Ack { .. } => "emit_with_ack",
        }
    }
}

/// A count or size property as `usize`, or `None` (reported) when below `min`.
fn at_least(name: &str, value: i64, min: i64) -> Option<usize> {
    let converted = usize::try_from(value).ok().filter(|_| value >= min);
    if converted.is_none() {
        godot_error!("{name} must be {min} or more, not {value}");
    }
    converted
}

/// A duration property in seconds, or `None` (reported) when negative or not finite.
fn seconds(name: &str, value: f64) -> Option<Duration> {
    let duration = Duration::try_from_secs_f64(value).ok();
    if duration.is_none() {
        godot_error!("{name} must be a finite number of seconds, 0 or more, not {value}");
    }
    duration
}

/// The `Error` code for a refused command.
pub(crate) fn command_error_code(error: &CommandError) -> Error {
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
    /// The session, for the namespace handles and the dispatcher.
    pub(crate) fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// State of namespace `path`.
    pub(crate) fn namespace_state(&self, path: &str) -> ConnectionState {
        self.session.core.namespace_state(path)
    }

    /// Socket.IO session id of namespace `path`, or empty.
    pub(crate) fn namespace_sid(&self, path: &str) -> String {
        self.session.core.namespace_sid(path).unwrap_or_default().to_owned()
    }

    /// Whether namespace `path`'s last connection restored its previous session.
    pub(crate) fn namespace_recovered(&self, path: &str) -> bool {
        self.session.core.namespace_recovered(path)
    }

    /// Whether `handle` is the current handle of namespace `path`.
    pub(crate) fn is_attached(&self, path: &str, handle: InstanceId) -> bool {
        self.session.is_attached(path, handle)
    }

    /// `close()` without the panic guard: the final events are dispatched first, then the handles, handlers and
    /// callbacks of the closed connection are forgotten (not those a handler created meanwhile), and whatever is
    /// connected to the forgotten handles' signals is disconnected.
    fn close_now(this: &mut Gd<Self>) {
        let closed = this.bind_mut().session.begin_close(Instant::now());
        dispatch::run(this, Instant::now() + dispatch::CONVERT_TIME_PER_POLL);
        let leftovers = this.bind_mut().session.forget(closed);
        drop(leftovers);
    }

    /// `remove_namespace()` without the panic guard: the namespace's final events are dispatched, then its handle is
    /// forgotten (not one a handler created meanwhile).
    fn remove_now(this: &mut Gd<Self>, path: &str) -> Error {
        if path == "/" {
            godot_error!(
                "remove_namespace(\"/\"): the main namespace cannot be removed (the client's connected and \
                 disconnected signals are about it); disconnect it with disconnect_from_namespace(), or close() the client"
            );
            return Error::ERR_INVALID_PARAMETER;
        }
        let Some(removed) = this.bind_mut().session.begin_remove(path, Instant::now()) else {
            return Error::ERR_DOES_NOT_EXIST;
        };
        dispatch::run(this, Instant::now() + dispatch::CONVERT_TIME_PER_POLL);
        let leftovers = this.bind_mut().session.forget_removed(removed);
        drop(leftovers);
        Error::OK
    }

    /// `connect_to_url()` without the panic guard.
    fn connect_now(this: &mut Gd<Self>, url: &str, auth: &VarDictionary, tls: Option<&Gd<TlsOptions>>) -> Error {
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
        let path = this.bind().path.to_string();
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
            if let Err(message) = check_namespace_path(extra) {
                godot_error!("{label}: the URL's path names the namespace to connect; {message}");
                return Error::ERR_INVALID_PARAMETER;
            }
        }

        // The previous connection is closed as by close(), its final signals and ack timeouts delivered before this
        // method returns, but the namespace handles and their handlers are kept.
        let was_active = this.bind().session.core.state() != ConnectionState::Disconnected;
        if was_active {
            this.bind_mut().session.close_connection(Instant::now());
            dispatch::run(this, Instant::now() + dispatch::CONVERT_TIME_PER_POLL);
        }

        let result = {
            let mut c = this.bind_mut();
            c.install_exit_hook();
            let id = c.base().instance_id();
            let session = &mut c.session;
            session.core.config_mut().tls = tls;
            match session.core.connect(url, Instant::now()) {
                Err(e) => Err((Error::ERR_INVALID_PARAMETER, e.to_string())),
                Ok(()) => {
                    let mut result = Ok(());
                    for ns in std::iter::once("/").chain(extra.as_deref()) {
                        session.ensure_namespace(ns, id);
                        result = result.and_then(|()| {
                            session
                                .core
                                .connect_namespace(ns, auth.clone(), Instant::now())
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
    pub(crate) fn connect_namespace(this: &mut Gd<Self>, path: &str, auth: &VarDictionary) -> Error {
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
            if c.session.core.namespace_state(path) == ConnectionState::Connected {
                Ok(())
            } else {
                c.session.core.connect_namespace(path, auth, Instant::now())
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
    pub(crate) fn disconnect_namespace(this: &mut Gd<Self>, path: &str) {
        let result = {
            let mut c = this.bind_mut();
            let session = &mut c.session;
            session.purge_events(Some(path));
            session.core.disconnect_namespace(path, Instant::now())
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
    pub(crate) fn send_event(this: &mut Gd<Self>, path: &str, event: &str, data: &AnyArray, kind: EmitKind) -> bool {
        let label = CallLabel(kind.method(), event);
        let volatile = matches!(kind, EmitKind::Volatile);
        let checked = check_event_name(event)
            .and_then(|()| convert::args_to_values(data, "data").map_err(|refusal| refusal.to_string()));
        let args = match checked {
            Ok(args) => args,
            Err(message) => {
                godot_error!("{label}: {message}");
                return false;
            }
        };
        let ack = match kind {
            EmitKind::Ack { callback, timeout } => {
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
            let session = &mut c.session;
            match (volatile, ack) {
                (_, Some((callback, timeout))) => match session.core.emit_with_ack(path, event, args, timeout, now) {
                    Ok(id) => {
                        session.add_ack(id, callback);
                        (Ok(true), None)
                    }
                    Err(e) => (Err(e), Some(callback)),
                },
                (true, None) => (session.core.emit_volatile(path, event, args, now), None),
                (false, None) => (session.core.emit(path, event, args, now).map(|()| true), None),
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

    /// Writes what the emits of this frame queued at the end of the frame (Godot's deferred calls), in one write,
    /// rather than at the next `poll()`: an emit made in `_process` after `poll()`, or from a handler, leaves a
    /// frame earlier. Queued once per frame.
    pub(crate) fn queue_flush(&mut self) {
        if self.flush_queued {
            return;
        }
        self.flush_queued = true;
        let client = self.base().instance_id();
        let flush = self.flush_call.get_or_insert_with(|| {
            Callable::from_fn("socketio_flush", move |_args: &[&Variant]| {
                if let Ok(mut gd) = Gd::<SocketIOClient>::try_from_instance_id(client) {
                    let guard = gd.clone();
                    guarded(&guard, "SocketIOClient (flush)", (), || {
                        let mut c = gd.bind_mut();
                        c.flush_queued = false;
                        c.session.core.flush();
                    });
                }
                Variant::nil()
            })
        });
        flush.call_deferred(&[]);
    }

    /// `SocketIONamespace.on()` and `on_for()` (with its owner).
    pub(crate) fn add_handler(
        this: &mut Gd<Self>,
        path: &str,
        event: &str,
        callback: Callable,
        owner: Option<InstanceId>,
    ) {
        let label = CallLabel(if owner.is_some() { "on_for" } else { "on" }, event);
        if let Err(message) = check_event_name(event) {
            godot_error!("{label}: {message}");
        } else if !callback.is_valid() {
            godot_error!("{label}: the callback is not a valid Callable");
        } else if let Err(message) = dispatch::check_arity(callback.get_argument_count(), dispatch::HANDLER_SHAPES) {
            godot_error!("{label}: {message}");
        } else {
            let released = this.bind_mut().session.add_handler(path, event, callback, owner);
            drop(released);
        }
    }

    /// `SocketIONamespace.off()`: returns the removed handler, to be dropped once the client is no longer borrowed.
    pub(crate) fn remove_handler(&mut self, path: &str, event: &str, callback: &Callable) -> Option<Callable> {
        self.session.remove_handler(path, event, callback)
    }

    /// Emits one of the client's signals (no borrow held).
    pub(crate) fn emit_client_signal(this: &Gd<Self>, signal: ClientSignal) {
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
        }
    }

    /// After a caught panic: a fresh engine with the same settings. The pending callbacks are returned, to be
    /// dropped once the client is no longer borrowed.
    pub(crate) fn reset_after_panic(&mut self) -> Leftovers {
        self.session.reset()
    }

    /// Lets go of everything that refers to GDScript (handlers, callbacks, namespace handles, and whatever is
    /// connected to the namespaces' and the client's own signals) and closes the connection silently. Called when
    /// the scene tree exits (and, should that hook be missing, when the extension unloads), so that no lambda
    /// outlives the scripts: the singleton itself is freed only after Godot has shut GDScript down, and freeing a
    /// lambda then corrupts memory; a lambda capturing a namespace would also leak it.
    pub(crate) fn shutdown(this: &mut Gd<Self>) {
        let leftovers = {
            let mut c = this.bind_mut();
            let leftovers = c.session.shutdown();
            if let Some((root_id, callable)) = c.exit_hook.take() {
                if let Ok(mut root) = Gd::<godot::classes::Node>::try_from_instance_id(root_id) {
                    if root.is_connected("tree_exiting", &callable) {
                        root.disconnect("tree_exiting", &callable);
                    }
                }
            }
            leftovers
        };
        drop(leftovers);
        dispatch::disconnect_all_signals(this);
    }

    /// Connects [`Self::shutdown`] to the scene tree root's `tree_exiting` (once; not in the editor), which fires
    /// before scripts are torn down at exit. Done by the first frame (see `lib.rs`), and by the methods that
    /// connect or create namespaces in case that frame has not come yet.
    pub(crate) fn install_exit_hook(&mut self) {
        if self.exit_hook.is_some() || Engine::singleton().is_editor_hint() {
            return;
        }
        let Some(main_loop) = Engine::singleton().get_main_loop() else {
            return;
        };
        let Ok(tree) = main_loop.try_cast::<SceneTree>() else {
            return;
        };
        let Some(mut root) = tree.get_root() else {
            return;
        };
        let client = self.base().instance_id();
        let callable = Callable::from_fn("socketio_shutdown", move |_args: &[&Variant]| {
            if let Ok(mut gd) = Gd::<SocketIOClient>::try_from_instance_id(client) {
                let guard = gd.clone();
                guarded(&guard, "SocketIOClient (exit)", (), || Self::shutdown(&mut gd));
            }
            Variant::nil()
        });
        root.connect("tree_exiting", &callable);
        self.exit_hook = Some((root.instance_id(), callable));
    }
}

/// `method("argument")`, as error messages name a call; formatted only when one is reported.
struct CallLabel<'a>(&'a str, &'a str);

impl std::fmt::Display for CallLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}(\"{}\")", self.0, self.1)
    }
}
