//! Routing: records each request, then hands it to the API or avatar side.
//!
//! Recording comes first, before any fault is applied, so a test sees every
//! request that reached the fake — including ones it then stalled or refused —
//! with all its headers (`Authorization`, `User-Agent`, `Accept`,
//! `X-GitHub-Api-Version`, …) for checking what the app sends.

use std::convert::Infallible;
use std::net::SocketAddr;

use hyper::body::Incoming;
use hyper::{Method, Request, Response};

use crate::body::Body;
use crate::responses::RequestInfo;
use crate::state::{MAX_RECORDED, Recorded, Shared, State};
use crate::stats::{self, ConnectionUse};
use crate::{api, avatars};

/// Where a path leads.
enum Route<'a> {
    Contributors {
        owner: &'a str,
        repo: &'a str,
    },
    /// `GET /users/{owner}/repos`: an owner's repositories.
    OwnerRepos {
        owner: &'a str,
    },
    Avatar {
        id: &'a str,
    },
    /// Any other API path (or method): GitHub's 404.
    Other,
}

impl<'a> Route<'a> {
    fn parse(method: &Method, path: &'a str) -> Self {
        if method != Method::GET && method != Method::HEAD {
            return Route::Other;
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match segments.as_slice() {
            ["repos", owner, repo, "contributors"] if !owner.is_empty() && !repo.is_empty() => {
                Route::Contributors { owner, repo }
            }
            ["users", owner, "repos"] if !owner.is_empty() => Route::OwnerRepos { owner },
            ["u", id] => Route::Avatar { id },
            _ => Route::Other,
        }
    }
}

/// hyper's entry point for every request on every connection.
/// `connection` is what the request's connection has carried so far.
pub(crate) async fn handle(
    shared: &Shared,
    peer: SocketAddr,
    connection: &ConnectionUse,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    // The fake's own stats: neither recorded nor counted.
    if request.uri().path() == stats::PATH {
        return Ok(stats::answer(shared, connection));
    }
    let recorded = record(&request);
    let path = recorded.path.clone();
    let number = {
        let mut state = shared.lock();
        connection.note_other(&mut state);
        state.request_count += 1;
        if path.starts_with("/repos/") {
            state.contributors_requests += 1;
            if api::is_first_page(recorded.query.as_deref()) {
                state.contributors_lists += 1;
            }
        } else if path.starts_with("/u/") {
            state.avatar_requests += 1;
        }
        if state.recorded.len() >= MAX_RECORDED {
            state.recorded.pop_front();
        }
        let info_number = state.request_count;
        state.recorded.push_back(recorded);
        info_number
    };
    let info = RequestInfo {
        query: request.uri().query().map(str::to_owned),
        if_none_match: header(&request, "if-none-match"),
        authenticated: request.headers().contains_key("authorization"),
        client_ip: peer.ip().to_string(),
        number,
        path,
    };
    let method = request.method().clone();
    // The request body is never needed: every route is a GET.
    drop(request);
    let route = Route::parse(&method, &info.path);
    let _running = match route {
        Route::Contributors { .. } => Some(Running::start(shared, Counted::Contributors)),
        Route::Avatar { .. } => Some(Running::start(shared, Counted::Avatars)),
        Route::OwnerRepos { .. } | Route::Other => None,
    };
    // A far-away GitHub: every answer a round trip later.
    let latency = shared.lock().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }

    let response = match route {
        Route::Contributors { owner, repo } => api::contributors(shared, &info, owner, repo).await,
        Route::OwnerRepos { owner } => api::owner_repos(shared, &info, owner),
        Route::Avatar { id } => avatars::avatar(shared, &info, id).await,
        Route::Other => api::not_found(shared, &info),
    };
    Ok(response)
}

/// The requests whose number in flight is counted.
#[derive(Clone, Copy)]
enum Counted {
    Contributors,
    Avatars,
}

/// A request being answered, counted as such until dropped (answered, or
/// dropped unanswered), for the most seen at once.
struct Running<'a>(&'a Shared, Counted);

impl Counted {
    /// The counters: running now, and the peak.
    fn counters(self, state: &mut State) -> (&mut usize, &mut usize) {
        match self {
            Counted::Contributors => (
                &mut state.contributors_running,
                &mut state.contributors_peak,
            ),
            Counted::Avatars => (&mut state.avatars_running, &mut state.avatars_peak),
        }
    }
}

impl<'a> Running<'a> {
    fn start(shared: &'a Shared, what: Counted) -> Running<'a> {
        let mut state = shared.lock();
        let (running, peak) = what.counters(&mut state);
        *running += 1;
        *peak = (*peak).max(*running);
        Running(shared, what)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        let (running, _) = self.1.counters(&mut state);
        *running = running.saturating_sub(1);
    }
}

/// A header's value as text (invalid UTF-8 shown lossily).
fn header(request: &Request<Incoming>, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The log entry for a request.
fn record(request: &Request<Incoming>) -> Recorded {
    Recorded {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().map(str::to_owned),
        headers: request
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        version: format!("{:?}", request.version()),
    }
}
