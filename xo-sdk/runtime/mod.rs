//! The generic runtime under the generated code: client, request building,
//! errors and bodies. It knows HTTP and DADL semantics, nothing about XO.

mod body;
mod client;
mod error;
mod request;
mod spec;
pub mod wire;

pub use body::{Body, ByteStream};
pub use client::{Client, ClientBuilder, Secret};
pub use error::{ApiError, CallSite, Error, Result, default_code_for_status};
pub use request::Request;
pub use spec::{
    ApiSpec, AuthSpec, Backoff, ErrorPolicy, HttpMethod, IdempotencySpec, OperationSpec,
    RequestBodyKind, ResponseKind,
};
