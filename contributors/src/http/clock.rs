//! Wall-clock time, in the forms the app needs: Unix seconds (GitHub
//! writes its rate-limit reset that way, and a list records when it was
//! last confirmed), `HH:MM` UTC for the sentences a visitor reads, and
//! RFC 3339 for the JSON API.
//!
//! Small on purpose: a date-time crate would add weight for three functions.

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

/// When `unix` is, for a sentence read at `now`: `HH:MM` on the same UTC
/// day, else `YYYY-MM-DD HH:MM` (a time alone would read as today's).
pub fn moment(unix: u64, now: u64) -> String {
    if unix / 86_400 == now / 86_400 {
        return clock_time(unix);
    }
    format!("{} {}", &rfc3339(unix)[..10], clock_time(unix))
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) of a Unix timestamp, as RFC 3339 writes it.
pub fn rfc3339(unix: u64) -> String {
    let (days, secs) = (unix / 86_400, unix % 86_400);
    // Days since 1970-01-01 to a civil date, counting in 400-year eras
    // that start on 1 March, so the leap day falls at the end of a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_time_is_utc_hours_and_minutes() {
        assert_eq!(clock_time(0), "00:00");
        assert_eq!(clock_time(1_700_000_000), "22:13");
    }

    #[test]
    fn a_moment_on_another_day_has_its_date() {
        let now = 1_700_000_000; // 2023-11-14 22:13
        assert_eq!(moment(now + 60, now), "22:14");
        assert_eq!(moment(now + 7_200, now), "2023-11-15 00:13");
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
    }
}
