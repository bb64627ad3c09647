//! Deadlines on every phase of a client connection, and pages that do not
//! wait for a slow GitHub. Each test bounds its own loops and waits, and all
//! traffic stays on loopback.

use std::time::{Duration, Instant};

use crate::common::{self, TestApp, users};
use fake_github::Behaviour;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_lose_their_slots_at_the_head_deadline() {
    let head = Duration::from_secs(2);
    let app = TestApp::start_with(|c| {
        c.max_connections = 10;
        c.header_timeout = head;
    })
    .await;
    let opened = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..10 {
        silent.push(TcpStream::connect(app.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.get("/healthz").await.status, 503, "the cap is reached");
    let mut served = false;
    while opened.elapsed() < head + Duration::from_secs(1) {
        if app.get("/healthz").await.status == 200 {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        served,
        "no 200 within the head deadline + 1 s ({:?})",
        opened.elapsed()
    );
    // The silent connections were closed by the server: each reads EOF.
    for s in &mut silent {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(1), s.read(&mut byte)).await;
        assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    }
}

/// A client pipelines `pipelined` requests for a 500-row page and never
/// reads. Others are served meanwhile; once the write deadline has passed,
/// the connection is found closed before all the answers were sent.
async fn a_client_that_never_reads(pipelined: usize) {
    let write = Duration::from_secs(2);
    let app = TestApp::start_with(|c| c.write_timeout = write).await;
    app.fake.set_contributors("big", "repo", users(500));
    let path = "/big/repo?max=500";
    let page_bytes = app.get(path).await.body.len();

    let mut reader = TcpStream::connect(app.addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").repeat(pipelined);
    reader.write_all(request.as_bytes()).await.unwrap();
    let sent = Instant::now();

    while sent.elapsed() < write + Duration::from_millis(1500) {
        assert_eq!(app.get("/healthz").await.status, 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Reading now gets what the kernel buffered, then the end (or a reset):
    // not every answer. A connection still open would go on sending them
    // all, then wait for the next request, and the read would time out.
    let mut received = Vec::new();
    let read =
        tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the connection was not closed");
    let answers = received
        .windows(15)
        .filter(|w| w == b"HTTP/1.1 200 OK")
        .count();
    assert!(
        answers < pipelined,
        "{answers} of {pipelined} answers ({} bytes, {page_bytes} a page)",
        received.len()
    );
    assert_eq!(app.get("/healthz").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_a_stalled_response_is_dropped() {
    // About 30 MB: the server's writes stall once the socket buffers fill.
    a_client_that_never_reads(100).await;
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_a_buffered_response_is_dropped() {
    // About 1.5 MB: it all fits in the kernel's send buffer, every write
    // succeeds, and only TCP_USER_TIMEOUT sees that nobody reads it.
    a_client_that_never_reads(5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_at_the_idle_deadline() {
    let idle = Duration::from_secs(1);
    let app = TestApp::start_with(|c| {
        c.idle_timeout = idle;
        c.header_timeout = Duration::from_secs(30);
    })
    .await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    common::healthz_on(&mut stream).await;
    let answered = Instant::now();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("closed within the idle deadline + 4 s")
        .unwrap_or(0);
    assert_eq!(n, 0, "nothing more is sent, the connection just closes");
    assert!(answered.elapsed() >= idle - Duration::from_millis(100));
}

// The read alarm is not moved per request: it goes off at most a tick
// (here the 1 s head deadline) ahead and is set again for the phase in
// force then (timed_stream.rs). So a connection kept busy across several
// ticks must live on, and must still close `idle` after its last answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_connection_lives_on_and_idles_out_from_its_last_answer() {
    let (head, idle) = (Duration::from_secs(1), Duration::from_secs(2));
    let app = TestApp::start_with(|c| {
        c.header_timeout = head;
        c.idle_timeout = idle;
    })
    .await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let started = Instant::now();
    // Ten requests 300 ms apart: 3 s, past both deadlines counted from the start.
    for _ in 0..10 {
        common::healthz_on(&mut stream).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(started.elapsed() > idle + head);
    common::healthz_on(&mut stream).await;
    let answered = Instant::now();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(idle + Duration::from_secs(3), stream.read(&mut buf))
        .await
        .expect("closed within the idle deadline + 3 s")
        .unwrap_or(0);
    assert_eq!(n, 0, "nothing more is sent, the connection just closes");
    let waited = answered.elapsed();
    assert!(waited >= idle - Duration::from_millis(100), "{waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_copy_is_served_at_once_while_github_hangs() {
    let app = TestApp::start_with(|c| {
        c.cache_ttl = Duration::ZERO;
        c.upstream_timeout = Duration::from_secs(10);
    })
    .await;
    app.fake.set_contributors("o", "r", users(3));
    assert_eq!(app.get("/o/r").await.status, 200);
    app.fake.set_repo_behaviour("o", "r", Behaviour::Stall);
    for _ in 0..3 {
        let asked = Instant::now();
        let reply = app.get("/o/r").await;
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{:?}",
            asked.elapsed()
        );
        assert_eq!(reply.status, 200);
        assert!(reply.text().contains("user3"));
    }
    // One refresh hangs; the views above did not start one each. It runs in
    // the background, so it may reach the fake after the views: wait for it,
    // then give any other the same time to show.
    assert!(common::eventually(|| app.fake.contributors_requests() >= 2).await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.fake.contributors_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_link_elsewhere_is_named_with_its_port_and_checked_only_when_followed() {
    let app = TestApp::start().await;
    app.fake.set_contributors("o", "r", users(150));
    app.fake
        .set_repo_behaviour("o", "r", Behaviour::LinksTo("https://127.0.0.1:1".into()));
    // 100 fit on the first page: the link is not followed, nothing fails.
    let reply = app.get("/o/r?max=100").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.text().contains("The first 100 contributors"));
    // 150 need the second page, and the link goes elsewhere.
    let reply = app.get("/o/r?max=150").await;
    assert_eq!(reply.status, 502);
    assert!(
        reply.text().contains("another host (https://127.0.0.1:1)"),
        "{}",
        reply.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_body_is_never_waited_for() {
    // Deadlines far away: only not reading the body can end this quickly.
    let app = TestApp::start_with(|c| {
        c.header_timeout = Duration::from_secs(30);
        c.idle_timeout = Duration::from_secs(30);
    })
    .await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"POST /o/r HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nten bytes.")
        .await
        .unwrap();
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the connection waited for the body");
    assert!(
        got.starts_with(b"HTTP/1.1 405"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

/// The server speaks HTTP/1.1 only (HTTP/2 belongs to the proxy in front):
/// a client that opens with the HTTP/2 preface is closed on (hyper sends
/// nothing, or an HTTP/1.1 error), instead of being answered with an HTTP/2
/// SETTINGS frame and kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_client_gets_no_http2() {
    let app = TestApp::start().await;
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the connection ends");
    let answer = String::from_utf8_lossy(&answer);
    let refused = answer.starts_with("HTTP/1.1 4") || answer.starts_with("HTTP/1.1 5");
    assert!(answer.is_empty() || refused, "{answer:?}");
}
