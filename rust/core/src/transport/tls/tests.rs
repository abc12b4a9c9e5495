//! Tests of the TLS set-up and of the verifier's verdicts (certificates made with rcgen).

use std::net::IpAddr;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::CertificateError;

use super::certificate::{name_matches, Leaf};
use super::godot_trust::{GodotTrust, Trust};
use super::*;
use crate::config::TlsVerification;

#[test]
fn empty_or_garbage_pem_is_refused_with_a_clear_message() {
    for pem in [
        &b""[..],
        b"garbage",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ] {
        let Err(why) = Trust::from_pem(pem) else {
            panic!("accepted {pem:?}")
        };
        assert!(why.to_string().contains("custom CA certificates"), "{why}");
    }
    let Err(why) = Trust::from_pem(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n") else {
        panic!("accepted")
    };
    let why = why.to_string();
    assert!(why.contains("PEM") || why.contains("not usable"), "{why}");
}

#[test]
fn tls_server_name_override_and_fallback() {
    let tls = TlsConfig {
        verification: TlsVerification::Disabled,
        server_name: None,
    };
    assert!(client_config(&tls, "::1").is_ok());
    assert!(client_config(&tls, "example.com").is_ok());
    let tls = TlsConfig {
        verification: TlsVerification::Disabled,
        server_name: Some("  ".to_owned()),
    };
    assert!(client_config(&tls, "example.com").is_ok());
    let tls = TlsConfig {
        verification: TlsVerification::Disabled,
        server_name: Some("bad name!".to_owned()),
    };
    let Err(why) = client_config(&tls, "example.com") else {
        panic!("accepted")
    };
    assert!(why.to_string().contains("server name"), "{why}");
}

#[test]
fn names_match_as_mbedtls_compares_them() {
    assert!(name_matches("localhost", "LocalHost"));
    assert!(name_matches("*.example.com", "a.example.com"));
    assert!(name_matches("*.Example.com", "a.example.COM"));
    assert!(!name_matches("*.example.com", "example.com"));
    assert!(!name_matches("*.example.com", "a.b.example.com"));
    assert!(!name_matches("*.example.com", ".example.com"));
    assert!(!name_matches("a*.example.com", "ab.example.com"));
    assert!(!name_matches("localhost", "localhost.evil"));
    assert!(!name_matches("*.", "a."));
}

/// A certificate for `sans` (none: the name only in the subject CN) with CN `cn`, self-signed or issued by
/// `issuer`; valid for the years given.
fn cert(
    cn: &str,
    sans: &[&str],
    ca: bool,
    years: (i32, i32),
    issuer: Option<&Issuer<'_, KeyPair>>,
) -> (CertificateDer<'static>, CertificateParams, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.subject_alt_names = sans
        .iter()
        .map(|name| match name.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName((*name).try_into().unwrap()),
        })
        .collect();
    params.distinguished_name.push(DnType::CommonName, cn);
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    }
    params.not_before = rcgen::date_time_ymd(years.0, 1, 1);
    params.not_after = rcgen::date_time_ymd(years.1, 1, 1);
    let key = KeyPair::generate().unwrap();
    let der = match issuer {
        Some(issuer) => params.signed_by(&key, issuer).unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    (der.der().clone(), params, key)
}

const VALID: (i32, i32) = (2020, 2200);

fn verifier(trusted: &[&CertificateDer<'static>], check_name: bool) -> GodotTrust {
    let pem: String = trusted
        .iter()
        .map(|der| {
            let body = der.as_ref().chunks(48).map(base64_line).collect::<Vec<_>>().join("\n");
            format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
        })
        .collect();
    GodotTrust {
        trust: Some(Trust::from_pem(pem.as_bytes()).unwrap()),
        check_name,
        algorithms: rustls::crypto::ring::default_provider().signature_verification_algorithms,
    }
}

fn base64_line(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

fn verdict(
    verifier: &GodotTrust,
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    host: &str,
) -> Result<(), String> {
    let name = ServerName::try_from(host.to_owned()).unwrap();
    let now = UnixTime::now();
    verifier
        .verify_server_cert(leaf, intermediates, &name, &[], now)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn a_pinned_self_signed_ca_is_trusted_as_it_is_and_matched_on_its_cn() {
    // What Crypto.generate_self_signed_certificate() makes: CA:TRUE, pathlen 0, the name only in the CN.
    let (godot, ..) = cert("localhost", &[], true, VALID, None);
    let pinned = verifier(&[&godot], true);
    assert_eq!(verdict(&pinned, &godot, &[], "localhost"), Ok(()));
    assert_eq!(verdict(&pinned, &godot, &[], "LOCALHOST"), Ok(()));
    let refused = verdict(&pinned, &godot, &[], "127.0.0.1").unwrap_err();
    assert!(
        refused.contains("127.0.0.1") && refused.contains("localhost"),
        "{refused}"
    );
    assert_eq!(verdict(&verifier(&[&godot], false), &godot, &[], "127.0.0.1"), Ok(()));
}

#[test]
fn with_a_subject_alt_name_only_it_counts() {
    let (openssl, ..) = cert("not-this-name", &["localhost", "127.0.0.1"], true, VALID, None);
    let pinned = verifier(&[&openssl], true);
    assert_eq!(verdict(&pinned, &openssl, &[], "localhost"), Ok(()));
    assert_eq!(verdict(&pinned, &openssl, &[], "127.0.0.1"), Ok(()));
    assert!(
        verdict(&pinned, &openssl, &[], "not-this-name").is_err(),
        "the CN does not count"
    );
    assert!(verdict(&pinned, &openssl, &[], "::1").is_err());
}

#[test]
fn a_leaf_must_chain_to_a_trusted_ca() {
    let (_, ca_params, ca_key) = cert("Test CA", &[], true, VALID, None);
    let ca_der = ca_params.self_signed(&ca_key).unwrap().der().clone();
    let issuer = Issuer::new(ca_params, ca_key);
    let (leaf, ..) = cert("localhost", &["localhost"], false, VALID, Some(&issuer));
    let (expired, ..) = cert("localhost", &["localhost"], false, (2020, 2021), Some(&issuer));
    let (other, ..) = cert("localhost", &[], true, VALID, None);
    let trusted = verifier(&[&ca_der], true);
    // A CA out of its own dates signs nothing mbedTLS accepts.
    let (_, old_ca_params, old_ca_key) = cert("Old CA", &[], true, (2019, 2021), None);
    let old_ca_der = old_ca_params.self_signed(&old_ca_key).unwrap().der().clone();
    let old_issuer = Issuer::new(old_ca_params, old_ca_key);
    let (young_leaf, ..) = cert("localhost", &["localhost"], false, (2020, 2200), Some(&old_issuer));
    let why = verdict(&verifier(&[&old_ca_der], true), &young_leaf, &[], "localhost").unwrap_err();
    assert!(why.contains("expired"), "{why}");
    assert_eq!(verdict(&trusted, &leaf, &[], "localhost"), Ok(()));
    let mismatch = verdict(&trusted, &leaf, &[], "127.0.0.1").unwrap_err();
    assert!(mismatch.contains("127.0.0.1"), "{mismatch}");
    let old = verdict(&trusted, &expired, &[], "localhost").unwrap_err();
    assert!(old.contains("expired"), "{old}");
    let unknown = verdict(&verifier(&[&other], true), &leaf, &[], "localhost").unwrap_err();
    assert!(unknown.contains("UnknownIssuer"), "{unknown}");
    // A trusted certificate that is not the server's.
    assert!(verdict(&trusted, &other, &[], "localhost").is_err());
}

#[test]
fn an_expired_ca_signs_nothing_even_beside_a_renewed_one_or_with_junk_in_the_chain() {
    // Case A: the CA was renewed (same name, new key); the old one, expired, is still in the bundle.
    let (_, old_params, old_key) = cert("Test CA", &[], true, (2019, 2021), None);
    let old_der = old_params.self_signed(&old_key).unwrap().der().clone();
    let old_issuer = Issuer::new(old_params, old_key);
    let (_, new_params, new_key) = cert("Test CA", &[], true, VALID, None);
    let new_der = new_params.self_signed(&new_key).unwrap().der().clone();
    let new_issuer = Issuer::new(new_params, new_key);
    let (by_old, ..) = cert("localhost", &["localhost"], false, (2020, 2200), Some(&old_issuer));
    let (by_new, ..) = cert("localhost", &["localhost"], false, VALID, Some(&new_issuer));
    let both = verifier(&[&old_der, &new_der], true);
    let why = verdict(&both, &by_old, &[], "localhost").unwrap_err();
    assert!(why.contains("expired"), "{why}");
    assert_eq!(verdict(&both, &by_new, &[], "localhost"), Ok(()));

    // Case B: a certificate issued by another, valid, trusted CA appended to the chain changes nothing.
    let (_, other_params, other_key) = cert("Other CA", &[], true, VALID, None);
    let other_der = other_params.self_signed(&other_key).unwrap().der().clone();
    let other_issuer = Issuer::new(other_params, other_key);
    let (junk, ..) = cert("junk", &["junk"], false, VALID, Some(&other_issuer));
    let two = verifier(&[&old_der, &other_der], true);
    let why = verdict(&two, &by_old, &[junk], "localhost").unwrap_err();
    assert!(why.contains("expired"), "{why}");
}

#[test]
fn a_leaf_whose_key_usage_forbids_signatures_is_refused() {
    let (_, ca_params, ca_key) = cert("Test CA", &[], true, VALID, None);
    let ca_der = ca_params.self_signed(&ca_key).unwrap().der().clone();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyEncipherment];
    let key = KeyPair::generate().unwrap();
    let leaf = params.signed_by(&key, &issuer).unwrap().der().clone();
    let why = verdict(&verifier(&[&ca_der], true), &leaf, &[], "localhost").unwrap_err();
    assert!(why.to_lowercase().contains("purpose") || why.contains("usage"), "{why}");
}

#[test]
fn a_pinned_certificate_out_of_its_dates_is_refused() {
    let (expired, ..) = cert("localhost", &["localhost"], true, (2020, 2021), None);
    let why = verdict(&verifier(&[&expired], true), &expired, &[], "localhost").unwrap_err();
    assert!(why.contains("expired"), "{why}");
    let (future, ..) = cert("localhost", &["localhost"], true, (2150, 2200), None);
    let why = verdict(&verifier(&[&future], false), &future, &[], "localhost").unwrap_err();
    assert!(
        why.contains("not valid yet") || why.contains("not valid before"),
        "{why}"
    );
}

#[test]
fn handshake_errors_name_their_cause() {
    let wrap = |e: CertificateError| std::io::Error::other(rustls::Error::InvalidCertificate(e));
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mismatch = wrap(CertificateError::NotValidForNameContext {
        expected: name,
        presented: vec!["localhost".to_owned(), "example.com".to_owned()],
    });
    assert_eq!(
        handshake_failure(&mismatch).to_string(),
        "the server's certificate is for localhost, example.com, not for 127.0.0.1 (name mismatch)"
    );
    let expired = wrap(CertificateError::ExpiredContext {
        time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_800_000_000)),
        not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(1_577_923_200)),
    });
    assert_eq!(
        handshake_failure(&expired).to_string(),
        "the server's certificate expired on 2020-01-02 00:00:00 UTC"
    );
    assert!(handshake_failure(&wrap(CertificateError::UnknownIssuer))
        .to_string()
        .contains("unknown issuer"));
    use crate::error::utc_date;
    assert_eq!(utc_date(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(utc_date(951_782_400), "2000-02-29 00:00:00 UTC");
    assert_eq!(utc_date(1_764_623_520), "2025-12-01 21:12:00 UTC");
}

#[test]
fn garbage_never_parses_as_a_certificate() {
    assert!(Leaf::parse(b"").is_none());
    assert!(Leaf::parse(&[0x30, 0x82, 0xff, 0xff]).is_none());
    assert!(Leaf::parse(&[0x30; 64]).is_none());
}
