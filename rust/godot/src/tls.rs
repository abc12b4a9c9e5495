//! `TLSOptions` → the core's [`TlsConfig`]; the core's verifier then gives Godot's own verdicts for them.
//!
//! - `null` or `TLSOptions.client()` → the Mozilla roots bundled with the extension (`webpki-roots`);
//! - `TLSOptions.client(cert)` → only `cert`: the server's certificate is `cert` itself (self-signed) or is issued
//!   by it;
//! - `TLSOptions.client_unsafe()` → no verification at all;
//! - `TLSOptions.client_unsafe(chain)` → as Godot does: the certificate must be or chain to one in `chain`, but the
//!   host name is not checked;
//! - `common_name_override` → the name the certificate is checked against (and sent as SNI).
//!
//! Server options (`TLSOptions.server(...)`) are refused.
//!
//! The certificates are read with `X509Certificate.save_to_string()`, the only export Godot offers. In Godot 4.3–4.6
//! it writes the chain's *first* certificate once per certificate in the chain, so only that one is trusted, and it
//! prints "Unicode parsing error … Unexpected NUL character" (its PEM ends with a NUL, stripped here).

use godot::classes::TlsOptions;
use godot::obj::Gd;
use socketio_core::{TlsConfig, TlsVerification};

/// Reads Godot's TLS options into the core's settings; `Err` says why they cannot be used for a client.
pub fn tls_config(options: Option<&Gd<TlsOptions>>) -> Result<TlsConfig, String> {
    let Some(options) = options else {
        return Ok(TlsConfig::default());
    };
    if options.is_server() {
        return Err("tls_options is a server configuration (TLSOptions.server()); use TLSOptions.client()".to_owned());
    }
    let server_name = Some(options.get_common_name_override().to_string()).filter(|name| !name.is_empty());
    let chain = match options.get_trusted_ca_chain() {
        Some(mut chain) => {
            let pem = pem_bytes(&chain.save_to_string().to_string());
            if pem.is_empty() {
                return Err("tls_options has a trusted CA chain that holds no certificate".to_owned());
            }
            Some(pem)
        }
        None => None,
    };
    let verification = match (options.is_unsafe_client(), chain) {
        (true, None) => TlsVerification::Disabled,
        (true, Some(pem)) => TlsVerification::CustomRootsPemAnyName(pem),
        (false, Some(pem)) => TlsVerification::CustomRootsPem(pem),
        (false, None) => TlsVerification::WebPkiRoots,
    };
    Ok(TlsConfig {
        verification,
        server_name,
    })
}

/// PEM text from `X509Certificate.save_to_string()`, without the trailing NUL Godot leaves there.
pub fn pem_bytes(text: &str) -> Vec<u8> {
    let pem = text.trim_end_matches('\0').trim();
    if pem.is_empty() {
        return Vec::new();
    }
    format!("{pem}\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::pem_bytes;

    #[test]
    fn trailing_nul_is_stripped() {
        let pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n\0";
        assert_eq!(
            pem_bytes(pem),
            b"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"
        );
        assert!(pem_bytes("\0").is_empty());
    }
}
