//! `contributors healthcheck`: ask our own `/healthz` and exit 0 or 1.
//!
//! Docker's `HEALTHCHECK` runs a command inside the container. Images
//! usually run `curl`, but a scratch image has no curl and no shell, so the
//! binary carries its own tiny client: one HTTP/1.1 request to loopback,
//! with a short timeout, written with the standard library alone.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(2);

/// Checks `http://127.0.0.1:{port}/healthz`; `Ok` when it answers 200.
pub fn check(port: u16) -> Result<(), String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| format!("cannot set timeouts: {e}"))?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("cannot send the request: {e}"))?;
    // The status line is all we need: "HTTP/1.1 200 OK".
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < 12 {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(format!("no answer from {addr}: {e}")),
        }
    }
    let status_line = String::from_utf8_lossy(&head[..read]);
    match status_line.split(' ').nth(1) {
        Some("200") => Ok(()),
        Some(code) => Err(format!("{addr} answered {code}")),
        None => Err(format!("{addr} sent no HTTP status")),
    }
}
