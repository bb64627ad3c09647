//! Build script for `ca-bundle`.
//!
//! It does two jobs that only the build can do:
//!
//! 1. Record which webpki-roots release is compiled in. The crate does not
//!    export its own version, and "which roots does this binary trust?" is a
//!    question `doctor` must answer, so we read it from the workspace's
//!    `Cargo.lock`, which is the honest record of what was actually built.
//! 2. Embed an alternative PEM bundle when `CA_BUNDLE_PEM` names one, after
//!    checking it, so a bad bundle stops the build rather than shipping an
//!    image that cannot talk TLS to anyone.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

fn main() {
    // `ca_bundle_pem` is our own cfg; declaring it keeps rustc's
    // unexpected_cfgs lint quiet in both build modes.
    println!("cargo::rustc-check-cfg=cfg(ca_bundle_pem)");

    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let lock = manifest_dir.join("..").join("Cargo.lock");
    println!("cargo::rerun-if-changed={}", lock.display());
    let version = fs::read_to_string(&lock)
        .ok()
        .and_then(|text| webpki_roots_version(&text))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo::rustc-env=CA_BUNDLE_WEBPKI_ROOTS_VERSION={version}");

    println!("cargo::rerun-if-env-changed=CA_BUNDLE_PEM");
    // An empty value counts as unset, so a Makefile can always pass
    // `CA_BUNDLE_PEM=$(CA_BUNDLE_PEM)` and get the default when it is blank.
    if let Some(path) = env::var_os("CA_BUNDLE_PEM").filter(|p| !p.is_empty()) {
        embed(Path::new(&path));
    }
}

/// Finds the locked version of webpki-roots 1.x.
///
/// Cargo writes `Cargo.lock` in a fixed layout (`[[package]]`, then `name`,
/// then `version`), so a line scan is enough and spares the build a TOML
/// parser. Only 1.x counts because that is what our manifest asks for; a
/// lock can also hold webpki-roots 0.26, a shim that other crates pull in.
fn webpki_roots_version(lock: &str) -> Option<String> {
    let mut name = None;
    for line in lock.lines().map(str::trim) {
        if line == "[[package]]" {
            name = None;
        } else if let Some(value) = line.strip_prefix("name = ") {
            name = Some(value.trim_matches('"'));
        } else if let Some(value) = line.strip_prefix("version = ") {
            let version = value.trim_matches('"');
            if name == Some("webpki-roots") && version.starts_with("1.") {
                return Some(version.to_string());
            }
        }
    }
    None
}

/// Checks the PEM bundle at `path` and copies it into OUT_DIR for
/// `include_bytes!`, switching the library to it with `cfg(ca_bundle_pem)`.
fn embed(path: &Path) {
    // The build script runs in the crate's directory, not the caller's, so a
    // relative path would quietly mean something other than what was typed.
    if !path.is_absolute() {
        fail(&format!(
            "CA_BUNDLE_PEM must be an absolute path, got {}",
            path.display()
        ));
    }
    // The path becomes the version shown by `source()`, and cargo directives
    // are line-based, so it must be printable on one line.
    let Some(shown) = path.to_str().filter(|p| !p.contains(['\n', '\r'])) else {
        fail("CA_BUNDLE_PEM must be a UTF-8 path on a single line");
    };
    println!("cargo::rerun-if-changed={shown}");

    let pem = match fs::read(path) {
        Ok(pem) => pem,
        Err(err) => fail(&format!("cannot read CA_BUNDLE_PEM file {shown}: {err}")),
    };
    let mut certificates = 0;
    for item in CertificateDer::pem_slice_iter(&pem) {
        match item {
            Ok(_) => certificates += 1,
            Err(err) => fail(&format!(
                "CA_BUNDLE_PEM file {shown} is malformed after certificate {certificates}: {err}"
            )),
        }
    }
    if certificates == 0 {
        fail(&format!(
            "CA_BUNDLE_PEM file {shown} holds no -----BEGIN CERTIFICATE----- blocks"
        ));
    }

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    // Write the bytes we checked, not a second read of the file, so what is
    // embedded is exactly what was validated.
    if let Err(err) = fs::write(out_dir.join("bundle.pem"), &pem) {
        fail(&format!("cannot copy CA bundle into OUT_DIR: {err}"));
    }
    println!("cargo::rustc-env=CA_BUNDLE_PEM_PATH={shown}");
    println!("cargo::rustc-cfg=ca_bundle_pem");
}

/// Stops the build with a one-line reason; cargo shows a failed build
/// script's stderr, and a panic would bury the reason under a backtrace hint.
fn fail(reason: &str) -> ! {
    eprintln!("error: {reason}");
    process::exit(1);
}
