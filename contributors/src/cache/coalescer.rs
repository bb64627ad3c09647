//! Request coalescing: many requests for one missing entry share one
//! upstream fetch.
//!
//! Why: when a popular repository's entry is missing, a burst of visitors
//! would each start the same upstream request, and each spend quota. A
//! [`Coalescer`] lets the first one fetch while the others wait for its
//! answer.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

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
        Ok(self.try_begin(key, start)?.await)
    }

    /// Like [`try_run`](Self::try_run), but joins or starts the fetch at
    /// once and hands back the wait as a future of its own, which borrows
    /// nothing: for a caller that waits for many fetches together (the
    /// wall), deciding about each (`start`) before it waits.
    pub fn try_begin<F, Fut, E>(
        &self,
        key: K,
        start: F,
    ) -> Result<impl Future<Output = V> + Send + 'static, E>
    where
        F: FnOnce() -> Result<Fut, E>,
        Fut: Future<Output = V> + Send + 'static,
    {
        let mut answer = self.join_or_start(key, start)?;
        Ok(async move {
            // The sender is dropped only after it has published, so even when
            // `wait_for` reports a closed channel the value is there to read.
            let _ = answer.wait_for(Option::is_some).await;
            let value = answer.borrow().clone();
            value.expect("the fetch task publishes before it ends")
        })
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
        // A fetch that has published is over, though its task may not have
        // withdrawn it yet (the thread running it can be stopped between
        // the two): it is not joined, and a new one takes its place. A
        // caller that joined it would get an answer older than what it came
        // for (the cache has it already), and could only wait for the
        // withdrawal by spinning.
        if let Some(waiting) = in_flight.get(&key)
            && waiting.borrow().is_none()
        {
            return Ok(waiting.clone());
        }
        let fetching = Box::pin(start()?);
        Ok(self.launch(&mut in_flight, key, fetching))
    }

    /// Runs `fetching` for `key` in a task of its own, listed in
    /// `in_flight` until it has published. The fetch comes boxed: the task
    /// is then one type for each cache, compiled once, rather than one for
    /// each kind of fetch its callers start (a fetch's one allocation is
    /// nothing beside the upstream request it makes).
    fn launch(
        &self,
        in_flight: &mut HashMap<K, watch::Receiver<Option<V>>>,
        key: K,
        fetching: Pin<Box<dyn Future<Output = V> + Send>>,
    ) -> watch::Receiver<Option<V>> {
        let (tx, rx) = watch::channel(None);
        in_flight.insert(key.clone(), rx.clone());
        let (in_flight, mine) = (self.in_flight.clone(), rx.clone());
        tokio::spawn(async move {
            let value = fetching.await;
            // Publish, then withdraw: unless a new fetch for the key has
            // taken this one's place in between (see `join_or_start`).
            tx.send_replace(Some(value));
            let mut in_flight = in_flight.lock().unwrap_or_else(|p| p.into_inner());
            if in_flight
                .get(&key)
                .is_some_and(|held| held.same_channel(&mine))
            {
                in_flight.remove(&key);
            }
        });
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

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

    #[tokio::test]
    async fn a_fetch_that_has_published_is_not_joined() {
        let coalescer: Coalescer<u8, u8> = Coalescer::default();
        // A fetch that has published and is not withdrawn yet.
        let (published, ended) = watch::channel(None);
        published.send_replace(Some(1));
        coalescer.in_flight.lock().unwrap().insert(1, ended);
        assert_eq!(coalescer.run(1, || async { 2 }).await, 2);
        // The new fetch withdrew itself once it had published.
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(coalescer.in_flight.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_fetch_withdraws_itself_not_the_one_that_took_its_place() {
        let coalescer: Coalescer<u8, u8> = Coalescer::default();
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        coalescer.start(1, || async move {
            let _ = wait.await;
            1
        });
        // Another fetch for the key takes the first one's place.
        let (_newer, listed) = watch::channel(None);
        coalescer
            .in_flight
            .lock()
            .unwrap()
            .insert(1, listed.clone());
        go.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let in_flight = coalescer.in_flight.lock().unwrap();
        assert!(
            in_flight
                .get(&1)
                .is_some_and(|held| held.same_channel(&listed))
        );
    }
}
