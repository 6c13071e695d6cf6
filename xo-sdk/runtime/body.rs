//! Request bodies and response byte streams.

use bytes::Bytes;
use futures::Stream;
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

    pub(crate) fn apply(self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.inner {
            BodyInner::Bytes(b) => rb.body(b),
            BodyInner::Stream { body, length } => {
                let rb = match length {
                    Some(n) => rb.header(reqwest::header::CONTENT_LENGTH, n),
                    None => rb,
                };
                rb.body(body)
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
pub struct ByteStream {
    chunks: Chunks,
    content_length: Option<u64>,
    site: CallSite,
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
    pub(crate) fn from_response(resp: reqwest::Response, site: CallSite) -> Self {
        ByteStream {
            content_length: resp.content_length(),
            chunks: Box::pin(resp.bytes_stream()),
            site,
        }
    }

    /// The length the server announced, if it sent one.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
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
        match self.chunks.as_mut().poll_next(cx) {
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::Transport {
                site: self.site.clone(),
                source: e,
            }))),
            Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(b))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
