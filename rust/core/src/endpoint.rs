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

use url::{Host, Url};

use crate::error::UrlError;

/// The Engine.IO protocol version this client speaks.
const EIO_VERSION: &str = "4";

/// A server address, parsed and checked: everything the transport needs to open the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    ws_url: String,
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
        let query = build_query(url.query());

        let authority = if port == default_port {
            host.clone()
        } else {
            format!("{host}:{port}")
        };
        let mut out =
            Url::parse(&format!("{ws_scheme}://{authority}/")).map_err(|e| UrlError::Invalid(e.to_string()))?;
        out.set_path(&engine_path);
        out.set_query(Some(&query));
        let ws_url = String::from(out);

        // The transport hands this string to tungstenite, which parses it again (as an `http::Uri`): refuse now
        // anything it would refuse later.
        if let Err(e) = tungstenite::client::IntoClientRequest::into_client_request(ws_url.as_str()) {
            return Err(UrlError::Invalid(e.to_string()));
        }

        Ok(Endpoint {
            ws_url,
            host,
            server_name,
            port,
            tls,
            namespace,
            path: engine_path,
        })
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

/// The user's query pieces, raw, minus `EIO` and `transport`, then ours.
fn build_query(user: Option<&str>) -> String {
    let mut query = String::new();
    for piece in user.unwrap_or("").split('&') {
        if piece.is_empty() {
            continue;
        }
        let key = piece.split('=').next().unwrap_or(piece);
        let key = percent_decode(key);
        if key == "EIO" || key == "transport" {
            continue;
        }
        query.push_str(piece);
        query.push('&');
    }
    query.push_str("EIO=");
    query.push_str(EIO_VERSION);
    query.push_str("&transport=websocket");
    query
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
