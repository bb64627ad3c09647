//! The query string (`?owner=o&repo=r`, `?max=200`, `?s=80`): finding one
//! value and percent-decoding it, the way HTML forms encode.
//!
//! The values are still visitor input: each caller checks its own
//! (`names.rs` the names, `routes.rs` the number, `avatars.rs` the size).

/// The value of `key` in a URL query string, percent-decoded, with `+` as
/// a space (the way HTML forms encode). `None` if absent or not UTF-8.
pub fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k)? == key).then(|| percent_decode(v))?
    })
}

fn percent_decode(text: &str) -> Option<String> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = (bytes.next()? as char).to_digit(16)?;
                let lo = (bytes.next()? as char).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out).ok()
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
    }
}
