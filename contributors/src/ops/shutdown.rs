//! Waiting for the signal to stop: SIGTERM (what `docker stop` sends) or
//! SIGINT (Ctrl-C).
//!
//! Why a handler is needed at all: in a container the app is PID 1, and the
//! kernel gives PID 1 no default action for SIGTERM. A process that does not
//! handle it simply ignores it, so `docker stop` waits its full 10 seconds
//! and then kills the process with SIGKILL, cutting off whatever requests
//! were in flight. Handling the signal lets the server stop accepting, finish
//! what it started, and exit 0 in well under a second.

use tokio::signal::unix::{SignalKind, signal};

/// Resolves when SIGTERM or SIGINT arrives, with the signal's name.
pub async fn signalled() -> &'static str {
    let terminate = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    match (terminate, interrupt) {
        (Ok(mut terminate), Ok(mut interrupt)) => tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        },
        // Installing a handler only fails if the runtime has no signal
        // driver; say so instead of silently never stopping.
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!("cannot listen for signals ({e}); stop the process with SIGKILL");
            std::future::pending().await
        }
    }
}
