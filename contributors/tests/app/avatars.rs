//! The avatar proxy: fetched through the bundled-root client, narrowed,
//! cached in memory, and cacheable by browsers; only for ids a list has
//! shown, and on the client's budget.

use crate::common;

use std::time::Duration;

use crate::common::TestApp;
use contributors::views::{avatars, wall};
use fake_github::{Behaviour, Contributor};

/// Shows a list (the JSON API's) with these account ids, so that the
/// avatar proxy will fetch them.
async fn show(app: &TestApp, ids: &[u64]) {
    let list = ids
        .iter()
        .map(|&id| Contributor::user(&format!("user{id}"), id, 1))
        .collect();
    app.fake.set_contributors("shown", "list", list);
    let reply = app.get("/shown/list/contributors.json?max=500").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_ids_a_list_has_shown_are_fetched() {
    let app = TestApp::start().await;
    for id in ["583231", "1", "99999"] {
        let reply = app.get(&format!("/avatars/{id}?s=80")).await;
        assert_eq!(reply.status, 404, "{id}");
    }
    assert_eq!(app.fake.avatar_requests(), 0);
    show(&app, &[583231]).await;
    assert_eq!(app.get("/avatars/583231").await.status, 200);
    assert_eq!(app.fake.avatar_requests(), 1);
    assert_eq!(app.get("/avatars/583231").await.status, 200);
    assert_eq!(app.get("/avatars/1").await.status, 404);
    assert_eq!(app.fake.avatar_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_avatar_is_remembered() {
    let app = TestApp::start().await;
    show(&app, &[8]).await;
    app.fake.set_avatar_behaviour(8, Behaviour::Status(500));
    for _ in 0..5 {
        assert_eq!(app.get("/avatars/8").await.status, 502);
    }
    assert_eq!(app.fake.avatar_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avatar_fetches_spend_the_clients_avatar_budget() {
    let app = TestApp::start_with(|c| c.client_avatars = 5).await;
    let ids: Vec<u64> = (1..=20).collect();
    show(&app, &ids).await; // a lookup, from the other budget
    let statuses: Vec<u16> = {
        let mut statuses = Vec::new();
        for id in &ids {
            statuses.push(app.get(&format!("/avatars/{id}")).await.status);
        }
        statuses
    };
    let fetched = statuses.iter().filter(|&&s| s == 200).count();
    // 5 a minute: one more may have trickled in while the test ran.
    assert!((5..=6).contains(&fetched), "{statuses:?}");
    assert_eq!(fetched, app.fake.avatar_requests());
    assert!(
        statuses.iter().all(|&s| s == 200 || s == 429),
        "{statuses:?}"
    );
    let refused = app.get("/avatars/20").await;
    assert_eq!(refused.status, 429);
    assert!(refused.header("retry-after").is_some());
    // What memory holds is free.
    assert_eq!(app.get("/avatars/1").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_avatar_cache_counts_each_picture_and_its_entry() {
    let app = TestApp::start().await;
    show(&app, &[583231, 1]).await;
    let usage = || async {
        let status: serde_json::Value =
            serde_json::from_slice(&app.get("/status").await.body).unwrap();
        let avatars = &status["cache"]["avatars"];
        (avatars["entries"].as_u64(), avatars["bytes"].as_u64())
    };
    assert_eq!(usage().await, (Some(0), Some(0)));
    let first = app.get("/avatars/583231?s=80").await;
    let second = app.get("/avatars/1?s=40").await;
    assert_eq!((first.status, second.status), (200, 200));
    // Each picture as sent, and 128 bytes for its entry.
    let bytes = first.body.len() + second.body.len() + 2 * 128;
    assert_eq!(usage().await, (Some(2), Some(bytes as u64)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avatars_are_proxied_and_cached() {
    let app = TestApp::start().await;
    show(&app, &[583231]).await;
    let first = app.get("/avatars/583231?s=80").await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("content-type"), Some("image/png"));
    assert!(first.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(first.header("cache-control").unwrap().contains("max-age="));
    assert_eq!(first.header("x-content-type-options"), Some("nosniff"));
    let etag = first.header("etag").unwrap().to_string();

    let requests: Vec<_> = (app.fake.requests().into_iter())
        .filter(|r| r.path.starts_with("/u/"))
        .collect();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/u/583231");
    assert_eq!(requests[0].query.as_deref(), Some("s=80&v=4"));
    assert_eq!(
        requests[0].header("authorization"),
        None,
        "no token to the avatar host"
    );

    // A second request does not reach the fake.
    let second = app.get("/avatars/583231?s=80").await;
    assert_eq!(second.status, 200);
    assert_eq!(second.body, first.body);
    assert_eq!(app.fake.avatar_requests(), 1);

    // A browser that has it gets a 304.
    let revalidated = app
        .get_with("/avatars/583231?s=80", &[("If-None-Match", &etag)])
        .await;
    assert_eq!(revalidated.status, 304);
    assert!(revalidated.body.is_empty());
    assert_eq!(app.fake.avatar_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sizes_snap_to_a_small_set() {
    let app = TestApp::start().await;
    show(&app, &[7]).await;
    for (asked, fetched) in [("1", 40), ("100", 160), ("99999", 460), ("x", 80)] {
        let reply = app.get(&format!("/avatars/7?s={asked}")).await;
        assert_eq!(reply.status, 200);
        let last = app.fake.requests().pop().unwrap();
        assert_eq!(last.query, Some(format!("s={fetched}&v=4")), "s={asked}");
    }
    // 100 and 160 share an entry: no new request.
    let before = app.fake.avatar_requests();
    assert_eq!(app.get("/avatars/7?s=150").await.status, 200);
    assert_eq!(app.fake.avatar_requests(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_images_are_passed_on() {
    let app = TestApp::start().await;
    show(&app, &[5, 6, 8]).await;
    app.fake.set_avatar_behaviour(5, Behaviour::NotAnImage);
    let reply = app.get("/avatars/5").await;
    assert_eq!(reply.status, 502);
    assert!(reply.text().contains("not an image"));
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8")
    );

    app.fake
        .set_avatar_behaviour(6, Behaviour::Oversize(5 << 20));
    assert_eq!(app.get("/avatars/6").await.status, 502);

    app.fake.set_avatar_behaviour(8, Behaviour::Status(404));
    assert_eq!(app.get("/avatars/8").await.status, 404);
    assert_eq!(app.get("/healthz").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_avatar_is_read_up_to_what_its_size_can_need() {
    let app = TestApp::start().await;
    show(&app, &[5, 6]).await;
    let at_80 = avatars::max_avatar_bytes(80);
    let padded = |bytes| Behaviour::Drip {
        chunk: bytes,
        every: Duration::ZERO,
        chunks: 1,
    };
    app.fake.set_avatar_behaviour(5, padded(at_80));
    let reply = app.get("/avatars/5?s=80").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body.len(), at_80);
    // One byte more is too much at 80 pixels, and fine at 160.
    app.fake.set_avatar_behaviour(6, padded(at_80 + 1));
    assert_eq!(app.get("/avatars/6?s=80").await.status, 502);
    assert_eq!(app.get("/avatars/6?s=160").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_for_one_avatar_makes_one_upstream_request() {
    // A hundred connections at once from one address: over the cap per
    // client, which is not what this test is about.
    let app = TestApp::start_with(|c| c.client_connections = 0).await;
    show(&app, &[42]).await;
    app.fake
        .set_avatar_behaviour(42, Behaviour::Delay(std::time::Duration::from_millis(300)));
    let mut views = Vec::new();
    for _ in 0..100 {
        let addr = app.addr;
        views.push(tokio::spawn(async move {
            common::get(addr, "/avatars/42?s=80", &[]).await
        }));
    }
    for view in views {
        let reply = view.await.unwrap();
        assert_eq!(reply.status, 200);
        assert!(reply.body.starts_with(b"\x89PNG"));
    }
    assert_eq!(app.fake.avatar_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avatar_fetches_across_walls_are_capped() {
    // Time for every fetch to be started, each wave of 100 held 600 ms.
    let app = TestApp::start_with(|c| c.upstream_timeout = Duration::from_secs(5)).await;
    // Three walls at once, each with more slow avatars than one wall
    // fetches at a time: together they want more than the cap.
    let each = wall::FETCHES_AT_ONCE + 10;
    const { assert!(3 * wall::FETCHES_AT_ONCE > avatars::FETCHES_AT_ONCE) };
    for (repo, first) in [("a", 1_000_000), ("b", 2_000_000), ("c", 3_000_000)] {
        let list = (first..first + each as u64)
            .map(|id| Contributor::user(&format!("user{id}"), id, 1))
            .collect();
        app.fake.set_contributors("walls", repo, list);
        for id in first..first + each as u64 {
            let slow = Behaviour::Delay(Duration::from_millis(600));
            app.fake.set_avatar_behaviour(id, slow);
        }
    }
    let (a, b, c) = tokio::join!(
        app.get("/walls/a/wall.svg?max=100"),
        app.get("/walls/b/wall.svg?max=100"),
        app.get("/walls/c/wall.svg?max=100"),
    );
    for reply in [a, b, c] {
        assert_eq!(reply.status, 200);
        assert_eq!(reply.text().matches("<image ").count(), each);
    }
    assert_eq!(app.fake.avatar_requests(), 3 * each);
    // The cap was reached, and held.
    assert_eq!(app.fake.avatar_peak_in_flight(), avatars::FETCHES_AT_ONCE);
}
