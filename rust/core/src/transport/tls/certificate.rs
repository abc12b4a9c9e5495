//! What the certificate checks of [`GodotTrust`](super::godot_trust::GodotTrust) read of the server's certificate,
//! and the rules they apply as mbedTLS does: [`Leaf`] (self-issued or not, dates, names, purposes, weak signature),
//! the name comparison ([`name_matches`]) and the date check ([`in_dates`]).

use std::net::IpAddr;
use std::sync::Arc;

use rustls::pki_types::{ServerName, UnixTime};
use rustls::CertificateError;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

/// What the checks need of the server's certificate.
pub(super) struct Leaf {
    pub(super) self_issued: bool,
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
    pub(super) fn parse(der: &[u8]) -> Option<Leaf> {
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
    pub(super) fn check_pinned(&self, now: UnixTime) -> Result<(), CertificateError> {
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
    pub(super) fn check_purposes(&self) -> Result<(), CertificateError> {
        if !self.server_auth || !self.digital_signature {
            return Err(CertificateError::InvalidPurpose);
        }
        Ok(())
    }

    /// The certificate is issued for `name`: mbedTLS's rule (subjectAltName if present, else the common names).
    pub(super) fn check_name(&self, name: &ServerName<'_>) -> Result<(), CertificateError> {
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
pub(super) fn in_dates(now: UnixTime, not_before: i64, not_after: i64) -> Result<(), CertificateError> {
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
pub(super) fn name_matches(pattern: &str, host: &str) -> bool {
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
