//! The background task of a reflector: subscribe, list, apply, and start
//! over from a fresh list whenever changes may have been missed.
//!
//! The order is what makes the store exact. The event subscription is open
//! before the list is asked for, and every event received while the list
//! is read is buffered and applied on top of it: an event older than the
//! list carries an object's state at its time, and the next event of the
//! same object (there is one, since the list saw a later state) brings it
//! back, so once the buffer is drained every object is at its latest
//! state. An event stream that reconnected, or an event that did not
//! decode, means XO may have changes it will never send: the task lists
//! again and turns the differences into changes.

use std::sync::Arc;
use std::time::Duration;

use futures::future::{Either, select};
use futures::{StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::store::Shared;
use super::table::Row;
use crate::runtime::{Client, Request};
use crate::xo::{Event, EventStream, EventStreamBuilder};
use crate::{Error, Result};

/// A hook that sets the event stream's options.
pub(crate) type EventOptions = Arc<dyn Fn(EventStreamBuilder) -> EventStreamBuilder + Send + Sync>;

/// What the task needs, fixed at start.
pub(crate) struct Plan {
    pub(crate) client: Client,
    pub(crate) collection: &'static str,
    /// The list request (fields, NDJSON, and the id filter of `only`).
    pub(crate) list: Request,
    pub(crate) only: Option<String>,
    pub(crate) events: Option<EventOptions>,
    pub(crate) max_failures: u32,
    pub(crate) pause: Duration,
}

/// Why a sync did not complete.
enum Interrupted {
    /// The event stream ended (it gave up reconnecting): open a new one.
    Stream(Option<Error>),
    /// The list failed.
    List(Error),
}

impl Plan {
    async fn open(&self, shared: &Shared) -> Result<EventStream> {
        let fields: Vec<&str> = shared.columns.names().to_vec();
        let mut builder = self
            .client
            .event_stream()
            .subscribe(self.collection, fields);
        if let Some(options) = &self.events {
            builder = options(builder);
        }
        builder.open().await
    }

    /// One full list, projected onto the store's columns.
    async fn list(&self, shared: &Shared) -> Result<Vec<(Arc<str>, Row)>> {
        let request = self
            .list
            .try_clone()
            .ok_or_else(|| Error::Config("the list request cannot be repeated".to_owned()))?;
        let mut objects = request.send_stream().await?.ndjson::<Map<String, Value>>();
        let mut rows = Vec::new();
        while let Some(object) = objects.try_next().await? {
            if let Some(row) = shared.columns.project(object) {
                rows.push(row);
            }
        }
        Ok(rows)
    }

    /// List while buffering events, then make the store that list plus
    /// the buffered events. A reconnection or an undecodable event during
    /// the list starts the list again: it may predate changes XO dropped.
    async fn sync<T: DeserializeOwned>(
        &self,
        shared: &Shared,
        events: &mut EventStream,
    ) -> std::result::Result<(), Interrupted> {
        'list: loop {
            let mut buffered: Vec<Event> = Vec::new();
            let list = self.list(shared);
            futures::pin_mut!(list);
            let objects = loop {
                match select(list.as_mut(), events.next()).await {
                    Either::Left((listed, _)) => break listed.map_err(Interrupted::List)?,
                    Either::Right((event, _)) => match event {
                        Some(Ok(Event::Reconnected(_))) | Some(Err(_)) => continue 'list,
                        Some(Ok(event)) => buffered.push(event),
                        None => return Err(Interrupted::Stream(None)),
                    },
                }
            };
            let rows =
                shared.rows_of::<T>(objects, buffered, self.collection, self.only.as_deref());
            shared.replace(rows);
            return Ok(());
        }
    }

    /// Apply events until changes may have been missed (`Ok`: sync again)
    /// or the stream ends (`Err`).
    async fn follow<T: DeserializeOwned>(
        &self,
        shared: &Shared,
        events: &mut EventStream,
    ) -> std::result::Result<(), Interrupted> {
        loop {
            match events.next().await {
                Some(Ok(Event::Reconnected(r))) => {
                    tracing::debug!(cause = %r.cause, "live store: event stream reconnected, listing again");
                    shared.unsynced();
                    return Ok(());
                }
                Some(Ok(event)) => shared.apply::<T>(event, self.collection, self.only.as_deref()),
                Some(Err(e)) => {
                    // One event lost (or the stream's last error, then
                    // `None` follows): the store may miss a change.
                    tracing::debug!(error = %e, "live store: event error, listing again");
                    shared.unsynced();
                    return Ok(());
                }
                None => {
                    shared.unsynced();
                    return Err(Interrupted::Stream(None));
                }
            }
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        crate::xo::task::backoff(self.pause, Duration::from_secs(10), failures)
    }

    /// The first subscription and list, reported to `start`.
    pub(crate) async fn first<T: DeserializeOwned>(&self, shared: &Shared) -> Result<EventStream> {
        let mut events = self.open(shared).await?;
        let mut failures = 0;
        loop {
            match self.sync::<T>(shared, &mut events).await {
                Ok(()) => return Ok(events),
                // Refused (rights, arguments): asking again cannot help.
                Err(Interrupted::List(e)) if !crate::xo::task::is_transient(&e) => return Err(e),
                Err(Interrupted::List(e)) | Err(Interrupted::Stream(Some(e))) => {
                    failures += 1;
                    if failures > self.max_failures {
                        return Err(e);
                    }
                }
                Err(Interrupted::Stream(None)) => {
                    failures += 1;
                    if failures > self.max_failures {
                        return Err(Error::Config(
                            "the event stream ended before the first list".to_owned(),
                        ));
                    }
                    events = self.open(shared).await?;
                }
            }
            tokio::time::sleep(self.backoff(failures)).await;
        }
    }

    /// The task's life after the first sync: follow, and sync again when
    /// needed, until `max_failures` attempts in a row fail.
    pub(crate) async fn run<T: DeserializeOwned>(self, shared: Arc<Shared>, events: EventStream) {
        let mut events = Some(events);
        let mut failures: u32 = 0;
        let mut synced = true;
        let mut last: Option<Error> = None;
        loop {
            if failures > self.max_failures {
                let error = last.take().unwrap_or_else(|| {
                    Error::Config("the live store lost its event stream".to_owned())
                });
                tracing::warn!(error = %error, "live store stopped");
                shared.stop(error);
                return;
            }
            if failures > 0 {
                tokio::time::sleep(self.backoff(failures)).await;
            }
            let Some(stream) = events.as_mut() else {
                match self.open(&shared).await {
                    Ok(stream) => {
                        events = Some(stream);
                        synced = false;
                    }
                    Err(e) => {
                        failures += 1;
                        last = Some(e);
                    }
                }
                continue;
            };
            if !synced {
                match self.sync::<T>(&shared, stream).await {
                    Ok(()) => failures = 0,
                    Err(Interrupted::List(e)) => {
                        failures += 1;
                        last = Some(e);
                        continue;
                    }
                    Err(Interrupted::Stream(e)) => {
                        failures += 1;
                        last = e.or(last.take());
                        events = None;
                        continue;
                    }
                }
            }
            match self.follow::<T>(&shared, stream).await {
                Ok(()) => synced = false,
                Err(_) => {
                    events = None;
                    synced = false;
                }
            }
        }
    }
}
