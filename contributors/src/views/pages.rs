//! The HTML pages: what each one shows, filled into askama templates.
//!
//! The templates (in `templates/`) are compiled into the binary and askama
//! HTML-escapes every value, so nothing GitHub sends can become markup.
//! This module only builds pages; which URL shows which page, and with what
//! headers, is `routes.rs`.
//!
//! The home page's form never changes: `App` renders it once at start, and
//! keeps it, with the stylesheet and the icon, ready to send (gzipped and
//! tagged).

use askama::Template;
use bytes::Bytes;
use http::{Response, StatusCode};

use crate::github::Contributor;
use crate::github::contributor_lists::{DEFAULT_MAX, LIMIT_MAX, Shown};
use crate::github::names::RepoName;
use crate::http::clock::clock_time;
use crate::http::responses::{Body, text};
use crate::views::avatars::avatar_path;
use crate::views::filter::Filter;
use crate::views::list_option::{LIST_OPTIONS, ListOption};

/// The stylesheet, compiled into the binary.
pub const STYLESHEET: &str = include_str!("../../static/style.css");

/// The pages' icon, compiled into the binary: four round faces, the wall
/// in small. Linked from every page (`base.html`), so that a browser asks
/// for it instead of a `/favicon.ico` we do not have.
pub const FAVICON: &str = include_str!("../../static/favicon.svg");

/// Rendering failed. It only can if a value's `Display` fails; ours don't,
/// but the route still answers a plain 500 rather than panic.
#[derive(Clone, Copy, Debug)]
pub struct RenderFailed;

/// A page that could not be rendered becomes a plain 500, so a handler
/// can write `pages::render(&page)?`.
impl From<RenderFailed> for Response<Body> {
    fn from(_: RenderFailed) -> Response<Body> {
        text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not render the page\n",
        )
    }
}

/// A page as HTML bytes.
pub fn render(page: &impl Template) -> Result<Bytes, RenderFailed> {
    page.render().map(Bytes::from).map_err(|_| RenderFailed)
}

/// The form that the home page and every other page start with. `owner` and
/// `repo` echo what the visitor typed.
#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    owner: &'a str,
    repo: &'a str,
}

/// The home page: an empty form.
pub fn index() -> Result<Bytes, RenderFailed> {
    render(&IndexPage {
        owner: "",
        repo: "",
    })
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
pub struct ContributorsPage<'a> {
    owner: &'a str,
    repo: &'a str,
    repo_url: String,
    people: Vec<Person>,
    summary: String,
    stale_note: Option<String>,
    more_link: Option<String>,
    more_max: usize,
    /// How many bots the page left out, and the link that shows them.
    bots_left_out: Option<(usize, String)>,
    embed: Embed,
}

/// The Embed box: snippets that put this repository's wall in a README
/// (Markdown, HTML, and a `<picture>` with a dark source for readers in
/// the dark scheme, which GitHub's READMEs render), a preview of the
/// wall, and the JSON API's address.
struct Embed {
    markdown: String,
    html: String,
    picture: String,
    preview: String,
    json_path: String,
    /// The options a wall and the JSON list take, as the README lists them.
    options: &'static [ListOption],
}

impl Embed {
    /// `site` is where visitors reach us (`CONTRIBUTORS_PUBLIC_URL`);
    /// unknown, the snippets say `https://YOUR-HOST` for the reader to fill
    /// in. (The request's `Host` header is not used: the page is cached and
    /// shared, and a header anyone can set must not end up in it.)
    fn new(name: &RepoName, site: Option<&str>) -> Embed {
        let site = site.unwrap_or("https://YOUR-HOST");
        let (page, wall) = (format!("{site}/{name}"), format!("{site}/{name}/wall.svg"));
        Embed {
            markdown: format!("[![Contributors to {name}]({wall})]({page})"),
            html: format!(
                "<a href=\"{page}\"><img src=\"{wall}\" alt=\"Contributors to {name}\"></a>"
            ),
            picture: format!(
                "<a href=\"{page}\">\n<picture>\n  \
                 <source media=\"(prefers-color-scheme: dark)\" srcset=\"{wall}?theme=dark\">\n  \
                 <img src=\"{wall}?theme=light\" alt=\"Contributors to {name}\">\n\
                 </picture>\n</a>"
            ),
            preview: format!("/{name}/wall.svg"),
            json_path: format!("/{name}/contributors.json"),
            options: &LIST_OPTIONS,
        }
    }
}

impl<'a> ContributorsPage<'a> {
    /// The page for the first `max` contributors of `name`, spelt the way
    /// the visitor spelt it, on the site at `site` (for the Embed box). A
    /// stale list gets a note saying how old it is and why GitHub could
    /// not be asked.
    pub fn new(
        name: &'a RepoName,
        (max, filter): (usize, &Filter),
        shown: &Shown,
        site: Option<&str>,
    ) -> ContributorsPage<'a> {
        let list = &shown.list;
        let filtered = filter.apply(shown.contributors());
        let people = people(&filtered.kept);
        let link = |max: usize, filter: &Filter| {
            let max = if max == DEFAULT_MAX {
                String::new()
            } else {
                format!("&max={max}")
            };
            let query = format!("{max}{}", filter.query());
            match query.strip_prefix('&') {
                Some(query) => format!("/{name}?{query}"),
                None => format!("/{name}"),
            }
        };
        let bots_left_out = (filtered.bots_left_out > 0)
            .then(|| (filtered.bots_left_out, link(max, &filter.with_bots())));
        let summary = match (people.len(), shown.truncated()) {
            (1, false) => "1 contributor".to_string(),
            (n, false) => format!("{n} contributors"),
            (n, true) => format!("The first {n} contributors"),
        };
        let more_max = LIMIT_MAX.min(max * 5);
        let more_link = (shown.truncated() && max < LIMIT_MAX).then(|| link(more_max, filter));
        let stale_note = shown.stale_because.as_ref().map(|why| {
            format!(
                "Data from {} UTC; GitHub is unavailable: {why}.",
                clock_time(list.checked_at)
            )
        });
        ContributorsPage {
            owner: name.owner(),
            repo: name.repo(),
            repo_url: format!("https://github.com/{name}"),
            people,
            summary,
            stale_note,
            more_link,
            more_max,
            bots_left_out,
            embed: Embed::new(name, site),
        }
    }
}

/// The rows of the page. GitHub omits `login` and `id` for anonymous
/// contributors and may for deleted accounts: those rows get a name and no
/// avatar or link, and never break the page.
fn people(contributors: &[&Contributor]) -> Vec<Person> {
    contributors
        .iter()
        .map(|c| Person {
            name: c.display_name(),
            profile: c.profile_url().map(str::to_string),
            avatar: c.id.map(avatar_path),
            contributions: c.contributions,
        })
        .collect()
}

/// An error page: what went wrong, what to do, and the form again with what
/// the visitor typed.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub owner: &'a str,
    pub repo: &'a str,
    pub title: &'a str,
    pub message: &'a str,
    pub hint: Option<&'a str>,
    pub status: u16,
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
            people: people(&list.iter().collect::<Vec<_>>()),
            summary: "3 contributors".into(),
            stale_note: None,
            more_link: None,
            more_max: 500,
            bots_left_out: None,
            embed: Embed::new(&RepoName::new("o", "r").unwrap(), None),
        };
        let html = page.render().unwrap();
        assert!(
            html.contains("Ann &#60;b&#62;Onymous&#60;/b&#62; (anonymous)"),
            "{html}"
        );
        assert!(html.contains("(deleted account)"));
        assert_eq!(
            html.matches("<img src=\"/avatars/").count(),
            1,
            "only octocat has an avatar"
        );
        assert_eq!(html.matches("class=\"no-avatar\"").count(), 2);
        assert!(html.contains("<a href=\"https://github.com/octocat\""));
    }
}
