//! An answer made once and sent many times: its bytes as they are, the
//! same bytes gzipped, and a validator for each.
//!
//! A contributors page for 100 people is about 30 KB of HTML and under
//! 3 KB gzipped, and a browser that holds a copy should not download it
//! again just to learn that nothing changed. Both savings cost work, so the
//! work is done once, when the answer is made: a page when it is rendered
//! into the page cache, the form and the stylesheet when first asked for
//! (`App::index`). Serving picks stored bytes and compresses nothing.
//!
//! Per request, [`Representation::respond`] does HTTP's part:
//!
//! - **Which bytes.** `Accept-Encoding` decides between gzip and identity:
//!   q-values count (`gzip;q=0` means "not gzip"), and `*` stands for gzip
//!   when gzip is not named. A request without the header gets identity.
//!   Answers that have a gzip form say `Vary: Accept-Encoding`, so that a
//!   shared cache keeps the two forms apart.
//! - **Validators.** Each form has a strong `ETag` from a hash of the
//!   content; the gzip form's ends in `-gz`, because HTTP wants different
//!   bytes to carry different tags. An `If-None-Match` naming the chosen
//!   form's tag (or `*`) gets `304 Not Modified`: the same headers, no body.
//! - **HEAD** needs nothing here: `routes::answer` sends the GET answer's
//!   headers, `Content-Length` included, without its body.
//!
//! - **Freshness.** An answer made from a cached list ([`Representation::shared`])
//!   may be kept by shared caches for what is left of the list's TTL, so
//!   its `Cache-Control: max-age` counts down, as of the moment the request
//!   arrived ([`Representation::respond_at`]). It changes once a second, so
//!   each form's headers change in place once a second, not per request.
//!
//! Small bodies (under [`MIN_GZIP_BYTES`]) and bodies that gzip does not
//! shrink are kept as they are; so are images ([`Representation::identity`]),
//! which are compressed already.
//!
//! To serve a new cacheable answer, make it once and keep it (in `App`, or
//! in a cache next to what it was made from):
//!
//! ```ignore
//! // once: hash, gzip, and the headers of each form
//! let answer = Representation::new(bytes, Kind::Json, "public, max-age=60");
//! answer.respond(request_headers) // per request: pick a form, copy its headers
//! ```

use std::hash::{DefaultHasher, Hasher};
use std::io::Write;
use std::sync::RwLock;
use std::time::Instant;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};

use crate::http::responses::{Body, Kind, NO_STORE, respond, shared_cache_control};

/// Below this, gzip's header and the extra round of negotiation cost more
/// than they save.
pub const MIN_GZIP_BYTES: usize = 1024;

/// One answer's content, in each form we send, with their validators.
#[derive(Debug)]
pub struct Representation {
    identity: Encoded,
    gzip: Option<Encoded>,
}

/// One form of the content, its `ETag`, and the headers it goes out with.
#[derive(Debug)]
struct Encoded {
    body: Bytes,
    etag: HeaderValue,
    /// A 200's headers for this form, made with it: a response starts as
    /// a copy of them instead of being built header by header.
    headers: Headers,
}

/// The headers a form goes out with.
#[derive(Debug)]
enum Headers {
    /// The same for every answer.
    Fixed(HeaderMap),
    /// A [`Representation::shared`] answer's, whose `max-age` counts down.
    Countdown(Countdown),
}

/// The `max-age` of an answer made from a list, counting down to the end
/// of the list's TTL (`fresh_until`).
#[derive(Debug)]
struct Countdown {
    fresh_until: Instant,
    /// The form's headers with the `Cache-Control` of one `max-age`, and
    /// that `max-age` in seconds: changed when it changes, once a second.
    /// (`NOT_MADE` until the first answer, with a placeholder there.) One
    /// map, changed in place: a second one kept only to remake it from
    /// would double the maps the page cache holds (one per form of every
    /// answer), and each change would allocate a new map.
    this_second: RwLock<(u64, HeaderMap)>,
}

/// A `max-age` no answer has: the headers are made on first use.
const NOT_MADE: u64 = u64::MAX;

impl Countdown {
    /// A copy of the headers with the `max-age` left at `now`. It is
    /// changed at most once a second (under the write lock); every other
    /// answer only copies them.
    fn headers(&self, now: Instant) -> HeaderMap {
        let max_age = self.fresh_until.saturating_duration_since(now).as_secs();
        {
            let held = self.this_second.read().unwrap_or_else(|p| p.into_inner());
            if held.0 == max_age {
                return held.1.clone();
            }
        }
        let mut held = self.this_second.write().unwrap_or_else(|p| p.into_inner());
        if held.0 != max_age {
            held.1
                .insert(header::CACHE_CONTROL, shared_cache_control(max_age));
            held.0 = max_age;
        }
        held.1.clone()
    }
}

impl Representation {
    /// `body`, hashed and, when that pays, gzipped, to be sent as `kind`
    /// with `cache` as its `Cache-Control` (as for [`respond`]). This is the
    /// expensive step: call it once per content, never per request.
    pub fn new(body: impl Into<Bytes>, kind: Kind, cache: &'static str) -> Representation {
        let body = body.into();
        let gzip = gzipped(&body);
        Representation::of(body, gzip, kind, cache, None)
    }

    /// Like [`Representation::new`], for an answer made from a list whose
    /// TTL ends at `fresh_until`: shared caches may keep it until then
    /// ([`shared_cache_control`]).
    pub fn shared(body: impl Into<Bytes>, kind: Kind, fresh_until: Instant) -> Representation {
        let body = body.into();
        let gzip = gzipped(&body);
        // The placeholder is replaced before the first answer goes out.
        Representation::of(body, gzip, kind, NO_STORE, Some(fresh_until))
    }

    /// Like [`Representation::shared`], with the gzip form made already
    /// (or none): for a large answer (the wall) whose compressing is done
    /// elsewhere, off the async workers, at a level of its own choosing.
    pub fn shared_with_gzip(
        body: Bytes,
        gzip: Option<Bytes>,
        kind: Kind,
        fresh_until: Instant,
    ) -> Representation {
        Representation::of(body, gzip, kind, NO_STORE, Some(fresh_until))
    }

    /// Like [`Representation::new`], with the gzip form made already (or
    /// none).
    pub fn with_gzip(
        body: Bytes,
        gzip: Option<Bytes>,
        kind: Kind,
        cache: &'static str,
    ) -> Representation {
        Representation::of(body, gzip, kind, cache, None)
    }

    /// `body` as it is, with its `ETag` but no gzip form: for content that
    /// is compressed already, such as images.
    pub fn identity(body: impl Into<Bytes>, kind: Kind, cache: &'static str) -> Representation {
        Representation::of(body.into(), None, kind, cache, None)
    }

    fn of(
        body: Bytes,
        gzip: Option<Bytes>,
        kind: Kind,
        cache: &'static str,
        fresh_until: Option<Instant>,
    ) -> Representation {
        // "abc" and "abc-gz": both from the hash of the content.
        let hash = content_hash(&body);
        let vary = gzip.is_some();
        let encoded = |body: Bytes, suffix: &'static str, coding: Option<HeaderValue>| {
            let etag = tag(hash, suffix);
            let (parts, _) = respond(StatusCode::OK, kind, cache, body.clone()).into_parts();
            let mut headers = parts.headers;
            headers.insert(header::ETAG, etag.clone());
            if vary {
                headers.insert(
                    header::VARY,
                    const { HeaderValue::from_static("accept-encoding") },
                );
            }
            if let Some(coding) = coding {
                headers.insert(header::CONTENT_ENCODING, coding);
            }
            let headers = match fresh_until {
                None => Headers::Fixed(headers),
                Some(fresh_until) => Headers::Countdown(Countdown {
                    fresh_until,
                    this_second: RwLock::new((NOT_MADE, headers)),
                }),
            };
            Encoded {
                body,
                etag,
                headers,
            }
        };
        Representation {
            gzip: gzip.map(|gzip| encoded(gzip, "-gz", Some(HeaderValue::from_static("gzip")))),
            identity: encoded(body, "", None),
        }
    }

    /// The content as it is (the wall inlines avatars from it).
    pub fn body(&self) -> &Bytes {
        &self.identity.body
    }

    /// The gzip form, if the content has one.
    pub fn gzip(&self) -> Option<&Bytes> {
        self.gzip.as_ref().map(|g| &g.body)
    }

    /// The bytes held, both forms together: what a cache should count.
    pub fn weight(&self) -> usize {
        self.identity.body.len() + self.gzip().map_or(0, Bytes::len)
    }

    /// The answer to a GET or HEAD with `request`'s headers: the form it
    /// accepts, or a 304 (the same headers, no body) when it already holds
    /// that form. A shared answer's `max-age` is counted as of now.
    pub fn respond(&self, request: &HeaderMap) -> Response<Body> {
        self.respond_as_of(request, None)
    }

    /// Like [`Representation::respond`], for a request that arrived at
    /// `arrived`: a shared answer's `max-age` is counted as of then, so the
    /// clock the server read for the request serves here too.
    pub fn respond_at(&self, request: &HeaderMap, arrived: Instant) -> Response<Body> {
        self.respond_as_of(request, Some(arrived))
    }

    fn respond_as_of(&self, request: &HeaderMap, arrived: Option<Instant>) -> Response<Body> {
        // One pass over the request's headers reads both that matter here.
        // (Looking each up by name would hash the name, twice per request,
        // to find headers that most requests do not even send.) An
        // `If-None-Match` is checked against both forms' tags as it comes.
        let mut codings = Codings::default();
        let (mut holds_identity, mut holds_gzip) = (false, false);
        for (name, value) in request {
            if name == header::ACCEPT_ENCODING {
                codings.read(value);
            } else if name == header::IF_NONE_MATCH {
                holds_identity |= lists_tag(value.as_bytes(), self.identity.etag.as_bytes());
                holds_gzip |= (self.gzip.as_ref())
                    .is_some_and(|gzip| lists_tag(value.as_bytes(), gzip.etag.as_bytes()));
            }
        }
        let (chosen, not_modified) = match &self.gzip {
            Some(gzip) if codings.prefer_gzip() => (gzip, holds_gzip),
            _ => (&self.identity, holds_identity),
        };
        let body = if not_modified {
            Bytes::new()
        } else {
            chosen.body.clone()
        };
        let mut response = Response::new(Body::new(body));
        *response.headers_mut() = match &chosen.headers {
            Headers::Fixed(headers) => headers.clone(),
            Headers::Countdown(countdown) => {
                countdown.headers(arrived.unwrap_or_else(Instant::now))
            }
        };
        if not_modified {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            // A 304 says no length (an empty 200 would have said 0).
            response.headers_mut().remove(header::CONTENT_LENGTH);
        }
        response
    }
}

/// A hash of `body`, the same in every process built by the same Rust.
fn content_hash(body: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(body);
    hasher.finish()
}

/// `"{hash}{suffix}"` as a header value. Quoted hex always is one; the
/// fallback is only there so that this cannot panic.
fn tag(hash: u64, suffix: &'static str) -> HeaderValue {
    HeaderValue::try_from(format!("\"{hash:016x}{suffix}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// `body` gzipped, if it is large enough to bother and gzip shrinks it.
fn gzipped(body: &[u8]) -> Option<Bytes> {
    // Best compression: it runs once per content, not per request, and the
    // bodies made here (pages, JSON lists, the form) are at most a few
    // hundred KB. Walls, which are megabytes, choose their own level
    // (`wall::gzip_level`) and are compressed off the async workers.
    gzip(body, Compression::best()).map(Bytes::from)
}

/// `body` gzipped at `level`, if it is large enough to bother and gzip
/// shrinks it.
pub fn gzip(body: &[u8], level: Compression) -> Option<Vec<u8>> {
    if body.len() < MIN_GZIP_BYTES {
        return None;
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), level);
    encoder.write_all(body).ok()?;
    let gzip = encoder.finish().ok()?;
    (gzip.len() < body.len()).then_some(gzip)
}

/// What `Accept-Encoding` says of the codings that matter here: their
/// q-values, in thousandths, read line by line.
#[derive(Default)]
struct Codings {
    gzip: Option<u16>,
    identity: Option<u16>,
    any: Option<u16>,
}

impl Codings {
    /// Reads one `Accept-Encoding` line; a later mention of a coding
    /// overrides an earlier one.
    fn read(&mut self, line: &HeaderValue) {
        for item in line.to_str().unwrap_or_default().split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .map_or(Some(1000), |(_, value)| parse_q(value.trim()));
            // An entry with an unreadable q-value is ignored, not guessed at.
            let Some(q) = q else { continue };
            if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                self.gzip = Some(q);
            } else if coding.eq_ignore_ascii_case("identity") {
                self.identity = Some(q);
            } else if coding == "*" {
                self.any = Some(q);
            }
        }
    }

    /// Whether gzip is accepted, and at least as gladly as identity if the
    /// request weighs identity at all (RFC 9110, section 12.5.3). Without
    /// `Accept-Encoding`, it is not: such a client gets the bytes as they
    /// are.
    fn prefer_gzip(&self) -> bool {
        let gzip = self.gzip.or(self.any).unwrap_or(0);
        // Identity is always acceptable, so a client rarely names it; when
        // it does (or `*` does), its q-value is weighed against gzip's.
        gzip > 0 && (self.identity.or(self.any)).is_none_or(|identity| gzip >= identity)
    }
}

/// A q-value in thousandths: `0`, `0.5`, `1.000`; `None` if malformed.
fn parse_q(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |n, digit| n * 10 + u16::from(digit - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Whether the entity-tag list `list` (an `If-None-Match` line) holds
/// `etag`, or is `*`. Tags compare weakly, as RFC 9110 asks for this
/// header: `W/"x"` matches `"x"`.
fn lists_tag(mut list: &[u8], etag: &[u8]) -> bool {
    loop {
        while let [b' ' | b'\t' | b',', rest @ ..] = list {
            list = rest;
        }
        if list.starts_with(b"*") {
            return true;
        }
        if let Some(rest) = list.strip_prefix(b"W/") {
            list = rest;
        }
        // An opaque tag runs from one double quote to the next; anything
        // else is malformed, and matches nothing from there on.
        let Some(rest) = list.strip_prefix(b"\"") else {
            return false;
        };
        let Some(end) = rest.iter().position(|&b| b == b'"') else {
            return false;
        };
        if &list[..end + 2] == etag {
            return true;
        }
        list = &rest[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;
    use std::time::Duration;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|&(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    fn accepts(value: &'static str) -> bool {
        let mut codings = Codings::default();
        codings.read(&HeaderValue::from_static(value));
        codings.prefer_gzip()
    }

    #[test]
    fn accept_encoding_is_read_with_its_q_values() {
        assert!(!Codings::default().prefer_gzip(), "no header: identity");
        for yes in [
            "gzip",
            "gzip, deflate, br",
            "br;q=1.0, GZIP;q=0.8",
            "x-gzip",
            "*",
            "identity;q=0.5, gzip",
            "gzip;q=0.5, identity;q=0.5",
            "gzip ; q=1",
            "gzip;q=0.001",
        ] {
            assert!(accepts(yes), "{yes}");
        }
        for no in [
            "",
            "identity",
            "br, deflate",
            "gzip;q=0",
            "gzip;q=0.000",
            "*, gzip;q=0",
            "*;q=0",
            "gzip;q=0.5, identity",
            "gzip;q=0.5, *",
            "gzip;q=2",
            "gzip;q=0.5x",
            "gzip;q=0.1234",
        ] {
            assert!(!accepts(no), "{no}");
        }
    }

    #[test]
    fn q_values_parse_to_thousandths() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("0.05"), Some(50));
        assert_eq!(parse_q("0."), Some(0));
        for bad in ["1.5", "", ".5", "-0", "0.1234", "inf", "1e0"] {
            assert_eq!(parse_q(bad), None, "{bad}");
        }
    }

    #[test]
    fn if_none_match_is_a_list_compared_weakly() {
        let tag = br#""abc""#;
        assert!(lists_tag(br#""abc""#, tag));
        assert!(lists_tag(br#"W/"abc""#, tag));
        assert!(lists_tag(br#""x", W/"y" ,"abc""#, tag));
        assert!(lists_tag(b"*", tag));
        assert!(lists_tag(br#""a,b", "abc""#, tag), "a comma inside a tag");
        assert!(!lists_tag(br#""abc-gz""#, tag));
        assert!(!lists_tag(br#""ab""#, tag));
        assert!(!lists_tag(b"abc", tag), "unquoted");
        assert!(!lists_tag(br#""abc"#, tag), "unterminated");
        assert!(!lists_tag(br#""x"abc""#, tag), "malformed after a tag");
        assert!(!lists_tag(b"", tag));
    }

    #[test]
    fn gzip_is_kept_only_when_it_pays() {
        let small = Representation::new("<p>hello</p>", Kind::Html, "public");
        assert_eq!(small.gzip(), None);
        let page = "<li>octocat</li>\n".repeat(200);
        let answer = Representation::new(page.clone(), Kind::Html, "public");
        let gzip = answer.gzip().expect("a repetitive 3 KB page shrinks");
        assert!(gzip.len() < page.len() / 10);
        let mut unzipped = String::new();
        GzDecoder::new(&gzip[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, page);
        assert_eq!(answer.weight(), page.len() + gzip.len());
        assert_eq!(
            Representation::identity(page, Kind::Html, "public").gzip(),
            None
        );
    }

    #[test]
    fn a_tag_names_the_content() {
        let tag = |body: &'static str| {
            let answer = Representation::new(body, Kind::Html, "public");
            answer.respond(&HeaderMap::new()).headers()[header::ETAG].clone()
        };
        assert_eq!(tag("<p>a</p>"), tag("<p>a</p>"));
        assert_ne!(tag("<p>a</p>"), tag("<p>b</p>"));
    }

    #[test]
    fn gzip_starts_at_its_minimum_size() {
        let body = "a".repeat(MIN_GZIP_BYTES);
        assert!(gzip(body.as_bytes(), Compression::best()).is_some());
        assert!(gzip(&body.as_bytes()[1..], Compression::best()).is_none());
    }

    #[test]
    fn each_form_has_its_own_tag_and_its_own_304() {
        let answer = Representation::new("x".repeat(4096), Kind::Css, "public");
        let identity = answer.respond(&HeaderMap::new());
        let gzip = answer.respond(&headers(&[("accept-encoding", "gzip")]));
        let identity_tag = identity.headers()[header::ETAG].clone();
        let gzip_tag = gzip.headers()[header::ETAG].clone();
        assert_ne!(identity_tag, gzip_tag);
        assert_eq!(identity.headers().get(header::CONTENT_ENCODING), None);
        assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip");
        for r in [&identity, &gzip] {
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(r.headers()[header::VARY], "accept-encoding");
        }

        let mut again = headers(&[("accept-encoding", "gzip")]);
        again.insert(header::IF_NONE_MATCH, gzip_tag.clone());
        let not_modified = answer.respond(&again);
        assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(not_modified.headers()[header::ETAG], gzip_tag);
        assert_eq!(not_modified.headers()[header::VARY], "accept-encoding");
        assert_eq!(not_modified.headers()[header::CACHE_CONTROL], "public");

        // Each header may come as several lines: all of them count.
        let mut lines = HeaderMap::new();
        for (name, value) in [
            (header::ACCEPT_ENCODING, "identity;q=0.5"),
            (header::ACCEPT_ENCODING, "gzip"),
            (header::IF_NONE_MATCH, "\"other\""),
        ] {
            lines.append(name, HeaderValue::from_static(value));
        }
        lines.append(header::IF_NONE_MATCH, gzip_tag.clone());
        let not_modified = answer.respond(&lines);
        assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(not_modified.headers()[header::ETAG], gzip_tag);

        // The identity tag does not validate the gzip form, nor back.
        again.insert(header::IF_NONE_MATCH, identity_tag.clone());
        assert_eq!(answer.respond(&again).status(), StatusCode::OK);
        let mut plain = HeaderMap::new();
        plain.insert(header::IF_NONE_MATCH, gzip_tag);
        assert_eq!(answer.respond(&plain).status(), StatusCode::OK);
        plain.insert(header::IF_NONE_MATCH, identity_tag);
        assert_eq!(answer.respond(&plain).status(), StatusCode::NOT_MODIFIED);
    }

    #[test]
    fn a_shared_answer_counts_its_max_age_down_to_the_end_of_the_ttl() {
        // An answer whose list has `left` seconds of its TTL left now.
        let now = Instant::now();
        let at = |seconds| now + Duration::from_secs(seconds);
        let answer = |left| Representation::shared("x".repeat(4096), Kind::Json, at(left));
        let max_age = |response: &Response<Body>| {
            let value = response.headers()[header::CACHE_CONTROL].to_str().unwrap();
            assert!(value.starts_with("public, max-age="), "{value}");
            assert!(value.ends_with(", stale-while-revalidate=60, stale-if-error=86400"));
            let rest = &value["public, max-age=".len()..];
            rest[..rest.find(',').unwrap()].parse::<u64>().unwrap()
        };
        // Confirmed 100 s ago, with a TTL of 600 s: 500 s left.
        let young = answer(500);
        let gzip = headers(&[("accept-encoding", "gzip")]);
        for response in [
            young.respond_at(&HeaderMap::new(), now),
            young.respond_at(&gzip, now),
        ] {
            assert_eq!(max_age(&response), 500);
        }
        // Counted as of the moment given: 10 s on, 490 s left; with no
        // moment given, as of now.
        assert_eq!(max_age(&young.respond_at(&gzip, at(10))), 490);
        assert!((499..=500).contains(&max_age(&young.respond(&gzip))));
        // A 304 says the same.
        let mut again = gzip.clone();
        again.insert(
            header::IF_NONE_MATCH,
            young.respond(&gzip).headers()[header::ETAG].clone(),
        );
        let not_modified = young.respond_at(&again, at(1));
        assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(max_age(&not_modified), 499);
        // Past its TTL: 0, never a wrapped-around number.
        let old = answer(0);
        assert_eq!(max_age(&old.respond_at(&HeaderMap::new(), at(10_000))), 0);
        // Headers made for another second are remade.
        let Headers::Countdown(countdown) = &young.identity.headers else {
            panic!("a shared answer counts down");
        };
        countdown.this_second.write().unwrap().0 = 450;
        assert_eq!(max_age(&young.respond_at(&HeaderMap::new(), at(2))), 498);
    }
}
