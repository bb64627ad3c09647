//! Routing: which URL does what.
//!
//! The app has nine routes, so a `match` on the path is the whole router
//! (`Route::of`); a web framework would add weight without adding clarity.
//!
//! | route                            | answer                                 |
//! |----------------------------------|----------------------------------------|
//! | `GET /`                          | the form (or a redirect from `?owner=&repo=`) |
//! | `GET /{owner}/{repo}`            | the contributors page                  |
//! | `GET /{owner}/{repo}/wall.svg`   | the avatars as one SVG image (`wall.rs`) |
//! | `GET /{owner}/{repo}/contributors.json` | the list as JSON (`contributors_json.rs`) |
//! | `GET /avatars/{id}?s=N`          | an avatar image, proxied and cached    |
//! | `GET /healthz`                   | 200 "ok", without touching GitHub      |
//! | `GET /status`                    | JSON: version, proxy, rate limit, cache usage |
//! | `GET /metrics`                   | counters for Prometheus (`metrics.rs`) |
//! | `GET /style.css`                 | the stylesheet, compiled into the binary |
//!
//! HEAD gets GET's answer without its body, on every route.
//!
//! Each handler reads as its steps: check the input, get the data, render,
//! answer. A step that ends the request early (a bad name, GitHub down)
//! hands back its answer with `?` (see `responses::Reply`). What the pages
//! show is `pages.rs`; the headers they go out with are `responses.rs`.
//! The answers a browser may keep (the form, the stylesheet, a fresh page,
//! wall or JSON list, an avatar) are `Representation`s: sent gzipped when the request accepts
//! it, with an `ETag`, and as a 304 when the browser's copy is current.

// An early answer is a whole `Response`, as large as the `Ok` side and
// moved up once per request; boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode, Uri};
use serde_json::json;

use crate::App;
use crate::avatars::{parse_id, snap_size};
use crate::contributor_lists::{DEFAULT_MAX, LIMIT_MAX, List, Selection, Shown};
use crate::contributors_json;
use crate::error::UpstreamError;
use crate::metrics::METRICS;
use crate::names::{RepoName, split_repo_file, split_repo_path};
use crate::page_cache::PageKey;
use crate::pages::{self, ContributorsPage, ErrorPage};
use crate::query::{self, query_value};
use crate::representation::Representation;
use crate::responses::{Body, Kind, NO_STORE, Reply, redirect, respond, text, without_body};
use crate::wall::{self, Layout};

/// Which route a path is, with the parts of the path the handler needs.
/// Its name is what `/metrics` counts requests under: a short, fixed list,
/// whatever paths visitors make up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    Index,
    Contributors(&'a str, &'a str),
    Wall(&'a str, &'a str),
    Json(&'a str, &'a str),
    Avatar(&'a str),
    Healthz,
    Status,
    Metrics,
    Stylesheet,
    /// A file browsers and crawlers ask for on their own: a short 404.
    Unserved,
    NotFound,
}

impl<'a> Route<'a> {
    /// Every route's name, in the order of [`Route::index`].
    pub const NAMES: [&'static str; 10] = [
        "index",
        "contributors",
        "wall",
        "json",
        "avatar",
        "healthz",
        "status",
        "metrics",
        "stylesheet",
        "not_found",
    ];

    /// The routing table.
    pub fn of(path: &'a str) -> Route<'a> {
        match path {
            "/" => Route::Index,
            "/healthz" => Route::Healthz,
            "/status" => Route::Status,
            "/metrics" => Route::Metrics,
            "/style.css" => Route::Stylesheet,
            "/favicon.ico" | "/robots.txt" => Route::Unserved,
            path => match (path.strip_prefix("/avatars/"), split_repo_path(path)) {
                (Some(id), _) => Route::Avatar(id),
                (None, Some((owner, repo))) => Route::Contributors(owner, repo),
                (None, None) => match split_repo_file(path) {
                    Some((owner, repo, "wall.svg")) => Route::Wall(owner, repo),
                    Some((owner, repo, "contributors.json")) => Route::Json(owner, repo),
                    _ => Route::NotFound,
                },
            },
        }
    }

    /// The route's place in [`Route::NAMES`].
    pub fn index(&self) -> usize {
        match self {
            Route::Index => 0,
            Route::Contributors(..) => 1,
            Route::Wall(..) => 2,
            Route::Json(..) => 3,
            Route::Avatar(_) => 4,
            Route::Healthz => 5,
            Route::Status => 6,
            Route::Metrics => 7,
            Route::Stylesheet => 8,
            Route::Unserved | Route::NotFound => 9,
        }
    }
}

/// Answers one request from `client` for `route` (`Route::of` its path).
/// Never fails: every outcome is a response.
pub async fn handle(
    app: &App,
    client: IpAddr,
    method: &Method,
    route: Route<'_>,
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
    let reply = match route {
        Route::Index => index(app, query, headers),
        Route::Healthz => Ok(text(StatusCode::OK, "ok\n")),
        Route::Status => Ok(status(app)),
        Route::Metrics => Ok(respond(
            StatusCode::OK,
            Kind::Metrics,
            NO_STORE,
            METRICS.render(app),
        )),
        Route::Stylesheet => Ok(app.stylesheet().respond(headers)),
        Route::Avatar(id) => avatar(app, id, query, headers).await,
        Route::Contributors(owner, repo) => {
            contributors(app, client, owner, repo, query, headers).await
        }
        Route::Wall(owner, repo) => wall_svg(app, client, owner, repo, query, headers).await,
        Route::Json(owner, repo) => json(app, client, owner, repo, query, headers).await,
        Route::Unserved => Ok(text(StatusCode::NOT_FOUND, "not found\n")),
        Route::NotFound => not_found(),
    };
    let response = reply.unwrap_or_else(|early| early);
    if method == Method::HEAD {
        return without_body(response);
    }
    response
}

fn not_found() -> Reply {
    Ok(error_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. Pages look like /owner/repository.",
        None,
        ("", ""),
    ))
}

/// The home page, or the redirect the old app's form relied on:
/// `/?owner=o&repo=r` becomes `/o/r`.
fn index(app: &App, query: Option<&str>, headers: &HeaderMap) -> Reply {
    let (Some(owner), Some(repo)) = (query_value(query, "owner"), query_value(query, "repo"))
    else {
        // The empty form, rendered once for the life of the process.
        let form = app.index()?;
        return Ok(form.respond(headers));
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
    headers: &HeaderMap,
) -> Reply {
    let name = repo_name(owner, repo)?;
    let max = max(query).map_err(|why| bad_request(&why, (owner, repo)))?;
    let shown = app
        .lists
        .get(&name, Selection::accounts(max), || {
            spend_lookup(app, client)
        })
        .await
        .map_err(|e| upstream_error_page(&e, (owner, repo)))?;
    if shown.stale_because.is_some() {
        let site = app.config.public_url.as_deref();
        // Its note ("GitHub is unavailable") must not outlive the outage:
        // rendered for this answer only, and kept by nobody. So it goes out
        // as it is: no validator to keep, and no compressing per request,
        // at the moment the server is least sure of its upstream.
        let html = pages::render(&ContributorsPage::new(&name, max, &shown, site))?;
        return Ok(respond(StatusCode::OK, Kind::Html, NO_STORE, html));
    }
    let page = fresh_page(app, &name, max, &shown)?;
    Ok(page.respond(headers))
}

/// The page of a fresh list: the one rendered from this list before, or a
/// new rendering, gzipped and kept for the next visitor.
fn fresh_page(
    app: &App,
    name: &RepoName,
    max: usize,
    shown: &Shown,
) -> Result<Arc<Representation>, Response<Body>> {
    let path = PageKey::new(name, max);
    if let Some(page) = app.pages.get(&path, &shown.list) {
        return Ok(page);
    }
    let html = pages::render(&ContributorsPage::new(
        name,
        max,
        shown,
        app.config.public_url.as_deref(),
    ))?;
    let page = Arc::new(fresh_representation(app, &shown.list, html, Kind::Html));
    app.pages.insert(path, &shown.list, page.clone());
    Ok(page)
}

/// An answer made from a fresh `list`, to be kept in the page cache: shared
/// caches may keep it for what is left of the list's TTL.
fn fresh_representation(
    app: &App,
    list: &List,
    body: impl Into<Bytes>,
    kind: Kind,
) -> Representation {
    Representation::shared(body, kind, app.config.cache_ttl, list.checked_at)
}

/// `?max=N`: how many contributors to show, 1 to `LIMIT_MAX`;
/// `DEFAULT_MAX` when absent.
fn max(query: Option<&str>) -> Result<usize, String> {
    query::number(query, "max", 1..=LIMIT_MAX, DEFAULT_MAX)
}

/// `?max=N&anon=1`: the wall's and the JSON API's list.
fn selection(query: Option<&str>) -> Result<Selection, String> {
    Ok(Selection {
        max: max(query)?,
        anon: query::switch(query, "anon")?,
    })
}

/// `/{owner}/{repo}/wall.svg[?max=N&columns=N&size=N&anon=1]`: check the
/// names and options, get the list, and answer with its wall: the one
/// drawn from this list before, or a new one, kept unless an avatar failed.
/// Every failure is a small SVG saying so, with the matching status.
async fn wall_svg(
    app: &App,
    client: IpAddr,
    owner: &str,
    repo: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Reply {
    let svg_error = |status: StatusCode, title: &str, message: &str| {
        respond(status, Kind::Svg, NO_STORE, wall::message(title, message))
    };
    let name = RepoName::new(owner, repo).map_err(|e| {
        svg_error(
            StatusCode::BAD_REQUEST,
            "Not a repository name",
            &e.to_string(),
        )
    })?;
    let (selection, layout) = wall_options(query)
        .map_err(|why| svg_error(StatusCode::BAD_REQUEST, "Bad option", &why))?;
    let shown = app
        .lists
        .get(&name, selection, || spend_lookup(app, client))
        .await
        .map_err(|e| with_retry_after(&e, svg_error(e.status(), e.title(), &e.to_string())))?;
    let options = [
        selection.max,
        usize::from(selection.anon),
        layout.columns,
        usize::from(layout.size),
    ];
    let path = PageKey::file(&name, "wall.svg", options);
    if shown.stale_because.is_none()
        && let Some(svg) = app.pages.get(&path, &shown.list)
    {
        return Ok(svg.respond(headers));
    }
    let contributors = &shown.list.contributors;
    let pictures = wall::fetch_pictures(&app.avatars, contributors, layout.size).await;
    let svg = wall::render(&name.to_string(), contributors, &pictures.images, layout);
    if shown.stale_because.is_some() || pictures.failed > 0 {
        // Drawn from an old list or with placeholders for failures: sent
        // as it is, and kept by nobody, so the next request tries again.
        return Ok(respond(StatusCode::OK, Kind::Svg, NO_STORE, svg));
    }
    let svg = Arc::new(fresh_representation(app, &shown.list, svg, Kind::Svg));
    app.pages.insert(path, &shown.list, svg.clone());
    Ok(svg.respond(headers))
}

/// The wall's options besides the list's: `columns` (1 to 50) and `size`
/// (1 to 512 pixels, snapped to one of the wall's sizes).
fn wall_options(query: Option<&str>) -> Result<(Selection, Layout), String> {
    let columns = query::number(
        query,
        "columns",
        1..=wall::MAX_COLUMNS,
        wall::DEFAULT_COLUMNS,
    )?;
    let size = query::number(query, "size", 1..=512, wall::DEFAULT_SIZE.into())?;
    let layout = Layout {
        columns,
        size: wall::snap_size(size),
    };
    Ok((selection(query)?, layout))
}

/// `/{owner}/{repo}/contributors.json[?max=N&anon=1]`: the list as JSON,
/// readable from any origin; errors in JSON too, with the same status.
async fn json(
    app: &App,
    client: IpAddr,
    owner: &str,
    repo: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Reply {
    let json_error = |status: StatusCode, title: &str, message: &str| {
        let body = contributors_json::error(status.as_u16(), title, message);
        any_origin(respond(status, Kind::Json, NO_STORE, body))
    };
    let name = RepoName::new(owner, repo).map_err(|e| {
        json_error(
            StatusCode::BAD_REQUEST,
            "Not a repository name",
            &e.to_string(),
        )
    })?;
    let selection =
        selection(query).map_err(|why| json_error(StatusCode::BAD_REQUEST, "Bad option", &why))?;
    let shown = app
        .lists
        .get(&name, selection, || spend_lookup(app, client))
        .await
        .map_err(|e| with_retry_after(&e, json_error(e.status(), e.title(), &e.to_string())))?;
    if shown.stale_because.is_some() {
        let body = contributors_json::render(&name, &shown.list);
        return Ok(any_origin(respond(
            StatusCode::OK,
            Kind::Json,
            NO_STORE,
            body,
        )));
    }
    let options = [selection.max, usize::from(selection.anon), 0, 0];
    let path = PageKey::file(&name, "contributors.json", options);
    let json = app.pages.get(&path, &shown.list).unwrap_or_else(|| {
        let body = contributors_json::render(&name, &shown.list);
        let json = Arc::new(fresh_representation(app, &shown.list, body, Kind::Json));
        app.pages.insert(path, &shown.list, json.clone());
        json
    });
    Ok(any_origin(json.respond(headers)))
}

/// The JSON API may be read by a page on any site: it is public data.
fn any_origin(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
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
    Ok(avatar.image.respond(headers))
}

fn status(app: &App) -> Response<Body> {
    let (list_entries, list_bytes) = app.lists.usage();
    let (page_entries, page_bytes) = app.pages.usage();
    let (avatar_entries, avatar_bytes) = app.avatars.usage();
    let body = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "api_url": app.config.api_url.as_str(),
        // Password masked: `http://user:***@host:port`.
        "proxy": app.config.proxy.server().map(|p| p.to_string()),
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

/// A checked repository name, or the 400 page saying what is wrong with it.
fn repo_name(owner: &str, repo: &str) -> Result<RepoName, Response<Body>> {
    RepoName::new(owner, repo).map_err(|e| bad_request(&format!("{e}."), (owner, repo)))
}

/// Takes one GitHub lookup from `client`'s budget: only a list that is not
/// in memory, and not being fetched already, costs one.
fn spend_lookup(app: &App, client: IpAddr) -> Result<(), UpstreamError> {
    app.budget.spend(client).map_err(|wait| {
        METRICS.over_budget();
        UpstreamError::OverBudget {
            // Whole seconds, rounded up: never "try again in 0 s".
            retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    })
}

fn upstream_error_page(error: &UpstreamError, form: (&str, &str)) -> Response<Body> {
    let message = match error {
        UpstreamError::NotFound { .. } => {
            format!("{error}. Check the spelling; private repositories are not shown.")
        }
        _ => format!("{error}."),
    };
    let page = error_page(error.status(), error.title(), &message, error.hint(), form);
    with_retry_after(error, page)
}

/// A client over its budget is told when to come back (`Retry-After`),
/// whatever the kind of answer: a page, an SVG or JSON.
fn with_retry_after(error: &UpstreamError, mut response: Response<Body>) -> Response<Body> {
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
