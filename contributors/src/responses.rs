//! Every response the app sends is built here, so the headers each kind of
//! answer carries are written down once.
//!
//! - All answers: a content type, a `Cache-Control` policy, and `nosniff`,
//!   which stops a browser from second-guessing the type (and, say, running
//!   an upstream's text as script).
//! - HTML pages also get a Content-Security-Policy and `no-referrer`.
//!
//! Route handlers return a [`Reply`]: `Err` holds an early answer (a 400 or
//! an error page), so each step of a handler can end it with `?`.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;

use crate::pages::RenderFailed;

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

/// What a body is, which decides its `Content-Type` (and for HTML, the
/// extra headers a page needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Html,
    Text,
    Css,
    Json,
    /// An image, of one of the types `avatars.rs` lets through.
    Image(&'static str),
}

impl Kind {
    fn content_type(self) -> &'static str {
        match self {
            Kind::Html => "text/html; charset=utf-8",
            Kind::Text => "text/plain; charset=utf-8",
            Kind::Css => "text/css; charset=utf-8",
            Kind::Json => "application/json",
            Kind::Image(content_type) => content_type,
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
    let mut response = Response::new(Body::new(body.into()));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kind.content_type()),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if kind == Kind::Html {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    response
}

/// A short plain-text answer that nobody should keep: errors, mostly.
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    respond(status, Kind::Text, NO_STORE, body)
}

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
