//! Which root certificates the HTTPS client trusts, and what to say about
//! them at start-up and in `doctor`.
//!
//! Normally: the roots compiled into the binary by the `ca-bundle` crate,
//! plus, optionally, a PEM file of extra roots (a company CA in front of
//! GitHub Enterprise Server). Nothing is read from `/etc/ssl` at run time,
//! which is why the binary needs nothing from the image around it.
//!
//! The `system-roots` cargo feature swaps the bundle for the operating
//! system's store. It exists only for the workshop, to show what goes wrong
//! in a scratch image: there is no store there, and start-up fails.

use std::fmt;
use std::path::Path;

use rustls::RootCertStore;

/// The trust anchors, with a line describing where they came from.
pub struct TrustedRoots {
    pub store: RootCertStore,
    pub description: String,
}

#[derive(Debug)]
pub enum RootsError {
    CaFile(ca_bundle::CaFileError),
    #[cfg(feature = "system-roots")]
    System(ca_bundle::SystemRootsError),
}

impl fmt::Display for RootsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootsError::CaFile(e) => write!(f, "{e}"),
            #[cfg(feature = "system-roots")]
            RootsError::System(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RootsError {}

/// The base roots (bundled, or the system's in the lesson build) plus the
/// certificates of `extra`, if given.
pub fn load(extra: Option<&Path>) -> Result<TrustedRoots, RootsError> {
    #[cfg(not(feature = "system-roots"))]
    let (mut store, base) = (
        ca_bundle::bundled(),
        format!("bundled from {}", ca_bundle::source()),
    );
    #[cfg(feature = "system-roots")]
    let (mut store, base) = (
        ca_bundle::system().map_err(RootsError::System)?,
        "from the operating system's store (system-roots build)".to_string(),
    );

    let base_count = store.len();
    let mut description = format!("{base_count} {base}");
    if let Some(path) = extra {
        let added = ca_bundle::add_pem_file(&mut store, path).map_err(RootsError::CaFile)?;
        description.push_str(&format!(", plus {added} from {}", path.display()));
    }
    Ok(TrustedRoots { store, description })
}
