//! Static descriptions of an API and its operations.
//!
//! The generator (`xo-codegen`) turns every DADL tool into one `static`
//! [`OperationSpec`]; the runtime reads nothing else about the operation. All
//! types here are `const`-constructible so the generated tables cost nothing at
//! start-up.

/// HTTP method of an operation (the DADL v0.2 set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `HEAD`
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl HttpMethod {
    /// The method as sent on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// Whether repeating the request has the same effect as sending it once
    /// (RFC 9110 §9.2.2). Only these are retried after an ambiguous failure.
    pub const fn is_idempotent(self) -> bool {
        matches!(
            self,
            HttpMethod::Get | HttpMethod::Head | HttpMethod::Put | HttpMethod::Delete
        )
    }

    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Head => reqwest::Method::HEAD,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Patch => reqwest::Method::PATCH,
            HttpMethod::Delete => reqwest::Method::DELETE,
        }
    }
}

impl std::fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an operation sends as its request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBodyKind {
    /// No body.
    None,
    /// A JSON object built from the `in: body` params that were set.
    Json,
    /// A raw byte body supplied by the caller (uploads, imports).
    Raw {
        /// `Content-Type` of the body.
        content_type: &'static str,
    },
    /// An `application/x-www-form-urlencoded` body of the `in: body`
    /// params that were set.
    Form,
    /// A `multipart/form-data` body of the `in: body` params that were
    /// set: text parts, and file parts streamed from a
    /// [`FilePart`](super::FilePart).
    Multipart,
}

/// What an operation answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// A JSON document (or nothing, for 204).
    Json,
    /// A binary download, handed to the caller as a stream.
    Binary {
        /// The content type the DADL declares, if any.
        content_type: Option<&'static str>,
    },
    /// A long-lived stream (server-sent events and similar).
    Streaming,
}

/// Shape of the delay between retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// The same delay every time.
    Constant,
    /// The delay grows linearly with the attempt number.
    Linear,
    /// The delay doubles with every attempt.
    Exponential,
}

/// Error handling and retry policy of an operation (DADL `errors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorPolicy {
    /// JSONPath (RFC 9535 subset) of the error message in an error body.
    pub message_path: Option<&'static str>,
    /// JSONPath of a machine-readable error code in an error body.
    pub code_path: Option<&'static str>,
    /// Statuses that may be retried.
    pub retry_on: &'static [u16],
    /// Statuses that are never retried.
    pub terminal: &'static [u16],
    /// How many times a failed request may be retried.
    pub max_retries: u32,
    /// Growth of the delay between retries.
    pub backoff: Backoff,
    /// Delay before the first retry, in milliseconds.
    pub initial_delay_ms: u64,
    /// HTTP status → semantic error code (DADL v0.2 `errors.map`), on top of
    /// the v0.2 defaults.
    pub status_map: &'static [(u16, &'static str)],
    /// Response header that says when to retry (e.g. `Retry-After`).
    pub retry_after_header: Option<&'static str>,
}

impl ErrorPolicy {
    /// The policy used when a DADL file declares no `errors` at all: no
    /// retries, messages read from nowhere.
    pub const NONE: ErrorPolicy = ErrorPolicy {
        message_path: None,
        code_path: None,
        retry_on: &[],
        terminal: &[],
        max_retries: 0,
        backoff: Backoff::Exponential,
        initial_delay_ms: 1000,
        status_map: &[],
        retry_after_header: None,
    };
}

/// Idempotency key policy of an operation (DADL v0.2 `idempotency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencySpec {
    /// Header that carries the key; one key per logical call, reused on retries.
    pub header: &'static str,
}

/// Everything the runtime needs to know about one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationSpec {
    /// The DADL tool name (used in errors and traces).
    pub tool: &'static str,
    /// HTTP method.
    pub method: HttpMethod,
    /// Path template relative to the API base, with `{param}` placeholders.
    pub path: &'static str,
    /// DADL access level (`read`, `write`, `admin`, `dangerous`, or custom).
    pub access: Option<&'static str>,
    /// Request body kind.
    pub request_body: RequestBodyKind,
    /// Response kind.
    pub response: ResponseKind,
    /// Error and retry policy.
    pub errors: &'static ErrorPolicy,
    /// Idempotency key policy, if the DADL declares one.
    pub idempotency: Option<IdempotencySpec>,
    /// DADL v0.2 `retry_unsafe`: the author opted in to retrying this
    /// non-idempotent call.
    pub retry_unsafe: bool,
    /// Extra headers declared by DADL `defaults.headers` for every request.
    pub default_headers: &'static [(&'static str, &'static str)],
}

/// How credentials are injected into requests (DADL `auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthSpec {
    /// No credential is sent.
    None,
    /// A token sent in a header, behind a prefix (`Authorization: Bearer …`,
    /// or XO's `Cookie: authenticationToken=…`).
    Header {
        /// Header name.
        name: &'static str,
        /// Text placed before the token.
        prefix: &'static str,
    },
    /// A token sent as a query parameter.
    Query {
        /// Query parameter name.
        param: &'static str,
    },
    /// HTTP Basic authentication.
    Basic,
}

/// Static description of a whole API (one per DADL file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiSpec {
    /// DADL backend name.
    pub name: &'static str,
    /// DADL `backend.version`.
    pub version: Option<&'static str>,
    /// Path prefix of the API below the server root (from DADL `base_url`),
    /// appended to a bare server URL given to the client builder.
    pub base_path: &'static str,
    /// Credential injection.
    pub auth: AuthSpec,
}
