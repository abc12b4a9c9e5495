//! socketioxide test server of the interop matrix: the scenario contract of tests/interop/README.md.
//!
//! Usage: socketioxide-test-server [--port N] [--max-payload BYTES] [--transports polling|websocket|polling,websocket]
//!        [--exit-on-stdin-close]
//! Prints `LISTENING <port>` on stdout once it accepts connections.
//!
//! Differences from the contract that come from socketioxide itself (tolerated by the test, see the README):
//! a middleware's refusal carries its message only (`CONNECT_ERROR` with `{"message": ...}`, no `data`).

use std::io::Write;
use std::time::Duration;

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::{SocketIo, TransportType};

/// An event's arguments, any number, any JSON or binary value at any depth. Deserialized and serialized as a tuple,
/// so that socketioxide hands over every argument (not only the first) and emits them as separate arguments.
#[derive(Debug, Clone, Default)]
struct Args(Vec<rmpv::Value>);

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ArgsVisitor;
        impl<'de> Visitor<'de> for ArgsVisitor {
            type Value = Args;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("event arguments")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Args, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<rmpv::Value>()? {
                    out.push(v);
                }
                Ok(Args(out))
            }
        }
        deserializer.deserialize_tuple(usize::MAX, ArgsVisitor)
    }
}

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for v in &self.0 {
            tuple.serialize_element(v)?;
        }
        tuple.end()
    }
}

fn s(text: &str) -> rmpv::Value {
    rmpv::Value::from(text)
}

fn map(entries: Vec<(&str, rmpv::Value)>) -> rmpv::Value {
    rmpv::Value::Map(entries.into_iter().map(|(k, v)| (s(k), v)).collect())
}

/// The contract's `types` answer.
fn types_value() -> serde_json::Value {
    serde_json::json!({
        "int": 42,
        "neg": -7,
        "float": 1.5,
        "big": 9007199254740991i64,
        "text": "héllo wörld ✓ 日本 🎮",
        "t": true,
        "f": false,
        "n": null,
        "arr": [1, 2.5, "x", [true, null]],
        "nested": {"a": {"b": {"c": [1]}}},
    })
}

/// The contract's `binary_nested` answer.
fn binary_nested_value() -> rmpv::Value {
    map(vec![
        ("a", rmpv::Value::Binary(vec![1, 2, 3])),
        (
            "list",
            rmpv::Value::Array(vec![
                rmpv::Value::Binary(vec![4]),
                map(vec![("deep", rmpv::Value::Binary(vec![5, 6]))]),
            ]),
        ),
        ("text", s("t")),
    ])
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Refused")
    }
}

impl std::error::Error for Refused {}

async fn refuse() -> Result<(), Refused> {
    Err(Refused)
}

async fn on_connect(socket: SocketRef, io: SocketIo, TryData(auth): TryData<serde_json::Value>) {
    let auth = auth.unwrap_or(serde_json::Value::Null);
    let _ = socket.emit(
        "welcome",
        &serde_json::json!({"sid": socket.id.to_string(), "nsp": socket.ns(), "auth": auth}),
    );
    socket.on("echo", async |socket: SocketRef, Data(args): Data<Args>| {
        let _ = socket.emit("echo", &args);
    });
    socket.on("ack", async |Data(args): Data<Args>, ack: AckSender| {
        let _ = ack.send(&args);
    });
    socket.on("types", async |ack: AckSender| {
        let _ = ack.send(&types_value());
    });
    socket.on("binary_nested", async |ack: AckSender| {
        let _ = ack.send(&binary_nested_value());
    });
    socket.on("request_ack", async |socket: SocketRef, Data(args): Data<Args>| {
        let mut args = args.0.into_iter();
        let Some(rmpv::Value::String(name)) = args.next() else {
            return;
        };
        let Some(name) = name.into_str() else { return };
        let rest = Args(args.collect());
        let Ok(answer) = socket.emit_with_ack::<_, Args>(name, &rest) else {
            return;
        };
        match answer.await {
            Ok(answer) => {
                let _ = socket.emit("ack_result", &answer);
            }
            Err(_) => {
                let _ = socket.emit("ack_result", "timeout");
            }
        }
    });
    socket.on("kick", async |socket: SocketRef| {
        let _ = socket.disconnect();
    });
    let chat_io = io.clone();
    socket.on("chat", async move |socket: SocketRef, Data(args): Data<Args>| {
        let text = args.0.into_iter().next().unwrap_or(rmpv::Value::Nil);
        if let Some(nsp) = chat_io.of(socket.ns()) {
            let message = map(vec![("from", s(&socket.id.to_string())), ("text", text)]);
            let _ = nsp.emit("chat", &message).await;
        }
    });
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "socketioxide-test-server: {problem}\nusage: socketioxide-test-server [--port N] [--max-payload BYTES] \
         [--transports polling|websocket|polling,websocket] [--ping-interval MS] [--exit-on-stdin-close]"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut port: u16 = 0;
    let mut max_payload: Option<u64> = None;
    let mut transports = vec![TransportType::Polling, TransportType::Websocket];
    let mut ping_interval: Option<u64> = None;
    let mut exit_on_stdin_close = false;
    let mut argv = std::env::args().skip(1);
    while let Some(arg) = argv.next() {
        let mut value = |name: &str| argv.next().unwrap_or_else(|| usage(&format!("{name} needs a value")));
        match arg.as_str() {
            "--port" => port = value("--port").parse().unwrap_or_else(|_| usage("bad --port")),
            "--max-payload" => {
                max_payload = Some(
                    value("--max-payload")
                        .parse()
                        .unwrap_or_else(|_| usage("bad --max-payload")),
                )
            }
            "--ping-interval" => {
                ping_interval = Some(
                    value("--ping-interval")
                        .parse()
                        .unwrap_or_else(|_| usage("bad --ping-interval")),
                )
            }
            "--transports" => {
                transports = value("--transports")
                    .split(',')
                    .map(|t| match t {
                        "polling" => TransportType::Polling,
                        "websocket" => TransportType::Websocket,
                        other => usage(&format!("unknown transport {other:?}")),
                    })
                    .collect()
            }
            "--exit-on-stdin-close" => exit_on_stdin_close = true,
            other => usage(&format!("unknown argument {other:?}")),
        }
    }

    // socketioxide's default maxPayload (100 000 bytes) unless raised: the interop test checks the client against it.
    let mut builder = SocketIo::builder();
    if let Some(max) = max_payload {
        builder = builder
            .max_payload(max)
            .ws_max_message_size(max as usize)
            .ws_max_frame_size(max as usize);
    }
    if let Some(ms) = ping_interval {
        builder = builder.ping_interval(Duration::from_millis(ms));
    }
    builder = match transports.as_slice() {
        [TransportType::Polling] => builder.transports([TransportType::Polling]),
        [TransportType::Websocket] => builder.transports([TransportType::Websocket]),
        _ => builder.transports([TransportType::Polling, TransportType::Websocket]),
    };
    let (layer, io) = builder.build_layer();
    io.ns("/", on_connect);
    io.ns("/chat", on_connect);
    io.ns("/refused", on_connect.with(refuse));

    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| {
            eprintln!("socketioxide-test-server: bind 127.0.0.1:{port}: {e}");
            std::process::exit(1)
        });
    let port = listener.local_addr().expect("local address").port();
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "LISTENING {port}");
        let _ = out.flush();
    }
    if exit_on_stdin_close {
        tokio::spawn(async {
            use tokio::io::AsyncReadExt;
            let mut stdin = tokio::io::stdin();
            let mut buf = [0u8; 256];
            while let Ok(n) = stdin.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
            std::process::exit(0);
        });
    }
    axum::serve(listener, app).await.expect("serve");
}
