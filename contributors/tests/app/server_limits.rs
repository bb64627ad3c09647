//! The server under hostile clients: slow headers, too many connections,
//! floods of invalid paths. Each test ends with the server still healthy.
//! Every loop here is bounded and all traffic stays on loopback.

use std::time::Duration;

use crate::common::{self, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Opens `n` connections that send half a request and then go quiet.
async fn slow_clients(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        held.push(s);
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_connections_do_not_block_others() {
    // The deadline alone: without the cap per client, which would turn
    // most of these away at once (the test's clients share one address).
    let app = TestApp::start_with(|c| c.client_connections = 0).await;
    // A thousand half-sent requests. This process holds both ends of each
    // connection, so it needs about 2,000 file descriptors.
    let mut held = slow_clients(app.addr, 1000).await;
    for _ in 0..20 {
        assert_eq!(app.get("/healthz").await.status, 200);
    }
    // The header-read timeout closes them: each read ends (EOF or a 408).
    let mut closed = 0;
    for s in held.iter_mut().take(20) {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(15), s.read_to_end(&mut buf)).await;
        if read.is_ok() {
            closed += 1;
        }
    }
    assert_eq!(closed, 20, "slow clients are cut off by the header timeout");
    assert_eq!(app.get("/healthz").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_get_a_clear_503() {
    let app = TestApp::start_with(|c| {
        c.max_connections = 10;
        c.client_connections = 0;
    })
    .await;
    let held = slow_clients(app.addr, 10).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let reply = app.get("/healthz").await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(reply.text().contains("server busy"));
    drop(held);
    // Slots free up as those connections close.
    let mut recovered = false;
    for _ in 0..50 {
        if app.get("/healthz").await.status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recovered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_invalid_paths_make_no_upstream_call() {
    let app = TestApp::start().await;
    let bad = [
        "/a/..",
        "/-x/y",
        "/x/y%2Fz",
        "/x/%3Cy%3E",
        "/x_y/z",
        "/x/y?max=0",
    ];
    let mut workers = Vec::new();
    for w in 0..4 {
        let addr = app.addr;
        workers.push(tokio::spawn(async move {
            // One keep-alive connection per worker, 2,500 requests each.
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut statuses = Vec::new();
            let mut buf = vec![0u8; 16 * 1024];
            for i in 0..2_500 {
                let path = bad[(w + i) % bad.len()];
                let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
                stream.write_all(req.as_bytes()).await.unwrap();
                // Read one whole response: headers, then content-length bytes.
                let mut got = Vec::new();
                loop {
                    let n = stream.read(&mut buf).await.unwrap();
                    assert!(n > 0, "connection closed early");
                    got.extend_from_slice(&buf[..n]);
                    if let Some(end) = got.windows(4).position(|x| x == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map(|v| v.trim().parse().unwrap())
                            .unwrap_or(0);
                        if got.len() >= end + 4 + len {
                            statuses.push(head[9..12].to_string());
                            break;
                        }
                    }
                }
            }
            statuses
        }));
    }
    let mut total = 0;
    for w in workers {
        let statuses = w.await.unwrap();
        assert!(statuses.iter().all(|s| s == "400"), "{statuses:?}");
        total += statuses.len();
    }
    assert_eq!(total, 10_000);
    assert_eq!(app.fake.request_count(), 0);
    assert_eq!(app.get("/healthz").await.status, 200);
}

/// Whether the server has closed `s` (EOF or reset) within `wait`.
async fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(wait, s.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_server_closes_its_idlest_keep_alive_connection_for_a_new_one() {
    let app = TestApp::start_with(|c| {
        c.max_connections = 50;
        c.client_connections = 0;
    })
    .await;
    // Fifty idle keep-alive connections hold every slot; the first is the
    // one idle the longest.
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(common::idle_keep_alive(app.addr).await);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Each newcomer is served (and stays, so the server stays full), and
    // costs the idlest connection its place.
    let mut newcomers = Vec::new();
    for (newcomer, idlest) in idle.iter_mut().take(5).enumerate() {
        newcomers.push(common::idle_keep_alive(app.addr).await);
        assert!(
            closed_within(idlest, Duration::from_secs(2)).await,
            "connection {newcomer}, the idlest, was closed"
        );
    }
    // The others are still open: each still answers on its connection.
    for s in &mut idle[5..] {
        assert!(!closed_within(s, Duration::from_millis(20)).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_holds_at_most_its_share_of_connections() {
    let app = TestApp::start_with(|c| c.client_connections = 3).await;
    let _held: Vec<TcpStream> = {
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(TcpStream::connect(app.addr).await.unwrap());
        }
        held
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let reply = app.get("/healthz").await;
    assert_eq!(
        reply.status, 503,
        "a fourth connection from the same address"
    );
    assert_eq!(reply.header("retry-after"), Some("1"));

    // A trusted proxy speaks for many visitors: it is not capped.
    let app = TestApp::start_with(|c| {
        c.client_connections = 3;
        c.trusted_proxies =
            contributors::guards::trusted_proxies::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(app.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.get("/healthz").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_over_the_cap_gets_431() {
    let app = TestApp::start().await;
    // hyper reads into the spare room of its buffer, so it may hold up to
    // about twice the cap before it sees the head is too large.
    let big = "x".repeat(3 * contributors::server::MAX_HEAD_BYTES);
    let reply = app.get_with("/healthz", &[("x-filler", &big)]).await;
    assert_eq!(reply.status, 431);
    // Just under the cap is fine.
    let fits = "x".repeat(contributors::server::MAX_HEAD_BYTES / 2);
    assert_eq!(
        app.get_with("/healthz", &[("x-filler", &fits)])
            .await
            .status,
        200
    );
}
