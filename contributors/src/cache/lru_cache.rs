//! The in-memory cache: a bounded LRU map.
//!
//! Why cache at all: without a token GitHub allows 60 API requests an hour
//! per IP address, and a workshop room shares one IP. Every page view that
//! is answered from memory is one request GitHub never sees.
//!
//! Why bounded: the keys come from visitors. An unbounded map would let
//! anyone grow the process's memory by asking for many distinct
//! repositories, so the cache holds at most `max_entries` entries and
//! `max_bytes` bytes, and evicts the least recently used entry first.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use foldhash::fast::RandomState;

/// A least-recently-used map bounded by entry count and by bytes.
///
/// Its keys are hashed with foldhash rather than std's SipHash: every page
/// view hashes two keys, and foldhash does it in a fraction of the time.
/// Like std's, its seed is random per process, so visitors cannot pick
/// names that all land in one bucket (and the map is bounded anyway).
///
/// Lookups are the hot path (a cached page is two of them), so they
/// share the lock: a lookup takes it for reading and notes the use in an
/// atomic counter on the entry, and two threads serving cached pages never
/// wait for each other. Only a store, which may evict, takes it for writing.
///
/// Lookups also avoid writing to memory that other threads use, where they
/// can: two cores that write the same memory in turn hand it back and forth,
/// and that costs more than the lookup. So a lookup of the entry used last
/// (a popular page under load) notes nothing, since it is the most recent
/// already; a lookup can borrow the value instead of cloning it
/// ([`LruCache::get_with`]), which spares an `Arc`'s count; and an empty
/// cache is seen to be empty without taking the lock.
pub struct LruCache<K, V> {
    inner: RwLock<Inner<K, V>>,
    /// Hands out use ticks: a larger tick is a more recent use.
    clock: AtomicU64,
    /// Entries held: written under the write lock, read without the lock.
    len: AtomicUsize,
    max_entries: usize,
    max_bytes: usize,
}

struct Inner<K, V> {
    entries: HashMap<K, Entry<V>, RandomState>,
    /// The keys ordered by the tick they were listed under: their store, or
    /// a use seen while evicting. A lookup does not reorder this (it holds
    /// only the read lock); eviction catches up (see [`Inner::evict_one`]).
    /// It names each key by its slot in `keys`, not by the key itself: one
    /// map type, `BTreeMap<u64, usize>`, for every cache whatever its key,
    /// so the binary holds the B-tree's code once rather than once per key
    /// type (about 6 KB each).
    by_use: BTreeMap<u64, usize>,
    /// Each key held, in its slot; a slot freed by a removal is in `free`,
    /// for the next store.
    keys: Vec<Option<K>>,
    free: Vec<usize>,
    bytes: usize,
}

struct Entry<V> {
    value: V,
    stored_at: Instant,
    bytes: usize,
    /// The tick this key is listed under in `by_use`.
    listed: u64,
    /// Where `keys` holds this key.
    slot: usize,
    /// The tick of its latest use (store or lookup): `listed` or later.
    used: AtomicU64,
}

impl<K: Clone + Eq + Hash, V: Clone> LruCache<K, V> {
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        LruCache {
            inner: RwLock::new(Inner {
                entries: HashMap::default(),
                by_use: BTreeMap::new(),
                keys: Vec::new(),
                free: Vec::new(),
                bytes: 0,
            }),
            clock: AtomicU64::new(0),
            len: AtomicUsize::new(0),
            max_entries: max_entries.max(1),
            max_bytes,
        }
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed)
    }

    /// The value and when it was stored, marking it as recently used.
    /// Freshness is the caller's call: a stale value can still be useful.
    pub fn get(&self, key: &K) -> Option<(V, Instant)> {
        self.get_with(key, |value, stored_at| (value.clone(), stored_at))
    }

    /// Like [`LruCache::get`], but lends the value to `read` instead of
    /// cloning it (under the read lock: `read` must be quick).
    pub fn get_with<R>(&self, key: &K, read: impl FnOnce(&V, Instant) -> R) -> Option<R> {
        if self.len.load(Ordering::Relaxed) == 0 {
            return None;
        }
        // A panic while holding the lock cannot leave the map half-updated
        // in a way that matters here, so a poisoned lock is used as is.
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let entry = inner.entries.get(key)?;
        // The latest tick handed out is this entry's own: it is the most
        // recently used already, and another use changes no order.
        if entry.used.load(Ordering::Relaxed) + 1 != self.clock.load(Ordering::Relaxed) {
            entry.used.fetch_max(self.tick(), Ordering::Relaxed);
        }
        Some(read(&entry.value, entry.stored_at))
    }

    /// Stores a value that weighs `bytes`, then evicts least recently used
    /// entries until both bounds hold, and says how many it evicted (for
    /// `/metrics`). A value larger than the whole byte budget is not stored.
    pub fn insert(&self, key: K, value: V, bytes: usize) -> usize {
        if bytes > self.max_bytes {
            return 0;
        }
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.remove(&key);
        let tick = self.tick();
        let slot = inner.hold(key.clone());
        inner.by_use.insert(tick, slot);
        inner.bytes += bytes;
        inner.entries.insert(
            key,
            Entry {
                value,
                stored_at: Instant::now(),
                bytes,
                listed: tick,
                slot,
                used: AtomicU64::new(tick),
            },
        );
        let mut evicted = 0;
        while inner.entries.len() > self.max_entries || inner.bytes > self.max_bytes {
            if !inner.evict_one() {
                break;
            }
            evicted += 1;
        }
        self.changed(&inner);
        evicted
    }

    /// Forgets `key`, if it is held.
    pub fn remove(&self, key: &K) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.remove(key);
        self.changed(&inner);
    }

    /// Notes a store or a removal, still under the write lock: the count
    /// read without the lock.
    fn changed(&self, inner: &Inner<K, V>) {
        self.len.store(inner.entries.len(), Ordering::Relaxed);
    }

    /// Number of entries and bytes held, for `/status` and tests.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        (inner.entries.len(), inner.bytes)
    }
}

impl<K: Eq + Hash, V> Inner<K, V> {
    /// Puts `key` in a free slot, or a new one, and says which.
    fn hold(&mut self, key: K) -> usize {
        match self.free.pop() {
            Some(slot) => {
                self.keys[slot] = Some(key);
                slot
            }
            None => {
                self.keys.push(Some(key));
                self.keys.len() - 1
            }
        }
    }

    fn remove(&mut self, key: &K) {
        if let Some(old) = self.entries.remove(key) {
            self.by_use.remove(&old.listed);
            self.keys[old.slot] = None;
            self.free.push(old.slot);
            self.bytes -= old.bytes;
        }
    }

    /// Removes the least recently used entry; false if there is none.
    ///
    /// The first key in `by_use` has the oldest listed tick. If it was used
    /// since, it is listed again under that use and the next key is tried;
    /// the first key whose listed tick is its latest use is the least
    /// recently used of all (every other key's latest use is at least its
    /// own listed tick, which is larger). Each relisting pays for a lookup
    /// made since, so eviction stays cheap on average.
    fn evict_one(&mut self) -> bool {
        while let Some((listed, slot)) = self.by_use.pop_first() {
            let key = self.keys[slot].as_ref().expect("a listed slot holds a key");
            let entry = self.entries.get_mut(key).expect("a listed key is held");
            let used = *entry.used.get_mut();
            if used == listed {
                let key = self.keys[slot].take().expect("just found");
                let entry = self.entries.remove(&key).expect("just found");
                self.free.push(slot);
                self.bytes -= entry.bytes;
                return true;
            }
            entry.listed = used;
            self.by_use.insert(used, slot);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used_entry() {
        let cache = LruCache::new(2, 1000);
        cache.insert("a", 1, 1);
        cache.insert("b", 2, 1);
        assert!(cache.get(&"a").is_some()); // "b" is now the oldest
        assert_eq!(cache.insert("c", 3, 1), 1);
        assert!(cache.get(&"b").is_none());
        assert!(cache.get(&"a").is_some());
        assert!(cache.get(&"c").is_some());
        assert_eq!(cache.usage(), (2, 2));
    }

    #[test]
    fn lookups_set_the_eviction_order() {
        let cache = LruCache::new(3, 1000);
        for key in ["a", "b", "c"] {
            cache.insert(key, 0, 1);
        }
        // Used in the order c, a, b: stored order no longer counts. (A
        // lookup of the entry used last notes nothing: it changes no order.)
        for key in ["c", "c", "a", "b", "a", "a", "b", "b"] {
            assert!(cache.get(&key).is_some());
        }
        let survivors = |cache: &LruCache<&str, i32>| {
            ["a", "b", "c", "d", "e"]
                .into_iter()
                .filter(|k| cache.inner.read().unwrap().entries.contains_key(k))
                .collect::<Vec<_>>()
        };
        assert_eq!(cache.insert("d", 0, 1), 1);
        assert_eq!(survivors(&cache), ["a", "b", "d"]);
        assert_eq!(cache.insert("e", 0, 1), 1);
        assert_eq!(survivors(&cache), ["b", "d", "e"]);
    }

    #[test]
    fn an_emptied_cache_finds_nothing_and_fills_again() {
        let cache = LruCache::new(2, 1000);
        assert!(cache.get(&"a").is_none());
        cache.insert("a", 1, 1);
        cache.remove(&"a");
        assert!(cache.get(&"a").is_none());
        cache.insert("a", 2, 1);
        assert_eq!(cache.get_with(&"a", |value, _| *value), Some(2));
        assert_eq!(cache.usage(), (1, 1));
    }

    #[test]
    fn stays_within_the_byte_budget() {
        let cache = LruCache::new(100, 10);
        cache.insert(1, "x", 4);
        cache.insert(2, "y", 4);
        cache.insert(3, "z", 4);
        assert_eq!(cache.usage(), (2, 8));
        assert!(cache.get(&1).is_none());
        cache.insert(4, "too big", 11);
        assert!(cache.get(&4).is_none());
        cache.insert(2, "y2", 1); // replacing frees the old weight
        assert_eq!(cache.usage(), (2, 5));
    }

    #[test]
    fn the_budgets_are_limits_that_may_be_reached() {
        let cache = LruCache::new(2, 10);
        // Filled to both bounds exactly: nothing goes.
        assert_eq!(cache.insert(1, "x", 4), 0);
        assert_eq!(cache.insert(2, "y", 6), 0);
        assert_eq!(cache.usage(), (2, 10));
        // A value as large as the whole budget is stored, alone: two go.
        assert_eq!(cache.insert(3, "z", 10), 2);
        assert_eq!(cache.usage(), (1, 10));
        assert!(cache.get(&3).is_some());
    }

    #[test]
    fn memory_stays_flat_under_many_distinct_keys() {
        let cache = LruCache::new(50, 1 << 20);
        for i in 0..10_000 {
            cache.insert(i, vec![0u8; 100], 100);
        }
        assert_eq!(cache.usage(), (50, 5_000));
    }
}
