//! The network side: accept TCP, do TLS, serve HTTP/1.1 or HTTP/2.
//!
//! Every task here ends when its fake shuts down. The accept loop and each
//! connection wait on the shutdown signal alongside their work, and HTTP/2
//! streams — which hyper spawns through an executor, outside any task we hold
//! — run through [`ShutdownExecutor`], which wraps each in the same wait. So
//! dropping a `FakeGitHub` leaves nothing behind, even a stalled request.
//! Handlers themselves never wait on shutdown: a request cut short is dropped
//! with its connection or stream, unanswered, so no answer can race the close.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::routes;
use crate::state::Shared;
use crate::stats::ConnectionUse;

/// How long a client may take over the TLS handshake before it is dropped:
/// a connection that never says hello must not be held for ever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until shutdown. The loop is bounded by the fake's
/// lifetime: it ends when `shared.shutdown()` resolves.
pub(crate) async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    // Dropping the set (when this loop ends) aborts every connection task.
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shared.shutdown() => break,
        };
        // Forget finished connections so the set does not grow for ever.
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((tcp, peer)) => {
                connections.spawn(serve(tcp, peer, acceptor.clone(), Arc::clone(&shared)));
            }
            // Typically "too many open files": back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// One connection: TLS handshake, then HTTP until either side closes.
async fn serve(tcp: TcpStream, peer: SocketAddr, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    // Small answers go out at once rather than waiting on Nagle's algorithm.
    let _ = tcp.set_nodelay(true);
    // A far-away server: the TCP and TLS handshakes' round trips.
    let connect_latency = shared.lock().connect_latency;
    if !connect_latency.is_zero() {
        tokio::time::sleep(connect_latency).await;
    }
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        // A client that does not trust the CA, speaks plain HTTP, or is slow.
        _ => {
            shared.lock().failed_handshakes += 1;
            return;
        }
    };
    // Counted only now: a handshake is an upstream connection the app made.
    shared.lock().handshakes += 1;

    let service_shared = Arc::clone(&shared);
    let connection_use = Arc::new(ConnectionUse::default());
    let service = service_fn(move |request| {
        let shared = Arc::clone(&service_shared);
        let connection_use = Arc::clone(&connection_use);
        async move { routes::handle(&shared, peer, &connection_use, request).await }
    });
    // The auto builder reads the first bytes and picks HTTP/1.1 or HTTP/2,
    // which agrees with what ALPN settled on.
    let builder = auto::Builder::new(ShutdownExecutor {
        shutdown: shared.shutdown_receiver(),
    });
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    tokio::select! {
        // Errors here are clients hanging up or our own on-purpose resets.
        _ = connection => {}
        () = shared.shutdown() => {}
    }
}

/// Spawns hyper's background futures (HTTP/2 streams) on the current tokio
/// runtime, each cut short when the fake shuts down.
#[derive(Clone)]
struct ShutdownExecutor {
    shutdown: watch::Receiver<()>,
}

impl<F> hyper::rt::Executor<F> for ShutdownExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        let mut shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = future => {}
                // Nothing is ever sent: this returns when the sender drops.
                _ = shutdown.changed() => {}
            }
        });
    }
}
