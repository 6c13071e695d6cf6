//! The transport: the connection a client holds (HTTP clients, base URL,
//! credentials in wire form, limits) and the send loop of one call (the
//! attempts, same-origin redirects, retries, the read-idle watchdog of
//! uploads, the total timeout), down to a successful answer or an [`Error`].
//!
//! It sends what the request layer prepared ([`Prepared`]) and knows
//! nothing of how a request is built.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use tracing::{Instrument, field};

use super::body::{OutgoingBody, initial_capacity};
use super::error::{ApiError, CallSite, Error, Result, default_code_for_status};
use super::retry::{self, Failure, RetryConfig};
use super::spec::{ApiSpec, OperationSpec};
use super::wire;

/// The `User-Agent` the SDK sends: `xo-sdk/VERSION`.
///
/// A caller-supplied `reqwest::Client` keeps its own user agent; set this
/// one on it (`reqwest::ClientBuilder::user_agent`) to identify the SDK.
pub const USER_AGENT: &str = concat!("xo-sdk/", env!("CARGO_PKG_VERSION"));

/// A secret string that never shows itself in `Debug` output (and has no
/// `Display`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Only the runtime should call this, when it builds a
    /// request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How the client authenticates.
#[derive(Clone, Debug)]
pub(crate) enum Credentials {
    None,
    Token(Secret),
    Basic { user: String, password: Secret },
}

/// Credentials in their wire form, computed once per client.
#[derive(Clone)]
pub(crate) enum WireAuth {
    None,
    /// A header; its value is marked sensitive so that reqwest and hyper
    /// never print it.
    Header(HeaderName, HeaderValue),
    /// A query parameter carrying the token.
    Query(&'static str, Secret),
}

pub(crate) struct ClientInner {
    pub(crate) http: reqwest::Client,
    /// Base URL without trailing slash, e.g. `https://xo.example.com/rest/v0`.
    pub(crate) base_url: reqwest::Url,
    pub(crate) api: &'static ApiSpec,
    pub(crate) credentials: Credentials,
    pub(crate) auth: WireAuth,
    pub(crate) retry: RetryConfig,
    /// How reqwest timeouts are labelled in [`Error::Timeout`]: our own
    /// client only has connect and read-idle timeouts, a caller-supplied
    /// one may have anything.
    pub(crate) timeout_label: &'static str,
    /// The read-idle timeout the runtime enforces itself on requests with a
    /// raw body (see [`ClientInner::transfer_http`]); `None` for a
    /// caller-supplied client, whose own settings apply.
    pub(crate) idle_timeout: Option<Duration>,
    /// The largest answer read into memory (see
    /// [`ClientBuilder::max_answer_size`](super::ClientBuilder::max_answer_size)).
    pub(crate) max_answer_size: u64,
    pub(crate) transfer: TransferHttp,
}

/// The HTTP client of requests with a raw body (uploads).
///
/// reqwest's read timeout runs from the moment a request is sent until its
/// answer's head arrives: it would end any upload that lasts longer than
/// the timeout, however fast the bytes flow. Uploads therefore go through a
/// second client without it, built on first use with the same settings,
/// and the runtime enforces the idle timeout itself (no upload progress,
/// then no answer, for that long).
pub(crate) enum TransferHttp {
    /// A caller-supplied client: used for uploads too.
    Same,
    /// Built from the recipe on first use.
    Lazy {
        recipe: HttpRecipe,
        client: OnceLock<std::result::Result<reqwest::Client, String>>,
    },
}

/// What it takes to build the SDK's own `reqwest::Client`.
pub(crate) struct HttpRecipe {
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) root_pems: Vec<Vec<u8>>,
    pub(crate) accept_invalid_certs: bool,
}

impl HttpRecipe {
    pub(crate) fn build(&self, read_timeout: Option<Duration>) -> Result<reqwest::Client> {
        let mut b = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            // Redirects are followed by the send loop, which keeps them
            // same-origin and re-sends the body and credentials itself.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(t) = self.connect_timeout {
            b = b.connect_timeout(t);
        }
        if let Some(t) = read_timeout {
            b = b.read_timeout(t);
        }
        b = configure_tls(b, &self.root_pems, self.accept_invalid_certs)?;
        b.build()
            .map_err(|e| Error::Config(format!("cannot build HTTP client: {e}")))
    }
}

impl ClientInner {
    /// The client for requests with a raw body: without reqwest's read
    /// timeout (see [`TransferHttp`]).
    pub(crate) fn transfer_http(&self) -> Result<&reqwest::Client> {
        match &self.transfer {
            TransferHttp::Same => Ok(&self.http),
            TransferHttp::Lazy { recipe, client } => client
                .get_or_init(|| recipe.build(None).map_err(|e| e.to_string()))
                .as_ref()
                .map_err(|e| Error::Config(e.clone())),
        }
    }
}

/// An API client: cheap to clone (one `Arc`), `Send + Sync`.
///
/// Build one with [`Client::builder`](crate::Client::builder) (or
/// [`Client::builder_for`] for another API description).
// Defined here, the handle on a transport, so that a request can hold its
// client; the runtime's methods of `Client` are all in `client.rs`, the XO
// layer's in `xo/client.rs`.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
pub(crate) fn configure_tls(
    b: reqwest::ClientBuilder,
    pems: &[Vec<u8>],
    accept_invalid_certs: bool,
) -> Result<reqwest::ClientBuilder> {
    let mut roots = Vec::new();
    for pem in pems {
        roots.extend(super::tls::parse_pem_certificates(pem)?);
    }
    let config = super::tls::client_config(roots, accept_invalid_certs)?;
    Ok(b.tls_backend_preconfigured(config))
}

#[cfg(feature = "native-tls")]
pub(crate) fn configure_tls(
    mut b: reqwest::ClientBuilder,
    pems: &[Vec<u8>],
    accept_invalid_certs: bool,
) -> Result<reqwest::ClientBuilder> {
    for pem in pems {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::Config(format!("invalid PEM certificate: {e}")))?;
        if certs.is_empty() {
            return Err(Error::Config("no certificate found in the PEM data".into()));
        }
        b = b.tls_certs_merge(certs);
    }
    if accept_invalid_certs {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    Ok(b)
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
pub(crate) fn configure_tls(
    b: reqwest::ClientBuilder,
    pems: &[Vec<u8>],
    accept_invalid_certs: bool,
) -> Result<reqwest::ClientBuilder> {
    if !pems.is_empty() || accept_invalid_certs {
        return Err(Error::Config(
            "TLS settings given, but xo-sdk was built without the `rustls` or `native-tls` feature"
                .into(),
        ));
    }
    Ok(b)
}

/// Most redirects followed by one call (XO needs one, for `/users/me`).
const MAX_REDIRECTS: u32 = 5;

/// Most bytes of an error body read into memory: enough for any real error
/// document, and a misbehaving proxy cannot make the client buffer a
/// gigabyte just to report a 502.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// One call in its wire form, as the request layer prepared it: everything
/// that can be checked was checked before a byte is sent.
pub(crate) struct Prepared {
    pub(crate) method: reqwest::Method,
    pub(crate) url: reqwest::Url,
    /// The first attempt's headers; later attempts rebuild them.
    pub(crate) headers: Option<HeaderMap>,
    /// The caller's own headers, kept to rebuild a later attempt's.
    pub(crate) extra_headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: OutgoingBody,
    pub(crate) content_type: Option<HeaderValue>,
    /// One key per logical call, reused by every attempt.
    pub(crate) idempotency_key: Option<HeaderValue>,
}

impl Prepared {
    /// The headers of one attempt. Built again for a retry or redirect
    /// rather than cloned for every call: most calls make one attempt.
    pub(crate) fn build_headers(
        &self,
        spec: &OperationSpec,
        site: &CallSite,
        auth: &WireAuth,
    ) -> Result<HeaderMap> {
        let invalid = |name: &str, reason: &str| Error::InvalidArgument {
            site: site.clone(),
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        let mut headers = HeaderMap::with_capacity(8);
        for (name, value) in spec.default_headers {
            // The body kind decides Content-Type; the DADL default is JSON.
            if name.eq_ignore_ascii_case("content-type") {
                continue;
            }
            let (Ok(n), Some(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                static_header_value(value),
            ) else {
                return Err(invalid(
                    name,
                    "invalid default header in the API description",
                ));
            };
            headers.insert(n, v);
        }
        for (name, value) in &self.extra_headers {
            headers.insert(name.clone(), value.clone());
        }
        if let (Some(idem), Some(key)) = (spec.idempotency, &self.idempotency_key) {
            let name = HeaderName::from_bytes(idem.header.as_bytes())
                .map_err(|_| invalid(idem.header, "invalid idempotency header name"))?;
            headers.insert(name, key.clone());
        }
        // Credentials last, so that no caller header can replace them or
        // add a second mechanism next to them.
        if let WireAuth::Header(name, value) = auth {
            headers.remove(header::AUTHORIZATION);
            headers.remove(header::COOKIE);
            headers.insert(name.clone(), value.clone());
        }
        if let Some(ct) = &self.content_type {
            headers.insert(header::CONTENT_TYPE, ct.clone());
        }
        Ok(headers)
    }
}

/// A header value from static text without copying it, if it is valid.
pub(crate) fn static_header_value(value: &'static str) -> Option<HeaderValue> {
    // `from_static` panics on invalid input; check first (the text comes
    // from generated tables, but a bad DADL must not crash the caller).
    let valid = value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
    valid.then(|| HeaderValue::from_static(value))
}

/// What the caller wants of a successful answer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// The body, read in full inside the retry loop and the total timeout.
    Body,
    /// The body with the status and headers.
    Full,
    /// The response left as a stream for the caller.
    Stream,
}

/// A successful answer.
pub(crate) enum Reply {
    Bytes(Bytes),
    Full {
        status: u16,
        headers: HeaderMap,
        body: Bytes,
    },
    /// The response, and the read-idle timeout the runtime must enforce
    /// on its body itself (the answer to an upload).
    Stream(reqwest::Response, Option<Duration>),
}

/// One call as the send loop sees it: where it goes and under which rules.
pub(crate) struct Call<'a> {
    pub(crate) inner: &'a ClientInner,
    pub(crate) spec: &'static OperationSpec,
    pub(crate) site: CallSite,
    /// The retry rules of this call (its own, else the client's).
    pub(crate) retry: RetryConfig,
    pub(crate) want: Want,
    /// The answer size cap of this call.
    pub(crate) max_answer_size: u64,
    /// The total timeout of this call, if it has one.
    pub(crate) timeout: Option<Duration>,
}

/// Send a prepared call (with redirects and retries) under the call's span
/// and total timeout. The deadline is returned with the answer: a streamed
/// answer stays under it.
pub(crate) async fn send(
    call: Call<'_>,
    prepared: Prepared,
) -> Result<(Reply, Option<tokio::time::Instant>)> {
    let spec = call.spec;
    // Only names and templates: ids in the path and query may be
    // sensitive, and for query-token APIs the URL holds the token.
    let span = tracing::debug_span!(
        "api_call",
        tool = spec.tool,
        method = spec.method.as_str(),
        path = spec.path,
        status = field::Empty,
        attempt = field::Empty,
        elapsed_ms = field::Empty,
    );
    let started = Instant::now();
    let deadline = call.timeout.map(|t| tokio::time::Instant::now() + t);
    let work = send_loop(&call, prepared, &span);
    let result = match deadline {
        Some(d) => match tokio::time::timeout_at(d, work)
            .instrument(span.clone())
            .await
        {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                site: call.site.clone(),
                what: "total",
            }),
        },
        None => work.instrument(span.clone()).await,
    };
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    span.record("elapsed_ms", elapsed_ms);
    match &result {
        Ok(_) => tracing::debug!(parent: &span, elapsed_ms, "call succeeded"),
        Err(e) => tracing::debug!(parent: &span, elapsed_ms, error = %e, "call failed"),
    }
    result.map(|reply| (reply, deadline))
}

/// How one attempt ended, when it did not end the call with an error.
enum Attempt {
    /// A successful answer.
    Done(Reply),
    /// A same-origin redirect to follow: `Prepared::url` is its target.
    Redirected,
    /// A failure, retried if the rules allow, with the pause the server
    /// asked for.
    Failed(Failure, Error, Option<Duration>),
}

/// Send attempts until one succeeds, fails for good, or the retry budget is
/// spent. Redirects do not use the retry budget; they have their own limit.
async fn send_loop(call: &Call<'_>, mut p: Prepared, span: &tracing::Span) -> Result<Reply> {
    let (spec, retry) = (call.spec, &call.retry);
    let max_retries = retry.retries_for(spec.errors);
    let mut retries = 0u32;
    let mut redirects = 0u32;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        span.record("attempt", attempt);
        let (failure, err, retry_after) =
            match send_once(call, &mut p, attempt, &mut redirects, span).await? {
                Attempt::Done(reply) => return Ok(reply),
                Attempt::Redirected => continue,
                Attempt::Failed(failure, err, retry_after) => (failure, err, retry_after),
            };
        if retries >= max_retries
            || !retry::is_retryable(
                retry,
                spec,
                p.idempotency_key.is_some(),
                failure,
                retry_after.is_some(),
            )
            || !p.body.can_send_again()
        {
            return Err(err);
        }
        let delay = match retry_after {
            // The server wants a longer pause than we are willing to sit
            // through: let the caller decide (the error carries the value).
            Some(d) if d > retry.max_retry_after_value() => return Err(err),
            Some(d) => d,
            None => retry.backoff(spec.errors, retries + 1),
        };
        retries += 1;
        tracing::debug!(
            attempt,
            retry = retries,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            error = %err,
            "retrying"
        );
        tokio::time::sleep(delay).await;
    }
}

/// One attempt: send the request and sort out the answer.
async fn send_once(
    call: &Call<'_>,
    p: &mut Prepared,
    attempt: u32,
    redirects: &mut u32,
    span: &tracing::Span,
) -> Result<Attempt> {
    let (inner, site) = (call.inner, &call.site);
    let headers = match p.headers.take() {
        Some(h) => h,
        None => p.build_headers(call.spec, site, &inner.auth)?,
    };
    let mut request = reqwest::Request::new(p.method.clone(), p.url.clone());
    *request.headers_mut() = headers;
    // An upload goes through the transfer client, under the runtime's
    // own idle watchdog (see `ClientInner::transfer_http`).
    let upload = p.body.attach(&mut request);
    let (http, idle) = match &upload {
        Some(_) => (inner.transfer_http()?, inner.idle_timeout),
        None => (&inner.http, None),
    };
    let outcome = match (&upload, idle) {
        (Some(activity), Some(t)) => {
            let exec = std::pin::pin!(http.execute(request));
            let watchdog = std::pin::pin!(activity.idle(t));
            match futures::future::select(exec, watchdog).await {
                futures::future::Either::Left((r, _)) => r,
                // A timeout is never retried.
                futures::future::Either::Right((what, _)) => {
                    return Err(Error::Timeout {
                        site: site.clone(),
                        what,
                    });
                }
            }
        }
        _ => http.execute(request).await,
    };
    match outcome {
        Err(e) => {
            if let Some(local) = upload.as_ref().and_then(|a| a.take_failure()) {
                // The body's own source failed (or did not match its
                // length): that, not the aborted request, is the error.
                return Err(local.into_error(site.clone()));
            }
            let failure = classify(&e);
            tracing::debug!(attempt, ?failure, "request failed");
            let err = Error::from_reqwest(site.clone(), e, inner.timeout_label);
            Ok(Attempt::Failed(failure, err, None))
        }
        Ok(resp) => answer(call, p, resp, idle, attempt, redirects, span).await,
    }
}

/// What an answer means: a redirect to follow, a success, or an error
/// status.
async fn answer(
    call: &Call<'_>,
    p: &mut Prepared,
    resp: reqwest::Response,
    idle: Option<Duration>,
    attempt: u32,
    redirects: &mut u32,
    span: &tracing::Span,
) -> Result<Attempt> {
    let site = &call.site;
    let status = resp.status().as_u16();
    span.record("status", status);
    tracing::debug!(attempt, status, "response");
    if matches!(status, 307 | 308) {
        let redirect_err = |reason| Error::Redirect {
            site: site.clone(),
            status,
            reason,
        };
        *redirects += 1;
        if *redirects > MAX_REDIRECTS {
            return Err(redirect_err("too many redirects"));
        }
        if !p.body.can_send_again() {
            return Err(redirect_err(
                "a streaming request body cannot be sent twice",
            ));
        }
        p.url = redirect_target(&p.url, &resp, &call.inner.auth).map_err(redirect_err)?;
        tracing::debug!(attempt, status, "following same-origin redirect");
        return Ok(Attempt::Redirected);
    }
    if status < 300 {
        return success(call, resp, status, idle, attempt).await;
    }
    let retry_after = retry_after_of(&resp, call.spec);
    let err = api_error(resp, site.clone(), call.spec, retry_after, idle).await;
    Ok(Attempt::Failed(Failure::Status(status), err, retry_after))
}

/// A successful answer, read whole unless the caller wants a stream.
async fn success(
    call: &Call<'_>,
    resp: reqwest::Response,
    status: u16,
    idle: Option<Duration>,
    attempt: u32,
) -> Result<Attempt> {
    let site = &call.site;
    let label = call.inner.timeout_label;
    let kept = match call.want {
        Want::Stream => return Ok(Attempt::Done(Reply::Stream(resp, idle))),
        Want::Full => Some(resp.headers().clone()),
        Want::Body => None,
    };
    let cap = call.max_answer_size;
    match read_body(resp, idle, label, cap).await {
        Ok(body) => Ok(Attempt::Done(match kept {
            Some(headers) => Reply::Full {
                status,
                headers,
                body,
            },
            None => Reply::Bytes(body),
        })),
        Err(BodyError::Transport(e)) => {
            // The server answered, so it has processed the request: this is
            // never `NotSent`.
            let failure = match classify(&e) {
                Failure::NotSent => Failure::Broken,
                f => f,
            };
            tracing::debug!(attempt, ?failure, "reading the answer failed");
            let err = Error::from_reqwest(site.clone(), e, label);
            Ok(Attempt::Failed(failure, err, None))
        }
        Err(BodyError::Idle(what)) => Err(Error::Timeout {
            site: site.clone(),
            what,
        }),
        // Never retried: the same answer would come again.
        Err(BodyError::TooLarge { declared }) => Err(Error::AnswerTooLarge {
            site: site.clone(),
            limit: cap,
            declared,
        }),
    }
}

/// Classify a reqwest error for the retry rules.
fn classify(e: &reqwest::Error) -> Failure {
    if e.is_builder() || e.is_redirect() || is_tls_rejection(e) {
        Failure::Permanent
    } else if e.is_connect() {
        // A connect timeout is a connect error too: nothing was sent.
        Failure::NotSent
    } else if e.is_timeout() {
        Failure::Timeout
    } else {
        Failure::Broken
    }
}

/// Whether the TLS handshake rejected the server (unknown CA, wrong name,
/// expired certificate): asking again gets the same answer, so retrying
/// would only delay the error a user most needs to see (self-signed
/// appliances). rustls reports it as an `InvalidData` I/O error; other TLS
/// stacks are recognised by their message.
fn is_tls_rejection(e: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::InvalidData {
                return true;
            }
        }
        if err.to_string().to_ascii_lowercase().contains("certificate") {
            return true;
        }
        cur = err.source();
    }
    false
}

/// The target of a 307/308, if it may be followed: same origin (scheme, host
/// and port) as the URL that was redirected. Credentials are re-attached by
/// the send loop, so they never reach another origin.
fn redirect_target(
    current: &reqwest::Url,
    resp: &reqwest::Response,
    auth: &WireAuth,
) -> std::result::Result<reqwest::Url, &'static str> {
    let location = resp
        .headers()
        .get(header::LOCATION)
        .ok_or("no Location header")?
        .to_str()
        .map_err(|_| "Location is not valid text")?;
    let mut target = current
        .join(location)
        .map_err(|_| "Location is not a valid URL")?;
    if target.origin() != current.origin() {
        return Err("cross-origin target");
    }
    target.set_fragment(None);
    if let WireAuth::Query(param, token) = auth {
        if !target.query_pairs().any(|(k, _)| k == *param) {
            let extra = wire::encode_query(&[(param, token.expose().to_owned())]);
            let q = match target.query() {
                Some(q) if !q.is_empty() => format!("{q}&{extra}"),
                _ => extra,
            };
            target.set_query(Some(&q));
        }
    }
    Ok(target)
}

/// The pause the server asked for, from `Retry-After` or the policy's own
/// header.
fn retry_after_of(resp: &reqwest::Response, spec: &OperationSpec) -> Option<Duration> {
    let name = spec.errors.retry_after_header.unwrap_or("retry-after");
    let value = resp
        .headers()
        .get(name)
        .or_else(|| resp.headers().get(header::RETRY_AFTER))?;
    retry::parse_retry_after(value.to_str().ok()?, SystemTime::now())
}

/// Why reading a successful answer failed.
enum BodyError {
    Transport(reqwest::Error),
    /// The runtime's own read-idle timeout (answers to uploads).
    Idle(&'static str),
    /// The answer is larger than the cap (with its `Content-Length`).
    TooLarge {
        declared: Option<u64>,
    },
}

/// One chunk of an answer, under the runtime's read-idle timeout when it
/// enforces one itself (answers to uploads; otherwise reqwest's applies).
async fn next_chunk(
    resp: &mut reqwest::Response,
    idle: Option<Duration>,
    label: &'static str,
) -> std::result::Result<Option<Bytes>, BodyError> {
    match idle {
        None => resp.chunk().await.map_err(BodyError::Transport),
        Some(t) => match tokio::time::timeout(t, resp.chunk()).await {
            Ok(r) => r.map_err(BodyError::Transport),
            Err(_) => Err(BodyError::Idle(label)),
        },
    }
}

/// Read a whole (successful) answer of at most `cap` bytes: an announced
/// length over the cap is refused before reading, and reading stops at the
/// first chunk that would pass it (the response is dropped, which closes
/// the connection). Memory: the cap plus one network chunk.
async fn read_body(
    mut resp: reqwest::Response,
    idle: Option<Duration>,
    label: &'static str,
    cap: u64,
) -> std::result::Result<Bytes, BodyError> {
    let declared = resp.content_length();
    if declared.is_some_and(|n| n > cap) {
        return Err(BodyError::TooLarge { declared });
    }
    let mut received: u64 = 0;
    // The common small answer is one chunk, returned as it is; a second
    // chunk starts the buffer.
    let mut first: Option<Bytes> = None;
    let mut rest: Vec<u8> = Vec::new();
    while let Some(chunk) = next_chunk(&mut resp, idle, label).await? {
        received += chunk.len() as u64;
        if received > cap {
            return Err(BodyError::TooLarge { declared });
        }
        if first.is_none() && rest.is_empty() {
            first = Some(chunk);
            continue;
        }
        if let Some(f) = first.take() {
            let want = initial_capacity(declared, cap).max(f.len() + chunk.len());
            rest.reserve(want);
            rest.extend_from_slice(&f);
        }
        rest.extend_from_slice(&chunk);
    }
    Ok(match first {
        Some(f) => f,
        None => Bytes::from(rest),
    })
}

/// Read at most [`MAX_ERROR_BODY`] bytes of an error answer. A failure
/// while reading just shortens the body: the status is what matters.
async fn read_bounded(mut resp: reqwest::Response, idle: Option<Duration>) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = next_chunk(&mut resp, idle, "read idle").await {
        let room = MAX_ERROR_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    body
}

async fn api_error(
    resp: reqwest::Response,
    site: CallSite,
    spec: &OperationSpec,
    retry_after: Option<Duration>,
    idle: Option<Duration>,
) -> Error {
    let status = resp.status().as_u16();
    let body = read_bounded(resp, idle).await;
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let policy = spec.errors;
    let code = policy
        .status_map
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, c)| (*c).to_owned())
        .unwrap_or_else(|| default_code_for_status(status).to_owned());
    // The server's own code at the DADL `code_path` (XO: `$.data.code`,
    // e.g. the XAPI code), when it is text or a number.
    let server_code = json
        .as_ref()
        .zip(policy.code_path)
        .and_then(|(v, p)| wire::json_path(v, p))
        .and_then(|c| match c {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    let (message, data) = match &json {
        Some(v) => {
            // The DADL path first; then the usual `message`/`error`
            // members, since a description's path is often a guess (XO's
            // upstream DADL says `$.message`, XO sends `error`).
            let message = policy
                .message_path
                .and_then(|p| wire::json_path(v, p))
                .or_else(|| v.get("message"))
                .or_else(|| v.get("error"))
                .or_else(|| v.is_string().then_some(v))
                .map(|m| match m {
                    // Text is cut at 1 KiB; a structured message (XO's
                    // field errors) is kept whole, within the 64 KiB of
                    // the error body.
                    serde_json::Value::String(text) => {
                        serde_json::Value::String(wire::bounded_text(text))
                    }
                    other => other.clone(),
                });
            let data = v.get("data").cloned();
            (message, data)
        }
        None => {
            let text = wire::excerpt(&body);
            (
                (!text.trim().is_empty()).then_some(serde_json::Value::String(text)),
                None,
            )
        }
    };
    Error::Api(Box::new(ApiError {
        status,
        code,
        server_code,
        message,
        data,
        site,
        retry_after,
    }))
}
