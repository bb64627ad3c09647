//! Rendered contributor pages, kept to be served again.
//!
//! A list from the cache renders to the same HTML every time, so the first
//! rendering is kept and sent to the next visitor who asks for the same
//! page. The same goes for the other renderings of a list, the wall
//! (`wall.svg`) and the JSON API (`contributors.json`): they are kept here
//! too, keyed by their own paths, and "HTML" below means any of them.
//! The lists themselves (what GitHub said) live in `contributor_lists.rs`;
//! these are ways of showing them, kept apart so that the data layer knows
//! nothing about HTML.
//!
//! - **Key:** what the page's canonical path says, `/{owner}/{repo}?max={max}`
//!   (`/{owner}/{repo}/wall.svg?max=..&anon=..&columns=..&size=..` for a
//!   wall), with every default written out; held as its parts, not as
//!   text, so making a key allocates nothing. The page and the JSON list
//!   keep the names spelt the way the visitor spelt them (the page echoes
//!   that spelling in its title). A wall's key is canonical
//!   ([`PageKey::wall`]): one entry for every request that would draw the
//!   same picture, so that new spellings and options cannot multiply the
//!   megabytes a wall weighs.
//! - **Never older than its list.** An entry remembers the list it was
//!   rendered from, and is served only while the list cache hands out that
//!   very list. Once the list is revalidated or fetched again, a new list
//!   takes its place, the old page no longer matches and is rendered anew.
//!   The entry holds the list weakly, so it keeps no contributors alive.
//! - **Only fresh pages.** A page with the "GitHub is unavailable" note is
//!   never stored (`routes.rs` checks), so the note never outlives the
//!   outage. A wall with avatars it could not get yet (a partial wall) is
//!   kept only briefly ([`PageCache::insert_briefly`]).
//! - **Compressed once.** An entry is the page's `Representation`: the HTML,
//!   its gzip form and their `ETag`s, all made when the page is rendered,
//!   so serving it again costs no compression.
//! - **Bounded** by the same `LruCache` as the lists, with the same entry
//!   and byte limits, each entry weighing what its HTML and gzip weigh.

use std::hash::{Hash, Hasher};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::cache::LruCache;
use crate::github::contributor_lists::List;
use crate::github::names::RepoName;
use crate::http::representation::Representation;
use crate::ops::metrics::{Cache, METRICS};
use crate::views::filter::Filter;
use crate::views::wall::Layout;

/// The rendered pages, bounded by entries and bytes.
pub struct PageCache {
    pages: LruCache<PageKey, Rendered>,
}

/// One page as sent, and the lists it shows (one, but for a wall or
/// JSON list across repositories).
#[derive(Clone)]
struct Rendered {
    lists: Lists,
    page: Arc<Representation>,
    /// For a partial wall: how long it may be served.
    brief: Option<Duration>,
}

/// The lists a page was made from, held weakly. One list (the usual
/// case) is held inline, so that checking it reads no other allocation:
/// with many pages held, that would be one more cache miss a view.
#[derive(Clone)]
enum Lists {
    One(Weak<List>),
    Several(Box<[Weak<List>]>),
}

impl Lists {
    fn of(lists: &[&Arc<List>]) -> Lists {
        match lists {
            [list] => Lists::One(Arc::downgrade(list)),
            several => Lists::Several(several.iter().map(|list| Arc::downgrade(list)).collect()),
        }
    }

    /// Whether these are `lists` themselves, in the same order.
    fn are(&self, lists: &[&Arc<List>]) -> bool {
        let same =
            |held: &Weak<List>, list: &Arc<List>| std::ptr::eq(held.as_ptr(), Arc::as_ptr(list));
        match (self, lists) {
            (Lists::One(held), [list]) => same(held, list),
            (Lists::Several(held), lists) => {
                held.len() == lists.len() && held.iter().zip(lists).all(|(h, l)| same(h, l))
            }
            (Lists::One(_), _) => false,
        }
    }
}

/// The key: which answer made from a list (`file`: "" for the page,
/// `wall.svg`, `contributors.json`) for the repository spelt as `name`, and
/// its options, every one written out, in a fixed order, with who the
/// answer leaves out (`filter`, canonical in itself).
#[derive(Clone, Debug, Eq)]
pub struct PageKey {
    shows: Shows,
    file: &'static str,
    options: [usize; OPTIONS],
    filter: Filter,
}

impl PartialEq for PageKey {
    /// Field by field, as derived, but for the options: `==` on the two
    /// arrays would call the C library's `memcmp`, which in musl compares a
    /// byte at a time, 48 of them on every lookup.
    fn eq(&self, other: &PageKey) -> bool {
        let pairs = self.options.iter().zip(&other.options);
        pairs.fold(0, |differ, (a, b)| differ | (a ^ b)) == 0
            && self.file == other.file
            && self.shows == other.shows
            && self.filter == other.filter
    }
}

// Hashed as derived would, from the same fields as `eq` compares.
impl Hash for PageKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.shows.hash(state);
        self.file.hash(state);
        self.options.hash(state);
        self.filter.hash(state);
    }
}

/// Whose lists an answer shows: one repository's (spelt as asked, but for
/// a wall), or several, in [`canonical`] order, so that the same set asked
/// in another order or case is one entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Shows {
    One(RepoName),
    Many(Arc<[RepoName]>),
}

impl Shows {
    fn folded(&self) -> Shows {
        match self {
            Shows::One(name) => Shows::One(name.folded()),
            many => many.clone(),
        }
    }

    fn weight(&self) -> usize {
        match self {
            Shows::One(_) => 0,
            Shows::Many(repos) => repos.len() * size_of::<RepoName>(),
        }
    }
}

/// `repos` folded to lower case, sorted and without repeats: the same set,
/// however it was asked for, in one order. (The routes across repositories
/// put their lists in this order too, so that one sort serves both.)
pub fn canonical(repos: &[RepoName]) -> Vec<RepoName> {
    let mut folded: Vec<RepoName> = repos.iter().map(RepoName::folded).collect();
    folded.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
    folded.dedup();
    folded
}

/// The numbers a key holds: for a wall, the most (see [`PageKey::wall`]).
pub const OPTIONS: usize = 6;

impl PageKey {
    /// An answer made from a list, such as `/{owner}/{repo}/wall.svg`:
    /// `options` holds every option, defaults included, in a fixed order.
    pub fn new(
        shows: Shows,
        file: &'static str,
        options: [usize; OPTIONS],
        filter: &Filter,
    ) -> PageKey {
        PageKey {
            shows,
            file,
            options,
            filter: filter.clone(),
        }
    }
}

impl PageKey {
    /// A wall's key, the same for every request that draws the same
    /// picture: the name folded to lower case (and drawn so), the first
    /// `count` contributors of the list (not the `max` asked, which may
    /// exceed them) less those `filter` leaves out, columns no more than
    /// the `drawn` (more columns draw the same single row), and the size
    /// already snapped to the wall's sizes; then the names and the theme.
    pub fn wall(
        shows: &Shows,
        (count, drawn): (usize, usize),
        anon: bool,
        filter: &Filter,
        layout: Layout,
    ) -> PageKey {
        let columns = layout.columns.min(drawn).max(1);
        let size = usize::from(layout.size);
        let (names, theme) = (usize::from(layout.names), layout.theme.number());
        let options = [count, usize::from(anon), columns, size, names, theme];
        PageKey::new(shows.folded(), "wall.svg", options, filter)
    }

    /// Bytes the key holds, for the cache's byte budget.
    fn weight(&self) -> usize {
        size_of::<PageKey>() + self.shows.weight() + self.filter.weight()
    }
}

impl PageCache {
    pub fn new(max_entries: usize, max_bytes: usize) -> PageCache {
        PageCache {
            pages: LruCache::new(max_entries, max_bytes),
        }
    }

    /// The page stored for `path`, if it was rendered from `lists`
    /// themselves.
    pub fn get(&self, path: &PageKey, lists: &[&Arc<List>]) -> Option<Arc<Representation>> {
        let page = (self.pages)
            .get_with(path, |rendered, stored_at| {
                let current = rendered.lists.are(lists)
                    && rendered.brief.is_none_or(|ttl| stored_at.elapsed() < ttl);
                current.then(|| rendered.page.clone())
            })
            .flatten();
        METRICS.cache_lookup(Cache::Pages, page.is_some());
        page
    }

    /// Stores the page rendered for `path` from `lists`.
    pub fn insert(&self, path: PageKey, lists: &[&Arc<List>], page: Arc<Representation>) {
        self.keep(path, lists, page, None);
    }

    /// Stores a partial wall (one with avatars it could not get yet) for
    /// `ttl` at most: its repeats do not wait again, and the avatars it
    /// lacks are soon tried again.
    pub fn insert_briefly(
        &self,
        path: PageKey,
        lists: &[&Arc<List>],
        page: Arc<Representation>,
        ttl: Duration,
    ) {
        self.keep(path, lists, page, Some(ttl));
    }

    fn keep(
        &self,
        path: PageKey,
        lists: &[&Arc<List>],
        page: Arc<Representation>,
        brief: Option<Duration>,
    ) {
        let weight = path.weight() + page.weight() + lists.len() * size_of::<Weak<List>>();
        let rendered = Rendered {
            lists: Lists::of(lists),
            page,
            brief,
        };
        let evicted = self.pages.insert(path, rendered, weight);
        METRICS.cache_evicted(Cache::Pages, evicted);
    }

    /// Entries and bytes held, for `/status`.
    pub fn usage(&self) -> (usize, usize) {
        self.pages.usage()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::responses::Kind;

    #[test]
    fn a_page_matches_only_its_own_lists_in_their_order() {
        let (a, b) = (Arc::new(List::default()), Arc::new(List::default()));
        assert!(Lists::of(&[&a]).are(&[&a]));
        assert!(!Lists::of(&[&a]).are(&[&b]));
        assert!(!Lists::of(&[&a]).are(&[&a, &a]));
        assert!(!Lists::of(&[&a]).are(&[]));
        assert!(Lists::of(&[&a, &b]).are(&[&a, &b]));
        assert!(!Lists::of(&[&a, &b]).are(&[&b, &a]));
        assert!(!Lists::of(&[&a, &b]).are(&[&a]));
        assert!(!Lists::of(&[&a, &b]).are(&[&a, &b, &b]));
        assert!(Lists::of(&[]).are(&[]));
        assert!(!Lists::of(&[]).are(&[&a]));
    }

    #[test]
    fn keys_differ_in_every_option_and_part() {
        let one = |name: &str| Shows::One(RepoName::new("o", name).unwrap());
        let none = Filter::default();
        let key = |options| PageKey::new(one("r"), "wall.svg", options, &none);
        let options = [100, 1, 10, 40, 0, 1];
        assert_eq!(key(options), key(options));
        for at in 0..OPTIONS {
            let mut other = options;
            other[at] += 1;
            assert_ne!(key(options), key(other), "option {at}");
        }
        // Differences in two options do not cancel each other out.
        assert_ne!(key([1, 1, 0, 0, 0, 0]), key([0; OPTIONS]));
        assert_ne!(key([3, 0, 0, 0, 0, 5]), key([0, 0, 0, 0, 0, 6]));
        assert_ne!(
            key(options),
            PageKey::new(one("s"), "wall.svg", options, &none)
        );
        assert_ne!(key(options), PageKey::new(one("r"), "", options, &none));
        let bots = Filter::from_query(Some("bots=1")).unwrap();
        assert_ne!(
            key(options),
            PageKey::new(one("r"), "wall.svg", options, &bots)
        );
    }

    #[test]
    fn the_same_set_of_repositories_is_one_canonical_list() {
        let name = |owner, repo| RepoName::new(owner, repo).unwrap();
        let asked = [
            name("b", "Two"),
            name("A", "one"),
            name("B", "two"),
            name("a", "ONE"),
        ];
        let names: Vec<String> = canonical(&asked).iter().map(RepoName::to_string).collect();
        assert_eq!(names, ["a/one", "b/two"]);
    }

    #[test]
    fn an_entry_weighs_its_key_its_page_and_its_lists() {
        let cache = PageCache::new(10, 1 << 20);
        let repos = [
            RepoName::new("o", "a").unwrap(),
            RepoName::new("o", "b").unwrap(),
        ];
        let filter = Filter::from_query(Some("exclude=alice,bob")).unwrap();
        let key = PageKey::new(Shows::Many(repos.into()), "wall.svg", [0; OPTIONS], &filter);
        let (a, b) = (Arc::new(List::default()), Arc::new(List::default()));
        let page = Arc::new(Representation::new("<svg/>", Kind::Svg, "public"));
        cache.insert(key, &[&a, &b], page);
        let key_bytes = size_of::<PageKey>()
            + 2 * size_of::<RepoName>()
            + (size_of::<String>() + "alice".len())
            + (size_of::<String>() + "bob".len());
        let list_bytes = 2 * size_of::<Weak<List>>();
        let page_bytes = "<svg/>".len();
        assert_eq!(cache.usage(), (1, key_bytes + page_bytes + list_bytes));
    }

    #[test]
    fn a_partial_wall_is_served_for_its_ttl_only() {
        let cache = PageCache::new(10, 1 << 20);
        let none = Filter::default();
        let key = |repo| {
            let shows = Shows::One(RepoName::new("o", repo).unwrap());
            PageKey::new(shows, "wall.svg", [0; OPTIONS], &none)
        };
        let list = Arc::new(List::default());
        let page = Arc::new(Representation::new("<svg/>", Kind::Svg, "no-store"));
        let hour = Duration::from_secs(3600);
        cache.insert_briefly(key("kept"), &[&list], page.clone(), hour);
        cache.insert_briefly(key("gone"), &[&list], page.clone(), Duration::ZERO);
        let held = cache.get(&key("kept"), &[&list]);
        assert!(held.is_some_and(|held| Arc::ptr_eq(&held, &page)));
        assert!(cache.get(&key("gone"), &[&list]).is_none());
    }

    #[test]
    fn a_page_is_served_only_for_the_list_it_shows() {
        let cache = PageCache::new(10, 1 << 20);
        let name = RepoName::new("o", "r").unwrap();
        let none = Filter::default();
        let path = PageKey::new(Shows::One(name.clone()), "", [100, 0, 0, 0, 0, 0], &none);
        let list = Arc::new(List::default());
        assert!(cache.get(&path, &[&list]).is_none());

        let page = Arc::new(Representation::new("<p>1</p>", Kind::Html, "public"));
        cache.insert(path.clone(), &[&list], page.clone());
        let held = cache.get(&path, &[&list]).expect("stored for this list");
        assert!(Arc::ptr_eq(&held, &page));
        // Spelt otherwise, it is another page (its title echoes the spelling).
        let other = RepoName::new("O", "r").unwrap();
        assert!(
            cache
                .get(
                    &PageKey::new(Shows::One(other.clone()), "", [100, 0, 0, 0, 0, 0], &none),
                    &[&list]
                )
                .is_none()
        );
        assert!(
            cache
                .get(
                    &PageKey::new(
                        Shows::One(name.clone()),
                        "wall.svg",
                        [100, 0, 0, 0, 0, 0],
                        &none
                    ),
                    &[&list]
                )
                .is_none()
        );
        assert_eq!(
            cache.usage(),
            (1, size_of::<PageKey>() + 8 + size_of::<Weak<List>>())
        );

        // The list was fetched again: the old page no longer matches, even
        // once the old list is gone.
        let newer = Arc::new(List::default());
        assert!(cache.get(&path, &[&newer]).is_none());
        drop(list);
        assert!(cache.get(&path, &[&newer]).is_none());
        assert!(
            cache
                .get(
                    &PageKey::new(Shows::One(name.clone()), "", [200, 0, 0, 0, 0, 0], &none),
                    &[&newer]
                )
                .is_none()
        );
    }
}
