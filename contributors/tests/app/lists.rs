//! One list per repository: every `max` is a slice of it, its pages are
//! fetched once, those after the first all at once, each paid for from the
//! asking client's budget. The counts are what GitHub (the fake) saw. All
//! traffic stays on loopback; every loop is bounded.

use crate::common;

use std::time::Duration;

use crate::common::{TestApp, users};
use fake_github::{Behaviour, Contributor};

/// The rows of a contributors page.
fn rows(reply: &common::Reply) -> usize {
    reply.text().matches("<li>").count()
}

/// The `page=` of each contributors request the fake saw (1 for a first
/// page, which has none), sorted: pages asked for together arrive in any
/// order.
fn pages_asked(app: &TestApp) -> Vec<usize> {
    let mut pages = pages_in_order(app);
    pages.sort_unstable();
    pages
}

/// The same, in the order the fake saw them.
fn pages_in_order(app: &TestApp) -> Vec<usize> {
    let page = |query: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix("page="))
            .map_or(1, |n| n.parse().unwrap())
    };
    let requests = app.fake.requests();
    (requests.iter())
        .filter(|r| r.path == "/repos/o/r/contributors")
        .map(|r| page(r.query.as_deref().unwrap_or_default()))
        .collect()
}

/// What the list cache's entries weigh, as `/status` reports it.
async fn list_bytes(app: &TestApp) -> u64 {
    let status = app.get("/status").await.body;
    let status: serde_json::Value = serde_json::from_slice(&status).unwrap();
    status["cache"]["lists"]["bytes"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_sizes_of_a_list_cost_its_three_pages() {
    let app = TestApp::start().await;
    app.fake.set_contributors("o", "r", users(250));
    for max in 201..=240 {
        let reply = app.get(&format!("/o/r?max={max}")).await;
        assert_eq!(reply.status, 200);
        assert_eq!(rows(&reply), max);
        assert!(
            reply
                .text()
                .contains(&format!("The first {max} contributors"))
        );
    }
    assert_eq!(app.fake.contributors_requests(), 3);
    assert_eq!(app.fake.contributors_lists(), 1);
    assert_eq!(pages_asked(&app), [1, 2, 3]);

    // Every page asks for 100 a page, whatever the max.
    let requests = app.fake.requests();
    assert!(requests[0].query.as_deref() == Some("per_page=100"));

    // Smaller and larger slices of the same list, in every form: no call.
    let reply = app.get("/o/r?max=7").await;
    assert_eq!(rows(&reply), 7);
    assert!(reply.text().contains("The first 7 contributors"));
    let all = app.get("/o/r?max=500").await;
    assert_eq!(rows(&all), 250);
    assert!(all.text().contains("250 contributors"));
    let json: serde_json::Value =
        serde_json::from_slice(&app.get("/o/r/contributors.json?max=3").await.body).unwrap();
    let logins: Vec<&str> = (json["contributors"].as_array().unwrap().iter())
        .map(|c| c["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, ["user1", "user2", "user3"]);
    assert_eq!(app.fake.contributors_requests(), 3);

    // One entry, whatever the sizes asked.
    let status: serde_json::Value = serde_json::from_slice(&app.get("/status").await.body).unwrap();
    assert_eq!(status["cache"]["lists"]["entries"].as_u64(), Some(1));
}

/// A cold `max=500`: the first page, then the four after it at once. The
/// fake is slowed down so that requests sent together are seen together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_list_of_500_takes_two_rounds_of_requests() {
    let app = TestApp::start().await;
    app.fake.set_contributors("o", "r", users(600));
    app.fake
        .set_repo_behaviour("o", "r", Behaviour::Delay(Duration::from_millis(300)));
    let reply = app.get("/o/r?max=500").await;
    assert_eq!(reply.status, 200);
    assert_eq!(rows(&reply), 500);
    assert!(reply.text().contains("user500") && !reply.text().contains("user501"));
    assert!(reply.text().contains("The first 500 contributors"));
    assert_eq!(app.fake.contributors_requests(), 5);
    assert_eq!(pages_in_order(&app)[0], 1, "first: it says how many");
    assert_eq!(pages_asked(&app), [1, 2, 3, 4, 5]);
    // Pages 2 to 5 were in flight together.
    assert_eq!(app.fake.contributors_peak_in_flight(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_cold_views_shares_every_round() {
    let app = TestApp::start().await;
    app.fake.set_contributors("o", "r", users(450));
    app.fake
        .set_repo_behaviour("o", "r", Behaviour::Delay(Duration::from_millis(300)));
    let mut views = Vec::new();
    for i in 0..40 {
        let addr = app.addr;
        // Some want the first page only, the others all five pages.
        let max = if i % 2 == 0 { 500 } else { 100 };
        views.push(tokio::spawn(async move {
            (
                max,
                common::get(addr, &format!("/o/r?max={max}"), &[]).await,
            )
        }));
    }
    for view in views {
        let (max, reply) = view.await.unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(rows(&reply), max.min(450));
    }
    assert_eq!(app.fake.contributors_requests(), 5);
    assert_eq!(app.fake.contributors_lists(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_larger_max_fetches_only_the_pages_missing() {
    let app = TestApp::start().await;
    app.fake.set_contributors("o", "r", users(480));
    let path = |max: usize| format!("/o/r/contributors.json?max={max}");
    let count = |reply: common::Reply| {
        let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        json["contributors"].as_array().unwrap().len()
    };
    assert_eq!(count(app.get(&path(150)).await), 150);
    assert_eq!(pages_asked(&app), [1, 2]);
    let two_pages = list_bytes(&app).await;
    assert_eq!(count(app.get(&path(60)).await), 60);
    assert_eq!(count(app.get(&path(200)).await), 200);
    assert_eq!(pages_asked(&app), [1, 2], "two pages hold 200");
    assert_eq!(count(app.get(&path(350)).await), 350);
    assert_eq!(pages_asked(&app), [1, 2, 3, 4]);
    assert_eq!(count(app.get(&path(500)).await), 480);
    assert_eq!(pages_asked(&app), [1, 2, 3, 4, 5]);
    // The entry weighs what it holds: 480 contributors, not 200, each
    // counted once, at least its size in memory.
    let five_pages = list_bytes(&app).await;
    let ratio = five_pages as f64 / two_pages as f64;
    assert!(
        (2.2..2.6).contains(&ratio),
        "{two_pages} then {five_pages} bytes"
    );
    let per_contributor = size_of::<contributors::github::Contributor>() as u64;
    assert!((480 * per_contributor..480 * (per_contributor + 150)).contains(&five_pages));
    // The whole list is held: nothing more to ask.
    assert_eq!(count(app.get(&path(499)).await), 480);
    assert_eq!(app.fake.contributors_requests(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_entries_make_a_second_list() {
    let app = TestApp::start().await;
    let mut list = users(3);
    list.insert(1, Contributor::anonymous("Ann", 9_999));
    app.fake.set_contributors("o", "r", list);
    let json = |path: &'static str| {
        let app = &app;
        async move {
            let body = app.get(path).await.body;
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            json["contributors"].as_array().unwrap().len()
        }
    };
    assert_eq!(json("/o/r/contributors.json").await, 3);
    assert_eq!(json("/o/r/contributors.json?anon=1").await, 4);
    assert_eq!(json("/o/r/contributors.json?anon=1&max=2").await, 2);
    assert_eq!(json("/o/r/contributors.json?max=2").await, 2);
    assert_eq!(rows(&app.get("/o/r").await), 3);
    let requests = app.fake.requests();
    let queries: Vec<&str> = (requests.iter())
        .map(|r| r.query.as_deref().unwrap())
        .collect();
    assert_eq!(queries, ["per_page=100", "per_page=100&anon=1"]);
    let status: serde_json::Value = serde_json::from_slice(&app.get("/status").await.body).unwrap();
    assert_eq!(status["cache"]["lists"]["entries"].as_u64(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_page_is_revalidated_with_its_own_validators() {
    let app = TestApp::start_with(|c| c.cache_ttl = Duration::ZERO).await;
    app.fake.set_contributors("o", "r", users(250));
    assert_eq!(rows(&app.get("/o/r?max=250").await), 250);
    let first = app.fake.requests();
    assert_eq!(first.len(), 3);
    assert!(first.iter().all(|r| r.header("if-none-match").is_none()));

    // Expired: served at once, its three pages revalidated in the background.
    assert_eq!(rows(&app.get("/o/r?max=250").await), 250);
    assert!(common::eventually(|| app.fake.contributors_not_modified() == 3).await);
    let requests = app.fake.requests();
    assert_eq!(requests.len(), 6);
    let again = &requests[3..];
    for asked in &first {
        let revalidated = again.iter().find(|r| r.query == asked.query).unwrap();
        let tag = revalidated.header("if-none-match").unwrap();
        assert!(!tag.is_empty());
        // Each page with its own tag: no two alike.
        assert_eq!(
            again
                .iter()
                .filter(|r| r.header("if-none-match") == Some(tag))
                .count(),
            1
        );
    }

    // A list changed upstream comes in at a later revalidation.
    app.fake.set_contributors("o", "r", users(260));
    assert!(common::viewed_until(&app, "/o/r?max=500", |r| rows(r) == 260).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_pages_stands_in_when_github_fails() {
    let app = TestApp::start_with(|c| c.cache_ttl = Duration::ZERO).await;
    app.fake.set_contributors("o", "r", users(250));
    assert_eq!(rows(&app.get("/o/r?max=250").await), 250);
    app.fake
        .set_repo_behaviour("o", "r", Behaviour::Status(502));
    let noted = common::viewed_until(&app, "/o/r?max=250", |reply| {
        assert_eq!(reply.status, 200);
        assert_eq!(rows(reply), 250);
        reply.text().contains("GitHub is unavailable")
    });
    assert!(noted.await);
    // A "not found" on any page is remembered, for every size.
    app.fake.remove_repo("o", "r");
    app.fake.clear_behaviours();
    assert!(common::viewed_until(&app, "/o/r?max=10", |r| r.status == 404).await);
}

/// Each page asked for costs the client one of its lookups, asked for
/// before the request and all at once: a list that needs more than the
/// client has left is refused before any of those pages is requested.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_budget_pays_for_pages() {
    let app = TestApp::start_with(|c| c.client_lookups = 4).await;
    app.fake.set_contributors("o", "r", users(500));

    // The first page costs one; the four after it would cost four more,
    // with three left: refused, and not asked for.
    let reply = app.get("/o/r?max=500").await;
    assert_eq!(reply.status, 429, "{}", reply.text());
    let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=15).contains(&wait), "{wait}");
    assert_eq!(app.fake.contributors_requests(), 1);

    // The first page is kept, honestly short: 100 is free, and a page
    // that needs more says there are more.
    let reply = app.get("/o/r?max=100").await;
    assert_eq!(rows(&reply), 100);
    assert!(reply.text().contains("The first 100 contributors"));
    // Three pages more (400) fit the three lookups left.
    assert_eq!(rows(&app.get("/o/r?max=400").await), 400);
    assert_eq!(app.fake.contributors_requests(), 4);
    assert_eq!(app.get("/o/r?max=500").await.status, 429);
    assert_eq!(app.get("/o/other").await.status, 429);
    assert_eq!(
        app.fake.contributors_requests(),
        4,
        "a budget of 4: 4 calls"
    );
    // What memory holds is free.
    assert_eq!(rows(&app.get("/o/r?max=333").await), 333);
}

/// A list too heavy for the cache's byte limit is not kept, but the request
/// that fetched it is answered from it whole: its pages are fetched once,
/// and the shorter copy the cache still holds is not taken for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_too_heavy_to_keep_is_shown_whole_to_the_request_that_fetched_it() {
    // What one page of 100 weighs, in a first app.
    let one_page = {
        let app = TestApp::start().await;
        app.fake.set_contributors("o", "r", users(250));
        assert_eq!(rows(&app.get("/o/r?max=100").await), 100);
        list_bytes(&app).await
    };
    // Room for that page, not for all three (250 people).
    let app = TestApp::start_with(|config| config.cache_bytes = 2 * one_page as usize).await;
    app.fake.set_contributors("o", "r", users(250));
    assert_eq!(rows(&app.get("/o/r?max=100").await), 100);
    assert_eq!(list_bytes(&app).await, one_page);
    let whole = app.get("/o/r?max=250").await;
    assert_eq!(whole.status, 200);
    assert_eq!(rows(&whole), 250);
    assert_eq!(pages_asked(&app), [1, 2, 3], "each page fetched once");
    assert_eq!(list_bytes(&app).await, one_page, "the three pages not kept");
}
