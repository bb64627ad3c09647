//! What one fake server knows and remembers, shared by its handle and tasks.
//!
//! One `std::sync::Mutex` guards it all. Every critical section is a few map
//! look-ups or pushes and never spans an `.await`, so a blocking mutex is both
//! correct and simpler than an async one; and a test's change (new
//! contributors, a fault, a quota) is seen by the very next request.
//! Nothing here is global: each `FakeGitHub` has its own `Shared`, so many
//! can run side by side in one test process.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use crate::faults::Behaviour;
use crate::fixtures::{Contributor, Fixtures};
use crate::util::unix_now;

/// How many requests the log keeps. The counters stay exact beyond that; the
/// cap only stops a long-running demo from growing without bound.
pub(crate) const MAX_RECORDED: usize = 10_000;

/// GitHub's quota for authenticated REST requests.
pub(crate) const DEFAULT_RATE_LIMIT: u64 = 5_000;

/// One HTTP request as the fake received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Every header, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// `HTTP/1.1` or `HTTP/2.0`: which protocol ALPN settled on.
    pub version: String,
}

impl Recorded {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The token of an `Authorization: Bearer …` header, if there was one.
    pub fn bearer_token(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }
}

/// The simulated primary rate limit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RateLimit {
    pub limit: u64,
    pub remaining: u64,
    /// Unix seconds. The window never rolls over by itself: a test that set
    /// a quota keeps it until it sets another.
    pub reset: u64,
}

/// A repository's contributors, and when they last changed (`Last-Modified`);
/// its name as first spelt, whether it is a fork, and when it was last
/// pushed to, as a sequence number (for `GET /users/{owner}/repos`).
pub(crate) struct Repo {
    pub contributors: Vec<Contributor>,
    pub modified: u64,
    pub owner: String,
    pub name: String,
    pub fork: bool,
    pub pushed: u64,
}

/// The mutable part of a fake.
pub(crate) struct State {
    /// Keyed by lower-cased `owner/repo`: GitHub's names are case-insensitive.
    pub repos: HashMap<String, Repo>,
    pub repo_behaviours: HashMap<String, Behaviour>,
    pub avatar_behaviours: HashMap<u64, Behaviour>,
    /// The last `Repo::pushed` given.
    pub pushes: u64,
    pub rate: RateLimit,
    /// Where `avatar_url`s point, without a trailing slash.
    pub avatar_base: String,
    pub recorded: VecDeque<Recorded>,
    pub request_count: usize,
    pub contributors_requests: usize,
    /// Contributors requests for a list's first page: lists fetched.
    pub contributors_lists: usize,
    /// Contributors requests being answered now, and the most at once.
    pub contributors_running: usize,
    pub contributors_peak: usize,
    /// Contributors requests answered 304 Not Modified.
    pub contributors_not_modified: usize,
    pub avatar_requests: usize,
    /// Avatar requests being answered now, and the most at once.
    pub avatars_running: usize,
    pub avatars_peak: usize,
    pub handshakes: usize,
    pub failed_handshakes: usize,
    /// Connections that have carried only `/_fake/stats` requests so far:
    /// left out of the handshakes reported (see `stats.rs`).
    pub stats_only_connections: usize,
    /// Added before every answer (not the stats'): the round trip to a
    /// far-away GitHub (`--latency-ms`).
    pub latency: Duration,
    /// Added before each new connection's TLS handshake: what a far-away
    /// server's TCP and TLS handshakes cost before a request can go out
    /// (`--connect-ms`).
    pub connect_latency: Duration,
}

impl State {
    /// Completed handshakes, less the connections used only to read stats.
    pub fn client_handshakes(&self) -> usize {
        self.handshakes.saturating_sub(self.stats_only_connections)
    }
}

/// Everything a fake's tasks share: fixed facts plus the guarded state.
pub(crate) struct Shared {
    /// `https://127.0.0.1:PORT`, for links and redirects.
    pub base_url: String,
    state: Mutex<State>,
    /// Closed (never sent on) when the `FakeGitHub` is dropped. The accept
    /// loop, each connection and each HTTP/2 stream wait on this, and drop
    /// the request they hold (a stall, a delay) unanswered (`server.rs`).
    shutdown: watch::Receiver<()>,
}

/// The map key for a repository.
pub(crate) fn repo_key(owner: &str, repo: &str) -> String {
    format!(
        "{}/{}",
        owner.to_ascii_lowercase(),
        repo.to_ascii_lowercase()
    )
}

impl Shared {
    pub fn new(base_url: String, fixtures: Fixtures, shutdown: watch::Receiver<()>) -> Self {
        let now = unix_now();
        let pushes = fixtures.repos.len() as u64;
        let repos = (fixtures.repos.into_iter().zip(1..))
            .map(|((owner, repo, contributors), pushed)| {
                let key = repo_key(&owner, &repo);
                let entry = Repo {
                    contributors,
                    modified: now,
                    fork: fixtures.forks.iter().any(|(o, r)| repo_key(o, r) == key),
                    owner,
                    name: repo,
                    pushed,
                };
                (key, entry)
            })
            .collect();
        let failing = fixtures.failing.iter().map(|(owner, repo)| {
            let status = Behaviour::Status(500);
            (repo_key(owner, repo), status)
        });
        let state = State {
            repos,
            repo_behaviours: failing.collect(),
            avatar_behaviours: HashMap::new(),
            pushes,
            rate: RateLimit {
                limit: DEFAULT_RATE_LIMIT,
                remaining: DEFAULT_RATE_LIMIT,
                reset: now + 3_600,
            },
            avatar_base: "https://avatars.githubusercontent.com".to_owned(),
            recorded: VecDeque::new(),
            request_count: 0,
            contributors_requests: 0,
            contributors_lists: 0,
            contributors_running: 0,
            contributors_peak: 0,
            contributors_not_modified: 0,
            avatar_requests: 0,
            avatars_running: 0,
            avatars_peak: 0,
            handshakes: 0,
            failed_handshakes: 0,
            stats_only_connections: 0,
            latency: Duration::ZERO,
            connect_latency: Duration::ZERO,
        };
        Shared {
            base_url,
            state: Mutex::new(state),
            shutdown,
        }
    }

    /// Locks the state. A panic elsewhere while holding the lock cannot leave
    /// it half-updated in a way that matters to a fake, so poisoning is
    /// ignored rather than turned into a second panic.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Resolves when the fake shuts down.
    pub async fn shutdown(&self) {
        let mut rx = self.shutdown.clone();
        // Nothing is ever sent on the channel, so `changed` returns only
        // when the sender is dropped (with an error, which is the signal).
        let _closed = rx.changed().await;
    }

    /// A receiver for tasks that outlive a borrow of `Shared`.
    pub fn shutdown_receiver(&self) -> watch::Receiver<()> {
        self.shutdown.clone()
    }
}
