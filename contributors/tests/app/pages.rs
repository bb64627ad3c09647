//! The contributors page against a fake GitHub over real TLS: the list,
//! escaping, pagination, redirects, and input that must never go upstream.

use crate::common::{TestApp, users};
use fake_github::{Behaviour, Contributor};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_contributors_in_order_with_escaped_logins() {
    let app = TestApp::start().await;
    app.fake.set_contributors(
        "octo",
        "hello",
        vec![
            Contributor::user("<script>alert(1)</script>", 1, 50),
            Contributor::user("\"onmouseover=\"x", 2, 40),
            Contributor::user("plain-user", 3, 1),
            // GitHub lists anonymous contributors only with `anon=1`, which
            // we do not ask for; the fake does the same.
            Contributor::anonymous("Ann <b>Onymous</b>", 7),
        ],
    );
    let reply = app.get("/octo/hello").await;
    assert_eq!(reply.status, 200);
    let html = reply.text();
    // askama writes `<` as `&#60;` and `"` as `&#34;`.
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "raw script tag in {html}");
    assert!(
        !html.contains("\"onmouseover"),
        "attribute break-out in {html}"
    );
    assert!(!html.contains("<b>Onymous"), "{html}");
    assert!(html.contains("&#34;onmouseover=&#34;x"));
    assert!(!html.contains("Onymous"));
    assert!(html.contains("3 contributors"));
    assert!(html.contains("1 contribution<"), "singular for one: {html}");
    // GitHub's order is kept.
    let first = html.find("alert(1)").unwrap();
    let third = html.find("plain-user").unwrap();
    assert!(first < third);
    // Avatars go through our proxy; no upstream URL reaches the HTML.
    assert!(html.contains("src=\"/avatars/1?s=80\""));
    assert!(!html.contains("githubusercontent"));
    assert!(!html.contains(&app.fake.url()));
    assert!(html.contains("loading=\"lazy\""));
    assert!(html.contains("width=\"40\" height=\"40\""));
    // The form is refilled.
    assert!(html.contains("name=\"owner\" value=\"octo\""));
    assert!(html.contains("name=\"repo\" value=\"hello\""));
    assert!(reply.header("content-security-policy").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_githubs_headers_and_the_token_when_set() {
    let app = TestApp::start_with(|c| {
        c.token = Some(contributors::github::Token::new("ghp_test_token".into()).unwrap())
    })
    .await;
    app.fake.set_contributors("octo", "hello", users(1));
    assert_eq!(app.get("/octo/hello").await.status, 200);
    let requests = app.fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.path, "/repos/octo/hello/contributors");
    assert_eq!(r.query.as_deref(), Some("per_page=100"));
    assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
    assert!(r.header("user-agent").unwrap().starts_with("contributors/"));
    assert_eq!(r.header("authorization"), Some("Bearer ghp_test_token"));
    // ...and the token never shows in /status.
    let status = app.get("/status").await.text();
    assert!(!status.contains("ghp_test_token"), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_means_no_authorization_header() {
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", users(1));
    assert_eq!(app.get("/octo/hello").await.status, 200);
    assert_eq!(app.fake.requests()[0].header("authorization"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_follows_links_up_to_max() {
    let app = TestApp::start().await;
    app.fake.set_contributors("big", "repo", users(250));

    let html = app.get("/big/repo").await.text();
    assert_eq!(html.matches("<li>").count(), 100);
    assert!(html.contains("The first 100 contributors"));
    assert!(html.contains("href=\"/big/repo?max=500\""));
    assert_eq!(app.fake.contributors_requests(), 1);

    // The pages after the first, at once: the list held grows.
    let html = app.get("/big/repo?max=250").await.text();
    assert_eq!(html.matches("<li>").count(), 250);
    assert!(html.contains("user250"));
    assert_eq!(app.fake.contributors_requests(), 1 + 2);

    let html = app.get("/big/repo?max=500").await.text();
    assert_eq!(html.matches("<li>").count(), 250);
    assert!(html.contains("250 contributors"));

    // A smaller max is a slice of the list held.
    let html = app.get("/big/repo?max=30").await.text();
    assert_eq!(html.matches("<li>").count(), 30);
    assert!(html.contains("The first 30 contributors"));
    assert_eq!(app.fake.contributors_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_old_form_redirects_to_the_repository_page() {
    let app = TestApp::start().await;
    let reply = app.get("/?owner=rust-lang&repo=rust").await;
    assert_eq!(reply.status, 303);
    assert_eq!(reply.header("location"), Some("/rust-lang/rust"));
    let reply = app.get("/?owner=+rust-lang+&repo=rust").await;
    assert_eq!(reply.header("location"), Some("/rust-lang/rust"), "trimmed");
    let reply = app.get("/?owner=evil.com%2F&repo=x").await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.header("location"), None);
    let home = app.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.text().contains("<form"));
    assert_eq!(app.fake.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_input_never_reaches_github() {
    let app = TestApp::start().await;
    let bad_repo_paths = [
        "/a/..",
        "/a/.",
        "/-a/b",
        "/a-/b",
        "/a--b/c",
        "/a_b/c",
        "/a/b%2F..%2F..%2Fusers",
        "/a/b%3Fx=1",
        "/a/%3Cscript%3E",
        "/%2e%2e/b",
        "/a/b;c",
        "/a/b@evil.com",
        "/a/b:443",
        "//b",
        "/a//",
        "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/b",
    ];
    for path in bad_repo_paths {
        let reply = app.get(path).await;
        assert_eq!(reply.status, 400, "{path}: {}", reply.text());
        assert!(reply.text().contains("Not a repository name"), "{path}");
    }
    let long_repo = format!("/a/{}", "r".repeat(101));
    assert_eq!(app.get(&long_repo).await.status, 400);
    for path in ["/a/b?max=0", "/a/b?max=501", "/a/b?max=ten", "/a/b?max=-1"] {
        assert_eq!(app.get(path).await.status, 400, "{path}");
    }
    for path in ["/a", "/a/b/c", "/a/b/c/d", "/avatarsx"] {
        assert_eq!(app.get(path).await.status, 404, "{path}");
    }
    for path in ["/avatars/abc", "/avatars/1a", "/avatars/-1", "/avatars/"] {
        assert_eq!(app.get(path).await.status, 400, "{path}");
    }
    assert_eq!(app.fake.request_count(), 0, "{:?}", app.fake.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_repository_redirect_is_followed() {
    let app = TestApp::start().await;
    app.fake.set_contributors("new-owner", "new-name", users(3));
    app.fake.set_repo_behaviour(
        "old",
        "name",
        Behaviour::Redirect {
            status: 301,
            location: "/repos/new-owner/new-name/contributors?per_page=100".into(),
        },
    );
    let reply = app.get("/old/name").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.text().contains("user3"));
    assert_eq!(app.fake.contributors_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_is_refused() {
    let app = TestApp::start().await;
    app.fake.set_repo_behaviour(
        "old",
        "name",
        Behaviour::Redirect {
            status: 302,
            location: "https://127.0.0.2:1/steal".into(),
        },
    );
    let reply = app.get("/old/name").await;
    assert_eq!(reply.status, 502);
    assert!(reply.text().contains("another host"), "{}", reply.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_status_do_not_touch_github() {
    let app = TestApp::start().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status, 200);
    let status = app.get("/status").await;
    assert_eq!(status.status, 200);
    let json: serde_json::Value = serde_json::from_slice(&status.body).unwrap();
    assert!(json["trusted_roots"]["count"].as_u64().unwrap() > 100);
    let css = app.get("/style.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert_eq!(app.fake.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_links_the_icon_served_like_the_stylesheet() {
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", users(2));
    let link = r#"<link rel="icon" type="image/svg+xml" href="/favicon.svg">"#;
    for path in ["/", "/octo/hello", "/no/such/page", "/bad..name/x"] {
        assert!(app.get(path).await.text().contains(link), "{path}");
    }
    let asked = app.fake.request_count();
    let icon = app.get("/favicon.svg").await;
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("content-type"), Some("image/svg+xml"));
    assert!(
        icon.text()
            .starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"")
    );
    assert!(icon.header("etag").is_some());
    let css = app.get("/style.css").await;
    assert_eq!(icon.header("cache-control"), css.header("cache-control"));
    assert!(
        icon.header("cache-control")
            .is_some_and(|c| c.starts_with("public, max-age=")),
        "{:?}",
        icon.headers
    );
    assert_eq!(
        app.fake.request_count(),
        asked,
        "the icon never asks GitHub"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_page_echoes_each_visitors_spelling() {
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", users(2));
    let first = app.get("/octo/hello").await.text();
    let again = app.get("/octo/hello").await.text();
    assert_eq!(first, again, "the same list renders the same page");
    let other = app.get("/Octo/Hello").await.text();
    assert!(other.contains("name=\"owner\" value=\"Octo\""), "{other}");
    assert!(
        other.contains("<h1><a href=\"https://github.com/Octo/Hello\">Octo/<wbr>Hello</a></h1>")
    );
    assert_eq!(
        app.fake.contributors_requests(),
        1,
        "one list serves every spelling"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embed_box_holds_the_wall_snippets() {
    let app =
        TestApp::start_with(|c| c.public_url = Some("https://walls.example.org".into())).await;
    app.fake.set_contributors("octo", "hello", users(3));
    let html = app.get("/octo/hello").await.text();
    assert!(html.contains("<h2 id=\"embed\">Embed</h2>"), "{html}");
    assert!(
        html.contains(
            "[![Contributors to octo/hello](https://walls.example.org/octo/hello/wall.svg)]\
             (https://walls.example.org/octo/hello)"
        ),
        "{html}"
    );
    // The HTML snippet is shown as text, escaped, not as markup.
    assert!(html.contains(
        "&#60;img src=&#34;https://walls.example.org/octo/hello/wall.svg&#34; \
         alt=&#34;Contributors to octo/hello&#34;&#62;"
    ));
    assert!(html.contains("<a href=\"/octo/hello/contributors.json\">"));

    // Without a public address, the reader fills the host in.
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", users(3));
    let html = app.get("/octo/hello").await.text();
    assert!(html.contains("(https://YOUR-HOST/octo/hello/wall.svg)"));
}
