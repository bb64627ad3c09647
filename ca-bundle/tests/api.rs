//! The public API, exercised the way the app uses it: the bundled roots, and
//! an operator's extra CA file, good and bad. No network is involved.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ca_bundle::CaFileError;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::RootCertStore;

/// A self-signed CA certificate, as PEM, and its key, as PEM.
fn ca(name: &str) -> (String, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// A temporary file that removes itself. Names include the process id and a
/// counter because tests run in parallel, and so may other test binaries.
struct TempFile(PathBuf);

impl TempFile {
    fn new(contents: &[u8]) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "ca-bundle-test-{}-{}.pem",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, contents).unwrap();
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Loads `contents` as a CA file into an empty store, expecting an error,
/// and checks the error names the file.
fn load_err(contents: &[u8]) -> CaFileError {
    let file = TempFile::new(contents);
    let err = ca_bundle::add_pem_file(&mut RootCertStore::empty(), file.path()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&file.path().display().to_string()),
        "{message:?} does not name the file"
    );
    assert!(!message.contains('\n'), "{message:?} is not one line");
    err
}

#[test]
fn bundled_store_is_not_empty_and_matches_the_count() {
    let store = ca_bundle::bundled();
    assert!(!store.is_empty());
    assert_eq!(store.len(), ca_bundle::bundled_count());
}

#[test]
fn source_names_webpki_roots_and_its_version() {
    let source = ca_bundle::source();
    assert_eq!(source.name, "webpki-roots");
    assert_ne!(source.version, "unknown");
    assert!(source.version.starts_with("1."), "{}", source.version);
    assert_eq!(
        source.to_string(),
        format!("webpki-roots {} (Mozilla CA program)", source.version)
    );
}

#[test]
fn one_extra_ca_adds_one_root() {
    let (cert, _) = ca("Extra CA");
    let file = TempFile::new(cert.as_bytes());
    let mut store = ca_bundle::bundled();
    let added = ca_bundle::add_pem_file(&mut store, file.path()).unwrap();
    assert_eq!(added, 1);
    assert_eq!(store.len(), ca_bundle::bundled_count() + 1);
}

#[test]
fn two_certificates_add_two_roots() {
    let (one, _) = ca("Extra CA one");
    let (two, _) = ca("Extra CA two");
    let file = TempFile::new(format!("{one}{two}").as_bytes());
    let mut store = RootCertStore::empty();
    assert_eq!(ca_bundle::add_pem_file(&mut store, file.path()).unwrap(), 2);
    assert_eq!(store.len(), 2);
}

#[test]
fn a_key_next_to_the_certificate_is_ignored() {
    let (cert, key) = ca("Extra CA");
    let mut store = RootCertStore::empty();
    let pem = format!("{key}{cert}");
    let added = ca_bundle::add_pem(&mut store, pem.as_bytes(), Path::new("combined.pem")).unwrap();
    assert_eq!(added, 1);
}

#[test]
fn missing_file_is_unreadable() {
    let path = std::env::temp_dir().join(format!(
        "ca-bundle-test-{}-does-not-exist.pem",
        std::process::id()
    ));
    let err = ca_bundle::add_pem_file(&mut RootCertStore::empty(), &path).unwrap_err();
    assert!(matches!(err, CaFileError::Unreadable { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()));
}

#[test]
fn empty_file_is_not_pem() {
    let err = load_err(b"");
    assert!(matches!(err, CaFileError::NotPem { .. }), "{err:?}");
}

#[test]
fn garbage_is_not_pem() {
    let err = load_err(b"this is not a certificate\n\x00\x01\x02 at all\n");
    assert!(matches!(err, CaFileError::NotPem { .. }), "{err:?}");
}

#[test]
fn key_only_file_has_no_certificates() {
    let (_, key) = ca("Key only");
    let err = load_err(key.as_bytes());
    assert!(matches!(err, CaFileError::NoCertificates { .. }), "{err:?}");
}

#[test]
fn certificate_of_junk_der_is_bad() {
    // Valid base64 ("hello world") that is not DER.
    let pem = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    let err = load_err(pem.as_bytes());
    assert!(
        matches!(err, CaFileError::BadCertificate { index: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn broken_base64_is_bad() {
    let pem = "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n";
    let err = load_err(pem.as_bytes());
    assert!(
        matches!(err, CaFileError::BadCertificate { index: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn bad_second_certificate_is_named_and_leaves_the_store_alone() {
    let (good, _) = ca("Good CA");
    let pem = format!("{good}-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n");
    let mut store = RootCertStore::empty();
    let err = ca_bundle::add_pem(&mut store, pem.as_bytes(), Path::new("mixed.pem")).unwrap_err();
    assert!(
        matches!(err, CaFileError::BadCertificate { index: 2, .. }),
        "{err:?}"
    );
    assert!(store.is_empty());
}

#[test]
fn truncated_pem_is_bad() {
    let (cert, _) = ca("Truncated CA");
    let cut = &cert[..cert.len() / 2];
    let err = load_err(cut.as_bytes());
    assert!(
        matches!(err, CaFileError::BadCertificate { index: 1, .. }),
        "{err:?}"
    );
}
