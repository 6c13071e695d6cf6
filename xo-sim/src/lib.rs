//! `xo-sim`: a stateful, in-memory simulation of the Xen Orchestra REST API
//! (`/rest/v0`), for tests, examples and demos.
//!
//! It starts with a deterministic inventory (2 pools, 3 hosts, 20 VMs with
//! disks and interfaces, storage, networks, snapshots, templates, tasks,
//! messages, alarms, backup jobs and repositories, users and ACLs) and
//! follows XO's protocol: token cookie or Basic auth, collections with
//! `fields`/`filter`/`limit`/`ndjson`/`markdown`, asynchronous actions with
//! tasks, binary exports and imports, and server-sent events.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = xo_sim::start().await?;
//! println!("XO at {} (token {})", sim.url(), sim.token());
//! // …point a client at sim.url() with the cookie authenticationToken=<token>
//! # Ok(())
//! # }
//! ```
//!
//! Options go through [`Sim::builder`]:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! let sim = xo_sim::Sim::builder()
//!     .task_delay(Duration::from_millis(10))
//!     .export_size(64 * 1024)
//!     .ping_interval(Duration::from_secs(1))
//!     .start()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`SimBuilder::empty`] starts instead from the state of a freshly reset
//! xo-server (no hypervisor: only the admin user and XO's built-in ACL role
//! templates), the state `conformance/real/corpus.jsonl` was recorded from:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = xo_sim::Sim::builder().empty().start().await?;
//! assert!(sim.ids("vms").is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! The server listens on loopback only.
//!
//! With the `prism` feature, `XO_SIM_PRISM` (a `prism` executable) and
//! `XO_SIM_SPEC` (XO's official OpenAPI document) in the environment, every
//! exchange of every simulator is also checked against the document by
//! Prism; findings go to `XO_SIM_PRISM_REPORT` (see the README and
//! `Sim::prism_stats`). The harness is its own crate, `xo-prism`: without
//! the feature it is not compiled, and a simulator refuses to start when
//! those variables ask for it.

#![deny(missing_docs)]

mod actions;
pub mod body;
pub mod collection;
pub mod error;
mod events;
pub mod matcher;
pub mod objects;
mod prism;
mod seed;
mod server;
pub mod state;
mod stats;
mod transfer;

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Notify, broadcast, oneshot, watch};

pub use error::XoError;
pub use state::{ImportRecord, KINDS, Kind};
pub use transfer::{export_bytes, export_key};
#[cfg(feature = "prism")]
pub use xo_prism::{ENV_PRISM, ENV_REPORT, ENV_SPEC, PrismStats};

/// Options of a simulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (must be a loopback address).
    pub listen: SocketAddr,
    /// Size in bytes of every export.
    pub export_size: u64,
    /// Whether exports announce a Content-Length (XO usually does not).
    pub export_content_length: bool,
    /// How long every action's task runs before completing.
    pub task_delay: Duration,
    /// Interval of SSE `ping` events.
    pub ping_interval: Duration,
    /// Admin user's email (Basic auth user name).
    pub admin_email: String,
    /// Admin user's password.
    pub admin_password: String,
    /// What the simulator holds when it starts (default: the demo inventory).
    pub seed: Seed,
    /// Whether Prism validation mode (see the crate's README) checks this
    /// simulator's exchanges when the environment asks for it (default
    /// true; without the `prism` feature, whether such an environment makes
    /// the simulator refuse to start).
    pub prism: bool,
}

/// What a simulator holds when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// The deterministic demo inventory described in the crate's
    /// documentation (pools, hosts, VMs, storage, backups, users, ACLs…).
    #[default]
    Inventory,
    /// The state of a freshly reset xo-server with no hypervisor attached:
    /// no pools, hosts, VMs, storage, tasks, backups or servers; only the
    /// admin user (`admin@admin.net` / `admin` unless
    /// [`SimBuilder::admin`] says otherwise, permission `admin`) and XO's
    /// built-in ACL role templates (read-only roles with their privileges,
    /// as xo-server 5.207.2 creates them). The simulator's own admin token
    /// ([`Sim::token`]) exists too.
    Empty,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            export_size: 1024 * 1024,
            export_content_length: false,
            task_delay: Duration::from_millis(50),
            ping_interval: Duration::from_secs(30),
            admin_email: "admin@admin.net".into(),
            admin_password: "admin".into(),
            seed: Seed::Inventory,
            prism: true,
        }
    }
}

/// State shared by the handlers.
pub(crate) struct Shared {
    pub(crate) store: Mutex<state::Store>,
    pub(crate) tx: broadcast::Sender<state::Change>,
    pub(crate) config: Config,
    pub(crate) requests: AtomicU64,
    pub(crate) sse_generation: watch::Sender<u64>,
    /// Bumped by [`Sim::drop_task_waits`]: in-flight `wait=true` requests
    /// end by breaking their connection.
    pub(crate) wait_generation: watch::Sender<u64>,
    /// `GET /tasks/{id}?wait=true` requests received.
    pub(crate) wait_requests: AtomicU64,
    /// `GET /tasks/{id}?wait=true` requests still waiting.
    pub(crate) waits_in_flight: AtomicUsize,
    pub(crate) aborts: Mutex<BTreeMap<String, Arc<Notify>>>,
    pub(crate) admin_id: String,
    pub(crate) admin_token: String,
    pub(crate) sse_seq: AtomicU64,
    /// Until when valid tokens get 401, as right after XO restarts.
    pub(crate) tokens_refused_until: Mutex<Option<std::time::Instant>>,
}

impl Shared {
    /// Locks the store (a poisoned lock is recovered: state stays usable).
    pub(crate) fn lock(&self) -> MutexGuard<'_, state::Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Builder of a [`Sim`].
#[derive(Debug, Clone, Default)]
pub struct SimBuilder {
    config: Config,
}

impl SimBuilder {
    /// Listen address (default `127.0.0.1:0`); must be loopback.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.config.listen = addr;
        self
    }

    /// Size of every export in bytes (default 1 MiB).
    pub fn export_size(mut self, bytes: u64) -> Self {
        self.config.export_size = bytes;
        self
    }

    /// Send a Content-Length with exports (default: no, like XO).
    pub fn export_content_length(mut self, yes: bool) -> Self {
        self.config.export_content_length = yes;
        self
    }

    /// Duration of every action's task (default 50 ms).
    pub fn task_delay(mut self, delay: Duration) -> Self {
        self.config.task_delay = delay;
        self
    }

    /// Interval of SSE pings (default 30 s).
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.config.ping_interval = interval;
        self
    }

    /// Admin credentials for Basic auth (default `admin@admin.net` / `admin`).
    pub fn admin(mut self, email: impl Into<String>, password: impl Into<String>) -> Self {
        self.config.admin_email = email.into();
        self.config.admin_password = password.into();
        self
    }

    /// What the simulator holds when it starts (default [`Seed::Inventory`]).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.config.seed = seed;
        self
    }

    /// Starts with the state of a freshly reset xo-server: no inventory,
    /// only the admin user and the built-in ACL role templates
    /// (shorthand for `.seed(Seed::Empty)`, see [`Seed::Empty`]).
    pub fn empty(self) -> Self {
        self.seed(Seed::Empty)
    }

    /// Leaves this simulator out of Prism validation mode even when
    /// `XO_SIM_PRISM` and `XO_SIM_SPEC` are set: for replays of a real
    /// server's exchanges (`tests/sim_fidelity.rs`), whose requests go
    /// beyond the official document on purpose. Without the `prism`
    /// feature, it lets the simulator start in such an environment.
    pub fn without_prism(mut self) -> Self {
        self.config.prism = false;
        self
    }

    /// The configuration built so far.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Binds and starts serving in the background.
    pub async fn start(self) -> io::Result<Sim> {
        Sim::start_with(self.config).await
    }
}

/// A running simulator. Dropping it stops the server.
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    join: Option<tokio::task::JoinHandle<()>>,
    prism: prism::Hook,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim").field("addr", &self.addr).finish()
    }
}

/// Starts a simulator with default options on `127.0.0.1:0`.
pub async fn start() -> io::Result<Sim> {
    Sim::builder().start().await
}

impl Sim {
    /// A builder of options.
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }

    async fn start_with(config: Config) -> io::Result<Sim> {
        if !config.listen.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "xo-sim listens on loopback addresses only",
            ));
        }
        let prism = prism::Hook::start(&config).await?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (tx, _) = broadcast::channel(4096);
        let mut store = state::Store::new(tx.clone());
        let seeded = match config.seed {
            Seed::Inventory => seed::seed(&mut store, &config.admin_email, &config.admin_password),
            Seed::Empty => {
                seed::seed_empty(&mut store, &config.admin_email, &config.admin_password)
            }
        };
        let (sse_generation, _) = watch::channel(0u64);
        let (wait_generation, _) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            tx,
            config,
            requests: AtomicU64::new(0),
            sse_generation,
            wait_generation,
            wait_requests: AtomicU64::new(0),
            waits_in_flight: AtomicUsize::new(0),
            aborts: Mutex::new(BTreeMap::new()),
            tokens_refused_until: Mutex::new(None),
            admin_id: seeded.admin_id,
            admin_token: seeded.admin_token,
            sse_seq: AtomicU64::new(0),
        });
        let app = prism.layer(server::router(shared.clone()));
        let (stx, srx) = oneshot::channel::<()>();
        let join = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = srx.await;
                })
                .await;
        });
        Ok(Sim {
            shared,
            addr,
            shutdown: Some(stx),
            join: Some(join),
            prism,
        })
    }

    /// Base URL, `http://127.0.0.1:<port>` (the API is under `/rest/v0`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:<port>/rest/v0`.
    pub fn api_url(&self) -> String {
        format!("http://{}/rest/v0", self.addr)
    }

    /// Counters of the Prism checks of this simulator's exchanges, in Prism
    /// validation mode (see the crate's README: `XO_SIM_PRISM`,
    /// `XO_SIM_SPEC`); `None` otherwise. Answers with a known length are
    /// counted before the client gets them; streamed ones when they end.
    /// Needs the `prism` feature.
    #[cfg(feature = "prism")]
    pub fn prism_stats(&self) -> Option<PrismStats> {
        self.prism.stats()
    }

    /// Bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The admin's authentication token (cookie `authenticationToken`).
    pub fn token(&self) -> &str {
        &self.shared.admin_token
    }

    /// The admin user's id.
    pub fn admin_id(&self) -> &str {
        &self.shared.admin_id
    }

    /// Admin credentials for Basic auth: (email, password).
    pub fn admin_credentials(&self) -> (&str, &str) {
        (
            &self.shared.config.admin_email,
            &self.shared.config.admin_password,
        )
    }

    /// The options in force.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Number of HTTP requests received so far.
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Every import received so far (bytes, checksum, outcome).
    pub fn imports(&self) -> Vec<ImportRecord> {
        self.shared.lock().imports.clone()
    }

    /// One object of a collection (`"vms"`, `"hosts"`, …).
    pub fn object(&self, coll: &str, id: &str) -> Option<Value> {
        self.shared.lock().get(coll, id).cloned()
    }

    /// All objects of a collection, in id order.
    pub fn objects(&self, coll: &str) -> Vec<Value> {
        self.shared.lock().list(coll).into_iter().cloned().collect()
    }

    /// Ids of a collection, in id order.
    pub fn ids(&self, coll: &str) -> Vec<String> {
        self.shared.lock().ids(coll)
    }

    /// First object of `coll` whose `name_label` (or `name`) equals `name`.
    pub fn find_by_name(&self, coll: &str, name: &str) -> Option<Value> {
        self.shared
            .lock()
            .list(coll)
            .into_iter()
            .find(|o| o["name_label"] == name || o["name"] == name)
            .cloned()
    }

    /// A copy of the whole state: collection → objects.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<Value>> {
        let store = self.shared.lock();
        KINDS
            .iter()
            .map(|k| {
                (
                    k.coll.to_string(),
                    store.list(k.coll).into_iter().cloned().collect(),
                )
            })
            .collect()
    }

    /// Inserts or replaces an object (its string `id` is the key); emits
    /// events. Fails (422) when `object` is not an object with a string
    /// `id`, and (404) for an unknown collection.
    pub fn put_object(&self, coll: &str, object: Value) -> Result<(), XoError> {
        if state::kind(coll).is_none() {
            return Err(XoError::no_route("PUT", coll));
        }
        if !object.is_object() || !object["id"].is_string() {
            return Err(XoError::invalid_parameters(
                "an object with a string id is required",
                serde_json::json!({ "collection": coll }),
            ));
        }
        if let Some(id) = object["id"].as_str() {
            self.prism.injected(id);
        }
        self.shared.lock().insert(coll, object);
        Ok(())
    }

    /// Modifies an object in place; emits an update event.
    pub fn update_object(
        &self,
        coll: &str,
        id: &str,
        f: impl FnOnce(&mut serde_json::Map<String, Value>),
    ) -> Result<(), XoError> {
        self.prism.injected(id);
        self.shared.lock().update(coll, id, f)
    }

    /// Removes an object; emits a remove event.
    pub fn remove_object(&self, coll: &str, id: &str) -> Result<Value, XoError> {
        self.shared.lock().remove(coll, id)
    }

    /// Closes every open SSE connection (clients should reconnect).
    pub fn drop_sse_connections(&self) {
        self.shared.sse_generation.send_modify(|g| *g += 1);
    }

    /// Behaves as XO does when it restarts with its data: every SSE, task
    /// watch and `wait=true` connection ends, and for `refused_for` a valid
    /// token gets 401 (XO has not loaded its tokens yet; about 0.4 s on
    /// xo-server 5.207.2). Basic credentials still work.
    pub fn restart(&self, refused_for: std::time::Duration) {
        *self
            .shared
            .tokens_refused_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now() + refused_for);
        self.drop_sse_connections();
        self.drop_task_waits();
    }

    /// Breaks the connection of every `GET /tasks/{id}?wait=true` request
    /// still waiting (the answer's body fails after its head), as a proxy
    /// cutting an idle connection or an XO restart would. Test hook for
    /// clients that must re-issue the long-poll; see
    /// [`task_waits_in_flight`](Self::task_waits_in_flight).
    pub fn drop_task_waits(&self) {
        self.shared.wait_generation.send_modify(|g| *g += 1);
    }

    /// Number of `GET /tasks/{id}?wait=true` requests received so far.
    pub fn task_wait_count(&self) -> u64 {
        self.shared.wait_requests.load(Ordering::SeqCst)
    }

    /// Number of `GET /tasks/{id}?wait=true` requests waiting right now
    /// (a test waits for this before calling
    /// [`drop_task_waits`](Self::drop_task_waits)).
    pub fn task_waits_in_flight(&self) -> usize {
        self.shared.waits_in_flight.load(Ordering::SeqCst)
    }

    /// Number of open SSE connections.
    pub fn sse_connection_count(&self) -> usize {
        self.shared.lock().sse.len()
    }

    /// Creates a token for a user (by id), as `POST …/authentication_tokens` would.
    pub fn create_token(&self, user_id: &str) -> Option<String> {
        let mut store = self.shared.lock();
        store.get("users", user_id)?;
        Some(server::mint_token(&mut store, user_id, None, None, None))
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        self.drop_sse_connections();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(j) = self.join.take() {
            let _ = j.await;
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shared.sse_generation.send_modify(|g| *g += 1);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
