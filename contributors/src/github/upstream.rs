//! The one HTTPS client the process uses to talk to GitHub and its avatar
//! server.
//!
//! Why one client: it keeps a pool of open connections, so a busy server
//! pays for a TLS handshake once per connection instead of once per request.
//! The connections speak HTTP/1.1, one request at a time: lookups that run
//! at once open a connection each, and the pool keeps them for the next
//! ones. HTTP/2 would carry them all on one connection, but makes the binary
//! about a sixth larger, so it is a build option (the `http2-upstream`
//! feature; `bench/sizes-options.sh` weighs its bytes).
//!
//! Why these roots: the client trusts exactly the roots compiled into the
//! binary by the `ca-bundle` crate (plus an optional extra PEM file). It never
//! looks for `/etc/ssl/certs`, which is why the same binary works in a
//! `FROM scratch` image that has no certificate store at all.
//!
//! Behind a company proxy, the TCP stream under TLS comes from a `CONNECT`
//! tunnel through it instead (`connector.rs`), host by host as `NO_PROXY`
//! decides (`proxy.rs`). TLS still runs end to end with GitHub.
//!
//! Every exchange here is bounded: a connect timeout, a total timeout that
//! covers the body too, a cap on the body size, and at most a few redirects,
//! all to the same host. Whatever goes wrong comes back as an
//! [`UpstreamError`] that says what happened.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::github::connector::Connector;
use crate::github::error::{UpstreamError, causes, innermost};
use crate::github::proxy::Proxy;

/// Who we are, on every request: GitHub refuses API requests without a
/// `User-Agent` and asks that it name the application.
const USER_AGENT: HeaderValue =
    HeaderValue::from_static(concat!("contributors/", env!("CARGO_PKG_VERSION")));

/// Redirects followed per request: GitHub answers a renamed repository with
/// one 301, so a handful is plenty, and a loop ends quickly.
const MAX_REDIRECTS: usize = 3;

/// Idle connections the pool keeps per host: as many as the avatar fetches
/// that may run at once (`views/avatars.rs`), so the connections a cold
/// wall opened are all there for the next one. Each idle connection holds
/// its TLS state and buffers, some tens of KB, for up to 90 s.
pub const IDLE_PER_HOST: usize = 100;

/// What an upstream server answered, body read in full.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The URL that finally answered, after redirects.
    pub url: Uri,
}

impl Answer {
    /// A header as text, if present and printable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The key provider of a TLS client without a certificate of its own
/// (`with_no_client_auth`): it refuses every private key, which it is
/// never given.
#[derive(Debug)]
struct NoPrivateKeys;

impl rustls::crypto::KeyProvider for NoPrivateKeys {
    fn load_private_key(
        &self,
        _key: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "this client signs nothing: it has no private keys".into(),
        ))
    }
}

/// The shared client. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Upstream {
    client: Client<HttpsConnector<Connector>, Empty<Bytes>>,
    connect_timeout: Duration,
    timeout: Duration,
}

impl Upstream {
    /// Builds the client over the given trust anchors, through `proxy`
    /// where it applies.
    pub fn new(
        roots: rustls::RootCertStore,
        proxy: Proxy,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Upstream {
        // The ring provider is named explicitly so nothing depends on a
        // process-wide default being installed first. It is ring's, but
        // for private keys: a client that shows no certificate of its own
        // never loads one, and without ring's loader the binary holds no
        // code to parse and sign with RSA, ECDSA or Ed25519 keys (about 37 KB).
        let provider = Arc::new(rustls::crypto::CryptoProvider {
            key_provider: &NoPrivateKeys,
            ..rustls::crypto::ring::default_provider()
        });
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();

        let mut tcp = HttpConnector::new();
        tcp.set_connect_timeout(Some(connect_timeout));
        tcp.set_nodelay(true);
        // The HTTPS connector checks the scheme; let the TCP layer accept it.
        tcp.enforce_http(false);
        let connector = Connector::new(tcp, proxy, connect_timeout);

        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1();
        #[cfg(feature = "http2-upstream")]
        let https = https.enable_http2();
        let https = https.wrap_connector(connector);

        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(IDLE_PER_HOST)
            .build(https);
        Upstream {
            client,
            connect_timeout,
            timeout,
        }
    }

    /// GETs `url` with `headers` (and our `User-Agent`), following same-host redirects, and reads
    /// at most `max_body` bytes of the answer, all within the total timeout.
    pub async fn get(
        &self,
        url: Uri,
        headers: &[(HeaderName, HeaderValue)],
        max_body: usize,
    ) -> Result<Answer, UpstreamError> {
        let host = url.host().unwrap_or_default().to_string();
        let seconds = self.timeout.as_secs();
        match tokio::time::timeout(self.timeout, self.get_following(url, headers, max_body)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(UpstreamError::Timeout { host, seconds }),
        }
    }

    async fn get_following(
        &self,
        mut url: Uri,
        headers: &[(HeaderName, HeaderValue)],
        max_body: usize,
    ) -> Result<Answer, UpstreamError> {
        for _ in 0..=MAX_REDIRECTS {
            let answer = self.get_once(&url, headers, max_body).await?;
            if !matches!(answer.status.as_u16(), 301 | 302 | 303 | 307 | 308) {
                return Ok(answer);
            }
            url = same_host_url(&url, answer.header("location"))?;
        }
        Err(UpstreamError::Malformed {
            host: url.host().unwrap_or_default().to_string(),
            detail: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    async fn get_once(
        &self,
        url: &Uri,
        headers: &[(HeaderName, HeaderValue)],
        max_body: usize,
    ) -> Result<Answer, UpstreamError> {
        let host = url.host().unwrap_or_default().to_string();
        let mut request = Request::get(url.clone()).header(header::USER_AGENT, USER_AGENT);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = request
            .body(Empty::new())
            .expect("a request built from a valid URI and headers is valid");

        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| classify_request_error(&host, &e, self.connect_timeout))?;

        // Refuse early when the server announces a body over the cap.
        let announced = response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > max_body as u64) {
            return Err(UpstreamError::TooBig {
                host,
                limit: max_body,
            });
        }

        let (parts, body) = response.into_parts();
        let body = Limited::new(body, max_body)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<LengthLimitError>() {
                    UpstreamError::TooBig {
                        host: host.clone(),
                        limit: max_body,
                    }
                } else {
                    UpstreamError::Broken {
                        host: host.clone(),
                        detail: innermost(e.as_ref()),
                    }
                }
            })?
            .to_bytes();

        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
            url: url.clone(),
        })
    }
}

/// Where a redirect (or a pagination link) points, if we are willing to go
/// there: the same scheme, host and port only. Following a link to another
/// host would let an upstream make us fetch an arbitrary URL, and would send
/// it our token.
pub fn same_host_url(from: &Uri, location: Option<&str>) -> Result<Uri, UpstreamError> {
    let host = from.host().unwrap_or_default().to_string();
    let refuse = |detail: String| UpstreamError::Malformed {
        host: host.clone(),
        detail,
    };
    let location = location.ok_or_else(|| refuse("a redirect or link without a target".into()))?;
    let target: Uri = if location.starts_with('/') && !location.starts_with("//") {
        let authority = from.authority().map(|a| a.as_str()).unwrap_or_default();
        format!("https://{authority}{location}").parse()
    } else {
        location.parse()
    }
    .map_err(|_| refuse("a redirect or link to an invalid URL".into()))?;
    if target.scheme_str() == Some("https") && target.authority() == from.authority() {
        Ok(target)
    } else {
        // The authority, port included: the port may be all that differs.
        let place = match (target.scheme_str(), target.authority()) {
            (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
            _ => location.to_string(),
        };
        Err(refuse(format!(
            "a redirect or link to another host ({place}), which we do not follow"
        )))
    }
}

/// Turns a client error into the upstream outcome it stands for, by looking
/// through its chain of causes for a TLS error, a timeout or a DNS failure.
fn classify_request_error(
    host: &str,
    error: &hyper_util::client::legacy::Error,
    connect_timeout: Duration,
) -> UpstreamError {
    let host = host.to_string();
    let causes: Vec<&(dyn StdError + 'static)> = causes(error).collect();
    // The connector's own verdict on a proxy failure, already specific.
    if let Some(proxy) = causes
        .iter()
        .find_map(|e| e.downcast_ref::<UpstreamError>())
    {
        return proxy.clone();
    }
    if let Some(tls) = causes
        .iter()
        .find_map(|e| e.downcast_ref::<rustls::Error>())
    {
        return UpstreamError::Tls {
            host,
            detail: tls.to_string(),
        };
    }
    let timed_out = causes.iter().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
    });
    if timed_out {
        return UpstreamError::Timeout {
            host,
            seconds: connect_timeout.as_secs(),
        };
    }
    // hyper-util reports a failed name lookup as a "dns error".
    if causes
        .iter()
        .any(|e| e.to_string().starts_with("dns error"))
    {
        return UpstreamError::Dns { host };
    }
    let detail = causes.last().map(|e| e.to_string()).unwrap_or_default();
    if error.is_connect() {
        UpstreamError::Connect { host, detail }
    } else {
        UpstreamError::Broken { host, detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_the_same_host() {
        let from: Uri = "https://api.github.com/repos/a/b/contributors"
            .parse()
            .unwrap();
        let ok = same_host_url(&from, Some("/repositories/1/contributors?per_page=100"));
        assert_eq!(
            ok.unwrap().to_string(),
            "https://api.github.com/repositories/1/contributors?per_page=100"
        );
        let ok = same_host_url(&from, Some("https://api.github.com/repos/c/d/contributors"));
        assert!(ok.is_ok());
        for bad in [
            "https://evil.example/steal",
            "//evil.example/x",
            "http://api.github.com/x",
            "https://api.github.com:444/x",
            "not a url at all",
        ] {
            assert!(same_host_url(&from, Some(bad)).is_err(), "{bad}");
        }
        assert!(same_host_url(&from, None).is_err());
        // The message names the port, which may be all that differs.
        let other_port = same_host_url(&from, Some("https://api.github.com:444/x"));
        assert!(
            other_port
                .unwrap_err()
                .to_string()
                .contains("(https://api.github.com:444)")
        );
    }
}
