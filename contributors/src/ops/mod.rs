//! Operations: what the people who run the service need, beside the pages.
//!
//! - `metrics`: the counters behind `/metrics`;
//! - `healthcheck`: the tiny client behind Docker's `HEALTHCHECK`;
//! - `shutdown`: SIGTERM and SIGINT, which PID 1 in a container must handle.
//!
//! (`doctor`, the report on the process's surroundings, reads the whole
//! configuration, so it sits at the top beside `config.rs`.)
//!
//! Any module may count in `metrics`, so this layer imports nothing else
//! from the crate: what it shows of the app is handed in.

pub mod healthcheck;
pub mod metrics;
pub mod shutdown;
