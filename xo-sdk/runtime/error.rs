//! The one error type of the SDK.

use std::fmt;

use super::spec::HttpMethod;

/// Result alias used throughout the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where a failed call was going: enough to find it in a log, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSite {
    /// DADL tool name.
    pub tool: &'static str,
    /// HTTP method.
    pub method: HttpMethod,
    /// Path template (placeholders, not values: ids may be sensitive).
    pub path: &'static str,
}

impl fmt::Display for CallSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} {})", self.tool, self.method, self.path)
    }
}

/// The server answered with an error status.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// Semantic code (`not_found`, `unauthorized`, `invalid_input`, …) from the
    /// operation's `errors.map` and the DADL v0.2 defaults.
    pub code: String,
    /// The server's own error code, read at the description's `code_path`
    /// when the body has one (XO: `data.code`, the XAPI or XO error code
    /// such as `VM_BAD_POWER_STATE`).
    pub server_code: Option<String>,
    /// The server's error message: a string, or the structured value (XO sends
    /// a field-error object with 422).
    pub message: Option<serde_json::Value>,
    /// The error body's top-level `data` member, when it has one.
    pub data: Option<serde_json::Value>,
    /// Where the call was going.
    pub site: CallSite,
    /// The pause the server asked for (`Retry-After`), when it sent one.
    pub retry_after: Option<std::time::Duration>,
}

impl ApiError {
    /// The message as one line of text.
    pub fn message_text(&self) -> String {
        match &self.message {
            None => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    }
}

/// Every way a call can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status.
    #[error("{}: HTTP {} {}{}", .0.site, .0.status, .0.code, fmt_message(.0))]
    Api(Box<ApiError>),
    /// The request could not be sent or the response not received.
    #[error("{site}: transport error: {}", fmt_chain(.source))]
    Transport {
        /// Where the call was going.
        site: CallSite,
        /// The underlying error. Its URL is stripped: URLs carry path
        /// parameter values and, for query-token APIs, the token.
        #[source]
        source: reqwest::Error,
    },
    /// A configured timeout elapsed.
    #[error("{site}: timed out ({what})")]
    Timeout {
        /// Where the call was going.
        site: CallSite,
        /// Which timeout elapsed: `connect`, `read idle` (no byte received
        /// for the read timeout), `write idle` (an upload made no progress
        /// for the read timeout), `total` (the per-call timeout) or
        /// `request` (a timeout of a caller-supplied `reqwest::Client`).
        what: &'static str,
    },
    /// The server redirected the call and the SDK did not follow.
    #[error("{site}: HTTP {status} redirect not followed: {reason}")]
    Redirect {
        /// Where the call was going.
        site: CallSite,
        /// The redirect status (307 or 308).
        status: u16,
        /// Why: cross-origin target, too many hops, no usable `Location`,
        /// or a streaming body that cannot be sent twice. The target itself
        /// is not included: it may carry ids or credentials.
        reason: &'static str,
    },
    /// The response body could not be decoded.
    #[error(
        "{site}: cannot decode response: {}; body starts: {}",
        super::wire::bounded_text(.reason),
        fmt_excerpt(.excerpt)
    )]
    Decode {
        /// Where the call was going.
        site: CallSite,
        /// Why decoding failed, at most 1 KiB
        /// ([`wire::MAX_ERROR_TEXT`](super::wire::MAX_ERROR_TEXT)): the
        /// decoder's message is cut, since it may quote the offending value.
        reason: String,
        /// The first bytes of the body (at most 512 bytes, lossy UTF-8).
        excerpt: String,
    },
    /// A buffered answer is larger than the answer size cap
    /// ([`ClientBuilder::max_answer_size`](super::ClientBuilder::max_answer_size),
    /// [`CallOptions::max_answer_size`](super::CallOptions::max_answer_size)).
    /// Reading stopped at the cap (or before the first byte, when the
    /// `Content-Length` said so) and the connection was closed. A big
    /// collection is better read as a stream (`stream()`, one object at a
    /// time); an export always is.
    #[error(
        "{site}: the answer is larger than the cap of {limit} bytes{}; read it as a stream \
         (a collection's stream()) or raise the cap (ClientBuilder::max_answer_size, \
         CallOptions::max_answer_size)",
        fmt_declared(*.declared)
    )]
    AnswerTooLarge {
        /// Where the call was going.
        site: CallSite,
        /// The cap, in bytes.
        limit: u64,
        /// The length the server announced (`Content-Length`), if it did.
        declared: Option<u64>,
    },
    /// A lookup by exact name found no object, or several.
    #[error("{site}: {found} objects named {name:?} (expected exactly one)")]
    Lookup {
        /// Where the call went.
        site: CallSite,
        /// The name looked for.
        name: String,
        /// How many objects have exactly that name (0 or more than 1).
        found: usize,
    },
    /// An argument was rejected before anything was sent.
    #[error("{site}: invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// Where the call was going.
        site: CallSite,
        /// The parameter name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The client itself is misconfigured (bad URL, unreadable CA, …).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// A local I/O error (reading an upload, writing a download).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Longest server message shown by `Display` (the full value stays in
/// [`ApiError::message`]); a log line should stay a line.
const DISPLAY_MESSAGE_MAX: usize = 300;

fn fmt_message(e: &ApiError) -> String {
    let text = e.message_text();
    if text.is_empty() {
        return String::new();
    }
    // Collapse line breaks and control characters so that a multi-line
    // server message (stack traces, XAPI dumps) cannot break log lines.
    let mut out = String::from(": ");
    for (count, c) in text.chars().enumerate() {
        if count == DISPLAY_MESSAGE_MAX {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// The excerpt of a body, quoted and escaped, at most
/// [`MAX_ERROR_TEXT`](super::wire::MAX_ERROR_TEXT) bytes: escaping can make
/// 512 bytes of control characters six times longer.
fn fmt_excerpt(excerpt: &str) -> String {
    super::wire::bound(format!("{excerpt:?}"))
}

fn fmt_declared(declared: Option<u64>) -> String {
    match declared {
        Some(n) => format!(" (Content-Length: {n})"),
        None => String::new(),
    }
}

/// One line for a transport error: reqwest's own message is vague
/// ("error sending request"); the cause chain says what really happened
/// (connection refused, reset, certificate unknown, …).
fn fmt_chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut cur = std::error::Error::source(e);
    while let Some(src) = cur {
        let text = src.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = src.source();
    }
    out
}

impl Error {
    /// Map a reqwest error. The URL is stripped: it carries path parameter
    /// values and, for query-token APIs, the token. `timeout_label` names
    /// the timeout that is not a connect timeout (see `ClientInner`).
    pub(crate) fn from_reqwest(
        site: CallSite,
        e: reqwest::Error,
        timeout_label: &'static str,
    ) -> Error {
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

    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            _ => None,
        }
    }

    /// The semantic code, for API errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The API error, if this is one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The object does not exist (404/410).
    pub fn is_not_found(&self) -> bool {
        self.code() == Some("not_found")
    }

    /// The credentials were rejected (401).
    pub fn is_unauthorized(&self) -> bool {
        self.code() == Some("unauthorized")
    }

    /// The credentials lack a permission (403).
    pub fn is_forbidden(&self) -> bool {
        self.code() == Some("forbidden")
    }

    /// The object exists already or is in the wrong state (409).
    pub fn is_conflict(&self) -> bool {
        self.code() == Some("conflict")
    }

    /// The server rejected the arguments (400/422), or the SDK did before sending.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Error::InvalidArgument { .. }) || self.code() == Some("invalid_input")
    }

    /// The server asks the client to slow down (429).
    pub fn is_rate_limited(&self) -> bool {
        self.code() == Some("rate_limited")
    }

    /// The server or a gateway in front of it is unavailable (502/503/504).
    pub fn is_unavailable(&self) -> bool {
        self.code() == Some("unavailable")
    }

    /// A buffered answer was larger than the answer size cap.
    pub fn is_too_large(&self) -> bool {
        matches!(self, Error::AnswerTooLarge { .. })
    }

    /// A timeout elapsed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// The request could not be sent or the response not received.
    pub fn is_transport(&self) -> bool {
        matches!(self, Error::Transport { .. })
    }

    /// The DADL tool name of the failed call, when the error belongs to one.
    pub fn tool(&self) -> Option<&'static str> {
        match self {
            Error::Api(e) => Some(e.site.tool),
            Error::Transport { site, .. }
            | Error::Timeout { site, .. }
            | Error::Redirect { site, .. }
            | Error::Decode { site, .. }
            | Error::AnswerTooLarge { site, .. }
            | Error::Lookup { site, .. }
            | Error::InvalidArgument { site, .. } => Some(site.tool),
            Error::Config(_) | Error::Io(_) => None,
        }
    }
}

/// The DADL v0.2 default mapping from HTTP status to semantic code.
pub fn default_code_for_status(status: u16) -> &'static str {
    match status {
        400 | 422 => "invalid_input",
        401 => "unauthorized",
        403 => "forbidden",
        404 | 410 => "not_found",
        408 => "timeout",
        409 => "conflict",
        429 => "rate_limited",
        500 => "internal",
        502..=504 => "unavailable",
        300..=399 => "redirect",
        400..=499 => "client_error",
        _ => "server_error",
    }
}
