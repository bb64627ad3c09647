//! The guards: what keeps any one client from holding more than its share.
//!
//! - `timed_stream`: a deadline on each phase of a connection, so a slot
//!   is never held by doing nothing;
//! - `client_budget`: how many lookups that reach GitHub each client may
//!   cause a minute;
//! - `connections`: how many connections one client may hold, and which
//!   idle one a full server closes to make room;
//! - `trusted_proxies`: who the client is, behind a reverse proxy.
//!
//! Each stands alone: it imports nothing else from this crate. The server
//! and the routes apply them.

pub mod client_budget;
pub mod connections;
pub mod timed_stream;
pub mod trusted_proxies;
