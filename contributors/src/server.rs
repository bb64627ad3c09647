//! The HTTP server: accept connections, serve them, stop cleanly.
//!
//! This is the plumbing around `routes::handle`, kept small and explicit:
//!
//! - **Bind, then run.** `Server::bind` builds the `App` and takes the port,
//!   so a bad CA file or a port in use is reported before anything is
//!   served, and tests can bind port 0 and learn the real port.
//! - **HTTP/1.1 and HTTP/2** on one port (hyper-util's `auto` builder).
//! - **A header-read timeout**, so a client that opens a connection and
//!   never finishes its request headers (slowloris) is dropped instead of
//!   holding a slot forever.
//! - **A connection cap.** Past `max_connections`, new connections get an
//!   immediate `503` and are closed, instead of piling up until memory or
//!   file descriptors run out.
//! - **Graceful shutdown.** When the shutdown future resolves, the listener
//!   closes, idle keep-alive connections are closed, and requests in flight
//!   get `shutdown_grace` to finish.
//! - **One log line per request**: method, path, status, duration.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::App;
use crate::config::Config;
use crate::responses::Body;
use crate::roots;
use crate::routes;

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    Roots(roots::RootsError),
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Roots(e) => write!(f, "{e}"),
            StartError::Bind { addr, source } if source.kind() == std::io::ErrorKind::AddrInUse => {
                write!(
                    f,
                    "cannot listen on {addr}: the port is already in use (set PORT to another one)"
                )
            }
            StartError::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A bound, not yet serving server. Binding is separate from serving so
/// that "port in use" is reported before anything else happens, and so
/// that tests can bind port 0 and learn the real port.
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
}

impl Server {
    pub async fn bind(config: Config) -> Result<Server, StartError> {
        let addr = config.listen;
        let app = App::new(config).map_err(StartError::Roots)?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        Ok(Server {
            listener,
            app: Arc::new(app),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let app = &self.app;
        tracing::info!("listening on http://{}", self.local_addr());
        tracing::info!(
            "trusting {} root certificates: {}",
            app.root_count,
            app.roots_description
        );
        tracing::info!(
            "GitHub API at {}, avatars from {}, {}",
            app.config.api_url,
            app.config.avatar_url,
            if app.config.token.is_some() {
                "with a token"
            } else {
                "without a token (60 requests an hour)"
            }
        );
        if app.config.proxy.server().is_some() {
            for url in [&app.config.api_url, &app.config.avatar_url] {
                let (host, port) = url.host_port();
                tracing::info!("{}", app.config.proxy.describe_route(host, port));
            }
        }
        serve(self.listener, self.app, shutdown).await;
    }
}

/// Time a client gets to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `listener` until `shutdown` resolves, then drains.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .keep_alive_interval(Duration::from_secs(30));

    let slots = Arc::new(Semaphore::new(app.config.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);

    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // Usually EMFILE (out of file descriptors). Back off
                    // briefly instead of spinning on the error.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);

        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(turn_away(stream));
            continue;
        };
        let app = app.clone();
        let service = service_fn(move |request| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(logged(&app, request).await) }
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are client-side: resets, timeouts, bad requests.
            let _ = connection.await;
            drop(slot);
        });
    }

    // Closing the listener first means new connections are refused at once
    // while the ones we have are drained.
    drop(listener);
    let in_flight = graceful.count();
    let grace = app.config.shutdown_grace;
    tracing::info!("draining {in_flight} connection(s), up to {grace:?}");
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some requests did not finish within {grace:?}");
    }
}

/// Answers a connection we have no room for, without parsing its request.
async fn turn_away(mut stream: TcpStream) {
    const FULL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
        content-type: text/plain\r\ncontent-length: 22\r\nretry-after: 1\r\n\
        connection: close\r\n\r\nserver busy, try again";
    let answered = async {
        stream.write_all(FULL).await?;
        // A "lingering close": say we are done writing (FIN), then read and
        // discard what the client sent. Closing a socket that still holds
        // unread request bytes makes the kernel send a reset, and a reset can
        // destroy the 503 before the client has read it.
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    };
    // Bounded: a client that neither reads nor closes costs us 1 s at most.
    let _ = tokio::time::timeout(Duration::from_secs(1), answered).await;
}

/// Runs the router and logs the outcome.
async fn logged(app: &App, request: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let (parts, _body) = request.into_parts();
    let response = routes::handle(app, &parts.method, &parts.uri, &parts.headers).await;
    // The path only: a query could carry something a visitor typed.
    tracing::info!(
        method = %parts.method,
        path = parts.uri.path(),
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}
