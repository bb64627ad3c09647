//! contributors: a web page listing a GitHub repository's contributors with
//! their avatars, built to ship as one static binary in an empty image.
//!
//! A tour of the modules, in the order a request meets them. At start-up
//! (`main.rs`):
//!
//! - `config`: the settings (flags and environment), checked once.
//! - `app`: the shared state built from them: the clients and their caches.
//! - `server`: binds the port, accepts connections, caps them, times them
//!   out, drains them on stop; `timed_stream`: the deadline on each phase
//!   of a connection.
//!
//! Then, for a page such as `/rust-lang/rust`:
//!
//! - `routes`: the URL table; each handler reads as a few steps.
//! - `trusted_proxies`: who the client is, behind a proxy, and
//!   `client_budget`: how many lookups that reach GitHub each client may cause.
//! - `query`, `names`: the query string's values, and the owner and
//!   repository checked against GitHub's rules before anything goes upstream.
//! - `contributor_lists`: the cached, coalesced, revalidated lists, with
//!   what they stand on:
//!   - `cache`: the bounded LRU cache and request coalescing;
//!   - `github`: the GitHub API's side of the conversation, `rate_limit`:
//!     its quota as last reported, and `upstream_health`: one log line when
//!     it goes away, one when it is back;
//!   - `upstream`: the one HTTPS client, and `roots`: the roots it trusts
//!     (compiled in, plus an optional PEM file);
//!   - `connector`: its TCP connections, direct or tunnelled through the
//!     proxy that `proxy` (`HTTPS_PROXY`, `NO_PROXY`) says applies;
//!   - `error`: every upstream failure as a typed error with a status and text.
//! - `page_cache`: the pages rendered from those lists, served again while
//!   their list is current; `page_memo`: the last one each thread served,
//!   answered again before any lookup while the caches stand still.
//! - `pages`: the HTML, from askama templates (`clock` writes its times).
//! - `responses`: the headers every answer goes out with, and
//!   `representation`: a cacheable answer made once, gzipped and tagged,
//!   then sent as the request accepts (or as a 304).
//!
//! Beside the page, the same lists in two more forms: `wall`, the avatars
//! as one embeddable SVG (`/{owner}/{repo}/wall.svg`, inlined with
//! `data_uri`), and `contributors_json`, the JSON API
//! (`/{owner}/{repo}/contributors.json`).
//!
//! Then `avatars`, the avatar proxy behind `/avatars/{id}`;
//! `shutdown`, SIGTERM handling, which PID 1 in a container needs;
//! `healthcheck`, the tiny client behind Docker's `HEALTHCHECK`;
//! `metrics`, the counters behind `/metrics`; and `doctor`, a report on
//! what the process finds around itself.

pub mod app;
pub mod avatars;
pub mod cache;
pub mod client_budget;
pub mod clock;
pub mod config;
pub mod connector;
pub mod contributor_lists;
pub mod contributors_json;
pub mod data_uri;
pub mod doctor;
pub mod error;
pub mod github;
pub mod healthcheck;
pub mod metrics;
pub mod names;
pub mod page_cache;
pub mod page_memo;
pub mod pages;
pub mod proxy;
pub mod query;
pub mod rate_limit;
pub mod representation;
pub mod responses;
pub mod roots;
pub mod routes;
pub mod server;
pub mod shutdown;
pub mod timed_stream;
pub mod trusted_proxies;
pub mod upstream;
pub mod upstream_health;
pub mod wall;

pub use app::App;
pub use server::Server;
