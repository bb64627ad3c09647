//! The last page each worker thread answered from the caches, kept by that
//! thread for the next request that asks for the same thing.
//!
//! **Why.** A popular page is asked for again and again. From the shared
//! caches, each request checks the name, makes two keys and looks up the
//! list (`contributor_lists.rs`), then the page (`page_cache.rs`). Each
//! lookup takes a read lock and an `Arc` count, and those are writes to
//! memory that every worker thread uses: the CPU cores hand that memory
//! back and forth between them, and the handing costs more than the
//! lookup. A thread that finds the request here touches only its own
//! memory. (`make bench`, section 9, compares the app with bare hyper on
//! such a page.)
//!
//! **Never another answer than the caches'.** A memo answers only while the
//! caches would give the very same page:
//!
//! - the request target (path and query) is the same, byte for byte, so
//!   it is the same route, name and options, checked when first answered;
//! - it is the same `App`'s caches, and neither has changed since
//!   ([`Version`]): each counts its stores and removals, and the memo keeps
//!   the counts read *before* the lookups it was made from. Any change,
//!   even to another entry, retires every memo;
//! - the list is still younger than the TTL. An expired list must go
//!   through `contributor_lists.rs`, which serves it and starts its refresh.
//!
//! A memo answer counts as a hit of both caches in `/metrics`, as the
//! lookups it stands for would. It does not mark the entries as recently
//! used, but only a change can evict an entry, and the first request after
//! any change goes through the caches again and marks its entries.
//!
//! Each thread holds one memo: one page, shared with the page cache (an
//! `Arc`), kept alive by the memo until the thread answers another.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderMap, Response};

use crate::App;
use crate::metrics::{Cache, METRICS};
use crate::representation::Representation;
use crate::responses::Body;

thread_local! {
    static MEMO: RefCell<Option<Memo>> = const { RefCell::new(None) };
}

/// What one thread remembers.
struct Memo {
    /// The request target it answers, as sent: `/{owner}/{repo}?max=10`.
    target: String,
    version: Version,
    /// When its list stops being fresh.
    fresh_until: Instant,
    page: Arc<Representation>,
}

/// Which `App`'s caches, and how many changes each had seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version {
    pages_id: u64,
    lists: u64,
    pages: u64,
}

impl Version {
    /// `app`'s caches as they are now: read it before looking anything up.
    pub fn of(app: &App) -> Version {
        Version {
            pages_id: app.pages.id(),
            lists: app.lists.changes(),
            pages: app.pages.changes(),
        }
    }
}

/// The answer to `request` (its headers) if this thread remembers one for
/// `target` at this `version` of the caches.
pub fn answer(target: &str, version: Version, request: &HeaderMap) -> Option<Response<Body>> {
    let response = MEMO.with_borrow(|memo| {
        let memo = memo.as_ref()?;
        let current = memo.version == version && memo.target == target;
        // The page is lent, not cloned: a clone would count on the `Arc`,
        // which all threads share.
        (current && Instant::now() < memo.fresh_until).then(|| memo.page.respond(request))
    })?;
    METRICS.cache_lookup(Cache::Lists, true);
    METRICS.cache_lookup(Cache::Pages, true);
    Some(response)
}

/// Remembers `page` as the answer to `target`, found in the caches at
/// `version` (read before the lookups), from a list fresh until `fresh_until`.
pub fn remember(target: &str, version: Version, fresh_until: Instant, page: &Arc<Representation>) {
    MEMO.with_borrow_mut(|memo| {
        // The same thread answers many pages: reuse the target's buffer.
        let mut buffer = memo.take().map(|old| old.target).unwrap_or_default();
        buffer.clear();
        buffer.push_str(target);
        *memo = Some(Memo {
            target: buffer,
            version,
            fresh_until,
            page: page.clone(),
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::responses::Kind;
    use std::time::Duration;

    fn version(lists: u64) -> Version {
        Version {
            pages_id: 7,
            lists,
            pages: 3,
        }
    }

    #[test]
    fn a_memo_answers_only_its_target_at_its_version_while_fresh() {
        let page = Arc::new(Representation::new("<p>hi</p>", Kind::Html, "public"));
        let none = HeaderMap::new();
        let later = Instant::now() + Duration::from_secs(60);
        assert!(answer("/o/r", version(1), &none).is_none(), "nothing yet");

        remember("/o/r", version(1), later, &page);
        let response = answer("/o/r", version(1), &none).expect("remembered");
        assert_eq!(
            response.headers()["etag"],
            page.respond(&none).headers()["etag"]
        );
        assert!(
            answer("/o/R", version(1), &none).is_none(),
            "another spelling"
        );
        assert!(
            answer("/o/r?max=5", version(1), &none).is_none(),
            "other options"
        );
        assert!(
            answer("/o/r", version(2), &none).is_none(),
            "the lists changed"
        );
        let other_app = Version {
            pages_id: 8,
            ..version(1)
        };
        assert!(answer("/o/r", other_app, &none).is_none(), "another app");

        // Another target takes the thread's one memo.
        remember("/o/s", version(1), later, &page);
        assert!(answer("/o/r", version(1), &none).is_none());
        assert!(answer("/o/s", version(1), &none).is_some());

        // Past the list's TTL: the caches must answer, and refresh it.
        remember("/o/s", version(1), Instant::now(), &page);
        assert!(answer("/o/s", version(1), &none).is_none());
    }

    #[test]
    fn each_thread_has_its_own_memo() {
        let page = Arc::new(Representation::new("<p>hi</p>", Kind::Html, "public"));
        let later = Instant::now() + Duration::from_secs(60);
        remember("/o/r", version(1), later, &page);
        let elsewhere = std::thread::spawn(|| answer("/o/r", version(1), &HeaderMap::new()));
        assert!(elsewhere.join().unwrap().is_none());
    }
}
