//! Building one request from an [`OperationSpec`] and the caller's arguments,
//! sending it, and turning the answer into a value or an [`Error`].

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::body::{Body, ByteStream};
use super::client::{Client, Credentials};
use super::error::{ApiError, CallSite, Error, Result, default_code_for_status};
use super::spec::{AuthSpec, OperationSpec, RequestBodyKind};
use super::wire;

/// One request under construction. Generated builders fill it in and send it.
#[derive(Debug)]
pub struct Request {
    client: Client,
    spec: &'static OperationSpec,
    path_params: Vec<(&'static str, String)>,
    query: Vec<(&'static str, String)>,
    headers: Vec<(&'static str, String)>,
    json_body: Option<serde_json::Map<String, serde_json::Value>>,
    raw_body: Option<Body>,
    /// The first argument error, reported when the request is sent.
    error: Option<Error>,
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
            error: None,
        }
    }

    fn site(&self) -> CallSite {
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
        match serde_json::to_value(value) {
            Ok(v) => match wire::render_scalar(&v) {
                Ok(s) => Some(s),
                Err(reason) => {
                    self.record(name, reason);
                    None
                }
            },
            Err(e) => {
                self.record(name, e.to_string());
                None
            }
        }
    }

    /// Fill the `{name}` placeholder of the path. The value is
    /// percent-encoded as one path segment.
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

    /// Add a request header.
    pub fn header(&mut self, name: &'static str, value: &impl Serialize) -> &mut Self {
        if let Some(s) = self.scalar(name, value) {
            if s.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                self.record(name, "header values cannot contain CR, LF or NUL".into());
            } else {
                self.headers.push((name, s));
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

    fn build(&mut self) -> Result<reqwest::RequestBuilder> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let site = self.site();
        let inner = &self.client.inner;
        let path = wire::expand_path(self.spec.path, &self.path_params).map_err(|name| {
            Error::InvalidArgument {
                site: site.clone(),
                name,
                reason: "path parameter was not provided".into(),
            }
        })?;
        let mut url = inner.base_url.clone();
        let joined = format!("{}{}", url.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        let mut query = std::mem::take(&mut self.query);
        if let (Credentials::Token(t), AuthSpec::Query { param }) =
            (&inner.credentials, inner.api.auth)
        {
            query.push((param, t.expose().to_owned()));
        }
        if !query.is_empty() {
            url.set_query(Some(&wire::encode_query(&query)));
        }
        let mut rb = inner.http.request(self.spec.method.to_reqwest(), url);
        for (name, value) in self.spec.default_headers {
            // The body kind decides Content-Type; the DADL default is JSON.
            if name.eq_ignore_ascii_case("content-type") {
                continue;
            }
            rb = rb.header(*name, *value);
        }
        for (name, value) in &self.headers {
            rb = rb.header(*name, value);
        }
        rb = match (&inner.credentials, inner.api.auth) {
            (Credentials::Token(t), AuthSpec::Header { name, prefix }) => {
                rb.header(name, format!("{prefix}{}", t.expose()))
            }
            // Injected into the query string above.
            (Credentials::Token(_), AuthSpec::Query { .. }) => rb,
            (Credentials::Token(t), AuthSpec::Basic | AuthSpec::None) => rb.bearer_auth(t.expose()),
            (Credentials::Basic { user, password }, _) => {
                rb.basic_auth(user, Some(password.expose()))
            }
            (Credentials::None, _) => rb,
        };
        match self.spec.request_body {
            RequestBodyKind::None => {}
            RequestBodyKind::Json => {
                if let Some(map) = self.json_body.take() {
                    let bytes = serde_json::to_vec(&map).map_err(|e| Error::InvalidArgument {
                        site: site.clone(),
                        name: "body".into(),
                        reason: e.to_string(),
                    })?;
                    rb = rb
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(bytes);
                }
            }
            RequestBodyKind::Raw { content_type } => {
                let body = self.raw_body.take().ok_or_else(|| Error::InvalidArgument {
                    site: site.clone(),
                    name: "body".into(),
                    reason: "this operation needs a request body".into(),
                })?;
                rb = rb.header(reqwest::header::CONTENT_TYPE, content_type);
                rb = body.apply(rb);
            }
        }
        Ok(rb)
    }

    async fn execute(mut self) -> Result<(reqwest::Response, CallSite, &'static OperationSpec)> {
        let rb = self.build()?;
        let site = self.site();
        let resp = rb.send().await.map_err(|e| transport(site.clone(), e))?;
        let status = resp.status().as_u16();
        if status >= 400 {
            return Err(api_error(resp, site, self.spec).await);
        }
        Ok((resp, site, self.spec))
    }

    /// Send the request and decode a JSON answer (`null` for an empty body).
    pub async fn send_json<T: DeserializeOwned>(self) -> Result<T> {
        let (resp, site, _) = self.execute().await?;
        let bytes = resp.bytes().await.map_err(|e| transport(site.clone(), e))?;
        decode_json(&bytes, &site)
    }

    /// Send the request and hand back the response body as a stream.
    pub async fn send_stream(self) -> Result<ByteStream> {
        let (resp, site, _) = self.execute().await?;
        Ok(ByteStream::from_response(resp, site))
    }
}

pub(crate) fn transport(site: CallSite, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout {
            site,
            what: "request",
        }
    } else {
        Error::Transport { site, source: e }
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
        reason: e.to_string(),
        excerpt: wire::excerpt(bytes),
    })
}

async fn api_error(resp: reqwest::Response, site: CallSite, spec: &OperationSpec) -> Error {
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap_or_default();
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let policy = spec.errors;
    let code = policy
        .status_map
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, c)| (*c).to_owned())
        .unwrap_or_else(|| default_code_for_status(status).to_owned());
    let (message, data) = match &json {
        Some(v) => (
            policy
                .message_path
                .and_then(|p| wire::json_path(v, p).cloned()),
            policy
                .code_path
                .and_then(|p| wire::json_path(v, p).cloned()),
        ),
        None => {
            let text = wire::excerpt(&body);
            (
                (!text.is_empty()).then_some(serde_json::Value::String(text)),
                None,
            )
        }
    };
    Error::Api(Box::new(ApiError {
        status,
        code,
        message,
        data,
        site,
    }))
}
