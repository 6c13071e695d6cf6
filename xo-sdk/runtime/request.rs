//! Building one request from an [`OperationSpec`] and the caller's arguments
//! (everything checked and encoded before a byte is sent), handing it to the
//! transport (`super::transport`, which follows same-origin redirects and
//! retries what is safe to retry), and turning the answer into a value or an
//! [`Error`].

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::body::{Body, ByteStream, OutgoingBody};
use super::error::{CallSite, Error, Result};
use super::form::{self, FilePart};
use super::object::Id;
use super::retry::{self, CallOptions};
use super::scalar;
use super::spec::{OperationSpec, RequestBodyKind};
use super::transport::{self, Call, Client, Prepared, Reply, Want, WireAuth, static_header_value};
use super::wire;

/// One request under construction. Generated builders fill it in and send it.
pub struct Request {
    client: Client,
    spec: &'static OperationSpec,
    path_params: Vec<(&'static str, String)>,
    query: Vec<(&'static str, String)>,
    headers: Vec<(HeaderName, HeaderValue)>,
    json_body: Option<serde_json::Map<String, serde_json::Value>>,
    raw_body: Option<Body>,
    /// Fields of a form or multipart body, in the order they were set.
    form: Vec<form::Field>,
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
            .field(
                "form_fields",
                &self.form.iter().map(form::Field::name).collect::<Vec<_>>(),
            )
            .field("options", &self.options)
            .finish()
    }
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
            form: Vec::new(),
            options: CallOptions::default(),
            error: None,
        }
    }

    /// A copy to send again (a long-lived stream re-opened); `None` when
    /// the request has a raw body or a file part, which can be read only
    /// once, or an argument error.
    pub(crate) fn try_clone(&self) -> Option<Request> {
        if self.raw_body.is_some() || self.error.is_some() {
            return None;
        }
        let form = self
            .form
            .iter()
            .map(|f| match f {
                form::Field::Text(n, v) => Some(form::Field::Text(n.clone(), v.clone())),
                form::Field::File(..) => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Request {
            client: self.client.clone(),
            spec: self.spec,
            path_params: self.path_params.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            json_body: self.json_body.clone(),
            raw_body: None,
            form,
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

    /// Set one field of the JSON body. On an operation with a form or
    /// multipart body it is a [`form_field`](Self::form_field), so that a
    /// caller that knows only "body params" (a generic tool) sends them.
    pub fn body_field(&mut self, name: &'static str, value: &impl Serialize) -> &mut Self {
        if matches!(
            self.spec.request_body,
            RequestBodyKind::Form | RequestBodyKind::Multipart
        ) {
            return self.form_field(name, value);
        }
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

    /// Add the text fields of one param to a form or multipart body: a
    /// string as it is, a number or boolean as JSON writes it, `null` not
    /// at all; an array repeats its key once per item (`tags=a&tags=b`);
    /// an object gives one field per member, `name[key]` (nested:
    /// `name[a][b]`).
    pub fn form_field(&mut self, name: &'static str, value: &impl Serialize) -> &mut Self {
        match serde_json::to_value(value) {
            Ok(v) => form::flatten(name, &v, &mut self.form),
            Err(e) => self.record(name, e.to_string()),
        }
        self
    }

    /// Add a file part to a multipart body; its content is streamed.
    pub fn file_part(&mut self, name: &'static str, part: FilePart) -> &mut Self {
        self.form.push(form::Field::File(name.to_owned(), part));
        self
    }

    /// Make `value`'s text the whole request body (a `text/plain` body
    /// given as one `in: body` param): a string as it is, a number or a
    /// boolean as JSON writes it.
    pub fn text_body(&mut self, name: &'static str, value: &impl Serialize) -> &mut Self {
        if let Some(s) = self.scalar(name, value) {
            self.raw_body = Some(Body::from(s));
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
            RequestBodyKind::Form => {
                let text = form::urlencoded(&self.form);
                (
                    OutgoingBody::Bytes(Bytes::from(text)),
                    Some(HeaderValue::from_static(
                        "application/x-www-form-urlencoded",
                    )),
                )
            }
            RequestBodyKind::Multipart => {
                let (body, ct) = form::multipart(std::mem::take(&mut self.form))
                    .map_err(|reason| self.invalid("body", reason))?;
                let ct = HeaderValue::from_str(&ct)
                    .map_err(|_| self.invalid("body", "invalid multipart content type"))?;
                (body.into_outgoing(), Some(ct))
            }
        };
        let mut prepared = Prepared {
            method: self.spec.method.to_reqwest(),
            url,
            headers: None,
            // Nothing reads the caller's headers after this: the request
            // is consumed by the send.
            extra_headers: std::mem::take(&mut self.headers),
            body,
            content_type,
            idempotency_key,
        };
        let first = prepared.build_headers(self.spec, &self.site(), &inner.auth)?;
        prepared.headers = Some(first);
        Ok(prepared)
    }

    /// Prepare, then send (with redirects and retries) under the call's
    /// span and total timeout.
    async fn dispatch(
        mut self,
        want: Want,
    ) -> Result<(Reply, CallSite, Option<tokio::time::Instant>)> {
        let prepared = self.prepare()?;
        let site = self.site();
        let inner = &*self.client.inner;
        let call = Call {
            inner,
            spec: self.spec,
            site: site.clone(),
            retry: self
                .options
                .retry
                .clone()
                .unwrap_or_else(|| inner.retry.clone()),
            want,
            max_answer_size: self.max_answer_size(),
            timeout: self.options.timeout,
        };
        let (reply, deadline) = transport::send(call, prepared).await?;
        Ok((reply, site, deadline))
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
    response.header("location").and_then(wire::last_segment)
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
