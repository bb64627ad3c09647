//! The REST side: `GET /repos/{owner}/{repo}/contributors`, as GitHub has it.
//!
//! What a client must cope with is reproduced here: pagination through the
//! `Link` header, entity tags and 304 answers that cost no quota, a primary
//! rate limit that runs down, 204 for an empty repository, and the anonymous
//! entries that appear only with `anon=1`. Unknown API paths get GitHub's 404.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hyper::{Response, StatusCode};
use serde::Serialize;

use crate::body::Body;
use crate::faults::{self, Plan};
use crate::fixtures::Contributor;
use crate::responses::{self, RequestInfo, Target, set_header};
use crate::state::{Repo, Shared, repo_key};
use crate::util::{etag_hash, http_date, if_none_match};

/// GitHub's page size when `per_page` is absent, and its largest.
const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;

/// Answers `GET /repos/{owner}/{repo}/contributors`.
pub(crate) async fn contributors(
    shared: &Shared,
    info: &RequestInfo,
    owner: &str,
    repo: &str,
) -> Response<Body> {
    if let Some(refused) = take_quota(shared, info) {
        return refused;
    }
    let (behaviour, limit) = {
        let state = shared.lock();
        let behaviour = state.repo_behaviours.get(&repo_key(owner, repo)).cloned();
        (behaviour.unwrap_or_default(), state.rate.limit)
    };
    let planned = faults::plan(behaviour, Target::Api, &shared.base_url, limit).await;
    let mut response = match planned {
        Plan::Normal => listing(shared, info, owner, repo),
        Plan::Reshape(behaviour) => faults::reshape(listing(shared, info, owner, repo), &behaviour),
        Plan::Answer(response) => response,
    };
    finish(shared, info, &mut response);
    response
}

/// Answers `GET /users/{owner}/repos`: the owner's repositories, most
/// recently pushed first (whatever `sort` asks), at most `per_page` (30
/// by default, 100 at most) of them; GitHub's 404 for an owner without any.
pub(crate) fn owner_repos(shared: &Shared, info: &RequestInfo, owner: &str) -> Response<Body> {
    if let Some(refused) = take_quota(shared, info) {
        return refused;
    }
    let per_page = Query::parse(info.query.as_deref()).per_page;
    let body = {
        let state = shared.lock();
        let mut repos: Vec<&Repo> = (state.repos.values())
            .filter(|repo| repo.owner.eq_ignore_ascii_case(owner))
            .collect();
        repos.sort_by_key(|repo| std::cmp::Reverse(repo.pushed));
        let listed: Vec<RepoEntry<'_>> = (repos.iter().take(per_page))
            .map(|repo| RepoEntry {
                name: &repo.name,
                full_name: format!("{}/{}", repo.owner, repo.name),
                private: false,
                html_url: format!("https://github.com/{}/{}", repo.owner, repo.name),
                fork: repo.fork,
                pushed_at: http_date(repo.modified),
            })
            .collect();
        (!listed.is_empty()).then(|| serde_json::to_string(&listed).unwrap_or_default())
    };
    let mut response = match body {
        Some(body) => responses::with_body(StatusCode::OK, responses::JSON, body),
        None => responses::error(
            StatusCode::NOT_FOUND,
            "Not Found",
            responses::CONTRIBUTORS_DOCS,
        ),
    };
    finish(shared, info, &mut response);
    response
}

/// One repository of an owner's list, with the fields a client reads.
#[derive(Serialize)]
struct RepoEntry<'a> {
    name: &'a str,
    full_name: String,
    private: bool,
    html_url: String,
    fork: bool,
    pushed_at: String,
}

/// Answers any other API path: GitHub's 404, which costs quota like any call.
pub(crate) fn not_found(shared: &Shared, info: &RequestInfo) -> Response<Body> {
    if let Some(refused) = take_quota(shared, info) {
        return refused;
    }
    let mut response = responses::not_found();
    finish(shared, info, &mut response);
    response
}

/// Spends one unit of quota, or returns the rate-limit answer if none is
/// left. Taking it up front (and refunding a 304 in [`finish`]) keeps
/// concurrent requests from overspending the last unit.
fn take_quota(shared: &Shared, info: &RequestInfo) -> Option<Response<Body>> {
    let exhausted = {
        let mut state = shared.lock();
        let exhausted = state.rate.remaining == 0;
        state.rate.remaining = state.rate.remaining.saturating_sub(1);
        exhausted
    };
    if !exhausted {
        return None;
    }
    let mut response = faults::rate_limited(&info.client_ip, info.authenticated);
    finish(shared, info, &mut response);
    Some(response)
}

/// Adds the headers every API answer carries, and refunds the quota of a
/// 304: GitHub does not count conditional requests that hit.
fn finish(shared: &Shared, info: &RequestInfo, response: &mut Response<Body>) {
    let rate = {
        let mut state = shared.lock();
        if response.status() == StatusCode::NOT_MODIFIED {
            state.rate.remaining = state.rate.remaining.saturating_add(1);
            state.contributors_not_modified += 1;
        }
        state.rate
    };
    // A fault that set its own rate-limit headers keeps them.
    if !response.headers().contains_key("x-ratelimit-remaining") {
        set_header(response, "x-ratelimit-limit", &rate.limit.to_string());
        set_header(
            response,
            "x-ratelimit-remaining",
            &rate.remaining.to_string(),
        );
        set_header(response, "x-ratelimit-reset", &rate.reset.to_string());
        let used = rate.limit.saturating_sub(rate.remaining);
        set_header(response, "x-ratelimit-used", &used.to_string());
        set_header(response, "x-ratelimit-resource", "core");
    }
    set_header(response, "x-github-media-type", "github.v3; format=json");
    set_header(response, "x-github-api-version-selected", "2022-11-28");
    set_header(
        response,
        "x-github-request-id",
        &format!("FAKE:{:08X}", info.number),
    );
    set_header(
        response,
        "vary",
        "Accept, Authorization, Cookie, X-GitHub-OTP",
    );
    set_header(response, "access-control-allow-origin", "*");
}

/// The normal answer: one page of the list, or 404, 204 or 304.
fn listing(shared: &Shared, info: &RequestInfo, owner: &str, repo: &str) -> Response<Body> {
    let query = Query::parse(info.query.as_deref());
    let (body, modified, pages) = {
        let state = shared.lock();
        let Some(entry) = state.repos.get(&repo_key(owner, repo)) else {
            return responses::error(
                StatusCode::NOT_FOUND,
                "Not Found",
                responses::CONTRIBUTORS_DOCS,
            );
        };
        if entry.contributors.is_empty() {
            // GitHub answers 204, not `[]`, for a repository without commits.
            return responses::empty(StatusCode::NO_CONTENT);
        }
        let visible: Vec<&Contributor> = entry
            .contributors
            .iter()
            .filter(|c| query.anon || !c.is_anonymous())
            .collect();
        let pages = visible.len().div_ceil(query.per_page).max(1);
        let skip = (query.page - 1).saturating_mul(query.per_page);
        let page: Vec<Entry<'_>> = visible
            .iter()
            .skip(skip)
            .take(query.per_page)
            .map(|c| Entry::new(c, &shared.base_url, &state.avatar_base))
            .collect();
        let body = serde_json::to_string(&page).unwrap_or_else(|_| "[]".to_owned());
        (body, entry.modified, pages)
    };

    let etag = format!("W/\"{}\"", etag_hash(body.as_bytes()));
    let mut response = match &info.if_none_match {
        Some(header) if if_none_match(header, &etag) => responses::empty(StatusCode::NOT_MODIFIED),
        _ => responses::with_body(StatusCode::OK, responses::JSON, body),
    };
    set_header(&mut response, "etag", &etag);
    set_header(&mut response, "last-modified", &http_date(modified));
    // GitHub lets shared caches keep anonymous answers, not personal ones.
    let cache = if info.authenticated {
        "private, max-age=60, s-maxage=60"
    } else {
        "public, max-age=60, s-maxage=60"
    };
    set_header(&mut response, "cache-control", cache);
    if let Some(link) = link_header(&shared.base_url, &info.path, &query, pages) {
        set_header(&mut response, "link", &link);
    }
    response
}

/// Whether a contributors request asks for a list's first page, read the
/// way the endpoint reads it (no `page`, or a `page` it takes as 1).
pub(crate) fn is_first_page(query: Option<&str>) -> bool {
    Query::parse(query).page == 1
}

/// The query parameters the endpoint understands.
struct Query<'a> {
    per_page: usize,
    page: usize,
    anon: bool,
    /// All parameters but `page`, in order, to carry into the links.
    others: Vec<&'a str>,
}

impl<'a> Query<'a> {
    /// Parses leniently, as GitHub does: a bad number means the default.
    fn parse(query: Option<&'a str>) -> Self {
        let mut parsed = Query {
            per_page: DEFAULT_PER_PAGE,
            page: 1,
            anon: false,
            others: Vec::new(),
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                "page" => {
                    parsed.page = value.parse().ok().filter(|&p| p > 0).unwrap_or(1);
                    continue;
                }
                "per_page" => {
                    parsed.per_page = match value.parse::<usize>() {
                        Ok(0) | Err(_) => DEFAULT_PER_PAGE,
                        Ok(n) => n.min(MAX_PER_PAGE),
                    }
                }
                "anon" => parsed.anon = value == "1" || value == "true",
                _ => {}
            }
            parsed.others.push(pair);
        }
        parsed
    }
}

/// GitHub's `Link` header: `<url>; rel="prev", <url>; rel="next",
/// <url>; rel="last", <url>; rel="first"`, each present only when it points
/// somewhere other than here. A single page gets no header at all.
fn link_header(base: &str, path: &str, query: &Query<'_>, pages: usize) -> Option<String> {
    let page = query.page;
    if pages <= 1 && page <= 1 {
        return None;
    }
    let url = |target: usize| {
        let mut params = query.others.clone();
        let page_param = format!("page={target}");
        params.push(&page_param);
        format!("<{base}{path}?{}>", params.join("&"))
    };
    let mut links = Vec::with_capacity(4);
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", url(page - 1)));
    }
    if page < pages {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
    }
    if page != pages {
        links.push(format!("{}; rel=\"last\"", url(pages)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
    }
    Some(links.join(", "))
}

/// One element of the JSON array, in GitHub's field order.
#[derive(Serialize)]
#[serde(untagged)]
enum Entry<'a> {
    User(Box<User<'a>>),
    Anonymous(Anonymous),
}

#[derive(Serialize)]
struct User<'a> {
    login: &'a str,
    id: u64,
    node_id: String,
    avatar_url: String,
    gravatar_id: &'static str,
    url: String,
    html_url: String,
    followers_url: String,
    following_url: String,
    gists_url: String,
    starred_url: String,
    subscriptions_url: String,
    organizations_url: String,
    repos_url: String,
    events_url: String,
    received_events_url: String,
    #[serde(rename = "type")]
    kind: &'static str,
    user_view_type: &'static str,
    site_admin: bool,
    contributions: u64,
}

#[derive(Serialize)]
struct Anonymous {
    email: String,
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    contributions: u64,
}

impl<'a> Entry<'a> {
    /// Renders a contributor with this server's URLs. The full set of URL
    /// fields is there on purpose: it makes pages as large as GitHub's, which
    /// matters to a client that limits how much it reads.
    fn new(c: &'a Contributor, api: &str, avatars: &str) -> Self {
        let Some(login) = c.login.as_deref() else {
            let name = c.name.clone().unwrap_or_else(|| "anonymous".to_owned());
            return Entry::Anonymous(Anonymous {
                email: email_for(&name),
                name,
                kind: "Anonymous",
                contributions: c.contributions,
            });
        };
        let id = c.id.unwrap_or(0);
        let user = format!("{api}/users/{login}");
        Entry::User(Box::new(User {
            login,
            id,
            // GitHub's legacy global id: base64 of "04:User" and the id.
            node_id: BASE64.encode(format!("04:User{id}")),
            avatar_url: format!("{avatars}/u/{id}?v=4"),
            gravatar_id: "",
            html_url: format!("https://github.com/{login}"),
            followers_url: format!("{user}/followers"),
            following_url: format!("{user}/following{{/other_user}}"),
            gists_url: format!("{user}/gists{{/gist_id}}"),
            starred_url: format!("{user}/starred{{/owner}}{{/repo}}"),
            subscriptions_url: format!("{user}/subscriptions"),
            organizations_url: format!("{user}/orgs"),
            repos_url: format!("{user}/repos"),
            events_url: format!("{user}/events{{/privacy}}"),
            received_events_url: format!("{user}/received_events"),
            url: user,
            kind: if c.bot { "Bot" } else { "User" },
            user_view_type: "public",
            site_admin: false,
            contributions: c.contributions,
        }))
    }
}

/// A stable, made-up commit email for an anonymous contributor's name.
fn email_for(name: &str) -> String {
    let local: String = name
        .trim()
        .chars()
        .filter_map(|ch| match ch {
            ' ' => Some('.'),
            ch if ch.is_ascii_alphanumeric() => Some(ch.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    let local = if local.is_empty() {
        "anonymous"
    } else {
        &local
    };
    format!("{local}@example.com")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_pages_are_those_without_a_later_page_number() {
        assert!(is_first_page(None));
        assert!(is_first_page(Some("per_page=100")));
        assert!(is_first_page(Some("per_page=100&page=1")));
        assert!(!is_first_page(Some("per_page=100&page=2")));
        assert!(!is_first_page(Some("page=3&per_page=100")));
        // A page number the endpoint ignores is its first page, counted so.
        assert!(is_first_page(Some("page=0")));
        assert!(is_first_page(Some("page=x")));
    }

    #[test]
    fn links_follow_githubs_format_and_keep_other_parameters() {
        let base = "https://127.0.0.1:1";
        let path = "/repos/o/r/contributors";
        let q = Query::parse(Some("per_page=100"));
        assert_eq!(
            link_header(base, path, &q, 3).unwrap(),
            "<https://127.0.0.1:1/repos/o/r/contributors?per_page=100&page=2>; rel=\"next\", \
             <https://127.0.0.1:1/repos/o/r/contributors?per_page=100&page=3>; rel=\"last\""
        );
        let q = Query::parse(Some("anon=1&page=2&per_page=10"));
        assert_eq!(
            link_header(base, path, &q, 3).unwrap(),
            "<https://127.0.0.1:1/repos/o/r/contributors?anon=1&per_page=10&page=1>; rel=\"prev\", \
             <https://127.0.0.1:1/repos/o/r/contributors?anon=1&per_page=10&page=3>; rel=\"next\", \
             <https://127.0.0.1:1/repos/o/r/contributors?anon=1&per_page=10&page=3>; rel=\"last\", \
             <https://127.0.0.1:1/repos/o/r/contributors?anon=1&per_page=10&page=1>; rel=\"first\""
        );
        assert_eq!(link_header(base, path, &Query::parse(None), 1), None);
    }

    #[test]
    fn page_sizes_are_clamped_like_githubs() {
        assert_eq!(Query::parse(Some("per_page=1000")).per_page, 100);
        assert_eq!(Query::parse(Some("per_page=0")).per_page, 30);
        assert_eq!(Query::parse(Some("per_page=x&page=0")).page, 1);
        assert!(Query::parse(Some("anon=true")).anon);
    }

    #[test]
    fn anonymous_emails_are_plausible() {
        assert_eq!(email_for("Jane Doe"), "jane.doe@example.com");
        assert_eq!(email_for("!!"), "anonymous@example.com");
    }
}
