//! # xo-sdk
//!
//! A typed, async Rust client for the [Xen Orchestra](https://xen-orchestra.com)
//! REST API (`/rest/v0`), generated at build time from a DADL description of
//! the API plus this project's errata overlay.
//!
//! ```no_run
//! # async fn demo() -> xo_sdk::Result<()> {
//! let client = xo_sdk::Client::builder("https://xo.example.com")
//!     .token("my-token")
//!     .build()?;
//! let vms = client.vms().list().fields("name_label,power_state").send().await?;
//! println!("{vms}");
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

extern crate self as xo_sdk;

pub mod runtime;
pub mod xo;

pub use runtime::{
    ApiError, Body, ByteStream, CallOptions, Client, ClientBuilder, Error, Result, RetryConfig,
};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/xo_api.rs"));
}

pub use generated::*;

impl Client {
    /// Start building a client for the Xen Orchestra at `url`
    /// (`https://xo.example.com` or `https://xo.example.com/rest/v0`).
    pub fn builder(url: impl AsRef<str>) -> ClientBuilder {
        Client::builder_for(&generated::API, url)
    }

    /// Build a client from the environment: `XO_URL`, `XO_TOKEN`, and
    /// optionally `XO_CA_CERT` (PEM file of extra root certificates) and
    /// `XO_INSECURE=1` (no certificate verification; see
    /// [`ClientBuilder::danger_accept_invalid_certs`]).
    pub fn from_env() -> Result<Client> {
        Client::from_env_for(&generated::API)
    }
}
