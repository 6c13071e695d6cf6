//! # xo-sdk
//!
//! A typed, async Rust client for the [Xen Orchestra](https://xen-orchestra.com)
//! REST API (`/rest/v0`), generated at build time from a DADL description of
//! the API plus this project's errata overlay: 267 operations, each a method
//! with typed, documented parameters, on top of a hand-written runtime
//! (authentication, retries, timeouts, TLS, streaming) and hand-written XO
//! specifics (typed collections, tasks, events, transfers).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use xo_sdk::prelude::*;
//!
//! let client = Client::builder("https://xo.example.com")
//!     .token("my-token")
//!     .build()?;
//!
//! // GET /rest/v0/vms?fields=id,name_label&filter=power_state:Running
//! let running = client
//!     .vms()
//!     .list()
//!     .select([Vm::ID, Vm::NAME_LABEL])
//!     .filter(Filter::eq(Vm::POWER_STATE, "Running"))
//!     .send()
//!     .await?;
//! for vm in &running {
//!     println!("{}", vm.name_label.as_deref().unwrap_or_default());
//! }
//!
//! // POST /rest/v0/vms/{id}/actions/snapshot → 202 and a task, whose
//! // result is the new snapshot's id
//! let vm: VmId = running[0].id.clone().expect("selected");
//! let task = client.vms().snapshot(&vm).name_label("before upgrade").send().await?;
//! let snapshot: VmSnapshotId = task.result().await?;
//! println!("snapshot {snapshot}");
//! # Ok(())
//! # }
//! ```
//!
//! Ids are types: a pool id where a template id is expected does not
//! compile,
//!
//! ```compile_fail,E0277
//! # async fn demo(client: xo_sdk::Client, pool: xo_sdk::types::PoolId) {
//! // `template` takes a `VmTemplateId`
//! let _ = client.pools().create_vm(&pool, "web-01", &pool);
//! # }
//! ```
//!
//! and so does a field that the model does not have, or a field of
//! another model:
//!
//! ```compile_fail,E0599
//! # fn demo(client: xo_sdk::Client) {
//! use xo_sdk::types::Vm;
//! let _ = client.vms().list().select([Vm::NO_SUCH_FIELD]);
//! # }
//! ```
//!
//! ```compile_fail,E0271
//! # fn demo(client: xo_sdk::Client) {
//! use xo_sdk::types::Host;
//! let _ = client.vms().list().select([Host::NAME_LABEL]);
//! # }
//! ```
//!
//! Formats and other enumerated options are typed too: an export takes a
//! `VmExportFormat`, not a string XO would refuse at run time:
//!
//! ```compile_fail,E0277
//! # fn demo(client: xo_sdk::Client, vm: xo_sdk::types::VmId) {
//! let _ = client.vms().export(&vm, "qcow2");
//! # }
//! ```
//!
//! A lookup by exact `name_label` exists only where the objects have one
//! (users are named by `name`):
//!
//! ```compile_fail,E0599
//! # async fn demo(client: xo_sdk::Client) {
//! use xo_sdk::prelude::*;
//! let _ = client.users().list().find_by_name("operator@example.com").await;
//! # }
//! ```
//!
//! ## Where to look
//!
//! * [`guide`]: how-to pages: [authentication](guide::authentication),
//!   [collections](guide::collections), [tasks](guide::tasks),
//!   [events](guide::events), [live state](guide::live_state),
//!   [streaming transfers](guide::transfers),
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
//!   [`EventStream`](xo::EventStream), live stores
//!   ([`Watchable`](xo::Watchable)), transfer options.
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
//!
//! Both give the same API; nothing public depends on the choice.
#![deny(missing_docs)]
// On docs.rs (`--cfg docsrs`), items behind a feature say which one.
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate self as xo_sdk;

/// Entry points of the cargo-fuzz targets in `fuzz/` (not API).
#[doc(hidden)]
pub mod fuzzing;
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

/// What most programs import: `use xo_sdk::prelude::*;`.
///
/// The client, the error types, the traits whose methods generic code
/// calls, the filter builder, transfer options, and the id types and models
/// of the objects most tools touch (every generated type is in [`types`]).
pub mod prelude {
    pub use crate::runtime::{Body, ByteStream, Field, Href, Id};
    pub use crate::types::{
        AclRole, AclRoleId, BackupJob, BackupJobId, BackupRepository, BackupRepositoryId,
        ContainerId, Group, GroupId, Host, HostId, Network, NetworkId, Pool, PoolId, PowerState,
        Sr, SrId, Task as TaskInfo, TaskId, User, UserId, Vbd, VbdId, Vdi, VdiId, Vif, VifId, Vm,
        VmId, VmSnapshot, VmSnapshotId, VmTemplate, VmTemplateId,
    };
    pub use crate::xo::{
        Action, ByName, Collection, Compression, Filter, MarkdownTable, Task, TaskError, VdiFormat,
        VmExportFormat, Watchable,
    };
    pub use crate::{Client, Error, Result};
}

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
