//! contributors: a web page listing a GitHub repository's contributors with
//! their avatars, built to ship as one static binary in an empty image.
//!
//! **The path of a page**, in five files (plus its template). Read these
//! first; everything else is a detour you can take later.
//!
//! 1. `main.rs`: reads the settings (`config.rs`), builds the shared state
//!    (`app.rs`: the clients and their caches) and starts the server.
//! 2. `server.rs`: accepts connections, caps and times them, and hands
//!    each request to the routes; on SIGTERM, finishes what it started.
//! 3. `routes.rs`: the URL table. `GET /rust-lang/rust` checks the names,
//!    then asks the GitHub layer for the list.
//! 4. `github/contributor_lists.rs` → `github/mod.rs`: the list from
//!    memory, or from GitHub's API, page by page, over TLS with the roots
//!    compiled into the binary.
//! 5. `views/pages.rs` with `templates/contributors.html`: the list as
//!    HTML, escaped by askama.
//!
//! **The layers**, one folder each. An arrow points only down this list, so
//! no module imports one that imports it back:
//!
//! - top (`main`, `config`, `app`, `server`, `routes`, `doctor`, `log`):
//!   wiring; `doctor`, a report on what the process finds around itself;
//!   and `log`, how a log line is spelt and when it is written;
//! - `views/`: the list as a page, an SVG wall and JSON; the avatar proxy;
//!   the cache of what was rendered;
//! - `github/`: the API client, its lists, quota, errors, TLS and proxy;
//! - `guards/`: deadlines on connections, budgets per client, the client's
//!   address behind a proxy;
//! - `cache/`: a bounded LRU map and request coalescing;
//! - `http/`: response headers, gzip and `ETag`s, the query string, dates;
//! - `ops/`: metrics, the health check, signal handling.
//!
//! Each folder's `mod.rs` says what its layer does and what it may use.

pub mod app;
pub mod cache;
pub mod config;
pub mod doctor;
pub mod github;
pub mod guards;
pub mod http;
pub mod log;
pub mod ops;
pub mod routes;
pub mod server;
pub mod views;

pub use app::App;
pub use server::Server;
