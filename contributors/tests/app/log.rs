//! The log as the running binary writes it (`log.rs`): one line per
//! request, in order, on standard output within moments, and every line
//! written before the process exits.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_lines_arrive_in_order_while_it_runs_and_all_before_it_exits() {
    let (mut child, addr) = common::spawn_binary(None, Stdio::piped()).await;
    // Read the log line by line as it comes, on a thread of its own.
    let (lines, arrived) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = |within: Duration| arrived.recv_timeout(within).ok();
    let request_line = |line: &str| line.contains(" INFO request method=GET ");

    // The lines of the start come first, and are written out.
    while !next_line(Duration::from_secs(5))
        .expect("the start's lines")
        .contains(" GitHub API at ")
    {}

    // While it runs: a lone request's line comes out on its own (the
    // writer's batches are at most 50 ms old; a line does not wait for
    // company), then nine more, in the order of the requests.
    let first = common::get(addr, "/first0", &[]).await;
    assert_eq!(first.status, 404);
    let mut seen = Vec::new();
    while seen.is_empty() {
        let line = next_line(Duration::from_secs(5)).expect("a lone request's line");
        if request_line(&line) {
            seen.push(line);
        }
    }
    for i in 1..10 {
        assert_eq!(
            common::get(addr, &format!("/first{i}"), &[]).await.status,
            404
        );
    }
    while seen.len() < 10 {
        let line = next_line(Duration::from_secs(5)).expect("a request line while it runs");
        if request_line(&line) {
            seen.push(line);
        }
    }
    for (i, line) in seen.iter().enumerate() {
        let (time, rest) = line.split_once(' ').unwrap();
        assert_eq!(time.len(), "2026-01-31T12:00:00.123456Z".len(), "{line}");
        let expected = format!(" INFO request method=GET path=\"/first{i}\" status=404 micros=");
        assert!(rest.starts_with(&expected), "{line}");
    }

    // Then ten more and SIGTERM at once: their lines, and "stopped" last,
    // are written before the process exits.
    for i in 0..10 {
        assert_eq!(
            common::get(addr, &format!("/then{i}"), &[]).await.status,
            404
        );
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(term.unwrap().success());
    assert!(common::wait_for_exit(&mut child, 100).await.success());
    let mut rest = Vec::new();
    while let Some(line) = next_line(Duration::from_secs(5)) {
        rest.push(line);
    }
    let paths: Vec<&str> = rest
        .iter()
        .filter(|line| request_line(line))
        .filter_map(|line| line.split('"').nth(1))
        .collect();
    let expected: Vec<String> = (0..10).map(|i| format!("/then{i}")).collect();
    assert_eq!(paths, expected, "{rest:#?}");
    assert!(
        rest.last()
            .is_some_and(|line| line.ends_with(" INFO stopped")),
        "{rest:#?}"
    );
}
