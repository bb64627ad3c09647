//! Every response the app sends is built here, so the headers each kind of
//! answer carries are written down once.
//!
//! - All answers: a content type, a `Cache-Control` policy, and `nosniff`,
//!   which stops a browser from second-guessing the type (and, say, running
//!   an upstream's text as script).
//! - HTML pages also get a Content-Security-Policy and `no-referrer`.
//! - SVG images get a policy of their own: they may show `data:` images
//!   and nothing else, so an SVG opened directly can neither run script nor
//!   load anything.
//! - What a shared cache may keep, and for how long, is
//!   [`shared_cache_control`].
//!
//! Route handlers return a [`Reply`]: `Err` holds an early answer (a 400 or
//! an error page), so each step of a handler can end it with `?`.

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::body::Body as _;

/// The body type of every response: the whole body, already in memory.
pub type Body = Full<Bytes>;

/// A handler's outcome: the answer, or an earlier answer that ended it.
pub type Reply = Result<Response<Body>, Response<Body>>;

/// Not to be kept by browsers or proxies: errors, stale pages, `/status`.
pub const NO_STORE: &str = "no-store";

/// Our pages load nothing from elsewhere: no scripts at all, styles and
/// images from our own origin only. This policy makes the browser hold us
/// to that, so even a templating mistake could not run injected script.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; img-src 'self'; style-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// An SVG may show the images inlined in it as `data:` URIs, and style
/// itself with attributes; nothing else, no script, no fetching.
const SVG_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

/// How long past `max-age` a shared cache may serve its old copy at once
/// while it fetches a new one in the background: a popular answer never
/// makes a visitor wait for GitHub.
const STALE_WHILE_REVALIDATE: u64 = 60;
/// How long past `max-age` a shared cache may serve its old copy when we
/// fail or are unreachable (a restart, a GitHub outage): a day, in the
/// spirit of the app's own fallback to an older list.
const STALE_IF_ERROR: u64 = 86_400;

/// `Cache-Control` for an answer made from a list GitHub confirmed
/// `max_age` seconds before the end of the list's TTL
/// (`CONTRIBUTORS_CACHE_TTL`): `public`, and fresh for those seconds, so a
/// shared cache in front of us (nginx, a CDN, GitHub's image proxy) never
/// keeps it longer than we would. `Representation::shared` makes it once a
/// second.
pub fn shared_cache_control(max_age: u64) -> HeaderValue {
    let value = format!(
        "public, max-age={max_age}, stale-while-revalidate={STALE_WHILE_REVALIDATE}, \
         stale-if-error={STALE_IF_ERROR}"
    );
    HeaderValue::try_from(value).expect("digits and ASCII make a valid header")
}

/// What a body is, which decides its `Content-Type` (and for HTML, the
/// extra headers a page needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Html,
    Text,
    Css,
    Json,
    /// Prometheus's text exposition format, version 0.0.4.
    Metrics,
    /// An SVG image we drew (never one from upstream).
    Svg,
    /// An image, of one of the types `avatars.rs` lets through.
    Image(&'static str),
}

impl Kind {
    /// Its `Content-Type`. The values are constants, checked when the
    /// binary is compiled (`const { .. }`), not on every response.
    fn content_type(self) -> HeaderValue {
        match self {
            Kind::Html => const { HeaderValue::from_static("text/html; charset=utf-8") },
            Kind::Text => const { HeaderValue::from_static("text/plain; charset=utf-8") },
            Kind::Css => const { HeaderValue::from_static("text/css; charset=utf-8") },
            Kind::Json => const { HeaderValue::from_static("application/json") },
            Kind::Metrics => {
                const { HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8") }
            }
            Kind::Svg => const { HeaderValue::from_static("image/svg+xml") },
            Kind::Image(content_type) => HeaderValue::from_static(content_type),
        }
    }
}

/// A response of `kind` with the headers that kind carries. A `&'static
/// str` or a `Bytes` body is passed on without copying.
pub fn respond(
    status: StatusCode,
    kind: Kind,
    cache: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    respond_bytes(status, kind, cache, body.into())
}

/// [`respond`] once the body is `Bytes`: the part that is not generic, so
/// that it is compiled once, not once for each type of body.
fn respond_bytes(
    status: StatusCode,
    kind: Kind,
    cache: &'static str,
    body: Bytes,
) -> Response<Body> {
    let empty = body.is_empty();
    let mut response = Response::new(Body::new(body));
    *response.status_mut() = status;
    // Room for every header one of our answers carries (ten at most, with
    // a representation's and a redirect's), so the map is allocated once
    // instead of grown past its first few entries.
    *response.headers_mut() = HeaderMap::with_capacity(10);
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, kind.content_type());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // hyper adds `Content-Length: 0` to an empty answer over HTTP/1.1 only;
    // said here, GET and HEAD say it over both. (A 304 says no length.)
    if empty && status != StatusCode::NOT_MODIFIED {
        h.insert(
            header::CONTENT_LENGTH,
            const { HeaderValue::from_static("0") },
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        const { HeaderValue::from_static("nosniff") },
    );
    match kind {
        Kind::Html => {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                const { HeaderValue::from_static(CONTENT_SECURITY_POLICY) },
            );
            h.insert(
                header::REFERRER_POLICY,
                const { HeaderValue::from_static("no-referrer") },
            );
        }
        Kind::Svg => {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                const { HeaderValue::from_static(SVG_CONTENT_SECURITY_POLICY) },
            );
        }
        _ => {}
    }
    response
}

/// The answer to HEAD: GET's answer, `Content-Length` included, without
/// its body. hyper leaves out a HEAD answer's body over HTTP/1.1 by itself,
/// but over HTTP/2 it would send it, which the client rejects.
pub fn without_body(response: Response<Body>) -> Response<Body> {
    let (mut parts, body) = response.into_parts();
    if let Some(length) = body.size_hint().exact()
        && parts.status != StatusCode::NOT_MODIFIED
    {
        parts.headers.insert(header::CONTENT_LENGTH, length.into());
    }
    Response::from_parts(parts, Body::default())
}

/// A short plain-text answer that nobody should keep: errors, mostly.
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    respond(status, Kind::Text, NO_STORE, body)
}

/// `303 See Other` to a path on our own site. Only validated text may go
/// into `location`; anything else is refused with a 500 rather than sent.
pub fn redirect(location: &str) -> Response<Body> {
    let Ok(location) = HeaderValue::from_str(location) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "bad redirect target\n");
    };
    let mut response = text(StatusCode::SEE_OTHER, "");
    response.headers_mut().insert(header::LOCATION, location);
    response
}
