//! The middleware: the server answers its client, Prism checks a copy.

use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, BodyDataStream, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::{Stream, StreamExt};
use tokio::sync::oneshot;

use super::{
    BINARY_CAP, CHECK_TIMEOUT, Counters, Job, Meta, PrismStats, TAPPED, TEXT_CAP, Validator, lock,
};

/// One server's link to the process's Prism checker (see [`tap_from_env`]):
/// wraps the server's router and counts the findings of its exchanges.
///
/// [`tap_from_env`]: crate::tap_from_env
pub struct Tap {
    validator: Arc<Validator>,
    origin: Arc<str>,
    counters: Arc<Counters>,
    injected: Arc<Mutex<Vec<String>>>,
}

impl Tap {
    /// `origin` names the exchanges' source in the report (the test).
    pub(crate) fn new(validator: Arc<Validator>, origin: String) -> Arc<Tap> {
        Arc::new(Tap {
            validator,
            origin: origin.into(),
            counters: Arc::default(),
            injected: Arc::default(),
        })
    }

    /// Wraps a router: every exchange it serves from now on is checked.
    /// The router's own answers reach its clients unchanged (see the
    /// crate's documentation for when they wait for the check).
    pub fn layer(self: &Arc<Self>, app: Router) -> Router {
        app.layer(axum::middleware::from_fn_with_state(self.clone(), tap))
    }

    /// Notes an object the test put in the server itself: findings it
    /// causes in answers are counted apart (see [`PrismStats::injected`]).
    pub fn injected(&self, id: &str) {
        let mut ids = lock(&self.injected);
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }

    /// Counters of this tap's exchanges so far. Answers with a known length
    /// are counted before the client gets them; streamed ones when they end.
    pub fn stats(&self) -> PrismStats {
        self.counters.stats()
    }
}

fn is_binary(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let ct = ct.trim().to_ascii_lowercase();
            !(ct.starts_with("text/")
                || ct.starts_with("application/json")
                || ct.contains("+json")
                || ct.starts_with("application/x-ndjson")
                || ct.starts_with("application/x-www-form-urlencoded"))
        })
        .unwrap_or(false)
}

pub(super) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let ct = ct.trim().to_ascii_lowercase();
            ct.starts_with("application/json") || ct.contains("+json")
        })
        .unwrap_or(false)
}

/// A request body as the simulator read it.
#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    total: u64,
    ended: bool,
    cap: usize,
    /// Read by the check after the simulator answered without reading it.
    early: bool,
}

enum ReqBody {
    Whole(Bytes),
    Tee(Arc<Mutex<Captured>>),
}

impl ReqBody {
    fn take(&self, notes: &mut Vec<String>) -> Bytes {
        match self {
            ReqBody::Whole(b) => b.clone(),
            ReqBody::Tee(c) => {
                let c = lock(c);
                if c.early {
                    notes.push(format!(
                        "request body: the simulator answered before reading it; checked on its first {} bytes",
                        c.bytes.len()
                    ));
                } else if !c.ended && c.total > 0 {
                    notes.push(format!(
                        "request body: the simulator answered after reading {} bytes",
                        c.total
                    ));
                } else if c.total as usize > c.bytes.len() {
                    notes.push(format!(
                        "request body checked on its first {} of {} bytes",
                        c.bytes.len(),
                        c.total
                    ));
                }
                Bytes::copy_from_slice(&c.bytes)
            }
        }
    }
}

/// Copies what the simulator reads of a request body. Dropped before the
/// body's end, it leaves the rest in `unread` for the check.
struct TeeRequest {
    inner: Option<BodyDataStream>,
    captured: Arc<Mutex<Captured>>,
    unread: Arc<Mutex<Option<BodyDataStream>>>,
}

impl Stream for TeeRequest {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let item = ready!(Pin::new(inner).poll_next(cx));
        let mut c = lock(&self.captured);
        match &item {
            Some(Ok(d)) => c.keep(d),
            None => c.ended = true,
            Some(Err(_)) => {}
        }
        drop(c);
        Poll::Ready(item)
    }
}

impl Drop for TeeRequest {
    fn drop(&mut self) {
        if !lock(&self.captured).ended {
            *lock(&self.unread) = self.inner.take();
        }
    }
}

impl Captured {
    fn keep(&mut self, d: &[u8]) {
        self.total += d.len() as u64;
        let room = self.cap.saturating_sub(self.bytes.len());
        self.bytes.extend_from_slice(&d[..d.len().min(room)]);
    }
}

/// Whether a request announces a body.
fn announces_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

/// The middleware: the simulator answers, Prism checks.
async fn tap(State(tap): State<Arc<Tap>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let meta = Meta {
        origin: tap.origin.clone(),
        counters: tap.counters.clone(),
        method: parts.method.clone(),
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| parts.uri.path().to_string()),
        headers: parts.headers.clone(),
        injected: tap.injected.clone(),
    };
    TAPPED.fetch_add(1, Ordering::SeqCst);
    let mut unanswered = Unanswered(Some((tap.clone(), meta.clone())));
    let binary = is_binary(&parts.headers);
    let exact = body.size_hint().exact();
    let announced = announces_body(&parts.headers);
    let unread = Arc::new(Mutex::new(None::<BodyDataStream>));
    let (body, req_body) = match exact {
        // A JSON (or text) body of a known length is read before the
        // simulator sees it, as Prism would.
        Some(n) if !binary && n as usize <= TEXT_CAP => {
            match axum::body::to_bytes(body, TEXT_CAP).await {
                Ok(b) => (Body::from(b.clone()), ReqBody::Whole(b)),
                Err(e) => {
                    let why = format!("request body failed: {e}");
                    let resp = next
                        .run(Request::from_parts(parts, failing_body(why.clone())))
                        .await;
                    unanswered.0 = None;
                    tap.validator
                        .unchecked(&meta, Some(resp.status()), "left", &why);
                    return resp;
                }
            }
        }
        _ => {
            let captured = Arc::new(Mutex::new(Captured {
                cap: if binary { BINARY_CAP } else { TEXT_CAP },
                ..Captured::default()
            }));
            let tee = TeeRequest {
                inner: Some(body.into_data_stream()),
                captured: captured.clone(),
                unread: unread.clone(),
            };
            (Body::from_stream(tee), ReqBody::Tee(captured))
        }
    };
    let resp = next.run(Request::from_parts(parts, body)).await;
    unanswered.0 = None;
    if let ReqBody::Tee(c) = &req_body {
        // The simulator answered before reading a body (XO refuses some
        // uploads at once): Prism, a proxy, would have read it. Its first
        // chunk is enough for the document's `string`/`binary` schemas.
        let rest = lock(&unread).take();
        if let Some(mut rest) = rest.filter(|_| announced && lock(c).total == 0) {
            if let Ok(Some(Ok(chunk))) =
                tokio::time::timeout(Duration::from_secs(1), rest.next()).await
            {
                let mut c = lock(c);
                c.keep(&chunk);
                c.early = true;
            }
        }
    }
    let (rparts, rbody) = resp.into_parts();
    if rbody.size_hint().exact().is_some() {
        // In memory already: checked before the client sees it.
        match axum::body::to_bytes(rbody, usize::MAX).await {
            Ok(bytes) => {
                let (tx, rx) = oneshot::channel();
                let mut notes = Vec::new();
                let req_bytes = req_body.take(&mut notes);
                tap.validator.submit(Job {
                    meta,
                    req_body: req_bytes,
                    status: rparts.status,
                    resp_headers: rparts.headers.clone(),
                    resp_body: bytes.clone(),
                    notes,
                    done: Some(tx),
                });
                let _ = tokio::time::timeout(CHECK_TIMEOUT + Duration::from_secs(5), rx).await;
                Response::from_parts(rparts, Body::from(bytes))
            }
            Err(e) => {
                let why = format!("answer body failed: {e}");
                tap.validator
                    .unchecked(&meta, Some(rparts.status), "broken", &why);
                Response::from_parts(rparts, failing_body(why))
            }
        }
    } else {
        let cap = if is_binary(&rparts.headers) {
            BINARY_CAP
        } else {
            TEXT_CAP
        };
        let json = is_json(&rparts.headers);
        let tee = TeeResponse {
            inner: rbody.into_data_stream(),
            cap,
            json,
            buf: Vec::new(),
            total: 0,
            pending: Some(Pending {
                tap: tap.clone(),
                meta,
                req_body,
                status: rparts.status,
                headers: rparts.headers.clone(),
            }),
            hold: None,
        };
        Response::from_parts(rparts, Body::from_stream(tee))
    }
}

/// Records a request whose client left before the simulator answered it
/// (the middleware's future is dropped): there is no answer to check.
struct Unanswered(Option<(Arc<Tap>, Meta)>);

impl Drop for Unanswered {
    fn drop(&mut self) {
        if let Some((tap, meta)) = self.0.take() {
            tap.validator.unchecked(
                &meta,
                None,
                "left",
                "the client left before the simulator answered",
            );
        }
    }
}

fn failing_body(why: String) -> Body {
    Body::from_stream(futures::stream::once(async move {
        Err::<Bytes, io::Error>(io::Error::other(why))
    }))
}

/// What a streamed answer's check needs once the stream is over.
struct Pending {
    tap: Arc<Tap>,
    meta: Meta,
    req_body: ReqBody,
    status: StatusCode,
    headers: HeaderMap,
}

/// Passes a streamed answer through, keeping (a prefix of) it for the check.
struct TeeResponse {
    inner: BodyDataStream,
    cap: usize,
    json: bool,
    buf: Vec<u8>,
    total: u64,
    pending: Option<Pending>,
    /// The end of the stream is held until Prism has checked it.
    hold: Option<oneshot::Receiver<()>>,
}

impl TeeResponse {
    /// Submits the check; `left` when the client went away mid-answer.
    fn finish(&mut self, left: bool) -> Option<oneshot::Receiver<()>> {
        let p = self.pending.take()?;
        let mut notes = Vec::new();
        let req_body = p.req_body.take(&mut notes);
        if left {
            if self.json {
                p.tap.validator.unchecked(
                    &p.meta,
                    Some(p.status),
                    "left",
                    &format!(
                        "the client left after {} bytes of a JSON answer",
                        self.total
                    ),
                );
                return None;
            }
            notes.push(format!(
                "streamed answer: the client left after {} bytes",
                self.total
            ));
        }
        if self.total as usize > self.buf.len() {
            notes.push(format!(
                "answer body checked on its first {} of {} bytes",
                self.buf.len(),
                self.total
            ));
        }
        let (tx, rx) = oneshot::channel();
        p.tap.validator.submit(Job {
            meta: p.meta,
            req_body,
            status: p.status,
            resp_headers: p.headers,
            resp_body: Bytes::from(std::mem::take(&mut self.buf)),
            notes,
            done: Some(tx),
        });
        Some(rx)
    }
}

impl Stream for TeeResponse {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(rx) = this.hold.as_mut() {
                let _ = ready!(Pin::new(rx).poll(cx));
                this.hold = None;
                return Poll::Ready(None);
            }
            if this.pending.is_none() {
                return Pin::new(&mut this.inner).poll_next(cx);
            }
            match ready!(Pin::new(&mut this.inner).poll_next(cx)) {
                Some(Ok(d)) => {
                    this.total += d.len() as u64;
                    let room = this.cap.saturating_sub(this.buf.len());
                    this.buf.extend_from_slice(&d[..d.len().min(room)]);
                    return Poll::Ready(Some(Ok(d)));
                }
                Some(Err(e)) => {
                    if let Some(p) = this.pending.take() {
                        p.tap.validator.unchecked(
                            &p.meta,
                            Some(p.status),
                            "broken",
                            &format!(
                                "the simulator broke the answer after {} bytes: {e}",
                                this.total
                            ),
                        );
                    }
                    return Poll::Ready(Some(Err(e)));
                }
                None => match this.finish(false) {
                    Some(rx) => this.hold = Some(rx),
                    None => return Poll::Ready(None),
                },
            }
        }
    }
}

impl Drop for TeeResponse {
    fn drop(&mut self) {
        if self.pending.is_some() {
            let _ = self.finish(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn content_types() {
        let mut h = HeaderMap::new();
        assert!(!is_binary(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        assert!(is_binary(&h));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(!is_binary(&h));
        assert!(is_json(&h));
        assert!(!announces_body(&h));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("3"));
        assert!(announces_body(&h));
    }
}
