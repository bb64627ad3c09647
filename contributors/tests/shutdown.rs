//! SIGTERM against the real binary: in-flight requests finish, the process
//! exits 0 promptly. This is what makes `docker stop` fast and lossless.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_github::{Behaviour, Contributor, FakeGitHub};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_flight_request_finishes_across_sigterm() {
    let fake = FakeGitHub::start().await;
    fake.set_contributors("o", "r", vec![Contributor::user("survivor", 1, 1)]);
    fake.set_repo_behaviour("o", "r", Behaviour::Delay(Duration::from_millis(1500)));
    let ca = common::write_temp("ca.pem", fake.ca_pem().as_bytes());
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_contributors"))
        .env("PORT", port.to_string())
        .env("CONTRIBUTORS_BIND", "127.0.0.1")
        .env("GITHUB_API_URL", fake.url())
        .env("CONTRIBUTORS_AVATAR_URL", fake.url())
        .env("CONTRIBUTORS_EXTRA_CA_FILE", &ca)
        .stdout(Stdio::null())
        .spawn()
        .expect("start the binary");
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();

    // Wait (bounded) until it serves.
    let mut ready = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the server did not start");

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
    let mut exit = None;
    for _ in 0..100 {
        if let Some(status) = child.try_wait().unwrap() {
            exit = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exit = exit.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("the process did not exit within 5 s of the request finishing")
    });
    assert!(exit.success(), "{exit:?}");
    assert!(signalled.elapsed() < Duration::from_secs(6));
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is closed after exit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_server_stops_at_once() {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_contributors"))
        .env("PORT", port.to_string())
        .env("CONTRIBUTORS_BIND", "127.0.0.1")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // An idle keep-alive connection must not hold the shutdown up.
    let _idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let mut exited = None;
    for _ in 0..60 {
        if let Some(status) = child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let exited = exited.unwrap_or_else(|| {
        let _ = child.kill();
        panic!("no exit within 3 s")
    });
    assert!(exited.success());
    assert!(started.elapsed() < Duration::from_secs(3));
}
