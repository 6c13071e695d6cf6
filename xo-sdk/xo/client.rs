//! Every method the XO layer adds to [`Client`]: the entry points to XO's
//! tasks and live events. (The runtime's methods are in the runtime's
//! `client.rs`; the generated services' in the generated code.)

use super::event_stream::{EventStream, EventStreamBuilder};
use super::task::Task;
use crate::runtime::Client;
use crate::types::TaskId;

impl Client {
    /// A handle on the task `id`: see [`Task`].
    ///
    /// ```no_run
    /// # async fn demo(client: xo_sdk::Client) -> xo_sdk::Result<()> {
    /// let done = client.task(xo_sdk::types::TaskId::new("0m1pa6y5k")).wait().await?;
    /// println!("{}", done.status());
    /// # Ok(())
    /// # }
    /// ```
    pub fn task(&self, id: impl Into<TaskId>) -> Task {
        Task::new(self, id)
    }

    /// Start setting up a subscription to XO's live object changes: see
    /// [`EventStream`].
    ///
    /// ```no_run
    /// # async fn demo(client: xo_sdk::Client) -> xo_sdk::Result<()> {
    /// use xo_sdk::prelude::*;
    /// let events = client
    ///     .event_stream()
    ///     .subscribe("host", [Host::POWER_STATE.name()])
    ///     .open()
    ///     .await?;
    /// # let _ = events;
    /// # Ok(())
    /// # }
    /// ```
    pub fn event_stream(&self) -> EventStreamBuilder {
        EventStream::builder(self)
    }
}
