//! The application's shared state, built once at start-up from the
//! configuration: the HTTPS client, the GitHub client, the caches in front
//! of them, and the answers that never change (the form, the stylesheet,
//! the icon),
//! made ready to send the first time they are asked for. Every connection
//! gets a shared reference to the one `App`.

use std::sync::OnceLock;

use crate::config::Config;
use crate::github::GitHub;
use crate::github::contributor_lists::ContributorLists;
use crate::github::owner_repos::OwnerRepos;
use crate::github::roots::{self, RootsError};
use crate::github::upstream::Upstream;
use crate::guards::client_budget::ClientBudget;
use crate::http::representation::Representation;
use crate::http::responses::Kind;
use crate::ops::metrics::Gauges;
use crate::views::avatars::Avatars;
use crate::views::page_cache::PageCache;
use crate::views::pages::{self, RenderFailed};
use crate::views::seen_ids::SeenIds;
use crate::views::wall::{self, Walls};

/// How long browsers and shared caches keep a file compiled into the
/// binary (the stylesheet, the icon): an hour, then they check its `ETag`,
/// so a new release shows within the hour.
const COMPILED_IN: &str = "public, max-age=3600";

/// Configuration and the upstream clients with their caches.
pub struct App {
    pub config: Config,
    pub github: GitHub,
    pub lists: ContributorLists,
    /// Owners' repositories, for walls across them (`?owner=`).
    pub owners: OwnerRepos,
    /// Pages rendered from those lists, served again while the list holds.
    pub pages: PageCache,
    pub avatars: Avatars,
    /// The ids the lists shown had: the only avatars `/avatars/{id}` fetches.
    pub seen: SeenIds,
    /// Walls being made, and the bound on the memory walls hold.
    pub walls: Walls,
    /// The home page's empty form, the stylesheet and the icon, rendered,
    /// gzipped and tagged once, on first use (see [`App::index`]).
    index: OnceLock<Result<Representation, RenderFailed>>,
    stylesheet: OnceLock<Representation>,
    favicon: OnceLock<Representation>,
    /// Each client's allowance of lookups that reach GitHub's API.
    pub budget: ClientBudget,
    /// Each client's allowance of avatars fetched from the avatar host.
    pub avatar_budget: ClientBudget,
    /// How many roots the TLS client trusts, bundled plus extra.
    pub root_count: usize,
    /// Where those roots came from, in words.
    pub roots_description: String,
}

impl App {
    /// Builds the clients: the bundled roots, plus the extra CA file if one
    /// is configured. A bad CA file stops start-up here, naming the file.
    pub fn new(config: Config) -> Result<App, RootsError> {
        let roots = roots::load(config.extra_ca_file.as_deref())?;
        let root_count = roots.store.len();
        let upstream = Upstream::new(
            roots.store,
            config.proxy.clone(),
            config.connect_timeout,
            config.upstream_timeout,
        );
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
        let owners = OwnerRepos::new(
            github.clone(),
            config.cache_ttl,
            config.negative_cache_ttl,
            config.cache_entries,
        );
        // A page is one rendering of one list: the same bounds fit both.
        let pages = PageCache::new(config.cache_entries, config.cache_bytes);
        let avatars = Avatars::new(
            upstream,
            config.avatar_url.clone(),
            config.avatar_cache_bytes,
            config.negative_cache_ttl,
        );
        // Walls in the page cache hold their bytes too: room for all of
        // it, and for four of the largest walls on their way to clients.
        let walls = Walls::new(config.cache_bytes + 4 * wall::MAX_SVG_BYTES);
        Ok(App {
            budget: ClientBudget::new(config.client_lookups),
            avatar_budget: ClientBudget::new(config.client_avatars),
            config,
            github,
            lists,
            owners,
            pages,
            avatars,
            seen: SeenIds::new(),
            walls,
            index: OnceLock::new(),
            stylesheet: OnceLock::new(),
            favicon: OnceLock::new(),
            root_count,
            roots_description: roots.description,
        })
    }

    /// The home page's empty form, ready to send. Made on first use, not at
    /// start: gzip's set-up is most of what start-up would cost (BENCHMARKS.md,
    /// "exec to the first 200"), and a replica that only ever answers
    /// health checks and cached pages never pays it. Rendering it cannot fail
    /// in practice; if it did, `/` would answer 500.
    pub fn index(&self) -> Result<&Representation, RenderFailed> {
        let made = self.index.get_or_init(|| {
            pages::index().map(|html| Representation::new(html, Kind::Html, "public, max-age=300"))
        });
        made.as_ref().map_err(|&failed| failed)
    }

    /// The stylesheet, compiled in, made ready to send on first use.
    pub fn stylesheet(&self) -> &Representation {
        self.stylesheet
            .get_or_init(|| Representation::new(pages::STYLESHEET, Kind::Css, COMPILED_IN))
    }

    /// The pages' icon, compiled in, made ready to send on first use.
    pub fn favicon(&self) -> &Representation {
        self.favicon
            .get_or_init(|| Representation::new(pages::FAVICON, Kind::Svg, COMPILED_IN))
    }

    /// What `/metrics` reads at the moment it is asked for: each cache's
    /// entries and bytes, GitHub's quota as last reported, and the sizes of
    /// the other bounded sets (ids seen, avatar failures, wall bytes).
    pub fn gauges(&self) -> Gauges {
        let quota = self.github.rate_limit().latest();
        Gauges {
            caches: [self.lists.usage(), self.pages.usage(), self.avatars.usage()],
            quota: quota.map(|quota| (quota.remaining, quota.reset)),
            seen_ids: self.seen.len(),
            avatar_failures: self.avatars.failures(),
            wall_bytes: self.walls.bytes_held(),
        }
    }
}
