// Over 600 lines: the scripted transport and its rig first, then one scenario per test, each read top to bottom.

//! `Client` over a scripted in-memory transport, on a made-up clock: every call the client makes to its transport
//! is recorded, and every packet the "server" sends is queued by the test. No socket, no sleep, no thread: each
//! scenario is replayed exactly (only the decode budget of one poll reads the real clock).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

use socketio_core::config::ClientConfig;
use socketio_core::endpoint::Endpoint;
use socketio_core::error::{ConnectFailure, DnsFailure, TransportEnd};
use socketio_core::transport::{Connector, Transport, TransportEvent};
use socketio_core::{
    Client, ClientEvent, ConnectError, ConnectionState, DisconnectReason, RawPacket, TransportKind, Value,
};

// ----- the scripted transport ------------------------------------------------------------------------------------

/// One call the client made to a transport.
#[derive(Debug, Clone, PartialEq)]
enum Call {
    LimitReads,
    /// A `poll`, and whether it returned an event.
    Poll(Instant, bool),
    Send(RawPacket),
    Flush,
    Close,
    /// The transport was dropped.
    Dropped,
}

/// One connection the client asked the connector for.
struct Connection {
    opened_at: Instant,
    url: String,
    /// What the "server" has sent, not polled yet.
    incoming: VecDeque<TransportEvent>,
    calls: Vec<Call>,
    /// What the transport answers to `is_backlogged`.
    backlogged: bool,
}

/// The test's handle on every connection: shared with the connector and the transports it made.
#[derive(Clone, Default)]
struct Script(Rc<RefCell<Vec<Connection>>>);

impl Script {
    fn connections(&self) -> usize {
        self.0.borrow().len()
    }

    fn opened_at(&self, index: usize) -> Instant {
        self.0.borrow()[index].opened_at
    }

    fn url(&self, index: usize) -> String {
        self.0.borrow()[index].url.clone()
    }

    /// Queues `event` on the latest connection.
    fn push(&self, event: TransportEvent) {
        let mut connections = self.0.borrow_mut();
        connections.last_mut().expect("a connection").incoming.push_back(event);
    }

    /// Queues a text packet from the server on the latest connection.
    fn text(&self, text: &str) {
        self.push(TransportEvent::RawPacket(RawPacket::Text(text.into())));
    }

    fn pending(&self, index: usize) -> usize {
        self.0.borrow()[index].incoming.len()
    }

    /// The calls made to connection `index` since the last `take_calls` of it.
    fn take_calls(&self, index: usize) -> Vec<Call> {
        std::mem::take(&mut self.0.borrow_mut()[index].calls)
    }

    /// The texts sent on connection `index` since the last `take_calls` (the calls are taken).
    fn take_sent(&self, index: usize) -> Vec<String> {
        self.take_calls(index)
            .into_iter()
            .filter_map(|call| match call {
                Call::Send(RawPacket::Text(text)) => Some(text.to_string()),
                _ => None,
            })
            .collect()
    }
}

struct ScriptedConnector(Script);

impl Connector for ScriptedConnector {
    type Transport = ScriptedTransport;

    fn connect(&mut self, now: Instant, endpoint: &Endpoint, _config: &ClientConfig) -> ScriptedTransport {
        let mut connections = self.0 .0.borrow_mut();
        connections.push(Connection {
            opened_at: now,
            url: endpoint.ws_url().to_owned(),
            incoming: VecDeque::new(),
            calls: Vec::new(),
            backlogged: false,
        });
        ScriptedTransport {
            script: self.0.clone(),
            index: connections.len() - 1,
        }
    }
}

struct ScriptedTransport {
    script: Script,
    index: usize,
}

impl ScriptedTransport {
    fn record(&self, call: Call) {
        self.script.0.borrow_mut()[self.index].calls.push(call);
    }
}

impl Transport for ScriptedTransport {
    type Connector = ScriptedConnector;

    fn limit_reads(&mut self) {
        self.record(Call::LimitReads);
    }

    fn poll(&mut self, now: Instant) -> Option<TransportEvent> {
        let event = self.script.0.borrow_mut()[self.index].incoming.pop_front();
        self.record(Call::Poll(now, event.is_some()));
        event
    }

    fn send(&mut self, packet: RawPacket) {
        self.record(Call::Send(packet));
    }

    fn flush(&mut self) {
        self.record(Call::Flush);
    }

    fn close(&mut self) {
        self.record(Call::Close);
    }

    fn kind(&self) -> TransportKind {
        TransportKind::WebSocket
    }

    fn is_backlogged(&self) -> bool {
        self.script.0.borrow()[self.index].backlogged
    }
}

impl Drop for ScriptedTransport {
    fn drop(&mut self) {
        self.record(Call::Dropped);
    }
}

// ----- the rig ---------------------------------------------------------------------------------------------------

const URL: &str = "ws://game.example:3000";
const OPEN: &str = r#"0{"sid":"eio","upgrades":[],"pingInterval":1000,"pingTimeout":500,"maxPayload":1000000}"#;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn text(s: &str) -> RawPacket {
    RawPacket::Text(s.into())
}

/// A scripted client and its clock's origin.
struct Rig {
    client: Client<ScriptedTransport>,
    script: Script,
    t0: Instant,
}

impl Rig {
    fn new(mut config: ClientConfig) -> Rig {
        config.reconnect.randomization = 0.0;
        let script = Script::default();
        let client = Client::with_connector(config, ScriptedConnector(script.clone()));
        Rig {
            client,
            script,
            t0: Instant::now(),
        }
    }

    fn at(&self, ms_since_t0: u64) -> Instant {
        self.t0 + ms(ms_since_t0)
    }

    /// Polls at `t0 + ms_since_t0`; returns the events of that poll.
    fn poll(&mut self, ms_since_t0: u64) -> Vec<ClientEvent> {
        self.client.poll(self.at(ms_since_t0));
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }

    /// Joins "/" and connects at t0 (nothing polled yet).
    fn start(config: ClientConfig) -> Rig {
        let mut rig = Rig::new(config);
        rig.client.connect_namespace(rig.t0, "/", None).unwrap();
        rig.client.connect(rig.t0, URL).unwrap();
        rig
    }

    /// Connected, with "/" joined (sid "ns-1"), at t0; the calls so far are taken.
    fn connected(config: ClientConfig) -> Rig {
        let mut rig = Rig::start(config);
        rig.script.push(TransportEvent::Connected);
        rig.script.text(OPEN);
        rig.script.text(r#"40{"sid":"ns-1"}"#);
        let events = rig.poll(0);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ClientEvent::NamespaceConnected { .. })),
            "{events:#?}"
        );
        rig.script.take_calls(0);
        rig
    }
}

// ----- scenarios -------------------------------------------------------------------------------------------------

#[test]
fn a_volatile_emit_is_dropped_while_the_transport_is_backlogged() {
    let mut rig = Rig::connected(ClientConfig::default());
    assert_eq!(
        rig.client.emit_volatile(rig.at(1), "/", "pos", vec![Value::Int(1)]),
        Ok(true)
    );
    assert_eq!(rig.script.take_sent(0), [r#"42["pos",1]"#]);
    rig.script.0.borrow_mut()[0].backlogged = true;
    assert_eq!(
        rig.client.emit_volatile(rig.at(2), "/", "pos", vec![Value::Int(2)]),
        Ok(false)
    );
    // Still refused as an emit is (a bad name, an unknown namespace); a plain emit still queues.
    assert!(rig.client.emit_volatile(rig.at(2), "/", "", vec![]).is_err());
    assert!(rig.client.emit_volatile(rig.at(2), "/nowhere", "pos", vec![]).is_err());
    rig.client.emit(rig.at(2), "/", "chat", vec!["kept".into()]).unwrap();
    assert_eq!(rig.script.take_sent(0), [r#"42["chat","kept"]"#]);
    rig.script.0.borrow_mut()[0].backlogged = false;
    assert_eq!(
        rig.client.emit_volatile(rig.at(3), "/", "pos", vec![Value::Int(3)]),
        Ok(true)
    );
    assert_eq!(rig.script.take_sent(0), [r#"42["pos",3]"#]);
}

#[test]
fn handshake_namespace_emit_ack_ping_and_close() {
    let mut rig = Rig::start(ClientConfig::default());
    assert_eq!(rig.script.connections(), 1, "connect opens a transport at once");
    assert_eq!(rig.script.opened_at(0), rig.t0);
    assert_eq!(
        rig.script.url(0),
        "ws://game.example:3000/socket.io/?EIO=4&transport=websocket"
    );
    assert_eq!(rig.client.state(), ConnectionState::Connecting);

    // Nothing from the server yet: one poll reads, finds nothing, flushes.
    assert_eq!(rig.poll(5), []);
    assert_eq!(
        rig.script.take_calls(0),
        [Call::LimitReads, Call::Poll(rig.at(5), false), Call::Flush]
    );

    // The Engine.IO handshake: the CONNECT of "/" goes out within the same poll, before the flush.
    rig.script.push(TransportEvent::Connected);
    rig.script.text(OPEN);
    assert_eq!(
        rig.poll(10),
        [ClientEvent::Open {
            sid: "eio".into(),
            transport: socketio_core::TransportKind::WebSocket
        }]
    );
    let t = rig.at(10);
    assert_eq!(
        rig.script.take_calls(0),
        [
            Call::LimitReads,
            Call::Poll(t, true),
            Call::Poll(t, true),
            Call::Send(text("40")),
            Call::Poll(t, false),
            Call::Flush,
        ]
    );
    assert_eq!(rig.client.engine_sid(), Some("eio"));

    rig.script.text(r#"40{"sid":"ns-1"}"#);
    assert_eq!(
        rig.poll(20),
        [ClientEvent::NamespaceConnected {
            namespace: "/".into(),
            sid: "ns-1".into(),
            recovered: false
        }]
    );
    assert_eq!(rig.client.state(), ConnectionState::Connected);
    rig.script.take_calls(0);

    // An emit is handed to the transport at once, and written by the next flush, not before.
    rig.client.emit(rig.at(21), "/", "chat", vec!["hi".into()]).unwrap();
    let id = rig
        .client
        .emit_with_ack(rig.at(21), "/", "question", vec![Value::Int(1)], ms(5000))
        .unwrap();
    assert_eq!(
        rig.script.take_calls(0),
        [
            Call::Send(text(r#"42["chat","hi"]"#)),
            Call::Send(text(&format!(r#"42{id}["question",1]"#))),
        ]
    );
    rig.client.flush();
    assert_eq!(rig.script.take_calls(0), [Call::Flush]);

    // The server answers the ack, asks for one, and pings.
    rig.script.text(&format!("43{id}[2]"));
    rig.script.text(r#"427["ask",3]"#);
    rig.script.text("2");
    let events = rig.poll(30);
    assert_eq!(events.len(), 2, "{events:#?}");
    match &events[0] {
        ClientEvent::AckResponse {
            namespace,
            id: got,
            args,
        } => {
            assert_eq!((namespace.as_str(), *got), ("/", id));
            assert_eq!(args.to_values(), [Value::Int(2)]);
        }
        other => panic!("expected the ack response, got {other:?}"),
    }
    let request = match &events[1] {
        ClientEvent::Event {
            name,
            args,
            ack: Some(request),
            ..
        } if name == "ask" => {
            assert_eq!(args.to_values(), [Value::Int(3)]);
            *request
        }
        other => panic!("expected the event with an ack request, got {other:?}"),
    };
    assert_eq!(request.id, 7);
    assert_eq!(rig.script.take_sent(0), ["3"], "the pong, in the same poll");
    rig.client
        .send_ack(rig.at(31), "/", request, vec!["yes".into()])
        .unwrap();
    assert_eq!(rig.script.take_sent(0), [r#"437["yes"]"#]);

    // Closing sends the namespace's DISCONNECT, then closes the transport and lets go of it.
    rig.client.close(rig.at(40));
    assert_eq!(
        rig.script.take_calls(0),
        [Call::Send(text("41")), Call::Close, Call::Dropped]
    );
    let events: Vec<ClientEvent> = std::iter::from_fn(|| rig.client.poll_event()).collect();
    assert_eq!(
        events,
        [
            ClientEvent::NamespaceDisconnected {
                namespace: "/".into(),
                reason: DisconnectReason::IoClientDisconnect,
                was_connected: true
            },
            ClientEvent::Closed {
                reason: DisconnectReason::IoClientDisconnect,
                cause: None
            },
        ]
    );
    assert_eq!(rig.client.state(), ConnectionState::Disconnected);
    assert_eq!(rig.poll(10_000), [], "no reconnection after close");
    assert_eq!(rig.script.connections(), 1);
}

#[test]
fn ping_timeout_then_reconnection_with_backoff() {
    let mut rig = Rig::connected(ClientConfig::default());
    // pingInterval 1000 + pingTimeout 500 after the handshake at t0.
    assert_eq!(rig.poll(1499), []);
    let events = rig.poll(1500);
    assert_eq!(
        events,
        [
            ClientEvent::NamespaceDisconnected {
                namespace: "/".into(),
                reason: DisconnectReason::PingTimeout,
                was_connected: true
            },
            ClientEvent::Closed {
                reason: DisconnectReason::PingTimeout,
                cause: None
            },
            ClientEvent::ReconnectAttempt {
                attempt: 1,
                delay: ms(1000)
            },
        ]
    );
    let calls = rig.script.take_calls(0);
    assert_eq!(
        &calls[calls.len() - 2..],
        [Call::Close, Call::Dropped],
        "the timed-out transport is closed: {calls:?}"
    );

    // The first attempt waits out its delay, to the instant.
    assert_eq!(rig.poll(2499), []);
    assert_eq!(rig.script.connections(), 1);
    assert_eq!(rig.poll(2500), []);
    assert_eq!(rig.script.connections(), 2);
    assert_eq!(rig.script.opened_at(1), rig.at(2500));

    // It succeeds: "/" rejoins on the new transport.
    rig.script.push(TransportEvent::Connected);
    rig.script.text(OPEN);
    assert_eq!(
        rig.poll(2510),
        [
            ClientEvent::Open {
                sid: "eio".into(),
                transport: socketio_core::TransportKind::WebSocket
            },
            ClientEvent::Reconnected { attempt: 1 }
        ]
    );
    assert_eq!(rig.script.take_sent(1), ["40"]);
    assert_eq!(rig.script.take_calls(0), [], "nothing more for the old transport");

    // The transport ends by itself (the server closed it): the client lets go of it without closing it.
    rig.script.push(TransportEvent::Closed(TransportEnd::Closed));
    let events = rig.poll(2600);
    assert_eq!(
        events,
        [
            ClientEvent::Closed {
                reason: DisconnectReason::TransportClose,
                cause: None
            },
            ClientEvent::ReconnectAttempt {
                attempt: 1,
                delay: ms(1000)
            },
        ]
    );
    assert_eq!(
        rig.script.take_calls(1),
        [Call::LimitReads, Call::Poll(rig.at(2600), true), Call::Dropped]
    );

    // The next attempt cannot connect: the second delay doubles.
    assert_eq!(rig.poll(3600), []);
    assert_eq!(rig.script.connections(), 3);
    let dns = ConnectFailure::Dns(DnsFailure::NoAddress {
        host: "game.example".into(),
    });
    rig.script
        .push(TransportEvent::Closed(TransportEnd::ConnectFailed(dns)));
    assert_eq!(
        rig.poll(3610),
        [
            ClientEvent::TransportError(ConnectError {
                message: "DNS lookup of game.example found no address".into(),
                data: None
            }),
            // The main namespace was waiting for this connection: it is told too.
            ClientEvent::NamespaceTransportError {
                namespace: "/".into(),
                error: ConnectError {
                    message: "DNS lookup of game.example found no address".into(),
                    data: None
                }
            },
            ClientEvent::ReconnectAttempt {
                attempt: 2,
                delay: ms(2000)
            },
        ]
    );
    assert_eq!(
        rig.client.last_error(),
        Some("DNS lookup of game.example found no address")
    );
    assert_eq!(rig.poll(5609), []);
    assert_eq!(rig.script.connections(), 3);
    assert_eq!(rig.poll(5610), []);
    assert_eq!(rig.script.opened_at(3), rig.at(5610));
}

#[test]
fn connect_timeout_closes_the_transport_and_gives_up_after_max_attempts() {
    let mut config = ClientConfig {
        connect_timeout: ms(3000),
        ..ClientConfig::default()
    };
    config.reconnect.max_attempts = Some(1);
    let mut rig = Rig::start(config);
    // The transport opens, but no Engine.IO handshake comes.
    rig.script.push(TransportEvent::Connected);
    assert_eq!(rig.poll(2999), []);
    assert_eq!(
        rig.poll(3000),
        [
            ClientEvent::TransportError(ConnectError {
                message: "timeout".into(),
                data: None
            }),
            // The main namespace was waiting for this connection: it is told too.
            ClientEvent::NamespaceTransportError {
                namespace: "/".into(),
                error: ConnectError {
                    message: "timeout".into(),
                    data: None
                }
            },
            ClientEvent::ReconnectAttempt {
                attempt: 1,
                delay: ms(1000)
            },
        ]
    );
    let calls = rig.script.take_calls(0);
    assert_eq!(&calls[calls.len() - 2..], [Call::Close, Call::Dropped], "{calls:?}");

    assert_eq!(rig.poll(4000), []);
    assert_eq!(rig.script.connections(), 2);
    assert_eq!(rig.script.opened_at(1), rig.at(4000));
    // The attempt's own connect timeout runs from its start.
    assert_eq!(rig.poll(6999), []);
    assert_eq!(
        rig.poll(7000),
        [
            ClientEvent::TransportError(ConnectError {
                message: "timeout".into(),
                data: None
            }),
            ClientEvent::NamespaceTransportError {
                namespace: "/".into(),
                error: ConnectError {
                    message: "timeout".into(),
                    data: None
                }
            },
            ClientEvent::ReconnectFailed { attempts: 1 },
        ]
    );
    assert_eq!(rig.client.state(), ConnectionState::Disconnected);
    assert_eq!(rig.poll(100_000), []);
    assert_eq!(rig.script.connections(), 2);
}

#[test]
fn a_message_over_the_cap_is_a_parse_error_and_the_client_reconnects() {
    let mut rig = Rig::connected(ClientConfig::default());
    rig.script.push(TransportEvent::Closed(TransportEnd::MessageTooLarge {
        size: 20 << 20,
        max: 16 << 20,
    }));
    let events = rig.poll(100);
    let cause = "message of 20971520 bytes, larger than max_message_size (16777216 bytes)";
    assert!(
        events.contains(&ClientEvent::Closed {
            reason: DisconnectReason::ParseError,
            cause: Some(cause.into())
        }),
        "{events:#?}"
    );
    assert_eq!(rig.client.last_error(), Some(cause));
    assert_eq!(rig.poll(1100), []);
    assert_eq!(rig.script.connections(), 2);
}

#[test]
fn connecting_again_closes_the_transport_in_use_first() {
    let mut rig = Rig::connected(ClientConfig::default());
    rig.client.connect(rig.at(50), "ws://other.example").unwrap();
    assert_eq!(
        rig.script.take_calls(0),
        [Call::Send(text("41")), Call::Close, Call::Dropped]
    );
    assert_eq!(rig.script.connections(), 2);
    assert_eq!(rig.script.opened_at(1), rig.at(50));
    assert_eq!(
        rig.script.url(1),
        "ws://other.example/socket.io/?EIO=4&transport=websocket"
    );
    assert_eq!(rig.client.url(), "ws://other.example");
}

#[test]
fn every_poll_starts_its_read_budget_first_and_flushes_last() {
    let mut rig = Rig::connected(ClientConfig::default());
    rig.script.text("2");
    rig.script.text(r#"42["news",1]"#);
    for step in 1..=3 {
        let events = rig.poll(step * 10);
        let calls = rig.script.take_calls(0);
        assert_eq!(calls.first(), Some(&Call::LimitReads), "poll {step}: {calls:?}");
        assert_eq!(calls.last(), Some(&Call::Flush), "poll {step}: {calls:?}");
        assert_eq!(
            calls
                .iter()
                .filter(|c| matches!(c, Call::LimitReads | Call::Flush))
                .count(),
            2,
            "poll {step}: {calls:?}"
        );
        if step == 1 {
            // Both packets in one poll: the pong is sent before the next read.
            let t = rig.at(10);
            assert_eq!(
                calls,
                [
                    Call::LimitReads,
                    Call::Poll(t, true),
                    Call::Send(text("3")),
                    Call::Poll(t, true),
                    Call::Poll(t, false),
                    Call::Flush,
                ]
            );
            assert_eq!(events.len(), 1, "{events:#?}");
        } else {
            assert_eq!(events, []);
        }
    }
}

#[test]
fn one_poll_takes_at_most_max_events_per_poll() {
    // client.rs's MAX_EVENTS_PER_POLL, pinned here.
    const MAX_EVENTS_PER_POLL: usize = 20_000;
    let mut rig = Rig::connected(ClientConfig::default());
    for _ in 0..MAX_EVENTS_PER_POLL + 5 {
        rig.script.text("2");
    }
    assert_eq!(rig.poll(10), []);
    assert_eq!(rig.script.pending(0), 5, "the rest waits for the next poll");
    assert_eq!(rig.script.take_sent(0).len(), MAX_EVENTS_PER_POLL);
    assert_eq!(rig.poll(20), []);
    assert_eq!(rig.script.pending(0), 0);
    assert_eq!(rig.script.take_sent(0), ["3"; 5]);
}

#[test]
fn a_large_message_is_decoded_over_several_polls_and_what_follows_waits_for_it() {
    let mut config = ClientConfig::default();
    config.limits.max_message_bytes = 64 << 20;
    let mut rig = Rig::connected(config);
    // 16 MiB of the densest JSON: some 60 ms of checking on a 2-core VM, far past one poll's 2 ms.
    let count = 8 << 20;
    let mut big = String::with_capacity(2 * count + 16);
    big.push_str(r#"42["big",["#);
    for i in 0..count {
        big.push_str(if i == 0 { "1" } else { ",1" });
    }
    big.push_str("]]");
    rig.script.text(&big);
    rig.script.text(r#"42["after",2]"#);

    let mut polls = 0;
    let mut events = Vec::new();
    while events.is_empty() {
        polls += 1;
        assert!(polls < 10_000, "never decoded");
        events = rig.poll(polls);
        if events.is_empty() {
            assert_eq!(
                rig.script.pending(0),
                1,
                "poll {polls}: the next packet waits in the transport"
            );
        }
    }
    assert!(polls >= 2, "a 16 MiB message was checked within one poll's budget");
    let names: Vec<&str> = events
        .iter()
        .map(|e| match e {
            ClientEvent::Event { name, .. } => name.as_str(),
            other => panic!("expected events, got {other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        ["big", "after"],
        "in order, the second in the poll that finished the first"
    );
    match &events[0] {
        ClientEvent::Event { args, .. } => {
            assert_eq!(args.len(), 1, "one argument: the array");
            assert!(args.json_len() >= 2 * count - 1, "{} bytes", args.json_len());
        }
        _ => unreachable!(),
    }
    assert_eq!(rig.script.pending(0), 0);
}
