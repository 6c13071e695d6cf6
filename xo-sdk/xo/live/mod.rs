//! Live state: a typed local copy of an XO collection, kept in sync from
//! the event stream, and waits on conditions over it.
//!
//! A *reflector* lists a collection once and then follows XO's event
//! stream, so that reading an object (`store.get(&id)`) costs no request.
//! Every collection whose objects appear on the event stream has one (the
//! generator implements [`Watchable`] for it from the API description's
//! `x-event-type`):
//!
//! ```no_run
//! # async fn demo(client: xo_sdk::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use xo_sdk::prelude::*;
//!
//! let reflector = client
//!     .vms()
//!     .list()
//!     .reflector()
//!     .fields([Vm::NAME_LABEL, Vm::POWER_STATE, Vm::ADDRESSES])
//!     .start()
//!     .await?;
//! let store = reflector.store();
//! println!("{} VMs", store.len());
//!
//! // Wait, without polling XO, for a VM to run and report an address.
//! # let id = VmId::new("0b7c…");
//! let vm = store
//!     .wait_until(&id, Duration::from_secs(300), |vm| {
//!         vm.power_state == Some(PowerState::Running)
//!             && vm.addresses.as_ref().is_some_and(|a| !a.is_empty())
//!     })
//!     .await?;
//! # let _ = vm;
//! # Ok(())
//! # }
//! ```
//!
//! What it guarantees:
//!
//! * **Nothing is lost between the list and the events.** The
//!   subscription is made first; events that arrive while the list is read
//!   are buffered and applied on top of it.
//! * **Reconnections are repaired.** XO does not replay the changes made
//!   while the event stream was disconnected; on
//!   [`Event::Reconnected`](crate::xo::Event::Reconnected) (and when an
//!   event cannot be decoded) the reflector lists again and sends the
//!   differences as [`LiveChange`]s, as if they had been events, then
//!   [`LiveChange::Synced`]. If the event stream gives up, a new one is
//!   opened; after [`max_failures`](ReflectorBuilder::max_failures) failed
//!   attempts in a row the reflector stops ([`Store::error`]).
//! * **Memory holds the selected fields only**: one JSON value per field
//!   and object, decoded into the model when read.
//! * **Reads are consistent**: [`Store::snapshot`] is every object at one
//!   moment between two changes.
//!
//! Reads see the last applied change; right after a list, an object may
//! briefly show an older state than the list did, until the events already
//! on their way are applied (XO numbers nothing, so the order of the
//! stream is the only clock).

mod driver;
mod store;
mod table;

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

pub use store::{
    Changes, DEFAULT_CHANGES_CAPACITY, LiveChange, OfflineStore, Snapshot, SnapshotIter, Store,
    SyncReport, WaitError,
};

use crate::Result;
use crate::runtime::{Field, Id};
use crate::xo::{Collection, EventStreamBuilder, Filter};
use driver::{EventOptions, Plan};
use store::{RawChanges, Shared, TaskGuard};
use table::Columns;

/// Failed attempts in a row (to open the event stream or to list) after
/// which a reflector stops, by default.
pub const DEFAULT_MAX_FAILURES: u32 = 8;

/// A collection whose objects appear on XO's event stream, under the type
/// name [`EVENT_TYPE`](Self::EVENT_TYPE) (`VM`, `host`, `SR`, …).
///
/// Implemented by the generator for every collection the API description
/// marks with `x-event-type` (see `dadl/EXTENSIONS.md`), so a reflector
/// exists for exactly those:
///
/// ```compile_fail,E0599
/// # fn demo(client: xo_sdk::Client) {
/// use xo_sdk::prelude::*;
/// // users are not on the event stream
/// let _ = client.users().list().reflector();
/// # }
/// ```
pub trait Watchable: Collection {
    /// The collection's type on the event stream: the `collection` of a
    /// subscription and the `$subscription` of its events.
    const EVENT_TYPE: &'static str;

    /// Start setting up a live copy of this collection; see
    /// [`ReflectorBuilder`].
    ///
    /// ```no_run
    /// # async fn demo(client: xo_sdk::Client) -> xo_sdk::Result<()> {
    /// use xo_sdk::prelude::*;
    /// let hosts = client
    ///     .hosts()
    ///     .list()
    ///     .reflector()
    ///     .fields([Host::NAME_LABEL, Host::POWER_STATE])
    ///     .start()
    ///     .await?
    ///     .store();
    /// # let _ = hosts;
    /// # Ok(())
    /// # }
    /// ```
    fn reflector(self) -> ReflectorBuilder<Self> {
        ReflectorBuilder {
            builder: self,
            columns: Columns::new([]),
            events: None,
            max_failures: DEFAULT_MAX_FAILURES,
            pause: Duration::from_millis(250),
            capacity: DEFAULT_CHANGES_CAPACITY,
        }
    }
}

/// Options of a reflector; from [`Watchable::reflector`].
#[must_use = "nothing runs until `.start().await`"]
pub struct ReflectorBuilder<C> {
    builder: C,
    columns: Columns,
    events: Option<EventOptions>,
    max_failures: u32,
    pause: Duration,
    capacity: usize,
}

impl<C> fmt::Debug for ReflectorBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReflectorBuilder")
            .field("fields", &self.columns.names())
            .field("max_failures", &self.max_failures)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<C: Watchable> ReflectorBuilder<C> {
    /// Keep these fields of each object (plus `id`, always). Without this
    /// call the store keeps ids only.
    ///
    /// ```no_run
    /// # fn demo(client: xo_sdk::Client) {
    /// use xo_sdk::prelude::*;
    /// let builder = client.vms().list().reflector().fields([Vm::NAME_LABEL, Vm::TAGS]);
    /// # let _ = builder;
    /// # }
    /// ```
    pub fn fields(mut self, fields: impl IntoIterator<Item = Field<C::Item>>) -> Self {
        self.columns = Columns::new(fields.into_iter().map(|f| f.name()));
        self
    }

    /// Set options of the event stream (reconnection backoff, idle
    /// timeout, …) each time the reflector opens one.
    ///
    /// ```no_run
    /// # fn demo(client: xo_sdk::Client) {
    /// use std::time::Duration;
    /// use xo_sdk::prelude::*;
    /// let builder = client
    ///     .vms()
    ///     .list()
    ///     .reflector()
    ///     .event_options(|events| events.idle_timeout(Some(Duration::from_secs(120))));
    /// # let _ = builder;
    /// # }
    /// ```
    pub fn event_options(
        mut self,
        options: impl Fn(EventStreamBuilder) -> EventStreamBuilder + Send + Sync + 'static,
    ) -> Self {
        self.events = Some(Arc::new(options));
        self
    }

    /// How many attempts in a row to open the event stream or to list may
    /// fail before the reflector stops (default [`DEFAULT_MAX_FAILURES`]);
    /// between attempts it pauses `pause`, doubling up to 10 s (default
    /// 250 ms). A successful list resets the count.
    pub fn max_failures(mut self, attempts: u32, pause: Duration) -> Self {
        self.max_failures = attempts;
        self.pause = pause;
        self
    }

    /// How many changes a subscriber may fall behind before it gets
    /// [`LiveChange::Lagged`] (default [`DEFAULT_CHANGES_CAPACITY`]).
    pub fn changes_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Subscribe, list, and return once the store equals the collection
    /// (its first consistent state); the store then follows the event
    /// stream in a background task (a Tokio task: call from a Tokio
    /// runtime). Fails when the first list or subscription fails
    /// [`max_failures`](Self::max_failures) times in a row, or at once on
    /// an error that retrying cannot fix.
    pub async fn start(self) -> Result<Reflector<C::Item, C::Id>> {
        self.start_for(None).await
    }

    /// Wait until the one object `id` satisfies `condition`, at most
    /// `timeout`, without a store of the whole collection: the list asks
    /// for that object only and events of others are dropped. See
    /// [`Store::wait_until`].
    ///
    /// ```no_run
    /// # async fn demo(client: xo_sdk::Client, id: xo_sdk::types::VmId) -> Result<(), xo_sdk::xo::WaitError> {
    /// use std::time::Duration;
    /// use xo_sdk::prelude::*;
    ///
    /// let vm = client
    ///     .vms()
    ///     .list()
    ///     .reflector()
    ///     .fields([Vm::POWER_STATE])
    ///     .wait_until(&id, Duration::from_secs(60), |vm| {
    ///         vm.power_state == Some(PowerState::Halted)
    ///     })
    ///     .await?;
    /// # let _ = vm;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_until(
        self,
        id: &C::Id,
        timeout: Duration,
        condition: impl FnMut(&C::Item) -> bool,
    ) -> std::result::Result<C::Item, WaitError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let started = tokio::time::timeout_at(deadline, self.start_for(Some(id.as_str())));
        let reflector = match started.await {
            Ok(Ok(reflector)) => reflector,
            Ok(Err(e)) => return Err(WaitError::Stopped(Arc::new(e))),
            Err(_) => {
                return Err(WaitError::Deadline {
                    id: id.as_str().to_owned(),
                    waited: timeout,
                    seen: false,
                });
            }
        };
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        reflector.store.wait_until(id, left, condition).await
    }

    async fn start_for(self, only: Option<&str>) -> Result<Reflector<C::Item, C::Id>> {
        let mut builder = self
            .builder
            .set_fields(self.columns.names().join(","))
            .set_ndjson();
        if let Some(id) = only {
            builder = builder.set_filter(Filter::eq("id", id).to_string());
        }
        let list = builder.request();
        if list.try_clone().is_none() {
            // An argument error: sending reports it.
            list.send_stream().await?;
            return Err(crate::Error::Config(
                "the list request cannot be repeated".to_owned(),
            ));
        }
        let plan = Plan {
            client: list.client().clone(),
            collection: C::EVENT_TYPE,
            list,
            only: only.map(str::to_owned),
            events: self.events,
            max_failures: self.max_failures,
            pause: self.pause,
        };
        let shared = Arc::new(Shared::new(self.columns, self.capacity));
        let events = plan.first::<C::Item>(&shared).await?;
        // Subscribed before the task runs: no change can come first.
        let raw = RawChanges::subscribe(&shared);
        let task = tokio::spawn(plan.run::<C::Item>(shared.clone(), events));
        let store = Store {
            shared,
            _task: Arc::new(TaskGuard(Some(task.abort_handle()))),
            _types: PhantomData,
        };
        let changes = Changes::new(raw, store.clone());
        Ok(Reflector { store, changes })
    }
}

/// A started reflector: its [`Store`], and the [`Changes`] applied since
/// the store's first consistent state.
#[derive(Debug)]
pub struct Reflector<T, K> {
    store: Store<T, K>,
    changes: Changes<T, K>,
}

impl<T: serde::de::DeserializeOwned, K: Id> Reflector<T, K> {
    /// The store (a handle; clone it freely).
    pub fn store(&self) -> Store<T, K> {
        self.store.clone()
    }

    /// The store and every change since it was first consistent: nothing
    /// falls between reading the store and reading the changes.
    ///
    /// ```no_run
    /// # async fn demo(client: xo_sdk::Client) -> xo_sdk::Result<()> {
    /// use futures::StreamExt;
    /// use xo_sdk::prelude::*;
    ///
    /// let (store, mut changes) = client
    ///     .vms()
    ///     .list()
    ///     .reflector()
    ///     .fields([Vm::POWER_STATE])
    ///     .start()
    ///     .await?
    ///     .into_parts();
    /// println!("{} VMs", store.len());
    /// while let Some(change) = changes.next().await {
    ///     println!("{change:?}");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_parts(self) -> (Store<T, K>, Changes<T, K>) {
        (self.store, self.changes)
    }
}
