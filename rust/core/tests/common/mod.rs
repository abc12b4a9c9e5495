//! Test support: the real `socket.io` server from `tests/server`, started on 127.0.0.1 on a free port.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

pub mod impair;

use socketio_core::{Client, ClientEvent};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

static SETUP: Once = Once::new();

/// How to get what the test server needs; the tests never install anything themselves.
const SETUP_HINT: &str = "run `bash scripts/setup-node.sh` (it installs Debian's nodejs and npm if they are missing, \
     then the server's packages pinned in tests/server/package-lock.json with `npm ci`), or `bash scripts/test.sh`, \
     which runs it first";

/// Checks, once per test binary, that Node.js and the server's npm packages are there, and fails with what to do
/// when they are not. A test run never calls a package manager.
fn check_node() {
    SETUP.call_once(|| {
        if let Some(problem) = node_problem() {
            panic!("the real socket.io test server cannot start: {problem}; {SETUP_HINT}");
        }
    });
}

/// What is missing for `node tests/server/server.js`, if anything.
fn node_problem() -> Option<String> {
    match Command::new("node").arg("--version").output() {
        Err(e) => return Some(format!("Node.js is not installed (`node --version`: {e})")),
        Ok(out) if !out.status.success() => return Some("`node --version` failed".to_owned()),
        Ok(_) => {}
    }
    let server = repo_root().join("tests/server");
    if !server.join("node_modules/socket.io").is_dir() {
        return Some("its npm packages are not installed (tests/server/node_modules/socket.io is missing)".to_owned());
    }
    // npm writes this file on every install; older than the lock file means the lock changed since.
    let modified = |path: PathBuf| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    match (
        modified(server.join("package-lock.json")),
        modified(server.join("node_modules/.package-lock.json")),
    ) {
        (Some(lock), Some(installed)) if installed >= lock => None,
        _ => Some("its npm packages are older than tests/server/package-lock.json".to_owned()),
    }
}

/// A running `node tests/server/server.js`; killed on drop.
pub struct TestServer {
    child: Child,
    /// The port it listens on.
    pub port: u16,
}

impl TestServer {
    /// Starts the server with extra `args` (e.g. `--ping-interval 300`) and waits for `LISTENING <port>`.
    pub fn start(args: &[&str]) -> TestServer {
        TestServer::start_on(0, args)
    }

    /// Starts the server on `port` (0 for a free one), e.g. to restart a killed server where it was.
    pub fn start_on(port: u16, args: &[&str]) -> TestServer {
        check_node();
        let port = port.to_string();
        let mut child = Command::new("node")
            .arg(repo_root().join("tests/server/server.js"))
            .args(["--port", &port, "--quiet", "--exit-on-stdin-close"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node tests/server/server.js");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let port = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .expect("read server stdout");
            if let Some(port) = line.strip_prefix("LISTENING ") {
                break port.trim().parse().expect("port number");
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        TestServer { child, port }
    }

    /// `ws://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server abruptly (SIGKILL).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `client` until `done` returns true for the events seen so far, or `timeout` passes (then panics with
/// the events seen). Returns every event seen.
pub fn poll_until(
    client: &mut Client,
    timeout: Duration,
    mut done: impl FnMut(&[ClientEvent]) -> bool,
) -> Vec<ClientEvent> {
    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        client.poll(Instant::now());
        let mut got = false;
        while let Some(event) = client.poll_event() {
            seen.push(event);
            got = true;
        }
        if got && done(&seen) {
            return seen;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?}; events: {seen:#?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Polls for `duration` and returns every event seen (for checking that nothing more happens).
pub fn poll_for(client: &mut Client, duration: Duration) -> Vec<ClientEvent> {
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < duration {
        client.poll(Instant::now());
        seen.extend(std::iter::from_fn(|| client.poll_event()));
        std::thread::sleep(Duration::from_millis(1));
    }
    seen
}

/// Polls until an event matches `pred`; returns all events up to and including it.
pub fn wait_for(client: &mut Client, pred: impl Fn(&ClientEvent) -> bool) -> Vec<ClientEvent> {
    poll_until(client, Duration::from_secs(10), |events| events.iter().any(&pred))
}
