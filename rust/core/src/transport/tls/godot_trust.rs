//! [`GodotTrust`]: the certificate verifier of every `wss://` and `https://` connection, which trusts what Godot's
//! own TLS trusts; and [`Trust`], what it trusts (the anchors, and the certificates pinned).
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
//!
//! What the checks read of the server's certificate (names, dates, purposes) is [`super::certificate`]'s.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;

use super::certificate::{in_dates, Leaf};
use crate::config::TlsVerification;
use crate::error::TlsSettingsError;

/// What is trusted: the anchors a chain may lead to, and the certificates themselves (for pinning).
#[derive(Debug)]
pub(super) struct Trust {
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
    pub(super) fn roots(
        roots: Vec<rustls_pki_types::TrustAnchor<'static>>,
        pinned: Vec<CertificateDer<'static>>,
    ) -> Self {
        Trust {
            roots: RootCertStore { roots },
            pinned,
            dated: Vec::new(),
        }
    }

    /// The certificates of a PEM bundle (`TLSOptions.client(chain)`), each an anchor and a pin.
    pub(super) fn from_pem(pem: &[u8]) -> Result<Self, TlsSettingsError> {
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
pub(super) struct GodotTrust {
    /// `None`: nothing is verified (`TLSOptions.client_unsafe()`).
    pub(super) trust: Option<Trust>,
    /// Whether the certificate must be issued for the server name.
    pub(super) check_name: bool,
    pub(super) algorithms: WebPkiSupportedAlgorithms,
}

impl GodotTrust {
    /// The verifier for `verification`, checking handshake signatures with `algorithms`.
    pub(super) fn new(
        verification: &TlsVerification,
        algorithms: WebPkiSupportedAlgorithms,
    ) -> Result<Self, TlsSettingsError> {
        let (trust, check_name) = match verification {
            TlsVerification::WebPkiRoots => (
                Some(Trust::roots(webpki_roots::TLS_SERVER_ROOTS.to_vec(), Vec::new())),
                true,
            ),
            TlsVerification::CustomRootsPem(pem) => (Some(Trust::from_pem(pem)?), true),
            TlsVerification::CustomRootsPemAnyName(pem) => (Some(Trust::from_pem(pem)?), false),
            TlsVerification::Disabled => (None, false),
        };
        Ok(GodotTrust {
            trust,
            check_name,
            algorithms,
        })
    }
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
