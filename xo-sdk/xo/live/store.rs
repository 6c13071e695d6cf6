//! The store a reflector keeps up to date, its snapshots, its stream of
//! typed changes and the waits on conditions.

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::broadcast;

use super::table::{Columns, Diff, Row, Rows, diff};
use crate::Error;
use crate::runtime::Id;
use crate::xo::Event;

/// Changes kept for a subscriber that is behind, by default; past that it
/// gets [`LiveChange::Lagged`] and should read the store again.
pub const DEFAULT_CHANGES_CAPACITY: usize = 4096;

/// A change as the store's channel carries it: untyped, so that one channel
/// serves subscribers and waits without decoding anything nobody reads.
#[derive(Debug, Clone)]
pub(crate) enum RawChange {
    Diff(Diff),
    Synced(SyncReport),
}

/// The state shared by the store handles and the task that feeds them.
pub(crate) struct Shared {
    pub(crate) columns: Columns,
    state: RwLock<State>,
    /// `None` once the reflector stopped: subscribers' streams then end.
    sender: Mutex<Option<broadcast::Sender<RawChange>>>,
}

struct State {
    /// Copied on write only while a [`Snapshot`] holds it.
    rows: Arc<Rows>,
    synced: bool,
    /// A list was applied once: later lists are sent as differences.
    listed: bool,
    error: Option<Arc<Error>>,
    rejected: u64,
}

impl Shared {
    pub(crate) fn new(columns: Columns, capacity: usize) -> Shared {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Shared {
            columns,
            state: RwLock::new(State {
                rows: Arc::new(Rows::new()),
                synced: false,
                listed: false,
                error: None,
                rejected: 0,
            }),
            sender: Mutex::new(Some(sender)),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A panic while writing leaves whole rows (each write is one
        // insert or one swap), so the state is still usable.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn sender(&self) -> Option<broadcast::Sender<RawChange>> {
        self.sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn send(&self, change: impl FnOnce() -> RawChange) {
        let guard = self.sender.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = guard.as_ref() {
            // Nobody listening: build nothing.
            if sender.receiver_count() > 0 {
                let _ = sender.send(change());
            }
        }
    }

    /// Whether `row` decodes into `T`: an object that does not is kept
    /// out, so that every read of the store succeeds.
    fn valid<T: DeserializeOwned>(&self, id: &str, row: &Row) -> bool {
        match self.columns.decode::<T>(id, row) {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(%id, error = %e, "live store: object does not decode, left out");
                self.write().rejected += 1;
                false
            }
        }
    }

    /// Apply one object change from the event stream (upsert or removal),
    /// and tell subscribers. Events of other collections and without id
    /// are ignored; `only` restricts the store to one object.
    pub(crate) fn apply<T: DeserializeOwned>(
        &self,
        event: Event,
        collection: &str,
        only: Option<&str>,
    ) {
        let (removal, change) = match event {
            Event::Add(c) | Event::Update(c) => (false, c),
            Event::Remove(c) => (true, c),
            _ => return,
        };
        if change.collection != collection {
            return;
        }
        let Some((id, row)) = self.columns.project(change.object) else {
            return;
        };
        if only.is_some_and(|o| o != &*id) {
            return;
        }
        if removal || !self.valid::<T>(&id, &row) {
            let old = Arc::make_mut(&mut self.write().rows).remove(&id);
            if let Some(old) = old {
                self.send(|| RawChange::Diff(Diff::Removed(id, old)));
            }
            return;
        }
        let old = Arc::make_mut(&mut self.write().rows).insert(id.clone(), row.clone());
        match old {
            None => self.send(|| RawChange::Diff(Diff::Added(id, row))),
            Some(old) if old != row => self.send(|| RawChange::Diff(Diff::Updated(id, old, row))),
            Some(_) => {}
        }
    }

    /// The rows of a fresh list (with `buffered` events applied on top).
    pub(crate) fn rows_of<T: DeserializeOwned>(
        &self,
        objects: Vec<(Arc<str>, Row)>,
        buffered: Vec<Event>,
        collection: &str,
        only: Option<&str>,
    ) -> Rows {
        let mut rows: Rows = Rows::with_capacity(objects.len());
        for (id, row) in objects {
            if only.is_some_and(|o| o != &*id) || !self.valid::<T>(&id, &row) {
                continue;
            }
            rows.insert(id, row);
        }
        for event in buffered {
            let (removal, change) = match event {
                Event::Add(c) | Event::Update(c) => (false, c),
                Event::Remove(c) => (true, c),
                _ => continue,
            };
            if change.collection != collection {
                continue;
            }
            let Some((id, row)) = self.columns.project(change.object) else {
                continue;
            };
            if only.is_some_and(|o| o != &*id) {
                continue;
            }
            if removal || !self.valid::<T>(&id, &row) {
                rows.remove(&id);
            } else {
                rows.insert(id, row);
            }
        }
        rows
    }

    /// Replace every row with those of a fresh list: subscribers get the
    /// differences as changes (none on the first sync, when there is
    /// nothing to differ from), then [`LiveChange::Synced`].
    pub(crate) fn replace(&self, rows: Rows) {
        let (old, initial) = {
            let mut state = self.write();
            let old = std::mem::replace(&mut state.rows, Arc::new(rows));
            state.synced = true;
            (old, !std::mem::replace(&mut state.listed, true))
        };
        let new = self.read().rows.clone();
        let mut report = SyncReport {
            objects: new.len(),
            added: 0,
            updated: 0,
            removed: 0,
            initial,
        };
        if !initial {
            for d in diff(&old, &new) {
                match &d {
                    Diff::Added(..) => report.added += 1,
                    Diff::Updated(..) => report.updated += 1,
                    Diff::Removed(..) => report.removed += 1,
                }
                self.send(|| RawChange::Diff(d));
            }
        }
        self.send(|| RawChange::Synced(report));
    }

    /// The store may miss changes until the next [`replace`](Self::replace).
    pub(crate) fn unsynced(&self) {
        self.write().synced = false;
    }

    /// The reflector stopped for good: subscribers' streams end.
    pub(crate) fn stop(&self, error: Error) {
        {
            let mut state = self.write();
            state.synced = false;
            state.error = Some(Arc::new(error));
        }
        self.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// Counts of a [`LiveChange::Synced`]: the store was made equal to a fresh
/// list of the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncReport {
    /// Objects in the store now.
    pub objects: usize,
    /// Objects the list had that the store had not (sent as `Added`).
    pub added: usize,
    /// Objects whose fields differed (sent as `Updated`).
    pub updated: usize,
    /// Objects the store had that the list had not (sent as `Removed`).
    pub removed: usize,
    /// The first sync: the store was empty and no per-object change was
    /// sent for it (read the store instead).
    pub initial: bool,
}

/// One change of a live store, typed: the model (`Vm`, …) holding the
/// selected fields. From [`Store::changes`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LiveChange<T, K> {
    /// An object appeared.
    Added {
        /// Its id.
        id: K,
        /// Its selected fields.
        object: T,
    },
    /// One of the selected fields of an object changed.
    Updated {
        /// Its id.
        id: K,
        /// The fields before.
        old: T,
        /// The fields now.
        new: T,
    },
    /// An object was removed.
    Removed {
        /// Its id.
        id: K,
        /// Its last known fields.
        last: T,
    },
    /// The store was compared with a fresh list (at start, and after each
    /// reconnection of the event stream, when XO may have left changes
    /// unsent); the differences came just before as `Added`, `Updated` and
    /// `Removed`.
    Synced(SyncReport),
    /// This subscriber fell behind by `missed` changes, now lost to it (the
    /// store itself lost nothing): read the store again.
    Lagged {
        /// How many changes were dropped.
        missed: u64,
    },
}

/// A typed local copy of an XO collection, kept in sync from the event
/// stream by a background task; see the [module](super) documentation.
///
/// Cheap to clone (all clones are the same store). Reads never wait for
/// the network: they see the state after the last applied change. The
/// background task stops when the last clone of the store and the last
/// [`Changes`] stream are dropped.
///
/// ```no_run
/// # async fn demo(client: xo_sdk::Client) -> xo_sdk::Result<()> {
/// use xo_sdk::prelude::*;
///
/// let store = client
///     .vms()
///     .list()
///     .reflector()
///     .fields([Vm::NAME_LABEL, Vm::POWER_STATE])
///     .start()
///     .await?
///     .store();
/// for (id, vm) in store.iter() {
///     println!("{id}: {:?} {:?}", vm.name_label, vm.power_state);
/// }
/// # Ok(())
/// # }
/// ```
pub struct Store<T, K> {
    pub(crate) shared: Arc<Shared>,
    /// Stops the background task when the last handle goes.
    pub(crate) _task: Arc<TaskGuard>,
    pub(crate) _types: PhantomData<fn() -> (T, K)>,
}

impl<T, K> Clone for Store<T, K> {
    fn clone(&self) -> Self {
        Store {
            shared: self.shared.clone(),
            _task: self._task.clone(),
            _types: PhantomData,
        }
    }
}

impl<T, K> fmt::Debug for Store<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.read();
        f.debug_struct("Store")
            .field("fields", &self.shared.columns.names())
            .field("len", &state.rows.len())
            .field("synced", &state.synced)
            .field("stopped", &state.error.is_some())
            .finish()
    }
}

/// Aborts the reflector's task when dropped (held by every store handle
/// and change stream).
pub(crate) struct TaskGuard(pub(crate) Option<tokio::task::AbortHandle>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.abort();
        }
    }
}

impl<T: DeserializeOwned, K: Id> Store<T, K> {
    /// The object with this id, holding the selected fields (every other
    /// field is `None`).
    ///
    /// ```no_run
    /// # fn demo(store: xo_sdk::xo::Store<xo_sdk::types::Vm, xo_sdk::types::VmId>, id: xo_sdk::types::VmId) {
    /// if let Some(vm) = store.get(&id) {
    ///     println!("{:?}", vm.power_state);
    /// }
    /// # }
    /// ```
    pub fn get(&self, id: &K) -> Option<T> {
        let row = self.shared.read().rows.get(id.as_str()).cloned()?;
        self.decode(id.as_str(), &row)
    }

    /// Whether the store has an object with this id.
    pub fn contains(&self, id: &K) -> bool {
        self.shared.read().rows.contains_key(id.as_str())
    }

    /// The number of objects.
    pub fn len(&self) -> usize {
        self.shared.read().rows.len()
    }

    /// Whether the store has no object.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A consistent view of every object at one moment (between two
    /// changes), that later changes do not touch. Taking one costs nothing;
    /// while one is alive, the next change copies the store's index once.
    ///
    /// ```no_run
    /// # fn demo(store: xo_sdk::xo::Store<xo_sdk::types::Vm, xo_sdk::types::VmId>) {
    /// let snapshot = store.snapshot();
    /// let running = snapshot
    ///     .iter()
    ///     .filter(|(_, vm)| vm.power_state == Some(xo_sdk::types::PowerState::Running))
    ///     .count();
    /// println!("{running} of {} running", snapshot.len());
    /// # }
    /// ```
    pub fn snapshot(&self) -> Snapshot<T, K> {
        Snapshot {
            columns: self.shared.columns.clone(),
            rows: self.shared.read().rows.clone(),
            _types: PhantomData,
        }
    }

    /// Every object, from a [`snapshot`](Self::snapshot) taken now, in no
    /// particular order.
    pub fn iter(&self) -> SnapshotIter<T, K> {
        self.snapshot().into_iter()
    }

    /// The selected fields' names (`id` first).
    pub fn fields(&self) -> &[&'static str] {
        self.shared.columns.names()
    }

    /// Whether the store equals the collection as of the last applied
    /// event: false while it re-lists after a reconnection (reads then see
    /// the state before), and after it stopped.
    pub fn is_synced(&self) -> bool {
        self.shared.read().synced
    }

    /// Why the reflector stopped (it gave up reconnecting or re-listing):
    /// the store keeps its last state and changes no more.
    pub fn error(&self) -> Option<Arc<Error>> {
        self.shared.read().error.clone()
    }

    /// How many objects were left out because they did not decode into
    /// the model (each is logged at WARN level).
    pub fn rejected(&self) -> u64 {
        self.shared.read().rejected
    }

    /// The changes applied from now on, typed (see [`LiveChange`]). Take it
    /// before reading the store and nothing is missed in between. A
    /// subscriber more than the reflector's capacity behind gets
    /// [`LiveChange::Lagged`]. The stream ends when the reflector stops.
    ///
    /// ```no_run
    /// # async fn demo(store: xo_sdk::xo::Store<xo_sdk::types::Vm, xo_sdk::types::VmId>) {
    /// use futures::StreamExt;
    /// use xo_sdk::xo::LiveChange;
    ///
    /// let mut changes = store.changes();
    /// while let Some(change) = changes.next().await {
    ///     if let LiveChange::Updated { id, new, .. } = change {
    ///         println!("{id} is now {:?}", new.power_state);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn changes(&self) -> Changes<T, K> {
        Changes {
            raw: self.raw_changes(),
            store: self.clone(),
        }
    }

    pub(crate) fn raw_changes(&self) -> RawChanges {
        RawChanges::subscribe(&self.shared)
    }

    fn decode(&self, id: &str, row: &[Value]) -> Option<T> {
        // Every stored row was decoded once before it was stored.
        self.shared.columns.decode(id, row).ok()
    }

    fn typed(&self, raw: RawChange) -> Option<LiveChange<T, K>> {
        let id = |id: Arc<str>| K::from_wire(id.to_string());
        Some(match raw {
            RawChange::Diff(Diff::Added(i, row)) => LiveChange::Added {
                object: self.decode(&i, &row)?,
                id: id(i),
            },
            RawChange::Diff(Diff::Updated(i, old, new)) => LiveChange::Updated {
                old: self.decode(&i, &old)?,
                new: self.decode(&i, &new)?,
                id: id(i),
            },
            RawChange::Diff(Diff::Removed(i, row)) => LiveChange::Removed {
                last: self.decode(&i, &row)?,
                id: id(i),
            },
            RawChange::Synced(report) => LiveChange::Synced(report),
        })
    }

    /// Wait until the object `id` satisfies `condition`, at most `timeout`:
    /// the object as it was then. The condition is checked now and after
    /// each change of the object (it sees the selected fields only).
    ///
    /// An object not in the store yet is waited for (it may be about to be
    /// created); one that was there and is removed ends the wait with
    /// [`WaitError::Deleted`].
    ///
    /// ```no_run
    /// # async fn demo(store: xo_sdk::xo::Store<xo_sdk::types::Vm, xo_sdk::types::VmId>, id: xo_sdk::types::VmId) -> Result<(), xo_sdk::xo::WaitError> {
    /// use std::time::Duration;
    /// use xo_sdk::types::PowerState;
    ///
    /// // Running, and its guest tools report an address.
    /// let vm = store
    ///     .wait_until(&id, Duration::from_secs(300), |vm| {
    ///         vm.power_state == Some(PowerState::Running)
    ///             && vm.addresses.as_ref().is_some_and(|a| !a.is_empty())
    ///     })
    ///     .await?;
    /// println!("{:?}", vm.addresses);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_until(
        &self,
        id: &K,
        timeout: Duration,
        mut condition: impl FnMut(&T) -> bool,
    ) -> Result<T, WaitError> {
        let deadline = tokio::time::Instant::now() + timeout;
        // Subscribe before the first look, so no change falls in between.
        let mut changes = self.raw_changes();
        let mut seen = false;
        loop {
            match self.get(id) {
                Some(object) => {
                    seen = true;
                    if condition(&object) {
                        return Ok(object);
                    }
                }
                None if seen => {
                    return Err(WaitError::Deleted {
                        id: id.as_str().to_owned(),
                    });
                }
                None => {}
            }
            if let Some(error) = self.error() {
                return Err(WaitError::Stopped(error));
            }
            // Sleep until something about this object may have changed.
            loop {
                let next = tokio::time::timeout_at(deadline, changes.next()).await;
                match next {
                    Err(_) => {
                        return Err(WaitError::Deadline {
                            id: id.as_str().to_owned(),
                            waited: timeout,
                            seen,
                        });
                    }
                    Ok(None) => {
                        return Err(match self.error() {
                            Some(error) => WaitError::Stopped(error),
                            None => WaitError::Stopped(Arc::new(Error::Config(
                                "the live store stopped".to_owned(),
                            ))),
                        });
                    }
                    Ok(Some(Ok(RawChange::Diff(Diff::Removed(i, _))))) if &*i == id.as_str() => {
                        return Err(WaitError::Deleted {
                            id: id.as_str().to_owned(),
                        });
                    }
                    Ok(Some(Ok(RawChange::Diff(Diff::Added(i, _) | Diff::Updated(i, _, _)))))
                        if &*i == id.as_str() =>
                    {
                        break;
                    }
                    Ok(Some(Ok(RawChange::Synced(_)) | Err(_))) => break,
                    Ok(Some(Ok(_))) => {}
                }
            }
        }
    }
}

/// Why a [`Store::wait_until`] ended without its condition.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The condition did not hold before the deadline.
    #[error(
        "object {id}: the condition did not hold within {waited:?}{}",
        if *seen { "" } else { " (the object was never seen)" }
    )]
    Deadline {
        /// The object waited on.
        id: String,
        /// The time waited.
        waited: Duration,
        /// Whether the object was in the store at some point.
        seen: bool,
    },
    /// The object was removed.
    #[error("object {id} was removed")]
    Deleted {
        /// The object waited on.
        id: String,
    },
    /// The reflector stopped (or could not start): the error it stopped
    /// with.
    #[error("the live store stopped: {0}")]
    Stopped(Arc<Error>),
}

/// The raw change channel with lag reported as an item.
pub(crate) struct RawChanges {
    inner: Option<futures::stream::BoxStream<'static, Result<RawChange, u64>>>,
}

impl RawChanges {
    pub(crate) fn subscribe(shared: &Shared) -> RawChanges {
        RawChanges::new(shared.sender().map(|s| s.subscribe()))
    }

    fn new(receiver: Option<broadcast::Receiver<RawChange>>) -> RawChanges {
        let inner = receiver.map(|rx| {
            futures::stream::unfold(rx, |mut rx| async move {
                match rx.recv().await {
                    Ok(change) => Some((Ok(change), rx)),
                    Err(broadcast::error::RecvError::Lagged(n)) => Some((Err(n), rx)),
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            })
            .boxed()
        });
        RawChanges { inner }
    }

    pub(crate) async fn next(&mut self) -> Option<Result<RawChange, u64>> {
        self.inner.as_mut()?.next().await
    }
}

/// The typed changes of a [`Store`], from [`Store::changes`]: a
/// [`Stream`] of [`LiveChange`] that ends when the reflector stops.
pub struct Changes<T, K> {
    raw: RawChanges,
    store: Store<T, K>,
}

impl<T, K> Changes<T, K> {
    pub(crate) fn new(raw: RawChanges, store: Store<T, K>) -> Self {
        Changes { raw, store }
    }
}

impl<T, K> fmt::Debug for Changes<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changes").finish_non_exhaustive()
    }
}

impl<T, K> Unpin for Changes<T, K> {}

impl<T: DeserializeOwned, K: Id> Stream for Changes<T, K> {
    type Item = LiveChange<T, K>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let Some(inner) = self.raw.inner.as_mut() else {
                return Poll::Ready(None);
            };
            match inner.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(missed))) => {
                    return Poll::Ready(Some(LiveChange::Lagged { missed }));
                }
                Poll::Ready(Some(Ok(raw))) => {
                    if let Some(change) = self.store.typed(raw) {
                        return Poll::Ready(Some(change));
                    }
                }
            }
        }
    }
}

/// Every object of a store at one moment; from [`Store::snapshot`].
pub struct Snapshot<T, K> {
    columns: Columns,
    rows: Arc<Rows>,
    _types: PhantomData<fn() -> (T, K)>,
}

impl<T, K> Clone for Snapshot<T, K> {
    fn clone(&self) -> Self {
        Snapshot {
            columns: self.columns.clone(),
            rows: self.rows.clone(),
            _types: PhantomData,
        }
    }
}

impl<T, K> fmt::Debug for Snapshot<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("len", &self.rows.len())
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned, K: Id> Snapshot<T, K> {
    /// The object with this id.
    pub fn get(&self, id: &K) -> Option<T> {
        self.columns
            .decode(id.as_str(), self.rows.get(id.as_str())?)
            .ok()
    }

    /// The number of objects.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there is no object.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The ids, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = K> + '_ {
        self.rows.keys().map(|id| K::from_wire(id.to_string()))
    }

    /// Every object with its id, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (K, T)> + '_ {
        self.rows.iter().filter_map(|(id, row)| {
            let object = self.columns.decode(id, row).ok()?;
            Some((K::from_wire(id.to_string()), object))
        })
    }
}

impl<T: DeserializeOwned, K: Id> IntoIterator for Snapshot<T, K> {
    type Item = (K, T);
    type IntoIter = SnapshotIter<T, K>;

    fn into_iter(self) -> SnapshotIter<T, K> {
        let ids: Vec<Arc<str>> = self.rows.keys().cloned().collect();
        SnapshotIter {
            snapshot: self,
            ids: ids.into_iter(),
        }
    }
}

/// The objects of a [`Snapshot`], owned; from [`Store::iter`].
pub struct SnapshotIter<T, K> {
    snapshot: Snapshot<T, K>,
    ids: std::vec::IntoIter<Arc<str>>,
}

impl<T, K> fmt::Debug for SnapshotIter<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnapshotIter")
            .field("remaining", &self.ids.len())
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned, K: Id> Iterator for SnapshotIter<T, K> {
    type Item = (K, T);

    fn next(&mut self) -> Option<(K, T)> {
        loop {
            let id = self.ids.next()?;
            let Some(row) = self.snapshot.rows.get(&id) else {
                continue;
            };
            if let Ok(object) = self.snapshot.columns.decode(&id, row) {
                return Some((K::from_wire(id.to_string()), object));
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.ids.len()))
    }
}

/// A store fed by hand, with no task and no network: for benchmarks and
/// tests of code that reads stores (not API).
#[doc(hidden)]
pub struct OfflineStore<T, K> {
    store: Store<T, K>,
    collection: &'static str,
}

impl<T: DeserializeOwned, K: Id> OfflineStore<T, K> {
    /// An empty store of `collection` (XO type) with these fields.
    pub fn new(collection: &'static str, fields: &[&'static str]) -> Self {
        OfflineStore {
            store: Store {
                shared: Arc::new(Shared::new(
                    Columns::new(fields.iter().copied()),
                    DEFAULT_CHANGES_CAPACITY,
                )),
                _task: Arc::new(TaskGuard(None)),
                _types: PhantomData,
            },
            collection,
        }
    }

    /// Replace the content with a list's objects.
    pub fn sync(&self, objects: impl IntoIterator<Item = Map<String, Value>>) {
        let shared = &self.store.shared;
        let projected = objects
            .into_iter()
            .filter_map(|o| shared.columns.project(o))
            .collect();
        let rows = shared.rows_of::<T>(projected, Vec::new(), self.collection, None);
        shared.replace(rows);
    }

    /// Apply one event.
    pub fn apply(&self, event: Event) {
        self.store.shared.apply::<T>(event, self.collection, None);
    }

    /// The store.
    pub fn store(&self) -> &Store<T, K> {
        &self.store
    }
}
