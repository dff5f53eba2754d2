//! The two body types of the proxy: what it sends upstream (the client's body,
//! counted against the size limit) and what it answers (a buffer or the upstream's
//! streamed body). Enums rather than boxed trait objects: no allocation per request.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

/// The body of a response of the gateway.
pub enum GwBody {
    Full(Option<Bytes>),
    Stream(Incoming),
}

impl GwBody {
    pub fn full(b: impl Into<Bytes>) -> GwBody {
        GwBody::Full(Some(b.into()))
    }
}

impl Body for GwBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            GwBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            GwBody::Stream(s) => Pin::new(s).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            GwBody::Full(b) => b.is_none(),
            GwBody::Stream(s) => s.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            GwBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            GwBody::Full(None) => SizeHint::with_exact(0),
            GwBody::Stream(s) => s.size_hint(),
        }
    }
}

/// The request body sent upstream: the client's body, refused once it exceeds the limit.
pub struct UpstreamBody {
    inner: Option<Incoming>,
    remaining: u64,
    /// Set once the client's body has been read to its end (absent when it was
    /// empty from the start): until then the client connection cannot be reused.
    finished: Option<Arc<AtomicBool>>,
}

impl UpstreamBody {
    pub fn empty() -> UpstreamBody {
        UpstreamBody {
            inner: None,
            remaining: 0,
            finished: None,
        }
    }

    /// The client's body, at most `limit` bytes of it; with the flag that says
    /// when it was read to its end (`None`: it has no body to read).
    pub fn limited(inner: Incoming, limit: u64) -> (UpstreamBody, Option<Arc<AtomicBool>>) {
        let finished = (!inner.is_end_stream()).then(|| Arc::new(AtomicBool::new(false)));
        let body = UpstreamBody {
            inner: Some(inner),
            remaining: limit,
            finished: finished.clone(),
        };
        (body, finished)
    }

    fn mark_finished(&self) {
        if let Some(f) = &self.finished {
            f.store(true, Ordering::Release);
        }
    }
}

/// Why the upstream request body failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamBodyError {
    #[error("request body exceeds the size limit")]
    TooLarge,
    #[error("reading the request body: {0}")]
    Client(#[from] hyper::Error),
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = UpstreamBodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, UpstreamBodyError>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.len() as u64;
                    if n > this.remaining {
                        this.inner = None;
                        return Poll::Ready(Some(Err(UpstreamBodyError::TooLarge)));
                    }
                    this.remaining -= n;
                }
                if this.inner.as_ref().is_some_and(|b| b.is_end_stream()) {
                    this.mark_finished();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.inner = None;
                Poll::Ready(Some(Err(e.into())))
            }
            Poll::Ready(None) => {
                this.mark_finished();
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), |b| b.size_hint())
    }
}
