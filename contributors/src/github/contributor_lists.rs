//! Contributor lists as the pages need them: cached, shared between
//! concurrent visitors, revalidated cheaply, and kept as a fallback.
//!
//! - A list younger than the TTL is served from memory.
//! - An older one is served from memory too, at once, while it is
//!   revalidated in the background (stale-while-revalidate): each page is
//!   asked for with its `ETag`, and a 304 keeps our copy. GitHub does not
//!   count 304s against the rate limit, so a popular repository costs almost
//!   nothing after the first view, and a slow GitHub never slows a page we
//!   hold. Only a list we have never fetched waits for GitHub.
//! - Concurrent requests for the same list share one fetch (see `cache/coalescer.rs`).
//! - When a background refresh fails (GitHub down, slow, rate-limited), the
//!   old copy goes on being served, with a note saying how old it is and why.
//! - "No such repository" (404, 410, 451) is remembered for a short TTL of
//!   its own, so asking again and again for a missing name costs one call.
//! - Starting a fetch can be refused (the caller's `admit`, e.g. a client's
//!   budget); joining one already running, or a cached answer, never is.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use http::Uri;

use crate::cache::{Coalescer, LruCache};
use crate::github::error::UpstreamError;
use crate::github::names::RepoName;
use crate::github::{Contributor, GitHub, PageAnswer, Validators};
use crate::http::clock::now_unix;
use crate::ops::metrics::{Cache, METRICS};

/// Contributors shown when the page does not ask for a number.
pub const DEFAULT_MAX: usize = 100;
/// The most a page may ask for (`?max=`): five API pages of 100.
pub const LIMIT_MAX: usize = 500;
/// GitHub's largest page size.
const PER_PAGE: usize = 100;
/// What a remembered "not found" weighs in memory, roughly.
const MISSING_WEIGHT: usize = 256;

/// A list as fetched, with what is needed to revalidate it page by page.
#[derive(Debug, Default)]
pub struct List {
    pub contributors: Vec<Contributor>,
    /// True when GitHub has more than the `max` we fetched.
    pub truncated: bool,
    /// When GitHub last confirmed this list (Unix time).
    pub checked_at: u64,
    pages: Vec<CachedPage>,
}

#[derive(Debug)]
struct CachedPage {
    url: Uri,
    validators: Validators,
    contributors: Vec<Contributor>,
    next: Option<Result<Uri, UpstreamError>>,
}

impl List {
    fn weight(&self) -> usize {
        // Each contributor is held twice: in its page and in the flat list.
        2 * self
            .contributors
            .iter()
            .map(Contributor::weight)
            .sum::<usize>()
            + 256
    }
}

/// What the page gets: a list, and when it is an old copy, why.
#[derive(Debug)]
pub struct Shown {
    pub list: Arc<List>,
    /// Set when GitHub failed and an older copy stands in.
    pub stale_because: Option<UpstreamError>,
}

/// Which list: the first `max` contributors, and whether anonymous ones
/// (commit e-mail addresses without an account) count among them. The page
/// shows accounts only; the wall and the JSON API may ask for both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Selection {
    pub max: usize,
    pub anon: bool,
}

impl Selection {
    /// The first `max` accounts, as the page shows them.
    pub fn accounts(max: usize) -> Selection {
        Selection { max, anon: false }
    }
}

/// The repository, case-folded, and which of its lists.
type Key = (RepoName, Selection);

fn key(repo: &RepoName, selection: Selection) -> Key {
    let max = selection.max.clamp(1, LIMIT_MAX);
    (repo.folded(), Selection { max, ..selection })
}
type Fetched = Result<Arc<List>, UpstreamError>;

/// A cached list and, when the latest background refresh failed, why.
struct Held {
    list: Arc<List>,
    /// Why the latest refresh failed: written only then. Every page view
    /// asks, so `failed` answers the usual "no" with a plain load, and only
    /// a "yes" takes the lock (whose every taking is a write to memory that
    /// the CPU cores then pass between them).
    refresh_failed: RwLock<Option<UpstreamError>>,
    failed: AtomicBool,
}

impl Held {
    fn new(list: Arc<List>) -> Held {
        Held {
            list,
            refresh_failed: RwLock::new(None),
            failed: AtomicBool::new(false),
        }
    }

    fn refresh_failed(&self) -> Option<UpstreamError> {
        if !self.failed.load(Ordering::Acquire) {
            return None;
        }
        self.refresh_failed
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set_refresh_failed(&self, error: UpstreamError) {
        *self
            .refresh_failed
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(error);
        self.failed.store(true, Ordering::Release);
    }
}

#[derive(Clone)]
pub struct ContributorLists {
    github: GitHub,
    cache: Arc<LruCache<Key, Arc<Held>>>,
    /// Repositories GitHub said do not exist (or are withheld), by name.
    missing: Arc<LruCache<RepoName, UpstreamError>>,
    in_flight: Coalescer<Key, Fetched>,
    ttl: Duration,
    missing_ttl: Duration,
}

impl ContributorLists {
    pub fn new(
        github: GitHub,
        ttl: Duration,
        missing_ttl: Duration,
        max_entries: usize,
        max_bytes: usize,
    ) -> Self {
        ContributorLists {
            github,
            cache: Arc::new(LruCache::new(max_entries, max_bytes)),
            // A name and a short error each: a few hundred bytes an entry.
            missing: Arc::new(LruCache::new(max_entries, max_entries * MISSING_WEIGHT)),
            in_flight: Coalescer::default(),
            ttl,
            missing_ttl,
        }
    }

    /// What memory holds for `repo` and `selection`, without waiting: a
    /// fresh list, an expired one (whose refresh this starts), or a
    /// remembered "not found". `None` when only GitHub can answer (`get`).
    pub fn cached(
        &self,
        repo: &RepoName,
        selection: Selection,
    ) -> Option<Result<Shown, UpstreamError>> {
        let key = key(repo, selection);
        if let Some((error, stored_at)) = self.missing.get(&key.0)
            && stored_at.elapsed() < self.missing_ttl
        {
            METRICS.cache_lookup(Cache::Lists, true);
            return Some(Err(error));
        }
        // Borrowed, not cloned: only an expired list needs its own handle.
        let (shown, expired) = self.cache.get_with(&key, |held, stored_at| {
            let expired = stored_at.elapsed() >= self.ttl;
            let shown = Shown {
                list: held.list.clone(),
                stale_because: held.refresh_failed(),
            };
            (shown, expired.then(|| held.clone()))
        })?;
        METRICS.cache_lookup(Cache::Lists, true);
        if let Some(held) = expired {
            let (this, key, repo) = (self.clone(), key.clone(), repo.clone());
            self.in_flight.start(key.clone(), move || async move {
                this.fetch_and_keep(key, repo, Some(held)).await
            });
        }
        Some(Ok(shown))
    }

    /// The contributors of `repo` that `selection` asks for, in GitHub's
    /// order: from memory if it has them (`cached`), or else from GitHub.
    ///
    /// `admit` is asked only when this call would start a fetch from
    /// GitHub, and its error is returned as is.
    pub async fn get(
        &self,
        repo: &RepoName,
        selection: Selection,
        admit: impl FnOnce() -> Result<(), UpstreamError>,
    ) -> Result<Shown, UpstreamError> {
        if let Some(shown) = self.cached(repo, selection) {
            return shown;
        }
        METRICS.cache_lookup(Cache::Lists, false);
        let key = key(repo, selection);
        let this = self.clone();
        let repo = repo.clone();
        let list = self
            .in_flight
            .try_run(key.clone(), move || {
                admit()?;
                Ok(async move { this.fetch_and_keep(key, repo, None).await })
            })
            .await??;
        Ok(Shown {
            list,
            stale_because: None,
        })
    }

    /// Fetches (or revalidates `held`) and keeps what comes back: a list in
    /// the cache, a "not found" in `missing`, an outage with `held`.
    async fn fetch_and_keep(&self, key: Key, repo: RepoName, held: Option<Arc<Held>>) -> Fetched {
        let fetched = self
            .fetch(&repo, key.1, held.as_ref().map(|h| h.list.clone()))
            .await;
        match &fetched {
            Ok(list) => {
                self.missing.remove(&key.0);
                let weight = list.weight();
                let held = Held::new(list.clone());
                let evicted = self.cache.insert(key, Arc::new(held), weight);
                METRICS.cache_evicted(Cache::Lists, evicted);
            }
            Err(error) if !error.is_outage() => {
                self.cache.remove(&key);
                self.missing.insert(key.0, error.clone(), MISSING_WEIGHT);
            }
            Err(error) => {
                if let Some(held) = held {
                    held.set_refresh_failed(error.clone());
                }
            }
        }
        fetched
    }

    /// Fetches page after page until `max` entries or the last page,
    /// revalidating pages we already hold.
    async fn fetch(
        &self,
        repo: &RepoName,
        selection: Selection,
        held: Option<Arc<List>>,
    ) -> Fetched {
        let Selection { max, anon } = selection;
        let held_pages = held.as_ref().map_or(&[][..], |l| &l.pages[..]);
        let mut pages: Vec<CachedPage> = Vec::new();
        let mut contributors = Vec::new();
        let mut url = Some(self.github.first_page_url(repo, PER_PAGE.min(max), anon));

        while let Some(page_url) = url.take() {
            let known = held_pages.get(pages.len()).filter(|p| p.url == page_url);
            let answer = self
                .github
                .contributors_page(repo, page_url.clone(), known.map(|p| &p.validators))
                .await?;
            let page = match (answer, known) {
                (PageAnswer::Page(page), _) => CachedPage {
                    url: page_url,
                    validators: page.validators,
                    contributors: page.contributors,
                    next: page.next,
                },
                (PageAnswer::NotModified, Some(known)) => CachedPage {
                    url: page_url,
                    validators: known.validators.clone(),
                    contributors: known.contributors.clone(),
                    next: known.next.clone(),
                },
                // A 304 for a request without validators is GitHub misbehaving.
                (PageAnswer::NotModified, None) => {
                    return Err(UpstreamError::Malformed {
                        host: self.github.api().host().to_string(),
                        detail: "304 Not Modified to an unconditional request".into(),
                    });
                }
            };
            contributors.extend(page.contributors.iter().cloned());
            // Only a link we follow has to be one we are willing to follow.
            if contributors.len() < max {
                url = page.next.clone().transpose()?;
            }
            let has_next = page.next.is_some();
            pages.push(page);
            if contributors.len() >= max {
                let truncated = contributors.len() > max || has_next;
                contributors.truncate(max);
                return Ok(Arc::new(List {
                    contributors,
                    truncated,
                    checked_at: now_unix(),
                    pages,
                }));
            }
        }
        Ok(Arc::new(List {
            contributors,
            truncated: false,
            checked_at: now_unix(),
            pages,
        }))
    }

    /// Entries and bytes held, for `/status`.
    pub fn usage(&self) -> (usize, usize) {
        self.cache.usage()
    }
}
