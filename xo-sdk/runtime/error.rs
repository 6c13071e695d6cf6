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
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// Semantic code (`not_found`, `unauthorized`, `invalid_input`, …) from the
    /// operation's `errors.map` and the DADL v0.2 defaults.
    pub code: String,
    /// The server's error message: a string, or the structured value (XO sends
    /// a field-error object with 422).
    pub message: Option<serde_json::Value>,
    /// The server's `data` member, or the value at the DADL `code_path`.
    pub data: Option<serde_json::Value>,
    /// Where the call was going.
    pub site: CallSite,
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
    #[error("{site}: transport error: {source}")]
    Transport {
        /// Where the call was going.
        site: CallSite,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// A configured timeout elapsed.
    #[error("{site}: timed out ({what})")]
    Timeout {
        /// Where the call was going.
        site: CallSite,
        /// Which timeout elapsed.
        what: &'static str,
    },
    /// The response body could not be decoded.
    #[error("{site}: cannot decode response: {reason}; body starts: {excerpt:?}")]
    Decode {
        /// Where the call was going.
        site: CallSite,
        /// Why decoding failed.
        reason: String,
        /// The first bytes of the body (bounded, lossy UTF-8).
        excerpt: String,
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

fn fmt_message(e: &ApiError) -> String {
    let text = e.message_text();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

impl Error {
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

    /// A timeout elapsed.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
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
        400..=499 => "client_error",
        _ => "server_error",
    }
}
