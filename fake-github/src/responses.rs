//! Building blocks for answers: GitHub-style JSON errors and common headers.
//!
//! GitHub's REST errors are all one shape — `message`, `documentation_url`
//! and, lately, `status` as a string — so clients (and the app) can show the
//! message whatever went wrong. The fake answers the same way.
//!
//! Also what every handler knows of the request it answers ([`RequestInfo`]),
//! filled in by `routes.rs`.

use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::json;

use crate::body::Body;

/// What the handlers need to know about a request, taken out of it once.
pub(crate) struct RequestInfo {
    pub path: String,
    pub query: Option<String>,
    pub if_none_match: Option<String>,
    /// Whether an `Authorization` header came along (GitHub then names the
    /// user in rate-limit messages and marks answers private).
    pub authenticated: bool,
    pub client_ip: String,
    /// The request's position in this fake's life, for request ids.
    pub number: usize,
}

pub(crate) const JSON: &str = "application/json; charset=utf-8";
pub(crate) const PNG: &str = "image/png";
pub(crate) const HTML: &str = "text/html; charset=utf-8";

/// The documentation link GitHub gives for this endpoint's errors.
pub(crate) const CONTRIBUTORS_DOCS: &str =
    "https://docs.github.com/rest/repos/repos#list-repository-contributors";
pub(crate) const RATE_LIMIT_DOCS: &str =
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api";
pub(crate) const REST_DOCS: &str = "https://docs.github.com/rest";

/// Which kind of resource an answer stands for: it picks content types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// `api.github.com`: JSON, with rate-limit headers.
    Api,
    /// `avatars.githubusercontent.com`: PNG images.
    Avatar,
}

impl Target {
    pub fn content_type(self) -> &'static str {
        match self {
            Target::Api => JSON,
            Target::Avatar => PNG,
        }
    }
}

/// A response with `status`, `content_type` and `body`.
pub(crate) fn with_body(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<bytes::Bytes>,
) -> Response<Body> {
    let mut response = Response::new(Body::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A response with no body at all (204, 304).
pub(crate) fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    with_body(status, JSON, value.to_string())
}

/// GitHub's error shape: `{"message", "documentation_url", "status"}`.
pub(crate) fn error(status: StatusCode, message: &str, docs: &str) -> Response<Body> {
    let value = json!({
        "message": message,
        "documentation_url": docs,
        "status": status.as_str(),
    });
    json(status, &value)
}

/// GitHub's 404.
pub(crate) fn not_found() -> Response<Body> {
    error(StatusCode::NOT_FOUND, "Not Found", REST_DOCS)
}

/// Sets a header from a value known to be valid (numbers, our own URLs).
/// An invalid value is skipped rather than panicking: the fake must keep
/// serving even if a test hands it an odd string.
pub(crate) fn set_header(response: &mut Response<Body>, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(name), value);
    }
}
