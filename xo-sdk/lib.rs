//! # xo-sdk
//!
//! A typed, async Rust client for the [Xen Orchestra](https://xen-orchestra.com)
//! REST API (`/rest/v0`), generated at build time from a DADL description of
//! the API plus this project's errata overlay: 270 operations, each a method
//! with typed, documented parameters, on top of a hand-written runtime
//! (authentication, retries, timeouts, TLS, streaming) and hand-written XO
//! specifics (typed collections, tasks, events, transfers).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use xo_sdk::xo::{Action, Collection, Filter};
//!
//! let client = xo_sdk::Client::builder("https://xo.example.com")
//!     .token("my-token")
//!     .build()?;
//!
//! // GET /rest/v0/vms?filter=power_state:Running&fields=name_label
//! let running = client
//!     .vms()
//!     .list()
//!     .filter(Filter::eq("power_state", "Running"))
//!     .select(["name_label"])
//!     .send()
//!     .await?;
//! for vm in &running {
//!     println!("{}", vm.name_label.as_deref().unwrap_or_default());
//! }
//!
//! // POST /rest/v0/vms/{id}/actions/clean_reboot → 202 and a task
//! let task = client.vms().clean_reboot("0b7c2b5c-…").submit().await?;
//! task.result().await?;
//! # Ok(())
//! # }
//! ```
//!
//! ## Where to look
//!
//! * [`guide`]: how-to pages: [authentication](guide::authentication),
//!   [collections](guide::collections), [tasks](guide::tasks),
//!   [events](guide::events), [streaming transfers](guide::transfers),
//!   [errors](guide::errors), [retries](guide::retries),
//!   [timeouts](guide::timeouts), [TLS](guide::tls),
//!   [testing with xo-sim](guide::testing).
//! * [`tool_index`]: every tool of the DADL file (the names ToolMesh and
//!   other DADL users know) with its Rust path, HTTP method, path, access
//!   level and the XO release it needs.
//! * The services, one module per resource ([`vms`], [`hosts`], [`pools`],
//!   …), reached from the client: `client.vms()`, `client.hosts()`, …
//!   Required parameters are arguments; optional ones are setters; a call
//!   ends with `.send().await`.
//! * [`types`]: the models of XO's objects (`Vm`, `Host`, `Task`, …).
//! * [`xo`]: what is XO-specific and written by hand:
//!   [`Collection`](xo::Collection), [`Filter`](xo::Filter),
//!   [`Action`](xo::Action) and [`Task`](xo::Task),
//!   [`EventStream`](xo::EventStream), transfer options.
//! * [`runtime`]: the client, errors, retries, timeouts, bodies and byte
//!   streams.
//! * The repository's `examples/`: a runnable program for each workflow of
//!   the DADL file, plus `quickstart`, `export_vm`, `import_vdi` and
//!   `watch_events`; each runs against `XO_URL`/`XO_TOKEN` or, without
//!   them, against an in-process simulator.
//!
//! ## Features
//!
//! * `rustls` (default): TLS with rustls and the `ring` provider.
//! * `native-tls`: the platform's TLS library instead.
#![deny(missing_docs)]

extern crate self as xo_sdk;

pub mod guide;
pub mod runtime;
pub mod xo;

pub use runtime::{
    ApiError, Body, ByteStream, CallOptions, Client, ClientBuilder, Error, Progress, Result,
    RetryConfig,
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
