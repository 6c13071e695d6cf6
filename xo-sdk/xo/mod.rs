//! Xen Orchestra behaviour written by hand on top of the generated client:
//! typed collections, the filter syntax, actions and their tasks, live
//! events and transfer options.
//!
//! Facts about the API (which tool is a collection of which model, what an
//! action's task returns, which parameter names which kind of object) are
//! data in the API description and its overlay; the generator turns them
//! into the trait implementations of this module. Nothing here lists tools.

mod client;
mod collection;
pub mod event_stream;
mod filter;
pub mod live;
#[doc(hidden)]
#[cfg(feature = "conformance")]
pub mod replay;
mod task;
mod transfer;

pub use crate::types::{Compression, VdiFormat, VmExportFormat};
pub use collection::{ByName, Collection, MarkdownTable, ObjectStream, Typed};
/// The event stream's module under its former name, `xo::events`, kept so
/// that code written against that path still compiles. Not to be confused
/// with the generated service of XO's `/events` operations,
/// [`crate::events`].
#[doc(hidden)]
pub use event_stream as events;
pub use event_stream::{Change, Event, EventStream, EventStreamBuilder, Reconnected};
pub use filter::{Cmp, Filter};
pub use live::{
    Changes, LiveChange, Reflector, ReflectorBuilder, Snapshot, Store, SyncReport, WaitError,
    Watchable,
};
pub use task::{
    Action, FinishedTask, SyncOutcome, Task, TaskChanges, TaskError, TaskEvent, TaskFailure,
    TaskOutput, TaskState, UPDATES_RECHECK, WATCH_HEAD_GRACE, WatchTasks, task_output_from_json,
};
