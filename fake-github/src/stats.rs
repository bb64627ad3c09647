//! `GET /_fake/stats`: the counters as JSON, for scripts that run the fake
//! as a process (`make bench` counts the app's upstream requests with it).
//!
//! ```json
//! {"requests":6,"contributors_requests":6,"contributors_lists":4,
//!  "avatar_requests":0,"avatars_peak":0,"handshakes":1,"failed_handshakes":0}
//! ```
//!
//! Reading the stats must not change them, so a stats request is neither
//! counted nor recorded, and a connection that has carried nothing but stats
//! requests is left out of `handshakes` (it is the script's connection, not
//! the app's). A connection that later carries a real request counts again.

use std::sync::atomic::{AtomicBool, Ordering};

use hyper::Response;
use hyper::StatusCode;
use serde::Serialize;

use crate::body::Body;
use crate::responses::{self, JSON};
use crate::state::{Shared, State};

/// The path of the stats endpoint. Not a GitHub path, so no clash.
pub(crate) const PATH: &str = "/_fake/stats";

/// What one connection has carried so far. Changed only under the state
/// lock, so the flags and `State::stats_only_connections` agree.
#[derive(Default)]
pub(crate) struct ConnectionUse {
    stats: AtomicBool,
    other: AtomicBool,
}

impl ConnectionUse {
    /// Notes a stats request on this connection (`state` is locked).
    fn note_stats(&self, state: &mut State) {
        if !self.other.load(Ordering::Relaxed) && !self.stats.swap(true, Ordering::Relaxed) {
            state.stats_only_connections += 1;
        }
    }

    /// Notes any other request on this connection (`state` is locked).
    pub(crate) fn note_other(&self, state: &mut State) {
        if !self.other.swap(true, Ordering::Relaxed) && self.stats.load(Ordering::Relaxed) {
            state.stats_only_connections = state.stats_only_connections.saturating_sub(1);
        }
    }
}

/// The counters, as the endpoint shows them.
#[derive(Serialize)]
struct Stats {
    requests: usize,
    contributors_requests: usize,
    /// First pages of a contributor list: one per list fetched, however many
    /// pages it has.
    contributors_lists: usize,
    avatar_requests: usize,
    /// The most avatar requests answered at once.
    avatars_peak: usize,
    handshakes: usize,
    failed_handshakes: usize,
}

/// Answers `GET /_fake/stats`.
pub(crate) fn answer(shared: &Shared, connection: &ConnectionUse) -> Response<Body> {
    let stats = {
        let mut state = shared.lock();
        connection.note_stats(&mut state);
        Stats {
            requests: state.request_count,
            contributors_requests: state.contributors_requests,
            contributors_lists: state.contributors_lists,
            avatar_requests: state.avatar_requests,
            avatars_peak: state.avatars_peak,
            handshakes: state.client_handshakes(),
            failed_handshakes: state.failed_handshakes,
        }
    };
    let body = serde_json::to_vec(&stats).unwrap_or_default();
    let mut response = responses::with_body(StatusCode::OK, JSON, body);
    responses::set_header(&mut response, "cache-control", "no-store");
    response
}
