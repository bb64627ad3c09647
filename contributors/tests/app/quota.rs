//! Guarding the GitHub quota: missing repositories are remembered, each
//! client has a budget of lookups, and GitHub's health is logged once per
//! change. All traffic stays on loopback; every loop is bounded.

use crate::common;

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{TestApp, users};
use fake_github::{Behaviour, FakeGitHub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_views_of_a_missing_repository_make_one_upstream_call() {
    let app = TestApp::start().await;
    for _ in 0..20 {
        let reply = app.get("/nobody/nothing").await;
        assert_eq!(reply.status, 404);
        assert!(reply.text().contains("nobody/nothing not found"));
    }
    assert_eq!(app.fake.contributors_requests(), 1);

    // 410 and 451 are remembered too, with their own status.
    app.fake
        .set_repo_behaviour("legal", "hold", Behaviour::Status(451));
    for _ in 0..5 {
        assert_eq!(app.get("/legal/hold").await.status, 451);
    }
    assert_eq!(app.fake.contributors_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_repository_is_asked_about_again_after_the_negative_ttl() {
    let app = TestApp::start_with(|c| c.negative_cache_ttl = Duration::from_secs(1)).await;
    assert_eq!(app.get("/o/late").await.status, 404);
    app.fake.set_contributors("o", "late", users(2));
    assert_eq!(app.get("/o/late").await.status, 404, "still remembered");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(app.get("/o/late").await.status, 200);
    assert_eq!(app.fake.contributors_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_budget_gets_429_but_cached_pages_still_answer() {
    let app = TestApp::start_with(|c| c.client_lookups = 20).await;
    for i in 0..100 {
        app.fake.set_contributors("o", &format!("r{i}"), users(2));
    }
    let (mut ok, mut refused) = (0, 0);
    for i in 0..100 {
        let reply = app.get(&format!("/o/r{i}")).await;
        match reply.status {
            200 => ok += 1,
            429 => {
                refused += 1;
                let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
                assert!((1..=3).contains(&wait), "{wait}");
                assert!(reply.text().contains("try again in"));
            }
            other => panic!("unexpected {other}"),
        }
    }
    // 20 a minute: one more may have trickled in while the test ran.
    let calls = app.fake.contributors_lists();
    assert!((20..=21).contains(&calls), "{calls} upstream calls");
    assert_eq!(ok, calls);
    assert_eq!(refused, 100 - calls);

    // What needs no lookup is never refused.
    assert_eq!(app.get("/o/r0").await.status, 200, "a cached page");
    // An avatar not in memory spends its own budget, not the lookups'.
    assert_eq!(app.get("/avatars/1001").await.status, 200);
    assert_eq!(app.fake.avatar_requests(), 1);
    for path in ["/", "/healthz", "/status", "/style.css"] {
        assert_eq!(app.get(path).await.status, 200, "{path}");
    }
    assert_eq!(app.fake.contributors_lists(), calls);
}

/// Views `count` distinct uncached repositories as `forwarded_for` (if
/// any); returns how many were answered 200 and how many 429.
async fn lookups(app: &TestApp, from: usize, count: usize, forwarded_for: &str) -> (usize, usize) {
    let mut statuses = (0, 0);
    for i in from..from + count {
        let headers: &[(&str, &str)] = if forwarded_for.is_empty() {
            &[]
        } else {
            &[("X-Forwarded-For", forwarded_for)]
        };
        match app.get_with(&format!("/o/r{i}"), headers).await.status {
            200 => statuses.0 += 1,
            429 => statuses.1 += 1,
            other => panic!("unexpected {other}"),
        }
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let app = TestApp::start_with(|c| {
        c.client_lookups = 5;
        c.trusted_proxies =
            contributors::guards::trusted_proxies::TrustedProxies::parse("127.0.0.0/8").unwrap();
    })
    .await;
    for i in 0..40 {
        app.fake.set_contributors("o", &format!("r{i}"), users(1));
    }
    // The visitor's own claim (left) is not believed; the proxy's is.
    assert_eq!(lookups(&app, 0, 8, "6.6.6.6, 203.0.113.1").await, (5, 3));
    assert_eq!(lookups(&app, 10, 8, "7.7.7.7, 203.0.113.1").await, (0, 8));
    assert_eq!(lookups(&app, 20, 8, "203.0.113.2").await, (5, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_peers_forwarded_for_is_ignored() {
    let app = TestApp::start_with(|c| c.client_lookups = 5).await;
    for i in 0..40 {
        app.fake.set_contributors("o", &format!("r{i}"), users(1));
    }
    assert_eq!(lookups(&app, 0, 8, "203.0.113.1").await, (5, 3));
    assert_eq!(lookups(&app, 10, 8, "203.0.113.2").await, (0, 8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_the_recovery_and_a_spent_quota_each_log_one_line() {
    let fake = FakeGitHub::start().await;
    for repo in ["a", "b", "c"] {
        fake.set_contributors("o", repo, users(1));
        fake.set_repo_behaviour("o", repo, Behaviour::Status(502));
    }
    let (mut child, addr) = common::spawn_binary(Some(&fake), Stdio::piped()).await;

    // Nine failed views of three repositories: one outage.
    for _ in 0..3 {
        for repo in ["a", "b", "c"] {
            assert_eq!(
                common::get(addr, &format!("/o/{repo}"), &[]).await.status,
                502
            );
        }
    }
    fake.clear_behaviours();
    for repo in ["a", "b", "c"] {
        assert_eq!(
            common::get(addr, &format!("/o/{repo}"), &[]).await.status,
            200
        );
    }
    // The quota runs out: one more warning, with the reset time. Later views
    // are not even sent (the app waits for the reset).
    let now = contributors::http::clock::now_unix();
    let reset = now + 1800;
    fake.set_rate_limit(0, reset);
    // A time alone after 23:30 UTC, a date and a time after that.
    let resets_at = format!(
        "resets at {} UTC",
        contributors::http::clock::moment(reset, now)
    );
    for repo in ["d", "e", "f"] {
        let reply = common::get(addr, &format!("/o/{repo}"), &[]).await;
        assert_eq!(reply.status, 503);
    }

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(common::wait_for_exit(&mut child, 100).await.success());
    let log = common::log_of(&mut child);
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warnings.len(), 2, "{log}");
    assert!(
        warnings[0].contains("is unreachable") && warnings[0].contains("HTTP status 502"),
        "{log}"
    );
    assert!(
        warnings[1].contains("rate limit") && warnings[1].contains(&resets_at),
        "{log}"
    );
    let recovered = log.lines().filter(|l| l.contains("answers again")).count();
    assert_eq!(recovered, 1, "{log}");
}
