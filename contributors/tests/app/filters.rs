//! Who a list leaves out, against a fake GitHub over real TLS: bots by
//! default (`bots=1` brings them back, and the page says how many it left
//! out), and the accounts named by `exclude=`, on the page, the wall and
//! the JSON list alike; a bad `exclude` is a 400 in each form, and never
//! reaches GitHub.

use crate::common::{Reply, TestApp, users};
use fake_github::Contributor;
use serde_json::Value;

/// The logins of a JSON answer, in order.
fn json_logins(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let value: Value = serde_json::from_slice(&reply.body).unwrap();
    (value["contributors"].as_array().unwrap().iter())
        .map(|c| c["login"].as_str().unwrap_or("(anonymous)").to_string())
        .collect()
}

/// The logins a wall names in its avatars' tooltips, in order.
fn wall_logins(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let text = reply.text();
    let doc = roxmltree::Document::parse(&text).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("title") && n.parent().is_some_and(|p| p.has_tag_name("image")))
        .map(|n| n.text().unwrap().split(':').next().unwrap().to_string())
        .collect()
}

/// `user1`, `dependabot[bot]`, `user2`, `user3`, `renovate[bot]`.
fn with_bots() -> Vec<Contributor> {
    let mut list = users(3);
    list.insert(1, Contributor::bot("dependabot[bot]", 49_699_333, 9_998));
    list.push(Contributor::bot("renovate[bot]", 29_139_614, 1));
    list
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_are_left_out_unless_asked_for() {
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", with_bots());

    let json = app.get("/octo/hello/contributors.json").await;
    assert_eq!(json_logins(&json), ["user1", "user2", "user3"]);
    let json = app.get("/octo/hello/contributors.json?bots=1").await;
    let everyone = [
        "user1",
        "dependabot[bot]",
        "user2",
        "user3",
        "renovate[bot]",
    ];
    assert_eq!(json_logins(&json), everyone);
    let value: Value = serde_json::from_slice(&json.body).unwrap();
    assert_eq!(value["contributors"][1]["type"], "Bot");

    let wall = app.get("/octo/hello/wall.svg").await;
    assert_eq!(wall_logins(&wall), ["user1", "user2", "user3"]);
    let wall = app.get("/octo/hello/wall.svg?bots=1").await;
    assert_eq!(wall_logins(&wall), everyone);

    let page = app.get("/octo/hello").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(!html.contains("dependabot"), "{html}");
    assert!(html.contains("3 contributors"), "{html}");
    assert!(
        html.contains("2 bots left out. <a href=\"/octo/hello?bots=1\">Show bots</a>"),
        "{html}"
    );
    let shown = app.get("/octo/hello?bots=1").await.text();
    assert!(shown.contains("dependabot[bot]"), "{shown}");
    assert!(shown.contains("5 contributors"), "{shown}");
    assert!(!shown.contains("class=\"left-out\""), "{shown}");
    // The link keeps the other options.
    let fewer = app.get("/octo/hello?max=2&exclude=user1").await.text();
    assert!(fewer.contains("1 bot left out."), "{fewer}");
    assert!(
        fewer.contains("href=\"/octo/hello?max=2&#38;bots=1&#38;exclude=user1\""),
        "{fewer}"
    );

    // One list, fetched once, served every way.
    assert_eq!(app.fake.contributors_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_accounts_are_left_out_everywhere() {
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", with_bots());
    let query = "exclude=USER2,renovate%5Bbot%5D&bots=1";

    let json = app
        .get(&format!("/octo/hello/contributors.json?{query}"))
        .await;
    assert_eq!(json_logins(&json), ["user1", "dependabot[bot]", "user3"]);
    let wall = app.get(&format!("/octo/hello/wall.svg?{query}")).await;
    assert_eq!(wall_logins(&wall), ["user1", "dependabot[bot]", "user3"]);
    let page = app.get(&format!("/octo/hello?{query}")).await.text();
    assert!(page.contains("3 contributors"), "{page}");
    assert!(!page.contains(">user2<"), "{page}");

    // The same set spelt otherwise is the same wall, from the same entry.
    let again = app
        .get("/octo/hello/wall.svg?bots=1&exclude=renovate[bot],user2,,User2")
        .await;
    assert_eq!(again.header("etag"), wall.header("etag"));
    assert_eq!(app.fake.contributors_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_exclude_is_refused_in_each_form_before_github() {
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", users(3));
    let too_many: Vec<String> = (0..21).map(|i| format!("u{i}")).collect();
    let too_many = format!("exclude={}", too_many.join(","));
    for query in ["exclude=a/b", "exclude=%3Cscript%3E", "bots=yes", &too_many] {
        let page = app.get(&format!("/octo/hello?{query}")).await;
        assert_eq!(page.status, 400, "{query}");
        assert!(page.text().contains("Bad option"), "{}", page.text());
        assert!(!page.text().contains("<script>"));

        let wall = app.get(&format!("/octo/hello/wall.svg?{query}")).await;
        assert_eq!(wall.status, 400, "{query}");
        assert_eq!(wall.header("content-type"), Some("image/svg+xml"));
        roxmltree::Document::parse(&wall.text()).unwrap();

        let json = app
            .get(&format!("/octo/hello/contributors.json?{query}"))
            .await;
        assert_eq!(json.status, 400, "{query}");
        let value: Value = serde_json::from_slice(&json.body).unwrap();
        assert_eq!(value["error"]["status"], 400);
    }
    let refused = app
        .get(&format!("/octo/hello/contributors.json?{too_many}"))
        .await;
    assert!(
        refused.text().contains("at most 20 logins"),
        "{}",
        refused.text()
    );
    assert_eq!(app.fake.request_count(), 0);
}
