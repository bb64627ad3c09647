//! `fake-github`: the fake as a process, for containers and the offline demo.
//!
//! Scripts start it, read the one line it prints on stdout to learn the URL,
//! and point the app (in a container or not) at that URL, trusting the CA
//! written by `--ca-out`. It ends on SIGINT or SIGTERM, or by itself after
//! `--exit-after` seconds so a forgotten process does not linger.
//! Arguments are parsed by hand: a handful of options need no CLI crate.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use fake_github::{Behaviour, FakeGitHub, Fixtures, generated};

const USAGE: &str = "\
usage: fake-github [--listen ADDR] [--ca-out PATH] [--demo] [--exit-after SECS]
                   [--avatar-base URL|self] [--repos N]
                   [--avatar-bytes N | --avatars-silent] [--rate-limit-reset SECS]
                   [--latency-ms MS] [--connect-ms MS]

A fake GitHub API (contributors and avatars) over HTTPS with a throwaway CA,
offering HTTP/2 and HTTP/1.1 (ALPN), as GitHub does.

  --listen ADDR      address to listen on (default 127.0.0.1:0, a free port)
  --ca-out PATH      write the CA certificate (PEM) that clients must trust
  --demo             serve the demo repositories (the default anyway)
  --exit-after SECS  stop after SECS seconds (default 3600)
  --avatar-base URL  where avatar_url points (default
                     https://avatars.githubusercontent.com, as on GitHub);
                     `self` points it at this server, which serves avatars too
  --repos N          also serve many/repo-1 ... many/repo-N, 12 generated
                     users each (for `make bench`; at most 100000)
  --avatar-bytes N   every served user's avatar padded with spaces (after
                     the PNG's end) or cut to N bytes (at most 1048576)
  --avatars-silent   every served user's avatar request is accepted and never
                     answered, as from an avatar host that hangs
  --rate-limit-reset SECS
                     the API quota is spent: every API request gets GitHub's
                     403 with `x-ratelimit-reset: SECS` (Unix seconds)
  --latency-ms MS    answer every request MS ms late, as a far-away GitHub
                     would (its round trip; /_fake/stats is not delayed)
  --connect-ms MS    start each new connection's TLS handshake MS ms late:
                     the round trips of a far-away server's TCP and TLS
                     handshakes (two round trips: twice --latency-ms)
  -h, --help         show this help

Prints one line, `fake-github listening on https://127.0.0.1:PORT`, then
serves until SIGINT/SIGTERM or --exit-after.
Demo repositories: kelseyhightower/contributors, rust-lang/rust (250 users,
3 pages of 100), tokio-rs/tokio, torvalds/linux (500 users), octo/empty (204),
octo/anon (use anon=1), octo/broken (answers 500) and octo/forked (a fork);
GET /users/octo/repos lists octo's.
GET /_fake/stats answers its counters as JSON (requests, contributors_requests,
contributors_lists, avatar_requests, avatars_peak, handshakes,
failed_handshakes); reading
them changes none.";

/// The parsed command line.
struct Options {
    listen: SocketAddr,
    ca_out: Option<PathBuf>,
    exit_after: Duration,
    /// `Some("self")` means this server's own URL.
    avatar_base: Option<String>,
    /// How many `many/repo-N` repositories to serve besides the demo's.
    repos: u32,
    /// How every served user's avatar answers (`make bench`'s floods).
    avatars: Behaviour,
    /// `Some(reset)`: the quota is spent until then.
    rate_limit_reset: Option<u64>,
    /// Added to every answer, and before each TLS handshake.
    latency: Duration,
    connect_latency: Duration,
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("fake-github: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("fake-github: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fake-github: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Serves until a signal or the deadline.
async fn run(options: Options) -> std::io::Result<()> {
    let mut fixtures = Fixtures::demo();
    fixtures.repos.extend((1..=options.repos).map(|i| {
        // Ids from 50 million up, 1,000 apart: distinct from the demo's.
        let first_id = 50_000_000 + u64::from(i) * 1_000;
        (
            "many".to_owned(),
            format!("repo-{i}"),
            generated(12, first_id),
        )
    }));
    let ids: Vec<u64> = (fixtures.repos.iter())
        .flat_map(|(_, _, list)| list.iter().filter_map(|user| user.id))
        .collect();
    let github = FakeGitHub::start_with(options.listen, fixtures).await?;
    if options.avatars != Behaviour::Normal {
        for id in ids {
            github.set_avatar_behaviour(id, options.avatars.clone());
        }
    }
    if let Some(reset) = options.rate_limit_reset {
        github.set_rate_limit(0, reset);
    }
    github.set_latency(options.latency);
    github.set_connect_latency(options.connect_latency);
    match options.avatar_base.as_deref() {
        Some("self") => github.set_avatar_base(&github.url()),
        Some(base) => github.set_avatar_base(base),
        None => {}
    }
    if let Some(path) = &options.ca_out {
        github.write_ca_pem(path)?;
        eprintln!("fake-github: CA certificate written to {}", path.display());
    }
    // Exactly one line on stdout, flushed: scripts wait for it.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "fake-github listening on {}", github.url())?;
    stdout.flush()?;
    drop(stdout);

    tokio::select! {
        () = tokio::time::sleep(options.exit_after) => {
            eprintln!("fake-github: --exit-after reached, stopping");
        }
        () = signal() => eprintln!("fake-github: signal received, stopping"),
    }
    drop(github);
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (`docker stop`, `kill`).
async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Parses the arguments; `Ok(None)` means help was asked for. Accepts both
/// `--flag VALUE` and `--flag=VALUE`.
fn parse(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ca_out: None,
        exit_after: Duration::from_secs(3_600),
        avatar_base: None,
        repos: 0,
        avatars: Behaviour::Normal,
        rate_limit_reset: None,
        latency: Duration::ZERO,
        connect_latency: Duration::ZERO,
    };
    let mut args = args.peekable();
    // Each turn consumes at least one argument: the loop ends with them.
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--demo" => {} // demo fixtures are the default
            "--listen" => {
                let text = value()?;
                options.listen = text
                    .parse()
                    .map_err(|_| format!("--listen: not an address like 127.0.0.1:8443: {text}"))?;
            }
            "--ca-out" => options.ca_out = Some(PathBuf::from(value()?)),
            "--avatar-base" => options.avatar_base = Some(value()?),
            "--exit-after" => {
                let text = value()?;
                let secs: u64 = text
                    .parse()
                    .map_err(|_| format!("--exit-after: not a number of seconds: {text}"))?;
                options.exit_after = Duration::from_secs(secs);
            }
            "--repos" => {
                let text = value()?;
                options.repos = text
                    .parse()
                    .ok()
                    .filter(|n| *n <= 100_000)
                    .ok_or_else(|| format!("--repos: not a number up to 100000: {text}"))?;
            }
            "--avatar-bytes" => {
                let text = value()?;
                let bytes = (text.parse().ok())
                    .filter(|n| (1..=1 << 20).contains(n))
                    .ok_or_else(|| format!("--avatar-bytes: not a size up to 1048576: {text}"))?;
                // One chunk, no pause: the whole padded image at once.
                options.avatars = Behaviour::Drip {
                    chunk: bytes,
                    every: Duration::ZERO,
                    chunks: 1,
                };
            }
            "--avatars-silent" => options.avatars = Behaviour::Stall,
            "--rate-limit-reset" => {
                let text = value()?;
                let reset = text
                    .parse()
                    .map_err(|_| format!("--rate-limit-reset: not Unix seconds: {text}"))?;
                options.rate_limit_reset = Some(reset);
            }
            "--latency-ms" | "--connect-ms" => {
                let text = value()?;
                let ms: u64 = (text.parse().ok())
                    .filter(|ms| *ms <= 10_000)
                    .ok_or_else(|| format!("{flag}: not a number of ms up to 10000: {text}"))?;
                if flag == "--latency-ms" {
                    options.latency = Duration::from_millis(ms);
                } else {
                    options.connect_latency = Duration::from_millis(ms);
                }
            }
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(Some(options))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn parses_both_flag_forms_and_rejects_the_unknown() {
        let options = parse(args(&[
            "--listen",
            "127.0.0.1:8443",
            "--exit-after=5",
            "--demo",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(options.listen.port(), 8443);
        assert_eq!(options.exit_after, Duration::from_secs(5));
        assert!(parse(args(&["--help"])).unwrap().is_none());
        assert!(parse(args(&["--listen"])).is_err());
        assert!(parse(args(&["--exit-after", "soon"])).is_err());
        assert!(parse(args(&["--bogus"])).is_err());
        assert_eq!(parse(args(&["--repos=900"])).unwrap().unwrap().repos, 900);
        assert!(parse(args(&["--repos", "100001"])).is_err());
        let padded = parse(args(&["--avatar-bytes=24576"])).unwrap().unwrap();
        assert!(matches!(
            padded.avatars,
            Behaviour::Drip {
                chunk: 24576,
                chunks: 1,
                ..
            }
        ));
        assert!(parse(args(&["--avatar-bytes", "0"])).is_err());
        let silent = parse(args(&["--avatars-silent"])).unwrap().unwrap();
        assert_eq!(silent.avatars, Behaviour::Stall);
        let spent = parse(args(&["--rate-limit-reset", "99999999999"]));
        assert_eq!(
            spent.unwrap().unwrap().rate_limit_reset,
            Some(99_999_999_999)
        );
        let far = parse(args(&["--latency-ms=100", "--connect-ms", "200"]))
            .unwrap()
            .unwrap();
        assert_eq!(far.latency, Duration::from_millis(100));
        assert_eq!(far.connect_latency, Duration::from_millis(200));
        assert!(parse(args(&["--latency-ms", "10001"])).is_err());
    }
}
