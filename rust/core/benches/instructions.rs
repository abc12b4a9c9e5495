//! The core's own work per echoed event, for instruction counts (`scripts/instructions.sh` runs it under
//! `valgrind --tool=callgrind` with two event counts and divides the difference): a [`Client`] over an in-memory
//! transport receives `42["echo",{"x":1.5,"y":2,"name":"player"}]` (workload A's event of `scripts/bench.sh`), reads
//! its arguments into values and emits them back, one event per poll, as the plugin does for a GDScript handler that
//! echoes (without the Godot side: Variants, signals, the handler). The socket's own syscalls are not in it.
//!
//! `cargo bench -p socketio-core --bench instructions -- N` (N events, default 10000). Not a criterion bench: it
//! prints the count of events and of bytes sent, so that a run that did nothing is seen.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Instant;

use socketio_core::config::ClientConfig;
use socketio_core::endpoint::Endpoint;
use socketio_core::transport::{Connector, Transport, TransportEvent};
use socketio_core::{Client, ClientEvent, RawPacket, TransportKind};

const OPEN: &str = r#"0{"sid":"eio","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
const EVENT: &str = r#"42["echo",{"x":1.5,"y":2,"name":"player"}]"#;

/// What the "server" sent, not polled yet, and the bytes the client sent.
#[derive(Default)]
struct Wire {
    incoming: VecDeque<TransportEvent>,
    sent_bytes: usize,
}

#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Wire>>);

struct MemoryConnector(Shared);

impl Connector for MemoryConnector {
    type Transport = MemoryTransport;

    fn connect(&mut self, _now: Instant, _endpoint: &Endpoint, _config: &ClientConfig) -> MemoryTransport {
        MemoryTransport(self.0.clone())
    }
}

struct MemoryTransport(Shared);

impl Transport for MemoryTransport {
    type Connector = MemoryConnector;

    fn poll(&mut self, _now: Instant) -> Option<TransportEvent> {
        self.0 .0.borrow_mut().incoming.pop_front()
    }

    fn send(&mut self, packet: RawPacket) {
        let len = match &packet {
            RawPacket::Text(text) => text.len(),
            RawPacket::Binary(bytes) => bytes.len(),
        };
        self.0 .0.borrow_mut().sent_bytes += len;
    }

    fn flush(&mut self) {}

    fn close(&mut self) {}

    fn kind(&self) -> TransportKind {
        TransportKind::WebSocket
    }
}

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let wire = Shared::default();
    let mut client: Client<MemoryTransport> =
        Client::with_connector(ClientConfig::default(), MemoryConnector(wire.clone()));
    let now = Instant::now();
    client.connect_namespace(now, "/", None).expect("namespace");
    client.connect(now, "ws://game.example:3000").expect("url");
    {
        let mut w = wire.0.borrow_mut();
        w.incoming.push_back(TransportEvent::Connected);
        w.incoming
            .push_back(TransportEvent::RawPacket(RawPacket::Text(OPEN.into())));
        w.incoming
            .push_back(TransportEvent::RawPacket(RawPacket::Text(r#"40{"sid":"ns"}"#.into())));
    }
    client.poll(now);
    while client.poll_event().is_some() {}
    let mut echoed = 0;
    for _ in 0..n {
        wire.0
            .borrow_mut()
            .incoming
            .push_back(TransportEvent::RawPacket(RawPacket::Text(EVENT.into())));
        client.poll(now);
        while let Some(event) = client.poll_event() {
            if let ClientEvent::Event {
                namespace, name, args, ..
            } = event
            {
                let values = args.to_values();
                client.emit(now, &namespace, &name, values).expect("emit");
                echoed += 1;
            }
        }
        client.flush();
    }
    let sent = wire.0.borrow().sent_bytes;
    println!("instructions bench: {echoed} of {n} events echoed, {sent} bytes sent");
    assert_eq!(echoed, n, "every event echoed");
}
