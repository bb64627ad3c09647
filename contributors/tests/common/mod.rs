//! Test support: start the app in-process against a fake GitHub, and a
//! deliberately dumb HTTP/1.1 client that sends paths exactly as written
//! (a real client would normalise `/a/..` before sending it).

#![allow(dead_code)] // each test file uses a different part of this module

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use contributors::Server;
use contributors::config::Config;
use contributors::github::BaseUrl;
use fake_github::FakeGitHub;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

/// The app, serving on an ephemeral loopback port.
pub struct TestApp {
    pub addr: SocketAddr,
    pub fake: FakeGitHub,
    stop: Option<oneshot::Sender<()>>,
    pub stopped: tokio::task::JoinHandle<()>,
}

impl TestApp {
    /// Starts a fake GitHub and the app pointed at it, trusting the fake's
    /// test CA through the extra-CA setting (the real TLS path).
    pub async fn start() -> TestApp {
        TestApp::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let fake = FakeGitHub::start().await;
        TestApp::start_against(fake, true, tweak).await
    }

    pub async fn start_against(
        fake: FakeGitHub,
        trust_fake: bool,
        tweak: impl FnOnce(&mut Config),
    ) -> TestApp {
        let mut config = config_for(&fake);
        if !trust_fake {
            config.extra_ca_file = None;
        }
        tweak(&mut config);
        let server = Server::bind(config).await.expect("the app starts");
        let addr = server.local_addr();
        let (stop, stopped_rx) = oneshot::channel::<()>();
        let stopped = tokio::spawn(server.run(async {
            let _ = stopped_rx.await;
        }));
        TestApp {
            addr,
            fake,
            stop: Some(stop),
            stopped,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        get(self.addr, path, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        get(self.addr, path, headers).await
    }

    /// Asks the server to stop, as SIGTERM would.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A configuration pointing both API and avatars at `fake`, trusting its CA.
pub fn config_for(fake: &FakeGitHub) -> Config {
    let mut config = Config::for_loopback();
    config.api_url = BaseUrl::parse(&fake.url()).unwrap();
    config.avatar_url = BaseUrl::parse(&fake.url()).unwrap();
    config.extra_ca_file = Some(write_temp("ca.pem", fake.ca_pem().as_bytes()));
    config.upstream_timeout = Duration::from_secs(2);
    config.connect_timeout = Duration::from_secs(1);
    config
}

/// Writes a file under the system temp directory with a unique name.
pub fn write_temp(name: &str, contents: &[u8]) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let path = std::env::temp_dir().join(format!(
        "contributors-test-{}-{n}-{name}",
        std::process::id()
    ));
    std::fs::write(&path, contents).unwrap();
    path
}

/// One parsed HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `GET {path}` over a fresh connection and reads the whole answer.
pub async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    send(addr, "GET", path, headers).await
}

/// Sends `{method} {path}` over a fresh connection and reads the whole answer.
pub async fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect to the app");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw))
        .await
        .expect("the app answers within 30 s")
        .expect("read the answer");
    parse(&raw)
}

pub fn parse(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// Polls (bounded: 500 × 20 ms) until `done` holds: for what the app does
/// in the background, such as a refresh reaching fake-github.
pub async fn eventually(done: impl Fn() -> bool) -> bool {
    for _ in 0..500 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Views `path` until `done` holds for the answer (bounded: 500 × 20 ms):
/// for what a background refresh changes a moment after a view.
pub async fn viewed_until(app: &TestApp, path: &str, done: impl Fn(&Reply) -> bool) -> bool {
    for _ in 0..500 {
        if done(&app.get(path).await) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Polls (bounded) until something accepts connections on `addr`.
pub async fn wait_until_listening(addr: std::net::SocketAddr) -> bool {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Polls (bounded: `tries` × 50 ms) for the child's exit; kills it if late.
pub async fn wait_for_exit(
    child: &mut std::process::Child,
    tries: u32,
) -> std::process::ExitStatus {
    for _ in 0..tries {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    panic!("the process did not exit within {} ms", tries * 50)
}

/// What the exited `child` wrote to its piped stdout (its log).
pub fn log_of(child: &mut std::process::Child) -> String {
    use std::io::Read;
    let mut log = String::new();
    let mut stdout = child.stdout.take().expect("stdout piped");
    stdout.read_to_string(&mut log).unwrap();
    log
}

/// One request on a new keep-alive connection, answered: the connection
/// is then idle, and stays open.
pub async fn idle_keep_alive(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    healthz_on(&mut stream).await;
    stream
}

/// Sends `GET /healthz` on `stream` and reads its whole answer.
pub async fn healthz_on(stream: &mut TcpStream) {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"ok\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before the answer");
        got.extend_from_slice(&buf[..n]);
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `n` contributors as GitHub lists them: `user1` first, with the most
/// contributions, and account ids from 1001 up.
pub fn users(n: u64) -> Vec<fake_github::Contributor> {
    (1..=n)
        .map(|i| fake_github::Contributor::user(&format!("user{i}"), 1000 + i, 10_000 - i))
        .collect()
}

/// A child process that is killed when dropped: a test that fails
/// half-way (a panic) does not leave the binary running, holding its port
/// and the pipe a test harness may wait on. Use it as the `Child` it holds.
pub struct Spawned(std::process::Child);

impl std::ops::Deref for Spawned {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        &self.0
    }
}

impl std::ops::DerefMut for Spawned {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        &mut self.0
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        // Already exited and reaped (the usual end of a test): both are no-ops.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `contributors` binary itself, as a child process on a free loopback
/// port: pointed at `fake` (trusting its CA) when given, with its log going
/// to `stdout`. Returns once it accepts connections.
pub async fn spawn_binary(
    fake: Option<&FakeGitHub>,
    stdout: std::process::Stdio,
) -> (Spawned, SocketAddr) {
    let port = free_port();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_contributors"));
    command
        .env("PORT", port.to_string())
        .env("CONTRIBUTORS_BIND", "127.0.0.1")
        .stdout(stdout);
    if let Some(fake) = fake {
        let ca = write_temp("ca.pem", fake.ca_pem().as_bytes());
        command
            .env("GITHUB_API_URL", fake.url())
            .env("CONTRIBUTORS_AVATAR_URL", fake.url())
            .env("CONTRIBUTORS_EXTRA_CA_FILE", ca);
    }
    let child = Spawned(command.spawn().expect("start the binary"));
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    assert!(wait_until_listening(addr).await, "the server did not start");
    (child, addr)
}
