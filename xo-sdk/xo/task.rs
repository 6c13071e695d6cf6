//! XO's asynchronous actions and the tasks that run them.
//!
//! An action (`POST …/actions/NAME`) answers `202 Accepted` at once, with
//! the task in a `Location` header and a `{"taskId"}` body; the outcome is
//! only known from the task. With `sync=true` the same action answers when
//! it is done: `204`, `201 {id}` with a `Location`, or `200` with a value,
//! and a failure is an HTTP error. This module types both forms:
//!
//! ```no_run
//! # async fn demo(client: xo_sdk::Client, vm: &xo_sdk::types::VmId) -> Result<(), Box<dyn std::error::Error>> {
//! use xo_sdk::prelude::*;
//!
//! // Asynchronous: a task handle to wait for, poll, follow or abort; its
//! // result is typed by the action (a snapshot gives the snapshot's id).
//! let task = client.vms().snapshot(vm).name_label("before upgrade").send().await?;
//! let snapshot: VmSnapshotId = task.result().await?;
//! println!("snapshot {snapshot}");
//!
//! // Synchronous: the server waits, the answer is the outcome.
//! client.vms().clean_reboot(vm).run_sync().await?;
//! println!("rebooted");
//! # Ok(())
//! # }
//! ```
//!
//! A task's failure is a [`TaskFailure`] carrying XO's message, error name,
//! XAPI code and data; [`TaskError`] joins it with the SDK's own
//! [`Error`](crate::Error) for code that wants one `?`.

use std::fmt::{self, Write as _};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::runtime::{
    CallSite, Client, Id, NdjsonStream, RawResponse, Request, last_segment, percent_decode,
};
use crate::types::{TaskId, TaskStatus};
use crate::xo::Collection;
use crate::{Error, Result};

/// Longest server message kept in a [`TaskFailure`]'s `Display` output.
const DISPLAY_MESSAGE_MAX: usize = 300;

/// How many times in a row [`Task::wait`] may fail to reach XO (the
/// long-poll broke and the follow-up check failed too) before giving up.
const WAIT_MAX_FAILURES: u32 = 5;
/// First pause after a broken long-poll; it doubles per consecutive break.
const WAIT_BACKOFF_INITIAL: Duration = Duration::from_millis(100);
/// Longest pause between two long-polls.
const WAIT_BACKOFF_MAX: Duration = Duration::from_secs(5);
/// A task watch request that ends (read-idle timeout) sooner than this
/// after it was sent is a fast failure: the watch is opened again only after
/// a pause ([`WAIT_BACKOFF_INITIAL`] doubling per fast failure in a row up
/// to [`WAIT_BACKOFF_MAX`], jittered), never in a hot loop.
const WATCH_FAST_FAILURE: Duration = Duration::from_secs(1);
/// First pause when the server answers `wait=true` with a pending task (a
/// server or proxy that does not long-poll): the wait becomes polling.
const POLL_INTERVAL_INITIAL: Duration = Duration::from_millis(500);

// ---------------------------------------------------------------------------
// Actions

/// A generated action builder (`client.vms().start(id)`,
/// `client.pools().create_vm(…)`, …): every tool that the API description
/// declares an action (`x-kind: action`), that is every call XO answers
/// with `202 Accepted` and a task.
///
/// The builders have these methods as inherent methods too (`send` is
/// [`submit`](Self::submit)), so the trait is only needed in generic code:
///
/// * [`submit`](Self::submit): the asynchronous form, a [`Task`] handle
///   whose result is the action's typed [`Output`](Self::Output);
/// * [`run_sync`](Self::run_sync): `sync=true`, the same output at once.
///
/// ```no_run
/// # async fn demo(client: xo_sdk::Client, pool: xo_sdk::types::PoolId, template: xo_sdk::types::VmTemplateId) -> Result<(), xo_sdk::xo::TaskError> {
/// use xo_sdk::prelude::*;
///
/// let task = client
///     .pools()
///     .create_vm(&pool, "web-01", &template)
///     .boot(true)
///     .send()
///     .await?;
/// println!("creating in task {}", task.id());
/// let vm: VmId = task.result().await?;
/// println!("VM {vm} is up");
/// # Ok(())
/// # }
/// ```
pub trait Action: Sized + Send + 'static {
    /// What the action's task gives when it succeeds, as the API
    /// description declares it (`returns` of an `x-kind: action` tool): the
    /// new object's id for a snapshot, clone or create, `()` when the
    /// action only changes state (start, shutdown, connect, …).
    type Output: TaskOutput;

    /// Set the `sync` query parameter (used by [`submit`](Self::submit) and
    /// [`run_sync`](Self::run_sync)).
    #[doc(hidden)]
    fn set_sync(self, sync: bool) -> Self;

    /// The runtime request with every argument applied.
    #[doc(hidden)]
    fn request(self) -> Request;

    /// Submit the action asynchronously (`sync=false`) and return a handle
    /// on its task, read from the `202` answer's `{"taskId"}` body or,
    /// failing that, its `Location` header. The handle follows the task with
    /// the client the builder came from; its [`Task::result`] is the
    /// action's typed [`Output`](Self::Output).
    ///
    /// An answer other than `202` with a task id is an
    /// [`Error::Decode`]: an action that XO ran synchronously has no task
    /// to follow. Errors raised by the action itself only show in the task.
    fn submit(self) -> impl Future<Output = Result<Task<Self::Output>>> + Send {
        let request = self.set_sync(false).request();
        let client = request.client().clone();
        async move {
            let response = request.send_response().await?;
            Ok(Task::from_accepted(client, &response)?.with_output())
        }
    }

    /// Run the action synchronously (`sync=true`): XO answers when it is
    /// done, with the typed [`Output`](Self::Output); a failure is an HTTP
    /// error ([`Error::Api`], typically a 500 whose `server_code` is the
    /// XAPI code). An XO older than the `sync` parameter answers `202` with
    /// a task: it is followed to its end, so the answer is the same.
    fn run_sync(self) -> impl Future<Output = std::result::Result<Self::Output, TaskError>> + Send {
        let request = self.set_sync(true).request();
        let client = request.client().clone();
        async move {
            let response = request.send_response().await?;
            if response.status == 202 {
                let task: Task<Self::Output> =
                    Task::from_accepted(client, &response)?.with_output();
                return task.result().await;
            }
            Ok(Self::Output::from_sync_response(&response)?)
        }
    }
}

/// The result type of an action's task (see [`Action::Output`]): `()`, an
/// object id type, or untyped JSON ([`Value`]).
pub trait TaskOutput: Sized + Send + 'static {
    /// Decode a successful task's `result` (absent when XO recorded none).
    #[doc(hidden)]
    fn from_task_result(result: Option<&Value>) -> std::result::Result<Self, String>;

    /// Decode the answer of the action run with `sync=true`.
    #[doc(hidden)]
    fn from_sync_response(response: &RawResponse) -> Result<Self>;
}

/// [`TaskOutput`] of a model type: the task's result decoded as JSON.
/// Generated code only (the impls of the models that actions return).
#[doc(hidden)]
pub fn task_output_from_json<T: DeserializeOwned>(
    result: Option<&Value>,
) -> std::result::Result<T, String> {
    T::deserialize(result.unwrap_or(&Value::Null)).map_err(|e| e.to_string())
}

impl TaskOutput for () {
    fn from_task_result(_: Option<&Value>) -> std::result::Result<Self, String> {
        Ok(())
    }

    fn from_sync_response(_: &RawResponse) -> Result<Self> {
        Ok(())
    }
}

impl TaskOutput for Value {
    fn from_task_result(result: Option<&Value>) -> std::result::Result<Self, String> {
        Ok(result.cloned().unwrap_or(Value::Null))
    }

    fn from_sync_response(response: &RawResponse) -> Result<Self> {
        response.json()
    }
}

/// An action that makes an object (or gives one a new id) answers its id:
/// in the task's result as `"<id>"` or `{"id": "<id>"}`, with `sync=true`
/// as `201 {id}` and a `Location`.
impl<I: Id> TaskOutput for I {
    fn from_task_result(result: Option<&Value>) -> std::result::Result<Self, String> {
        match result {
            Some(Value::String(id)) => Ok(I::from_wire(id.clone())),
            Some(Value::Object(m)) => match m.get("id") {
                Some(Value::String(id)) => Ok(I::from_wire(id.clone())),
                _ => Err("expected an object id: `{\"id\": …}` or a string".into()),
            },
            _ => Err("expected an object id: `{\"id\": …}` or a string".into()),
        }
    }

    fn from_sync_response(response: &RawResponse) -> Result<Self> {
        response.created()
    }
}

/// What a synchronous action (`sync=true`) answered.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SyncOutcome {
    /// `204 No Content` (or an empty body): the action is done and returns
    /// nothing (start, shutdown, connect, …).
    Done,
    /// The action made an object, or gave one a new id: `201 {id}` with a
    /// `Location` (snapshot, clone, create_vm, create_*network, ACL role
    /// copy), or `200 {id}` for a VDI migration (the VDI's uuid changes).
    Created {
        /// The new object's id.
        id: String,
        /// The `Location` header (`/rest/v0/vms/<id>`), when sent.
        location: Option<String>,
    },
    /// `200` with a result (a backup repository benchmark).
    Value(Value),
    /// `202 Accepted`: the server ran the action asynchronously although
    /// `sync=true` was asked (an XO older than the `sync` parameter). Follow
    /// it with [`Task::new`].
    Accepted {
        /// The task id.
        task_id: TaskId,
        /// The `Location` header, when sent.
        location: Option<String>,
    },
}

impl SyncOutcome {
    /// Interpret a successful answer of a synchronous action.
    pub fn from_response(response: &RawResponse) -> SyncOutcome {
        let location = response.header("location").map(str::to_owned);
        let body: Option<Value> = if response.body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            response.json::<Value>().ok()
        };
        let body_id = body.as_ref().and_then(|b| match b {
            Value::String(s) => Some(s.clone()),
            Value::Object(m) => m.get("id").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        });
        match response.status {
            202 => {
                let task_id = body
                    .as_ref()
                    .and_then(|b| b.get("taskId"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .or_else(|| location.as_deref().and_then(task_id_from_location));
                match task_id {
                    Some(task_id) => SyncOutcome::Accepted {
                        task_id: TaskId::new(task_id),
                        location,
                    },
                    None => body.map_or(SyncOutcome::Done, SyncOutcome::Value),
                }
            }
            201 => match body_id.or_else(|| location.as_deref().and_then(last_segment)) {
                Some(id) => SyncOutcome::Created { id, location },
                None => body.map_or(SyncOutcome::Done, SyncOutcome::Value),
            },
            _ => match body {
                None => SyncOutcome::Done,
                // `{"id": "…"}` and nothing else: an object's new id.
                Some(Value::Object(m)) if m.len() == 1 && body_id.is_some() => {
                    SyncOutcome::Created {
                        id: body_id.unwrap_or_default(),
                        location,
                    }
                }
                Some(v) => SyncOutcome::Value(v),
            },
        }
    }

    /// The created object's id, for [`SyncOutcome::Created`].
    pub fn created_id(&self) -> Option<&str> {
        match self {
            SyncOutcome::Created { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// The task id of a `Location: /rest/v0/tasks/<id>`.
fn task_id_from_location(location: &str) -> Option<String> {
    let path = location.split(['?', '#']).next().unwrap_or_default();
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let id = segments.next()?;
    (segments.next() == Some("tasks") && !id.is_empty())
        .then(|| percent_decode(id))
        .flatten()
}

// ---------------------------------------------------------------------------
// Task handle

/// A handle on one XO task: the client and the task id. Cheap to clone.
///
/// Get one from [`Action::submit`], or from an id with [`Task::new`].
///
/// ```no_run
/// # async fn demo(client: xo_sdk::Client) -> xo_sdk::Result<()> {
/// use std::time::Duration;
/// use xo_sdk::xo::Task;
///
/// let task = Task::new(&client, xo_sdk::types::TaskId::new("0m1pa6y5k"));
/// let now = task.poll().await?;
/// println!("{:?} at {:?}%", now.status(), now.progress());
/// match task.wait_for(Duration::from_secs(600)).await {
///     Ok(done) => println!("finished: {:?}", done.status()),
///     Err(e) if e.is_timeout() => println!("still running after 10 min"),
///     Err(e) => return Err(e),
/// }
/// # Ok(())
/// # }
/// ```
pub struct Task<T = Value> {
    client: Client,
    id: Arc<str>,
    output: PhantomData<fn() -> T>,
}

impl<T> Clone for Task<T> {
    fn clone(&self) -> Self {
        Task {
            client: self.client.clone(),
            id: self.id.clone(),
            output: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("id", &self.id).finish()
    }
}

impl Task {
    /// A handle on the task `id` (as in `/rest/v0/tasks/<id>`), whose
    /// result is untyped JSON; [`with_output`](Task::with_output) types it.
    pub fn new(client: &Client, id: impl Into<TaskId>) -> Task {
        Task {
            client: client.clone(),
            id: Arc::from(id.into().as_str()),
            output: PhantomData,
        }
    }

    /// The handle of the task a `202 Accepted` answer announces.
    pub fn from_accepted(client: Client, response: &RawResponse) -> Result<Task> {
        let body: Option<Value> = response.json().ok();
        let from_body = body
            .as_ref()
            .and_then(|b| b.get("taskId"))
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        let id = from_body.or_else(|| response.header("location").and_then(task_id_from_location));
        match (response.status, id) {
            (202, Some(id)) => Ok(Task {
                client,
                id: Arc::from(id),
                output: PhantomData,
            }),
            (status, _) => Err(Error::Decode {
                site: response.site().clone(),
                reason: format!(
                    "expected `202 Accepted` with a task id (`taskId` or a `Location: …/tasks/<id>`), got HTTP {status}"
                ),
                excerpt: excerpt(&response.body),
            }),
        }
    }
}

impl<T> Task<T> {
    /// The same task, with its result read as `U` by
    /// [`result`](Task::result).
    pub fn with_output<U>(self) -> Task<U> {
        Task {
            client: self.client,
            id: self.id,
            output: PhantomData,
        }
    }

    /// The task id.
    pub fn id(&self) -> TaskId {
        TaskId::new(&*self.id)
    }

    /// The task's path under the API base (`/tasks/<id>`).
    pub fn path(&self) -> String {
        format!("/tasks/{}", self.id)
    }

    /// The client the handle uses.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The task as it is now (one `GET /tasks/{id}`).
    pub async fn poll(&self) -> Result<TaskState> {
        let value = self
            .client
            .tasks()
            .get(self.id())
            .send_as::<Value>()
            .await?;
        TaskState::from_value(value, &get_task_site())
    }

    /// Wait until the task has ended, with XO's long-poll
    /// (`GET /tasks/{id}?wait=true`, which has no server-side timeout).
    ///
    /// The long-poll is re-issued when its connection breaks or the
    /// client's read timeout ends it: the task is checked with one plain
    /// `GET` first (it may have ended meanwhile), then waited for again
    /// after a short pause that grows while breaks repeat (up to 5 s).
    /// `wait` gives up with the last error when XO cannot be reached five
    /// times in a row, and at once on an error that asking again cannot
    /// fix (the task is gone: 404, the credentials are refused: 401/403).
    ///
    /// A server that answers `wait=true` with a still-pending task (one
    /// that does not long-poll) is polled instead, every 0.5 s growing to
    /// 5 s.
    ///
    /// There is no client deadline: see [`wait_for`](Self::wait_for).
    pub async fn wait(&self) -> Result<FinishedTask> {
        self.wait_loop().await
    }

    /// [`wait`](Self::wait) for at most `deadline`; then fail with
    /// [`Error::Timeout`] (`total`, on `get_task`). The task goes on running
    /// in XO: wait again, or [`abort`](Self::abort) it.
    pub async fn wait_for(&self, deadline: Duration) -> Result<FinishedTask> {
        match tokio::time::timeout(deadline, self.wait_loop()).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                site: get_task_site(),
                what: "total",
            }),
        }
    }

    /// [`wait`](Self::wait), then the task's result as `T` (for the task
    /// of an action, its [`Action::Output`]) on success,
    /// [`TaskError::Failed`] when it failed or was interrupted.
    pub async fn result(&self) -> std::result::Result<T, TaskError>
    where
        T: TaskOutput,
    {
        let done = self.wait().await?;
        let value = done.into_result()?;
        T::from_task_result(Some(&value)).map_err(|reason| {
            TaskError::Sdk(Error::Decode {
                site: get_task_site(),
                reason: crate::runtime::wire::bound(format!("task result: {reason}")),
                excerpt: excerpt(value.to_string().as_bytes()),
            })
        })
    }

    /// [`wait`](Self::wait), then the task's result decoded into `U` (for
    /// example a type of your own for a result XO extends).
    pub async fn result_as<U: DeserializeOwned>(&self) -> std::result::Result<U, TaskError> {
        self.wait().await?.result_as()
    }

    /// Ask XO to abort the task (`POST /tasks/{id}/actions/abort`) and wait
    /// until XO has done so. XO sets `abortionRequestedAt`; the task then
    /// ends, usually as `interrupted` (or `failure`), which
    /// [`wait`](Self::wait) reports.
    ///
    /// The abort is itself an action: when XO cannot abort (the task has
    /// already ended, or is unknown), its failure is this call's error,
    /// [`TaskError::Failed`] (or an HTTP error where XO answers with one).
    pub async fn abort(&self) -> std::result::Result<(), TaskError> {
        self.client.tasks().abort(self.id()).run_sync().await
    }

    /// The task's states as XO announces them, from the task watch stream
    /// (`GET /tasks?ndjson=true&watch=true`), ending with its final state.
    ///
    /// The watch is sent first, then the task's current state (one `GET`)
    /// is the first item: a task that ended before the call gives its final
    /// state at once, and no change after the `GET` is lost. Since XO does
    /// not say when a watch is in place (it answers with the first change),
    /// the task is also read again after [`UPDATES_RECHECK`] without news;
    /// and when the watch ends or fails, polling (0.5 s growing to 5 s)
    /// takes over, so the stream always reaches the final state. It ends
    /// after the first state that is not pending or when XO removes the
    /// task; an error reading the task is a last error item.
    ///
    /// ```no_run
    /// # async fn demo(task: xo_sdk::xo::Task) -> xo_sdk::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let mut updates = task.updates().await?;
    /// while let Some(state) = updates.try_next().await? {
    ///     println!("{}: {:?}%", state.status_str(), state.progress());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn updates(
        &self,
    ) -> Result<impl Stream<Item = Result<TaskState>> + Send + Unpin + 'static> {
        let changes = self.client.tasks().list().changes().await?;
        let first = self.poll().await?;
        let state = UpdatesState {
            task: self.clone().with_output::<Value>(),
            pending: Some(first),
            last: None,
            changes: Some(changes),
            quiet: 0,
            done: false,
        };
        Ok(futures::stream::unfold(state, |mut st| async move {
            loop {
                if st.done {
                    return None;
                }
                if let Some(state) = st.pending.take() {
                    if st.last.as_ref() == Some(state.raw()) {
                        continue; // a re-read that shows nothing new
                    }
                    st.done = !state.is_pending();
                    st.last = Some(state.raw().clone());
                    return Some((Ok(state), st));
                }
                match st.next_state().await {
                    Ok(Some(state)) => st.pending = Some(state),
                    Ok(None) => return None,
                    Err(e) => {
                        st.done = true;
                        return Some((Err(e), st));
                    }
                }
            }
        })
        .boxed())
    }

    async fn wait_loop(&self) -> Result<FinishedTask> {
        let site = get_task_site();
        // Consecutive long-polls that ended without an answer.
        let mut breaks = 0u32;
        // Consecutive times XO could not be reached at all.
        let mut failures = 0u32;
        // Consecutive answers that were still pending.
        let mut early = 0u32;
        loop {
            let answer = self
                .client
                .tasks()
                .get(self.id())
                .wait(true)
                .send_as::<Value>()
                .await;
            match answer {
                Ok(value) => {
                    breaks = 0;
                    failures = 0;
                    let state = TaskState::from_value(value, &site)?;
                    match state.into_finished(&site)? {
                        Ok(done) => return Ok(done),
                        Err(_pending) => {
                            early += 1;
                            tokio::time::sleep(backoff(
                                POLL_INTERVAL_INITIAL,
                                WAIT_BACKOFF_MAX,
                                early,
                            ))
                            .await;
                        }
                    }
                }
                Err(e) if !is_transient(&e) => return Err(e),
                Err(e) => {
                    breaks += 1;
                    tracing::debug!(task = %self.id, error = %e, breaks, "task long-poll broke");
                    // The task may have ended while the connection was down.
                    match self.poll().await {
                        Ok(state) => {
                            failures = 0;
                            if let Ok(done) = state.into_finished(&site)? {
                                return Ok(done);
                            }
                        }
                        Err(e) if !is_transient(&e) => return Err(e),
                        Err(e) => {
                            failures += 1;
                            if failures >= WAIT_MAX_FAILURES {
                                return Err(e);
                            }
                        }
                    }
                    tokio::time::sleep(backoff(WAIT_BACKOFF_INITIAL, WAIT_BACKOFF_MAX, breaks))
                        .await;
                }
            }
        }
    }
}

/// How long [`Task::updates`] waits for news from the watch before it
/// reads the task again.
pub const UPDATES_RECHECK: Duration = Duration::from_secs(5);

struct UpdatesState {
    task: Task<Value>,
    /// A state to yield (unless it is the last one yielded).
    pending: Option<TaskState>,
    /// The last state yielded, as sent.
    last: Option<Value>,
    /// The watch; `None` once it ended: the task is polled instead.
    changes: Option<TaskChanges>,
    /// Re-reads in a row without news, for the polling backoff.
    quiet: u32,
    done: bool,
}

impl UpdatesState {
    /// The next state of the task; `None` when XO removed it.
    async fn next_state(&mut self) -> Result<Option<TaskState>> {
        let id = self.task.id.clone();
        let Some(changes) = &mut self.changes else {
            self.quiet += 1;
            tokio::time::sleep(backoff(POLL_INTERVAL_INITIAL, WAIT_BACKOFF_MAX, self.quiet)).await;
            return self.task.poll().await.map(Some);
        };
        loop {
            let recheck = std::pin::pin!(tokio::time::sleep(UPDATES_RECHECK));
            let event = match futures::future::select(changes.next(), recheck).await {
                futures::future::Either::Left((event, _)) => event,
                futures::future::Either::Right(_) => return self.task.poll().await.map(Some),
            };
            match event {
                Some(Ok(TaskEvent::Update(state))) if state.id() == Some(&*id) => {
                    return Ok(Some(state));
                }
                Some(Ok(TaskEvent::Remove(state))) if state.id() == Some(&*id) => return Ok(None),
                Some(Ok(_)) => {}
                Some(Err(e)) if matches!(e, Error::Decode { .. }) => {
                    tracing::debug!(task = %id, error = %e, "task watch line skipped");
                }
                end => {
                    if let Some(Err(e)) = end {
                        tracing::debug!(task = %id, error = %e, "task watch failed; polling");
                    }
                    self.changes = None;
                    return self.task.poll().await.map(Some);
                }
            }
        }
    }
}

fn get_task_site() -> CallSite {
    let spec = &crate::tasks::GET_TASK;
    CallSite {
        tool: spec.tool,
        method: spec.method,
        path: spec.path,
    }
}

/// Whether asking again may succeed: the connection broke, a timeout
/// elapsed, or the server (or a proxy) failed or is overloaded.
pub(crate) fn is_transient(e: &Error) -> bool {
    match e {
        Error::Transport { .. } | Error::Timeout { .. } => true,
        Error::Api(api) => matches!(api.status, 408 | 429) || api.status >= 500,
        _ => false,
    }
}

/// Exponential backoff with jitter: a delay between half and all of
/// `initial * 2^(n-1)`, capped at `max`.
pub(crate) fn backoff(initial: Duration, max: Duration, n: u32) -> Duration {
    let exp = n.saturating_sub(1).min(20);
    let ceiling = initial.saturating_mul(1u32 << exp).min(max);
    let half = ceiling / 2;
    let span = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    half + Duration::from_nanos(if span == 0 { 0 } else { random % span })
}

fn excerpt(bytes: &[u8]) -> String {
    crate::runtime::wire::excerpt(bytes)
}

// ---------------------------------------------------------------------------
// Task states

/// A task as XO described it at one moment: from [`Task::poll`], the watch
/// stream, or [`Task::updates`].
///
/// The accessors read the JSON that XO sent, so an odd field elsewhere in
/// the task never hides its status; [`typed`](Self::typed) decodes the
/// whole [`types::Task`](crate::types::Task).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskState {
    raw: Value,
}

impl TaskState {
    /// Wrap a task object. A watch stream without `fields` sends the
    /// task's href (`"/rest/v0/tasks/<id>"`) instead: it becomes a state
    /// with only `id` and `href`. Anything else that is not an object is an
    /// [`Error::Decode`] for `site`.
    pub fn from_value(raw: Value, site: &CallSite) -> Result<TaskState> {
        match raw {
            Value::Object(_) => Ok(TaskState { raw }),
            Value::String(href) => {
                let id = last_segment(&href).unwrap_or_default();
                Ok(TaskState {
                    raw: serde_json::json!({ "id": id, "href": href }),
                })
            }
            other => Err(Error::Decode {
                site: site.clone(),
                reason: "a task is a JSON object".into(),
                excerpt: excerpt(other.to_string().as_bytes()),
            }),
        }
    }

    /// The task id (a short string, not a uuid).
    pub fn id(&self) -> Option<&str> {
        self.raw.get("id").and_then(Value::as_str)
    }

    /// The status (`pending`, `success`, `failure`, `interrupted`; an
    /// unknown value is kept in [`TaskStatus::Unknown`]), if sent.
    pub fn status(&self) -> Option<TaskStatus> {
        self.raw
            .get("status")
            .and_then(Value::as_str)
            .map(TaskStatus::from_wire)
    }

    /// The status as sent, or `""` when missing.
    pub fn status_str(&self) -> &str {
        self.raw
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Whether the task is still running (`status` is `pending`).
    pub fn is_pending(&self) -> bool {
        self.status() == Some(TaskStatus::Pending)
    }

    /// Progress in percent, when the task reports it (`progress`, or
    /// `properties.progress` for some XO tasks).
    pub fn progress(&self) -> Option<f64> {
        self.raw
            .get("progress")
            .and_then(Value::as_f64)
            .or_else(|| self.property("progress").and_then(Value::as_f64))
    }

    /// The task's name (`properties.name`, e.g. `REST API: start VM`).
    pub fn name(&self) -> Option<&str> {
        self.property("name").and_then(Value::as_str)
    }

    /// The id of the object the task acts on (`properties.objectId`).
    pub fn object_id(&self) -> Option<&str> {
        self.property("objectId").and_then(Value::as_str)
    }

    /// One of the task's `properties`.
    pub fn property(&self, name: &str) -> Option<&Value> {
        self.raw.get("properties").and_then(|p| p.get(name))
    }

    /// Start time, Unix milliseconds.
    pub fn start(&self) -> Option<i64> {
        self.raw.get("start").and_then(Value::as_i64)
    }

    /// End time, Unix milliseconds, once ended.
    pub fn end(&self) -> Option<i64> {
        self.raw.get("end").and_then(Value::as_i64)
    }

    /// Whether someone asked XO to abort the task (`abortionRequestedAt`).
    pub fn abortion_requested(&self) -> bool {
        self.raw
            .get("abortionRequestedAt")
            .is_some_and(|v| !v.is_null())
    }

    /// The task's `result` member, as sent.
    pub fn result_value(&self) -> Option<&Value> {
        self.raw.get("result")
    }

    /// The task as XO sent it.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Consume into the JSON XO sent.
    pub fn into_raw(self) -> Value {
        self.raw
    }

    /// The whole task decoded into the typed model.
    pub fn typed(&self) -> Result<crate::types::Task> {
        crate::types::Task::deserialize(&self.raw).map_err(|e| Error::Decode {
            site: get_task_site(),
            reason: crate::runtime::wire::bound(e.to_string()),
            excerpt: excerpt(self.raw.to_string().as_bytes()),
        })
    }

    /// `Ok` when the task has ended, `Err(self)` while it is pending. A
    /// task without a status is an [`Error::Decode`] for `site`.
    fn into_finished(
        self,
        site: &CallSite,
    ) -> Result<std::result::Result<FinishedTask, TaskState>> {
        match self.status() {
            None => Err(Error::Decode {
                site: site.clone(),
                reason: "the task has no `status`".into(),
                excerpt: excerpt(self.raw.to_string().as_bytes()),
            }),
            Some(TaskStatus::Pending) => Ok(Err(self)),
            Some(status) => Ok(Ok(FinishedTask {
                state: self,
                status,
            })),
        }
    }
}

/// A task that has ended (from [`Task::wait`]): succeeded, failed or was
/// interrupted. It dereferences to its [`TaskState`].
///
/// ```no_run
/// # async fn demo(task: xo_sdk::xo::Task) -> xo_sdk::Result<()> {
/// let done = task.wait().await?;
/// match done.into_result() {
///     Ok(value) => println!("result: {value}"),
///     Err(failure) => println!(
///         "{} ({:?}, XAPI code {:?})",
///         failure.message, failure.name, failure.code
///     ),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedTask {
    state: TaskState,
    status: TaskStatus,
}

impl std::ops::Deref for FinishedTask {
    type Target = TaskState;
    fn deref(&self) -> &TaskState {
        &self.state
    }
}

impl FinishedTask {
    /// The final status (never `pending`).
    pub fn status(&self) -> &TaskStatus {
        &self.status
    }

    /// Whether the task succeeded.
    pub fn is_success(&self) -> bool {
        self.status == TaskStatus::Success
    }

    /// The failure, unless the task succeeded.
    pub fn failure(&self) -> Option<TaskFailure> {
        (!self.is_success()).then(|| TaskFailure::from_state(&self.state, &self.status))
    }

    /// The result: the action's value on success (`null` when it has none),
    /// the [`TaskFailure`] otherwise (a status other than `success`,
    /// including one this SDK does not know, is a failure).
    pub fn into_result(self) -> std::result::Result<Value, Box<TaskFailure>> {
        if self.is_success() {
            let FinishedTask { state, .. } = self;
            let mut raw = state.raw;
            Ok(raw
                .as_object_mut()
                .and_then(|m| m.remove("result"))
                .unwrap_or(Value::Null))
        } else {
            Err(Box::new(TaskFailure::from_state(&self.state, &self.status)))
        }
    }

    /// The result decoded into `T`; a failed task is
    /// [`TaskError::Failed`], a result that does not decode is
    /// [`TaskError::Sdk`] with an [`Error::Decode`].
    pub fn result_as<T: DeserializeOwned>(&self) -> std::result::Result<T, TaskError> {
        if let Some(failure) = self.failure() {
            return Err(failure.into());
        }
        let result = self.result_value().unwrap_or(&Value::Null);
        T::deserialize(result).map_err(|e| {
            TaskError::Sdk(Error::Decode {
                site: get_task_site(),
                reason: crate::runtime::wire::bound(format!("task result: {e}")),
                excerpt: excerpt(result.to_string().as_bytes()),
            })
        })
    }

    /// The state it ended in.
    pub fn into_state(self) -> TaskState {
        self.state
    }
}

/// How a task failed, as XO recorded it in the task's `result`
/// (`{message, name, stack, code?, params?, data?}`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TaskFailure {
    /// The task id.
    pub task_id: TaskId,
    /// The final status: `failure`, `interrupted`, or a value this SDK does
    /// not know.
    pub status: TaskStatus,
    /// XO's message (`result.message`), e.g.
    /// `VM_BAD_POWER_STATE(OpaqueRef:…, halted, running)`.
    pub message: String,
    /// The error's name (`result.name`): `XapiError`, `Error`, …
    pub name: Option<String>,
    /// The XAPI or XO error code (`result.code`, or `result.data.code`).
    pub code: Option<String>,
    /// The error's `data` (`result.data`).
    pub data: Option<Value>,
    /// Whether an abort was requested before the task ended.
    pub aborted: bool,
    /// The whole `result` as sent (`null` when missing).
    pub result: Value,
}

impl TaskFailure {
    fn from_state(state: &TaskState, status: &TaskStatus) -> TaskFailure {
        let result = state.result_value().cloned().unwrap_or(Value::Null);
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let message = text(result.get("message"))
            .or_else(|| result.as_str().map(str::to_owned))
            .or_else(|| text(result.get("error")))
            .unwrap_or_else(|| format!("the task ended with status `{status}`"));
        let data = result.get("data").cloned();
        let code =
            text(result.get("code")).or_else(|| text(data.as_ref().and_then(|d| d.get("code"))));
        TaskFailure {
            task_id: TaskId::new(state.id().unwrap_or_default()),
            status: status.clone(),
            name: text(result.get("name")),
            code,
            data,
            aborted: state.abortion_requested(),
            message,
            result,
        }
    }

    /// Whether the task was interrupted (status `interrupted`, or an abort
    /// was requested).
    pub fn is_interrupted(&self) -> bool {
        self.status == TaskStatus::Interrupted || self.aborted
    }
}

impl fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.status {
            TaskStatus::Interrupted => "was interrupted",
            _ if self.aborted => "was aborted",
            _ => "failed",
        };
        write!(f, "XO task {} {what}: ", self.task_id)?;
        // One line, bounded: XAPI messages can be long and multi-line.
        for (count, c) in self.message.chars().enumerate() {
            if count == DISPLAY_MESSAGE_MAX {
                return f.write_str("…");
            }
            f.write_char(if c.is_control() { ' ' } else { c })?;
        }
        Ok(())
    }
}

impl std::error::Error for TaskFailure {}

/// Running a task to its end failed: XO ran it and it failed, or the SDK
/// could not start, follow or decode it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// XO ran the task and it failed or was interrupted.
    #[error(transparent)]
    Failed(Box<TaskFailure>),
    /// Starting, following or decoding the task failed.
    #[error(transparent)]
    Sdk(#[from] Error),
}

impl From<TaskFailure> for TaskError {
    fn from(f: TaskFailure) -> Self {
        TaskError::Failed(Box::new(f))
    }
}

impl From<Box<TaskFailure>> for TaskError {
    fn from(f: Box<TaskFailure>) -> Self {
        TaskError::Failed(f)
    }
}

impl TaskError {
    /// The task's failure, if XO ran it and it failed.
    pub fn failure(&self) -> Option<&TaskFailure> {
        match self {
            TaskError::Failed(f) => Some(f),
            TaskError::Sdk(_) => None,
        }
    }

    /// The SDK error, if the task could not be started or followed.
    pub fn sdk(&self) -> Option<&Error> {
        match self {
            TaskError::Sdk(e) => Some(e),
            TaskError::Failed(_) => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Watch stream

/// One line of XO's task watch stream.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TaskEvent {
    /// `["update", task]`: a task was created or changed.
    Update(TaskState),
    /// `["remove", task]`: a task was removed.
    Remove(TaskState),
}

impl TaskEvent {
    /// The task the event is about.
    pub fn state(&self) -> &TaskState {
        match self {
            TaskEvent::Update(s) | TaskEvent::Remove(s) => s,
        }
    }
}

/// The task list's change stream: implemented for `client.tasks().list()`.
pub trait WatchTasks: Sized + Send + 'static {
    /// Open XO's task watch stream (`GET /tasks?ndjson=true&watch=true`,
    /// whole objects with `fields=*`). Only changes are sent: list the tasks
    /// first for the current ones. A `filter` set on the builder applies to
    /// the stream.
    ///
    /// XO sends nothing, not even its status line, until the first task
    /// changes, so a watch cannot be seen to be open. The request is sent in
    /// the background at once; this returns when XO has answered, or after
    /// [`WATCH_HEAD_GRACE`] (the request is on its way by then), so that it
    /// can come before the action whose task it watches, or after it. A
    /// refusal that XO sends at once (401, 403, 422) is this call's error.
    /// While no task changes, the client's read timeout ends the wait for
    /// XO's answer: the watch is then opened again, without an error item,
    /// at once when the wait lasted at least a second; after a pause (100
    /// ms doubling per such re-open in a row, up to 5 s, jittered) when it
    /// ended sooner (a very short read timeout, or a server or proxy that
    /// times the request out at once), so the watch never spins. Changes
    /// made during a pause are not seen.
    ///
    /// ```no_run
    /// # async fn demo(client: xo_sdk::Client) -> xo_sdk::Result<()> {
    /// use futures::TryStreamExt;
    /// use xo_sdk::xo::{TaskEvent, WatchTasks};
    ///
    /// let mut changes = client.tasks().list().changes().await?;
    /// while let Some(event) = changes.try_next().await? {
    ///     if let TaskEvent::Update(task) = event {
    ///         println!("{:?} {} {:?}%", task.name(), task.status_str(), task.progress());
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    fn changes(self) -> impl Future<Output = Result<TaskChanges>> + Send;
}

/// How long [`WatchTasks::changes`] waits for XO's answer before it
/// returns a watch that XO has not answered yet (XO answers with the first
/// change).
pub const WATCH_HEAD_GRACE: Duration = Duration::from_millis(250);

impl WatchTasks for crate::tasks::ListTasks {
    fn changes(self) -> impl Future<Output = Result<TaskChanges>> + Send {
        let request = Collection::set_ndjson(Collection::set_fields(self.watch(true), "*".into()))
            .into_request();
        async move {
            let site = request.site();
            let mut changes = TaskChanges::open(request, site);
            changes.settle(WATCH_HEAD_GRACE).await?;
            Ok(changes)
        }
    }
}

/// The stream of [`TaskEvent`]s from [`WatchTasks::changes`].
///
/// A line that is not `["update"|"remove", task]` is an
/// [`Error::Decode`] item and the stream goes on; a broken connection is a
/// last error item. The stream ends when the server ends it: changes after
/// that are not seen. Dropping it closes the connection (or stops the
/// request that XO has not answered yet).
pub struct TaskChanges {
    state: WatchState,
    /// The request, to open the watch again when the wait for XO's answer
    /// times out; `None` when it cannot be sent twice.
    request: Option<Request>,
    site: CallSite,
    /// When the current watch request was sent.
    sent: tokio::time::Instant,
    /// Re-opens in a row after a request that ended sooner than
    /// [`WATCH_FAST_FAILURE`].
    fast_failures: u32,
}

enum WatchState {
    /// Waiting before the watch is opened again: the last request ended
    /// too fast.
    Pausing(Pin<Box<tokio::time::Sleep>>),
    /// Sent; XO has not answered yet.
    Opening(tokio::task::JoinHandle<Result<crate::runtime::ByteStream>>),
    Open(NdjsonStream<Value>),
    Done,
}

impl TaskChanges {
    fn open(request: Request, site: CallSite) -> TaskChanges {
        let again = request.try_clone();
        TaskChanges {
            state: WatchState::Opening(tokio::spawn(request.send_stream())),
            request: again,
            site,
            sent: tokio::time::Instant::now(),
            fast_failures: 0,
        }
    }

    /// XO did not answer before the read timeout: open the watch again, at
    /// once if the wait was long, after a growing pause if it was not.
    fn reopen_later(&mut self) {
        if self.sent.elapsed() >= WATCH_FAST_FAILURE {
            self.fast_failures = 0;
            self.reopen();
        } else {
            self.fast_failures = self.fast_failures.saturating_add(1);
            let pause = backoff(WAIT_BACKOFF_INITIAL, WAIT_BACKOFF_MAX, self.fast_failures);
            tracing::debug!(
                ?pause,
                fast_failures = self.fast_failures,
                "task watch timed out fast; pausing before opening it again"
            );
            self.state = WatchState::Pausing(Box::pin(tokio::time::sleep(pause)));
        }
    }

    /// Send the watch request again.
    fn reopen(&mut self) {
        let Some(request) = self.request.take() else {
            self.state = WatchState::Done;
            return;
        };
        self.request = request.try_clone();
        self.sent = tokio::time::Instant::now();
        self.state = WatchState::Opening(tokio::spawn(request.send_stream()));
    }

    /// Wait up to `grace` for XO's answer; its error if it is a refusal.
    async fn settle(&mut self, grace: Duration) -> Result<()> {
        let WatchState::Opening(handle) = &mut self.state else {
            return Ok(());
        };
        let Ok(joined) = tokio::time::timeout(grace, handle).await else {
            return Ok(()); // not answered yet: XO waits for a change
        };
        match joined {
            Ok(Ok(body)) => {
                self.state = WatchState::Open(body.ndjson());
                Ok(())
            }
            Ok(Err(e)) => {
                self.state = WatchState::Done;
                Err(e)
            }
            Err(join) => {
                self.state = WatchState::Done;
                stopped(join);
                Ok(())
            }
        }
    }

    fn event(&self, line: Value) -> Result<TaskEvent> {
        let bad = |reason: &str, line: &Value| Error::Decode {
            site: self.site.clone(),
            reason: crate::runtime::wire::bound(format!("task watch line: {reason}")),
            excerpt: excerpt(line.to_string().as_bytes()),
        };
        let Some([kind, object]) = line
            .as_array()
            .and_then(|a| <&[Value; 2]>::try_from(a.as_slice()).ok())
        else {
            return Err(bad("expected a two-element array", &line));
        };
        let state = TaskState::from_value(object.clone(), &self.site)?;
        match kind.as_str() {
            Some("update") => Ok(TaskEvent::Update(state)),
            Some("remove") => Ok(TaskEvent::Remove(state)),
            _ => Err(bad("expected `update` or `remove`", &line)),
        }
    }
}

impl Stream for TaskChanges {
    type Item = Result<TaskEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match &mut self.state {
                WatchState::Done => return Poll::Ready(None),
                WatchState::Pausing(sleep) => {
                    std::task::ready!(sleep.as_mut().poll(cx));
                    self.reopen();
                }
                WatchState::Opening(handle) => {
                    let joined = std::task::ready!(Pin::new(handle).poll(cx));
                    match joined {
                        Ok(Ok(body)) => self.state = WatchState::Open(body.ndjson()),
                        // No change for the read timeout: XO has not
                        // answered, which is not an error. Ask again.
                        Ok(Err(Error::Timeout {
                            what: "read idle", ..
                        })) if self.request.is_some() => self.reopen_later(),
                        Ok(Err(e)) => {
                            self.state = WatchState::Done;
                            return Poll::Ready(Some(Err(e)));
                        }
                        Err(join) => {
                            self.state = WatchState::Done;
                            stopped(join);
                        }
                    }
                }
                WatchState::Open(lines) => {
                    return match std::task::ready!(Pin::new(lines).poll_next(cx)) {
                        Some(Ok(line)) => Poll::Ready(Some(self.event(line))),
                        Some(Err(e)) => Poll::Ready(Some(Err(e))),
                        None => {
                            self.state = WatchState::Done;
                            Poll::Ready(None)
                        }
                    };
                }
            }
        }
    }
}

/// The watch request's task ended without an answer: a panic in it is
/// passed on; otherwise it was cancelled (only `Drop` does that).
fn stopped(join: tokio::task::JoinError) {
    if let Ok(panic) = join.try_into_panic() {
        std::panic::resume_unwind(panic);
    }
}

impl fmt::Debug for TaskChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            WatchState::Pausing(_) => "pausing before opening again",
            WatchState::Opening(_) => "waiting for XO's answer",
            WatchState::Open(_) => "open",
            WatchState::Done => "ended",
        };
        f.debug_struct("TaskChanges")
            .field("site", &self.site)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl Drop for TaskChanges {
    fn drop(&mut self) {
        if let WatchState::Opening(handle) = &self.state {
            handle.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            task_id_from_location("/rest/v0/tasks/0m1pa6y5k").as_deref(),
            Some("0m1pa6y5k")
        );
        assert_eq!(
            task_id_from_location("https://xo/rest/v0/tasks/a%20b?x=1").as_deref(),
            Some("a b")
        );
        assert_eq!(task_id_from_location("/rest/v0/vms/x"), None);
        assert_eq!(task_id_from_location("/rest/v0/tasks/"), None);
        assert_eq!(task_id_from_location("/rest/v0/tasks/%zz"), None);
        assert_eq!(last_segment("/rest/v0/vms/abc").as_deref(), Some("abc"));
        assert_eq!(last_segment(""), None);
    }

    #[test]
    fn backoff_is_bounded() {
        for n in 0..40 {
            let d = backoff(Duration::from_millis(100), Duration::from_secs(5), n);
            assert!(d <= Duration::from_secs(5));
        }
        assert_eq!(backoff(Duration::ZERO, Duration::ZERO, 3), Duration::ZERO);
    }

    fn finished(raw: Value) -> FinishedTask {
        let site = get_task_site();
        TaskState::from_value(raw, &site)
            .unwrap()
            .into_finished(&site)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn failures_from_odd_results() {
        // No result at all.
        let f = finished(serde_json::json!({"id": "t", "status": "failure"}))
            .into_result()
            .unwrap_err();
        assert_eq!(f.message, "the task ended with status `failure`");
        // A bare string, a control character, an unknown status.
        let f =
            finished(serde_json::json!({"id": "t", "status": "cancelled", "result": "bad\nthing"}))
                .into_result()
                .unwrap_err();
        assert_eq!(f.status, TaskStatus::Unknown("cancelled".into()));
        assert_eq!(f.to_string(), "XO task t failed: bad thing");
        // XO's shape.
        let f = finished(serde_json::json!({
            "id": "t", "status": "interrupted", "abortionRequestedAt": 1,
            "result": {"message": "aborted", "name": "AbortError", "data": {"code": "X"}}
        }))
        .into_result()
        .unwrap_err();
        assert!(f.is_interrupted() && f.aborted);
        assert_eq!(f.code.as_deref(), Some("X"));
        assert_eq!(f.name.as_deref(), Some("AbortError"));
    }

    #[test]
    fn statusless_and_non_object_tasks_are_errors() {
        let site = get_task_site();
        let s = TaskState::from_value(serde_json::json!({"id": "t"}), &site).unwrap();
        assert!(s.into_finished(&site).is_err());
        assert!(TaskState::from_value(serde_json::json!(3), &site).is_err());
        let s = TaskState::from_value(serde_json::json!("/rest/v0/tasks/abc"), &site).unwrap();
        assert_eq!(s.id(), Some("abc"));
    }
}
