//! The command line: help, version, and configuration mistakes that must
//! stop the server at start with a clear message and a non-zero exit.

use std::process::{Command, Output};

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_contributors"));
    command.args(args).env("CONTRIBUTORS_BIND", "127.0.0.1");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run the binary")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_lists_every_setting_and_its_variable() {
    let out = run(&["--help"], &[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for s in contributors::config::SETTINGS {
        assert!(text.contains(&format!("--{}", s.flag)), "{}", s.flag);
        assert!(text.contains(s.env), "{}", s.env);
    }
    assert!(text.contains("healthcheck") && text.contains("doctor"));
    assert!(text.contains("CONTRIBUTORS_LOG"), "{text}");
}

#[test]
fn version_names_the_build_target() {
    let out = run(&["--version"], &[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(concat!("contributors ", env!("CARGO_PKG_VERSION"), " (")),
        "{text}"
    );
}

#[test]
fn a_bad_url_stops_start_up_with_exit_2() {
    let out = run(&[], &[("GITHUB_API_URL", "http://api.github.com")]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("GITHUB_API_URL") && err.contains("https://"),
        "{err}"
    );
}

#[test]
fn a_missing_ca_file_is_named() {
    let out = run(
        &["--port", "0"],
        &[("CONTRIBUTORS_EXTRA_CA_FILE", "/nonexistent/private-ca.pem")],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("/nonexistent/private-ca.pem"), "{err}");
    // ... and how to bring it into a container.
    assert!(err.contains(":/ca.pem:ro"), "{err}");
}

#[test]
fn an_empty_ca_file_is_an_error_not_zero_roots() {
    let path =
        std::env::temp_dir().join(format!("contributors-cli-empty-{}.pem", std::process::id()));
    std::fs::write(&path, "").unwrap();
    let out = run(
        &["--port", "0"],
        &[("CONTRIBUTORS_EXTRA_CA_FILE", path.to_str().unwrap())],
    );
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(path.to_str().unwrap()));
}

#[test]
fn a_port_in_use_is_reported() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = run(&[], &[("PORT", &port)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("already in use") && err.contains(&port),
        "{err}"
    );
}

#[test]
fn unknown_arguments_are_usage_errors() {
    for args in [
        &["--bogus"][..],
        &["serve", "extra"],
        &["frobnicate"],
        &["--port"],
    ] {
        let out = run(args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains("--help"), "{args:?}");
    }
}

#[test]
fn healthcheck_fails_when_nothing_listens() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let out = run(&["healthcheck", "--port", &port], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unhealthy"));
}

#[test]
fn an_unknown_log_level_is_a_usage_error_that_lists_the_levels() {
    let out = run(&["--port", "0"], &[("CONTRIBUTORS_LOG", "verbose")]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("\"verbose\""), "{err}");
    assert!(err.contains("error, warn, info, debug, trace"), "{err}");
}
