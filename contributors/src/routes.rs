//! Routing and pages: which URL does what, and the HTML each one renders.
//!
//! The app has five routes, so a `match` on the path is the whole router;
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
//! Pages are askama templates (in `templates/`), compiled into the binary and
//! HTML-escaped by askama: nothing GitHub sends can become markup.

use std::net::IpAddr;

use askama::Template;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode, Uri};
use http_body_util::Full;
use serde_json::json;

use crate::App;
use crate::avatars::{parse_id, snap_size};
use crate::contributor_lists::{DEFAULT_MAX, LIMIT_MAX, RenderedPage, Shown};
use crate::error::{UpstreamError, clock_time};
use crate::github::Contributor;
use crate::names::{RepoName, query_value, split_repo_path};

pub type Body = Full<Bytes>;

const STYLESHEET: &str = include_str!("../static/style.css");

/// Our pages load nothing from elsewhere: no scripts at all, styles and
/// images from our own origin only. This policy makes the browser hold us
/// to that, so even a templating mistake could not run injected script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

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
    let path = uri.path();
    let query = uri.query();
    match path {
        "/" => index(query),
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/status" => status(app),
        "/style.css" => stylesheet(),
        "/favicon.ico" | "/robots.txt" => text(StatusCode::NOT_FOUND, "not found\n"),
        _ => {
            if let Some(id) = path.strip_prefix("/avatars/") {
                return avatar(app, id, query, headers).await;
            }
            match split_repo_path(path) {
                Some((owner, repo)) => contributors(app, client, owner, repo, query).await,
                None => error_page(
                    StatusCode::NOT_FOUND,
                    "Page not found",
                    "There is nothing at this address. Pages look like /owner/repository.",
                    None,
                    ("", ""),
                ),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    owner: &'a str,
    repo: &'a str,
}

/// The home page, or the redirect the old app's form relied on:
/// `/?owner=o&repo=r` becomes `/o/r`.
fn index(query: Option<&str>) -> Response<Body> {
    let owner = query_value(query, "owner");
    let repo = query_value(query, "repo");
    match (owner, repo) {
        (Some(owner), Some(repo)) => {
            let (owner, repo) = (owner.trim(), repo.trim());
            match RepoName::new(owner, repo) {
                // Only a validated name goes into the Location header.
                Ok(name) => redirect(&format!("/{}/{}", name.owner(), name.repo())),
                Err(e) => bad_name(&e.to_string(), (owner, repo)),
            }
        }
        _ => html(
            StatusCode::OK,
            &IndexPage {
                owner: "",
                repo: "",
            },
            "public, max-age=300",
        ),
    }
}

/// One row of the contributors list, ready for the template.
struct Person {
    name: String,
    profile: Option<String>,
    avatar: Option<String>,
    contributions: u64,
}

#[derive(Template)]
#[template(path = "contributors.html")]
struct ContributorsPage<'a> {
    owner: &'a str,
    repo: &'a str,
    repo_url: String,
    people: Vec<Person>,
    summary: String,
    stale_note: Option<String>,
    more_link: Option<String>,
    more_max: usize,
}

/// The rows of the page. GitHub omits `login` and `id` for anonymous
/// contributors and may for deleted accounts: those rows get a name and no
/// avatar or link, and never break the page.
fn people(contributors: &[Contributor]) -> Vec<Person> {
    contributors
        .iter()
        .map(|c| Person {
            name: c
                .login
                .clone()
                .or_else(|| c.name.clone().map(|n| format!("{n} (anonymous)")))
                .unwrap_or_else(|| "(deleted account)".to_string()),
            profile: c.profile_url().map(str::to_string),
            avatar: c.id.map(|id| format!("/avatars/{id}?s=80")),
            contributions: c.contributions,
        })
        .collect()
}

async fn contributors(
    app: &App,
    client: IpAddr,
    owner: &str,
    repo: &str,
    query: Option<&str>,
) -> Response<Body> {
    let name = match RepoName::new(owner, repo) {
        Ok(name) => name,
        Err(e) => return bad_name(&e.to_string(), (owner, repo)),
    };
    let max = match query_value(query, "max") {
        None => DEFAULT_MAX,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=LIMIT_MAX).contains(&n) => n,
            _ => {
                return bad_request(
                    &format!("max must be a whole number from 1 to {LIMIT_MAX}"),
                    (owner, repo),
                );
            }
        },
    };

    let Shown {
        list,
        stale_because,
    } = match app
        .lists
        .get(&name, max, || spend_lookup(app, client))
        .await
    {
        Ok(shown) => shown,
        Err(e) => return upstream_error_page(&e, (owner, repo)),
    };
    // Short: a browser may reuse the page briefly, the server's cache does
    // the rest. A stale page is not cached at all.
    const FRESH: &str = "public, max-age=60";

    // A cached list renders to the same HTML every time, so the first
    // rendering is kept with the list and served again, for visitors who
    // spell the names the same way (the form echoes their spelling).
    if stale_because.is_none()
        && let Some(page) = list
            .rendered
            .get()
            .filter(|p| p.owner == owner && p.repo == repo)
    {
        return html_response(StatusCode::OK, page.html.clone(), FRESH);
    }

    let people = people(&list.contributors);
    let count = people.len();
    let summary = match (count, list.truncated) {
        (1, false) => "1 contributor".to_string(),
        (n, false) => format!("{n} contributors"),
        (n, true) => format!("The first {n} contributors"),
    };
    let more_max = LIMIT_MAX.min(max * 5);
    let more_link = (list.truncated && max < LIMIT_MAX).then(|| format!("/{name}?max={more_max}"));
    let stale_note = stale_because.map(|why| {
        format!(
            "Data from {} UTC; GitHub is unavailable: {why}.",
            clock_time(list.checked_at)
        )
    });

    let page = ContributorsPage {
        owner,
        repo,
        repo_url: format!("https://github.com/{name}"),
        people,
        summary,
        stale_note,
        more_link,
        more_max,
    };
    let Ok(html) = page.render().map(Bytes::from) else {
        return render_failed();
    };
    if page.stale_note.is_some() {
        return html_response(StatusCode::OK, html, "no-store");
    }
    let _ = list.rendered.set(RenderedPage {
        owner: owner.to_string(),
        repo: repo.to_string(),
        html: html.clone(),
    });
    html_response(StatusCode::OK, html, FRESH)
}

async fn avatar(app: &App, id: &str, query: Option<&str>, headers: &HeaderMap) -> Response<Body> {
    let Some(id) = parse_id(id) else {
        return text(StatusCode::BAD_REQUEST, "an avatar id is digits only\n");
    };
    let size = snap_size(query_value(query, "s").as_deref());
    let avatar = match app.avatars.get(id, size).await {
        Ok(avatar) => avatar,
        Err(e) => return text(e.status(), &format!("{e}\n")),
    };
    let etag = HeaderValue::from_str(&avatar.etag).expect("a hex etag is a valid header");
    let cache = HeaderValue::from_static("public, max-age=86400");
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == avatar.etag || t.trim() == "*")
        });
    let mut response = if matches {
        Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::default())
    } else {
        Response::builder()
            .header(header::CONTENT_TYPE, avatar.content_type.clone())
            .body(Body::new(avatar.body.clone()))
    }
    .expect("static parts make a valid response");
    let h = response.headers_mut();
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, cache);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn status(app: &App) -> Response<Body> {
    let (list_entries, list_bytes) = app.lists.usage();
    let (avatar_entries, avatar_bytes) = app.avatars.usage();
    let body = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "api_url": app.config.api_url.as_str(),
        "rate_limit": app.github.rate_limit().latest(),
        "rate_limited_until": app.github.rate_limit().exhausted_until(),
        "cache": {
            "lists": { "entries": list_entries, "bytes": list_bytes },
            "avatars": { "entries": avatar_entries, "bytes": avatar_bytes },
        },
        "trusted_roots": { "count": app.root_count, "source": app.roots_description },
    });
    respond(
        StatusCode::OK,
        "application/json",
        "no-store",
        body.to_string(),
    )
}

fn stylesheet() -> Response<Body> {
    respond(
        StatusCode::OK,
        "text/css; charset=utf-8",
        "public, max-age=3600",
        STYLESHEET,
    )
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    owner: &'a str,
    repo: &'a str,
    title: &'a str,
    message: &'a str,
    hint: Option<&'a str>,
    status: u16,
}

/// Takes one GitHub lookup from `client`'s budget: only a page that is not
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

fn bad_name(why: &str, form: (&str, &str)) -> Response<Body> {
    bad_request(&format!("{why}."), form)
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
    html(status, &page, "no-store")
}

fn html(status: StatusCode, page: &impl Template, cache: &'static str) -> Response<Body> {
    match page.render() {
        Ok(body) => html_response(status, Bytes::from(body), cache),
        Err(_) => render_failed(),
    }
}

/// Rendering only fails if a value's `Display` fails; ours don't.
fn render_failed() -> Response<Body> {
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "could not render the page\n",
    )
}

fn html_response(status: StatusCode, body: Bytes, cache: &'static str) -> Response<Body> {
    let mut response = respond(status, "text/html; charset=utf-8", cache, body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    respond(
        status,
        "text/plain; charset=utf-8",
        "no-store",
        body.to_string(),
    )
}

/// A response with the headers every answer carries. `nosniff` stops a
/// browser from second-guessing the content type (and, say, running an
/// upstream's text as script).
fn respond(
    status: StatusCode,
    content_type: &'static str,
    cache: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut response = Response::new(Body::new(body.into()));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn redirect(location: &str) -> Response<Body> {
    let mut response = text(StatusCode::SEE_OTHER, "");
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(location).expect("a validated path is a valid header"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::decode_page;

    #[test]
    fn rows_without_login_or_avatar_render() {
        let list = decode_page(
            br#"[
                {"login":"octocat","id":1,"html_url":"https://github.com/octocat","contributions":9},
                {"email":"a@b.c","name":"Ann <b>Onymous</b>","type":"Anonymous","contributions":2},
                {"contributions":1}
            ]"#,
        )
        .unwrap();
        let page = ContributorsPage {
            owner: "o",
            repo: "r",
            repo_url: "https://github.com/o/r".into(),
            people: people(&list),
            summary: "3 contributors".into(),
            stale_note: None,
            more_link: None,
            more_max: 500,
        };
        let html = page.render().unwrap();
        assert!(
            html.contains("Ann &#60;b&#62;Onymous&#60;/b&#62; (anonymous)"),
            "{html}"
        );
        assert!(html.contains("(deleted account)"));
        assert_eq!(
            html.matches("<img").count(),
            1,
            "only octocat has an avatar"
        );
        assert_eq!(html.matches("class=\"no-avatar\"").count(), 2);
        assert!(html.contains("<a href=\"https://github.com/octocat\""));
    }
}
