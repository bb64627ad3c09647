//! Routing: which URL does what.
//!
//! The app has twelve routes, so a `match` on the path is the whole router
//! (`Route::of`); a web framework would add weight without adding clarity.
//!
//! | route                            | answer                                 |
//! |----------------------------------|----------------------------------------|
//! | `GET /`                          | the form (or a redirect from `?owner=&repo=`) |
//! | `GET /{owner}/{repo}`            | the contributors page                  |
//! | `GET /{owner}/{repo}/wall.svg`   | the avatars as one SVG image (`views/wall.rs`) |
//! | `GET /{owner}/{repo}/contributors.json` | the list as JSON (`views/contributors_json.rs`) |
//! | `GET /wall.svg?repos=o/a,o/b` or `?owner=o` | one wall across repositories (`views/merged_list.rs`) |
//! | `GET /contributors.json?repos=…` or `?owner=o` | their merged list as JSON |
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
//! never reaches GitHub. The two routes across repositories take the same
//! steps for each list (`across`), then merge them (`from_lists`).
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

use crate::app::App;
use crate::github::Contributor;
use crate::github::contributor_lists::{DEFAULT_MAX, LIMIT_MAX, List, Selection, Shown};
use crate::github::error::UpstreamError;
use crate::github::names::{self, NameError, RepoName, split_repo_file, split_repo_path};
use crate::github::rate_limit::Quota;
use crate::http::query::{self, query_value};
use crate::http::representation::Representation;
use crate::http::responses::{Body, Kind, NO_STORE, Reply, redirect, respond, text, without_body};
use crate::ops::metrics::{self, METRICS};
use crate::views::avatars::{Fetched, parse_id, snap_size};
use crate::views::contributors_json::{self, Skipped};
use crate::views::filter::Filter;
use crate::views::merged_list;
use crate::views::page_cache::{PageKey, Shows, canonical};
use crate::views::pages::{self, ContributorsPage, ErrorPage};
use crate::views::theme::Theme;
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
    /// `/wall.svg?repos=…` or `?owner=…`: a wall across repositories.
    WallAcross,
    /// `/contributors.json?repos=…` or `?owner=…`.
    JsonAcross,
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
    pub const NAMES: [&'static str; 13] = [
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
        "wall_across",
        "json_across",
    ];

    /// The routing table.
    pub fn of(path: &'a str) -> Route<'a> {
        match path {
            "/" => Route::Index,
            "/healthz" => Route::Healthz,
            "/status" => Route::Status,
            "/metrics" => Route::Metrics,
            "/style.css" => Route::Stylesheet,
            "/wall.svg" => Route::WallAcross,
            "/contributors.json" => Route::JsonAcross,
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
            Route::WallAcross => 11,
            Route::JsonAcross => 12,
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
    /// (Both are boxed: they are large, and a wait's one allocation is
    /// nothing beside the wait.)
    List(Box<ListAsked>),
    /// A wall not drawn from this list yet: its avatars have to be fetched.
    Wall(Box<WallToDraw>),
    /// An avatar that memory does not hold.
    Avatar { id: u64, size: u16 },
    /// Lists across repositories, some of which memory does not hold (or
    /// an owner's repositories).
    Across(Box<AcrossAsked>),
}

/// Answers one request from `client` for `route` (`Route::of` its path)
/// as far as memory allows, without waiting for anything. Never fails:
/// every outcome is a response, now or after the wait. `arrived` is when
/// the request was read: what is held is judged fresh or not as of then,
/// so that one clock reading serves every check of a cached answer.
pub fn answer(
    app: &App,
    client: IpAddr,
    method: &Method,
    route: Route<'_>,
    uri: &Uri,
    headers: &HeaderMap,
    arrived: Instant,
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
            list(app, route, (owner, repo), uri, headers, arrived)
        }
        Route::WallAcross | Route::JsonAcross => across(app, route, query, headers, arrived),
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
                match app.lists.get(&asked.name, asked.selection, &admit).await {
                    Ok(shown) => match from_list(app, *asked, shown, headers, Instant::now()) {
                        Ok(response) => response,
                        Err(wall) => draw_wall(app, self.client, wall, headers).await,
                    },
                    Err(error) => asked.failure(&error),
                }
            }
            Waiting::Wall(wall) => draw_wall(app, self.client, *wall, headers).await,
            Waiting::Across(asked) => across_later(app, self.client, *asked, headers).await,
            Waiting::Avatar { id, size } => {
                let admit = || spend_avatar(app, self.client);
                avatar_answer(app.avatars.get(id, size, &admit).await, headers)
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
    let name = RepoName::new(owner, repo).map_err(|e| not_a_name(Said::PAGE, &e, (owner, repo)))?;
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

    /// What this form's errors are said in.
    fn said(self) -> Said {
        let theme = match self {
            Form::Wall(layout) => layout.theme,
            _ => Theme::Light,
        };
        Said {
            kind: self.kind(),
            theme,
        }
    }
}

/// A list asked for, checked: whose, which part of it, who is left out
/// of it, in which form.
struct ListAsked {
    name: RepoName,
    selection: Selection,
    filter: Filter,
    form: Form,
}

impl ListAsked {
    /// Checks the names and the options of a list route; bad input gets a
    /// 400 in the route's own form (a page, an SVG, or JSON).
    ///
    /// | route | options |
    /// |-------|---------|
    /// | page  | `max` (1 to 500), `bots` (0 or 1), `exclude` (logins) |
    /// | JSON  | the page's, and `anon` (0 or 1) |
    /// | wall  | the JSON's, and `columns` (1 to 50), `size` (1 to 512 pixels), `names` (0 or 1), `theme` (`light`, `dark`) |
    fn check(
        route: Route<'_>,
        (owner, repo): (&str, &str),
        query: Option<&str>,
    ) -> Result<ListAsked, Response<Body>> {
        // The form, and its options read; a bad name is reported first.
        let said = Said {
            kind: kind(route),
            theme: Theme::or_light(query),
        };
        let options = match route {
            Route::Wall(..) => wall_options(query).map(|(s, layout)| (s, Form::Wall(layout))),
            Route::Json(..) => selection(query).map(|s| (s, Form::Json)),
            _ => max(query).map(|max| (Selection::accounts(max), Form::Page)),
        };
        let options = options.and_then(|o| Ok((o, Filter::from_query(query)?)));
        let name = RepoName::new(owner, repo).map_err(|e| not_a_name(said, &e, (owner, repo)))?;
        let ((selection, form), filter) = options.map_err(|why| {
            error_as(
                said,
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
            filter,
            form,
        })
    }

    /// Where answers made from this list (`shown`) are kept: the form and
    /// every option, defaults included, in a fixed order; for a wall, only
    /// what changes the picture (`PageKey::wall`).
    fn key(&self, shown: &Shown) -> PageKey {
        let Selection { max, anon } = self.selection;
        let (file, options) = match self.form {
            Form::Page => ("", [max, 0, 0, 0, 0, 0]),
            Form::Json => ("contributors.json", [max, usize::from(anon), 0, 0, 0, 0]),
            Form::Wall(layout) => {
                let count = shown.contributors().len();
                let drawn = self.filter.count(shown.contributors());
                let counts = (count, drawn);
                let shows = Shows::One(self.name.clone());
                return PageKey::wall(&shows, counts, anon, &self.filter, layout);
            }
        };
        PageKey::new(Shows::One(self.name.clone()), file, options, &self.filter)
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
        upstream_failure(self.form, error, &message, typed)
    }
}

/// The most repositories one wall or JSON list across them may name.
pub const MAX_REPOS: usize = 20;

/// Whose lists a wall across repositories shows.
enum Across {
    /// `repos=o/a,o/b`: checked, without repeats.
    Repos(Vec<RepoName>),
    /// `owner=NAME`: checked; its repositories are looked up.
    Owner(String),
}

/// A wall or JSON list across repositories, checked.
struct AcrossAsked {
    across: Across,
    selection: Selection,
    filter: Filter,
    form: Form,
}

impl AcrossAsked {
    /// Checks `repos=` or `owner=` (one of them) and the options; bad input
    /// gets a 400 in the route's own form.
    fn check(route: Route<'_>, query: Option<&str>) -> Result<AcrossAsked, Response<Body>> {
        let said = Said {
            kind: kind(route),
            theme: Theme::or_light(query),
        };
        let checked = (|| {
            let across = across_source(query)?;
            let (selection, form) = match route {
                Route::WallAcross => wall_options(query).map(|(s, l)| (s, Form::Wall(l)))?,
                _ => (selection(query)?, Form::Json),
            };
            let filter = Filter::from_query(query)?;
            Ok::<_, String>(AcrossAsked {
                across,
                selection,
                filter,
                form,
            })
        })();
        checked.map_err(|why| {
            let status = StatusCode::BAD_REQUEST;
            error_as(said, status, "Bad option", &why, None, ("", ""))
        })
    }

    /// GitHub's failure, said in this answer's form.
    fn failure(&self, error: &UpstreamError) -> Response<Body> {
        upstream_failure(self.form, error, &format!("{error}."), ("", ""))
    }
}

/// GitHub's failure (`error`, told as `message`), said in `form`, for a
/// list or for lists across repositories alike. Whatever the form, a
/// client over its budget, or refused while GitHub's quota is spent, is
/// told when to come back.
fn upstream_failure(
    form: Form,
    error: &UpstreamError,
    message: &str,
    typed: (&str, &str),
) -> Response<Body> {
    let (status, title, hint) = (error.status(), error.title(), error.hint());
    let mut response = error_as(form.said(), status, title, message, hint, typed);
    if let Some(seconds) = error.retry_after() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// `repos=o/a,o/b` (1 to `MAX_REPOS`, each checked like a path's names)
/// or `owner=NAME`: exactly one of them.
fn across_source(query: Option<&str>) -> Result<Across, String> {
    match (query_value(query, "repos"), query_value(query, "owner")) {
        (Some(list), None) => {
            let mut repos: Vec<RepoName> = Vec::new();
            for typed in list.split(',').map(str::trim).filter(|r| !r.is_empty()) {
                let (owner, repo) = typed
                    .split_once('/')
                    .ok_or_else(|| format!("repos: {typed:?} is not owner/repository"))?;
                let name = RepoName::new(owner, repo).map_err(|e| format!("repos: {e}"))?;
                if !repos.iter().any(|held| held.folded() == name.folded()) {
                    repos.push(name);
                }
                if repos.len() > MAX_REPOS {
                    return Err(format!("repos names at most {MAX_REPOS} repositories"));
                }
            }
            if repos.is_empty() {
                return Err("repos names no repository".into());
            }
            Ok(Across::Repos(repos))
        }
        (None, Some(owner)) => {
            let owner = owner.trim();
            names::check_owner(owner).map_err(|why| format!("invalid owner name: {why}"))?;
            Ok(Across::Owner(owner.to_string()))
        }
        _ => Err("give repos=owner/a,owner/b or owner=NAME, one of them".into()),
    }
}

/// A wall or JSON list across repositories: check, then answer from the
/// lists in memory as of `arrived`, or wait for those it lacks.
fn across(
    app: &App,
    route: Route<'_>,
    query: Option<&str>,
    headers: &HeaderMap,
    arrived: Instant,
) -> Result<Response<Body>, Waiting> {
    let asked = match AcrossAsked::check(route, query) {
        Ok(asked) => asked,
        Err(refused) => return Ok(refused),
    };
    let repos = match &asked.across {
        Across::Repos(repos) => canonical(repos),
        Across::Owner(owner) => match app.owners.cached(owner) {
            Some(Ok(repos)) => canonical(&repos),
            Some(Err(error)) => return Ok(asked.failure(&error)),
            None => return Err(Waiting::Across(Box::new(asked))),
        },
    };
    let mut found = Vec::with_capacity(repos.len());
    for repo in repos {
        match app.lists.cached_at(&repo, asked.selection, arrived) {
            Some(shown) => found.push((repo, shown)),
            None => return Err(Waiting::Across(Box::new(asked))),
        }
    }
    from_lists(app, asked, found, headers, arrived).map_err(|w| Waiting::Wall(Box::new(w)))
}

/// The wait of [`across`]: the owner's repositories, then every list not
/// in memory, all at once. Each call to GitHub is one of `client`'s
/// lookups, as for one list; a client over its budget gets its 429, not a
/// wall with repositories missing.
async fn across_later(
    app: &App,
    client: IpAddr,
    asked: AcrossAsked,
    headers: &HeaderMap,
) -> Response<Body> {
    let repos = match &asked.across {
        Across::Repos(repos) => canonical(repos),
        Across::Owner(owner) => {
            let admit = || spend_lookups(app, client, 1);
            match app.owners.get(owner, admit).await {
                Ok(repos) => canonical(&repos),
                Err(error) => return asked.failure(&error),
            }
        }
    };
    let selection = asked.selection;
    let admit = move |pages| spend_lookups(app, client, pages);
    let lists = repos
        .iter()
        .map(|repo| app.lists.get(repo, selection, &admit));
    let shown = join_all(lists.collect()).await;
    if let Some(Err(over)) =
        (shown.iter()).find(|s| matches!(s, Err(UpstreamError::OverBudget { .. })))
    {
        return asked.failure(over);
    }
    let found = repos.into_iter().zip(shown).collect();
    match from_lists(app, asked, found, headers, Instant::now()) {
        Ok(response) => response,
        Err(wall) => draw_wall(app, client, wall, headers).await,
    }
}

/// Waits for every one of `futures`, polled together, and gives their
/// outputs in order. (A wall across repositories waits for up to
/// `MAX_REPOS` lists: a handful, polled again on each wake.)
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(done) => *output = Some(done),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// The answer made from the lists `found` of a wall or JSON list across
/// repositories: the one made from these very lists before, or a new one
/// (a wall comes back to be drawn). Repositories that failed are named
/// (`skipped`); if all failed, the first failure is the answer. `found`
/// is in `canonical` order (folded, sorted): the same set however asked
/// is one answer, and says so. `now` is when the lists were in hand.
fn from_lists(
    app: &App,
    asked: AcrossAsked,
    found: Vec<(RepoName, Result<Shown, UpstreamError>)>,
    headers: &HeaderMap,
    now: Instant,
) -> Result<Response<Body>, WallToDraw> {
    let shows = Shows::Many(found.iter().map(|(repo, _)| repo.clone()).collect());
    let (mut shown, mut skipped) = (Vec::new(), Vec::new());
    for (repo, result) in &found {
        match result {
            Ok(list) => shown.push((repo, list)),
            Err(error) => skipped.push((repo, error)),
        }
    }
    if shown.is_empty() {
        // The first failure; or, for an owner with no repository to show
        // (only forks), a 404 of its own.
        let none = || UpstreamError::NotFound {
            what: match &asked.across {
                Across::Owner(owner) => {
                    format!("{owner}'s public repositories (forks aside)")
                }
                Across::Repos(_) => "a repository".to_string(),
            },
        };
        let first = skipped.first().map_or_else(none, |(_, e)| (*e).clone());
        return Ok(asked.failure(&first));
    }
    for (_, list) in &shown {
        app.seen.show_at(&list.list, now);
    }
    let lists: Vec<&Arc<List>> = shown.iter().map(|(_, s)| &s.list).collect();
    let checked_at = (lists.iter()).map(|l| l.checked_at).min().unwrap_or(0);
    // An answer that shows an old copy, or lacks a repository for an
    // outage, must not outlive it.
    let stale = shown.iter().any(|(_, s)| s.stale_because.is_some())
        || skipped.iter().any(|(_, e)| e.is_outage());
    let slices: Vec<&[Contributor]> = shown.iter().map(|(_, s)| s.contributors()).collect();
    let merged = merged_list::merge(&slices, asked.selection.max);
    let kept = asked.filter.apply(&merged).kept;
    let Selection { max, anon } = asked.selection;
    let (file, options) = match asked.form {
        Form::Wall(layout) => {
            let counts = (merged.len(), kept.len());
            let key = PageKey::wall(&shows, counts, anon, &asked.filter, layout);
            ("wall.svg", Err((key, layout)))
        }
        _ => (
            "contributors.json",
            Ok([max, usize::from(anon), 0, 0, 0, 0]),
        ),
    };
    let key = match &options {
        Ok(options) => PageKey::new(shows, file, *options, &asked.filter),
        Err((key, _)) => key.clone(),
    };
    if !stale && let Some(held) = app.pages.get(&key, &lists) {
        return Ok(sent(asked.form.kind(), held.respond_at(headers, now)));
    }
    let from = MadeFrom {
        key,
        lists: lists.iter().map(|&l| l.clone()).collect(),
        confirmed: (lists.iter()).map(|l| l.confirmed).min().unwrap_or(now),
        stale,
    };
    if let Err((_, layout)) = options {
        let names: Vec<&str> = shown.iter().map(|(r, _)| r.as_str()).collect();
        let mut title = names.join(", ");
        if !skipped.is_empty() {
            let why: Vec<String> = (skipped.iter())
                .map(|(repo, error)| format!("{repo} ({})", error.title()))
                .collect();
            title = format!("{title}; skipped: {}", why.join(", "));
        }
        return Err(WallToDraw {
            from,
            title,
            layout,
            drawn: kept.into_iter().cloned().collect(),
        });
    }
    let repos: Vec<&RepoName> = shown.iter().map(|(r, _)| *r).collect();
    let skipped: Vec<Skipped<'_>> = (skipped.iter())
        .map(|(repo, error)| Skipped {
            repo: repo.as_str(),
            status: error.status().as_u16(),
            message: error.to_string(),
        })
        .collect();
    let body = contributors_json::render_many(&repos, &skipped, checked_at, &kept);
    Ok(keep_and_send(
        app,
        Kind::Json,
        &from,
        Bytes::from(body),
        headers,
    ))
}

/// What an error is said in: the route's kind of answer, and for a wall,
/// its colours.
#[derive(Clone, Copy)]
struct Said {
    kind: Kind,
    theme: Theme,
}

impl Said {
    const PAGE: Said = Said {
        kind: Kind::Html,
        theme: Theme::Light,
    };
}

/// What a list route answers in, errors included.
fn kind(route: Route<'_>) -> Kind {
    match route {
        Route::Wall(..) | Route::WallAcross => Kind::Svg,
        Route::Json(..) | Route::JsonAcross => Kind::Json,
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

/// What an answer is made from: the lists it shows, where it is kept, when
/// GitHub confirmed the oldest of them, and whether any list is an old copy
/// served through an outage (then the answer is kept by nobody).
struct MadeFrom {
    key: PageKey,
    lists: Vec<Arc<List>>,
    confirmed: Instant,
    stale: bool,
}

impl MadeFrom {
    /// An answer made from one list, kept under `key`.
    fn one(key: PageKey, shown: &Shown) -> MadeFrom {
        MadeFrom {
            key,
            lists: vec![shown.list.clone()],
            confirmed: shown.list.confirmed,
            stale: shown.stale_because.is_some(),
        }
    }

    fn lists(&self) -> Vec<&Arc<List>> {
        self.lists.iter().collect()
    }
}

/// A wall whose lists are in hand and whose avatars are not.
struct WallToDraw {
    from: MadeFrom,
    /// What the wall is of, for its `<title>`: `owner/repo`, or several.
    title: String,
    layout: Layout,
    /// The contributors drawn: those shown that the filter keeps.
    drawn: Vec<Contributor>,
}

/// A list route: check the names and options, then answer from the list
/// in memory, or wait for GitHub's.
fn list(
    app: &App,
    route: Route<'_>,
    typed: (&str, &str),
    uri: &Uri,
    headers: &HeaderMap,
    arrived: Instant,
) -> Result<Response<Body>, Waiting> {
    let asked = match ListAsked::check(route, typed, uri.query()) {
        Ok(asked) => asked,
        Err(refused) => return Ok(refused),
    };
    match app.lists.cached_at(&asked.name, asked.selection, arrived) {
        None => Err(Waiting::List(Box::new(asked))),
        Some(Err(error)) => Ok(asked.failure(&error)),
        Some(Ok(shown)) => {
            from_list(app, asked, shown, headers, arrived).map_err(|w| Waiting::Wall(Box::new(w)))
        }
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
    now: Instant,
) -> Result<Response<Body>, WallToDraw> {
    // Each list shown lets `/avatars/{id}` fetch its ids (`seen_ids.rs`).
    app.seen.show_at(&shown.list, now);
    if shown.stale_because.is_none()
        && let Some(kept) = app.pages.get(&asked.key(&shown), &[&shown.list])
    {
        return Ok(sent(asked.form.kind(), kept.respond_at(headers, now)));
    }
    let body = match asked.form {
        Form::Page => {
            let site = app.config.public_url.as_deref();
            let (max, filter) = (asked.selection.max, &asked.filter);
            let page = ContributorsPage::new(&asked.name, (max, filter), &shown, site);
            match pages::render(&page) {
                Ok(html) => html,
                Err(failed) => return Ok(failed.into()),
            }
        }
        Form::Json => Bytes::from(contributors_json::render(
            &asked.name,
            &shown,
            &asked.filter,
        )),
        Form::Wall(layout) => {
            let kept = asked.filter.apply(shown.contributors()).kept;
            return Err(WallToDraw {
                from: MadeFrom::one(asked.key(&shown), &shown),
                title: asked.name.folded().to_string(),
                layout,
                drawn: kept.into_iter().cloned().collect(),
            });
        }
    };
    let from = MadeFrom::one(asked.key(&shown), &shown);
    Ok(keep_and_send(app, asked.form.kind(), &from, body, headers))
}

/// Fetches a wall's avatars and draws it, on a deadline: what the avatar
/// server has not sent within the upstream timeout is drawn as a
/// placeholder (`wall::fetch_pictures`). Each avatar fetch it starts is
/// one of `client`'s lookups; those its budget refuses are placeholders too.
/// Drawing runs off the async workers, a few at a time, within a bound on
/// the memory walls hold (`wall::Walls`); a wall whose memory is not free,
/// or that cannot be made a moment after the deadline, gets a 503.
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
        from,
        title,
        layout,
        drawn,
    } = wall;
    let fetched_by = Instant::now() + app.config.upstream_timeout;
    let admit = || spend_avatar(app, client);
    let pictures =
        wall::fetch_pictures(&app.avatars, &drawn, layout.size, fetched_by, &admit).await;
    let partial = pictures.missing > 0;
    let made_by = fetched_by + WALL_MAKING;
    let made = app.walls.make(title, drawn, pictures, layout, made_by);
    let Some(made) = made.await else {
        let why = "many walls are being drawn; try again in a moment";
        let message = wall::message("Busy", why, layout.theme);
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
    if from.stale {
        return respond(StatusCode::OK, Kind::Svg, NO_STORE, made.body);
    }
    let lists = from.lists();
    let kept = if partial {
        let kept = Representation::with_gzip(made.body, made.gzip, Kind::Svg, NO_STORE);
        let kept = Arc::new(kept);
        (app.pages).insert_briefly(from.key.clone(), &lists, kept.clone(), wall::PARTIAL_TTL);
        kept
    } else {
        let fresh_until = from.confirmed + app.config.cache_ttl;
        let kept = Representation::shared_with_gzip(made.body, made.gzip, Kind::Svg, fresh_until);
        let kept = Arc::new(kept);
        app.pages.insert(from.key.clone(), &lists, kept.clone());
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
    kind: Kind,
    from: &MadeFrom,
    body: Bytes,
    headers: &HeaderMap,
) -> Response<Body> {
    if from.stale {
        return sent(kind, respond(StatusCode::OK, kind, NO_STORE, body));
    }
    let fresh_until = from.confirmed + app.config.cache_ttl;
    let kept = Arc::new(Representation::shared(body, kind, fresh_until));
    app.pages
        .insert(from.key.clone(), &from.lists(), kept.clone());
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

/// The wall's options besides the list's: `columns` (1 to 50), `size`
/// (1 to 512 pixels, snapped to one of the wall's sizes), `names` (0 or 1)
/// and `theme` (`light` or `dark`).
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
        names: query::switch(query, "names")?,
        theme: Theme::from_query(query)?,
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

/// `/status`, as JSON. Typed structs rather than `json!`: serde writes
/// them straight out, without building a map of values first (and
/// without the code for one in the binary). Fields are in alphabetical
/// order, the order `json!`'s sorted maps wrote them in before.
#[derive(serde::Serialize)]
struct Status<'a> {
    api_url: &'a str,
    avatar_failures: usize,
    cache: CacheUsage,
    /// Password masked: `http://user:***@host:port`.
    proxy: Option<String>,
    rate_limit: Option<Quota>,
    rate_limited_until: Option<u64>,
    /// The other sets requests grow, each bounded: ids whose avatars may
    /// be fetched, failed avatars not asked for again yet, wall bytes.
    seen_ids: usize,
    trusted_roots: TrustedRoots<'a>,
    version: &'static str,
    wall_bytes: usize,
}

#[derive(serde::Serialize)]
struct CacheUsage {
    avatars: Usage,
    lists: Usage,
    pages: Usage,
}

/// A cache's `(entries, bytes)`.
#[derive(serde::Serialize)]
struct Usage {
    bytes: usize,
    entries: usize,
}

impl From<(usize, usize)> for Usage {
    fn from((entries, bytes): (usize, usize)) -> Usage {
        Usage { bytes, entries }
    }
}

#[derive(serde::Serialize)]
struct TrustedRoots<'a> {
    count: usize,
    source: &'a str,
}

fn status(app: &App) -> Response<Body> {
    let status = Status {
        api_url: app.config.api_url.as_str(),
        avatar_failures: app.avatars.failures(),
        cache: CacheUsage {
            avatars: app.avatars.usage().into(),
            lists: app.lists.usage().into(),
            pages: app.pages.usage().into(),
        },
        proxy: app.config.proxy.server().map(|p| p.to_string()),
        rate_limit: app.github.rate_limit().latest(),
        rate_limited_until: app.github.rate_limit().exhausted_until(),
        seen_ids: app.seen.len(),
        trusted_roots: TrustedRoots {
            count: app.root_count,
            source: &app.roots_description,
        },
        version: env!("CARGO_PKG_VERSION"),
        wall_bytes: app.walls.bytes_held(),
    };
    let body = serde_json::to_vec(&status).unwrap_or_default();
    respond(StatusCode::OK, Kind::Json, NO_STORE, body)
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
fn not_a_name(said: Said, error: &NameError, typed: (&str, &str)) -> Response<Body> {
    let message = format!("{error}.");
    let hint = "Owners are letters, digits and single hyphens; \
        repositories may also use '.' and '_'.";
    let status = StatusCode::BAD_REQUEST;
    error_as(
        said,
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
    Said { kind, theme }: Said,
    status: StatusCode,
    title: &str,
    message: &str,
    hint: Option<&str>,
    typed: (&str, &str),
) -> Response<Body> {
    match kind {
        Kind::Svg => respond(status, kind, NO_STORE, wall::message(title, message, theme)),
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
