//! The in-memory cache: a bounded LRU map, and a way to let many requests
//! share one upstream fetch.
//!
//! Why cache at all: without a token GitHub allows 60 API requests an hour
//! per IP address, and a workshop room shares one IP. Every page view that
//! is answered from memory is one request GitHub never sees.
//!
//! Why bounded: the keys come from visitors. An unbounded map would let
//! anyone grow the process's memory by asking for many distinct
//! repositories, so the cache holds at most `max_entries` entries and
//! `max_bytes` bytes, and evicts the least recently used entry first.
//!
//! Why coalesce: when a popular repository's entry is missing, a burst of
//! visitors would each start the same upstream request. [`Coalescer`] lets
//! the first one fetch while the others wait for its answer.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use foldhash::fast::RandomState;
use tokio::sync::watch;

/// A least-recently-used map bounded by entry count and by bytes.
///
/// Its keys are hashed with foldhash rather than std's SipHash: every page
/// view hashes two keys, and foldhash does it in a fraction of the time.
/// Like std's, its seed is random per process, so visitors cannot pick
/// names that all land in one bucket (and the map is bounded anyway).
///
/// Lookups are the hot path (a cached page is two of them, the first time
/// a thread answers it: see `page_memo.rs` for the times after), so they
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
    /// Stores and removals so far, for whoever keeps an answer made from
    /// this cache and must know when it may no longer be what the cache
    /// would say (`page_memo.rs`). Written under the write lock.
    changes: AtomicU64,
    max_entries: usize,
    max_bytes: usize,
}

struct Inner<K, V> {
    entries: HashMap<K, Entry<V>, RandomState>,
    /// The keys ordered by the tick they were listed under: their store, or
    /// a use seen while evicting. A lookup does not reorder this (it holds
    /// only the read lock); eviction catches up (see [`Inner::evict_one`]).
    by_use: BTreeMap<u64, K>,
    bytes: usize,
}

struct Entry<V> {
    value: V,
    stored_at: Instant,
    bytes: usize,
    /// The tick this key is listed under in `by_use`.
    listed: u64,
    /// The tick of its latest use (store or lookup): `listed` or later.
    used: AtomicU64,
}

impl<K: Clone + Eq + Hash, V: Clone> LruCache<K, V> {
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        LruCache {
            inner: RwLock::new(Inner {
                entries: HashMap::default(),
                by_use: BTreeMap::new(),
                bytes: 0,
            }),
            clock: AtomicU64::new(0),
            len: AtomicUsize::new(0),
            changes: AtomicU64::new(0),
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
        inner.by_use.insert(tick, key.clone());
        inner.bytes += bytes;
        inner.entries.insert(
            key,
            Entry {
                value,
                stored_at: Instant::now(),
                bytes,
                listed: tick,
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

    /// Notes a store or a removal, still under the write lock.
    fn changed(&self, inner: &Inner<K, V>) {
        self.len.store(inner.entries.len(), Ordering::Relaxed);
        self.changes.fetch_add(1, Ordering::Release);
    }

    /// How many stores and removals there have been: read before a lookup,
    /// and compared later, it says whether the cache has changed since.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// Number of entries and bytes held, for `/status` and tests.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        (inner.entries.len(), inner.bytes)
    }
}

impl<K: Eq + Hash, V> Inner<K, V> {
    fn remove(&mut self, key: &K) {
        if let Some(old) = self.entries.remove(key) {
            self.by_use.remove(&old.listed);
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
        while let Some((listed, key)) = self.by_use.pop_first() {
            let entry = self.entries.get_mut(&key).expect("a listed key is held");
            let used = *entry.used.get_mut();
            if used == listed {
                let entry = self.entries.remove(&key).expect("just found");
                self.bytes -= entry.bytes;
                return true;
            }
            entry.listed = used;
            self.by_use.insert(used, key);
        }
        false
    }
}

/// Runs at most one fetch per key at a time; concurrent callers for the
/// same key wait for that fetch and all get a clone of its result.
pub struct Coalescer<K, V> {
    in_flight: Arc<Mutex<HashMap<K, watch::Receiver<Option<V>>>>>,
}

impl<K, V> Clone for Coalescer<K, V> {
    fn clone(&self) -> Self {
        Coalescer {
            in_flight: self.in_flight.clone(),
        }
    }
}

impl<K, V> Default for Coalescer<K, V> {
    fn default() -> Self {
        Coalescer {
            in_flight: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl<K, V> Coalescer<K, V>
where
    K: Clone + Eq + Hash + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// Returns the result of `fetch()` for `key`, calling `fetch` only if no
    /// fetch for `key` is already running.
    ///
    /// The fetch runs in a task of its own. hyper drops a request's future
    /// when the visitor disconnects; if the fetch lived in that future, one
    /// impatient visitor would cancel the answer everyone else waits for.
    pub async fn run<F, Fut>(&self, key: K, fetch: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        let Ok(value) = self.try_run(key, || Ok::<_, Infallible>(fetch())).await;
        value
    }

    /// Like [`run`](Self::run), but starting a fetch may be refused: `start`
    /// is called only when no fetch for `key` is running, and its error is
    /// returned as is. Joining a running fetch is never refused.
    pub async fn try_run<F, Fut, E>(&self, key: K, start: F) -> Result<V, E>
    where
        F: FnOnce() -> Result<Fut, E>,
        Fut: Future<Output = V> + Send + 'static,
    {
        let mut answer = self.join_or_start(key, start)?;
        // The sender is dropped only after it has published, so even when
        // `wait_for` reports a closed channel the value is there to read.
        let _ = answer.wait_for(Option::is_some).await;
        let value = answer.borrow().clone();
        Ok(value.expect("the fetch task publishes before it ends"))
    }

    /// Starts `fetch` for `key` unless one is running, without waiting for
    /// it: for refreshing in the background.
    pub fn start<F, Fut>(&self, key: K, fetch: F)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        let Ok(_running) = self.join_or_start(key, || Ok::<_, Infallible>(fetch()));
    }

    /// A receiver for the running fetch of `key`, or for a new one.
    fn join_or_start<F, Fut, E>(&self, key: K, start: F) -> Result<watch::Receiver<Option<V>>, E>
    where
        F: FnOnce() -> Result<Fut, E>,
        Fut: Future<Output = V> + Send + 'static,
    {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(waiting) = in_flight.get(&key) {
            return Ok(waiting.clone());
        }
        let fetching = start()?;
        let (tx, rx) = watch::channel(None);
        in_flight.insert(key.clone(), rx.clone());
        let in_flight = self.in_flight.clone();
        tokio::spawn(async move {
            let value = fetching.await;
            // Publish first, then forget the key: a caller that arrives in
            // between still finds the finished answer.
            tx.send_replace(Some(value));
            in_flight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
        });
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

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
    fn stores_and_removals_are_counted_and_lookups_are_not() {
        let cache = LruCache::new(1, 10);
        assert_eq!(cache.changes(), 0);
        cache.insert("a", 1, 1);
        assert!(cache.get(&"a").is_some() && cache.get(&"b").is_none());
        assert_eq!(cache.changes(), 1, "lookups change nothing");
        cache.insert("b", 2, 1); // evicts "a": one change
        assert_eq!(cache.changes(), 2);
        cache.insert("c", 3, 11); // too big: not stored, nothing changed
        assert_eq!(cache.changes(), 2);
        cache.remove(&"b");
        assert_eq!(cache.changes(), 3);
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
    fn memory_stays_flat_under_many_distinct_keys() {
        let cache = LruCache::new(50, 1 << 20);
        for i in 0..10_000 {
            cache.insert(i, vec![0u8; 100], 100);
        }
        assert_eq!(cache.usage(), (50, 5_000));
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let coalescer: Coalescer<&str, usize> = Coalescer::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let mut waiting = Vec::new();
        for _ in 0..50 {
            let coalescer = coalescer.clone();
            let calls = calls.clone();
            waiting.push(tokio::spawn(async move {
                coalescer
                    .run("repo", || async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        calls.fetch_add(1, Ordering::SeqCst) + 42
                    })
                    .await
            }));
        }
        for w in waiting {
            assert_eq!(w.await.unwrap(), 42);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Once finished, the next call fetches again.
        let again = coalescer.run("repo", || async { 7 }).await;
        assert_eq!(again, 7);
    }

    #[tokio::test]
    async fn only_starting_a_fetch_can_be_refused() {
        let coalescer: Coalescer<u8, u8> = Coalescer::default();
        let no = || Err::<std::future::Ready<u8>, _>("no");
        assert_eq!(coalescer.try_run(1, no).await, Err("no"));
        coalescer.start(1, || async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            5
        });
        // A fetch is running: joining it does not ask `start` at all.
        assert_eq!(coalescer.try_run(1, no).await, Ok(5));
    }

    #[tokio::test]
    async fn a_cancelled_caller_does_not_cancel_the_fetch() {
        let coalescer: Coalescer<u8, u8> = Coalescer::default();
        let first = {
            let c = coalescer.clone();
            tokio::spawn(async move {
                c.run(1, || async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    9
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        first.abort();
        let second = coalescer.run(1, || async { 0 }).await;
        assert_eq!(second, 9);
    }
}
