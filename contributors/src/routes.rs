//! Routing: which URL does what.
//!
//! The app has ten routes, so a `match` on the path is the whole router
//! (`Route::of`); a web framework would add weight without adding clarity.
//!
//! | route                            | answer                                 |
//! |----------------------------------|----------------------------------------|
//! | `GET /`                          | the form (or a redirect from `?owner=&repo=`) |
//! | `GET /{owner}/{repo}`            | the contributors page                  |
//! | `GET /{owner}/{repo}/wall.svg`   | the avatars as one SVG image (`views/wall.rs`) |
//! | `GET /{owner}/{repo}/contributors.json` | the list as JSON (`views/contributors_json.rs`) |
//! | `GET /avatars/{id}?s=N`          | an avatar image, proxied and cached    |
//! | `GET /healthz`                   | 200 "ok", without touching GitHub      |
//! | `GET /status`                    | JSON: version, proxy, rate limit, cache and bound usage |
//! | `GET /metrics`                   | counters for Prometheus (`ops/metrics.rs`) |
//! | `GET /style.css`                 | the stylesheet, compiled into the binary |
//! | `GET /favicon.svg`               | the pages' icon, compiled into the binary |
//!
//! HEAD gets GET's answer without its body, on every route.
//!
//! Each route reads as its steps: check the input, get the data, render,
//! answer. The three list routes (the page, the wall, the JSON list) share
//! them, and differ only in their form (`Form`): how they render the list
//! and say an error. Bad input is answered in the route's own form, and
//! never reaches GitHub.
//!
//! **Now or later.** Getting the data is where a request may wait: for
//! GitHub, or for avatars. Most requests do not: the form, the stylesheet,
//! the icon, and every list or avatar seen before are in memory. So
//! `answer` makes what it can at once (`Answer::Now`), without an `await`,
//! and hands back the rest as a `Wait`, which owns what was checked so far
//! and finishes after the wait (`Wait::finish`). Answering at once lets the server drop
//! the request before hyper reads on (see `server.rs`), and keeps the
//! large futures of the waits out of the common case.
//!
//! What the pages show is `pages.rs`; the headers they go out with are
//! `responses.rs`. The answers a browser may keep (the form, the
//! stylesheet, the icon, a fresh page, wall or JSON list, an avatar) are
//! `Representation`s: sent gzipped when the request accepts it, with an
//! `ETag`, and as a 304 when the browser's copy is current.

// A wait, or an early answer, is as large as the other side of its
// `Result` and moved up once per request; boxing it would only add an
// allocation.
#![allow(clippy::result_large_err)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode, Uri};
use serde_json::json;

use crate::app::App;
use crate::github::contributor_lists::{DEFAULT_MAX, LIMIT_MAX, Selection, Shown};
use crate::github::error::UpstreamError;
use crate::github::names::{NameError, RepoName, split_repo_file, split_repo_path};
use crate::http::query::{self, query_value};
use crate::http::representation::Representation;
use crate::http::responses::{Body, Kind, NO_STORE, Reply, redirect, respond, text, without_body};
use crate::ops::metrics::{self, METRICS};
use crate::views::avatars::{Fetched, parse_id, snap_size};
use crate::views::contributors_json;
use crate::views::page_cache::PageKey;
use crate::views::pages::{self, ContributorsPage, ErrorPage};
use crate::views::wall::{self, Layout};

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
    Favicon,
    /// A file browsers and crawlers ask for on their own: a short 404.
    Unserved,
    NotFound,
}

// `/metrics` counts routes by their number, and has room for `ROUTES`.
const _: () = assert!(Route::NAMES.len() <= metrics::ROUTES);

impl<'a> Route<'a> {
    /// Every route's name, in the order of [`Route::index`].
    pub const NAMES: [&'static str; 11] = [
        "index",
        "contributors",
        "wall",
        "json",
        "avatar",
        "healthz",
        "status",
        "metrics",
        "stylesheet",
        "favicon",
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
            "/favicon.svg" => Route::Favicon,
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
            Route::Favicon => 9,
            Route::Unserved | Route::NotFound => 10,
        }
    }
}

/// How a request is answered.
pub enum Answer {
    /// At once: memory held all it needed. This is the usual case: the
    /// form, the stylesheet, the icon, and every page, wall, JSON list or
    /// avatar seen before and still current.
    Now(Response<Body>),
    /// After a wait, for GitHub or for avatars: [`Wait::finish`] gives it.
    Later(Wait),
}

/// An answer that has to wait, and what was found out before the wait.
/// It owns all of that, so finishing it needs nothing more from the
/// request than its headers.
pub struct Wait {
    client: IpAddr,
    head: bool,
    waiting: Waiting,
}

enum Waiting {
    /// A list that memory does not hold: GitHub has to be asked.
    List(ListAsked),
    /// A wall not drawn from this list yet: its avatars have to be fetched.
    Wall(WallToDraw),
    /// An avatar that memory does not hold.
    Avatar { id: u64, size: u16 },
}

/// Answers one request from `client` for `route` (`Route::of` its path)
/// as far as memory allows, without waiting for anything. Never fails:
/// every outcome is a response, now or after the wait.
pub fn answer(
    app: &App,
    client: IpAddr,
    method: &Method,
    route: Route<'_>,
    uri: &Uri,
    headers: &HeaderMap,
) -> Answer {
    if method != Method::GET && method != Method::HEAD {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD are served\n",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Answer::Now(response);
    }
    let query = uri.query();
    let answered = match route {
        Route::Index => Ok(index(app, query, headers).unwrap_or_else(|early| early)),
        Route::Healthz => Ok(text(StatusCode::OK, "ok\n")),
        Route::Status => Ok(status(app)),
        Route::Metrics => Ok(respond(
            StatusCode::OK,
            Kind::Metrics,
            NO_STORE,
            METRICS.render(&Route::NAMES, app.gauges()),
        )),
        Route::Stylesheet => Ok(app.stylesheet().respond(headers)),
        Route::Favicon => Ok(app.favicon().respond(headers)),
        Route::Avatar(id) => avatar(app, id, query, headers),
        Route::Contributors(owner, repo) | Route::Wall(owner, repo) | Route::Json(owner, repo) => {
            list(app, route, (owner, repo), uri, headers)
        }
        Route::Unserved => Ok(text(StatusCode::NOT_FOUND, "not found\n")),
        Route::NotFound => Ok(not_found()),
    };
    let head = method == Method::HEAD;
    match answered {
        Ok(response) if head => Answer::Now(without_body(response)),
        Ok(response) => Answer::Now(response),
        Err(waiting) => Answer::Later(Wait {
            client,
            head,
            waiting,
        }),
    }
}

impl Wait {
    /// Waits for what the answer needs, then answers. `headers` are the
    /// request's, for the answer's form (gzip or not, 304 or not).
    pub async fn finish(self, app: &App, headers: &HeaderMap) -> Response<Body> {
        let response = match self.waiting {
            Waiting::List(asked) => {
                // Each page GitHub is asked for costs this client one lookup.
                let admit = |pages| spend_lookups(app, self.client, pages);
                match app.lists.get(&asked.name, asked.selection, admit).await {
                    Ok(shown) => match from_list(app, asked, shown, headers) {
                        Ok(response) => response,
                        Err(wall) => draw_wall(app, self.client, wall, headers).await,
                    },
                    Err(error) => asked.failure(&error),
                }
            }
            Waiting::Wall(wall) => draw_wall(app, self.client, wall, headers).await,
            Waiting::Avatar { id, size } => {
                let admit = || spend_avatar(app, self.client);
                avatar_answer(app.avatars.get(id, size, admit).await, headers)
            }
        };
        if self.head {
            return without_body(response);
        }
        response
    }
}

fn not_found() -> Response<Body> {
    error_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. Pages look like /owner/repository.",
        None,
        ("", ""),
    )
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
    let (owner, repo) = (owner.trim(), repo.trim());
    let name = RepoName::new(owner, repo).map_err(|e| not_a_name(Kind::Html, &e, (owner, repo)))?;
    // Only a validated name goes into the Location header.
    Ok(redirect(&format!("/{name}")))
}

/// The three forms a list is answered in.
#[derive(Clone, Copy)]
enum Form {
    /// `/{owner}/{repo}`: the HTML page.
    Page,
    /// `/{owner}/{repo}/wall.svg`: the avatars as one image.
    Wall(Layout),
    /// `/{owner}/{repo}/contributors.json`: the list as JSON.
    Json,
}

impl Form {
    fn kind(self) -> Kind {
        match self {
            Form::Page => Kind::Html,
            Form::Wall(_) => Kind::Svg,
            Form::Json => Kind::Json,
        }
    }
}

/// A list asked for, checked: whose, which part of it, in which form.
struct ListAsked {
    name: RepoName,
    selection: Selection,
    form: Form,
}

impl ListAsked {
    /// Checks the names and the options of a list route; bad input gets a
    /// 400 in the route's own form (a page, an SVG, or JSON).
    ///
    /// | route | options |
    /// |-------|---------|
    /// | page  | `max` (1 to 500) |
    /// | JSON  | `max`, `anon` (0 or 1) |
    /// | wall  | `max`, `anon`, `columns` (1 to 50), `size` (1 to 512 pixels) |
    fn check(
        route: Route<'_>,
        (owner, repo): (&str, &str),
        query: Option<&str>,
    ) -> Result<ListAsked, Response<Body>> {
        // The form, and its options read; a bad name is reported first.
        let kind = kind(route);
        let options = match route {
            Route::Wall(..) => wall_options(query).map(|(s, layout)| (s, Form::Wall(layout))),
            Route::Json(..) => selection(query).map(|s| (s, Form::Json)),
            _ => max(query).map(|max| (Selection::accounts(max), Form::Page)),
        };
        let name = RepoName::new(owner, repo).map_err(|e| not_a_name(kind, &e, (owner, repo)))?;
        let (selection, form) = options.map_err(|why| {
            error_as(
                kind,
                StatusCode::BAD_REQUEST,
                "Bad option",
                &why,
                None,
                (owner, repo),
            )
        })?;
        Ok(ListAsked {
            name,
            selection,
            form,
        })
    }

    /// Where answers made from this list (`shown`) are kept: the form and
    /// every option, defaults included, in a fixed order; for a wall, only
    /// what changes the picture (`PageKey::wall`).
    fn key(&self, shown: &Shown) -> PageKey {
        let Selection { max, anon } = self.selection;
        let (file, options) = match self.form {
            Form::Page => ("", [max, 0, 0, 0]),
            Form::Json => ("contributors.json", [max, usize::from(anon), 0, 0]),
            Form::Wall(layout) => {
                let count = shown.contributors().len();
                return PageKey::wall(&self.name, count, anon, layout.columns, layout.size);
            }
        };
        PageKey::new(&self.name, file, options)
    }

    /// GitHub's failure, said in this list's form, with `Retry-After` for a
    /// client over its budget.
    fn failure(&self, error: &UpstreamError) -> Response<Body> {
        let message = match error {
            UpstreamError::NotFound { .. } => {
                format!("{error}. Check the spelling; private repositories are not shown.")
            }
            _ => format!("{error}."),
        };
        let typed = (self.name.owner(), self.name.repo());
        let kind = self.form.kind();
        let mut response = error_as(
            kind,
            error.status(),
            error.title(),
            &message,
            error.hint(),
            typed,
        );
        // Whatever the form, a client over its budget, or refused while
        // GitHub's quota is spent, is told when to come back.
        if let Some(seconds) = error.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// What a list route answers in, errors included.
fn kind(route: Route<'_>) -> Kind {
    match route {
        Route::Wall(..) => Kind::Svg,
        Route::Json(..) => Kind::Json,
        _ => Kind::Html,
    }
}

/// The last touch on every answer made from a list, in its `kind`.
fn sent(kind: Kind, response: Response<Body>) -> Response<Body> {
    match kind {
        Kind::Json => any_origin(response),
        _ => response,
    }
}

/// A wall whose list is in hand and whose avatars are not.
struct WallToDraw {
    asked: ListAsked,
    layout: Layout,
    shown: Shown,
}

/// A list route: check the names and options, then answer from the list
/// in memory, or wait for GitHub's.
fn list(
    app: &App,
    route: Route<'_>,
    typed: (&str, &str),
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response<Body>, Waiting> {
    let asked = match ListAsked::check(route, typed, uri.query()) {
        Ok(asked) => asked,
        Err(refused) => return Ok(refused),
    };
    match app.lists.cached(&asked.name, asked.selection) {
        None => Err(Waiting::List(asked)),
        Some(Err(error)) => Ok(asked.failure(&error)),
        Some(Ok(shown)) => from_list(app, asked, shown, headers).map_err(Waiting::Wall),
    }
}

/// The answer made from `shown` in the form asked: the one made from this
/// list before, or a new one. A page or JSON list is made at once; a new
/// wall first needs its avatars, so it comes back to be drawn.
fn from_list(
    app: &App,
    asked: ListAsked,
    shown: Shown,
    headers: &HeaderMap,
) -> Result<Response<Body>, WallToDraw> {
    // Each list shown lets `/avatars/{id}` fetch its ids (`seen_ids.rs`).
    app.seen.show(&shown.list);
    if shown.stale_because.is_none()
        && let Some(kept) = app.pages.get(&asked.key(&shown), &shown.list)
    {
        return Ok(sent(asked.form.kind(), kept.respond(headers)));
    }
    let body = match asked.form {
        Form::Page => {
            let site = app.config.public_url.as_deref();
            let page = ContributorsPage::new(&asked.name, asked.selection.max, &shown, site);
            match pages::render(&page) {
                Ok(html) => html,
                Err(failed) => return Ok(failed.into()),
            }
        }
        Form::Json => Bytes::from(contributors_json::render(&asked.name, &shown)),
        Form::Wall(layout) => {
            return Err(WallToDraw {
                asked,
                layout,
                shown,
            });
        }
    };
    Ok(keep_and_send(app, &asked, &shown, body, headers))
}

/// Fetches a wall's avatars and draws it, on a deadline: what the avatar
/// server has not sent within the upstream timeout is drawn as a
/// placeholder (`wall::fetch_pictures`). Each avatar fetch it starts is
/// one of `client`'s lookups; those its budget refuses are placeholders too.
/// Drawing runs off the async workers, a few at a time, within a bound on
/// the memory walls hold (`wall::Walls`); a wall that cannot be made a
/// moment after the deadline gets a 503.
///
/// A wall with placeholders for avatars it may yet get is partial: kept
/// for `wall::PARTIAL_TTL`, so its repeats do not wait again, and sent with
/// `no-store`. A complete wall is kept and sent as the other answers made
/// from a list are (`keep_and_send`).
async fn draw_wall(
    app: &App,
    client: IpAddr,
    wall: WallToDraw,
    headers: &HeaderMap,
) -> Response<Body> {
    let WallToDraw {
        asked,
        layout,
        shown,
    } = wall;
    let key = asked.key(&shown);
    let list = shown.list.clone();
    // The list held may be longer than the `max` asked: draw what is shown.
    let count = shown.contributors().len();
    let fetched_by = Instant::now() + app.config.upstream_timeout;
    let admit = || spend_avatar(app, client);
    let contributors = &list.contributors[..count];
    let pictures =
        wall::fetch_pictures(&app.avatars, contributors, layout.size, fetched_by, &admit).await;
    let partial = pictures.missing > 0;
    let name = key.name().to_string();
    let made_by = fetched_by + WALL_MAKING;
    let made = app.walls.make(name, list, count, pictures, layout, made_by);
    let Some(made) = made.await else {
        let message = wall::message("Busy", "many walls are being drawn; try again in a moment");
        let mut busy = respond(
            StatusCode::SERVICE_UNAVAILABLE,
            Kind::Svg,
            NO_STORE,
            message,
        );
        busy.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
        return busy;
    };
    if shown.stale_because.is_some() {
        return respond(StatusCode::OK, Kind::Svg, NO_STORE, made.body);
    }
    let kept = if partial {
        let kept = Representation::with_gzip(made.body, made.gzip, Kind::Svg, NO_STORE);
        let kept = Arc::new(kept);
        app.pages
            .insert_briefly(key, &shown.list, kept.clone(), wall::PARTIAL_TTL);
        kept
    } else {
        let (ttl, checked_at) = (app.config.cache_ttl, shown.list.checked_at);
        let kept =
            Representation::shared_with_gzip(made.body, made.gzip, Kind::Svg, ttl, checked_at);
        let kept = Arc::new(kept);
        app.pages.insert(key, &shown.list, kept.clone());
        kept
    };
    kept.respond(headers)
}

/// How long making a wall may wait for memory and a render slot, past the
/// avatars' deadline.
const WALL_MAKING: Duration = Duration::from_secs(1);

/// Sends an answer just made from a list. Made from a fresh list, it is
/// kept for the next visitor, and shared caches may keep it for what is
/// left of the list's TTL. Made from an old copy, its note ("GitHub is
/// unavailable") must not outlive the outage: it goes out as it is, kept
/// by nobody, with no validator (and no compressing per request, at the
/// moment the server is least sure of its upstream).
fn keep_and_send(
    app: &App,
    asked: &ListAsked,
    shown: &Shown,
    body: Bytes,
    headers: &HeaderMap,
) -> Response<Body> {
    let kind = asked.form.kind();
    if shown.stale_because.is_some() {
        return sent(kind, respond(StatusCode::OK, kind, NO_STORE, body));
    }
    let (ttl, checked_at) = (app.config.cache_ttl, shown.list.checked_at);
    let kept = Arc::new(Representation::shared(body, kind, ttl, checked_at));
    app.pages
        .insert(asked.key(shown), &shown.list, kept.clone());
    sent(kind, kept.respond(headers))
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

/// `/avatars/{id}?s=N`: check the id, snap the size, and answer with the
/// image held (or a 304 when the browser's copy is current), or the failure
/// remembered, or wait for it. Only an id a list has shown is fetched
/// (`seen_ids.rs`): any other gets a 404 without an upstream call.
fn avatar(
    app: &App,
    id: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response<Body>, Waiting> {
    let Some(id) = parse_id(id) else {
        return Ok(text(
            StatusCode::BAD_REQUEST,
            "an avatar id is digits only\n",
        ));
    };
    if !app.seen.contains(id) {
        return Ok(text(
            StatusCode::NOT_FOUND,
            "no list shown here has this avatar\n",
        ));
    }
    let size = snap_size(query_value(query, "s").as_deref());
    match app.avatars.cached(id, size) {
        Some(known) => Ok(avatar_answer(known, headers)),
        None => Err(Waiting::Avatar { id, size }),
    }
}

/// The image, or why there is none; a client over its budget is told when
/// to come back.
fn avatar_answer(fetched: Fetched, headers: &HeaderMap) -> Response<Body> {
    match fetched {
        Ok(avatar) => avatar.image.respond(headers),
        Err(e) => {
            let mut response = text(e.status(), format!("{e}\n"));
            if let UpstreamError::OverBudget { retry_after } = e {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            response
        }
    }
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
        // The other sets requests grow, each bounded: ids whose avatars may
        // be fetched, failed avatars not asked for again yet, wall bytes.
        "seen_ids": app.seen.len(),
        "avatar_failures": app.avatars.failures(),
        "wall_bytes": app.walls.bytes_held(),
        "trusted_roots": { "count": app.root_count, "source": app.roots_description },
    });
    respond(StatusCode::OK, Kind::Json, NO_STORE, body.to_string())
}

/// Takes one avatar fetch from `client`'s avatar budget: an avatar that is
/// not in memory, and not being fetched already, costs one. Its own budget,
/// larger than the lookups': one cold page shows up to 500 avatars.
fn spend_avatar(app: &App, client: IpAddr) -> Result<(), UpstreamError> {
    over_budget(app.avatar_budget.spend_many(client, 1))
}

/// Takes `pages` GitHub lookups from `client`'s budget, all or none: only
/// pages of a list that memory does not hold, and that are not being
/// fetched already, cost one each.
fn spend_lookups(app: &App, client: IpAddr, pages: usize) -> Result<(), UpstreamError> {
    over_budget(app.budget.spend_many(client, pages))
}

/// A budget's refusal as the error its answer says, with when to come back.
fn over_budget(spent: Result<(), std::time::Duration>) -> Result<(), UpstreamError> {
    spent.map_err(|wait| {
        METRICS.over_budget();
        UpstreamError::OverBudget {
            // Whole seconds, rounded up: never "try again in 0 s".
            retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    })
}

/// The 400 for a name that breaks GitHub's rules, in the form asked for.
fn not_a_name(kind: Kind, error: &NameError, typed: (&str, &str)) -> Response<Body> {
    let message = format!("{error}.");
    let hint = "Owners are letters, digits and single hyphens; \
        repositories may also use '.' and '_'.";
    let status = StatusCode::BAD_REQUEST;
    error_as(
        kind,
        status,
        "Not a repository name",
        &message,
        Some(hint),
        typed,
    )
}

/// An error in the form the request asked for: an SVG for a wall, JSON
/// for the JSON API (readable from any origin, as its answers are), and
/// otherwise an HTML page that echoes what the visitor typed into the form.
fn error_as(
    kind: Kind,
    status: StatusCode,
    title: &str,
    message: &str,
    hint: Option<&str>,
    typed: (&str, &str),
) -> Response<Body> {
    match kind {
        Kind::Svg => respond(status, kind, NO_STORE, wall::message(title, message)),
        Kind::Json => {
            let body = contributors_json::error(status.as_u16(), title, message);
            any_origin(respond(status, kind, NO_STORE, body))
        }
        _ => error_page(status, title, message, hint, typed),
    }
}

/// The JSON API may be read by a page on any site: it is public data.
fn any_origin(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
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
