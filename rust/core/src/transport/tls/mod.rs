//! TLS for `wss://` and `https://`: the rustls client settings made from the user's [`TlsConfig`]
//! ([`client_config`]), a connection with our buffer limit ([`connection`]), and a failed handshake told in words
//! ([`handshake_failure`]).
//!
//! rustls with the *ring* provider, installed per connection (the process-wide default provider is neither read nor
//! set). What is trusted, and how, is the verifier's, [`godot_trust::GodotTrust`]: Godot's own verdicts
//! for the same `TLSOptions`. [`TlsConfig::server_name`] replaces the URL's host for SNI and certificate
//! verification.
//!
//! - `godot_trust`: the verifier, and what it trusts;
//! - `certificate`: what it reads of the server's certificate, and mbedTLS's rules for names, dates and purposes.

mod certificate;
mod godot_trust;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConnection};

use crate::config::TlsConfig;
use crate::error::{CertificateRefusal, IoFailure, TlsFailure, TlsSettingsError};
use godot_trust::GodotTrust;

/// Most plaintext bytes rustls buffers ahead of the socket: larger than rustls' 64 KiB default so a big message is
/// handed over in few pieces (the protocol library above keeps the rest).
const TLS_BUFFER_LIMIT: usize = 1 << 20;

/// The rustls client settings and the name to verify, from the user's TLS settings; `host` is the URL's.
pub(crate) fn client_config(
    tls: &TlsConfig,
    host: &str,
) -> Result<(Arc<rustls::ClientConfig>, ServerName<'static>), TlsSettingsError> {
    let name = match tls.server_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => name,
        _ => host,
    };
    let server_name = ServerName::try_from(name.to_owned()).map_err(|e| TlsSettingsError::ServerName {
        name: name.to_owned(),
        why: e.to_string(),
    })?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSettingsError::Setup(e.to_string()))?;
    let verifier = GodotTrust::new(&tls.verification, provider.signature_verification_algorithms)?;
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), server_name))
}

/// A client connection to `name` with these settings, its handshake not started; it buffers at most
/// [`TLS_BUFFER_LIMIT`] plaintext bytes ahead of the socket.
pub(crate) fn connection(
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
) -> Result<ClientConnection, TlsFailure> {
    let mut conn = ClientConnection::new(config, name).map_err(|e| TlsFailure::Protocol(e.to_string()))?;
    conn.set_buffer_limit(Some(TLS_BUFFER_LIMIT));
    Ok(conn)
}

/// Why a TLS handshake failed, for the game: certificate refusals name their cause in words (expired, and when;
/// the name asked for and the names the certificate holds; an unknown issuer), other errors as rustls says them.
pub(crate) fn handshake_failure(e: &std::io::Error) -> TlsFailure {
    let refusal = match e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(refusal)) => refusal,
        Some(_) if e.kind() == std::io::ErrorKind::InvalidData => return TlsFailure::Protocol(e.to_string()),
        _ => return TlsFailure::Io(IoFailure::of(e)),
    };
    TlsFailure::Certificate(match refusal {
        CertificateError::UnknownIssuer => CertificateRefusal::UnknownIssuer,
        CertificateError::NotValidForNameContext { expected, presented } => CertificateRefusal::NameMismatch {
            expected: match expected {
                ServerName::DnsName(dns) => dns.as_ref().to_owned(),
                ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
                other => format!("{other:?}"),
            },
            presented: presented.clone(),
        },
        CertificateError::ExpiredContext { not_after, .. } => CertificateRefusal::Expired {
            not_after: not_after.as_secs(),
        },
        CertificateError::NotValidYetContext { not_before, .. } => CertificateRefusal::NotValidYet {
            not_before: not_before.as_secs(),
        },
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            CertificateRefusal::NotForServers
        }
        CertificateError::Other(rustls::OtherError(why)) => CertificateRefusal::Other(why.to_string()),
        other => CertificateRefusal::Other(other.to_string()),
    })
}
