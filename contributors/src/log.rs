//! The log: one line per request at the default level (`info`), and the
//! rare events (start, stop, GitHub going up or down) around them.
//!
//! `tracing` carries the rare events and `tracing-subscriber` decides which
//! are written; this module decides only how a line is spelt and when it
//! reaches standard output (where `docker logs` reads it). The request
//! line is ours from end to end, because it is on every request's path:
//! at the default level it cost more than the rest of a cached page's
//! answer (`make bench`, sections 6 and 7: the "default log" rows).
//!
//! - **The request line** ([`request`]) is spelt straight into a buffer of
//!   the thread's own, without `tracing`'s dispatch and field visitor
//!   (those were most of its cost): the same line `tracing::info!` would
//!   make of the same fields, tested against it. It is written when the
//!   level is `info` or more verbose, as an `info!` would be.
//! - **The other lines** ([`Line`]) are written field by field into the
//!   buffer the subscriber hands over: numbers and plain strings are copied
//!   as they are, and only a string that needs escaping, or a value that is
//!   not a number or a string, goes through `core::fmt`. The layout is
//!   `tracing-subscriber`'s own (`2026-01-31T12:00:00.123456Z  INFO
//!   request method=GET path="/" status=200 micros=41`), without spans,
//!   which this app does not open.
//! - **The writer** ([`Buffered`]) appends each line to one buffer in
//!   memory; a thread of its own writes the buffer out when a line has
//!   waited [`LINGER`], or at [`FLUSH_AT`] bytes, so a busy server makes
//!   one `write` a batch instead of one a request. Nothing is dropped:
//!   when the buffer holds [`MAX_PENDING`] bytes (standard output is
//!   slower than the requests), a request waits for it, as it would for
//!   a blocking write. [`flush`] writes what is left before the process
//!   exits; lines in order, always.

use std::cell::RefCell;
use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

use crate::http::clock::rfc3339;

/// How long a line may wait in memory before it is written.
pub const LINGER: Duration = Duration::from_millis(50);
/// A batch this large is written at once, without waiting out `LINGER`.
pub const FLUSH_AT: usize = 32 * 1024;
/// Lines held in memory at most; a request that would add more waits.
pub const MAX_PENDING: usize = 1024 * 1024;

/// Logs events at `level` and above to standard output.
pub fn init(level: Level) {
    REQUESTS.store(writes_requests(level), Relaxed);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .event_format(Line)
        .with_writer(Buffered)
        .init();
    // Without its thread (none could start), each line is written at once.
    let started = std::thread::Builder::new()
        .name("log".into())
        .spawn(flusher);
    BATCHED.store(started.is_ok(), Relaxed);
}

/// Whether `level` lets request lines through: `info` or more verbose.
/// (`tracing` orders levels by verbosity: `TRACE` is the greatest.)
fn writes_requests(level: Level) -> bool {
    level >= Level::INFO
}

/// Logs one request, the line `tracing::info!(method = %method, path,
/// status, micros, "request")` would make, if the level lets it through.
pub fn request(method: &str, path: &str, status: u16, micros: u64) {
    if !REQUESTS.load(Relaxed) {
        return;
    }
    thread_local! {
        /// The line being spelt; its room is used again for the next one.
        static SPELT: RefCell<String> = const { RefCell::new(String::new()) };
    }
    SPELT.with_borrow_mut(|line| {
        line.clear();
        let _ = request_line(line, now(), (method, path, status, micros));
        let _ = Buffered.write(line.as_bytes());
    });
}

/// The request line for `now` (since the Unix epoch).
fn request_line(
    line: &mut String,
    now: Duration,
    (method, path, status, micros): (&str, &str, u16, u64),
) -> fmt::Result {
    timestamp(line, now)?;
    line.push_str(" INFO request method=");
    line.push_str(method);
    line.push_str(" path=");
    quoted(line, path)?;
    line.push_str(" status=");
    line.push_str(itoa::Buffer::new().format(status));
    line.push_str(" micros=");
    line.push_str(itoa::Buffer::new().format(micros));
    line.push('\n');
    Ok(())
}

/// The time since the Unix epoch, for a line's timestamp.
fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Writes out every line logged so far. `main` calls it before the
/// process exits.
pub fn flush() {
    write_pending(&mut Vec::new());
}

/// The lines not written yet.
static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// Wakes the flusher: a first line is waiting, or `FLUSH_AT` bytes are.
static WAKE: Condvar = Condvar::new();
/// Wakes requests waiting for room: the lines were taken to be written.
static FLUSHED: Condvar = Condvar::new();
/// Held from taking lines out of `PENDING` until they are written, by
/// the flusher and by `flush` alike: so batches leave in the order they
/// were taken, and lines in the order they were logged.
static OUT: Mutex<()> = Mutex::new(());
/// Whether the flusher thread runs.
static BATCHED: AtomicBool = AtomicBool::new(false);
/// Whether request lines are written (`init` sets it from the level).
static REQUESTS: AtomicBool = AtomicBool::new(false);

fn pending() -> MutexGuard<'static, Vec<u8>> {
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

fn standard_output() -> MutexGuard<'static, ()> {
    OUT.lock().unwrap_or_else(|p| p.into_inner())
}

/// The flusher thread: waits for a line, lets others join it for
/// `LINGER` (or until `FLUSH_AT` bytes), writes them all; again.
fn flusher() {
    let mut batch = Vec::new();
    loop {
        {
            let mut waiting = pending();
            while waiting.is_empty() {
                waiting = WAKE.wait(waiting).unwrap_or_else(|p| p.into_inner());
            }
            let _joined = WAKE.wait_timeout_while(waiting, LINGER, |lines| lines.len() < FLUSH_AT);
        }
        write_pending(&mut batch);
    }
}

/// Takes every line waiting (swapping `batch`, empty, in for them, so
/// that its room is used again) and writes them to standard output, in
/// turn with the flusher and `flush`. A failed write (standard output
/// closed) loses the batch, as it would have lost the lines one by one.
fn write_pending(batch: &mut Vec<u8>) {
    let _out = standard_output();
    std::mem::swap(&mut *pending(), batch);
    FLUSHED.notify_all();
    if !batch.is_empty() {
        let _ = std::io::stdout().lock().write_all(batch);
        batch.clear();
    }
}

/// The writer the subscriber is given: each event's line, in one `write`.
pub struct Buffered;

impl<'a> MakeWriter<'a> for Buffered {
    type Writer = Buffered;

    fn make_writer(&'a self) -> Buffered {
        Buffered
    }
}

impl Write for Buffered {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        if !BATCHED.load(Relaxed) {
            let _out = standard_output();
            return std::io::stdout().lock().write(line);
        }
        let mut waiting = pending();
        while waiting.len() >= MAX_PENDING {
            waiting = FLUSHED.wait(waiting).unwrap_or_else(|p| p.into_inner());
        }
        let before = waiting.len();
        waiting.extend_from_slice(line);
        // The flusher waits for a first line, then for `FLUSH_AT` bytes.
        if before == 0 || (before < FLUSH_AT && waiting.len() >= FLUSH_AT) {
            WAKE.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The line format: `tracing-subscriber`'s full format, spelt by hand.
pub struct Line;

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _spans: &FmtContext<'_, S, N>,
        mut line: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        timestamp(&mut line, now())?;
        let level = match *event.metadata().level() {
            Level::TRACE => "TRACE ",
            Level::DEBUG => "DEBUG ",
            Level::INFO => " INFO ",
            Level::WARN => " WARN ",
            Level::ERROR => "ERROR ",
        };
        line.write_str(level)?;
        let mut fields = Fields {
            line: &mut line,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        line.write_char('\n')
    }
}

/// `2026-01-31T12:00:00.123456Z ` for `now` (since the Unix epoch). The
/// date and time of day are made once a second, per thread.
fn timestamp(line: &mut impl fmt::Write, now: Duration) -> fmt::Result {
    thread_local! {
        static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    SECOND.with_borrow_mut(|(second, spelt)| {
        if *second != now.as_secs() {
            *second = now.as_secs();
            *spelt = rfc3339(now.as_secs());
            spelt.pop(); // the `Z`, which goes after the fraction
        }
        line.write_str(spelt)
    })?;
    let mut micros = itoa::Buffer::new();
    let micros = micros.format(1_000_000 + now.subsec_micros());
    line.write_char('.')?;
    line.write_str(&micros[1..])?;
    line.write_str("Z ")
}

/// `value` in quotes, as `{:?}` writes a string. One with nothing to
/// escape (every path: hyper admits only printable ASCII in one) is copied
/// as it is.
fn quoted(line: &mut impl fmt::Write, value: &str) -> fmt::Result {
    // Printable ASCII, but for `"` and `\`: what `{:?}` leaves as it is.
    let plain = (value.bytes()).all(|b| matches!(b, b' '..=b'~') && b != b'"' && b != b'\\');
    if !plain {
        return write!(line, "{value:?}");
    }
    line.write_char('"')?;
    line.write_str(value)?;
    line.write_char('"')
}

/// Writes an event's fields: the message, then ` name=value` each.
struct Fields<'a, 'w> {
    line: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    /// The separator and the name, or nothing for the message.
    fn name(&mut self, field: &Field) -> fmt::Result {
        let separator = if std::mem::take(&mut self.first) {
            ""
        } else {
            " "
        };
        self.line.write_str(separator)?;
        if field.name() != "message" {
            self.line.write_str(field.name())?;
            self.line.write_char('=')?;
        }
        Ok(())
    }

    fn number(&mut self, field: &Field, spelt: &str) {
        if self.result.is_ok() {
            self.result = self.name(field).and_then(|()| self.line.write_str(spelt));
        }
    }
}

impl Visit for Fields<'_, '_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.number(field, itoa::Buffer::new().format(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.number(field, itoa::Buffer::new().format(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        self.result = self.name(field).and_then(|()| match field.name() {
            "message" => self.line.write_str(value),
            _ => quoted(self.line, value),
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_ok() {
            self.result = self
                .name(field)
                .and_then(|()| write!(self.line, "{value:?}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What a subscriber with our format writes, captured.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(log: impl FnOnce()) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::INFO)
            .event_format(Line)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, log);
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_request_line_is_spelt_as_tracing_subscriber_spells_it() {
        let line = logged(|| {
            let (status, micros) = (200u16, 41u64);
            tracing::info!(method = %"GET", path = "/a/b", status, micros, "request");
        });
        let (time, rest) = line.split_once(' ').unwrap();
        assert_eq!(
            rest,
            " INFO request method=GET path=\"/a/b\" status=200 micros=41\n"
        );
        // 2026-01-31T12:00:00.123456Z
        assert_eq!(time.len(), 27, "{time}");
        assert!(time.ends_with('Z') && time.as_bytes()[19] == b'.', "{time}");
    }

    #[test]
    fn the_request_line_is_the_one_tracing_would_write() {
        for path in ["/a/b", "/a\"b\n", "/é\u{85}", ""] {
            let (status, micros) = (404u16, 1_234_567u64);
            let traced = logged(|| {
                tracing::info!(method = %"HEAD", path, status, micros, "request");
            });
            let mut spelt = String::new();
            let now = Duration::new(1_700_000_000, 42_999);
            request_line(&mut spelt, now, ("HEAD", path, status, micros)).unwrap();
            let rest = |line: &str| line.split_once(' ').unwrap().1.to_string();
            assert_eq!(rest(&spelt), rest(&traced), "{path:?}");
            assert!(
                spelt.starts_with("2023-11-14T22:13:20.000042Z  INFO request method=HEAD path=\"")
            );
        }
    }

    #[test]
    fn lines_are_stamped_with_the_time_now() {
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let stamped = now();
        assert!(stamped >= before, "{stamped:?} < {before:?}");
        assert!(stamped < before + Duration::from_secs(60), "{stamped:?}");
    }

    #[test]
    fn request_lines_are_written_at_info_and_more_verbose() {
        let levels = [
            Level::ERROR,
            Level::WARN,
            Level::INFO,
            Level::DEBUG,
            Level::TRACE,
        ];
        let written = levels.map(writes_requests);
        assert_eq!(written, [false, false, true, true, true]);
    }

    #[test]
    fn levels_are_padded_to_five_and_messages_come_first() {
        let lines = logged(|| {
            tracing::warn!(host = "api.github.com", "GitHub is down");
            tracing::info!(message = "a plain message", code = 1u64);
            tracing::error!(code = -3i64, "failed");
            tracing::debug!("not at info");
        });
        let rests: Vec<&str> = lines
            .lines()
            .map(|l| l.split_once(' ').unwrap().1)
            .collect();
        assert_eq!(
            rests,
            [
                " WARN GitHub is down host=\"api.github.com\"",
                " INFO a plain message code=1",
                "ERROR failed code=-3"
            ]
        );
    }

    #[test]
    fn a_string_with_quotes_or_controls_is_escaped() {
        let line = logged(|| tracing::info!(path = "/a\"b\n", "request"));
        assert!(
            line.ends_with(" INFO request path=\"/a\\\"b\\n\"\n"),
            "{line}"
        );
        // Nothing but quotes, or nothing but backslashes: escaped all the same.
        let line = logged(|| tracing::info!(path = "\"\"", "request"));
        assert!(
            line.ends_with(" INFO request path=\"\\\"\\\"\"\n"),
            "{line}"
        );
        let line = logged(|| tracing::info!(path = "\\\\", "request"));
        assert!(
            line.ends_with(" INFO request path=\"\\\\\\\\\"\n"),
            "{line}"
        );
        // Not ASCII: as `{:?}` writes it (é as it is, a C1 control escaped).
        let line = logged(|| tracing::info!(path = "/é\u{85}", "request"));
        assert!(
            line.ends_with(" INFO request path=\"/é\\u{85}\"\n"),
            "{line}"
        );
    }

    #[test]
    fn the_timestamp_is_utc_to_the_microsecond() {
        let mut line = String::new();
        let at = Duration::new(1_700_000_000, 42_999);
        timestamp(&mut Writer::new(&mut line), at).unwrap();
        assert_eq!(line, "2023-11-14T22:13:20.000042Z ");
        line.clear();
        timestamp(
            &mut Writer::new(&mut line),
            Duration::new(951_782_400, 999_999_000),
        )
        .unwrap();
        assert_eq!(line, "2000-02-29T00:00:00.999999Z ");
    }
}
