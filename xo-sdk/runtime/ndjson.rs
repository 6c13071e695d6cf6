//! Newline-delimited JSON (`application/x-ndjson`) decoding over a
//! [`ByteStream`], one value per line, in bounded memory.
//!
//! Complete lines are decoded straight from the network chunk; only the
//! unfinished tail of a chunk is copied, so memory is bounded by the longest
//! line, never by the body.

use std::collections::VecDeque;
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
pub struct NdjsonStream<T> {
    body: ByteStream,
    /// The unfinished last line of earlier chunks.
    partial: BytesMut,
    /// Decoded values not handed out yet (from one chunk).
    ready: VecDeque<Result<T>>,
    finished: bool,
    _item: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for NdjsonStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NdjsonStream")
            .field("body", &self.body)
            .field("buffered", &self.partial.len())
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> NdjsonStream<T> {
    pub(crate) fn new(body: ByteStream) -> Self {
        NdjsonStream {
            body,
            partial: BytesMut::new(),
            ready: VecDeque::new(),
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
            reason: format!("NDJSON line: {e}"),
            excerpt: wire::excerpt(line),
        }))
    }

    fn take_chunk(&mut self, chunk: Bytes) -> Result<()> {
        let mut rest: &[u8] = &chunk;
        // Finish the line started in an earlier chunk.
        if !self.partial.is_empty() {
            match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.partial.extend_from_slice(&rest[..i]);
                    let line = std::mem::take(&mut self.partial);
                    if let Some(v) = self.decode(&line) {
                        self.ready.push_back(v);
                    }
                    rest = &rest[i + 1..];
                }
                None => {
                    self.partial.extend_from_slice(rest);
                    return self.check_partial();
                }
            }
        }
        // Whole lines, decoded in place.
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            if let Some(v) = self.decode(&rest[..i]) {
                self.ready.push_back(v);
            }
            rest = &rest[i + 1..];
        }
        self.partial.extend_from_slice(rest);
        self.check_partial()
    }

    fn check_partial(&self) -> Result<()> {
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

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(v) = self.ready.pop_front() {
                return Poll::Ready(Some(v));
            }
            if self.finished {
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.body).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    if let Err(e) = self.take_chunk(chunk) {
                        self.finished = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
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
