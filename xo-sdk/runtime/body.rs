//! Request bodies and response byte streams.

use bytes::Bytes;
use futures::Stream;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::error::{CallSite, Error, Result};

/// A raw request body: bytes in memory or a stream of chunks.
pub struct Body {
    inner: BodyInner,
}

enum BodyInner {
    Bytes(Bytes),
    Stream {
        body: reqwest::Body,
        length: Option<u64>,
    },
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            BodyInner::Bytes(b) => write!(f, "Body::Bytes({} bytes)", b.len()),
            BodyInner::Stream { length, .. } => write!(f, "Body::Stream(length: {length:?})"),
        }
    }
}

impl Body {
    /// A body from a stream of chunks, with its total length when known.
    pub fn from_stream<S>(stream: S, length: Option<u64>) -> Self
    where
        S: futures::TryStream + Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        Bytes: From<S::Ok>,
    {
        Body {
            inner: BodyInner::Stream {
                body: reqwest::Body::wrap_stream(stream),
                length,
            },
        }
    }

    /// The length of the body, when known.
    pub fn length(&self) -> Option<u64> {
        match &self.inner {
            BodyInner::Bytes(b) => Some(b.len() as u64),
            BodyInner::Stream { length, .. } => *length,
        }
    }

    /// Whether the body can be sent more than once (in-memory bytes can;
    /// a stream cannot, so it is never retried or redirected).
    pub fn is_replayable(&self) -> bool {
        matches!(self.inner, BodyInner::Bytes(_))
    }

    pub(crate) fn into_outgoing(self) -> OutgoingBody {
        match self.inner {
            BodyInner::Bytes(b) => OutgoingBody::Bytes(b),
            BodyInner::Stream { body, length } => OutgoingBody::Stream {
                body: Some(body),
                length,
            },
        }
    }
}

/// A request body as the send loop holds it across attempts.
pub(crate) enum OutgoingBody {
    None,
    /// Cheap to clone: resent as is on a retry or redirect.
    Bytes(Bytes),
    /// Taken by the first attempt; `None` afterwards.
    Stream {
        body: Option<reqwest::Body>,
        length: Option<u64>,
    },
}

impl OutgoingBody {
    /// Whether a further attempt can carry the body.
    pub(crate) fn can_send_again(&self) -> bool {
        match self {
            OutgoingBody::None | OutgoingBody::Bytes(_) => true,
            OutgoingBody::Stream { body, .. } => body.is_some(),
        }
    }

    /// Attach the body to one attempt. A stream goes with the first attempt
    /// only; callers check [`can_send_again`](Self::can_send_again) first.
    pub(crate) fn attach(&mut self, request: &mut reqwest::Request) {
        match self {
            OutgoingBody::None => {}
            OutgoingBody::Bytes(b) => *request.body_mut() = Some(b.clone().into()),
            OutgoingBody::Stream { body, length } => {
                if let Some(n) = length {
                    // A known length goes out as Content-Length instead of
                    // chunked encoding (XO's VDI import requires it).
                    request
                        .headers_mut()
                        .insert(reqwest::header::CONTENT_LENGTH, (*n).into());
                }
                if let Some(b) = body.take() {
                    *request.body_mut() = Some(b);
                }
            }
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body {
            inner: BodyInner::Bytes(b),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Self {
        Bytes::from(b).into()
    }
}

impl From<&'static [u8]> for Body {
    fn from(b: &'static [u8]) -> Self {
        Bytes::from_static(b).into()
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Bytes::from(s).into()
    }
}

type Chunks = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A response body as a stream of byte chunks.
///
/// A read that waits longer than the client's read timeout ends the stream
/// with [`Error::Timeout`]; so does the call's total timeout, when one was
/// set with [`CallOptions::timeout`](super::CallOptions::timeout).
pub struct ByteStream {
    chunks: Chunks,
    content_length: Option<u64>,
    site: CallSite,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    timeout_label: &'static str,
    done: bool,
}

impl std::fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteStream")
            .field("tool", &self.site.tool)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

impl ByteStream {
    pub(crate) fn from_response(
        resp: reqwest::Response,
        site: CallSite,
        deadline: Option<tokio::time::Instant>,
        timeout_label: &'static str,
    ) -> Self {
        ByteStream {
            content_length: resp.content_length(),
            chunks: Box::pin(resp.bytes_stream()),
            site,
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d))),
            timeout_label,
            done: false,
        }
    }

    /// The length the server announced, if it sent one.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// Where the stream comes from (tool, method, path template).
    pub fn site(&self) -> &CallSite {
        &self.site
    }

    /// Decode the body as newline-delimited JSON, one `T` per line, with
    /// memory bounded by the longest line.
    pub fn ndjson<T: serde::de::DeserializeOwned>(self) -> super::ndjson::NdjsonStream<T> {
        super::ndjson::NdjsonStream::new(self)
    }

    /// Collect the whole body as UTF-8 text. Only for small bodies.
    pub async fn text(self) -> Result<String> {
        let site = self.site.clone();
        let bytes = self.collect().await?;
        String::from_utf8(bytes.to_vec()).map_err(|e| Error::Decode {
            site,
            reason: format!("the body is not UTF-8: {e}"),
            excerpt: super::wire::excerpt(e.as_bytes()),
        })
    }

    /// Collect the whole body in memory. Only for small bodies.
    pub async fn collect(mut self) -> Result<Bytes> {
        use futures::StreamExt;
        let mut buf = Vec::new();
        while let Some(chunk) = self.next().await {
            buf.extend_from_slice(&chunk?);
        }
        Ok(Bytes::from(buf))
    }
}

impl Stream for ByteStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(deadline) = self.deadline.as_mut() {
            if deadline.as_mut().poll(cx).is_ready() {
                self.done = true;
                return Poll::Ready(Some(Err(Error::Timeout {
                    site: self.site.clone(),
                    what: "total",
                })));
            }
        }
        match self.chunks.as_mut().poll_next(cx) {
            Poll::Ready(Some(Err(e))) => {
                // One error ends the stream: the connection is gone.
                self.done = true;
                let label = self.timeout_label;
                Poll::Ready(Some(Err(super::request::transport(
                    self.site.clone(),
                    e,
                    label,
                ))))
            }
            Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(b))),
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
