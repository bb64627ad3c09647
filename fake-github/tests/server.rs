//! End-to-end tests of the fake, through a real HTTPS client.
//!
//! The client is built the way the app builds its own — hyper over rustls,
//! trusting nothing but the fake's CA — so a passing test here also shows the
//! certificates, ALPN and both HTTP versions work for the app.

use std::time::{Duration, Instant};

use bytes::Bytes;
use fake_github::{Behaviour, Contributor, FakeGitHub, Fixtures, generated, png};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{HeaderMap, Request, Response, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// No single request in these tests should take longer than this.
const LIMIT: Duration = Duration::from_secs(5);

/// Which protocols the client offers through ALPN.
#[derive(Clone, Copy)]
enum Versions {
    Both,
    Http1Only,
}

/// A client that trusts only `ca_pem`.
fn client_trusting(ca_pem: &str, versions: Versions) -> HttpsClient {
    let mut roots = rustls::RootCertStore::empty();
    let ca = CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("the CA PEM parses");
    roots.add(ca).expect("the CA is a usable trust anchor");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only();
    let connector = match versions {
        Versions::Both => builder.enable_all_versions().build(),
        Versions::Http1Only => builder.enable_http1().build(),
    };
    Client::builder(TokioExecutor::new()).build(connector)
}

fn client(github: &FakeGitHub) -> HttpsClient {
    client_trusting(&github.ca_pem(), Versions::Both)
}

/// Sends a GET with `headers`, within [`LIMIT`].
async fn send(
    client: &HttpsClient,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<Response<Incoming>, String> {
    let mut request = Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Empty::new()).unwrap();
    match tokio::time::timeout(LIMIT, client.request(request)).await {
        Ok(result) => result.map_err(|e| format!("{e:?}")),
        Err(_) => Err("timed out".to_owned()),
    }
}

/// A whole answer: status, headers, body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

/// GET and read the whole body.
async fn get(client: &HttpsClient, url: &str, headers: &[(&str, &str)]) -> Answer {
    let response = send(client, url, headers).await.expect("request");
    let (parts, body) = response.into_parts();
    let body = tokio::time::timeout(LIMIT, body.collect())
        .await
        .expect("body within the limit")
        .expect("a complete body")
        .to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// A fake with one repository `o/r` holding `count` generated users.
async fn fake_with(count: usize) -> FakeGitHub {
    let github = FakeGitHub::start().await;
    github.set_contributors("o", "r", generated(count, 1_000_000));
    github
}

/// The `<url>` of relation `rel` in a Link header.
fn link(header: &str, rel: &str) -> Option<String> {
    header.split(", ").find_map(|part| {
        let (url, relation) = part.split_once("; ")?;
        (relation == format!("rel=\"{rel}\"")).then(|| url[1..url.len() - 1].to_owned())
    })
}

#[tokio::test]
async fn contributors_are_paged_with_githubs_link_header() {
    let github = fake_with(250).await;
    let client = client(&github);
    let base = github.url();
    assert!(base.starts_with("https://127.0.0.1:") && !base.ends_with('/'));

    let first = get(
        &client,
        &format!("{base}/repos/o/r/contributors?per_page=100"),
        &[],
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        first.header("content-type"),
        "application/json; charset=utf-8"
    );
    assert_eq!(
        first.header("link"),
        format!(
            "<{base}/repos/o/r/contributors?per_page=100&page=2>; rel=\"next\", \
             <{base}/repos/o/r/contributors?per_page=100&page=3>; rel=\"last\""
        )
    );
    let entries = first.json();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 100);
    let user = &entries[0];
    for field in [
        "login",
        "id",
        "node_id",
        "avatar_url",
        "html_url",
        "type",
        "site_admin",
    ] {
        assert!(user.get(field).is_some(), "missing {field}");
    }
    assert_eq!(user["type"], "User");
    let id = user["id"].as_u64().unwrap();
    assert_eq!(
        user["avatar_url"],
        format!("https://avatars.githubusercontent.com/u/{id}?v=4")
    );
    assert_eq!(
        user["html_url"],
        format!("https://github.com/{}", user["login"].as_str().unwrap())
    );

    // Follow `next` to the end, as a client does; every user comes once.
    let mut ids: Vec<u64> = entries.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    let mut next = link(first.header("link"), "next");
    let mut pages = 1;
    while let Some(url) = next.take() {
        assert!(pages < 10, "too many pages");
        let page = get(&client, &url, &[]).await;
        assert_eq!(page.status, StatusCode::OK);
        ids.extend(
            page.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_u64().unwrap()),
        );
        let header = page.header("link").to_owned();
        assert!(link(&header, "prev").is_some() && link(&header, "first").is_some());
        next = link(&header, "next");
        pages += 1;
    }
    assert_eq!(pages, 3);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 250);

    // Defaults: 30 per page; a short list has no Link header.
    let default = get(&client, &format!("{base}/repos/o/r/contributors"), &[]).await;
    assert_eq!(default.json().as_array().unwrap().len(), 30);
    github.set_contributors("o", "short", generated(3, 5_000_000));
    let short = get(&client, &format!("{base}/repos/O/Short/contributors"), &[]).await;
    assert_eq!(short.json().as_array().unwrap().len(), 3);
    assert!(short.headers.get("link").is_none());
}

#[tokio::test]
async fn conditional_requests_get_304_without_spending_quota() {
    let github = fake_with(5).await;
    let client = client(&github);
    let url = format!("{}/repos/o/r/contributors", github.url());

    let first = get(&client, &url, &[]).await;
    let etag = first.header("etag").to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert!(first.header("last-modified").ends_with(" GMT"));
    assert_eq!(first.header("x-ratelimit-limit"), "5000");
    assert_eq!(first.header("x-ratelimit-remaining"), "4999");
    assert_eq!(first.header("x-ratelimit-used"), "1");
    assert_eq!(first.header("x-ratelimit-resource"), "core");
    assert!(first.header("x-ratelimit-reset").parse::<u64>().is_ok());

    let again = get(&client, &url, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), etag);
    assert_eq!(again.header("x-ratelimit-remaining"), "4999");
    assert_eq!(github.rate_limit_remaining(), 4999);

    // A change to the list changes the tag: the old one no longer matches.
    github.set_contributors("o", "r", generated(6, 1_000_000));
    let changed = get(&client, &url, &[("if-none-match", &etag)]).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.header("etag"), etag);
    assert_eq!(changed.header("x-ratelimit-remaining"), "4998");
}

#[tokio::test]
async fn an_exhausted_quota_gets_githubs_403() {
    let github = fake_with(5).await;
    let client = client(&github);
    let url = format!("{}/repos/o/r/contributors", github.url());
    github.set_rate_limit(1, 1_700_000_000);

    let last = get(&client, &url, &[]).await;
    assert_eq!(last.status, StatusCode::OK);
    assert_eq!(last.header("x-ratelimit-remaining"), "0");

    let refused = get(&client, &url, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.header("x-ratelimit-remaining"), "0");
    assert_eq!(refused.header("x-ratelimit-reset"), "1700000000");
    let message = refused.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("API rate limit exceeded for 127.0.0.1."),
        "{message}"
    );
    assert!(refused.json()["documentation_url"].is_string());

    // Even a conditional request is refused, and unknown paths too.
    let etag = last.header("etag").to_owned();
    let conditional = get(&client, &url, &[("if-none-match", &etag)]).await;
    assert_eq!(conditional.status, StatusCode::FORBIDDEN);
    let other = get(&client, &format!("{}/rate_limit", github.url()), &[]).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);

    github.set_rate_limit(10, 1_700_000_000);
    assert_eq!(get(&client, &url, &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_empty_and_anonymous_repositories_answer_like_github() {
    let fixtures = Fixtures {
        repos: vec![
            ("octo".into(), "empty".into(), Vec::new()),
            (
                "octo".into(),
                "anon".into(),
                vec![
                    Contributor::user("octocat", 583_231, 10),
                    Contributor::bot("dependabot[bot]", 49_699_333, 5),
                    Contributor::anonymous("Jane Doe", 3),
                ],
            ),
        ],
        ..Fixtures::default()
    };
    let addr = "127.0.0.1:0".parse().unwrap();
    let github = FakeGitHub::start_with(addr, fixtures).await.unwrap();
    let client = client(&github);
    let base = github.url();

    let missing = get(
        &client,
        &format!("{base}/repos/nobody/nothing/contributors"),
        &[],
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["message"], "Not Found");
    assert!(missing.json()["documentation_url"].is_string());

    let empty = get(
        &client,
        &format!("{base}/repos/octo/empty/contributors"),
        &[],
    )
    .await;
    assert_eq!(empty.status, StatusCode::NO_CONTENT);
    assert!(empty.body.is_empty());

    let users = get(
        &client,
        &format!("{base}/repos/octo/anon/contributors"),
        &[],
    )
    .await;
    let users = users.json();
    assert_eq!(users.as_array().unwrap().len(), 2);
    assert_eq!(users[0]["type"], "User");
    // An app's account is listed like a user, typed `Bot`.
    assert_eq!(users[1]["type"], "Bot");
    assert_eq!(users[1]["login"], "dependabot[bot]");
    let all = get(
        &client,
        &format!("{base}/repos/octo/anon/contributors?anon=1"),
        &[],
    )
    .await;
    let all = all.json();
    assert_eq!(all.as_array().unwrap().len(), 3);
    let anon = &all[2];
    assert_eq!(anon["type"], "Anonymous");
    assert_eq!(anon["name"], "Jane Doe");
    assert_eq!(anon["contributions"], 3);
    assert!(anon["email"].is_string());
    assert!(anon.get("login").is_none() && anon.get("avatar_url").is_none());

    let elsewhere = get(&client, &format!("{base}/users/octocat"), &[]).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert_eq!(elsewhere.json()["message"], "Not Found");
}

#[tokio::test]
async fn an_owners_repositories_are_listed_most_recently_pushed_first() {
    let github = FakeGitHub::start().await;
    github.set_contributors("octo", "old", vec![Contributor::user("a", 1, 1)]);
    github.set_contributors("Octo", "forked", vec![Contributor::user("b", 2, 1)]);
    github.set_contributors("octo", "new", vec![Contributor::user("c", 3, 1)]);
    github.set_contributors("other", "x", vec![Contributor::user("d", 4, 1)]);
    github.set_fork("octo", "forked", true);
    let client = client(&github);
    let base = github.url();
    let listed = get(
        &client,
        &format!("{base}/users/OCTO/repos?sort=pushed&per_page=100"),
        &[],
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK);
    let listed = listed.json();
    let names: Vec<(&str, bool)> = (listed.as_array().unwrap().iter())
        .map(|r| (r["name"].as_str().unwrap(), r["fork"].as_bool().unwrap()))
        .collect();
    assert_eq!(names, [("new", false), ("forked", true), ("old", false)]);
    assert_eq!(listed[0]["full_name"], "octo/new");
    let two = get(&client, &format!("{base}/users/octo/repos?per_page=2"), &[]).await;
    assert_eq!(two.json().as_array().unwrap().len(), 2);
    let nobody = get(&client, &format!("{base}/users/nobody/repos"), &[]).await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    // Each costs quota, as on GitHub.
    assert_eq!(github.rate_limit_remaining(), 5_000 - 3);
}

#[tokio::test]
async fn the_demo_has_a_failing_repository_and_a_fork() {
    let addr = "127.0.0.1:0".parse().unwrap();
    let github = FakeGitHub::start_with(addr, Fixtures::demo())
        .await
        .unwrap();
    let client = client(&github);
    let base = github.url();
    let broken = get(
        &client,
        &format!("{base}/repos/octo/broken/contributors"),
        &[],
    )
    .await;
    assert_eq!(broken.status, StatusCode::INTERNAL_SERVER_ERROR);
    let listed = get(&client, &format!("{base}/users/octo/repos"), &[])
        .await
        .json();
    let forks: Vec<&str> = (listed.as_array().unwrap().iter())
        .filter(|r| r["fork"] == true)
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(forks, ["forked"]);
    assert_eq!(listed.as_array().unwrap().len(), 4);
}

/// Checks a PNG the long way: signature, chunk CRCs, IHDR, and the zlib
/// stream (stored blocks and Adler-32). Returns (width, height, colour).
fn check_png(data: &[u8]) -> (u32, u32, [u8; 3]) {
    assert_eq!(&data[..8], &png::SIGNATURE);
    let mut at = 8;
    let (mut width, mut height, mut colour) = (0, 0, [0; 3]);
    let mut idat = Vec::new();
    let mut kinds = Vec::new();
    while at < data.len() {
        let len = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        let kind = &data[at + 4..at + 8];
        let body = &data[at + 8..at + 8 + len];
        let crc = u32::from_be_bytes(data[at + 8 + len..at + 12 + len].try_into().unwrap());
        assert_eq!(png::crc32(&[kind, body]), crc, "CRC of {kind:?}");
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(body[0..4].try_into().unwrap());
                height = u32::from_be_bytes(body[4..8].try_into().unwrap());
            }
            b"PLTE" => colour = body[..3].try_into().unwrap(),
            b"IDAT" => idat.extend_from_slice(body),
            _ => {}
        }
        kinds.push(String::from_utf8_lossy(kind).into_owned());
        at += 12 + len;
    }
    assert_eq!(kinds, ["IHDR", "PLTE", "IDAT", "IEND"]);

    // zlib header, then stored blocks until the final one, then Adler-32.
    assert_eq!((u16::from(idat[0]) << 8 | u16::from(idat[1])) % 31, 0);
    let mut raw = Vec::new();
    let mut at = 2;
    loop {
        let last = idat[at] & 1 == 1;
        assert_eq!(idat[at] >> 1, 0, "stored block");
        let len = u16::from_le_bytes([idat[at + 1], idat[at + 2]]);
        let nlen = u16::from_le_bytes([idat[at + 3], idat[at + 4]]);
        assert_eq!(len, !nlen);
        raw.extend_from_slice(&idat[at + 5..at + 5 + len as usize]);
        at += 5 + len as usize;
        if last {
            break;
        }
    }
    let adler = u32::from_be_bytes(idat[at..at + 4].try_into().unwrap());
    assert_eq!(png::adler32(&raw), adler);
    assert_eq!(
        raw.len(),
        (1 + width.div_ceil(8) as usize) * height as usize
    );
    (width, height, colour)
}

#[tokio::test]
async fn avatars_are_valid_pngs() {
    let github = FakeGitHub::start().await;
    let client = client(&github);
    let base = github.url();

    let avatar = get(&client, &format!("{base}/u/583231?s=40&v=4"), &[]).await;
    assert_eq!(avatar.status, StatusCode::OK);
    assert_eq!(avatar.header("content-type"), "image/png");
    assert_eq!(avatar.header("cache-control"), "max-age=300");
    let etag = avatar.header("etag").to_owned();
    assert_eq!(
        check_png(&avatar.body),
        (40, 40, png::avatar_colour(583_231))
    );

    let cached = get(
        &client,
        &format!("{base}/u/583231?s=40&v=4"),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);

    // Sizes are clamped; no size means GitHub's 460.
    let big = get(&client, &format!("{base}/u/7?s=5000"), &[]).await;
    assert_eq!(check_png(&big.body).0, 460);
    let tiny = get(&client, &format!("{base}/u/7?s=0"), &[]).await;
    assert_eq!(check_png(&tiny.body).0, 1);
    let default = get(&client, &format!("{base}/u/99999999999"), &[]).await;
    assert_eq!(check_png(&default.body).0, 460);

    let bad = get(&client, &format!("{base}/u/octocat"), &[]).await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
    assert_eq!(github.avatar_requests(), 6);
    assert_eq!(github.contributors_requests(), 0);
    // Avatars are not API calls: no quota spent.
    assert_eq!(github.rate_limit_remaining(), 5000);
}

#[tokio::test]
async fn status_and_rate_limit_behaviours() {
    let github = fake_with(5).await;
    let client = client(&github);
    let url = format!("{}/repos/o/r/contributors", github.url());

    github.set_repo_behaviour("o", "r", Behaviour::Status(502));
    let failed = get(&client, &url, &[]).await;
    assert_eq!(failed.status, StatusCode::BAD_GATEWAY);
    assert!(failed.json()["message"].is_string());

    github.set_repo_behaviour("o", "r", Behaviour::NoContent);
    let none = get(&client, &url, &[]).await;
    assert_eq!(none.status, StatusCode::NO_CONTENT);
    assert!(none.body.is_empty());

    github.set_repo_behaviour("o", "r", Behaviour::RateLimited { reset: 42 });
    let limited = get(&client, &url, &[]).await;
    assert_eq!(limited.status, StatusCode::FORBIDDEN);
    assert_eq!(limited.header("x-ratelimit-remaining"), "0");
    assert_eq!(limited.header("x-ratelimit-reset"), "42");
    let message = limited.json()["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("API rate limit exceeded"));

    github.set_repo_behaviour("o", "r", Behaviour::TooManyRequests { retry_after: 7 });
    let slow_down = get(&client, &url, &[]).await;
    assert_eq!(slow_down.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(slow_down.header("retry-after"), "7");

    github.set_repo_behaviour("o", "r", Behaviour::TooLarge);
    let large = get(&client, &url, &[]).await;
    assert_eq!(large.status, StatusCode::FORBIDDEN);
    assert!(
        large.json()["message"]
            .as_str()
            .unwrap()
            .contains("too large")
    );

    github.set_repo_behaviour("o", "r", Behaviour::Normal);
    assert_eq!(get(&client, &url, &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn redirects_point_at_this_server_or_verbatim() {
    let github = FakeGitHub::start().await;
    github.set_contributors("new-owner", "new-name", generated(2, 1_000_000));
    let client = client(&github);
    let base = github.url();

    github.set_repo_behaviour(
        "old",
        "name",
        Behaviour::Redirect {
            status: 301,
            location: "/repos/new-owner/new-name/contributors?per_page=100".into(),
        },
    );
    let moved = get(&client, &format!("{base}/repos/old/name/contributors"), &[]).await;
    assert_eq!(moved.status, StatusCode::MOVED_PERMANENTLY);
    let location = moved.header("location").to_owned();
    assert_eq!(
        location,
        format!("{base}/repos/new-owner/new-name/contributors?per_page=100")
    );
    let followed = get(&client, &location, &[]).await;
    assert_eq!(followed.json().as_array().unwrap().len(), 2);

    github.set_repo_behaviour(
        "old",
        "name",
        Behaviour::Redirect {
            status: 307,
            location: "https://example.invalid/elsewhere".into(),
        },
    );
    let away = get(&client, &format!("{base}/repos/old/name/contributors"), &[]).await;
    assert_eq!(away.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(away.header("location"), "https://example.invalid/elsewhere");
}

#[tokio::test]
async fn malformed_bodies() {
    let github = fake_with(5).await;
    let client = client(&github);
    let url = format!("{}/repos/o/r/contributors", github.url());

    github.set_repo_behaviour("o", "r", Behaviour::Garbage);
    let garbage = get(&client, &url, &[]).await;
    assert_eq!(garbage.status, StatusCode::OK);
    assert!(
        garbage
            .header("content-type")
            .starts_with("application/json")
    );
    assert!(serde_json::from_slice::<serde_json::Value>(&garbage.body).is_err());

    github.set_repo_behaviour("o", "r", Behaviour::WrongShape);
    let wrong = get(&client, &url, &[]).await;
    assert_eq!(wrong.json()["message"], "hi");

    github.set_repo_behaviour("o", "r", Behaviour::Oversize(3_000_000));
    let huge = get(&client, &url, &[]).await;
    assert_eq!(huge.status, StatusCode::OK);
    assert_eq!(huge.header("content-length"), "3000000");
    assert_eq!(huge.body.len(), 3_000_000);
    assert!(huge.body.starts_with(b"[{\"login\""));

    github.set_avatar_behaviour(1, Behaviour::NotAnImage);
    let html = get(&client, &format!("{}/u/1", github.url()), &[]).await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.header("content-type").starts_with("text/html"));
}

#[tokio::test]
async fn broken_and_slow_connections() {
    let github = fake_with(50).await;
    let url = format!("{}/repos/o/r/contributors", github.url());

    // Cut mid-body, on each protocol: the headers arrive, the body fails.
    github.set_repo_behaviour("o", "r", Behaviour::ResetMidBody);
    for versions in [Versions::Both, Versions::Http1Only] {
        let client = client_trusting(&github.ca_pem(), versions);
        let response = send(&client, &url, &[]).await.expect("headers arrive");
        assert_eq!(response.status(), StatusCode::OK);
        let promised: usize = response.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let mut body = response.into_body();
        let mut received = 0;
        let mut failed = false;
        // Bounded: the body is at most `promised` bytes in non-empty frames.
        for _ in 0..=promised {
            match tokio::time::timeout(LIMIT, body.frame())
                .await
                .expect("within the limit")
            {
                Some(Ok(frame)) => received += frame.data_ref().map_or(0, Bytes::len),
                Some(Err(_)) => {
                    failed = true;
                    break;
                }
                None => break,
            }
        }
        assert!(failed, "the body must fail");
        assert!(
            received > 0 && received < promised,
            "{received} of {promised}"
        );
    }

    // A slow body arrives whole, padded, after chunks × every.
    let every = Duration::from_millis(40);
    github.set_repo_behaviour(
        "o",
        "r",
        Behaviour::Drip {
            chunk: 10_000,
            every,
            chunks: 5,
        },
    );
    let client = client(&github);
    let started = Instant::now();
    let drip = get(&client, &url, &[]).await;
    assert!(started.elapsed() >= every * 5);
    assert_eq!(drip.body.len(), 50_000);
    assert_eq!(drip.json().as_array().unwrap().len(), 30);

    // A delay, then the normal answer.
    github.set_repo_behaviour("o", "r", Behaviour::Delay(Duration::from_millis(100)));
    let started = Instant::now();
    assert_eq!(get(&client, &url, &[]).await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(100));

    // A stall never answers: the client has to give up.
    github.set_repo_behaviour("o", "r", Behaviour::Stall);
    let request = Request::get(&url).body(Empty::new()).unwrap();
    let stalled = tokio::time::timeout(Duration::from_millis(300), client.request(request)).await;
    assert!(stalled.is_err(), "a stall must not answer");
    assert_eq!(github.contributors_requests(), 5);
}

#[tokio::test]
async fn handshakes_count_connections_and_requests_are_recorded() {
    let github = fake_with(3).await;
    let url = format!("{}/repos/o/r/contributors?per_page=2", github.url());

    // One client keeps its connection: three requests, one handshake.
    let pooled = client(&github);
    let headers = [
        ("authorization", "Bearer t0ken"),
        ("user-agent", "contributors-test"),
        ("accept", "application/vnd.github+json"),
        ("x-github-api-version", "2022-11-28"),
    ];
    for _ in 0..3 {
        assert_eq!(get(&pooled, &url, &headers).await.status, StatusCode::OK);
    }
    assert_eq!(github.handshakes(), 1);

    // A second client is a second connection, here over HTTP/1.1.
    let http1 = client_trusting(&github.ca_pem(), Versions::Http1Only);
    assert_eq!(get(&http1, &url, &[]).await.status, StatusCode::OK);
    assert_eq!(github.handshakes(), 2);

    let requests = github.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(github.request_count(), 4);
    let first = &requests[0];
    assert_eq!(first.method, "GET");
    assert_eq!(first.path, "/repos/o/r/contributors");
    assert_eq!(first.query.as_deref(), Some("per_page=2"));
    assert_eq!(first.header("Authorization"), Some("Bearer t0ken"));
    assert_eq!(first.bearer_token(), Some("t0ken"));
    assert_eq!(first.header("user-agent"), Some("contributors-test"));
    assert_eq!(first.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(first.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(first.version, "HTTP/2.0");
    assert_eq!(requests[3].version, "HTTP/1.1");
    assert_eq!(requests[3].header("authorization"), None);

    // A client trusting another CA fails the handshake and sends nothing.
    let other = FakeGitHub::start().await;
    let stranger = client_trusting(&other.ca_pem(), Versions::Both);
    assert!(send(&stranger, &url, &[]).await.is_err());
    assert_eq!(github.handshakes(), 2);
    assert_eq!(github.request_count(), 4);
    // The server notices the failure just after the client does.
    for _ in 0..100 {
        if github.failed_handshakes() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(github.failed_handshakes(), 1);

    github.reset_counters();
    assert_eq!(github.request_count(), 0);
    assert_eq!(github.handshakes(), 0);
    assert!(github.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_fake_stops_it_even_mid_request() {
    let github = fake_with(3).await;
    let addr = github.addr();
    let url = format!("{}/repos/o/r/contributors", github.url());
    // Named by process and port: other test runs on the machine use /tmp too.
    let name = format!("fake-github-ca-{}-{}.pem", std::process::id(), addr.port());
    let path = std::env::temp_dir().join(name);
    github.write_ca_pem(&path).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(written.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(written, github.ca_pem());

    github.set_repo_behaviour("o", "r", Behaviour::Stall);
    let client = client(&github);
    let pending = tokio::spawn(async move { send(&client, &url, &[]).await.map(|_| ()) });
    // Wait until the stalled request has arrived, then drop the fake.
    let arrived = within_limit(|| std::future::ready(github.request_count() == 1)).await;
    assert!(arrived, "the request reaches the fake");
    assert_eq!(github.request_count(), 1);
    drop(github);

    let outcome = tokio::time::timeout(LIMIT, pending)
        .await
        .expect("ends")
        .unwrap();
    assert!(
        outcome.is_err(),
        "the stalled request fails once the fake is gone"
    );
    // Failed because the fake closed the connection, not the client's own
    // time limit: a stall is dropped unanswered, never answered.
    assert_ne!(outcome, Err("timed out".to_owned()));
    // And the port no longer accepts connections (the listener closes when
    // the aborted accept loop is dropped, on one of the runtime's threads).
    let refused = within_limit(|| async { tokio::net::TcpStream::connect(addr).await.is_err() });
    assert!(refused.await);
}

/// Checks `condition` every 5 ms until it holds (true) or [`LIMIT`] has
/// passed (false): for what happens on another task, however busy the
/// machine.
async fn within_limit<F, C>(mut condition: C) -> bool
where
    C: FnMut() -> F,
    F: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + LIMIT;
    loop {
        if condition().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// GET `/_fake/stats` and parse it.
async fn stats(client: &HttpsClient, github: &FakeGitHub) -> serde_json::Value {
    let answer = get(client, &format!("{}/_fake/stats", github.url()), &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.headers["content-type"],
        "application/json; charset=utf-8"
    );
    serde_json::from_slice(&answer.body).expect("the stats are JSON")
}

#[tokio::test]
async fn latency_delays_every_answer_and_each_new_connection() {
    let github = FakeGitHub::start().await;
    github.set_contributors("o", "r", generated(3, 1_000_000));
    github.set_latency(Duration::from_millis(150));
    github.set_connect_latency(Duration::from_millis(300));
    let app = client(&github);
    let url = format!("{}/repos/o/r/contributors", github.url());
    // A new connection: the handshake's delay, then the answer's.
    let started = Instant::now();
    assert_eq!(get(&app, &url, &[]).await.status, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
    // The same connection again: the answer's delay only, no handshake.
    let started = Instant::now();
    assert_eq!(get(&app, &url, &[]).await.status, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(github.handshakes(), 1);
}

#[tokio::test]
async fn stats_endpoint_reports_counters_without_counting_itself() {
    let github = FakeGitHub::start().await;
    github.set_contributors("o", "r", generated(150, 1_000_000));
    github.set_avatar_base(&github.url());
    let app = client(&github);
    let first = format!("{}/repos/o/r/contributors?per_page=100", github.url());
    let answer = get(&app, &first, &[]).await;
    let next = link(answer.headers["link"].to_str().unwrap(), "next").expect("a next page");
    assert_eq!(get(&app, &next, &[]).await.status, StatusCode::OK);
    let avatar = format!("{}/u/1000000?s=80", github.url());
    assert_eq!(get(&app, &avatar, &[]).await.status, StatusCode::OK);

    // A script's own connection: neither its requests nor its handshake count.
    let script = client_trusting(&github.ca_pem(), Versions::Http1Only);
    let expected = serde_json::json!({
        "requests": 3,
        "contributors_requests": 2,
        "contributors_lists": 1,
        "avatar_requests": 1,
        "avatars_peak": 1,
        "handshakes": 1,
        "failed_handshakes": 0,
    });
    assert_eq!(stats(&script, &github).await, expected);
    assert_eq!(stats(&script, &github).await, expected);
    assert_eq!(github.request_count(), 3);
    assert_eq!(github.requests().len(), 3);
    assert_eq!(github.handshakes(), 1);
    assert_eq!(github.contributors_lists(), 1);

    // Read over the app's own connection, it changes nothing either.
    assert_eq!(stats(&app, &github).await, expected);

    // Once the script's connection carries a real request, it counts.
    assert_eq!(get(&script, &first, &[]).await.status, StatusCode::OK);
    let after = stats(&script, &github).await;
    assert_eq!(after["requests"], 4);
    assert_eq!(after["contributors_lists"], 2);
    assert_eq!(after["handshakes"], 2);
    assert_eq!(github.handshakes(), 2);
}
