//! The defects a real xo-server (5.207.2, `conformance/real/`) showed, each
//! over real HTTP against xo-sim, which now behaves as the real server does:
//!
//! 1. a new backup repository has `error: ""` (a string, later an object);
//! 2. the task watch sends no status line until the first task changes;
//! 3. aborting a task that has ended is itself a task, which fails;
//! 4. right after a restart XO answers 401 to a valid token for a moment.
//!
//! Every test failed before its fix (a decode error, a watch that waited
//! for a head that never came, an `Ok(())` abort, an event stream that
//! ended on the 401). A test that would hang on the old behaviour runs
//! under `bounded`, which turns the hang into a failure message.

mod support;

use std::future::Future;
use std::time::Duration;

use futures::TryStreamExt;
use serde_json::json;
use support::sim;
use xo_sdk::types::{BackupRepository, TaskStatus, VmId};
use xo_sdk::xo::{Action, Event, TaskError, TaskEvent, WatchTasks};

/// Run `f`, failing the test when it has not finished after a minute (an
/// old behaviour that waits forever; not a speed check).
async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("{what} never finished"))
}

fn halted_vm(sim: &xo_sim::Sim) -> VmId {
    sim.objects("vms")
        .into_iter()
        .find(|v| v["power_state"] == "Halted" && v["blockedOperations"].get("start").is_none())
        .and_then(|v| v["id"].as_str().map(VmId::new))
        .expect("the seed has a halted VM")
}

#[tokio::test]
async fn a_new_backup_repository_decodes_with_its_empty_error() {
    // Out of Prism's checks: the answers are what the real server sends and
    // the official document refuses (`error` declared an object; the single
    // object's finding is a known defect, the list's anyOf cascades).
    let sim = xo_sim::Sim::builder()
        .without_prism()
        .start()
        .await
        .unwrap();
    let client = xo_sdk::Client::builder(sim.url())
        .token(sim.token())
        .build()
        .unwrap();
    let id = client
        .backup_repositories()
        .create("nightly", "file:///srv/backups")
        .send()
        .await
        .unwrap();
    // As XO answers it: `error` is an empty string until a connection fails.
    assert_eq!(
        sim.object("backup-repositories", id.as_str()).unwrap()["error"],
        json!("")
    );
    let repo: BackupRepository = client.backup_repositories().get(&id).send().await.unwrap();
    assert_eq!(repo.error, Some(json!("")));
    let all: Vec<BackupRepository> = client
        .backup_repositories()
        .list()
        .all_fields()
        .send()
        .await
        .unwrap();
    assert!(all.iter().any(|r| r.id.as_ref() == Some(&id)));
    // Later XO stores an error object there: it decodes too.
    sim.update_object("backup-repositories", id.as_str(), |r| {
        r.insert(
            "error".into(),
            json!({"message": "ENOENT", "name": "Error"}),
        );
    })
    .unwrap();
    let repo = client.backup_repositories().get(&id).send().await.unwrap();
    assert_eq!(repo.error.unwrap()["message"], "ENOENT");
}

#[tokio::test]
async fn a_watch_opened_before_the_action_sees_its_task() {
    let (sim, client) = sim().await;
    // XO has not answered the watch yet: no task has changed.
    let mut changes = bounded("opening the watch", client.tasks().list().changes())
        .await
        .unwrap();
    let task = client.vms().start(halted_vm(&sim)).submit().await.unwrap();
    let last = bounded("watching the task", async {
        loop {
            match changes.try_next().await.unwrap().expect("more lines") {
                TaskEvent::Update(s) if s.id() == Some(task.id().as_str()) && !s.is_pending() => {
                    return s;
                }
                _ => {}
            }
        }
    })
    .await;
    assert_eq!(last.status(), Some(TaskStatus::Success));
}

#[tokio::test]
async fn updates_of_a_task_that_already_ended_end_at_once() {
    let (sim, client) = sim().await;
    let task = client.vms().start(halted_vm(&sim)).submit().await.unwrap();
    task.wait().await.unwrap();
    // No task changes any more, so XO would never answer the watch.
    let states: Vec<_> = bounded("following an ended task", async {
        task.updates().await.unwrap().try_collect().await.unwrap()
    })
    .await;
    assert_eq!(states.len(), 1, "{states:?}");
    assert_eq!(states[0].status(), Some(TaskStatus::Success));
}

#[tokio::test]
async fn updates_opened_before_the_task_changes_reach_its_end() {
    let sim = xo_sim::Sim::builder()
        .task_delay(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let client = xo_sdk::Client::builder(sim.url())
        .token(sim.token())
        .build()
        .unwrap();
    let task = client.vms().start(halted_vm(&sim)).submit().await.unwrap();
    let states: Vec<_> = bounded("following a running task", async {
        task.updates().await.unwrap().try_collect().await.unwrap()
    })
    .await;
    let (last, before) = states.split_last().unwrap();
    assert!(before.iter().all(|s| s.is_pending()), "{states:?}");
    assert_eq!(last.status(), Some(TaskStatus::Success));
}

#[tokio::test]
async fn aborting_a_task_that_has_ended_is_an_error() {
    let (sim, client) = sim().await;
    let task = client.vms().start(halted_vm(&sim)).submit().await.unwrap();
    task.wait().await.unwrap();
    let err = task.abort().await.unwrap_err();
    // XO's abort task failed (or XO answered the sync abort with an error):
    // either way the caller is told, with XO's reason.
    let text = err.to_string();
    assert!(text.contains("no such task"), "{text}");
    assert!(
        matches!(&err, TaskError::Failed(_) | TaskError::Sdk(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_event_stream_outlasts_the_401_window_of_a_restart() {
    let (sim, client) = sim().await;
    let mut events = client
        .event_stream()
        .subscribe("VM", ["name_label"])
        .reconnect_backoff(Duration::from_millis(100), Duration::from_millis(400))
        .open()
        .await
        .unwrap();
    // XO restarts: the stream ends, and tokens are refused for 0.4 s.
    sim.restart(Duration::from_millis(400));
    let event = bounded("reconnecting", events.try_next()).await;
    let Ok(Some(Event::Reconnected(r))) = event else {
        panic!("expected a reconnection, got {event:?}");
    };
    assert!(r.attempts >= 2, "the first attempts met the 401s: {r:?}");
    let vm = sim.ids("vms")[0].clone();
    sim.update_object("vms", &vm, |v| {
        v.insert("name_label".into(), json!("after restart"));
    })
    .unwrap();
    let Ok(Some(Event::Update(c))) = bounded("the next change", events.try_next()).await else {
        panic!("expected an update");
    };
    assert_eq!(c.get("name_label"), Some(&json!("after restart")));
}

#[tokio::test]
async fn a_refused_token_still_ends_the_event_stream() {
    let (sim, client) = sim().await;
    let mut events = client
        .event_stream()
        .subscribe("VM", ["name_label"])
        .reconnect_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .open()
        .await
        .unwrap();
    // Refused for good (an hour): after a few 401s the stream gives up.
    sim.restart(Duration::from_secs(3600));
    let err = bounded("giving up", events.try_next()).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(
        bounded("the end", events.try_next())
            .await
            .unwrap()
            .is_none()
    );
}
