//! The interop matrix (issue 12): the core `Client` runs one scripted scenario against real servers of several
//! implementations, each over every transport it offers, and through a load balancer and an HTTP proxy. The scenario
//! contract every server implements is in tests/interop/README.md; `scripts/setup-interop.sh` installs the servers.
//!
//! One test runs every cell (cells in parallel, each with its own server processes on free ports), prints the
//! matrix (cell × step → pass / FAIL / - for a step the cell does not have), writes it to
//! `$CARGO_TARGET_DIR/interop-matrix.txt` (else `target/interop-matrix.txt`), and fails if any step failed. A step
//! that could not run because an earlier one failed counts as failed.

mod interop {
    pub mod procs;
}

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use interop::procs::{
    free_port, restart_server, start_haproxy, start_redis, start_server, start_tinyproxy, target_dir,
    tinyproxy_requests, Kind, Proc,
};
use socketio_core::{Client, ClientConfig, ClientEvent, CommandError, DisconnectReason, TransportKind, Value};

/// How long one wait of a step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(8);

// ---------------------------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------------------------

fn obj(entries: &[(&str, Value)]) -> Value {
    Value::Object(entries.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

/// Equality with objects compared as maps (servers may reorder keys).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && same(v, v2)))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        _ => a == b,
    }
}

fn same_all(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
}

fn auth() -> Value {
    obj(&[("token", "secret".into())])
}

fn scalar_args() -> Vec<Value> {
    vec![
        obj(&[
            ("int", Value::Int(42)),
            ("neg", Value::Int(-7)),
            ("float", Value::Float(1.5)),
            ("text", "héllo wörld ✓ 日本 🎮".into()),
            ("null", Value::Null),
            (
                "nested",
                Value::Array(vec![Value::Null, Value::Bool(true), obj(&[("deep", Value::Int(1))])]),
            ),
        ]),
        Value::Float(-0.25),
        Value::Int(9007199254740991),
        "ünï 🎮".into(),
        Value::Null,
    ]
}

fn binary_args() -> Vec<Value> {
    let big: Bytes = (0..20_000u32).map(|i| (i % 251) as u8).collect::<Vec<u8>>().into();
    vec![
        Value::Binary(Bytes::from_static(b"\x00\x01\x02")),
        obj(&[("inner", Value::Array(vec![Value::Binary(big), "text".into()]))]),
        obj(&[("deeper", obj(&[("bin", Value::Binary(Bytes::from_static(b"\xff")))]))]),
    ]
}

fn binary_nested_value() -> Value {
    obj(&[
        ("a", Value::Binary(Bytes::from_static(&[1, 2, 3]))),
        (
            "list",
            Value::Array(vec![
                Value::Binary(Bytes::from_static(&[4])),
                obj(&[("deep", Value::Binary(Bytes::from_static(&[5, 6])))]),
            ]),
        ),
        ("text", "t".into()),
    ])
}

// ---------------------------------------------------------------------------------------------------------------
// Servers of a cell
// ---------------------------------------------------------------------------------------------------------------

/// One scenario server process and how to start it again where it was.
struct Server {
    kind: Kind,
    args: Vec<String>,
    proc: Proc,
}

impl Server {
    fn start(kind: Kind, args: &[&str], name: &str) -> Result<Server, String> {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        let proc = start_server(kind, 0, &args, name)?;
        Ok(Server { kind, args, proc })
    }

    fn port(&self) -> u16 {
        self.proc.port
    }

    /// Kills the process and starts a new one on the same port.
    fn restart(&mut self) -> Result<(), String> {
        let port = self.proc.port;
        let name = self.proc.name.clone();
        self.proc.kill();
        std::thread::sleep(Duration::from_millis(200));
        self.proc = restart_server(self.kind, port, &self.args, &name)?;
        Ok(())
    }
}

/// What a cell's client talks to.
enum Setup {
    /// One server, directly.
    Direct(Server),
    /// Two Node servers sharing a redis adapter, behind haproxy (the client goes through haproxy).
    Pair {
        nodes: Vec<Server>,
        _redis: Proc,
        haproxy: Proc,
    },
    /// One server behind tinyproxy.
    Proxied { server: Server, proxy: Proc },
}

impl Setup {
    fn url(&self) -> String {
        match self {
            Setup::Direct(server) | Setup::Proxied { server, .. } => format!("http://127.0.0.1:{}", server.port()),
            Setup::Pair { haproxy, .. } => format!("http://127.0.0.1:{}", haproxy.port),
        }
    }

    fn proxy_url(&self) -> Option<String> {
        match self {
            Setup::Proxied { proxy, .. } => Some(format!("http://127.0.0.1:{}", proxy.port)),
            _ => None,
        }
    }

    fn restart(&mut self) -> Result<(), String> {
        match self {
            Setup::Direct(server) | Setup::Proxied { server, .. } => server.restart(),
            Setup::Pair { nodes, .. } => nodes.iter_mut().try_for_each(Server::restart),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Cells and steps
// ---------------------------------------------------------------------------------------------------------------

/// The steps, in the order they run and are printed.
const STEPS: &[&str] = &[
    "connect /",
    "transport",
    "/chat",
    "echo types",
    "ack c>s",
    "ack s>c",
    "binary",
    "refused ns",
    "kick",
    "broadcast",
    "idle 8s",
    "restart",
    "600kB emit",
    "proxy 403",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// The whole scenario.
    Scenario,
    /// connect, then a 600 kB emit refused by the client (the server's maxPayload is `max`).
    TooLarge { max: usize },
    /// connect, then a 600 kB echo accepted.
    LargeAccepted,
    /// The proxy refuses the CONNECT: a connect error naming the proxy and 403.
    ProxyRefused,
}

struct CellSpec {
    server: &'static str,
    transport: &'static str,
    /// The client's `transports`.
    transports: Vec<TransportKind>,
    /// The transport in use once connected, and whether an upgrade to WebSocket must follow.
    expect: TransportKind,
    upgrade: bool,
    plan: Plan,
    start: Box<dyn FnOnce() -> Result<Setup, String> + Send>,
}

type Results = BTreeMap<&'static str, Result<(), String>>;

/// What some passing steps saw (the client's refusal texts), printed under the matrix.
static NOTES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn note(cell: &Cell, text: String) {
    NOTES.lock().unwrap().push(format!("{}: {text}", cell.name));
}

struct Cell<'a> {
    name: String,
    client: Client,
    seen: Vec<ClientEvent>,
    results: &'a mut Results,
}

impl Cell<'_> {
    /// Polls until `done` holds for the events seen since `from`, or the step timeout.
    fn until(&mut self, from: usize, what: &str, done: impl Fn(&[ClientEvent]) -> bool) -> Result<(), String> {
        let start = Instant::now();
        loop {
            self.client.poll(Instant::now());
            while let Some(event) = self.client.poll_event() {
                self.seen.push(event);
            }
            if done(&self.seen[from..]) {
                return Ok(());
            }
            if start.elapsed() > STEP_TIMEOUT {
                let tail: Vec<String> = self.seen[from..].iter().rev().take(6).rev().map(short).collect();
                return Err(format!(
                    "no {what} within {STEP_TIMEOUT:?}; events since: [{}]",
                    tail.join("; ")
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn event_after(
        &self,
        from: usize,
        ns: &str,
        name: &str,
    ) -> Option<(Vec<Value>, Option<socketio_core::AckRequest>)> {
        self.seen[from..].iter().find_map(|e| match e {
            ClientEvent::Event {
                namespace,
                name: n,
                args,
                ack,
            } if namespace == ns && n == name => Some((args.to_values(), *ack)),
            _ => None,
        })
    }

    /// Waits for event `name` on `ns` after `from`; its arguments.
    fn wait_event(&mut self, from: usize, ns: &str, name: &str) -> Result<Vec<Value>, String> {
        self.until(from, &format!("{name:?} on {ns}"), |events| {
            events.iter().any(|e| is_event(e, ns, name))
        })?;
        Ok(self.event_after(from, ns, name).expect("seen").0)
    }

    fn wait_ack(&mut self, from: usize, id: u64) -> Result<Vec<Value>, String> {
        self.until(from, &format!("answer to ack {id}"), |events| {
            events
                .iter()
                .any(|e| matches!(e, ClientEvent::AckResponse { id: got, .. } if *got == id))
        })?;
        Ok(self.seen[from..]
            .iter()
            .find_map(|e| match e {
                ClientEvent::AckResponse { id: got, args, .. } if *got == id => Some(args.to_values()),
                _ => None,
            })
            .expect("seen"))
    }

    /// An `echo` on `ns` comes back with the same arguments.
    fn echo(&mut self, ns: &str, args: Vec<Value>) -> Result<(), String> {
        let from = self.seen.len();
        self.client
            .emit(Instant::now(), ns, "echo", args.clone())
            .map_err(|e| format!("emit: {e}"))?;
        let got = self.wait_event(from, ns, "echo")?;
        check(same_all(&got, &args), || {
            format!("echo on {ns}: sent {args:?}, got {got:?}")
        })
    }

    /// Polls for `duration`, collecting events.
    fn idle(&mut self, duration: Duration) {
        let start = Instant::now();
        while start.elapsed() < duration {
            self.client.poll(Instant::now());
            while let Some(event) = self.client.poll_event() {
                self.seen.push(event);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Records the result of `step`, which ran on the events from `from` on. A step other than "restart" fails when
    /// the connection closed during it (a step that passed only thanks to a reconnection hides a failure).
    fn record(&mut self, step: &'static str, from: usize, result: Result<(), String>) -> bool {
        let closed = self.seen[from..]
            .iter()
            .find(|e| matches!(e, ClientEvent::Closed { .. }));
        let result = match (result, closed) {
            (Ok(()), Some(closed)) if step != "restart" => {
                Err(format!("the connection closed during the step: {closed:?}"))
            }
            (Err(e), Some(closed)) if step != "restart" => Err(format!("{e} (the connection closed: {closed:?})")),
            (result, _) => result,
        };
        let ok = result.is_ok();
        self.results.insert(step, result);
        ok
    }
}

fn check(ok: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(why())
    }
}

fn is_event(e: &ClientEvent, ns: &str, event: &str) -> bool {
    matches!(e, ClientEvent::Event { namespace, name, .. } if namespace == ns && name == event)
}

/// A short form of an event for failure messages.
fn short(e: &ClientEvent) -> String {
    let text = match e {
        ClientEvent::Event { namespace, name, .. } => format!("Event {namespace} {name}"),
        other => format!("{other:?}"),
    };
    text.chars().take(200).collect()
}

fn connected(events: &[ClientEvent], ns: &str) -> bool {
    events
        .iter()
        .any(|e| matches!(e, ClientEvent::NamespaceConnected { namespace, .. } if namespace == ns))
}

fn config(transports: Vec<TransportKind>, proxy_url: Option<String>) -> ClientConfig {
    let mut config = ClientConfig {
        transports,
        proxy_url,
        connect_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    };
    config.reconnect.delay = Duration::from_millis(100);
    config.reconnect.delay_max = Duration::from_millis(300);
    config
}

/// Runs one cell: starts its servers, runs its plan, records each step.
fn run_cell(mut spec: CellSpec) -> Results {
    let mut results = Results::new();
    let start = std::mem::replace(&mut spec.start, Box::new(|| Err("started already".to_owned())));
    let mut setup = match start() {
        Ok(setup) => setup,
        Err(e) => {
            results.insert("connect /", Err(format!("servers did not start: {e}")));
            return results;
        }
    };
    let client = Client::new(config(spec.transports.clone(), setup.proxy_url()));
    let mut cell = Cell {
        client,
        seen: Vec::new(),
        results: &mut results,
        name: format!("{} × {}", spec.server, spec.transport),
    };

    // Runs one step on the cell and records it (with the events from where it started).
    macro_rules! step {
        ($name:expr, $body:expr) => {{
            let from = cell.seen.len();
            let result = $body;
            cell.record($name, from, result)
        }};
    }

    if spec.plan == Plan::ProxyRefused {
        step!("proxy 403", proxy_refused(&mut cell, &setup));
        return results;
    }

    if !step!("connect /", connect_root(&mut cell, &setup)) {
        return results;
    }
    step!("transport", transport_step(&mut cell, &spec));

    match spec.plan {
        Plan::TooLarge { max } => {
            step!("600kB emit", too_large(&mut cell, max));
            return results;
        }
        Plan::LargeAccepted => {
            step!("600kB emit", cell.echo("/", vec![Value::String("y".repeat(600_000))]));
            return results;
        }
        Plan::ProxyRefused => unreachable!(),
        Plan::Scenario => {}
    }

    let chat_ok = step!("/chat", chat_namespace(&mut cell));
    step!("echo types", echo_types(&mut cell));
    step!("ack c>s", ack_client_to_server(&mut cell));
    step!("ack s>c", ack_server_to_client(&mut cell));
    step!("binary", binary(&mut cell));
    step!("refused ns", refused(&mut cell, &spec));
    step!(
        "kick",
        if chat_ok {
            kick(&mut cell)
        } else {
            Err("not run: /chat failed".to_owned())
        }
    );
    if let Setup::Pair { nodes, .. } = &setup {
        step!("broadcast", broadcast(&mut cell, nodes));
    }
    // Games go quiet for seconds at a time: the connection must stay usable past the servers' keep-alive timeouts
    // (Node's and uvicorn's are 5 s).
    step!("idle 8s", {
        cell.idle(Duration::from_secs(8));
        cell.echo("/", vec!["after a quiet while".into()])
    });
    step!("restart", restart(&mut cell, &mut setup, &spec));
    results
}

fn connect_root(cell: &mut Cell, setup: &Setup) -> Result<(), String> {
    let now = Instant::now();
    cell.client
        .connect_namespace(now, "/", Some(auth()))
        .map_err(|e| format!("connect_namespace: {e}"))?;
    cell.client
        .connect(now, &setup.url())
        .map_err(|e| format!("connect: {e}"))?;
    let welcome = cell.wait_event(0, "/", "welcome")?;
    check(connected(&cell.seen, "/"), || {
        "welcome before NamespaceConnected".to_owned()
    })?;
    let got = welcome.first().and_then(|w| w.get("auth")).cloned();
    check(got.as_ref().is_some_and(|a| same(a, &auth())), || {
        format!("the server saw auth {got:?}, not {:?}", auth())
    })?;
    match setup {
        Setup::Pair { .. } => {
            // Polling through haproxy works only when the client sends back the SERVERID cookie haproxy set on the
            // handshake: without it the next request may go to the other node, which knows no such session. The
            // node reports the Cookie header of the connection's latest request.
            let from = cell.seen.len();
            let id = cell
                .client
                .emit_with_ack(
                    Instant::now(),
                    "/",
                    "last_request_cookie",
                    vec![],
                    Duration::from_secs(5),
                )
                .map_err(|e| format!("emit_with_ack: {e}"))?;
            let cookie = cell.wait_ack(from, id)?.into_iter().next();
            check(
                cookie
                    .as_ref()
                    .and_then(Value::as_str)
                    .is_some_and(|c| c.contains("SERVERID=node")),
                || format!("the node saw no SERVERID cookie on the latest request: {cookie:?}"),
            )?;
        }
        Setup::Proxied { server, proxy } => {
            // The connection went through the proxy: it logged our CONNECT to the server.
            let want = format!("CONNECT 127.0.0.1:{} ", server.port());
            let requests = tinyproxy_requests(proxy);
            check(requests.iter().any(|r| r.starts_with(&want)), || {
                format!("connected, but not through the proxy: tinyproxy logged {requests:?}, no {want:?}")
            })?;
        }
        Setup::Direct(_) => {}
    }
    Ok(())
}

fn transport_step(cell: &mut Cell, spec: &CellSpec) -> Result<(), String> {
    if spec.upgrade {
        cell.until(0, "Upgraded", |events| {
            events.iter().any(|e| matches!(e, ClientEvent::Upgraded { .. }))
        })?;
        let upgraded = cell.seen.iter().find_map(|e| match e {
            ClientEvent::Upgraded { transport } => Some(*transport),
            _ => None,
        });
        check(upgraded == Some(TransportKind::WebSocket), || {
            format!("upgraded to {upgraded:?}, not WebSocket")
        })?;
    } else {
        // No upgrade may come: give one a moment to show up (socket.io-client probes right after the handshake).
        cell.idle(Duration::from_millis(500));
        if let Some(e) = cell.seen.iter().find(|e| matches!(e, ClientEvent::Upgraded { .. })) {
            return Err(format!("unexpected {e:?}"));
        }
    }
    let now = cell.client.transport();
    check(now == Some(spec.expect), || {
        format!("transport() is {now:?}, not {:?}", spec.expect)
    })
}

fn chat_namespace(cell: &mut Cell) -> Result<(), String> {
    let from = cell.seen.len();
    cell.client
        .connect_namespace(Instant::now(), "/chat", None)
        .map_err(|e| format!("connect_namespace: {e}"))?;
    let welcome = cell.wait_event(from, "/chat", "welcome")?;
    let nsp = welcome.first().and_then(|w| w.get("nsp")).cloned();
    check(nsp == Some("/chat".into()), || format!("welcome says nsp {nsp:?}"))?;
    cell.echo("/chat", vec!["on chat".into(), Value::Int(2)])
}

fn echo_types(cell: &mut Cell) -> Result<(), String> {
    cell.echo("/", scalar_args())?;
    let from = cell.seen.len();
    let id = cell
        .client
        .emit_with_ack(Instant::now(), "/", "types", vec![], Duration::from_secs(5))
        .map_err(|e| format!("emit_with_ack: {e}"))?;
    let answer = cell.wait_ack(from, id)?;
    let types = answer.first().cloned().unwrap_or(Value::Null);
    let want = [
        ("int", Value::Int(42)),
        ("neg", Value::Int(-7)),
        ("float", Value::Float(1.5)),
        ("big", Value::Int(9007199254740991)),
        ("text", "héllo wörld ✓ 日本 🎮".into()),
        ("t", Value::Bool(true)),
        ("n", Value::Null),
        (
            "arr",
            Value::Array(vec![
                Value::Int(1),
                Value::Float(2.5),
                "x".into(),
                Value::Array(vec![Value::Bool(true), Value::Null]),
            ]),
        ),
    ];
    for (key, value) in want {
        let got = types.get(key);
        check(got.is_some_and(|g| same(g, &value)), || {
            format!("types.{key} is {got:?}, not {value:?}")
        })?;
    }
    Ok(())
}

fn ack_client_to_server(cell: &mut Cell) -> Result<(), String> {
    let args = vec![
        Value::Int(1),
        "two".into(),
        Value::Null,
        Value::Float(2.5),
        obj(&[("k", "ü".into())]),
    ];
    let from = cell.seen.len();
    let id = cell
        .client
        .emit_with_ack(Instant::now(), "/", "ack", args.clone(), Duration::from_secs(5))
        .map_err(|e| format!("emit_with_ack: {e}"))?;
    let got = cell.wait_ack(from, id)?;
    check(same_all(&got, &args), || format!("ack answered {got:?}, not {args:?}"))
}

fn ack_server_to_client(cell: &mut Cell) -> Result<(), String> {
    let from = cell.seen.len();
    cell.client
        .emit(
            Instant::now(),
            "/",
            "request_ack",
            vec!["question".into(), Value::Int(5)],
        )
        .map_err(|e| format!("emit: {e}"))?;
    cell.wait_event(from, "/", "question")?;
    let (args, request) = cell.event_after(from, "/", "question").expect("seen");
    check(same_all(&args, &[Value::Int(5)]), || {
        format!("question carried {args:?}")
    })?;
    let request = request.ok_or("the server's question carries no ack id")?;
    let from = cell.seen.len();
    let answer = vec!["answer".into(), Value::Float(2.5)];
    cell.client
        .send_ack(Instant::now(), "/", request, answer.clone())
        .map_err(|e| format!("send_ack: {e}"))?;
    let got = cell.wait_event(from, "/", "ack_result")?;
    check(same_all(&got, &answer), || {
        format!("the server got {got:?}, not {answer:?}")
    })
}

fn binary(cell: &mut Cell) -> Result<(), String> {
    cell.echo("/", binary_args())?;
    let from = cell.seen.len();
    let id = cell
        .client
        .emit_with_ack(Instant::now(), "/", "binary_nested", vec![], Duration::from_secs(5))
        .map_err(|e| format!("emit_with_ack: {e}"))?;
    let got = cell.wait_ack(from, id)?;
    check(same_all(&got, &[binary_nested_value()]), || {
        format!("binary_nested answered {got:?}")
    })
}

fn refused(cell: &mut Cell, spec: &CellSpec) -> Result<(), String> {
    let from = cell.seen.len();
    cell.client
        .connect_namespace(Instant::now(), "/refused", Some(auth()))
        .map_err(|e| format!("connect_namespace: {e}"))?;
    cell.until(from, "NamespaceConnectError on /refused", |events| {
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::NamespaceConnectError { namespace, .. } if namespace == "/refused"))
    })?;
    let error = cell.seen[from..]
        .iter()
        .find_map(|e| match e {
            ClientEvent::NamespaceConnectError { error, .. } => Some(error.clone()),
            _ => None,
        })
        .expect("seen");
    check(error.message == "Refused", || {
        format!("refusal message {:?}", error.message)
    })?;
    let data = error.data.as_ref().map(|d| d.to_value());
    if spec.server.starts_with("socketioxide") {
        // socketioxide's CONNECT_ERROR carries the middleware error's message only (`{"message": ...}`), no data.
        check(data.is_none(), || format!("socketioxide sent data {data:?}"))?;
    } else {
        let want = obj(&[("code", Value::Int(403)), ("reason", "always refused".into())]);
        check(data.as_ref().is_some_and(|d| same(d, &want)), || {
            format!("refusal data {data:?}, not {want:?}")
        })?;
    }
    // The refusal of one namespace leaves the others connected.
    cell.echo("/", vec!["still here".into()])
}

fn kick(cell: &mut Cell) -> Result<(), String> {
    let from = cell.seen.len();
    cell.client
        .emit(Instant::now(), "/chat", "kick", vec![])
        .map_err(|e| format!("emit: {e}"))?;
    cell.until(from, "NamespaceDisconnected /chat", |events| {
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::NamespaceDisconnected { namespace, .. } if namespace == "/chat"))
    })?;
    let got = cell.seen[from..].iter().find_map(|e| match e {
        ClientEvent::NamespaceDisconnected { namespace, reason, .. } if namespace == "/chat" => Some(*reason),
        _ => None,
    });
    check(got == Some(DisconnectReason::IoServerDisconnect), || {
        format!("/chat left with {got:?}, not io server disconnect")
    })?;
    // "/" stays connected.
    cell.echo("/", vec!["after kick".into()])
}

/// A second client, straight on the node the first client is not on, says something in "chat"; the first client
/// (through haproxy, on the other node) hears it through the redis adapter.
fn broadcast(cell: &mut Cell, nodes: &[Server]) -> Result<(), String> {
    let welcome = cell.event_after(0, "/", "welcome").map(|w| w.0).unwrap_or_default();
    let mine = welcome
        .first()
        .and_then(|w| w.get("server"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let other = match mine.as_deref() {
        Some("node1") => &nodes[1],
        Some("node2") => &nodes[0],
        other => return Err(format!("welcome names server {other:?}")),
    };
    let mut second = Client::new(config(vec![TransportKind::WebSocket], None));
    second
        .connect_namespace(Instant::now(), "/", None)
        .map_err(|e| e.to_string())?;
    second
        .connect(Instant::now(), &format!("http://127.0.0.1:{}", other.port()))
        .map_err(|e| e.to_string())?;
    let mut second = Cell {
        client: second,
        seen: Vec::new(),
        results: &mut Results::new(),
        name: "second client".to_owned(),
    };
    second
        .wait_event(0, "/", "welcome")
        .map_err(|e| format!("second client: {e}"))?;
    let from = cell.seen.len();
    second
        .client
        .emit(Instant::now(), "/", "chat", vec!["from the other node".into()])
        .map_err(|e| e.to_string())?;
    second.client.flush();
    let start = Instant::now();
    loop {
        second.client.poll(Instant::now());
        while second.client.poll_event().is_some() {}
        cell.client.poll(Instant::now());
        while let Some(event) = cell.client.poll_event() {
            cell.seen.push(event);
        }
        if let Some((args, _)) = cell.event_after(from, "/", "chat") {
            let msg = args.first().cloned().unwrap_or(Value::Null);
            let text = msg.get("text").cloned();
            let server = msg.get("server").and_then(Value::as_str).map(str::to_owned);
            check(text == Some("from the other node".into()), || {
                format!("chat said {text:?}")
            })?;
            return check(server.is_some() && server != mine, || {
                format!("chat came from {server:?}, the client's own node is {mine:?}")
            });
        }
        if start.elapsed() > STEP_TIMEOUT {
            return Err("the broadcast from the other node did not arrive".to_owned());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn restart(cell: &mut Cell, setup: &mut Setup, spec: &CellSpec) -> Result<(), String> {
    let old_sid = cell.client.engine_sid().map(str::to_owned);
    let from = cell.seen.len();
    setup.restart()?;
    cell.until(from, "Reconnected and a new welcome on /", |events| {
        let after: Vec<&ClientEvent> = events
            .iter()
            .skip_while(|e| !matches!(e, ClientEvent::Reconnected { .. }))
            .collect();
        after.iter().any(|e| is_event(e, "/", "welcome"))
    })?;
    check(
        cell.seen[from..]
            .iter()
            .any(|e| matches!(e, ClientEvent::Closed { .. })),
        || "no Closed before the reconnection".to_owned(),
    )?;
    let new_sid = cell.client.engine_sid().map(str::to_owned);
    check(new_sid.is_some() && new_sid != old_sid, || {
        format!("engine sid {new_sid:?} after the restart, {old_sid:?} before")
    })?;
    // The same transport story as the first connection.
    if spec.upgrade {
        cell.until(from, "Upgraded after the reconnection", |events| {
            events.iter().any(|e| matches!(e, ClientEvent::Upgraded { .. }))
        })?;
    }
    let now = cell.client.transport();
    check(now == Some(spec.expect), || {
        format!("transport() is {now:?} after the restart")
    })?;
    cell.echo("/", vec!["after restart".into(), Value::Int(3)])
}

fn too_large(cell: &mut Cell, max: usize) -> Result<(), String> {
    let big = Value::String("z".repeat(600_000));
    let from = cell.seen.len();
    match cell.client.emit(Instant::now(), "/", "echo", vec![big]) {
        Err(error @ CommandError::TooLarge { size, max: got, .. }) => {
            check(got == max, || {
                format!("refused against maxPayload {got}, the server announced {max}")
            })?;
            check(size > 600_000, || format!("size {size}"))?;
            let text = error.to_string();
            note(cell, format!("emit refused: {text}"));
            check(text.contains(&max.to_string()), || {
                format!("the error does not name the limit: {text}")
            })?;
        }
        Err(other) => return Err(format!("refused with {other}, not TooLarge")),
        Ok(()) => {
            // The session may refuse it later (EmitFailed) instead; it must never reach the server.
            let _ = cell.until(from, "EmitFailed", |events| {
                events
                    .iter()
                    .any(|e| matches!(e, ClientEvent::EmitFailed { .. } | ClientEvent::Event { .. }))
            });
            let failed = cell.seen[from..].iter().find_map(|e| match e {
                ClientEvent::EmitFailed { error, .. } => Some(error.clone()),
                _ => None,
            });
            match failed {
                Some(error @ CommandError::TooLarge { max: got, .. }) if got == max => {
                    note(cell, format!("EmitFailed: {error}"));
                }
                Some(other) => return Err(format!("EmitFailed with {other}, not TooLarge against {max}")),
                None => {
                    return Err(format!(
                        "a 600 kB emit was accepted by a server announcing maxPayload {max}"
                    ))
                }
            }
        }
    }
    // The connection is still usable.
    cell.echo("/", vec!["small".into()])
}

fn proxy_refused(cell: &mut Cell, setup: &Setup) -> Result<(), String> {
    let mut config = cell.client.config().clone();
    config.reconnect.enabled = false;
    *cell.client.config_mut() = config;
    let now = Instant::now();
    cell.client
        .connect_namespace(now, "/", Some(auth()))
        .map_err(|e| format!("connect_namespace: {e}"))?;
    cell.client
        .connect(now, &setup.url())
        .map_err(|e| format!("connect: {e}"))?;
    cell.until(0, "TransportError", |events| {
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::TransportError(_) | ClientEvent::Open { .. }))
    })?;
    let error = cell.seen.iter().find_map(|e| match e {
        ClientEvent::TransportError(error) => Some(error.message.clone()),
        _ => None,
    });
    let message = error.ok_or("connected through a proxy that refuses CONNECT")?;
    note(cell, format!("TransportError: {message}"));
    let lower = message.to_lowercase();
    check(lower.contains("proxy") && lower.contains("403"), || {
        format!("the connect error does not name the proxy and 403: {message:?}")
    })
}

// ---------------------------------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------------------------------

fn direct(
    kind: Kind,
    args: &'static [&'static str],
    name: &'static str,
) -> Box<dyn FnOnce() -> Result<Setup, String> + Send> {
    Box::new(move || Ok(Setup::Direct(Server::start(kind, args, name)?)))
}

fn pair() -> Box<dyn FnOnce() -> Result<Setup, String> + Send> {
    Box::new(|| {
        let redis = start_redis()?;
        let url = format!("redis://127.0.0.1:{}", redis.port);
        let start = |name: &'static str| {
            std::thread::spawn({
                let url = url.clone();
                move || Server::start(Kind::Node, &["--redis-url", &url, "--name", name], name)
            })
        };
        let (a, b) = (start("node1"), start("node2"));
        let nodes = vec![a.join().expect("node1 thread")?, b.join().expect("node2 thread")?];
        let haproxy = start_haproxy(&[("node1", nodes[0].port()), ("node2", nodes[1].port())])?;
        Ok(Setup::Pair {
            nodes,
            _redis: redis,
            haproxy,
        })
    })
}

fn proxied(allow: bool) -> Box<dyn FnOnce() -> Result<Setup, String> + Send> {
    Box::new(move || {
        let server = Server::start(Kind::Node, &[], "node behind tinyproxy")?;
        // Refusing: CONNECT allowed to another port only, so tinyproxy answers 403.
        let allowed = if allow { server.port() } else { free_port() };
        let proxy = start_tinyproxy(allowed)?;
        Ok(Setup::Proxied { server, proxy })
    })
}

fn cells() -> Vec<CellSpec> {
    use TransportKind::{Polling, WebSocket};
    let cell = |server, transport, transports: Vec<TransportKind>, expect, upgrade, plan, start| CellSpec {
        server,
        transport,
        transports,
        expect,
        upgrade,
        plan,
        start,
    };
    let s = Plan::Scenario;
    vec![
        cell(
            "node",
            "websocket",
            vec![WebSocket],
            WebSocket,
            false,
            s,
            direct(Kind::Node, &[], "node"),
        ),
        cell(
            "node",
            "polling",
            vec![Polling],
            Polling,
            false,
            s,
            direct(Kind::Node, &[], "node"),
        ),
        cell(
            "node",
            "polling>websocket",
            vec![Polling, WebSocket],
            WebSocket,
            true,
            s,
            direct(Kind::Node, &[], "node"),
        ),
        cell(
            "node",
            "default (ws, polling)",
            vec![WebSocket, Polling],
            WebSocket,
            false,
            s,
            direct(Kind::Node, &[], "node"),
        ),
        cell(
            "node transports:[polling]",
            "default (ws>polling fallback)",
            vec![WebSocket, Polling],
            Polling,
            false,
            s,
            direct(Kind::Node, &["--transports", "polling"], "node-polling"),
        ),
        cell(
            "node transports:[polling]",
            "polling",
            vec![Polling, WebSocket],
            Polling,
            false,
            s,
            direct(Kind::Node, &["--transports", "polling"], "node-polling"),
        ),
        cell(
            "node transports:[websocket]",
            "websocket",
            vec![WebSocket],
            WebSocket,
            false,
            s,
            direct(Kind::Node, &["--transports", "websocket"], "node-ws"),
        ),
        cell(
            "node transports:[websocket]",
            "default (ws, polling)",
            vec![WebSocket, Polling],
            WebSocket,
            false,
            s,
            direct(Kind::Node, &["--transports", "websocket"], "node-ws"),
        ),
        cell(
            "node allowUpgrades:false",
            "polling (no upgrade)",
            vec![Polling, WebSocket],
            Polling,
            false,
            s,
            direct(Kind::Node, &["--no-upgrades"], "node-noupgrade"),
        ),
        cell(
            "python asgi",
            "websocket",
            vec![WebSocket],
            WebSocket,
            false,
            s,
            direct(Kind::Python, &[], "python"),
        ),
        cell(
            "python asgi",
            "polling",
            vec![Polling],
            Polling,
            false,
            s,
            direct(Kind::Python, &[], "python"),
        ),
        cell(
            "python asgi",
            "polling>websocket",
            vec![Polling, WebSocket],
            WebSocket,
            true,
            s,
            direct(Kind::Python, &[], "python"),
        ),
        cell(
            "python polling-only",
            "default (ws>polling fallback)",
            vec![WebSocket, Polling],
            Polling,
            false,
            s,
            direct(Kind::Python, &["--transports", "polling"], "python-polling"),
        ),
        cell(
            "python wsgi (wsgiref, polling-only)",
            "default (ws>polling fallback)",
            vec![WebSocket, Polling],
            Polling,
            false,
            s,
            direct(Kind::Python, &["--wsgi"], "python-wsgi"),
        ),
        cell(
            "python wsgi (wsgiref, polling-only)",
            "polling",
            vec![Polling],
            Polling,
            false,
            s,
            direct(Kind::Python, &["--wsgi"], "python-wsgi"),
        ),
        cell(
            "socketioxide",
            "websocket",
            vec![WebSocket],
            WebSocket,
            false,
            s,
            direct(Kind::Socketioxide, &[], "socketioxide"),
        ),
        cell(
            "socketioxide",
            "polling",
            vec![Polling],
            Polling,
            false,
            s,
            direct(Kind::Socketioxide, &[], "socketioxide"),
        ),
        cell(
            "socketioxide",
            "polling>websocket",
            vec![Polling, WebSocket],
            WebSocket,
            true,
            s,
            direct(Kind::Socketioxide, &[], "socketioxide"),
        ),
        cell(
            "haproxy + 2 node + redis",
            "polling (cookie)",
            vec![Polling],
            Polling,
            false,
            s,
            pair(),
        ),
        cell(
            "tinyproxy (allow)",
            "websocket",
            vec![WebSocket],
            WebSocket,
            false,
            s,
            proxied(true),
        ),
        cell(
            "tinyproxy (allow)",
            "polling",
            vec![Polling],
            Polling,
            false,
            s,
            proxied(true),
        ),
        cell(
            "tinyproxy (refuse)",
            "websocket",
            vec![WebSocket],
            WebSocket,
            false,
            Plan::ProxyRefused,
            proxied(false),
        ),
        cell(
            "tinyproxy (refuse)",
            "polling",
            vec![Polling],
            Polling,
            false,
            Plan::ProxyRefused,
            proxied(false),
        ),
        cell(
            "socketioxide maxPayload 100000",
            "websocket",
            vec![WebSocket],
            WebSocket,
            false,
            Plan::TooLarge { max: 100_000 },
            direct(Kind::Socketioxide, &[], "socketioxide"),
        ),
        cell(
            "socketioxide maxPayload 100000",
            "polling",
            vec![Polling],
            Polling,
            false,
            Plan::TooLarge { max: 100_000 },
            direct(Kind::Socketioxide, &[], "socketioxide"),
        ),
        cell(
            "socketioxide maxPayload 2000000",
            "websocket",
            vec![WebSocket],
            WebSocket,
            false,
            Plan::LargeAccepted,
            direct(Kind::Socketioxide, &["--max-payload", "2000000"], "socketioxide-big"),
        ),
        cell(
            "socketioxide maxPayload 2000000",
            "polling",
            vec![Polling],
            Polling,
            false,
            Plan::LargeAccepted,
            direct(Kind::Socketioxide, &["--max-payload", "2000000"], "socketioxide-big"),
        ),
        cell(
            "node --max-payload 1000",
            "websocket",
            vec![WebSocket],
            WebSocket,
            false,
            Plan::TooLarge { max: 1000 },
            direct(Kind::Node, &["--max-payload", "1000", "--log"], "node-small"),
        ),
        cell(
            "node --max-payload 1000",
            "polling",
            vec![Polling],
            Polling,
            false,
            Plan::TooLarge { max: 1000 },
            direct(Kind::Node, &["--max-payload", "1000", "--log"], "node-small"),
        ),
    ]
}

/// Which steps a plan has (the others print `-`).
fn steps_of(plan: Plan, pair: bool) -> Vec<&'static str> {
    match plan {
        Plan::Scenario => STEPS
            .iter()
            .copied()
            .filter(|s| *s != "600kB emit" && *s != "proxy 403" && (pair || *s != "broadcast"))
            .collect(),
        Plan::TooLarge { .. } | Plan::LargeAccepted => vec!["connect /", "transport", "600kB emit"],
        Plan::ProxyRefused => vec!["proxy 403"],
    }
}

/// At most this many cells at once (2 cores; most of a cell's time is waiting).
const PARALLEL_CELLS: usize = 6;

#[test]
fn interop_matrix() {
    let started = Instant::now();
    // INTEROP_ONLY=text runs only the cells whose "server × transport" name holds it (for debugging; a filtered run
    // says so in its verdict line).
    let only = std::env::var("INTEROP_ONLY").ok();
    let specs: Vec<CellSpec> = cells()
        .into_iter()
        .filter(|c| {
            only.as_ref()
                .is_none_or(|o| format!("{} × {}", c.server, c.transport).contains(o.as_str()))
        })
        .collect();
    let slots = Arc::new((Mutex::new(PARALLEL_CELLS), Condvar::new()));
    let mut handles = Vec::new();
    for spec in specs {
        let label = (spec.server, spec.transport);
        let steps = steps_of(spec.plan, spec.server.starts_with("haproxy"));
        let slots = Arc::clone(&slots);
        handles.push((
            label,
            steps,
            std::thread::spawn(move || {
                let (lock, cvar) = &*slots;
                let mut free = cvar.wait_while(lock.lock().unwrap(), |n| *n == 0).unwrap();
                *free -= 1;
                drop(free);
                let results = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_cell(spec)));
                *lock.lock().unwrap() += 1;
                cvar.notify_one();
                results.unwrap_or_else(|panic| {
                    let why = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default();
                    let mut r = Results::new();
                    r.insert("connect /", Err(format!("panicked: {why}")));
                    r
                })
            }),
        ));
    }

    let mut rows = Vec::new();
    for (label, steps, handle) in handles {
        let results = handle.join().expect("cell thread");
        rows.push((label, steps, results));
    }

    // The table.
    let name_width = rows
        .iter()
        .map(|((server, transport), _, _)| server.chars().count() + transport.chars().count() + 3)
        .max()
        .unwrap_or(10);
    let mut out = String::new();
    out.push_str(&format!("{:<name_width$}", "server × transport"));
    for step in STEPS {
        out.push_str(&format!(" | {step}"));
    }
    out.push('\n');
    let mut failures = Vec::new();
    let (mut passed, mut failed) = (0, 0);
    for ((server, transport), steps, results) in &rows {
        let name = format!("{server} × {transport}");
        out.push_str(&name);
        out.push_str(&" ".repeat(name_width.saturating_sub(name.chars().count())));
        let mut first_failure: Option<&'static str> = None;
        for step in STEPS {
            let cell = if !steps.contains(step) {
                "-".to_owned()
            } else {
                match results.get(step) {
                    Some(Ok(())) => {
                        passed += 1;
                        "pass".to_owned()
                    }
                    Some(Err(why)) => {
                        failed += 1;
                        failures.push(format!("{name} / {step}: {why}"));
                        first_failure.get_or_insert(step);
                        "FAIL".to_owned()
                    }
                    None => {
                        failed += 1;
                        let after = first_failure.unwrap_or("an earlier step");
                        failures.push(format!("{name} / {step}: not run ({after} failed)"));
                        "FAIL".to_owned()
                    }
                }
            };
            out.push_str(&format!(" | {cell:<w$}", w = step.chars().count()));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "interop: {passed} passed, {failed} failed ({} cells{}, {:.1} s)\n",
        rows.len(),
        only.as_ref()
            .map(|o| format!(", only those matching {o:?}"))
            .unwrap_or_default(),
        started.elapsed().as_secs_f64()
    ));
    let mut notes = NOTES.lock().unwrap().clone();
    notes.sort();
    if !notes.is_empty() {
        out.push_str("notes:\n");
        for n in &notes {
            out.push_str(&format!("  {n}\n"));
        }
    }
    if !failures.is_empty() {
        out.push_str("failures:\n");
        for f in &failures {
            out.push_str(&format!("  {f}\n"));
        }
    }
    let path = target_dir().join("interop-matrix.txt");
    let _ = std::fs::create_dir_all(target_dir());
    let _ = std::fs::write(&path, &out);
    println!("{out}(written to {})", path.display());
    assert!(failures.is_empty(), "interop matrix: {failed} step(s) failed:\n{out}");
}
