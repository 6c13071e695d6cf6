//! A hostile, flapping server against the event stream and the task watch,
//! over real HTTP on loopback.
//!
//! The server answers every `GET /events` with XO's `init` and one `ping`,
//! then ends the stream (and every subscription `POST` with 204): measured
//! on the old code, 65 connections in 10 s, 2 ms apart, and the stream
//! never gave up. Every reconnection now waits (backoff with jitter, up to
//! a cap), only a healthy connection resets it, and `max_reconnects` counts
//! the reconnections that did not become healthy.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use support::{Recorded, Reply, Server};
use tokio::time::Instant;
use xo_sdk::RetryConfig;
use xo_sdk::xo::{Event, WatchTasks};

const FLAP: &str = "event: init\ndata: {\"id\":\"c\"}\n\nevent: ping\ndata: {}\n\n";
const CHANGE: &str = "event: init\ndata: {\"id\":\"c\"}\n\nevent: add\ndata: {\"$subscription\":\"VM\",\"id\":\"v1\"}\n\n";

fn sse(body: &str) -> Reply {
    Reply::Respond {
        status: 200,
        headers: vec![("content-type".into(), "text/event-stream".into())],
        body: body.as_bytes().to_vec(),
    }
}

fn is_events_get(req: &Recorded) -> bool {
    req.method == "GET" && req.path().ends_with("/events")
}

/// A server whose `k`-th `GET /events` (0-based) is answered by
/// `events(k)`, subscriptions with 204; the instants of the `GET /events`.
async fn events_server(
    events: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> (Server, Arc<Mutex<Vec<Instant>>>) {
    let times = Arc::new(Mutex::new(Vec::new()));
    let seen = times.clone();
    let server = Server::start(move |req, _| {
        if is_events_get(req) {
            let mut seen = seen.lock().unwrap();
            seen.push(Instant::now());
            events(seen.len() - 1)
        } else if req.method == "POST" && req.path().ends_with("/subscriptions") {
            Reply::status(204)
        } else {
            Reply::json(404, "{}")
        }
    })
    .await;
    (server, times)
}

fn client(server: &Server) -> xo_sdk::Client {
    xo_sdk::Client::builder(server.url())
        .token("tok")
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

/// The most connections a stream can open in `window` when the pause
/// before the `n`-th unhealthy reconnection in a row is at least half of
/// `min(initial * 2^(n-1), cap)`, each attempt taking at least `attempt`.
fn most_connections(
    window: Duration,
    initial: Duration,
    cap: Duration,
    attempt: Duration,
) -> usize {
    let (mut at, mut count, mut ceiling) = (Duration::ZERO, 1, initial);
    loop {
        at += attempt + ceiling / 2;
        if at > window {
            return count;
        }
        count += 1;
        ceiling = (ceiling * 2).min(cap);
    }
}

#[tokio::test]
async fn a_flapping_server_gets_no_hot_loop() {
    let (server, times) = events_server(|_| sse(FLAP)).await;
    let (initial, cap) = (Duration::from_millis(50), Duration::from_millis(400));
    let start = Instant::now();
    let events = client(&server)
        .event_stream()
        .subscribe_all("VM")
        .reconnect_backoff(initial, cap)
        .max_reconnects(1000)
        .open()
        .await
        .unwrap();
    let window = Duration::from_secs(3);
    let reconnected = Arc::new(Mutex::new(0usize));
    let counter = reconnected.clone();
    let reader = tokio::spawn(async move {
        let mut events = events;
        while let Some(item) = events.next().await {
            if let Ok(Event::Reconnected(_)) = item {
                *counter.lock().unwrap() += 1;
            }
        }
    });
    tokio::time::sleep(window).await;
    reader.abort();
    let times = times.lock().unwrap().clone();
    let bound = most_connections(start.elapsed(), initial, cap, Duration::ZERO);
    let gaps: Vec<u128> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    eprintln!(
        "flapping: {} GET /events in {window:?} (bound {bound}), {} Reconnected, gaps {gaps:?} ms",
        times.len(),
        reconnected.lock().unwrap()
    );
    assert!(
        times.len() <= bound,
        "{} connections > {bound}",
        times.len()
    );
    // It does keep reconnecting, at the pace of the backoff.
    assert!(times.len() >= 5, "{} connections", times.len());
    assert!(
        gaps.iter().all(|&g| g >= 25),
        "a pause under initial/2: {gaps:?}"
    );
    // The pauses grow to the cap: the later ones are at least cap/2.
    assert!(gaps[3..].iter().all(|&g| g >= 200), "{gaps:?}");
}

#[tokio::test]
async fn max_reconnects_counts_connections_that_never_became_healthy() {
    let (server, times) = events_server(|_| sse(FLAP)).await;
    let mut events = client(&server)
        .event_stream()
        .subscribe_all("VM")
        .reconnect_backoff(Duration::from_millis(10), Duration::from_millis(40))
        .max_reconnects(3)
        .open()
        .await
        .unwrap();
    let mut reconnected = 0;
    let err = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.next().await.expect("an error before the end") {
                Ok(Event::Reconnected(r)) => {
                    assert_eq!(r.attempts, 1, "each attempt opened a connection");
                    reconnected += 1;
                }
                Ok(other) => panic!("unexpected {other:?}"),
                Err(e) => return e,
            }
        }
    })
    .await
    .expect("the stream gives up");
    assert!(
        events.next().await.is_none(),
        "the stream ends after its error"
    );
    let count = times.lock().unwrap().len();
    eprintln!("max_reconnects(3): {reconnected} Reconnected, {count} GET /events, then: {err}");
    assert_eq!(reconnected, 3);
    assert_eq!(count, 4, "the first connection and 3 reconnections");
    assert!(err.to_string().contains("ended the event stream"), "{err}");
}

#[tokio::test]
async fn default_settings_give_up_on_a_flapping_server() {
    // The measured defect: 65 connections in 10 s with the defaults.
    let (server, times) = events_server(|_| sse(FLAP)).await;
    let start = Instant::now();
    let mut events = client(&server)
        .event_stream()
        .subscribe_all("VM")
        .open()
        .await
        .unwrap();
    let mut reconnected = 0;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(item) = events.next().await {
            match item {
                Ok(Event::Reconnected(_)) => reconnected += 1,
                Ok(other) => panic!("unexpected {other:?}"),
                Err(_) => return,
            }
        }
        panic!("the stream ended without an error");
    })
    .await;
    let count = times.lock().unwrap().len();
    eprintln!(
        "defaults: {count} GET /events, {reconnected} Reconnected, gave up after {:?}",
        start.elapsed()
    );
    assert!(
        ended.is_ok(),
        "still reconnecting after 10 s ({count} connections)"
    );
    let max = xo_sdk::xo::events::DEFAULT_MAX_RECONNECTS as usize;
    assert_eq!(reconnected, max);
    assert_eq!(count, max + 1);
    // 125 + 250 + 500 + 1000 + 2000 ms of pauses at least.
    assert!(
        start.elapsed() >= Duration::from_millis(3875),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_connection_that_delivers_an_event_resets_the_backoff() {
    // Connections 0..=4 flap, 5 delivers an object change, then flapping
    // again: the pause after 5 is back to the initial one.
    let (server, times) = events_server(|k| if k == 5 { sse(CHANGE) } else { sse(FLAP) }).await;
    let mut events = client(&server)
        .event_stream()
        .subscribe_all("VM")
        .reconnect_backoff(Duration::from_millis(50), Duration::from_secs(5))
        .max_reconnects(6)
        .open()
        .await
        .unwrap();
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(item) = events.next().await {
            match item {
                Ok(Event::Reconnected(_)) => seen.push("reconnected"),
                Ok(Event::Add(_)) => seen.push("add"),
                Ok(other) => panic!("unexpected {other:?}"),
                Err(_) => {
                    seen.push("error");
                    break;
                }
            }
        }
    })
    .await
    .expect("the stream gives up");
    let times = times.lock().unwrap().clone();
    let gaps: Vec<u128> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    eprintln!(
        "healthy reset: {} GET /events, gaps {gaps:?} ms, {seen:?}",
        times.len()
    );
    // gaps[k] is the pause before connection k + 1: ceilings 50, 100,
    // 200, 400, 800 before the healthy connection 5, then 50 again.
    assert!(gaps[4] >= 400, "{gaps:?}");
    // (Not reset, it would be at least 800.)
    assert!(gaps[5] < 400, "the backoff was not reset: {gaps:?}");
    assert!(gaps[6] >= 50, "it grows again: {gaps:?}");
    // The count restarted too: 5 unhealthy reconnections before connection
    // 5 were forgiven, so 6 more are made after it (connections 6..=11).
    assert_eq!(times.len(), 12, "{gaps:?}");
    assert_eq!(seen.iter().filter(|s| **s == "add").count(), 1);
    assert_eq!(seen.last(), Some(&"error"));
}

#[tokio::test]
async fn a_connection_open_long_enough_resets_the_backoff() {
    // Connection 3 sends `init` and then nothing: it stays open until the
    // idle timeout (300 ms), longer than `healthy_after` (150 ms).
    let (server, times) = events_server(|k| {
        if k == 3 {
            Reply::Stall {
                status: 200,
                length: 1 << 20,
                partial: b"event: init\ndata: {\"id\":\"c\"}\n\n".to_vec(),
            }
        } else {
            sse(FLAP)
        }
    })
    .await;
    let mut events = client(&server)
        .event_stream()
        .subscribe_all("VM")
        .reconnect_backoff(Duration::from_millis(100), Duration::from_secs(5))
        .healthy_after(Duration::from_millis(150))
        .idle_timeout(Some(Duration::from_millis(300)))
        .max_reconnects(4)
        .open()
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(_)) = events.next().await {}
    })
    .await
    .expect("the stream gives up");
    let times = times.lock().unwrap().clone();
    let gaps: Vec<u128> = times
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    eprintln!(
        "open long enough: {} GET /events, gaps {gaps:?} ms",
        times.len()
    );
    // Pauses 100, 200, 400 (ceilings); connection 3 lasts 300 ms and is
    // healthy: the pause after it is 100 again, and 4 more are allowed.
    assert!(gaps[2] >= 200, "{gaps:?}");
    // (Not reset, it would be 300 + at least 400.)
    assert!(gaps[3] < 300 + 350, "the backoff was not reset: {gaps:?}");
    assert!(gaps[3] >= 300, "connection 3 stayed open: {gaps:?}");
    assert_eq!(times.len(), 8, "{gaps:?}");
}

#[tokio::test]
async fn a_task_watch_timed_out_fast_is_not_reopened_in_a_loop() {
    // XO answers a watch only with the first change; a read timeout
    // shorter than a second ends every wait fast.
    let server = Server::start(|req, _| {
        if req.method == "GET" && req.path().ends_with("/tasks") {
            Reply::Hang
        } else {
            Reply::json(404, "{}")
        }
    })
    .await;
    let read_timeout = Duration::from_millis(300);
    let client = xo_sdk::Client::builder(server.url())
        .token("tok")
        .retry(RetryConfig::disabled())
        .read_timeout(read_timeout)
        .build()
        .unwrap();
    let start = Instant::now();
    let changes = client.tasks().list().changes().await.unwrap();
    let reader = tokio::spawn(async move {
        let mut changes = changes;
        if let Some(item) = changes.next().await {
            panic!("unexpected {item:?}");
        }
    });
    let window = Duration::from_secs(5);
    tokio::time::sleep(window).await;
    assert!(!reader.is_finished(), "the watch ended");
    reader.abort();
    let count = server.count();
    // 100 ms doubling to 5 s (jittered, at least half), after each 300 ms.
    let bound = most_connections(
        start.elapsed(),
        Duration::from_millis(100),
        Duration::from_secs(5),
        read_timeout,
    );
    eprintln!(
        "task watch: {count} GET /tasks in {window:?} (bound {bound}; without pauses {})",
        window.as_millis() / read_timeout.as_millis()
    );
    assert!(count <= bound, "{count} watch requests > {bound}");
    assert!(count >= 4, "the watch is still reopened: {count}");
}
