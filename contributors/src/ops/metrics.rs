//! `GET /metrics`: what the server has been doing, in Prometheus's text
//! format (version 0.0.4), for a scraper to collect from every replica.
//!
//! Why counters of our own, and not a metrics crate: the set of series is
//! small and fixed, and the binary is the image. Every series here is an
//! `AtomicU64` in a fixed array, indexed by things with a known, short list
//! of values: the route's name from the routing table (never the raw path,
//! which visitors choose), a status from a fixed list, an upstream outcome.
//! So the series cannot grow with traffic, and counting a request is a few
//! atomic adds: no lock, no allocation. Only rendering `/metrics` itself
//! allocates, once per scrape.
//!
//! Why one process-wide `METRICS`: Prometheus scrapes a process, and the
//! counts happen deep in modules (the server's accept loop, the upstream
//! clients, the caches) that would otherwise each need a handle passed in.
//! What is already kept elsewhere is read at scrape time instead of being
//! counted twice: cache entries and bytes (the caches' `usage`), the GitHub
//! quota (`rate_limit.rs`). The caller hands those in ([`Gauges`]), with
//! the route names, so this module imports nothing else from the crate and
//! any module may count here without a circle.
//!
//! Relaxed ordering is enough: each counter is independent, and a scrape
//! that sees one count a moment before another is still a true picture.
//!
//! Why the counters a request adds to are kept once per thread ([`Shard`]):
//! an atomic add is cheap only while one CPU core owns the memory it sits
//! in. Two threads adding to the same counter hand that memory back and
//! forth between their cores on every add, and on a cached page, which is
//! otherwise a few microseconds of work, that hand-over showed up in
//! `make bench`. Each thread adds to its own copy, and a scrape sums them.

use std::cell::Cell;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

/// The one set of counters of this process.
pub static METRICS: Metrics = Metrics::new();

/// The statuses counted one by one; anything else is counted in the last
/// slot, labelled "other".
const STATUSES: [u16; 14] = [
    200, 303, 304, 400, 404, 405, 410, 429, 451, 500, 502, 503, 504, 0,
];
/// The last slot of `STATUSES`: every status not listed.
const OTHER_STATUS: usize = STATUSES.len() - 1;

/// Upper bounds of the request duration histogram, in seconds: from a
/// cached answer (well under a millisecond) to a slow GitHub (seconds).
const BUCKETS: [f64; 7] = [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10.0];

/// Room for this many routes. The route table (`routes.rs`) numbers its
/// routes from 0 and checks at compile time that they fit; metrics knows
/// them only by number, and by the names handed to [`Metrics::render`].
pub const ROUTES: usize = 16;

/// Which upstream a request went to.
#[derive(Clone, Copy, Debug)]
pub enum Host {
    /// The GitHub API (contributor lists).
    Api = 0,
    /// The avatar server.
    Avatars = 1,
}
const HOSTS: [&str; 2] = ["api", "avatars"];

/// How an upstream request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok = 0,
    NotModified = 1,
    NotFound = 2,
    RateLimited = 3,
    Error = 4,
    Timeout = 5,
}
const OUTCOMES: [&str; 6] = [
    "ok",
    "not_modified",
    "not_found",
    "rate_limited",
    "error",
    "timeout",
];

/// Which in-memory cache.
#[derive(Clone, Copy, Debug)]
pub enum Cache {
    /// Contributor lists as GitHub sent them (`contributor_lists.rs`).
    Lists = 0,
    /// Pages, walls and JSON rendered from them (`page_cache.rs`).
    Pages = 1,
    /// Avatar images (`avatars.rs`).
    Avatars = 2,
}
const CACHES: [&str; 3] = ["lists", "pages", "avatars"];

/// What the app reads at the moment `/metrics` is asked for: the caches'
/// entries and bytes (in [`Cache`] order), GitHub's quota as last
/// reported (calls remaining, and the Unix time it refills), and the other
/// bounded sets a request can grow.
pub struct Gauges {
    pub caches: [(usize, usize); CACHES.len()],
    pub quota: Option<(u64, u64)>,
    /// Contributor ids the lists shown have had (`seen_ids.rs`).
    pub seen_ids: usize,
    /// Avatars whose fetch failed, remembered for a while (`avatars.rs`).
    pub avatar_failures: usize,
    /// Bytes walls hold, cached or on their way out (`wall.rs`).
    pub wall_bytes: usize,
}

/// Copies of the per-request counters: more than the threads that answer
/// requests on most machines (tokio starts one per core). Threads past
/// that share copies, which is correct, only slower.
const SHARDS: usize = 8;

/// The counters that requests add to, as one thread's copy.
///
/// Aligned so that no two copies share a cache line (128 bytes covers the
/// pairs of lines that some CPUs fetch together).
#[repr(align(128))]
struct Shard {
    requests: [[AtomicU64; STATUSES.len()]; ROUTES],
    /// Per route: requests that took more than `BUCKETS[i - 1]` and at
    /// most `BUCKETS[i]`, the last slot for the rest. Prometheus wants each
    /// bucket to count everything below it too: summed up when rendered.
    durations: [[AtomicU64; BUCKETS.len() + 1]; ROUTES],
    /// Per route: the total time, in microseconds.
    duration_micros: [AtomicU64; ROUTES],
    /// Per cache: lookups that found what they needed, and those that did not.
    hits: [AtomicU64; CACHES.len()],
    misses: [AtomicU64; CACHES.len()],
}

/// Every counter the server keeps. All zero at start.
pub struct Metrics {
    shards: [Shard; SHARDS],
    /// Hands out shards to threads, in turn.
    next_shard: AtomicUsize,
    upstream: [[AtomicU64; OUTCOMES.len()]; HOSTS.len()],
    evictions: [AtomicU64; CACHES.len()],
    connections_open: AtomicU64,
    connections_turned_away: AtomicU64,
    over_budget: AtomicU64,
}

thread_local! {
    /// This thread's shard, once it has counted something.
    static SHARD: Cell<Option<usize>> = const { Cell::new(None) };
}

impl Metrics {
    /// All zero: the one instance is `METRICS`.
    const fn new() -> Metrics {
        // `AtomicU64` is not `Copy`; a named constant may be repeated.
        #[allow(clippy::declare_interior_mutable_const)]
        const ZERO: AtomicU64 = AtomicU64::new(0);
        #[allow(clippy::declare_interior_mutable_const)]
        const SHARD: Shard = Shard {
            requests: [const { [ZERO; STATUSES.len()] }; ROUTES],
            durations: [const { [ZERO; BUCKETS.len() + 1] }; ROUTES],
            duration_micros: [ZERO; ROUTES],
            hits: [ZERO; CACHES.len()],
            misses: [ZERO; CACHES.len()],
        };
        Metrics {
            shards: [SHARD; SHARDS],
            next_shard: AtomicUsize::new(0),
            upstream: [const { [ZERO; OUTCOMES.len()] }; HOSTS.len()],
            evictions: [ZERO; CACHES.len()],
            connections_open: ZERO,
            connections_turned_away: ZERO,
            over_budget: ZERO,
        }
    }

    /// The calling thread's copy of the per-request counters.
    fn shard(&self) -> &Shard {
        let index = SHARD.with(|shard| match shard.get() {
            Some(index) => index,
            None => {
                let index = self.next_shard.fetch_add(1, Relaxed) % SHARDS;
                shard.set(Some(index));
                index
            }
        });
        &self.shards[index]
    }

    /// One counter summed over the shards.
    fn total(&self, counter: impl Fn(&Shard) -> &AtomicU64) -> u64 {
        self.shards
            .iter()
            .map(|shard| counter(shard).load(Relaxed))
            .sum()
    }

    /// One answered request: its route's number (below [`ROUTES`]), status
    /// and how long it took.
    pub fn request(&self, route: usize, status: u16, took: Duration) {
        let status = STATUSES[..OTHER_STATUS]
            .iter()
            .position(|&s| s == status)
            .unwrap_or(OTHER_STATUS);
        let shard = self.shard();
        shard.requests[route][status].fetch_add(1, Relaxed);
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&le| seconds <= le)
            .unwrap_or(BUCKETS.len());
        shard.durations[route][bucket].fetch_add(1, Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        shard.duration_micros[route].fetch_add(micros, Relaxed);
    }

    /// One request to an upstream, ended as `outcome`.
    pub fn upstream(&self, host: Host, outcome: Outcome) {
        self.upstream[host as usize][outcome as usize].fetch_add(1, Relaxed);
    }

    /// A lookup in `cache` that found (`true`) or did not find what it needed.
    pub fn cache_lookup(&self, cache: Cache, hit: bool) {
        let shard = self.shard();
        let counter = if hit { &shard.hits } else { &shard.misses };
        counter[cache as usize].fetch_add(1, Relaxed);
    }

    /// Entries `cache` let go to stay within its bounds.
    pub fn cache_evicted(&self, cache: Cache, entries: usize) {
        if entries > 0 {
            self.evictions[cache as usize].fetch_add(entries as u64, Relaxed);
        }
    }

    pub fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Relaxed);
    }

    pub fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Relaxed);
    }

    /// A connection answered 503 at once: the server was full.
    pub fn connection_turned_away(&self) {
        self.connections_turned_away.fetch_add(1, Relaxed);
    }

    /// A lookup refused because its client had spent its budget.
    pub fn over_budget(&self) {
        self.over_budget.fetch_add(1, Relaxed);
    }

    /// The exposition: every series, with its `HELP` and `TYPE`, the
    /// routes named by `routes` (in their numbers' order), plus the figures
    /// the app reads at the moment (`gauges`: cache sizes, GitHub's quota).
    pub fn render(&self, routes: &[&str], gauges: Gauges) -> String {
        let mut out = Exposition(String::with_capacity(16 * 1024));

        out.family(
            "contributors_build_info",
            "gauge",
            "Always 1; the labels say which build is running.",
        );
        let labels = format!(
            "version=\"{}\",target=\"{}-{}\"",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::ARCH,
            std::env::consts::OS
        );
        out.sample("contributors_build_info", &labels, 1);

        out.family(
            "contributors_http_requests_total",
            "counter",
            "Requests answered, by route (its name, not the path) and status.",
        );
        for (r, route) in routes.iter().enumerate().take(ROUTES) {
            for (i, status) in STATUSES.iter().enumerate() {
                let status = match status {
                    0 => "other".to_string(),
                    code => code.to_string(),
                };
                let labels = format!("route=\"{route}\",status=\"{status}\"");
                out.sample(
                    "contributors_http_requests_total",
                    &labels,
                    self.total(|shard| &shard.requests[r][i]),
                );
            }
        }

        out.family(
            "contributors_http_request_duration_seconds",
            "histogram",
            "Time from the request's head to its answer, by route.",
        );
        for (r, route) in routes.iter().enumerate().take(ROUTES) {
            let name = "contributors_http_request_duration_seconds";
            let mut total = 0;
            for i in 0..=BUCKETS.len() {
                total += self.total(|shard| &shard.durations[r][i]);
                let le = BUCKETS.get(i).map_or("+Inf".to_string(), f64::to_string);
                let labels = format!("route=\"{route}\",le=\"{le}\"");
                out.sample(&format!("{name}_bucket"), &labels, total);
            }
            let micros = self.total(|shard| &shard.duration_micros[r]);
            let labels = format!("route=\"{route}\"");
            out.sample(&format!("{name}_sum"), &labels, micros as f64 / 1e6);
            out.sample(&format!("{name}_count"), &labels, total);
        }

        out.family(
            "contributors_upstream_requests_total",
            "counter",
            "Requests to GitHub, by host (api, avatars) and outcome.",
        );
        for (host, counts) in HOSTS.iter().zip(&self.upstream) {
            for (outcome, count) in OUTCOMES.iter().zip(counts) {
                let labels = format!("host=\"{host}\",outcome=\"{outcome}\"");
                out.sample(
                    "contributors_upstream_requests_total",
                    &labels,
                    count.load(Relaxed),
                );
            }
        }

        // Per cache: entries, bytes, hits, misses, evictions.
        let values: Vec<[u64; 5]> = (gauges.caches.into_iter().enumerate())
            .map(|(c, (entries, bytes))| {
                [
                    entries as u64,
                    bytes as u64,
                    self.total(|shard| &shard.hits[c]),
                    self.total(|shard| &shard.misses[c]),
                    self.evictions[c].load(Relaxed),
                ]
            })
            .collect();
        let families = [
            ("entries", "gauge", "Entries held in memory."),
            ("bytes", "gauge", "Bytes held, as the cache weighs them."),
            ("hits_total", "counter", "Lookups answered from memory."),
            (
                "misses_total",
                "counter",
                "Lookups that had to fetch or render.",
            ),
            (
                "evictions_total",
                "counter",
                "Entries dropped to stay within the cache's bounds.",
            ),
        ];
        for (i, (suffix, kind, help)) in families.into_iter().enumerate() {
            let name = format!("contributors_cache_{suffix}");
            out.family(&name, kind, help);
            for (cache, values) in CACHES.iter().zip(&values) {
                out.sample(&name, &format!("cache=\"{cache}\""), values[i]);
            }
        }

        if let Some((remaining, reset)) = gauges.quota {
            out.family(
                "contributors_github_rate_limit_remaining",
                "gauge",
                "API calls left in GitHub's quota, as its latest answer said.",
            );
            out.sample("contributors_github_rate_limit_remaining", "", remaining);
            out.family(
                "contributors_github_rate_limit_reset_seconds",
                "gauge",
                "When the GitHub quota is next refilled, in Unix time.",
            );
            out.sample("contributors_github_rate_limit_reset_seconds", "", reset);
        }

        let bounded = [
            (
                "contributors_seen_ids",
                "Contributor ids the lists shown have had: the only avatars fetched.",
                gauges.seen_ids,
            ),
            (
                "contributors_avatar_failures",
                "Avatars whose fetch failed, remembered so they are not fetched again at once.",
                gauges.avatar_failures,
            ),
            (
                "contributors_wall_bytes",
                "Bytes held by walls, in the page cache or on their way to clients.",
                gauges.wall_bytes,
            ),
        ];
        for (name, help, value) in bounded {
            out.family(name, "gauge", help);
            out.sample(name, "", value);
        }

        let plain: [(&str, &str, &str, &AtomicU64); 3] = [
            (
                "contributors_connections_open",
                "gauge",
                "Client connections being served now.",
                &self.connections_open,
            ),
            (
                "contributors_connections_turned_away_total",
                "counter",
                "Connections answered 503 at once because the server was full.",
                &self.connections_turned_away,
            ),
            (
                "contributors_clients_over_budget_total",
                "counter",
                "Lookups refused (429) because the client had spent its budget.",
                &self.over_budget,
            ),
        ];
        for (name, kind, help, value) in plain {
            out.family(name, kind, help);
            out.sample(name, "", value.load(Relaxed));
        }
        out.0
    }
}

/// The text being written: `# HELP`/`# TYPE` headers and sample lines.
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        // Writing to a `String` cannot fail.
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &str, value: impl std::fmt::Display) {
        let _ = if labels.is_empty() {
            writeln!(self.0, "{name} {value}")
        } else {
            writeln!(self.0, "{name}{{{labels}}} {value}")
        };
    }
}
