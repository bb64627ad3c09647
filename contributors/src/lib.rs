//! contributors: a web page listing a GitHub repository's contributors with
//! their avatars, built to ship as one static binary in an empty image.
//!
//! A tour of the modules, in the order a request meets them:
//!
//! - `config`: the settings (flags and environment), checked at start-up.
//! - `app`: the shared state built from them: clients and caches.
//! - `server`: accepts connections, caps them, times them out, drains on stop.
//! - `routes`: the URL table and the HTML pages.
//! - `query`: the query string's values, percent-decoded.
//! - `names`: owner/repository validation, before anything goes upstream.
//! - `contributor_lists`: the cached, coalesced, revalidated lists.
//! - `github`: the GitHub API's side of the conversation.
//! - `avatars`: the avatar proxy.
//! - `cache`: the bounded LRU cache and request coalescing both of those use.
//! - `rate_limit`: GitHub's quota as last reported.
//! - `upstream`: the one HTTPS client, trusting the compiled-in roots.
//! - `connector`: its TCP connections, direct or tunnelled through a proxy.
//! - `proxy`: `HTTPS_PROXY` and `NO_PROXY`: which hosts go through the proxy.
//! - `roots`: which roots those are (the bundle plus an optional PEM file).
//! - `error`: every upstream failure as a typed error with a status and text.
//! - `clock`: Unix seconds and `HH:MM` UTC, for the notes on the pages.
//! - `shutdown`: SIGTERM handling, which PID 1 in a container needs.
//! - `healthcheck`: the tiny client behind Docker's `HEALTHCHECK`.
//! - `doctor`: a report on what the process finds around itself.

pub mod app;
pub mod avatars;
pub mod cache;
pub mod clock;
pub mod config;
pub mod connector;
pub mod contributor_lists;
pub mod doctor;
pub mod error;
pub mod github;
pub mod healthcheck;
pub mod names;
pub mod proxy;
pub mod query;
pub mod rate_limit;
pub mod roots;
pub mod routes;
pub mod server;
pub mod shutdown;
pub mod upstream;

pub use app::App;
pub use server::{Server, StartError};
