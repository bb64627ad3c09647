//! The TLS trust anchors compiled into the `contributors` binary.
//!
//! # Why bundle roots at all
//!
//! The app ships as a `FROM scratch` container image: the image holds our
//! binary and nothing else. There is no `/etc/ssl/certs`, no
//! `ca-certificates` package, no distro. A program that expects the operating
//! system to supply its trusted CA certificates finds an empty room. Go
//! programs famously stop there with `x509: failed to load system roots and no
//! roots provided`: the TLS code looked for the system store, there was none,
//! so it had nothing to check a server's certificate against and every HTTPS
//! call failed. The usual fix is to copy a CA file into the image; ours is to
//! compile the roots into the binary, so the image stays a single file and
//! cannot be assembled with the roots missing.
//!
//! # Where the roots come from
//!
//! By default they are [webpki-roots](https://docs.rs/webpki-roots): Mozilla's
//! CA program list, the same roots Firefox trusts, published as Rust constants.
//! Mozilla runs its program in public and removes CAs that misbehave, and the
//! crate's version pins exactly which snapshot we trust, so an upgrade shows
//! up as a `Cargo.lock` diff. The roots are `static` data, so loading them
//! costs no parsing at all.
//!
//! Alternatively, a PEM bundle can be embedded at build time, for example the
//! one the build machine's distro maintains:
//!
//! ```text
//! CA_BUNDLE_PEM=/etc/ssl/certs/ca-certificates.crt cargo build --release
//! ```
//!
//! The build script checks the file and fails the build if it holds no
//! certificates, so a bad path never turns into an image that trusts no one.
//! The embedded PEM is parsed once, on first use. [`source`] says which of the
//! two modes a binary was built in, for startup logs and `doctor`.
//!
//! # Why never read the system store at run time
//!
//! In the image there is no system store to read. Outside the image there is
//! one, and that is the trap: a binary that reads it works on a laptop and
//! fails in production, and what it trusts depends on the host rather than on
//! what we built and tested. Bundling makes the trusted set a property of the
//! build. The one run-time input is deliberate: an operator may add a private
//! CA from a PEM file with [`add_pem_file`], and bad files are reported as a
//! [`CaFileError`] that names the file, never skipped in silence.

use std::fmt;
use std::path::{Path, PathBuf};

use rustls::RootCertStore;
use rustls_pki_types::pem::{self, PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, Der, TrustAnchor};

/// Where the bundled roots came from, for startup logs and `doctor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// `"webpki-roots"` or `"build-time bundle"`.
    pub name: &'static str,
    /// The webpki-roots version, or the path the bundle was built from.
    pub version: &'static str,
}

const WEBPKI_ROOTS: &str = "webpki-roots";

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.version)?;
        // A version number alone doesn't tell a reader whose list it is.
        if self.name == WEBPKI_ROOTS {
            f.write_str(" (Mozilla CA program)")?;
        }
        Ok(())
    }
}

/// Says which roots this binary was built with.
pub fn source() -> Source {
    #[cfg(not(ca_bundle_pem))]
    {
        Source {
            name: WEBPKI_ROOTS,
            version: env!("CA_BUNDLE_WEBPKI_ROOTS_VERSION"),
        }
    }
    #[cfg(ca_bundle_pem)]
    {
        Source {
            name: "build-time bundle",
            version: env!("CA_BUNDLE_PEM_PATH"),
        }
    }
}

/// The number of bundled trust anchors.
pub fn bundled_count() -> usize {
    anchors().len()
}

/// A fresh store holding the bundled roots.
///
/// Each call is cheap: the anchors point into data that lives for the whole
/// program, so only the list itself is allocated, not the certificates.
pub fn bundled() -> RootCertStore {
    anchors().iter().map(borrow).collect()
}

/// The operating system's trusted roots, read at run time: the workshop's
/// counter-example (cargo feature `system-roots`). This is what the bundle
/// exists to avoid; in a scratch image it finds nothing and says so.
#[cfg(feature = "system-roots")]
pub fn system() -> Result<RootCertStore, SystemRootsError> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(SystemRootsError {
            detail: match found.errors.first() {
                Some(e) => e.to_string(),
                None => "no CA certificates in /etc/ssl/certs or the other usual places".into(),
            },
        });
    }
    Ok(store)
}

/// No usable roots in the operating system's store.
#[cfg(feature = "system-roots")]
#[derive(Debug)]
pub struct SystemRootsError {
    detail: String,
}

#[cfg(feature = "system-roots")]
impl fmt::Display for SystemRootsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "failed to load system roots: {} (this build trusts the operating system's \
             store; the default build carries its own roots)",
            self.detail
        )
    }
}

#[cfg(feature = "system-roots")]
impl std::error::Error for SystemRootsError {}

/// Adds the certificates of a PEM file to `store`; returns how many were added.
///
/// Every certificate must be usable, and `store` is left untouched on error:
/// an operator who names a CA file means all of it, so half-loading it would
/// hide the mistake until some connection fails.
pub fn add_pem_file(store: &mut RootCertStore, path: &Path) -> Result<usize, CaFileError> {
    let pem = std::fs::read(path).map_err(|source| CaFileError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    add_pem(store, &pem, path)
}

/// Same as [`add_pem_file`], from bytes already read; `origin` names them in errors.
pub fn add_pem(store: &mut RootCertStore, pem: &[u8], origin: &Path) -> Result<usize, CaFileError> {
    // Collect into a scratch store first so a bad certificate late in the
    // file cannot leave the earlier ones behind in `store`.
    let mut added = RootCertStore::empty();
    for (index, der) in certificates(pem, origin)? {
        added
            .add(der)
            .map_err(|err| bad_certificate(origin, index, err))?;
    }
    let count = added.len();
    store.roots.extend(added.roots);
    Ok(count)
}

/// Why a CA file could not be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum CaFileError {
    /// The file could not be read at all.
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file has no PEM blocks at all: empty, binary DER, or text.
    NotPem { path: PathBuf },
    /// The file is PEM but has no CERTIFICATE blocks, e.g. only a private key.
    NoCertificates { path: PathBuf },
    /// PEM block `index` (counting from 1, among all the file's PEM blocks)
    /// is malformed PEM or not a usable trust anchor.
    BadCertificate {
        path: PathBuf,
        index: usize,
        reason: String,
    },
}

impl fmt::Display for CaFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable { path, source } => {
                write!(f, "cannot read CA file {}: {source}", path.display())
            }
            Self::NotPem { path } => write!(
                f,
                "CA file {} is not PEM: it has no -----BEGIN ...----- lines",
                path.display()
            ),
            Self::NoCertificates { path } => write!(
                f,
                "CA file {} holds no -----BEGIN CERTIFICATE----- blocks (only other PEM data, such as a key)",
                path.display()
            ),
            Self::BadCertificate {
                path,
                index,
                reason,
            } => write!(
                f,
                "CA file {}: PEM block {index} is not a usable CA certificate: {reason}",
                path.display()
            ),
        }
    }
}

// `source()` is left as None on purpose: the I/O error is already part of the
// one-line message, and returning it too would print it twice in reporters
// that walk the chain.
impl std::error::Error for CaFileError {}

/// The bundled anchors, in whichever form this build carries them.
#[cfg(not(ca_bundle_pem))]
fn anchors() -> &'static [TrustAnchor<'static>] {
    webpki_roots::TLS_SERVER_ROOTS
}

/// The bundled anchors, parsed from the embedded PEM on first use.
#[cfg(ca_bundle_pem)]
fn anchors() -> &'static [TrustAnchor<'static>] {
    static EMBEDDED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bundle.pem"));
    static ANCHORS: std::sync::LazyLock<Vec<TrustAnchor<'static>>> =
        std::sync::LazyLock::new(|| {
            // The build script already parsed this PEM, so only a bundle in
            // which webpki rejects every certificate can fail here. An empty
            // list then shows up as zero roots in the startup log and in
            // `doctor`, which is louder than a panic in a TLS handshake.
            parse_bundle(EMBEDDED)
                .map(|store| store.roots)
                .unwrap_or_default()
        });
    &ANCHORS
}

/// Names the embedded bundle in errors.
#[cfg(any(ca_bundle_pem, test))]
const BUNDLE_ORIGIN: &str = match option_env!("CA_BUNDLE_PEM_PATH") {
    Some(path) => path,
    None => "(embedded bundle)",
};

/// Parses a whole bundle, as embedded with `CA_BUNDLE_PEM`.
///
/// Unlike [`add_pem`], this skips certificates webpki cannot use and only
/// fails if none are left. A distro bundle is a large file we do not curate;
/// one odd legacy root in it should not cost us the other hundred. This is
/// the same trade rustls makes in `RootCertStore::add_parsable_certificates`.
#[cfg(any(ca_bundle_pem, test))]
fn parse_bundle(pem: &[u8]) -> Result<RootCertStore, CaFileError> {
    let origin = Path::new(BUNDLE_ORIGIN);
    let mut store = RootCertStore::empty();
    let mut first_error = None;
    for (index, der) in certificates(pem, origin)? {
        if let Err(err) = store.add(der) {
            first_error.get_or_insert_with(|| bad_certificate(origin, index, err));
        }
    }
    match first_error {
        Some(err) if store.is_empty() => Err(err),
        _ => Ok(store),
    }
}

/// Decodes the CERTIFICATE blocks of `pem`, each with its 1-based position
/// among the file's PEM blocks so errors can point at it.
fn certificates(
    pem: &[u8],
    origin: &Path,
) -> Result<Vec<(usize, CertificateDer<'static>)>, CaFileError> {
    let mut blocks = 0;
    let mut certs = Vec::new();
    // Iterating over (kind, bytes) rather than certificates only lets us
    // tell "no PEM at all" from "PEM, but only a key" afterwards.
    for block in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem) {
        blocks += 1;
        match block {
            Ok((SectionKind::Certificate, der)) => certs.push((blocks, der.into())),
            // Keys, CRLs and the like can share a file with certificates
            // but are not trust anchors; they only matter if nothing else
            // is there.
            Ok(_) => {}
            Err(err) => {
                return Err(CaFileError::BadCertificate {
                    path: origin.to_path_buf(),
                    index: blocks,
                    reason: pem_reason(&err),
                });
            }
        }
    }
    if !certs.is_empty() {
        return Ok(certs);
    }
    let path = origin.to_path_buf();
    // The parser skips labels it does not know (e.g. OpenSSL's "TRUSTED
    // CERTIFICATE"), so a file of those is PEM even though no block came back.
    if blocks > 0 || contains(pem, b"-----BEGIN ") {
        Err(CaFileError::NoCertificates { path })
    } else {
        Err(CaFileError::NotPem { path })
    }
}

/// Says what is wrong with a PEM block in words a user can act on; the
/// parser's own messages print raw bytes as lists of numbers.
fn pem_reason(err: &pem::Error) -> String {
    match err {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "it has no -----END {}----- line",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { .. } => "its -----BEGIN----- line is malformed".into(),
        pem::Error::Base64Decode(_) => "its base64 body is malformed".into(),
        pem::Error::SectionTooLarge => "it is too large".into(),
        other => other.to_string(),
    }
}

fn bad_certificate(origin: &Path, index: usize, err: rustls::Error) -> CaFileError {
    use rustls::{CertificateError, Error};
    // rustls words these for a server's certificate ("invalid peer
    // certificate: ..."), which would mislead someone fixing a CA file.
    let reason = match err {
        Error::InvalidCertificate(CertificateError::BadEncoding) => {
            "its contents are not a valid X.509 certificate".to_string()
        }
        Error::InvalidCertificate(other) => other.to_string(),
        other => other.to_string(),
    };
    CaFileError::BadCertificate {
        path: origin.to_path_buf(),
        index,
        reason,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A copy of `anchor` that borrows its bytes instead of owning them, so
/// handing out stores does not copy every certificate each time.
fn borrow(anchor: &'static TrustAnchor<'static>) -> TrustAnchor<'static> {
    TrustAnchor {
        subject: Der::from_slice(anchor.subject.as_ref()),
        subject_public_key_info: Der::from_slice(anchor.subject_public_key_info.as_ref()),
        name_constraints: anchor
            .name_constraints
            .as_ref()
            .map(|constraints| Der::from_slice(constraints.as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

    fn ca_pem(name: &str) -> String {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn parse_bundle_reads_every_certificate() {
        let pem = format!("{}{}", ca_pem("Bundle CA one"), ca_pem("Bundle CA two"));
        let store = parse_bundle(pem.as_bytes()).unwrap();
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn parse_bundle_skips_unusable_certificates_but_keeps_the_rest() {
        let junk = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        let pem = format!("{junk}{}", ca_pem("Bundle CA"));
        let store = parse_bundle(pem.as_bytes()).unwrap();
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn parse_bundle_rejects_a_bundle_with_no_usable_roots() {
        let junk = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
        let err = parse_bundle(junk.as_bytes()).unwrap_err();
        assert!(matches!(err, CaFileError::BadCertificate { index: 1, .. }));
        assert!(parse_bundle(b"").is_err());
    }

    #[test]
    fn borrowed_anchors_match_the_originals() {
        let store = bundled();
        assert_eq!(store.roots.as_slice(), anchors());
    }
}
