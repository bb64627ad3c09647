//! The app behind a real HTTP proxy: Debian's `tinyproxy`, started by each
//! test on a free loopback port with a config file the test writes, in front
//! of fake-github over real TLS.
//!
//! Why tinyproxy: it is small, packaged by Debian, needs no root, and does
//! the three things these tests need: `CONNECT` tunnels, Basic proxy
//! authentication, and a log line for every `CONNECT` it is asked for.
//!
//! The fake listens on 127.0.0.1, and loopback is not special to `NO_PROXY`,
//! so without a `NO_PROXY` entry the app really goes through the proxy.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use contributors::github::proxy::{NO_PROXY_VARIABLES, PROXY_VARIABLES};
use std::time::{Duration, Instant};

use crate::common::{Reply, TestApp};
use contributors::config::Config;
use contributors::github::proxy::Proxy;
use fake_github::{Contributor, FakeGitHub};

/// A tinyproxy process; killed (and its files removed) on drop.
struct TinyProxy {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl TinyProxy {
    /// Starts tinyproxy on a free loopback port. `rules` are extra config
    /// lines (`ConnectPort`, `BasicAuth`). Without a `ConnectPort` line it
    /// tunnels to any port, which the fakes' ephemeral ports need.
    fn start(rules: &str) -> TinyProxy {
        let program = tinyproxy();
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "contributors-tinyproxy-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("tinyproxy.conf");
        // `LogLevel Connect` logs each request line, `CONNECT host:port`
        // included; `Allow` keeps it to loopback clients.
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\n\
                 Allow 127.0.0.1\nLogLevel Connect\nLogFile \"{}\"\n{rules}\n",
                dir.join("tinyproxy.log").display()
            ),
        )
        .unwrap();
        // `-d`: stay in the foreground, so the child is the proxy itself.
        let child = Command::new(&program)
            .arg("-d")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
        let mut proxy = TinyProxy { child, port, dir };
        proxy.wait_until_listening();
        proxy
    }

    fn wait_until_listening(&mut self) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("tinyproxy exited ({status}); its log:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "tinyproxy did not listen on {addr} within 10 s; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("tinyproxy.log")).unwrap_or_default()
    }

    /// The `CONNECT host:port` requests the proxy logged.
    fn connects(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|l| l.split_once("Request (file descriptor "))
            .filter_map(|(_, rest)| rest.split_once("): CONNECT "))
            .map(|(_, target)| target.trim_end_matches(" HTTP/1.1").to_string())
            .collect()
    }
}

impl Drop for TinyProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// tinyproxy from Debian's package, or wherever PATH has it.
fn tinyproxy() -> PathBuf {
    let debian = Path::new("/usr/bin/tinyproxy");
    if debian.is_file() {
        return debian.to_path_buf();
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("tinyproxy"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "these tests need tinyproxy, which is not installed: \
                 `apt-get install tinyproxy` (make test installs it through ci/ensure-packages.sh)"
            )
        })
}

/// A loopback port nothing listens on (right after this returns).
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

/// The proxy settings as the app would read them from `vars`.
fn proxy_from(vars: &[(&str, &str)]) -> Proxy {
    Proxy::from_env(|name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    })
    .unwrap()
}

/// A fake with one repository, `octo/hello`, of two contributors.
async fn fake() -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    fake.set_contributors(
        "octo",
        "hello",
        vec![
            Contributor::user("mona", 1, 20),
            Contributor::user("hubot", 2, 10),
        ],
    );
    fake
}

/// The app against `fake`, with the proxy settings `vars`.
async fn start_app(fake: FakeGitHub, vars: &[(&str, &str)]) -> TestApp {
    let proxy = proxy_from(vars);
    TestApp::start_against(fake, true, |config: &mut Config| config.proxy = proxy).await
}

fn target(app: &TestApp) -> String {
    format!("127.0.0.1:{}", app.fake.addr().port())
}

fn assert_list_page(reply: &Reply) {
    let text = reply.text();
    assert_eq!(reply.status, 200, "{text}");
    assert!(text.contains("mona") && text.contains("hubot"), "{text}");
}

/// A 502 page titled `title` that names `proxy` and shows no credentials.
fn assert_proxy_page(reply: &Reply, title: &str, proxy: &str, secrets: &[&str]) {
    let text = reply.text();
    assert_eq!(reply.status, 502, "{text}");
    assert!(text.contains(title), "{title:?} missing from {text}");
    assert!(text.contains(proxy), "{proxy:?} missing from {text}");
    assert!(!text.contains("GitHub could not be reached"), "{text}");
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} shown in {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_reaches_github_through_the_proxy() {
    let proxy = TinyProxy::start("");
    let app = start_app(fake().await, &[("HTTPS_PROXY", proxy.url().as_str())]).await;

    assert_list_page(&app.get("/octo/hello").await);
    let avatar = app.get("/avatars/1?s=80").await;
    assert_eq!(avatar.status, 200, "{}", avatar.text());

    // The proxy was asked for a tunnel to the fake, and TLS ran through it
    // end to end: the fake itself saw the handshakes.
    let connects = proxy.connects();
    assert!(!connects.is_empty(), "no CONNECT in:\n{}", proxy.log());
    assert!(connects.iter().all(|c| *c == target(&app)), "{connects:?}");
    assert!(app.fake.handshakes() >= 1);
    assert_eq!(app.fake.contributors_requests(), 1);

    let status = app.get("/status").await.text();
    assert!(
        status.contains(&format!("\"proxy\":\"{}\"", proxy.url())),
        "{status}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_sends_the_host_direct() {
    let proxy = TinyProxy::start("");
    let app = start_app(
        fake().await,
        &[
            ("HTTPS_PROXY", proxy.url().as_str()),
            ("NO_PROXY", "example.com, 127.0.0.0/8"),
        ],
    )
    .await;
    assert_list_page(&app.get("/octo/hello").await);
    assert_eq!(app.get("/avatars/1?s=80").await.status, 200);
    assert!(proxy.connects().is_empty(), "{}", proxy.log());

    // A rule for another port of the same host does not cover the fake.
    let app = start_app(
        fake().await,
        &[
            ("https_proxy", proxy.url().as_str()),
            ("no_proxy", "127.0.0.1:1"),
        ],
    )
    .await;
    assert_list_page(&app.get("/octo/hello").await);
    assert_eq!(proxy.connects(), [target(&app)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_right_credentials_work_and_wrong_ones_get_the_407_page() {
    let proxy = TinyProxy::start("BasicAuth alice s3c-ret_x");
    let with = |user: &str| format!("http://{user}@127.0.0.1:{}", proxy.port);

    // The URL may percent-encode the password ('%2D' is '-'); tinyproxy's
    // config takes letters, digits, '-' and '_' only.
    let app = start_app(
        fake().await,
        &[("HTTPS_PROXY", with("alice:s3c%2Dret_x").as_str())],
    )
    .await;
    assert_list_page(&app.get("/octo/hello").await);
    assert_eq!(proxy.connects(), [target(&app)]);
    let status = app.get("/status").await.text();
    assert!(status.contains("alice:***@127.0.0.1"), "{status}");
    assert!(!status.contains("s3c"), "{status}");

    for credentials in ["alice:badpass9", "mallory:s3c-ret_x", ""] {
        let url = if credentials.is_empty() {
            proxy.url()
        } else {
            with(credentials)
        };
        let app = start_app(fake().await, &[("ALL_PROXY", url.as_str())]).await;
        let reply = app.get("/octo/hello").await;
        assert_proxy_page(
            &reply,
            "The proxy did not accept our credentials",
            &proxy.url(),
            &["badpass9", "mallory", "alice", "s3c"],
        );
        // tinyproxy 1.11 answers missing credentials with 407 and wrong ones
        // with 401 (its issue #532, fixed after 1.11.1); both mean the same.
        let expected = if credentials.is_empty() {
            "HTTP 407"
        } else {
            "HTTP 401"
        };
        assert!(reply.text().contains(expected), "{}", reply.text());
        assert!(reply.text().contains("credentials are missing or wrong"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_proxy_gets_the_proxy_unreachable_page() {
    let dead = format!("http://127.0.0.1:{}", free_port());
    let app = start_app(fake().await, &[("HTTPS_PROXY", dead.as_str())]).await;
    let reply = app.get("/octo/hello").await;
    assert_proxy_page(&reply, "The proxy could not be reached", &dead, &[]);
    assert!(
        reply.text().contains("HTTPS_PROXY"),
        "the hint names the setting"
    );
    assert_eq!(app.fake.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connect_gets_its_own_page() {
    // Only port 443 may be tunnelled to, and the fake is elsewhere.
    let proxy = TinyProxy::start("ConnectPort 443");
    let app = start_app(fake().await, &[("HTTPS_PROXY", proxy.url().as_str())]).await;
    let reply = app.get("/octo/hello").await;
    assert_proxy_page(
        &reply,
        "The proxy refused the connection",
        &proxy.url(),
        &[],
    );
    assert!(reply.text().contains(&target(&app)), "{}", reply.text());
    assert!(
        reply.text().contains("HTTP 403"),
        "tinyproxy's answer: {}",
        reply.text()
    );
    assert_eq!(proxy.connects(), [target(&app)]);
}

#[test]
fn a_proxy_setting_that_does_not_parse_stops_start_up_with_exit_2() {
    for (name, value) in [
        ("HTTPS_PROXY", "socks5://proxy:1080"),
        ("all_proxy", "http://u:pw-9@proxy:port"),
        ("NO_PROXY", "example.com:https"),
    ] {
        // `doctor --offline` reads the same configuration and then ends by
        // itself, so a value wrongly accepted cannot leave a server running.
        let mut command = Command::new(env!("CARGO_BIN_EXE_contributors"));
        for variable in PROXY_VARIABLES.iter().chain(&NO_PROXY_VARIABLES) {
            command.env_remove(variable);
        }
        let out = command
            .args(["doctor", "--offline"])
            .env(name, value)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}={value}: {err}");
        assert!(err.contains(name), "{err}");
        assert!(!err.contains("pw-9"), "the password shown: {err}");
    }
}
