//! Building one request from an [`OperationSpec`] and the caller's arguments,
//! sending it (following same-origin redirects and retrying what is safe to
//! retry), and turning the answer into a value or an [`Error`].

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::{Instrument, field};

use super::body::{Body, ByteStream, OutgoingBody};
use super::client::{Client, ClientInner, WireAuth};
use super::error::{ApiError, CallSite, Error, Result, default_code_for_status};
use super::object::Id;
use super::retry::{self, CallOptions, Failure, RetryConfig};
use super::scalar;
use super::spec::{OperationSpec, RequestBodyKind};
use super::wire;

/// Most redirects followed by one call (XO needs one, for `/users/me`).
const MAX_REDIRECTS: u32 = 5;

/// Most bytes of an error body read into memory: enough for any real error
/// document, and a misbehaving proxy cannot make the client buffer a
/// gigabyte just to report a 502.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// One request under construction. Generated builders fill it in and send it.
pub struct Request {
    client: Client,
    spec: &'static OperationSpec,
    path_params: Vec<(&'static str, String)>,
    query: Vec<(&'static str, String)>,
    headers: Vec<(HeaderName, HeaderValue)>,
    json_body: Option<serde_json::Map<String, serde_json::Value>>,
    raw_body: Option<Body>,
    options: CallOptions,
    /// The first argument error, reported when the request is sent.
    error: Option<Error>,
}

impl std::fmt::Debug for Request {
    // Names only: values may be ids, passwords (`create_user`) or tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |v: &[(&'static str, String)]| v.iter().map(|(n, _)| *n).collect::<Vec<_>>();
        f.debug_struct("Request")
            .field("tool", &self.spec.tool)
            .field("method", &self.spec.method)
            .field("path", &self.spec.path)
            .field("path_params", &names(&self.path_params))
            .field("query", &names(&self.query))
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field(
                "body_fields",
                &self
                    .json_body
                    .as_ref()
                    .map(|m| m.keys().collect::<Vec<_>>()),
            )
            .field("raw_body", &self.raw_body)
            .field("options", &self.options)
            .finish()
    }
}

/// What one call needs to send every attempt.
struct Prepared {
    method: reqwest::Method,
    url: reqwest::Url,
    /// The first attempt's headers; later attempts rebuild them.
    headers: Option<HeaderMap>,
    body: OutgoingBody,
    content_type: Option<HeaderValue>,
    /// One key per logical call, reused by every attempt.
    idempotency_key: Option<HeaderValue>,
}

/// A header value from static text without copying it, if it is valid.
fn static_header_value(value: &'static str) -> Option<HeaderValue> {
    // `from_static` panics on invalid input; check first (the text comes
    // from generated tables, but a bad DADL must not crash the caller).
    let valid = value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
    valid.then(|| HeaderValue::from_static(value))
}

/// What the caller wants of a successful answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The body, read in full inside the retry loop and the total timeout.
    Body,
    /// The body with the status and headers.
    Full,
    /// The response left as a stream for the caller.
    Stream,
}

/// A successful answer.
enum Reply {
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

impl Request {
    pub(crate) fn new(client: Client, spec: &'static OperationSpec) -> Self {
        Request {
            client,
            spec,
            path_params: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            json_body: matches!(spec.request_body, RequestBodyKind::Json)
                .then(serde_json::Map::new),
            raw_body: None,
            options: CallOptions::default(),
            error: None,
        }
    }

    /// A copy to send again (a long-lived stream re-opened); `None` when
    /// the request has a raw body, which can be read only once, or an
    /// argument error.
    pub(crate) fn try_clone(&self) -> Option<Request> {
        if self.raw_body.is_some() || self.error.is_some() {
            return None;
        }
        Some(Request {
            client: self.client.clone(),
            spec: self.spec,
            path_params: self.path_params.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            json_body: self.json_body.clone(),
            raw_body: None,
            options: self.options.clone(),
            error: None,
        })
    }

    pub(crate) fn site(&self) -> CallSite {
        CallSite {
            tool: self.spec.tool,
            method: self.spec.method,
            path: self.spec.path,
        }
    }

    fn record(&mut self, name: &str, reason: String) {
        if self.error.is_none() {
            self.error = Some(Error::InvalidArgument {
                site: self.site(),
                name: name.to_owned(),
                reason,
            });
        }
    }

    fn scalar(&mut self, name: &'static str, value: &impl Serialize) -> Option<String> {
        match scalar::to_scalar(value) {
            Ok(s) => Some(s),
            Err(reason) => {
                self.record(name, reason);
                None
            }
        }
    }

    /// Fill the `{name}` placeholder of the path. The value is
    /// percent-encoded as one path segment; an empty value, or one that
    /// would make a `.` or `..` segment, is rejected when the request is
    /// sent.
    pub fn path_param(&mut self, name: &'static str, value: &impl Serialize) -> &mut Self {
        if let Some(s) = self.scalar(name, value) {
            self.path_params.push((name, s));
        }
        self
    }

    /// Add a query parameter.
    pub fn query(&mut self, name: &'static str, value: &impl Serialize) -> &mut Self {
        if let Some(s) = self.scalar(name, value) {
            self.query.push((name, s));
        }
        self
    }

    /// Add a request header. Values that HTTP cannot carry (CR, LF, NUL,
    /// other control characters, non-ASCII) are rejected before sending.
    pub fn header(&mut self, name: &'static str, value: &impl Serialize) -> &mut Self {
        if let Some(s) = self.scalar(name, value) {
            let Ok(hname) = HeaderName::from_bytes(name.as_bytes()) else {
                self.record(name, "not a valid header name".into());
                return self;
            };
            if s.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                self.record(name, "header values cannot contain CR, LF or NUL".into());
            } else if !s.is_ascii() {
                // `HeaderValue` would pass raw UTF-8 as obs-text, which
                // servers decode inconsistently (Latin-1, UTF-8 or reject).
                self.record(name, "header values must be ASCII".into());
            } else {
                match HeaderValue::from_str(&s) {
                    Ok(v) => self.headers.push((hname, v)),
                    Err(_) => self.record(
                        name,
                        "header values must be visible ASCII, space or tab".into(),
                    ),
                }
            }
        }
        self
    }

    /// Set one field of the JSON body.
    pub fn body_field(&mut self, name: &'static str, value: &impl Serialize) -> &mut Self {
        match serde_json::to_value(value) {
            Ok(v) => {
                self.json_body
                    .get_or_insert_with(serde_json::Map::new)
                    .insert(name.to_owned(), v);
            }
            Err(e) => self.record(name, e.to_string()),
        }
        self
    }

    /// Set the raw request body (uploads).
    pub fn raw_body(&mut self, body: Body) -> &mut Self {
        self.raw_body = Some(body);
        self
    }

    /// Apply per-call options (total timeout, retry override, idempotency
    /// key). Generated builders expose this as `with_call_options`.
    pub fn options(&mut self, options: &CallOptions) -> &mut Self {
        self.options = options.clone();
        self
    }

    /// The answer size cap of this call.
    fn max_answer_size(&self) -> u64 {
        self.options
            .max_answer_size
            .unwrap_or(self.client.inner.max_answer_size)
    }

    fn invalid(&self, name: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::InvalidArgument {
            site: self.site(),
            name: name.into(),
            reason: reason.into(),
        }
    }

    /// Everything that can be checked is checked here, before a byte is sent.
    fn prepare(&mut self) -> Result<Prepared> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        for (name, value) in &self.path_params {
            if value.is_empty() {
                // An empty id would address the collection, not an object.
                return Err(self.invalid(*name, "path parameters cannot be empty"));
            }
        }
        let inner = &self.client.inner;
        // The whole URL is written into one buffer and parsed once: the
        // encoding leaves nothing for the parser to change.
        let base = inner.base_url.as_str().trim_end_matches('/');
        let mut text = String::with_capacity(base.len() + self.spec.path.len() + 64);
        text.push_str(base);
        let path_start = text.len();
        wire::expand_path_into(self.spec.path, &self.path_params, &mut text)
            .map_err(|name| self.invalid(name, "path parameter was not provided"))?;
        if text[path_start..].split('/').any(wire::is_dot_segment) {
            // Every URL parser (the `url` crate included) resolves `.` and
            // `..` segments, percent-encoded or not, so such a value would
            // silently address another resource.
            let name = self
                .path_params
                .iter()
                .find(|(_, v)| v.bytes().all(|b| b == b'.'))
                .map_or("path", |(n, _)| *n);
            return Err(self.invalid(name, "`.` and `..` cannot be sent as a path segment"));
        }
        let token_param = match &inner.auth {
            WireAuth::Query(param, token) => Some((*param, token.expose())),
            _ => None,
        };
        if !self.query.is_empty() || token_param.is_some() {
            text.push('?');
            for (k, v) in &self.query {
                wire::append_query_pair(&mut text, k, v);
            }
            if let Some((k, v)) = token_param {
                wire::append_query_pair(&mut text, k, v);
            }
        }
        let url = reqwest::Url::parse(&text)
            .map_err(|e| self.invalid("path", format!("cannot build the URL: {e}")))?;

        let idempotency_key = match self.spec.idempotency {
            Some(idem) => {
                let key = self
                    .options
                    .idempotency_key
                    .clone()
                    .unwrap_or_else(retry::new_idempotency_key);
                let value = HeaderValue::from_str(&key)
                    .map_err(|_| self.invalid(idem.header, "invalid idempotency key"))?;
                Some(value)
            }
            None => None,
        };

        let (body, content_type) = match self.spec.request_body {
            RequestBodyKind::None => (OutgoingBody::None, None),
            RequestBodyKind::Json => match self.json_body.take() {
                Some(map) => {
                    let bytes = serde_json::to_vec(&map)
                        .map_err(|e| self.invalid("body", e.to_string()))?;
                    (
                        OutgoingBody::Bytes(Bytes::from(bytes)),
                        Some(HeaderValue::from_static("application/json")),
                    )
                }
                None => (OutgoingBody::None, None),
            },
            RequestBodyKind::Raw { content_type } => {
                let body = self
                    .raw_body
                    .take()
                    .ok_or_else(|| self.invalid("body", "this operation needs a request body"))?;
                if let Some(reason) = body.length_problem() {
                    return Err(self.invalid("body", reason));
                }
                let ct = static_header_value(content_type)
                    .ok_or_else(|| self.invalid("body", "invalid content type"))?;
                (body.into_outgoing(), Some(ct))
            }
        };
        let mut prepared = Prepared {
            method: self.spec.method.to_reqwest(),
            url,
            headers: None,
            body,
            content_type,
            idempotency_key,
        };
        prepared.headers = Some(self.build_headers(&prepared)?);
        Ok(prepared)
    }

    /// The headers of one attempt. Built again for a retry or redirect
    /// rather than cloned for every call: most calls make one attempt.
    fn build_headers(&self, p: &Prepared) -> Result<HeaderMap> {
        let mut headers = HeaderMap::with_capacity(8);
        for (name, value) in self.spec.default_headers {
            // The body kind decides Content-Type; the DADL default is JSON.
            if name.eq_ignore_ascii_case("content-type") {
                continue;
            }
            let (Ok(n), Some(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                static_header_value(value),
            ) else {
                return Err(self.invalid(*name, "invalid default header in the API description"));
            };
            headers.insert(n, v);
        }
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        if let (Some(idem), Some(key)) = (self.spec.idempotency, &p.idempotency_key) {
            let name = HeaderName::from_bytes(idem.header.as_bytes())
                .map_err(|_| self.invalid(idem.header, "invalid idempotency header name"))?;
            headers.insert(name, key.clone());
        }
        // Credentials last, so that no caller header can replace them or
        // add a second mechanism next to them.
        if let WireAuth::Header(name, value) = &self.client.inner.auth {
            headers.remove(header::AUTHORIZATION);
            headers.remove(header::COOKIE);
            headers.insert(name.clone(), value.clone());
        }
        if let Some(ct) = &p.content_type {
            headers.insert(header::CONTENT_TYPE, ct.clone());
        }
        Ok(headers)
    }

    /// Prepare, send (with redirects and retries) under the call's span and
    /// total timeout.
    async fn dispatch(
        mut self,
        want: Want,
    ) -> Result<(Reply, CallSite, Option<tokio::time::Instant>)> {
        let prepared = self.prepare()?;
        let site = self.site();
        let spec = self.spec;
        let inner = &*self.client.inner;
        let retry = self
            .options
            .retry
            .clone()
            .unwrap_or_else(|| inner.retry.clone());
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
        let deadline = self
            .options
            .timeout
            .map(|t| tokio::time::Instant::now() + t);
        let work = send_loop(&self, inner, spec, &site, prepared, &retry, want, &span);
        let result = match deadline {
            Some(d) => match tokio::time::timeout_at(d, work)
                .instrument(span.clone())
                .await
            {
                Ok(r) => r,
                Err(_) => Err(Error::Timeout {
                    site: site.clone(),
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
        result.map(|reply| (reply, site, deadline))
    }

    /// Send the request and decode a JSON answer (`null` for an empty body).
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T> {
        match self.dispatch(Want::Body).await? {
            (Reply::Bytes(body) | Reply::Full { body, .. }, site, _) => decode_json(&body, &site),
            (Reply::Stream(..), site, _) => Err(internal(site)),
        }
    }

    /// Send a request that creates an object and return the new object's
    /// id: the answer's `{"id": …}` or bare string, else the last segment
    /// of its `Location` header. Anything else is an [`Error::Decode`].
    pub async fn send_created<I: Id>(self) -> Result<I> {
        self.send_response().await?.created()
    }

    /// Send a request whose answer carries nothing to read (`204`, or a
    /// body that is not part of the operation's contract).
    pub async fn send_empty(self) -> Result<()> {
        self.dispatch(Want::Body).await.map(drop)
    }

    /// The client the request will be sent with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Send the request and return the whole answer: status, headers and
    /// body (for answers whose meaning is in a header, such as a `Location`).
    /// The body is read within the retry loop and the total timeout, like
    /// [`send_json`](Self::send_json)'s.
    pub async fn send_response(self) -> Result<RawResponse> {
        match self.dispatch(Want::Full).await? {
            (
                Reply::Full {
                    status,
                    headers,
                    body,
                },
                site,
                _,
            ) => Ok(RawResponse {
                status,
                headers,
                body,
                site,
            }),
            (_, site, _) => Err(internal(site)),
        }
    }

    /// Send the request and hand back the response body as a stream. The
    /// answer size cap applies only if the stream is collected
    /// ([`ByteStream::collect`], [`ByteStream::text`]).
    pub async fn send_stream(self) -> Result<ByteStream> {
        let label = self.client.inner.timeout_label;
        let cap = self.max_answer_size();
        match self.dispatch(Want::Stream).await? {
            (Reply::Stream(resp, idle), site, deadline) => {
                Ok(ByteStream::from_response(resp, site, deadline, label, idle)
                    .with_max_collect(cap))
            }
            (_, site, _) => Err(internal(site)),
        }
    }
}

/// The send loop answered in a shape the caller did not ask for (a bug).
fn internal(site: CallSite) -> Error {
    Error::Decode {
        site,
        reason: "internal: unexpected reply shape".into(),
        excerpt: String::new(),
    }
}

/// Send attempts until one succeeds, fails for good, or the retry budget is
/// spent. Redirects do not use the retry budget; they have their own limit.
#[allow(clippy::too_many_arguments)] // one private call site
async fn send_loop(
    req: &Request,
    inner: &ClientInner,
    spec: &'static OperationSpec,
    site: &CallSite,
    mut p: Prepared,
    retry: &RetryConfig,
    want: Want,
    span: &tracing::Span,
) -> Result<Reply> {
    let max_retries = retry.retries_for(spec.errors);
    let mut retries = 0u32;
    let mut redirects = 0u32;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        span.record("attempt", attempt);
        let headers = match p.headers.take() {
            Some(h) => h,
            None => req.build_headers(&p)?,
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
        let (failure, err, retry_after) = match outcome {
            Err(e) => {
                if let Some(local) = upload.as_ref().and_then(|a| a.take_failure()) {
                    // The body's own source failed (or did not match its
                    // length): that, not the aborted request, is the error.
                    return Err(local.into_error(site.clone()));
                }
                let failure = classify(&e);
                tracing::debug!(attempt, ?failure, "request failed");
                (
                    failure,
                    transport(site.clone(), e, inner.timeout_label),
                    None,
                )
            }
            Ok(resp) => {
                let status = resp.status().as_u16();
                span.record("status", status);
                tracing::debug!(attempt, status, "response");
                if matches!(status, 307 | 308) {
                    let redirect_err = |reason| Error::Redirect {
                        site: site.clone(),
                        status,
                        reason,
                    };
                    redirects += 1;
                    if redirects > MAX_REDIRECTS {
                        return Err(redirect_err("too many redirects"));
                    }
                    if !p.body.can_send_again() {
                        return Err(redirect_err(
                            "a streaming request body cannot be sent twice",
                        ));
                    }
                    p.url = redirect_target(&p.url, &resp, &inner.auth).map_err(redirect_err)?;
                    tracing::debug!(attempt, status, "following same-origin redirect");
                    continue;
                }
                if status < 300 {
                    let kept = match want {
                        Want::Stream => return Ok(Reply::Stream(resp, idle)),
                        Want::Full => Some(resp.headers().clone()),
                        Want::Body => None,
                    };
                    let cap = req.max_answer_size();
                    match read_body(resp, idle, inner.timeout_label, cap).await {
                        Ok(body) => {
                            return Ok(match kept {
                                Some(headers) => Reply::Full {
                                    status,
                                    headers,
                                    body,
                                },
                                None => Reply::Bytes(body),
                            });
                        }
                        Err(BodyError::Transport(e)) => {
                            // The server answered, so it has processed the
                            // request: this is never `NotSent`.
                            let failure = match classify(&e) {
                                Failure::NotSent => Failure::Broken,
                                f => f,
                            };
                            tracing::debug!(attempt, ?failure, "reading the answer failed");
                            (
                                failure,
                                transport(site.clone(), e, inner.timeout_label),
                                None,
                            )
                        }
                        Err(BodyError::Idle(what)) => {
                            return Err(Error::Timeout {
                                site: site.clone(),
                                what,
                            });
                        }
                        Err(BodyError::TooLarge { declared }) => {
                            // Never retried: the same answer would come again.
                            return Err(Error::AnswerTooLarge {
                                site: site.clone(),
                                limit: cap,
                                declared,
                            });
                        }
                    }
                } else {
                    let retry_after = retry_after_of(&resp, spec);
                    let err = api_error(resp, site.clone(), spec, retry_after, idle).await;
                    (Failure::Status(status), err, retry_after)
                }
            }
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

/// Map a reqwest error. The URL is stripped: it carries path parameter
/// values and, for query-token APIs, the token.
pub(crate) fn transport(site: CallSite, e: reqwest::Error, timeout_label: &'static str) -> Error {
    if e.is_timeout() {
        Error::Timeout {
            site,
            what: if e.is_connect() {
                "connect"
            } else {
                timeout_label
            },
        }
    } else {
        Error::Transport {
            site,
            source: e.without_url(),
        }
    }
}

/// Decode JSON, treating an empty body as `null`.
pub(crate) fn decode_json<T: DeserializeOwned>(bytes: &[u8], site: &CallSite) -> Result<T> {
    let slice: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        bytes
    };
    serde_json::from_slice(slice).map_err(|e| Error::Decode {
        site: site.clone(),
        // serde_json quotes the offending value, which can be huge.
        reason: wire::bound(e.to_string()),
        excerpt: wire::excerpt(bytes),
    })
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
            let want = super::body::initial_capacity(declared, cap).max(f.len() + chunk.len());
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

/// The id an answer gives to an object it created: `{"id": "…"}` or a bare
/// JSON string in the body, else the last segment of `Location`.
fn created_id(response: &RawResponse) -> Option<String> {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&response.body) {
        match value {
            serde_json::Value::String(id) if !id.is_empty() => return Some(id),
            serde_json::Value::Object(mut map) => {
                if let Some(serde_json::Value::String(id)) = map.remove("id") {
                    return Some(id);
                }
            }
            _ => {}
        }
    }
    response.header("location").and_then(last_segment)
}

/// The last path segment of a URL or path, percent-decoded.
pub(crate) fn last_segment(location: &str) -> Option<String> {
    let path = location.split(['?', '#']).next().unwrap_or_default();
    let segment = path.trim_end_matches('/').rsplit('/').next()?;
    if segment.is_empty() {
        return None;
    }
    percent_decode(segment)
}

/// Percent-decode `s`; `None` on a bad escape or invalid UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A complete successful answer (see [`Request::send_response`]).
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status (2xx).
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: bytes::Bytes,
    site: CallSite,
}

impl RawResponse {
    /// A header's value, when present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Decode the body as JSON (`null` when empty).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        decode_json(&self.body, &self.site)
    }

    /// Where the call went.
    pub fn site(&self) -> &CallSite {
        &self.site
    }

    /// The id of the object this answer created: `{"id": …}` or a bare
    /// string in the body, else the last segment of `Location`; anything
    /// else is an [`Error::Decode`].
    pub fn created<I: Id>(&self) -> Result<I> {
        match created_id(self) {
            Some(id) => Ok(I::from_wire(id)),
            None => Err(Error::Decode {
                site: self.site.clone(),
                reason: "expected the new object's id: `{\"id\": …}`, a string or a `Location`"
                    .into(),
                excerpt: wire::excerpt(&self.body),
            }),
        }
    }
}
