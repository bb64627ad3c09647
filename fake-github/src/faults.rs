//! Fault injection: the ways a real upstream misbehaves, on demand.
//!
//! A test sets a [`Behaviour`] for a repository or an avatar id, and the next
//! request for it gets that fault. Each one stands for something that really
//! happens to a client of GitHub — quotas, renamed repositories, huge lists,
//! proxies that answer with HTML, connections that die or crawl — so the app's
//! tests can show it copes with each without hanging or running out of memory.

use std::time::Duration;

use bytes::Bytes;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::json;

use crate::body::Body;
use crate::responses::{self, HTML, JSON, Target, set_header};

/// How the fake answers requests for one repository or avatar.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// The real answer.
    #[default]
    Normal,
    /// That status with a GitHub-style JSON `{"message": …}` body. Statuses
    /// hyper cannot send as a final answer (below 200, above 999) become 500.
    Status(u16),
    /// 204 with no body, as GitHub answers for an empty repository.
    NoContent,
    /// GitHub's primary rate-limit answer: 403, `x-ratelimit-remaining: 0`,
    /// `x-ratelimit-reset: reset`.
    RateLimited { reset: u64 },
    /// A secondary rate limit: 429 with `retry-after`.
    TooManyRequests { retry_after: u64 },
    /// GitHub's 403 for repositories too large to list contributors for.
    TooLarge,
    /// A redirect. `location` is a path on this server, or, if it starts
    /// with `http`, used verbatim.
    Redirect { status: u16, location: String },
    /// Accept the request and never answer. The request ends when the client
    /// gives up, or when the fake shuts down and drops the connection: no
    /// answer at all, as from a server that died.
    Stall,
    /// Answer normally after this delay.
    Delay(Duration),
    /// 200 `application/json` (or `image/png` for avatars) whose body is not
    /// JSON (nor an image).
    Garbage,
    /// 200 with valid JSON of the wrong shape: `{"message":"hi"}`.
    WrongShape,
    /// 200 with a body of exactly this many bytes, generated as it is sent
    /// (`[` then repeated contributor objects, never closed), with
    /// `content-length` set.
    Oversize(usize),
    /// Headers and the first half of the normal body, then the connection is
    /// dropped (HTTP/1) or the stream reset (HTTP/2).
    ResetMidBody,
    /// A slow body: `chunks` chunks of `chunk` bytes, each sent after a pause
    /// of `every` (so it takes `chunks × every`). The content is the normal
    /// body padded with spaces (valid JSON whitespace; ignored after a PNG's
    /// end) or cut to `chunk × chunks` bytes; `content-length` is that size.
    Drip {
        chunk: usize,
        every: Duration,
        chunks: usize,
    },
    /// 200 `text/html`, as a captive portal or a proxy error page would send.
    NotAnImage,
    /// The normal answer, but its `Link` header's URLs point at this base
    /// (`https://host:port`) instead of this server, as a hostile or
    /// misconfigured upstream's might.
    LinksTo(String),
    /// The normal answer, but its `Link` header's `last` link names this
    /// page: as from a list that grew between two of a client's requests,
    /// so that a page fetched earlier counts fewer pages than there are.
    LastPage(usize),
}

/// What the endpoint should do once a behaviour has been looked at.
pub(crate) enum Plan {
    /// Produce the normal answer (any delay has already been served).
    Normal,
    /// Produce the normal answer, then hand it to [`reshape`].
    Reshape(Behaviour),
    /// Send exactly this.
    Answer(Response<Body>),
}

/// Decides how to answer under `behaviour`, serving delays and stalls.
/// `base_url` (this fake's) is where a relative redirect points;
/// `rate_limit` is the quota a rate-limited answer reports.
///
/// Neither waits on the fake's shutdown: the connection (or HTTP/2 stream)
/// that runs this request does, and drops it. Shutdown therefore never
/// produces an answer; had a stall answered when woken by it, that answer
/// could race the dropped connection to the client.
pub(crate) async fn plan(
    behaviour: Behaviour,
    target: Target,
    base_url: &str,
    rate_limit: u64,
) -> Plan {
    match behaviour {
        Behaviour::Normal => Plan::Normal,
        Behaviour::Delay(delay) => {
            tokio::time::sleep(delay).await;
            Plan::Normal
        }
        // Dropped, never finished: when the client goes away, or at shutdown.
        Behaviour::Stall => std::future::pending().await,
        Behaviour::ResetMidBody
        | Behaviour::Drip { .. }
        | Behaviour::LinksTo(_)
        | Behaviour::LastPage(_) => Plan::Reshape(behaviour),
        other => Plan::Answer(answer(other, target, base_url, rate_limit)),
    }
}

/// The answer for behaviours that do not depend on the normal answer.
fn answer(behaviour: Behaviour, target: Target, base_url: &str, rate_limit: u64) -> Response<Body> {
    match behaviour {
        Behaviour::Status(code) => {
            let status = StatusCode::from_u16(code)
                .ok()
                .filter(|s| !s.is_informational())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
                return responses::empty(status); // these may not carry a body
            }
            responses::error(status, message_for(status), responses::REST_DOCS)
        }
        Behaviour::NoContent => responses::empty(StatusCode::NO_CONTENT),
        Behaviour::RateLimited { reset } => {
            let limit = rate_limit.to_string();
            let mut response = rate_limited("127.0.0.1", false);
            set_header(&mut response, "x-ratelimit-limit", &limit);
            set_header(&mut response, "x-ratelimit-remaining", "0");
            set_header(&mut response, "x-ratelimit-reset", &reset.to_string());
            set_header(&mut response, "x-ratelimit-used", &limit);
            set_header(&mut response, "x-ratelimit-resource", "core");
            response
        }
        Behaviour::TooManyRequests { retry_after } => {
            let mut response = responses::error(
                StatusCode::TOO_MANY_REQUESTS,
                "You have exceeded a secondary rate limit. Please wait a few minutes \
                 before you try again.",
                "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api\
                 #about-secondary-rate-limits",
            );
            set_header(&mut response, "retry-after", &retry_after.to_string());
            response
        }
        Behaviour::TooLarge => responses::error(
            StatusCode::FORBIDDEN,
            "The history or contributor list is too large to list contributors for \
             this repository via the API.",
            responses::CONTRIBUTORS_DOCS,
        ),
        Behaviour::Redirect { status, location } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::MOVED_PERMANENTLY);
            let location = if location.starts_with("http") {
                location
            } else {
                format!("{base_url}{location}")
            };
            // GitHub's body for a renamed repository's old URL.
            let body = json!({
                "message": "Moved Permanently",
                "url": location,
                "documentation_url": "https://docs.github.com/v3/#http-redirects",
            });
            let mut response = responses::json(status, &body);
            set_header(&mut response, "location", &location);
            response
        }
        Behaviour::Garbage => {
            let body: &'static [u8] = b"[{\"login\": \"octocat\", \"id\": 1,, ]] \xff\xfe not json";
            responses::with_body(StatusCode::OK, target.content_type(), body)
        }
        Behaviour::WrongShape => responses::with_body(StatusCode::OK, JSON, r#"{"message":"hi"}"#),
        Behaviour::Oversize(total) => {
            let pattern = Bytes::from(format!("{},", oversize_object()));
            let mut response = Response::new(Body::repeat(
                Bytes::from_static(b"["),
                pattern,
                total as u64,
            ));
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static(target.content_type()),
            );
            headers.insert(CONTENT_LENGTH, HeaderValue::from(total));
            response
        }
        Behaviour::NotAnImage => responses::with_body(
            StatusCode::OK,
            HTML,
            "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\
             <body><h1>Please sign in to the network</h1></body></html>\n",
        ),
        // Handled by `plan` and `reshape`; listed so a new variant is a
        // compile error here rather than a silent normal answer.
        Behaviour::Normal
        | Behaviour::Delay(_)
        | Behaviour::Stall
        | Behaviour::ResetMidBody
        | Behaviour::Drip { .. }
        | Behaviour::LinksTo(_)
        | Behaviour::LastPage(_) => responses::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "fake-github: behaviour planned twice",
            responses::REST_DOCS,
        ),
    }
}

/// Turns a normal answer into a broken or slow one. Answers without a body
/// (204, 304) are sent as they are: there is nothing to cut or drip.
pub(crate) fn reshape(mut response: Response<Body>, behaviour: &Behaviour) -> Response<Body> {
    if let Behaviour::LinksTo(_) | Behaviour::LastPage(_) = behaviour {
        let links = response.headers().get("link").and_then(|v| v.to_str().ok());
        let relinked = match (behaviour, links) {
            (Behaviour::LinksTo(base), Some(links)) => Some(rebase_links(links, base)),
            (Behaviour::LastPage(page), Some(links)) => Some(renumber_last(links, *page)),
            _ => None,
        };
        if let Some(links) = relinked {
            set_header(&mut response, "link", &links);
        }
        return response;
    }
    let Some(data) = response.body().bytes().cloned() else {
        return response;
    };
    let (body, length) = match *behaviour {
        Behaviour::ResetMidBody => {
            // Promise the whole body, send half: the client sees a short read.
            let half = data.slice(..data.len() / 2);
            (Body::fail_after(half), data.len())
        }
        Behaviour::Drip {
            chunk,
            every,
            chunks,
        } => {
            let total = chunk.saturating_mul(chunks);
            let mut padded = data.to_vec();
            padded.resize(total, b' ');
            (Body::drip(Bytes::from(padded), chunk, every), total)
        }
        _ => return response,
    };
    *response.body_mut() = body;
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from(length));
    response
}

/// `links` with each `<scheme://authority/path>` moved to `<base/path>`.
fn rebase_links(links: &str, base: &str) -> String {
    links
        .split(", ")
        .map(|link| {
            let path_at = link.find("://").and_then(|scheme_end| {
                link[scheme_end + 3..].find('/').map(|p| scheme_end + 3 + p)
            });
            match path_at {
                Some(at) => format!("<{base}{}", &link[at..]),
                None => link.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `links` with the `rel="last"` link's `page=` set to `page`.
fn renumber_last(links: &str, page: usize) -> String {
    let renumber = |link: &str| {
        // The `page` parameter itself, not the end of `per_page`.
        let param = link.find("&page=").or_else(|| link.find("?page="));
        let Some(at) = param
            .filter(|_| link.ends_with("rel=\"last\""))
            .map(|at| at + 1)
        else {
            return link.to_owned();
        };
        let digits = link[at + 5..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        format!("{}page={page}{}", &link[..at], &link[at + 5 + digits..])
    };
    links
        .split(", ")
        .map(renumber)
        .collect::<Vec<_>>()
        .join(", ")
}

/// GitHub's primary rate-limit answer (headers are the caller's).
pub(crate) fn rate_limited(client_ip: &str, authenticated: bool) -> Response<Body> {
    // GitHub names the user for authenticated requests, the address otherwise.
    let message = if authenticated {
        "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, \
         please include the request ID."
            .to_owned()
    } else {
        format!(
            "API rate limit exceeded for {client_ip}. (But here's the good news: Authenticated \
             requests get a higher rate limit. Check out the documentation for more details.)"
        )
    };
    responses::error(StatusCode::FORBIDDEN, &message, responses::RATE_LIMIT_DOCS)
}

/// A plausible contributor object, the unit an oversize body repeats.
fn oversize_object() -> &'static str {
    r#"{"login":"many-contributors","id":1,"avatar_url":"https://avatars.githubusercontent.com/u/1?v=4","type":"User","site_admin":false,"contributions":1}"#
}

/// GitHub's usual message for a status.
fn message_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "Bad credentials",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Git Repository is empty.",
        422 => "Validation Failed",
        451 => "Repository access blocked",
        500 => "Server Error",
        502 => "Server Error",
        503 => "No server is currently available to service your request. Sorry about that.",
        _ => status.canonical_reason().unwrap_or("Error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_move_to_another_base() {
        let links = r#"<https://127.0.0.1:1/r?page=2>; rel="next", <https://127.0.0.1:1/r?page=3>; rel="last""#;
        assert_eq!(
            rebase_links(links, "https://127.0.0.1:2"),
            r#"<https://127.0.0.1:2/r?page=2>; rel="next", <https://127.0.0.1:2/r?page=3>; rel="last""#
        );
    }

    #[test]
    fn the_last_link_names_another_page() {
        let links = r#"<https://h/r?per_page=100&page=2>; rel="next", <https://h/r?per_page=100&page=3>; rel="last""#;
        assert_eq!(
            renumber_last(links, 1),
            r#"<https://h/r?per_page=100&page=2>; rel="next", <https://h/r?per_page=100&page=1>; rel="last""#
        );
    }
}
