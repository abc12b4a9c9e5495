//! A cluster failing over (issue 15): two real socket.io servers (tests/server/server.js) sharing a real redis
//! through `@socket.io/redis-streams-adapter`, behind haproxy with health checks. The client goes through haproxy;
//! a second client, straight on the other node, broadcasts numbered messages to a room the first one joined. The
//! first client's node is killed (SIGKILL): the client reconnects through haproxy to the surviving node and, with
//! connection state recovery, gets its session back (same sid, the broadcasts it missed replayed, none twice).
//!
//! Each fault test prints one `RELIABILITY {json}` line on stdout (scripts/reliability.sh collects them). Every
//! process started (redis, the two nodes, haproxy) is killed and its temp dir removed on drop, so also when a test
//! fails.

#[allow(dead_code)]
mod interop {
    pub mod procs;
}

use std::time::{Duration, Instant};

use interop::procs::{start_haproxy_checked, start_redis, start_server, Kind, Proc};
use socketio_core::{Client, ClientConfig, ClientEvent, Value};

const ROOM: &str = "news";
/// Buffered emits made while the client is disconnected.
const BUFFERED: i64 = 50;
/// Broadcasts the client gets before its node is killed, and after it is back.
const BEFORE_KILL: i64 = 20;
const AFTER_BACK: i64 = 40;
/// One broadcast every this long.
const BROADCAST_EVERY: Duration = Duration::from_millis(20);
/// Broadcasts made at once when the client sees its node gone; none are made after those until it is back.
const AWAY_BURST: i64 = 5;

/// How the nodes keep sessions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// No connection state recovery.
    NoRecovery,
    /// `--recovery` only: socket.io writes a session to redis when it sees the socket disconnect, which a SIGKILLed
    /// node never does.
    RecoveryOnDisconnectOnly,
    /// `--recovery --persist-sessions 100`: the nodes also write every session every 100 ms.
    RecoveryPersisted,
}

/// redis, two nodes, haproxy. Fields drop (and so are killed) in order: haproxy, the nodes, redis.
struct Cluster {
    haproxy: Proc,
    nodes: Vec<Option<Proc>>,
    _redis: Proc,
}

impl Cluster {
    fn start(mode: Mode) -> Cluster {
        let redis = start_redis().unwrap_or_else(|e| panic!("{e}"));
        let url = format!("redis://127.0.0.1:{}", redis.port);
        let start = |name: &'static str| {
            let mut args: Vec<String> = [
                "--redis-streams-url",
                &url,
                "--name",
                name,
                "--ping-interval",
                "1000",
                "--ping-timeout",
                "1000",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
            match mode {
                Mode::NoRecovery => {}
                Mode::RecoveryOnDisconnectOnly => args.push("--recovery".into()),
                Mode::RecoveryPersisted => {
                    args.extend(["--recovery", "--persist-sessions", "100"].map(String::from));
                }
            }
            std::thread::spawn(move || start_server(Kind::Node, 0, &args, name))
        };
        let (a, b) = (start("node1"), start("node2"));
        let nodes = [a.join().expect("node1 thread"), b.join().expect("node2 thread")]
            .map(|r| r.unwrap_or_else(|e| panic!("{e}")));
        let haproxy = start_haproxy_checked(&[("node1", nodes[0].port), ("node2", nodes[1].port)])
            .unwrap_or_else(|e| panic!("{e}"));
        let [a, b] = nodes;
        Cluster {
            haproxy,
            nodes: vec![Some(a), Some(b)],
            _redis: redis,
        }
    }

    fn haproxy_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.haproxy.port)
    }

    fn index(name: &str) -> usize {
        match name {
            "node1" => 0,
            "node2" => 1,
            other => panic!("welcome names server {other:?}"),
        }
    }

    /// The URL of the node that is not `name`, straight (not through haproxy).
    fn other_url(&self, name: &str) -> String {
        let node = self.nodes[1 - Cluster::index(name)]
            .as_ref()
            .expect("other node running");
        format!("http://127.0.0.1:{}", node.port)
    }

    /// SIGKILLs node `name`.
    fn kill(&mut self, name: &str) {
        if let Some(mut node) = self.nodes[Cluster::index(name)].take() {
            node.kill();
        }
    }
}

fn config() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.reconnect.delay = Duration::from_millis(100);
    config.reconnect.delay_max = Duration::from_millis(300);
    config
}

/// A client, the events it saw (with when) and its longest `poll`.
struct Peer {
    client: Client,
    seen: Vec<(Instant, ClientEvent)>,
    worst_poll: Duration,
}

impl Peer {
    /// Connects "/" at `url` and waits for the server's "welcome".
    fn connect(url: &str) -> Peer {
        let mut client = Client::new(config());
        client.connect_namespace(Instant::now(), "/", None).unwrap();
        client.connect(Instant::now(), url).unwrap();
        let mut peer = Peer {
            client,
            seen: Vec::new(),
            worst_poll: Duration::ZERO,
        };
        peer.until(Duration::from_secs(10), |p| p.welcome(0).is_some());
        peer
    }

    fn step(&mut self) {
        let now = Instant::now();
        self.client.poll(now);
        self.worst_poll = self.worst_poll.max(now.elapsed());
        while let Some(event) = self.client.poll_event() {
            self.seen.push((Instant::now(), event));
        }
    }

    fn until(&mut self, timeout: Duration, done: impl Fn(&Peer) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(start.elapsed() < timeout, "timed out; events: {:#?}", self.seen);
            self.step();
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The arguments of every `name` event on "/" from index `from` of `seen` on.
    fn events(&self, from: usize, name: &str) -> Vec<Vec<Value>> {
        self.seen[from.min(self.seen.len())..]
            .iter()
            .filter_map(|(_, e)| match e {
                ClientEvent::Event { name: n, args, .. } if n == name => Some(args.to_values()),
                _ => None,
            })
            .collect()
    }

    /// The first argument of the first "welcome" from index `from` on.
    fn welcome(&self, from: usize) -> Option<Value> {
        self.events(from, "welcome")
            .into_iter()
            .next()
            .and_then(|a| a.into_iter().next())
    }

    /// The first argument of every `name` event as an integer (the numbered broadcasts, the echoes).
    fn numbers(&self, name: &str) -> Vec<i64> {
        self.events(0, name)
            .iter()
            .filter_map(|args| match args.first() {
                Some(Value::Int(i)) => Some(*i),
                _ => None,
            })
            .collect()
    }

    fn ack_count(&self) -> usize {
        self.seen
            .iter()
            .filter(|(_, e)| matches!(e, ClientEvent::AckResponse { .. }))
            .count()
    }

    /// Emits `join(ROOM)` with an ack and waits for it.
    fn join(&mut self) {
        let acks = self.ack_count();
        self.client
            .emit_with_ack(Instant::now(), "/", "join", vec![ROOM.into()], Duration::from_secs(5))
            .unwrap();
        self.until(Duration::from_secs(5), |p| p.ack_count() > acks);
    }

    fn server_name(&self, from: usize) -> String {
        self.welcome(from)
            .and_then(|w| w.get("server").and_then(Value::as_str).map(str::to_owned))
            .expect("welcome names its server")
    }
}

fn broadcast(broadcaster: &mut Peer, n: i64) {
    broadcaster
        .client
        .emit(
            Instant::now(),
            "/",
            "to_room",
            vec![ROOM.into(), "room_msg".into(), Value::Int(n)],
        )
        .unwrap();
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

fn json_ms(d: Option<Duration>) -> String {
    d.map_or("null".to_owned(), |d| ms(d).to_string())
}

#[test]
fn cluster_both_nodes_up_a_room_broadcast_from_the_other_node_arrives() {
    let cluster = Cluster::start(Mode::RecoveryPersisted);
    let mut client = Peer::connect(&cluster.haproxy_url());
    let mine = client.server_name(0);
    let mut other = Peer::connect(&cluster.other_url(&mine));
    assert_ne!(other.server_name(0), mine, "the broadcaster is on the other node");
    client.join();
    broadcast(&mut other, 7);
    let start = Instant::now();
    while client.numbers("room_msg").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the broadcast from the other node did not arrive: {:#?}",
            client.seen
        );
        other.step();
        client.step();
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(client.numbers("room_msg"), vec![7]);
    // And only to the room: the broadcaster did not join it.
    other.step();
    assert!(other.numbers("room_msg").is_empty());
}

/// What one kill showed.
struct Outcome {
    detect: Option<Duration>,
    recover: Option<Duration>,
    sid_before: String,
    sid_after: Option<String>,
    recovered: bool,
    welcome_recovered: Option<Value>,
    /// The numbered broadcasts sent (0..sent) and received (in arrival order).
    sent: i64,
    /// Broadcasts sent between the kill and the client's namespace connected again on the other node.
    sent_while_away: i64,
    received: Vec<i64>,
    echoes: Vec<i64>,
    worst_poll: Duration,
}

impl Outcome {
    fn duplicates(list: &[i64]) -> usize {
        let mut sorted = list.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        list.len() - sorted.len()
    }

    fn missed(&self) -> usize {
        (0..self.sent).filter(|i| !self.received.contains(i)).count()
    }

    fn delivered(&self) -> usize {
        (0..BUFFERED).filter(|i| self.echoes.contains(i)).count()
    }

    fn in_order(list: &[i64]) -> bool {
        list.windows(2).all(|w| w[0] < w[1])
    }

    fn print(&self, fault: &str, mode: Mode) {
        let missed = self.missed().to_string();
        let (without, with) = if mode == Mode::NoRecovery {
            (missed.as_str(), "null")
        } else {
            ("null", missed.as_str())
        };
        println!(
            "RELIABILITY {{\"fault\":\"{fault}\",\"client\":\"plugin\",\"detect_ms\":{},\"recover_ms\":{},\
             \"buffered\":{BUFFERED},\"delivered\":{},\"duplicates\":{},\"missed_without_recovery\":{without},\
             \"missed_with_recovery\":{with},\"worst_poll_ms\":{}}}",
            json_ms(self.detect),
            json_ms(self.recover),
            self.delivered(),
            Outcome::duplicates(&self.received) + Outcome::duplicates(&self.echoes),
            ms(self.worst_poll),
        );
    }
}

/// The fault: the client (through haproxy) in the room, broadcasts from the other node every 20 ms; its node
/// SIGKILLed after BEFORE_KILL of them; when the client sees it gone, BUFFERED echo emits and AWAY_BURST
/// broadcasts, then no broadcast until it is back; broadcasts go on until AFTER_BACK more were sent after it is
/// back, then everything it should get is waited for.
///
/// Why no broadcast during the restore handshake: `@socket.io/redis-streams-adapter`'s `restoreSession` reads the
/// missed packets from the stream (XRANGE) and only then does socket.io join the restored socket to its rooms; a
/// broadcast added to the stream between the two is neither in the replay nor delivered to the socket (the
/// adapter says as much in a FIXME). That is a server-side race no client can close, so the test does not race it:
/// the missed broadcasts are all made before the reconnection starts (the reconnection delay is 100 ms).
fn kill_the_clients_node(mode: Mode) -> Outcome {
    let mut cluster = Cluster::start(mode);
    let mut client = Peer::connect(&cluster.haproxy_url());
    let mine = client.server_name(0);
    let mut other = Peer::connect(&cluster.other_url(&mine));
    client.join();
    let sid_before = client.client.namespace_sid("/").expect("sid").to_owned();
    // The broadcaster's own polls do not count: only the client's.
    client.worst_poll = Duration::ZERO;

    let mut sent = 0i64;
    let mut next_broadcast = Instant::now();
    let mut killed: Option<(Instant, usize)> = None;
    let mut sent_at_kill = 0;
    let mut detect = None;
    let mut back: Option<(Instant, i64)> = None;
    let mut buffered = false;
    let mut last_sent: Option<i64> = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "timed out; events: {:#?}", client.seen);
        let away = killed.is_some() && back.is_none();
        if !away && last_sent.is_none() && Instant::now() >= next_broadcast {
            broadcast(&mut other, sent);
            sent += 1;
            next_broadcast += BROADCAST_EVERY;
        }
        other.step();
        client.step();
        let now = Instant::now();
        match (killed, back) {
            (None, _) if client.numbers("room_msg").len() as i64 >= BEFORE_KILL => {
                cluster.kill(&mine);
                killed = Some((Instant::now(), client.seen.len()));
                sent_at_kill = sent;
            }
            (Some((at, from)), None) => {
                if detect.is_none()
                    && client.seen[from..]
                        .iter()
                        .any(|(_, e)| matches!(e, ClientEvent::Closed { .. }))
                {
                    detect = Some(now - at);
                }
                if detect.is_some() && !buffered {
                    for i in 0..BUFFERED {
                        client
                            .client
                            .emit(Instant::now(), "/", "echo", vec![Value::Int(i)])
                            .unwrap();
                    }
                    buffered = true;
                    for _ in 0..AWAY_BURST {
                        broadcast(&mut other, sent);
                        sent += 1;
                    }
                    other.step();
                }
                if let Some(i) = client.seen[from..]
                    .iter()
                    .position(|(_, e)| matches!(e, ClientEvent::NamespaceConnected { .. }))
                {
                    let (when, _) = client.seen[from + i];
                    back = Some((when, sent));
                    next_broadcast = Instant::now();
                    if mode == Mode::NoRecovery || !client.client.namespace_recovered("/") {
                        // A new session: the room is to be joined again.
                        client.join();
                    }
                }
            }
            (Some(_), Some((_, sent_when_back))) => {
                if last_sent.is_none() && sent >= sent_when_back + AFTER_BACK {
                    last_sent = Some(sent - 1);
                }
                let got = client.numbers("room_msg");
                if let Some(last) = last_sent {
                    let echoes = client.numbers("echo").len() as i64;
                    if got.last() == Some(&last) && echoes >= BUFFERED {
                        break;
                    }
                }
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    // Anything more would be a duplicate.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_millis(300) {
        client.step();
        std::thread::sleep(Duration::from_millis(1));
    }
    let (killed_at, from) = killed.expect("killed");
    let welcome = client.welcome(from);
    Outcome {
        detect,
        recover: back.map(|(at, _)| at - killed_at),
        sid_before,
        sid_after: client.client.namespace_sid("/").map(str::to_owned),
        recovered: client.client.namespace_recovered("/"),
        welcome_recovered: welcome.as_ref().and_then(|w| w.get("recovered").cloned()),
        sent,
        sent_while_away: back.map_or(0, |(_, s)| s - sent_at_kill),
        received: client.numbers("room_msg"),
        echoes: client.numbers("echo"),
        worst_poll: client.worst_poll,
    }
}

#[test]
fn cluster_node_killed_with_recovery_the_session_is_restored_on_the_other_node() {
    let out = kill_the_clients_node(Mode::RecoveryPersisted);
    out.print("cluster node killed, recovery on", Mode::RecoveryPersisted);
    assert!(out.detect.is_some() && out.recover.is_some());
    assert!(out.recovered, "NamespaceConnected says recovered");
    assert_eq!(
        out.welcome_recovered,
        Some(Value::Bool(true)),
        "the new node's welcome says recovered"
    );
    assert_eq!(out.sid_after.as_deref(), Some(out.sid_before.as_str()), "same sid");
    assert_eq!(Outcome::duplicates(&out.received), 0, "{:?}", out.received);
    assert!(Outcome::in_order(&out.received), "{:?}", out.received);
    assert!(
        out.sent_while_away > 0,
        "broadcasts were made while the client was away"
    );
    assert_eq!(out.missed(), 0, "those were replayed: {:?}", out.received);
    assert_eq!(
        out.echoes,
        (0..BUFFERED).collect::<Vec<_>>(),
        "buffered emits once, in order"
    );
}

#[test]
fn cluster_node_killed_without_recovery_broadcasts_are_missed_and_the_client_rejoins() {
    let out = kill_the_clients_node(Mode::NoRecovery);
    out.print("cluster node killed, recovery off", Mode::NoRecovery);
    assert!(out.detect.is_some() && out.recover.is_some());
    assert!(!out.recovered);
    assert_ne!(out.sid_after.as_deref(), Some(out.sid_before.as_str()), "a new session");
    assert!(out.missed() > 0, "broadcasts made while away are lost without recovery");
    assert_eq!(Outcome::duplicates(&out.received), 0, "{:?}", out.received);
    assert!(Outcome::in_order(&out.received), "{:?}", out.received);
    // Rejoined: the last broadcasts arrived (the loop waited for the last one).
    assert_eq!(out.received.last(), Some(&(out.sent - 1)));
    assert_eq!(
        out.echoes,
        (0..BUFFERED).collect::<Vec<_>>(),
        "buffered emits once, in order"
    );
}

/// What socket.io does by itself: it writes a session to redis when it sees the socket go, which a SIGKILLed node
/// never does; so the surviving node has no session to restore, and the client gets a new one.
#[test]
fn cluster_node_killed_with_recovery_but_sessions_written_only_at_disconnect_cannot_be_restored() {
    let out = kill_the_clients_node(Mode::RecoveryOnDisconnectOnly);
    out.print(
        "cluster node killed, recovery on, sessions saved only at disconnect",
        Mode::RecoveryOnDisconnectOnly,
    );
    assert!(out.detect.is_some() && out.recover.is_some());
    assert!(!out.recovered, "no session to restore");
    assert_eq!(out.welcome_recovered, Some(Value::Bool(false)));
    assert!(out.missed() > 0);
    assert_eq!(Outcome::duplicates(&out.received), 0, "{:?}", out.received);
    assert_eq!(
        out.echoes,
        (0..BUFFERED).collect::<Vec<_>>(),
        "buffered emits once, in order"
    );
}

/// The same kill with socket.io-client (Node) as the client: tests/reliability/failover-client.js, which kills the
/// node itself (by pid) and prints its own RELIABILITY line, passed on here; and an OUTCOME line checked here.
fn node_client(mode: Mode) -> serde_json::Value {
    let root = interop::procs::repo_root();
    assert!(
        root.join("bench/node/node_modules/socket.io-client").is_dir(),
        "socket.io-client is not installed: run `npm ci` in bench/node"
    );
    let cluster = Cluster::start(mode);
    let node = |i: usize| cluster.nodes[i].as_ref().expect("node running");
    let mut cmd = std::process::Command::new("node");
    cmd.arg(root.join("tests/reliability/failover-client.js"))
        .args(["--via", &cluster.haproxy_url()])
        .args(["--node1", &format!("http://127.0.0.1:{}", node(0).port)])
        .args(["--node1-pid", &node(0).pid().to_string()])
        .args(["--node2", &format!("http://127.0.0.1:{}", node(1).port)])
        .args(["--node2-pid", &node(1).pid().to_string()]);
    if mode != Mode::NoRecovery {
        cmd.arg("--recovery");
    }
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("run node tests/reliability/failover-client.js");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "failover-client.js failed: {stdout}");
    let line = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix}line in {stdout}"))
            .to_owned()
    };
    println!("RELIABILITY {}", line("RELIABILITY "));
    let mut outcome: serde_json::Value = serde_json::from_str(&line("OUTCOME ")).expect("OUTCOME json");
    outcome["reliability"] = serde_json::from_str(&line("RELIABILITY ")).expect("RELIABILITY json");
    outcome
}

fn int_list(v: &serde_json::Value) -> Vec<i64> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|x| x.as_i64().expect("an integer"))
        .collect()
}

#[test]
fn node_client_cluster_node_killed_with_recovery() {
    let out = node_client(Mode::RecoveryPersisted);
    let received = int_list(&out["received"]);
    assert_eq!(out["recovered"], serde_json::Value::Bool(true), "{out}");
    assert_eq!(out["welcome_recovered"], serde_json::Value::Bool(true), "{out}");
    assert_eq!(out["sid_before"], out["sid_after"], "{out}");
    assert!(out["sent_while_away"].as_i64() > Some(0), "{out}");
    assert_eq!(out["reliability"]["missed_with_recovery"], 0, "{out}");
    assert_eq!(out["reliability"]["duplicates"], 0, "{out}");
    assert!(Outcome::in_order(&received), "{out}");
    assert_eq!(int_list(&out["echoes"]), (0..BUFFERED).collect::<Vec<_>>(), "{out}");
}

#[test]
fn node_client_cluster_node_killed_without_recovery() {
    let out = node_client(Mode::NoRecovery);
    assert_eq!(out["recovered"], serde_json::Value::Bool(false), "{out}");
    assert_ne!(out["sid_before"], out["sid_after"], "{out}");
    assert!(
        out["reliability"]["missed_without_recovery"].as_i64() > Some(0),
        "{out}"
    );
    assert_eq!(out["reliability"]["duplicates"], 0, "{out}");
    assert_eq!(int_list(&out["echoes"]), (0..BUFFERED).collect::<Vec<_>>(), "{out}");
}
