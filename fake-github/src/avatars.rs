//! The avatar side: `GET /u/{id}?s=SIZE&v=4`, as avatars.githubusercontent.com.
//!
//! Every numeric id gets an avatar (GitHub serves a default for unknown
//! users), a square PNG of one colour derived from the id, so a screenshot of
//! the app shows which avatar went where. Sizes follow GitHub: `s` (or
//! `size`) from 1 to 460, 460 when absent or unreadable.

use hyper::{Response, StatusCode};

use crate::body::Body;
use crate::faults::{self, Plan};
use crate::png::{MAX_SIDE, avatar_colour, solid_png};
use crate::responses::{self, PNG, RequestInfo, Target, set_header};
use crate::state::Shared;
use crate::util::{etag_hash, if_none_match};

/// Answers `GET /u/{id}`.
pub(crate) async fn avatar(shared: &Shared, info: &RequestInfo, id: &str) -> Response<Body> {
    // Only digits: `/u/octocat` is a 404 on GitHub's avatar host too. Any
    // run of digits is served, even one too long for a u64.
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return responses::not_found();
    }
    let id = id.parse::<u64>().unwrap_or(u64::MAX);
    let (behaviour, limit) = {
        let state = shared.lock();
        let behaviour = state.avatar_behaviours.get(&id).cloned();
        (behaviour.unwrap_or_default(), state.rate.limit)
    };
    match faults::plan(behaviour, Target::Avatar, &shared.base_url, limit).await {
        Plan::Normal => image(info, id),
        Plan::Reshape(behaviour) => faults::reshape(image(info, id), &behaviour),
        Plan::Answer(response) => response,
    }
}

/// The normal answer: the PNG, or 304 if the client has it already.
fn image(info: &RequestInfo, id: u64) -> Response<Body> {
    let png = solid_png(size(info), size(info), avatar_colour(id));
    let etag = format!("\"{}\"", etag_hash(&png));
    let mut response = match &info.if_none_match {
        Some(header) if if_none_match(header, &etag) => responses::empty(StatusCode::NOT_MODIFIED),
        _ => responses::with_body(StatusCode::OK, PNG, png),
    };
    set_header(&mut response, "etag", &etag);
    set_header(&mut response, "cache-control", "max-age=300");
    // GitHub's avatar host allows any origin, so pages may draw avatars on
    // a canvas; browser tests rely on the same.
    set_header(&mut response, "access-control-allow-origin", "*");
    response
}

/// The requested side, clamped to 1..=460.
fn size(info: &RequestInfo) -> u32 {
    let requested = info
        .query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "s" || *name == "size")
        .and_then(|(_, value)| value.parse::<u32>().ok());
    requested.unwrap_or(MAX_SIDE).clamp(1, MAX_SIDE)
}
