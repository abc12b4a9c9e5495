//! Slow and awkward links (issue 15): the real socket.io server (tests/server/server.js) behind the impairment proxy
//! of the test harness (tests/common/impair.rs; this kernel has no netem): a mobile link of 300 ms RTT and 64 KiB/s
//! each way with jitter, writes split into tiny segments, a message stalled in the middle, a server that never
//! answers the handshake. Large transfers complete, acks resolve or time out as documented, and no `poll()` blocks.
//!
//! Each of the mobile-link tests prints one `RELIABILITY {json}` line (scripts/reliability.sh makes the table).
//! The transfers take as long as the link needs (a 5 MiB receive at 64 KiB/s is 80 s): this binary is the slow
//! tier of `cargo test`, its tests running side by side.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::impair::{ImpairProxy, Impairment, Mode};
use common::TestServer;
use socketio_core::{AckId, Client, ClientConfig, ClientEvent, DisconnectReason, Value};

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;
/// One way: 150 ms, so an RTT of 300 ms.
const ONE_WAY: Duration = Duration::from_millis(150);
/// 64 KiB/s each way.
const RATE: u64 = 64 * 1024;
/// No `poll()` may take this long: a blocking read or write on this link would take at least a one-way latency.
const POLL_BLOCKS: Duration = Duration::from_millis(100);

fn server_addr(server: &TestServer) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], server.port))
}

fn mobile(server: &TestServer) -> ImpairProxy {
    ImpairProxy::start(
        server_addr(server),
        Mode::Forward,
        Impairment::mobile(ONE_WAY, RATE),
        Impairment::mobile(ONE_WAY, RATE),
    )
}

/// A client and everything it reported, with when, and its longest `poll`.
struct Run {
    client: Client,
    seen: Vec<(Instant, ClientEvent)>,
    worst_poll: Duration,
}

impl Run {
    fn new(config: ClientConfig) -> Run {
        Run {
            client: Client::new(config),
            seen: Vec::new(),
            worst_poll: Duration::ZERO,
        }
    }

    fn connect(config: ClientConfig, url: &str) -> Run {
        let mut run = Run::new(config);
        run.client.connect_namespace(Instant::now(), "/", None).unwrap();
        run.client.connect(Instant::now(), url).unwrap();
        run.until(Duration::from_secs(20), "\"/\" connected", |r| {
            r.any(|e| matches!(e, ClientEvent::NamespaceConnected { .. }))
        });
        run
    }

    fn step(&mut self) {
        let start = Instant::now();
        self.client.poll(start);
        self.worst_poll = self.worst_poll.max(start.elapsed());
        while let Some(event) = self.client.poll_event() {
            self.seen.push((Instant::now(), event));
        }
    }

    fn any(&self, pred: impl Fn(&ClientEvent) -> bool) -> bool {
        self.seen.iter().any(|(_, e)| pred(e))
    }

    fn when(&self, pred: impl Fn(&ClientEvent) -> bool) -> Option<Instant> {
        self.seen.iter().find(|(_, e)| pred(e)).map(|(at, _)| *at)
    }

    fn until(&mut self, timeout: Duration, what: &str, done: impl Fn(&Run) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < timeout,
                "no {what} within {timeout:?}; events: {:?}",
                self.seen.iter().map(|(_, e)| short(e)).collect::<Vec<_>>()
            );
            self.step();
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn for_a_while(&mut self, duration: Duration) {
        let start = Instant::now();
        while start.elapsed() < duration {
            self.step();
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn ack_response(&self, id: AckId) -> Option<Vec<Value>> {
        self.seen.iter().find_map(|(_, e)| match e {
            ClientEvent::AckResponse { id: i, args, .. } if *i == id => Some(args.to_values()),
            _ => None,
        })
    }

    fn ack_events(&self, id: AckId) -> usize {
        self.seen
            .iter()
            .filter(|(_, e)| {
                matches!(e, ClientEvent::AckResponse { id: i, .. } | ClientEvent::AckTimeout { id: i, .. } if *i == id)
            })
            .count()
    }

    fn closed(&self) -> bool {
        self.any(|e| matches!(e, ClientEvent::Closed { .. }))
    }
}

/// An event, briefly (a 5 MiB payload is not printed).
fn short(e: &ClientEvent) -> String {
    match e {
        ClientEvent::Event { name, args, .. } => format!("Event({name}, {} bytes)", args.to_values().len()),
        ClientEvent::AckResponse { id, .. } => format!("AckResponse({id:?})"),
        other => format!("{other:?}"),
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// Byte `i` of the test patterns: `i % 251` (the server's "big" makes the same).
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn print(fault: &str, worst_poll: Duration, took: Duration) {
    println!(
        "RELIABILITY {{\"fault\":\"{fault}\",\"client\":\"plugin\",\"detect_ms\":null,\"recover_ms\":null,\
         \"buffered\":null,\"delivered\":1,\"duplicates\":0,\"missed_without_recovery\":null,\
         \"missed_with_recovery\":null,\"worst_poll_ms\":{},\"completed_ms\":{}}}",
        ms(worst_poll),
        ms(took)
    );
}

/// A 1 MiB binary emit over the mobile link, with socket.io's default heartbeat (25 s + 20 s): it takes some 16 s
/// to go up, its ack resolves, and the server's pings, answered behind it, keep the connection. An ack emitted
/// just after it, with 2 s to answer, times out at 2 s counted from the emit (it waits behind the upload), once:
/// its late answer is dropped. One with 60 s resolves.
#[test]
fn mobile_link_a_1_mib_binary_emit_completes_and_its_ack_resolves() {
    let server = TestServer::start(&[]);
    let proxy = mobile(&server);
    let mut run = Run::connect(ClientConfig::default(), &proxy.url());
    run.worst_poll = Duration::ZERO;

    let data = pattern(MIB);
    let sum = data.iter().fold(0u32, |s, &b| s.wrapping_add(u32::from(b)));
    let start = Instant::now();
    let digest = run
        .client
        .emit_with_ack(
            start,
            "/",
            "digest",
            vec![Value::Binary(Bytes::from(data))],
            Duration::from_secs(60),
        )
        .unwrap();
    let late = run
        .client
        .emit_with_ack(Instant::now(), "/", "ack", vec!["late".into()], Duration::from_secs(2))
        .unwrap();
    let patient = run
        .client
        .emit_with_ack(
            Instant::now(),
            "/",
            "ack",
            vec!["patient".into()],
            Duration::from_secs(60),
        )
        .unwrap();
    run.until(Duration::from_secs(60), "digest ack", |r| {
        r.ack_response(digest).is_some()
    });
    let took = start.elapsed();
    assert_eq!(
        run.ack_response(digest),
        Some(vec![Value::Int(MIB as i64), Value::Int(i64::from(sum))]),
        "the server got the 1 MiB intact"
    );
    // At 64 KiB/s a megabyte takes 16 s: the link really was slow (the proxy is not a no-op).
    assert!(took >= Duration::from_secs(14), "1 MiB took only {took:?}");
    let timed_out = run
        .when(|e| matches!(e, ClientEvent::AckTimeout { id, .. } if *id == late))
        .expect("the 2 s ack timed out");
    let after = timed_out - start;
    assert!(
        after >= Duration::from_secs(2) && after < Duration::from_secs(3),
        "the 2 s ack timed out after {after:?}, counted from its emit"
    );
    run.until(Duration::from_secs(10), "the patient ack", |r| {
        r.ack_response(patient).is_some()
    });
    assert_eq!(run.ack_response(patient), Some(vec!["patient".into()]));
    // The late answer came (the server answers in order: just before the patient one) and was dropped.
    run.for_a_while(Duration::from_millis(500));
    assert_eq!(
        run.ack_events(late),
        1,
        "the timed-out ack reported once, its late answer dropped"
    );
    assert!(
        !run.closed(),
        "the connection held: {:?}",
        run.seen.iter().map(|(_, e)| short(e)).collect::<Vec<_>>()
    );
    assert!(run.worst_poll < POLL_BLOCKS, "a poll took {:?}", run.worst_poll);
    print("slow link 300 ms RTT 64 KiB/s: 1 MiB binary emit", run.worst_poll, took);
}

/// A 5 MiB binary message received over the mobile link. It takes some 80 s to come down, and the server's PING
/// waits behind it all that time: the heartbeat has to allow it, with any Socket.IO client (with socket.io's
/// default 20 s ping timeout the server would drop the connection), so this server's is 120 s.
#[test]
fn mobile_link_a_5_mib_receive_completes() {
    let server = TestServer::start(&["--ping-interval", "25000", "--ping-timeout", "120000"]);
    let proxy = mobile(&server);
    let mut run = Run::connect(ClientConfig::default(), &proxy.url());
    run.worst_poll = Duration::ZERO;
    let start = Instant::now();
    run.client
        .emit(start, "/", "big", vec![Value::Int(5 * MIB as i64), "binary".into()])
        .unwrap();
    let is_big = |e: &ClientEvent| matches!(e, ClientEvent::Event { name, .. } if name == "big");
    run.until(Duration::from_secs(150), "5 MiB \"big\" event", |r| r.any(is_big));
    let took = start.elapsed();
    let args = run
        .seen
        .iter()
        .find_map(|(_, e)| match e {
            ClientEvent::Event { name, args, .. } if name == "big" => Some(args.to_values()),
            _ => None,
        })
        .expect("big");
    match args.as_slice() {
        [Value::Binary(b)] => assert!(b[..] == pattern(5 * MIB)[..], "5 MiB intact"),
        other => panic!("unexpected arguments: {} values", other.len()),
    }
    assert!(took >= Duration::from_secs(70), "5 MiB took only {took:?}");
    // And the link still works: a small ack round trip.
    let id = run
        .client
        .emit_with_ack(Instant::now(), "/", "ack", vec![1.into()], Duration::from_secs(10))
        .unwrap();
    run.until(Duration::from_secs(10), "ack after the transfer", |r| {
        r.ack_response(id).is_some()
    });
    assert!(!run.closed());
    assert!(run.worst_poll < POLL_BLOCKS, "a poll took {:?}", run.worst_poll);
    print("slow link 300 ms RTT 64 KiB/s: 5 MiB receive", run.worst_poll, took);
}

/// Every write split into pieces of 1 to 3 bytes each way, and the server's big message stalled for 3 s in the
/// middle (within the heartbeat): the message and the events around it arrive whole, in order, and nothing blocks.
#[test]
fn tiny_segments_and_a_stall_mid_message() {
    let server = TestServer::start(&[]);
    let tiny = |segment, stall| Impairment {
        segment: Some(segment),
        stall,
        ..Impairment::default()
    };
    let proxy = ImpairProxy::start(
        server_addr(&server),
        Mode::Forward,
        tiny(1, None),
        // The handshake and welcome go through first; the stall falls inside the 64 KiB message.
        tiny(3, Some((40 * KIB as u64, Duration::from_secs(3)))),
    );
    let mut run = Run::connect(ClientConfig::default(), &proxy.url());
    run.worst_poll = Duration::ZERO;
    let start = Instant::now();
    run.client.emit(start, "/", "echo", vec![0.into()]).unwrap();
    run.client
        .emit(
            Instant::now(),
            "/",
            "big",
            vec![Value::Int(64 * KIB as i64), "string".into()],
        )
        .unwrap();
    run.client.emit(Instant::now(), "/", "echo", vec![1.into()]).unwrap();
    let names = |r: &Run| -> Vec<String> {
        r.seen
            .iter()
            .filter_map(|(_, e)| match e {
                ClientEvent::Event { name, .. } if name != "welcome" => Some(name.clone()),
                _ => None,
            })
            .collect()
    };
    run.until(Duration::from_secs(60), "echo, big, echo", |r| names(r).len() >= 3);
    let took = start.elapsed();
    assert_eq!(names(&run), ["echo", "big", "echo"], "in order");
    let big = run
        .seen
        .iter()
        .find_map(|(_, e)| match e {
            ClientEvent::Event { name, args, .. } if name == "big" => Some(args.to_values()),
            _ => None,
        })
        .expect("big");
    assert_eq!(big, vec![Value::String("x".repeat(64 * KIB))], "whole");
    assert!(took >= Duration::from_secs(3), "the stall happened ({took:?})");
    assert!(proxy.counters.down.load(std::sync::atomic::Ordering::Relaxed) > 64 * KIB as u64);
    assert!(!run.closed());
    assert!(run.worst_poll < POLL_BLOCKS, "a poll took {:?}", run.worst_poll);
}

/// A server that accepts the TCP connection and then says nothing: the connect timeout (1 s here) ends the
/// attempt with a transport error naming it, at that time, and a reconnection attempt is scheduled; the namespace
/// waiting gets its transport error too.
#[test]
fn connect_timeout_ends_a_handshake_that_never_comes() {
    let server = TestServer::start(&[]);
    let proxy = ImpairProxy::start(
        server_addr(&server),
        Mode::BlackHole,
        Impairment::default(),
        Impairment::default(),
    );
    let config = ClientConfig {
        connect_timeout: Duration::from_secs(1),
        ..ClientConfig::default()
    };
    let mut run = Run::new(config);
    run.client.connect_namespace(Instant::now(), "/", None).unwrap();
    let start = Instant::now();
    run.client.connect(start, &proxy.url()).unwrap();
    run.until(Duration::from_secs(5), "transport error", |r| {
        r.any(|e| matches!(e, ClientEvent::TransportError(_)))
    });
    let after = run
        .when(|e| matches!(e, ClientEvent::TransportError(_)))
        .expect("error")
        - start;
    assert!(
        after >= Duration::from_secs(1) && after < Duration::from_millis(1500),
        "the connect timeout fired after {after:?}"
    );
    let error = run
        .seen
        .iter()
        .find_map(|(_, e)| match e {
            ClientEvent::TransportError(err) => Some(err.message.clone()),
            _ => None,
        })
        .unwrap();
    assert!(error.contains("timeout"), "the error names the timeout: {error:?}");
    run.until(Duration::from_secs(2), "reconnect attempt", |r| {
        r.any(|e| matches!(e, ClientEvent::ReconnectAttempt { attempt: 1, .. }))
    });
    assert!(run.any(|e| matches!(e, ClientEvent::NamespaceTransportError { namespace, .. } if namespace == "/")));
    assert!(proxy.counters.connections.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    assert!(run.worst_poll < POLL_BLOCKS, "a poll took {:?}", run.worst_poll);
}

/// Over the mobile link the handshake takes several round trips: a connect timeout shorter than those fails, one
/// longer succeeds; neither blocks.
#[test]
fn mobile_link_connect_timeout_counts_the_whole_handshake() {
    let server = TestServer::start(&[]);
    let proxy = mobile(&server);
    let mut short_config = ClientConfig {
        connect_timeout: Duration::from_millis(200),
        ..ClientConfig::default()
    };
    short_config.reconnect.enabled = false;
    let mut run = Run::new(short_config);
    run.client.connect_namespace(Instant::now(), "/", None).unwrap();
    run.client.connect(Instant::now(), &proxy.url()).unwrap();
    run.until(Duration::from_secs(5), "transport error", |r| {
        r.any(|e| matches!(e, ClientEvent::TransportError(_)))
    });
    assert!(!run.any(|e| matches!(e, ClientEvent::Open { .. })));

    let start = Instant::now();
    let run = Run::connect(ClientConfig::default(), &proxy.url());
    let open = run.when(|e| matches!(e, ClientEvent::Open { .. })).expect("open") - start;
    // The WebSocket upgrade and the Engine.IO open: at least one round trip of 300 ms.
    assert!(open >= Duration::from_millis(300), "opened after {open:?}");
    assert!(!run.any(|e| matches!(
        e,
        ClientEvent::Closed {
            reason: DisconnectReason::PingTimeout,
            ..
        }
    )));
}

/// The same mobile-link transfers with socket.io-client (Node) as the client, through the same proxy:
/// tests/reliability/slow-link-client.js. Its RELIABILITY line is passed on; its OUTCOME line is checked here.
fn node_client(mode: &str, server_args: &[&str]) -> serde_json::Value {
    let root = common::repo_root();
    assert!(
        root.join("bench/node/node_modules/socket.io-client").is_dir(),
        "socket.io-client is not installed: run `npm ci` in bench/node (scripts/setup-node.sh does)"
    );
    let server = TestServer::start(server_args);
    let proxy = mobile(&server);
    let out = std::process::Command::new("node")
        .arg(root.join("tests/reliability/slow-link-client.js"))
        .args(["--url", &proxy.url(), "--mode", mode])
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("run node tests/reliability/slow-link-client.js");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "slow-link-client.js failed: {stdout}");
    let line = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix}line in {stdout}"))
            .to_owned()
    };
    println!("RELIABILITY {}", line("RELIABILITY "));
    serde_json::from_str(&line("OUTCOME ")).expect("OUTCOME json")
}

#[test]
fn node_client_mobile_link_a_1_mib_binary_emit() {
    let out = node_client("emit", &[]);
    assert_eq!(out["digest"][0], MIB as u64, "{out}");
    assert_eq!(out["digest"][1], out["expected_sum"], "{out}");
    assert_eq!(out["late_calls"], serde_json::json!(["timeout"]), "{out}");
    assert_eq!(out["patient"], serde_json::json!(["patient"]), "{out}");
    assert_eq!(out["disconnects"], serde_json::json!([]), "{out}");
}

#[test]
fn node_client_mobile_link_a_5_mib_receive() {
    let out = node_client("receive", &["--ping-interval", "25000", "--ping-timeout", "120000"]);
    assert_eq!(out["length"], 5 * MIB as u64, "{out}");
    assert_eq!(out["intact"], true, "{out}");
    assert_eq!(out["disconnects"], serde_json::json!([]), "{out}");
}
