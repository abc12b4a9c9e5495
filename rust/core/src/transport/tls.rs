//! TLS settings for `wss://`: rustls, with a certificate verifier that trusts what Godot's own TLS trusts.
//!
//! # One rule: Godot's verdicts
//!
//! A game developer trusts a certificate with Godot's `TLSOptions` and expects every Godot class to agree on it.
//! Godot's TLS is mbedTLS, so [`GodotTrust`] decides the way mbedTLS does for the same options, case by case:
//!
//! - **A trusted certificate that is the server's own** (byte for byte, and self-issued) is trusted as it is:
//!   whether it is a CA or not, whatever its path length (mbedTLS's "locally trusted end entity"). This is what
//!   `Crypto.generate_self_signed_certificate()` (CA:TRUE) and `openssl req -x509` make.
//! - **Otherwise the chain must lead to a trusted certificate**: webpki checks signatures, validity dates, CA
//!   constraints and the serverAuth purpose, as mbedTLS does; the key usage, if any, must allow signatures (mbedTLS
//!   asks that of the key exchanges rustls makes). A pinned certificate signed with MD5 or SHA-1 is refused, as
//!   Godot's mbedTLS profile refuses it.
//! - **The name**: with a subjectAltName extension only its DNS names (with a leftmost `*.` wildcard), IP addresses
//!   and URIs count; without one, the subject's common names. The name is the host of the URL, or
//!   `common_name_override` (Godot's) instead. Case does not matter.
//! - **Dates** are checked for the server's certificate in every verified mode (a pinned one too).
//! - `TLSOptions.client_unsafe(chain)` checks the chain but no name; `client_unsafe()` checks nothing.
//!
//! - **The dates of the trusted certificate** a chain leads to are checked too (webpki does not, mbedTLS does).
//!
//! Where webpki is stricter than mbedTLS it stays so: a CA:TRUE or v1 certificate *issued by* a trusted CA, rather
//! than trusted itself, is refused.
//!
//! Handshake signatures are checked with the provider's algorithms in every mode, so the server proves it holds
//! the key of the certificate it sent.

use std::net::IpAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::config::{TlsConfig, TlsVerification};
use crate::error::{CertificateRefusal, IoFailure, TlsFailure, TlsSettingsError};

/// The rustls client settings and the name to verify, from the user's TLS settings.
pub(crate) fn tls_setup(
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
    let algorithms = provider.signature_verification_algorithms;
    let verifier = match &tls.verification {
        TlsVerification::WebPkiRoots => GodotTrust {
            trust: Some(Trust::roots(webpki_roots::TLS_SERVER_ROOTS.to_vec(), Vec::new())),
            check_name: true,
            algorithms,
        },
        TlsVerification::CustomRootsPem(pem) => GodotTrust {
            trust: Some(Trust::from_pem(pem)?),
            check_name: true,
            algorithms,
        },
        TlsVerification::CustomRootsPemAnyName(pem) => GodotTrust {
            trust: Some(Trust::from_pem(pem)?),
            check_name: false,
            algorithms,
        },
        TlsVerification::Disabled => GodotTrust {
            trust: None,
            check_name: false,
            algorithms,
        },
    };
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), server_name))
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

/// What is trusted: the anchors a chain may lead to, and the certificates themselves (for pinning).
#[derive(Debug)]
struct Trust {
    roots: RootCertStore,
    /// The user's certificates as given: a server presenting one of these (self-issued) is trusted as it is.
    pinned: Vec<CertificateDer<'static>>,
    /// Each of `pinned` as an anchor, with its dates (webpki does not check an anchor's dates; mbedTLS does).
    dated: Vec<DatedAnchor>,
}

#[derive(Debug)]
struct DatedAnchor {
    anchor: rustls_pki_types::TrustAnchor<'static>,
    not_before: i64,
    not_after: i64,
}

impl Trust {
    fn roots(roots: Vec<rustls_pki_types::TrustAnchor<'static>>, pinned: Vec<CertificateDer<'static>>) -> Self {
        Trust {
            roots: RootCertStore { roots },
            pinned,
            dated: Vec::new(),
        }
    }

    /// The certificates of a PEM bundle (`TLSOptions.client(chain)`), each an anchor and a pin.
    fn from_pem(pem: &[u8]) -> Result<Self, TlsSettingsError> {
        let mut roots = RootCertStore::empty();
        let mut pinned = Vec::new();
        let mut dated = Vec::new();
        for (i, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
            let cert = cert.map_err(|e| TlsSettingsError::InvalidPem(e.to_string()))?;
            roots
                .add(cert.clone())
                .map_err(|e| TlsSettingsError::UnusableCertificate {
                    index: i + 1,
                    why: e.to_string(),
                })?;
            let (Some(anchor), Ok((_, parsed))) = (roots.roots.last(), x509_parser::parse_x509_certificate(&cert))
            else {
                pinned.push(cert);
                continue;
            };
            let validity = &parsed.tbs_certificate.validity;
            dated.push(DatedAnchor {
                anchor: anchor.clone(),
                not_before: validity.not_before.timestamp(),
                not_after: validity.not_after.timestamp(),
            });
            pinned.push(cert);
        }
        if roots.is_empty() {
            return Err(TlsSettingsError::NoCertificate);
        }
        Ok(Trust { roots, pinned, dated })
    }

    /// The chain from `end_entity` leads to a trusted certificate that is within its own dates. mbedTLS checks the
    /// dates of the trusted certificate a chain ends at, webpki does not: so the chain is first built with the
    /// anchors in their dates only; when that fails but the chain does lead to an anchor out of its dates (an
    /// expired CA, say), the refusal names that anchor's dates, as mbedTLS's would.
    fn verify_chain(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
        algorithms: &[&dyn rustls::pki_types::SignatureVerificationAlgorithm],
    ) -> Result<(), rustls::Error> {
        let parsed = ParsedCertificate::try_from(end_entity)?;
        let verify = |roots: &RootCertStore| {
            verify_server_cert_signed_by_trust_anchor(&parsed, roots, intermediates, now, algorithms)
        };
        let (current, out_of_date): (Vec<&DatedAnchor>, Vec<&DatedAnchor>) = self
            .dated
            .iter()
            .partition(|a| in_dates(now, a.not_before, a.not_after).is_ok());
        let Some(stale) = out_of_date.first() else {
            return verify(&self.roots);
        };
        let in_date = RootCertStore {
            roots: current.iter().map(|a| a.anchor.clone()).collect(),
        };
        let refusal = match verify(&in_date) {
            Ok(()) => return Ok(()),
            Err(refusal) => refusal,
        };
        match verify(&self.roots) {
            Ok(()) => {
                // Which stale anchor issued it matters only for the wording: name one whose subject issued a
                // certificate of the chain.
                let issuers: Vec<Vec<u8>> = std::iter::once(end_entity)
                    .chain(intermediates)
                    .filter_map(|der| x509_parser::parse_x509_certificate(der).ok())
                    .map(|(_, cert)| cert.tbs_certificate.issuer.as_raw().to_vec())
                    .collect();
                let anchor = out_of_date
                    .iter()
                    .find(|a| {
                        issuers
                            .iter()
                            .any(|issuer| issuer.as_slice() == a.anchor.subject.as_ref())
                    })
                    .unwrap_or(stale);
                Err(in_dates(now, anchor.not_before, anchor.not_after)
                    .err()
                    .unwrap_or(CertificateError::UnknownIssuer)
                    .into())
            }
            Err(_) => Err(refusal),
        }
    }
}

/// The certificate verifier: Godot's (mbedTLS's) verdicts, see the module documentation.
#[derive(Debug)]
struct GodotTrust {
    /// `None`: nothing is verified (`TLSOptions.client_unsafe()`).
    trust: Option<Trust>,
    /// Whether the certificate must be issued for the server name.
    check_name: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for GodotTrust {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(trust) = &self.trust else {
            return Ok(ServerCertVerified::assertion());
        };
        let pinned = trust.pinned.iter().any(|pin| pin.as_ref() == end_entity.as_ref());
        let leaf = Leaf::parse(end_entity);
        match (&leaf, pinned) {
            (Some(leaf), true) if leaf.self_issued => leaf.check_pinned(now)?,
            _ => {
                trust.verify_chain(end_entity, intermediates, now, self.algorithms.all)?;
                // webpki checks the extended key usage; mbedTLS also the key usage.
                if let Some(leaf) = &leaf {
                    leaf.check_purposes()?;
                }
            }
        }
        if self.check_name {
            // webpki accepted it, so it parses; a certificate this parser cannot read has no name to match.
            let Some(leaf) = leaf else {
                return Err(CertificateError::BadEncoding.into());
            };
            leaf.check_name(server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// What the checks need of the server's certificate.
struct Leaf {
    self_issued: bool,
    not_before: i64,
    not_after: i64,
    /// The subjectAltName extension's names, when it has one.
    alt_names: Option<Vec<AltName>>,
    common_names: Vec<String>,
    /// The extended key usage allows a TLS server (or is absent).
    server_auth: bool,
    /// The key usage allows signatures (or is absent).
    digital_signature: bool,
    /// Signed with MD2, MD5 or SHA-1, which Godot's mbedTLS profile refuses.
    weak_signature: bool,
}

/// Signature algorithms over MD2, MD5 or SHA-1 (RSA, ECDSA, DSA).
const WEAK_SIGNATURES: [&str; 6] = [
    "1.2.840.113549.1.1.2",
    "1.2.840.113549.1.1.4",
    "1.2.840.113549.1.1.5",
    "1.2.840.10045.4.1",
    "1.2.840.10040.4.3",
    "1.3.14.3.2.29",
];

/// A refusal rustls has no variant for.
#[derive(Debug)]
struct Refusal(&'static str);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Refusal {}

/// One name of a subjectAltName extension that can match a host.
enum AltName {
    Dns(String),
    Ip(IpAddr),
    Uri(String),
}

impl Leaf {
    /// `None` when the DER does not parse, or its extensions are malformed.
    fn parse(der: &[u8]) -> Option<Leaf> {
        let (rest, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        if !rest.is_empty() {
            return None;
        }
        let alt_names = cert.subject_alternative_name().ok()?.map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(dns) => Some(AltName::Dns((*dns).to_owned())),
                    GeneralName::URI(uri) => Some(AltName::Uri((*uri).to_owned())),
                    GeneralName::IPAddress(bytes) => ip_from_bytes(bytes).map(AltName::Ip),
                    _ => None,
                })
                .collect()
        });
        let (server_auth, digital_signature) = usages(&cert)?;
        let tbs = &cert.tbs_certificate;
        Some(Leaf {
            self_issued: tbs.issuer.as_raw() == tbs.subject.as_raw(),
            not_before: tbs.validity.not_before.timestamp(),
            not_after: tbs.validity.not_after.timestamp(),
            alt_names,
            common_names: tbs
                .subject
                .iter_common_name()
                .filter_map(|cn| cn.as_str().ok().map(str::to_owned))
                .collect(),
            server_auth,
            digital_signature,
            weak_signature: WEAK_SIGNATURES.contains(&cert.signature_algorithm.algorithm.to_id_string().as_str()),
        })
    }

    /// A pinned certificate is trusted as it is, within its dates and purposes.
    fn check_pinned(&self, now: UnixTime) -> Result<(), CertificateError> {
        in_dates(now, self.not_before, self.not_after)?;
        if self.weak_signature {
            return Err(CertificateError::Other(rustls::OtherError(Arc::new(Refusal(
                "it is signed with MD5 or SHA-1, which Godot refuses",
            )))));
        }
        self.check_purposes()
    }

    /// The certificate may serve a TLS server (extended key usage) and sign its handshakes (key usage), as mbedTLS
    /// asks of the key exchanges rustls makes.
    fn check_purposes(&self) -> Result<(), CertificateError> {
        if !self.server_auth || !self.digital_signature {
            return Err(CertificateError::InvalidPurpose);
        }
        Ok(())
    }

    /// The certificate is issued for `name`: mbedTLS's rule (subjectAltName if present, else the common names).
    fn check_name(&self, name: &ServerName<'_>) -> Result<(), CertificateError> {
        let host = match name {
            ServerName::DnsName(dns) => dns.as_ref().to_owned(),
            ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
            _ => String::new(),
        };
        let ip = host.parse::<IpAddr>().ok();
        let matches = match &self.alt_names {
            Some(names) => names.iter().any(|alt| match alt {
                AltName::Dns(dns) => name_matches(dns, &host),
                AltName::Ip(alt_ip) => ip == Some(*alt_ip),
                AltName::Uri(uri) => *uri == host,
            }),
            None => self.common_names.iter().any(|cn| name_matches(cn, &host)),
        };
        if matches {
            return Ok(());
        }
        let presented = match &self.alt_names {
            Some(names) => names
                .iter()
                .map(|alt| match alt {
                    AltName::Dns(dns) => dns.clone(),
                    AltName::Ip(ip) => ip.to_string(),
                    AltName::Uri(uri) => uri.clone(),
                })
                .collect(),
            None => self.common_names.clone(),
        };
        Err(CertificateError::NotValidForNameContext {
            expected: name.to_owned(),
            presented,
        })
    }
}

/// `now` is within `not_before..=not_after` (UNIX seconds), or the refusal that says which end it is past.
fn in_dates(now: UnixTime, not_before: i64, not_after: i64) -> Result<(), CertificateError> {
    let time = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let unix = |t: i64| UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.max(0).unsigned_abs()));
    if time > not_after {
        return Err(CertificateError::ExpiredContext {
            time: now,
            not_after: unix(not_after),
        });
    }
    if time < not_before {
        return Err(CertificateError::NotValidYetContext {
            time: now,
            not_before: unix(not_before),
        });
    }
    Ok(())
}

/// (serverAuth allowed, digitalSignature allowed) by the extended key usage and key usage extensions, each `true`
/// when absent; `None` when one is malformed.
fn usages(cert: &X509Certificate<'_>) -> Option<(bool, bool)> {
    let server_auth = match cert.extended_key_usage().ok()? {
        Some(eku) => eku.value.any || eku.value.server_auth,
        None => true,
    };
    let digital_signature = match cert.key_usage().ok()? {
        Some(ku) => ku.value.digital_signature(),
        None => true,
    };
    Some((server_auth, digital_signature))
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// mbedTLS's name comparison: equal ignoring ASCII case, or a `*.rest` pattern matching a host whose part after
/// its first label equals `rest`.
fn name_matches(pattern: &str, host: &str) -> bool {
    if pattern.eq_ignore_ascii_case(host) {
        return true;
    }
    match (pattern.strip_prefix("*."), host.split_once('.')) {
        (Some(rest), Some((first, host_rest))) => {
            !rest.is_empty() && !first.is_empty() && rest.eq_ignore_ascii_case(host_rest)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(tls_setup(&tls, "::1").is_ok());
        assert!(tls_setup(&tls, "example.com").is_ok());
        let tls = TlsConfig {
            verification: TlsVerification::Disabled,
            server_name: Some("  ".to_owned()),
        };
        assert!(tls_setup(&tls, "example.com").is_ok());
        let tls = TlsConfig {
            verification: TlsVerification::Disabled,
            server_name: Some("bad name!".to_owned()),
        };
        let Err(why) = tls_setup(&tls, "example.com") else {
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

    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};

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
}
