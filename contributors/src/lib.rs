//! contributors: a web page listing a GitHub repository's contributors with
//! their avatars, built to ship as one static binary in an empty image.
//!
//! A tour of the modules, in the order a request meets them:
//!
//! - `config`: the settings (flags and environment), checked at start-up.
//! - `server`: accepts connections, caps them, times them out, drains on stop.
//! - `timed_stream`: the deadline on each phase of a client connection.
//! - `trusted_proxies`: who the client is, behind a proxy.
//! - `client_budget`: how many GitHub lookups each client may cause.
//! - `routes`: the URL table and the HTML pages.
//! - `names`: owner/repository validation, before anything goes upstream.
//! - `contributor_lists`: the cached, coalesced, revalidated lists.
//! - `github`: the GitHub API's side of the conversation.
//! - `avatars`: the avatar proxy.
//! - `cache`: the bounded LRU cache and request coalescing both of those use.
//! - `rate_limit`: GitHub's quota as last reported.
//! - `upstream_health`: one log line when GitHub goes away, one when it is back.
//! - `upstream`: the one HTTPS client, trusting the compiled-in roots.
//! - `roots`: which roots those are (the bundle plus an optional PEM file).
//! - `error`: every upstream failure as a typed error with a status and text.
//! - `shutdown`: SIGTERM handling, which PID 1 in a container needs.
//! - `healthcheck`: the tiny client behind Docker's `HEALTHCHECK`.
//! - `doctor`: a report on what the process finds around itself.

pub mod avatars;
pub mod cache;
pub mod client_budget;
pub mod config;
pub mod contributor_lists;
pub mod doctor;
pub mod error;
pub mod github;
pub mod healthcheck;
pub mod names;
pub mod rate_limit;
pub mod roots;
pub mod routes;
pub mod server;
pub mod shutdown;
pub mod timed_stream;
pub mod trusted_proxies;
pub mod upstream;
pub mod upstream_health;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::avatars::Avatars;
use crate::client_budget::ClientBudget;
use crate::config::Config;
use crate::contributor_lists::ContributorLists;
use crate::github::GitHub;
use crate::upstream::Upstream;

/// The application's shared state: configuration and the upstream clients
/// with their caches. One per process, shared by every connection.
pub struct App {
    pub config: Config,
    pub github: GitHub,
    pub lists: ContributorLists,
    pub avatars: Avatars,
    /// Each client's allowance of lookups that reach GitHub.
    pub budget: ClientBudget,
    /// How many roots the TLS client trusts, bundled plus extra.
    pub root_count: usize,
    /// Where those roots came from, in words.
    pub roots_description: String,
}

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    Roots(roots::RootsError),
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Roots(e) => write!(f, "{e}"),
            StartError::Bind { addr, source } if source.kind() == std::io::ErrorKind::AddrInUse => {
                write!(
                    f,
                    "cannot listen on {addr}: the port is already in use (set PORT to another one)"
                )
            }
            StartError::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
        }
    }
}

impl std::error::Error for StartError {}

impl App {
    /// Builds the clients: the bundled roots, plus the extra CA file if one
    /// is configured. A bad CA file stops start-up here, naming the file.
    pub fn new(config: Config) -> Result<App, StartError> {
        let roots = roots::load(config.extra_ca_file.as_deref()).map_err(StartError::Roots)?;
        let root_count = roots.store.len();
        let upstream = Upstream::new(roots.store, config.connect_timeout, config.upstream_timeout);
        let github = GitHub::new(
            upstream.clone(),
            config.api_url.clone(),
            config.token.clone(),
        );
        let lists = ContributorLists::new(
            github.clone(),
            config.cache_ttl,
            config.negative_cache_ttl,
            config.cache_entries,
            config.cache_bytes,
        );
        let avatars = Avatars::new(
            upstream,
            config.avatar_url.clone(),
            config.avatar_cache_bytes,
        );
        Ok(App {
            budget: ClientBudget::new(config.client_lookups),
            config,
            github,
            lists,
            avatars,
            root_count,
            roots_description: roots.description,
        })
    }
}

/// A bound, not yet serving server. Binding is separate from serving so
/// that "port in use" is reported before anything else happens, and so
/// that tests can bind port 0 and learn the real port.
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
}

impl Server {
    pub async fn bind(config: Config) -> Result<Server, StartError> {
        let addr = config.listen;
        let app = App::new(config)?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        Ok(Server {
            listener,
            app: Arc::new(app),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let app = &self.app;
        tracing::info!("listening on http://{}", self.local_addr());
        tracing::info!(
            "trusting {} root certificates: {}",
            app.root_count,
            app.roots_description
        );
        tracing::info!(
            "GitHub API at {}, avatars from {}, {}",
            app.config.api_url,
            app.config.avatar_url,
            if app.config.token.is_some() {
                "with a token"
            } else {
                "without a token (60 requests an hour)"
            }
        );
        server::serve(self.listener, self.app, shutdown).await;
    }
}
