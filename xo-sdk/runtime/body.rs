//! Request bodies and response byte streams (and the `AsyncRead` view of
//! a stream, [`ByteStreamReader`]).
//!
//! Both sides of a binary transfer run in constant memory, whatever its
//! size: an upload is read and sent in chunks of 256 KiB, a download is
//! handed over chunk by chunk as it arrives. Neither has a total timeout
//! unless [`CallOptions::timeout`](super::CallOptions::timeout) asks for
//! one; the client's read-idle timeout applies (see
//! [`ClientBuilder::read_timeout`](super::ClientBuilder::read_timeout)).
//! Dropping the call's future, or the [`ByteStream`], closes the
//! connection and stops the transfer.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures::{Stream, StreamExt, TryStreamExt};
use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::error::{CallSite, Error, Result};
use super::transfer::{
    self, Activity, ChunkStream, Progress, ProgressFn, TempFile, Upload, UploadSource,
};

/// Default cap on an answer read into memory: 256 MiB.
///
/// The largest answers a big Xen Orchestra gives are whole collections with
/// every field (`fields=*`). A VM object of xo-sim is 1.9 KiB of JSON (at
/// most 2.0 KiB), of a real XO a few KiB, up to some 20 KiB with many
/// snapshots, disks and `xenStoreData`: 10,000 VMs make 20 to 200 MiB. The
/// cap leaves room for that and stops a broken or hostile answer long
/// before it can exhaust memory. Beyond it, read collections as streams.
/// See [`ClientBuilder::max_answer_size`](super::ClientBuilder::max_answer_size).
pub const DEFAULT_MAX_ANSWER_SIZE: u64 = 256 << 20;

/// A raw request body (uploads, imports): bytes in memory, a file, an
/// [`AsyncRead`] or a stream of chunks. Nothing but in-memory bytes is
/// ever held whole: sources are read in chunks of 256 KiB as the
/// connection takes them.
///
/// # Length
///
/// A body goes out with a `Content-Length`, which many servers require
/// (Xen Orchestra answers a VDI import without one with a 500, after
/// the upload). A body whose length is unknown is refused before anything
/// is sent ([`Error::InvalidArgument`] on `body`) unless the caller chose
/// chunked transfer encoding explicitly: with
/// [`from_stream(stream, None)`](Body::from_stream),
/// [`from_reader_chunked`](Body::from_reader_chunked) or
/// [`allow_chunked`](Body::allow_chunked). The only source whose length
/// can be unknown without that choice is a file that is not a regular file
/// (a pipe, `/dev/stdin`, a process substitution): see
/// [`from_file`](Body::from_file).
///
/// A source that yields fewer or more bytes than the declared length fails
/// the call ([`Error::InvalidArgument`]) and the request is aborted, so
/// the server never takes a short body for a whole one.
///
/// # Retries and redirects
///
/// Only in-memory bodies can be sent twice; a body read from a file, a
/// reader or a stream is never retried or redirected.
///
/// ```no_run
/// # async fn demo(client: xo_sdk::Client, sr: xo_sdk::types::SrId) -> xo_sdk::Result<()> {
/// use xo_sdk::prelude::*;
/// let body = Body::from_file("disk.vhd")
///     .await?
///     .on_progress(|p| eprintln!("{} of {:?} bytes sent", p.bytes, p.total));
/// let vdi: VdiId = client.srs().import_vdi(&sr, body).name_label("restored").send().await?;
/// # Ok(())
/// # }
/// ```
pub struct Body {
    source: Source,
    length: Option<u64>,
    /// The caller accepts chunked encoding when the length is unknown.
    chunked_ok: bool,
    progress: Option<Arc<Mutex<ProgressFn>>>,
    /// The file name of [`Body::from_file`]'s path: the default file name
    /// of a multipart file part.
    file_name: Option<String>,
}

/// The content of a body taken apart (a multipart file part).
pub(crate) enum Content {
    Bytes(Bytes),
    Stream(ChunkStream),
}

enum Source {
    Bytes(Bytes),
    /// In a mutex only so that `Body` is `Sync`; taken out, never locked,
    /// when the request is sent.
    Stream(Mutex<ChunkStream>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.source {
            Source::Bytes(_) => "Bytes",
            Source::Stream(_) => "Stream",
        };
        f.debug_struct("Body")
            .field("source", &kind)
            .field("length", &self.length)
            .field("chunked_ok", &self.chunked_ok)
            .field("progress", &self.progress.is_some())
            .field("file_name", &self.file_name)
            .finish()
    }
}

impl Body {
    fn streamed(stream: ChunkStream, length: Option<u64>, chunked_ok: bool) -> Body {
        Body {
            source: Source::Stream(Mutex::new(stream)),
            length,
            chunked_ok,
            progress: None,
            file_name: None,
        }
    }

    /// A body read from the file at `path`, in chunks, as it is sent.
    ///
    /// The length of a regular file comes from its metadata and goes out as
    /// `Content-Length`; exactly that many bytes are sent (a file that
    /// shrinks meanwhile fails the call). Any other file (a pipe, a
    /// character device, `/dev/stdin`) has no known length: sending it
    /// fails with [`Error::InvalidArgument`] before anything is sent,
    /// unless you call [`allow_chunked`](Body::allow_chunked) (or give the
    /// length with [`from_reader`](Body::from_reader)).
    ///
    /// Fails with [`Error::Io`] when the file cannot be opened.
    ///
    /// ```no_run
    /// # async fn demo(client: xo_sdk::Client, pool: xo_sdk::types::PoolId) -> xo_sdk::Result<()> {
    /// use xo_sdk::prelude::*;
    /// let body = Body::from_file("/backups/web.xva").await?;
    /// let vm: VmId = client.pools().import_vm(&pool, body).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn from_file(path: impl AsRef<Path>) -> Result<Body> {
        let path = path.as_ref();
        let with_path = |e: std::io::Error| {
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        };
        let file = tokio::fs::File::open(path).await.map_err(with_path)?;
        // The metadata of the open file, not of the path: no race with a
        // rename in between.
        let meta = file.metadata().await.map_err(with_path)?;
        let length = meta.is_file().then_some(meta.len());
        let mut body = Body::streamed(transfer::reader_stream(file, length), length, false);
        body.file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        Ok(body)
    }

    /// A body read from `reader`, in chunks, as it is sent: exactly
    /// `length` bytes, announced as `Content-Length`. A reader that ends
    /// sooner fails the call; bytes past `length` are never read.
    ///
    /// ```no_run
    /// # async fn demo(client: xo_sdk::Client, vdi: xo_sdk::types::VdiId) -> xo_sdk::Result<()> {
    /// use xo_sdk::prelude::*;
    /// # use tokio::io::AsyncReadExt;
    /// // 1 GiB of zeros as a raw disk.
    /// let size = 1 << 30;
    /// let body = Body::from_reader(tokio::io::repeat(0).take(size), size);
    /// client.vdis().import(&vdi, VdiFormat::Raw, body).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_reader<R>(reader: R, length: u64) -> Body
    where
        R: AsyncRead + Send + 'static,
    {
        Body::streamed(
            transfer::reader_stream(reader, Some(length)),
            Some(length),
            false,
        )
    }

    /// A body read from `reader` to its end, of unknown length: sent with
    /// chunked transfer encoding (no `Content-Length`). Xen Orchestra
    /// refuses that for VDI imports (HTTP 500); give the length with
    /// [`from_reader`](Body::from_reader) whenever you know it.
    pub fn from_reader_chunked<R>(reader: R) -> Body
    where
        R: AsyncRead + Send + 'static,
    {
        Body::streamed(transfer::reader_stream(reader, None), None, true)
    }

    /// A body from a stream of chunks, with its total length when known.
    ///
    /// `Some(length)` is announced as `Content-Length`, and the stream must
    /// yield exactly that many bytes. `None` is the explicit choice of
    /// chunked transfer encoding: Xen Orchestra refuses that for VDI
    /// imports (HTTP 500).
    pub fn from_stream<S>(stream: S, length: Option<u64>) -> Self
    where
        S: futures::TryStream + Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        Bytes: From<S::Ok>,
    {
        let stream = stream.into_stream().map_ok(Bytes::from).map_err(Into::into);
        Body::streamed(Box::pin(stream), length, length.is_none())
    }

    /// Accept chunked transfer encoding (no `Content-Length`) if the length
    /// of this body is unknown, instead of failing the call. No effect on
    /// a body of known length.
    pub fn allow_chunked(mut self) -> Body {
        self.chunked_ok = true;
        self
    }

    /// Call `f` each time a chunk of the body is handed to the connection,
    /// with the bytes sent so far and the body's length. Runs on the
    /// connection's task: keep it cheap (update a counter, a progress bar).
    /// An in-memory body sent again by a retry counts from zero again.
    pub fn on_progress(mut self, f: impl FnMut(Progress) + Send + 'static) -> Body {
        self.progress = Some(Arc::new(Mutex::new(Box::new(f))));
        self
    }

    /// The length of the body, when known.
    pub fn length(&self) -> Option<u64> {
        self.length
    }

    /// Whether the body can be sent more than once (in-memory bytes can;
    /// a stream cannot, so it is never retried or redirected).
    pub fn is_replayable(&self) -> bool {
        matches!(self.source, Source::Bytes(_))
    }

    /// Why this body cannot be sent as it is, if it cannot.
    pub(crate) fn length_problem(&self) -> Option<&'static str> {
        (self.length.is_none() && !self.chunked_ok).then_some(
            "the length of the body is unknown, and the request would go out without a \
             Content-Length, which many servers refuse (Xen Orchestra answers 500 to a VDI \
             import without one); give the length (Body::from_reader) or accept chunked \
             encoding (Body::allow_chunked)",
        )
    }

    /// The file name of the path it was read from ([`Body::from_file`]).
    pub(crate) fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// The content, length and progress callback, for a body sent inside
    /// another one (a multipart file part).
    pub(crate) fn into_content(self) -> (Content, Option<u64>, Option<Arc<Mutex<ProgressFn>>>) {
        let content = match self.source {
            Source::Bytes(b) => Content::Bytes(b),
            Source::Stream(s) => Content::Stream(s.into_inner().unwrap_or_else(|e| e.into_inner())),
        };
        (content, self.length, self.progress)
    }

    pub(crate) fn into_outgoing(self) -> OutgoingBody {
        let source = match self.source {
            Source::Bytes(b) => RawSource::Bytes(b),
            Source::Stream(s) => {
                RawSource::Stream(Some(s.into_inner().unwrap_or_else(|e| e.into_inner())))
            }
        };
        OutgoingBody::Raw {
            source,
            length: self.length,
            progress: self.progress,
        }
    }
}

/// A request body as the send loop holds it across attempts.
pub(crate) enum OutgoingBody {
    None,
    /// A JSON body. Cheap to clone: resent as is on a retry or redirect.
    Bytes(Bytes),
    /// A raw body (an upload), sent through [`Upload`] so that its
    /// progress is seen.
    Raw {
        source: RawSource,
        length: Option<u64>,
        progress: Option<Arc<Mutex<ProgressFn>>>,
    },
}

pub(crate) enum RawSource {
    /// Resent from the start by every attempt.
    Bytes(Bytes),
    /// Taken by the first attempt; `None` afterwards.
    Stream(Option<ChunkStream>),
}

impl OutgoingBody {
    /// Whether a further attempt can carry the body.
    pub(crate) fn can_send_again(&self) -> bool {
        match self {
            OutgoingBody::None | OutgoingBody::Bytes(_) => true,
            OutgoingBody::Raw { source, .. } => match source {
                RawSource::Bytes(_) => true,
                RawSource::Stream(s) => s.is_some(),
            },
        }
    }

    /// Attach the body to one attempt. A stream goes with the first attempt
    /// only; callers check [`can_send_again`](Self::can_send_again) first.
    /// For an upload, returns what the send loop watches of it.
    pub(crate) fn attach(&mut self, request: &mut reqwest::Request) -> Option<Arc<Activity>> {
        match self {
            OutgoingBody::None => None,
            OutgoingBody::Bytes(b) => {
                *request.body_mut() = Some(b.clone().into());
                None
            }
            OutgoingBody::Raw {
                source,
                length,
                progress,
            } => {
                let source = match source {
                    RawSource::Bytes(b) => UploadSource::Bytes {
                        data: b.clone(),
                        pos: 0,
                    },
                    RawSource::Stream(s) => UploadSource::Stream(s.take()?),
                };
                if let Some(n) = length {
                    // A known length goes out as Content-Length instead of
                    // chunked encoding (XO's VDI import requires it).
                    request
                        .headers_mut()
                        .insert(reqwest::header::CONTENT_LENGTH, (*n).into());
                }
                let activity = Activity::new();
                let upload = Upload::new(source, *length, progress.clone(), activity.clone());
                *request.body_mut() = Some(reqwest::Body::wrap_stream(upload));
                Some(activity)
            }
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body {
            length: Some(b.len() as u64),
            source: Source::Bytes(b),
            chunked_ok: false,
            progress: None,
            file_name: None,
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

/// The timers a download may have, boxed together: most have none (the
/// read-idle timeout is reqwest's), and a `ByteStream` stays small.
struct Timers {
    /// The call's total timeout.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The read-idle timer the runtime runs itself (the answer to an
    /// upload, sent without reqwest's read timeout).
    idle: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
}

impl Timers {
    /// Whether the total timeout has elapsed.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline
            .as_mut()
            .is_some_and(|d| d.as_mut().poll(cx).is_ready())
    }

    /// Whether the read-idle timeout has elapsed.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> bool {
        self.idle
            .as_mut()
            .is_some_and(|(_, t)| t.as_mut().poll(cx).is_ready())
    }

    /// A chunk arrived: the idle wait starts again.
    fn reset_idle(&mut self) {
        if let Some((timeout, t)) = self.idle.as_mut() {
            t.as_mut().reset(tokio::time::Instant::now() + *timeout);
        }
    }
}

/// A response body as a stream of byte chunks (binary exports, logs), in
/// constant memory whatever its size.
///
/// Read it as a [`Stream`] of [`Bytes`], as an
/// [`AsyncRead`](Self::into_async_read), copy it to a writer
/// ([`write_to`](Self::write_to)) or into a file
/// ([`save_to`](Self::save_to), which never leaves a partial file).
///
/// A read that waits longer than the client's read timeout ends the stream
/// with [`Error::Timeout`]; so does the call's total timeout, when one was
/// set with [`CallOptions::timeout`](super::CallOptions::timeout). A body
/// shorter than its announced `Content-Length` ends with an error, never
/// with a quiet end of stream (HTTP/1.1 and HTTP/2 report it as a broken
/// connection, [`Error::Transport`]). Without a `Content-Length` (XO sends
/// none with exports) the chunked encoding still tells a complete body
/// from a cut one. Dropping the stream closes the connection.
///
/// ```no_run
/// # async fn demo(client: xo_sdk::Client, vm: xo_sdk::types::VmId) -> xo_sdk::Result<()> {
/// let bytes = client
///     .vms()
///     .export(&vm, xo_sdk::types::VmExportFormat::Xva)
///     .send()
///     .await?
///     .on_progress(|p| eprintln!("{} bytes", p.bytes))
///     .save_to("/backups/web.xva")
///     .await?;
/// # Ok(())
/// # }
/// ```
pub struct ByteStream {
    chunks: Chunks,
    content_length: Option<u64>,
    received: u64,
    site: CallSite,
    timers: Option<Box<Timers>>,
    timeout_label: &'static str,
    progress: Option<Box<ProgressFn>>,
    /// The answer size cap of the call, for [`collect`](Self::collect) and
    /// [`text`](Self::text) (streaming has no cap).
    max_collect: u64,
    done: bool,
}

impl std::fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteStream")
            .field("tool", &self.site.tool)
            .field("content_length", &self.content_length)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl ByteStream {
    pub(crate) fn from_response(
        resp: reqwest::Response,
        site: CallSite,
        deadline: Option<tokio::time::Instant>,
        timeout_label: &'static str,
        idle: Option<Duration>,
    ) -> Self {
        ByteStream {
            content_length: resp.content_length(),
            received: 0,
            chunks: Box::pin(resp.bytes_stream()),
            site,
            timers: (deadline.is_some() || idle.is_some()).then(|| {
                Box::new(Timers {
                    deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d))),
                    idle: idle.map(|t| (t, Box::pin(tokio::time::sleep(t)))),
                })
            }),
            timeout_label,
            progress: None,
            max_collect: DEFAULT_MAX_ANSWER_SIZE,
            done: false,
        }
    }

    /// The answer size cap of [`collect`](Self::collect) and
    /// [`text`](Self::text) (the call's).
    pub(crate) fn with_max_collect(mut self, cap: u64) -> Self {
        self.max_collect = cap;
        self
    }

    /// The length the server announced, if it sent one (Xen Orchestra
    /// usually does not for exports).
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// Bytes received so far.
    pub fn bytes_received(&self) -> u64 {
        self.received
    }

    /// Where the stream comes from (tool, method, path template).
    pub fn site(&self) -> &CallSite {
        &self.site
    }

    /// Call `f` after each chunk received, with the bytes received so far
    /// and the announced length, if any. Runs on the reading task: keep it
    /// cheap.
    ///
    /// ```no_run
    /// # async fn demo(stream: xo_sdk::ByteStream) -> xo_sdk::Result<()> {
    /// let n = stream
    ///     .on_progress(|p| match p.total {
    ///         Some(t) => eprintln!("{}/{t}", p.bytes),
    ///         None => eprintln!("{}", p.bytes),
    ///     })
    ///     .write_to(tokio::io::sink())
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn on_progress(mut self, f: impl FnMut(Progress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(Box::new(f)));
        self
    }

    /// The body as a [`tokio::io::AsyncRead`] (and `AsyncBufRead`), for
    /// code that reads bytes rather than chunks (decompressors, parsers,
    /// `tokio::io::copy`).
    ///
    /// ```no_run
    /// # async fn demo(client: xo_sdk::Client, host: xo_sdk::types::HostId) -> Result<(), Box<dyn std::error::Error>> {
    /// use tokio::io::AsyncBufReadExt;
    /// let log = client.hosts().get_audit_log(&host).send().await?;
    /// let mut lines = log.into_async_read().lines();
    /// while let Some(line) = lines.next_line().await? {
    ///     println!("{line}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_async_read(self) -> ByteStreamReader {
        ByteStreamReader::new(self)
    }

    /// Copy the whole body into `writer` (then flush it) and return the
    /// number of bytes. Fails with the stream's error, or [`Error::Io`]
    /// when writing fails; the writer then holds a partial body.
    ///
    /// ```no_run
    /// # async fn demo(stream: xo_sdk::ByteStream) -> xo_sdk::Result<()> {
    /// let mut stdout = tokio::io::stdout();
    /// stream.write_to(&mut stdout).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn write_to<W>(mut self, mut writer: W) -> Result<u64>
    where
        W: AsyncWrite + Unpin,
    {
        let mut written = 0u64;
        while let Some(chunk) = self.next().await {
            let chunk = chunk?;
            writer.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        writer.flush().await?;
        Ok(written)
    }

    /// Save the whole body to the file at `path` and return the number of
    /// bytes.
    ///
    /// The body goes to a temporary file in the same directory
    /// (`.<name>.<random>.part`), which is flushed, synced to disk and
    /// renamed onto `path` only when the whole body has arrived. If the
    /// transfer fails (a broken connection, a body shorter than its
    /// `Content-Length`, a timeout, a full disk) or the future is dropped,
    /// the temporary file is removed and `path` is left as it was: absent,
    /// or the previous file. An existing file at `path` is replaced
    /// atomically on success.
    pub async fn save_to(self, path: impl AsRef<Path>) -> Result<u64> {
        let dest = path.as_ref();
        // File errors name the destination; the stream's errors are its own.
        let with_path = |e: std::io::Error| {
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("saving to {}: {e}", dest.display()),
            ))
        };
        let (temp, file) = TempFile::create(dest).await.map_err(with_path)?;
        let file = file.into_std().await;
        // The disk is written by one blocking thread fed through a bounded
        // channel, so that reading the network and writing the disk overlap
        // and each chunk is copied once (into a large buffer): tokio's
        // `fs::File` sends every write to the blocking pool in turn, which
        // measured at about 0.64x the speed of `curl -o`.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(SAVE_QUEUE);
        let writer = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            use std::io::Write as _;
            let mut file = file;
            while let Some(block) = rx.blocking_recv() {
                file.write_all(&block)?;
            }
            Ok(file)
        });
        let mut stream = self;
        let received: Result<u64> = async {
            // Chunks off the network are small (tens of KiB): gathered into
            // blocks of SAVE_BUFFER, one hand-over and one write each.
            let mut block = bytes::BytesMut::with_capacity(SAVE_BUFFER);
            let mut n = 0u64;
            loop {
                let chunk = match stream.next().await {
                    Some(chunk) => Some(chunk?),
                    None => None,
                };
                if let Some(chunk) = &chunk {
                    n += chunk.len() as u64;
                    block.extend_from_slice(chunk);
                }
                let full = block.len() >= SAVE_BUFFER;
                if (full || chunk.is_none()) && !block.is_empty() {
                    let out = block.split().freeze();
                    block.reserve(SAVE_BUFFER);
                    if tx.send(out).await.is_err() {
                        // The writer stopped on an error: reported below.
                        break;
                    }
                }
                if chunk.is_none() {
                    break;
                }
            }
            Ok(n)
        }
        .await;
        drop(tx);
        let written = match writer.await {
            Ok(w) => w.map_err(with_path),
            Err(join) => Err(Error::Io(std::io::Error::other(format!(
                "saving to {}: the writer stopped: {join}",
                dest.display()
            )))),
        };
        let result = match (received, written) {
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(e),
            (Ok(n), Ok(file)) => tokio::task::spawn_blocking(move || file.sync_all())
                .await
                .map_err(|join| std::io::Error::other(join.to_string()))
                .and_then(|r| r)
                .map_err(with_path)
                .map(|()| n),
        };
        match result {
            Ok(n) => {
                temp.persist(dest).await.map_err(with_path)?;
                Ok(n)
            }
            Err(e) => {
                temp.remove().await;
                Err(e)
            }
        }
    }

    /// Collect the whole body as UTF-8 text. Only for small bodies: the
    /// call's answer size cap applies, as to [`collect`](Self::collect).
    pub async fn text(self) -> Result<String> {
        let site = self.site.clone();
        let bytes = self.collect().await?;
        String::from_utf8(Vec::from(bytes)).map_err(|e| Error::Decode {
            site,
            reason: format!("the body is not UTF-8: {}", e.utf8_error()),
            excerpt: super::wire::excerpt(e.as_bytes()),
        })
    }

    /// Collect the whole body in memory. Only for small bodies: a body
    /// larger than the call's answer size cap
    /// ([`ClientBuilder::max_answer_size`](super::ClientBuilder::max_answer_size),
    /// [`CallOptions::max_answer_size`](super::CallOptions::max_answer_size))
    /// fails with [`Error::AnswerTooLarge`] as soon as it is known to be:
    /// from its `Content-Length`, or when the bytes received pass the cap.
    pub async fn collect(mut self) -> Result<Bytes> {
        let limit = self.max_collect;
        let too_large = |site: &CallSite, declared| Error::AnswerTooLarge {
            site: site.clone(),
            limit,
            declared,
        };
        if let Some(n) = self.content_length.filter(|&n| n > limit) {
            return Err(too_large(&self.site, Some(n)));
        }
        let mut buf = Vec::with_capacity(initial_capacity(self.content_length, limit));
        while let Some(chunk) = self.next().await {
            let chunk = chunk?;
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(too_large(&self.site, self.content_length));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    }

    fn end_with(&mut self, e: Error) -> Poll<Option<Result<Bytes>>> {
        self.done = true;
        Poll::Ready(Some(Err(e)))
    }
}

/// The capacity to reserve for a buffered answer: its announced length
/// (already checked against the cap), at most 64 MiB up front, since the
/// announcement may be a lie and the rest arrives in large chunks anyway.
pub(crate) fn initial_capacity(content_length: Option<u64>, limit: u64) -> usize {
    const MAX_RESERVE: u64 = 64 << 20;
    usize::try_from(content_length.unwrap_or(0).min(limit).min(MAX_RESERVE)).unwrap_or(0)
}

/// Write buffer of [`ByteStream::save_to`]: network chunks are often small,
/// and every write to a `tokio::fs::File` is a trip to the blocking pool.
const SAVE_BUFFER: usize = 1 << 20;

/// Blocks of [`SAVE_BUFFER`] queued for the disk writer of
/// [`ByteStream::save_to`]: 4 MiB in flight at the most.
const SAVE_QUEUE: usize = 4;

impl Stream for ByteStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(timers) = this.timers.as_mut() {
            if timers.poll_deadline(cx) {
                let site = this.site.clone();
                return this.end_with(Error::Timeout {
                    site,
                    what: "total",
                });
            }
        }
        match this.chunks.as_mut().poll_next(cx) {
            Poll::Ready(Some(Err(e))) => {
                // One error ends the stream: the connection is gone.
                let e = Error::from_reqwest(this.site.clone(), e, this.timeout_label);
                this.end_with(e)
            }
            Poll::Ready(Some(Ok(b))) => {
                this.received += b.len() as u64;
                if let Some(timers) = this.timers.as_mut() {
                    timers.reset_idle();
                }
                if let Some(f) = this.progress.as_mut() {
                    f(Progress {
                        bytes: this.received,
                        total: this.content_length,
                    });
                }
                Poll::Ready(Some(Ok(b)))
            }
            Poll::Ready(None) => {
                if let Some(n) = this.content_length {
                    // hyper reports a cut body as an error first; this is
                    // the last line of defence.
                    if this.received != n {
                        let reason = format!(
                            "the body ended after {} of the {n} bytes announced by Content-Length",
                            this.received
                        );
                        let site = this.site.clone();
                        return this.end_with(Error::Decode {
                            site,
                            reason,
                            excerpt: String::new(),
                        });
                    }
                }
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                if let Some(timers) = this.timers.as_mut() {
                    if timers.poll_idle(cx) {
                        let site = this.site.clone();
                        let what = this.timeout_label;
                        return this.end_with(Error::Timeout { site, what });
                    }
                }
                Poll::Pending
            }
        }
    }
}

/// A download as a [`tokio::io::AsyncRead`] (and [`AsyncBufRead`]), from
/// [`ByteStream::into_async_read`](ByteStream::into_async_read).
///
/// Errors of the stream come out as [`io::Error`]s that wrap the SDK's
/// [`Error`] (get it back with `io::Error::into_inner` and `downcast`); a
/// timeout has the kind [`io::ErrorKind::TimedOut`].
pub struct ByteStreamReader {
    stream: ByteStream,
    chunk: Bytes,
    done: bool,
}

impl std::fmt::Debug for ByteStreamReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteStreamReader")
            .field("stream", &self.stream)
            .field("buffered", &self.chunk.len())
            .finish()
    }
}

impl ByteStreamReader {
    pub(crate) fn new(stream: ByteStream) -> Self {
        ByteStreamReader {
            stream,
            chunk: Bytes::new(),
            done: false,
        }
    }

    /// Make sure a chunk is buffered, unless the stream has ended.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.chunk.is_empty() && !self.done {
            match Pin::new(&mut self.stream).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(c))) => self.chunk = c,
                Poll::Ready(Some(Err(e))) => {
                    self.done = true;
                    return Poll::Ready(Err(to_io_error(e)));
                }
                Poll::Ready(None) => self.done = true,
            }
        }
        Poll::Ready(Ok(()))
    }
}

fn to_io_error(e: Error) -> io::Error {
    match e {
        Error::Io(io) => io,
        e @ Error::Timeout { .. } => io::Error::new(io::ErrorKind::TimedOut, e),
        e => io::Error::other(e),
    }
}

impl AsyncRead for ByteStreamReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.poll_fill(cx) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        let n = this.chunk.len().min(buf.remaining());
        buf.put_slice(&this.chunk[..n]);
        this.chunk.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for ByteStreamReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        match this.poll_fill(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(&this.chunk[..])),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        let n = amt.min(self.chunk.len());
        self.chunk.advance(n);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_stream_stays_small() {
        // It is embedded in every NDJSON stream; rarely used parts are boxed.
        let size = std::mem::size_of::<super::ByteStream>();
        assert!(size <= 128, "ByteStream is {size} bytes");
    }
}
