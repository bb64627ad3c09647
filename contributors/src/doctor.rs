//! `contributors doctor`: what the process finds around itself.
//!
//! A container image decides what a program finds when it starts: users,
//! folders, certificates, a resolver, a time zone, a memory limit. In a
//! scratch image most of these are simply absent, and the program either
//! copes or breaks in confusing ways. `doctor` checks each one, says what it
//! found, and says whether this app cares. Run it in each image
//! (`make doctor`) to see the differences side by side.
//!
//! Marks: `ok` all is well, `note` something is absent that this app does
//! not need, `FAIL` the app cannot do its job. A FAIL line is followed by a
//! `next:` line, the step to take (the error page gives the same advice).
//! The exit code is 0 unless there is a FAIL. `--offline` skips the checks
//! that need the network.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::config::Config;
use crate::github::roots;
use crate::github::upstream::Upstream;

/// Time allowed for each network check.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Ok,
    Note,
    Fail,
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` (not `write_str`) so that `{:<5}` aligns the column.
        f.pad(match self {
            Mark::Ok => "ok",
            Mark::Note => "note",
            Mark::Fail => "FAIL",
        })
    }
}

/// One line of the report.
#[derive(Debug)]
pub struct Check {
    pub mark: Mark,
    pub name: &'static str,
    pub detail: String,
    /// What to do about it: every FAIL has one, nothing else does.
    pub next: Option<String>,
}

fn check(mark: Mark, name: &'static str, detail: impl Into<String>) -> Check {
    Check {
        mark,
        name,
        detail: detail.into(),
        next: None,
    }
}

/// A FAIL, with the next step to take.
fn fail(name: &'static str, detail: impl Into<String>, next: impl Into<String>) -> Check {
    Check {
        next: Some(next.into()),
        ..check(Mark::Fail, name, detail)
    }
}

/// The next step when the network checks fail: where to look.
const NETWORK_NEXT: &str = "check the container's network: `docker run --network host` to compare, \
     `--dns` for another resolver, or HTTPS_PROXY if the way out is a proxy";

/// Runs every check, in the order of the report.
pub async fn run(config: &Config, offline: bool) -> Vec<Check> {
    let mut checks = vec![
        user(),
        home(),
        tmp(),
        pid_one(),
        sigterm(),
        trusted_roots(config),
        system_store(),
        resolv_conf(),
        proxy(config),
    ];
    if offline {
        checks.push(check(Mark::Note, "network", "skipped (--offline)"));
    } else {
        checks.push(resolve(config).await);
        checks.push(tls(config).await);
    }
    checks.push(time_zone());
    checks.push(memory_limit());
    checks
}

/// The report as text, one line per check, and a closing verdict.
pub fn report(checks: &[Check]) -> String {
    let mut out = format!(
        "contributors {} doctor ({})\n",
        env!("CARGO_PKG_VERSION"),
        env!("BUILD_TARGET")
    );
    for c in checks {
        out.push_str(&format!("{:<5} {:<9} {}\n", c.mark, c.name, c.detail));
        if let Some(next) = &c.next {
            // Under the detail column, so each check's first word stays a mark.
            out.push_str(&format!("{:16}next: {next}\n", ""));
        }
    }
    let failures = checks.iter().filter(|c| c.mark == Mark::Fail).count();
    out.push_str(&match failures {
        0 => "verdict: ready to serve\n".to_string(),
        n => format!("verdict: {n} problem(s) stop this app from working\n"),
    });
    out
}

/// The value of a `Name:` line in /proc/self/status (the first number).
fn proc_status(name: &str) -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// The name /etc/passwd or /etc/group gives an id, if the file exists.
fn name_of(file: &str, id: u32) -> Result<Option<String>, ()> {
    let text = std::fs::read_to_string(file).map_err(|_| ())?;
    Ok(text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let found: u32 = fields.nth(1)?.parse().ok()?;
        (found == id).then(|| name.to_string())
    }))
}

fn user() -> Check {
    let (Some(uid), Some(gid)) = (proc_status("Uid:"), proc_status("Gid:")) else {
        return check(Mark::Note, "user", "cannot read /proc/self/status");
    };
    let named = match (name_of("/etc/passwd", uid), name_of("/etc/group", gid)) {
        (Err(()), _) => {
            "no /etc/passwd: the ids have no names (fine: nothing here looks users up)".to_string()
        }
        (Ok(user), group) => format!(
            "/etc/passwd names them {} and {}",
            user.as_deref().unwrap_or("(nobody listed)"),
            group
                .ok()
                .flatten()
                .as_deref()
                .unwrap_or("(no group listed)")
        ),
    };
    if uid == 0 {
        check(
            Mark::Note,
            "user",
            format!("uid 0 (root): works, but run as a non-root user, e.g. 65534; {named}"),
        )
    } else {
        check(
            Mark::Ok,
            "user",
            format!("uid {uid}, gid {gid}, not root; {named}"),
        )
    }
}

fn home() -> Check {
    match std::env::var("HOME") {
        Ok(home) if Path::new(&home).is_dir() => {
            check(Mark::Ok, "home", format!("HOME={home} exists"))
        }
        Ok(home) => check(
            Mark::Note,
            "home",
            format!("HOME={home} does not exist (fine: nothing is read from it)"),
        ),
        Err(_) => check(
            Mark::Note,
            "home",
            "HOME is not set (fine: nothing is read from it)",
        ),
    }
}

fn tmp() -> Check {
    let dir = Path::new("/tmp");
    if !dir.is_dir() {
        return check(
            Mark::Note,
            "tmp",
            "no /tmp (fine: this app writes no files, so a read-only root works too)",
        );
    }
    let probe = dir.join(format!(".contributors-doctor-{}", std::process::id()));
    match std::fs::File::create_new(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            check(Mark::Ok, "tmp", "/tmp exists and is writable")
        }
        Err(e) => check(
            Mark::Note,
            "tmp",
            format!("/tmp is not writable ({e}); fine: this app writes no files"),
        ),
    }
}

fn pid_one() -> Check {
    match std::process::id() {
        1 => check(
            Mark::Ok,
            "pid",
            "PID 1: the kernel gives PID 1 no default signal actions, so the app handles SIGTERM itself",
        ),
        pid => check(
            Mark::Ok,
            "pid",
            format!("PID {pid} (not PID 1; the server handles SIGTERM either way)"),
        ),
    }
}

fn sigterm() -> Check {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(_) => check(
            Mark::Ok,
            "signals",
            "a SIGTERM handler installs: `docker stop` drains requests and exits 0",
        ),
        Err(e) => fail(
            "signals",
            format!("cannot handle SIGTERM: {e}"),
            "run the container with Docker's default seccomp profile: a stricter one forbids signal handlers",
        ),
    }
}

fn trusted_roots(config: &Config) -> Check {
    match roots::load(config.extra_ca_file.as_deref()) {
        Ok(roots) if roots.store.is_empty() => fail(
            "roots",
            "no trusted roots: every TLS connection would fail",
            "build without the system-roots feature (`make image`): the default build compiles its roots in",
        ),
        Ok(roots) => check(Mark::Ok, "roots", roots.description),
        Err(e) => fail(
            "roots",
            e.to_string(),
            "fix the file CONTRIBUTORS_EXTRA_CA_FILE names (a PEM certificate), or unset it",
        ),
    }
}

fn system_store() -> Check {
    const PLACES: [&str; 4] = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
        "/etc/ssl/certs",
    ];
    let needed = if cfg!(feature = "system-roots") {
        "this system-roots build needs it"
    } else {
        "not used: the roots are compiled in"
    };
    match PLACES.iter().find(|p| Path::new(p).exists()) {
        Some(place) => check(
            Mark::Ok,
            "certs",
            format!("system store at {place} ({needed})"),
        ),
        None => check(
            Mark::Note,
            "certs",
            format!("no system certificate store ({needed})"),
        ),
    }
}

fn resolv_conf() -> Check {
    match std::fs::read_to_string("/etc/resolv.conf") {
        Ok(text) => {
            let servers: Vec<&str> = text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("nameserver"))
                .map(str::trim)
                .collect();
            if servers.is_empty() {
                check(Mark::Note, "dns", "/etc/resolv.conf lists no nameserver")
            } else {
                check(
                    Mark::Ok,
                    "dns",
                    format!("/etc/resolv.conf: nameserver {}", servers.join(", ")),
                )
            }
        }
        Err(_) => check(
            Mark::Note,
            "dns",
            "no /etc/resolv.conf: only /etc/hosts and IP addresses resolve",
        ),
    }
}

/// Which proxy each upstream host is reached through, or that none is.
fn proxy(config: &Config) -> Check {
    let routes: Vec<String> = [&config.api_url, &config.avatar_url]
        .iter()
        .map(|url| {
            let (host, port) = url.host_port();
            config.proxy.describe_route(host, port)
        })
        .collect();
    check(Mark::Ok, "proxy", routes.join("; "))
}

/// Resolves the API host, or behind a proxy the proxy's host: the proxy
/// resolves GitHub's name itself, so ours need not know it.
async fn resolve(config: &Config) -> Check {
    let (host, port) = config.api_url.host_port();
    let (host, port) = match config.proxy.for_host(host, port) {
        Some(server) => (
            server.uri().host().unwrap_or_default(),
            server.uri().port_u16().unwrap_or(80),
        ),
        None => (host, port),
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    match tokio::time::timeout(
        NETWORK_TIMEOUT,
        tokio::net::lookup_host((host.as_str(), port)),
    )
    .await
    {
        Ok(Ok(mut addrs)) => match addrs.next() {
            Some(addr) => check(Mark::Ok, "resolve", format!("{host} → {}", addr.ip())),
            None => fail("resolve", format!("{host} has no addresses"), NETWORK_NEXT),
        },
        Ok(Err(e)) => fail(
            "resolve",
            format!("cannot resolve {host}: {e}"),
            NETWORK_NEXT,
        ),
        Err(_) => fail(
            "resolve",
            format!("resolving {host} took over {} s", NETWORK_TIMEOUT.as_secs()),
            NETWORK_NEXT,
        ),
    }
}

/// A real request over the app's own client, to GitHub's `/rate_limit`,
/// which does not count against the rate limit.
async fn tls(config: &Config) -> Check {
    let roots = match roots::load(config.extra_ca_file.as_deref()) {
        Ok(roots) => roots,
        Err(e) => {
            return fail(
                "tls",
                format!("no roots to check with: {e}"),
                "fix the roots first (the roots line above)",
            );
        }
    };
    let upstream = Upstream::new(
        roots.store,
        config.proxy.clone(),
        NETWORK_TIMEOUT,
        NETWORK_TIMEOUT,
    );
    let host = config.api_url.host();
    match upstream
        .get(config.api_url.join("/rate_limit"), &[], 64 * 1024)
        .await
    {
        Ok(answer) => check(
            Mark::Ok,
            "tls",
            format!(
                "{host}'s certificate chains to a trusted root; it answered HTTP {}",
                answer.status.as_u16()
            ),
        ),
        Err(e) => {
            let next = e.hint().unwrap_or(NETWORK_NEXT);
            fail("tls", e.to_string(), next)
        }
    }
}

fn time_zone() -> Check {
    let tz = std::env::var("TZ").ok();
    let localtime = Path::new("/etc/localtime").exists();
    let detail = match (tz, localtime) {
        (Some(tz), _) => format!("TZ={tz} (logs are in UTC regardless)"),
        (None, true) => "/etc/localtime exists (logs are in UTC regardless)".to_string(),
        (None, false) => "no TZ and no /etc/localtime: UTC (fine: logs are in UTC)".to_string(),
    };
    check(Mark::Ok, "time", detail)
}

fn memory_limit() -> Check {
    // cgroup v2 first, then v1. "max" or a huge number means no limit.
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    let limit = read("/sys/fs/cgroup/memory.max")
        .or_else(|| read("/sys/fs/cgroup/memory/memory.limit_in_bytes"));
    let detail = match limit.as_deref().map(str::parse::<u64>) {
        Some(Ok(bytes)) if bytes < (1 << 50) => {
            format!("cgroup memory limit {} MiB", bytes >> 20)
        }
        Some(_) => "no cgroup memory limit".to_string(),
        None => "no cgroup memory information".to_string(),
    };
    check(Mark::Ok, "memory", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn offline_report_has_every_check_and_a_verdict() {
        let checks = run(&Config::for_loopback(), true).await;
        let names: Vec<&str> = checks.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "user", "home", "tmp", "pid", "signals", "roots", "certs", "dns", "proxy",
                "network", "time", "memory"
            ]
        );
        let text = report(&checks);
        assert!(text.contains("verdict: ready to serve"), "{text}");
        assert!(text.lines().count() == checks.len() + 2);
    }

    #[tokio::test]
    async fn a_bad_extra_ca_file_is_a_failure() {
        let mut config = Config::for_loopback();
        config.extra_ca_file = Some("/nonexistent/ca.pem".into());
        let checks = run(&config, true).await;
        let roots = checks.iter().find(|c| c.name == "roots").unwrap();
        assert_eq!(roots.mark, Mark::Fail);
        assert!(roots.detail.contains("/nonexistent/ca.pem"));
        let text = report(&checks);
        assert!(text.contains("1 problem(s)"), "{text}");
        // The FAIL line, then its next step, under the detail column.
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.starts_with("FAIL  roots"))
            .unwrap();
        assert_eq!(
            lines[at + 1],
            format!("{:16}next: {}", "", roots.next.as_deref().unwrap())
        );
        assert!(
            lines[at + 1].contains("CONTRIBUTORS_EXTRA_CA_FILE"),
            "{text}"
        );
        assert_eq!(text.lines().count(), checks.len() + 3);
    }

    #[tokio::test]
    async fn every_failure_has_a_next_step_and_nothing_else_does() {
        let mut config = Config::for_loopback();
        config.extra_ca_file = Some("/nonexistent/ca.pem".into());
        // Online too, on loopback: the address resolves (ok), and the tls
        // check fails before connecting (no roots).
        config.api_url = crate::github::BaseUrl::parse("https://127.0.0.1:1").unwrap();
        for offline in [true, false] {
            for c in run(&config, offline).await {
                assert_eq!(c.next.is_some(), c.mark == Mark::Fail, "{c:?}");
            }
        }
    }

    #[tokio::test]
    async fn the_proxy_line_says_which_host_goes_which_way() {
        let mut config = Config::for_loopback();
        let checks = run(&config, true).await;
        let line = &checks.iter().find(|c| c.name == "proxy").unwrap().detail;
        assert!(
            line.contains("api.github.com:443 direct (no HTTPS_PROXY"),
            "{line}"
        );

        config.proxy = crate::github::proxy::Proxy::from_env(|name| match name {
            "HTTPS_PROXY" => Some("http://alice:s3cret@10.0.0.1:3128".into()),
            "NO_PROXY" => Some("githubusercontent.com".into()),
            _ => None,
        })
        .unwrap();
        let checks = run(&config, true).await;
        let line = &checks.iter().find(|c| c.name == "proxy").unwrap().detail;
        assert_eq!(
            line,
            "api.github.com:443 via proxy http://alice:***@10.0.0.1:3128; \
             avatars.githubusercontent.com:443 direct (NO_PROXY)"
        );
    }

    #[test]
    fn passwd_lookup() {
        let path = std::env::temp_dir().join(format!("doctor-passwd-{}", std::process::id()));
        std::fs::write(
            &path,
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n",
        )
        .unwrap();
        let file = path.to_str().unwrap();
        assert_eq!(name_of(file, 65534), Ok(Some("nobody".into())));
        assert_eq!(name_of(file, 1000), Ok(None));
        assert_eq!(name_of("/nonexistent", 0), Err(()));
        let _ = std::fs::remove_file(path);
    }
}
