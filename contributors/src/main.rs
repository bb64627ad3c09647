//! The `contributors` command: parse the command line, then serve, check
//! health, or print help.
//!
//! With no arguments it serves, so `docker run IMAGE` needs none. Exit codes:
//! 0 success, 1 a failed health check or a server that could not start,
//! 2 a usage or configuration mistake.

use std::collections::HashMap;
use std::fmt;
use std::process::ExitCode;

use contributors::Server;
use contributors::config::{Config, SETTINGS};

// With `--features mimalloc`, mimalloc replaces the C library's allocator
// (musl's is compact but serialises threads under load; see BENCHMARKS.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
contributors: a web page listing a GitHub repository's contributors

Usage:
  contributors [serve] [OPTIONS]     serve the web page (the default)
  contributors healthcheck [--port N]
                                     GET http://127.0.0.1:PORT/healthz; exit 0 if 200
  contributors doctor [--offline] [OPTIONS]
                                     report what the process finds around itself
                                     (users, /tmp, PID 1, roots, DNS, proxy, TLS, limits)
  contributors --help | --version

Options (each also read from the environment variable shown):";

enum Command {
    Serve(HashMap<String, String>),
    Healthcheck(HashMap<String, String>),
    Doctor {
        flags: HashMap<String, String>,
        offline: bool,
    },
    Help,
    Version,
}

/// Why a command failed: the message for standard error and the exit code.
/// Every failure leaves through `main`, the one place that prints it.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// A usage or configuration mistake: exit code 2.
    fn usage(message: impl fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            code: 2,
        }
    }

    /// Anything else that went wrong: exit code 1.
    fn failed(message: impl fmt::Display) -> Failure {
        Failure {
            message: message.to_string(),
            code: 1,
        }
    }
}

fn main() -> ExitCode {
    let ran = run();
    // The log's last lines, if it was started, before anything else.
    contributors::log::flush();
    match ran {
        Ok(code) => code,
        Err(Failure { message, code }) => {
            eprintln!("contributors: {message}");
            ExitCode::from(code)
        }
    }
}

fn run() -> Result<ExitCode, Failure> {
    let command = parse_args()
        .map_err(|message| Failure::usage(format!("{message}\nTry 'contributors --help'.")))?;
    match command {
        Command::Help => {
            print_help();
            Ok(ExitCode::SUCCESS)
        }
        Command::Version => {
            println!(
                "contributors {} ({})",
                env!("CARGO_PKG_VERSION"),
                env!("BUILD_TARGET")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck(flags) => healthcheck(&flags),
        Command::Doctor { flags, offline } => doctor(&flags, offline),
        Command::Serve(flags) => serve(&flags),
    }
}

fn parse_args() -> Result<Command, String> {
    use lexopt::prelude::*;

    let mut parser = lexopt::Parser::from_env();
    let mut subcommand: Option<String> = None;
    let mut flags = HashMap::new();
    let mut offline = false;
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Long("offline") if subcommand.as_deref() == Some("doctor") => offline = true,
            Long(name) if SETTINGS.iter().any(|s| s.flag == name) => {
                let name = name.to_string();
                let value = parser.value().map_err(|e| e.to_string())?;
                let value = value
                    .into_string()
                    .map_err(|_| format!("--{name} must be valid UTF-8"))?;
                flags.insert(name, value);
            }
            Value(word) if subcommand.is_none() => {
                subcommand = Some(word.to_string_lossy().into_owned());
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    match subcommand.as_deref() {
        None | Some("serve") => Ok(Command::Serve(flags)),
        Some("healthcheck") => Ok(Command::Healthcheck(flags)),
        Some("doctor") => Ok(Command::Doctor { flags, offline }),
        Some(other) => Err(format!("unknown command {other:?}")),
    }
}

fn print_help() {
    println!("{USAGE}");
    for s in SETTINGS {
        let default = if s.default.is_empty() {
            String::new()
        } else {
            format!(" [default: {}]", s.default)
        };
        println!("  --{:<20} {:<32} {}{default}", s.flag, s.env, s.help);
    }
    println!(
        "  {:<22} {:<32} log level: {} [default: info]",
        "",
        "CONTRIBUTORS_LOG",
        log_level_names()
    );
    println!("{PROXY_HELP}");
}

const PROXY_HELP: &str = "
Proxy (environment only, as in curl):
  HTTPS_PROXY, ALL_PROXY   http://[user:password@]host:port, tunnelled with CONNECT
  NO_PROXY                 hosts reached directly: names, .domains, IPs, CIDRs, *, [:port]";

fn config(flags: &HashMap<String, String>) -> Result<Config, Failure> {
    Config::from_sources(flags, |name| std::env::var(name).ok()).map_err(Failure::usage)
}

fn healthcheck(flags: &HashMap<String, String>) -> Result<ExitCode, Failure> {
    let config = config(flags)?;
    contributors::ops::healthcheck::check(config.listen.port())
        .map_err(|why| Failure::failed(format!("unhealthy: {why}")))?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the report; exits 1 (with nothing more to say) if a check failed.
fn doctor(flags: &HashMap<String, String>, offline: bool) -> Result<ExitCode, Failure> {
    let config = config(flags)?;
    let runtime = runtime()?;
    let checks = runtime.block_on(contributors::doctor::run(&config, offline));
    print!("{}", contributors::doctor::report(&checks));
    let failed = checks
        .iter()
        .any(|c| c.mark == contributors::doctor::Mark::Fail);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn serve(flags: &HashMap<String, String>) -> Result<ExitCode, Failure> {
    let config = config(flags)?;
    // Log lines go to standard output, where `docker logs` finds them.
    contributors::log::init(log_level()?);
    let runtime = runtime()?;
    runtime.block_on(async {
        let server = Server::bind(config).await.map_err(Failure::failed)?;
        server
            .run(async {
                let signal = contributors::ops::shutdown::signalled().await;
                tracing::info!("{signal} received: no new connections; finishing requests");
            })
            .await;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// The async runtime, one kind for `serve` and `doctor` alike: a second
/// kind (current-thread for `doctor`) would compile tokio's other builder
/// into the binary for a command that runs for a second.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("cannot start the async runtime: {e}")))
}

/// The levels `CONTRIBUTORS_LOG` may name, quietest first.
const LOG_LEVELS: [(&str, tracing::Level); 5] = [
    ("error", tracing::Level::ERROR),
    ("warn", tracing::Level::WARN),
    ("info", tracing::Level::INFO),
    ("debug", tracing::Level::DEBUG),
    ("trace", tracing::Level::TRACE),
];

/// `CONTRIBUTORS_LOG` picks the level (info when unset), checked like
/// every other setting: an unknown level stops start-up with exit 2.
fn log_level() -> Result<tracing::Level, Failure> {
    let Ok(asked) = std::env::var("CONTRIBUTORS_LOG") else {
        return Ok(tracing::Level::INFO);
    };
    match LOG_LEVELS.iter().find(|(name, _)| *name == asked) {
        Some(&(_, level)) => Ok(level),
        None => Err(Failure::usage(format!(
            "CONTRIBUTORS_LOG={asked:?} is not a level; use one of: {}",
            log_level_names()
        ))),
    }
}

/// The names in `LOG_LEVELS`, for `--help` and for the error.
fn log_level_names() -> String {
    let names: Vec<&str> = LOG_LEVELS.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}
