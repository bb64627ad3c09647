//! The GitHub layer: everything that talks to GitHub, and nothing that
//! talks to visitors. It may use `http` (the clock and query helpers),
//! `cache` and `ops` (the metrics); it knows nothing of routes, pages or
//! the server, so a fork that drops GitHub for another API swaps this
//! folder.
//!
//! **This file** is the API client, for two endpoints,
//! `GET /repos/{owner}/{repo}/contributors` and, for a wall across an
//! owner's repositories, `GET /users/{owner}/repos`. It knows GitHub's side of the conversation: which headers to
//! send, how pagination is announced (the `Link` header), what each status
//! means (a 204 for an empty repository, a 403 that is a rate limit and a 403
//! that is not), and what the JSON looks like. The transport (TLS, timeouts,
//! size caps, redirects) is `upstream.rs`; caching is `contributor_lists.rs`.

//!
//! The rest of the folder, in the order a lookup meets it:
//!
//! - `names`: the owner and repository, checked against GitHub's rules
//!   before anything goes upstream;
//! - `contributor_lists`: the lists, cached, coalesced and revalidated;
//! - `owner_repos`: an owner's repositories, for a wall across them;
//! - `rate_limit`: the quota as GitHub last reported it, and
//!   `upstream_health`: one log line when GitHub goes away, one when it is
//!   back;
//! - `upstream`: the one HTTPS client (also the avatar proxy's), trusting
//!   `roots` (compiled in, plus an optional PEM file), connecting through
//!   `connector`, directly or through the tunnel that `proxy` says applies;
//! - `error`: every upstream failure as a typed error with a status and text;
//! - `base_url`, `token`: the two settings every request is built from.

pub mod base_url;
pub mod connector;
pub mod contributor_lists;
pub mod error;
pub mod names;
pub mod owner_repos;
pub mod proxy;
pub mod rate_limit;
pub mod roots;
pub mod token;
pub mod upstream;
pub mod upstream_health;

pub use base_url::BaseUrl;
pub use token::Token;

use std::sync::Arc;

use http::header::{self, HeaderName, HeaderValue};
use http::{StatusCode, Uri};
use serde::Deserialize;

use self::error::UpstreamError;
use self::names::RepoName;
use self::rate_limit::{RateHeaders, RateLimit};
use self::upstream::{Answer, Upstream, same_host_url};
use self::upstream_health::UpstreamHealth;
use crate::ops::metrics::{Host, METRICS, Outcome};

/// The most we read of one page. A real page of 100 contributors is about
/// 120 KiB; anything far beyond that is not a contributors page.
pub const MAX_PAGE_BYTES: usize = 2 << 20;

/// GitHub's API version we speak (sent as `X-GitHub-Api-Version`).
const API_VERSION: &str = "2022-11-28";

/// One entry of the list. GitHub lists anonymous contributors (commits by
/// an e-mail address with no account) without `login`, `id` or URLs, and a
/// deleted account can lack them too, so all of those are optional.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Contributor {
    pub login: Option<String>,
    pub id: Option<u64>,
    pub html_url: Option<String>,
    pub contributions: u64,
    /// Anonymous entries carry a name instead of a login.
    pub name: Option<String>,
    /// GitHub's account type: `User`, `Bot`, `Organization`, or
    /// `Anonymous` for an e-mail address without an account.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

impl Contributor {
    /// A profile link we are willing to put in an `href`: http(s) only, so a
    /// `javascript:` URL from a hostile upstream can never become a link.
    pub fn profile_url(&self) -> Option<&str> {
        self.html_url
            .as_deref()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
    }

    /// What to call this contributor: the login, or for an anonymous entry
    /// its name, or for a deleted account a note saying so.
    pub fn display_name(&self) -> String {
        self.login
            .clone()
            .or_else(|| self.name.as_ref().map(|n| format!("{n} (anonymous)")))
            .unwrap_or_else(|| "(deleted account)".to_string())
    }

    /// Whether GitHub says this is an app's account (`dependabot[bot]`).
    pub fn is_bot(&self) -> bool {
        self.kind.as_deref() == Some("Bot")
    }

    /// Rough memory weight, for the cache's byte budget.
    pub fn weight(&self) -> usize {
        std::mem::size_of::<Self>()
            + [&self.login, &self.html_url, &self.name, &self.kind]
                .iter()
                .map(|s| s.as_ref().map_or(0, String::len))
                .sum::<usize>()
    }
}

/// Validators GitHub gave us for a page, to ask "has it changed?" later.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One page of the list as GitHub sent it.
#[derive(Clone, Debug)]
pub struct Page {
    pub contributors: Vec<Contributor>,
    /// The `rel="next"` link: the URL if it points at the API host, else
    /// why not. Only a link that is followed turns its error into a failure.
    pub next: Option<Result<Uri, UpstreamError>>,
    /// The `rel="last"` link, checked the same way: how many pages the list
    /// has, so that the pages after this one can be asked for at once.
    pub last: Option<Result<Uri, UpstreamError>>,
    pub validators: Validators,
}

/// What asking for one page can bring back.
#[derive(Debug)]
pub enum PageAnswer {
    /// Boxed: a page is large, and a 304 is the usual answer.
    Page(Box<Page>),
    /// 304: the page we have is still current.
    NotModified,
}

/// The client: cheap to clone, all clones share one connection pool and one
/// view of the rate limit.
#[derive(Clone)]
pub struct GitHub {
    upstream: Upstream,
    api: BaseUrl,
    token: Option<Token>,
    rate_limit: Arc<RateLimit>,
    health: Arc<UpstreamHealth>,
}

impl GitHub {
    pub fn new(upstream: Upstream, api: BaseUrl, token: Option<Token>) -> GitHub {
        GitHub {
            health: Arc::new(UpstreamHealth::new(format!("the GitHub API at {api}"))),
            upstream,
            api,
            token,
            rate_limit: Arc::new(RateLimit::default()),
        }
    }

    pub fn rate_limit(&self) -> &RateLimit {
        &self.rate_limit
    }

    pub fn api(&self) -> &BaseUrl {
        &self.api
    }

    /// The first page's URL. Only validated names go into it. With `anon`,
    /// GitHub also lists commit e-mail addresses that match no account.
    pub fn first_page_url(&self, repo: &RepoName, per_page: usize, anon: bool) -> Uri {
        let anon = if anon { "&anon=1" } else { "" };
        self.api.join(&format!(
            "/repos/{}/{}/contributors?per_page={per_page}{anon}",
            repo.owner(),
            repo.repo()
        ))
    }

    /// Fetches one page. `known` are the validators of the copy we hold, if
    /// any: GitHub then answers 304 when nothing changed, which costs no
    /// rate-limit quota.
    pub async fn contributors_page(
        &self,
        repo: &RepoName,
        url: Uri,
        known: Option<&Validators>,
    ) -> Result<PageAnswer, UpstreamError> {
        let headers = self.headers(known)?;
        let answer = self.upstream.get(url, &headers, MAX_PAGE_BYTES).await;
        if let Ok(answer) = &answer {
            self.rate_limit.observe(&answer.headers);
        }
        let page = answer.and_then(|answer| interpret(repo, answer));
        let outcome = match &page {
            Ok(PageAnswer::Page(_)) => Outcome::Ok,
            Ok(PageAnswer::NotModified) => Outcome::NotModified,
            Err(error) => error.outcome(),
        };
        METRICS.upstream(Host::Api, outcome);
        self.health.observe(&page);
        page
    }

    /// The names of `owner`'s public repositories, most recently pushed
    /// first: one call, `GET /users/{owner}/repos?sort=pushed&per_page=100`
    /// (a user's or an organisation's). Forks are left out, then the first
    /// `most` are kept. Only a checked owner name goes into the URL, and
    /// only names that pass the checks come back.
    pub async fn owner_repos(
        &self,
        owner: &str,
        most: usize,
    ) -> Result<Vec<RepoName>, UpstreamError> {
        let headers = self.headers(None)?;
        let url = (self.api).join(&format!("/users/{owner}/repos?sort=pushed&per_page=100"));
        let answer = self.upstream.get(url, &headers, MAX_PAGE_BYTES).await;
        if let Ok(answer) = &answer {
            self.rate_limit.observe(&answer.headers);
        }
        let repos = answer.and_then(|answer| match answer.status {
            StatusCode::OK => {
                decode_repos(owner, &answer.body, most).map_err(|detail| UpstreamError::Malformed {
                    host: answer.url.host().unwrap_or_default().to_string(),
                    detail,
                })
            }
            _ => Err(failure(owner, &answer)),
        });
        METRICS.upstream(
            Host::Api,
            repos.as_ref().map_or_else(|e| e.outcome(), |_| Outcome::Ok),
        );
        self.health.observe(&repos);
        repos
    }

    /// The headers of every API request: what we accept, the API version,
    /// the token if any, and the validators of a copy held (`known`), so
    /// that GitHub may answer 304. Refused at once while GitHub's quota is
    /// known to be spent.
    fn headers(
        &self,
        known: Option<&Validators>,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, UpstreamError> {
        if let Some(reset) = self.rate_limit.exhausted_until() {
            return Err(UpstreamError::RateLimited { reset: Some(reset) });
        }

        let mut headers = vec![
            (
                header::ACCEPT,
                HeaderValue::from_static("application/vnd.github+json"),
            ),
            (
                HeaderName::from_static("x-github-api-version"),
                HeaderValue::from_static(API_VERSION),
            ),
        ];
        if let Some(token) = &self.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .expect("tokens are checked to be printable ASCII");
            // Marked sensitive: left out of debug output, and never indexed
            // by HTTP/2 header compression (the `http2-upstream` build).
            value.set_sensitive(true);
            headers.push((header::AUTHORIZATION, value));
        }
        if let Some(known) = known {
            let validators = [
                (header::IF_NONE_MATCH, &known.etag),
                (header::IF_MODIFIED_SINCE, &known.last_modified),
            ];
            for (name, value) in validators {
                if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                    headers.push((name, value));
                }
            }
        }
        Ok(headers)
    }
}

/// What a status (and for a 403, its headers and message) means.
fn interpret(repo: &RepoName, answer: Answer) -> Result<PageAnswer, UpstreamError> {
    let host = answer.url.host().unwrap_or_default().to_string();
    match answer.status {
        StatusCode::OK => {
            let contributors =
                decode_page(&answer.body).map_err(|detail| UpstreamError::Malformed {
                    host: host.clone(),
                    detail,
                })?;
            let link = |rel| {
                let target = link_to(answer.header("link")?, rel)?;
                Some(same_host_url(&answer.url, Some(target)))
            };
            let (next, last) = (link("next"), link("last"));
            let validators = Validators {
                etag: answer.header("etag").map(str::to_string),
                last_modified: answer.header("last-modified").map(str::to_string),
            };
            Ok(PageAnswer::Page(Box::new(Page {
                contributors,
                next,
                last,
                validators,
            })))
        }
        // GitHub answers 204 for a repository without commits.
        StatusCode::NO_CONTENT => Ok(PageAnswer::Page(Box::new(Page {
            contributors: Vec::new(),
            next: None,
            last: None,
            validators: Validators::default(),
        }))),
        StatusCode::NOT_MODIFIED => Ok(PageAnswer::NotModified),
        _ => Err(failure(repo.as_str(), &answer)),
    }
}

/// What an answer that is not a success means, about `what` (a repository,
/// or an owner).
fn failure(what: &str, answer: &Answer) -> UpstreamError {
    let host = answer.url.host().unwrap_or_default().to_string();
    let rate = RateHeaders::read(&answer.headers);
    let what = what.to_string();
    match answer.status {
        StatusCode::NOT_FOUND => UpstreamError::NotFound { what },
        StatusCode::GONE | StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS => UpstreamError::Withheld {
            what,
            status: answer.status.as_u16(),
        },
        StatusCode::TOO_MANY_REQUESTS => UpstreamError::RateLimited {
            reset: rate.reset_at(),
        },
        StatusCode::FORBIDDEN if rate.remaining == Some(0) => UpstreamError::RateLimited {
            reset: rate.reset_at(),
        },
        StatusCode::FORBIDDEN if message(&answer.body).contains("too large") => {
            UpstreamError::TooLarge { what }
        }
        status => UpstreamError::Status {
            host,
            status: status.as_u16(),
        },
    }
}

/// Decodes an owner's repositories: a JSON array of objects with a `name`
/// and a `fork` flag. Forks, private repositories and names that fail our
/// checks are left out; the first `most` of the rest are kept, in order.
pub fn decode_repos(owner: &str, body: &[u8], most: usize) -> Result<Vec<RepoName>, String> {
    #[derive(Deserialize)]
    struct Repo {
        name: String,
        #[serde(default)]
        fork: bool,
        #[serde(default)]
        private: bool,
    }
    let repos: Vec<Repo> =
        serde_json::from_slice(body).map_err(|e| format!("not a list of repositories ({e})"))?;
    Ok((repos.into_iter())
        .filter(|repo| !repo.fork && !repo.private)
        .filter_map(|repo| RepoName::new(owner, &repo.name).ok())
        .take(most)
        .collect())
}

/// The `message` of a GitHub error body, or "" if there is none.
fn message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        message: String,
    }
    serde_json::from_slice::<ErrorBody>(body)
        .map(|e| e.message)
        .unwrap_or_default()
}

/// Decodes one page: a JSON array of contributor objects.
pub fn decode_page(body: &[u8]) -> Result<Vec<Contributor>, String> {
    serde_json::from_slice(body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            format!("not JSON ({e})")
        } else {
            format!("not a list of contributors ({e})")
        }
    })
}

/// The URL of the `rel="next"` entry of a `Link` header, if any.
///
/// GitHub sends `<https://...&page=2>; rel="next", <https://...&page=9>; rel="last"`.
pub fn next_link(header: &str) -> Option<&str> {
    link_to(header, "next")
}

/// The URL of the entry of a `Link` header whose `rel` is `rel`, if any.
pub fn link_to<'h>(header: &'h str, rel: &str) -> Option<&'h str> {
    header.split(',').find_map(|entry| {
        let (target, params) = entry.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        // A URL never contains angle brackets; `<>>` is not a link.
        if target.contains(['<', '>']) {
            return None;
        }
        params
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("rel="))
            .any(|rels| rels.trim_matches('"').split(' ').any(|r| r == rel))
            .then_some(target)
    })
}

/// The number in a page link's `page=` parameter (1 when there is none,
/// as GitHub reads it).
pub fn page_number(url: &Uri) -> Option<usize> {
    let query = url.query().unwrap_or_default();
    match query.split('&').find_map(|p| p.strip_prefix("page=")) {
        Some(number) => number.parse().ok(),
        None => Some(1),
    }
}

/// Page `page` of the list that the link `url` points into: the same URL
/// with its `page=` parameter set. GitHub numbers pages this way, and its
/// `rel="last"` link says the highest number, so a client can ask for the
/// pages between at once instead of following `next` one at a time.
pub fn page_url(url: &Uri, page: usize) -> Option<Uri> {
    let mut query: Vec<&str> = (url.query().unwrap_or_default().split('&'))
        .filter(|p| !p.is_empty() && !p.starts_with("page="))
        .collect();
    let page = format!("page={page}");
    query.push(&page);
    let mut parts = url.clone().into_parts();
    parts.path_and_query = Some(format!("{}?{}", url.path(), query.join("&")).parse().ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_link() {
        let h = r#"<https://api.github.com/repositories/1/contributors?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/contributors?per_page=100&page=5>; rel="last""#;
        assert_eq!(
            next_link(h),
            Some("https://api.github.com/repositories/1/contributors?per_page=100&page=2")
        );
        let last_page = r#"<https://x/?page=1>; rel="first", <https://x/?page=4>; rel="prev""#;
        assert_eq!(next_link(last_page), None);
        assert_eq!(
            next_link("<https://x/?page=2>; rel=next"),
            Some("https://x/?page=2")
        );
        // "<>>;rel=next" and "<<>;rel=next" were found by the link_header fuzz target.
        for junk in [
            "",
            ",,,",
            "<>",
            "https://x; rel=next",
            "<https://x>",
            ";;",
            "<>>;rel=next",
            "<<>;rel=next",
        ] {
            assert_eq!(next_link(junk), None, "{junk}");
        }
    }

    #[test]
    fn finds_the_last_link_and_numbers_pages() {
        let h = r#"<https://x/r?per_page=100&page=2>; rel="next", <https://x/r?per_page=100&page=5>; rel="last""#;
        let last: Uri = link_to(h, "last").unwrap().parse().unwrap();
        assert_eq!(page_number(&last), Some(5));
        assert_eq!(
            page_url(&last, 3).unwrap(),
            "https://x/r?per_page=100&page=3"
        );
        let first: Uri = "https://x/r?per_page=100&anon=1".parse().unwrap();
        assert_eq!(page_number(&first), Some(1));
        assert_eq!(
            page_url(&first, 2).unwrap(),
            "https://x/r?per_page=100&anon=1&page=2"
        );
        assert_eq!(page_number(&"https://x/r?page=x".parse().unwrap()), None);
        assert_eq!(link_to(h, "prev"), None);
    }

    #[test]
    fn decodes_users_and_anonymous_entries() {
        let body = br#"[
            {"login":"octocat","id":1,"html_url":"https://github.com/octocat","type":"User","contributions":32},
            {"email":"a@example.com","name":"Anon","type":"Anonymous","contributions":3}
        ]"#;
        let list = decode_page(body).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].login.as_deref(), Some("octocat"));
        assert_eq!(list[1].login, None);
        assert_eq!(list[1].name.as_deref(), Some("Anon"));
    }

    #[test]
    fn refuses_what_is_not_a_list() {
        assert!(decode_page(b"<html>").unwrap_err().starts_with("not JSON"));
        assert!(
            decode_page(br#"{"message":"hi"}"#)
                .unwrap_err()
                .starts_with("not a list")
        );
        assert!(
            decode_page(br#"[{"login":"x"}]"#).is_err(),
            "no contributions"
        );
    }

    #[test]
    fn only_web_links_become_profile_links() {
        let mut c =
            decode_page(br#"[{"login":"x","html_url":"javascript:alert(1)","contributions":1}]"#)
                .unwrap()
                .remove(0);
        assert_eq!(c.profile_url(), None);
        c.html_url = Some("https://github.com/x".into());
        assert_eq!(c.profile_url(), Some("https://github.com/x"));
    }
}
