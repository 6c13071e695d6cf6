//! The generic runtime under the generated code: client, request building,
//! errors and bodies. It knows HTTP and DADL semantics, nothing about XO.
//!
//! What every call does, whatever the operation:
//!
//! * **Wire.** Each path parameter is percent-encoded as exactly one segment
//!   (empty values and `.`/`..` are refused before sending); query values
//!   are encoded so that no `&`, `=`, `#` or line break can act as a
//!   delimiter; booleans are `true`/`false`, lists are comma-joined; a JSON
//!   body holds exactly the fields that were set; header values that HTTP
//!   cannot carry are refused.
//! * **Credentials** go out in one mechanism only (the API's token scheme,
//!   or Basic), as sensitive header values, and are never printed.
//! * **Redirects.** 307/308 to the same origin are followed (at most 5
//!   hops) with the same method, body and credentials; anything else is an
//!   [`Error::Redirect`]. reqwest's own redirect handling is off.
//! * **Retries** follow the operation's DADL policy, made safe: see
//!   [`RetryConfig`]. Per call: [`CallOptions`].
//! * **Timeouts.** Connect (30 s) and read-idle (5 min) by default, no total
//!   timeout unless [`CallOptions::timeout`] asks for one. An upload is
//!   bounded by the idle time, never by its duration.
//! * **Transfers** run in constant memory: a raw request [`Body`] is read
//!   in 256 KiB chunks and goes out with a `Content-Length` (an unknown
//!   length must be accepted explicitly); a binary answer is a
//!   [`ByteStream`] that can be saved to a file atomically. Both report
//!   [`Progress`]; dropping either stops the transfer.
//! * **Answer size.** An answer read whole into memory is capped
//!   ([`DEFAULT_MAX_ANSWER_SIZE`], 256 MiB; see
//!   [`ClientBuilder::max_answer_size`]): a bigger one is an
//!   [`Error::AnswerTooLarge`], refused from its `Content-Length` or as soon
//!   as the cap is passed. Error texts taken from an answer are bounded too
//!   (1 KiB), whatever the answer holds.
//! * **Tracing.** One `api_call` span per call (DEBUG level) with `tool`,
//!   `method`, `path` (the template), `status`, `attempt` and `elapsed_ms`;
//!   events for responses, failures, retries and redirects. Never a URL,
//!   a parameter value or a credential.

// Layers, bottom first; a module uses only modules of the layers below it
// (`scripts/layers.py` checks that there is no cycle, and ARCHITECTURE.md
// has one line per module):
//   spec, wire, object, scalar   encoding and the API description as data
//   error, retry                 the error type; the retry rules
//   tls, transfer                TLS set-up; progress, upload watchdog, temp files
//   body                         request bodies, response byte streams
//   form                         form-urlencoded and multipart bodies
//   ndjson, transport            NDJSON decoding; connection and send loop
//   request                      one call: arguments checked, encoded, decoded
//   client                       ClientBuilder and the methods of `Client`
mod body;
mod client;
mod error;
mod form;
mod ndjson;
mod object;
mod request;
mod retry;
mod scalar;
mod spec;
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
mod tls;
mod transfer;
mod transport;
pub mod wire;

pub use body::{Body, ByteStream, ByteStreamReader, DEFAULT_MAX_ANSWER_SIZE};
pub use client::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, ENV_CA_CERT, ENV_INSECURE,
    ENV_TOKEN, ENV_URL, http_client_builder,
};
pub use error::{ApiError, CallSite, Error, Result, default_code_for_status};
pub use form::FilePart;
pub use ndjson::{MAX_LINE as NDJSON_MAX_LINE, NdjsonStream};
pub use object::{Field, Href, Id};
pub use request::{RawResponse, Request};
pub use retry::{CallOptions, RetryConfig};
pub use spec::{
    ApiSpec, AuthSpec, Backoff, ErrorPolicy, HttpMethod, IdempotencySpec, OperationSpec,
    RequestBodyKind, ResponseKind,
};
pub use transfer::Progress;
pub use transport::{Client, Secret, USER_AGENT};
pub(crate) use wire::{last_segment, percent_decode};

// Re-exported so generated code (and scratch crates that contain only
// generated code) need no direct serde/serde_json dependency.
/// A JSON value (re-export of `serde_json::Value`).
pub use serde_json::Value;
/// A JSON object (`serde_json::Map<String, Value>`).
pub type JsonMap = serde_json::Map<String, serde_json::Value>;
/// Re-export of `serde` for the derives of generated data types
/// (`#[serde(crate = "::xo_sdk::runtime::serde")]`).
#[doc(hidden)]
pub use serde;
/// Re-export of `serde::de::DeserializeOwned`, the bound of `send_as`.
pub use serde::de::DeserializeOwned;
