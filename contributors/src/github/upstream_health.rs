//! Whether an upstream (the GitHub API, the avatar server) is answering, and
//! one log line each time that changes.
//!
//! An operator needs to hear that GitHub went away, why, and when it came
//! back. Logging every failed request would bury that in noise (and a busy
//! server would write thousands of identical lines a minute), so this keeps
//! the last known state and logs only transitions: a warning with the cause
//! when the upstream becomes unreachable or its rate limit runs out (with
//! the reset time), and an info line when it answers again.
//!
//! It also tells the wall whether waiting for the avatar server is worth
//! it ([`UpstreamHealth::is_up`]): not while the latest exchange got no
//! answer at all, but yes after an error status, which came back at once.
//! (One avatar's 500 must not turn the rest of a wall into placeholders.)

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Instant;

use crate::github::error::UpstreamError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Up,
    Unreachable,
    RateLimited,
}

/// The health of one upstream, shared by every request to it.
pub struct UpstreamHealth {
    /// What the log lines call it, e.g. "the GitHub API at api.github.com".
    name: String,
    state: Mutex<(State, Instant)>,
    /// Whether the latest exchange got no answer (`no_answer`).
    silent: AtomicBool,
}

impl UpstreamHealth {
    pub fn new(name: String) -> UpstreamHealth {
        UpstreamHealth {
            name,
            state: Mutex::new((State::Up, Instant::now())),
            silent: AtomicBool::new(false),
        }
    }

    /// Whether the upstream answers: false while its latest exchange got
    /// no answer at all (`no_answer`). The wall asks, so that no wall waits
    /// for an avatar host known to be unreachable or silent; an error
    /// status is an answer, and the next avatar may well be there.
    pub fn is_up(&self) -> bool {
        !self.silent.load(Relaxed)
    }

    /// Notes the outcome of one exchange, logging if the state changed.
    pub fn observe<T>(&self, outcome: &Result<T, UpstreamError>) {
        let now = match outcome {
            Ok(_) => State::Up,
            Err(error) => state_after(error),
        };
        let silent = outcome.as_ref().err().is_some_and(no_answer);
        self.silent.store(silent, Relaxed);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (was, since) = *state;
        if was == now {
            return;
        }
        *state = (now, Instant::now());
        drop(state);
        let name = &self.name;
        match (now, outcome) {
            (State::Up, _) => tracing::info!(
                "{name} answers again, after {} s",
                since.elapsed().as_secs()
            ),
            (State::Unreachable, Err(error)) => {
                tracing::warn!("{name} is unreachable: {error}; cached copies stand in")
            }
            (State::RateLimited, Err(error)) => {
                tracing::warn!("{name}: {error}; cached copies stand in")
            }
            (_, Ok(_)) => {}
        }
    }
}

/// What an error says about the upstream. An answer such as "not found",
/// however unwelcome, shows that it is up.
fn state_after(error: &UpstreamError) -> State {
    match error {
        UpstreamError::RateLimited { .. } => State::RateLimited,
        UpstreamError::Status { status, .. } if *status >= 500 => State::Unreachable,
        UpstreamError::Malformed { .. } => State::Unreachable,
        error if no_answer(error) => State::Unreachable,
        _ => State::Up,
    }
}

/// Whether `error` means that no answer came back: the connection could
/// not be made or secured, or broke, or the answer was too slow.
fn no_answer(error: &UpstreamError) -> bool {
    matches!(
        error,
        UpstreamError::Dns { .. }
            | UpstreamError::Connect { .. }
            | UpstreamError::Tls { .. }
            | UpstreamError::Timeout { .. }
            | UpstreamError::Broken { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_status_is_an_answer_and_silence_is_not() {
        let health = UpstreamHealth::new("the avatar server".into());
        let host = || "h".to_string();
        let fail = |error: UpstreamError| health.observe(&Err::<(), _>(error));
        assert!(health.is_up());
        fail(UpstreamError::Status {
            host: host(),
            status: 500,
        });
        assert!(health.is_up(), "a 500 came back: the next one may not");
        fail(UpstreamError::Timeout {
            host: host(),
            seconds: 1,
        });
        assert!(!health.is_up(), "silent: walls do not wait for it");
        fail(UpstreamError::NotFound {
            what: "an avatar".into(),
        });
        assert!(health.is_up());
        fail(UpstreamError::Connect {
            host: host(),
            detail: "refused".into(),
        });
        assert!(!health.is_up());
        health.observe(&Ok::<(), UpstreamError>(()));
        assert!(health.is_up());
    }

    #[test]
    fn answers_that_say_no_still_mean_up() {
        let host = || "h".to_string();
        assert_eq!(
            state_after(&UpstreamError::NotFound { what: "a/b".into() }),
            State::Up
        );
        assert_eq!(
            state_after(&UpstreamError::Status {
                host: host(),
                status: 403
            }),
            State::Up
        );
        assert_eq!(
            state_after(&UpstreamError::Status {
                host: host(),
                status: 502
            }),
            State::Unreachable
        );
        assert_eq!(
            state_after(&UpstreamError::Timeout {
                host: host(),
                seconds: 1
            }),
            State::Unreachable
        );
        assert_eq!(
            state_after(&UpstreamError::RateLimited { reset: None }),
            State::RateLimited
        );
    }
}
