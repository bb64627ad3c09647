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

use std::sync::Arc;
use std::time::Duration;

use crate::cache::{Coalescer, LruCache};
use crate::github::BaseUrl;
use crate::github::error::UpstreamError;
use crate::github::upstream::Upstream;
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
type Fetched = Result<Arc<Avatar>, UpstreamError>;

#[derive(Clone)]
pub struct Avatars {
    upstream: Upstream,
    base: BaseUrl,
    cache: Arc<LruCache<Key, Arc<Avatar>>>,
    in_flight: Coalescer<Key, Fetched>,
    health: Arc<UpstreamHealth>,
}

impl Avatars {
    pub fn new(upstream: Upstream, base: BaseUrl, max_bytes: usize) -> Avatars {
        Avatars {
            health: Arc::new(UpstreamHealth::new(format!("the avatar server at {base}"))),
            upstream,
            base,
            // Entries are bounded by bytes; the count bound only guards
            // against many tiny images.
            cache: Arc::new(LruCache::new(100_000, max_bytes)),
            in_flight: Coalescer::default(),
        }
    }

    /// The avatar of user `id` at `size` pixels, if memory holds a current
    /// one. Never waits.
    pub fn cached(&self, id: u64, size: u16) -> Option<Arc<Avatar>> {
        let (avatar, stored_at) = self.cache.get(&(id, size))?;
        let current = stored_at.elapsed() < AVATAR_TTL;
        if current {
            METRICS.cache_lookup(Cache::Avatars, true);
        }
        current.then_some(avatar)
    }

    /// The avatar of user `id` at `size` pixels: from memory if we can
    /// (`cached`), or else from the avatar server.
    pub async fn get(&self, id: u64, size: u16) -> Fetched {
        if let Some(avatar) = self.cached(id, size) {
            return Ok(avatar);
        }
        METRICS.cache_lookup(Cache::Avatars, false);
        let key = (id, size);
        // An old picture, if any, stands in when the server is down.
        let held = self.cache.get(&key);
        let this = self.clone();
        let fetched = self
            .in_flight
            .run(key, move || async move {
                let fetched = this.fetch(id, size).await;
                this.health.observe(&fetched);
                if let Ok(avatar) = &fetched {
                    let weight = avatar.image.weight() + 128;
                    let evicted = this.cache.insert(key, avatar.clone(), weight);
                    METRICS.cache_evicted(Cache::Avatars, evicted);
                }
                fetched
            })
            .await;
        match (fetched, held) {
            // An old picture beats a broken one.
            (Err(e), Some((avatar, _))) if e.is_outage() => Ok(avatar),
            (fetched, _) => fetched,
        }
    }

    async fn fetch(&self, id: u64, size: u16) -> Fetched {
        // No token here: the avatar host is not the API and needs none.
        let url = self.base.join(&format!("/u/{id}?s={size}&v=4"));
        let answer = self.upstream.get(url, &[], MAX_AVATAR_BYTES).await;
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
