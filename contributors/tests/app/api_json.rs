//! The JSON API, `/{owner}/{repo}/contributors.json`, against a fake GitHub
//! over real TLS: the schema of issue 12, readable from any origin,
//! cacheable with a strong ETag, and errors in one shape.

use crate::common::{Reply, TestApp};
use fake_github::{Behaviour, Contributor, hostile};
use serde_json::{Value, json};

/// The body as JSON, after the headers every JSON answer carries.
fn checked_json(reply: &Reply) -> Value {
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    serde_json::from_slice(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.text()))
}

/// Checks `value` against the schema, entry by entry, and returns the
/// contributors.
fn checked_schema(value: &Value, owner: &str, repo: &str) -> Vec<Value> {
    let object = value.as_object().expect("an object");
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert_eq!(value["owner"], owner);
    assert_eq!(value["repo"], repo);
    // RFC 3339 in UTC: 2026-01-31T12:00:00Z.
    let fetched_at = value["fetched_at"].as_str().expect("fetched_at");
    assert_eq!(fetched_at.len(), 20, "{fetched_at}");
    assert!(fetched_at.ends_with('Z') && fetched_at.as_bytes()[10] == b'T');
    let contributors = value["contributors"].as_array().expect("an array").clone();
    for entry in &contributors {
        let keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["avatar", "contributions", "html_url", "id", "login", "type"],
            "{entry}"
        );
        assert!(entry["contributions"].is_u64());
        match entry["type"].as_str().unwrap() {
            "Anonymous" => {
                for key in ["login", "id", "avatar", "html_url"] {
                    assert!(entry[key].is_null(), "{entry}");
                }
            }
            "User" | "Bot" => {
                let id = entry["id"].as_u64().unwrap();
                assert_eq!(entry["avatar"], format!("/avatars/{id}?s=80"));
                assert!(entry["login"].is_string());
                let url = entry["html_url"].as_str().unwrap();
                assert!(url.starts_with("https://github.com/"), "{url}");
            }
            other => panic!("type {other}"),
        }
    }
    contributors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_follows_the_schema() {
    let app = TestApp::start().await;
    app.fake.set_contributors(
        "octo",
        "hello",
        vec![
            Contributor::user("octocat", 583231, 97),
            Contributor::anonymous("Jane Doe", 45),
            Contributor::user("hubot", 480938, 41),
        ],
    );
    let reply = app.get("/octo/hello/contributors.json").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let value = checked_json(&reply);
    let contributors = checked_schema(&value, "octo", "hello");
    assert_eq!(
        contributors[0],
        json!({"login": "octocat", "id": 583231, "type": "User", "contributions": 97,
               "avatar": "/avatars/583231?s=80", "html_url": "https://github.com/octocat"})
    );
    assert_eq!(contributors.len(), 2, "accounts only without anon=1");
    let cache = reply.header("cache-control").unwrap();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    assert!(cache.contains("stale-while-revalidate="), "{cache}");
    // Nothing upstream leaks: no fake host, no avatar host.
    assert!(!reply.text().contains(&app.fake.url()));

    let everyone = app.get("/octo/hello/contributors.json?anon=1").await;
    let contributors = checked_schema(&checked_json(&everyone), "octo", "hello");
    let types: Vec<&str> = contributors
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["User", "Anonymous", "User"]);

    let one = app.get("/octo/hello/contributors.json?max=1&anon=1").await;
    assert_eq!(
        checked_schema(&checked_json(&one), "octo", "hello").len(),
        1
    );

    // The names come back spelt as asked.
    let spelt = app.get("/Octo/Hello/contributors.json").await;
    checked_schema(&checked_json(&spelt), "Octo", "Hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_logins_come_back_as_plain_strings() {
    let app = TestApp::start().await;
    let list = hostile(7000);
    app.fake.set_contributors("octo", "evil", list.clone());
    let reply = app.get("/octo/evil/contributors.json?anon=1").await;
    assert_eq!(reply.status, 200);
    let contributors = checked_schema(&checked_json(&reply), "octo", "evil");
    assert_eq!(contributors.len(), list.len());
    for (entry, sent) in contributors.iter().zip(&list) {
        assert_eq!(entry["login"].as_str(), sent.login.as_deref());
    }
    // Control characters are escaped in the JSON text, not sent raw; and
    // the answer is never taken for HTML (its type, and nosniff).
    assert!(reply.text().contains("\\u0000"));
    assert!(!reply.body.contains(&0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_current_copy_gets_304() {
    let app = TestApp::start().await;
    app.fake
        .set_contributors("octo", "hello", fake_github::generated(40, 1_000_000));
    let reply = app.get("/octo/hello/contributors.json").await;
    let etag = reply.header("etag").expect("an ETag").to_string();
    assert!(etag.starts_with('"'));
    let current = app
        .get_with("/octo/hello/contributors.json", &[("If-None-Match", &etag)])
        .await;
    assert_eq!(current.status, 304);
    assert!(current.body.is_empty());
    assert_eq!(current.header("access-control-allow-origin"), Some("*"));

    let gzip = app
        .get_with(
            "/octo/hello/contributors.json",
            &[("Accept-Encoding", "gzip")],
        )
        .await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert!(gzip.body.len() < reply.body.len());
    // Served from the page cache: one list fetch for all three.
    assert_eq!(app.fake.contributors_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_one_shape_and_their_status() {
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", Vec::new());
    app.fake
        .set_repo_behaviour("octo", "down", Behaviour::Status(503));
    app.fake
        .set_repo_behaviour("octo", "slow", Behaviour::Stall);
    for (path, status, says) in [
        (
            "/octo/missing/contributors.json",
            404,
            "octo/missing not found",
        ),
        ("/octo/down/contributors.json", 502, "HTTP status 503"),
        ("/octo/slow/contributors.json", 504, "did not answer within"),
        (
            "/octo/x%2Fy/contributors.json",
            400,
            "invalid repository name",
        ),
        ("/octo/hello/contributors.json?max=x", 400, "max must be"),
        (
            "/octo/hello/contributors.json?anon=2",
            400,
            "anon must be 0 or 1",
        ),
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.text());
        let value = checked_json(&reply);
        let error = value["error"].as_object().expect("{\"error\": {...}}");
        assert_eq!(value.as_object().unwrap().len(), 1);
        assert_eq!(error.len(), 3, "{value}");
        assert_eq!(error["status"], status);
        assert!(!error["title"].as_str().unwrap().is_empty());
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(says), "{path}: {message}");
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
    // An empty repository is a list, not an error.
    let empty = app.get("/octo/hello/contributors.json").await;
    assert_eq!(empty.status, 200);
    assert_eq!(
        checked_schema(&checked_json(&empty), "octo", "hello").len(),
        0
    );
}
