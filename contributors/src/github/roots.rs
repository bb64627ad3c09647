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
            RootsError::CaFile(e) => match ca_file_hint(e) {
                Some(hint) => write!(f, "{e}: {hint}"),
                None => write!(f, "{e}"),
            },
            #[cfg(feature = "system-roots")]
            RootsError::System(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RootsError {}

/// What to do when the CA file cannot be read, in the place it mostly
/// happens: a container, where the file comes in through a bind mount and
/// the images run the app as uid 65534, not as the file's owner.
fn ca_file_hint(e: &ca_bundle::CaFileError) -> Option<&'static str> {
    let ca_bundle::CaFileError::Unreadable { source, .. } = e else {
        return None;
    };
    match source.kind() {
        std::io::ErrorKind::PermissionDenied => Some(
            "the images run the app as uid 65534, which must be able to read it: \
             make it readable by all on the host (chmod a+r host.pem) and mount it \
             read-only (docker run -v \"$PWD/host.pem:/ca.pem:ro\")",
        ),
        std::io::ErrorKind::NotFound => Some(
            "no such file; in a container, mount it from the host \
             (docker run -v \"$PWD/host.pem:/ca.pem:ro\" -e CONTRIBUTORS_EXTRA_CA_FILE=/ca.pem)",
        ),
        _ => None,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_ca_file_suggests_a_mount() {
        let err = load(Some(Path::new("/nonexistent/ca.pem"))).err().unwrap();
        let text = err.to_string();
        assert!(
            text.starts_with("cannot read CA file /nonexistent/ca.pem: "),
            "{text}"
        );
        assert!(text.contains("-v \"$PWD/host.pem:/ca.pem:ro\""), "{text}");
        assert!(
            text.contains("CONTRIBUTORS_EXTRA_CA_FILE=/ca.pem"),
            "{text}"
        );
    }

    #[test]
    fn an_unreadable_ca_file_names_the_user_the_images_run_as() {
        let denied = ca_bundle::CaFileError::Unreadable {
            path: "/ca.pem".into(),
            source: std::io::ErrorKind::PermissionDenied.into(),
        };
        let text = RootsError::CaFile(denied).to_string();
        assert!(
            text.starts_with("cannot read CA file /ca.pem: permission denied: "),
            "{text}"
        );
        assert!(
            text.contains("uid 65534") && text.contains("chmod a+r"),
            "{text}"
        );
        assert!(text.contains(":/ca.pem:ro"), "{text}");
    }

    #[test]
    fn a_ca_file_that_is_not_pem_gets_no_mount_hint() {
        let err = RootsError::CaFile(ca_bundle::CaFileError::NotPem {
            path: "/ca.pem".into(),
        });
        assert!(!err.to_string().contains("-v "), "{err}");
    }
}
