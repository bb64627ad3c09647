//! Owner and repository names, checked against GitHub's own rules before
//! anything is sent upstream.
//!
//! The path `/{owner}/{repo}` is user input that ends up inside a URL we
//! request from GitHub with our token. Checking it here, against the narrow
//! set of names GitHub itself allows, means that nothing a visitor types can
//! change which URL we fetch: no `..`, no `?`, no `%2F`, no other host.
//! Anything else gets a 400 page and no upstream request at all.

use std::fmt;
use std::hash::{Hash, Hasher};

/// The longest `owner/repo`: a 39-byte owner, `/`, a 100-byte repository.
const MAX_LEN: usize = 39 + 1 + 100;
/// The buffer a name is held in: `MAX_LEN`, in whole 8-byte words (see
/// `RepoName::eq`).
const BUFFER: usize = MAX_LEN.next_multiple_of(8);

/// A repository named by a valid owner and a valid repository name.
///
/// Held in a fixed buffer rather than a `String`: every page view makes a
/// name and two cache keys from it, and none of them allocates. (musl's
/// allocator takes one lock for the whole process, and under load two
/// threads allocating at once make each other wait in the kernel.)
#[derive(Clone)]
pub struct RepoName {
    /// `owner/repo`, spelt as given, in its first `len` bytes (all ASCII);
    /// the bytes after them are zero.
    bytes: [u8; BUFFER],
    len: u8,
    /// Where the `/` is.
    slash: u8,
}

/// Why a name was refused, in words for the 400 page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameError {
    Owner(String),
    Repo(String),
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Owner(why) => write!(f, "invalid owner name: {why}"),
            NameError::Repo(why) => write!(f, "invalid repository name: {why}"),
        }
    }
}

impl std::error::Error for NameError {}

impl RepoName {
    /// Checks both names. GitHub treats names case-insensitively; we keep
    /// the spelling the visitor used for display, and the cache folds case.
    pub fn new(owner: &str, repo: &str) -> Result<RepoName, NameError> {
        check_owner(owner).map_err(NameError::Owner)?;
        check_repo(repo).map_err(NameError::Repo)?;
        // The checks above bound both lengths, so this fits.
        let mut bytes = [0; BUFFER];
        let len = owner.len() + 1 + repo.len();
        bytes[..owner.len()].copy_from_slice(owner.as_bytes());
        bytes[owner.len()] = b'/';
        bytes[owner.len() + 1..len].copy_from_slice(repo.as_bytes());
        Ok(RepoName {
            bytes,
            len: len as u8,
            slash: owner.len() as u8,
        })
    }

    pub fn owner(&self) -> &str {
        &self.as_str()[..usize::from(self.slash)]
    }

    pub fn repo(&self) -> &str {
        &self.as_str()[usize::from(self.slash) + 1..]
    }

    fn name_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The 8 bytes from `at` (a multiple of 8) as one number.
    fn word(&self, at: usize) -> u64 {
        let word = self.bytes[at..at + 8].try_into().unwrap_or_default();
        u64::from_ne_bytes(word)
    }

    /// `owner/repo`, as spelt.
    pub fn as_str(&self) -> &str {
        // Only ASCII gets past the checks, so this is always the name.
        std::str::from_utf8(self.name_bytes()).unwrap_or_default()
    }

    /// The same repository however it was capitalised, for cache keys.
    pub fn folded(&self) -> RepoName {
        let mut folded = self.clone();
        folded.bytes[..usize::from(self.len)].make_ascii_lowercase();
        folded
    }
}

// Equal and hashed as the name's bytes (cache lookups compare and hash
// names on every page view; the bytes need no UTF-8 check), shown as text.
impl PartialEq for RepoName {
    /// Compared 8 bytes at a time. (`==` on the two slices would call the C
    /// library's `memcmp`, which in musl compares a byte at a time.) The
    /// bytes after a name are zero in both, so whole words compare the same.
    fn eq(&self, other: &RepoName) -> bool {
        if self.len != other.len {
            return false;
        }
        let mut at = 0;
        while at < usize::from(self.len) {
            if self.word(at) != other.word(at) {
                return false;
            }
            at += 8;
        }
        true
    }
}

impl Eq for RepoName {}

impl Hash for RepoName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name_bytes().hash(state);
    }
}

impl fmt::Debug for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// User and organisation names: 1 to 39 ASCII letters, digits and single
/// hyphens, not starting or ending with a hyphen.
pub fn check_owner(owner: &str) -> Result<(), String> {
    if owner.is_empty() {
        return Err("it is empty".into());
    }
    if owner.len() > 39 {
        return Err("it is longer than 39 characters".into());
    }
    if !owner
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err("only letters, digits and hyphens are allowed".into());
    }
    // (A pair of bytes at a time: cheaper than a substring search.)
    let doubled = owner.as_bytes().windows(2).any(|pair| pair == b"--");
    if owner.starts_with('-') || owner.ends_with('-') || doubled {
        return Err("hyphens must stand between letters or digits, one at a time".into());
    }
    Ok(())
}

/// An account's login, as `exclude=` names one: an owner name (users and
/// organisations), or an app's bot account, an owner name followed by
/// `[bot]` (`dependabot[bot]`).
pub fn check_login(login: &str) -> Result<(), String> {
    check_owner(login.strip_suffix("[bot]").unwrap_or(login))
}

/// Repository names: 1 to 100 ASCII letters, digits, `-`, `_` and `.`,
/// and not `.` or `..`, which would walk up the URL path.
fn check_repo(repo: &str) -> Result<(), String> {
    if repo.is_empty() {
        return Err("it is empty".into());
    }
    if repo.len() > 100 {
        return Err("it is longer than 100 characters".into());
    }
    if !repo
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("only letters, digits, '-', '_' and '.' are allowed".into());
    }
    if repo == "." || repo == ".." {
        return Err("'.' and '..' are not repository names".into());
    }
    Ok(())
}

/// Splits a request path into its segments if it has exactly two, as in
/// `/{owner}/{repo}` (a trailing slash is allowed). The segments are not
/// yet validated: pass them to [`RepoName::new`].
pub fn split_repo_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix('/')?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    // The slash found byte by byte: on every request, and cheaper here
    // than `split_once('/')`'s general search, built for size (opt-level "z").
    let slash = rest.bytes().position(|b| b == b'/')?;
    if rest.as_bytes()[slash + 1..].contains(&b'/') {
        return None;
    }
    Some((&rest[..slash], &rest[slash + 1..]))
}

/// Splits `/{owner}/{repo}/{file}` into its three segments, as in
/// `/o/r/wall.svg`: a repository's other answers. No trailing slash; the
/// segments are not yet validated.
pub fn split_repo_file(path: &str) -> Option<(&str, &str, &str)> {
    let (repo_path, file) = path.rsplit_once('/')?;
    let (owner, repo) = split_repo_path(repo_path)?;
    (!file.is_empty() && !repo_path.ends_with('/')).then_some((owner, repo, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_equal_byte_for_byte() {
        let name = |owner: &str, repo: &str| RepoName::new(owner, repo).unwrap();
        assert_eq!(name("octo", "cat"), name("octo", "cat"));
        assert_ne!(name("octo", "cat"), name("octo", "cap"), "the last byte");
        assert_ne!(name("octo", "cat"), name("octo", "cats"), "a longer name");
        assert_ne!(name("octo", "cat"), name("Octo", "cat"), "spelling counts");
        assert_eq!(name("Octo", "cat").folded(), name("octo", "CAT").folded());
        // Compared a word (8 bytes) at a time: a difference in any word,
        // the first, a middle one or the last (partly used) one, counts.
        let long = "r".repeat(100);
        let longest = name(&"o".repeat(39), &long);
        assert_eq!(longest, name(&"o".repeat(39), &long));
        for at in [0, 7, 8, 15, 16, 99] {
            let mut other = long.clone().into_bytes();
            other[at] = b's';
            let other = String::from_utf8(other).unwrap();
            let (a, b) = (name("owner", &long), name("owner", &other));
            assert_ne!(a, b, "differs at byte {at} of the repository");
            assert_ne!(name(&"o".repeat(39), &other), longest, "differs at {at}");
        }
        assert_eq!(name("owner12", "repo12345"), name("owner12", "repo12345"));
        assert_ne!(name("owner12", "repo12345"), name("owner12", "repo12346"));
    }

    #[test]
    fn a_name_reads_as_spelt() {
        let name = RepoName::new("Octo-1", "Cat.rs").unwrap();
        assert_eq!((name.owner(), name.repo()), ("Octo-1", "Cat.rs"));
        assert_eq!(name.as_str(), "Octo-1/Cat.rs");
        assert_eq!(name.to_string(), "Octo-1/Cat.rs");
        assert_eq!(format!("{name:?}"), "\"Octo-1/Cat.rs\"");
        assert_eq!(name.folded().as_str(), "octo-1/cat.rs");
        let refused = |owner, repo| RepoName::new(owner, repo).unwrap_err().to_string();
        assert_eq!(
            refused("o-", "r"),
            "invalid owner name: hyphens must stand between letters or digits, one at a time"
        );
        assert_eq!(
            refused("o", ".."),
            "invalid repository name: '.' and '..' are not repository names"
        );
    }

    #[test]
    fn valid_names() {
        for (owner, repo) in [
            ("rust-lang", "rust"),
            ("a", "b"),
            ("kelseyhightower", "contributors"),
            ("A-1", "x.y_z-1"),
            ("tokio-rs", ".github"),
            (&"o".repeat(39), &"r".repeat(100)),
        ] {
            assert!(RepoName::new(owner, repo).is_ok(), "{owner}/{repo}");
        }
    }

    #[test]
    fn invalid_names() {
        for (owner, repo) in [
            ("", "r"),
            ("o", ""),
            ("-o", "r"),
            ("o-", "r"),
            ("o--o", "r"),
            ("o_o", "r"),
            ("o.o", "r"),
            ("o", "."),
            ("o", ".."),
            ("o", "r?x=1"),
            ("o", "r%2Fx"),
            ("o", "r/x"),
            ("o", "<script>"),
            ("o", "ü"),
            (&"o".repeat(40), "r"),
            ("o", &"r".repeat(101)),
        ] {
            assert!(RepoName::new(owner, repo).is_err(), "{owner}/{repo}");
        }
    }

    #[test]
    fn logins_are_owner_names_or_bots() {
        for good in ["octocat", "dependabot[bot]", "a-1"] {
            assert_eq!(check_login(good), Ok(()), "{good}");
        }
        for bad in ["", "[bot]", "a[bot][bot]", "a b", "-a", "a,b"] {
            assert!(check_login(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_with_two_segments() {
        assert_eq!(split_repo_path("/a/b"), Some(("a", "b")));
        assert_eq!(split_repo_path("/a/b/"), Some(("a", "b")));
        assert_eq!(split_repo_path("/a"), None);
        assert_eq!(split_repo_path("/a/b/c"), None);
        assert_eq!(split_repo_path("a/b"), None);
        assert_eq!(split_repo_path("//b"), Some(("", "b")));
    }

    #[test]
    fn paths_with_three_segments() {
        assert_eq!(
            split_repo_file("/a/b/wall.svg"),
            Some(("a", "b", "wall.svg"))
        );
        assert_eq!(split_repo_file("/a/b/c/"), None);
        assert_eq!(split_repo_file("/a/b//c"), None);
        assert_eq!(split_repo_file("/a/b"), None);
        assert_eq!(split_repo_file("/a/b/c/d"), None);
    }
}
