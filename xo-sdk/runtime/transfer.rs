//! The machinery of binary transfers: progress reports, reading an
//! `AsyncRead` in chunks, the instrumented upload stream with its idle
//! watchdog, and the temporary file behind
//! [`ByteStream::save_to`](super::ByteStream::save_to). It sits below the
//! bodies (`super::body`) that are built from it and knows nothing of them.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::Stream;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::error::{CallSite, Error};

/// Size of one read of an upload source (file or `AsyncRead`), and of one
/// chunk of an in-memory upload: large enough that per-chunk costs vanish,
/// small enough that memory stays flat whatever the size of the transfer.
pub(crate) const CHUNK: usize = 256 * 1024;

/// How far a transfer has got: reported to the callbacks of
/// [`Body::on_progress`](super::Body::on_progress) and
/// [`ByteStream::on_progress`](super::ByteStream::on_progress), once per
/// chunk.
///
/// ```
/// # fn demo(p: xo_sdk::runtime::Progress) {
/// match p.fraction() {
///     Some(f) => println!("{:.1} %", f * 100.0),
///     None => println!("{} bytes", p.bytes),
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes transferred so far.
    pub bytes: u64,
    /// The total, when known (the body's length for an upload, the
    /// announced `Content-Length` for a download).
    pub total: Option<u64>,
}

impl Progress {
    /// `bytes / total`, when the total is known (1.0 for an empty body).
    pub fn fraction(&self) -> Option<f64> {
        self.total.map(|t| {
            if t == 0 {
                1.0
            } else {
                self.bytes as f64 / t as f64
            }
        })
    }
}

/// A progress callback.
pub(crate) type ProgressFn = Box<dyn FnMut(Progress) + Send>;

/// The error type of upload chunk streams (what reqwest accepts).
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A stream of upload chunks.
pub(crate) type ChunkStream = Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// Chunks of at most [`CHUNK`] bytes read from `reader`: up to `length`
/// bytes when it is given (bytes past `length` are never read; a reader
/// that ends sooner ends the stream sooner, which [`Upload`] reports), up
/// to the end of the reader otherwise.
pub(crate) fn reader_stream<R>(reader: R, length: Option<u64>) -> ChunkStream
where
    R: AsyncRead + Send + 'static,
{
    struct State<R> {
        reader: Pin<Box<R>>,
        sent: u64,
        length: Option<u64>,
    }
    let state = State {
        reader: Box::pin(reader),
        sent: 0,
        length,
    };
    Box::pin(futures::stream::try_unfold(state, |mut s| async move {
        let want = match s.length {
            Some(n) if s.sent >= n => return Ok(None),
            Some(n) => usize::try_from(n - s.sent).map_or(CHUNK, |left| left.min(CHUNK)),
            None => CHUNK,
        };
        let mut buf = BytesMut::with_capacity(want);
        // `read_buf` fills the spare capacity without initialising it;
        // `take` keeps it within the chunk (and the declared length).
        while buf.len() < want {
            let limit = (want - buf.len()) as u64;
            let n = (&mut s.reader).take(limit).read_buf(&mut buf).await?;
            if n == 0 {
                break;
            }
            if s.length.is_none() {
                // A pipe or socket: send what came, do not wait for more.
                break;
            }
        }
        if buf.is_empty() {
            return Ok(None);
        }
        s.sent += buf.len() as u64;
        Ok::<_, BoxError>(Some((buf.freeze(), s)))
    }))
}

/// Why an upload failed on this side of the connection.
pub(crate) enum LocalFailure {
    /// Reading the source failed.
    Source(io::Error),
    /// The source did not yield the length the body declared.
    Length(String),
}

impl LocalFailure {
    /// The error the call reports.
    pub(crate) fn into_error(self, site: CallSite) -> Error {
        match self {
            LocalFailure::Source(e) => Error::Io(e),
            LocalFailure::Length(reason) => Error::InvalidArgument {
                site,
                name: "body".into(),
                reason,
            },
        }
    }
}

/// What the send loop sees of one upload attempt: when the body last moved,
/// whether it is finished, and why it failed locally, if it did.
pub(crate) struct Activity {
    origin: tokio::time::Instant,
    /// Nanoseconds from `origin` to the last progress.
    last: AtomicU64,
    done: AtomicBool,
    failure: Mutex<Option<LocalFailure>>,
}

impl Activity {
    pub(crate) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            origin: tokio::time::Instant::now(),
            last: AtomicU64::new(0),
            done: AtomicBool::new(false),
            failure: Mutex::new(None),
        })
    }

    fn touch(&self) {
        let nanos = u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last.store(nanos, Ordering::Relaxed);
    }

    fn fail(&self, failure: LocalFailure) {
        if let Ok(mut slot) = self.failure.lock() {
            slot.get_or_insert(failure);
        }
    }

    /// The local failure of this attempt, if there was one.
    pub(crate) fn take_failure(&self) -> Option<LocalFailure> {
        self.failure.lock().ok().and_then(|mut slot| slot.take())
    }

    /// Resolves when the upload made no progress for `timeout` (`write
    /// idle`) or, once the body is sent, no answer came for `timeout`
    /// (`read idle`).
    pub(crate) async fn idle(&self, timeout: Duration) -> &'static str {
        loop {
            let last = self.origin + Duration::from_nanos(self.last.load(Ordering::Relaxed));
            let deadline = last + timeout;
            if tokio::time::Instant::now() >= deadline {
                return if self.done.load(Ordering::Relaxed) {
                    "read idle"
                } else {
                    "write idle"
                };
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// Where the bytes of an upload come from.
pub(crate) enum UploadSource {
    /// In memory, sent in slices of [`CHUNK`] bytes (no copy).
    Bytes { data: Bytes, pos: usize },
    /// A stream of chunks.
    Stream(ChunkStream),
}

/// The upload body of one attempt: counts the bytes, holds the source to
/// its declared length, reports progress and feeds the idle watchdog.
pub(crate) struct Upload {
    source: UploadSource,
    length: Option<u64>,
    sent: u64,
    progress: Option<Arc<Mutex<ProgressFn>>>,
    activity: Arc<Activity>,
    finished: bool,
}

impl Upload {
    pub(crate) fn new(
        source: UploadSource,
        length: Option<u64>,
        progress: Option<Arc<Mutex<ProgressFn>>>,
        activity: Arc<Activity>,
    ) -> Upload {
        activity.touch();
        Upload {
            source,
            length,
            sent: 0,
            progress,
            activity,
            finished: false,
        }
    }

    /// End the body with a local failure: recorded for the send loop,
    /// and an error for hyper, which aborts the request.
    fn fail(&mut self, failure: LocalFailure) -> Poll<Option<Result<Bytes, BoxError>>> {
        self.finished = true;
        let for_hyper = match &failure {
            LocalFailure::Source(e) => io::Error::new(e.kind(), e.to_string()),
            LocalFailure::Length(reason) => {
                io::Error::new(io::ErrorKind::InvalidInput, reason.clone())
            }
        };
        self.activity.fail(failure);
        Poll::Ready(Some(Err(Box::new(for_hyper))))
    }

    fn next_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, BoxError>>> {
        match &mut self.source {
            UploadSource::Bytes { data, pos } => {
                if *pos >= data.len() {
                    return Poll::Ready(None);
                }
                let end = data.len().min(*pos + CHUNK);
                let chunk = data.slice(*pos..end);
                *pos = end;
                Poll::Ready(Some(Ok(chunk)))
            }
            UploadSource::Stream(s) => s.as_mut().poll_next(cx),
        }
    }
}

impl Stream for Upload {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            match this.next_chunk(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    if chunk.is_empty() {
                        continue;
                    }
                    this.sent += chunk.len() as u64;
                    if let Some(n) = this.length {
                        if this.sent > n {
                            return this.fail(LocalFailure::Length(format!(
                                "the body yielded more than the {n} bytes of its declared length"
                            )));
                        }
                    }
                    if this.length == Some(this.sent) {
                        // hyper stops polling a body once it has sent its
                        // Content-Length: this is the end.
                        this.activity.done.store(true, Ordering::Relaxed);
                    }
                    this.activity.touch();
                    if let Some(progress) = &this.progress {
                        if let Ok(mut f) = progress.lock() {
                            f(Progress {
                                bytes: this.sent,
                                total: this.length,
                            });
                        }
                    }
                    return Poll::Ready(Some(Ok(chunk)));
                }
                Poll::Ready(Some(Err(e))) => {
                    let e = match e.downcast::<io::Error>() {
                        Ok(io) => *io,
                        Err(other) => io::Error::other(other),
                    };
                    return this.fail(LocalFailure::Source(e));
                }
                Poll::Ready(None) => {
                    if let Some(n) = this.length {
                        if this.sent < n {
                            let sent = this.sent;
                            return this.fail(LocalFailure::Length(format!(
                                "the body ended after {sent} of the {n} bytes of its declared length"
                            )));
                        }
                    }
                    this.finished = true;
                    this.activity.done.store(true, Ordering::Relaxed);
                    this.activity.touch();
                    return Poll::Ready(None);
                }
            }
        }
    }
}

/// A temporary file next to a destination, removed when dropped unless it
/// was renamed onto the destination.
pub(crate) struct TempFile {
    path: Option<PathBuf>,
}

impl TempFile {
    /// Create `.<name>.<random>.part` in the destination's directory; never
    /// an existing file.
    pub(crate) async fn create(dest: &Path) -> io::Result<(TempFile, tokio::fs::File)> {
        let name = dest.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} does not name a file", dest.display()),
            )
        })?;
        let name = name.to_string_lossy();
        // Room for the prefix and suffix within the usual 255-byte limit.
        let mut cut = name.len().min(200);
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        let dir = parent_dir(dest);
        loop {
            let candidate = dir.join(format!(
                ".{}.{:016x}.part",
                &name[..cut],
                super::retry::random_u64()
            ));
            match tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&candidate)
                .await
            {
                Ok(file) => {
                    return Ok((
                        TempFile {
                            path: Some(candidate),
                        },
                        file,
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Rename the (flushed and synced) file onto `dest`, then make the
    /// rename durable (best effort: a directory cannot be synced
    /// everywhere).
    pub(crate) async fn persist(mut self, dest: &Path) -> io::Result<()> {
        let Some(path) = self.path.as_ref() else {
            return Ok(());
        };
        tokio::fs::rename(path, dest).await?;
        self.path = None;
        #[cfg(unix)]
        if let Ok(dir) = tokio::fs::File::open(parent_dir(dest)).await {
            let _ = dir.sync_all().await;
        }
        Ok(())
    }

    /// Remove the file now (on an error path; `Drop` covers cancellation).
    pub(crate) async fn remove(mut self) {
        if let Some(path) = self.path.take() {
            let _ = tokio::fs::remove_file(&path).await;
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // The transfer was dropped mid-way: a quick unlink, no await
            // possible here.
            let _ = std::fs::remove_file(path);
        }
    }
}

fn parent_dir(dest: &Path) -> &Path {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn reader_stream_reads_exactly_the_declared_length_in_chunks() {
        rt().block_on(async {
            let data: Vec<u8> = (0..(CHUNK * 2 + 10)).map(|i| i as u8).collect();
            let mut s = reader_stream(std::io::Cursor::new(data.clone()), Some(CHUNK as u64 + 5));
            let mut got = Vec::new();
            let mut sizes = Vec::new();
            while let Some(c) = s.next().await {
                let c = c.unwrap();
                sizes.push(c.len());
                got.extend_from_slice(&c);
            }
            assert_eq!(sizes, vec![CHUNK, 5]);
            assert_eq!(got, data[..CHUNK + 5]);
        });
    }

    #[test]
    fn reader_stream_ends_with_a_short_reader() {
        rt().block_on(async {
            let mut s = reader_stream(std::io::Cursor::new(vec![1u8; 10]), Some(20));
            assert_eq!(s.next().await.unwrap().unwrap().len(), 10);
            assert!(s.next().await.is_none());
        });
    }

    #[test]
    fn reader_stream_without_length_reads_to_the_end() {
        rt().block_on(async {
            let s = reader_stream(std::io::Cursor::new(vec![3u8; CHUNK + 1]), None);
            let total: usize = s
                .map(|c| c.unwrap().len())
                .collect::<Vec<_>>()
                .await
                .iter()
                .sum();
            assert_eq!(total, CHUNK + 1);
        });
    }

    #[test]
    fn upload_checks_the_declared_length_both_ways() {
        rt().block_on(async {
            for (data, declared, want) in [
                (10usize, 20u64, "ended after 10 of the 20"),
                (30, 20, "more than the 20 bytes"),
            ] {
                let activity = Activity::new();
                let source = UploadSource::Bytes {
                    data: Bytes::from(vec![0u8; data]),
                    pos: 0,
                };
                let mut up = Upload::new(source, Some(declared), None, activity.clone());
                let mut err = None;
                while let Some(item) = up.next().await {
                    if let Err(e) = item {
                        err = Some(e);
                    }
                }
                assert!(err.is_some());
                match activity.take_failure() {
                    Some(LocalFailure::Length(reason)) => {
                        assert!(reason.contains(want), "{reason}")
                    }
                    _ => panic!("no length failure"),
                }
            }
        });
    }

    #[test]
    fn progress_fraction() {
        let p = Progress {
            bytes: 5,
            total: Some(10),
        };
        assert_eq!(p.fraction(), Some(0.5));
        let p = Progress {
            bytes: 0,
            total: Some(0),
        };
        assert_eq!(p.fraction(), Some(1.0));
        let p = Progress {
            bytes: 5,
            total: None,
        };
        assert_eq!(p.fraction(), None);
    }
}
