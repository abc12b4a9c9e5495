//! `SocketIOConnection`: a [`Node`] that owns one `SocketIOClient` of its own, connects it from the inspector's
//! settings and polls it every frame.
//!
//! The node never holds a borrow of itself while its client runs GDScript: its per-frame hooks and the methods that
//! reach the client take `Gd<Self>` (`#[func(gd_self)]`), and the client's signals are re-emitted by Callables that
//! know the node by its instance id only. What those Callables share with the node ([`Shared`]) is behind an `Rc`,
//! so they need no borrow of the node either: a handler may then free the node, even from inside its own poll.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use godot::builtin::VariantType;
use godot::builtin::{Callable, GString, PackedStringArray, StringName, VarDictionary, Variant};
use godot::classes::notify::NodeNotification;
use godot::classes::{ClassDb, Engine, INode, Node, Object, TlsOptions};
use godot::global::Error;
use godot::obj::{Base, Gd, InstanceId, NewAlloc, Singleton, WithBaseField};
use godot::obj::{EngineBitfield, EngineEnum};
use godot::prelude::{godot_api, GodotClass};
use godot::register::info::{PropertyHint, PropertyHintInfo, PropertyInfo, PropertyUsageFlags};

use crate::client::SocketIOClient;
use crate::namespace::SocketIONamespace;

/// `process_callback`: poll in `_process`.
const PROCESS_IDLE: i64 = 0;
/// `process_callback`: poll in `_physics_process`.
const PROCESS_PHYSICS: i64 = 1;
/// `process_callback`: the game calls `poll()`.
const PROCESS_MANUAL: i64 = 2;

/// The enumerators of `SocketIOConnection.ProcessCallback` with their editor help, registered by `enums.rs`.
pub const PROCESS_CALLBACK: [(&str, i64, &str); 3] = [
    (
        "PROCESS_IDLE",
        PROCESS_IDLE,
        "The node polls its client in [method Node._process], every frame (the default).",
    ),
    (
        "PROCESS_PHYSICS",
        PROCESS_PHYSICS,
        "The node polls its client in [method Node._physics_process], every physics tick.",
    ),
    (
        "PROCESS_MANUAL",
        PROCESS_MANUAL,
        "The node does not poll its client: call [method poll] yourself.",
    ),
];

/// The client's signals, with their number of arguments: re-emitted by the node under the same names.
const SIGNALS: [&str; 9] = [
    "connect_error",
    "connected",
    "disconnected",
    "namespace_connected",
    "namespace_disconnected",
    "reconnect_attempt",
    "reconnected",
    "reconnect_failed",
    "transport_upgraded",
];

/// What the node shares with the Callables connected to its client's signals.
#[derive(Default)]
struct Shared {
    /// False once the node is being freed: its client's last signals are not re-emitted.
    alive: Cell<bool>,
    /// How many calls into the client the node has under way (poll, connect, close): freeing the node then frees the
    /// client at the end of the frame, not while it runs.
    busy: Cell<u32>,
    /// The namespaces to join once "/" connects, and the auth to join them with (those of the last connection).
    joins: RefCell<(Vec<String>, VarDictionary)>,
}

/// A [Node] holding one Socket.IO connection, set up in the inspector.
///
/// [code]SocketIOConnection[/code] owns a [SocketIOClient] of its own (made with [code]SocketIOClient.new()[/code],
/// freed with the node), connects it to [member url] with [member auth] and [member tls_options], joins
/// [member namespaces] once [code]"/"[/code] connects, and calls the client's [method SocketIOClient.poll] every
/// frame ([member process_callback]). It re-emits every signal of its client with the same arguments, so a scene can
/// connect them in the editor. Several nodes in one scene are independent connections (one per server, or per
/// simulated player).
///
/// [codeblock]
/// # A SocketIOConnection child named "Server", url "ws://localhost:3000", autoconnect on.
/// func _ready():
///     $Server.connected.connect(func(_sid): print("connected"))
///     $Server.get_namespace("/").on("welcome", func(data): print("Welcome: ", data))
/// [/codeblock]
///
/// [b]Lifetime.[/b] With [member autoconnect], the node connects when it enters the tree (never in the editor).
/// Leaving the tree closes the connection ([code]"io client disconnect"[/code], as [method close]: the namespace
/// handles are forgotten with their handlers); entering it again with [member autoconnect] connects again, and
/// [method get_namespace] then gives the new handles. Freeing the node closes its client and frees it; when that
/// happens from inside one of the client's signals or handlers (during [method poll], [method connect_to_server] or
/// [method close]), the client is freed at the end of the call instead (deferred). Note that Godot refuses to free a
/// node from inside a receiver of the node's own signal ("locked object"): use [method Node.queue_free] there.
///
/// [b]Client settings[/b] (reconnection, transports, headers, limits, …) are the node's properties too, under
/// [code]client/[/code] (a "Client" section in the inspector, saved with the scene): [code]client/transports[/code]
/// is the client's [member SocketIOClient.transports], checked by the client's own setter. In code, set either
/// ([code]$Server.set("client/transports", ["polling"])[/code] or [code]$Server.get_client().transports =
/// ["polling"][/code]) before connecting.
///
/// [b]Pauses.[/b] The node polls only while it processes: a paused [SceneTree] ([member SceneTree.paused]) stops it
/// with the rest of the game unless its [member Node.process_mode] is [constant Node.PROCESS_MODE_ALWAYS] (set that
/// to keep the connection alive behind a pause menu). A connection left unpolled for longer than the server's
/// heartbeat ([code]pingInterval + pingTimeout[/code], 45 s with socket.io's defaults) is dropped by the server;
/// shorter stops (a blocking level load, a few seconds in the background) lose nothing. When the application comes
/// back from the background ([constant Node.NOTIFICATION_APPLICATION_RESUMED]) the node polls at the end of that
/// frame, so a dead connection is noticed, and reconnection starts, before the game's next frame.
///
/// Enum [code]ProcessCallback[/code]: [code]PROCESS_IDLE[/code] = 0 (poll in [code]_process[/code], the
/// default), [code]PROCESS_PHYSICS[/code] = 1 (poll in [code]_physics_process[/code]), [code]PROCESS_MANUAL[/code]
/// = 2 (the node does not poll: call [method poll] yourself).
#[derive(GodotClass)]
#[class(tool, base = Node)]
pub struct SocketIOConnection {
    base: Base<Node>,
    /// The client, `None` once freed with the node.
    client: Option<Gd<SocketIOClient>>,
    shared: Rc<Shared>,

    /// URL of the Socket.IO server, as for [method SocketIOClient.connect_to_url] (e.g.
    /// [code]"ws://localhost:3000"[/code]; a path names a namespace).
    #[export]
    url: GString,

    /// Sent with the main namespace's CONNECT (the server sees it in [code]socket.handshake.auth[/code]), and with
    /// each namespace of [member namespaces].
    #[export]
    auth: VarDictionary,

    /// Connect when the node enters the scene tree (not in the editor). Default [code]false[/code].
    #[export]
    autoconnect: bool,

    /// Namespaces to join (e.g. [code]"/chat"[/code]) once [code]"/"[/code] connects, each with [member auth]; get
    /// them with [method get_namespace]. Read when [method connect_to_server] is called.
    #[export]
    namespaces: PackedStringArray,

    /// TLS options for [code]wss://[/code], as for [method SocketIOClient.connect_to_url]; [code]null[/code]
    /// (default) is [code]TLSOptions.client()[/code]. Set it in code: [TLSOptions] is not a [Resource], so the
    /// inspector does not show it.
    #[var]
    tls_options: Option<Gd<TlsOptions>>,

    /// When the node polls its client: [code]PROCESS_IDLE[/code] (default, in [code]_process[/code]),
    /// [code]PROCESS_PHYSICS[/code] (in [code]_physics_process[/code]) or [code]PROCESS_MANUAL[/code] (never: call
    /// [method poll]). See the [code]ProcessCallback[/code] enum in the class description.
    #[var(set = set_process_callback)]
    #[export(enum = (PROCESS_IDLE = 0, PROCESS_PHYSICS = 1, PROCESS_MANUAL = 2))]
    process_callback: i64,
}

#[godot_api]
impl SocketIOConnection {
    /// Re-emitted [signal SocketIOClient.connect_error]: connecting failed, or the server refused a namespace.
    #[signal]
    fn connect_error(error: VarDictionary);

    /// Re-emitted [signal SocketIOClient.connected]: the main namespace [code]"/"[/code] connected (the namespaces
    /// of [member namespaces] have been asked to join by then).
    #[signal]
    fn connected(session_id: GString);

    /// Re-emitted [signal SocketIOClient.disconnected], with socket.io's reason (leaving the tree gives
    /// [code]"io client disconnect"[/code]).
    #[signal]
    fn disconnected(reason: GString);

    /// Re-emitted [signal SocketIOClient.namespace_connected]: a namespace connected.
    #[signal]
    fn namespace_connected(namespace_path: GString);

    /// Re-emitted [signal SocketIOClient.namespace_disconnected]: a namespace was disconnected.
    #[signal]
    fn namespace_disconnected(namespace_path: GString);

    /// Re-emitted [signal SocketIOClient.reconnect_attempt]: a reconnection attempt is scheduled.
    #[signal]
    fn reconnect_attempt(attempt: i64, delay: f64);

    /// Re-emitted [signal SocketIOClient.reconnected]: reconnection succeeded after [param attempt] attempts.
    #[signal]
    fn reconnected(attempt: i64);

    /// Re-emitted [signal SocketIOClient.reconnect_failed]: reconnection gave up.
    #[signal]
    fn reconnect_failed();

    /// Re-emitted [signal SocketIOClient.transport_upgraded]: the connection moved to WebSocket.
    #[signal]
    fn transport_upgraded(transport: GString);

    /// Returns the node's own [SocketIOClient], for its settings and the rest of its API. Do not free it: it is
    /// freed with the node. [code]null[/code] once the node is being freed.
    #[func]
    fn get_client(&self) -> Option<Gd<SocketIOClient>> {
        self.client.clone()
    }

    /// Returns the namespace [param namespace] of the client ([method SocketIOClient.get_namespace]), or
    /// [code]null[/code] if it does not exist (before [method connect_to_server], or after [method close]).
    #[func(gd_self)]
    fn get_namespace(this: Gd<Self>, #[opt(default = "/")] namespace: GString) -> Option<Gd<SocketIONamespace>> {
        let client = this.bind().live_client()?;
        SocketIOClient::namespace_of(client, namespace)
    }

    /// Connects the client to [member url] with [member auth] and [member tls_options], as
    /// [method SocketIOClient.connect_to_url] (which closes a previous connection first); [member namespaces] are
    /// joined once [code]"/"[/code] connects. Returns what [method SocketIOClient.connect_to_url] returns.
    #[func(gd_self)]
    fn connect_to_server(this: Gd<Self>) -> Error {
        let (client, url, auth, tls, shared) = {
            let node = this.bind();
            let Some(client) = node.live_client() else {
                return Error::ERR_UNCONFIGURED;
            };
            let joins = node
                .namespaces
                .as_slice()
                .iter()
                .map(GString::to_string)
                .filter(|path| path != "/")
                .collect();
            *node.shared.joins.borrow_mut() = (joins, node.auth.duplicate_shallow());
            (
                client,
                node.url.clone(),
                node.auth.clone(),
                node.tls_options.clone(),
                node.shared.clone(),
            )
        };
        busy(&shared, || SocketIOClient::connect_client(client, url, auth, tls))
    }

    /// Closes the connection ([method SocketIOClient.close], [code]"io client disconnect"[/code]).
    #[func(gd_self)]
    fn close(this: Gd<Self>) {
        let (client, shared) = {
            let node = this.bind();
            (node.live_client(), node.shared.clone())
        };
        if let Some(client) = client {
            busy(&shared, || SocketIOClient::close_client(client));
        }
    }

    /// Polls the client ([method SocketIOClient.poll]): for [code]PROCESS_MANUAL[/code]; the other
    /// [member process_callback] modes call it every frame.
    #[func(gd_self)]
    fn poll(this: Gd<Self>) {
        Self::poll_now(&this);
    }

    /// Setter of [member process_callback].
    #[func]
    fn set_process_callback(&mut self, value: i64) {
        if !(PROCESS_IDLE..=PROCESS_MANUAL).contains(&value) {
            godot::global::godot_error!(
                "SocketIOConnection.process_callback must be PROCESS_IDLE (0), PROCESS_PHYSICS (1) or PROCESS_MANUAL (2), not {value}"
            );
            return;
        }
        self.process_callback = value;
        self.apply_process_callback();
    }
}

/// The prefix of the client's settings among the node's properties.
const CLIENT_PREFIX: &str = "client/";

/// The settings of `SocketIOClient` (its own properties, not Object's): name, type, hint and hint string, as ClassDB
/// lists them.
fn client_settings() -> Vec<(String, VariantType, PropertyHint, String)> {
    let list = ClassDb::singleton()
        .class_get_property_list_ex(&StringName::from("SocketIOClient"))
        .no_inheritance(true)
        .done();
    list.iter_shared()
        .filter_map(|entry| {
            let name = entry.get("name")?.try_to::<GString>().ok()?.to_string();
            let usage = entry.get("usage")?.try_to::<i64>().ok()?;
            // Categories and groups are not settings.
            let heading = PropertyUsageFlags::CATEGORY.ord() | PropertyUsageFlags::GROUP.ord();
            if (usage as u64) & heading != 0 || name.is_empty() {
                return None;
            }
            let variant_type = VariantType::from_ord(entry.get("type")?.try_to::<i32>().ok()?);
            let hint = PropertyHint::from_ord(entry.get("hint")?.try_to::<i32>().ok()?);
            let hint_string = entry.get("hint_string")?.try_to::<GString>().ok()?.to_string();
            Some((name, variant_type, hint, hint_string))
        })
        .collect()
}

#[godot_api]
impl INode for SocketIOConnection {
    /// A node with its own client, whose signals it re-emits.
    fn init(base: Base<Node>) -> Self {
        let node_id = base.to_init_gd().instance_id();
        let shared = Rc::new(Shared::default());
        shared.alive.set(true);
        let mut client = SocketIOClient::new_alloc();
        for name in SIGNALS {
            let callable = forwarder(name, node_id, client.instance_id(), shared.clone());
            client.connect(name, &callable);
        }
        SocketIOConnection {
            base,
            client: Some(client),
            shared,
            url: GString::new(),
            auth: VarDictionary::new(),
            autoconnect: false,
            namespaces: PackedStringArray::new(),
            tls_options: None,
            process_callback: PROCESS_IDLE,
        }
    }

    fn ready(&mut self) {
        self.apply_process_callback();
    }

    /// The client's settings, as properties of the node under `client/` (a "Client" section in the inspector),
    /// stored with the scene.
    fn on_get_property_list(&mut self) -> Vec<PropertyInfo> {
        client_settings()
            .into_iter()
            .map(|(name, variant_type, hint, hint_string)| PropertyInfo {
                variant_type,
                class_name: StringName::default(),
                property_name: StringName::from(&format!("{CLIENT_PREFIX}{name}")),
                hint_info: PropertyHintInfo {
                    hint,
                    hint_string: GString::from(&hint_string),
                },
                usage: PropertyUsageFlags::DEFAULT,
            })
            .collect()
    }

    fn on_get(&self, property: StringName) -> Option<Variant> {
        let name = property.to_string();
        let setting = name.strip_prefix(CLIENT_PREFIX)?;
        let client = self.client.as_ref()?;
        Some(client.get(&StringName::from(setting)))
    }

    /// A client setting reverts to the default of a new client (the inspector's revert arrow); other properties as
    /// Godot does.
    fn on_property_get_revert(&self, property: StringName) -> Option<Variant> {
        let name = property.to_string();
        let setting = name.strip_prefix(CLIENT_PREFIX)?;
        if !client_settings().iter().any(|(known, ..)| known == setting) {
            return None;
        }
        // ClassDB knows no default values of an extension class's properties: read them off a fresh client (no
        // script holds it, it never connects).
        let fresh = SocketIOClient::new_alloc();
        let default = fresh.get(&StringName::from(setting));
        fresh.free();
        Some(default)
    }

    fn on_set(&mut self, property: StringName, value: Variant) -> bool {
        let name = property.to_string();
        let Some(setting) = name.strip_prefix(CLIENT_PREFIX) else {
            return false;
        };
        let Some(client) = self.client.as_mut() else {
            return false;
        };
        // The client's setter checks the value and reports a refusal; the node holds no borrow of the client.
        client.set(&StringName::from(setting), &value);
        true
    }

    #[func(gd_self)]
    fn enter_tree(this: Gd<Self>) {
        if Engine::singleton().is_editor_hint() || !this.bind().autoconnect {
            return;
        }
        Self::connect_to_server(this);
    }

    #[func(gd_self)]
    fn exit_tree(this: Gd<Self>) {
        if Engine::singleton().is_editor_hint() {
            return;
        }
        Self::close(this);
    }

    #[func(gd_self)]
    fn process(this: Gd<Self>, _delta: f64) {
        Self::poll_now(&this);
    }

    #[func(gd_self)]
    fn physics_process(this: Gd<Self>, _delta: f64) {
        Self::poll_now(&this);
    }

    fn on_notification(&mut self, what: NodeNotification) {
        match what {
            NodeNotification::PREDELETE => self.free_client(),
            // Back from the background (or a long stop): poll at the end of this frame rather than at the next
            // one, so that a connection that died meanwhile is noticed, and reconnection starts, before the game's
            // next frame. Deferred: a poll runs GDScript, which must not happen while the node is borrowed here.
            NodeNotification::APPLICATION_RESUMED => {
                let polls = self.process_callback != PROCESS_MANUAL && !Engine::singleton().is_editor_hint();
                if polls && self.base().is_inside_tree() {
                    self.base_mut().call_deferred("poll", &[]);
                }
            }
            _ => {}
        }
    }
}

impl SocketIOConnection {
    /// The client, unless it is gone (freed with the node, or by a script despite the reference's advice).
    fn live_client(&self) -> Option<Gd<SocketIOClient>> {
        self.client.clone().filter(Gd::is_instance_valid)
    }

    /// One poll of the client, with no borrow of the node held while it runs GDScript.
    fn poll_now(this: &Gd<Self>) {
        let (client, shared) = {
            let node = this.bind();
            (node.live_client(), node.shared.clone())
        };
        if let Some(client) = client {
            busy(&shared, || SocketIOClient::poll_client(client));
        }
    }

    /// Turns `_process` / `_physics_process` on or off for [`Self::process_callback`] (off in the editor).
    fn apply_process_callback(&mut self) {
        let editor = Engine::singleton().is_editor_hint();
        let mode = self.process_callback;
        let mut base = self.base_mut();
        base.set_process(!editor && mode == PROCESS_IDLE);
        base.set_physics_process(!editor && mode == PROCESS_PHYSICS);
    }

    /// At the node's deletion: close the client without re-emitting its signals, and free it (at the end of the
    /// frame when the node is deleted from inside one of its client's calls).
    fn free_client(&mut self) {
        self.shared.alive.set(false);
        let Some(client) = self.client.take().filter(Gd::is_instance_valid) else {
            return;
        };
        let busy_now = self.shared.busy.get() > 0;
        let mut client = client;
        SocketIOClient::close_client(client.clone());
        if !client.is_instance_valid() {
            return;
        }
        if busy_now {
            client.upcast_mut::<Object>().call_deferred("free", &[]);
        } else {
            client.free();
        }
    }
}

/// Runs `f`, a call into the client, counted in `shared.busy`.
fn busy<R>(shared: &Rc<Shared>, f: impl FnOnce() -> R) -> R {
    shared.busy.set(shared.busy.get() + 1);
    let result = f();
    shared.busy.set(shared.busy.get() - 1);
    result
}

/// The Callable re-emitting the client's signal `name` on node `node_id`; for `connected`, it first asks the
/// namespaces of the node's [`Shared::joins`] to join.
fn forwarder(name: &'static str, node_id: InstanceId, client_id: InstanceId, shared: Rc<Shared>) -> Callable {
    let signal = StringName::from(name);
    Callable::from_fn(format!("SocketIOConnection.{name}"), move |args: &[&Variant]| {
        if !shared.alive.get() {
            return Variant::nil();
        }
        if name == "connected" {
            if let Ok(client) = Gd::<SocketIOClient>::try_from_instance_id(client_id) {
                let (paths, auth) = shared.joins.borrow().clone();
                for path in paths {
                    SocketIOClient::join_namespace(client.clone(), &path, &auth);
                }
            }
            if !shared.alive.get() {
                return Variant::nil();
            }
        }
        if let Ok(mut node) = Gd::<Node>::try_from_instance_id(node_id) {
            let args: Vec<Variant> = args.iter().map(|v| (*v).clone()).collect();
            node.emit_signal(&signal, &args);
        }
        Variant::nil()
    })
}
