//! Server-sent events (`/events`), the task watch stream and `wait=true`.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Map, Value, json};
use tokio::sync::{broadcast, watch};

use crate::Shared;
use crate::body;
use crate::collection::{Fields, ListParams, project};
use crate::error::{XoError, XoResult, json_body};
use crate::server::{Ctx, href, json_response, no_content, ok_json, read_json};
use crate::state::{Change, ChangeKind};

/// Removes the connection's subscriptions when its stream ends.
struct ConnGuard {
    sh: Arc<Shared>,
    id: String,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.sh.lock().sse.remove(&self.id);
    }
}

struct SseState {
    guard: ConnGuard,
    rx: broadcast::Receiver<Change>,
    kill: watch::Receiver<u64>,
    ping: tokio::time::Interval,
    init: Option<Bytes>,
}

fn frame(event: &str, data: &Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {}\n\n", json_body(data)))
}

/// `GET /events`
pub(crate) fn open(sh: &Arc<Shared>, _ctx: &Ctx) -> XoResult<Response> {
    let n = sh.sse_seq.fetch_add(1, Ordering::Relaxed);
    let id = {
        let mut store = sh.lock();
        let id = crate::state::uuid_from(0xe7e7_0000 + n);
        store.sse.insert(id.clone(), Default::default());
        id
    };
    let period = sh.config.ping_interval.max(Duration::from_millis(10));
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut kill = sh.sse_generation.subscribe();
    kill.mark_unchanged();
    let st = SseState {
        guard: ConnGuard {
            sh: sh.clone(),
            id: id.clone(),
        },
        rx: sh.tx.subscribe(),
        kill,
        ping,
        init: Some(frame("init", &json!({ "id": id }))),
    };
    let stream = futures::stream::unfold(st, |mut st| async move {
        if let Some(init) = st.init.take() {
            return Some((Ok::<Bytes, Infallible>(init), st));
        }
        loop {
            tokio::select! {
                _ = st.kill.changed() => return None,
                _ = st.ping.tick() => {
                    return Some((Ok(frame("ping", &json!({ "timestamp": crate::server::now_ms() }))), st));
                }
                msg = st.rx.recv() => match msg {
                    Ok(change) => {
                        if let Some(b) = event_for(&st.guard, &change) {
                            return Some((Ok(b), st));
                        }
                    }
                    // too slow: disconnect, the client reconnects and resubscribes
                    Err(_) => return None,
                },
            }
        }
    });
    let mut r = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r)
}

fn event_for(guard: &ConnGuard, change: &Change) -> Option<Bytes> {
    let fields = {
        let store = guard.sh.lock();
        let subs = store.sse.get(&guard.id)?;
        subs.get(change.kind.xo_type)?.clone()
    };
    let mut data = Map::new();
    data.insert("$subscription".into(), json!(change.kind.xo_type));
    match &fields {
        None => {
            if let Some(o) = change.object.as_object() {
                for (k, v) in o {
                    data.insert(k.clone(), v.clone());
                }
            }
        }
        Some(list) => {
            for f in list {
                if let Some(v) = change.object.get(f) {
                    data.insert(f.clone(), v.clone());
                }
            }
            if change.change == ChangeKind::Remove {
                if let Some(id) = change.object.get("id") {
                    data.insert("id".into(), id.clone());
                }
            }
        }
    }
    // XO announces a new task as an `update` (tasks are created pending and
    // only their updates reach the event bus): never `add` for tasks.
    let kind = match change.change {
        ChangeKind::Add if change.kind.coll == "tasks" => ChangeKind::Update,
        other => other,
    };
    Some(frame(kind.as_str(), &Value::Object(data)))
}

/// `POST /events/{id}/subscriptions`
pub(crate) async fn subscribe(
    sh: &Arc<Shared>,
    _ctx: &Ctx,
    conn: &str,
    body: Body,
) -> XoResult<Response> {
    let b = read_json(body, body::ADD_SUBSCRIPTION).await?;
    let collection = b
        .get("collection")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let fields = match b.get("fields") {
        None => None,
        Some(Value::String(_)) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
        ),
        Some(_) => None,
    };
    let mut store = sh.lock();
    let subs = store
        .sse
        .get_mut(conn)
        .ok_or_else(|| XoError::no_such("event", conn))?;
    subs.insert(collection.clone(), fields);
    Ok(json_response(
        StatusCode::CREATED,
        &json!({ "id": collection }),
    ))
}

/// `DELETE /events/{id}/subscriptions/{subscriptionId}`
pub(crate) fn unsubscribe(sh: &Arc<Shared>, conn: &str, sub: &str) -> XoResult<Response> {
    let mut store = sh.lock();
    let subs = store
        .sse
        .get_mut(conn)
        .ok_or_else(|| XoError::no_such("event", conn))?;
    // removing a subscription that is not there is fine, as in XO
    subs.remove(sub);
    Ok(no_content())
}

/// `GET /tasks?ndjson=true&watch=true`: `["update", task]` / `["remove", task]` lines.
///
/// Like XO (whose Node server writes the status line and headers with the
/// first body write), nothing at all is sent until the first line: a
/// watch with no task changing has not answered yet.
pub(crate) async fn watch_tasks(sh: &Arc<Shared>, ctx: &Ctx) -> XoResult<Response> {
    let p = ListParams::from_query(&ctx.query)?;
    if !p.ndjson {
        return Err(XoError::bad_request("watch=true requires ndjson=true"));
    }
    let rx = sh.tx.subscribe();
    let mut kill = sh.sse_generation.subscribe();
    kill.mark_unchanged();
    let fields = p.fields.clone().unwrap_or(Fields::All);
    let filter = p.filter.clone();
    let st = (rx, kill);
    let stream = futures::stream::unfold(st, move |(mut rx, mut kill)| {
        let fields = fields.clone();
        let filter = filter.clone();
        async move {
            loop {
                tokio::select! {
                    _ = kill.changed() => return None,
                    msg = rx.recv() => match msg {
                        Ok(change) => {
                            if change.kind.coll != "tasks" {
                                continue;
                            }
                            if let Some(f) = &filter {
                                if !f.matches(&change.object) {
                                    continue;
                                }
                            }
                            let id = change.object["id"].as_str().unwrap_or_default();
                            let h = href("tasks", id);
                            // a removed task is only named
                            let (ev, obj) = if change.change == ChangeKind::Remove {
                                ("remove", json!({ "id": id, "href": h }))
                            } else {
                                ("update", project(&h, &change.object, Some(&fields)))
                            };
                            let line = format!("{}\n", json_body(&json!([ev, obj])));
                            return Some((Ok::<Bytes, Infallible>(Bytes::from(line)), (rx, kill)));
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => return None,
                    },
                }
            }
        }
    });
    let mut stream = Box::pin(stream);
    // The head waits for the first line; a watch ended before any line (the
    // simulator stops or drops its connections) answers an empty body.
    let first = stream.next().await;
    let body = futures::stream::iter(first).chain(stream);
    let mut r = (StatusCode::OK, Body::from_stream(body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(r)
}

/// Counts a waiting `wait=true` request for as long as it lives.
struct WaitGuard<'a>(&'a Shared);

impl<'a> WaitGuard<'a> {
    fn new(sh: &'a Shared) -> Self {
        sh.wait_requests.fetch_add(1, Ordering::SeqCst);
        sh.waits_in_flight.fetch_add(1, Ordering::SeqCst);
        WaitGuard(sh)
    }
}

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        self.0.waits_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An answer whose body fails right after the head: the server closes the
/// connection mid-answer and the client sees a broken connection.
fn broken_answer() -> Response {
    let body = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped by test hook"))
    });
    let mut r = (StatusCode::OK, Body::from_stream(body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// `GET /tasks/{id}?wait=true`: answers once the task is no longer pending,
/// or breaks the connection when [`crate::Sim::drop_task_waits`] is called.
pub(crate) async fn wait_task(sh: &Arc<Shared>, _ctx: &Ctx, id: &str) -> XoResult<Response> {
    let mut rx = sh.tx.subscribe();
    let mut cut = sh.wait_generation.subscribe();
    cut.mark_unchanged();
    let _guard = WaitGuard::new(sh);
    loop {
        {
            let store = sh.lock();
            let t = store.need("tasks", id)?;
            if t["status"] != "pending" {
                return Ok(ok_json(t));
            }
        }
        tokio::select! {
            _ = cut.changed() => return Ok(broken_answer()),
            msg = rx.recv() => match msg {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => {
                    return Err(XoError::internal("server shutting down"));
                }
            },
        }
    }
}
