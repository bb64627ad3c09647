//! Page weight on the wire: gzip when the request accepts it, identity
//! otherwise, an `ETag` per form with 304 for a current copy, and HEAD
//! answering GET's headers, on every route. The app runs against the fake
//! GitHub over real TLS, as in the other tests.

use std::io::Read;

use crate::common::{Reply, TestApp, send};
use fake_github::generated;
use flate2::read::GzDecoder;

const GZIP: (&str, &str) = ("accept-encoding", "gzip, deflate, br");

/// The answers a browser keeps: the form, the stylesheet, the icon and a
/// page.
const CACHEABLE: [&str; 4] = ["/", "/style.css", "/favicon.svg", "/o/r?max=100"];

async fn app_with_100() -> TestApp {
    let app = TestApp::start().await;
    app.fake
        .set_contributors("o", "r", generated(100, 5_000_000));
    app
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("a valid gzip stream");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_round_trips_to_the_identity_bytes() {
    let app = app_with_100().await;
    for path in ["/style.css", "/o/r?max=100"] {
        let identity = app.get(path).await;
        let gzip = app.get_with(path, &[GZIP]).await;
        assert_eq!((identity.status, gzip.status), (200, 200), "{path}");
        assert_eq!(identity.header("content-encoding"), None, "{path}");
        assert_eq!(gzip.header("content-encoding"), Some("gzip"), "{path}");
        assert!(gzip.body.len() < identity.body.len(), "{path}: smaller");
        assert_eq!(gunzip(&gzip.body), identity.body, "{path}");
        for reply in [&identity, &gzip] {
            assert_eq!(reply.header("vary"), Some("accept-encoding"), "{path}");
            assert_eq!(
                reply.header("content-length"),
                Some(reply.body.len().to_string().as_str()),
                "{path}"
            );
        }
        assert_eq!(identity.header("content-type"), gzip.header("content-type"));
    }
    // The 100-person page is the issue's example: about 13 times smaller.
    let page = app.get("/o/r?max=100").await;
    assert!(page.text().matches("<li").count() >= 100);
    let gzip = app.get_with("/o/r?max=100", &[GZIP]).await;
    assert!(gzip.body.len() * 5 < page.body.len(), "{}", gzip.body.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_accept_gzip_gets_identity() {
    let app = app_with_100().await;
    let identity = app.get("/o/r").await.body;
    for refusal in [
        &[][..],
        &[("accept-encoding", "identity")],
        &[("accept-encoding", "gzip;q=0, br")],
        &[("accept-encoding", "*;q=0, identity")],
        &[("accept-encoding", "")],
    ] {
        let reply = app.get_with("/o/r", refusal).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-encoding"), None, "{refusal:?}");
        assert_eq!(reply.body, identity, "{refusal:?}");
        assert_eq!(reply.header("vary"), Some("accept-encoding"));
    }
    // A q-value is honoured, and `*` stands for gzip.
    for accepts in ["gzip;q=0.5", "*", "br;q=1, gzip;q=0.1"] {
        let reply = app.get_with("/o/r", &[("accept-encoding", accepts)]).await;
        assert_eq!(reply.header("content-encoding"), Some("gzip"), "{accepts}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_current_copy_gets_304_for_each_form() {
    let app = app_with_100().await;
    for path in CACHEABLE {
        let identity = app.get(path).await;
        let gzip = app.get_with(path, &[GZIP]).await;
        let identity_tag = identity.header("etag").expect("an ETag").to_string();
        let gzip_tag = gzip.header("etag").expect("an ETag").to_string();
        assert!(identity_tag.starts_with('"'), "strong: {identity_tag}");
        if gzip.header("content-encoding").is_some() {
            assert_ne!(identity_tag, gzip_tag, "{path}: each form its own tag");
        }

        for (first, accept, tag) in [
            (&identity, None, &identity_tag),
            (&gzip, Some(GZIP), &gzip_tag),
        ] {
            let mut headers = vec![("if-none-match", tag.as_str())];
            headers.extend(accept);
            let again = app.get_with(path, &headers).await;
            assert_eq!(again.status, 304, "{path} {headers:?}");
            assert!(again.body.is_empty());
            // No length rather than a wrong one (RFC 9110, section 8.6).
            assert_eq!(again.header("content-length"), None, "{path}");
            for name in ["etag", "vary", "content-encoding"] {
                assert_eq!(again.header(name), first.header(name), "{path}: {name}");
            }
            // A page's max-age counts down with its list's age: the same
            // policy, perhaps a second later.
            assert_eq!(
                again.header("cache-control").map(without_max_age),
                first.header("cache-control").map(without_max_age),
                "{path}: cache-control"
            );
            // A list, with a weak tag, also matches (weak comparison).
            let weak = format!("\"other\", W/{tag}");
            headers[0].1 = &weak;
            assert_eq!(app.get_with(path, &headers).await.status, 304, "{path}");
        }

        // Another tag, or the other form's, gets the whole answer.
        let stale = app.get_with(path, &[("if-none-match", "\"0\"")]).await;
        assert_eq!(stale.status, 200);
        assert_eq!(stale.body, identity.body);
        if gzip.header("content-encoding").is_some() {
            let crossed = app.get_with(path, &[("if-none-match", &gzip_tag)]).await;
            assert_eq!(crossed.status, 200, "{path}");
        }
    }
    // The page changes when its list does, and so does its tag.
    let before = app.get("/o/r?max=100").await;
    let tag = before.header("etag").unwrap().to_string();
    app.fake
        .set_contributors("o", "r", generated(99, 5_000_000));
    let restarted = TestApp::start_against(app.fake, true, |_| {}).await;
    let after = restarted
        .get_with("/o/r?max=100", &[("if-none-match", &tag)])
        .await;
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag"), Some(tag.as_str()));
}

/// Every route, in the states it answers in.
const ROUTES: [&str; 13] = [
    "/",
    "/?owner=o&repo=r",
    "/o/r",
    "/o/r?max=100",
    "/o/r?max=0",
    "/bad..name/r",
    "/nobody/here",
    "/avatars/5000000?s=80",
    "/avatars/x",
    "/healthz",
    "/style.css",
    "/favicon.svg",
    "/no/such/page",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_answers_the_headers_of_get_on_every_route() {
    let app = app_with_100().await;
    let mut checked = 0;
    for path in ROUTES.iter().chain(&["/status", "/favicon.ico"]) {
        for accept in [None, Some(GZIP)] {
            let headers: Vec<_> = accept.into_iter().collect();
            // GET first, so that HEAD finds the same caches warm.
            let get = send(app.addr, "GET", path, &headers).await;
            let head = send(app.addr, "HEAD", path, &headers).await;
            assert!(head.body.is_empty(), "{path}: HEAD has no body");
            assert_eq!(head.status, get.status, "{path}");
            assert_eq!(
                get.header("content-length"),
                Some(get.body.len().to_string().as_str()),
                "{path}"
            );
            assert_eq!(without_date(&head), without_date(&get), "{path} {accept:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * (ROUTES.len() + 2));
}

/// The headers but `date`, which may tick between two requests.
fn without_date(reply: &Reply) -> Vec<(String, String)> {
    let mut headers: Vec<_> = reply
        .headers
        .iter()
        .filter(|(name, _)| name != "date")
        .cloned()
        .collect();
    headers.sort();
    headers
}

/// `Cache-Control` with the number after `max-age=` taken out.
fn without_max_age(value: &str) -> String {
    match value.split_once("max-age=") {
        Some((before, after)) => {
            let rest = after.trim_start_matches(|c: char| c.is_ascii_digit());
            format!("{before}max-age=N{rest}")
        }
        None => value.to_string(),
    }
}
