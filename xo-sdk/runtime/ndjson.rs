//! Newline-delimited JSON (`application/x-ndjson`) decoding over a
//! [`ByteStream`], one value per line, in bounded memory.
//!
//! Complete lines are decoded straight from the network chunk; only the
//! unfinished tail of a chunk is copied, so memory is bounded by the longest
//! line, never by the body.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::Stream;
use serde::de::DeserializeOwned;

use super::body::ByteStream;
use super::error::{Error, Result};
use super::wire;

/// Longest accepted line (64 MiB): a bigger one is a broken stream, not data.
pub const MAX_LINE: usize = 64 << 20;

/// A stream of values decoded from NDJSON lines. Empty lines are skipped.
///
/// Lines are decoded one per poll, straight from the network chunk, so a
/// value is moved once (to the caller) and never queued.
pub struct NdjsonStream<T> {
    body: ByteStream,
    /// The chunk being decoded and the start of its next line.
    chunk: Bytes,
    pos: usize,
    /// The unfinished last line of earlier chunks.
    partial: BytesMut,
    finished: bool,
    _item: PhantomData<fn() -> T>,
}

// The NDJSON view of a byte stream is defined here, with the decoder, so
// that the byte stream knows nothing of the formats read from it.
impl ByteStream {
    /// Decode the body as newline-delimited JSON, one `T` per line, with
    /// memory bounded by the longest line.
    pub fn ndjson<T: DeserializeOwned>(self) -> NdjsonStream<T> {
        NdjsonStream::new(self)
    }
}

impl<T> std::fmt::Debug for NdjsonStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NdjsonStream")
            .field("body", &self.body)
            .field(
                "buffered",
                &(self.partial.len() + self.chunk.len() - self.pos),
            )
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> NdjsonStream<T> {
    pub(crate) fn new(body: ByteStream) -> Self {
        NdjsonStream {
            body,
            chunk: Bytes::new(),
            pos: 0,
            partial: BytesMut::new(),
            finished: false,
            _item: PhantomData,
        }
    }

    fn decode(&self, line: &[u8]) -> Option<Result<T>> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        Some(serde_json::from_slice(line).map_err(|e| Error::Decode {
            site: self.body.site().clone(),
            // serde_json quotes the offending value, which can be huge.
            reason: wire::bound(format!("NDJSON line: {e}")),
            excerpt: wire::excerpt(line),
        }))
    }

    /// The next complete line of the buffered data, decoded, if any.
    fn next_buffered(&mut self) -> Option<Result<T>> {
        loop {
            let rest = &self.chunk[self.pos..];
            let newline = rest.iter().position(|&b| b == b'\n')?;
            let decoded = if self.partial.is_empty() {
                self.decode(&rest[..newline])
            } else {
                // The line began in an earlier chunk.
                self.partial.extend_from_slice(&rest[..newline]);
                let line = std::mem::take(&mut self.partial);
                self.decode(&line)
            };
            self.pos += newline + 1;
            if decoded.is_some() {
                return decoded;
            }
        }
    }

    /// Keep the unfinished tail of the current chunk for the next one.
    fn keep_tail(&mut self) -> Result<()> {
        self.partial.extend_from_slice(&self.chunk[self.pos..]);
        self.chunk = Bytes::new();
        self.pos = 0;
        if self.partial.len() > MAX_LINE {
            return Err(Error::Decode {
                site: self.body.site().clone(),
                reason: format!("NDJSON line longer than {MAX_LINE} bytes"),
                excerpt: wire::excerpt(&self.partial),
            });
        }
        Ok(())
    }
}

// Decoded values are only ever moved out, never pinned: the stream is Unpin
// whatever `T` is.
impl<T> Unpin for NdjsonStream<T> {}

impl<T: DeserializeOwned> Stream for NdjsonStream<T> {
    type Item = Result<T>;

    #[inline]
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(v) = self.next_buffered() {
                return Poll::Ready(Some(v));
            }
            if self.finished {
                return Poll::Ready(None);
            }
            if let Err(e) = self.keep_tail() {
                self.finished = true;
                return Poll::Ready(Some(Err(e)));
            }
            match Pin::new(&mut self.body).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => self.chunk = chunk,
                Poll::Ready(Some(Err(e))) => {
                    self.finished = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    self.finished = true;
                    // A last line without a final newline.
                    let tail = std::mem::take(&mut self.partial);
                    if let Some(v) = self.decode(&tail) {
                        return Poll::Ready(Some(v));
                    }
                }
            }
        }
    }
}
