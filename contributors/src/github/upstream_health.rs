//! Whether an upstream (the GitHub API, the avatar server) is answering, and
//! one log line each time that changes.
//!
//! An operator needs to hear that GitHub went away, why, and when it came
//! back. Logging every failed request would bury that in noise (and a busy
//! server would write thousands of identical lines a minute), so this keeps
//! the last known state and logs only transitions: a warning with the cause
//! when the upstream becomes unreachable or its rate limit runs out (with
//! the reset time), and an info line when it answers again.

use std::sync::Mutex;
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
}

impl UpstreamHealth {
    pub fn new(name: String) -> UpstreamHealth {
        UpstreamHealth {
            name,
            state: Mutex::new((State::Up, Instant::now())),
        }
    }

    /// Whether the latest exchange said the upstream answers. The wall asks,
    /// so that no wall waits for an avatar host known to be down.
    pub fn is_up(&self) -> bool {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).0 == State::Up
    }

    /// Notes the outcome of one exchange, logging if the state changed.
    pub fn observe<T>(&self, outcome: &Result<T, UpstreamError>) {
        let now = match outcome {
            Ok(_) => State::Up,
            Err(error) => state_after(error),
        };
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
        UpstreamError::Dns { .. }
        | UpstreamError::Connect { .. }
        | UpstreamError::Tls { .. }
        | UpstreamError::Timeout { .. }
        | UpstreamError::Broken { .. }
        | UpstreamError::Malformed { .. } => State::Unreachable,
        _ => State::Up,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
