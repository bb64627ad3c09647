//! Rendered contributor pages, kept to be served again.
//!
//! A list from the cache renders to the same HTML every time, so the first
//! rendering is kept and sent to the next visitor who asks for the same
//! page. The lists themselves (what GitHub said) live in
//! `contributor_lists.rs`; this is one way of showing them, kept apart so
//! that the data layer knows nothing about HTML.
//!
//! - **Key:** the page's canonical path, `/{owner}/{repo}?max={max}`, with
//!   the default `max` written out and the names spelt the way the visitor
//!   spelt them (the page echoes that spelling in its title and form).
//! - **Never older than its list.** An entry remembers the list it was
//!   rendered from, and is served only while the list cache hands out that
//!   very list. Once the list is revalidated or fetched again, a new list
//!   takes its place, the old page no longer matches and is rendered anew.
//!   The entry holds the list weakly, so it keeps no contributors alive.
//! - **Only fresh pages.** A page with the "GitHub is unavailable" note is
//!   never stored (`routes.rs` checks), so the note never outlives the outage.
//! - **Bounded** by the same `LruCache` as the lists, with the same entry
//!   and byte limits, each entry weighing what its HTML weighs.

use std::sync::{Arc, Weak};

use bytes::Bytes;

use crate::cache::LruCache;
use crate::contributor_lists::List;
use crate::names::RepoName;

/// The rendered pages, bounded by entries and bytes.
pub struct PageCache {
    pages: LruCache<PagePath, Rendered>,
}

/// One page as sent, and the list it shows.
#[derive(Clone)]
struct Rendered {
    list: Weak<List>,
    html: Bytes,
}

/// The key: the canonical path of the page showing the first `max`
/// contributors of `name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PagePath(String);

impl PagePath {
    pub fn new(name: &RepoName, max: usize) -> PagePath {
        PagePath(format!("/{name}?max={max}"))
    }
}

impl PageCache {
    pub fn new(max_entries: usize, max_bytes: usize) -> PageCache {
        PageCache {
            pages: LruCache::new(max_entries, max_bytes),
        }
    }

    /// The HTML stored for `path`, if it was rendered from `list` itself.
    pub fn get(&self, path: &PagePath, list: &Arc<List>) -> Option<Bytes> {
        let (page, _stored_at) = self.pages.get(path)?;
        std::ptr::eq(page.list.as_ptr(), Arc::as_ptr(list)).then_some(page.html)
    }

    /// Stores the HTML rendered for `path` from `list`.
    pub fn insert(&self, path: PagePath, list: &Arc<List>, html: Bytes) {
        let weight = path.0.len() + html.len();
        let page = Rendered {
            list: Arc::downgrade(list),
            html,
        };
        self.pages.insert(path, page, weight);
    }

    /// Entries and bytes held, for `/status`.
    pub fn usage(&self) -> (usize, usize) {
        self.pages.usage()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_served_only_for_the_list_it_shows() {
        let cache = PageCache::new(10, 1 << 20);
        let name = RepoName::new("o", "r").unwrap();
        let path = PagePath::new(&name, 100);
        assert_eq!(path.0, "/o/r?max=100");
        let list = Arc::new(List::default());
        assert_eq!(cache.get(&path, &list), None);

        cache.insert(path.clone(), &list, Bytes::from_static(b"<p>1</p>"));
        assert_eq!(cache.get(&path, &list).as_deref(), Some(&b"<p>1</p>"[..]));
        assert_eq!(cache.usage(), (1, path.0.len() + 8));

        // The list was fetched again: the old page no longer matches, even
        // once the old list is gone.
        let newer = Arc::new(List::default());
        assert_eq!(cache.get(&path, &newer), None);
        drop(list);
        assert_eq!(cache.get(&path, &newer), None);
        assert_eq!(cache.get(&PagePath::new(&name, 200), &newer), None);
    }
}
