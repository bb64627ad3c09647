//! The `contributors` command: parse the command line, then serve, check
//! health, or print help.
//!
//! With no arguments it serves, so `docker run IMAGE` needs none. Exit codes:
//! 0 success, 1 a failed health check or a server that could not start,
//! 2 a usage or configuration mistake.

use std::collections::HashMap;
use std::process::ExitCode;

use contributors::Server;

// With `--features mimalloc`, mimalloc replaces the C library's allocator
// (musl's is compact but serialises threads under load; see BENCHMARKS.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use contributors::config::{Config, SETTINGS};

const USAGE: &str = "\
contributors: a web page listing a GitHub repository's contributors

Usage:
  contributors [serve] [OPTIONS]     serve the web page (the default)
  contributors healthcheck [--port N]
                                     GET http://127.0.0.1:PORT/healthz; exit 0 if 200
  contributors doctor [--offline] [OPTIONS]
                                     report what the process finds around itself
                                     (users, /tmp, PID 1, roots, DNS, TLS, limits)
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

fn main() -> ExitCode {
    let command = match parse_args() {
        Ok(command) => command,
        Err(message) => {
            eprintln!("contributors: {message}\nTry 'contributors --help'.");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help => {
            print_help();
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!(
                "contributors {} ({})",
                env!("CARGO_PKG_VERSION"),
                env!("BUILD_TARGET")
            );
            ExitCode::SUCCESS
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
}

fn config(flags: &HashMap<String, String>) -> Result<Config, ExitCode> {
    Config::from_sources(flags, |name| std::env::var(name).ok()).map_err(|e| {
        eprintln!("contributors: {e}");
        ExitCode::from(2)
    })
}

fn healthcheck(flags: &HashMap<String, String>) -> ExitCode {
    let config = match config(flags) {
        Ok(config) => config,
        Err(code) => return code,
    };
    match contributors::healthcheck::check(config.listen.port()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("contributors: unhealthy: {why}");
            ExitCode::FAILURE
        }
    }
}

fn doctor(flags: &HashMap<String, String>, offline: bool) -> ExitCode {
    let config = match config(flags) {
        Ok(config) => config,
        Err(code) => return code,
    };
    // A current-thread runtime is enough for a handful of checks.
    let runtime = match runtime(&mut tokio::runtime::Builder::new_current_thread()) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let checks = runtime.block_on(contributors::doctor::run(&config, offline));
    print!("{}", contributors::doctor::report(&checks));
    if checks
        .iter()
        .any(|c| c.mark == contributors::doctor::Mark::Fail)
    {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn serve(flags: &HashMap<String, String>) -> ExitCode {
    let config = match config(flags) {
        Ok(config) => config,
        Err(code) => return code,
    };
    init_logging();

    let runtime = match runtime(&mut tokio::runtime::Builder::new_multi_thread()) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let server = match Server::bind(config).await {
            Ok(server) => server,
            Err(e) => {
                eprintln!("contributors: {e}");
                return ExitCode::FAILURE;
            }
        };
        server
            .run(async {
                let signal = contributors::shutdown::signalled().await;
                tracing::info!("{signal} received: no new connections; finishing requests");
            })
            .await;
        tracing::info!("stopped");
        ExitCode::SUCCESS
    })
}

fn runtime(builder: &mut tokio::runtime::Builder) -> Result<tokio::runtime::Runtime, ExitCode> {
    builder.enable_all().build().map_err(|e| {
        eprintln!("contributors: cannot start the async runtime: {e}");
        ExitCode::FAILURE
    })
}

/// Log lines go to standard output, where `docker logs` finds them.
/// `CONTRIBUTORS_LOG` picks the level: error, warn, info (default), debug.
fn init_logging() {
    let level = match std::env::var("CONTRIBUTORS_LOG").as_deref() {
        Ok("error") => tracing::Level::ERROR,
        Ok("warn") => tracing::Level::WARN,
        Ok("debug") => tracing::Level::DEBUG,
        Ok("trace") => tracing::Level::TRACE,
        _ => tracing::Level::INFO,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .init();
}
