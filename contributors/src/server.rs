//! The HTTP server: accept connections, serve them, stop cleanly.
//!
//! This is the plumbing around `routes::answer`, kept small and explicit:
//!
//! - **Bind, then run.** `Server::bind` builds the `App` and takes the port,
//!   so a bad CA file or a port in use is reported before anything is
//!   served, and tests can bind port 0 and learn the real port.
//! - **HTTP/1.1 only.** Browsers speak HTTP/2 only over TLS, and TLS to the
//!   browser belongs to the proxy or ingress in front of this server. Not
//!   serving HTTP/2 keeps its attack classes (rapid reset, CONTINUATION
//!   floods, PING-only idlers) and its code out of the binary.
//! - **A deadline on every phase of a connection** (see `timed_stream`): the
//!   request head from accept, keep-alive idle, and write progress. A
//!   client that sends nothing, idles, or stops reading loses its slot.
//! - **A cap on what a connection holds.** A request head larger than
//!   [`MAX_HEAD_BYTES`] gets a `431`, so a connection buffers at most that.
//! - **A connection cap.** Past `max_connections`, the connection idle the
//!   longest is closed to admit a new one; with none idle, new connections
//!   get an immediate `503` and are closed, instead of piling up until
//!   memory or file descriptors run out. One client may hold at most
//!   `client_connections` (see `guards/connections.rs`).
//! - **Graceful shutdown.** When the shutdown future resolves, the listener
//!   closes, connections with no request in hand close at once, and requests
//!   already received (even partly) are answered, with `Connection: close`,
//!   within `shutdown_grace`.
//! - **One log line per request**: method, path, status, duration; and the
//!   same request counted for `/metrics` by its route's name.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use http::request::Parts;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::app::App;
use crate::config::Config;
use crate::github::roots;
use crate::guards::connections::{Connections, Ticket};
use crate::guards::timed_stream::{Activity, Deadlines, TimedStream};
use crate::http::responses::Body;
use crate::ops::metrics::METRICS;
use crate::routes::{self, Answer, Route};

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

/// The most of a request one connection may buffer: its head, in effect,
/// since no route reads a body. hyper stops reading a head once its buffer
/// holds this much, and answers 431; a read can fill the buffer's spare
/// room, so a connection holds at most about twice this. (nginx allows
/// 32 KiB by default; hyper's own cap is about 400 KiB, and a few hundred
/// connections each sending an unfinished head that large cost 100 MB.)
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How long a new connection waits for the slot that closing an idle
/// connection frees, before it is turned away after all.
const MAKING_ROOM: Duration = Duration::from_secs(1);

/// What every connection's task shares.
struct Shared {
    app: Arc<App>,
    http: http1::Builder,
    deadlines: Deadlines,
    slots: Arc<Semaphore>,
    connections: Arc<Connections>,
    requests: Arc<Requests>,
    stopping: watch::Receiver<bool>,
}

/// What the requests being answered need to know of the server as a whole.
#[derive(Default)]
struct Requests {
    /// Answers that wait (for GitHub), for the shutdown log.
    in_flight: AtomicUsize,
    /// The server is stopping: every answer says `Connection: close`.
    closing: AtomicBool,
}

/// Serves `listener` until `shutdown` resolves, then drains.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let mut http = http1::Builder::new();
    // hyper's header timeout also restarts on idle, so it would cut idle
    // connections at the head deadline; `TimedStream` does both instead.
    http.header_read_timeout(None)
        .keep_alive(true)
        .max_buf_size(MAX_HEAD_BYTES);
    let max = app.config.max_connections;
    let (stop, stopping) = watch::channel(false);
    let shared = Arc::new(Shared {
        http,
        deadlines: Deadlines {
            head: app.config.header_timeout,
            idle: app.config.idle_timeout,
            write: app.config.write_timeout,
        },
        slots: Arc::new(Semaphore::new(max)),
        connections: Connections::new(app.config.client_connections),
        requests: Arc::default(),
        stopping,
        app,
    });
    tokio::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
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
        let (stream, activity) = TimedStream::new(stream, shared.deadlines);
        // The cap per client first, so that a client over it cannot make
        // the server close someone else's idle connection. A trusted
        // proxy's visitors all share its address: it is exempt.
        let exempt = (shared.app.config.trusted_proxies).trusts(peer.ip().to_canonical());
        let Ok(ticket) = shared.connections.open(peer.ip(), exempt, activity.clone()) else {
            METRICS.connection_turned_away();
            tokio::spawn(turn_away(stream.into_inner()));
            continue;
        };
        let connection = Connection {
            stream,
            peer,
            activity,
            ticket,
        };
        match shared.slots.clone().try_acquire_owned() {
            Ok(slot) => serve_connection(&shared, connection, slot),
            // Full: close the connection idle the longest, and take its slot.
            Err(_) if shared.connections.close_idlest() => {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let room = shared.slots.clone().acquire_owned();
                    match tokio::time::timeout(MAKING_ROOM, room).await {
                        Ok(Ok(slot)) => serve_connection(&shared, connection, slot),
                        _ => {
                            METRICS.connection_turned_away();
                            turn_away(connection.stream.into_inner()).await;
                        }
                    }
                });
            }
            Err(_) => {
                METRICS.connection_turned_away();
                tokio::spawn(turn_away(connection.stream.into_inner()));
            }
        }
    }

    // Closing the listener first means new connections are refused at once
    // while the ones we have are drained.
    shared.requests.closing.store(true, Ordering::SeqCst);
    drop(listener);
    let _ = stop.send(true);
    let grace = shared.app.config.shutdown_grace;
    let requests = shared.requests.in_flight.load(Ordering::SeqCst);
    if requests > 0 {
        tracing::info!("finishing {requests} request(s) in flight, for up to {grace:?}");
    }
    // Every slot back means every connection has closed.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, shared.slots.acquire_many(all))
        .await
        .is_err()
    {
        let left = shared.requests.in_flight.load(Ordering::SeqCst);
        tracing::warn!("{left} request(s) did not finish within {grace:?}");
    }
}

/// An accepted connection, let in by the cap per client.
struct Connection {
    stream: TimedStream,
    peer: SocketAddr,
    activity: Activity,
    ticket: Ticket,
}

/// Serves `connection` in a task of its own, holding `slot`.
fn serve_connection(shared: &Arc<Shared>, connection: Connection, slot: OwnedSemaphorePermit) {
    let Connection {
        stream,
        peer,
        activity,
        ticket,
    } = connection;
    let app = &shared.app;
    METRICS.connection_opened();
    let service = {
        let (app, activity, requests) = (app.clone(), activity.clone(), shared.requests.clone());
        service_fn(move |request| {
            activity.request_started();
            let answer = answer(&app, peer, request, &activity, &requests);
            async move { Ok::<_, Infallible>(answer.await) }
        })
    };
    let connection = shared.http.serve_connection(TokioIo::new(stream), service);
    let stopping = shared.stopping.clone();
    tokio::spawn(async move {
        tokio::pin!(connection);
        // Errors here are client-side: resets, timeouts, bad requests.
        // Told to stop (the server is stopping, or needs the slot) while
        // no byte of a request is in hand: close now (dropping the
        // connection closes the socket). Otherwise answer the request in
        // hand, with `Connection: close`, then close.
        if ended_or_stopped(connection.as_mut(), stopping, &ticket).await == Ended::Stopped
            && !activity.holds_nothing()
            && head_read(connection.as_mut(), &activity).await
        {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
        drop(ticket);
        drop(slot);
        METRICS.connection_closed();
    });
}

/// How [`ended_or_stopped`] returned.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The connection is over.
    Closed,
    /// The server is stopping, or wants the slot; the connection is open.
    Stopped,
}

/// Serves `connection` until it ends, until `stopping` turns true, or until
/// the server asks for its slot (`ticket`).
///
/// The same as a `select!` of the three, with one saving: the two signals
/// are polled once, which leaves this task's waker with each, and after
/// that only when a plain read says one has changed. (Polling the channel
/// on every wake-up would take the lock on its list of waiters, a lock that
/// every connection shares, once per request.)
async fn ended_or_stopped<F: Future>(
    mut connection: Pin<&mut F>,
    mut stopping: watch::Receiver<bool>,
    ticket: &Ticket,
) -> Ended {
    let changed = stopping.clone();
    // Resolves on true, or when the sender is gone: stop either way.
    let stop = stopping.wait_for(|stop| *stop);
    let evicted = ticket.closing();
    tokio::pin!(stop, evicted);
    let mut registered = false;
    std::future::poll_fn(|cx| {
        if connection.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ended::Closed);
        }
        if !registered || changed.has_changed().unwrap_or(true) || ticket.asked_to_close() {
            registered = true;
            let stopped = stop.as_mut().poll(cx).is_ready();
            if evicted.as_mut().poll(cx).is_ready() || stopped {
                return Poll::Ready(Ended::Stopped);
            }
        }
        Poll::Pending
    })
    .await
}

/// For a connection with part of a request head in hand when told to stop:
/// serves it until the head is complete (its deadline still holds), since
/// hyper would close a connection mid-head as if it were idle. False if the
/// connection ended first.
async fn head_read<F: Future>(mut connection: Pin<&mut F>, activity: &Activity) -> bool {
    std::future::poll_fn(|cx| {
        if connection.as_mut().poll(cx).is_ready() {
            return Poll::Ready(false);
        }
        match activity.is_reading_head() {
            true => Poll::Pending,
            false => Poll::Ready(true),
        }
    })
    .await
}

/// One request in the in-flight count, for as long as it waits (a request
/// whose client goes away is dropped, and uncounted, too). Only an answer
/// that waits is counted: one made at once is done before anything else
/// could look.
struct InFlight(Arc<Requests>);

impl InFlight {
    fn count(requests: &Arc<Requests>) -> InFlight {
        requests.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(requests.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An answer sent while the server stops says so: the client must not send
/// another request on this connection. (hyper closes it after the answer,
/// but does not say so itself.)
fn closing(requests: &Requests, mut response: Response<Body>) -> Response<Body> {
    if requests.closing.load(Ordering::Relaxed) {
        let close = http::HeaderValue::from_static("close");
        response
            .headers_mut()
            .insert(http::header::CONNECTION, close);
    }
    response
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

/// Answers `request`, then logs and counts the outcome.
///
/// Most answers come from memory (`Answer::Now`), and are made right here,
/// before this returns to hyper, with the request dropped on the way out.
/// That matters because the request's path and headers are slices of
/// hyper's read buffer: while the request lives, hyper cannot reuse that
/// buffer for the next read, and takes a new one (two allocations) for
/// each request. Only an answer that waits for GitHub (`Answer::Later`)
/// keeps the request for the wait, and only such an answer is counted in
/// `requests.in_flight`. Either way, `activity` learns when the response is
/// ready.
fn answer(
    app: &Arc<App>,
    peer: SocketAddr,
    request: Request<Incoming>,
    activity: &Activity,
    requests: &Arc<Requests>,
) -> impl Future<Output = Response<Body>> + use<> {
    let started = Instant::now();
    // The body is dropped unread: no route takes one.
    let (parts, _body) = request.into_parts();
    let client: IpAddr = app.config.trusted_proxies.client(peer.ip(), &parts.headers);
    let route = Route::of(parts.uri.path());
    let (method, uri, headers) = (&parts.method, &parts.uri, &parts.headers);
    let answer = match routes::answer(app, client, method, route, uri, headers, started) {
        Answer::Now(response) => {
            activity.response_ready();
            log(&parts, route, &response, started);
            Ok(closing(requests, response))
        }
        Answer::Later(wait) => {
            let (app, activity) = (app.clone(), activity.clone());
            let counted = InFlight::count(requests);
            // Boxed: the wait's future is large, and held inline it would
            // make every request's future that large (a future is copied
            // whole when it moves), the ones answered at once too.
            Err(Box::pin(async move {
                let response = wait.finish(&app, &parts.headers).await;
                activity.response_ready();
                log(&parts, Route::of(parts.uri.path()), &response, started);
                let response = closing(&counted.0, response);
                drop(counted);
                response
            }))
        }
    };
    async move {
        match answer {
            Ok(response) => response,
            Err(later) => later.await,
        }
    }
}

/// One line per request, and the request counted for `/metrics` under its
/// route's name.
fn log(request: &Parts, route: Route<'_>, response: &Response<Body>, started: Instant) {
    let took = started.elapsed();
    let status = response.status().as_u16();
    METRICS.request(route.index(), status, took);
    // The path only: a query could carry something a visitor typed.
    let micros = took.as_micros() as u64;
    crate::log::request(request.method.as_str(), request.uri.path(), status, micros);
}
