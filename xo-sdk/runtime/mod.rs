//! The generic runtime under the generated code: client, request building,
//! errors and bodies. It knows HTTP and DADL semantics, nothing about XO.

mod body;
mod client;
mod error;
mod ndjson;
mod request;
mod retry;
mod scalar;
mod spec;
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
mod tls;
pub mod wire;

pub use body::{Body, ByteStream};
pub use ndjson::{MAX_LINE as NDJSON_MAX_LINE, NdjsonStream};
pub use client::{
    Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, ENV_CA_CERT,
    ENV_INSECURE, ENV_TOKEN, ENV_URL, Secret, USER_AGENT, http_client_builder,
};
pub use error::{ApiError, CallSite, Error, Result, default_code_for_status};
pub use request::Request;
pub use retry::{CallOptions, RetryConfig};
pub use spec::{
    ApiSpec, AuthSpec, Backoff, ErrorPolicy, HttpMethod, IdempotencySpec, OperationSpec,
    RequestBodyKind, ResponseKind,
};

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
