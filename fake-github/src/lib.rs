//! A fake GitHub over real TLS on loopback, for tests and the offline demo.
//!
//! The app lists a repository's contributors from `api.github.com` and shows
//! their avatars. Its tests cannot reach GitHub (and should not: they would be
//! slow, flaky and rate-limited), so they start a [`FakeGitHub`]: an HTTPS
//! server on `127.0.0.1` with a freshly made CA, answering
//!
//! - `GET /repos/{owner}/{repo}/contributors` like the REST API (pages,
//!   `Link`, entity tags, rate limits, 204 for empty repositories),
//! - `GET /users/{owner}/repos` like the REST API (most recently pushed
//!   first, forks flagged; 404 for an owner without repositories), and
//! - `GET /u/{id}` like avatars.githubusercontent.com (real PNG images),
//! - and, for scripts that run it as a process, `GET /_fake/stats`: its
//!   counters as JSON (not counted themselves),
//!
//! and able to misbehave on request ([`Behaviour`]) so the app's handling of
//! each failure can be tested. It records every request for assertions.
//!
//! ```no_run
//! # async fn demo() {
//! use fake_github::{Contributor, FakeGitHub};
//! let github = FakeGitHub::start().await;
//! github.set_contributors("octo", "hello", vec![Contributor::user("octocat", 583231, 42)]);
//! // point the app at github.url(), trusting github.ca_pem() …
//! assert_eq!(github.contributors_requests(), 0);
//! # }
//! ```
//!
//! Each fake is independent (no global state), runs its tasks on the tokio
//! runtime that started it (current-thread or multi-thread) and stops them
//! all when dropped.

mod api;
mod avatars;
mod body;
mod faults;
mod fixtures;
pub mod png;
mod responses;
mod routes;
mod server;
mod state;
mod stats;
mod tls;
mod util;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use faults::Behaviour;
pub use fixtures::{Contributor, Fixtures, generated, hostile};
pub use state::Recorded;
pub use tls::CA_COMMON_NAME;

use state::{Repo, Shared, repo_key};
use util::unix_now;

/// A running fake GitHub. Dropping it shuts the server down.
pub struct FakeGitHub {
    addr: SocketAddr,
    ca_pem: String,
    ca_der: Vec<u8>,
    shared: Arc<Shared>,
    accept_task: JoinHandle<()>,
    /// Never sent on; dropping it is the shutdown signal for every task.
    _shutdown: watch::Sender<()>,
}

impl FakeGitHub {
    /// Starts an empty fake on `127.0.0.1:0` (a free port).
    ///
    /// # Panics
    /// If no loopback port can be bound (or, never in practice, the
    /// certificates cannot be made).
    pub async fn start() -> FakeGitHub {
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        match FakeGitHub::start_with(addr, Fixtures::default()).await {
            Ok(github) => github,
            Err(err) => panic!("fake-github: cannot start on {addr}: {err}"),
        }
    }

    /// Starts a fake on `addr` serving `fixtures`. Its tasks run on the
    /// current tokio runtime.
    pub async fn start_with(addr: SocketAddr, fixtures: Fixtures) -> std::io::Result<FakeGitHub> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let tls = tls::generate()?;
        let (shutdown_tx, shutdown_rx) = watch::channel(());
        let shared = Arc::new(Shared::new(base_url(addr), fixtures, shutdown_rx));
        let accept_task = tokio::spawn(server::accept_loop(
            listener,
            tls.acceptor,
            Arc::clone(&shared),
        ));
        Ok(FakeGitHub {
            addr,
            ca_pem: tls.ca_pem,
            ca_der: tls.ca_der.to_vec(),
            shared,
            accept_task,
            _shutdown: shutdown_tx,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT`, no trailing slash: the API base URL to give
    /// the app. (A wildcard listen address is reported as loopback, the name
    /// the certificate covers.)
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The test CA's certificate, PEM-encoded: what clients must trust.
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// The test CA's certificate, DER-encoded.
    pub fn ca_der(&self) -> Vec<u8> {
        self.ca_der.clone()
    }

    /// Writes [`ca_pem`](Self::ca_pem) to `path` (e.g. for a container).
    pub fn write_ca_pem(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, &self.ca_pem)
    }

    /// Replaces a repository's contributors (creating the repository), and
    /// moves its `Last-Modified` to now: it is its owner's most recently
    /// pushed repository (`GET /users/{owner}/repos` lists it first).
    pub fn set_contributors(&self, owner: &str, repo: &str, list: Vec<Contributor>) {
        let mut state = self.shared.lock();
        state.pushes += 1;
        let key = repo_key(owner, repo);
        let fork = state.repos.get(&key).is_some_and(|held| held.fork);
        let entry = Repo {
            contributors: list,
            modified: unix_now(),
            owner: owner.to_owned(),
            name: repo.to_owned(),
            fork,
            pushed: state.pushes,
        };
        state.repos.insert(key, entry);
    }

    /// Marks a repository (set with `set_contributors`) as a fork, or not.
    pub fn set_fork(&self, owner: &str, repo: &str, fork: bool) {
        if let Some(held) = self.shared.lock().repos.get_mut(&repo_key(owner, repo)) {
            held.fork = fork;
        }
    }

    /// Removes a repository: it answers 404 again.
    pub fn remove_repo(&self, owner: &str, repo: &str) {
        self.shared.lock().repos.remove(&repo_key(owner, repo));
    }

    /// Sets how `/repos/{owner}/{repo}/…` answers from the next request on
    /// (the repository need not exist: e.g. to redirect an old name).
    /// [`Behaviour::Normal`] restores the real answer.
    pub fn set_repo_behaviour(&self, owner: &str, repo: &str, b: Behaviour) {
        let key = repo_key(owner, repo);
        let mut state = self.shared.lock();
        match b {
            Behaviour::Normal => state.repo_behaviours.remove(&key),
            b => state.repo_behaviours.insert(key, b),
        };
    }

    /// Sets how `/u/{id}` answers from the next request on.
    pub fn set_avatar_behaviour(&self, id: u64, b: Behaviour) {
        let mut state = self.shared.lock();
        match b {
            Behaviour::Normal => state.avatar_behaviours.remove(&id),
            b => state.avatar_behaviours.insert(id, b),
        };
    }

    /// Restores normal answers for every repository and avatar.
    pub fn clear_behaviours(&self) {
        let mut state = self.shared.lock();
        state.repo_behaviours.clear();
        state.avatar_behaviours.clear();
    }

    /// Sets the quota left and when it resets (Unix seconds). At 0 every API
    /// request gets GitHub's 403. The window never rolls over by itself.
    /// The limit is raised to `remaining` if that is larger.
    pub fn set_rate_limit(&self, remaining: u64, reset: u64) {
        let mut state = self.shared.lock();
        state.rate.remaining = remaining;
        state.rate.reset = reset;
        state.rate.limit = state.rate.limit.max(remaining);
    }

    /// Sets the quota's size (`x-ratelimit-limit`, 5000 by default) and
    /// fills it.
    pub fn set_rate_limit_total(&self, limit: u64) {
        let mut state = self.shared.lock();
        state.rate.limit = limit;
        state.rate.remaining = limit;
    }

    /// The quota left.
    pub fn rate_limit_remaining(&self) -> u64 {
        self.shared.lock().rate.remaining
    }

    /// Where `avatar_url`s point: `https://avatars.githubusercontent.com` by
    /// default, as on GitHub. Pass [`url`](Self::url) to have them point at
    /// this fake, which serves the images too.
    pub fn set_avatar_base(&self, base: &str) {
        self.shared.lock().avatar_base = base.trim_end_matches('/').to_owned();
    }

    /// Every request received, oldest first (the newest 10,000 are kept).
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().recorded.iter().cloned().collect()
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.shared.lock().request_count
    }

    /// How many requests were for `/repos/…`.
    pub fn contributors_requests(&self) -> usize {
        self.shared.lock().contributors_requests
    }

    /// How many of those asked for a list's first page: lists fetched,
    /// however many pages each has.
    pub fn contributors_lists(&self) -> usize {
        self.shared.lock().contributors_lists
    }

    /// The most contributors requests that were being answered at once:
    /// above 1 when a client asked for pages in parallel.
    pub fn contributors_peak_in_flight(&self) -> usize {
        self.shared.lock().contributors_peak
    }

    /// How many contributors requests were answered 304 Not Modified.
    pub fn contributors_not_modified(&self) -> usize {
        self.shared.lock().contributors_not_modified
    }

    /// How many requests were for `/u/…`.
    pub fn avatar_requests(&self) -> usize {
        self.shared.lock().avatar_requests
    }

    /// The most avatar requests that were being answered at once: how many
    /// connections a client's avatar fetches held together.
    pub fn avatar_peak_in_flight(&self) -> usize {
        self.shared.lock().avatars_peak
    }

    /// Answers every request (but `/_fake/stats`) `latency` later, as a
    /// GitHub that far away would.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// Starts each new connection's TLS handshake `latency` late: the round
    /// trips a far-away server's TCP and TLS handshakes take.
    pub fn set_connect_latency(&self, latency: Duration) {
        self.shared.lock().connect_latency = latency;
    }

    /// Completed TLS handshakes, i.e. connections clients made (a
    /// connection used only for `/_fake/stats` does not count).
    pub fn handshakes(&self) -> usize {
        self.shared.lock().client_handshakes()
    }

    /// Connections whose TLS handshake failed (e.g. the client did not trust
    /// the CA) or timed out.
    pub fn failed_handshakes(&self) -> usize {
        self.shared.lock().failed_handshakes
    }

    /// Clears the request log and every counter (not the rate limit).
    pub fn reset_counters(&self) {
        let mut state = self.shared.lock();
        state.recorded.clear();
        state.request_count = 0;
        state.contributors_requests = 0;
        state.contributors_lists = 0;
        state.contributors_peak = state.contributors_running;
        state.contributors_not_modified = 0;
        state.avatar_requests = 0;
        state.avatars_peak = state.avatars_running;
        state.handshakes = 0;
        state.failed_handshakes = 0;
        state.stats_only_connections = 0;
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        // Dropping `_shutdown` (right after this) wakes every waiting task;
        // aborting the accept loop also frees the port without waiting for it
        // to be polled.
        self.accept_task.abort();
    }
}

impl std::fmt::Debug for FakeGitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGitHub")
            .field("url", &self.url())
            .finish()
    }
}

/// The base URL for a listening address. The certificate names loopback, so
/// a wildcard address (listening on every interface) is reported as loopback.
fn base_url(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => format!("https://127.0.0.1:{}", addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => {
            format!("https://[{}]:{}", Ipv6Addr::LOCALHOST, addr.port())
        }
        IpAddr::V4(ip) => format!("https://{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("https://[{ip}]:{}", addr.port()),
    }
}
