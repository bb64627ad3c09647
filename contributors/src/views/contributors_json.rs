//! The JSON API: `GET /{owner}/{repo}/contributors.json`, the same cached,
//! rate-limit-aware list the page shows, for other programs.
//!
//! ```json
//! {"owner": "o", "repo": "r", "fetched_at": "2025-01-31T12:00:00Z",
//!  "contributors": [{"login": "octocat", "id": 1, "type": "User",
//!                    "contributions": 9, "avatar": "/avatars/1?s=80",
//!                    "html_url": "https://github.com/octocat"}]}
//! ```
//!
//! - `avatar` is our own proxied path, never an upstream URL, and
//!   `html_url` is passed on only when it is an http(s) link; both are
//!   `null` for anonymous contributors, as are `login` and `id`.
//! - `type` is `User`, `Bot` or `Anonymous` (an organisation counts as a
//!   user: it has a login and an avatar).
//! - Errors have one shape, with the status of the answer repeated:
//!   `{"error": {"status": 404, "title": "...", "message": "..."}}`.
//!
//! serde_json writes the strings, so nothing upstream sends can break out
//! of them. Which headers the answers carry is `routes.rs`.

use serde::Serialize;

use crate::github::Contributor;
use crate::github::contributor_lists::Shown;
use crate::github::names::RepoName;
use crate::http::clock::rfc3339;
use crate::views::avatars::avatar_path;
use crate::views::filter::Filter;

#[derive(Serialize)]
struct Answer<'a> {
    owner: &'a str,
    repo: &'a str,
    fetched_at: String,
    contributors: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    login: Option<&'a str>,
    id: Option<u64>,
    #[serde(rename = "type")]
    kind: &'static str,
    contributions: u64,
    avatar: Option<String>,
    html_url: Option<&'a str>,
}

impl<'a> Entry<'a> {
    fn new(c: &'a Contributor) -> Entry<'a> {
        let kind = match c.login {
            None => "Anonymous",
            Some(_) if c.is_bot() => "Bot",
            Some(_) => "User",
        };
        Entry {
            login: c.login.as_deref(),
            id: c.id,
            kind,
            contributions: c.contributions,
            avatar: c.id.map(avatar_path),
            html_url: c.profile_url(),
        }
    }
}

/// The list of `name`'s contributors as JSON (as many as asked for, less
/// those `filter` leaves out), spelt the way the visitor spelt the names.
pub fn render(name: &RepoName, shown: &Shown, filter: &Filter) -> Vec<u8> {
    let kept = filter.apply(shown.contributors()).kept;
    let answer = Answer {
        owner: name.owner(),
        repo: name.repo(),
        fetched_at: rfc3339(shown.list.checked_at),
        contributors: kept.into_iter().map(Entry::new).collect(),
    };
    serde_json::to_vec(&answer).unwrap_or_default()
}

/// A repository a list across several could not show, and why.
#[derive(Serialize)]
pub struct Skipped<'a> {
    pub repo: &'a str,
    pub status: u16,
    pub message: String,
}

#[derive(Serialize)]
struct ManyAnswer<'a> {
    repos: Vec<&'a str>,
    skipped: &'a [Skipped<'a>],
    fetched_at: String,
    contributors: Vec<Entry<'a>>,
}

/// A list across repositories (`/contributors.json?repos=…`) as JSON:
///
/// ```json
/// {"repos": ["o/a", "o/b"], "skipped": [{"repo": "o/c", "status": 404,
///   "message": "o/c not found"}], "fetched_at": "…", "contributors": […]}
/// ```
///
/// `repos` are those shown, `fetched_at` the oldest of their lists'
/// times, and each entry as in a repository's list, its `contributions`
/// summed across them.
pub fn render_many(
    repos: &[&RepoName],
    skipped: &[Skipped<'_>],
    checked_at: u64,
    contributors: &[&Contributor],
) -> Vec<u8> {
    let answer = ManyAnswer {
        repos: repos.iter().map(|r| r.as_str()).collect(),
        skipped,
        fetched_at: rfc3339(checked_at),
        contributors: contributors.iter().map(|c| Entry::new(c)).collect(),
    };
    serde_json::to_vec(&answer).unwrap_or_default()
}

#[derive(Serialize)]
struct ErrorAnswer<'a> {
    error: Error<'a>,
}

/// Fields in alphabetical order, as `json!`'s sorted maps wrote them.
#[derive(Serialize)]
struct Error<'a> {
    message: &'a str,
    status: u16,
    title: &'a str,
}

/// An error as JSON: `{"error": {"message", "status", "title"}}`.
pub fn error(status: u16, title: &str, message: &str) -> Vec<u8> {
    let error = Error {
        message,
        status,
        title,
    };
    serde_json::to_vec(&ErrorAnswer { error }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::contributor_lists::List;
    use crate::github::decode_page;
    use std::sync::Arc;

    #[test]
    fn entries_follow_the_schema() {
        let contributors = decode_page(
            br#"[
                {"login":"octocat","id":1,"html_url":"https://github.com/octocat","type":"User","contributions":9},
                {"login":"dependabot[bot]","id":2,"html_url":"javascript:alert(1)","type":"Bot","contributions":3},
                {"email":"a@b.c","name":"Ann","type":"Anonymous","contributions":2}
            ]"#,
        )
        .unwrap();
        let mut list = List::default();
        list.contributors = contributors;
        let shown = Shown {
            list: Arc::new(list),
            max: 100,
            stale_because: None,
        };
        let name = RepoName::new("o", "r").unwrap();
        let bots = Filter::from_query(Some("bots=1")).unwrap();
        let json = render(&name, &shown, &bots);
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "owner": "o", "repo": "r", "fetched_at": "1970-01-01T00:00:00Z",
                "contributors": [
                    {"login": "octocat", "id": 1, "type": "User", "contributions": 9,
                     "avatar": "/avatars/1?s=80", "html_url": "https://github.com/octocat"},
                    {"login": "dependabot[bot]", "id": 2, "type": "Bot", "contributions": 3,
                     "avatar": "/avatars/2?s=80", "html_url": null},
                    {"login": null, "id": null, "type": "Anonymous", "contributions": 2,
                     "avatar": null, "html_url": null}
                ]
            })
        );
    }
}
