//! `contributors::github::names` and `contributors::http::query`: the request path `/{owner}/{repo}` and the query
//! string are visitor input that ends up in the URL we ask GitHub for.
//!
//! Invariants, checked against an independent hand-written matcher (no regex
//! crate): `RepoName::new` accepts exactly the owners matching
//! `^[A-Za-z0-9](-?[A-Za-z0-9])*$` of at most 39 bytes and the repositories of
//! 1..=100 bytes of `[A-Za-z0-9._-]` other than `.` and `..`; an accepted
//! name printed as `/{owner}/{repo}` splits back into the same two parts; and
//! `query_value` gives back any value it is handed percent-encoded.
#![no_main]

use contributors::github::names::{NameError, RepoName, split_repo_path};
use contributors::http::query::query_value;
use libfuzzer_sys::fuzz_target;

/// `^[A-Za-z0-9](-?[A-Za-z0-9])*$`, at most 39 bytes, as a two-state scan.
fn owner_matches(owner: &str) -> bool {
    if owner.is_empty() || owner.len() > 39 {
        return false;
    }
    // `true` when the next byte must be a letter or digit: at the start and
    // right after a hyphen.
    let mut need_alnum = true;
    for b in owner.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => need_alnum = false,
            b'-' if !need_alnum => need_alnum = true,
            _ => return false,
        }
    }
    !need_alnum
}

/// 1..=100 bytes of `[A-Za-z0-9._-]`, not `.` or `..`.
fn repo_matches(repo: &str) -> bool {
    (1..=100).contains(&repo.len())
        && repo != "."
        && repo != ".."
        && repo
            .bytes()
            .all(|b| matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
}

/// Checks one (owner, repo) pair against the matchers, both ways.
fn check_names(owner: &str, repo: &str) {
    let expected = owner_matches(owner) && repo_matches(repo);
    match RepoName::new(owner, repo) {
        Ok(name) => {
            assert!(expected, "accepted {owner:?}/{repo:?}");
            assert_eq!(name.owner(), owner);
            assert_eq!(name.repo(), repo);
            assert_eq!(name.to_string(), format!("{owner}/{repo}"));
            assert_eq!(name.folded().as_str(), name.to_string().to_ascii_lowercase());
            // Round trip through the router's path splitter.
            let path = format!("/{owner}/{repo}");
            assert_eq!(split_repo_path(&path), Some((owner, repo)), "{path:?}");
            let path = format!("{path}/");
            assert_eq!(split_repo_path(&path), Some((owner, repo)), "{path:?}");
        }
        Err(why) => {
            assert!(!expected, "refused {owner:?}/{repo:?}: {why}");
            // The error names the part that is wrong (the owner first).
            match why {
                NameError::Owner(_) => assert!(!owner_matches(owner)),
                NameError::Repo(_) => {
                    assert!(owner_matches(owner) && !repo_matches(repo))
                }
            }
        }
    }
}

/// Percent-encodes everything but unreserved characters (`+` included, or it
/// would decode as a space).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn is_slice_of(part: &str, whole: &str) -> bool {
    let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
    p >= w && p + part.len() <= w + whole.len()
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };

    // 1. The whole input as a request path.
    if let Some((owner, repo)) = split_repo_path(input) {
        assert!(input.starts_with('/'));
        assert!(is_slice_of(owner, input) && is_slice_of(repo, input));
        assert!(!repo.contains('/'), "{input:?} gave repo {repo:?}");
        check_names(owner, repo);
    }

    // 2. The whole input as a query string, the way the form handler and the
    //    `max` / `s` parameters read it.
    let owner = query_value(Some(input), "owner");
    let repo = query_value(Some(input), "repo");
    for key in ["max", "s", ""] {
        let _ = query_value(Some(input), key);
    }
    if let (Some(owner), Some(repo)) = (&owner, &repo) {
        check_names(owner, repo);
    }

    // 3. Round trip: "key\nvalue" put into a query behind a decoy pair must
    //    come back out of `query_value` unchanged.
    if let Some((key, value)) = input.split_once('\n') {
        let query = format!(
            "decoy=1&{}={}&{}=other",
            encode(key),
            encode(value),
            encode(key)
        );
        let expected = if key == "decoy" { "1" } else { value };
        assert_eq!(
            query_value(Some(&query), key).as_deref(),
            Some(expected),
            "{query:?}"
        );
    }
});
