//! The bare hyper server that `make bench` measures the app against.
//!
//! Issue 13 asks the app for at least 90% of the requests per second of a
//! minimal hyper 1 server that sends the same bytes with the same headers.
//! This is that server: one multi-threaded tokio runtime (as the app's),
//! HTTP/1.1 with keep-alive, and a fixed answer per path, found in a hash
//! map. Nothing else: no deadlines, no connection cap, no logging, no
//! routing beyond that lookup, no validation. The difference between the
//! two is what those cost.
//!
//! ```text
//! baseline PORT ANSWER...
//! ```
//!
//! Each ANSWER is a file that `bench/bench.py` captured from the running
//! app, or a folder of them (the many-repository section passes one of 900
//! pages): the path on the first line, then the response's headers as
//! `name: value` lines, an empty line, and the body. `date` and
//! `content-length` are left out: hyper writes them, for both servers.
//! Any other path gets an empty 404.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::Ipv4Addr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// One path's answer, as the app sent it.
struct Answer {
    headers: HeaderMap,
    body: Bytes,
}

/// Every answer, by its path.
type Answers = HashMap<String, Answer>;

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or("usage: baseline PORT ANSWER...")?;
    let mut answers = Answers::new();
    for arg in args {
        for file in files(&arg)? {
            let (path, answer) = load(&file)?;
            answers.insert(path, answer);
        }
    }
    let answers = Arc::new(answers);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .build()
        .map_err(|e| format!("baseline: cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .map_err(|e| format!("baseline: cannot listen on port {port}: {e}"))?;
        loop {
            let Ok((stream, _peer)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let answers = answers.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<_>| {
                    std::future::ready(Ok::<_, Infallible>(answer(&answers, request.uri().path())))
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

/// The stored answer for `path`, or an empty 404.
fn answer(answers: &Answers, path: &str) -> Response<Full<Bytes>> {
    let Some(found) = answers.get(path) else {
        let mut response = Response::new(Full::default());
        *response.status_mut() = StatusCode::NOT_FOUND;
        return response;
    };
    let mut response = Response::new(Full::new(found.body.clone()));
    *response.headers_mut() = found.headers.clone();
    response
}

/// `arg` itself, or the files in it if it is a folder.
fn files(arg: &str) -> Result<Vec<String>, String> {
    let bad = |e: std::io::Error| format!("baseline: {arg}: {e}");
    if !std::fs::metadata(arg).map_err(bad)?.is_dir() {
        return Ok(vec![arg.to_string()]);
    }
    std::fs::read_dir(arg)
        .map_err(bad)?
        .map(|entry| Ok(entry.map_err(bad)?.path().to_string_lossy().into_owned()))
        .collect()
}

/// Reads one answer file (format in the module docs): its path and answer.
fn load(file: &str) -> Result<(String, Answer), String> {
    let bad = |why: &str| format!("baseline: {file}: {why}");
    let bytes = std::fs::read(file).map_err(|e| bad(&e.to_string()))?;
    let split = bytes
        .windows(2)
        .position(|w| w == b"\n\n")
        .ok_or_else(|| bad("no empty line after the headers"))?;
    let head = std::str::from_utf8(&bytes[..split]).map_err(|_| bad("headers are not UTF-8"))?;
    let mut lines = head.lines();
    let path = lines.next().unwrap_or_default().to_string();
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line
            .split_once(": ")
            .ok_or_else(|| bad(&format!("not a header line: {line}")))?;
        let name = HeaderName::try_from(name).map_err(|e| bad(&e.to_string()))?;
        let value = HeaderValue::try_from(value).map_err(|e| bad(&e.to_string()))?;
        headers.append(name, value);
    }
    let body = Bytes::copy_from_slice(&bytes[split + 2..]);
    Ok((path, Answer { headers, body }))
}
