//! Client settings, with socket.io-client's defaults: the one place each default is written. Front ends start
//! from [`ClientConfig::default`] and show these values as their own (the Godot layer's properties read and write
//! them in place). The values a setting may take, where not every value of its type will do, are in
//! [`check`].

use std::time::Duration;

use crate::check;

/// How the reconnection backoff behaves (socket.io-client's `reconnection*` options).
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectConfig {
    /// Reconnect automatically after a transport loss. Default `true`.
    pub enabled: bool,
    /// Give up after this many attempts; `None` (default) never gives up.
    pub max_attempts: Option<u32>,
    /// First delay. Default 1 s.
    pub delay: Duration,
    /// Largest delay. Default 5 s.
    pub delay_max: Duration,
    /// Jitter factor, in [`RANDOMIZATION_RANGE`](crate::check::RANDOMIZATION_RANGE). Default 0.5.
    pub randomization: f64,
}

impl Default for ReconnectConfig {
    fn default() -> Self {
        ReconnectConfig {
            enabled: true,
            max_attempts: None,
            delay: Duration::from_secs(1),
            delay_max: Duration::from_secs(5),
            randomization: 0.5,
        }
    }
}

/// Caps on what the peer may make us hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest WebSocket message accepted from the server, in bytes. Default 16 MiB (socket.io's server accepts 1 MB
    /// by default). A larger one ends the connection with "parse error".
    pub max_message_bytes: usize,
    /// Most binary attachments in one packet. Default 10 (socket.io-parser's `maxAttachments`).
    pub max_attachments: usize,
    /// Deepest JSON nesting accepted, in [`MAX_DEPTH_RANGE`](crate::check::MAX_DEPTH_RANGE). Default
    /// [`NESTING_DEPTH`](crate::check::NESTING_DEPTH) (64), as deep as what a front end lets its caller send.
    pub max_depth: usize,
    /// Most packets buffered while a namespace is not connected. Default 10 000.
    pub send_buffer_packets: usize,
    /// Most bytes buffered while a namespace is not connected. Default 16 MiB.
    pub send_buffer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 16 << 20,
            max_attachments: 10,
            max_depth: check::NESTING_DEPTH,
            send_buffer_packets: 10_000,
            send_buffer_bytes: 16 << 20,
        }
    }
}

/// Which certificates a `wss://` connection trusts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TlsVerification {
    /// The Mozilla roots from `webpki-roots` (default).
    #[default]
    WebPkiRoots,
    /// Only these CA certificates, PEM encoded (one or more `BEGIN CERTIFICATE` blocks).
    CustomRootsPem(Vec<u8>),
    /// The certificate chain must lead to one of these CA certificates (PEM, as for `CustomRootsPem`), but it may
    /// be issued for any name: the host name (or `server_name`) is not checked. Godot's
    /// `TLSOptions.client_unsafe(trusted_chain)`. Safer than `Disabled`, weaker than `CustomRootsPem`: any server
    /// holding a certificate from these CAs can pose as any other.
    CustomRootsPemAnyName(Vec<u8>),
    /// No verification at all. Only on explicit request: anyone on the path can read and change the traffic.
    Disabled,
}

/// TLS settings for `wss://` and `https://` URLs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsConfig {
    /// Which certificates to trust.
    pub verification: TlsVerification,
    /// Name to verify the certificate against (and send as SNI) instead of the URL's host.
    pub server_name: Option<String>,
}

/// An Engine.IO transport, as `transports` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// One WebSocket (`"websocket"`).
    WebSocket,
    /// HTTP long-polling (`"polling"`): a GET that the server holds until it has packets, and POSTs for ours.
    Polling,
}

impl TransportKind {
    /// The name Engine.IO gives it, in the `transport` query parameter and the handshake's `upgrades`.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::WebSocket => "websocket",
            TransportKind::Polling => "polling",
        }
    }

    /// The transport called `name` (`"websocket"` or `"polling"`, as socket.io-client spells them).
    pub fn from_name(name: &str) -> Option<TransportKind> {
        match name {
            "websocket" => Some(TransportKind::WebSocket),
            "polling" => Some(TransportKind::Polling),
            _ => None,
        }
    }
}

/// Everything a `Client` can be told before it connects.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// Server path. Default `/socket.io/`.
    pub path: String,
    /// Reconnection backoff.
    pub reconnect: ReconnectConfig,
    /// Size and count caps.
    pub limits: Limits,
    /// TLS settings.
    pub tls: TlsConfig,
    /// Give up opening a connection (DNS + TCP + TLS + upgrade + Engine.IO handshake) after this long. Default 20 s.
    pub connect_timeout: Duration,
    /// Bytes of a received message's payload checked per decoding step (see
    /// [`Session::handle_frame`](crate::session::Session::handle_frame)); [`Client::poll`](crate::Client::poll)
    /// takes as many steps as [`DECODE_TIME_PER_POLL`](crate::client::DECODE_TIME_PER_POLL) allows. Default 64 KiB:
    /// a fraction of a millisecond of work.
    pub decode_step: usize,
    /// Transports to open the connection with, in order (socket.io-client's `transports`). Default
    /// `[WebSocket, Polling]`: WebSocket first (no extra round trip); when the server or a proxy refuses it, the same
    /// connection attempt goes on over polling, then upgrades to WebSocket if the server offers it. With polling
    /// first (socket.io-client's own order), polling opens the connection and upgrades. One transport alone is
    /// used alone. Never empty (see [`check::transports`]).
    pub transports: Vec<TransportKind>,
    /// Headers added to every HTTP request (polling GETs and POSTs, the WebSocket upgrade, not the proxy's
    /// CONNECT), in order. Each name and value is checked by [`check::header`].
    pub extra_headers: Vec<(String, String)>,
    /// Query parameters added to the handshake URL, after the URL's own (which are kept as given); `EIO`,
    /// `transport` and `sid` are the protocol's and cannot be set (see [`check::query_key`]).
    pub query: Vec<(String, String)>,
    /// HTTP proxy to tunnel every connection through with `CONNECT`: `http://[user:pass@]host:port`. `None` (the
    /// default) connects directly. Parsed by [`Proxy::parse`](crate::endpoint::Proxy::parse).
    pub proxy_url: Option<String>,
}

/// Default of [`ClientConfig::decode_step`].
pub const DEFAULT_DECODE_STEP: usize = 64 << 10;

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            path: "/socket.io/".to_owned(),
            reconnect: ReconnectConfig::default(),
            limits: Limits::default(),
            tls: TlsConfig::default(),
            connect_timeout: Duration::from_secs(20),
            decode_step: DEFAULT_DECODE_STEP,
            transports: vec![TransportKind::WebSocket, TransportKind::Polling],
            extra_headers: Vec::new(),
            query: Vec::new(),
            proxy_url: None,
        }
    }
}
