//! The request body the proxy sends upstream: the client's body streamed as it
//! arrives, counted against the size limit.
//!
//! Two handles share it: the [`UpstreamBody`] awc sends, and a [`BodyWatch`] the
//! handler polls beside the upstream call. The watch reads a little ahead (at most
//! [`READ_AHEAD`] bytes, already in memory on actix's side anyway) so that a broken
//! body is noticed while the upstream call is still connecting: actix-http gives up
//! on a connection whose chunked framing is malformed right after it has polled
//! the handler once more, so the 400 must be ready in that very poll.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use actix_web::web::Bytes;
use futures::Stream;

/// How much of the client's body the watch reads ahead of the upstream.
const READ_AHEAD: usize = 64 * 1024;

/// What went wrong with the client's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyFault {
    /// Over `max_body_bytes`.
    #[error("request body exceeds the size limit")]
    TooLarge,
    /// Malformed (bad chunked framing) or incomplete (the client went away).
    #[error("the request body could not be read")]
    Broken,
}

struct State {
    payload: Option<Payload>,
    /// Read ahead, not yet sent upstream.
    queue: VecDeque<Bytes>,
    queued: usize,
    remaining: u64,
    fault: Option<BodyFault>,
}

impl State {
    /// One more chunk of the client's body into the queue: `Ready(Ok(true))` one
    /// was queued, `Ready(Ok(false))` the body has ended.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, BodyFault>> {
        if let Some(f) = self.fault {
            return Poll::Ready(Err(f));
        }
        let Some(payload) = self.payload.as_mut() else {
            return Poll::Ready(Ok(false));
        };
        match Pin::new(payload).poll_next(cx) {
            Poll::Ready(Some(Ok(data))) => {
                let n = data.len() as u64;
                if n > self.remaining {
                    return Poll::Ready(Err(self.fail(BodyFault::TooLarge)));
                }
                self.remaining -= n;
                self.queued += data.len();
                self.queue.push_back(data);
                Poll::Ready(Ok(true))
            }
            Poll::Ready(Some(Err(_))) => Poll::Ready(Err(self.fail(BodyFault::Broken))),
            Poll::Ready(None) => {
                self.payload = None;
                Poll::Ready(Ok(false))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn fail(&mut self, f: BodyFault) -> BodyFault {
        self.payload = None;
        self.queue.clear();
        self.queued = 0;
        self.fault = Some(f);
        f
    }
}

/// The client's body as awc sends it upstream.
pub struct UpstreamBody(Rc<RefCell<State>>);

/// Resolves when the client's body fails (never when it is fine).
pub struct BodyWatch(Rc<RefCell<State>>);

/// The client's body, at most `limit` bytes of it, and its watch.
pub fn limited(payload: Payload, limit: u64) -> (UpstreamBody, BodyWatch) {
    let state = Rc::new(RefCell::new(State {
        payload: Some(payload),
        queue: VecDeque::new(),
        queued: 0,
        remaining: limit,
        fault: None,
    }));
    (UpstreamBody(state.clone()), BodyWatch(state))
}

impl Stream for UpstreamBody {
    type Item = Result<Bytes, BodyFault>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut s = self.0.borrow_mut();
        loop {
            if let Some(b) = s.queue.pop_front() {
                s.queued -= b.len();
                return Poll::Ready(Some(Ok(b)));
            }
            match s.poll_read(cx) {
                Poll::Ready(Ok(true)) => continue,
                Poll::Ready(Ok(false)) => return Poll::Ready(None),
                Poll::Ready(Err(f)) => return Poll::Ready(Some(Err(f))),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Future for BodyWatch {
    type Output = BodyFault;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BodyFault> {
        let mut s = self.0.borrow_mut();
        loop {
            if let Some(f) = s.fault {
                return Poll::Ready(f);
            }
            if s.payload.is_none() || s.queued >= READ_AHEAD {
                // Ended, or enough ahead: the upstream body polls on from here.
                return Poll::Pending;
            }
            match s.poll_read(cx) {
                Poll::Ready(Ok(true)) => continue,
                Poll::Ready(Ok(false)) => return Poll::Pending,
                Poll::Ready(Err(f)) => return Poll::Ready(f),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
