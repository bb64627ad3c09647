//! Making every upstream call count: the cache, coalescing, conditional
//! revalidation, stale-if-error, rate-limit awareness, connection reuse;
//! and answering what memory holds without waiting.

use crate::common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::common::{TestApp, users};
use contributors::App;
use contributors::routes::{self, Answer, Route};
use fake_github::{Behaviour, FakeGitHub};
use http::{HeaderMap, Method, Uri};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_list_is_not_fetched_again_within_the_ttl() {
    let app = TestApp::start().await;
    app.fake.set_contributors("o", "r", users(3));
    for _ in 0..5 {
        assert_eq!(app.get("/o/r").await.status, 200);
    }
    // Capitalisation does not make a new entry: GitHub names are case-blind.
    assert_eq!(app.get("/O/R").await.status, 200);
    assert_eq!(app.fake.contributors_requests(), 1);
}

/// The page tells HTTP caches (nginx or a CDN in front of several replicas)
/// they may share it for what is left of the list's TTL, and serve an old
/// copy while refreshing it or while we fail. checks/nginx-cache-test.sh shows
/// a real nginx doing so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_page_may_be_shared_by_caches_for_the_rest_of_its_ttl() {
    let app = TestApp::start_with(|c| c.cache_ttl = Duration::from_secs(300)).await;
    app.fake.set_contributors("o", "r", users(3));
    for _ in 0..2 {
        // The first answer renders the page, the second is the kept rendering.
        let reply = app.get("/o/r").await;
        assert_eq!(reply.status, 200);
        let cache = reply.header("cache-control").unwrap();
        let rest = cache
            .strip_prefix("public, max-age=")
            .and_then(|r| r.strip_suffix(", stale-while-revalidate=60, stale-if-error=86400"))
            .unwrap_or_else(|| panic!("unexpected Cache-Control: {cache}"));
        // The list is fresh, so nearly all of the 300 s are left (a second
        // may tick between fetching it and answering).
        let max_age: u64 = rest.parse().unwrap();
        assert!((298..=300).contains(&max_age), "{cache}");
    }
    assert_eq!(app.fake.contributors_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_on_a_cold_repository_makes_one_upstream_request() {
    // Two hundred connections at once from one address: over the cap per
    // client, which is not what this test is about.
    let app = TestApp::start_with(|c| c.client_connections = 0).await;
    app.fake.set_contributors("o", "r", users(3));
    app.fake
        .set_repo_behaviour("o", "r", Behaviour::Delay(Duration::from_millis(500)));
    let mut views = Vec::new();
    for _ in 0..200 {
        let addr = app.addr;
        views.push(tokio::spawn(
            async move { common::get(addr, "/o/r", &[]).await },
        ));
    }
    for view in views {
        let reply = view.await.unwrap();
        assert_eq!(reply.status, 200);
        assert!(reply.text().contains("user3"));
    }
    assert_eq!(app.fake.contributors_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_ttl_the_list_is_revalidated_with_its_etag() {
    let app = TestApp::start_with(|c| c.cache_ttl = Duration::ZERO).await;
    app.fake.set_contributors("o", "r", users(3));
    assert_eq!(app.get("/o/r").await.status, 200);
    // The expired copy is served at once and revalidated in the background.
    let reply = app.get("/o/r").await;
    assert_eq!(reply.status, 200);
    assert!(reply.text().contains("user3"));
    assert!(common::eventually(|| app.fake.contributors_requests() >= 2).await);
    let requests = app.fake.requests();
    assert_eq!(requests.len(), 2);
    let etag = requests[1].header("if-none-match");
    assert!(etag.is_some_and(|e| !e.is_empty()), "{:?}", requests[1]);

    // A change upstream is picked up by a later revalidation.
    app.fake.set_contributors("o", "r", users(4));
    assert!(common::viewed_until(&app, "/o/r", |r| r.text().contains("user4")).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revalidation_with_304_costs_no_quota() {
    let app = TestApp::start_with(|c| c.cache_ttl = Duration::ZERO).await;
    app.fake.set_contributors("o", "r", users(3));
    app.get("/o/r").await;
    let status: serde_json::Value = serde_json::from_slice(&app.get("/status").await.body).unwrap();
    let remaining = status["rate_limit"]["remaining"].as_u64().unwrap();
    for _ in 0..3 {
        assert_eq!(app.get("/o/r").await.status, 200);
    }
    let status: serde_json::Value = serde_json::from_slice(&app.get("/status").await.body).unwrap();
    assert_eq!(
        status["rate_limit"]["remaining"].as_u64().unwrap(),
        remaining
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_list_stands_in_when_github_fails() {
    let app = TestApp::start_with(|c| c.cache_ttl = Duration::ZERO).await;
    app.fake.set_contributors("o", "r", users(3));
    assert_eq!(app.get("/o/r").await.status, 200);
    app.fake
        .set_repo_behaviour("o", "r", Behaviour::Status(502));
    // Views keep getting the old copy; once a refresh has failed, it says so.
    assert!(
        common::viewed_until(&app, "/o/r", |r| {
            assert_eq!(r.status, 200);
            assert!(r.text().contains("user3"));
            r.text().contains("GitHub is unavailable")
        })
        .await
    );
    let reply = app.get("/o/r").await;
    assert!(reply.text().contains("HTTP status 502"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    // A definite "not found" is not papered over with old data.
    app.fake
        .set_repo_behaviour("o", "r", Behaviour::Status(404));
    assert!(common::viewed_until(&app, "/o/r", |r| r.status == 404).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_quota_stops_calls_until_the_reset() {
    let app = TestApp::start().await;
    let reset = contributors::http::clock::now_unix() + 3600;
    app.fake.set_rate_limit(0, reset);
    app.fake.set_contributors("o", "r", users(1));
    let reply = app.get("/o/r").await;
    assert_eq!(reply.status, 503);
    assert_eq!(app.fake.contributors_requests(), 1);
    for repo in ["/o/r", "/a/b", "/c/d"] {
        assert_eq!(app.get(repo).await.status, 503);
    }
    assert_eq!(
        app.fake.contributors_requests(),
        1,
        "no calls until the reset"
    );
    let status: serde_json::Value = serde_json::from_slice(&app.get("/status").await.body).unwrap();
    assert_eq!(status["rate_limited_until"].as_u64(), Some(reset));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tls_handshake_serves_many_requests() {
    let app = TestApp::start().await;
    for i in 0..20 {
        app.fake.set_contributors("o", &format!("r{i}"), users(2));
    }
    for i in 0..20 {
        assert_eq!(app.get(&format!("/o/r{i}")).await.status, 200);
        // The ids the page showed: users(2) are 1001 and 1002.
        let id = 1001 + i % 2;
        assert_eq!(app.get(&format!("/avatars/{id}")).await.status, 200);
    }
    assert_eq!(app.fake.contributors_requests(), 20);
    assert_eq!(
        app.fake.handshakes(),
        1,
        "API and avatars share a host here"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_stays_within_its_entry_bound() {
    let app = TestApp::start_with(|c| c.cache_entries = 5).await;
    for i in 0..30 {
        app.fake.set_contributors("o", &format!("r{i}"), users(2));
        assert_eq!(app.get(&format!("/o/r{i}")).await.status, 200);
    }
    let status: serde_json::Value = serde_json::from_slice(&app.get("/status").await.body).unwrap();
    assert_eq!(status["cache"]["lists"]["entries"].as_u64(), Some(5));
    assert_eq!(status["cache"]["pages"]["entries"].as_u64(), Some(5));
}

/// A kept page is served only while its list is the one the list cache
/// holds: it gives way when the list expires, and when the list is evicted.
#[tokio::test]
async fn a_kept_page_gives_way_when_its_list_expires() {
    let app = TestApp::start_with(|c| c.cache_ttl = Duration::from_millis(300)).await;
    app.fake.set_contributors("o", "r", users(2));
    // Fetched and rendered; kept; then from memory.
    for _ in 0..4 {
        assert!(app.get("/o/r").await.text().contains("user2"));
    }
    app.fake.set_contributors("o", "r", users(3));
    tokio::time::sleep(Duration::from_millis(400)).await;
    // The expired list is served once more, and refreshed on the way.
    assert!(common::viewed_until(&app, "/o/r", |r| r.text().contains("user3")).await);
    assert_eq!(app.fake.contributors_requests(), 2);
}

#[tokio::test]
async fn a_kept_page_gives_way_when_the_caches_change() {
    let app = TestApp::start_with(|c| c.cache_entries = 1).await;
    app.fake.set_contributors("o", "a", users(2));
    app.fake.set_contributors("o", "b", users(2));
    for _ in 0..3 {
        assert!(app.get("/o/a").await.text().contains("user2"));
    }
    // Another list takes the one place in the caches: o/a's list and page
    // are evicted.
    assert_eq!(app.get("/o/b").await.status, 200);
    app.fake.set_contributors("o", "a", users(3));
    assert!(app.get("/o/a").await.text().contains("user3"));
    assert_eq!(app.fake.contributors_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_page_follows_its_list_and_spelling() {
    let app = TestApp::start_with(|c| c.cache_ttl = Duration::ZERO).await;
    let pages = |status: &[u8]| {
        let status: serde_json::Value = serde_json::from_slice(status).unwrap();
        status["cache"]["pages"]["entries"].as_u64().unwrap()
    };
    app.fake.set_contributors("o", "r", users(2));
    let first = app.get("/o/r").await;
    assert!(first.text().contains("user2"));
    assert_eq!(
        first.header("cache-control"),
        Some("public, max-age=0, stale-while-revalidate=60, stale-if-error=86400")
    );
    assert_eq!(pages(&app.get("/status").await.body), 1);

    // Each spelling is its own page: the page echoes it.
    assert!(app.get("/O/r").await.text().contains("<title>O/r"));
    assert_eq!(pages(&app.get("/status").await.body), 2);

    // The list changed upstream: a background revalidation brings a new
    // list, and the page kept from the old one is not served again.
    app.fake.set_contributors("o", "r", users(3));
    assert!(common::viewed_until(&app, "/o/r", |r| r.text().contains("user3")).await);

    // A stale page is rendered for its answer and not kept: once GitHub is
    // back, the note is gone.
    app.fake
        .set_repo_behaviour("o", "r", Behaviour::Status(502));
    assert!(
        common::viewed_until(&app, "/o/r", |r| r.text().contains("GitHub is unavailable")).await
    );
    app.fake.clear_behaviours();
    assert!(
        common::viewed_until(&app, "/o/r", |r| {
            !r.text().contains("GitHub is unavailable")
                && r.header("cache-control")
                    == Some("public, max-age=0, stale-while-revalidate=60, stale-if-error=86400")
        })
        .await
    );
}

/// What memory holds is answered at once (`Answer::Now`): the form, and
/// every list, page, wall and avatar seen before, a "not found" too. Only
/// what needs GitHub or the avatar server waits (`Answer::Later`). The
/// server relies on this to let go of a request before hyper reads on
/// (see server.rs), and bad input never waits: it is refused at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_memory_holds_is_answered_without_waiting() {
    let fake = FakeGitHub::start().await;
    fake.set_contributors("o", "r", users(3));
    let app = App::new(common::config_for(&fake)).expect("the app starts");
    let client = IpAddr::from([127, 0, 0, 1]);
    let answer = |path: &str| {
        let uri: Uri = path.parse().unwrap();
        let route = Route::of(uri.path());
        let arrived = Instant::now();
        routes::answer(
            &app,
            client,
            &Method::GET,
            route,
            &uri,
            &HeaderMap::new(),
            arrived,
        )
    };
    let now = |path: &str| match answer(path) {
        Answer::Now(response) => response.status().as_u16(),
        Answer::Later(_) => panic!("{path} waited, with its answer in memory"),
    };
    for (path, status) in [
        ("/", 200),
        ("/style.css", 200),
        ("/favicon.svg", 200),
        ("/healthz", 200),
        ("/o--o/r", 400),
    ] {
        assert_eq!(now(path), status, "{path}");
    }
    let cold = [
        ("/o/r", 200),
        ("/o/r/wall.svg", 200),
        // An id the list just shown has (users() start at 1001), at a size
        // the wall did not fetch.
        ("/avatars/1001?s=40", 200),
        ("/o/gone", 404),
    ];
    for (path, status) in cold {
        let Answer::Later(wait) = answer(path) else {
            panic!("{path} answered at once, with nothing in memory");
        };
        let response = wait.finish(&app, &HeaderMap::new()).await;
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert_eq!(now(path), status, "{path}, the second time");
    }
    // The same list, spelt otherwise or in another form: no wait either.
    for path in ["/O/R", "/o/r/contributors.json", "/o/r?max=100"] {
        assert_eq!(now(path), 200, "{path}");
    }
    assert_eq!(fake.contributors_requests(), 2, "{:?}", fake.requests());
}
