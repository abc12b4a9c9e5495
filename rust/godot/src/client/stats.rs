//! The traffic figures: `SocketIOClient.get_stats()`, and the `socketio/*` monitors of Godot's `Performance`
//! singleton, summed over the live clients.
//!
//! The counters are the core's ([`socketio_core::stats`]): a few integer adds on the hot paths, nothing here. The
//! monitors pull: each is a Callable that, when Godot reads it (the debugger samples them about once a second while
//! the editor's Monitors tab is shown; nothing reads them otherwise), sums the live clients' figures. The live
//! clients are a list of instance ids ([`track`], [`untrack`]): a client freed without `untrack` is skipped and
//! dropped from the list at the next read, so the list is a weak one. The singleton is tracked at extension init;
//! a client made with `SocketIOClient.new()` is tracked once it calls `track` (in its `init`).
//!
//! Cost, measured with callgrind on the core alone (a client over a null transport, release build, 50,000 rounds
//! of emit + one received event + poll + drain): 6,951 instructions a round before the counters, 6,958 with them
//! (+0.1%); an idle poll 196 before, 193 with them (layout noise).

use godot::builtin::{Callable, StringName, VarDictionary, Variant};
use godot::classes::{Engine, Performance};
use godot::obj::{Gd, Singleton};
use godot::prelude::{godot_api, ToGodot};
use socketio_core::Stats;

use super::SocketIOClient;
use crate::guard::on_main_thread;

/// The figures, as `get_stats()` keys and `socketio/<key>` monitor names, in this order.
const KEYS: [&str; 11] = [
    "bytes_in",
    "bytes_out",
    "packets_in",
    "packets_out",
    "events_in",
    "events_out",
    "acks_pending",
    "buffered_emits",
    "reconnects",
    "reconnect_attempts",
    "last_ack_round_trip_ms",
];

/// Figure `key` (one of [`KEYS`]) of `stats`: an `int`, or for the round trip a `float` of milliseconds (-1
/// before any ack was answered).
fn figure(stats: &Stats, key: usize) -> Variant {
    let count = match key {
        0 => stats.bytes_in,
        1 => stats.bytes_out,
        2 => stats.packets_in,
        3 => stats.packets_out,
        4 => stats.events_in,
        5 => stats.events_out,
        6 => stats.acks_pending,
        7 => stats.buffered_emits,
        8 => stats.reconnects,
        9 => stats.reconnect_attempts,
        _ => {
            let ms = stats.last_ack_round_trip.map_or(-1.0, |d| d.as_secs_f64() * 1000.0);
            return ms.to_variant();
        }
    };
    i64::try_from(count).unwrap_or(i64::MAX).to_variant()
}

/// The figures of every live client, summed (the round trip: the longest of the clients' last ones). Each client
/// is bound for the read: Godot reads monitors from its main loop (the debugger's sampling) or from GDScript,
/// never while a client method holds its borrow (dispatch releases every borrow before GDScript runs).
fn total() -> Stats {
    let mut sum = Stats::default();
    for client in super::hooks::live_clients() {
        sum.add(&client.bind().registry.core.stats());
    }
    sum
}

fn monitor_name(key: &str) -> StringName {
    StringName::from(&format!("socketio/{key}"))
}

fn performance() -> Option<Gd<Performance>> {
    Engine::singleton()
        .has_singleton("Performance")
        .then(Performance::singleton)
}

/// Adds the `socketio/*` monitors (at extension init, Scene stage). They sum every live client: the shared one and
/// those made with `SocketIOClient.new()` (`hooks`' list).
pub(crate) fn register_monitors() {
    let Some(mut performance) = performance() else { return };
    for (index, key) in KEYS.iter().enumerate() {
        let name = monitor_name(key);
        if !performance.has_custom_monitor(&name) {
            let read = Callable::from_fn(format!("socketio_monitor_{key}"), move |_args: &[&Variant]| {
                figure(&total(), index)
            });
            performance.add_custom_monitor(&name, &read);
        }
    }
}

/// Removes the monitors (at extension deinit).
pub(crate) fn unregister_monitors() {
    let Some(mut performance) = performance() else { return };
    for key in KEYS {
        let name = monitor_name(key);
        if performance.has_custom_monitor(&name) {
            performance.remove_custom_monitor(&name);
        }
    }
}

#[godot_api(secondary)]
impl SocketIOClient {
    /// Returns this client's traffic figures so far, as a [Dictionary] of these keys ([int] values unless said):
    /// [br]- [code]bytes_in[/code], [code]bytes_out[/code]: Engine.IO packet bytes received and sent, as the
    /// transport carries them: over WebSocket, each data message's payload (not the WebSocket frame headers or
    /// TLS); over HTTP long-polling, each packet of a payload as encoded (binary ones as their bytes, not base64),
    /// without the HTTP headers or the separators between packets.
    /// [br]- [code]packets_in[/code], [code]packets_out[/code]: those Engine.IO packets (WebSocket messages), one by
    /// one: Socket.IO packets, each binary attachment, pings and pongs, the handshake (not the upgrade probes).
    /// [br]- [code]events_in[/code]: Socket.IO events received (dispatched to handlers or signals, or dropped by
    /// [method close]: counted as [method poll] takes them); [code]events_out[/code]: events emitted
    /// ([code]emit()[/code], [code]emit_with_ack()[/code], and [code]emit_volatile()[/code] when sent), counted when
    /// emitted, buffered or not. Acks are not events.
    /// [br]- [code]acks_pending[/code]: [code]emit_with_ack()[/code]s waiting for the answer or the timeout.
    /// [br]- [code]buffered_emits[/code]: emits waiting in the namespaces' send buffers until they connect.
    /// [br]- [code]reconnects[/code]: successful automatic reconnections; [code]reconnect_attempts[/code]: the
    /// attempts made (as [signal reconnect_attempt] reports them).
    /// [br]- [code]last_ack_round_trip_ms[/code] ([float]): for the last answered [code]emit_with_ack()[/code], the
    /// milliseconds from the emit to the [method poll] that received the answer (so as fine as the polling), or
    /// [code]-1.0[/code] before any.
    /// [br]The counters go on across reconnections and [method connect_to_url], and never go down.
    ///
    /// The same figures, summed over the live clients, are [Performance] custom monitors named
    /// [code]socketio/<key>[/code] ([code]socketio/bytes_in[/code], [code]socketio/events_in[/code], …; the round
    /// trip is the longest of the clients' last ones), which the editor's Monitors tab plots while the game runs.
    /// Reading the figures costs nothing on the hot paths: the counters are kept anyway, and the monitors are
    /// computed only when Godot reads them.
    #[func]
    fn get_stats(&self) -> VarDictionary {
        let mut dict = VarDictionary::new();
        if !on_main_thread("SocketIOClient.get_stats") {
            return dict;
        }
        let stats = self.registry.core.stats();
        for (index, key) in KEYS.iter().enumerate() {
            dict.set(*key, &figure(&stats, index));
        }
        dict
    }
}
