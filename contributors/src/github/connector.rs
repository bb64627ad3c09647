//! The TCP half of the HTTPS client: where each connection's bytes go.
//!
//! Directly to the host, normally. Behind a proxy (`HTTPS_PROXY`, unless
//! `NO_PROXY` covers the host; see `proxy.rs`), to the proxy instead, which
//! is asked for a tunnel with `CONNECT host:443`. Once it answers 200 the
//! stream is a plain pipe to the host, and TLS runs through it end to end:
//! the proxy sees which host we talk to, never what we say.
//!
//! Why our own `CONNECT` instead of hyper-util's `Tunnel`: every failure must
//! become a page that says what happened, and `Tunnel` keeps the proxy's
//! status code to itself (its error type is not even exported). Refusals
//! differ: a 403 is the proxy's rules, a 502 its own trouble reaching
//! GitHub, a 407 (or, from some proxies such as Debian's tinyproxy 1.11, a
//! 401) missing or wrong credentials. The exchange is one request and one
//! header block, with a deadline and a size cap like everything else here.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower_service::Service;

use crate::github::error::UpstreamError;
use crate::github::error::innermost;
use crate::github::proxy::{Proxy, ProxyServer};

/// The most we read of a proxy's answer to `CONNECT`: a status line and a
/// few headers. A longer one is not an answer we understand.
const MAX_ANSWER: usize = 8 * 1024;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Opens each connection, directly or through the proxy. Cheap to clone.
#[derive(Clone)]
pub struct Connector {
    tcp: HttpConnector,
    proxy: Proxy,
    /// Time allowed to reach the proxy and have it open the tunnel (the
    /// proxy's own connection to GitHub included).
    connect_timeout: Duration,
}

impl Connector {
    pub fn new(tcp: HttpConnector, proxy: Proxy, connect_timeout: Duration) -> Connector {
        Connector {
            tcp,
            proxy,
            connect_timeout,
        }
    }
}

impl Service<Uri> for Connector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // The TCP connector and its resolver are always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let host = dst.host().unwrap_or_default();
        let port = dst.port_u16().unwrap_or(443);
        let Some(server) = self.proxy.for_host(host, port).cloned() else {
            let connecting = self.tcp.call(dst);
            return Box::pin(async move { Ok(connecting.await?) });
        };
        let target = format!("{host}:{port}");
        let connecting = self.tcp.call(server.uri().clone());
        let limit = self.connect_timeout;
        Box::pin(async move {
            let tunnel = async {
                let mut stream = connecting
                    .await
                    .map_err(|e| UpstreamError::ProxyUnreachable {
                        proxy: server.address(),
                        detail: innermost(&e),
                    })?;
                open_tunnel(stream.inner_mut(), &server, &target).await?;
                Ok::<_, UpstreamError>(stream)
            };
            match tokio::time::timeout(limit, tunnel).await {
                Ok(result) => Ok(result?),
                Err(_elapsed) => Err(UpstreamError::ProxyUnreachable {
                    proxy: server.address(),
                    detail: format!("no tunnel to {target} within {} s", limit.as_secs()),
                }
                .into()),
            }
        })
    }
}

/// Sends `CONNECT target` over `stream` and reads the answer's header.
/// Returns once the proxy answered 2xx; the stream is then the tunnel.
async fn open_tunnel(
    stream: &mut TcpStream,
    server: &ProxyServer,
    target: &str,
) -> Result<(), UpstreamError> {
    let proxy = server.address();
    let broken = |detail: String| UpstreamError::ProxyRefused {
        proxy: proxy.clone(),
        target: target.to_string(),
        detail,
    };

    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").into_bytes();
    if let Some(auth) = server.authorization() {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(auth.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    stream
        .write_all(&request)
        .await
        .map_err(|e| UpstreamError::ProxyUnreachable {
            proxy: proxy.clone(),
            detail: e.to_string(),
        })?;

    // Read until the blank line that ends the header. The proxy sends nothing
    // after it on success (TLS waits for our hello), so reading in chunks
    // cannot swallow tunnel bytes; anything there is an answer we refuse.
    let mut answer = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    let header_end = loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| broken(format!("the connection broke: {e}")))?;
        if n == 0 {
            return Err(broken("it closed the connection without an answer".into()));
        }
        answer.extend_from_slice(&chunk[..n]);
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if answer.len() > MAX_ANSWER {
            return Err(broken(format!(
                "its answer's header is over {} KiB",
                MAX_ANSWER / 1024
            )));
        }
    };

    let (status, reason) = status_line(&answer)
        .ok_or_else(|| broken("it answered with something other than HTTP".into()))?;
    match status {
        200..=299 if answer.len() == header_end => Ok(()),
        200..=299 => Err(broken(
            "it sent data before the TLS handshake, which a tunnel never does".into(),
        )),
        401 | 407 => Err(UpstreamError::ProxyAuth {
            proxy,
            target: target.to_string(),
            status,
        }),
        _ => Err(broken(format!("it answered HTTP {status} {reason}"))),
    }
}

/// `HTTP/1.x NNN reason` → the code and the reason (printable ASCII, at most
/// 60 characters: it ends up on a page).
fn status_line(answer: &[u8]) -> Option<(u16, String)> {
    let line = answer.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let rest = line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| line.strip_prefix("HTTP/1.0 "))?;
    let (code, reason) = rest.split_at_checked(3)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let reason = reason
        .trim()
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(60)
        .collect();
    Some((code.parse().ok()?, reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn status_lines() {
        assert_eq!(
            status_line(b"HTTP/1.1 200 Connection established\r\n\r\n"),
            Some((200, "Connection established".into()))
        );
        assert_eq!(
            status_line(b"HTTP/1.0 407 Proxy Authentication Required\r\n"),
            Some((407, "Proxy Authentication Required".into()))
        );
        assert_eq!(status_line(b"HTTP/1.1 403\r\n\r\n"), Some((403, "".into())));
        assert_eq!(status_line(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status_line(b"HTTP/1.1 2x0 OK\r\n"), None);
        assert_eq!(status_line(b"HTTP/1.1 20"), None);
    }

    /// `open_tunnel` against a one-shot proxy that answers `answer`; also
    /// returns the request the proxy received.
    async fn tunnel_with(
        answer: &'static [u8],
        proxy_url: &str,
    ) -> (Result<(), UpstreamError>, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let n = conn.read(&mut buf).await.unwrap();
                assert!(n > 0, "the client hung up mid-request");
                request.extend_from_slice(&buf[..n]);
            }
            conn.write_all(answer).await.unwrap();
            String::from_utf8(request).unwrap()
        });
        let server = ProxyServer::parse(&proxy_url.replace("PORT", &port.to_string())).unwrap();
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let result = open_tunnel(&mut stream, &server, "api.github.com:443").await;
        (result, proxy.await.unwrap())
    }

    #[tokio::test]
    async fn the_connect_request_and_each_answer() {
        let (ok, request) = tunnel_with(
            b"HTTP/1.1 200 Connection established\r\n\r\n",
            "http://u:p@127.0.0.1:PORT",
        )
        .await;
        assert!(ok.is_ok(), "{ok:?}");
        assert_eq!(
            request,
            "CONNECT api.github.com:443 HTTP/1.1\r\nHost: api.github.com:443\r\n\
             Proxy-Authorization: Basic dTpw\r\n\r\n"
        );

        let (auth, _) = tunnel_with(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
            "http://127.0.0.1:PORT",
        )
        .await;
        assert!(
            matches!(auth, Err(UpstreamError::ProxyAuth { status: 407, .. })),
            "{auth:?}"
        );

        let (refused, _) = tunnel_with(
            b"HTTP/1.0 403 Access violation\r\nServer: x\r\n\r\n",
            "http://127.0.0.1:PORT",
        )
        .await;
        let text = refused.unwrap_err().to_string();
        assert!(text.contains("HTTP 403 Access violation"), "{text}");
        assert!(text.contains("api.github.com:443"), "{text}");

        let (early, _) =
            tunnel_with(b"HTTP/1.1 200 OK\r\n\r\nhello", "http://127.0.0.1:PORT").await;
        assert!(
            matches!(early, Err(UpstreamError::ProxyRefused { .. })),
            "{early:?}"
        );

        let (silent, _) = tunnel_with(b"", "http://127.0.0.1:PORT").await;
        let text = silent.unwrap_err().to_string();
        assert!(text.contains("without an answer"), "{text}");
    }
}
