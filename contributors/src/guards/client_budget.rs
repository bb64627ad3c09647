//! A budget per client for lookups that reach GitHub.
//!
//! The server's GitHub quota (60 or 5,000 calls an hour) is shared by every
//! visitor. Cached pages cost nothing, but a page nobody asked for recently
//! costs a call, and anyone can ask for thousands of random names: a script
//! once spent a 5,000-call quota in two seconds, locking everyone else out of
//! every repository not already cached. So each client gets a token bucket:
//! `per_minute` tokens, refilled continuously at `per_minute` a minute. Each
//! call that would go to GitHub takes one (a list of five pages, five); with
//! too few left the client gets a 429 and waits, while everyone else
//! carries on.
//!
//! The client is an IP address (see `trusted_proxies` for proxies). IPv6
//! clients are counted per /64, the block one home or host usually gets:
//! counting single addresses would let one machine be billions of clients.
//!
//! The table of buckets is bounded: when it is full, buckets that have
//! refilled are forgotten (a full bucket is the same as a new one), and if
//! that frees nothing the least recently used bucket goes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Clients remembered at most: about 64 bytes each, so well under 1 MiB.
const MAX_CLIENTS: usize = 10_000;

/// One client's tokens as of `updated`.
#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The budgets of all clients.
pub struct ClientBudget {
    /// Lookups a minute per client (the bucket's size too); 0: no limit.
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
    max_clients: usize,
}

impl ClientBudget {
    pub fn new(per_minute: u32) -> ClientBudget {
        ClientBudget::with_capacity(per_minute, MAX_CLIENTS)
    }

    fn with_capacity(per_minute: u32, max_clients: usize) -> ClientBudget {
        ClientBudget {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
            max_clients,
        }
    }

    /// Takes one lookup from `client`'s budget. `Err` holds how long until
    /// the next token, for `Retry-After`.
    pub fn spend(&self, client: IpAddr) -> Result<(), Duration> {
        self.spend_many(client, 1)
    }

    /// Takes `calls` lookups from `client`'s budget, all of them or none:
    /// `Err` holds how long until there are enough. More calls than a full
    /// bucket holds need a full bucket, and leave the client owing the
    /// rest: however its calls come, they stay within `per_minute`.
    pub fn spend_many(&self, client: IpAddr, calls: usize) -> Result<(), Duration> {
        self.spend_many_at(client, calls, Instant::now())
    }

    #[cfg(test)]
    fn spend_at(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        self.spend_many_at(client, 1, now)
    }

    fn spend_many_at(&self, client: IpAddr, calls: usize, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 || calls == 0 {
            return Ok(());
        }
        let size = f64::from(self.per_minute);
        let per_second = size / 60.0;
        let key = client_key(client);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !buckets.contains_key(&key) && buckets.len() >= self.max_clients {
            make_room(&mut buckets, self.max_clients, size, per_second, now);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: size,
            updated: now,
        });
        let refilled = now.saturating_duration_since(bucket.updated).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refilled).min(size);
        bucket.updated = now;
        let calls = calls as f64;
        let needed = calls.min(size);
        if bucket.tokens >= needed {
            bucket.tokens -= calls;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (needed - bucket.tokens) / per_second,
            ))
        }
    }

    /// Clients currently remembered.
    pub fn clients(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Forgets refilled buckets, or else the least recently used one.
fn make_room(
    buckets: &mut HashMap<IpAddr, Bucket>,
    max_clients: usize,
    size: f64,
    per_second: f64,
    now: Instant,
) {
    buckets.retain(|_, b| {
        b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * per_second < size
    });
    if buckets.len() >= max_clients
        && let Some(oldest) = buckets
            .iter()
            .min_by_key(|(_, b)| b.updated)
            .map(|(k, _)| *k)
    {
        buckets.remove(&oldest);
    }
}

/// The key a client is counted under: its IPv4 address, or its IPv6 /64.
/// (Also the key of the per-client connection cap, `connections.rs`.)
pub fn client_key(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((v6.to_bits() & !u128::from(u64::MAX)).into()),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_gets_its_budget_then_waits() {
        let budget = ClientBudget::new(20);
        let now = Instant::now();
        let spent = (0..100)
            .filter(|_| budget.spend_at(ip("192.0.2.1"), now).is_ok())
            .count();
        assert_eq!(spent, 20);
        let wait = budget.spend_at(ip("192.0.2.1"), now).unwrap_err();
        assert_eq!(wait.as_secs(), 3, "20 a minute: one every 3 s");
        // Others are not affected.
        assert!(budget.spend_at(ip("192.0.2.2"), now).is_ok());
        // Three seconds later one more lookup is allowed, not two.
        let later = now + Duration::from_secs(3);
        assert!(budget.spend_at(ip("192.0.2.1"), later).is_ok());
        assert!(budget.spend_at(ip("192.0.2.1"), later).is_err());
    }

    #[test]
    fn many_calls_are_taken_all_or_none() {
        let budget = ClientBudget::new(6);
        let (client, now) = (ip("192.0.2.1"), Instant::now());
        assert!(budget.spend_many_at(client, 4, now).is_ok());
        // Two left: three are refused, and none is taken.
        let wait = budget.spend_many_at(client, 3, now).unwrap_err();
        assert_eq!(wait.as_secs(), 10, "6 a minute: one every 10 s");
        assert!(budget.spend_many_at(client, 2, now).is_ok());
        assert!(budget.spend_at(client, now).is_err());
        // Nine calls need a full bucket (six), and leave three owed.
        let full = now + Duration::from_secs(60);
        assert!(budget.spend_many_at(client, 9, full).is_ok());
        let later = full + Duration::from_secs(30);
        assert!(budget.spend_at(client, later).is_err(), "still owing");
        assert!(
            budget
                .spend_at(client, later + Duration::from_secs(10))
                .is_ok()
        );
    }

    #[test]
    fn spending_now_takes_from_the_same_budget() {
        // (20 a minute: no token comes back within the test's few ms.)
        let budget = ClientBudget::new(20);
        let client = ip("192.0.2.1");
        let spent = (0..21).filter(|_| budget.spend(client).is_ok()).count();
        assert_eq!(spent, 20);
        assert!(
            budget.spend_many(ip("192.0.2.2"), 21).is_ok(),
            "a full bucket"
        );
        assert!(budget.spend_many(ip("192.0.2.2"), 1).is_err());
    }

    #[test]
    fn zero_means_no_limit() {
        let budget = ClientBudget::new(0);
        assert!((0..10_000).all(|_| budget.spend(ip("192.0.2.1")).is_ok()));
        assert_eq!(budget.clients(), 0);
    }

    #[test]
    fn an_ipv6_slash_64_is_one_client() {
        let budget = ClientBudget::new(2);
        let now = Instant::now();
        assert!(budget.spend_at(ip("2001:db8:1:2::1"), now).is_ok());
        assert!(budget.spend_at(ip("2001:db8:1:2::ffff"), now).is_ok());
        assert!(budget.spend_at(ip("2001:db8:1:2:3::9"), now).is_err());
        assert!(budget.spend_at(ip("2001:db8:1:3::1"), now).is_ok());
    }

    #[test]
    fn the_table_stays_bounded() {
        let budget = ClientBudget::with_capacity(5, 100);
        let now = Instant::now();
        for i in 0..10_000u32 {
            let client = IpAddr::from(i.to_be_bytes());
            let _ = budget.spend_at(client, now + Duration::from_millis(u64::from(i)));
        }
        assert!(budget.clients() <= 100, "{}", budget.clients());
    }

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn a_full_table_forgets_refilled_clients_and_keeps_throttled_ones() {
        // 120 a minute: a token back every 500 ms.
        let budget = ClientBudget::with_capacity(120, 3);
        let t0 = Instant::now();
        let (throttled, refilled, short) = (ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.3"));
        assert!(budget.spend_many_at(throttled, 120, t0).is_ok());
        assert!(budget.spend_at(refilled, t0 + ms(250)).is_ok());
        assert!(budget.spend_many_at(short, 2, t0 + ms(250)).is_ok());
        // 500 ms later `refilled` is full to the brim again, `short` is still
        // a token short, and `throttled`, the least recently used, has 1.5
        // of its 120. A new client makes room by forgetting `refilled` only.
        let now = t0 + ms(750);
        assert!(budget.spend_at(ip("192.0.2.4"), now).is_ok());
        assert_eq!(budget.clients(), 3);
        assert_eq!(
            budget.spend_many_at(throttled, 120, now),
            Err(ms(59_250)),
            "still owes what it spent"
        );
        assert_eq!(budget.spend_many_at(short, 120, now), Err(ms(500)));
    }

    #[test]
    fn new_addresses_never_push_out_a_throttled_client() {
        // 240 a minute: a token back every 250 ms.
        let budget = ClientBudget::with_capacity(240, 100);
        let t0 = Instant::now();
        let throttled = ip("192.0.2.1");
        assert!(budget.spend_many_at(throttled, 240, t0).is_ok());
        // 10,000 new addresses in 50 s, one every 5 ms, each spending a
        // token and leaving: whenever the table is full, the half of it
        // that has refilled since is forgotten.
        for i in 1..=10_000u32 {
            let client = IpAddr::from((0x0a00_0000 + i).to_be_bytes());
            assert!(budget.spend_at(client, t0 + ms(5 * u64::from(i))).is_ok());
            assert!(budget.clients() <= 100);
        }
        // 50 s on, it has 200 tokens back, not a fresh bucket's 240.
        let now = t0 + ms(50_000);
        assert_eq!(budget.spend_many_at(throttled, 240, now), Err(ms(10_000)));
    }

    #[test]
    fn a_known_client_never_pushes_out_another() {
        let budget = ClientBudget::with_capacity(120, 2);
        let t0 = Instant::now();
        let (throttled, busy) = (ip("192.0.2.1"), ip("192.0.2.2"));
        assert!(budget.spend_many_at(throttled, 120, t0).is_ok());
        // The table is full, and `busy` keeps spending: nobody is forgotten.
        for i in 1..=100 {
            assert!(budget.spend_at(busy, t0 + ms(i)).is_ok());
        }
        assert_eq!(budget.clients(), 2);
        assert!(budget.spend_at(throttled, t0 + ms(100)).is_err());
    }
}
