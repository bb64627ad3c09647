//! Wall-clock time, in the two forms the app needs: Unix seconds (GitHub
//! writes its rate-limit reset that way, and a list records when it was
//! last confirmed) and `HH:MM` UTC for the sentences a visitor reads.
//!
//! Small on purpose: a date-time crate would add weight for two functions.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch (0 if the clock is set before 1970).
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `HH:MM` (UTC) of a Unix timestamp; enough for "resets at ..." and
/// "data from ..." notes without a date-time dependency.
pub fn clock_time(unix: u64) -> String {
    let minutes_of_day = (unix % 86_400) / 60;
    format!("{:02}:{:02}", minutes_of_day / 60, minutes_of_day % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_time_is_utc_hours_and_minutes() {
        assert_eq!(clock_time(0), "00:00");
        assert_eq!(clock_time(1_700_000_000), "22:13");
    }
}
