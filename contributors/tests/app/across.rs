//! Walls and JSON lists across repositories, `/wall.svg?repos=…` and
//! `?owner=…`, against a fake GitHub over real TLS: merged by account with
//! contributions summed, every list option applied, failures named, one
//! cache entry for one set, an owner's repositories looked up once (and a
//! missing owner remembered), and every upstream call paid from the
//! client's budget.

use crate::common::{Reply, TestApp};
use fake_github::{Behaviour, Contributor};
use serde_json::Value;

fn json(reply: &Reply) -> Value {
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    serde_json::from_slice(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.text()))
}

/// `(login, contributions)` of a JSON answer, in order.
fn summed(value: &Value) -> Vec<(String, u64)> {
    (value["contributors"].as_array().unwrap().iter())
        .map(|c| {
            let login = c["login"].as_str().unwrap_or("(anonymous)").to_string();
            (login, c["contributions"].as_u64().unwrap())
        })
        .collect()
}

/// The wall's own `<title>` and its avatars' tooltips.
fn titles(reply: &Reply) -> (String, Vec<String>) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let text = reply.text();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let root = doc.root_element();
    let own = root.children().find(|n| n.has_tag_name("title")).unwrap();
    let tiles = (doc.descendants())
        .filter(|n| n.has_tag_name("title") && n.parent().is_some_and(|p| p.has_tag_name("image")))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect();
    (own.text().unwrap_or_default().to_string(), tiles)
}

fn set_three(app: &TestApp) {
    let ann = |n| Contributor::user("ann", 1, n);
    let bob = |n| Contributor::user("bob", 2, n);
    let bot = Contributor::bot("dependabot[bot]", 3, 50);
    app.fake
        .set_contributors("octo", "a", vec![ann(10), bob(4)]);
    app.fake.set_contributors("octo", "b", vec![bot, bob(9)]);
    let cid = Contributor::user("cid", 4, 15);
    app.fake.set_contributors("other", "c", vec![cid, ann(1)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_are_merged_by_account_and_summed() {
    let app = TestApp::start().await;
    set_three(&app);
    let reply = app
        .get("/contributors.json?repos=octo/a,octo/b,other/c")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let value = json(&reply);
    assert_eq!(
        value["repos"],
        serde_json::json!(["octo/a", "octo/b", "other/c"])
    );
    assert_eq!(value["skipped"], serde_json::json!([]));
    let sums = |pairs: &[(&str, u64)]| -> Vec<(String, u64)> {
        pairs.iter().map(|&(l, n)| (l.to_string(), n)).collect()
    };
    assert_eq!(
        summed(&value),
        sums(&[("cid", 15), ("bob", 13), ("ann", 11)])
    );
    let cache = reply.header("cache-control").unwrap();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    assert_eq!(app.fake.contributors_requests(), 3);

    // Every option applies: bots, exclude, max (which counts the merged
    // list, as it counts GitHub's, before the filter).
    let all = app
        .get("/contributors.json?repos=octo/a,octo/b,other/c&bots=1&exclude=cid&max=2")
        .await;
    let all = json(&all);
    assert_eq!(summed(&all), sums(&[("dependabot[bot]", 50)]));
    let all = app
        .get("/contributors.json?repos=octo/a,octo/b,other/c&bots=1&exclude=cid&max=3")
        .await;
    assert_eq!(
        summed(&json(&all)),
        sums(&[("dependabot[bot]", 50), ("bob", 13)])
    );

    // The same set in another order and case is the same answer, kept once.
    let etag = reply.header("etag").unwrap().to_string();
    let again = app
        .get_with(
            "/contributors.json?repos=Other/C,%20octo/b,octo/A,octo/a",
            &[("If-None-Match", &etag)],
        )
        .await;
    assert_eq!(again.status, 304);
    assert_eq!(app.fake.contributors_requests(), 3);

    // The wall: the same people, names and a theme.
    let wall = app
        .get("/wall.svg?repos=octo/a,octo/b,other/c&names=1&theme=dark")
        .await;
    let (own, tiles) = titles(&wall);
    assert_eq!(own, "Contributors to octo/a, octo/b, other/c");
    assert_eq!(
        tiles,
        [
            "cid: 15 contributions",
            "bob: 13 contributions",
            "ann: 11 contributions"
        ]
    );
    assert!(wall.text().contains(">bob</text>"));
    let cache = wall.header("cache-control").unwrap();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    let reordered = app
        .get("/wall.svg?theme=dark&names=1&repos=other/c,OCTO/b,octo/a")
        .await;
    assert_eq!(reordered.header("etag"), wall.header("etag"));
    assert_eq!(app.fake.contributors_requests(), 3);
    assert_eq!(app.fake.avatar_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_that_fails_is_named_and_the_rest_drawn() {
    let app = TestApp::start().await;
    set_three(&app);
    app.fake
        .set_repo_behaviour("octo", "b", Behaviour::Status(500));
    let reply = app
        .get("/contributors.json?repos=octo/a,octo/b,octo/gone")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let value = json(&reply);
    assert_eq!(value["repos"], serde_json::json!(["octo/a"]));
    let skipped = value["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2);
    assert_eq!(skipped[0]["repo"], "octo/b");
    assert_eq!(skipped[0]["status"], 502);
    assert_eq!(skipped[1]["repo"], "octo/gone");
    assert_eq!(skipped[1]["status"], 404);
    // An outage is not kept: it must not outlive the outage.
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    let wall = app.get("/wall.svg?repos=octo/a,octo/b,octo/gone").await;
    let (own, tiles) = titles(&wall);
    assert!(
        own.starts_with("Contributors to octo/a; skipped: octo/b ("),
        "{own}"
    );
    assert!(own.contains("octo/gone (Not found)"), "{own}");
    assert_eq!(tiles.len(), 2);

    // All failed: the first failure (in name order), as the error SVG.
    let none = app.get("/wall.svg?repos=octo/gone,octo/b").await;
    assert_eq!(none.status, 502, "{}", none.text());
    assert!(none.text().contains("fill=\"#fff8f8\""));
    let none = app.get("/contributors.json?repos=octo/gone").await;
    assert_eq!(none.status, 404);
    assert_eq!(json(&none)["error"]["status"], 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owners_wall_shows_its_latest_ten_repositories_not_forks() {
    let app = TestApp::start().await;
    for i in 0..12u64 {
        let list = vec![Contributor::user(&format!("dev{i}"), 100 + i, 100 - i)];
        app.fake.set_contributors("octo", &format!("r{i}"), list);
    }
    app.fake.set_fork("octo", "r11", true);
    let reply = app.get("/contributors.json?owner=octo&max=500").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let value = json(&reply);
    // r11 is the latest push, but a fork; then r10 … r1: ten.
    let repos: Vec<&str> = (value["repos"].as_array().unwrap().iter())
        .map(|r| r.as_str().unwrap())
        .collect();
    let expected: Vec<String> = (1..=10).map(|i| format!("octo/r{i}")).collect();
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(repos, sorted);
    assert_eq!(value["contributors"].as_array().unwrap().len(), 10);
    let owner_calls = |app: &TestApp| {
        (app.fake.requests().iter())
            .filter(|r| r.path == "/users/octo/repos")
            .map(|r| r.query.clone().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    assert_eq!(owner_calls(&app), ["sort=pushed&per_page=100"]);
    assert_eq!(app.fake.contributors_requests(), 10);

    // Cached: the wall of the same owner asks GitHub for nothing more.
    let wall = app.get("/wall.svg?owner=OCTO").await;
    assert_eq!(titles(&wall).1.len(), 10);
    let listed = app
        .get(&format!("/wall.svg?repos={}", expected.join(",")))
        .await;
    assert_eq!(listed.header("etag"), wall.header("etag"));
    assert_eq!(owner_calls(&app).len(), 1);
    assert_eq!(app.fake.contributors_requests(), 10);

    // A missing owner: 404, remembered.
    for _ in 0..3 {
        let missing = app.get("/wall.svg?owner=nobody-here").await;
        assert_eq!(missing.status, 404, "{}", missing.text());
    }
    let calls = app.fake.requests();
    let missing = calls
        .iter()
        .filter(|r| r.path == "/users/nobody-here/repos");
    assert_eq!(missing.count(), 1);

    // An owner with forks only: nothing to draw, said as an image.
    app.fake
        .set_contributors("forker", "f", vec![Contributor::user("x", 9, 1)]);
    app.fake.set_fork("forker", "f", true);
    let forks = app.get("/wall.svg?owner=forker").await;
    assert_eq!(forks.status, 404, "{}", forks.text());
    assert_eq!(forks.header("content-type"), Some("image/svg+xml"));
    assert!(
        forks.text().contains("forker&apos;s public"),
        "{}",
        forks.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_is_paid_from_the_clients_budget() {
    let app = TestApp::start_with(|c| c.client_lookups = 5).await;
    let names: Vec<String> = (0..20).map(|i| format!("octo/r{i}")).collect();
    for name in &names {
        let (owner, repo) = name.split_once('/').unwrap();
        app.fake
            .set_contributors(owner, repo, vec![Contributor::user("a", 1, 1)]);
    }
    let reply = app
        .get(&format!("/wall.svg?repos={}", names.join(",")))
        .await;
    assert_eq!(reply.status, 429, "{}", reply.text());
    assert!(reply.header("retry-after").is_some());
    // Five lists' first pages, and no more: the budget held.
    assert_eq!(app.fake.contributors_requests(), 5);
    let again = app
        .get(&format!("/contributors.json?repos={}", names.join(",")))
        .await;
    assert_eq!(again.status, 429);
    assert_eq!(app.fake.contributors_requests(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_before_github() {
    let app = TestApp::start().await;
    let many: Vec<String> = (0..21).map(|i| format!("o/r{i}")).collect();
    let many = format!("repos={}", many.join(","));
    for (query, says) in [
        ("", "one of them"),
        ("repos=o/a&owner=o", "one of them"),
        ("repos=o", "is not owner/repository"),
        ("repos=o/..", "invalid repository name"),
        ("repos=,", "no repository"),
        ("owner=-o", "invalid owner name"),
        (many.as_str(), "at most 20 repositories"),
        ("repos=o/a&theme=blue", "theme must be"),
        ("repos=o/a&exclude=a/b", "exclude"),
    ] {
        let wall = app.get(&format!("/wall.svg?{query}")).await;
        assert_eq!(wall.status, 400, "{query}: {}", wall.text());
        assert_eq!(wall.header("content-type"), Some("image/svg+xml"));
        // `theme` is the wall's only.
        if query.contains("theme") {
            continue;
        }
        let list = app.get(&format!("/contributors.json?{query}")).await;
        assert_eq!(list.status, 400, "{query}");
        let message = json(&list)["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains(says), "{query}: {message}");
    }
    assert_eq!(app.fake.request_count(), 0);
}
