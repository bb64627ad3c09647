//! GitHub's API rate limit, as GitHub last told us about it.
//!
//! Every API answer carries `x-ratelimit-remaining` and `x-ratelimit-reset`.
//! Once the quota is spent, asking again only earns more 403s, so we stop
//! calling GitHub until the reset time and answer from the cache (or with
//! the rate-limit page) instead. `/status` shows what is left.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use serde::Serialize;

/// The quota as of the latest answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Quota {
    pub limit: Option<u64>,
    pub remaining: u64,
    /// Unix time at which `remaining` goes back to `limit`.
    pub reset: u64,
}

/// Shared tracker, updated from every API answer.
#[derive(Default)]
pub struct RateLimit {
    latest: Mutex<Option<Quota>>,
}

impl RateLimit {
    /// Notes the quota an answer reports. A 429 or 403 rate-limit answer
    /// with only `retry-after` counts as "none left for that long".
    pub fn observe(&self, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let quota = match (number("x-ratelimit-remaining"), number("x-ratelimit-reset")) {
            (Some(remaining), Some(reset)) => Quota {
                limit: number("x-ratelimit-limit"),
                remaining,
                reset,
            },
            _ => match number("retry-after") {
                Some(seconds) => Quota {
                    limit: None,
                    remaining: 0,
                    reset: now_unix() + seconds,
                },
                None => return,
            },
        };
        *self.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(quota);
    }

    /// If the quota is spent and not yet reset, the reset time.
    pub fn exhausted_until(&self) -> Option<u64> {
        let quota = (*self.latest.lock().unwrap_or_else(|p| p.into_inner()))?;
        (quota.remaining == 0 && now_unix() < quota.reset).then_some(quota.reset)
    }

    /// The latest quota seen, if any answer has told us yet.
    pub fn latest(&self) -> Option<Quota> {
        *self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn spent_quota_blocks_until_the_reset() {
        let rate = RateLimit::default();
        assert_eq!(rate.exhausted_until(), None);
        let reset = now_unix() + 600;
        rate.observe(&headers(&[
            ("x-ratelimit-limit", "60".into()),
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset", reset.to_string()),
        ]));
        assert_eq!(rate.exhausted_until(), Some(reset));
        assert_eq!(rate.latest().unwrap().limit, Some(60));

        rate.observe(&headers(&[
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset", (now_unix() - 1).to_string()),
        ]));
        assert_eq!(
            rate.exhausted_until(),
            None,
            "a past reset no longer blocks"
        );
    }

    #[test]
    fn retry_after_counts_as_spent() {
        let rate = RateLimit::default();
        rate.observe(&headers(&[("retry-after", "30".into())]));
        assert!(rate.exhausted_until().is_some());
        rate.observe(&HeaderMap::new());
        assert!(
            rate.exhausted_until().is_some(),
            "no headers: nothing learnt"
        );
    }
}
