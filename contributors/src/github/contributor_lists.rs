//! Contributor lists as the pages need them: one list per repository,
//! cached, shared between concurrent visitors, revalidated cheaply, and
//! kept as a fallback.
//!
//! - **One list per repository** (two, in fact: with and without anonymous
//!   entries). It holds the first pages of GitHub's list, 100 contributors
//!   a page, as many pages as the largest `max` asked for so far needed (at
//!   most five: `LIMIT_MAX`). A `max` only slices it ([`Shown`]): forty
//!   sizes of a 250-person list are one list of three pages, fetched once.
//! - **Few round trips.** A list not held starts with its first page,
//!   whose `Link: rel="last"` says how many pages there are; the pages
//!   after it are then asked for all at once. A cold `max=500` waits for
//!   two round trips to GitHub, not five. A larger `max` than the list
//!   holds fetches only the pages it lacks, the same way, and keeps the
//!   pages held.
//! - A list whose oldest page is younger than the TTL is served from memory.
//! - An older one is served from memory too, at once, while its pages are
//!   revalidated in the background (stale-while-revalidate), all at once:
//!   each page is asked for with its `ETag`, and a 304 keeps our copy.
//!   GitHub does not count 304s against the rate limit, so a popular
//!   repository costs almost nothing after the first view, and a slow
//!   GitHub never slows a page we hold. Only a list we do not hold, or not
//!   far enough, waits for GitHub.
//! - Concurrent requests for the same list share one fetch (see
//!   `cache/coalescer.rs`). A request that joined a fetch for fewer pages
//!   than it needs starts the next one when that one ends.
//! - When a background refresh fails (GitHub down, slow, rate-limited), the
//!   old copy goes on being served, with a note saying how old it is and why.
//! - "No such repository" (404, 410, 451) is remembered for a short TTL of
//!   its own, so asking again and again for a missing name costs one call.
//! - **Each page is paid for by whoever asks for it.** Starting a fetch
//!   first asks the caller's `admit` (e.g. a client's budget) for the
//!   number of pages it will request: one for a list not held (only its
//!   first page tells how many there are), then the pages missing, all of
//!   them or none. Refused, nothing is requested and the list stays as it
//!   was: a list always holds whole pages from the first on, and says when
//!   GitHub has more ([`Shown::truncated`]), so a list cut short never
//!   claims to be whole. Joining a fetch already running, a cached answer,
//!   and revalidating pages held are free.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use http::Uri;
use tokio::task::JoinSet;

use crate::cache::{Coalescer, LruCache};
use crate::github::error::UpstreamError;
use crate::github::names::RepoName;
use crate::github::{Contributor, GitHub, PageAnswer, Validators, page_number, page_url};
use crate::http::clock::now_unix;
use crate::ops::metrics::{Cache, METRICS};

/// Contributors shown when the page does not ask for a number.
pub const DEFAULT_MAX: usize = 100;
/// The most a page may ask for (`?max=`): five API pages of 100.
pub const LIMIT_MAX: usize = 500;
/// GitHub's largest page size: every page we ask for has it.
const PER_PAGE: usize = 100;
/// The most pages a list holds.
const MAX_PAGES: usize = LIMIT_MAX.div_ceil(PER_PAGE);
/// Fetches one request waits for at most: the first page, the rest, and
/// two more for when the fetches it joined were for fewer pages.
const ROUNDS: usize = 4;
/// What a remembered "not found" weighs in memory, roughly.
const MISSING_WEIGHT: usize = 256;

/// A list as fetched: the first pages of GitHub's list, with what is
/// needed to revalidate them page by page and to fetch the next ones.
#[derive(Debug)]
pub struct List {
    /// The contributors of every page held, in GitHub's order.
    pub contributors: Vec<Contributor>,
    /// When GitHub last confirmed this list's oldest page (Unix time).
    pub checked_at: u64,
    /// The same moment, for the TTL.
    pub confirmed: Instant,
    pages: Vec<CachedPage>,
    /// Whether GitHub has pages after the ones held: the last page's
    /// `next`, copied here when the list is made, so that a view reads the
    /// list itself and not its pages (with many lists held, each is one
    /// more cache miss a view).
    more: bool,
    /// Why the latest background refresh of this list failed (GitHub down,
    /// slow, rate-limited), while it goes on being shown: written only
    /// then. Every view asks, so `failed` answers the usual "no" with a
    /// plain load, and only a "yes" takes the lock (whose every taking is
    /// a write to memory that the CPU cores then pass between them). A
    /// refresh that succeeds makes a new list, which starts with neither.
    refresh_failed: RwLock<Option<UpstreamError>>,
    failed: AtomicBool,
    /// The generation of `views::seen_ids` that last noted this list's
    /// ids (0: none). Kept with the list so that a list already noted
    /// costs every later view two reads, and no lock.
    pub seen_in: AtomicU64,
}

/// One page held: where it is, its validators, and how many of the list's
/// contributors it holds (they are kept once, in the list).
#[derive(Clone, Debug)]
struct CachedPage {
    url: Uri,
    validators: Validators,
    len: usize,
    next: Option<Result<Uri, UpstreamError>>,
    last: Option<Result<Uri, UpstreamError>>,
}

impl Default for List {
    fn default() -> List {
        List {
            contributors: Vec::new(),
            checked_at: 0,
            confirmed: Instant::now(),
            pages: Vec::new(),
            more: false,
            refresh_failed: RwLock::new(None),
            failed: AtomicBool::new(false),
            seen_in: AtomicU64::new(0),
        }
    }
}

impl List {
    /// Whether GitHub has pages after the ones held.
    fn has_more(&self) -> bool {
        self.more
    }

    /// Why its latest background refresh failed, if it did.
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

    /// Whether it holds what `max` asks for: `max` contributors, or all
    /// there are, or as many pages as `max` needs (should GitHub send short
    /// pages, the page says "the first …" and no more is asked).
    fn covers(&self, max: usize) -> bool {
        self.contributors.len() >= max || !self.has_more() || self.pages.len() >= pages_for(max)
    }

    /// Its pages, each with its contributors.
    fn held_pages(&self) -> Vec<HeldPage<'_>> {
        let mut start = 0;
        (self.pages.iter())
            .map(|page| {
                let end = (start + page.len).min(self.contributors.len());
                let contributors = &self.contributors[start..end];
                start = end;
                (page, contributors)
            })
            .collect()
    }

    /// What it weighs in memory, roughly: its contributors, and per page
    /// its URLs and validators.
    fn weight(&self) -> usize {
        let contributors: usize = self.contributors.iter().map(Contributor::weight).sum();
        let pages: usize = self.pages.iter().map(CachedPage::weight).sum();
        size_of::<List>() + contributors + pages
    }
}

/// A page held, and its contributors.
type HeldPage<'a> = (&'a CachedPage, &'a [Contributor]);

impl CachedPage {
    fn weight(&self) -> usize {
        let url = |url: &Uri| url.authority().map_or(0, |a| a.as_str().len()) + url.path().len();
        let link = |link: &Option<Result<Uri, UpstreamError>>| match link {
            Some(Ok(target)) => url(target) + target.query().map_or(0, str::len),
            Some(Err(_)) => 128,
            None => 0,
        };
        let text = |v: &Option<String>| v.as_ref().map_or(0, String::len);
        size_of::<CachedPage>()
            + url(&self.url)
            + self.url.query().map_or(0, str::len)
            + text(&self.validators.etag)
            + text(&self.validators.last_modified)
            + link(&self.next)
            + link(&self.last)
    }
}

/// Pages of 100 needed for `max` contributors: 1 to 5.
fn pages_for(max: usize) -> usize {
    max.clamp(1, LIMIT_MAX).div_ceil(PER_PAGE)
}

/// What the page gets: the list held, how much of it to show, and, when it
/// is an old copy, why.
#[derive(Debug)]
pub struct Shown {
    pub list: Arc<List>,
    /// How many contributors were asked for: the list may hold more.
    pub max: usize,
    /// Set when GitHub failed and an older copy stands in.
    pub stale_because: Option<UpstreamError>,
}

impl Shown {
    /// The contributors to show: the first `max` of the list.
    pub fn contributors(&self) -> &[Contributor] {
        let all = &self.list.contributors;
        &all[..all.len().min(self.max)]
    }

    /// True when GitHub has more than [`Shown::contributors`].
    pub fn truncated(&self) -> bool {
        self.list.contributors.len() > self.max || self.list.has_more()
    }
}

/// Which part of which list: the first `max` contributors, and whether
/// anonymous ones (commit e-mail addresses without an account) count among
/// them. The page shows accounts only; the wall and the JSON API may ask
/// for both. `max` does not choose the list, only how much of it is shown.
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

/// The repository, case-folded, and whether its list has anonymous entries.
type Key = (RepoName, bool);

fn key(repo: &RepoName, anon: bool) -> Key {
    (repo.folded(), anon)
}
type Fetched = Result<Arc<List>, UpstreamError>;

/// The first `max` of `list`, for a page.
fn shown(list: &Arc<List>, max: usize) -> Shown {
    Shown {
        list: list.clone(),
        max,
        stale_because: list.refresh_failed(),
    }
}

#[derive(Clone)]
pub struct ContributorLists {
    github: GitHub,
    cache: Arc<LruCache<Key, Arc<List>>>,
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

    /// What memory holds for `repo` and `selection`, without waiting, as
    /// of `now`: a list that holds `max` contributors, fresh or expired
    /// (whose refresh this starts), or a remembered "not found". `None`
    /// when only GitHub can answer (`get`). A request passes the moment it
    /// arrived, the one clock reading its answer needs.
    pub fn cached_at(
        &self,
        repo: &RepoName,
        selection: Selection,
        now: Instant,
    ) -> Option<Result<Shown, UpstreamError>> {
        let key = key(repo, selection.anon);
        if let Some((error, stored_at)) = self.missing.get(&key.0)
            && now.saturating_duration_since(stored_at) < self.missing_ttl
        {
            METRICS.cache_lookup(Cache::Lists, true);
            return Some(Err(error));
        }
        // Borrowed, not cloned: only an expired list needs its own handle.
        let (shown, expired) = self
            .cache
            .get_with(&key, |list, _stored_at| {
                if !list.covers(selection.max) {
                    return None;
                }
                let expired = now.saturating_duration_since(list.confirmed) >= self.ttl;
                Some((shown(list, selection.max), expired.then(|| list.clone())))
            })
            .flatten()?;
        METRICS.cache_lookup(Cache::Lists, true);
        if let Some(held) = expired {
            // Every page held, revalidated; none added, so nobody pays.
            let (this, key, repo) = (self.clone(), key.clone(), repo.clone());
            self.in_flight.start(key.clone(), move || async move {
                this.fetch_and_keep(key, repo, Some(held), Vec::new()).await
            });
        }
        Some(Ok(shown))
    }

    /// The contributors of `repo` that `selection` asks for, in GitHub's
    /// order: from memory if it has them (`cached_at`), or else from GitHub,
    /// in rounds: the first page of a list not held, then every page
    /// missing at once.
    ///
    /// `admit(pages)` is asked before each round this call starts, with the
    /// number of pages it will request; its error is returned as is, before
    /// any is requested. Joining a round already running is not asked.
    /// It is a trait object, not a generic: callers pass closures of their
    /// own, and a generic would compile this whole wait, and the round it
    /// starts, once for each of them.
    pub async fn get(
        &self,
        repo: &RepoName,
        selection: Selection,
        admit: &(dyn Fn(usize) -> Result<(), UpstreamError> + Sync),
    ) -> Result<Shown, UpstreamError> {
        if let Some(shown) = self.cached_at(repo, selection, Instant::now()) {
            return shown;
        }
        METRICS.cache_lookup(Cache::Lists, false);
        let Selection { max, anon } = selection;
        let key = key(repo, anon);
        let mut held = None;
        let mut rounds = 0;
        loop {
            // The list as the latest round left it: in the cache, unless
            // the cache could not keep it (then the one in hand is longer).
            if let Some((cached, _stored_at)) = self.cache.get(&key)
                && held
                    .as_ref()
                    .is_none_or(|h: &Arc<List>| cached.pages.len() >= h.pages.len())
            {
                held = Some(cached);
            }
            // Still short after every round: what GitHub gave, which says
            // it is not all.
            if let Some(held) = &held
                && (held.covers(max) || rounds == ROUNDS)
            {
                return Ok(shown(held, max));
            }
            let had = held.clone();
            let wanted = self.wanted(repo, anon, had.as_deref(), max)?;
            let (this, key, repo) = (self.clone(), key.clone(), repo.clone());
            let list = self
                .in_flight
                .try_run(key.clone(), || {
                    // No round is running, but one may have ended since the
                    // look at the cache above: a round stores its list
                    // before it leaves `in_flight`, so that list is here
                    // now, and GitHub is not asked again for its pages.
                    let newer = (self.cache.get(&key)).filter(|(cached, _)| {
                        (had.as_ref()).is_none_or(|had| cached.pages.len() > had.pages.len())
                    });
                    if newer.is_none() {
                        admit(wanted.len())?;
                    }
                    Ok(async move {
                        match newer {
                            Some((cached, _stored_at)) => Ok(cached),
                            None => this.fetch_and_keep(key, repo, held, wanted).await,
                        }
                    })
                })
                .await??;
            rounds += 1;
            held = Some(list);
        }
    }

    /// The URLs of the pages to add to `list` for `max` contributors: the
    /// first page of a list not held; else the pages after those held, as
    /// far as `max` needs and GitHub has (its `last` link says how far).
    /// Only a link that is followed has to be one we are willing to follow.
    fn wanted(
        &self,
        repo: &RepoName,
        anon: bool,
        list: Option<&List>,
        max: usize,
    ) -> Result<Vec<Uri>, UpstreamError> {
        let Some(held_last) = list.and_then(|list| list.pages.last()) else {
            return Ok(vec![self.github.first_page_url(repo, PER_PAGE, anon)]);
        };
        let held = list.map_or(0, |list| list.pages.len());
        // GitHub numbers its pages in its links: the last link's number is
        // how many there are. Without one, the next link shows the way.
        let (link, last) = match (&held_last.last, &held_last.next) {
            (Some(last), _) => {
                let last = last.clone()?;
                let pages = page_number(&last).unwrap_or(MAX_PAGES);
                (last, pages)
            }
            (None, Some(next)) => (next.clone()?, MAX_PAGES),
            (None, None) => return Ok(Vec::new()),
        };
        // At least the page after those held, which its link says exists.
        let to = pages_for(max).min(last).max(held + 1);
        (held + 1..=to)
            .map(|page| {
                page_url(&link, page).ok_or_else(|| UpstreamError::Malformed {
                    host: self.github.api().host().to_string(),
                    detail: "a page link that cannot be numbered".into(),
                })
            })
            .collect()
    }

    /// Fetches the pages `wanted` after those of `held`, or with none
    /// wanted, revalidates the pages held (a background refresh), and keeps
    /// what comes back: a list in the cache, a "not found" in `missing`, an
    /// outage with `held`. Adding pages leaves those held as they are, and
    /// the list as old as its oldest page: refreshing it is the background's
    /// job, started by the next view once it has expired.
    async fn fetch_and_keep(
        &self,
        key: Key,
        repo: RepoName,
        held: Option<Arc<List>>,
        wanted: Vec<Uri>,
    ) -> Fetched {
        let list = held.as_deref();
        let revalidate = wanted.is_empty();
        let fetched = self
            .fetch(&repo, list, revalidate, wanted)
            .await
            .map(Arc::new);
        match &fetched {
            Ok(list) => {
                self.missing.remove(&key.0);
                let weight = list.weight();
                let evicted = self.cache.insert(key, list.clone(), weight);
                METRICS.cache_evicted(Cache::Lists, evicted);
            }
            Err(error) if !error.is_outage() => {
                self.cache.remove(&key);
                self.missing.insert(key.0, error.clone(), MISSING_WEIGHT);
            }
            Err(error) => {
                if let Some(held) = held.filter(|_| revalidate) {
                    held.set_refresh_failed(error.clone());
                }
            }
        }
        fetched
    }

    /// The pages of `held` (revalidated when `revalidate`), then those at
    /// `wanted`, all asked for at once, as one list that ends at GitHub's
    /// last page if it reaches it.
    async fn fetch(
        &self,
        repo: &RepoName,
        held: Option<&List>,
        revalidate: bool,
        wanted: Vec<Uri>,
    ) -> Result<List, UpstreamError> {
        // Each page of the new list: where it is, the copy held if any, and
        // whether GitHub is asked for it this time.
        let held_pages = held.map(List::held_pages).unwrap_or_default();
        let pages: Vec<(Uri, Option<HeldPage<'_>>, bool)> = (held_pages.iter())
            .map(|&(page, contributors)| (page.url.clone(), Some((page, contributors)), revalidate))
            .chain(wanted.into_iter().map(|url| (url, None, true)))
            .collect();
        let asked = (pages.iter())
            .filter(|(_, _, ask)| *ask)
            .map(|(url, known, _)| (url.clone(), known.map(|(p, _)| p.validators.clone())))
            .collect();
        let mut answers = self.fetch_pages(repo, asked).await?.into_iter();

        let (checked_at, confirmed) = match held {
            Some(held) if !revalidate => (held.checked_at, held.confirmed),
            _ => (now_unix(), Instant::now()),
        };
        let mut list = List {
            checked_at,
            confirmed,
            ..List::default()
        };
        for (url, known, ask) in pages {
            let answer = if ask { answers.next() } else { None };
            let (contributors, page) = match (answer, known) {
                (Some(PageAnswer::Page(page)), _) => {
                    let page = *page;
                    let cached = CachedPage {
                        url,
                        validators: page.validators,
                        len: page.contributors.len(),
                        next: page.next,
                        last: page.last,
                    };
                    (page.contributors, cached)
                }
                // Not asked, or a 304: the copy held stands.
                (_, Some((page, contributors))) => (contributors.to_vec(), page.clone()),
                // A 304 for a request without validators is GitHub misbehaving.
                (_, None) => {
                    return Err(UpstreamError::Malformed {
                        host: self.github.api().host().to_string(),
                        detail: "304 Not Modified to an unconditional request".into(),
                    });
                }
            };
            let last_page = page.next.is_none();
            list.contributors.extend(contributors);
            list.pages.push(page);
            // Pages after GitHub's last (the list shrank) are dropped.
            if last_page {
                break;
            }
        }
        list.contributors.shrink_to_fit();
        list.more = list.pages.last().is_some_and(|page| page.next.is_some());
        Ok(list)
    }

    /// Asks GitHub for each page in `pages` (its URL, and the validators of
    /// the copy held, if any) at once, each in a task of its own, and gives
    /// the answers in the same order; or the first failure, which cancels
    /// the requests still running.
    async fn fetch_pages(
        &self,
        repo: &RepoName,
        pages: Vec<(Uri, Option<Validators>)>,
    ) -> Result<Vec<PageAnswer>, UpstreamError> {
        let mut answers: Vec<Option<PageAnswer>> = pages.iter().map(|_| None).collect();
        let mut requests = JoinSet::new();
        for (at, (url, known)) in pages.into_iter().enumerate() {
            let (github, repo) = (self.github.clone(), repo.clone());
            requests.spawn(async move {
                let answer = github.contributors_page(&repo, url, known.as_ref()).await;
                (at, answer)
            });
        }
        while let Some(done) = requests.join_next().await {
            let (at, answer) =
                done.unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()));
            answers[at] = Some(answer?);
        }
        Ok(answers.into_iter().flatten().collect())
    }

    /// Entries and bytes held, for `/status`.
    pub fn usage(&self) -> (usize, usize) {
        self.cache.usage()
    }
}

#[cfg(test)]
mod tests {
    //! The parts of a list that bound what a view shows and what memory
    //! counts, then the times a list keeps: how long a "not found" is
    //! remembered, and how old an extended or a revalidated list is; last,
    //! the pages a list grows by when GitHub's links disagree, as they do
    //! when a list grows while it is read (those against fake-github, over
    //! TLS). Fetching and paying for pages as a visitor sees it are the
    //! app's tests (`tests/app/lists.rs`).

    use super::*;
    use crate::github::BaseUrl;
    use crate::github::proxy::Proxy;
    use crate::github::upstream::Upstream;

    fn contributor(n: usize) -> Contributor {
        Contributor {
            login: Some(format!("user{n}")),
            id: Some(n as u64),
            html_url: Some(format!("https://github.com/user{n}")),
            contributions: 1,
            name: None,
            kind: Some("User".to_string()),
        }
    }

    fn page(len: usize) -> CachedPage {
        CachedPage {
            url: Uri::from_static("https://api.example/repos/o/r/contributors?per_page=100"),
            validators: Validators::default(),
            len,
            next: None,
            last: None,
        }
    }

    /// `people` contributors in pages of the `lens` given, and whether
    /// GitHub has more.
    fn list(people: usize, lens: &[usize], more: bool) -> List {
        List {
            contributors: (0..people).map(contributor).collect(),
            pages: lens.iter().map(|&len| page(len)).collect(),
            more,
            ..List::default()
        }
    }

    #[test]
    fn pages_for_counts_pages_of_100_from_1_to_5() {
        let counts: Vec<usize> = [0, 1, 100, 101, 200, 201, 500, 501, usize::MAX]
            .into_iter()
            .map(pages_for)
            .collect();
        assert_eq!(counts, [1, 1, 1, 2, 2, 3, 5, 5, 5]);
    }

    #[test]
    fn a_list_covers_a_max_it_holds_all_of_or_has_the_pages_for() {
        // 100 held of more: up to 100 is covered, 101 is not.
        let first_page = list(100, &[100], true);
        assert!(first_page.covers(1));
        assert!(first_page.covers(100));
        assert!(!first_page.covers(101));
        // All there are: any max is covered.
        let whole = list(250, &[100, 100, 50], false);
        assert!(whole.covers(500));
        // GitHub sent short pages: two pages cover a max of two pages,
        // not a max that needs a third.
        let short = list(150, &[80, 70], true);
        assert!(short.covers(150));
        assert!(short.covers(200));
        assert!(!short.covers(201));
    }

    #[test]
    fn held_pages_split_the_contributors_page_by_page() {
        let held = list(250, &[100, 100, 50], false);
        let sizes: Vec<(u64, usize)> = (held.held_pages().iter())
            .map(|(_, people)| (people[0].id.unwrap(), people.len()))
            .collect();
        assert_eq!(sizes, [(0, 100), (100, 100), (200, 50)]);
        // A page that says it holds more than the list does ends at the end.
        let cut = list(120, &[100, 100], false);
        let lens: Vec<usize> = cut.held_pages().iter().map(|(_, p)| p.len()).collect();
        assert_eq!(lens, [100, 20]);
    }

    #[test]
    fn a_list_weighs_its_contributors_and_each_page_s_urls_and_validators() {
        let mut held = list(3, &[3], false);
        let url = "https://api.example/repos/o/r/contributors?per_page=100&page=2";
        held.pages[0].validators = Validators {
            etag: Some("\"abc\"".to_string()),
            last_modified: Some("Mon, 07 Dec 2026 18:00:00 GMT".to_string()),
        };
        held.pages[0].next = Some(Ok(Uri::from_static(url)));
        held.pages[0].last = Some(Err(UpstreamError::RateLimited { reset: None }));
        // The page's own URL and its next link: authority, path and query.
        let page_url = "api.example".len() + "/repos/o/r/contributors".len() + "per_page=100".len();
        let next_url =
            "api.example".len() + "/repos/o/r/contributors".len() + "per_page=100&page=2".len();
        let validators = "\"abc\"".len() + "Mon, 07 Dec 2026 18:00:00 GMT".len();
        let last_link = 128; // a link kept as its error
        let page = size_of::<CachedPage>() + page_url + validators + next_url + last_link;
        assert_eq!(held.pages[0].weight(), page);
        let people: usize = held.contributors.iter().map(Contributor::weight).sum();
        assert_eq!(held.weight(), size_of::<List>() + people + page);
    }

    #[test]
    fn a_view_shows_the_first_max_and_says_when_github_has_more() {
        let view = |held: List, max| shown(&Arc::new(held), max);
        let first_100 = view(list(150, &[100, 50], false), 100);
        assert_eq!(first_100.contributors().len(), 100);
        assert!(first_100.truncated(), "the list holds 50 more");
        let all = view(list(150, &[100, 50], false), 150);
        assert_eq!(all.contributors().len(), 150);
        assert!(!all.truncated(), "exactly all of them");
        let more_asked = view(list(150, &[100, 50], false), 200);
        assert_eq!(more_asked.contributors().len(), 150);
        assert!(!more_asked.truncated());
        let more_upstream = view(list(100, &[100], true), 100);
        assert!(more_upstream.truncated(), "GitHub has another page");
    }

    #[test]
    fn a_view_of_a_list_whose_refresh_failed_says_why() {
        let held = Arc::new(list(1, &[1], false));
        assert!(shown(&held, 1).stale_because.is_none());
        held.set_refresh_failed(UpstreamError::RateLimited { reset: Some(7) });
        let stale = shown(&held, 1).stale_because;
        assert!(matches!(
            stale,
            Some(UpstreamError::RateLimited { reset: Some(7) })
        ));
    }

    #[test]
    fn a_list_is_keyed_by_the_folded_name_and_anon() {
        let name = RepoName::new("Tokio-RS", "Tokio").unwrap();
        assert_eq!(key(&name, true), (name.folded(), true));
        assert_ne!(key(&name, true), key(&name, false));
        let page = Selection::accounts(7);
        assert_eq!(
            page,
            Selection {
                max: 7,
                anon: false
            }
        );
    }

    /// Lists fetched from `fake` over TLS, trusting only its CA, with a
    /// "not found" remembered for `missing_ttl`, and `max_bytes` of lists.
    fn lists_from(
        fake: &fake_github::FakeGitHub,
        missing_ttl: Duration,
        max_bytes: usize,
    ) -> ContributorLists {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(fake.ca_der().into()).unwrap();
        let timeout = Duration::from_secs(5);
        let upstream = Upstream::new(roots, Proxy::default(), timeout, timeout);
        let github = GitHub::new(upstream, BaseUrl::parse(&fake.url()).unwrap(), None);
        let ttl = Duration::from_secs(600);
        ContributorLists::new(github, ttl, missing_ttl, 100, max_bytes)
    }

    #[tokio::test]
    async fn a_missing_repository_is_remembered_for_its_ttl_and_no_longer() {
        let fake = fake_github::FakeGitHub::start().await;
        let ttl = Duration::from_secs(30);
        let lists = lists_from(&fake, ttl, 1 << 20);
        let name = RepoName::new("o", "gone").unwrap();
        let page = Selection::accounts(100);
        let error = lists.get(&name, page, &|_| Ok(())).await.unwrap_err();
        assert!(matches!(error, UpstreamError::NotFound { .. }), "{error:?}");
        let (_, stored_at) = lists.missing.get(&name.folded()).unwrap();
        let as_of = |later: Duration| lists.cached_at(&name, page, stored_at + later);
        let remembered = as_of(ttl - Duration::from_nanos(1));
        assert!(matches!(
            remembered,
            Some(Err(UpstreamError::NotFound { .. }))
        ));
        assert!(
            as_of(ttl).is_none(),
            "forgotten at its TTL: GitHub is asked again"
        );
    }

    #[tokio::test]
    async fn a_list_extended_is_as_old_as_its_oldest_page_and_a_revalidated_one_is_new() {
        let fake = fake_github::FakeGitHub::start().await;
        fake.set_contributors("o", "r", fake_users(250));
        let lists = lists_from(&fake, Duration::from_secs(30), 1 << 20);
        let name = RepoName::new("o", "r").unwrap();
        let admit = |_| Ok(());
        let first = lists.get(&name, Selection::accounts(100), &admit).await;
        let first = first.unwrap().list;
        assert!(first.checked_at.abs_diff(now_unix()) <= 2, "checked now");
        // Two more pages: the list keeps the first page's time.
        let extended = lists.get(&name, Selection::accounts(250), &admit).await;
        let extended = extended.unwrap().list;
        assert_eq!(extended.pages.len(), 3);
        assert_eq!(extended.confirmed, first.confirmed);
        assert_eq!(extended.checked_at, first.checked_at);
        // Its TTL over, every page revalidated: the new list is confirmed now.
        let expired = extended.confirmed + Duration::from_secs(600);
        assert!(
            lists
                .cached_at(&name, Selection::accounts(250), expired)
                .is_some()
        );
        let mut revalidated = None;
        for _ in 0..500 {
            let (held, _) = lists.cache.get(&key(&name, false)).unwrap();
            if !Arc::ptr_eq(&held, &extended) {
                revalidated = Some(held);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let revalidated = revalidated.expect("revalidated within 5 s");
        assert_eq!(revalidated.pages.len(), 3);
        assert!(revalidated.confirmed > extended.confirmed);
    }

    #[tokio::test]
    async fn the_page_after_those_held_is_asked_for_whatever_an_older_last_link_says() {
        let fake = fake_github::FakeGitHub::start().await;
        let lists = lists_from(&fake, Duration::from_secs(30), 1 << 20);
        let name = RepoName::new("o", "r").unwrap();
        // One page held. The list has grown since: its `next` link names a
        // second page, its `last` link (as old as the page) only the first.
        let link = |page| {
            let url = format!(
                "{}/repos/o/r/contributors?per_page=100&page={page}",
                fake.url()
            );
            Some(Ok(Uri::try_from(url).unwrap()))
        };
        let mut held = list(100, &[100], true);
        (held.pages[0].next, held.pages[0].last) = (link(2), link(1));
        let wanted = lists.wanted(&name, false, Some(&held), 250).unwrap();
        let pages: Vec<_> = wanted.iter().map(page_number).collect();
        assert_eq!(pages, [Some(2)]);
    }

    #[tokio::test]
    async fn a_list_too_heavy_to_keep_grows_in_rounds_from_the_one_in_hand() {
        let fake = fake_github::FakeGitHub::start().await;
        fake.set_contributors("o", "r", fake_users(250));
        // Every page says there are two: GitHub's list grew while it was read.
        fake.set_repo_behaviour("o", "r", fake_github::Behaviour::LastPage(2));
        let name = RepoName::new("o", "r").unwrap();
        let admit = |_| Ok(());
        // A budget that keeps the first page's list, and no longer one.
        let probe = lists_from(&fake, Duration::from_secs(30), 1 << 20);
        probe
            .get(&name, Selection::accounts(100), &admit)
            .await
            .unwrap();
        let one_page = probe.cache.usage().1;
        let lists = lists_from(&fake, Duration::from_secs(30), one_page * 3 / 2);
        lists
            .get(&name, Selection::accounts(100), &admit)
            .await
            .unwrap();
        fake.reset_counters();
        // Page 2 (all the `last` links allow), then page 3, which page 2's
        // `next` link names: each once, and each round from the longer list
        // in hand, not from the one page the cache could keep.
        let shown = lists.get(&name, Selection::accounts(250), &admit).await;
        assert_eq!(shown.unwrap().contributors().len(), 250);
        assert_eq!(fake.contributors_requests(), 2);
        assert_eq!(lists.cache.usage().1, one_page, "the cache kept one page");
    }

    #[tokio::test]
    async fn a_view_asks_github_in_four_rounds_at_most() {
        let fake = fake_github::FakeGitHub::start().await;
        fake.set_contributors("o", "r", fake_users(500));
        // Every page's `last` link names the first: each round adds the one
        // page its `next` link names, and the fourth round is the last.
        fake.set_repo_behaviour("o", "r", fake_github::Behaviour::LastPage(1));
        let lists = lists_from(&fake, Duration::from_secs(30), 1 << 20);
        let name = RepoName::new("o", "r").unwrap();
        let shown = lists.get(&name, Selection::accounts(500), &|_| Ok(()));
        let shown = shown.await.unwrap();
        assert_eq!(shown.contributors().len(), ROUNDS * PER_PAGE);
        assert!(shown.truncated(), "said to be the first 400");
        assert_eq!(fake.contributors_requests(), ROUNDS);
    }

    fn fake_users(n: u64) -> Vec<fake_github::Contributor> {
        (1..=n)
            .map(|i| fake_github::Contributor::user(&format!("user{i}"), 1000 + i, 10_000 - i))
            .collect()
    }
}
