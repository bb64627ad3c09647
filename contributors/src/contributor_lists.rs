//! Contributor lists as the pages need them: cached, shared between
//! concurrent visitors, revalidated cheaply, and kept as a fallback.
//!
//! - A list younger than the TTL is served from memory.
//! - An older one is revalidated: each page is asked for with its `ETag`,
//!   and a 304 keeps our copy. GitHub does not count 304s against the rate
//!   limit, so a popular repository costs almost nothing after the first view.
//! - Concurrent requests for the same list share one fetch (see `cache.rs`).
//! - When GitHub fails (down, slow, rate-limited) and we hold an older copy,
//!   that copy is served with a note saying how old it is and why.

use std::sync::Arc;
use std::time::Duration;

use http::Uri;

use crate::cache::{Coalescer, LruCache};
use crate::clock::now_unix;
use crate::error::UpstreamError;
use crate::github::{Contributor, GitHub, PageAnswer, Validators};
use crate::names::RepoName;

/// Contributors shown when the page does not ask for a number.
pub const DEFAULT_MAX: usize = 100;
/// The most a page may ask for (`?max=`): five API pages of 100.
pub const LIMIT_MAX: usize = 500;
/// GitHub's largest page size.
const PER_PAGE: usize = 100;

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
    next: Option<Uri>,
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

type Key = (String, usize);
type Fetched = Result<Arc<List>, UpstreamError>;

#[derive(Clone)]
pub struct ContributorLists {
    github: GitHub,
    cache: Arc<LruCache<Key, Arc<List>>>,
    in_flight: Coalescer<Key, Fetched>,
    ttl: Duration,
}

impl ContributorLists {
    pub fn new(github: GitHub, ttl: Duration, max_entries: usize, max_bytes: usize) -> Self {
        ContributorLists {
            github,
            cache: Arc::new(LruCache::new(max_entries, max_bytes)),
            in_flight: Coalescer::default(),
            ttl,
        }
    }

    /// The first `max` contributors of `repo`, in GitHub's order.
    pub async fn get(&self, repo: &RepoName, max: usize) -> Result<Shown, UpstreamError> {
        let max = max.clamp(1, LIMIT_MAX);
        let key = (repo.folded(), max);
        let held = self.cache.get(&key);
        if let Some((list, stored_at)) = &held
            && stored_at.elapsed() < self.ttl
        {
            return Ok(Shown {
                list: list.clone(),
                stale_because: None,
            });
        }
        let held = held.map(|(list, _)| list);

        let this = self.clone();
        let (repo_for_fetch, held_for_fetch) = (repo.clone(), held.clone());
        let fetched = self
            .in_flight
            .run(key.clone(), move || async move {
                let fetched = this.fetch(&repo_for_fetch, max, held_for_fetch).await;
                if let Ok(list) = &fetched {
                    this.cache.insert(key, list.clone(), list.weight());
                }
                fetched
            })
            .await;

        match (fetched, held) {
            (Ok(list), _) => Ok(Shown {
                list,
                stale_because: None,
            }),
            (Err(error), Some(list)) if error.is_outage() => Ok(Shown {
                list,
                stale_because: Some(error),
            }),
            (Err(error), _) => Err(error),
        }
    }

    /// Fetches page after page until `max` entries or the last page,
    /// revalidating pages we already hold.
    async fn fetch(&self, repo: &RepoName, max: usize, held: Option<Arc<List>>) -> Fetched {
        let held_pages = held.as_ref().map_or(&[][..], |l| &l.pages[..]);
        let mut pages: Vec<CachedPage> = Vec::new();
        let mut contributors = Vec::new();
        let mut url = Some(self.github.first_page_url(repo, PER_PAGE.min(max)));

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
            if contributors.len() < max {
                url = page.next.clone();
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
