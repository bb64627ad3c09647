//! Small pure helpers: HTTP dates, entity tags and the clock.
//!
//! Each is a few lines, so the fake carries them itself instead of pulling in
//! a crate per helper; the tests at the bottom pin them to known answers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, as GitHub writes `x-ratelimit-reset`.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// Turns days since 1970-01-01 into a (year, month, day) civil date.
///
/// This is Howard Hinnant's `civil_from_days`: it counts in 400-year eras,
/// the period after which the Gregorian calendar repeats exactly.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // year of era
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year, March-based
    let mp = (5 * doy + 2) / 153; // month, March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Formats Unix seconds as an HTTP date (`Tue, 15 Nov 1994 08:12:31 GMT`),
/// the only format `Last-Modified` may use (RFC 9110 §5.6.7).
pub(crate) fn http_date(unix_secs: u64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = (unix_secs / 86_400) as i64;
    let secs_of_day = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize], // 1970-01-01 was a Thursday
        day,
        MONTHS[(month - 1) as usize],
        year,
        secs_of_day / 3_600,
        secs_of_day / 60 % 60,
        secs_of_day % 60,
    )
}

/// 64-bit FNV-1a: a tiny, stable hash. Stable matters: an entity tag must be
/// the same for the same body in every run, which `DefaultHasher` does not
/// promise.
fn fnv1a(seed: u64, data: &[u8]) -> u64 {
    let mut hash = seed;
    for &byte in data {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The opaque part of an entity tag for `body`: 32 hex digits, from two FNV
/// passes with different seeds so that collisions are unlikely in practice.
pub(crate) fn etag_hash(body: &[u8]) -> String {
    let a = fnv1a(0xcbf2_9ce4_8422_2325, body);
    let b = fnv1a(0x6c62_272e_07bb_0142, body);
    format!("{a:016x}{b:016x}")
}

/// Does an `If-None-Match` header value match the entity tag `tag` (given
/// with its quotes and any `W/`)? If-None-Match uses the weak comparison
/// (RFC 9110 §13.1.2), so `W/"x"` and `"x"` match each other; the header may
/// list several tags, or be `*`.
pub(crate) fn if_none_match(header: &str, tag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let ours = strip(tag);
    header
        .split(',')
        .any(|candidate| candidate.trim() == "*" || strip(candidate) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_match_known_values() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_887_151), "Tue, 15 Nov 1994 08:12:31 GMT");
        // A leap day, to exercise the March-based year.
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        assert!(if_none_match(r#"W/"abc""#, r#"W/"abc""#));
        assert!(if_none_match(r#""abc""#, r#"W/"abc""#));
        assert!(if_none_match(r#""x", W/"abc""#, r#"W/"abc""#));
        assert!(if_none_match("*", r#"W/"abc""#));
        assert!(!if_none_match(r#"W/"abd""#, r#"W/"abc""#));
    }
}
