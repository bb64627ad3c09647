//! The app's integration tests, grouped by concern: one file each, all in
//! one test binary. Most start the app in-process against a fake GitHub
//! over real TLS (`common`); a few run the built binary.
//!
//! Why one binary: each file under `tests/` is a crate of its own, so with
//! one binary per file the shared helpers, and the generic code of hyper,
//! tokio and rustls they use, were compiled and linked once per file. As
//! modules of one crate they are compiled once, and the test runner spreads
//! all the tests over the cores at once instead of one binary after another.
//! Run one concern with a filter: `cargo test --test app wall::`.
//!
//! `/metrics` is the exception (`tests/metrics.rs`): its counters are
//! process-wide, so it needs a process in which no other test runs.

#[path = "../common/mod.rs"]
mod common;

mod across;
mod api_json;
mod avatars;
mod cli;
mod compression;
mod efficiency;
mod filters;
mod hardening;
mod lists;
mod log;
mod options;
mod pages;
mod proxy;
mod quota;
mod server_limits;
mod shutdown;
mod upstream_faults;
mod wall;
mod wall_looks;
