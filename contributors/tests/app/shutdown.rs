//! SIGTERM against the real binary: in-flight requests finish, the process
//! exits 0 promptly. This is what makes `docker stop` fast and lossless.

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_github::{Behaviour, Contributor, FakeGitHub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_flight_request_finishes_across_sigterm() {
    let fake = FakeGitHub::start().await;
    fake.set_contributors("o", "r", vec![Contributor::user("survivor", 1, 1)]);
    fake.set_repo_behaviour("o", "r", Behaviour::Delay(Duration::from_millis(1500)));
    let (mut child, addr) = common::spawn_binary(Some(&fake), Stdio::null()).await;

    let in_flight = tokio::spawn(async move { common::get(addr, "/o/r", &[]).await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    let reply = in_flight.await.unwrap();
    assert_eq!(reply.status, 200);
    assert!(reply.text().contains("survivor"));

    // Exits by itself, with 0, soon after the request completed.
    let exit = common::wait_for_exit(&mut child, 100).await;
    assert!(exit.success(), "{exit:?}");
    assert!(signalled.elapsed() < Duration::from_secs(6));
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is closed after exit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_server_stops_at_once() {
    let (mut child, addr) = common::spawn_binary(None, Stdio::null()).await;
    // An idle keep-alive connection must not hold the shutdown up.
    let _idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let exited = common::wait_for_exit(&mut child, 60).await;
    assert!(exited.success());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_does_not_hold_up_sigterm() {
    let (mut child, addr) = common::spawn_binary(None, Stdio::piped()).await;
    // One request answered on a connection that is then kept alive, idle
    // (held open until the end).
    let _idle = common::idle_keep_alive(addr).await;

    let signalled = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let exited = common::wait_for_exit(&mut child, 40).await;
    assert!(exited.success(), "{exited:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(1),
        "{:?}",
        signalled.elapsed()
    );
    let log = common::log_of(&mut child);
    assert!(!log.contains("did not finish"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_already_sent_on_keep_alive_connections_are_answered_across_sigterm() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    let (mut child, addr) = common::spawn_binary(None, Stdio::null()).await;
    // Ten keep-alive connections, each with one request answered.
    let mut connections = Vec::new();
    for _ in 0..10 {
        connections.push(common::idle_keep_alive(addr).await);
    }
    // Then the next request: whole on the first five, half sent on the
    // others (the server has read part of it when the signal comes).
    for (i, s) in connections.iter_mut().enumerate() {
        let request: &[u8] = if i < 5 {
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        } else {
            b"GET /healthz HTTP/1.1\r\n"
        };
        s.write_all(request).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    // The rest of the half-sent requests once the server has stopped
    // listening (so is stopping).
    let mut stopped = false;
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_err() {
            stopped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(stopped, "the listener closes on SIGTERM");
    for s in &mut connections[5..] {
        s.write_all(b"Host: x\r\n\r\n").await.unwrap();
    }
    // Each is answered, then closed; the ones answered after the signal
    // are told so (`Connection: close`).
    for (i, s) in connections.iter_mut().enumerate() {
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut raw))
            .await
            .expect("closed after the answer")
            .unwrap();
        assert!(!raw.is_empty(), "connection {i} was closed unanswered");
        let reply = common::parse(&raw);
        assert_eq!(reply.status, 200, "connection {i}");
        if i >= 5 {
            assert_eq!(reply.header("connection"), Some("close"), "connection {i}");
        }
    }
    let exit = common::wait_for_exit(&mut child, 60).await;
    assert!(exit.success(), "{exit:?}");
}

/// The test harness's own promise: a binary a test started is gone once
/// the test lets go of it, even when the test fails half-way (so a failed
/// test leaves no server holding its port and its log pipe).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_a_test_drops_is_stopped() {
    let (child, addr) = common::spawn_binary(None, Stdio::null()).await;
    let pid = child.id().to_string();
    drop(child);
    let mut signal_0 = Command::new("kill");
    signal_0.args(["-0", &pid]).stderr(Stdio::null());
    let alive = signal_0.status().unwrap();
    assert!(!alive.success(), "process {pid} is still running");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is closed"
    );
}
