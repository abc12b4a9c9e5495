//! A true network partition (issue 15): the real socket.io server (tests/server/server.js) runs in a network
//! namespace of its own, joined to this one by a veth pair, and an `nftables` table in its namespace silently drops
//! every packet on that link for a while: no FIN, no RST, nothing for the client to read or to fail writing.
//!
//! - Longer than the heartbeat window: the client notices by its ping timeout (`"ping timeout"`), keeps trying to
//!   reconnect while the link is down (each attempt ended by the connect timeout), reconnects when it heals, rejoins
//!   its namespaces and delivers the emits buffered meanwhile, in order, once.
//! - Shorter than the window: nothing is noticed, nothing lost, nothing duplicated (TCP retransmits).
//!
//! Root is needed (namespaces, veth, nftables: CAP_NET_ADMIN), and `ip` and `nft` (scripts/setup-netfaults.sh
//! installs Debian's iproute2 and nftables). Without them the tests fail saying so; they never pass unrun. Every
//! namespace made here is deleted on drop (also when a test fails), and namespaces left by a killed run of this
//! binary are deleted by the next one. Each test prints a `RELIABILITY {json}` line for scripts/reliability.sh.

#[allow(dead_code)]
mod interop {
    pub mod procs;
}

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use interop::procs::{start_node_in_netns, Proc};
use socketio_core::{Client, ClientConfig, ClientEvent, DisconnectReason, Value};

/// Runs `cmd args`, failing with its stderr.
fn run(cmd: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `{cmd}`: {e}; run `bash scripts/setup-netfaults.sh`"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{cmd} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn must(cmd: &str, args: &[&str]) -> String {
    run(cmd, args).unwrap_or_else(|e| panic!("{e}"))
}

/// Fails the test, saying why, when this process cannot make network namespaces.
fn require_root() {
    let uid = must("id", &["-u"]);
    assert_eq!(
        uid.trim(),
        "0",
        "the partition tests need root (CAP_NET_ADMIN: network namespaces, veth, nftables); run them as root, as \
         scripts/test.sh does in CI"
    );
    for tool in ["ip", "nft"] {
        if run(tool, &["-V"]).is_err() {
            panic!("`{tool}` is missing: run `bash scripts/setup-netfaults.sh` (Debian's iproute2 and nftables)");
        }
    }
}

const PREFIX: &str = "siotest-";
const NFT_TABLE: &str = "sio_partition";

/// A network namespace for the server, `10.77.x.y/30` on a veth pair: the client's end here, the server's (`eth0`)
/// there. Deleted on drop.
struct Netns {
    name: String,
    host_if: String,
    client_ip: String,
    server_ip: String,
}

impl Netns {
    fn create() -> Netns {
        require_root();
        delete_stale();
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let pid = std::process::id();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // Interface names have at most 15 bytes.
        let host_if = format!("sio{}", (u64::from(pid) * 64 + u64::from(n)) % 1_000_000_000);
        let (client_ip, server_ip) = free_subnet(u64::from(pid) * 131 + u64::from(n) * 17);
        let ns = Netns {
            name: format!("{PREFIX}{pid}-{n}"),
            host_if,
            client_ip,
            server_ip,
        };
        must("ip", &["netns", "add", &ns.name]);
        // From here on, drop cleans up whatever was made.
        must(
            "ip",
            &[
                "link",
                "add",
                &ns.host_if,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                &ns.name,
            ],
        );
        must(
            "ip",
            &["addr", "add", &format!("{}/30", ns.client_ip), "dev", &ns.host_if],
        );
        must("ip", &["link", "set", &ns.host_if, "up"]);
        must(
            "ip",
            &[
                "-n",
                &ns.name,
                "addr",
                "add",
                &format!("{}/30", ns.server_ip),
                "dev",
                "eth0",
            ],
        );
        must("ip", &["-n", &ns.name, "link", "set", "eth0", "up"]);
        must("ip", &["-n", &ns.name, "link", "set", "lo", "up"]);
        ns
    }

    /// Drops every packet on the link, both ways, silently.
    fn partition(&self) {
        let rules = format!(
            "table inet {NFT_TABLE} {{\n\
             chain input {{ type filter hook input priority filter; policy accept; iifname \"eth0\" drop; }}\n\
             chain output {{ type filter hook output priority filter; policy accept; oifname \"eth0\" drop; }}\n\
             }}\n"
        );
        let file = std::env::temp_dir().join(format!("{}.nft", self.name));
        std::fs::write(&file, rules).expect("write the nft rules");
        let path = file.to_string_lossy().into_owned();
        let result = run("ip", &["netns", "exec", &self.name, "nft", "-f", &path]);
        let _ = std::fs::remove_file(&file);
        result.unwrap_or_else(|e| panic!("{e}"));
    }

    fn heal(&self) {
        must(
            "ip",
            &["netns", "exec", &self.name, "nft", "delete", "table", "inet", NFT_TABLE],
        );
    }

    fn start_server(&self, args: &[&str]) -> Proc {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        start_node_in_netns(&self.name, &self.server_ip, &args, "node in netns").unwrap_or_else(|e| panic!("{e}"))
    }

    fn url(&self, server: &Proc) -> String {
        format!("ws://{}:{}", self.server_ip, server.port)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // The veth pair goes with the namespace, but only eventually: delete our end now.
        let _ = run("ip", &["link", "del", &self.host_if]);
        let _ = run("ip", &["netns", "del", &self.name]);
    }
}

/// Deletes the namespaces of runs of this binary that are gone (killed before their drop ran).
fn delete_stale() {
    let Ok(list) = run("ip", &["netns", "list"]) else {
        return;
    };
    for line in list.lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(pid) = name.strip_prefix(PREFIX).and_then(|rest| rest.split('-').next()) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = run("ip", &["netns", "del", name]);
        }
    }
}

/// A /30 in 10.77.0.0/16 that no interface here uses: (our address, the server's).
fn free_subnet(seed: u64) -> (String, String) {
    for i in 0..256 {
        let k = (seed + i * 7919) % 16384;
        let (third, fourth) = (k / 64, (k % 64) * 4);
        let used = must(
            "ip",
            &["-4", "-o", "addr", "show", "to", &format!("10.77.{third}.{fourth}/30")],
        );
        if used.trim().is_empty() {
            return (
                format!("10.77.{third}.{}", fourth + 1),
                format!("10.77.{third}.{}", fourth + 2),
            );
        }
    }
    panic!("no free /30 in 10.77.0.0/16");
}

/// A client and what it reported, with when, and its longest poll.
struct Peer {
    client: Client,
    seen: Vec<(Instant, ClientEvent)>,
    worst_poll: Duration,
}

impl Peer {
    fn connect(url: &str, namespaces: &[&str]) -> Peer {
        let mut config = ClientConfig::default();
        config.reconnect.delay = Duration::from_millis(200);
        config.reconnect.delay_max = Duration::from_millis(500);
        config.connect_timeout = Duration::from_secs(1);
        let mut client = Client::new(config);
        for ns in namespaces {
            client.connect_namespace(Instant::now(), ns, None).unwrap();
        }
        client.connect(Instant::now(), url).unwrap();
        let mut peer = Peer {
            client,
            seen: Vec::new(),
            worst_poll: Duration::ZERO,
        };
        let want = namespaces.len();
        peer.until(Duration::from_secs(10), "namespaces connected", |p| {
            p.connected_count(0) >= want
        });
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

    fn until(&mut self, timeout: Duration, what: &str, done: impl Fn(&Peer) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(
                start.elapsed() < timeout,
                "no {what} within {timeout:?}; events: {:#?}",
                self.seen
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

    fn connected_count(&self, from: usize) -> usize {
        self.seen[from.min(self.seen.len())..]
            .iter()
            .filter(|(_, e)| matches!(e, ClientEvent::NamespaceConnected { .. }))
            .count()
    }

    fn echo(&mut self, ns: &str, n: i64) {
        self.client
            .emit(Instant::now(), ns, "echo", vec![Value::Int(n)])
            .unwrap();
    }

    /// The numbers echoed back on `ns`, in arrival order.
    fn echoes(&self, ns: &str) -> Vec<i64> {
        self.seen
            .iter()
            .filter_map(|(_, e)| match e {
                ClientEvent::Event {
                    namespace, name, args, ..
                } if namespace == ns && name == "echo" => match args.to_values().first() {
                    Some(Value::Int(i)) => Some(*i),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

fn duplicates(list: &[i64]) -> usize {
    let mut sorted = list.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    list.len() - sorted.len()
}

/// The link dropped for 4 s against a heartbeat window of 1 s (pingInterval 500 ms + pingTimeout 500 ms).
#[test]
fn a_partition_longer_than_the_ping_window_is_noticed_by_ping_timeout_and_healed() {
    let netns = Netns::create();
    let server = netns.start_server(&["--ping-interval", "500", "--ping-timeout", "500"]);
    let mut peer = Peer::connect(&netns.url(&server), &["/", "/chat"]);
    for i in 0..5 {
        peer.echo("/", i);
    }
    peer.until(Duration::from_secs(5), "first echoes", |p| p.echoes("/").len() >= 5);
    peer.worst_poll = Duration::ZERO;

    netns.partition();
    let cut = Instant::now();
    // Emitted while the connection still looks up: written into a link that drops them (lost with it, as with
    // socket.io-client; an ack is how a game knows).
    for i in 100..103 {
        peer.echo("/", i);
    }
    let from = peer.seen.len();
    peer.until(Duration::from_secs(5), "the loss noticed", |p| {
        p.seen[from..]
            .iter()
            .any(|(_, e)| matches!(e, ClientEvent::Closed { .. }))
    });
    let (noticed, reason) = peer.seen[from..]
        .iter()
        .find_map(|(at, e)| match e {
            ClientEvent::Closed { reason, .. } => Some((*at, *reason)),
            _ => None,
        })
        .expect("closed");
    let detect = noticed - cut;
    assert_eq!(
        reason,
        DisconnectReason::PingTimeout,
        "noticed by the heartbeat, not a write error"
    );
    assert!(
        detect <= Duration::from_millis(2500),
        "noticed {detect:?} after the cut, the window being 1 s"
    );
    // Buffered while disconnected: these are promised.
    for i in 200..220 {
        peer.echo("/", i);
    }
    for i in 300..310 {
        peer.echo("/chat", i);
    }
    peer.for_a_while(Duration::from_secs(4).saturating_sub(cut.elapsed()));
    let attempts_failed = peer.seen[from..]
        .iter()
        .filter(|(_, e)| matches!(e, ClientEvent::TransportError(_)))
        .count();
    assert!(attempts_failed >= 1, "reconnection kept trying while the link was down");

    netns.heal();
    let healed = Instant::now();
    let back_from = peer.seen.len();
    peer.until(Duration::from_secs(10), "both namespaces back", |p| {
        p.connected_count(back_from) >= 2
    });
    let back = peer.seen[back_from..]
        .iter()
        .find_map(|(at, e)| match e {
            ClientEvent::NamespaceConnected { namespace, .. } if namespace == "/" => Some(*at),
            _ => None,
        })
        .expect("\"/\" back");
    peer.until(Duration::from_secs(10), "the buffered echoes", |p| {
        p.echoes("/").iter().filter(|&&n| n >= 200).count() >= 20 && p.echoes("/chat").len() >= 10
    });
    peer.for_a_while(Duration::from_millis(500));

    let main = peer.echoes("/");
    let promised: Vec<i64> = main.iter().copied().filter(|n| !(100..103).contains(n)).collect();
    let expected: Vec<i64> = (0..5).chain(200..220).collect();
    assert_eq!(promised, expected, "buffered emits delivered in order, once");
    assert_eq!(
        peer.echoes("/chat"),
        (300..310).collect::<Vec<_>>(),
        "/chat rejoined, its emits once"
    );
    assert_eq!(duplicates(&main), 0);
    let unnoticed = main.iter().filter(|n| (100..103).contains(*n)).count();
    assert!(
        peer.worst_poll < Duration::from_millis(100),
        "a poll took {:?}",
        peer.worst_poll
    );
    println!(
        "RELIABILITY {{\"fault\":\"partition 4 s (window 1 s)\",\"client\":\"plugin\",\"detect_ms\":{},\
         \"recover_ms\":{},\"buffered\":30,\"delivered\":{},\"duplicates\":0,\"missed_without_recovery\":null,\
         \"missed_with_recovery\":null,\"worst_poll_ms\":{},\"failed_attempts\":{attempts_failed},\
         \"emitted_into_the_cut\":3,\"of_those_delivered\":{unnoticed}}}",
        ms(detect),
        ms(back - healed),
        promised.len() - 5 + peer.echoes("/chat").len(),
        ms(peer.worst_poll),
    );
    drop(server);
}

/// The link dropped for 1.5 s against a heartbeat window of 5 s (pingInterval 1 s + pingTimeout 4 s), echoes
/// emitted all along: TCP retransmits them when it heals, no event says anything happened.
#[test]
fn a_partition_shorter_than_the_ping_window_goes_unnoticed_and_loses_nothing() {
    let netns = Netns::create();
    let server = netns.start_server(&["--ping-interval", "1000", "--ping-timeout", "4000"]);
    let mut peer = Peer::connect(&netns.url(&server), &["/"]);
    let from = peer.seen.len();
    peer.worst_poll = Duration::ZERO;
    netns.partition();
    let cut = Instant::now();
    let mut sent = 0;
    while cut.elapsed() < Duration::from_millis(1500) {
        peer.echo("/", sent);
        sent += 1;
        peer.for_a_while(Duration::from_millis(50));
    }
    let got_during = peer.echoes("/").len();
    netns.heal();
    let healed = Instant::now();
    peer.until(Duration::from_secs(10), "every echo", |p| {
        p.echoes("/").len() as i64 >= sent
    });
    let caught_up = Instant::now();
    peer.for_a_while(Duration::from_millis(500));
    assert_eq!(got_during, 0, "the link really was cut");
    assert_eq!(peer.echoes("/"), (0..sent).collect::<Vec<_>>(), "all, in order, once");
    let noticed: Vec<_> = peer.seen[from..]
        .iter()
        .filter(|(_, e)| !matches!(e, ClientEvent::Event { .. }))
        .map(|(_, e)| format!("{e:?}"))
        .collect();
    assert!(noticed.is_empty(), "nothing noticed: {noticed:?}");
    assert!(
        peer.worst_poll < Duration::from_millis(100),
        "a poll took {:?}",
        peer.worst_poll
    );
    println!(
        "RELIABILITY {{\"fault\":\"partition 1.5 s (window 5 s)\",\"client\":\"plugin\",\"detect_ms\":null,\
         \"recover_ms\":{},\"buffered\":{sent},\"delivered\":{sent},\"duplicates\":0,\
         \"missed_without_recovery\":null,\"missed_with_recovery\":null,\"worst_poll_ms\":{}}}",
        ms(caught_up - healed),
        ms(peer.worst_poll),
    );
    drop(server);
}

/// The same partitions with socket.io-client (Node) as the client: tests/reliability/partition-client.js, told on
/// stdin when the link is cut and healed. Its RELIABILITY line is passed on; its OUTCOME line is checked here.
fn node_client(long: bool) -> serde_json::Value {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    use std::sync::mpsc;

    let root = interop::procs::repo_root();
    assert!(
        root.join("bench/node/node_modules/socket.io-client").is_dir(),
        "socket.io-client is not installed: run `npm ci` in bench/node (scripts/setup-node.sh does)"
    );
    let netns = Netns::create();
    let server = if long {
        netns.start_server(&["--ping-interval", "500", "--ping-timeout", "500"])
    } else {
        netns.start_server(&["--ping-interval", "1000", "--ping-timeout", "4000"])
    };
    let mut child = Command::new("node")
        .arg(root.join("tests/reliability/partition-client.js"))
        .args([
            "--url",
            &netns.url(&server),
            "--mode",
            if long { "long" } else { "short" },
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run node tests/reliability/partition-client.js");
    let mut stdin = child.stdin.take().expect("stdin");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let mut wait_line = |want: &str, timeout: Duration, lines: &mut Vec<String>| {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let hit = line.starts_with(want);
                    lines.push(line);
                    if hit {
                        return;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("partition-client.js: no {want} within {timeout:?}; printed {lines:?}");
                }
            }
        }
    };
    wait_line("READY", Duration::from_secs(10), &mut lines);
    netns.partition();
    let cut = Instant::now();
    writeln!(stdin, "CUT").expect("tell CUT");
    if long {
        wait_line("DETECTED", Duration::from_secs(5), &mut lines);
        std::thread::sleep(Duration::from_secs(4).saturating_sub(cut.elapsed()));
    } else {
        std::thread::sleep(Duration::from_millis(1500));
    }
    netns.heal();
    writeln!(stdin, "HEALED").expect("tell HEALED");
    wait_line("OUTCOME ", Duration::from_secs(15), &mut lines);
    let _ = child.wait();
    let find = |prefix: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix}line in {lines:?}"))
            .to_owned()
    };
    println!("RELIABILITY {}", find("RELIABILITY "));
    let mut outcome: serde_json::Value = serde_json::from_str(&find("OUTCOME ")).expect("OUTCOME json");
    outcome["reliability"] = serde_json::from_str(&find("RELIABILITY ")).expect("RELIABILITY json");
    drop(server);
    outcome
}

fn ints(v: &serde_json::Value) -> Vec<i64> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|x| x.as_i64().expect("an integer"))
        .collect()
}

#[test]
fn node_client_a_partition_longer_than_the_ping_window() {
    let out = node_client(true);
    assert_eq!(out["disconnects"][0], "ping timeout", "{out}");
    let promised: Vec<i64> = ints(&out["echoes"])
        .into_iter()
        .filter(|n| !(100..103).contains(n))
        .collect();
    assert_eq!(promised, (0..5).chain(200..220).collect::<Vec<_>>(), "{out}");
    assert_eq!(ints(&out["chat"]), (300..310).collect::<Vec<_>>(), "{out}");
    assert_eq!(out["reliability"]["duplicates"], 0, "{out}");
}

#[test]
fn node_client_a_partition_shorter_than_the_ping_window() {
    let out = node_client(false);
    let sent = out["sent"].as_i64().expect("sent");
    assert!(sent > 0);
    assert_eq!(ints(&out["echoes"]), (0..sent).collect::<Vec<_>>(), "{out}");
    assert_eq!(out["disconnects"], serde_json::json!([]), "{out}");
}
