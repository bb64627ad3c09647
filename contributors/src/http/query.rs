//! The query string (`?owner=o&repo=r`, `?max=200`, `?s=80`): finding one
//! value and percent-decoding it, the way HTML forms encode.
//!
//! The values are still visitor input: each caller checks its own
//! (`names.rs` the names, `routes.rs` the options, `avatars.rs` the size).
//! [`number`] and [`switch`] are those checks for the two common shapes,
//! with the sentence a 400 answer shows.

use std::ops::RangeInclusive;

/// The value of `key` in a URL query string, percent-decoded, with `+` as
/// a space (the way HTML forms encode). `None` if absent or not UTF-8.
pub fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let form_decode = |text: &str| percent_decode(&text.replace('+', " "));
        (form_decode(k)? == key).then(|| form_decode(v))?
    })
}

/// The whole number `key` in `range`, `default` when absent, or the
/// sentence saying what is allowed.
pub fn number(
    query: Option<&str>,
    key: &str,
    range: RangeInclusive<usize>,
    default: usize,
) -> Result<usize, String> {
    let Some(text) = query_value(query, key) else {
        return Ok(default);
    };
    match text.parse::<usize>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!(
            "{key} must be a whole number from {} to {}",
            range.start(),
            range.end()
        )),
    }
}

/// An on/off option: `key=1` is on, `key=0` or absent is off.
pub fn switch(query: Option<&str>, key: &str) -> Result<bool, String> {
    match query_value(query, key).as_deref() {
        None | Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(_) => Err(format!("{key} must be 0 or 1")),
    }
}

/// `%XX` escapes decoded (RFC 3986; a `+` stays a `+`), by the
/// `percent-encoding` crate. `None` if an escape is broken (the crate would
/// pass it through) or the result is not UTF-8. Also used for the
/// credentials in a proxy URL (`github/proxy.rs`).
pub fn percent_decode(text: &str) -> Option<String> {
    let whole = |after: &str| {
        (after.get(..2)).is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    if !text.split('%').skip(1).all(whole) {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()?;
    Some(decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded() {
        let q = Some("owner=rust-lang&repo=rust%2Dx&empty=&plus=a+b&bad=%zz");
        assert_eq!(query_value(q, "owner").as_deref(), Some("rust-lang"));
        assert_eq!(query_value(q, "repo").as_deref(), Some("rust-x"));
        assert_eq!(query_value(q, "empty").as_deref(), Some(""));
        assert_eq!(query_value(q, "plus").as_deref(), Some("a b"));
        assert_eq!(query_value(q, "bad"), None);
        assert_eq!(query_value(q, "missing"), None);
        assert_eq!(query_value(None, "owner"), None);
        assert_eq!(query_value(Some("%ff=1"), "x"), None);
        assert_eq!(query_value(Some("p=a%2Bb"), "p").as_deref(), Some("a+b"));
        assert_eq!(percent_decode("a+b%40c").as_deref(), Some("a+b@c"));
    }

    #[test]
    fn numbers_and_switches_are_checked() {
        let q = Some("max=20&columns=0&size=x&anon=1&off=0&bad=yes");
        assert_eq!(number(q, "max", 1..=500, 100), Ok(20));
        assert_eq!(number(q, "missing", 1..=500, 100), Ok(100));
        assert_eq!(
            number(q, "columns", 1..=50, 12),
            Err("columns must be a whole number from 1 to 50".into())
        );
        assert!(number(q, "size", 1..=96, 64).is_err());
        assert_eq!(number(Some("max=501"), "max", 1..=500, 100).ok(), None);
        assert_eq!(switch(q, "anon"), Ok(true));
        assert_eq!(switch(q, "off"), Ok(false));
        assert_eq!(switch(q, "missing"), Ok(false));
        assert_eq!(switch(q, "bad"), Err("bad must be 0 or 1".into()));
    }
}
