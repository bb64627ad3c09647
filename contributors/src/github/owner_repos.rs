//! An owner's repositories, for `?owner=NAME` walls: the owner's up to
//! [`OWNER_REPOS`] most recently pushed public repositories that are not
//! forks (`GitHub::owner_repos`, one call).
//!
//! Cached like a list: kept for the list TTL, shared by concurrent
//! requests (one call however many ask at once), and each call paid for by
//! whoever starts it (`admit`, the client's budget). A missing owner (404,
//! 410, 451) is remembered for the negative TTL, so asking again and again
//! for a name that does not exist costs one call; an outage is not
//! remembered. There is no revalidation: the names change rarely, and the
//! lists of the repositories, which do, are revalidated on their own.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::{Coalescer, LruCache};
use crate::github::GitHub;
use crate::github::error::UpstreamError;
use crate::github::names::RepoName;
use crate::ops::metrics::{Cache, METRICS};

/// The most repositories an owner's wall draws from.
pub const OWNER_REPOS: usize = 10;

type Found = Result<Arc<[RepoName]>, UpstreamError>;

/// Owners' repositories, by owner name folded to lower case.
#[derive(Clone)]
pub struct OwnerRepos {
    github: GitHub,
    cache: Arc<LruCache<String, Found>>,
    in_flight: Coalescer<String, Found>,
    ttl: Duration,
    missing_ttl: Duration,
}

impl OwnerRepos {
    pub fn new(github: GitHub, ttl: Duration, missing_ttl: Duration, max_entries: usize) -> Self {
        // A few names each: at most about 1.5 KiB an entry.
        let max_bytes = max_entries * OWNER_REPOS * size_of::<RepoName>();
        OwnerRepos {
            github,
            cache: Arc::new(LruCache::new(max_entries, max_bytes)),
            in_flight: Coalescer::default(),
            ttl,
            missing_ttl,
        }
    }

    /// What memory holds for `owner` (a checked owner name): its
    /// repositories or that it is missing, while current.
    pub fn cached(&self, owner: &str) -> Option<Found> {
        let found = self
            .cache
            .get_with(&owner.to_ascii_lowercase(), |found, stored_at| {
                let ttl = if found.is_ok() {
                    self.ttl
                } else {
                    self.missing_ttl
                };
                (stored_at.elapsed() < ttl).then(|| found.clone())
            })
            .flatten();
        METRICS.cache_lookup(Cache::Lists, found.is_some());
        found
    }

    /// `owner`'s repositories, from memory or from GitHub. `admit` is asked
    /// before the one call this starts; joining a call running is free.
    pub async fn get(
        &self,
        owner: &str,
        admit: impl FnOnce() -> Result<(), UpstreamError>,
    ) -> Found {
        if let Some(found) = self.cached(owner) {
            return found;
        }
        let key = owner.to_ascii_lowercase();
        let (this, owner) = (self.clone(), owner.to_string());
        self.in_flight
            .try_run(key.clone(), || {
                admit()?;
                Ok(async move {
                    let found: Found =
                        (this.github.owner_repos(&owner, OWNER_REPOS).await).map(Arc::from);
                    let keep = match &found {
                        Ok(_) => true,
                        Err(error) => !error.is_outage(),
                    };
                    if keep {
                        let weight = found
                            .as_ref()
                            .map_or(256, |names| names.len() * size_of::<RepoName>() + key.len());
                        this.cache.insert(key, found.clone(), weight);
                    }
                    found
                })
            })
            .await?
    }
}

#[cfg(test)]
mod tests {
    use crate::github::decode_repos;

    #[test]
    fn forks_private_and_bad_names_are_left_out() {
        let body = br#"[
            {"name": "new", "fork": false},
            {"name": "forked", "fork": true},
            {"name": "secret", "fork": false, "private": true},
            {"name": "..", "fork": false},
            {"name": "old"},
            {"name": "older", "fork": false}
        ]"#;
        let names = decode_repos("o", body, 2).unwrap();
        let names: Vec<String> = names.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["o/new", "o/old"]);
        assert!(decode_repos("o", b"{}", 10).is_err());
    }
}
