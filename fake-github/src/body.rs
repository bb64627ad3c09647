//! The response body type, able to misbehave on purpose.
//!
//! hyper sends whatever a [`Body`] yields, frame by frame, so the faults that
//! live *inside* a response are body states here: a huge body generated on
//! the fly (never held in memory), a slow drip on a timer, and a body that
//! stops halfway with an error, which makes hyper drop the connection (HTTP/1)
//! or reset the stream (HTTP/2), as a crashed upstream would.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::Sleep;

/// The largest frame handed to hyper at once when generating a body.
const FRAME: usize = 16 * 1024;

/// A response body: whole, generated, or paced.
pub struct Body {
    kind: Kind,
}

enum Kind {
    /// Bytes already in memory (`None` once sent).
    Full(Option<Bytes>),
    /// `head` once, then `pattern` repeated until `remaining` bytes in all
    /// were sent. Memory stays at one pattern whatever the size.
    Repeat {
        head: Option<Bytes>,
        pattern: Bytes,
        offset: usize,
        remaining: u64,
    },
    /// `data` in `chunk`-byte frames, each after a pause of `every`; then,
    /// if `fail`, one more pause and an error instead of a clean end.
    Paced {
        data: Bytes,
        chunk: usize,
        every: Duration,
        timer: Option<Pin<Box<Sleep>>>,
        fail: bool,
    },
}

impl Body {
    /// No body (for 204, 304 and stalled answers).
    pub fn empty() -> Self {
        Body {
            kind: Kind::Full(None),
        }
    }

    /// A body held in memory.
    pub fn full(data: impl Into<Bytes>) -> Self {
        let data = data.into();
        Body {
            kind: Kind::Full((!data.is_empty()).then_some(data)),
        }
    }

    /// `head`, then `pattern` repeated, `total` bytes in all (cut wherever
    /// `total` falls).
    pub fn repeat(head: Bytes, pattern: Bytes, total: u64) -> Self {
        // An empty pattern could never fill the total: fall back to spaces.
        let pattern = if pattern.is_empty() {
            Bytes::from_static(b" ")
        } else {
            pattern
        };
        Body {
            kind: Kind::Repeat {
                head: Some(head),
                pattern,
                offset: 0,
                remaining: total,
            },
        }
    }

    /// `data` sent `chunk` bytes at a time, each chunk after a pause of
    /// `every`.
    pub fn drip(data: Bytes, chunk: usize, every: Duration) -> Self {
        Body {
            kind: Kind::Paced {
                data,
                chunk: chunk.max(1),
                every,
                timer: None,
                fail: false,
            },
        }
    }

    /// `data` after a short pause, then, after another, an I/O error. The
    /// pauses let hyper flush the partial body before the connection dies,
    /// so the client really sees headers and part of a body.
    pub fn fail_after(data: Bytes) -> Self {
        Body {
            kind: Kind::Paced {
                chunk: data.len().max(1),
                data,
                every: Duration::from_millis(50),
                timer: None,
                fail: true,
            },
        }
    }

    /// The bytes of an in-memory body, so a fault can reshape a normal answer.
    pub fn bytes(&self) -> Option<&Bytes> {
        match &self.kind {
            Kind::Full(data) => data.as_ref(),
            _ => None,
        }
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match &mut self.get_mut().kind {
            Kind::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Kind::Repeat {
                head,
                pattern,
                offset,
                remaining,
            } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let frame = match head.take().filter(|h| !h.is_empty()) {
                    Some(h) => h,
                    None => {
                        let end = pattern.len().min(*offset + FRAME);
                        let frame = pattern.slice(*offset..end);
                        *offset = if end == pattern.len() { 0 } else { end };
                        frame
                    }
                };
                // Never send past the promised total (the Content-Length).
                let take = frame
                    .len()
                    .min(usize::try_from(*remaining).unwrap_or(usize::MAX));
                *remaining -= take as u64;
                Poll::Ready(Some(Ok(Frame::data(frame.slice(..take)))))
            }
            Kind::Paced {
                data,
                chunk,
                every,
                timer,
                fail,
            } => {
                if data.is_empty() && !*fail {
                    return Poll::Ready(None);
                }
                // Pause before every chunk (and before the failure).
                let sleep = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(*every)));
                ready!(sleep.as_mut().poll(cx));
                *timer = None;
                if data.is_empty() {
                    *fail = false; // fail only once; a later poll ends the body
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::ConnectionReset,
                        "fake-github: connection dropped mid-body on purpose",
                    ))));
                }
                let frame = data.split_to((*chunk).min(data.len()));
                Poll::Ready(Some(Ok(Frame::data(frame))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(data) => data.is_none(),
            Kind::Repeat { remaining, .. } => *remaining == 0,
            Kind::Paced { data, fail, .. } => data.is_empty() && !*fail,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64)),
            Kind::Repeat { remaining, .. } => SizeHint::with_exact(*remaining),
            // A paced body may be cut short on purpose: promise nothing here;
            // the fault sets Content-Length itself.
            Kind::Paced { .. } => SizeHint::default(),
        }
    }
}
