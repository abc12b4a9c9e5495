//! `wss://` against the real socket.io server, with a self-signed certificate made at test time.

mod common;

use std::time::{Duration, Instant};

use common::{poll_until, TestServer};
use socketio_core::{Client, ClientConfig, ClientEvent, TlsVerification};

/// A TLS server for "localhost" and its certificate's PEM. The files live as long as the returned guard.
fn tls_server() -> (TestServer, String, tempdir::Dir) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let dir = tempdir::Dir::new();
    let cert_pem = certified.cert.pem();
    let cert = dir.write("cert.pem", &cert_pem);
    let key = dir.write("key.pem", &certified.signing_key.serialize_pem());
    let server = TestServer::start(&["--tls-cert", &cert, "--tls-key", &key]);
    (server, cert_pem, dir)
}

/// Connects "/" over `wss://localhost` with `verification` (and `server_name`); returns the first decisive event.
fn try_connect(server: &TestServer, verification: TlsVerification, server_name: Option<&str>) -> ClientEvent {
    let mut config = ClientConfig::default();
    config.tls.verification = verification;
    config.tls.server_name = server_name.map(str::to_owned);
    config.reconnect.enabled = false;
    let mut client = Client::new(config);
    client.connect_namespace(Instant::now(), "/", None).unwrap();
    client
        .connect(Instant::now(), &format!("wss://localhost:{}", server.port))
        .unwrap();
    let events = poll_until(&mut client, Duration::from_secs(10), |events| {
        events.iter().any(|e| {
            matches!(
                e,
                ClientEvent::NamespaceConnected { .. } | ClientEvent::TransportError(_)
            )
        })
    });
    events
        .into_iter()
        .find(|e| {
            matches!(
                e,
                ClientEvent::NamespaceConnected { .. } | ClientEvent::TransportError(_)
            )
        })
        .unwrap()
}

#[test]
fn self_signed_certificate_is_refused_by_default() {
    let (server, _, _dir) = tls_server();
    let event = try_connect(&server, TlsVerification::WebPkiRoots, None);
    let ClientEvent::TransportError(error) = event else {
        panic!("connected to an untrusted server: {event:?}")
    };
    assert!(
        error.message.to_lowercase().contains("certificate"),
        "{}",
        error.message
    );
}

#[test]
fn self_signed_certificate_is_accepted_as_trusted_ca() {
    let (server, pem, _dir) = tls_server();
    let event = try_connect(&server, TlsVerification::CustomRootsPem(pem.into_bytes()), None);
    assert!(matches!(event, ClientEvent::NamespaceConnected { .. }), "{event:?}");
}

#[test]
fn wrong_server_name_is_refused_even_with_the_right_ca() {
    let (server, pem, _dir) = tls_server();
    let event = try_connect(
        &server,
        TlsVerification::CustomRootsPem(pem.into_bytes()),
        Some("example.com"),
    );
    assert!(matches!(event, ClientEvent::TransportError(_)), "{event:?}");
}

#[test]
fn verification_off_accepts_anything_when_asked() {
    let (server, _, _dir) = tls_server();
    let event = try_connect(&server, TlsVerification::Disabled, None);
    assert!(matches!(event, ClientEvent::NamespaceConnected { .. }), "{event:?}");
}

/// A throwaway directory under the system temp dir, removed on drop.
#[test]
fn polling_over_https_upgrades_to_wss() {
    let (server, cert_pem, _dir) = tls_server();
    let mut config = ClientConfig {
        transports: vec![
            socketio_core::TransportKind::Polling,
            socketio_core::TransportKind::WebSocket,
        ],
        ..ClientConfig::default()
    };
    config.tls.verification = TlsVerification::CustomRootsPem(cert_pem.into_bytes());
    config.reconnect.enabled = false;
    let mut client = Client::new(config);
    client.connect_namespace(Instant::now(), "/", None).unwrap();
    client
        .connect(Instant::now(), &format!("https://localhost:{}", server.port))
        .unwrap();
    let events = poll_until(&mut client, Duration::from_secs(10), |events| {
        events.iter().any(|e| matches!(e, ClientEvent::Upgraded { .. }))
            && events
                .iter()
                .any(|e| matches!(e, ClientEvent::NamespaceConnected { .. }))
    });
    assert!(
        events.iter().any(|e| matches!(e, ClientEvent::Upgraded { .. })),
        "{events:#?}"
    );
    assert_eq!(client.transport(), Some(socketio_core::TransportKind::WebSocket));
}

#[test]
fn polling_over_https_refuses_an_untrusted_certificate() {
    let (server, _, _dir) = tls_server();
    let mut config = ClientConfig {
        transports: vec![socketio_core::TransportKind::Polling],
        ..ClientConfig::default()
    };
    config.reconnect.enabled = false;
    let mut client = Client::new(config);
    client.connect_namespace(Instant::now(), "/", None).unwrap();
    client
        .connect(Instant::now(), &format!("https://localhost:{}", server.port))
        .unwrap();
    let events = poll_until(&mut client, Duration::from_secs(10), |events| {
        events.iter().any(|e| matches!(e, ClientEvent::TransportError(_)))
    });
    let error = events
        .iter()
        .find_map(|e| match e {
            ClientEvent::TransportError(error) => Some(error),
            _ => None,
        })
        .unwrap();
    assert!(error.message.contains("certificate"), "{}", error.message);
}

mod tempdir {
    use std::path::PathBuf;

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> Dir {
            let unique = format!(
                "socketio-tls-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos()
            );
            let path = std::env::temp_dir().join(unique);
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }

        pub fn write(&self, name: &str, contents: &str) -> String {
            let path = self.0.join(name);
            std::fs::write(&path, contents).unwrap();
            path.to_string_lossy().into_owned()
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
