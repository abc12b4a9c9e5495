//! `SocketIOMultiplayerPeer`: Godot's high-level multiplayer (`@rpc`, `MultiplayerSpawner`,
//! `MultiplayerSynchronizer`) over a `SocketIONamespace` and the relay of `relay/` on the server. The protocol is the
//! core's [`socketio_core::multiplayer::RelayPeer`]; this file carries it between the namespace (its emits, its
//! `event_received` and `disconnected` signals) and the engine's `MultiplayerPeerExtension` calls.
//!
//! What the namespace delivers is only queued by the Callables connected to its signals (they hold no borrow of the
//! peer, so a dispatch may run while the engine is inside one of the peer's methods); the peer takes it in at its
//! next `_poll()`, which the multiplayer API makes every frame.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use godot::builtin::{Callable, GString, PackedByteArray, Signal, VarArray, Variant};
use godot::classes::multiplayer_peer::{ConnectionStatus, TransferMode};
use godot::classes::{IMultiplayerPeerExtension, MultiplayerPeerExtension, Object};
use godot::global::{godot_error, Error};
use godot::meta::ToGodot;
use godot::obj::{Base, EngineEnum, Gd, WithBaseField};
use godot::prelude::{godot_api, GodotClass};
use socketio_core::multiplayer::{self, Emit, PeerError, PeerEvent, RelayPeer, Status};
use socketio_core::Value;

use crate::client::SocketIOClient;
use crate::convert;
use crate::guard::on_main_thread;
use crate::namespace::SocketIONamespace;

/// Seconds the relay has to answer [method host] or [method join].
const ANSWER_TIMEOUT: f64 = 10.0;

/// What the namespace's signals queued for the next `_poll()`.
enum Incoming {
    /// `event_received(name, data)`.
    Event(String, VarArray),
    /// The answer to the `host`/`join` request of generation `u64`.
    Answer(u64, VarArray),
    /// `disconnected(reason)`.
    Lost,
}

type Inbox = Rc<RefCell<VecDeque<Incoming>>>;

/// A [MultiplayerPeer] over a Socket.IO namespace, so that Godot's high-level multiplayer ([code]@rpc[/code],
/// [MultiplayerSpawner], [MultiplayerSynchronizer], [signal MultiplayerAPI.peer_connected]) runs through a socket.io
/// server with the relay of this addon attached to that namespace ([code]relay/[/code] in the repository, the npm
/// package [code]socketio-godot-relay[/code]):
/// [codeblock]
/// var ns := SocketIOClient.get_singleton().create_namespace("/match")
/// ns.connect_to_namespace({"token": token})
/// var peer := SocketIOMultiplayerPeer.new()
/// peer.host(ns, "room-42")      # this game is the authority, peer id 1
/// # or: peer.join(ns, "room-42") # a unique id > 1 from the relay
/// multiplayer.multiplayer_peer = peer
/// [/codeblock]
/// [method host] and [method join] return an [enum @GlobalScope.Error] at once and complete asynchronously: the
/// connection status is [constant MultiplayerPeer.CONNECTION_CONNECTING] until the relay answers, then
/// [constant MultiplayerPeer.CONNECTION_CONNECTED], or [constant MultiplayerPeer.CONNECTION_DISCONNECTED] with
/// [signal relay_error] saying why ([code]room_taken[/code], [code]room_unknown[/code], [code]room_full[/code],
/// [code]refused[/code], [code]timeout[/code], …); a client's [MultiplayerAPI] then emits
/// [signal MultiplayerAPI.connection_failed].
///
/// The topology is Godot's server/client one: the host is peer 1; a client sees only the host, and Godot's server
/// relay ([member SceneMultiplayer.server_relay], on by default) carries what clients send each other. Packets are
/// binary attachments; what the game sends in a frame leaves in one event for the reliable packets and one for the
/// others, after the multiplayer API's poll and at the end of the frame.
/// [constant MultiplayerPeer.TRANSFER_MODE_UNRELIABLE] and [constant MultiplayerPeer.TRANSFER_MODE_UNRELIABLE_ORDERED]
/// are sent as volatile emits (dropped rather than buffered when they cannot be sent now: not connected, or the
/// connection backed up), and the relay drops them for a receiver whose link is backed up;
/// [constant MultiplayerPeer.TRANSFER_MODE_RELIABLE] packets are plain emits, never dropped. Over one Socket.IO
/// connection a sender's packets arrive in order.
///
/// This peer is polled by the [MultiplayerAPI] it is given to, so give it at once, right after [method host] or
/// [method join] (or call [method MultiplayerPeer.poll] yourself). Its poll first polls the namespace's client
/// ([method SocketIOClient.poll]), so that what arrived reaches the multiplayer API in the same frame; polling the
/// client as usual as well (from [code]_process[/code], or a [SocketIOConnection] node) does no harm, and keeps the
/// client's other namespaces and its reconnection going while no peer is set. To try again after a failure, call
/// [method join] again and give the peer again (set [member MultiplayerAPI.multiplayer_peer] to [code]null[/code]
/// first: giving the same peer twice does nothing).
///
/// When the namespace disconnects (the connection was lost, or closed) the room is left: a client's
/// [MultiplayerAPI] emits [signal MultiplayerAPI.server_disconnected], a host's emits
/// [signal MultiplayerAPI.peer_disconnected] for each client. After the namespace connects again, call
/// [method host] or [method join] again (a client gets a new id).
#[derive(GodotClass)]
#[class(init, tool, base = MultiplayerPeerExtension)]
pub struct SocketIOMultiplayerPeer {
    base: Base<MultiplayerPeerExtension>,
    state: RelayPeer,
    namespace: Option<Gd<SocketIONamespace>>,
    inbox: Inbox,
    /// The Callables connected to the namespace's signals, to disconnect them.
    connections: Vec<(Signal, Callable)>,
    /// Numbers `host`/`join` requests, so that a stale answer (after `close()`) is told apart.
    generation: u64,
    /// What `set_target_peer`, `set_transfer_channel` and `set_transfer_mode` set, for the next `put_packet`.
    target: i32,
    channel: i32,
    #[init(val = TransferMode::RELIABLE)]
    mode: TransferMode,
    /// The message of the last `relay_error`.
    last_error: GString,
    /// A deferred `flush_packets` is queued.
    flush_queued: bool,
}

#[godot_api]
impl SocketIOMultiplayerPeer {
    /// Emitted when the relay refuses something or the room ends: [param code] is the relay protocol's
    /// ([code]room_taken[/code], [code]room_unknown[/code], [code]room_full[/code], [code]refused[/code],
    /// [code]host_left[/code], [code]kicked[/code], [code]packet_too_large[/code], [code]rate_limited[/code],
    /// [code]timeout[/code], [code]disconnected[/code], …), [param message] says it in words.
    #[signal]
    fn relay_error(code: GString, message: GString);

    /// Hosts room [param room] on [param namespace] (which the relay is attached to; it may still be connecting):
    /// this game becomes peer 1, the authority. Returns [constant @GlobalScope.OK] when the request is sent;
    /// [constant @GlobalScope.ERR_ALREADY_IN_USE] when this peer is already in a room or asking for one,
    /// [constant @GlobalScope.ERR_INVALID_PARAMETER] for an empty room name or one over 64 bytes, or a namespace
    /// that is no longer its client's.
    #[func]
    fn host(&mut self, namespace: Gd<SocketIONamespace>, room: GString) -> Error {
        let asked = self.state.host(&room.to_string());
        self.ask(namespace, asked)
    }

    /// Joins room [param room] on [param namespace], hosted by another game: this one gets a unique id from the
    /// relay. Returns as [method host] does; a room that does not exist, is full or refuses new peers ends in
    /// [signal relay_error] and [constant MultiplayerPeer.CONNECTION_DISCONNECTED].
    #[func]
    fn join(&mut self, namespace: Gd<SocketIONamespace>, room: GString) -> Error {
        let asked = self.state.join(&room.to_string());
        self.ask(namespace, asked)
    }

    /// The room hosted or joined (also while connecting, and after it ended), or an empty string.
    #[func]
    fn get_room(&self) -> GString {
        GString::from(self.state.room())
    }

    /// The namespace this peer runs over, or [code]null[/code] before [method host] or [method join].
    #[func]
    fn get_namespace(&self) -> Option<Gd<SocketIONamespace>> {
        self.namespace.clone()
    }

    /// The largest packet the relay forwards, in bytes, as its answer to [method host] or [method join] said
    /// (65536 until then, the relay's default). A larger one is refused on this side: [method put_packet] fails with
    /// [constant @GlobalScope.ERR_OUT_OF_MEMORY] and an error naming the limit.
    #[func]
    fn get_max_packet_bytes(&self) -> i32 {
        i32::try_from(self.state.max_packet_bytes()).unwrap_or(i32::MAX)
    }

    /// The last [signal relay_error]'s message, or an empty string.
    #[func]
    fn get_last_error(&self) -> GString {
        self.last_error.clone()
    }
}

impl SocketIOMultiplayerPeer {
    fn ask(&mut self, namespace: Gd<SocketIONamespace>, asked: Result<Emit, PeerError>) -> Error {
        let emit = match asked {
            Ok(emit) => emit,
            Err(error) => {
                godot_error!("SocketIOMultiplayerPeer: {error}");
                return match error {
                    PeerError::Busy => Error::ERR_ALREADY_IN_USE,
                    _ => Error::ERR_INVALID_PARAMETER,
                };
            }
        };
        self.use_namespace(namespace.clone());
        self.generation += 1;
        let generation = self.generation;
        let inbox = self.inbox.clone();
        let answer = Callable::from_fn("socketio_relay_answer", move |args: &[&Variant]| {
            let reply = args
                .first()
                .and_then(|v| v.try_to::<VarArray>().ok())
                .unwrap_or_default();
            inbox.borrow_mut().push_back(Incoming::Answer(generation, reply));
            Variant::nil()
        });
        let mut object = namespace.upcast::<Object>();
        let signal = object.call(
            "request",
            &[
                emit.event.to_variant(),
                args_to_array(&emit.args).to_variant(),
                ANSWER_TIMEOUT.to_variant(),
            ],
        );
        match signal.try_to::<Signal>() {
            Ok(signal) => {
                signal.connect(&answer);
                Error::OK
            }
            Err(_) => {
                self.state.close();
                Error::ERR_CANT_CONNECT
            }
        }
    }

    /// Listens to `namespace`'s signals (once per namespace).
    fn use_namespace(&mut self, namespace: Gd<SocketIONamespace>) {
        if self.namespace.as_ref() == Some(&namespace) {
            return;
        }
        self.disconnect_signals();
        let inbox = self.inbox.clone();
        let on_event = Callable::from_fn("socketio_relay_event", move |args: &[&Variant]| {
            if let [name, data] = args {
                let name = name.to_string();
                if name.starts_with("mp:") {
                    let data = data.try_to::<VarArray>().unwrap_or_default();
                    inbox.borrow_mut().push_back(Incoming::Event(name, data));
                }
            }
            Variant::nil()
        });
        let inbox = self.inbox.clone();
        let on_lost = Callable::from_fn("socketio_relay_lost", move |_: &[&Variant]| {
            inbox.borrow_mut().push_back(Incoming::Lost);
            Variant::nil()
        });
        for (name, callable) in [("event_received", on_event), ("disconnected", on_lost)] {
            let signal = Signal::from_object_signal(&namespace, name);
            signal.connect(&callable);
            self.connections.push((signal, callable));
        }
        self.namespace = Some(namespace);
    }

    fn disconnect_signals(&mut self) {
        for (signal, callable) in self.connections.drain(..) {
            if signal.object().is_some() && signal.is_connected(&callable) {
                signal.disconnect(&callable);
            }
        }
    }

    /// Emits the packets put since the last flush, in batches.
    fn flush_packets(&mut self) {
        self.flush_queued = false;
        while let Some(batch) = self.state.take_batch() {
            self.send(&batch);
        }
    }

    /// The client of the namespace, while it has one.
    fn client(&self) -> Option<Gd<SocketIOClient>> {
        let id = self.namespace.as_ref()?.bind().handle().client;
        Gd::try_from_instance_id(id).ok()
    }

    /// Emits `emit` on the namespace.
    fn send(&mut self, emit: &Emit) {
        let Some(mut namespace) = self.namespace.clone() else {
            return;
        };
        let method = if emit.volatile { "emit_volatile" } else { "emit" };
        namespace.upcast_mut::<Object>().call(
            method,
            &[emit.event.to_variant(), args_to_array(&emit.args).to_variant()],
        );
    }

    /// Takes in what the namespace delivered, then reports the state's events.
    fn take_in(&mut self) {
        loop {
            let next = self.inbox.borrow_mut().pop_front();
            let Some(incoming) = next else { break };
            match incoming {
                Incoming::Event(name, data) => {
                    let args = array_to_values(&data);
                    self.state.on_event(&name, &args);
                }
                Incoming::Answer(generation, reply) if generation == self.generation => {
                    let timed_out = reply.len() == 1 && reply.at(0).try_to::<GString>().is_ok_and(|s| s == "timeout");
                    if timed_out {
                        self.state.on_answer(None);
                    } else {
                        let args = array_to_values(&reply);
                        self.state.on_answer(Some(&args));
                        if let Some(refuse) = self.state.refuse_after_hosting() {
                            self.send(&refuse);
                        }
                    }
                }
                Incoming::Answer(..) => {}
                Incoming::Lost => self.state.on_namespace_lost(),
            }
        }
        while let Some(event) = self.state.take_event() {
            match event {
                PeerEvent::PeerConnected(id) => {
                    self.base_mut()
                        .emit_signal("peer_connected", &[i64::from(id).to_variant()]);
                }
                PeerEvent::PeerDisconnected(id) => {
                    self.base_mut()
                        .emit_signal("peer_disconnected", &[i64::from(id).to_variant()]);
                }
                PeerEvent::Error { code, message } => {
                    self.last_error = GString::from(&message);
                    self.base_mut()
                        .emit_signal("relay_error", &[code.to_variant(), message.to_variant()]);
                }
            }
        }
    }
}

#[godot_api]
impl IMultiplayerPeerExtension for SocketIOMultiplayerPeer {
    fn get_available_packet_count(&self) -> i32 {
        i32::try_from(self.state.packet_count()).unwrap_or(i32::MAX)
    }

    fn get_max_packet_size(&self) -> i32 {
        self.get_max_packet_bytes()
    }

    fn get_packet_script(&mut self) -> PackedByteArray {
        match self.state.take_packet() {
            Some(packet) => PackedByteArray::from(&packet.data[..]),
            None => PackedByteArray::new(),
        }
    }

    fn put_packet_script(&mut self, buffer: PackedByteArray) -> Error {
        let mode = multiplayer::TransferMode::from_i64(i64::from(self.mode.ord()))
            .unwrap_or(multiplayer::TransferMode::Reliable);
        match self
            .state
            .put_packet(buffer.as_slice(), self.target, self.channel, mode)
        {
            Ok(()) => {
                // The frame's packets leave together, in a batch, from a deferred call (after the multiplayer API's
                // poll, and at the end of the frame); the next poll sends what one missed.
                if !self.flush_queued && on_main_thread("SocketIOMultiplayerPeer.put_packet") {
                    self.flush_queued = true;
                    self.run_deferred(|this| this.flush_packets());
                }
                Error::OK
            }
            Err(error) => {
                godot_error!("SocketIOMultiplayerPeer: {error}");
                match error {
                    PeerError::NotConnected => Error::ERR_UNCONFIGURED,
                    PeerError::TooLarge { .. } => Error::ERR_OUT_OF_MEMORY,
                    _ => Error::ERR_INVALID_PARAMETER,
                }
            }
        }
    }

    fn get_packet_channel(&self) -> i32 {
        self.state.peek_packet().map_or(0, |p| p.channel)
    }

    fn get_packet_mode(&self) -> TransferMode {
        self.state
            .peek_packet()
            .and_then(|p| TransferMode::try_from_ord(p.mode as i32))
            .unwrap_or(TransferMode::RELIABLE)
    }

    fn set_transfer_channel(&mut self, channel: i32) {
        self.channel = channel;
    }

    fn get_transfer_channel(&self) -> i32 {
        self.channel
    }

    fn set_transfer_mode(&mut self, mode: TransferMode) {
        self.mode = mode;
    }

    fn get_transfer_mode(&self) -> TransferMode {
        self.mode
    }

    fn set_target_peer(&mut self, peer: i32) {
        self.target = peer;
    }

    fn get_packet_peer(&self) -> i32 {
        self.state.peek_packet().map_or(0, |p| p.from)
    }

    fn is_server(&self) -> bool {
        self.state.role() == multiplayer::Role::Host && self.state.status() != Status::Disconnected
    }

    fn poll(&mut self) {
        self.flush_packets();
        // The client first, so that what it has read reaches the multiplayer API in this poll rather than the
        // next frame's. Its handlers may call into this peer: the guard lets them.
        if let Some(client) = self.client() {
            let _reentrant = self.base_mut();
            SocketIOClient::poll_client(client);
        }
        self.take_in();
    }

    fn close(&mut self) {
        // What the game sent before closing goes first, as it would have without batching.
        self.flush_packets();
        if let Some(leave) = self.state.close() {
            self.send(&leave);
        }
        self.inbox.borrow_mut().clear();
    }

    fn disconnect_peer(&mut self, peer: i32, _force: bool) {
        self.flush_packets();
        match self.state.kick(peer) {
            Ok(kick) => {
                self.send(&kick);
                self.take_in();
            }
            Err(error) => godot_error!("SocketIOMultiplayerPeer.disconnect_peer({peer}): {error}"),
        }
    }

    fn get_unique_id(&self) -> i32 {
        self.state.id()
    }

    fn set_refuse_new_connections(&mut self, enable: bool) {
        self.flush_packets();
        if let Some(refuse) = self.state.set_refusing(enable) {
            self.send(&refuse);
        }
    }

    fn is_refusing_new_connections(&self) -> bool {
        self.state.is_refusing()
    }

    fn is_server_relay_supported(&self) -> bool {
        true
    }

    fn get_connection_status(&self) -> ConnectionStatus {
        match self.state.status() {
            Status::Disconnected => ConnectionStatus::DISCONNECTED,
            Status::Connecting => ConnectionStatus::CONNECTING,
            Status::Connected => ConnectionStatus::CONNECTED,
        }
    }
}

impl Drop for SocketIOMultiplayerPeer {
    fn drop(&mut self) {
        self.disconnect_signals();
    }
}

/// The protocol's arguments (integers, booleans, strings, bytes) as Godot values.
fn args_to_array(args: &[Value]) -> VarArray {
    let mut array = VarArray::new();
    for value in args {
        let variant = match value {
            Value::Int(n) => n.to_variant(),
            Value::Bool(b) => b.to_variant(),
            Value::String(s) => s.to_variant(),
            Value::Binary(b) => PackedByteArray::from(&b[..]).to_variant(),
            _ => Variant::nil(),
        };
        array.push(&variant);
    }
    array
}

/// An event's arguments as the core's values; what cannot be read (it never is, from the relay) becomes null.
fn array_to_values(array: &VarArray) -> Vec<Value> {
    array
        .iter_shared()
        .map(|item| convert::variant_to_value(&item, "relay").unwrap_or(Value::Null))
        .collect()
}
