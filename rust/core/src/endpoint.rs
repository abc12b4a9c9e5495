//! The server URL: what the user typed, turned into the WebSocket URL to request.
//!
//! This follows what socket.io-client's `url()` and `Manager` do with `io("http://host:3000/admin")`:
//!
//! - `http` becomes `ws` and `https` becomes `wss`; ports default to 80 and 443.
//! - The **path of the URL is the namespace**, not the server path: `http://host/admin` connects namespace
//!   `/admin` through the server path `/socket.io/`. The server path is always the configured `path`
//!   (`ClientConfig::path`, default `/socket.io/`), normalised like engine.io-client does (leading `/` added,
//!   exactly one trailing `/`). [`Endpoint::namespace`] exposes the URL's path (`/` when empty) so the front
//!   end can decide whether to connect that namespace.
//! - The user's query parameters are kept and sent with the upgrade request (a Socket.IO server sees them in
//!   `socket.handshake.query`); `EIO=4` and `transport=websocket` are appended, and any `EIO` or `transport`
//!   the user gave is dropped: ours win, as in engine.io-client.
//!
//! Differences from socket.io-client, on purpose:
//!
//! - A URL without a scheme (`localhost:3000`, `//host`) is refused with [`UrlError::Invalid`] instead of being
//!   guessed as `https://` (which would turn a typo into a confusing TLS failure against a local server).
//! - User name and password in the URL (`ws://user:pw@host`) are ignored, and so is the fragment.
//!
//! Host names are IDNA-normalised (`ws://bücher.example` requests `xn--bcher-kva.example`); IPv6 literals work
//! (`ws://[::1]:3000`).

use std::fmt;

use url::{Host, Url};

use crate::error::UrlError;

/// The Engine.IO protocol version this client speaks.
const EIO_VERSION: &str = "4";

/// A server address, parsed and checked: everything the transport needs to open the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    ws_url: String,
    /// `host` with `:port` unless the port is the scheme's default: the `Host` header.
    authority: String,
    /// The query shared by every request of the connection: the user's, then [`ClientConfig::query`]'s, then
    /// `EIO=4`; without `transport` (each request adds its own).
    ///
    /// [`ClientConfig::query`]: crate::ClientConfig::query
    query: String,
    host: String,
    server_name: String,
    port: u16,
    tls: bool,
    namespace: String,
    path: String,
}

impl Endpoint {
    /// Parses `user_url` (scheme `ws`, `wss`, `http` or `https`) and builds the WebSocket URL for the Socket.IO
    /// server `path` (normally `ClientConfig::path`, `/socket.io/`).
    ///
    /// Never panics, whatever the input; every refusal is a [`UrlError`].
    pub fn parse(user_url: &str, path: &str) -> Result<Endpoint, UrlError> {
        let input = user_url.trim();
        if input.is_empty() {
            return Err(UrlError::Invalid("empty URL".to_owned()));
        }
        if !has_scheme(input) {
            return Err(UrlError::Invalid(format!(
                "{input:?} has no scheme: write ws://, wss://, http:// or https:// before the host"
            )));
        }

        let url = Url::parse(input).map_err(|e| match e {
            url::ParseError::EmptyHost => UrlError::MissingHost,
            other => UrlError::Invalid(other.to_string()),
        })?;

        let (ws_scheme, tls) = match url.scheme() {
            "ws" | "http" => ("ws", false),
            "wss" | "https" => ("wss", true),
            other => return Err(UrlError::UnsupportedScheme(other.to_owned())),
        };
        let default_port = if tls { 443 } else { 80 };

        let (host, server_name) = match url.host() {
            None => return Err(UrlError::MissingHost),
            Some(Host::Domain("")) => return Err(UrlError::MissingHost),
            Some(Host::Domain(d)) => (d.to_owned(), d.to_owned()),
            Some(Host::Ipv4(a)) => (a.to_string(), a.to_string()),
            Some(Host::Ipv6(a)) => (format!("[{a}]"), a.to_string()),
        };
        let port = url.port_or_known_default().unwrap_or(default_port);

        let namespace = match url.path() {
            "" => "/".to_owned(),
            p => percent_decode(p),
        };

        let engine_path = normalize_path(path);
        let query = build_query(url.query(), &[]);

        let authority = if port == default_port {
            host.clone()
        } else {
            format!("{host}:{port}")
        };
        let mut endpoint = Endpoint {
            ws_url: String::new(),
            authority,
            query,
            host,
            server_name,
            port,
            tls,
            namespace,
            path: engine_path,
        };
        endpoint.build_ws_url(ws_scheme)?;
        Ok(endpoint)
    }

    /// The same endpoint with `extra` added to the query of every request, after the URL's own parameters (which
    /// stay as given). Keys and values are percent-encoded; a key the protocol sets itself ([`check::query_key`])
    /// is refused.
    ///
    /// [`check::query_key`]: crate::check::query_key
    pub fn with_query(mut self, extra: &[(String, String)]) -> Result<Endpoint, UrlError> {
        if extra.is_empty() {
            return Ok(self);
        }
        for (key, _) in extra {
            crate::check::query_key(key).map_err(|e| UrlError::Invalid(format!("query parameter {key:?}: {e}")))?;
        }
        let user = self.query.strip_suffix(EIO_PIECE).unwrap_or(&self.query);
        self.query = build_query(Some(user), extra);
        let scheme = if self.tls { "wss" } else { "ws" };
        self.build_ws_url(scheme)?;
        Ok(self)
    }

    fn build_ws_url(&mut self, ws_scheme: &str) -> Result<(), UrlError> {
        let mut out =
            Url::parse(&format!("{ws_scheme}://{}/", self.authority)).map_err(|e| UrlError::Invalid(e.to_string()))?;
        out.set_path(&self.path);
        out.set_query(Some(&format!("{}&transport=websocket", self.query)));
        let ws_url = String::from(out);
        // The transport hands this string to tungstenite, which parses it again (as an `http::Uri`): refuse now
        // anything it would refuse later.
        if let Err(e) = tungstenite::client::IntoClientRequest::into_client_request(ws_url.as_str()) {
            return Err(UrlError::Invalid(e.to_string()));
        }
        // `Url` escaped what the query needed; the polling requests use the same text.
        self.query = ws_url
            .split_once('?')
            .map(|(_, q)| q.strip_suffix("&transport=websocket").unwrap_or(q).to_owned())
            .unwrap_or_default();
        self.ws_url = ws_url;
        Ok(())
    }

    /// The URL of the WebSocket that upgrades Engine.IO session `sid` (opened over polling).
    pub fn ws_upgrade_url(&self, sid: &str) -> String {
        let mut url = String::with_capacity(self.ws_url.len() + 5 + sid.len());
        url.push_str(&self.ws_url);
        url.push_str("&sid=");
        push_encoded(&mut url, sid);
        url
    }

    /// The request target (path and query) of a polling request: the handshake without `sid`, later requests with
    /// it; `t` is a request counter (socket.io-client's cache buster, for proxies that cache GETs).
    pub fn polling_target(&self, sid: Option<&str>, t: u64) -> String {
        let mut target = String::with_capacity(self.path.len() + self.query.len() + 64);
        target.push_str(&self.path);
        target.push('?');
        target.push_str(&self.query);
        target.push_str("&transport=polling");
        if let Some(sid) = sid {
            target.push_str("&sid=");
            push_encoded(&mut target, sid);
        }
        target.push_str("&t=");
        target.push_str(itoa::Buffer::new().format(t));
        target
    }

    /// The `Host` header's value: the host, with `:port` unless it is the scheme's default.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The full `ws://` or `wss://` URL to request, query included.
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    /// The host as written in a URL: a domain name (IDNA-normalised, lower case), an IPv4 address, or an IPv6
    /// address in brackets (`[::1]`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TCP port, the scheme's default (80 or 443) when the URL gives none.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the connection uses TLS (`wss://` or `https://`).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The host without IPv6 brackets: the name to resolve, and by default to send as SNI and verify the
    /// certificate against.
    pub fn server_name(&self) -> &str {
        &self.server_name
    }

    /// The path of the user's URL, percent-decoded, `/` when empty. socket.io-client treats it as the namespace
    /// to connect (`io("http://host/admin")` connects `/admin`); it plays no part in the WebSocket URL.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The namespace the URL names besides the main one, for the front end to connect with the main one: the
    /// URL's path ([`Endpoint::namespace`]), or `None` when that is `/` (or empty), or is the server path itself
    /// (`ws://host/socket.io/`, with or without the trailing `/`, written by someone who took the URL's path for
    /// the server path: socket.io-client would try a namespace `/socket.io/` there).
    pub fn extra_namespace(&self) -> Option<&str> {
        let ns = self.namespace.as_str();
        let is_server_path = ns.trim_end_matches('/') == self.path.trim_end_matches('/');
        (ns != "/" && !is_server_path).then_some(ns)
    }

    /// The Engine.IO server path in use, normalised (`/socket.io/` by default).
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// An HTTP proxy to tunnel connections through (`CONNECT host:port`), from
/// [`ClientConfig::proxy_url`](crate::ClientConfig::proxy_url).
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    host: String,
    port: u16,
    /// `Basic …` for the `Proxy-Authorization` header, when the URL has a user name.
    authorization: Option<String>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The credentials stay out of logs.
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("authorization", &self.authorization.as_ref().map(|_| "…"))
            .finish()
    }
}

impl Proxy {
    /// Parses `http://[user:pass@]host[:port]` (port 80 when not given). User name and password are
    /// percent-decoded and sent as basic authentication. Only `http://` proxies: the tunnel itself carries TLS
    /// for `wss://` and `https://` servers.
    pub fn parse(proxy_url: &str) -> Result<Proxy, UrlError> {
        let bad = |why: &str| UrlError::Invalid(format!("proxy URL {proxy_url:?}: {why}"));
        let input = proxy_url.trim();
        if !has_scheme(input) {
            return Err(bad("write it as http://host:port"));
        }
        let url = Url::parse(input).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "http" {
            return Err(bad("only http:// proxies are supported"));
        }
        let host = match url.host() {
            None | Some(Host::Domain("")) => return Err(bad("it has no host")),
            Some(Host::Domain(d)) => d.to_owned(),
            Some(Host::Ipv4(a)) => a.to_string(),
            Some(Host::Ipv6(a)) => format!("[{a}]"),
        };
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err(bad("a proxy URL has no path or query"));
        }
        let authorization = (!url.username().is_empty()).then(|| {
            use base64::Engine as _;
            let credentials = format!(
                "{}:{}",
                percent_decode(url.username()),
                percent_decode(url.password().unwrap_or(""))
            );
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            )
        });
        Ok(Proxy {
            host,
            port: url.port_or_known_default().unwrap_or(80),
            authorization,
        })
    }

    /// The proxy's host as in a URL (IPv6 in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The host to resolve: without IPv6 brackets.
    pub fn server_name(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `Proxy-Authorization` header's value, when the URL had credentials.
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }
}

/// Whether `s` starts with `scheme://`.
fn has_scheme(s: &str) -> bool {
    match s.find("://") {
        Some(i) if i > 0 => {
            let scheme = &s[..i];
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        _ => false,
    }
}

/// engine.io-client's path rule (`addTrailingSlash` on): one leading `/`, exactly one trailing `/`.
fn normalize_path(path: &str) -> String {
    let trimmed = path.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else if trimmed.starts_with('/') {
        format!("{trimmed}/")
    } else {
        format!("/{trimmed}/")
    }
}

/// The last piece of every query.
const EIO_PIECE: &str = "EIO=4";
const _: () = assert!(EIO_VERSION.len() == 1 && EIO_PIECE.as_bytes()[4] == EIO_VERSION.as_bytes()[0]);

/// The user's query pieces, raw, minus those the protocol sets (`EIO`, `transport`, `sid`), then `extra`
/// percent-encoded, then `EIO=4`. Each request adds its `transport` (and `sid`).
fn build_query(user: Option<&str>, extra: &[(String, String)]) -> String {
    let mut query = String::new();
    for piece in user.unwrap_or("").split('&') {
        if piece.is_empty() {
            continue;
        }
        let key = piece.split('=').next().unwrap_or(piece);
        let key = percent_decode(key);
        if key == "EIO" || key == "transport" || key == "sid" {
            continue;
        }
        query.push_str(piece);
        query.push('&');
    }
    for (key, value) in extra {
        push_encoded(&mut query, key);
        query.push('=');
        push_encoded(&mut query, value);
        query.push('&');
    }
    query.push_str(EIO_PIECE);
    query
}

/// Appends `s` percent-encoded as a query key or value (`encodeURIComponent`'s set: all but letters, digits and
/// `-_.!~*'()`).
fn push_encoded(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// Decodes `%XX` escapes. Returns `s` unchanged when the result would not be UTF-8.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "/socket.io/";

    fn ok(url: &str) -> Endpoint {
        match Endpoint::parse(url, P) {
            Ok(e) => e,
            Err(e) => panic!("{url:?} refused: {e}"),
        }
    }

    #[test]
    fn plain_ws_with_port() {
        let e = ok("ws://localhost:3000");
        assert_eq!(e.ws_url(), "ws://localhost:3000/socket.io/?EIO=4&transport=websocket");
        assert_eq!(e.host(), "localhost");
        assert_eq!(e.server_name(), "localhost");
        assert_eq!(e.port(), 3000);
        assert!(!e.is_tls());
        assert_eq!(e.namespace(), "/");
        assert_eq!(e.path(), "/socket.io/");
    }

    #[test]
    fn http_maps_to_ws_and_https_to_wss_with_default_ports() {
        let e = ok("http://example.com");
        assert_eq!(e.ws_url(), "ws://example.com/socket.io/?EIO=4&transport=websocket");
        assert_eq!(e.port(), 80);
        assert!(!e.is_tls());

        let e = ok("https://example.com");
        assert_eq!(e.ws_url(), "wss://example.com/socket.io/?EIO=4&transport=websocket");
        assert_eq!(e.port(), 443);
        assert!(e.is_tls());

        let e = ok("wss://example.com:8443/");
        assert_eq!(
            e.ws_url(),
            "wss://example.com:8443/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(e.port(), 8443);
        assert!(e.is_tls());

        // An explicit default port is left out of the URL (and so of the Host header).
        let e = ok("https://example.com:443");
        assert_eq!(e.ws_url(), "wss://example.com/socket.io/?EIO=4&transport=websocket");
        // ... but 443 on plain ws is not a default.
        let e = ok("ws://example.com:443");
        assert_eq!(e.ws_url(), "ws://example.com:443/socket.io/?EIO=4&transport=websocket");
        assert_eq!(e.port(), 443);
    }

    #[test]
    fn scheme_is_case_insensitive() {
        let e = ok("HTTPS://Example.COM");
        assert_eq!(e.ws_url(), "wss://example.com/socket.io/?EIO=4&transport=websocket");
    }

    #[test]
    fn url_path_is_the_namespace_not_the_server_path() {
        let e = ok("http://localhost:3000/admin");
        assert_eq!(e.namespace(), "/admin");
        assert_eq!(e.ws_url(), "ws://localhost:3000/socket.io/?EIO=4&transport=websocket");

        assert_eq!(e.extra_namespace(), Some("/admin"));

        let e = ok("http://localhost:3000/");
        assert_eq!(e.namespace(), "/");
        assert_eq!(e.extra_namespace(), None);
        assert_eq!(ok("ws://localhost:3000").extra_namespace(), None);
        // The server path is not a namespace, whether it ends in "/" or not.
        for url in [
            "ws://h/socket.io/",
            "ws://h/socket.io",
            "ws://h/socket.io/?EIO=4&transport=websocket",
        ] {
            assert_eq!(ok(url).extra_namespace(), None, "{url}");
        }
        assert_eq!(ok("ws://h/socket.io/x").extra_namespace(), Some("/socket.io/x"));
        let custom = Endpoint::parse("ws://h/game", "/game/").unwrap();
        assert_eq!(custom.extra_namespace(), None);
        assert_eq!(
            ok("ws://h/admin/").extra_namespace(),
            Some("/admin/"),
            "as written, as socket.io-client"
        );

        let e = ok("http://localhost/caf%C3%A9");
        assert_eq!(e.namespace(), "/café");
        let e = ok("http://localhost/café");
        assert_eq!(e.namespace(), "/café");
        // Not UTF-8 once decoded: kept as written.
        let e = ok("http://localhost/%FF");
        assert_eq!(e.namespace(), "/%FF");
    }

    #[test]
    fn configured_path_is_normalised() {
        for (path, want) in [
            ("/socket.io/", "/socket.io/"),
            ("/socket.io", "/socket.io/"),
            ("socket.io", "/socket.io/"),
            ("/custom//", "/custom/"),
            ("", "/"),
            ("/", "/"),
            ("/a/b", "/a/b/"),
        ] {
            let e = Endpoint::parse("ws://h", path).unwrap_or_else(|err| panic!("{path:?}: {err}"));
            assert_eq!(e.path(), want, "{path:?}");
            assert_eq!(e.ws_url(), format!("ws://h{want}?EIO=4&transport=websocket"));
        }
        // Characters that would end the path are escaped, not interpreted.
        let e = Endpoint::parse("ws://h", "/a b?c#d").expect("parses");
        assert_eq!(e.ws_url(), "ws://h/a%20b%3Fc%23d/?EIO=4&transport=websocket");
    }

    #[test]
    fn user_query_is_kept_and_ours_win() {
        let e = ok("ws://h/?token=abc&x=1%202");
        assert_eq!(
            e.ws_url(),
            "ws://h/socket.io/?token=abc&x=1%202&EIO=4&transport=websocket"
        );

        let e = ok("ws://h/?EIO=3&transport=polling&a=b");
        assert_eq!(e.ws_url(), "ws://h/socket.io/?a=b&EIO=4&transport=websocket");

        let e = ok("ws://h/?E%49O=3&&a&");
        assert_eq!(e.ws_url(), "ws://h/socket.io/?a&EIO=4&transport=websocket");

        // The fragment is dropped.
        let e = ok("ws://h/ns?a=1#frag");
        assert_eq!(e.ws_url(), "ws://h/socket.io/?a=1&EIO=4&transport=websocket");
        assert_eq!(e.namespace(), "/ns");

        // Characters http::Uri would refuse are escaped.
        let e = ok("ws://h/?q={\"a\":[1|2]}^`");
        assert!(e.ws_url().ends_with("&EIO=4&transport=websocket"), "{}", e.ws_url());
    }

    #[test]
    fn extra_query_follows_the_urls_own_and_is_encoded() {
        let extra = vec![
            ("token".to_owned(), "a b&c=d".to_owned()),
            ("v".to_owned(), "ü".to_owned()),
        ];
        let e = ok("ws://h:3000/?room=1").with_query(&extra).unwrap();
        assert_eq!(
            e.ws_url(),
            "ws://h:3000/socket.io/?room=1&token=a%20b%26c%3Dd&v=%C3%BC&EIO=4&transport=websocket"
        );
        assert_eq!(
            e.polling_target(None, 0),
            "/socket.io/?room=1&token=a%20b%26c%3Dd&v=%C3%BC&EIO=4&transport=polling&t=0"
        );
        assert_eq!(
            e.polling_target(Some("ab+c"), 12),
            "/socket.io/?room=1&token=a%20b%26c%3Dd&v=%C3%BC&EIO=4&transport=polling&sid=ab%2Bc&t=12"
        );
        assert_eq!(
            e.ws_upgrade_url("ab+c"),
            "ws://h:3000/socket.io/?room=1&token=a%20b%26c%3Dd&v=%C3%BC&EIO=4&transport=websocket&sid=ab%2Bc"
        );
        assert_eq!(e.authority(), "h:3000");
        assert_eq!(ok("wss://h:443/").authority(), "h");
        // A sid in the URL is the protocol's: dropped, like EIO and transport.
        assert_eq!(
            ok("ws://h/?sid=x&a=1").polling_target(None, 1),
            "/socket.io/?a=1&EIO=4&transport=polling&t=1"
        );
        let refused = ok("ws://h/")
            .with_query(&[("EIO".to_owned(), "3".to_owned())])
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "invalid URL: query parameter \"EIO\": \"EIO\" is set by the Engine.IO protocol itself"
        );
        // Escaped text of the URL's own query is the same in both.
        let e = ok("ws://h/?q={\"a\":1}");
        let ws_query = e
            .ws_url()
            .split_once('?')
            .unwrap()
            .1
            .replace("transport=websocket", "transport=polling");
        assert_eq!(e.polling_target(None, 0), format!("/socket.io/?{ws_query}&t=0"));
    }

    #[test]
    fn proxies() {
        let p = Proxy::parse("http://127.0.0.1:8888").unwrap();
        assert_eq!((p.host(), p.port(), p.authorization()), ("127.0.0.1", 8888, None));
        let p = Proxy::parse("http://us%40er:p%3Ass@proxy.example").unwrap();
        assert_eq!(p.port(), 80);
        // base64("us@er:p:ss")
        assert_eq!(p.authorization(), Some("Basic dXNAZXI6cDpzcw=="));
        assert!(!format!("{p:?}").contains("dXNA"), "credentials are not logged");
        let p = Proxy::parse("http://[::1]:3128/").unwrap();
        assert_eq!((p.host(), p.server_name()), ("[::1]", "::1"));
        for bad in [
            "",
            "proxy:8080",
            "https://p:1",
            "socks5://p:1",
            "http://:8080",
            "http://p:1/path",
            "http://p:99999",
        ] {
            assert!(Proxy::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Proxy::parse("https://p:1").unwrap_err().to_string(),
            "invalid URL: proxy URL \"https://p:1\": only http:// proxies are supported"
        );
    }

    #[test]
    fn ipv6_hosts() {
        let e = ok("ws://[::1]:3000");
        assert_eq!(e.ws_url(), "ws://[::1]:3000/socket.io/?EIO=4&transport=websocket");
        assert_eq!(e.host(), "[::1]");
        assert_eq!(e.server_name(), "::1");
        assert_eq!(e.port(), 3000);

        let e = ok("https://[2001:DB8::1]");
        assert_eq!(e.ws_url(), "wss://[2001:db8::1]/socket.io/?EIO=4&transport=websocket");
        assert_eq!(e.server_name(), "2001:db8::1");
        assert_eq!(e.port(), 443);
    }

    #[test]
    fn ipv4_hosts() {
        let e = ok("ws://127.0.0.1:8080/");
        assert_eq!(e.host(), "127.0.0.1");
        assert_eq!(e.server_name(), "127.0.0.1");
        assert_eq!(e.port(), 8080);
    }

    #[test]
    fn unicode_hosts_are_punycoded() {
        let e = ok("ws://bücher.example:3000");
        assert_eq!(e.host(), "xn--bcher-kva.example");
        assert_eq!(e.server_name(), "xn--bcher-kva.example");
        assert_eq!(
            e.ws_url(),
            "ws://xn--bcher-kva.example:3000/socket.io/?EIO=4&transport=websocket"
        );

        let e = ok("wss://例え.テスト");
        assert!(e.ws_url().is_ascii());
        assert!(e.host().starts_with("xn--"));
    }

    #[test]
    fn credentials_are_ignored() {
        let e = ok("ws://user:pw@h:1/");
        assert_eq!(e.ws_url(), "ws://h:1/socket.io/?EIO=4&transport=websocket");
    }

    #[test]
    fn refusals() {
        assert!(matches!(Endpoint::parse("", P), Err(UrlError::Invalid(_))));
        assert!(matches!(Endpoint::parse("   ", P), Err(UrlError::Invalid(_))));
        assert!(matches!(
            Endpoint::parse("localhost:3000", P),
            Err(UrlError::Invalid(_))
        ));
        assert!(matches!(Endpoint::parse("localhost", P), Err(UrlError::Invalid(_))));
        assert!(matches!(
            Endpoint::parse("//localhost:3000", P),
            Err(UrlError::Invalid(_))
        ));
        assert!(matches!(Endpoint::parse("://x", P), Err(UrlError::Invalid(_))));
        assert_eq!(
            Endpoint::parse("ftp://x", P),
            Err(UrlError::UnsupportedScheme("ftp".to_owned()))
        );
        assert_eq!(
            Endpoint::parse("file:///etc/passwd", P),
            Err(UrlError::UnsupportedScheme("file".to_owned()))
        );
        assert_eq!(Endpoint::parse("ws://", P), Err(UrlError::MissingHost));
        assert_eq!(Endpoint::parse("https://", P), Err(UrlError::MissingHost));
        assert_eq!(Endpoint::parse("ws://:3000", P), Err(UrlError::MissingHost));
        assert!(matches!(
            Endpoint::parse("ws://host:99999", P),
            Err(UrlError::Invalid(_))
        ));
        assert!(matches!(Endpoint::parse("ws://host:-1", P), Err(UrlError::Invalid(_))));
        assert!(matches!(Endpoint::parse("ws://host:abc", P), Err(UrlError::Invalid(_))));
        assert!(matches!(Endpoint::parse("ws://[::1", P), Err(UrlError::Invalid(_))));
        assert!(matches!(Endpoint::parse("ws://a b", P), Err(UrlError::Invalid(_))));
        assert!(matches!(
            Endpoint::parse("ws://999.1.1.1", P),
            Err(UrlError::Invalid(_))
        ));
    }

    #[test]
    fn error_messages_are_readable() {
        let Err(e) = Endpoint::parse("localhost:3000", P) else {
            panic!("accepted")
        };
        assert!(e.to_string().contains("no scheme"), "{e}");
        let Err(e) = Endpoint::parse("ws://host:99999", P) else {
            panic!("accepted")
        };
        assert!(e.to_string().contains("port"), "{e}");
    }

    #[test]
    fn never_panics_on_odd_input() {
        let odd = [
            "\0",
            "ws://\0",
            "ws://%",
            "ws://%zz",
            "ws://h/%",
            "ws://h/%4",
            "ws://h/?%",
            "ws://h/?=",
            "ws://h/?==&&==",
            "ws://[]",
            "ws://[::1]:",
            "ws://h:",
            "ws://h:0",
            "ws://h:65535",
            "ws://h:65536",
            "ws://😀",
            "ws://😀.com/😀?😀=😀#😀",
            "ws://xn--/",
            "ws://xn--zz/",
            "ws://.",
            "ws://..",
            "ws://-",
            "wss://a..b",
            "ws:/h",
            "ws:h",
            "ws:///h",
            "ws:\\\\h",
            "😀://h",
            "ws://h\u{200b}",
            "ws://\u{feff}",
            "ws://h/\r\n",
            "ws://h\r\nX-Evil: 1",
            "ws://1.2.3.4.5",
            "ws://0x7f.1",
            "ws://4294967296",
        ];
        for input in odd {
            if let Ok(e) = Endpoint::parse(input, P) {
                assert!(e.ws_url().is_ascii(), "{input:?} -> {}", e.ws_url());
                assert!(!e.ws_url().contains(['\r', '\n', ' ']), "{input:?} -> {}", e.ws_url());
                assert!(!e.server_name().is_empty(), "{input:?}");
            }
            let _ = Endpoint::parse("ws://h", input);
        }
        // Every byte position of a long multi-byte string.
        let long: String = "ws://h/é?é=é#é".repeat(50);
        for end in 0..=long.len() {
            if let Some(prefix) = long.get(..end) {
                let _ = Endpoint::parse(prefix, prefix);
            }
        }
    }
}
