//! Routing: which URL does what.
//!
//! The app has six routes, so a `match` on the path is the whole router;
//! a web framework would add weight without adding clarity.
//!
//! | route                   | answer                                        |
//! |-------------------------|-----------------------------------------------|
//! | `GET /`                 | the form (or a redirect from `?owner=&repo=`) |
//! | `GET /{owner}/{repo}`   | the contributors page                         |
//! | `GET /avatars/{id}?s=N` | an avatar image, proxied and cached           |
//! | `GET /healthz`          | 200 "ok", without touching GitHub             |
//! | `GET /status`           | JSON: version, rate-limit quota, cache usage  |
//! | `GET /style.css`        | the stylesheet, compiled into the binary      |
//!
//! Each handler reads as its steps: check the input, get the data, render,
//! answer. A step that ends the request early (a bad name, GitHub down)
//! hands back its answer with `?` (see `responses::Reply`). What the pages
//! show is `pages.rs`; the headers they go out with are `responses.rs`.

// An early answer is a whole `Response`, as large as the `Ok` side and
// moved up once per request; boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

use std::net::IpAddr;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode, Uri};
use serde_json::json;

use crate::App;
use crate::avatars::{parse_id, snap_size};
use crate::contributor_lists::{DEFAULT_MAX, LIMIT_MAX, Shown};
use crate::error::UpstreamError;
use crate::names::{RepoName, split_repo_path};
use crate::page_cache::PagePath;
use crate::pages::{self, ContributorsPage, ErrorPage};
use crate::query::query_value;
use crate::responses::{Body, Kind, NO_STORE, Reply, redirect, respond, text};

/// Browsers may reuse a contributors page briefly; the server's caches do
/// the rest.
const FRESH: &str = "public, max-age=60";

/// Answers one request from `client`. Never fails: every outcome is a
/// response.
pub async fn handle(
    app: &App,
    client: IpAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response<Body> {
    if method != Method::GET && method != Method::HEAD {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD are served\n",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let query = uri.query();
    let reply = match uri.path() {
        "/" => index(query),
        "/healthz" => Ok(text(StatusCode::OK, "ok\n")),
        "/status" => Ok(status(app)),
        "/style.css" => Ok(stylesheet()),
        "/favicon.ico" | "/robots.txt" => Ok(text(StatusCode::NOT_FOUND, "not found\n")),
        path => match (path.strip_prefix("/avatars/"), split_repo_path(path)) {
            (Some(id), _) => avatar(app, id, query, headers).await,
            (None, Some((owner, repo))) => contributors(app, client, owner, repo, query).await,
            (None, None) => Ok(error_page(
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address. Pages look like /owner/repository.",
                None,
                ("", ""),
            )),
        },
    };
    reply.unwrap_or_else(|early| early)
}

/// The home page, or the redirect the old app's form relied on:
/// `/?owner=o&repo=r` becomes `/o/r`.
fn index(query: Option<&str>) -> Reply {
    let (Some(owner), Some(repo)) = (query_value(query, "owner"), query_value(query, "repo"))
    else {
        // The empty form, rendered once for the life of the process.
        let html = pages::index()?;
        return Ok(respond(
            StatusCode::OK,
            Kind::Html,
            "public, max-age=300",
            html,
        ));
    };
    let name = repo_name(owner.trim(), repo.trim())?;
    // Only a validated name goes into the Location header.
    Ok(redirect(&format!("/{name}")))
}

/// `/{owner}/{repo}[?max=N]`: check the names and `max`, get the list, and
/// answer with its page.
async fn contributors(
    app: &App,
    client: IpAddr,
    owner: &str,
    repo: &str,
    query: Option<&str>,
) -> Reply {
    let name = repo_name(owner, repo)?;
    let max = max(query).map_err(|why| bad_request(&why, (owner, repo)))?;
    let shown = app
        .lists
        .get(&name, max, || spend_lookup(app, client))
        .await
        .map_err(|e| upstream_error_page(&e, (owner, repo)))?;
    if shown.stale_because.is_some() {
        // Its note ("GitHub is unavailable") must not outlive the outage:
        // rendered for this answer only, and kept by nobody.
        let html = pages::render(&ContributorsPage::new(&name, max, &shown))?;
        return Ok(respond(StatusCode::OK, Kind::Html, NO_STORE, html));
    }
    let html = fresh_page(app, &name, max, &shown)?;
    Ok(respond(StatusCode::OK, Kind::Html, FRESH, html))
}

/// The page of a fresh list: the one rendered from this list before, or a
/// new rendering, kept for the next visitor.
fn fresh_page(
    app: &App,
    name: &RepoName,
    max: usize,
    shown: &Shown,
) -> Result<Bytes, Response<Body>> {
    let path = PagePath::new(name, max);
    if let Some(html) = app.pages.get(&path, &shown.list) {
        return Ok(html);
    }
    let html = pages::render(&ContributorsPage::new(name, max, shown))?;
    app.pages.insert(path, &shown.list, html.clone());
    Ok(html)
}

/// `?max=N`: how many contributors to show, 1 to `LIMIT_MAX`;
/// `DEFAULT_MAX` when absent.
fn max(query: Option<&str>) -> Result<usize, String> {
    let Some(text) = query_value(query, "max") else {
        return Ok(DEFAULT_MAX);
    };
    match text.parse::<usize>() {
        Ok(n) if (1..=LIMIT_MAX).contains(&n) => Ok(n),
        _ => Err(format!("max must be a whole number from 1 to {LIMIT_MAX}")),
    }
}

/// `/avatars/{id}?s=N`: check the id, snap the size, get the image, and
/// answer with it, or with 304 when the browser's copy is current.
async fn avatar(app: &App, id: &str, query: Option<&str>, headers: &HeaderMap) -> Reply {
    let id = parse_id(id)
        .ok_or_else(|| text(StatusCode::BAD_REQUEST, "an avatar id is digits only\n"))?;
    let size = snap_size(query_value(query, "s").as_deref());
    let avatar = app
        .avatars
        .get(id, size)
        .await
        .map_err(|e| text(e.status(), format!("{e}\n")))?;
    let current = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == avatar.etag || t.trim() == "*")
        });
    let (status, body) = if current {
        (StatusCode::NOT_MODIFIED, Bytes::new())
    } else {
        (StatusCode::OK, avatar.body.clone())
    };
    let kind = Kind::Image(avatar.content_type);
    let mut response = respond(status, kind, "public, max-age=86400", body);
    let etag = HeaderValue::from_str(&avatar.etag).expect("a hex etag is a valid header");
    response.headers_mut().insert(header::ETAG, etag);
    Ok(response)
}

fn status(app: &App) -> Response<Body> {
    let (list_entries, list_bytes) = app.lists.usage();
    let (page_entries, page_bytes) = app.pages.usage();
    let (avatar_entries, avatar_bytes) = app.avatars.usage();
    let body = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "api_url": app.config.api_url.as_str(),
        "rate_limit": app.github.rate_limit().latest(),
        "rate_limited_until": app.github.rate_limit().exhausted_until(),
        "cache": {
            "lists": { "entries": list_entries, "bytes": list_bytes },
            "pages": { "entries": page_entries, "bytes": page_bytes },
            "avatars": { "entries": avatar_entries, "bytes": avatar_bytes },
        },
        "trusted_roots": { "count": app.root_count, "source": app.roots_description },
    });
    respond(StatusCode::OK, Kind::Json, NO_STORE, body.to_string())
}

/// Compiled in and served as is: no copy per request.
fn stylesheet() -> Response<Body> {
    respond(
        StatusCode::OK,
        Kind::Css,
        "public, max-age=3600",
        pages::STYLESHEET,
    )
}

/// A checked repository name, or the 400 page saying what is wrong with it.
fn repo_name(owner: &str, repo: &str) -> Result<RepoName, Response<Body>> {
    RepoName::new(owner, repo).map_err(|e| bad_request(&format!("{e}."), (owner, repo)))
}

/// Takes one GitHub lookup from `client`'s budget: only a list that is not
/// in memory, and not being fetched already, costs one.
fn spend_lookup(app: &App, client: IpAddr) -> Result<(), UpstreamError> {
    app.budget
        .spend(client)
        .map_err(|wait| UpstreamError::OverBudget {
            // Whole seconds, rounded up: never "try again in 0 s".
            retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        })
}

fn upstream_error_page(error: &UpstreamError, form: (&str, &str)) -> Response<Body> {
    let message = match error {
        UpstreamError::NotFound { .. } => {
            format!("{error}. Check the spelling; private repositories are not shown.")
        }
        _ => format!("{error}."),
    };
    let mut response = error_page(error.status(), error.title(), &message, error.hint(), form);
    if let UpstreamError::OverBudget { retry_after } = error {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
    }
    response
}

fn bad_request(message: &str, form: (&str, &str)) -> Response<Body> {
    error_page(
        StatusCode::BAD_REQUEST,
        "Not a repository name",
        message,
        Some(
            "Owners are letters, digits and single hyphens; repositories may also use '.' and '_'.",
        ),
        form,
    )
}

/// An error page that echoes what the visitor typed into the form.
fn error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    hint: Option<&str>,
    (owner, repo): (&str, &str),
) -> Response<Body> {
    let page = ErrorPage {
        owner,
        repo,
        title,
        message,
        hint,
        status: status.as_u16(),
    };
    match pages::render(&page) {
        Ok(html) => respond(status, Kind::Html, NO_STORE, html),
        Err(failed) => failed.into(),
    }
}
