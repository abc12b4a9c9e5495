//! The processes of the interop matrix: the scenario servers (Node, python-socketio, socketioxide), redis, haproxy
//! and tinyproxy, each started on 127.0.0.1 on a free port with its own config, and killed on drop.

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// Where `cargo` puts its builds: `$CARGO_TARGET_DIR`, else the repository's `target/`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// What to run to get what the interop servers need.
pub const SETUP_HINT: &str = "run `bash scripts/setup-interop.sh` (apt-get installs redis-server, haproxy and \
     tinyproxy when missing, makes the Python virtualenv .cache/python-venv, builds the socketioxide server into \
     $CARGO_TARGET_DIR/interop-socketioxide and installs the Node server's packages), or `bash scripts/test.sh`";

/// A free TCP port on 127.0.0.1 (bound, then released: the caller binds it next).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A fresh directory under the system's temp dir, removed by [`Proc`]'s drop.
fn temp_dir(tag: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "socketio-interop-{}-{}-{tag}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// One of the kinds of scenario server (tests/interop/README.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// tests/server/server.js, the `socket.io` npm package.
    Node,
    /// tests/interop/python/server.py, python-socketio under uvicorn.
    Python,
    /// tests/interop/socketioxide-server.
    Socketioxide,
}

/// A running child process; killed (SIGKILL) and reaped on drop, its temp dir removed.
pub struct Proc {
    child: Child,
    /// The port it serves on.
    pub port: u16,
    /// What it is, for messages.
    pub name: String,
    dir: Option<PathBuf>,
}

impl Proc {
    /// Its own temp dir (config files, logs), if it has one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Its process id.
    #[allow(dead_code)] // used by failover.rs, not interop.rs
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process abruptly and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Reads `stream` to its end on a thread of its own, keeping the last lines for error messages.
fn drain(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                // Nobody listens any more: keep reading so the child never blocks on a full pipe.
                continue;
            }
        }
    });
    rx
}

/// Spawns `cmd` with stdin, stdout and stderr piped (stdin held open: the servers exit when it closes).
fn spawn(mut cmd: Command, name: &str) -> Result<Child, String> {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.spawn()
        .map_err(|e| format!("{name}: cannot start {:?}: {e}; {SETUP_HINT}", cmd.get_program()))
}

/// Waits for the `LISTENING <port>` line of a scenario server.
fn wait_listening(mut child: Child, name: &str, dir: Option<PathBuf>, timeout: Duration) -> Result<Proc, String> {
    let out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    let deadline = Instant::now() + timeout;
    let mut proc = Proc {
        child,
        port: 0,
        name: name.to_owned(),
        dir,
    };
    let mut stderr = Vec::new();
    loop {
        while let Ok(line) = err.try_recv() {
            stderr.push(line);
        }
        match out.recv_timeout(Duration::from_millis(20)) {
            Ok(line) => {
                if let Some(port) = line.strip_prefix("LISTENING ") {
                    proc.port = port.trim().parse().map_err(|_| format!("{name}: bad line {line:?}"))?;
                    // Forward what it writes to stderr from now on, for the test log (and stdout with
                    // INTEROP_LOG=1, e.g. server.js's --log).
                    if std::env::var_os("INTEROP_LOG").is_some() {
                        let tag = name.to_owned();
                        std::thread::spawn(move || {
                            for line in out {
                                eprintln!("[{tag} out] {line}");
                            }
                        });
                    }
                    let tag = name.to_owned();
                    std::thread::spawn(move || {
                        for line in err {
                            eprintln!("[{tag}] {line}");
                        }
                    });
                    return Ok(proc);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = proc.child.wait();
                std::thread::sleep(Duration::from_millis(50));
                while let Ok(line) = err.try_recv() {
                    stderr.push(line);
                }
                return Err(format!("{name} exited before listening: {}", stderr.join(" | ")));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{name} did not listen within {timeout:?}: {}",
                stderr.join(" | ")
            ));
        }
    }
}

/// Waits until `port` accepts TCP connections (for redis, haproxy, tinyproxy, which print no line of ours).
fn wait_port(mut child: Child, port: u16, name: &str, dir: Option<PathBuf>) -> Result<Proc, String> {
    let _out = drain(child.stdout.take().expect("stdout"));
    let err = drain(child.stderr.take().expect("stderr"));
    let mut proc = Proc {
        child,
        port,
        name: name.to_owned(),
        dir,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            let tag = name.to_owned();
            std::thread::spawn(move || {
                for line in err {
                    eprintln!("[{tag}] {line}");
                }
            });
            return Ok(proc);
        }
        if let Ok(Some(status)) = proc.child.try_wait() {
            std::thread::sleep(Duration::from_millis(50));
            let lines: Vec<String> = err.try_iter().collect();
            return Err(format!(
                "{name} exited ({status}) before listening: {}",
                lines.join(" | ")
            ));
        }
        if Instant::now() > deadline {
            return Err(format!("{name} did not listen on {port} within 10 s"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The socketioxide server binary built by scripts/setup-interop.sh.
pub fn socketioxide_binary() -> PathBuf {
    target_dir().join("interop-socketioxide/release/socketioxide-test-server")
}

/// Starts a scenario server of `kind` on `port` (0: a free one) with extra `args`.
pub fn start_server(kind: Kind, port: u16, args: &[String], name: &str) -> Result<Proc, String> {
    let root = repo_root();
    let port_arg = port.to_string();
    let mut cmd = match kind {
        Kind::Node => {
            let mut cmd = Command::new("node");
            cmd.arg(root.join("tests/server/server.js")).arg("--quiet");
            cmd
        }
        Kind::Python => {
            let python = root.join(".cache/python-venv/bin/python");
            if !python.exists() {
                return Err(format!("{} is missing; {SETUP_HINT}", python.display()));
            }
            let mut cmd = Command::new(python);
            cmd.arg(root.join("tests/interop/python/server.py"));
            cmd
        }
        Kind::Socketioxide => {
            let binary = socketioxide_binary();
            if !binary.exists() {
                return Err(format!("{} is missing; {SETUP_HINT}", binary.display()));
            }
            Command::new(binary)
        }
    };
    cmd.args(["--port", &port_arg, "--exit-on-stdin-close"]).args(args);
    let child = spawn(cmd, name)?;
    wait_listening(child, name, None, Duration::from_secs(15))
}

/// Starts the Node test server (tests/server/server.js) inside network namespace `netns` (`ip netns exec`, root
/// only), listening on `host` (an address of that namespace), on a free port.
#[allow(dead_code)] // used by partition.rs only
pub fn start_node_in_netns(netns: &str, host: &str, args: &[String], name: &str) -> Result<Proc, String> {
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", netns, "node"])
        .arg(repo_root().join("tests/server/server.js"))
        .args(["--quiet", "--host", host, "--port", "0", "--exit-on-stdin-close"])
        .args(args);
    let child = spawn(cmd, name)?;
    wait_listening(child, name, None, Duration::from_secs(15))
}

/// Starts a scenario server, retrying a few times when its port is still taken (a restart on the same port).
pub fn restart_server(kind: Kind, port: u16, args: &[String], name: &str) -> Result<Proc, String> {
    let mut last = String::new();
    for _ in 0..20 {
        match start_server(kind, port, args, name) {
            Ok(proc) => return Ok(proc),
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(last)
}

/// A `redis-server` of our own: a free port, its own config file and directory, no persistence.
pub fn start_redis() -> Result<Proc, String> {
    let dir = temp_dir("redis");
    let port = free_port();
    let conf = dir.join("redis.conf");
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nsave \"\"\nappendonly no\ndaemonize no\nprotected-mode yes\n\
             loglevel warning\nlogfile \"\"\n",
            dir.display()
        ),
    )
    .map_err(|e| format!("write {}: {e}", conf.display()))?;
    let mut cmd = Command::new("redis-server");
    cmd.arg(&conf);
    let child = spawn(cmd, "redis-server")?;
    wait_port(child, port, "redis-server", Some(dir))
}

/// haproxy in front of `backends` (name, port): roundrobin, stickiness by the cookie it inserts (SERVERID). Without
/// `indirect`, so the cookie also reaches the servers: the Node server reports it ("last_request_cookie").
pub fn start_haproxy(backends: &[(&str, u16)]) -> Result<Proc, String> {
    let dir = temp_dir("haproxy");
    let port = free_port();
    let conf = dir.join("haproxy.cfg");
    let mut text = format!(
        "global\n    maxconn 256\n\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    \
         timeout server 60s\n    timeout tunnel 60s\n\nfrontend socketio\n    bind 127.0.0.1:{port}\n    \
         default_backend nodes\n\nbackend nodes\n    balance roundrobin\n    \
         cookie SERVERID insert nocache\n"
    );
    for (name, backend) in backends {
        text.push_str(&format!("    server {name} 127.0.0.1:{backend} cookie {name}\n"));
    }
    std::fs::write(&conf, text).map_err(|e| format!("write {}: {e}", conf.display()))?;
    // -db: foreground, no daemon; -W off.
    let mut cmd = Command::new(haproxy_path());
    cmd.arg("-db").arg("-f").arg(&conf);
    let child = spawn(cmd, "haproxy")?;
    wait_port(child, port, "haproxy", Some(dir))
}

/// haproxy in front of `backends` (name, port) for failover: like [`start_haproxy`] (roundrobin, SERVERID cookie),
/// plus a TCP health check every 100 ms (a node down after one failed check, up again after two), and
/// `option redispatch` with retries, so a request whose cookie names a dead node goes to a live one.
#[allow(dead_code)] // used by failover.rs, not interop.rs
pub fn start_haproxy_checked(backends: &[(&str, u16)]) -> Result<Proc, String> {
    let dir = temp_dir("haproxy");
    let port = free_port();
    let conf = dir.join("haproxy.cfg");
    let mut text = format!(
        "global\n    maxconn 256\n\ndefaults\n    mode http\n    timeout connect 500ms\n    timeout client 60s\n    \
         timeout server 60s\n    timeout tunnel 60s\n    timeout check 200ms\n    retries 3\n    \
         option redispatch\n\nfrontend socketio\n    bind 127.0.0.1:{port}\n    default_backend nodes\n\n\
         backend nodes\n    balance roundrobin\n    cookie SERVERID insert nocache\n"
    );
    for (name, backend) in backends {
        text.push_str(&format!(
            "    server {name} 127.0.0.1:{backend} cookie {name} check inter 100 fall 1 rise 2\n"
        ));
    }
    std::fs::write(&conf, text).map_err(|e| format!("write {}: {e}", conf.display()))?;
    let mut cmd = Command::new(haproxy_path());
    cmd.arg("-db").arg("-f").arg(&conf);
    let child = spawn(cmd, "haproxy")?;
    wait_port(child, port, "haproxy", Some(dir))
}

fn haproxy_path() -> &'static str {
    if Path::new("/usr/sbin/haproxy").exists() {
        "/usr/sbin/haproxy"
    } else {
        "haproxy"
    }
}

/// tinyproxy with its own config: CONNECT allowed to `connect_port` only (give another port to have it refused
/// with 403). It logs each request line to `tinyproxy.log` in its dir (see [`tinyproxy_requests`]).
pub fn start_tinyproxy(connect_port: u16) -> Result<Proc, String> {
    let dir = temp_dir("tinyproxy");
    let port = free_port();
    let conf = dir.join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 20\nAllow 127.0.0.1\nConnectPort {connect_port}\n\
             LogLevel Connect\nLogFile \"{}\"\nSyslog Off\n",
            dir.join("tinyproxy.log").display()
        ),
    )
    .map_err(|e| format!("write {}: {e}", conf.display()))?;
    let binary = if Path::new("/usr/bin/tinyproxy").exists() {
        "/usr/bin/tinyproxy"
    } else {
        "tinyproxy"
    };
    let mut cmd = Command::new(binary);
    cmd.arg("-d").arg("-c").arg(&conf);
    let child = spawn(cmd, "tinyproxy")?;
    wait_port(child, port, "tinyproxy", Some(dir))
}

/// The request lines tinyproxy logged (`CONNECT 127.0.0.1:1234 HTTP/1.1`, ...).
pub fn tinyproxy_requests(proxy: &Proc) -> Vec<String> {
    let Some(dir) = proxy.dir() else { return Vec::new() };
    std::fs::read_to_string(dir.join("tinyproxy.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            line.split_once("): ")
                .filter(|_| line.contains("Request ("))
                .map(|(_, r)| r.to_owned())
        })
        .collect()
}
