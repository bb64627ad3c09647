//! A client connection with a deadline on every phase of its life.
//!
//! A connection slot is a scarce thing (`max_connections` of them), so no
//! client may hold one by doing nothing. hyper's own header timeout only
//! covers part of that, so the socket is wrapped in a [`TimedStream`] that
//! knows which phase the connection is in and how long that phase may last:
//!
//! | phase                  | ends when                       | deadline            |
//! |------------------------|---------------------------------|---------------------|
//! | fresh (just accepted)  | the first byte                  | `head`, from accept |
//! | head                   | the request head is complete    | `head`, from accept (or from the first byte after idle) |
//! | busy                   | the response is handed to hyper | none: the handler's own upstream timeout bounds it |
//! | responding             | the response is flushed         | `write`, per stalled write |
//! | idle (keep-alive)      | the next request's first byte   | `idle`              |
//!
//! Request bodies need no deadline of their own: no route reads one, so
//! hyper makes one attempt to drain a body and otherwise closes the
//! connection after the response.
//!
//! The write deadline counts from the moment a write stops making progress,
//! so a slow but reading client is served, and one that stops reading (its
//! receive window full, our send queue stuck) is dropped after `write`.
//! A response can also fit whole in the kernel's send buffer, which grows to
//! megabytes: the writes all succeed, and the bytes then sit there unread.
//! On Linux, `TCP_USER_TIMEOUT` puts the same deadline on those: the kernel
//! drops a connection whose sent data goes unacknowledged (zero-window
//! probes included) for longer than `write`.
//!
//! The phase is shared with the request handler through [`Activity`], which
//! also tells the server which connections hold nothing a client was
//! promised (fresh or idle: no byte of a request read), so that shutdown can
//! close those at once and answer the rest, and a full server can close the
//! connection idle the longest to make room ([`Activity::idle_since`]).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep, sleep_until};

/// How long each phase may last.
#[derive(Clone, Copy, Debug)]
pub struct Deadlines {
    /// From accept, or from the first byte after idle, to a complete head.
    pub head: Duration,
    /// From a response to the next request's first byte.
    pub idle: Duration,
    /// From a write that cannot proceed to the client reading again.
    pub write: Duration,
}

impl Deadlines {
    /// The longest the read alarm is set ahead (`poll_read_deadline`).
    fn tick(&self) -> Duration {
        self.head.min(self.idle)
    }
}

/// Where a connection is in its life (the table above).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Phase {
    /// Just accepted, nothing read yet, until `TimedStream::until`.
    Fresh,
    /// Waiting for the rest of a request head, until `TimedStream::until`.
    Head,
    /// A request is being handled.
    Busy,
    /// The response is being written.
    Responding,
    /// Kept alive between requests, until `TimedStream::until`.
    Idle,
}

/// The connection's phase, shared by the stream and the request handler.
///
/// Both run in the connection's one task, one after the other, so nothing
/// contends for it: it is a plain atomic byte, not a `Mutex` (which would
/// cost a lock and an unlock each of the five times a request reads or
/// changes it). `Arc` and an atomic rather than `Rc` and `Cell` only because
/// a task's parts must be `Send`. The phase's deadline is the stream's own.
#[derive(Clone)]
pub struct Activity {
    phase: Arc<PhaseCell>,
    deadlines: Deadlines,
}

/// The phase, and when the connection last became idle (milliseconds since
/// [`epoch`]), alone in their 128 bytes of memory. Small allocations sit
/// side by side, and two connections' phases in one cache line would make
/// the threads serving them hand that line back and forth on every change.
#[repr(align(128))]
struct PhaseCell(AtomicU8, AtomicU64);

/// The moment idle times are counted from: the first connection's.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl Activity {
    fn phase(&self) -> Phase {
        match self.phase.0.load(Relaxed) {
            0 => Phase::Fresh,
            1 => Phase::Head,
            2 => Phase::Busy,
            3 => Phase::Responding,
            _ => Phase::Idle,
        }
    }

    fn set(&self, phase: Phase) {
        self.phase.0.store(phase as u8, Relaxed);
    }

    /// hyper has a complete request head and calls the handler.
    pub fn request_started(&self) {
        self.set(Phase::Busy);
    }

    /// The handler has its response; hyper writes it next.
    pub fn response_ready(&self) {
        self.set(Phase::Responding);
    }

    /// True while no byte of a request is in hand (just accepted, or idle
    /// between requests): closing the connection then loses nothing the
    /// client sent. A request partly read counts as in hand.
    pub fn holds_nothing(&self) -> bool {
        matches!(self.phase(), Phase::Fresh | Phase::Idle)
    }

    /// True while part of a request head is in hand, but not all of it.
    pub fn is_reading_head(&self) -> bool {
        self.phase() == Phase::Head
    }

    /// For a connection idle between requests: since when (milliseconds on
    /// a clock private to this module, comparable between connections).
    /// `None` in any other phase.
    pub fn idle_since(&self) -> Option<u64> {
        (self.phase() == Phase::Idle).then(|| self.phase.1.load(Relaxed))
    }
}

/// A TCP stream whose reads and writes fail with `TimedOut` once the
/// current phase's deadline has passed.
pub struct TimedStream {
    inner: TcpStream,
    activity: Activity,
    /// The deadline of the `Head` or `Idle` phase.
    until: Instant,
    /// The read deadline's alarm: set to `read_at`, and polled by this
    /// connection's task since; `None` once it has fired and nothing needs
    /// it yet (see `poll_read_deadline`).
    read_timer: Pin<Box<Sleep>>,
    read_at: Option<Instant>,
    /// The alarm has been polled since it was set, so it holds this task's
    /// waker and will wake the task when it goes off.
    read_armed: bool,
    /// Fires `write` after a write first found the socket full.
    write_timer: Pin<Box<Sleep>>,
    write_stalled: bool,
}

impl TimedStream {
    /// Wraps a just-accepted stream: the head deadline starts now.
    pub fn new(inner: TcpStream, deadlines: Deadlines) -> (TimedStream, Activity) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let _ = socket2::SockRef::from(&inner).set_tcp_user_timeout(Some(deadlines.write));
        let now = Instant::now();
        let activity = Activity {
            phase: Arc::new(PhaseCell(
                AtomicU8::new(Phase::Fresh as u8),
                AtomicU64::new(0),
            )),
            deadlines,
        };
        let stream = TimedStream {
            inner,
            activity: activity.clone(),
            until: now + deadlines.head,
            read_timer: Box::pin(sleep_until(now)),
            read_at: None,
            read_armed: false,
            write_timer: Box::pin(sleep_until(now)),
            write_stalled: false,
        };
        (stream, activity)
    }

    /// The socket, unwrapped: for a connection turned away before serving.
    pub fn into_inner(self) -> TcpStream {
        self.inner
    }

    /// The read deadline of the current phase, after noting that `read`
    /// bytes just arrived.
    fn after_read(&mut self, read: usize) -> Option<Instant> {
        match self.activity.phase() {
            Phase::Idle if read > 0 => {
                self.until = Instant::now() + self.activity.deadlines.head;
                self.activity.set(Phase::Head);
                Some(self.until)
            }
            // The head deadline still counts from accept.
            Phase::Fresh if read > 0 => {
                self.activity.set(Phase::Head);
                Some(self.until)
            }
            Phase::Fresh | Phase::Head | Phase::Idle => Some(self.until),
            Phase::Busy | Phase::Responding => None,
        }
    }

    /// A flush completed: a written response means the connection is now
    /// idle. The idle deadline if it just became so.
    fn flushed(&mut self) -> Option<Instant> {
        if self.activity.phase() != Phase::Responding {
            return None;
        }
        let now = Instant::now();
        self.until = now + self.activity.deadlines.idle;
        let since = now.saturating_duration_since(epoch()).as_millis();
        (self.activity.phase.1).store(u64::try_from(since).unwrap_or(u64::MAX), Relaxed);
        self.activity.set(Phase::Idle);
        Some(self.until)
    }

    /// Called when a write or flush could not proceed: starts the stall
    /// clock if it is not running, and fails once it has run out.
    fn write_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if !self.write_stalled {
            self.write_stalled = true;
            let deadline = Instant::now() + self.activity.deadlines.write;
            self.write_timer.as_mut().reset(deadline);
        }
        ready!(self.write_timer.as_mut().poll(cx));
        Poll::Ready(timed_out("the client stopped reading"))
    }

    fn write_progressed(&mut self) {
        self.write_stalled = false;
    }

    /// Called when a read found nothing to read: fails once the phase's
    /// read deadline has passed, and otherwise makes sure the alarm will
    /// wake this task by then.
    ///
    /// The alarm is not moved on every request (that takes a lock in
    /// tokio's timer wheel each time, and a request's phases come and go in
    /// microseconds). It is set no later than the deadline, at most `tick`
    /// ahead; when it goes off early, because the phase has since moved
    /// on, it is set again for the phase in force then. So a busy
    /// keep-alive connection costs one alarm per `tick`, not one per
    /// request, and the last alarm before a deadline is set for the
    /// deadline itself, so none is late.
    fn poll_read_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            let deadline = self.after_read(0);
            if let Some(deadline) = deadline {
                self.alarm_by(deadline);
            }
            if self.read_at.is_none() {
                // Busy or responding: nothing to wait for yet (the flush
                // that ends the response sets the idle deadline's alarm).
                return Poll::Pending;
            }
            ready!(self.poll_read_alarm(cx));
            match deadline {
                Some(deadline) if deadline <= Instant::now() => {
                    return Poll::Ready(timed_out("no request in time"));
                }
                Some(deadline) => self.set_read_alarm(deadline),
                None => self.read_at = None,
            }
        }
    }

    /// Sets the read alarm for `deadline` unless it already goes off by
    /// then; says whether it set it (the caller polls it next).
    fn alarm_by(&mut self, deadline: Instant) -> bool {
        let late = self.read_at.is_none_or(|at| deadline < at);
        if late {
            self.set_read_alarm(deadline);
        }
        late
    }

    /// Sets the read alarm for `deadline`, or one `tick` from now if that is
    /// sooner. The caller polls it next.
    fn set_read_alarm(&mut self, deadline: Instant) {
        let at = deadline.min(Instant::now() + self.activity.deadlines.tick());
        self.read_at = Some(at);
        self.read_timer.as_mut().reset(at);
        self.read_armed = false;
    }

    /// Polls the read alarm. Once it holds this task's waker, a plain
    /// look at whether it went off does: polling it again on every request
    /// would hand it the same waker again: a write to memory that the
    /// thread driving tokio's timers reads too.
    fn poll_read_alarm(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.read_armed && !self.read_timer.is_elapsed() {
            return Poll::Pending;
        }
        let polled = self.read_timer.as_mut().poll(cx);
        self.read_armed = polled.is_pending();
        polled
    }
}

fn timed_out(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, why.to_string())
}

impl AsyncRead for TimedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        if let Poll::Ready(result) = Pin::new(&mut this.inner).poll_read(cx, buf) {
            this.after_read(buf.filled().len() - before);
            return Poll::Ready(result);
        }
        this.poll_read_deadline(cx).map(Err)
    }
}

impl AsyncWrite for TimedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, data) {
            Poll::Ready(result) => {
                self.write_progressed();
                Poll::Ready(result)
            }
            Poll::Pending => self.write_pending(cx).map(Err),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, data) {
            Poll::Ready(result) => {
                self.write_progressed();
                Poll::Ready(result)
            }
            Poll::Pending => self.write_pending(cx).map(Err),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Ready(result) => {
                self.write_progressed();
                if let Some(until) = self.flushed()
                    && self.alarm_by(until)
                {
                    // hyper's pending read was polled while no alarm was
                    // needed, so it is set here, for this same task (cheaper
                    // than waking the task to poll the read again: that
                    // costs a round through the scheduler).
                    if self.poll_read_alarm(cx).is_ready() {
                        cx.waker().wake_by_ref();
                    }
                }
                Poll::Ready(result)
            }
            Poll::Pending => self.write_pending(cx).map(Err),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::io::IoSlice;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpSocket};

    use super::*;

    const LONG: Duration = Duration::from_secs(60);

    fn deadlines(head: Duration, idle: Duration, write: Duration) -> Deadlines {
        Deadlines { head, idle, write }
    }

    /// The server's end of a real loopback connection, wrapped, and the
    /// client's end. `small`: both ends get small socket buffers, so that
    /// a client that reads slowly soon stalls the server's writes.
    async fn connection(deadlines: Deadlines, small: bool) -> (TimedStream, Activity, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = TcpSocket::new_v4().unwrap();
        if small {
            socket.set_recv_buffer_size(16 * 1024).unwrap();
        }
        let client = socket.connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        let accepted = accepted.unwrap().0;
        if small {
            socket2::SockRef::from(&accepted)
                .set_send_buffer_size(16 * 1024)
                .unwrap();
        }
        let (stream, activity) = TimedStream::new(accepted, deadlines);
        (stream, activity, client.unwrap())
    }

    /// Polls a read on `stream` while the client sends nothing: it must
    /// wait (and the phase must not change for it).
    async fn read_nothing(stream: &mut TimedStream) {
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_millis(20), stream.read(&mut buf)).await;
        assert!(read.is_err(), "{read:?}");
    }

    /// What the server may do with the connection: (holds nothing, reading
    /// a head, idle).
    fn state(activity: &Activity) -> (bool, bool, bool) {
        let idle = activity.idle_since().is_some();
        (activity.holds_nothing(), activity.is_reading_head(), idle)
    }

    #[tokio::test]
    async fn each_phase_tells_the_server_what_the_connection_holds() {
        let (mut stream, activity, mut client) =
            connection(deadlines(LONG, LONG, LONG), false).await;
        let fresh = (true, false, false);
        let reading = (false, true, false);
        let busy = (false, false, false);
        let idle = (true, false, true);
        assert_eq!(state(&activity), fresh);
        // Waiting for the first byte is still holding nothing.
        read_nothing(&mut stream).await;
        assert_eq!(state(&activity), fresh);
        // Part of a head: the server must not drop it.
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        assert!(stream.read(&mut buf).await.unwrap() > 0);
        assert_eq!(state(&activity), reading);
        read_nothing(&mut stream).await;
        assert_eq!(state(&activity), reading);
        activity.request_started();
        assert_eq!(state(&activity), busy);
        activity.response_ready();
        assert_eq!(state(&activity), busy);
        stream.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        assert_eq!(state(&activity), busy, "written, not yet flushed");
        stream.flush().await.unwrap();
        assert_eq!(state(&activity), idle);
        read_nothing(&mut stream).await;
        assert_eq!(state(&activity), idle);
        // The next request's first byte ends the idle time.
        client.write_all(b"G").await.unwrap();
        assert_eq!(stream.read(&mut buf).await.unwrap(), 1);
        assert_eq!(state(&activity), reading);
        // A flush outside the responding phase changes nothing.
        stream.flush().await.unwrap();
        assert_eq!(state(&activity), reading);
    }

    #[tokio::test]
    async fn a_waiting_read_sleeps_until_its_alarm() {
        // The alarm goes off at most a tick ahead (here a minute). Were it
        // set for now, the read would be woken again on every turn of
        // tokio's timer (each millisecond) until its deadline: an idle
        // connection would keep a core busy.
        let (mut stream, _activity, _client) = connection(deadlines(LONG, LONG, LONG), false).await;
        let mut space = [0u8; 16];
        let mut polls = 0;
        let read = poll_fn(|cx| {
            polls += 1;
            Pin::new(&mut stream).poll_read(cx, &mut ReadBuf::new(&mut space))
        });
        let waited = tokio::time::timeout(Duration::from_millis(200), read).await;
        assert!(waited.is_err(), "{waited:?}");
        assert!(polls <= 2, "polled {polls} times in 200 ms");
    }

    #[tokio::test]
    async fn a_read_counts_only_the_bytes_it_added() {
        let (mut stream, activity, client) = connection(deadlines(LONG, LONG, LONG), false).await;
        drop(client);
        // The caller's buffer already holds a byte; the read finds the end
        // of the stream, which is no byte of a request.
        let mut space = [0u8; 16];
        let mut buf = ReadBuf::new(&mut space);
        buf.put_slice(b"x");
        poll_fn(|cx| Pin::new(&mut stream).poll_read(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(buf.filled(), b"x");
        assert!(activity.holds_nothing());
        assert!(!activity.is_reading_head());
    }

    #[tokio::test]
    async fn what_is_written_reaches_the_client_and_shutdown_ends_it() {
        let (mut stream, _activity, mut client) =
            connection(deadlines(LONG, LONG, LONG), false).await;
        stream.write_all(b"one ").await.unwrap();
        let parts = [IoSlice::new(b"two "), IoSlice::new(b"three")];
        // An empty loopback socket takes these few bytes whole.
        let written = poll_fn(|cx| Pin::new(&mut stream).poll_write_vectored(cx, &parts)).await;
        assert_eq!(written.unwrap(), 9);
        stream.flush().await.unwrap();
        // Shut down (not dropped): the client reads everything, then the end.
        stream.shutdown().await.unwrap();
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut got)).await;
        assert!(read.is_ok(), "no end of stream after shutdown: {got:?}");
        assert_eq!(got, b"one two three");
        drop(stream);
    }

    #[tokio::test]
    async fn it_writes_vectored_as_its_socket_does() {
        // hyper sends a response's head and body with one `writev` when the
        // stream says it can, and otherwise copies both into one buffer first.
        let (stream, _activity, _client) = connection(deadlines(LONG, LONG, LONG), false).await;
        assert!(stream.is_write_vectored());
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_fails_the_writes_after_the_write_deadline() {
        let write = Duration::from_millis(500);
        let (mut stream, _activity, _client) = connection(deadlines(LONG, LONG, write), true).await;
        let chunk = vec![b'x'; 64 * 1024];
        let started = Instant::now();
        let written = tokio::time::timeout(Duration::from_secs(10), async {
            // At most 64 MB: far more than the socket buffers hold.
            for _ in 0..1024 {
                stream.write_all(&chunk).await?;
            }
            Ok::<_, io::Error>(())
        })
        .await
        .expect("the write deadline ends the writes");
        let error = written.expect_err("the client never reads");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
        assert!(started.elapsed() >= write, "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_client_that_reads_slowly_is_served_past_the_write_deadline() {
        // 1 MiB read at most 32 KiB at a time every 50 ms: 1.6 s or more,
        // so the writes stall again and again, each time for far less than
        // the deadline, and for far longer than it in all.
        let write = Duration::from_millis(500);
        let (mut stream, _activity, mut client) =
            connection(deadlines(LONG, LONG, write), true).await;
        let total = 1024 * 1024;
        let data = vec![b'x'; total];
        let started = Instant::now();
        let server = async {
            let result = stream.write_all(&data).await;
            // Closed when it fails, as the server would: the reader then
            // sees the end instead of waiting for the rest.
            drop(stream);
            (result, started.elapsed())
        };
        let reader = async {
            let mut buf = vec![0u8; 32 * 1024];
            let mut got = 0;
            while got < total {
                tokio::time::sleep(Duration::from_millis(50)).await;
                match client.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
            }
            got
        };
        let ((result, took), got) = tokio::join!(server, reader);
        assert!(result.is_ok(), "{result:?} after {took:?}");
        assert!(took > write * 2, "the writes never stalled long: {took:?}");
        assert_eq!(got, total);
    }

    /// Reads on `stream` while the client sends nothing more: the read
    /// must fail for want of a request at `deadline`, not before, and not
    /// seconds late (as it would if only the next wake-up noticed).
    async fn read_fails_at(stream: &mut TimedStream, deadline: Instant) {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
        let failed = Instant::now();
        let error = read.expect("the read deadline ends the read").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
        assert!(failed >= deadline, "{:?} early", deadline - failed);
        let late = failed - deadline;
        assert!(late < Duration::from_secs(3), "{late:?} late");
    }

    /// Answers a request on `stream`: it is then idle.
    async fn answer(stream: &mut TimedStream, activity: &Activity) {
        activity.request_started();
        activity.response_ready();
        stream.flush().await.unwrap();
    }

    #[tokio::test]
    async fn a_silent_connection_fails_its_read_at_the_head_deadline() {
        let head = Duration::from_millis(300);
        let before = Instant::now();
        let (mut stream, _activity, _client) = connection(deadlines(head, LONG, LONG), false).await;
        read_fails_at(&mut stream, before + head).await;
    }

    #[tokio::test]
    async fn an_idle_connection_fails_its_read_at_the_idle_deadline() {
        let idle = Duration::from_millis(300);
        let (mut stream, activity, _client) = connection(deadlines(LONG, idle, LONG), false).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let answered = Instant::now();
        answer(&mut stream, &activity).await;
        read_fails_at(&mut stream, answered + idle).await;
    }

    #[tokio::test]
    async fn the_first_byte_after_idle_starts_the_head_deadline_afresh() {
        let (head, idle) = (Duration::from_millis(600), Duration::from_millis(300));
        let (mut stream, activity, mut client) =
            connection(deadlines(head, idle, LONG), false).await;
        answer(&mut stream, &activity).await;
        tokio::time::sleep(idle / 2).await;
        let sent = Instant::now();
        client.write_all(b"G").await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(stream.read(&mut buf).await.unwrap(), 1);
        read_fails_at(&mut stream, sent + head).await;
    }
}
