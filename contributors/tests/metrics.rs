//! `/metrics`: the text format's basics, checked without a Prometheus
//! library (`checks/metrics-test.sh` runs the official parser on it). The
//! counters are process-wide, so this file holds one test: no other test
//! in this process moves them.

mod common;

use std::collections::{HashMap, HashSet};

use common::TestApp;
use fake_github::{Behaviour, Contributor};

/// The samples of an exposition, by series (`name{labels}`), and the
/// families announced by `# HELP` and `# TYPE` before their samples.
fn parse(text: &str) -> HashMap<String, f64> {
    let (mut helped, mut typed) = (HashSet::new(), HashSet::new());
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has a text");
            assert!(!help.is_empty(), "{line}");
            helped.insert(name.to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            typed.insert(name.to_string());
        } else {
            let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
            let name = series.split('{').next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .filter(|base| typed.contains(*base))
                .unwrap_or(name);
            assert!(
                helped.contains(family) && typed.contains(family),
                "no HELP or TYPE before {line}"
            );
            assert!(
                samples.insert(series.to_string(), value).is_none(),
                "{series} twice"
            );
        }
    }
    samples
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_count_requests_by_route() {
    let app = TestApp::start().await;
    let users = [("octocat", 1), ("hubot", 2), ("monalisa", 3), ("mona", 4)];
    let users = users.map(|(login, id)| Contributor::user(login, id, 5));
    app.fake.set_contributors("octo", "hello", users.to_vec());
    let before = app.get("/metrics").await;
    assert_eq!(before.status, 200);
    assert_eq!(
        before.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(before.header("cache-control"), Some("no-store"));
    let before = parse(&before.text());

    assert_eq!(app.get("/octo/hello").await.status, 200);
    assert_eq!(app.get("/no/such/path/here").await.status, 404);
    let after = parse(&app.get("/metrics").await.text());

    let moved = |series: &str| after[series] - before.get(series).copied().unwrap_or(0.0);
    let page = r#"contributors_http_requests_total{route="contributors",status="200"}"#;
    assert_eq!(moved(page), 1.0);
    let unknown = r#"contributors_http_requests_total{route="not_found",status="404"}"#;
    assert_eq!(moved(unknown), 1.0);
    let api_ok = r#"contributors_upstream_requests_total{host="api",outcome="ok"}"#;
    assert_eq!(moved(api_ok), 1.0);
    assert_eq!(app.fake.contributors_requests(), 1);
    // The series are the same before and after: paths never make new ones.
    let names = |samples: &HashMap<String, f64>| samples.keys().cloned().collect::<HashSet<_>>();
    let (mut old, new) = (names(&before), names(&after));
    // The quota appears once GitHub has told us about it.
    old.insert("contributors_github_rate_limit_remaining".into());
    old.insert("contributors_github_rate_limit_reset_seconds".into());
    assert_eq!(old, new);
    assert!(!new.iter().any(|s| s.contains("/no/")));

    // Each lookup counts once, as a hit or a miss: a cold page missed the
    // list and the page, the same page again hits both, and an avatar
    // misses, then hits. (Most answers are made from memory at once, and a
    // miss finishes after a wait: a miss must not count on both sides.)
    let cache = |samples: &HashMap<String, f64>, family: &str, cache: &str| {
        samples[&format!("contributors_cache_{family}_total{{cache=\"{cache}\"}}")]
    };
    let count = |samples: &HashMap<String, f64>| {
        ["lists", "pages", "avatars"]
            .map(|c| (cache(samples, "hits", c), cache(samples, "misses", c)))
    };
    assert_eq!(count(&after), [(0.0, 1.0), (0.0, 1.0), (0.0, 0.0)]);
    assert_eq!(app.get("/octo/hello").await.status, 200);
    for _ in 0..2 {
        assert_eq!(app.get("/avatars/1?s=80").await.status, 200);
    }
    let later = parse(&app.get("/metrics").await.text());
    assert_eq!(count(&later), [(1.0, 1.0), (1.0, 1.0), (1.0, 1.0)]);

    // Each avatar fetch counts once, under its outcome.
    app.fake.set_avatar_behaviour(2, Behaviour::Status(404));
    app.fake.set_avatar_behaviour(3, Behaviour::Status(404));
    app.fake.set_avatar_behaviour(4, Behaviour::Status(500));
    for id in [2, 3, 4] {
        app.get(&format!("/avatars/{id}?s=80")).await;
    }
    let last = parse(&app.get("/metrics").await.text());
    let fetched = |outcome: &str| {
        let series = format!(
            "contributors_upstream_requests_total{{host=\"avatars\",outcome=\"{outcome}\"}}"
        );
        last[&series] - before.get(&series).copied().unwrap_or(0.0)
    };
    assert_eq!(["ok", "not_found", "error"].map(fetched), [1.0, 2.0, 1.0]);

    // The bounded sets a request grows, as gauges and in `/status`: ids
    // seen in lists, avatars that failed (remembered), bytes walls hold.
    let bounded = |samples: &HashMap<String, f64>| {
        ["seen_ids", "avatar_failures", "wall_bytes"]
            .map(|name| samples[&format!("contributors_{name}")] as u64)
    };
    assert_eq!(bounded(&last), [4, 3, 0]);
    let wall = app.get("/octo/hello/wall.svg").await;
    assert_eq!(wall.status, 200);
    let [seen, failures, wall_bytes] = bounded(&parse(&app.get("/metrics").await.text()));
    assert_eq!(seen, 4);
    // The wall is held once, in the page cache, as the wall bound counts it.
    assert!(wall_bytes >= wall.body.len() as u64, "{wall_bytes}");
    let status: serde_json::Value = serde_json::from_slice(&app.get("/status").await.body).unwrap();
    assert_eq!(status["seen_ids"], 4);
    assert_eq!(status["avatar_failures"], failures);
    assert_eq!(status["wall_bytes"], wall_bytes);
}
