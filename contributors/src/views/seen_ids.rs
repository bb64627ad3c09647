//! The account ids a list has shown: the only avatars `/avatars/{id}`
//! fetches.
//!
//! Why: the avatar proxy turns a request into an upstream call. Left open,
//! anyone could make us fetch 300 arbitrary ids (300 calls, for pictures no
//! page of ours shows). Every avatar path we write comes from a list we
//! showed, so "has a list shown this id?" separates our pages' images from
//! made-up ones; any other id gets a 404 without an upstream call.
//!
//! - **Filled where lists are shown.** `routes.rs` calls [`SeenIds::show`]
//!   with each list it answers from (page, wall or JSON, fresh or cached).
//!   A list marked once is not marked again until the generation turns
//!   (below): the list keeps the number of the generation that marked it
//!   (`List::seen_in`), so a cached page costs two reads and a clock
//!   reading here, without the lock, not 500 inserts.
//! - **Outlives the lists.** A page already sent may load its images after
//!   its list has left the list cache, so ids are kept apart from the lists,
//!   for at least [`FLOOR`] after they were last shown.
//! - **Bounded by count.** Two generations of ids: new ones go into the
//!   current one, and a lookup checks both. The current generation becomes
//!   the previous one (and the previous one is forgotten) when it is
//!   [`FLOOR`] old, or when it holds half of the capacity. So an id stays
//!   for at least `FLOOR` after it was last shown, unless more than half the
//!   capacity of other ids were shown meanwhile; and the set never holds
//!   more than its capacity (100,000 ids: about 2 MB).
//!
//! Two generations are a cheap stand-in for an LRU of ids: no order to keep
//! per id, one hash-set insert per id shown.

use std::collections::HashSet;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::github::contributor_lists::List;

/// How long an id stays at least after it was last shown: long enough for
/// a page sent (or kept by a browser or a shared cache for a list's TTL)
/// to load its images.
pub const FLOOR: Duration = Duration::from_secs(3600);
/// Ids held at most, both generations together.
pub const CAPACITY: usize = 100_000;

/// The ids shown recently, in two generations.
pub struct SeenIds {
    generations: Mutex<Generations>,
    /// The current generation's number, as `List::seen_in` records it:
    /// read without the lock, written under it.
    current: AtomicU64,
    /// When the current generation is `floor` old, in nanoseconds after
    /// `epoch`: read without the lock, written under it.
    turns_at: AtomicU64,
    epoch: Instant,
    capacity: usize,
    floor: Duration,
}

struct Generations {
    current: HashSet<u64>,
    previous: HashSet<u64>,
}

/// Generation numbers, unique in the process (so that a list marked by
/// one set is never taken as marked by another); 0 means "none".
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

impl SeenIds {
    pub fn new() -> SeenIds {
        SeenIds::with(CAPACITY, FLOOR)
    }

    fn with(capacity: usize, floor: Duration) -> SeenIds {
        let seen = SeenIds {
            generations: Mutex::new(Generations {
                current: HashSet::new(),
                previous: HashSet::new(),
            }),
            current: AtomicU64::new(0),
            turns_at: AtomicU64::new(0),
            epoch: Instant::now(),
            capacity: capacity.max(2),
            floor,
        };
        seen.begin();
        seen
    }

    /// Notes the ids of `list` as shown as of `now`, unless it was marked
    /// in this generation already. A request passes the moment it arrived,
    /// the one clock reading its answer needs.
    pub fn show_at(&self, list: &Arc<List>, now: Instant) {
        // Checked without the lock, then again under it (another thread
        // may have marked it, or turned the generation, in between).
        if self.marked_now(list) && !self.floor_passed(now) {
            return;
        }
        let mut held = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        if self.floor_passed(now) {
            self.turn(&mut held);
        } else if self.marked_now(list) {
            return;
        }
        let half = self.capacity / 2;
        for id in list.contributors.iter().filter_map(|c| c.id) {
            if held.current.len() >= half {
                self.turn(&mut held);
            }
            held.current.insert(id);
        }
        list.seen_in.store(self.current.load(Relaxed), Release);
    }

    /// Whether `list` was marked in the current generation. Its ids were
    /// stored before the mark, under the lock: `Acquire` sees them there.
    fn marked_now(&self, list: &List) -> bool {
        list.seen_in.load(Acquire) == self.current.load(Relaxed)
    }

    /// Whether the current generation is `floor` old at `now`.
    fn floor_passed(&self, now: Instant) -> bool {
        self.nanos(now) >= self.turns_at.load(Relaxed)
    }

    /// `now` in nanoseconds after `epoch`.
    fn nanos(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.epoch);
        u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
    }

    /// The current generation becomes the previous one; a new one begins.
    fn turn(&self, held: &mut Generations) {
        held.previous = std::mem::take(&mut held.current);
        self.begin();
    }

    /// Numbers a new current generation, and sets when it turns.
    fn begin(&self) {
        let floor = u64::try_from(self.floor.as_nanos()).unwrap_or(u64::MAX);
        self.turns_at
            .store(self.nanos(Instant::now()).saturating_add(floor), Relaxed);
        self.current
            .store(GENERATIONS.fetch_add(1, Relaxed), Relaxed);
    }

    /// Whether a list shown recently had `id`.
    pub fn contains(&self, id: u64) -> bool {
        let held = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        held.current.contains(&id) || held.previous.contains(&id)
    }

    /// Ids held, both generations (an id in both counts twice).
    pub fn len(&self) -> usize {
        let held = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        held.current.len() + held.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for SeenIds {
    fn default() -> SeenIds {
        SeenIds::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::Contributor;

    impl SeenIds {
        /// `list` shown now, as by a request that has just arrived.
        fn show(&self, list: &Arc<List>) {
            self.show_at(list, Instant::now());
        }
    }

    fn list(ids: impl IntoIterator<Item = u64>) -> Arc<List> {
        let contributors = ids
            .into_iter()
            .map(|id| Contributor {
                login: Some(format!("u{id}")),
                id: Some(id),
                html_url: None,
                contributions: 1,
                name: None,
                kind: Some("User".into()),
            })
            .collect();
        let mut list = List::default();
        list.contributors = contributors;
        Arc::new(list)
    }

    #[test]
    fn only_ids_a_list_showed_are_seen() {
        let seen = SeenIds::new();
        assert!(!seen.contains(1));
        seen.show(&list([1, 2, 3]));
        assert!(seen.contains(2));
        assert!(!seen.contains(4));
    }

    #[test]
    fn ids_outlive_their_list_and_the_set_stays_bounded() {
        let seen = SeenIds::with(100, FLOOR);
        let first = list([1, 2]);
        seen.show(&first);
        drop(first);
        // 49 more ids: the first two are still there, a generation back.
        seen.show(&list(3..=51));
        assert!(seen.contains(1) && seen.contains(51));
        // Another 100: the first ones go, the count stays bounded.
        seen.show(&list(1000..1100));
        assert!(!seen.contains(1));
        assert!(seen.contains(1099));
        assert!(seen.len() <= 100, "{}", seen.len());
    }

    #[test]
    fn the_set_counts_the_ids_it_holds() {
        let seen = SeenIds::with(100, FLOOR);
        assert!(seen.is_empty());
        assert_eq!(seen.len(), 0);
        let shown = list([1, 2, 3]);
        seen.show(&shown);
        seen.show(&shown);
        assert_eq!(seen.len(), 3);
        assert!(!seen.is_empty());
    }

    #[test]
    fn a_list_marked_already_is_not_marked_again() {
        let seen = SeenIds::with(100, FLOOR);
        // Half the capacity, in one list: the current generation is full.
        let shown = list(1..=50);
        seen.show(&shown);
        assert_eq!(seen.len(), 50);
        // Shown again, it is known: no turn, no second copy of its ids.
        seen.show(&shown);
        assert_eq!(seen.len(), 50);
    }

    #[test]
    fn within_the_floor_only_half_the_capacity_turns_the_generation() {
        let seen = SeenIds::with(100, FLOOR);
        // 50 lists of one id each: no more than half the capacity, in lists
        // or in ids, so no turn: all 50 in one generation.
        for id in 1..=50 {
            seen.show(&list([id]));
        }
        assert_eq!(seen.len(), 50);
        // The 51st list turns it: the first 50 are a generation back.
        seen.show(&list([51]));
        assert!(seen.contains(1) && seen.contains(51));
        assert_eq!(seen.len(), 51);
    }

    #[test]
    fn the_generation_turns_when_the_floor_has_passed_even_for_a_list_marked_in_it() {
        let floor = Duration::from_millis(50);
        let seen = SeenIds::with(100, floor);
        seen.show(&list([1]));
        let shown = list([2]);
        // Past the floor: the next showing turns the generation (1 goes a
        // generation back)...
        std::thread::sleep(floor + Duration::from_millis(10));
        seen.show(&shown);
        assert!(seen.contains(1) && seen.contains(2));
        // ...and within it, nothing turns, not even for a list marked already.
        seen.show(&shown);
        assert!(seen.contains(1));
        // Past it again, the same list, already marked in this generation,
        // turns it again: 1 was shown two generations ago, and is forgotten.
        std::thread::sleep(floor + Duration::from_millis(10));
        seen.show(&shown);
        assert!(!seen.contains(1));
        assert!(seen.contains(2));
    }

    #[test]
    fn a_list_is_marked_again_once_the_generation_turns() {
        let seen = SeenIds::with(100, Duration::ZERO);
        let shown = list([7]);
        seen.show(&shown);
        seen.show(&list([8]));
        seen.show(&list([9]));
        // Two turns since 7 was marked: it is marked again when shown again.
        assert!(!seen.contains(7));
        seen.show(&shown);
        assert!(seen.contains(7));
    }
}
