//! The contributor wall, `/{owner}/{repo}/wall.svg`, against a fake GitHub
//! over real TLS: a well-formed, self-contained SVG with one image per
//! contributor, inert whatever the logins, cached, and an SVG that says
//! why (with the matching status) when there is no wall.

use crate::common;

use std::time::{Duration, Instant};

use crate::common::{Reply, TestApp, users};
use contributors::views::wall::{FETCHES_AT_ONCE, MAX_SVG_BYTES};
use fake_github::{Behaviour, Contributor, generated, hostile};

/// The placeholder disc's picture: a 1×1 PNG.
const PLACEHOLDER: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB";

/// Parses the wall and checks what every wall must be: XML, an SVG, no
/// script, no foreignObject, no event attribute, and no reference to
/// anything outside it. Returns the `href` of each `<image>`, in order.
fn checked_images(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.header("content-type"), Some("image/svg+xml"));
    assert_eq!(
        reply.header("content-security-policy"),
        Some("default-src 'none'; img-src data:; style-src 'unsafe-inline'")
    );
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    let text = reply.text();
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let mut hrefs = Vec::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        let tag = node.tag_name().name();
        assert!(
            !["script", "foreignObject", "a", "use", "iframe"].contains(&tag),
            "<{tag}> in the wall"
        );
        // roxmltree lists namespace declarations (xmlns) apart from
        // attributes: they name a vocabulary and load nothing.
        for attribute in node.attributes() {
            let (name, value) = (attribute.name(), attribute.value());
            assert!(!name.to_ascii_lowercase().starts_with("on"), "{name}=");
            let lower = value.to_ascii_lowercase();
            assert!(
                !lower.contains("http://") && !lower.contains("https://"),
                "{name}={value}"
            );
            if name == "href" {
                assert!(value.starts_with("data:image/"), "{value}");
                assert_eq!(tag, "image");
            }
        }
        if tag == "image" {
            hrefs.push(node.attribute("href").expect("an image has an href").into());
        }
    }
    hrefs
}

/// The tooltips of the avatars, as a reader of the document sees them.
fn titles(reply: &Reply) -> Vec<String> {
    let text = reply.text();
    let doc = roxmltree::Document::parse(&text).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("title") && n.parent().is_some_and(|p| p.has_tag_name("image")))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect()
}

/// What an error SVG says, its wrapped lines joined again.
fn said(reply: &Reply) -> String {
    let text = reply.text();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let lines: Vec<&str> = (doc.descendants())
        .filter(|n| n.has_tag_name("tspan"))
        .filter_map(|n| n.text())
        .collect();
    lines.join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_inlines_one_avatar_per_contributor() {
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", users(7));
    let reply = app.get("/octo/hello/wall.svg?columns=3&size=40").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let hrefs = checked_images(&reply);
    assert_eq!(hrefs.len(), 7);
    assert!(
        hrefs
            .iter()
            .all(|h| h.starts_with("data:image/png;base64,iVBORw0KGgo"))
    );
    assert!(!hrefs.iter().any(|h| h.starts_with(PLACEHOLDER)));
    // size=40 snaps to 48, with a 6 px gap: 3 columns, 3 rows.
    assert!(reply.text().contains("width=\"156\" height=\"156\""));
    assert_eq!(titles(&reply)[0], "user1: 9999 contributions");
    let cache = reply.header("cache-control").unwrap();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    assert!(cache.contains("stale-while-revalidate="), "{cache}");
    // The proxy fetched the 80 px avatars, one request each.
    assert_eq!(app.fake.avatar_requests(), 7);
    assert!(
        app.fake
            .requests()
            .iter()
            .any(|r| r.query.as_deref() == Some("s=80&v=4"))
    );

    // The wall is kept: the second answer costs GitHub nothing.
    let (lists, avatars) = (app.fake.contributors_requests(), app.fake.avatar_requests());
    let again = app.get("/octo/hello/wall.svg?columns=3&size=40").await;
    assert_eq!(again.body, reply.body);
    assert_eq!(app.fake.contributors_requests(), lists);
    assert_eq!(app.fake.avatar_requests(), avatars);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_current_copy_gets_304_and_gzip_is_offered() {
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", users(12));
    let reply = app.get("/octo/hello/wall.svg").await;
    assert_eq!(reply.status, 200);
    let etag = reply.header("etag").expect("a strong ETag").to_string();
    assert!(etag.starts_with('"'), "strong, not W/: {etag}");

    let current = app
        .get_with("/octo/hello/wall.svg", &[("If-None-Match", &etag)])
        .await;
    assert_eq!(current.status, 304);
    assert!(current.body.is_empty());
    assert_eq!(current.header("etag"), Some(etag.as_str()));
    assert!(
        current
            .header("cache-control")
            .unwrap()
            .starts_with("public")
    );

    // Other options are another wall, with another tag.
    let other = app
        .get_with("/octo/hello/wall.svg?size=32", &[("If-None-Match", &etag)])
        .await;
    assert_eq!(other.status, 200);
    assert_ne!(other.header("etag"), Some(etag.as_str()));

    // A wall that is mostly images is not gzipped: they hardly compress
    // (wall::gzip_level).
    let images = app
        .get_with("/octo/hello/wall.svg", &[("Accept-Encoding", "gzip")])
        .await;
    assert_eq!(images.status, 200);
    assert_eq!(images.header("content-encoding"), None);
    // One of placeholders (anonymous contributors) is.
    let anonymous = (1..=30)
        .map(|i| Contributor::anonymous(&format!("someone {i}"), 100 - i))
        .collect();
    app.fake.set_contributors("octo", "anonymous", anonymous);
    let reply = app.get("/octo/anonymous/wall.svg?anon=1").await;
    let gzip = app
        .get_with(
            "/octo/anonymous/wall.svg?anon=1",
            &[("Accept-Encoding", "gzip")],
        )
        .await;
    assert_eq!(gzip.status, 200);
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert_eq!(gzip.header("vary"), Some("accept-encoding"));
    assert!(gzip.body.len() < reply.body.len());
    assert!(gzip.body.starts_with(&[0x1f, 0x8b]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_and_anon_choose_who_is_shown() {
    let app = TestApp::start().await;
    let mut list = users(3);
    list.insert(1, Contributor::anonymous("Jane Doe", 5000));
    app.fake.set_contributors("octo", "anon", list);

    let accounts = app.get("/octo/anon/wall.svg").await;
    assert_eq!(checked_images(&accounts).len(), 3);

    let everyone = app.get("/octo/anon/wall.svg?anon=1").await;
    let hrefs = checked_images(&everyone);
    assert_eq!(hrefs.len(), 4);
    assert!(hrefs[1].starts_with(PLACEHOLDER), "the anonymous one");
    assert_eq!(
        titles(&everyone)[1],
        "Jane Doe (anonymous): 5000 contributions"
    );

    let two = app.get("/octo/anon/wall.svg?max=2&anon=1").await;
    assert_eq!(checked_images(&two).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_logins_are_inert() {
    let app = TestApp::start().await;
    let list = hostile(5000);
    app.fake.set_contributors("octo", "evil", list.clone());
    let reply = app.get("/octo/evil/wall.svg?anon=1").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // Parses, with no script, event attribute or outside reference.
    let hrefs = checked_images(&reply);
    assert_eq!(hrefs.len(), list.len());
    let titles = titles(&reply);
    // Each login is there as text, character for character (control
    // characters replaced, the overlong one cut to 100 characters).
    assert_eq!(titles[0], "<script>alert(1)</script>: 100 contributions");
    assert_eq!(titles[1], "\"><svg onload=alert(1)>: 99 contributions");
    assert_eq!(titles[3], "&amp;&lt;&#x3c;: 97 contributions");
    assert_eq!(titles[6], "]]><foreignObject/>: 94 contributions");
    assert_eq!(
        titles[7],
        "bell\u{fffd}\u{fffd}nul\u{fffd}[31m: 93 contributions"
    );
    assert_eq!(titles[8].chars().take_while(|&c| c != ':').count(), 100);
    assert!(titles[9].starts_with("<img src=x onerror=alert(1)> (anonymous)"));
}

/// An app with deadlines no busy machine reaches: which avatars become
/// placeholders must be the failures' doing, not a slow handshake's.
async fn patient_app() -> TestApp {
    TestApp::start_with(|c| {
        c.upstream_timeout = Duration::from_secs(20);
        c.connect_timeout = Duration::from_secs(10);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_avatar_that_fails_becomes_a_placeholder() {
    let app = patient_app().await;
    app.fake.set_contributors("octo", "hello", users(4));
    // The 500 first: an error status is an answer, so the wall goes on
    // fetching the others (only a host that does not answer stops it).
    app.fake.set_avatar_behaviour(1001, Behaviour::Status(500));
    app.fake.set_avatar_behaviour(1003, Behaviour::NotAnImage);
    let reply = app.get("/octo/hello/wall.svg").await;
    assert_eq!(reply.status, 200);
    let hrefs = checked_images(&reply);
    assert_eq!(hrefs.len(), 4);
    let placeholders: Vec<bool> = hrefs.iter().map(|h| h.starts_with(PLACEHOLDER)).collect();
    assert_eq!(placeholders, [true, false, true, false]);
    // Not kept by anyone else: a partial wall.
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(app.fake.avatar_requests(), 4);
    // Another view of it, and another wall with those avatars: the failures
    // are remembered, no avatar is asked for again.
    let again = app.get("/octo/hello/wall.svg").await;
    assert_eq!(again.body, reply.body);
    let other = app.get("/octo/hello/wall.svg?columns=2").await;
    assert_eq!(checked_images(&other).len(), 4);
    assert_eq!(app.fake.avatar_requests(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_avatar_server_that_answered_500_is_still_asked() {
    // A 500 for one avatar is an answer: the host is up, and the next wall
    // fetches its avatars (before, the 500 marked the host down, and the
    // next wall was all placeholders).
    let app = patient_app().await;
    app.fake
        .set_contributors("octo", "first", vec![Contributor::user("broken", 7, 1)]);
    app.fake.set_avatar_behaviour(7, Behaviour::Status(500));
    let first = app.get("/octo/first/wall.svg").await;
    assert!(
        checked_images(&first)
            .iter()
            .all(|h| h.starts_with(PLACEHOLDER))
    );
    app.fake.set_contributors("octo", "next", users(5));
    let next = app.get("/octo/next/wall.svg").await;
    let hrefs = checked_images(&next);
    assert_eq!(hrefs.len(), 5);
    assert!(hrefs.iter().all(|h| !h.starts_with(PLACEHOLDER)));
    assert_eq!(app.fake.avatar_requests(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_avatar_host_gets_placeholders_on_a_deadline() {
    // Time for the first FETCHES_AT_ONCE to reach the host, each on a new
    // connection (debug-build TLS handshakes, slow on a busy machine).
    let app = TestApp::start_with(|c| c.upstream_timeout = Duration::from_secs(3)).await;
    let count = FETCHES_AT_ONCE as u64 + 12;
    app.fake.set_contributors("octo", "quiet", users(count));
    for i in 1..=count {
        app.fake.set_avatar_behaviour(1000 + i, Behaviour::Stall);
    }
    let started = Instant::now();
    let reply = app.get("/octo/quiet/wall.svg").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let hrefs = checked_images(&reply);
    assert!(hrefs.iter().all(|h| h.starts_with(PLACEHOLDER)));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    // Only the first FETCHES_AT_ONCE were asked for before the deadline;
    // the wall did not wait for the other 12 in turn (a second round of a
    // 3 s timeout).
    let asked = app.fake.avatar_requests();
    assert_eq!(asked, FETCHES_AT_ONCE);
    assert!(started.elapsed() < Duration::from_secs(20));
    // A repeat, and another layout of the same list, while the host is
    // known to be down: no wall waits for it (at most one probe goes out).
    let again = app.get("/octo/quiet/wall.svg").await;
    assert_eq!(again.body, reply.body, "the partial wall, kept briefly");
    let other = app.get("/octo/quiet/wall.svg?columns=3").await;
    assert_eq!(other.status, 200);
    assert!(app.fake.avatar_requests() <= asked + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walls_that_draw_the_same_picture_share_one_entry() {
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", users(5));
    let pages = |app: &TestApp| {
        let addr = app.addr;
        async move {
            let status = common::get(addr, "/status", &[]).await;
            let status: serde_json::Value = serde_json::from_slice(&status.body).unwrap();
            status["cache"]["pages"]["entries"].as_u64().unwrap()
        }
    };
    let first = app.get("/OCTO/Hello/wall.svg").await;
    assert_eq!(first.status, 200);
    assert_eq!(pages(&app).await, 1);
    // Another spelling, a size that snaps to the same (50 to 64, the
    // default), more columns than contributors (the same single row):
    // the same picture, the same entry, nothing fetched again.
    let avatars = app.fake.avatar_requests();
    for path in [
        "/octo/hello/wall.svg?size=50",
        "/Octo/HELLO/wall.svg?columns=40",
        "/octo/hello/wall.svg?max=300",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.body, first.body, "{path}");
    }
    assert_eq!(pages(&app).await, 1);
    assert_eq!(app.fake.avatar_requests(), avatars);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_small_svgs_with_their_status() {
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", users(2));
    app.fake.set_contributors("octo", "down", users(2));
    app.fake
        .set_repo_behaviour("octo", "down", Behaviour::Status(500));
    app.fake.set_repo_behaviour(
        "octo",
        "limited",
        Behaviour::RateLimited {
            reset: 4_000_000_000,
        },
    );
    for (path, status, says) in [
        ("/octo/missing/wall.svg", 404, "octo/missing not found"),
        ("/octo/down/wall.svg", 502, "answered with HTTP status 500"),
        ("/octo/limited/wall.svg", 503, "rate limit"),
        ("/o--o/r/wall.svg", 400, "invalid owner name"),
        (
            "/octo/hello/wall.svg?max=0",
            400,
            "max must be a whole number from 1 to 500",
        ),
        ("/octo/hello/wall.svg?max=501", 400, "max must be"),
        (
            "/octo/hello/wall.svg?columns=51",
            400,
            "columns must be a whole number from 1 to 50",
        ),
        ("/octo/hello/wall.svg?size=big", 400, "size must be"),
        ("/octo/hello/wall.svg?anon=yes", 400, "anon must be 0 or 1"),
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text());
        assert_eq!(checked_images(&reply).len(), 0, "{path}");
        assert!(said(&reply).contains(says), "{path}: {}", reply.text());
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{path}");
    }
    // Only the three paths with valid names and options asked GitHub.
    assert_eq!(app.fake.contributors_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_of_500_is_bounded() {
    // No budget: 500 avatar fetches are over the default 1,000 a minute
    // once the test's other views have spent some. And time: the first
    // FETCHES_AT_ONCE each open a connection, TLS handshakes that a debug
    // build on a busy machine does slowly.
    let app = TestApp::start_with(|c| {
        c.client_avatars = 0;
        c.upstream_timeout = Duration::from_secs(10);
    })
    .await;
    app.fake
        .set_contributors("rust-lang", "rust", generated(600, 10_000_000));
    let reply = app.get("/rust-lang/rust/wall.svg?max=500&size=96").await;
    assert_eq!(reply.status, 200);
    assert_eq!(checked_images(&reply).len(), 500);
    assert!(
        reply.body.len() <= MAX_SVG_BYTES,
        "{} bytes",
        reply.body.len()
    );
    assert_eq!(app.fake.avatar_requests(), 500);
    // Five API pages of 100, as the page would follow them.
    assert_eq!(app.fake.contributors_requests(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avatar_fetches_are_limited_in_concurrency() {
    let app = TestApp::start().await;
    let count = 3 * FETCHES_AT_ONCE as u64;
    app.fake.set_contributors("octo", "slow", users(count));
    for i in 1..=count {
        app.fake
            .set_avatar_behaviour(1000 + i, Behaviour::Delay(Duration::from_millis(300)));
    }
    let started = Instant::now();
    let reply = app.get("/octo/slow/wall.svg?max=500").await;
    assert_eq!(checked_images(&reply).len(), 3 * FETCHES_AT_ONCE);
    // Three times as many slow avatars as one wall fetches at a time: at
    // least three rounds of 300 ms (all at once would take one).
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.fake.avatar_requests(), 3 * FETCHES_AT_ONCE);
    // As many at once as the wall may fetch, and no more.
    assert_eq!(app.fake.avatar_peak_in_flight(), FETCHES_AT_ONCE);
}
