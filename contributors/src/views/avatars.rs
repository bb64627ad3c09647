//! The avatar proxy: `GET /avatars/{id}?s=SIZE`.
//!
//! The Go original put GitHub's avatar URLs straight into the page, so every
//! visitor's browser fetched them from GitHub. Here the server fetches them,
//! through the same bundled-root client, and the page only ever points at
//! `/avatars/...` on our own origin. That keeps upstream URLs out of the HTML,
//! lets a strict Content-Security-Policy allow images from `'self'` only,
//! and lets a whole room of visitors share one cached copy of each image.
//!
//! What comes in is narrowed before anything goes out: the id must be
//! digits, the size snaps to a small set, and the URL is built from those
//! alone. What comes back is narrowed too: raster images only (no SVG, which
//! can carry script), a size cap, and nothing but the body and its type are
//! passed on.
//!
//! What a visitor may make us fetch is narrowed too:
//!
//! - **Only ids a list has shown** (`seen_ids.rs`): `routes.rs` answers any
//!   other id with a 404 before it gets here. A wall asks for its list's
//!   ids only.
//! - **A failure is remembered** for the negative cache's TTL
//!   (`CONTRIBUTORS_NEGATIVE_CACHE_TTL`), as a missing repository is: a
//!   wall of 250 missing avatars costs its 250 calls once, not per view.
//! - **Starting a fetch can be refused** (the caller's `admit`: the
//!   client's budget). Joining a fetch already running, a cached picture
//!   and a remembered failure cost nothing.
//!
//! And what fetches hold at once, whoever asked, is capped twice. Their
//! number ([`FETCHES_AT_ONCE`]): over HTTP/1.1 each running fetch holds a
//! connection to the avatar host, so the cap is the most connections (and
//! their TLS state and buffers) that walls and visitors can make us hold
//! there. And their bytes ([`BYTES_IN_FLIGHT`]): each fetch reads at most
//! what a picture of its size can need ([`max_avatar_bytes`]), and holds
//! that much of the budget until it is done, so the bodies on their way in
//! stay within it, whatever the avatar host sends. Fetches over either cap
//! wait their turn.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::cache::{Coalescer, LruCache};
use crate::github::BaseUrl;
use crate::github::error::UpstreamError;
use crate::github::upstream::{IDLE_PER_HOST, Upstream};
use crate::github::upstream_health::UpstreamHealth;
use crate::http::representation::Representation;
use crate::http::responses::Kind;
use crate::ops::metrics::{Cache, Host, METRICS, Outcome};

/// The sizes we fetch. Few sizes mean few distinct cache entries per user.
pub const SIZES: [u16; 4] = [40, 80, 160, 460];
/// The size used when `?s=` is missing or unreadable.
pub const DEFAULT_SIZE: u16 = 80;
/// The most we read of one avatar; GitHub's are a few KiB to ~100 KiB.
pub const MAX_AVATAR_BYTES: usize = 1 << 20;

/// The most we read of an avatar `size` pixels wide: the picture
/// uncompressed (4 bytes a pixel) and 16 KiB for its headers, within
/// [`MAX_AVATAR_BYTES`]. GitHub resizes and recompresses what it sends, so
/// its avatars are a small part of that: 41,984 bytes at 80 pixels,
/// 118,784 at 160, 862,784 at 460.
pub fn max_avatar_bytes(size: u16) -> usize {
    let side = usize::from(size);
    (4 * side * side + 16 * 1024).min(MAX_AVATAR_BYTES)
}
/// How long a cached avatar is served before asking again.
const AVATAR_TTL: Duration = Duration::from_secs(24 * 3600);
/// Image types passed on. SVG is left out on purpose: it is a document
/// that can run script when opened directly on our origin.
const ALLOWED_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// An avatar ready to serve.
#[derive(Debug)]
pub struct Avatar {
    /// The image as fetched, with its `ETag` (not gzipped: it is
    /// compressed already).
    pub image: Representation,
    /// One of the allowed image types.
    pub content_type: &'static str,
}

/// Snaps a requested size to the smallest allowed size that is at least as
/// large, or the largest one.
pub fn snap_size(requested: Option<&str>) -> u16 {
    match requested.and_then(|s| s.parse::<u32>().ok()) {
        Some(pixels) => fetch_size(pixels),
        None => DEFAULT_SIZE,
    }
}

/// The size we fetch to show an avatar `pixels` wide: the smallest allowed
/// size that is at least as large, or the largest one.
pub fn fetch_size(pixels: u32) -> u16 {
    SIZES
        .iter()
        .copied()
        .find(|&s| u32::from(s) >= pixels)
        .unwrap_or(SIZES[SIZES.len() - 1])
}

/// The proxied address of user `id`'s avatar as pages and the JSON API
/// show it: our own origin, never GitHub's.
pub fn avatar_path(id: u64) -> String {
    format!("/avatars/{id}?s={DEFAULT_SIZE}")
}

/// Parses an avatar id: 1 to 20 ASCII digits that fit a `u64`.
pub fn parse_id(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

type Key = (u64, u16);
pub type Fetched = Result<Arc<Avatar>, UpstreamError>;

/// Failures remembered at most (each about 100 bytes).
const FAILURES_HELD: usize = 10_000;
/// Avatar fetches running at once, at most, across every wall and visitor:
/// two cold walls (each up to `wall::FETCHES_AT_ONCE`) at full speed. Each
/// holds one HTTP/1.1 connection; the pool keeps that many idle
/// ([`IDLE_PER_HOST`]), so the next burst opens none.
pub const FETCHES_AT_ONCE: usize = 100;
const _: () = assert!(FETCHES_AT_ONCE <= IDLE_PER_HOST);
/// Bytes that avatar fetches may be reading at once: room for 70 fetches
/// at 160 pixels (walls' largest), 9 at 460.
pub const BYTES_IN_FLIGHT: usize = 8 << 20;

#[derive(Clone)]
pub struct Avatars {
    upstream: Upstream,
    base: BaseUrl,
    cache: Arc<LruCache<Key, Arc<Avatar>>>,
    /// Fetches that failed, and why, for `failure_ttl`.
    failed: Arc<LruCache<Key, UpstreamError>>,
    failure_ttl: Duration,
    in_flight: Coalescer<Key, Fetched>,
    /// [`FETCHES_AT_ONCE`] permits: one per fetch going upstream.
    running: Arc<Semaphore>,
    /// [`BYTES_IN_FLIGHT`] permits: a fetch holds its most possible bytes.
    reading: Arc<Semaphore>,
    health: Arc<UpstreamHealth>,
}

impl Avatars {
    /// Avatars from `base`, holding `max_bytes` of pictures, remembering a
    /// failure for `failure_ttl`.
    pub fn new(
        upstream: Upstream,
        base: BaseUrl,
        max_bytes: usize,
        failure_ttl: Duration,
    ) -> Avatars {
        Avatars {
            health: Arc::new(UpstreamHealth::new(format!("the avatar server at {base}"))),
            upstream,
            base,
            // Entries are bounded by bytes; the count bound only guards
            // against many tiny images.
            cache: Arc::new(LruCache::new(100_000, max_bytes)),
            failed: Arc::new(LruCache::new(FAILURES_HELD, FAILURES_HELD * 128)),
            failure_ttl,
            in_flight: Coalescer::default(),
            running: Arc::new(Semaphore::new(FETCHES_AT_ONCE)),
            reading: Arc::new(Semaphore::new(BYTES_IN_FLIGHT)),
        }
    }

    /// What memory says of user `id`'s avatar at `size` pixels, without
    /// waiting: a current picture, a failure remembered (or, if that
    /// failure was an outage, an older picture standing in), or `None`
    /// when only the avatar server can tell.
    pub fn cached(&self, id: u64, size: u16) -> Option<Fetched> {
        self.cached_at(id, size, Instant::now())
    }

    /// [`Avatars::cached`] as seen at `now`, so that tests can look a day
    /// ahead (ages are counted from when the picture or failure was
    /// stored; the guards' `*_at` functions take `now` the same way).
    fn cached_at(&self, id: u64, size: u16, now: Instant) -> Option<Fetched> {
        let known = self.known_at(id, size, now);
        if known.is_some() {
            METRICS.cache_lookup(Cache::Avatars, true);
        }
        known
    }

    /// [`Avatars::cached_at`], without counting the lookup for `/metrics`.
    fn known_at(&self, id: u64, size: u16, now: Instant) -> Option<Fetched> {
        let key = (id, size);
        let held = self.cache.get(&key);
        if let Some((avatar, stored_at)) = &held
            && now.saturating_duration_since(*stored_at) < AVATAR_TTL
        {
            return Some(Ok(avatar.clone()));
        }
        let (error, failed_at) = self.failed.get(&key)?;
        if now.saturating_duration_since(failed_at) >= self.failure_ttl {
            return None;
        }
        Some(match held {
            // An old picture beats a broken one.
            Some((avatar, _)) if error.is_outage() => Ok(avatar),
            _ => Err(error),
        })
    }

    /// Whether the avatar server answered the latest fetch. While it does
    /// not, walls do not wait for it.
    pub fn host_is_up(&self) -> bool {
        self.health.is_up()
    }

    /// The avatar of user `id` at `size` pixels: from memory if it can tell
    /// (`cached`), or else from the avatar server. `admit` is asked only if
    /// this starts a fetch, and its refusal is returned as is.
    pub async fn get(
        &self,
        id: u64,
        size: u16,
        admit: &(dyn Fn() -> Result<(), UpstreamError> + Sync),
    ) -> Fetched {
        if let Some(known) = self.cached(id, size) {
            return known;
        }
        self.begin(id, size, admit)?.await
    }

    /// Joins the running fetch of the avatar, or starts one if `admit`
    /// allows, and hands back the wait, which borrows nothing: the wall
    /// begins several and waits for them together. The fetch runs in a
    /// task of its own and finishes (and is kept) even if nobody waits.
    /// (`admit` is a trait object so that this, and the fetch it spawns,
    /// is compiled once for every caller.)
    pub fn begin(
        &self,
        id: u64,
        size: u16,
        admit: &(dyn Fn() -> Result<(), UpstreamError> + Sync),
    ) -> Result<impl Future<Output = Fetched> + Send + 'static, UpstreamError> {
        self.begin_at(id, size, Instant::now(), admit)
    }

    /// [`Avatars::begin`] as seen at `now` (as [`Avatars::cached_at`]).
    fn begin_at(
        &self,
        id: u64,
        size: u16,
        now: Instant,
        admit: &(dyn Fn() -> Result<(), UpstreamError> + Sync),
    ) -> Result<impl Future<Output = Fetched> + Send + 'static, UpstreamError> {
        METRICS.cache_lookup(Cache::Avatars, false);
        let key = (id, size);
        // An old picture, if any, stands in when the server is down.
        let held = self.cache.get(&key);
        let this = self.clone();
        let waiting = self.in_flight.try_begin(key, move || {
            // No fetch is running, but one may have ended since the caller
            // looked at the cache: a fetch stores its picture (or failure)
            // before it leaves `in_flight`, so the answer is here now, and
            // the avatar server is not asked again.
            let known = this.known_at(id, size, now);
            if known.is_none() {
                admit()?;
            }
            Ok(async move {
                if let Some(known) = known {
                    return known;
                }
                let fetched = this.fetch(id, size).await;
                this.health.observe(&fetched);
                match &fetched {
                    Ok(avatar) => {
                        let weight = avatar.image.weight() + 128;
                        let evicted = this.cache.insert(key, avatar.clone(), weight);
                        METRICS.cache_evicted(Cache::Avatars, evicted);
                        this.failed.remove(&key);
                    }
                    Err(error) => {
                        this.failed.insert(key, error.clone(), 128);
                    }
                }
                fetched
            })
        })?;
        Ok(async move {
            match (waiting.await, held) {
                // An old picture beats a broken one.
                (Err(e), Some((avatar, _))) if e.is_outage() => Ok(avatar),
                (fetched, _) => fetched,
            }
        })
    }

    async fn fetch(&self, id: u64, size: u16) -> Fetched {
        // No token here: the avatar host is not the API and needs none.
        let url = self.base.join(&format!("/u/{id}?s={size}&v=4"));
        // The semaphores are never closed, so permits always come.
        let _running = self.running.acquire().await;
        let most = max_avatar_bytes(size);
        let _reading = self.reading.acquire_many(most as u32).await;
        let answer = self.upstream.get(url, &[], most).await;
        let outcome = match &answer {
            Ok(answer) if answer.status.is_success() => Outcome::Ok,
            Ok(answer) if answer.status == http::StatusCode::NOT_FOUND => Outcome::NotFound,
            Ok(_) => Outcome::Error,
            Err(error) => error.outcome(),
        };
        METRICS.upstream(Host::Avatars, outcome);
        let answer = answer?;
        if answer.status == http::StatusCode::NOT_FOUND {
            return Err(UpstreamError::NotFound {
                what: format!("avatar {id}"),
            });
        }
        if !answer.status.is_success() {
            return Err(UpstreamError::Status {
                host: self.base.host().to_string(),
                status: answer.status.as_u16(),
            });
        }
        let content_type = answer.header("content-type").unwrap_or("").to_string();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let Some(&allowed) = ALLOWED_TYPES.iter().find(|&&t| t == essence) else {
            return Err(UpstreamError::NotAnImage { content_type });
        };
        Ok(Arc::new(Avatar {
            // Browsers may keep an avatar for a day: they rarely change.
            image: Representation::identity(
                answer.body,
                Kind::Image(allowed),
                "public, max-age=86400",
            ),
            content_type: allowed,
        }))
    }

    /// Entries and bytes held, for `/status`.
    pub fn usage(&self) -> (usize, usize) {
        self.cache.usage()
    }

    /// Failures remembered, for `/status`.
    pub fn failures(&self) -> usize {
        self.failed.usage().0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::proxy::Proxy;
    use fake_github::{Behaviour, FakeGitHub};

    /// Avatars fetched from `fake` over TLS, trusting only its CA, and
    /// remembering a failure for `failure_ttl`.
    fn avatars_from(fake: &FakeGitHub, failure_ttl: Duration) -> Avatars {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(fake.ca_der().into()).unwrap();
        let timeout = Duration::from_secs(5);
        let upstream = Upstream::new(roots, Proxy::default(), timeout, timeout);
        let base = BaseUrl::parse(&fake.url()).unwrap();
        Avatars::new(upstream, base, 1 << 20, failure_ttl)
    }

    /// Fetches user `id`'s avatar at 80 pixels, and says when it was stored.
    async fn fetched(avatars: &Avatars, id: u64) -> (Arc<Avatar>, Instant) {
        let avatar = avatars.get(id, 80, &|| Ok(())).await.unwrap();
        let (_, stored_at) = avatars.cache.get(&(id, 80)).unwrap();
        (avatar, stored_at)
    }

    /// A failure is remembered past the day a picture lasts, so that one
    /// clock reading sees both the day-old picture and the failure.
    const LONGER_THAN_A_DAY: Duration = Duration::from_secs(3 * 24 * 3600);

    #[tokio::test]
    async fn a_picture_is_served_from_memory_for_a_day() {
        let fake = FakeGitHub::start().await;
        let avatars = avatars_from(&fake, Duration::from_secs(60));
        let (avatar, stored_at) = fetched(&avatars, 7).await;
        // A day written out, not AVATAR_TTL: this pins the constant too.
        let almost_a_day = stored_at + Duration::from_secs(24 * 3600) - Duration::from_nanos(1);
        let Some(Ok(held)) = avatars.cached_at(7, 80, almost_a_day) else {
            panic!("a picture younger than a day is served");
        };
        assert!(Arc::ptr_eq(&held, &avatar));
        // A day old, and nothing failed: only the avatar server can tell.
        let a_day = stored_at + Duration::from_secs(24 * 3600);
        assert!(avatars.cached_at(7, 80, a_day).is_none());
        assert_eq!(fake.avatar_requests(), 1);
    }

    #[tokio::test]
    async fn a_fetch_that_ended_before_begin_is_not_made_again() {
        // As when a fetch ends between a caller's look at the cache and
        // its `begin`: the picture is stored, and no fetch is running.
        let fake = FakeGitHub::start().await;
        let avatars = avatars_from(&fake, Duration::from_secs(60));
        let (avatar, _) = fetched(&avatars, 10).await;
        let refused = || Err(UpstreamError::OverBudget { retry_after: 1 });
        let again = avatars.begin(10, 80, &refused).expect("no lookup spent");
        assert!(Arc::ptr_eq(&again.await.unwrap(), &avatar));
        assert_eq!(fake.avatar_requests(), 1);
        // A failure stored the same way is the answer too.
        fake.set_avatar_behaviour(11, Behaviour::Status(404));
        let gone = avatars.get(11, 80, &|| Ok(())).await.unwrap_err();
        let again = avatars.begin(11, 80, &refused).expect("no lookup spent");
        assert_eq!(again.await.unwrap_err(), gone);
        assert_eq!(fake.avatar_requests(), 2);
    }

    #[tokio::test]
    async fn a_day_old_picture_stands_in_while_the_server_is_down() {
        let fake = FakeGitHub::start().await;
        let avatars = avatars_from(&fake, LONGER_THAN_A_DAY);
        let (avatar, stored_at) = fetched(&avatars, 8).await;
        let a_day_on = stored_at + AVATAR_TTL;
        fake.set_avatar_behaviour(8, Behaviour::Status(500));
        assert!(avatars.cached_at(8, 80, a_day_on).is_none());
        // The fetch fails, and the old picture is the answer.
        let waiting = avatars.begin_at(8, 80, a_day_on, &|| Ok(())).unwrap();
        let stood_in = waiting.await.unwrap();
        assert!(Arc::ptr_eq(&stood_in, &avatar));
        assert_eq!(fake.avatar_requests(), 2);
        // The outage is remembered, and the old picture still stands in.
        let Some(Ok(held)) = avatars.cached_at(8, 80, a_day_on) else {
            panic!("the old picture stands in for a remembered outage");
        };
        assert!(Arc::ptr_eq(&held, &avatar));
    }

    #[tokio::test]
    async fn a_day_old_picture_does_not_hide_a_missing_avatar() {
        let fake = FakeGitHub::start().await;
        let avatars = avatars_from(&fake, LONGER_THAN_A_DAY);
        let (_, stored_at) = fetched(&avatars, 9).await;
        let a_day_on = stored_at + AVATAR_TTL;
        // The account is gone: its picture goes with it.
        fake.set_avatar_behaviour(9, Behaviour::Status(404));
        let waiting = avatars.begin_at(9, 80, a_day_on, &|| Ok(())).unwrap();
        let gone = waiting.await.unwrap_err();
        assert!(matches!(gone, UpstreamError::NotFound { .. }), "{gone:?}");
        let remembered = avatars.cached_at(9, 80, a_day_on);
        assert!(
            matches!(remembered, Some(Err(UpstreamError::NotFound { .. }))),
            "{remembered:?}"
        );
        assert_eq!(fake.avatar_requests(), 2);
    }

    #[test]
    fn each_size_reads_at_most_its_picture_uncompressed() {
        assert_eq!(max_avatar_bytes(40), 4 * 40 * 40 + 16 * 1024);
        assert_eq!(max_avatar_bytes(80), 41_984);
        assert_eq!(max_avatar_bytes(160), 118_784);
        assert_eq!(max_avatar_bytes(460), 862_784);
        assert_eq!(max_avatar_bytes(u16::MAX), MAX_AVATAR_BYTES);
        // What the doc promises: walls' largest fetches, 70 at once.
        assert_eq!(BYTES_IN_FLIGHT / max_avatar_bytes(160), 70);
        assert_eq!(BYTES_IN_FLIGHT / max_avatar_bytes(460), 9);
    }

    #[test]
    fn sizes_snap_to_the_allowed_set() {
        assert_eq!(snap_size(None), DEFAULT_SIZE);
        assert_eq!(snap_size(Some("junk")), DEFAULT_SIZE);
        assert_eq!(snap_size(Some("1")), 40);
        assert_eq!(snap_size(Some("40")), 40);
        assert_eq!(snap_size(Some("41")), 80);
        assert_eq!(snap_size(Some("99999999999")), DEFAULT_SIZE);
        assert_eq!(snap_size(Some("4000")), 460);
    }

    #[test]
    fn ids_are_digits_only() {
        assert_eq!(parse_id("583231"), Some(583231));
        // Twenty digits at most, leading zeros included.
        assert_eq!(parse_id(&format!("{:020}", 7)), Some(7));
        assert_eq!(parse_id(&format!("{:021}", 7)), None);
        for bad in [
            "",
            "-1",
            "1a",
            "1.0",
            "+1",
            "99999999999999999999999",
            "%31",
        ] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
