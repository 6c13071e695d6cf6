//! Live changes of XO objects from its server-sent events endpoint.
//!
//! XO's `GET /events` is a `text/event-stream`: first an `init` event with
//! the connection id, then a `ping` every 30 s, and, for every collection
//! subscribed on that connection (`POST /events/{id}/subscriptions`), an
//! `add`, `update` or `remove` event per changed object. XO disconnects a
//! client that falls too far behind, and a proxy or an XO restart can cut
//! the stream at any time.
//!
//! [`EventStream`] does all of that: it opens the stream, subscribes, and
//! yields typed [`Event`]s; when the connection is lost it reconnects (a
//! bounded number of times, with backoff), subscribes again and yields
//! [`Event::Reconnected`], because changes made while it was away are
//! **not** replayed: re-read what you track when you see it.
//!
//! # Reconnection policy
//!
//! Every reconnection waits first, so that a server (or a proxy) that
//! accepts the stream and drops it at once is never hammered:
//!
//! * the pause before a reconnection is
//!   [`reconnect_backoff`](EventStreamBuilder::reconnect_backoff)'s initial
//!   value (default [`DEFAULT_RECONNECT_BACKOFF`], 250 ms) doubled per
//!   *unhealthy* reconnection in a row, capped (default
//!   [`DEFAULT_RECONNECT_BACKOFF_MAX`], 10 s), and jittered between half and
//!   all of that value;
//! * a connection is *healthy* once it delivered an event (an object
//!   change, or any event other than `init` and `ping`), or stayed open
//!   for [`healthy_after`](EventStreamBuilder::healthy_after) (default
//!   [`DEFAULT_HEALTHY_AFTER`], 30 s: one of XO's pings). Only a healthy
//!   connection resets the backoff and the count of reconnections;
//! * [`max_reconnects`](EventStreamBuilder::max_reconnects) bounds the
//!   reconnections in a row that did not become healthy: a failed attempt,
//!   and a connection that opened (`init`, subscriptions) but was lost
//!   before it was healthy, both count. Past it the stream ends with the
//!   last error;
//! * a new `init` on the same connection (XO gave it a new id: the
//!   subscriptions are gone) is a reconnection too, and follows the same
//!   rules;
//! * a 401 on reconnection is final only when three come in a row: XO
//!   refuses a valid token for a moment after it restarts.
//!
//! ```no_run
//! # async fn demo(client: xo_sdk::Client) -> xo_sdk::Result<()> {
//! use futures::TryStreamExt;
//! use xo_sdk::prelude::*;
//! use xo_sdk::xo::Event;
//!
//! let mut events = client
//!     .event_stream()
//!     .subscribe("VM", [Vm::NAME_LABEL.name(), Vm::POWER_STATE.name()])
//!     .subscribe_all("task")
//!     .open()
//!     .await?;
//! while let Some(event) = events.try_next().await? {
//!     match event {
//!         Event::Add(c) | Event::Update(c) if c.collection == "VM" => {
//!             let vm: Vm = c.decode()?;
//!             println!("{:?} is {:?}", vm.name_label, vm.power_state);
//!         }
//!         Event::Remove(c) => println!("{} {:?} removed", c.collection, c.id()),
//!         Event::Reconnected(r) => println!("events may have been missed ({})", r.cause),
//!         _ => {}
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::task::{backoff, is_transient};
use crate::runtime::{ByteStream, CallSite, Client, NDJSON_MAX_LINE};
use crate::{Error, Result};

/// Default number of reconnections in a row that do not become healthy
/// (see [`DEFAULT_HEALTHY_AFTER`]) before the stream gives up.
pub const DEFAULT_MAX_RECONNECTS: u32 = 5;
/// Default pause before the first reconnection after a healthy connection
/// (it doubles per unhealthy reconnection in a row; each pause is jittered
/// between half and all of its value).
pub const DEFAULT_RECONNECT_BACKOFF: Duration = Duration::from_millis(250);
/// Default longest pause between reconnection attempts.
pub const DEFAULT_RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Default time after which an open connection counts as healthy even if
/// it delivered no event (one of XO's 30 s pings): a connection lost
/// earlier, having delivered nothing but `init` and pings, is an unhealthy
/// reconnection.
pub const DEFAULT_HEALTHY_AFTER: Duration = Duration::from_secs(30);
/// Default longest silence (no event, no `ping`) before the connection is
/// taken for dead and replaced: three of XO's 30 s pings.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// One change of an XO object, or a fact about the stream itself.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `add`: an object appeared in a subscribed collection.
    Add(Change),
    /// `update`: an object of a subscribed collection changed.
    Update(Change),
    /// `remove`: an object of a subscribed collection was removed.
    Remove(Change),
    /// The connection was lost and a new one is subscribed again: changes
    /// made in between were **not** delivered. Re-read the state you track
    /// (list the collections again).
    Reconnected(Reconnected),
    /// An event this SDK does not know, kept as sent (`ping` and `init`
    /// are handled and never shown).
    Other {
        /// The event name.
        name: String,
        /// The event data, parsed as JSON when it is JSON, a string
        /// otherwise.
        data: Value,
    },
}

impl Event {
    /// The object change, for `Add`, `Update` and `Remove`.
    pub fn change(&self) -> Option<&Change> {
        match self {
            Event::Add(c) | Event::Update(c) | Event::Remove(c) => Some(c),
            _ => None,
        }
    }
}

/// An object of a subscribed collection, as an event carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The collection's XO type, as subscribed (`VM`, `host`, `pool`,
    /// `SR`, `VDI`, `task`, …): the event's `$subscription`.
    pub collection: String,
    /// The object's fields, as subscribed (`$subscription` removed). For a
    /// subscription with a field list, only those fields and `id`.
    pub object: Map<String, Value>,
}

impl Change {
    /// The object's id.
    pub fn id(&self) -> Option<&str> {
        self.object.get("id").and_then(Value::as_str)
    }

    /// One field of the object.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.object.get(field)
    }

    /// The object decoded into a model (`xo_sdk::types::Vm`, …) or the
    /// caller's own type. The generated models accept partial objects.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&Value::Object(self.object.clone())).map_err(|e| Error::Decode {
            site: open_site(),
            reason: crate::runtime::wire::bound(format!("{} event: {e}", self.collection)),
            excerpt: crate::runtime::wire::excerpt(
                Value::Object(self.object.clone()).to_string().as_bytes(),
            ),
        })
    }
}

/// The stream reconnected: see [`Event::Reconnected`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reconnected {
    /// The new connection id.
    pub connection_id: String,
    /// Attempts it took (1 when the first one succeeded).
    pub attempts: u32,
    /// Why the previous connection ended.
    pub cause: String,
}

/// One collection to subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Subscription {
    collection: String,
    /// `None`: every field (`"*"`).
    fields: Option<Vec<String>>,
}

/// Options of an [`EventStream`]; from [`Client::event_stream`].
#[derive(Debug, Clone)]
#[must_use = "nothing is opened until `.open().await`"]
pub struct EventStreamBuilder {
    client: Client,
    subscriptions: Vec<Subscription>,
    max_reconnects: u32,
    backoff: Duration,
    backoff_max: Duration,
    healthy_after: Duration,
    idle_timeout: Option<Duration>,
}

impl EventStreamBuilder {
    /// Subscribe to `collection` (an XO type: `VM`, `VM-template`,
    /// `VM-snapshot`, `host`, `pool`, `SR`, `VDI`, `VBD`, `VIF`, `PIF`,
    /// `network`, `task`, `message`, `alarm`, …) receiving only `fields`:
    /// the names XO gives them, which the models' field constants hold
    /// (`Vm::POWER_STATE.name()` is `power_state`).
    /// `id` is always asked for, so that every event names its object.
    pub fn subscribe<I, S>(mut self, collection: impl Into<String>, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut list: Vec<String> = fields.into_iter().map(|f| f.as_ref().to_owned()).collect();
        if !list.iter().any(|f| f == "id") {
            list.insert(0, "id".to_owned());
        }
        self.add(collection.into(), Some(list));
        self
    }

    /// Subscribe to `collection` receiving whole objects (`"*"`).
    pub fn subscribe_all(mut self, collection: impl Into<String>) -> Self {
        self.add(collection.into(), None);
        self
    }

    fn add(&mut self, collection: String, fields: Option<Vec<String>>) {
        // XO keys subscriptions by collection: the last one wins.
        self.subscriptions.retain(|s| s.collection != collection);
        self.subscriptions.push(Subscription { collection, fields });
    }

    /// How many reconnections in a row that do not become healthy are made
    /// before the stream ends with the last error (default
    /// [`DEFAULT_MAX_RECONNECTS`]; `0` never reconnects: a lost connection
    /// ends the stream with an error). A failed attempt counts, and so does
    /// a connection that opened but was lost before it was healthy (see
    /// [`healthy_after`](Self::healthy_after)), so a server that keeps
    /// dropping new connections cannot make the stream reconnect forever.
    pub fn max_reconnects(mut self, attempts: u32) -> Self {
        self.max_reconnects = attempts;
        self
    }

    /// The pause before every reconnection: `initial` after a healthy
    /// connection, doubling per unhealthy reconnection in a row up to
    /// `max`; each pause is jittered between half and all of its value.
    /// Defaults [`DEFAULT_RECONNECT_BACKOFF`] and
    /// [`DEFAULT_RECONNECT_BACKOFF_MAX`].
    pub fn reconnect_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = initial;
        self.backoff_max = max.max(initial);
        self
    }

    /// How long a connection must stay open to count as healthy when it
    /// delivers no event (default [`DEFAULT_HEALTHY_AFTER`]); a connection
    /// that delivers an event is healthy at once. Losing a healthy
    /// connection resets the backoff and the count of
    /// [`max_reconnects`](Self::max_reconnects).
    pub fn healthy_after(mut self, duration: Duration) -> Self {
        self.healthy_after = duration;
        self
    }

    /// Longest silence (no event, no ping) before the connection is taken
    /// for dead and replaced (default [`DEFAULT_IDLE_TIMEOUT`]; `None`
    /// leaves it to the client's read timeout).
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Open the event stream, read its `init` event and subscribe to every
    /// collection. Every change made after this returns is delivered.
    /// Errors here (refused credentials, an unknown collection: 422) are
    /// returned as they are, without reconnecting.
    pub async fn open(self) -> Result<EventStream> {
        let config = Arc::new(Config {
            client: self.client,
            subscriptions: self.subscriptions,
            max_reconnects: self.max_reconnects,
            backoff: self.backoff,
            backoff_max: self.backoff_max,
            healthy_after: self.healthy_after,
            idle_timeout: self.idle_timeout,
        });
        let conn = Connection::open(&config).await?;
        let connection_id = Arc::new(Mutex::new(conn.id.clone()));
        let machine = Machine {
            config,
            conn: Some(conn),
            queue: VecDeque::new(),
            unhealthy: 0,
            cause: String::new(),
            last_error: None,
            done: false,
            connection_id: connection_id.clone(),
        };
        let inner = futures::stream::unfold(machine, |mut m| async move {
            let item = m.next().await?;
            Some((item, m))
        })
        .boxed();
        Ok(EventStream {
            inner,
            connection_id,
        })
    }
}

struct Config {
    client: Client,
    subscriptions: Vec<Subscription>,
    max_reconnects: u32,
    backoff: Duration,
    backoff_max: Duration,
    healthy_after: Duration,
    idle_timeout: Option<Duration>,
}

/// XO's live object changes as a [`Stream`] of [`Event`]s; see the
/// [module documentation](self).
///
/// Items are errors when one event cannot be decoded (the stream goes on)
/// and, last, when the connection is lost and cannot be re-established
/// (then the stream ends). Dropping the stream closes the connection.
pub struct EventStream {
    inner: futures::stream::BoxStream<'static, Result<Event>>,
    connection_id: Arc<Mutex<String>>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("connection_id", &self.connection_id())
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// Start setting up a subscription (same as [`Client::event_stream`]).
    pub fn builder(client: &Client) -> EventStreamBuilder {
        EventStreamBuilder {
            client: client.clone(),
            subscriptions: Vec::new(),
            max_reconnects: DEFAULT_MAX_RECONNECTS,
            backoff: DEFAULT_RECONNECT_BACKOFF,
            backoff_max: DEFAULT_RECONNECT_BACKOFF_MAX,
            healthy_after: DEFAULT_HEALTHY_AFTER,
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
        }
    }

    /// The id of the current connection (XO's `init` id); it changes on
    /// every reconnection.
    pub fn connection_id(&self) -> String {
        self.connection_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Stream for EventStream {
    type Item = Result<Event>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

fn open_site() -> CallSite {
    let spec = &crate::events::OPEN_EVENTS_STREAM;
    CallSite {
        tool: spec.tool,
        method: spec.method,
        path: spec.path,
    }
}

fn decode_error(reason: impl Into<String>, data: &str) -> Error {
    Error::Decode {
        site: open_site(),
        reason: crate::runtime::wire::bound(reason.into()),
        excerpt: crate::runtime::wire::excerpt(data.as_bytes()),
    }
}

/// One open event stream, subscribed.
struct Connection {
    id: String,
    body: ByteStream,
    decoder: SseDecoder,
    /// When it was subscribed (or got its last `init`).
    since: tokio::time::Instant,
    /// Whether it delivered an event (not `init`, not `ping`) since then.
    delivered: bool,
}

impl Connection {
    /// Open `/events`, read `init`, subscribe every collection.
    async fn open(config: &Config) -> Result<Connection> {
        let body = config.client.events().open_stream().send().await?;
        let mut conn = Connection {
            id: String::new(),
            body,
            decoder: SseDecoder::default(),
            since: tokio::time::Instant::now(),
            delivered: false,
        };
        loop {
            match conn.next_frame(config.idle_timeout).await? {
                None => {
                    return Err(decode_error(
                        "the event stream ended before its `init` event",
                        "",
                    ));
                }
                Some(frame) if frame.event == "init" => {
                    conn.id = init_id(&frame.data)?;
                    break;
                }
                // A ping or anything else before `init`: nothing to do yet.
                Some(_) => {}
            }
        }
        subscribe_all(config, &conn.id).await?;
        conn.since = tokio::time::Instant::now();
        Ok(conn)
    }

    /// Whether the connection delivered an event or stayed open long
    /// enough (see the module's reconnection policy).
    fn healthy(&self, config: &Config) -> bool {
        self.delivered || self.since.elapsed() >= config.healthy_after
    }

    /// The next complete frame; `None` when the server ended the stream.
    async fn next_frame(&mut self, idle: Option<Duration>) -> Result<Option<Frame>> {
        loop {
            if let Some(frame) = self.decoder.next_frame() {
                return Ok(Some(frame));
            }
            let chunk = match idle {
                Some(limit) => match tokio::time::timeout(limit, self.body.next()).await {
                    Ok(chunk) => chunk,
                    Err(_) => {
                        return Err(Error::Timeout {
                            site: open_site(),
                            what: "event stream idle (no ping)",
                        });
                    }
                },
                None => self.body.next().await,
            };
            match chunk {
                // An unfinished frame at the end is dropped (as the SSE
                // specification says).
                None => return Ok(None),
                Some(Err(e)) => return Err(e),
                Some(Ok(bytes)) => self
                    .decoder
                    .push(&bytes)
                    .map_err(|reason| decode_error(reason, ""))?,
            }
        }
    }
}

/// Subscribe connection `id` to every collection of `config`.
async fn subscribe_all(config: &Config, id: &str) -> Result<()> {
    for sub in &config.subscriptions {
        let builder = config.client.events().add_subscription(id, &sub.collection);
        let request = match &sub.fields {
            Some(fields) => builder.fields(fields.iter().cloned()).into_request(),
            None => {
                let mut request = builder.into_request();
                request.body_field("fields", &"*");
                request
            }
        };
        request.send_response().await?;
    }
    Ok(())
}

/// The connection id of an `init` event: `{"id": "…"}` (a number is
/// accepted too).
fn init_id(data: &str) -> Result<String> {
    let value: Value =
        serde_json::from_str(data).map_err(|e| decode_error(format!("`init` event: {e}"), data))?;
    match value.get("id") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(decode_error("`init` event without a connection id", data)),
    }
}

/// The stream's state between two items.
struct Machine {
    config: Arc<Config>,
    conn: Option<Connection>,
    queue: VecDeque<Result<Event>>,
    /// Reconnections since the last healthy connection: failed attempts,
    /// and connections lost (or re-initialised) before they were healthy.
    unhealthy: u32,
    /// Why the last connection ended.
    cause: String,
    /// The last error seen, returned when the stream gives up.
    last_error: Option<Error>,
    done: bool,
    connection_id: Arc<Mutex<String>>,
}

impl Machine {
    async fn next(&mut self) -> Option<Result<Event>> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            let Some(conn) = self.conn.as_mut() else {
                return Some(self.reconnect().await);
            };
            match conn.next_frame(self.config.idle_timeout).await {
                Ok(Some(frame)) => {
                    if frame.event == "init" {
                        // A new connection id on the same stream: the old
                        // subscriptions are gone.
                        self.reinit(&frame.data).await;
                    } else if let Some(item) = event_of(frame) {
                        if item.is_ok() {
                            conn.delivered = true;
                        }
                        return Some(item);
                    }
                }
                Ok(None) => self.lost("the server ended the event stream".to_owned(), None),
                Err(e) => self.lost(e.to_string(), Some(e)),
            }
        }
    }

    fn lost(&mut self, cause: String, error: Option<Error>) {
        tracing::debug!(%cause, "event stream lost");
        self.last_error = error;
        if let Some(conn) = self.conn.take() {
            if conn.healthy(&self.config) {
                self.unhealthy = 0;
            }
        }
        self.cause = cause;
    }

    /// The pause before the next reconnection (the `unhealthy`-th in a
    /// row, counting it).
    fn pause(&self) -> Duration {
        backoff(self.config.backoff, self.config.backoff_max, self.unhealthy)
    }

    async fn reinit(&mut self, data: &str) {
        let Some(conn) = self.conn.as_ref() else {
            return;
        };
        // A reconnection made by the server: the same policy applies.
        if conn.healthy(&self.config) {
            self.unhealthy = 0;
        }
        if self.unhealthy >= self.config.max_reconnects {
            self.lost(
                "the server started new connections (`init`) too often".to_owned(),
                None,
            );
            return;
        }
        self.unhealthy += 1;
        tokio::time::sleep(self.pause()).await;
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        conn.delivered = false;
        let result = match init_id(data) {
            Ok(id) => {
                conn.id = id;
                subscribe_all(&self.config, &conn.id).await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                conn.since = tokio::time::Instant::now();
                let id = conn.id.clone();
                self.set_connection_id(&id);
                self.queue.push_back(Ok(Event::Reconnected(Reconnected {
                    connection_id: id,
                    attempts: 1,
                    cause: "the server started a new connection (`init`)".to_owned(),
                })));
            }
            Err(e) => self.lost(e.to_string(), Some(e)),
        }
    }

    fn set_connection_id(&self, id: &str) {
        *self.connection_id.lock().unwrap_or_else(|e| e.into_inner()) = id.to_owned();
    }

    /// Connect again: `Reconnected`, or the last error (then the stream
    /// ends).
    async fn reconnect(&mut self) -> Result<Event> {
        let mut attempts = 0;
        // 401s in a row: XO refuses a valid token for a moment after it
        // restarts (about 0.4 s measured on xo-server 5.207.2), so a 401
        // on reconnection is final only when it repeats.
        let mut refusals = 0;
        loop {
            if self.unhealthy >= self.config.max_reconnects {
                self.done = true;
                return Err(self.give_up());
            }
            // Every attempt waits, the first one too: a connection lost
            // at once must not make a hot loop.
            self.unhealthy += 1;
            tokio::time::sleep(self.pause()).await;
            attempts += 1;
            match Connection::open(&self.config).await {
                Ok(conn) => {
                    let id = conn.id.clone();
                    self.set_connection_id(&id);
                    self.conn = Some(conn);
                    self.last_error = None;
                    return Ok(Event::Reconnected(Reconnected {
                        connection_id: id,
                        attempts,
                        cause: std::mem::take(&mut self.cause),
                    }));
                }
                Err(e) if is_permanent(&e) && !(is_unauthorized(&e) && refusals < AUTH_RETRIES) => {
                    self.done = true;
                    return Err(e);
                }
                Err(e) => {
                    if is_unauthorized(&e) {
                        refusals += 1;
                    }
                    tracing::debug!(error = %e, attempts, "event stream reconnection failed");
                    self.cause = e.to_string();
                    self.last_error = Some(e);
                }
            }
        }
    }

    /// The error the stream ends with: the last one seen.
    fn give_up(&mut self) -> Error {
        let cause = std::mem::take(&mut self.cause);
        self.last_error.take().unwrap_or_else(|| {
            decode_error(
                format!(
                    "the event stream was lost and not reopened ({} reconnections in a row allowed without a healthy connection): {cause}",
                    self.config.max_reconnects
                ),
                "",
            )
        })
    }
}

/// How many 401 answers in a row a reconnection takes before it gives up
/// (see `EventStream::reconnect`).
const AUTH_RETRIES: u32 = 3;

fn is_unauthorized(e: &Error) -> bool {
    matches!(e, Error::Api(api) if api.status == 401)
}

/// Whether reconnecting cannot help: the server refused the request itself
/// (credentials, permissions, arguments), or the SDK did. A subscription
/// refused with 404 (no such connection: it dropped meanwhile) is worth
/// another connection.
fn is_permanent(e: &Error) -> bool {
    match e {
        Error::Api(api) => {
            let lost_connection =
                api.status == 404 && api.site.tool == crate::events::ADD_EVENT_SUBSCRIPTION.tool;
            !is_transient(e) && !lost_connection
        }
        Error::InvalidArgument { .. } | Error::Config(_) | Error::Redirect { .. } => true,
        _ => false,
    }
}

/// Turn one complete frame into an item, or nothing (a ping).
pub(crate) fn event_of(frame: Frame) -> Option<Result<Event>> {
    let kind = frame.event.as_str();
    if kind == "ping" {
        return None;
    }
    let parsed: std::result::Result<Value, _> = serde_json::from_str(&frame.data);
    let change = |parsed: std::result::Result<Value, serde_json::Error>| -> Result<Change> {
        let value =
            parsed.map_err(|e| decode_error(format!("`{kind}` event: {e}"), &frame.data))?;
        let Value::Object(mut object) = value else {
            return Err(decode_error(
                format!("`{kind}` event: the data is not a JSON object"),
                &frame.data,
            ));
        };
        let collection = match object.remove("$subscription") {
            Some(Value::String(s)) => s,
            _ => {
                return Err(decode_error(
                    format!("`{kind}` event without `$subscription`"),
                    &frame.data,
                ));
            }
        };
        Ok(Change { collection, object })
    };
    Some(match kind {
        "add" => change(parsed).map(Event::Add),
        "update" => change(parsed).map(Event::Update),
        "remove" => change(parsed).map(Event::Remove),
        _ => Ok(Event::Other {
            name: frame.event.clone(),
            data: parsed.unwrap_or(Value::String(frame.data)),
        }),
    })
}

// ---------------------------------------------------------------------------
// text/event-stream decoding

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    /// The `event:` name (`message` when none was given).
    event: String,
    /// The `data:` lines joined with `\n`.
    data: String,
}

/// An incremental `text/event-stream` decoder: lines end with LF, CRLF or
/// CR; `:` starts a comment; `data:` lines accumulate; an empty line
/// dispatches the event (none when no data was given); one space after the
/// colon is dropped; a leading byte-order mark is skipped. Memory is
/// bounded by [`NDJSON_MAX_LINE`] per event.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    /// Bytes of the line not finished yet.
    line: Vec<u8>,
    /// The last line ended with CR: a following LF belongs to it.
    after_cr: bool,
    started: bool,
    event: String,
    data: String,
    has_data: bool,
    frames: VecDeque<Frame>,
}

impl SseDecoder {
    pub(crate) fn push(&mut self, mut bytes: &[u8]) -> std::result::Result<(), &'static str> {
        if !self.started {
            // The byte-order mark may be split across chunks: wait for 3 bytes.
            self.line.extend_from_slice(bytes);
            if self.line.len() < 3 && b"\xEF\xBB\xBF".starts_with(&self.line) {
                return Ok(());
            }
            self.started = true;
            let pending = std::mem::take(&mut self.line);
            let rest = pending.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&pending);
            return self.push_started(rest);
        }
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        self.push_started(bytes)
    }

    fn push_started(&mut self, mut bytes: &[u8]) -> std::result::Result<(), &'static str> {
        while let Some(i) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            let line = if self.line.is_empty() {
                std::borrow::Cow::Borrowed(&bytes[..i])
            } else {
                self.line.extend_from_slice(&bytes[..i]);
                std::borrow::Cow::Owned(std::mem::take(&mut self.line))
            };
            self.line_done(&line)?;
            let cr = bytes[i] == b'\r';
            bytes = &bytes[i + 1..];
            if cr {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.line.extend_from_slice(bytes);
        if self.line.len() + self.data.len() > NDJSON_MAX_LINE {
            return Err("event longer than the limit");
        }
        Ok(())
    }

    fn line_done(&mut self, line: &[u8]) -> std::result::Result<(), &'static str> {
        if line.is_empty() {
            if self.has_data {
                if self.data.ends_with('\n') {
                    self.data.pop();
                }
                let event = std::mem::take(&mut self.event);
                self.frames.push_back(Frame {
                    event: if event.is_empty() {
                        "message".to_owned()
                    } else {
                        event
                    },
                    data: std::mem::take(&mut self.data),
                });
            }
            self.event.clear();
            self.data.clear();
            self.has_data = false;
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (&*text, ""),
        };
        match field {
            "event" => value.clone_into(&mut self.event),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
                if self.data.len() > NDJSON_MAX_LINE {
                    return Err("event longer than the limit");
                }
            }
            // `id` and `retry` are not used by XO; other fields are ignored.
            _ => {}
        }
        Ok(())
    }

    pub(crate) fn next_frame(&mut self) -> Option<Frame> {
        self.frames.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(chunks: &[&[u8]]) -> Vec<(String, String)> {
        let mut d = SseDecoder::default();
        for c in chunks {
            d.push(c).unwrap();
        }
        std::iter::from_fn(|| d.next_frame())
            .map(|f| (f.event, f.data))
            .collect()
    }

    fn f(e: &str, d: &str) -> (String, String) {
        (e.to_owned(), d.to_owned())
    }

    #[test]
    fn xo_frames() {
        assert_eq!(
            frames(&[b"event: init\ndata: {\"id\":\"c1\"}\n\nevent: ping\ndata: {}\n\n"]),
            vec![f("init", "{\"id\":\"c1\"}"), f("ping", "{}")]
        );
    }

    #[test]
    fn multi_line_data_comments_and_defaults() {
        assert_eq!(
            frames(&[b": hello\nevent: add\ndata: {\"a\":\ndata:1}\n\ndata: x\n\n"]),
            vec![f("add", "{\"a\":\n1}"), f("message", "x")]
        );
        // No data: nothing is dispatched, and the event name is reset.
        assert_eq!(
            frames(&[b"event: add\n\ndata: y\n\n"]),
            vec![f("message", "y")]
        );
        // Unknown fields and a field without colon are ignored.
        assert_eq!(
            frames(&[b"id: 3\nretry: 10\nfoo\ndata\n\n"]),
            vec![f("message", "")]
        );
    }

    #[test]
    fn every_line_ending_and_every_split() {
        let text: &[u8] =
            b"\xEF\xBB\xBFevent: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\revent: c\ndata: 3\n\n";
        let expected = vec![f("a", "1"), f("b", "2"), f("c", "3")];
        assert_eq!(frames(&[text]), expected);
        for i in 0..text.len() {
            assert_eq!(frames(&[&text[..i], &text[i..]]), expected, "split at {i}");
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(frames(&bytes), expected);
    }

    #[test]
    fn unfinished_frame_is_kept_until_complete() {
        let mut d = SseDecoder::default();
        d.push(b"event: add\ndata: 1\n").unwrap();
        assert!(d.next_frame().is_none());
        d.push(b"\n").unwrap();
        assert_eq!(d.next_frame().map(|f| f.data).as_deref(), Some("1"));
    }

    #[test]
    fn invalid_utf8_does_not_panic() {
        assert_eq!(frames(&[b"data: \xff\xfe\n\n"]).len(), 1);
    }

    #[test]
    fn events_from_frames() {
        let frame = |event: &str, data: &str| Frame {
            event: event.into(),
            data: data.into(),
        };
        assert!(event_of(frame("ping", "{}")).is_none());
        let Some(Ok(Event::Update(c))) = event_of(frame(
            "update",
            r#"{"$subscription":"VM","id":"v1","name_label":"a"}"#,
        )) else {
            panic!("not an update");
        };
        assert_eq!(c.collection, "VM");
        assert_eq!(c.id(), Some("v1"));
        assert!(c.get("$subscription").is_none());
        assert!(matches!(event_of(frame("add", "nope")), Some(Err(_))));
        assert!(matches!(event_of(frame("add", "[1]")), Some(Err(_))));
        assert!(matches!(event_of(frame("remove", "{}")), Some(Err(_))));
        assert_eq!(
            event_of(frame("surprise", "text")).unwrap().unwrap(),
            Event::Other {
                name: "surprise".into(),
                data: Value::String("text".into())
            }
        );
        assert!(init_id(r#"{"id":7}"#).is_ok());
        assert!(init_id(r#"{"id":""}"#).is_err());
        assert!(init_id("{").is_err());
    }
}
