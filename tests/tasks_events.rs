//! Actions, tasks and live events over real HTTP against xo-sim: the
//! asynchronous form (202 → task → result), failed and aborted tasks, a
//! long-poll whose connection breaks mid-wait, the synchronous forms (204,
//! 201 + Location, 200), the task watch stream, and SSE subscriptions with
//! add/update/remove, pings, a dropped stream that is re-subscribed, and a
//! bounded reconnection that gives up.
//!
//! No assertion depends on timing: tests wait for conditions the simulator
//! reports (a long-poll in flight, an event), and tasks that must stay
//! pending run with an hour-long simulated duration.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use xo_sdk::RetryConfig;
use xo_sdk::types::{PowerState, TaskStatus, Vm};
use xo_sdk::xo::{
    Action, CreatedId, Event, SyncOutcome, Task, TaskError, TaskEvent, TaskState, WatchTasks,
};

const LONG: Duration = Duration::from_secs(3600);

fn client_for(sim: &xo_sim::Sim) -> xo_sdk::Client {
    xo_sdk::Client::builder(sim.url())
        .token(sim.token())
        .build()
        .unwrap()
}

/// A client that never retries: what the SDK's own code re-issues is all
/// that reaches the simulator.
fn no_retry_client(sim: &xo_sim::Sim) -> xo_sdk::Client {
    xo_sdk::Client::builder(sim.url())
        .token(sim.token())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

async fn sim() -> (xo_sim::Sim, xo_sdk::Client) {
    let sim = xo_sim::start().await.expect("xo-sim starts");
    let client = client_for(&sim);
    (sim, client)
}

/// A simulator whose tasks stay pending for an hour (until a test ends
/// them).
async fn slow_sim() -> xo_sim::Sim {
    xo_sim::Sim::builder()
        .task_delay(LONG)
        .start()
        .await
        .expect("xo-sim starts")
}

fn vm_in(sim: &xo_sim::Sim, power_state: &str) -> String {
    sim.objects("vms")
        .into_iter()
        .find(|v| v["power_state"] == power_state && v["blockedOperations"].get("start").is_none())
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("the seed has a {power_state} VM"))
}

/// Wait (without a time limit: the test harness has one) until `cond`.
async fn until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ---------------------------------------------------------------------------
// The action table

/// Every action tool of the generated client (`/actions/` in its path, or a
/// `sync` query parameter: the calls XO answers with 202 and a task) has an
/// `Action` implementation, and the table holds nothing else.
#[test]
fn every_action_tool_is_typed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = xo_codegen::Input::new(root.join("dadl/xen-orchestra.dadl"))
        .with_overlay(root.join("dadl/xen-orchestra.errata.yaml"));
    let api = xo_codegen::analyze(&input).unwrap();
    let table = std::fs::read_to_string(root.join("xo-sdk/xo/mod.rs")).unwrap();
    let start = table.find("actions! {").expect("the actions! table");
    let entries: BTreeSet<&str> = table[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.trim() != "}")
        .map(|l| l.trim().trim_end_matches(';'))
        .collect();
    let mut expected = BTreeSet::new();
    for op in &api.operations {
        let sync = op
            .params
            .iter()
            .any(|p| p.location == xo_codegen::ir::Location::Query && p.name == "sync");
        if op.path.contains("/actions/") || sync {
            assert_eq!(op.http_method, "POST", "{}", op.tool);
            assert!(sync, "{} has no `sync` parameter", op.tool);
            let entry = format!("crate::{}::{}", op.module, op.type_name);
            assert!(
                entries.contains(entry.as_str()),
                "{} has no Action impl",
                op.tool
            );
            expected.insert(entry);
        }
    }
    let listed: BTreeSet<String> = entries.iter().map(|e| (*e).to_owned()).collect();
    assert_eq!(listed, expected, "the table lists only action tools");
    assert_eq!(expected.len(), 58);
}

// ---------------------------------------------------------------------------
// Asynchronous actions and tasks

#[tokio::test]
async fn async_action_gives_a_task_that_succeeds_with_a_result() {
    let (sim, client) = sim().await;
    let vm = vm_in(&sim, "Running");
    let task = client
        .vms()
        .snapshot(&vm)
        .name_label("before upgrade")
        .submit()
        .await
        .unwrap();
    // The handle names the task XO created for the action.
    let raw = sim.object("tasks", task.id()).expect("the task exists");
    assert_eq!(raw["properties"]["objectId"], json!(vm));

    let done = task.wait().await.unwrap();
    assert!(done.is_success());
    assert_eq!(done.status(), &TaskStatus::Success);
    assert_eq!(done.progress(), Some(100.0));
    assert_eq!(done.object_id(), Some(vm.as_str()));
    assert!(done.name().unwrap().contains("snapshot"));
    assert!(done.typed().unwrap().end.is_some());

    // The typed result: the new snapshot's id.
    let created: CreatedId = done.result_as().unwrap();
    let snapshot = sim.object("vm-snapshots", &created.id).expect("snapshot");
    assert_eq!(snapshot["name_label"], "before upgrade");
    assert_eq!(task.result_as::<CreatedId>().await.unwrap(), created);

    // A void action: success with a `null` result, and the effect is there.
    let halted = vm_in(&sim, "Halted");
    let task = client.vms().start(&halted).submit().await.unwrap();
    assert_eq!(task.result().await.unwrap(), Value::Null);
    assert_eq!(
        sim.object("vms", &halted).unwrap()["power_state"],
        "Running"
    );

    // poll() of a finished task; a handle from an id.
    let again = client.task(task.id()).poll().await.unwrap();
    assert_eq!(again.status(), Some(TaskStatus::Success));
    assert!(!again.is_pending());
}

#[tokio::test]
async fn a_failing_task_is_a_typed_failure() {
    let (sim, client) = sim().await;
    // Starting a running VM: XAPI's VM_BAD_POWER_STATE, in the task only.
    let running = vm_in(&sim, "Running");
    let task = client.vms().start(&running).submit().await.unwrap();
    let done = task.wait().await.unwrap();
    assert_eq!(done.status(), &TaskStatus::Failure);
    let failure = done.clone().into_result().unwrap_err();
    assert_eq!(failure.task_id, task.id());
    assert_eq!(failure.status, TaskStatus::Failure);
    assert!(
        failure.message.starts_with("VM_BAD_POWER_STATE("),
        "{}",
        failure.message
    );
    assert_eq!(failure.name.as_deref(), Some("XapiError"));
    assert_eq!(failure.code.as_deref(), Some("VM_BAD_POWER_STATE"));
    let data = failure.data.as_ref().expect("data");
    assert_eq!(data["params"][1], "halted");
    assert!(!failure.is_interrupted());
    assert!(
        failure.to_string().contains("failed: VM_BAD_POWER_STATE"),
        "{failure}"
    );

    // The same through the one-`?` forms.
    match task.result().await {
        Err(TaskError::Failed(f)) => assert_eq!(f, failure),
        other => panic!("expected a task failure, got {other:?}"),
    }
    let err = task.result_as::<CreatedId>().await.unwrap_err();
    assert_eq!(
        err.failure().map(|f| f.code.as_deref()),
        Some(Some("VM_BAD_POWER_STATE"))
    );
    assert!(err.sdk().is_none());

    // An action refused before any task exists is an HTTP error.
    let err = client.vms().start("no-such-vm").submit().await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn an_aborted_task_ends_interrupted() {
    let sim = slow_sim().await;
    let client = client_for(&sim);
    let halted = vm_in(&sim, "Halted");
    let task = client.vms().start(&halted).submit().await.unwrap();
    let state = task.poll().await.unwrap();
    assert!(state.is_pending());
    assert!(!state.abortion_requested());

    task.abort().await.unwrap();
    let done = task.wait().await.unwrap();
    assert_eq!(done.status(), &TaskStatus::Interrupted);
    assert!(done.abortion_requested());
    let failure = done.failure().unwrap();
    assert!(failure.is_interrupted() && failure.aborted);
    assert!(failure.to_string().contains("was interrupted"), "{failure}");
    // The action's effect never happened.
    assert_eq!(sim.object("vms", &halted).unwrap()["power_state"], "Halted");
}

#[tokio::test]
async fn a_long_poll_dropped_mid_wait_is_resumed() {
    let sim = slow_sim().await;
    // No runtime retries: only Task::wait re-issues the long-poll.
    let client = no_retry_client(&sim);
    let halted = vm_in(&sim, "Halted");
    let task = client.vms().start(&halted).submit().await.unwrap();

    let waiting = tokio::spawn({
        let task = task.clone();
        async move { task.wait().await }
    });
    until(|| sim.task_waits_in_flight() == 1).await;
    assert_eq!(sim.task_wait_count(), 1);

    // The connection breaks mid-wait; the handle checks the task and waits
    // again.
    sim.drop_task_waits();
    until(|| sim.task_wait_count() == 2 && sim.task_waits_in_flight() == 1).await;
    assert!(!waiting.is_finished());

    // The task ends: the resumed long-poll answers.
    sim.update_object("tasks", task.id(), |t| {
        t.insert("status".into(), json!("success"));
        t.insert("progress".into(), json!(100));
        t.insert("end".into(), json!(1));
        t.insert("result".into(), json!({"answer": 42}));
    })
    .unwrap();
    let done = waiting.await.unwrap().unwrap();
    assert!(done.is_success());
    assert_eq!(done.into_result().unwrap(), json!({"answer": 42}));
    assert_eq!(sim.task_wait_count(), 2);
}

#[tokio::test]
async fn wait_for_gives_up_at_the_client_deadline() {
    let sim = slow_sim().await;
    let client = client_for(&sim);
    let vm = vm_in(&sim, "Halted");
    let task = client.vms().start(&vm).submit().await.unwrap();
    let err = task.wait_for(Duration::from_millis(20)).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(err.tool(), Some("get_task"));
    // The task is still there, still pending.
    assert!(task.poll().await.unwrap().is_pending());
}

#[tokio::test]
async fn waiting_for_a_task_that_is_gone_fails_at_once() {
    let (_sim, client) = sim().await;
    let err = client.task("no-such-task").wait().await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

// ---------------------------------------------------------------------------
// Synchronous actions

#[tokio::test]
async fn sync_forms_204_201_200() {
    let (sim, client) = sim().await;

    // 204: a void action.
    let halted = vm_in(&sim, "Halted");
    let outcome = client.vms().start(&halted).run_sync().await.unwrap();
    assert_eq!(outcome, SyncOutcome::Done);
    assert_eq!(
        sim.object("vms", &halted).unwrap()["power_state"],
        "Running"
    );

    // 201 {id} + Location: a new object.
    let outcome = client
        .vms()
        .snapshot(&halted)
        .name_label("sync snap")
        .run_sync()
        .await
        .unwrap();
    let SyncOutcome::Created { id, location } = &outcome else {
        panic!("expected Created, got {outcome:?}");
    };
    assert_eq!(
        location.as_deref(),
        Some(&*format!("/rest/v0/vm-snapshots/{id}"))
    );
    assert_eq!(outcome.created_id(), Some(id.as_str()));
    assert_eq!(
        sim.object("vm-snapshots", id).unwrap()["name_label"],
        "sync snap"
    );

    // 200 {id}: a migrated VDI gets a new id, without Location.
    let vdi = sim.objects("vdis")[0].clone();
    let vdi_id = vdi["id"].as_str().unwrap().to_owned();
    let target = sim
        .objects("srs")
        .into_iter()
        .find(|sr| sr["content_type"] != "iso" && sr["id"] != vdi["$SR"])
        .unwrap();
    let outcome = client
        .vdis()
        .migrate(&vdi_id, target["id"].as_str().unwrap())
        .run_sync()
        .await
        .unwrap();
    let SyncOutcome::Created { id, location: None } = &outcome else {
        panic!("expected Created without Location, got {outcome:?}");
    };
    assert_ne!(id, &vdi_id);
    assert_eq!(sim.object("vdis", id).unwrap()["$SR"], target["id"]);

    // 200 with a value: a benchmark.
    let repo = sim
        .objects("backup-repositories")
        .into_iter()
        .find(|r| r["enabled"] == true)
        .unwrap();
    let outcome = client
        .backup_repositories()
        .benchmark(repo["id"].as_str().unwrap())
        .run_sync()
        .await
        .unwrap();
    let SyncOutcome::Value(bench) = outcome else {
        panic!("expected a value, got {outcome:?}");
    };
    assert!(bench["writeRate"].as_u64().unwrap() > 0);

    // A synchronous failure is an HTTP error with XO's data.
    let err = client.vms().start(&halted).run_sync().await.unwrap_err();
    let api = err.as_api().expect("an API error");
    assert_eq!(api.status, 500);
    assert_eq!(api.data.as_ref().unwrap()["code"], "VM_BAD_POWER_STATE");
}

// ---------------------------------------------------------------------------
// Task watch stream

#[tokio::test]
async fn task_watch_stream_reports_updates_and_removal() {
    let (sim, client) = sim().await;
    let mut changes = client.tasks().list().changes().await.unwrap();

    let vm = vm_in(&sim, "Halted");
    let task = client.vms().start(&vm).submit().await.unwrap();
    let mut seen: Vec<TaskState> = Vec::new();
    while let Some(event) = changes.try_next().await.unwrap() {
        if let TaskEvent::Update(state) = event {
            if state.id() == Some(task.id()) {
                let pending = state.is_pending();
                seen.push(state);
                if !pending {
                    break;
                }
            }
        }
    }
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen[0].is_pending());
    assert_eq!(seen[0].name(), Some("REST API: start VM"));
    let last = seen.last().unwrap();
    assert_eq!(last.status(), Some(TaskStatus::Success));
    let progress: Vec<f64> = seen.iter().filter_map(TaskState::progress).collect();
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert_eq!(progress.last(), Some(&100.0));

    // Removing the task is a `remove` line.
    client.tasks().delete_task(task.id()).send().await.unwrap();
    loop {
        let event = changes.try_next().await.unwrap().expect("more lines");
        if let TaskEvent::Remove(state) = &event {
            if state.id() == Some(task.id()) {
                break;
            }
        }
    }
}

#[tokio::test]
async fn task_updates_follow_one_task_to_its_end() {
    let (sim, client) = sim().await;
    let vm = vm_in(&sim, "Running");
    let task = client.vms().start(&vm).submit().await.unwrap();
    let states: Vec<TaskState> = task.updates().await.unwrap().try_collect().await.unwrap();
    assert!(!states.is_empty());
    assert!(states.iter().all(|s| s.id() == Some(task.id())));
    let (last, before) = states.split_last().unwrap();
    assert!(before.iter().all(TaskState::is_pending));
    assert_eq!(last.status(), Some(TaskStatus::Failure));
}

// ---------------------------------------------------------------------------
// Server-sent events

fn new_vm(sim: &xo_sim::Sim, id: &str) -> Value {
    let mut vm = sim.objects("vms")[0].clone();
    vm["id"] = json!(id);
    vm["uuid"] = json!(id);
    vm["name_label"] = json!("event test");
    vm
}

async fn next_change(events: &mut xo_sdk::xo::EventStream) -> Event {
    events.try_next().await.unwrap().expect("an event")
}

#[tokio::test]
async fn sse_subscription_delivers_add_update_remove() {
    let sim = xo_sim::Sim::builder()
        .ping_interval(Duration::from_millis(10))
        .start()
        .await
        .unwrap();
    let client = client_for(&sim);
    let mut events = client
        .event_stream()
        .subscribe("VM", ["name_label", "power_state"])
        .open()
        .await
        .unwrap();
    assert!(!events.connection_id().is_empty());
    assert_eq!(sim.sse_connection_count(), 1);

    // Let pings flow: they are handled, never yielded.
    tokio::time::sleep(Duration::from_millis(50)).await;

    // A host change is not subscribed: the first event is the VM's.
    let host = sim.ids("hosts")[0].clone();
    sim.update_object("hosts", &host, |h| {
        h.insert("name_label".into(), json!("renamed host"));
    })
    .unwrap();

    let id = "0a0a0a0a-1111-2222-3333-444444444444";
    sim.put_object("vms", new_vm(&sim, id)).unwrap();
    let Event::Add(added) = next_change(&mut events).await else {
        panic!("expected add");
    };
    assert_eq!(added.collection, "VM");
    assert_eq!(added.id(), Some(id));
    assert_eq!(added.get("name_label"), Some(&json!("event test")));
    // Only the subscribed fields (and id).
    let keys: BTreeSet<&str> = added.object.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["id", "name_label", "power_state"]));

    sim.update_object("vms", id, |vm| {
        vm.insert("name_label".into(), json!("renamed"));
        vm.insert("power_state".into(), json!("Paused"));
    })
    .unwrap();
    let Event::Update(updated) = next_change(&mut events).await else {
        panic!("expected update");
    };
    let vm: Vm = updated.decode().unwrap();
    assert_eq!(vm.name_label.as_deref(), Some("renamed"));
    assert_eq!(vm.power_state, Some(PowerState::Paused));
    assert!(vm.memory.is_none());

    sim.remove_object("vms", id).unwrap();
    let Event::Remove(removed) = next_change(&mut events).await else {
        panic!("expected remove");
    };
    assert_eq!(removed.id(), Some(id));
}

#[tokio::test]
async fn whole_objects_and_several_collections() {
    let (sim, client) = sim().await;
    let mut events = client
        .event_stream()
        .subscribe_all("host")
        .subscribe("VM", ["name_label"])
        .open()
        .await
        .unwrap();
    let host = sim.ids("hosts")[0].clone();
    sim.update_object("hosts", &host, |h| {
        h.insert("name_label".into(), json!("h1"));
    })
    .unwrap();
    let Event::Update(change) = next_change(&mut events).await else {
        panic!("expected update");
    };
    assert_eq!(change.collection, "host");
    // Whole objects: far more than the name.
    assert!(change.object.len() > 5);
    let h: xo_sdk::types::Host = change.decode().unwrap();
    assert_eq!(h.name_label.as_deref(), Some("h1"));

    // An unknown collection is refused when opening, not retried.
    let err = client
        .event_stream()
        .subscribe_all("NoSuchType")
        .open()
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err}");
}

#[tokio::test]
async fn sse_dropped_stream_is_reopened_and_resubscribed() {
    let (sim, client) = sim().await;
    let mut events = client
        .event_stream()
        .subscribe("VM", ["name_label"])
        .open()
        .await
        .unwrap();
    let first_id = events.connection_id();
    let vm = sim.ids("vms")[0].clone();

    sim.drop_sse_connections();
    let Event::Reconnected(r) = next_change(&mut events).await else {
        panic!("expected the reconnection to be reported");
    };
    assert_ne!(r.connection_id, first_id);
    assert_eq!(r.connection_id, events.connection_id());
    assert_eq!(r.attempts, 1);
    assert!(r.cause.contains("ended"), "{}", r.cause);
    assert_eq!(sim.sse_connection_count(), 1);

    // The new connection is subscribed again.
    sim.update_object("vms", &vm, |v| {
        v.insert("name_label".into(), json!("after reconnect"));
    })
    .unwrap();
    let Event::Update(c) = next_change(&mut events).await else {
        panic!("expected update");
    };
    assert_eq!(c.id(), Some(vm.as_str()));
    assert_eq!(c.get("name_label"), Some(&json!("after reconnect")));
}

#[tokio::test]
async fn sse_reconnection_is_bounded() {
    let sim = xo_sim::start().await.unwrap();
    let client = no_retry_client(&sim);
    let mut events = client
        .event_stream()
        .subscribe_all("VM")
        .max_reconnects(2)
        .reconnect_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .open()
        .await
        .unwrap();
    // The stream is not polled while the server goes away for good.
    sim.shutdown().await;
    let err = events.next().await.expect("an item").unwrap_err();
    assert!(err.is_transport(), "{err}");
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn task_handle_from_an_accepted_answer() {
    // Task::new and Client::task make the same handle.
    let (_sim, client) = sim().await;
    let a = Task::new(&client, "abc");
    let b = client.task("abc");
    assert_eq!(a.id(), b.id());
    assert_eq!(a.path(), "/tasks/abc");
    assert!(format!("{a:?}").contains("abc"));
}
