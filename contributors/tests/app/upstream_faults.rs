//! Every upstream outcome becomes a page with a fitting status and a clear
//! message, and the server keeps serving afterwards.

use std::time::Duration;

use crate::common::{Reply, TestApp};
use fake_github::{Behaviour, FakeGitHub};

/// Sets `behaviour` for o/r, fetches the page, and checks the server still
/// answers /healthz afterwards.
async fn outcome(behaviour: Behaviour) -> Reply {
    let app = TestApp::start().await;
    app.fake.set_repo_behaviour("o", "r", behaviour);
    let reply = app.get("/o/r").await;
    assert_eq!(
        app.get("/healthz").await.status,
        200,
        "server still serving"
    );
    reply
}

fn assert_page(reply: &Reply, status: u16, words: &[&str]) {
    let text = reply.text();
    assert_eq!(reply.status, status, "{text}");
    assert!(
        reply
            .header("content-type")
            .unwrap()
            .starts_with("text/html"),
        "an HTML page"
    );
    for w in words {
        assert!(text.contains(w), "{w:?} missing from {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found() {
    let reply = outcome(Behaviour::Status(404)).await;
    assert_page(&reply, 404, &["o/r not found"]);
    let app = TestApp::start().await; // unknown to the fake: its own 404
    assert_page(
        &app.get("/nobody/nothing").await,
        404,
        &["nobody/nothing not found"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_content_is_an_empty_list() {
    assert_page(
        &outcome(Behaviour::NoContent).await,
        200,
        &["No contributors yet"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited() {
    // Within GitHub's hour: a reset further ahead is taken as an hour away.
    let now = contributors::http::clock::now_unix();
    let reset = now + 1800;
    let reply = outcome(Behaviour::RateLimited { reset }).await;
    let resets_at = format!(
        "resets at {} UTC",
        contributors::http::clock::moment(reset, now)
    );
    assert_page(&reply, 503, &["rate limit", &resets_at, "GITHUB_TOKEN"]);
    // The refusal says when to come back.
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1790..=1800).contains(&retry), "{retry}");
    // A 429 with only `retry-after`: the page says when that is.
    let before = contributors::http::clock::now_unix();
    let reply = outcome(Behaviour::TooManyRequests { retry_after: 60 }).await;
    let after = contributors::http::clock::now_unix();
    assert_page(&reply, 503, &["rate limit", "GITHUB_TOKEN"]);
    let resets_at = |at| {
        format!(
            "resets at {} UTC",
            contributors::http::clock::moment(at, at - 60)
        )
    };
    let text = reply.text();
    assert!(
        (before..=after).any(|sent| text.contains(&resets_at(sent + 60))),
        "{text}"
    );
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((50..=60).contains(&retry), "{retry}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_too_large() {
    assert_page(&outcome(Behaviour::TooLarge).await, 503, &["too large"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_statuses_are_named() {
    assert_page(
        &outcome(Behaviour::Status(500)).await,
        502,
        &["HTTP status 500"],
    );
    assert_page(
        &outcome(Behaviour::Status(418)).await,
        502,
        &["HTTP status 418"],
    );
    assert_page(
        &outcome(Behaviour::Status(403)).await,
        502,
        &["HTTP status 403"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_wrong_shapes() {
    assert_page(&outcome(Behaviour::Garbage).await, 502, &["not JSON"]);
    assert_page(
        &outcome(Behaviour::WrongShape).await,
        502,
        &["not a list of contributors"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused() {
    let reply = outcome(Behaviour::Oversize(50 << 20)).await;
    assert_page(&reply, 502, &["more than 2048 KiB"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reset_mid_body() {
    assert_page(
        &outcome(Behaviour::ResetMidBody).await,
        502,
        &["broke mid-answer"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upstream_times_out() {
    let started = std::time::Instant::now();
    let reply = outcome(Behaviour::Stall).await;
    assert_page(&reply, 504, &["did not answer within 2 s"]);
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_drip_times_out() {
    let reply = outcome(Behaviour::Drip {
        chunk: 10,
        every: Duration::from_millis(500),
        chunks: 100,
    })
    .await;
    assert_page(&reply, 504, &["did not answer"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_names_the_host() {
    // Bind a port, then free it: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::start_with(|c| {
        c.api_url =
            contributors::github::BaseUrl::parse(&format!("https://127.0.0.1:{port}")).unwrap();
    })
    .await;
    assert_page(
        &app.get("/o/r").await,
        502,
        &["could not connect to 127.0.0.1"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundled_roots_alone_reject_the_test_certificate() {
    let fake = FakeGitHub::start().await;
    fake.set_contributors("o", "r", vec![fake_github::Contributor::user("x", 1, 1)]);
    let app = TestApp::start_against(fake, false, |_| {}).await;
    let reply = app.get("/o/r").await;
    assert_page(
        &reply,
        502,
        &[
            "not trusted by the bundled roots",
            "CONTRIBUTORS_EXTRA_CA_FILE",
        ],
    );
    // The handshake failed, so no request was ever made.
    assert_eq!(app.fake.request_count(), 0);
}
