//! Certificates made at start-up: a throwaway CA and a leaf for loopback.
//!
//! The app verifies TLS for real (it ships its own trust anchors), so the
//! fake cannot use a self-signed leaf and a "don't verify" switch: it makes a
//! small private PKI instead. Clients trust the CA's PEM — exactly as they
//! trust a public root for api.github.com — and the server presents a leaf
//! for `localhost`, `127.0.0.1` and `::1` signed by it. Both are new on every
//! start, so no key ever lands in the repository.

use std::io;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::util::{civil_from_days, unix_now};

/// The CA's common name, which clients show when verification fails.
pub const CA_COMMON_NAME: &str = "contributors test CA";

/// The certificates and the ready-made acceptor of one fake.
pub(crate) struct Tls {
    pub ca_pem: String,
    pub ca_der: CertificateDer<'static>,
    pub acceptor: TlsAcceptor,
}

/// Makes a CA and a leaf and a TLS acceptor serving the leaf, offering
/// HTTP/2 and HTTP/1.1 through ALPN.
pub(crate) fn generate() -> io::Result<Tls> {
    // The CA: self-signed, allowed to sign certificates, nothing else.
    let ca_key = KeyPair::generate().map_err(io::Error::other)?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, CA_COMMON_NAME);
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, "fake-github");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut ca_params);
    let ca_cert = ca_params.self_signed(&ca_key).map_err(io::Error::other)?;
    let issuer = Issuer::new(ca_params, ca_key);

    // The leaf: what browsers and rustls require of a server certificate —
    // the names in subjectAltName, serverAuth, a digital-signature key.
    let names = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    let leaf_key = KeyPair::generate().map_err(io::Error::other)?;
    let mut leaf_params = CertificateParams::new(names).map_err(io::Error::other)?;
    leaf_params.distinguished_name = DistinguishedName::new();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "fake-github");
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    set_validity(&mut leaf_params);
    let leaf_cert = leaf_params
        .signed_by(&leaf_key, &issuer)
        .map_err(io::Error::other)?;

    // Install the ring provider explicitly rather than relying on a
    // process-wide default, which another crate in the test binary might set
    // differently (or not at all).
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let chain = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(io::Error::other)?;
    // Offer HTTP/2 first, like api.github.com; HTTP/1.1 for the rest.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

    Ok(Tls {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().clone(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}

/// Valid from yesterday (clocks differ a little) to a year from now: short
/// enough for any browser's limit on validity periods, long enough for any
/// run of the fake.
fn set_validity(params: &mut CertificateParams) {
    let today = (unix_now() / 86_400) as i64;
    let date = |days: i64| {
        let (year, month, day) = civil_from_days(days);
        // Years fit i32 and months/days u8 for any date this program sees.
        rcgen::date_time_ymd(year as i32, month as u8, day as u8)
    };
    params.not_before = date(today - 1);
    params.not_after = date(today + 365);
}
