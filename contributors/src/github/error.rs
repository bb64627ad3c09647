//! Everything that can go wrong when we ask GitHub for something, as one
//! typed error.
//!
//! The Go original turned most failures into an empty page. Here each
//! upstream outcome has its own variant, and each variant knows two things:
//! the HTTP status our page answers with, and a sentence a person can act on.
//! The mapping lives in one place so the whole table can be read at once.

use std::error::Error as StdError;
use std::fmt;

use http::StatusCode;

use crate::http::clock::{moment, now_unix};
use crate::ops::metrics::Outcome;

/// A failed upstream request, as the user will hear about it.
///
/// `Clone` because one upstream answer may be shared by many waiting
/// requests (see `cache/coalescer.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpstreamError {
    /// 404: the owner or repository does not exist (or is private).
    NotFound { what: String },
    /// 410 (gone, e.g. disabled) or 451 (blocked for legal reasons).
    Withheld { what: String, status: u16 },
    /// 403 with `x-ratelimit-remaining: 0`, or 429. `reset` is the Unix time
    /// at which GitHub will answer again, when it said so.
    RateLimited { reset: Option<u64> },
    /// 403 "The history or contributor list is too large ...".
    TooLarge { what: String },
    /// Any other 4xx or 5xx answer.
    Status { host: String, status: u16 },
    /// The host name did not resolve.
    Dns { host: String },
    /// The TCP connection could not be made (refused, unreachable).
    Connect { host: String, detail: String },
    /// The TLS handshake failed, typically because the server's certificate
    /// does not chain to a root we trust.
    Tls { host: String, detail: String },
    /// No complete answer within the configured time.
    Timeout { host: String, seconds: u64 },
    /// The connection broke while the answer was being read.
    Broken { host: String, detail: String },
    /// The answer was not what the GitHub API sends (not JSON, wrong shape,
    /// or a redirect we won't follow).
    Malformed { host: String, detail: String },
    /// The answer was larger than we are willing to read.
    TooBig { host: String, limit: usize },
    /// An avatar answer that is not an image we pass on.
    NotAnImage { content_type: String },
    /// The proxy (named without credentials, `http://host:port`) could not
    /// be reached, or did not set up a tunnel in time.
    ProxyUnreachable { proxy: String, detail: String },
    /// The proxy answered `CONNECT` with 407 Proxy Authentication Required
    /// (or 401, as some proxies do): no credentials, or wrong ones.
    ProxyAuth {
        proxy: String,
        target: String,
        status: u16,
    },
    /// The proxy would not open a tunnel to `target` (`host:port`).
    ProxyRefused {
        proxy: String,
        target: String,
        detail: String,
    },
    /// Not asked at all: this client has used up its lookups for now (see
    /// `client_budget.rs`), and may try again in `retry_after` seconds.
    OverBudget { retry_after: u64 },
}

impl UpstreamError {
    /// The status our own response carries.
    pub fn status(&self) -> StatusCode {
        match self {
            UpstreamError::NotFound { .. } => StatusCode::NOT_FOUND,
            UpstreamError::Withheld { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::GONE)
            }
            UpstreamError::RateLimited { .. } => StatusCode::SERVICE_UNAVAILABLE,
            UpstreamError::TooLarge { .. } => StatusCode::SERVICE_UNAVAILABLE,
            UpstreamError::OverBudget { .. } => StatusCode::TOO_MANY_REQUESTS,
            UpstreamError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::BAD_GATEWAY,
        }
    }

    /// A short title for the error page.
    pub fn title(&self) -> &'static str {
        match self {
            UpstreamError::NotFound { .. } => "Not found",
            UpstreamError::Withheld { .. } => "Not available",
            UpstreamError::RateLimited { .. } => "GitHub rate limit reached",
            UpstreamError::TooLarge { .. } => "Too many contributors for GitHub to list",
            UpstreamError::Timeout { .. } => "GitHub did not answer in time",
            UpstreamError::Tls { .. } => "Untrusted certificate",
            UpstreamError::ProxyUnreachable { .. } => "The proxy could not be reached",
            UpstreamError::ProxyAuth { .. } => "The proxy did not accept our credentials",
            UpstreamError::ProxyRefused { .. } => "The proxy refused the connection",
            UpstreamError::OverBudget { .. } => "Too many new lookups",
            _ => "GitHub could not be reached",
        }
    }

    /// What the user can do about it, when there is something.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            UpstreamError::RateLimited { .. } => Some(
                "Without a token GitHub allows 60 requests an hour per IP address. \
                 Set GITHUB_TOKEN to raise the limit to 5,000.",
            ),
            UpstreamError::Tls { .. } => Some(
                "If you use GitHub Enterprise Server with a private CA, or a proxy \
                 that inspects TLS, point CONTRIBUTORS_EXTRA_CA_FILE at its PEM certificate.",
            ),
            UpstreamError::ProxyUnreachable { .. } => Some(
                "Check HTTPS_PROXY (or ALL_PROXY) and that the proxy is running. \
                 Hosts listed in NO_PROXY are reached directly.",
            ),
            UpstreamError::ProxyAuth { .. } => Some(
                "Put the proxy's user and password in its URL: \
                 HTTPS_PROXY=http://user:password@host:port (percent-encode special characters).",
            ),
            UpstreamError::ProxyRefused { .. } => Some(
                "The proxy's rules must allow CONNECT to this host and port; ask its administrator, \
                 or list the host in NO_PROXY if it can be reached directly.",
            ),
            UpstreamError::Dns { .. } | UpstreamError::Connect { .. } => {
                Some("Check the container's network and GITHUB_API_URL.")
            }
            UpstreamError::OverBudget { .. } => Some(
                "Pages that were viewed recently are still served; \
                 each client may only have a few new ones fetched from GitHub a minute.",
            ),
            _ => None,
        }
    }

    /// For a refusal that ends at a known time, the seconds until then: the
    /// `Retry-After` its answer carries.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            UpstreamError::OverBudget { retry_after } => Some(*retry_after),
            UpstreamError::RateLimited { reset: Some(reset) } => {
                Some(reset.saturating_sub(now_unix()).max(1))
            }
            _ => None,
        }
    }

    /// How the metrics count this failure (`contributors_upstream_requests_total`).
    pub fn outcome(&self) -> Outcome {
        match self {
            UpstreamError::NotFound { .. } | UpstreamError::Withheld { .. } => Outcome::NotFound,
            UpstreamError::RateLimited { .. } => Outcome::RateLimited,
            UpstreamError::Timeout { .. } => Outcome::Timeout,
            _ => Outcome::Error,
        }
    }

    /// True when GitHub itself is unwell or unreachable, as opposed to
    /// having answered "no". Used to decide whether stale data may stand in.
    pub fn is_outage(&self) -> bool {
        !matches!(
            self,
            UpstreamError::NotFound { .. }
                | UpstreamError::Withheld { .. }
                | UpstreamError::NotAnImage { .. }
                | UpstreamError::OverBudget { .. }
        )
    }
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpstreamError::NotFound { what } => write!(f, "{what} not found"),
            UpstreamError::Withheld { what, status: 451 } => {
                write!(f, "GitHub withholds {what} for legal reasons")
            }
            UpstreamError::Withheld { what, .. } => {
                write!(f, "{what} is no longer available on GitHub")
            }
            UpstreamError::RateLimited { reset: Some(reset) } => write!(
                f,
                "GitHub's API rate limit is exhausted; it resets at {} UTC",
                moment(*reset, now_unix())
            ),
            UpstreamError::RateLimited { reset: None } => {
                write!(f, "GitHub's API rate limit is exhausted; try again later")
            }
            UpstreamError::TooLarge { what } => write!(
                f,
                "the history or contributor list of {what} is too large for GitHub to list"
            ),
            UpstreamError::Status { host, status } => {
                write!(f, "{host} answered with HTTP status {status}")
            }
            UpstreamError::Dns { host } => write!(f, "could not resolve the host name {host}"),
            UpstreamError::Connect { host, detail } => {
                write!(f, "could not connect to {host}: {detail}")
            }
            UpstreamError::Tls { host, detail } => write!(
                f,
                "the TLS certificate of {host} is not trusted by the bundled roots: {detail}"
            ),
            UpstreamError::Timeout { host, seconds } => {
                write!(f, "{host} did not answer within {seconds} s")
            }
            UpstreamError::Broken { host, detail } => {
                write!(f, "the connection to {host} broke mid-answer: {detail}")
            }
            UpstreamError::Malformed { host, detail } => {
                write!(f, "{host} sent an answer we could not read: {detail}")
            }
            UpstreamError::TooBig { host, limit } => write!(
                f,
                "{host} sent more than {} KiB, the most we read",
                limit / 1024
            ),
            UpstreamError::NotAnImage { content_type } => {
                write!(f, "the avatar server sent {content_type:?}, not an image")
            }
            UpstreamError::ProxyUnreachable { proxy, detail } => {
                write!(f, "could not connect to the proxy {proxy}: {detail}")
            }
            UpstreamError::ProxyAuth {
                proxy,
                target,
                status,
            } => write!(
                f,
                "the proxy {proxy} answered CONNECT {target} with HTTP {status} {}: \
                 the proxy credentials are missing or wrong",
                if *status == 407 {
                    "Proxy Authentication Required"
                } else {
                    "Unauthorized"
                }
            ),
            UpstreamError::ProxyRefused {
                proxy,
                target,
                detail,
            } => write!(
                f,
                "the proxy {proxy} refused to open a tunnel (CONNECT) to {target}: {detail}"
            ),
            UpstreamError::OverBudget { retry_after } => write!(
                f,
                "you have asked for many repositories that are not cached; \
                 try again in {retry_after} s"
            ),
        }
    }
}

impl StdError for UpstreamError {}

/// An error and its causes, outermost first. An `io::Error` that wraps
/// another error hides it from `source()` (hyper-rustls wraps rustls's
/// errors that way, twice), so it is looked into with `get_ref()`.
pub(crate) fn causes<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&e: &&'a (dyn StdError + 'static)| match e
        .downcast_ref::<std::io::Error>()
    {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => e.source(),
    })
}

/// The message of the deepest cause: usually the most specific one.
pub(crate) fn innermost(error: &(dyn StdError + 'static)) -> String {
    causes(error)
        .last()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_has_its_status() {
        let host = || "api.github.com".to_string();
        let cases = [
            (
                UpstreamError::NotFound { what: "a/b".into() },
                404,
                "a/b not found",
            ),
            (
                // A reset on another day than today gives its date.
                UpstreamError::RateLimited { reset: Some(3_660) },
                503,
                "resets at 1970-01-01 01:01 UTC",
            ),
            (
                UpstreamError::TooLarge { what: "a/b".into() },
                503,
                "too large",
            ),
            (
                UpstreamError::Status {
                    host: host(),
                    status: 500,
                },
                502,
                "HTTP status 500",
            ),
            (UpstreamError::Dns { host: host() }, 502, "resolve"),
            (
                UpstreamError::Tls {
                    host: host(),
                    detail: "unknown issuer".into(),
                },
                502,
                "not trusted by the bundled roots",
            ),
            (
                UpstreamError::Timeout {
                    host: host(),
                    seconds: 10,
                },
                504,
                "within 10 s",
            ),
            (
                UpstreamError::Withheld {
                    what: "a/b".into(),
                    status: 451,
                },
                451,
                "legal reasons",
            ),
            (
                UpstreamError::OverBudget { retry_after: 3 },
                429,
                "try again in 3 s",
            ),
            (
                UpstreamError::TooBig {
                    host: host(),
                    limit: 4 << 20,
                },
                502,
                "4096 KiB",
            ),
            (
                UpstreamError::ProxyUnreachable {
                    proxy: "http://10.0.0.1:3128".into(),
                    detail: "Connection refused".into(),
                },
                502,
                "the proxy http://10.0.0.1:3128",
            ),
            (
                UpstreamError::ProxyAuth {
                    proxy: "http://10.0.0.1:3128".into(),
                    target: "api.github.com:443".into(),
                    status: 407,
                },
                502,
                "HTTP 407 Proxy Authentication Required",
            ),
            (
                UpstreamError::ProxyRefused {
                    proxy: "http://10.0.0.1:3128".into(),
                    target: "api.github.com:443".into(),
                    detail: "it answered CONNECT with an error".into(),
                },
                502,
                "refused to open a tunnel (CONNECT) to api.github.com:443",
            ),
        ];
        for (error, status, words) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert!(error.to_string().contains(words), "{error}");
        }
    }

    #[test]
    fn proxy_failures_are_not_github_failures() {
        let proxy = || "http://10.0.0.1:3128".to_string();
        let target = || "api.github.com:443".to_string();
        let github = UpstreamError::Connect {
            host: "api.github.com".into(),
            detail: "refused".into(),
        };
        for error in [
            UpstreamError::ProxyUnreachable {
                proxy: proxy(),
                detail: "refused".into(),
            },
            UpstreamError::ProxyAuth {
                proxy: proxy(),
                target: target(),
                status: 401,
            },
            UpstreamError::ProxyRefused {
                proxy: proxy(),
                target: target(),
                detail: "403".into(),
            },
        ] {
            assert_ne!(error.title(), github.title(), "{error:?}");
            assert!(error.title().contains("proxy"), "{error:?}");
            assert!(
                error.hint().is_some_and(|h| h.contains("proxy")),
                "{error:?}"
            );
            assert!(error.is_outage());
        }
    }
}
