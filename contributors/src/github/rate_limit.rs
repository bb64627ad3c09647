//! GitHub's API rate limit, as GitHub last told us about it.
//!
//! Every API answer carries `x-ratelimit-remaining` and `x-ratelimit-reset`.
//! Once the quota is spent, asking again only earns more 403s, so we stop
//! calling GitHub until the reset time and answer from the cache (or with
//! the rate-limit page) instead. `/status` shows what is left.

use std::sync::Mutex;

use http::HeaderMap;
use serde::Serialize;

use crate::http::clock::now_unix;

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
        let Some(quota) = RateHeaders::read(headers).quota() else {
            return;
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

/// The rate-limit headers of one answer, read in this one place: the
/// tracker above keeps the quota, `github.rs` tells a rate-limit 403 from
/// another 403 and says when to come back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateHeaders {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// `x-ratelimit-reset`, in Unix time.
    pub reset: Option<u64>,
    /// `retry-after`, in seconds from now.
    pub retry_after: Option<u64>,
}

impl RateHeaders {
    pub fn read(headers: &HeaderMap) -> RateHeaders {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        // GitHub's window is an hour: a reset further ahead is not believed
        // (it would refuse every uncached lookup until a restart), and is
        // taken as an hour from now.
        let latest = now_unix().saturating_add(WINDOW);
        RateHeaders {
            limit: number("x-ratelimit-limit"),
            remaining: number("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset").map(|reset| reset.min(latest)),
            retry_after: number("retry-after").map(|seconds| seconds.min(WINDOW)),
        }
    }

    /// When asking again makes sense: `retry-after` seconds from now, else
    /// the quota's reset. (GitHub's order: a secondary limit's 429 carries
    /// `retry-after` and the quota's headers too, with calls left in the
    /// hour; its wait is the `retry-after`, not the hour's end.)
    pub fn reset_at(&self) -> Option<u64> {
        (self.retry_after.map(|s| now_unix() + s)).or(self.reset)
    }

    /// The quota these headers report: the `x-ratelimit-*` trio, or, with
    /// only `retry-after`, none left until then.
    fn quota(&self) -> Option<Quota> {
        match (self.remaining, self.reset) {
            (Some(remaining), Some(reset)) => Some(Quota {
                limit: self.limit,
                remaining,
                reset,
            }),
            _ => self.retry_after.map(|seconds| Quota {
                limit: None,
                remaining: 0,
                reset: now_unix() + seconds,
            }),
        }
    }
}

/// GitHub's rate-limit window, in seconds: no reset is further ahead.
const WINDOW: u64 = 3600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_is_never_more_than_an_hour_ahead() {
        let rate = RateLimit::default();
        let far = [
            ("x-ratelimit-remaining", "0".to_string()),
            ("x-ratelimit-reset", "99999999999".to_string()),
        ];
        rate.observe(&headers(&far));
        let until = rate.exhausted_until().expect("spent");
        let now = now_unix();
        assert!(
            until <= now + WINDOW && until + 5 >= now + WINDOW,
            "{until}"
        );
        let h = headers(&[("retry-after", "99999999999".to_string())]);
        let read = RateHeaders::read(&h);
        assert_eq!(read.retry_after, Some(WINDOW));
        let at = read.reset_at().unwrap();
        assert!(at <= now_unix() + WINDOW && at + 5 >= now + WINDOW, "{at}");
    }

    #[test]
    fn a_retry_after_comes_before_the_quotas_reset() {
        let reset = now_unix() + 1800;
        let quota = [
            ("x-ratelimit-remaining", "57".to_string()),
            ("x-ratelimit-reset", reset.to_string()),
        ];
        assert_eq!(RateHeaders::read(&headers(&quota)).reset_at(), Some(reset));
        let mut secondary = quota.to_vec();
        secondary.push(("retry-after", "60".to_string()));
        let before = now_unix();
        let at = RateHeaders::read(&headers(&secondary)).reset_at().unwrap();
        assert!((before + 60..=now_unix() + 60).contains(&at), "{at}");
        assert_eq!(RateHeaders::read(&HeaderMap::new()).reset_at(), None);
    }

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
        // Nor does one that is now (unless the second turns meanwhile:
        // then it is past).
        rate.observe(&headers(&[
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset", now_unix().to_string()),
        ]));
        assert_eq!(rate.exhausted_until(), None, "a reset now is over");
    }

    #[test]
    fn retry_after_counts_as_spent() {
        let rate = RateLimit::default();
        let before = now_unix();
        rate.observe(&headers(&[("retry-after", "30".into())]));
        let after = now_unix();
        // Blocked for those 30 seconds, and no longer.
        let until = rate.exhausted_until().expect("spent");
        assert!((before + 30..=after + 30).contains(&until), "{until}");
        rate.observe(&HeaderMap::new());
        assert!(
            rate.exhausted_until().is_some(),
            "no headers: nothing learnt"
        );
    }
}
